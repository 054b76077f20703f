/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PETREL_API_SESSION_H
#define PETREL_API_SESSION_H

#include "vm/machine.h"

/*
 * Run a machine from cfg to the end: signals, the terminal, and reboots
 * (a guest reset builds the machine anew unless --on-reboot exit).
 * Returns petrel's exit status.
 */
int api_session_run(const struct vm_config *cfg);

#endif
