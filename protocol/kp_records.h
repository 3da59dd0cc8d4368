/* placeholder: record batch summaries are being written. */
#ifndef KP_RECORDS_H
#define KP_RECORDS_H
#include "kp_reader.h"
#endif
