// SPDX-License-Identifier: GPL-2.0-only
/* Snapshots: save a paused machine to a state file and a memory file, restore it. */
#include "state/snapshot.h"

#include <errno.h>
#include <stdio.h>

int snapshot_save(struct machine *m, const struct snapshot_save_opts *o, struct state_err *err)
{
	(void)m;
	(void)o;
	snprintf(err->msg, sizeof(err->msg), "snapshots are not built yet");
	return -ENOSYS;
}

int snapshot_open(struct snapshot_file **out, const char *state_path, struct state_err *err)
{
	(void)state_path;
	*out = NULL;
	snprintf(err->msg, sizeof(err->msg), "snapshots are not built yet");
	return -ENOSYS;
}

void snapshot_config(const struct snapshot_file *f, const void **config, size_t *len)
{
	(void)f;
	*config = NULL;
	*len = 0;
}

int snapshot_restore(struct machine *m, const struct vm_config *cfg, struct snapshot_file *f,
		     const char *mem_path, bool track_dirty, struct state_err *err)
{
	(void)m;
	(void)cfg;
	(void)f;
	(void)mem_path;
	(void)track_dirty;
	snprintf(err->msg, sizeof(err->msg), "snapshots are not built yet");
	return -ENOSYS;
}

void snapshot_close(struct snapshot_file *f)
{
	(void)f;
}

int snapshot_merge_mem(const char *base_path, const char *diff_path, struct state_err *err)
{
	(void)base_path;
	(void)diff_path;
	snprintf(err->msg, sizeof(err->msg), "snapshots are not built yet");
	return -ENOSYS;
}
