/* SPDX-License-Identifier: GPL-2.0-only */
/* The host terminal of the serial console: raw while a guest runs, always restored. */
#ifndef PETREL_VM_TERMINAL_H
#define PETREL_VM_TERMINAL_H

#include <stdbool.h>

/* Put stdin in raw mode when it is a terminal; restored at exit in any case. */
void vm_terminal_raw(void);
void vm_terminal_restore(void);
bool vm_terminal_is_raw(void);

#endif
