// SPDX-License-Identifier: GPL-2.0-only
/* The live migration stream: messages, their bounds and checks. */
#include "state/migration_stream.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "mem/guest_mem.h"

static int fail(struct state_err *err, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct state_err *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return ret;
}

static const char *const type_names[] = {
    [MIG_HELLO] = "hello",	 [MIG_READY] = "ready", [MIG_SPEC] = "spec",
    [MIG_MEM] = "memory",	 [MIG_STATE] = "state", [MIG_END] = "end",
    [MIG_ACK] = "ack",		 [MIG_ERROR] = "error", [MIG_LOADED] = "loaded",
    [MIG_RELEASED] = "released", [MIG_MEMFD] = "memfd",
};

const char *mig_type_name(uint32_t type)
{
	return type && type <= MIG_TYPE_MAX ? type_names[type] : "unknown";
}

/* The largest payload of a message of @type. */
static uint64_t type_max(uint32_t type)
{
	switch (type) {
	case MIG_HELLO:
		return MIG_HELLO_MAX;
	case MIG_SPEC:
		return MIG_SPEC_MAX;
	case MIG_MEM:
		return MIG_MEM_HDR_LEN + MIG_MEM_MAX_PAGES * GM_PAGE_SIZE;
	case MIG_STATE:
		return MIG_STATE_MAX;
	case MIG_ERROR:
		return MIG_ERROR_MAX;
	case MIG_MEMFD:
		return MIG_MEMFD_MAX;
	case MIG_RELEASED:
		return MIG_RELEASED_MAX;
	default:
		return 0;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

void mig_hdr_encode(uint8_t out[MIG_HDR_LEN], uint32_t type, uint64_t len)
{
	put32(out, type);
	put32(out + 4, 0);
	put64(out + 8, len);
}

int mig_hdr_parse(const uint8_t in[MIG_HDR_LEN], uint32_t *type, uint64_t *len,
		  struct state_err *err)
{
	uint32_t t = get32(in), flags = get32(in + 4);
	uint64_t l = get64(in + 8);

	if (!t || t > MIG_TYPE_MAX)
		return fail(err, -EPROTO, "not a petrel migration stream (message type %u)", t);
	if (flags)
		return fail(err, -EPROTO, "%s message with flags 0x%x unknown to this petrel",
			    mig_type_name(t), flags);
	if (l > type_max(t))
		return fail(err, -EPROTO, "%s message of %llu bytes (at most %llu)",
			    mig_type_name(t), (unsigned long long)l,
			    (unsigned long long)type_max(t));
	*type = t;
	*len = l;
	return 0;
}

/* Printable ASCII of at most @max bytes of @src into @dst (NUL-terminated). */
static void copy_text(char *dst, const uint8_t *src, size_t max)
{
	size_t i;

	for (i = 0; i < max && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] <= 0x7e ? (char)src[i] : '?';
	dst[i] = 0;
}

size_t mig_hello_encode(uint8_t *out, const struct mig_hello *h)
{
	unsigned int n = h->nr_cpuid < MIG_CPUID_MAX ? h->nr_cpuid : MIG_CPUID_MAX;
	uint8_t *p = out;

	memset(out, 0, MIG_HELLO_FIXED);
	memcpy(p, MIG_MAGIC, 8);
	put32(p + 8, h->version);
	put32(p + 12, n);
	memcpy(p + 16, h->petrel, strnlen(h->petrel, 32));
	memcpy(p + 48, h->vendor, strnlen(h->vendor, 12));
	p += MIG_HELLO_FIXED;
	for (unsigned int i = 0; i < n; i++, p += 24) {
		const struct kvm_cpuid_entry2 *e = &h->cpuid[i];

		put32(p, e->function);
		put32(p + 4, e->index);
		put32(p + 8, e->eax);
		put32(p + 12, e->ebx);
		put32(p + 16, e->ecx);
		put32(p + 20, e->edx);
	}
	return (size_t)(p - out);
}

int mig_hello_decode(const void *buf, size_t len, struct mig_hello *h, struct state_err *err)
{
	const uint8_t *p = buf;
	uint32_t n;

	memset(h, 0, sizeof(*h));
	if (len < 8 || memcmp(p, MIG_MAGIC, 8))
		return fail(err, -EPROTO, "not a petrel migration stream (no %s hello)", MIG_MAGIC);
	if (len < MIG_HELLO_FIXED)
		return fail(err, -EPROTO, "truncated hello (%zu bytes)", len);
	h->version = get32(p + 8);
	copy_text(h->petrel, p + 16, 32);
	/* an older or newer stream: say so before reading what may have changed */
	if (h->version != MIG_VERSION)
		return 0;
	n = get32(p + 12);
	if (n > MIG_CPUID_MAX || len != MIG_HELLO_FIXED + (size_t)n * 24)
		return fail(err, -EPROTO, "malformed hello (%u CPUID leaves in %zu bytes)", n, len);
	copy_text(h->vendor, p + 48, 12);
	h->nr_cpuid = n;
	p += MIG_HELLO_FIXED;
	for (unsigned int i = 0; i < n; i++, p += 24) {
		struct kvm_cpuid_entry2 *e = &h->cpuid[i];

		e->function = get32(p);
		e->index = get32(p + 4);
		e->eax = get32(p + 8);
		e->ebx = get32(p + 12);
		e->ecx = get32(p + 16);
		e->edx = get32(p + 20);
	}
	return 0;
}

int mig_hello_check(const struct mig_hello *h, uint32_t version, const char *vendor,
		    struct state_err *err)
{
	if (h->version != version)
		return fail(err, -EPROTO,
			    "the source (petrel %s) sends migration stream version %u; this "
			    "petrel (%s) reads version %u",
			    h->petrel, h->version, PETREL_VERSION, version);
	if (strcmp(h->vendor, vendor))
		return fail(err, -EINVAL,
			    "the source's guest runs on a %s processor, this host's is %s",
			    *h->vendor ? h->vendor : "(unnamed)", vendor);
	return 0;
}

int mig_hello_check_cpuid(const struct mig_hello *h, struct kvm_cpuid_entry2 *host,
			  unsigned int nhost, struct state_err *err)
{
	char what[64];

	if (!x86_cpuid_runs_on(h->cpuid, h->nr_cpuid, host, nhost, what, sizeof(what)))
		return fail(err, -EINVAL,
			    "this host's processor lacks a feature the source's guest was given "
			    "(CPUID %s)",
			    what);
	return 0;
}

void mig_mem_hdr_encode(uint8_t out[MIG_MEM_HDR_LEN], uint64_t gpa, uint32_t pages, bool zero)
{
	put64(out, gpa);
	put32(out + 8, pages);
	put32(out + 12, zero ? MIG_MEM_ZERO : 0);
}

int mig_mem_decode(const void *buf, size_t len, struct mig_mem *m, struct state_err *err)
{
	const uint8_t *p = buf;
	uint32_t flags;

	if (len < MIG_MEM_HDR_LEN)
		return fail(err, -EPROTO, "truncated memory record (%zu bytes)", len);
	m->gpa = get64(p);
	m->pages = get32(p + 8);
	flags = get32(p + 12);
	if (flags & ~MIG_MEM_ZERO)
		return fail(err, -EPROTO, "memory record with flags 0x%x unknown to this petrel",
			    flags);
	m->zero = flags & MIG_MEM_ZERO;
	if (!m->pages || m->pages > MIG_MEM_MAX_PAGES || (m->gpa & (GM_PAGE_SIZE - 1)) ||
	    m->gpa + (uint64_t)m->pages * GM_PAGE_SIZE < m->gpa)
		return fail(err, -EPROTO, "malformed memory record (%u pages at 0x%llx)", m->pages,
			    (unsigned long long)m->gpa);
	if (len != MIG_MEM_HDR_LEN + (m->zero ? 0 : (size_t)m->pages * GM_PAGE_SIZE))
		return fail(err, -EPROTO, "memory record of %u pages holds %zu bytes", m->pages,
			    len - MIG_MEM_HDR_LEN);
	m->data = m->zero ? NULL : p + MIG_MEM_HDR_LEN;
	return 0;
}

size_t mig_memfd_encode(uint8_t *out, const struct mig_memfd *f)
{
	unsigned int n = f->nr < MIG_MEMFD_REGIONS ? f->nr : MIG_MEMFD_REGIONS;
	uint8_t *p = out;

	put64(p, f->size);
	put32(p + 8, n);
	put32(p + 12, 0);
	p += 16;
	for (unsigned int i = 0; i < n; i++, p += 24) {
		put64(p, f->regions[i].gpa);
		put64(p + 8, f->regions[i].size);
		put64(p + 16, f->regions[i].offset);
	}
	return (size_t)(p - out);
}

int mig_memfd_decode(const void *buf, size_t len, struct mig_memfd *f, struct state_err *err)
{
	const uint8_t *p = buf;
	uint32_t n;

	memset(f, 0, sizeof(*f));
	if (len < 16)
		return fail(err, -EPROTO, "truncated memfd message (%zu bytes)", len);
	f->size = get64(p);
	n = get32(p + 8);
	if (get32(p + 12) || !n || n > MIG_MEMFD_REGIONS || len != 16 + (size_t)n * 24)
		return fail(err, -EPROTO, "malformed memfd message (%u regions in %zu bytes)", n,
			    len);
	p += 16;
	for (unsigned int i = 0; i < n; i++, p += 24) {
		uint64_t gpa = get64(p), size = get64(p + 8), off = get64(p + 16);

		if (!size || (gpa | size | off) & (GM_PAGE_SIZE - 1) || off + size < off ||
		    off + size > f->size || gpa + size < gpa)
			return fail(err, -EPROTO,
				    "memfd region %u (0x%llx bytes at offset 0x%llx) is not in a "
				    "memfd of 0x%llx bytes",
				    i, (unsigned long long)size, (unsigned long long)off,
				    (unsigned long long)f->size);
		for (unsigned int j = 0; j < i; j++)
			if (off < f->regions[j].offset + f->regions[j].size &&
			    f->regions[j].offset < off + size)
				return fail(err, -EPROTO, "memfd regions %u and %u overlap", j, i);
		f->regions[i].gpa = gpa;
		f->regions[i].size = size;
		f->regions[i].offset = off;
	}
	f->nr = n;
	return 0;
}

size_t mig_released_encode(uint8_t *out, const struct mig_released *r)
{
	unsigned int n = r->nr < MIG_FDS_MAX ? r->nr : MIG_FDS_MAX;

	if (!n)
		return 0;
	put32(out, n);
	put32(out + 4, 0);
	for (unsigned int i = 0; i < n; i++)
		put32(out + 8 + 4 * i, r->nic[i]);
	return 8 + 4 * (size_t)n;
}

int mig_released_decode(const void *buf, size_t len, struct mig_released *r, struct state_err *err)
{
	const uint8_t *p = buf;
	uint32_t n;

	memset(r, 0, sizeof(*r));
	if (!len)
		return 0;
	if (len < 8)
		return fail(err, -EPROTO, "truncated released message (%zu bytes)", len);
	n = get32(p);
	if (get32(p + 4) || !n || n > MIG_FDS_MAX || len != 8 + (size_t)n * 4)
		return fail(err, -EPROTO, "malformed released message (%u TAPs in %zu bytes)", n,
			    len);
	for (unsigned int i = 0; i < n; i++) {
		r->nic[i] = get32(p + 8 + 4 * i);
		for (unsigned int j = 0; j < i; j++)
			if (r->nic[j] == r->nic[i])
				return fail(err, -EPROTO, "the TAP of NIC %u handed over twice",
					    r->nic[i]);
	}
	r->nr = n;
	return 0;
}

/* ---- on a socket ---- */

/* Room to send on @c, or its cancel fd readable (-ECANCELED). */
static int wait_writable(struct mig_conn *c)
{
	struct pollfd p[2] = {{.fd = c->fd, .events = POLLOUT},
			      {.fd = c->cancel_fd, .events = POLLIN}};
	int n;

	do
		n = poll(p, 2, MIG_SEND_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (p[1].revents)
		return -ECANCELED;
	return n ? 0 : -ETIMEDOUT;
}

/* @iov on @c, the first sendmsg with @cmsg (fds) when given. */
static int send_iov(struct mig_conn *c, struct iovec *iov, int n, void *cmsg, size_t cmsg_len)
{
	int flags = MSG_NOSIGNAL | (c->cancellable ? MSG_DONTWAIT : 0);

	while (n) {
		struct msghdr mh = {.msg_iov = iov,
				    .msg_iovlen = (size_t)n,
				    .msg_control = cmsg,
				    .msg_controllen = cmsg_len};
		ssize_t w = sendmsg(c->fd, &mh, flags);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && c->cancellable) {
			int ret = wait_writable(c);

			if (ret)
				return ret;
			continue;
		}
		if (w <= 0)
			return w < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EIO;
		/* the fds went with the first bytes */
		cmsg = NULL;
		cmsg_len = 0;
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int mig_send(struct mig_conn *c, uint32_t type, const void *a, size_t alen, const void *b,
	     size_t blen)
{
	uint8_t h[MIG_HDR_LEN];
	struct iovec iov[3];
	int n = 0, ret;

	mig_hdr_encode(h, type, alen + blen);
	iov[n++] = (struct iovec){.iov_base = h, .iov_len = sizeof(h)};
	if (alen)
		iov[n++] = (struct iovec){.iov_base = (void *)a, .iov_len = alen};
	if (blen)
		iov[n++] = (struct iovec){.iov_base = (void *)b, .iov_len = blen};
	ret = send_iov(c, iov, n, NULL, 0);
	if (!ret)
		c->sent += sizeof(h) + alen + blen;
	else
		c->broken = true;
	return ret;
}

int mig_send_fds(struct mig_conn *c, uint32_t type, const void *a, size_t alen, const int *fds,
		 unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MIG_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct cmsghdr *cm = (struct cmsghdr *)u.buf;
	uint8_t h[MIG_HDR_LEN];
	struct iovec iov[2];
	int n = 0, ret;

	if (!nfds)
		return mig_send(c, type, a, alen, NULL, 0);
	if (!c->local || nfds > MIG_FDS_MAX)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	mig_hdr_encode(h, type, alen);
	iov[n++] = (struct iovec){.iov_base = h, .iov_len = sizeof(h)};
	if (alen)
		iov[n++] = (struct iovec){.iov_base = (void *)a, .iov_len = alen};
	ret = send_iov(c, iov, n, u.buf, CMSG_SPACE(sizeof(int) * nfds));
	if (!ret)
		c->sent += sizeof(h) + alen;
	else
		c->broken = true;
	return ret;
}

void mig_msg_close_fds(struct mig_msg *msg)
{
	for (unsigned int i = 0; i < msg->nr_fds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nr_fds = 0;
}

/* The fds of a received SCM_RIGHTS, kept in @msg (beyond its room: closed, -EPROTO). */
static int take_fds(struct msghdr *mh, struct mig_msg *msg)
{
	int ret = mh->msg_flags & MSG_CTRUNC ? -EPROTO : 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int fd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (msg->nr_fds < MIG_FDS_MAX) {
				msg->fds[msg->nr_fds++] = fd;
			} else {
				close(fd);
				ret = -EPROTO;
			}
		}
	}
	return ret;
}

/*
 * Exactly @len bytes, the fds that come with them into @msg: 0,
 * -ECONNRESET at the end of the stream, -EPROTO for fds beyond the bound,
 * or -errno.
 */
static int recv_all(int fd, void *buf, size_t len, struct mig_msg *msg)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MIG_FDS_MAX)];
		struct cmsghdr align;
	} u;
	uint8_t *p = buf;

	while (len) {
		struct iovec iov = {.iov_base = p, .iov_len = len};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = u.buf,
				    .msg_controllen = sizeof(u)};
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && mh.msg_controllen && take_fds(&mh, msg) < 0)
			return -EPROTO;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_fail(struct state_err *err, int ret, const char *what)
{
	if (ret == -EPROTO)
		return fail(err, ret, "more file descriptors than a message carries with %s", what);
	if (ret == -ECONNRESET)
		return fail(err, ret, "the connection closed in the middle of %s", what);
	if (ret == -ETIMEDOUT)
		return fail(err, ret, "nothing came for too long while reading %s", what);
	return fail(err, ret, "reading %s: %s", what, strerror(-ret));
}

int mig_recv(struct mig_conn *c, struct mig_msg *msg, struct state_err *err)
{
	uint8_t h[MIG_HDR_LEN];
	uint64_t len;
	int ret;

	/* what the last message brought and nobody took */
	mig_msg_close_fds(msg);
	ret = recv_all(c->fd, h, sizeof(h), msg);
	if (ret) {
		mig_msg_close_fds(msg);
		return recv_fail(err, ret, "the stream (a message header)");
	}
	ret = mig_hdr_parse(h, &msg->type, &len, err);
	if (ret) {
		mig_msg_close_fds(msg);
		return ret;
	}
	if (len + 1 > msg->cap) {
		uint8_t *nb = realloc(msg->buf, (size_t)len + 1);

		if (!nb) {
			mig_msg_close_fds(msg);
			return fail(err, -ENOMEM, "no memory for a %llu-byte message",
				    (unsigned long long)len);
		}
		msg->buf = nb;
		msg->cap = (size_t)len + 1;
	}
	ret = recv_all(c->fd, msg->buf, (size_t)len, msg);
	if (ret) {
		char what[48];

		mig_msg_close_fds(msg);
		snprintf(what, sizeof(what), "a %s message", mig_type_name(msg->type));
		return recv_fail(err, ret, what);
	}
	/* fds come only where the stream has room for them */
	if (msg->nr_fds && ((msg->type != MIG_MEMFD && msg->type != MIG_RELEASED) || !c->local)) {
		unsigned int n = msg->nr_fds;

		mig_msg_close_fds(msg);
		return fail(err, -EPROTO, "a %s message came with %u file descriptors",
			    mig_type_name(msg->type), n);
	}
	msg->buf[len] = 0;
	msg->len = (size_t)len;
	c->received += sizeof(h) + len;
	if (msg->type == MIG_ERROR)
		for (size_t i = 0; i < msg->len; i++)
			if (msg->buf[i] < 0x20 || msg->buf[i] > 0x7e)
				msg->buf[i] = '?';
	return 0;
}

void mig_msg_free(struct mig_msg *msg)
{
	mig_msg_close_fds(msg);
	free(msg->buf);
	msg->buf = NULL;
	msg->len = msg->cap = 0;
}

void mig_send_error(struct mig_conn *c, const char *why)
{
	size_t len = strlen(why);

	mig_send(c, MIG_ERROR, why, len < MIG_ERROR_MAX ? len : MIG_ERROR_MAX, NULL, 0);
}
