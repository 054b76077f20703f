/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PETREL_API_FC_API_H
#define PETREL_API_FC_API_H

#include "api/api_http.h"

extern const struct api_frontend api_fc_frontend;

#endif
