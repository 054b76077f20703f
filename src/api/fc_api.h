/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PETREL_API_FC_API_H
#define PETREL_API_FC_API_H

#include "api/api_http.h"

extern const struct api_frontend api_fc_frontend;

/*
 * Firecracker's --config-file JSON: configure @v from it (it does not boot).
 * One line in *err naming the bad item.
 */
int api_fc_config_load(struct api_vmm *v, const char *json, size_t len, struct api_err *err);

#endif
