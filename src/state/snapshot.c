// SPDX-License-Identifier: GPL-2.0-only
/* Snapshots: save a paused machine to a state file and a memory file, restore it. */
#include "state/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/machine_state.h"
#include "vm/vm_state.h"

#define SEC_CONFIG "config"
#define CHUNK (2ULL << 20) /* memory is scanned and written 2 MiB at a time */
/* The largest state file read back: every section's bound, a few dozen of them. */
#define STATE_FILE_MAX (256ULL << 20)

struct snapshot_file {
	uint8_t *buf;
	size_t len;
	struct state_reader reader;
};

/* ---- saving ---- */

static int sink_put(void *ctx, const char *name, uint32_t version, const void *data, size_t len)
{
	return state_writer_section(ctx, name, version, STATE_SEC_REQUIRED, data, len);
}

/* A file written next to its final path, renamed over it once complete. */
struct out_file {
	char tmp[PATH_MAX];
	const char *path;
	int fd;
};

static int out_open(struct out_file *f, const char *path, struct state_err *err)
{
	f->path = path;
	f->fd = -1;
	if (snprintf(f->tmp, sizeof(f->tmp), "%s.tmp-%d", path, (int)getpid()) >=
	    (int)sizeof(f->tmp))
		return state_fail(err, -ENAMETOOLONG, "%s: path too long", path);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return state_fail(err, -errno, "%s: %s", f->tmp, strerror(errno));
	return 0;
}

/* Synced and in place; or, with @ok false (or on error), gone. */
static int out_close(struct out_file *f, bool ok, struct state_err *err)
{
	int ret = 0;

	if (f->fd < 0)
		return 0;
	if (ok && fsync(f->fd) < 0)
		ret = state_fail(err, -errno, "%s: %s", f->path, strerror(errno));
	if (close(f->fd) < 0 && ok && !ret)
		ret = state_fail(err, -errno, "%s: %s", f->path, strerror(errno));
	f->fd = -1;
	if (ok && !ret && rename(f->tmp, f->path) < 0)
		ret = state_fail(err, -errno, "%s: %s", f->path, strerror(errno));
	if (!ok || ret)
		unlink(f->tmp);
	return ret;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;
	size_t i;

	for (i = 0; i < GM_PAGE_SIZE / 8; i += 8)
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		       w[i + 7];
	return !acc;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static void mark_kvm_dirty(void *opaque, uint64_t gpa, const unsigned long *bitmap, uint64_t npages)
{
	gm_mark_dirty_bitmap(opaque, gpa, bitmap, npages);
}

struct mem_progress {
	bool on;
	uint64_t total, done;
	int last_pct;
};

static void progress(struct mem_progress *p, uint64_t add)
{
	int pct;

	p->done += add;
	if (!p->on || !p->total)
		return;
	pct = (int)(p->done * 100 / p->total);
	if (pct != p->last_pct) {
		p->last_pct = pct;
		fprintf(stderr, "\rpetrel: snapshot: memory %3d%% (%llu of %llu MiB)", pct,
			(unsigned long long)(p->done >> 20), (unsigned long long)(p->total >> 20));
		if (pct == 100)
			fputc('\n', stderr);
	}
}

/*
 * Guest RAM into @fd, the regions back to back. Full: every page that is not
 * zero (pages the guest never touched are not even read). Diff: only the
 * pages written since the last snapshot, zero or not, into a file that
 * already has the earlier ones (or is merged onto them later).
 */
static int save_memory(struct machine *m, int fd, bool diff, bool show, struct state_err *err)
{
	struct guest_mem *gm = &m->mem;
	struct mem_progress pr = {.on = show, .total = gm_total(gm), .last_pct = -1};
	unsigned char vec[CHUNK / GM_PAGE_SIZE];
	uint64_t off = 0, c, p, run;
	unsigned int i;
	int ret;

	if (m->vm.dirty_log_global) {
		/* what the guest wrote since the last snapshot joins what petrel wrote */
		ret = kvm_dirty_log_sync(&m->vm, mark_kvm_dirty, gm);
		if (ret < 0)
			return state_fail(err, ret, "reading the dirty page log: %s",
					  strerror(-ret));
	} else if (diff) {
		return state_fail(
		    err, -EINVAL,
		    "a diff snapshot needs dirty page tracking (track_dirty_pages) since "
		    "the last snapshot");
	}
	if (ftruncate(fd, (off_t)gm_total(gm)) < 0)
		return state_fail(err, -errno, "sizing the memory file: %s", strerror(errno));
	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];

		for (c = 0; c < r->size; c += CHUNK) {
			uint64_t len = r->size - c < CHUNK ? r->size - c : CHUNK;
			uint64_t pages = len / GM_PAGE_SIZE;
			const uint8_t *base = r->hva + c;

			/* anonymous RAM: a page that is not resident was never written */
			if (!gm->file_backed && !diff && mincore((void *)base, len, vec) < 0)
				return state_fail(err, -errno, "mincore: %s", strerror(errno));
			for (p = 0; p < pages; p += run) {
				bool want;

				run = 1;
				if (diff)
					want = gm_page_dirty(gm, r->gpa + c + p * GM_PAGE_SIZE);
				else
					want = (gm->file_backed || (vec[p] & 1)) &&
					       !page_is_zero(base + p * GM_PAGE_SIZE);
				if (!want)
					continue;
				/* a run of wanted pages in one write */
				while (
				    p + run < pages &&
				    (diff ? gm_page_dirty(gm, r->gpa + c + (p + run) * GM_PAGE_SIZE)
					  : (gm->file_backed || (vec[p + run] & 1)) &&
						!page_is_zero(base + (p + run) * GM_PAGE_SIZE)))
					run++;
				ret = pwrite_all(fd, base + p * GM_PAGE_SIZE, run * GM_PAGE_SIZE,
						 (off_t)(off + c + p * GM_PAGE_SIZE));
				if (ret < 0)
					return state_fail(err, ret, "writing the memory file: %s",
							  strerror(-ret));
			}
			progress(&pr, len);
		}
		off += r->size;
	}
	gm_clear_dirty(gm);
	return 0;
}

int snapshot_save(struct machine *m, const struct snapshot_save_opts *o, struct state_err *err)
{
	struct out_file state = {.fd = -1}, mem = {.fd = -1};
	struct vm_state_sink sink;
	struct vm_state_err verr;
	struct state_writer w;
	int ret;

	if (!o->state_path || !o->mem_path)
		return state_fail(err, -EINVAL, "a snapshot needs a state file and a memory file");
	if (m->state != VM_PAUSED)
		return state_fail(err, -EBUSY, "the VM must be paused for a snapshot");
	if (o->diff && !m->vm.dirty_log_global)
		return state_fail(
		    err, -EINVAL,
		    "a diff snapshot needs dirty page tracking (track_dirty_pages) since "
		    "the last snapshot");
	ret = out_open(&state, o->state_path, err);
	if (ret < 0)
		return ret;
	if (o->diff) {
		/* a diff goes into the earlier memory file (or a new sparse one) in place */
		mem.path = o->mem_path;
		mem.fd = open(o->mem_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (mem.fd < 0)
			ret = state_fail(err, -errno, "%s: %s", o->mem_path, strerror(errno));
	} else {
		ret = out_open(&mem, o->mem_path, err);
	}
	if (ret < 0)
		goto out;

	state_writer_begin(&w, state_write_fd, &state.fd);
	if (o->config && o->config_len)
		state_writer_section(&w, SEC_CONFIG, 1, 0, o->config, o->config_len);
	sink = (struct vm_state_sink){.put = sink_put, .ctx = &w};
	verr.msg[0] = 0;
	ret = machine_save_state(m, &sink, &verr);
	if (ret < 0) {
		state_fail(err, ret, "%s", verr.msg[0] ? verr.msg : strerror(-ret));
		goto out;
	}
	ret = state_writer_end(&w);
	if (ret < 0) {
		state_fail(err, ret, "%s: %s", o->state_path, strerror(-ret));
		goto out;
	}
	ret = save_memory(m, mem.fd, o->diff, o->progress, err);
out:
	if (o->diff) {
		if (mem.fd >= 0 && !ret && fsync(mem.fd) < 0)
			ret = state_fail(err, -errno, "%s: %s", o->mem_path, strerror(errno));
		if (mem.fd >= 0)
			close(mem.fd);
		mem.fd = -1;
	} else {
		int r = out_close(&mem, !ret, err);

		ret = ret ? ret : r;
	}
	{
		int r = out_close(&state, !ret, err);

		ret = ret ? ret : r;
	}
	return ret;
}

/* ---- restoring ---- */

int snapshot_open(struct snapshot_file **out, const char *state_path, struct state_err *err)
{
	struct snapshot_file *f;
	struct stat st;
	size_t got = 0;
	int fd, ret;

	*out = NULL;
	fd = open(state_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return state_fail(err, -errno, "snapshot %s: %s", state_path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = state_fail(err, -EINVAL, "snapshot %s: not a regular file", state_path);
		goto fail_fd;
	}
	if ((uint64_t)st.st_size > STATE_FILE_MAX) {
		ret = state_fail(err, -EFBIG,
				 "snapshot %s: %llu bytes is larger than a state file can be",
				 state_path, (unsigned long long)st.st_size);
		goto fail_fd;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		ret = state_fail(err, -ENOMEM, "no memory for the snapshot");
		goto fail_fd;
	}
	f->len = (size_t)st.st_size;
	f->buf = malloc(f->len ? f->len : 1);
	if (!f->buf) {
		ret = state_fail(err, -ENOMEM, "no memory for the snapshot");
		goto fail_f;
	}
	while (got < f->len) {
		ssize_t n = read(fd, f->buf + got, f->len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = state_fail(err, n < 0 ? -errno : -EIO, "snapshot %s: reading: %s",
					 state_path, n < 0 ? strerror(errno) : "it shrank");
			goto fail_f;
		}
		got += (size_t)n;
	}
	close(fd);
	ret = state_reader_parse(&f->reader, f->buf, f->len, err);
	if (ret < 0) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		state_fail(err, ret, "snapshot %s: %s", state_path, why);
		snapshot_close(f);
		return ret;
	}
	*out = f;
	return 0;
fail_f:
	free(f->buf);
	free(f);
fail_fd:
	close(fd);
	return ret;
}

void snapshot_config(const struct snapshot_file *f, const void **config, size_t *len)
{
	unsigned int i;

	*config = NULL;
	*len = 0;
	for (i = 0; i < f->reader.nr_sections; i++) {
		if (!strcmp(f->reader.sec[i].name, SEC_CONFIG)) {
			*config = f->reader.sec[i].data;
			*len = f->reader.sec[i].len;
			return;
		}
	}
}

static int reader_get(void *ctx, const char *name, uint32_t max_version, const void **data,
		      size_t *len, uint32_t *version)
{
	struct state_reader *r = ctx;
	const struct state_section *s;
	struct state_err e;

	if (!state_reader_has(r, name))
		return -ENOENT;
	s = state_reader_take(r, name, max_version, &e);
	if (!s)
		return -EINVAL;
	*data = s->data;
	*len = s->len;
	*version = s->version;
	return 0;
}

void snapshot_state_source(struct state_reader *r, struct vm_state_source *out)
{
	out->get = reader_get;
	out->ctx = r;
}

int snapshot_restore(struct machine *m, const struct vm_config *cfg, struct snapshot_file *f,
		     const char *mem_path, bool track_dirty, struct state_err *err)
{
	struct vm_config c = *cfg;
	struct vm_state_source src;
	struct vm_state_err verr;
	unsigned int i;
	int ret;

	if (!mem_path)
		return state_fail(err, -EINVAL, "a restore needs the snapshot's memory file");
	snapshot_state_source(&f->reader, &src);
	{
		struct stat st;

		if (stat(mem_path, &st) < 0)
			return state_fail(err, -errno, "memory file %s: %s", mem_path,
					  strerror(errno));
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != cfg->mem_size)
			return state_fail(
			    err, -EINVAL,
			    "memory file %s holds %llu bytes where the snapshot's guest has "
			    "%llu: give the memory file taken with this snapshot",
			    mem_path, (unsigned long long)st.st_size,
			    (unsigned long long)cfg->mem_size);
	}
	c.restore_mem = mem_path;
	c.track_dirty = c.track_dirty || track_dirty;
	/* a second restore from the same file starts from a fresh reader */
	for (i = 0; i < f->reader.nr_sections; i++)
		f->reader.sec[i].taken = false;
	ret = machine_create(m, &c);
	if (ret < 0)
		return state_fail(err, ret, "creating the machine for the snapshot: %s",
				  strerror(-ret));
	verr.msg[0] = 0;
	ret = machine_restore_state(m, &src, &verr);
	if (ret < 0) {
		state_fail(err, ret, "%s", verr.msg[0] ? verr.msg : strerror(-ret));
		goto fail;
	}
	ret = state_reader_finish(&f->reader, err);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	machine_destroy(m);
	return ret;
}

void snapshot_close(struct snapshot_file *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f);
}

/* ---- merging ---- */

int snapshot_merge_mem(const char *base_path, const char *diff_path, struct state_err *err)
{
	struct stat bs, ds;
	uint8_t *buf = NULL;
	off_t data, hole;
	int bfd = -1, dfd = -1, ret = 0;

	bfd = open(base_path, O_WRONLY | O_CLOEXEC);
	if (bfd < 0)
		return state_fail(err, -errno, "%s: %s", base_path, strerror(errno));
	dfd = open(diff_path, O_RDONLY | O_CLOEXEC);
	if (dfd < 0) {
		ret = state_fail(err, -errno, "%s: %s", diff_path, strerror(errno));
		goto out;
	}
	if (fstat(bfd, &bs) < 0 || fstat(dfd, &ds) < 0 || bs.st_size != ds.st_size) {
		ret = state_fail(err, -EINVAL,
				 "%s and %s are not memory files of one guest (their sizes differ)",
				 base_path, diff_path);
		goto out;
	}
	buf = malloc(CHUNK);
	if (!buf) {
		ret = state_fail(err, -ENOMEM, "no memory to merge");
		goto out;
	}
	/* the diff's data extents are the pages it holds */
	for (data = lseek(dfd, 0, SEEK_DATA); data >= 0 && data < ds.st_size;
	     data = lseek(dfd, hole, SEEK_DATA)) {
		hole = lseek(dfd, data, SEEK_HOLE);
		if (hole < 0) {
			ret = state_fail(err, -errno, "%s: %s", diff_path, strerror(errno));
			goto out;
		}
		while (data < hole) {
			size_t n = (size_t)(hole - data) < CHUNK ? (size_t)(hole - data) : CHUNK;
			ssize_t got = pread(dfd, buf, n, data);

			if (got <= 0) {
				ret =
				    state_fail(err, got < 0 ? -errno : -EIO, "%s: reading: %s",
					       diff_path, got < 0 ? strerror(errno) : "short file");
				goto out;
			}
			ret = pwrite_all(bfd, buf, (size_t)got, data);
			if (ret < 0) {
				state_fail(err, ret, "%s: %s", base_path, strerror(-ret));
				goto out;
			}
			data += got;
		}
	}
	if (data < 0 && errno != ENXIO) {
		ret = state_fail(err, -errno, "%s: %s", diff_path, strerror(errno));
		goto out;
	}
	if (fsync(bfd) < 0)
		ret = state_fail(err, -errno, "%s: %s", base_path, strerror(errno));
out:
	free(buf);
	if (dfd >= 0)
		close(dfd);
	close(bfd);
	return ret;
}
