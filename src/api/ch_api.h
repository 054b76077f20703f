/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PETREL_API_CH_API_H
#define PETREL_API_CH_API_H

#include "api/api_http.h"

extern const struct api_frontend api_ch_frontend;

#endif
