/* SPDX-License-Identifier: GPL-2.0-only */
/* Writes 'x' to COM1 as fast as it can, forever: console output nobody reads. */
#include "guest.h"
_start:
	mov $COM1, %dx
	mov $'x', %al
1:	out %al, %dx
	jmp 1b
