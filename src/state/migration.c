// SPDX-License-Identifier: GPL-2.0-only
/* Live migration: the source's rounds (or its memfd) and the destination's machine. */
#include "state/migration.h"

#include "state/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "kvm/kvm.h"
#include "vm/devices.h"
#include "vm/machine_state.h"
#include "vm/vm_state.h"

#define CHUNK (2ULL << 20) /* RAM is scanned 2 MiB at a time */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *migration_phase_name(enum migration_phase p)
{
	static const char *const names[] = {"none",	 "memory", "dirty-rounds", "switchover",
					    "completed", "failed", "cancelled"};

	return p <= MIGRATION_CANCELLED ? names[p] : "?";
}

void migration_progress_init(struct migration_progress *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
}

void migration_progress_get(struct migration_progress *p, struct migration_progress *out)
{
	pthread_mutex_lock(&p->lock);
	out->phase = p->phase;
	out->round = p->round;
	out->bytes_sent = p->bytes_sent;
	out->bytes_remaining = p->bytes_remaining;
	out->dirty_rate = p->dirty_rate;
	out->bandwidth = p->bandwidth;
	out->downtime_ms = p->downtime_ms;
	out->total_ms = p->total_ms;
	out->ram_bytes = p->ram_bytes;
	out->memfd = p->memfd;
	out->cancel = p->cancel;
	memcpy(out->error, p->error, sizeof(out->error));
	pthread_mutex_unlock(&p->lock);
}

void migration_progress_reset(struct migration_progress *p, enum migration_phase phase)
{
	pthread_mutex_lock(&p->lock);
	p->phase = phase;
	p->round = 0;
	p->bytes_sent = p->bytes_remaining = p->dirty_rate = p->bandwidth = 0;
	p->downtime_ms = p->total_ms = p->ram_bytes = 0;
	p->memfd = p->cancel = false;
	p->error[0] = 0;
	pthread_mutex_unlock(&p->lock);
}

int migration_cancel(struct migration_progress *p)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->phase == MIGRATION_MEMORY || p->phase == MIGRATION_DIRTY)
		p->cancel = true;
	else
		ret = p->phase == MIGRATION_SWITCHOVER ? -EBUSY : -ESRCH;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* ---- connections ---- */

int migration_parse_url(const char *url, char *host, size_t host_len, char *port, size_t port_len,
			struct state_err *err)
{
	const char *h, *colon, *end;
	size_t hl;

	if (strncmp(url, "tcp:", 4))
		return state_fail(err, -EINVAL, "%s: expected tcp:HOST:PORT or unix:PATH", url);
	h = url + 4;
	colon = strrchr(h, ':');
	if (!colon || !colon[1] || colon == h)
		return state_fail(err, -EINVAL, "%s: expected tcp:HOST:PORT", url);
	end = colon;
	if (*h == '[' && end > h + 1 && end[-1] == ']') {
		h++;
		end--;
	}
	hl = (size_t)(end - h);
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return state_fail(err, -EINVAL, "%s: the port must be a number", url);
	if (hl >= host_len || strlen(colon + 1) >= port_len || atoi(colon + 1) <= 0 ||
	    atoi(colon + 1) > 65535)
		return state_fail(err, -EINVAL, "%s: expected tcp:HOST:PORT", url);
	memcpy(host, h, hl);
	host[hl] = 0;
	snprintf(port, port_len, "%s", colon + 1);
	return 0;
}

/* unix:PATH into @sa; 1 when @url is one, 0 when it is not unix:, -errno. */
static int unix_addr(const char *url, struct sockaddr_un *sa, struct state_err *err)
{
	const char *path = url + 5;

	if (strncmp(url, "unix:", 5))
		return 0;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!*path)
		return state_fail(err, -EINVAL, "%s: expected unix:PATH", url);
	if (strlen(path) >= sizeof(sa->sun_path))
		return state_fail(err, -ENAMETOOLONG, "%s: the path is too long for a socket", url);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 1;
}

static void set_timeouts(int fd, bool tcp)
{
	struct timeval tv = {.tv_sec = MIGRATION_TIMEOUT_S};
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int unix_connect(const char *url, const struct sockaddr_un *sa, struct mig_conn *c,
			struct state_err *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return state_fail(err, -errno, "connecting: %s", strerror(errno));
	set_timeouts(fd, false);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		e = errno;
		close(fd);
		return state_fail(err, -e, "connecting to %s: %s", url, strerror(e));
	}
	c->fd = fd;
	c->local = true;
	return 0;
}

static int unix_accept(const char *url, const struct sockaddr_un *sa, struct mig_conn *c,
		       struct state_err *err)
{
	struct stat st;
	int lfd, fd, e;

	/* a file there is someone's: never removed, never reused */
	if (lstat(sa->sun_path, &st) == 0)
		return state_fail(err, -EEXIST,
				  "listening on %s: the path exists (remove it first)", url);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return state_fail(err, -errno, "listening on %s: %s", url, strerror(errno));
	if (bind(lfd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		e = errno;
		close(lfd);
		return state_fail(err, -e, "listening on %s: %s", url,
				  e == EADDRINUSE ? "the path exists (remove it first)"
						  : strerror(e));
	}
	if (listen(lfd, 1) < 0) {
		e = errno;
		goto fail;
	}
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	e = errno;
	if (fd < 0)
		goto fail;
	/* one source only: the name goes as soon as it is in */
	unlink(sa->sun_path);
	close(lfd);
	set_timeouts(fd, false);
	c->fd = fd;
	c->local = true;
	return 0;
fail:
	unlink(sa->sun_path);
	close(lfd);
	return state_fail(err, -e, "listening on %s: %s", url, strerror(e));
}

static int resolve(const char *url, bool passive, struct addrinfo **ai, struct state_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
	char host[256], port[8];
	int ret;

	ret = migration_parse_url(url, host, sizeof(host), port, sizeof(port), err);
	if (ret)
		return ret;
	ret = getaddrinfo(*host ? host : NULL, port, &hints, ai);
	if (ret)
		return state_fail(err, -EINVAL, "%s: %s", url, gai_strerror(ret));
	return 0;
}

int migration_connect(const char *url, struct mig_conn *c, struct state_err *err)
{
	struct addrinfo *ai, *a;
	int fd = -1, ret, e = ECONNREFUSED;

	struct sockaddr_un sa;

	memset(c, 0, sizeof(*c));
	c->fd = c->cancel_fd = -1;
	ret = unix_addr(url, &sa, err);
	if (ret)
		return ret < 0 ? ret : unix_connect(url, &sa, c, err);
	ret = resolve(url, false, &ai, err);
	if (ret)
		return ret;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		set_timeouts(fd, true);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return state_fail(err, -e, "connecting: %s", strerror(e));
	c->fd = fd;
	return 0;
}

int migration_accept(const char *url, struct mig_conn *c, struct state_err *err)
{
	struct addrinfo *ai, *a;
	int lfd = -1, fd, ret, e = EADDRNOTAVAIL, one = 1;

	struct sockaddr_un sa;

	memset(c, 0, sizeof(*c));
	c->fd = c->cancel_fd = -1;
	ret = unix_addr(url, &sa, err);
	if (ret)
		return ret < 0 ? ret : unix_accept(url, &sa, c, err);
	ret = resolve(url, true, &ai, err);
	if (ret)
		return ret;
	for (a = ai; a; a = a->ai_next) {
		lfd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (lfd < 0) {
			e = errno;
			continue;
		}
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, a->ai_addr, a->ai_addrlen) == 0 && listen(lfd, 1) == 0)
			break;
		e = errno;
		close(lfd);
		lfd = -1;
	}
	freeaddrinfo(ai);
	if (lfd < 0)
		return state_fail(err, -e, "listening on %s: %s", url, strerror(e));
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	e = errno;
	close(lfd);
	if (fd < 0)
		return state_fail(err, -e, "accepting on %s: %s", url, strerror(e));
	set_timeouts(fd, true);
	c->fd = fd;
	return 0;
}

/* ---- the processor ---- */

/* The leaves a guest's features are read from (x86_cpuid_runs_on's), and leaf 0. */
static bool feature_leaf(uint32_t fn)
{
	return fn == 0 || fn == 1 || fn == 7 || fn == 0xd || fn == 0x80000001 || fn == 0x80000007 ||
	       fn == 0x80000008;
}

static void vendor_of(const struct kvm_cpuid_entry2 *e, unsigned int n, char out[13])
{
	memset(out, 0, 13);
	for (unsigned int i = 0; i < n; i++) {
		if (e[i].function == 0) {
			memcpy(out, &e[i].ebx, 4);
			memcpy(out + 4, &e[i].edx, 4);
			memcpy(out + 8, &e[i].ecx, 4);
			return;
		}
	}
}

/* Both ends on one host and the guest's RAM a memfd: it is handed over, no page is sent. */
static bool hands_memfd(const struct machine *m, const struct mig_conn *c)
{
	return c->local && m->mem.shared && !m->mem.file_backed && m->mem.fd >= 0 &&
	       m->mem.nr_regions <= MIG_MEMFD_REGIONS;
}

static int send_memfd(struct machine *m, struct mig_conn *c)
{
	struct mig_memfd f = {.size = m->mem.fd_size, .nr = m->mem.nr_regions};
	uint8_t buf[MIG_MEMFD_MAX];
	size_t len;

	for (unsigned int i = 0; i < f.nr; i++) {
		f.regions[i].gpa = m->mem.regions[i].gpa;
		f.regions[i].size = m->mem.regions[i].size;
		f.regions[i].offset = m->mem.regions[i].fd_offset;
	}
	len = mig_memfd_encode(buf, &f);
	return mig_send_fds(c, MIG_MEMFD, buf, len, &m->mem.fd, 1);
}

int migration_hello(struct machine *m, struct mig_conn *c, const void *spec, size_t spec_len,
		    struct state_err *err)
{
	struct kvm_cpuid2 *cpuid;
	struct mig_hello *h = calloc(1, sizeof(*h));
	uint8_t buf[MIG_HELLO_MAX];
	struct mig_msg msg = {0};
	const char *fake = getenv("PETREL_MIGRATION_TEST_VERSION");
	size_t len;
	int ret;

	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	if (!h || !cpuid) {
		ret = state_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	cpuid->nent = 256;
	/* what the vCPU was given: KVM would wait for a running vCPU to come out first */
	if (m->vcpus[0].kvm.cpuid && m->vcpus[0].kvm.cpuid->nent <= 256) {
		cpuid->nent = m->vcpus[0].kvm.cpuid->nent;
		memcpy(cpuid->entries, m->vcpus[0].kvm.cpuid->entries,
		       cpuid->nent * sizeof(cpuid->entries[0]));
		ret = 0;
	} else {
		ret = kvm_vcpu_ioctl(&m->vcpus[0].kvm, KVM_GET_CPUID2, cpuid);
	}
	if (ret < 0) {
		state_fail(err, ret, "reading the guest's CPUID: %s", strerror(-ret));
		goto out;
	}
	/* petrel's tests fake another stream version with this */
	h->version = fake ? (uint32_t)strtoul(fake, NULL, 0) : MIG_VERSION;
	snprintf(h->petrel, sizeof(h->petrel), "%s", PETREL_VERSION);
	vendor_of(cpuid->entries, cpuid->nent, h->vendor);
	for (unsigned int i = 0; i < cpuid->nent && h->nr_cpuid < MIG_CPUID_MAX; i++)
		if (feature_leaf(cpuid->entries[i].function))
			h->cpuid[h->nr_cpuid++] = cpuid->entries[i];
	len = mig_hello_encode(buf, h);
	ret = mig_send(c, MIG_HELLO, buf, len, NULL, 0);
	if (!ret && hands_memfd(m, c))
		ret = send_memfd(m, c);
	if (!ret)
		ret = mig_send(c, MIG_SPEC, spec, spec_len, NULL, 0);
	/* a refusal of the hello may have come before the specification went */
	if (ret && ret != -EPIPE && ret != -ECONNRESET) {
		state_fail(err, ret, "sending the hello: %s", strerror(-ret));
		goto out;
	}
	ret = mig_recv(c, &msg, err);
	if (ret) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		state_fail(err, ret, "the destination did not answer the hello: %s", why);
	} else if (msg.type == MIG_ERROR) {
		ret = state_fail(err, -EPROTO, "the destination refused: %s", (char *)msg.buf);
	} else if (msg.type != MIG_READY || msg.len) {
		ret =
		    state_fail(err, -EPROTO, "the destination answered the hello with a %s message",
			       mig_type_name(msg.type));
	}
out:
	mig_msg_free(&msg);
	free(cpuid);
	free(h);
	return ret;
}

/* ---- source: memory ---- */

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < GM_PAGE_SIZE / 8; i += 8)
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		       w[i + 7];
	return !acc;
}

/* A run of pages being gathered into one record. */
struct run {
	struct mig_conn *c;
	struct migration_progress *pr;
	uint64_t gpa;
	const uint8_t *hva;
	uint32_t pages;
	bool zero;
	uint64_t bytes; /* sent, this round */
};

static int run_flush(struct run *r)
{
	uint8_t h[MIG_MEM_HDR_LEN];
	uint64_t before = r->c->sent;
	int ret;

	if (!r->pages)
		return 0;
	mig_mem_hdr_encode(h, r->gpa, r->pages, r->zero);
	ret = mig_send(r->c, MIG_MEM, h, sizeof(h), r->zero ? NULL : r->hva,
		       r->zero ? 0 : r->pages * GM_PAGE_SIZE);
	r->bytes += r->c->sent - before;
	r->pages = 0;
	if (r->pr) {
		pthread_mutex_lock(&r->pr->lock);
		r->pr->bytes_sent = r->c->sent;
		if (r->pr->cancel && !ret)
			ret = -ECANCELED;
		pthread_mutex_unlock(&r->pr->lock);
	}
	return ret;
}

static int run_add(struct run *r, uint64_t gpa, const uint8_t *hva, bool zero)
{
	int ret;

	if (r->pages && (r->zero != zero || r->gpa + r->pages * GM_PAGE_SIZE != gpa ||
			 r->pages == MIG_MEM_MAX_PAGES)) {
		ret = run_flush(r);
		if (ret)
			return ret;
	}
	if (!r->pages) {
		r->gpa = gpa;
		r->hva = hva;
		r->zero = zero;
	}
	r->pages++;
	return 0;
}

/* Round 0: every page the guest holds that is not zero (the destination's RAM is zero). */
static int send_all(struct machine *m, struct run *run)
{
	struct guest_mem *gm = &m->mem;
	unsigned char vec[CHUNK / GM_PAGE_SIZE];
	int ret;

	uint64_t scanned = 0;

	for (unsigned int i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];

		for (uint64_t c = 0; c < r->size; c += CHUNK) {
			uint64_t len = r->size - c < CHUNK ? r->size - c : CHUNK;
			const uint8_t *base = r->hva + c;

			if (run->pr) {
				pthread_mutex_lock(&run->pr->lock);
				run->pr->bytes_remaining = run->pr->ram_bytes - scanned;
				ret = run->pr->cancel ? -ECANCELED : 0;
				pthread_mutex_unlock(&run->pr->lock);
				if (ret)
					return ret;
			}
			scanned += len;

			/* anonymous RAM: a page that is not resident was never written */
			if (!gm->file_backed && mincore((void *)base, len, vec) < 0)
				return -errno;
			for (uint64_t p = 0; p < len / GM_PAGE_SIZE; p++) {
				const uint8_t *hva = base + p * GM_PAGE_SIZE;

				if ((!gm->file_backed && !(vec[p] & 1)) || page_is_zero(hva))
					continue;
				ret = run_add(run, r->gpa + c + p * GM_PAGE_SIZE, hva, false);
				if (ret)
					return ret;
			}
		}
	}
	return run_flush(run);
}

/* The pages marked dirty (their bits taken): zero ones as zero records. */
static int send_dirty(struct machine *m, struct run *run)
{
	struct guest_mem *gm = &m->mem;
	int ret;

	for (unsigned int i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];
		uint64_t pages = r->size / GM_PAGE_SIZE;
		uint64_t words = (pages + 63) / 64;

		for (uint64_t w = 0; w < words; w++) {
			unsigned long bits;

			if (!__atomic_load_n(&r->dirty[w], __ATOMIC_RELAXED))
				continue;
			bits = __atomic_exchange_n(&r->dirty[w], 0, __ATOMIC_RELAXED);
			while (bits) {
				uint64_t pg = w * 64 + (uint64_t)__builtin_ctzl(bits);
				const uint8_t *hva = r->hva + pg * GM_PAGE_SIZE;

				bits &= bits - 1;
				if (pg >= pages)
					break;
				ret = run_add(run, r->gpa + pg * GM_PAGE_SIZE, hva,
					      page_is_zero(hva));
				if (ret)
					return ret;
			}
		}
	}
	return run_flush(run);
}

static void mark_kvm_dirty(void *opaque, uint64_t gpa, const unsigned long *bitmap, uint64_t npages)
{
	gm_mark_dirty_bitmap(opaque, gpa, bitmap, npages);
}

/* What the guest wrote since the last sync joins what devices wrote; the pages dirty. */
static int sync_dirty(struct machine *m, uint64_t *pages, struct state_err *err)
{
	int ret = kvm_dirty_log_sync(&m->vm, mark_kvm_dirty, &m->mem);

	if (ret < 0)
		return state_fail(err, ret, "reading the dirty page log: %s", strerror(-ret));
	*pages = gm_dirty_count(&m->mem);
	return 0;
}

/* ---- source: the state ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int buf_write(void *ctx, const void *data, size_t len)
{
	struct buf *b = ctx;

	if (len > MIG_STATE_MAX - b->len)
		return -EFBIG;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		uint8_t *np;

		while (cap < b->len + len)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static int sink_put(void *ctx, const char *name, uint32_t version, const void *data, size_t len)
{
	return state_writer_section(ctx, name, version, STATE_SEC_REQUIRED, data, len);
}

/* The paused machine's state as a container, sent as one STATE message. */
static int send_state(struct machine *m, struct mig_conn *c, struct state_err *err)
{
	struct buf b = {0};
	struct vm_state_sink sink;
	struct vm_state_err verr = {""};
	struct state_writer w;
	int ret;

	state_writer_begin(&w, buf_write, &b);
	sink = (struct vm_state_sink){.put = sink_put, .ctx = &w};
	ret = machine_save_state(m, &sink, &verr);
	if (ret < 0) {
		state_fail(err, ret, "saving the machine's state: %s",
			   verr.msg[0] ? verr.msg : strerror(-ret));
		goto out;
	}
	ret = state_writer_end(&w);
	if (ret < 0) {
		state_fail(err, ret, "saving the machine's state: %s", strerror(-ret));
		goto out;
	}
	ret = mig_send(c, MIG_STATE, b.p, b.len, NULL, 0);
	if (ret)
		state_fail(err, ret, "sending the state: %s", strerror(-ret));
out:
	free(b.p);
	return ret;
}

/* ---- source ---- */

static void progress_set(struct migration_progress *pr, enum migration_phase phase,
			 unsigned int round, uint64_t sent, uint64_t remaining)
{
	pthread_mutex_lock(&pr->lock);
	pr->phase = phase;
	pr->round = round;
	pr->bytes_sent = sent;
	pr->bytes_remaining = remaining;
	pthread_mutex_unlock(&pr->lock);
}

static bool machine_stopping(struct machine *m)
{
	bool stop;

	pthread_mutex_lock(&m->lock);
	stop = m->state == VM_STOPPING;
	pthread_mutex_unlock(&m->lock);
	return stop;
}

static int send_fail(struct state_err *err, int ret, const char *what)
{
	if (ret == -EPIPE || ret == -ECONNRESET)
		return state_fail(err, ret, "%s: the destination closed the connection", what);
	return state_fail(err, ret, "%s: %s", what, strerror(-ret));
}

/* The destination's next message must be @type (without a payload). */
static int expect(struct mig_conn *c, struct mig_msg *msg, uint32_t type, const char *what,
		  struct state_err *err)
{
	int ret = mig_recv(c, msg, err);

	if (ret) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		return state_fail(err, ret, "no word of %s from the destination: %s", what, why);
	}
	if (msg->type == MIG_ERROR)
		return state_fail(err, -EPROTO, "the destination refused: %s", (char *)msg->buf);
	if (msg->type != type || msg->len)
		return state_fail(err, -EPROTO,
				  "the destination answered with a %s message, not %s",
				  mig_type_name(msg->type), what);
	return 0;
}

/* Into the switchover, unless cancelled first (then -ECANCELED). */
static int enter_switchover(struct migration_progress *pr, unsigned int round, uint64_t sent,
			    uint64_t remaining)
{
	int ret = 0;

	pthread_mutex_lock(&pr->lock);
	if (pr->cancel) {
		ret = -ECANCELED;
	} else {
		pr->phase = MIGRATION_SWITCHOVER;
		pr->round = round;
		pr->bytes_sent = sent;
		pr->bytes_remaining = remaining;
	}
	pthread_mutex_unlock(&pr->lock);
	return ret;
}

/* RELEASED, with the TAPs' fds over a local connection (the source keeps its own). */
static int send_released(struct machine *m, struct mig_conn *c)
{
	struct mig_released r = {0};
	uint8_t buf[MIG_RELEASED_MAX];
	int fds[MIG_FDS_MAX];
	size_t len;

	if (!c->local)
		return mig_send(c, MIG_RELEASED, NULL, 0, NULL, 0);
	r.nr = vm_devices_tap_fds(m, fds, r.nic, MIG_FDS_MAX);
	len = mig_released_encode(buf, &r);
	return mig_send_fds(c, MIG_RELEASED, buf, len, fds, r.nr);
}

int migration_send(struct machine *m, struct mig_conn *c, const struct migration_params *p,
		   const struct migration_ops *ops, struct migration_progress *pr,
		   struct state_err *err)
{
	bool was_logging = m->vm.dirty_log_global, logging = false, paused = false;
	bool memfd = hands_memfd(m, c);
	struct run run = {.c = c, .pr = pr};
	struct mig_msg msg = {0};
	uint64_t start = now_ms(), t0, t1, pause_at = 0, dirty = 0, bw = 0;
	unsigned int round = 0;
	int ret;

	pthread_mutex_lock(&pr->lock);
	pr->ram_bytes = gm_total(&m->mem);
	pr->memfd = memfd;
	pthread_mutex_unlock(&pr->lock);
	/* the destination maps the same memory: nothing to copy, nothing to log */
	if (memfd)
		goto switchover;
	if (!was_logging) {
		ret = kvm_dirty_log_global(&m->vm, true);
		if (ret < 0) {
			state_fail(err, ret, "turning on dirty page logging: %s", strerror(-ret));
			goto undo;
		}
		logging = true;
	}
	/* from here on every write is logged: what came before is in the full copy */
	ret = sync_dirty(m, &dirty, err);
	if (ret)
		goto undo;
	gm_clear_dirty(&m->mem);

	progress_set(pr, MIGRATION_MEMORY, 0, c->sent, gm_total(&m->mem));
	t0 = now_ms();
	ret = send_all(m, &run);
	if (ret) {
		send_fail(err, ret, "sending guest memory");
		goto undo;
	}
	for (;;) {
		uint64_t remaining;

		t1 = now_ms();
		bw = run.bytes * 1000 / (t1 > t0 ? t1 - t0 : 1);
		ret = sync_dirty(m, &dirty, err);
		if (ret)
			goto undo;
		remaining = dirty * GM_PAGE_SIZE;
		pthread_mutex_lock(&pr->lock);
		pr->bandwidth = bw;
		pr->dirty_rate = dirty * 1000 / (t1 > t0 ? t1 - t0 : 1);
		ret = pr->cancel ? -ECANCELED : 0;
		pthread_mutex_unlock(&pr->lock);
		if (ret)
			goto undo;
		progress_set(pr, MIGRATION_DIRTY, round, c->sent, remaining);
		if (machine_stopping(m)) {
			ret = state_fail(err, -ESRCH, "the guest stopped during the migration");
			goto undo;
		}
		/* what is left fits the pause at this bandwidth, or enough rounds */
		if (remaining * 1000 <= (uint64_t)p->downtime_ms * bw || round >= p->max_rounds)
			break;
		round++;
		run.bytes = 0;
		t0 = t1;
		ret = send_dirty(m, &run);
		if (ret) {
			send_fail(err, ret, "sending dirty pages");
			goto undo;
		}
	}

switchover:
	/* the switchover: the guest stops here and goes on at the destination */
	ret = enter_switchover(pr, round, c->sent, dirty * GM_PAGE_SIZE);
	if (ret)
		goto undo;
	pause_at = now_ms();
	if (!ops->paused) {
		ret = ops->pause(ops->ctx, err);
		if (ret)
			goto undo;
		paused = true;
	}
	if (!memfd) {
		ret = sync_dirty(m, &dirty, err);
		if (ret)
			goto undo;
		ret = send_dirty(m, &run);
		if (ret) {
			send_fail(err, ret, "sending the last dirty pages");
			goto undo;
		}
	}
	ret = send_state(m, c, err);
	if (ret) {
		if (ret == -EPIPE || ret == -ECONNRESET)
			send_fail(err, ret, "sending the state");
		goto undo;
	}
	ret = mig_send(c, MIG_END, NULL, 0, NULL, 0);
	if (ret) {
		send_fail(err, ret, "ending the stream");
		goto undo;
	}
	ret = expect(c, &msg, MIG_LOADED, "the loaded state", err);
	if (ret)
		goto undo;
	/* the disks and TAPs go to the destination (on one host, it waits for them) */
	ret = vm_devices_release_host(m, c->local);
	if (ret) {
		state_fail(err, ret, "handing over the disks: %s", strerror(-ret));
		mig_send_error(c, err->msg);
		goto undo;
	}
	ret = send_released(m, c);
	if (ret)
		send_fail(err, ret, "handing over the disks and TAPs");
	else
		ret = expect(c, &msg, MIG_ACK, "the ack", err);
	if (ret) {
		/* the guest goes on here only with its disks and TAPs back */
		char why[sizeof(err->msg)], taken[128];

		if (vm_devices_take_host(m, taken, sizeof(taken))) {
			snprintf(why, sizeof(why), "%s", err->msg);
			ret = state_fail(err, -ENOTRECOVERABLE,
					 "%s; taking back %s (the destination may run the guest): "
					 "the VM stays paused",
					 why, taken);
			paused = false; /* never resumed */
		}
		goto undo;
	}
	mig_msg_free(&msg);
	t1 = now_ms();
	pthread_mutex_lock(&pr->lock);
	pr->phase = MIGRATION_COMPLETED;
	pr->bytes_sent = c->sent;
	pr->bytes_remaining = 0;
	pr->downtime_ms = t1 - pause_at;
	pr->total_ms = t1 - start;
	pthread_mutex_unlock(&pr->lock);
	return 0;

undo:
	mig_msg_free(&msg);
	if (ret == -ECANCELED) {
		/* a send cut in the middle of a message leaves no room for a word */
		if (!c->broken)
			mig_send_error(c, "the migration was cancelled at the source");
		state_fail(err, ret, "cancelled");
	}
	if (logging) {
		kvm_dirty_log_global(&m->vm, false);
		gm_clear_dirty(&m->mem);
	} else if (was_logging && !memfd) {
		/* a diff snapshot after this one must take every page: some went unlogged */
		for (unsigned int i = 0; i < m->mem.nr_regions; i++)
			gm_mark_dirty(&m->mem, m->mem.regions[i].gpa, m->mem.regions[i].size);
	}
	if (paused)
		ops->resume(ops->ctx);
	pthread_mutex_lock(&pr->lock);
	pr->phase = ret == -ECANCELED ? MIGRATION_CANCELLED : MIGRATION_FAILED;
	pr->bytes_sent = c->sent;
	snprintf(pr->error, sizeof(pr->error), "%s", err->msg);
	pthread_mutex_unlock(&pr->lock);
	return ret;
}

/* ---- destination ---- */

/* This host's processor vendor (CPUID leaf 0 as KVM gives it). */
static int host_vendor(const char *kvm_path, char vendor[13], struct state_err *err)
{
	struct kvm_sys sys;
	struct kvm_cpuid2 *cpuid = NULL;
	unsigned int n = 128;
	int ret;

	ret = kvm_sys_open(&sys, kvm_path);
	if (ret < 0)
		return state_fail(err, ret, "opening KVM: %s", strerror(-ret));
	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid) {
			ret = -ENOMEM;
			break;
		}
		cpuid->nent = n;
		ret = ioctl(sys.fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ? -errno : 0;
		if (ret != -E2BIG)
			break;
		free(cpuid);
		cpuid = NULL;
		n *= 2;
	}
	kvm_sys_close(&sys);
	if (!ret)
		vendor_of(cpuid->entries, cpuid->nent, vendor);
	free(cpuid);
	if (ret)
		return state_fail(err, ret, "reading what KVM gives guests: %s", strerror(-ret));
	return 0;
}

/* The hello: a stream this petrel reads, for a processor of this host's vendor. */
static int check_hello(struct mig_conn *c, struct mig_msg *msg, struct mig_hello *h,
		       const char *kvm_path, struct state_err *err)
{
	char vendor[13];
	int ret;

	ret = mig_recv(c, msg, err);
	if (!ret && msg->type != MIG_HELLO)
		ret = state_fail(err, -EPROTO,
				 "not a petrel migration stream (it starts with a %s message)",
				 mig_type_name(msg->type));
	if (!ret)
		ret = mig_hello_decode(msg->buf, msg->len, h, err);
	if (!ret)
		ret = host_vendor(kvm_path, vendor, err);
	if (!ret)
		ret = mig_hello_check(h, MIG_VERSION, vendor, err);
	return ret;
}

/* The guest's features against what this machine's vCPU was given, before any memory moves. */
static int check_cpuid(struct machine *m, const struct mig_hello *h, struct state_err *err)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	int ret;

	if (!cpuid)
		return state_fail(err, -ENOMEM, "out of memory");
	cpuid->nent = 256;
	ret = kvm_vcpu_ioctl(&m->vcpus[0].kvm, KVM_GET_CPUID2, cpuid);
	if (ret < 0)
		state_fail(err, ret, "reading vCPU 0's CPUID: %s", strerror(-ret));
	else
		ret = mig_hello_check_cpuid(h, cpuid->entries, cpuid->nent, err);
	free(cpuid);
	return ret;
}

static int put_state(struct machine *m, const uint8_t *buf, size_t len, struct state_err *err)
{
	struct state_reader *r = calloc(1, sizeof(*r));
	struct vm_state_source src;
	struct vm_state_err verr = {""};
	char why[sizeof(err->msg)];
	int ret;

	if (!r)
		return state_fail(err, -ENOMEM, "out of memory");
	snapshot_state_source(r, &src);
	ret = state_reader_parse(r, buf, len, err);
	if (ret) {
		snprintf(why, sizeof(why), "%s", err->msg);
		state_fail(err, ret, "the received state: %s", why);
		goto out;
	}
	ret = machine_restore_state(m, &src, &verr);
	if (ret) {
		state_fail(err, ret, "%s", verr.msg[0] ? verr.msg : strerror(-ret));
		goto out;
	}
	ret = state_reader_finish(r, err);
out:
	free(r);
	return ret;
}

static int put_pages(struct machine *m, const struct mig_msg *msg, struct state_err *err)
{
	struct mig_mem mem;
	uint8_t *hva;
	int ret;

	ret = mig_mem_decode(msg->buf, msg->len, &mem, err);
	if (ret)
		return ret;
	hva = gm_ptr(&m->mem, mem.gpa, (uint64_t)mem.pages * GM_PAGE_SIZE);
	if (!hva)
		return state_fail(err, -EPROTO,
				  "memory record of %u pages at 0x%llx is not guest RAM", mem.pages,
				  (unsigned long long)mem.gpa);
	if (!mem.zero) {
		memcpy(hva, mem.data, (size_t)mem.pages * GM_PAGE_SIZE);
		return 0;
	}
	/* a zero page the destination never wrote stays untouched */
	for (uint32_t i = 0; i < mem.pages; i++)
		if (!page_is_zero(hva + (uint64_t)i * GM_PAGE_SIZE))
			memset(hva + (uint64_t)i * GM_PAGE_SIZE, 0, GM_PAGE_SIZE);
	return 0;
}

/* A MEMFD message: its one fd a memfd that holds the layout it describes; the fd in *fd. */
static int take_memfd(struct mig_msg *msg, struct mig_memfd *f, int *fd, struct state_err *err)
{
	struct stat st;
	int ret;

	if (msg->nr_fds != 1)
		return state_fail(err, -EPROTO, "a memfd message with %u file descriptors",
				  msg->nr_fds);
	ret = mig_memfd_decode(msg->buf, msg->len, f, err);
	if (ret)
		return ret;
	if (fstat(msg->fds[0], &st) < 0 || !S_ISREG(st.st_mode) ||
	    fcntl(msg->fds[0], F_GET_SEALS) < 0)
		return state_fail(err, -EPROTO, "the guest memory handed over is not a memfd");
	if ((uint64_t)st.st_size != f->size)
		return state_fail(err, -EPROTO,
				  "the guest memory handed over holds %llu bytes, not %llu",
				  (unsigned long long)st.st_size, (unsigned long long)f->size);
	*fd = msg->fds[0];
	msg->fds[0] = -1;
	msg->nr_fds = 0;
	return 0;
}

/* The machine built on the memfd lays its RAM out as the source's. */
static int check_layout(const struct machine *m, const struct mig_memfd *f, struct state_err *err)
{
	const struct guest_mem *gm = &m->mem;

	if (gm->nr_regions != f->nr)
		return state_fail(err, -EPROTO,
				  "the source's guest RAM has %u regions, this one %u", f->nr,
				  gm->nr_regions);
	for (unsigned int i = 0; i < f->nr; i++)
		if (gm->regions[i].gpa != f->regions[i].gpa ||
		    gm->regions[i].size != f->regions[i].size ||
		    gm->regions[i].fd_offset != f->regions[i].offset)
			return state_fail(err, -EPROTO,
					  "guest RAM region %u differs from the source's (0x%llx "
					  "bytes at 0x%llx)",
					  i, (unsigned long long)f->regions[i].size,
					  (unsigned long long)f->regions[i].gpa);
	return 0;
}

/* RELEASED: the disks are free; over a local connection, the TAPs' fds come with it. */
static int take_released(struct machine *m, struct mig_msg *msg, struct state_err *err)
{
	struct mig_released r;
	char why[128];
	int ret;

	ret = mig_released_decode(msg->buf, msg->len, &r, err);
	if (ret)
		return ret;
	if (r.nr != msg->nr_fds)
		return state_fail(err, -EPROTO, "a released message naming %u TAPs with %u fds",
				  r.nr, msg->nr_fds);
	ret = vm_devices_take_host_fds(m, msg->fds, r.nic, r.nr, why, sizeof(why));
	if (ret)
		return state_fail(err, ret, "taking over %s", why);
	return 0;
}

int migration_receive(struct mig_conn *c, const struct migration_builder *b, struct machine **out,
		      struct state_err *err)
{
	struct mig_hello *h = calloc(1, sizeof(*h));
	struct mig_memfd *mf = calloc(1, sizeof(*mf));
	struct mig_msg msg = {0};
	struct machine *m = NULL;
	uint8_t *state = NULL;
	size_t state_len = 0;
	int ret, mem_fd = -1;

	*out = NULL;
	ret = h && mf ? check_hello(c, &msg, h, b->kvm_path, err)
		      : state_fail(err, -ENOMEM, "out of memory");
	if (ret)
		goto fail;
	ret = mig_recv(c, &msg, err);
	/* on one host the guest's RAM may come as a memfd, mapped here as it is there */
	if (!ret && msg.type == MIG_MEMFD) {
		ret = take_memfd(&msg, mf, &mem_fd, err);
		if (!ret)
			ret = mig_recv(c, &msg, err);
	}
	if (!ret && msg.type != MIG_SPEC)
		ret = state_fail(err, -EPROTO, "a %s message where the specification belongs",
				 mig_type_name(msg.type));
	if (ret)
		goto fail;
	m = b->build(b->ctx, msg.buf, msg.len, mem_fd, err);
	if (!m) {
		ret = -EINVAL;
		goto fail;
	}
	ret = check_cpuid(m, h, err);
	if (!ret && mem_fd >= 0)
		ret = check_layout(m, mf, err);
	if (ret)
		goto fail;
	ret = mig_send(c, MIG_READY, NULL, 0, NULL, 0);
	if (ret) {
		send_fail(err, ret, "answering the hello");
		goto fail;
	}
	for (;;) {
		ret = mig_recv(c, &msg, err);
		if (ret)
			goto fail;
		if (msg.type == MIG_END)
			break;
		switch (msg.type) {
		case MIG_MEM:
			/* the memfd is the source's RAM itself: a page written here would be too */
			ret = mem_fd >= 0
				  ? state_fail(err, -EPROTO, "a memory record after the memfd")
				  : put_pages(m, &msg, err);
			break;
		case MIG_STATE:
			if (state) {
				ret = state_fail(err, -EPROTO, "a second state message");
				break;
			}
			/* the message's buffer becomes the state's */
			state = msg.buf;
			state_len = msg.len;
			msg.buf = NULL;
			msg.len = msg.cap = 0;
			break;
		case MIG_ERROR:
			ret =
			    state_fail(err, -ECANCELED, "the source gave up: %s", (char *)msg.buf);
			break;
		default:
			ret = state_fail(err, -EPROTO, "an unexpected %s message",
					 mig_type_name(msg.type));
		}
		if (ret)
			goto fail;
	}
	if (!state) {
		ret = state_fail(err, -EPROTO, "the stream ended without the machine's state");
		goto fail;
	}
	ret = put_state(m, state, state_len, err);
	if (ret)
		goto fail;
	/* everything is in: the source lets go of the disks and TAPs, this one takes them */
	ret = mig_send(c, MIG_LOADED, NULL, 0, NULL, 0);
	if (ret) {
		send_fail(err, ret, "saying the state is loaded");
		goto fail;
	}
	ret = mig_recv(c, &msg, err);
	if (!ret && msg.type == MIG_ERROR)
		ret = state_fail(err, -ECANCELED, "the source gave up: %s", (char *)msg.buf);
	else if (!ret && msg.type != MIG_RELEASED)
		ret = state_fail(err, -EPROTO, "a %s message where the handover belongs",
				 mig_type_name(msg.type));
	if (!ret)
		ret = take_released(m, &msg, err);
	if (ret)
		goto fail;
	/* the point of no return: the source stops for good when this arrives */
	ret = mig_send(c, MIG_ACK, NULL, 0, NULL, 0);
	if (ret) {
		send_fail(err, ret, "sending the ack");
		goto fail;
	}
	free(state);
	free(h);
	free(mf);
	if (mem_fd >= 0)
		close(mem_fd);
	mig_msg_free(&msg);
	*out = m;
	return 0;
fail:
	/* what this end took is let go before the source hears, so it can take it back */
	if (m)
		b->discard(b->ctx, m);
	if (ret != -ECANCELED)
		mig_send_error(c, err->msg);
	free(state);
	free(h);
	free(mf);
	if (mem_fd >= 0)
		close(mem_fd);
	mig_msg_free(&msg);
	return ret;
}
