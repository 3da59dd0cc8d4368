/* placeholder: the typed decoders of this group are being written. */
#ifndef KP_MSG_DATA_H
#define KP_MSG_DATA_H
#include "kp_msg.h"
#endif
