#include "kp_records.h"
