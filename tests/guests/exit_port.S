/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Writes 0x21 to the debug-exit port, then powers off: with --test-device
 * petrel exits (0x21 << 1) | 1 = 67; without it the port is not there, the
 * write is dropped, and the guest's poweroff is petrel's status 0.
 */
#include "guest.h"
_start:
	mov $0x21, %al
	out %al, $DEBUG_EXIT
	POWEROFF
