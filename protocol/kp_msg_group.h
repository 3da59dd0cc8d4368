/* placeholder: the typed decoders of this group are being written. */
#ifndef KP_MSG_GROUP_H
#define KP_MSG_GROUP_H
#include "kp_msg.h"
#endif
