// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hybrid vsock connections: packets from the guest, packets for it, and the
 * host's UNIX sockets, without virtqueues (see virtio_vsock_conn.h).
 *
 * A connection with something for the guest (a control packet it owes, or
 * a host socket that may have bytes the guest has credit for) sits in the
 * mux's "owed" list; vsock_mux_next_pkt takes from its head and puts a
 * connection with more to say back at the tail, so that one busy stream
 * cannot starve the others. Host sockets are watched only for what can be
 * done now: EPOLLIN while the guest has credit and nothing was read yet,
 * EPOLLOUT while guest bytes wait in the buffer; with nothing to watch the
 * socket leaves the loop (a hang-up would otherwise fire for ever).
 */
#include "virtio/virtio_vsock_conn.h"
#include "virtio/device_opts.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- headers ---- */

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_LEN], struct vsock_hdr *h)
{
	h->src_cid = get64(raw);
	h->dst_cid = get64(raw + 8);
	h->src_port = get32(raw + 16);
	h->dst_port = get32(raw + 20);
	h->len = get32(raw + 24);
	h->type = get16(raw + 28);
	h->op = get16(raw + 30);
	h->flags = get32(raw + 32);
	h->buf_alloc = get32(raw + 36);
	h->fwd_cnt = get32(raw + 40);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_LEN])
{
	put64(raw, h->src_cid);
	put64(raw + 8, h->dst_cid);
	put32(raw + 16, h->src_port);
	put32(raw + 20, h->dst_port);
	put32(raw + 24, h->len);
	put16(raw + 28, h->type);
	put16(raw + 30, h->op);
	put32(raw + 32, h->flags);
	put32(raw + 36, h->buf_alloc);
	put32(raw + 40, h->fwd_cnt);
}

enum vsock_bad vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, size_t avail)
{
	if (h->src_cid != guest_cid)
		return VSOCK_BAD_SRC_CID;
	if (h->dst_cid != VSOCK_HOST_CID)
		return VSOCK_BAD_DST_CID;
	if (h->len > avail || h->len > VSOCK_MAX_PAYLOAD)
		return VSOCK_BAD_LEN;
	return VSOCK_OK;
}

/* ---- --vsock cid=N,uds=PATH ---- */

struct parse_ctx {
	struct virtio_vsock_config_opts *o;
	bool cid, uds;
};

static int parse_item(void *opaque, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct parse_ctx *p = opaque;

	if (device_opts_is(key, klen, "cid")) {
		uint64_t v = 0;
		size_t i;

		if (p->cid || !vlen || vlen > 10)
			return -EINVAL;
		for (i = 0; i < vlen; i++) {
			if (val[i] < '0' || val[i] > '9')
				return -EINVAL;
			v = v * 10 + (uint64_t)(val[i] - '0');
		}
		if (v < VSOCK_MIN_GUEST_CID || v > VSOCK_MAX_GUEST_CID)
			return -EINVAL;
		p->o->cid = v;
		p->cid = true;
		return 0;
	}
	if (device_opts_is(key, klen, "uds")) {
		if (p->uds || !vlen || vlen > VSOCK_UDS_PATH_MAX || memchr(val, '\0', vlen))
			return -EINVAL;
		memcpy(p->o->uds, val, vlen);
		p->o->uds[vlen] = '\0';
		p->uds = true;
		return 0;
	}
	return -EINVAL;
}

int virtio_vsock_parse(const char *spec, struct virtio_vsock_config_opts *o)
{
	struct parse_ctx p = {.o = o};
	int ret;

	memset(o, 0, sizeof(*o));
	ret = device_opts_each(spec, parse_item, &p);
	if (!ret && (!p.cid || !p.uds))
		ret = -EINVAL;
	return ret;
}

/* ---- connections ---- */

uint32_t vsock_conn_peer_credit(const struct vsock_conn *c)
{
	uint32_t used = c->tx_cnt - c->peer_fwd_cnt;

	return used > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - used;
}

/* Would a read of the host socket now give the guest something? */
static bool want_read(const struct vsock_conn *c)
{
	return c->state == VSOCK_CONN_ESTABLISHED && c->fd >= 0 && !c->host_eof &&
	       !(c->peer_shutdown & VSOCK_SHUTDOWN_RCV) && vsock_conn_peer_credit(c) > 0;
}

static bool has_work(const struct vsock_conn *c)
{
	return c->owed || (c->host_readable && want_read(c));
}

static void owed_append(struct vsock_mux *mux, struct vsock_conn *c)
{
	if (c->listed)
		return;
	c->listed = true;
	c->next_owed = NULL;
	if (mux->owed_tail)
		mux->owed_tail->next_owed = c;
	else
		mux->owed_head = c;
	mux->owed_tail = c;
}

static void owed_remove(struct vsock_mux *mux, struct vsock_conn *c)
{
	struct vsock_conn **p, *prev = NULL;

	if (!c->listed)
		return;
	for (p = &mux->owed_head; *p; prev = *p, p = &(*p)->next_owed) {
		if (*p == c) {
			*p = c->next_owed;
			if (mux->owed_tail == c)
				mux->owed_tail = prev;
			break;
		}
	}
	c->listed = false;
	c->next_owed = NULL;
}

/* Watch the host socket for what can be done now; nothing: out of the loop. */
static void update_watch(struct vsock_mux *mux, struct vsock_conn *c)
{
	uint32_t want = 0;

	if (c->fd < 0)
		return;
	if (c->state == VSOCK_CONN_HOST_HELLO)
		want = EPOLLIN;
	else if (c->state == VSOCK_CONN_REQUESTED)
		want = EPOLLRDHUP; /* the host gives up waiting for the guest */
	else if (c->state == VSOCK_CONN_ESTABLISHED) {
		if (!c->host_readable && want_read(c))
			want |= EPOLLIN;
		if (c->buf_len)
			want |= EPOLLOUT;
	}
	if (want == c->watched)
		return;
	if (!want) {
		mux->ops.unwatch(mux->ops.ctx, c->fd);
	} else if (mux->ops.watch(mux->ops.ctx, c->fd, want, c) < 0) {
		/* the loop cannot take it: the connection cannot work */
		want = 0;
		if (c->watched)
			mux->ops.unwatch(mux->ops.ctx, c->fd);
		c->watched = 0;
		close(c->fd);
		c->fd = -1;
		c->owed = VSOCK_OWE_RST;
		owed_append(mux, c);
		return;
	}
	c->watched = want;
}

/* After any change: the loop and the owed list follow the connection's state. */
static void refresh(struct vsock_mux *mux, struct vsock_conn *c)
{
	update_watch(mux, c);
	if (has_work(c))
		owed_append(mux, c);
}

static void close_host(struct vsock_mux *mux, struct vsock_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->watched)
		mux->ops.unwatch(mux->ops.ctx, c->fd);
	c->watched = 0;
	close(c->fd);
	c->fd = -1;
}

static void conn_free(struct vsock_mux *mux, struct vsock_conn *c)
{
	unsigned int i;

	close_host(mux, c);
	owed_remove(mux, c);
	for (i = 0; i < mux->nr_conns; i++) {
		if (mux->conns[i] == c) {
			mux->conns[i] = mux->conns[--mux->nr_conns];
			mux->conns[mux->nr_conns] = NULL;
			break;
		}
	}
	free(c->buf);
	free(c);
}

/* The connection ends: the host socket closes now, the guest gets an RST. */
static void conn_abort(struct vsock_mux *mux, struct vsock_conn *c)
{
	close_host(mux, c);
	c->owed = VSOCK_OWE_RST;
	owed_append(mux, c);
}

static struct vsock_conn *conn_new(struct vsock_mux *mux, int fd, enum vsock_conn_state state)
{
	struct vsock_conn *c;

	if (mux->nr_conns >= VSOCK_MAX_CONNS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->mux = mux;
	c->fd = fd;
	c->state = state;
	mux->conns[mux->nr_conns++] = c;
	return c;
}

static struct vsock_conn *find_conn(struct vsock_mux *mux, uint32_t host_port, uint32_t guest_port)
{
	unsigned int i;

	for (i = 0; i < mux->nr_conns; i++) {
		struct vsock_conn *c = mux->conns[i];

		if (c->state != VSOCK_CONN_HOST_HELLO && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

/* An RST answering @h, which has no connection. */
static void queue_rst(struct vsock_mux *mux, const struct vsock_hdr *h)
{
	struct vsock_hdr *r;

	if (mux->rst_count == VSOCK_RST_QUEUE) {
		mux->stats.rst_dropped++;
		return;
	}
	r = &mux->rst[(mux->rst_head + mux->rst_count++) % VSOCK_RST_QUEUE];
	*r = (struct vsock_hdr){
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = mux->guest_cid,
	    .src_port = h->dst_port,
	    .dst_port = h->src_port,
	    .type = VSOCK_TYPE_STREAM,
	    .op = VSOCK_OP_RST,
	};
}

/* Guest bytes in the buffer go to the host socket as far as it takes them. */
static void flush_to_host(struct vsock_mux *mux, struct vsock_conn *c)
{
	while (c->buf_len && c->fd >= 0) {
		uint32_t first = VSOCK_BUF_ALLOC - c->buf_head;
		struct iovec iov[2];
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 1};
		ssize_t n;

		if (first > c->buf_len)
			first = c->buf_len;
		iov[0] = (struct iovec){c->buf + c->buf_head, first};
		if (first < c->buf_len) {
			iov[1] = (struct iovec){c->buf, c->buf_len - first};
			msg.msg_iovlen = 2;
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* the host side closed (mid-stream) or broke: the guest hears RST */
			conn_abort(mux, c);
			return;
		}
		c->buf_head = (c->buf_head + (uint32_t)n) % VSOCK_BUF_ALLOC;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	/* the guest learns of the room made once it is worth a packet */
	if (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_BUF_ALLOC / 4)
		c->owed |= VSOCK_OWE_CREDIT;
}

/*
 * Once the guest sends no more and its bytes are all out, the host reads
 * the end of the stream. Once the guest receives no more either (it
 * closed), the host socket closes and the guest gets the RST it waits for.
 * A host that closed only ends its own direction (SHUTDOWN to the guest):
 * the guest closes in its own time, and may still send until then.
 */
static void check_done(struct vsock_mux *mux, struct vsock_conn *c)
{
	if (c->state != VSOCK_CONN_ESTABLISHED || c->fd < 0 || c->buf_len)
		return;
	if (!(c->peer_shutdown & VSOCK_SHUTDOWN_SEND))
		return;
	if (c->peer_shutdown & VSOCK_SHUTDOWN_RCV) {
		conn_abort(mux, c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
}

/* The guest connects to host port dst_port: UDS_dst_port, at once or never. */
static void guest_connect(struct vsock_mux *mux, const struct vsock_hdr *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vsock_conn *c;
	int fd;

	if (mux->nr_conns >= VSOCK_MAX_CONNS)
		goto refuse;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", mux->uds, h->dst_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto refuse;
	/* a UNIX socket connects at once, or says why not (a full backlog: EAGAIN) */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto refuse_close;
	c = conn_new(mux, fd, VSOCK_CONN_ESTABLISHED);
	if (!c)
		goto refuse_close;
	c->host_port = h->dst_port;
	c->guest_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->owed = VSOCK_OWE_RESPONSE;
	mux->stats.conns_opened++;
	refresh(mux, c);
	return;
refuse_close:
	close(fd);
refuse:
	mux->stats.conns_refused++;
	queue_rst(mux, h);
}

/* RW: the payload goes into the buffer, then as far as it can to the host. */
static void guest_data(struct vsock_mux *mux, struct vsock_conn *c, const struct vsock_hdr *h,
		       const struct iovec *iov, unsigned int niov)
{
	uint32_t left = h->len, tail;
	unsigned int i;

	if (c->state != VSOCK_CONN_ESTABLISHED || (c->peer_shutdown & VSOCK_SHUTDOWN_SEND)) {
		conn_abort(mux, c);
		return;
	}
	if (!left)
		return;
	/* more than the credit we gave: the guest broke the protocol */
	if (left > VSOCK_BUF_ALLOC - c->buf_len) {
		conn_abort(mux, c);
		return;
	}
	if (!c->buf && !(c->buf = malloc(VSOCK_BUF_ALLOC))) {
		conn_abort(mux, c);
		return;
	}
	tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
	for (i = 0; i < niov && left; i++) {
		const uint8_t *src = iov[i].iov_base;
		uint32_t seg = iov[i].iov_len < left ? (uint32_t)iov[i].iov_len : left;

		while (seg) {
			uint32_t n = VSOCK_BUF_ALLOC - tail < seg ? VSOCK_BUF_ALLOC - tail : seg;

			memcpy(c->buf + tail, src, n);
			tail = (tail + n) % VSOCK_BUF_ALLOC;
			src += n;
			seg -= n;
			left -= n;
			c->buf_len += n;
		}
	}
	mux->stats.bytes_from_guest += h->len - left;
	flush_to_host(mux, c);
}

static void guest_response(struct vsock_mux *mux, struct vsock_conn *c)
{
	char ok[24];
	int len;
	ssize_t n;

	if (c->state != VSOCK_CONN_REQUESTED) {
		conn_abort(mux, c);
		return;
	}
	len = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
	/* the socket's send buffer is empty: a line this short goes whole, or the host is gone */
	n = send(c->fd, ok, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n != len) {
		conn_abort(mux, c);
		return;
	}
	c->state = VSOCK_CONN_ESTABLISHED;
	mux->stats.conns_opened++;
}

void vsock_mux_guest_pkt(struct vsock_mux *mux, const struct vsock_hdr *h, const struct iovec *iov,
			 unsigned int niov, size_t avail)
{
	struct vsock_conn *c;

	if (vsock_hdr_check(h, mux->guest_cid, avail) != VSOCK_OK) {
		mux->stats.bad_packets++;
		return;
	}
	c = find_conn(mux, h->dst_port, h->src_port);
	if (h->type != VSOCK_TYPE_STREAM) {
		/* only streams here: whatever it is, it ends */
		if (c)
			conn_abort(mux, c);
		else if (h->op != VSOCK_OP_RST)
			queue_rst(mux, h);
		return;
	}
	if (!c) {
		if (h->op == VSOCK_OP_REQUEST)
			guest_connect(mux, h);
		else if (h->op != VSOCK_OP_RST)
			queue_rst(mux, h);
		return;
	}
	if (h->op == VSOCK_OP_RST) {
		conn_free(mux, c); /* an RST owed to the guest is not needed any more */
		return;
	}
	if (c->owed & VSOCK_OWE_RST)
		return; /* it is going: only its RST is left to send */
	/* every packet says how much room the guest has */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VSOCK_OP_RESPONSE:
		guest_response(mux, c);
		break;
	case VSOCK_OP_RW:
		guest_data(mux, c, h, iov, niov);
		break;
	case VSOCK_OP_SHUTDOWN:
		c->peer_shutdown |= h->flags & VSOCK_SHUTDOWN_BOTH;
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		c->owed |= VSOCK_OWE_CREDIT;
		break;
	default: /* a second REQUEST, INVALID or no op at all */
		conn_abort(mux, c);
		break;
	}
	if (!(c->owed & VSOCK_OWE_RST))
		check_done(mux, c);
	refresh(mux, c);
}

/* A host port for a connection the host opens to guest port @guest_port. */
static uint32_t alloc_host_port(struct vsock_mux *mux, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = mux->next_host_port;

		mux->next_host_port = p == UINT32_MAX ? VSOCK_HOST_PORT_BASE : p + 1;
		/* at most VSOCK_MAX_CONNS are taken: a free one comes soon */
		if (!find_conn(mux, p, guest_port))
			return p;
	}
}

/* "CONNECT P\n", one byte at a time: nothing after the line is taken. */
static void host_hello(struct vsock_mux *mux, struct vsock_conn *c)
{
	uint64_t port = 0;
	unsigned int i;

	for (;;) {
		char ch;
		ssize_t n = read(c->fd, &ch, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 || c->line_len == sizeof(c->line) - 1)
			goto refuse;
		if (ch == '\n')
			break;
		c->line[c->line_len++] = ch;
	}
	c->line[c->line_len] = '\0';
	if (strncmp(c->line, "CONNECT ", 8) || !c->line[8] || c->line_len > 8 + 10)
		goto refuse;
	for (i = 8; i < c->line_len; i++) {
		if (c->line[i] < '0' || c->line[i] > '9')
			goto refuse;
		port = port * 10 + (uint64_t)(c->line[i] - '0');
	}
	if (port > UINT32_MAX)
		goto refuse;
	c->guest_port = (uint32_t)port;
	c->host_port = alloc_host_port(mux, c->guest_port);
	c->state = VSOCK_CONN_REQUESTED;
	/* the guest's buffer is unknown until it answers */
	c->peer_buf_alloc = 0;
	c->owed = VSOCK_OWE_REQUEST;
	refresh(mux, c);
	return;
refuse:
	mux->stats.conns_refused++;
	conn_free(mux, c);
}

static void host_accept(struct vsock_mux *mux)
{
	unsigned int i;

	/* a bounded batch: the loop comes back while more wait */
	for (i = 0; i < 64; i++) {
		struct vsock_conn *c;
		int fd = accept4(mux->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		c = conn_new(mux, fd, VSOCK_CONN_HOST_HELLO);
		if (!c) {
			mux->stats.conns_refused++;
			close(fd);
			continue;
		}
		refresh(mux, c);
	}
}

void vsock_mux_host_event(struct vsock_mux *mux, struct vsock_conn *c, uint32_t events)
{
	if (!c) {
		if (mux->listen_fd >= 0)
			host_accept(mux);
		return;
	}
	if (c->fd < 0)
		return;
	if (c->state == VSOCK_CONN_HOST_HELLO) {
		host_hello(mux, c);
		return;
	}
	if (c->state == VSOCK_CONN_REQUESTED) {
		/* closed before the guest answered: the guest's side goes too */
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_abort(mux, c);
		return;
	}
	if (events & EPOLLOUT) {
		flush_to_host(mux, c);
		if (!(c->owed & VSOCK_OWE_RST))
			check_done(mux, c);
	}
	if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		c->host_readable = true;
	refresh(mux, c);
}

bool vsock_mux_has_pkt(const struct vsock_mux *mux)
{
	return mux->rst_count || mux->owed_head;
}

/* Read host bytes into the guest's buffer: >0 bytes, 0 nothing now (the connection changed). */
static size_t read_host(struct vsock_mux *mux, struct vsock_conn *c, const struct iovec *iov,
			unsigned int niov, size_t room)
{
	struct iovec clip[8];
	uint32_t credit = vsock_conn_peer_credit(c);
	size_t want = room, got = 0;
	unsigned int i, n = 0;
	ssize_t r;

	if (want > credit)
		want = credit;
	if (want > VSOCK_MAX_PAYLOAD)
		want = VSOCK_MAX_PAYLOAD;
	for (i = 0; i < niov && n < 8 && got < want; i++) {
		size_t l = iov[i].iov_len < want - got ? iov[i].iov_len : want - got;

		if (!l)
			continue;
		clip[n++] = (struct iovec){iov[i].iov_base, l};
		got += l;
	}
	if (!n)
		return 0;
	do
		r = readv(c->fd, clip, (int)n);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return (size_t)r;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->host_readable = false;
	} else {
		/* the host sends no more (closed, or shut its side down) */
		c->host_eof = true;
		c->host_readable = false;
		c->owed |= VSOCK_OWE_SHUTDOWN;
		check_done(mux, c);
	}
	return 0;
}

static void fill_hdr(const struct vsock_mux *mux, struct vsock_conn *c, struct vsock_hdr *h,
		     uint16_t op)
{
	*h = (struct vsock_hdr){
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = mux->guest_cid,
	    .src_port = c->host_port,
	    .dst_port = c->guest_port,
	    .type = VSOCK_TYPE_STREAM,
	    .op = op,
	    .buf_alloc = VSOCK_BUF_ALLOC,
	    .fwd_cnt = c->fwd_cnt,
	};
	/* every packet carries fwd_cnt: no separate update is owed */
	c->fwd_cnt_sent = c->fwd_cnt;
	c->owed &= ~VSOCK_OWE_CREDIT;
}

int vsock_mux_next_pkt(struct vsock_mux *mux, struct vsock_hdr *h, const struct iovec *iov,
		       unsigned int niov, size_t room)
{
	/* each connection is looked at once at most: one with nothing to give now waits */
	unsigned int budget = mux->nr_conns + 1;
	struct vsock_conn *c;

	if (mux->rst_count) {
		*h = mux->rst[mux->rst_head];
		mux->rst_head = (mux->rst_head + 1) % VSOCK_RST_QUEUE;
		mux->rst_count--;
		return 1;
	}
	while ((c = mux->owed_head) && budget--) {
		bool sent = true;

		owed_remove(mux, c);
		if (c->owed & VSOCK_OWE_RST) {
			fill_hdr(mux, c, h, VSOCK_OP_RST);
			conn_free(mux, c);
			return 1;
		}
		if (c->owed & VSOCK_OWE_RESPONSE) {
			c->owed &= ~VSOCK_OWE_RESPONSE;
			fill_hdr(mux, c, h, VSOCK_OP_RESPONSE);
		} else if (c->owed & VSOCK_OWE_REQUEST) {
			c->owed &= ~VSOCK_OWE_REQUEST;
			fill_hdr(mux, c, h, VSOCK_OP_REQUEST);
		} else if (c->host_readable && want_read(c)) {
			size_t n = read_host(mux, c, iov, niov, room);

			if (n) {
				fill_hdr(mux, c, h, VSOCK_OP_RW);
				h->len = (uint32_t)n;
				c->tx_cnt += (uint32_t)n;
				mux->stats.bytes_to_guest += n;
			} else {
				sent = false;
			}
		} else {
			sent = false;
		}
		if (!sent && (c->owed & VSOCK_OWE_SHUTDOWN) && !(c->owed & VSOCK_OWE_RST)) {
			c->owed &= ~VSOCK_OWE_SHUTDOWN;
			fill_hdr(mux, c, h, VSOCK_OP_SHUTDOWN);
			h->flags = VSOCK_SHUTDOWN_SEND;
			sent = true;
		} else if (!sent && (c->owed & VSOCK_OWE_CREDIT)) {
			fill_hdr(mux, c, h, VSOCK_OP_CREDIT_UPDATE);
			sent = true;
		}
		refresh(mux, c);
		if (sent)
			return 1;
	}
	return 0;
}

void vsock_mux_init(struct vsock_mux *mux, uint64_t guest_cid, const char *uds, int listen_fd,
		    const struct vsock_mux_ops *ops)
{
	memset(mux, 0, sizeof(*mux));
	mux->guest_cid = guest_cid;
	snprintf(mux->uds, sizeof(mux->uds), "%s", uds);
	mux->listen_fd = listen_fd;
	mux->ops = *ops;
	mux->next_host_port = VSOCK_HOST_PORT_BASE;
}

void vsock_mux_reset(struct vsock_mux *mux)
{
	while (mux->nr_conns)
		conn_free(mux, mux->conns[mux->nr_conns - 1]);
	mux->owed_head = mux->owed_tail = NULL;
	mux->rst_head = mux->rst_count = 0;
}
