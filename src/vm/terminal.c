// SPDX-License-Identifier: GPL-2.0-only
#include "vm/terminal.h"

#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

/*
 * The one piece of process-wide state in petrel: the terminal belongs to the
 * process, not to a machine, and must be restored by atexit.
 */
static struct termios saved_termios;
static bool terminal_raw;

void vm_terminal_restore(void)
{
	if (!terminal_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	terminal_raw = false;
}

void vm_terminal_raw(void)
{
	struct termios t;

	if (terminal_raw || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return;
	t = saved_termios;
	cfmakeraw(&t);
	/* Keep output post-processing so the guest's \n still returns the carriage. */
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		return;
	terminal_raw = true;
	atexit(vm_terminal_restore);
}

bool vm_terminal_is_raw(void)
{
	return terminal_raw;
}
