#include "kp_msg_data.h"
