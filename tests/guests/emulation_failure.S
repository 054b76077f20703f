/*
 * An instruction KVM's emulator cannot handle: a VEX-encoded (AVX) load from
 * MMIO. Hardware runs it, faults on the MMIO page and asks the emulator,
 * which lacks VEX; software virtualization fails on it directly.
 */
#include "guest.h"
_start:
	mov $TESTDEV_MMIO, %rbx
	vmovdqu (%rbx), %ymm0
	FAIL(1)
