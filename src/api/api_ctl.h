/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * petrel ctl SOCKET COMMAND: a small client of a running petrel's API (the
 * HTTP API on its UNIX socket). Commands: info, pause, resume, snapshot DIR
 * [--keep-paused], shutdown. One line on stderr when something fails.
 */
#ifndef PETREL_API_API_CTL_H
#define PETREL_API_API_CTL_H

/* @argv[0] is "ctl". Exit status: 0, 1 (the request failed), 2 (usage). */
int api_ctl_main(int argc, char **argv);

#endif
