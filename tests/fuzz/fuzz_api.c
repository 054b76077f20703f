// SPDX-License-Identifier: GPL-2.0-only
/* The API fuzz targets' fake backend, files, request reader and sandbox. */
#include "fuzz_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_vmm.h"

bool fuzz_api_sandboxed;

/* ---- the sandbox: the linker sends open, open64 and dup2 here (--wrap) ---- */

int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
int __real_dup2(int oldfd, int newfd);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __wrap_dup2(int oldfd, int newfd);

static int sandbox_open(const char *path, int flags)
{
	if (!*path) {
		errno = ENOENT;
		return -1;
	}
	return __real_open("/dev/null", flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_DIRECTORY));
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return fuzz_api_sandboxed ? sandbox_open(path, flags) : __real_open(path, flags, mode);
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return fuzz_api_sandboxed ? sandbox_open(path, flags) : __real_open64(path, flags, mode);
}

int __wrap_dup2(int oldfd, int newfd)
{
	if (fuzz_api_sandboxed && newfd >= 0 && newfd <= 2) {
		if (fcntl(oldfd, F_GETFD) < 0)
			return -1;
		return newfd;
	}
	return __real_dup2(oldfd, newfd);
}

/* ---- the fake backend ---- */

static int fake_boot(void *ctx, const struct api_vm_spec *spec, struct api_err *err)
{
	struct fuzz_fake *f = ctx;

	if (f->boot_fails)
		return api_fail(err, -EIO, "the fake machine refuses to boot");
	return 0;
}

static int fake_shutdown(void *ctx, int status, struct api_err *err)
{
	return 0;
}

static int fake_nothing(void *ctx, struct api_err *err)
{
	return 0;
}

static int fake_drive_update(void *ctx, unsigned int idx, const char *path, struct api_err *err)
{
	return 0;
}

static void fake_counters(void *ctx, struct api_counters *out)
{
	memset(out, 0, sizeof(*out));
	out->nr_vcpus = 1;
	out->nr_disks = 1;
	snprintf(out->disks[0].id, sizeof(out->disks[0].id), "rootfs");
}

static void fake_exit_vmm(void *ctx, int status)
{
}

const struct api_backend fuzz_fake_backend = {
    .boot = fake_boot,
    .pause = fake_nothing,
    .resume = fake_nothing,
    .shutdown = fake_shutdown,
    .reboot = fake_nothing,
    .ctrl_alt_del = fake_nothing,
    .power_button = fake_nothing,
    .drive_update = fake_drive_update,
    .counters = fake_counters,
    .exit_vmm = fake_exit_vmm,
};

/* ---- files for the controller's access() checks ---- */

enum { F_KERNEL, F_INITRD, F_DISK0, F_DISK1, F_RO, F_COUNT };

static const char *const tokens[F_COUNT] = {"@K@", "@I@", "@D0@", "@D1@", "@RO@"};
static const char *const names[F_COUNT] = {"kernel", "initrd", "disk0", "disk1", "readonly"};
static char dir[128];
static char files[F_COUNT][160];

static void files_remove(void)
{
	for (int i = 0; i < F_COUNT; i++)
		unlink(files[i]);
	rmdir(dir);
}

void fuzz_api_files_init(void)
{
	int fd;

	const char *tmp = getenv("TMPDIR");

	if (dir[0])
		return;
	/* scripts/fuzz.sh points TMPDIR at the run's folder: a crash leaves nothing in /tmp */
	if (!tmp || !*tmp || strlen(tmp) > sizeof(dir) - 32)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/petrel-fuzz-XXXXXX", tmp);
	if (!mkdtemp(dir))
		abort();
	for (int i = 0; i < F_COUNT; i++) {
		snprintf(files[i], sizeof(files[i]), "%s/%s", dir, names[i]);
		fd = __real_open(files[i], O_WRONLY | O_CREAT | O_CLOEXEC, i == F_RO ? 0400 : 0600);
		if (fd < 0)
			abort();
		close(fd);
	}
	atexit(files_remove);
}

char *fuzz_api_expand(const uint8_t *body, size_t len, size_t *out_len)
{
	size_t cap = len + 1, n = 0, i = 0, t, tl;
	char *out = malloc(cap), *grown;

	if (!out)
		abort();
	while (i < len) {
		for (t = 0; t < F_COUNT; t++) {
			tl = strlen(tokens[t]);
			if (len - i >= tl && !memcmp(body + i, tokens[t], tl))
				break;
		}
		if (t == F_COUNT) {
			out[n++] = (char)body[i++];
			continue;
		}
		cap += strlen(files[t]);
		grown = realloc(out, cap);
		if (!grown)
			abort();
		out = grown;
		memcpy(out + n, files[t], strlen(files[t]));
		n += strlen(files[t]);
		i += tl;
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* ---- requests from the input ---- */

uint8_t fuzz_in_byte(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static const char *const methods[] = {"GET", "PUT", "PATCH", "POST", "DELETE", "HEAD", "get", ""};

static char *take_str(struct fuzz_in *in, size_t len)
{
	char *s;

	if (len > in->n)
		len = in->n;
	s = strndup((const char *)in->p, len);
	if (!s)
		abort();
	in->p += len;
	in->n -= len;
	return s;
}

bool fuzz_api_next_request(struct fuzz_in *in, const char *const *paths, size_t nr_paths,
			   struct api_request *rq)
{
	size_t blen;
	uint8_t m, p;

	if (in->n < 2)
		return false;
	m = fuzz_in_byte(in);
	p = fuzz_in_byte(in);
	rq->method = strdup(methods[m % (sizeof(methods) / sizeof(methods[0]))]);
	if (p < nr_paths)
		rq->path = strdup(paths[p]);
	else
		rq->path = take_str(in, fuzz_in_byte(in));
	if (!rq->method || !rq->path)
		abort();
	blen = fuzz_in_byte(in);
	blen |= (size_t)fuzz_in_byte(in) << 8;
	if (blen > in->n)
		blen = in->n;
	rq->body = fuzz_api_expand(in->p, blen, &rq->body_len);
	in->p += blen;
	in->n -= blen;
	return true;
}

void fuzz_api_request_free(struct api_request *rq)
{
	free((char *)rq->method);
	free((char *)rq->path);
	free((char *)rq->body);
	memset(rq, 0, sizeof(*rq));
}

void fuzz_api_run(const struct api_frontend *fe, struct api_vmm *v, const struct api_request *rq)
{
	struct api_response rs = {0};
	json_t *j;

	fe->handle(v, rq, &rs);
	if (rs.status < 200 || rs.status > 599)
		abort();
	if (rs.body && (!rs.content_type || !strcmp(rs.content_type, "application/json"))) {
		j = json_loads(rs.body, JSON_DECODE_ANY, NULL);
		if (!j)
			abort();
		json_decref(j);
	}
	api_response_free(&rs);
}
