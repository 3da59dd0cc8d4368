#include "kp_msg_group.h"
