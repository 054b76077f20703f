/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Snapshots: a machine's whole state in a state file (src/state/state_file.h
 * container: the machine's sections, every vCPU, the in-kernel devices, every
 * device, and an opaque description of the configuration that the control
 * API stores and reads back) and its RAM in a memory file (the regions one
 * after the other, sparse where the guest's pages are zero).
 *
 * A restore creates a machine from the configuration the caller rebuilt
 * (with any paths overridden), maps the memory file into it privately
 * (copy-on-write, faulted in on demand: the file is only read), and puts
 * every section back. A snapshot that is truncated, corrupted, of another
 * format, or for a host lacking what the guest was given is refused with
 * one line; nothing is left running.
 */
#ifndef PETREL_STATE_SNAPSHOT_H
#define PETREL_STATE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/state_file.h"
#include "vm/machine.h"
#include "vm/vm_state.h"

struct snapshot_save_opts {
	const char *state_path;
	const char *mem_path;
	/*
	 * Diff: the memory file gets only the pages written since the last
	 * snapshot (it must already hold that snapshot's memory, or be merged
	 * onto it later); needs dirty page tracking on since then.
	 */
	bool diff;
	const void *config; /* the caller's description of the configuration */
	size_t config_len;
	bool progress; /* a progress line on stderr (a terminal) */
};

/*
 * Save the paused machine @m. Files are written next to their final paths
 * and renamed into place when complete: a failed snapshot leaves no file.
 * The machine stays paused. -errno with @err set.
 */
int snapshot_save(struct machine *m, const struct snapshot_save_opts *o, struct state_err *err);

/* A state file read and checked (its CRC, its format), before a restore. */
struct snapshot_file;

int snapshot_open(struct snapshot_file **out, const char *state_path, struct state_err *err);
/* The configuration description stored by snapshot_save (owned by @f). */
void snapshot_config(const struct snapshot_file *f, const void **config, size_t *len);
/*
 * Create machine @m from @cfg with its RAM mapped from @mem_path and every
 * section of @f put back; the machine is ready for machine_run in state
 * VM_PAUSED (machine_resume starts the guest where it stopped). Dirty page
 * tracking is on when @track_dirty (for a later diff snapshot). On failure
 * nothing is left (as machine_create).
 */
int snapshot_restore(struct machine *m, const struct vm_config *cfg, struct snapshot_file *f,
		     const char *mem_path, bool track_dirty, struct state_err *err);
void snapshot_close(struct snapshot_file *f);

/* The sections of a parsed container @r, for machine_restore_state (each taken once). */
void snapshot_state_source(struct state_reader *r, struct vm_state_source *out);

/* Apply the diff memory file @diff_path onto @base_path (a merge: base + diff = full). */
int snapshot_merge_mem(const char *base_path, const char *diff_path, struct state_err *err);

#endif
