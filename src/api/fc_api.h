/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Firecracker front-end: Firecracker's REST routes (its swagger) and its
 * --config-file, both translated into calls of the controller (api_vmm.h).
 */
#ifndef PETREL_API_FC_API_H
#define PETREL_API_FC_API_H

#include <stddef.h>

#include "api/api_http.h"

/* Every path outside /api/v1/ (Cloud Hypervisor's). */
extern const struct api_frontend api_fc_frontend;

/*
 * Configure @v from Firecracker's --config-file JSON (@json, @len bytes):
 * "boot-source" and "drives" are required; "machine-config", "logger",
 * "metrics", "network-interfaces", "entropy" and petrel's "serial" (the body
 * of PUT /serial) are optional; any other key is an error. Every item's shape
 * is checked before any is applied; then they are applied in the order
 * logger, metrics, machine-config, boot-source, drives, network-interfaces,
 * entropy, serial, and the first the controller refuses stops the load (the
 * items before it stay applied). Does not boot. Errors name the item in one
 * line of *err.
 */
int api_fc_config_load(struct api_vmm *v, const char *json, size_t len, struct api_err *err);

#endif
