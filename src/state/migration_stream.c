// SPDX-License-Identifier: GPL-2.0-only
/* The live migration stream: messages, their bounds and checks. */
#include "state/migration_stream.h"

#include <endian.h>
#include <errno.h>
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
    [MIG_RELEASED] = "released",
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

/* ---- on a socket ---- */

static int send_iov(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t w = sendmsg(fd, &(struct msghdr){.msg_iov = iov, .msg_iovlen = (size_t)n},
				    MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EIO;
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
	ret = send_iov(c->fd, iov, n);
	if (!ret)
		c->sent += sizeof(h) + alen + blen;
	return ret;
}

/* Exactly @len bytes: 0, -ECONNRESET at the end of the stream, or -errno. */
static int recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
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

	ret = recv_all(c->fd, h, sizeof(h));
	if (ret)
		return recv_fail(err, ret, "the stream (a message header)");
	ret = mig_hdr_parse(h, &msg->type, &len, err);
	if (ret)
		return ret;
	if (len + 1 > msg->cap) {
		uint8_t *nb = realloc(msg->buf, (size_t)len + 1);

		if (!nb)
			return fail(err, -ENOMEM, "no memory for a %llu-byte message",
				    (unsigned long long)len);
		msg->buf = nb;
		msg->cap = (size_t)len + 1;
	}
	ret = recv_all(c->fd, msg->buf, (size_t)len);
	if (ret) {
		char what[48];

		snprintf(what, sizeof(what), "a %s message", mig_type_name(msg->type));
		return recv_fail(err, ret, what);
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
	free(msg->buf);
	msg->buf = NULL;
	msg->len = msg->cap = 0;
}

void mig_send_error(struct mig_conn *c, const char *why)
{
	size_t len = strlen(why);

	mig_send(c, MIG_ERROR, why, len < MIG_ERROR_MAX ? len : MIG_ERROR_MAX, NULL, 0);
}
