/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The connections of virtio-vsock's hybrid host side, with no virtqueue and
 * no KVM: packet headers (virtio 1.2 section 5.10.6), the credit accounting
 * of section 5.10.6.3, and the host's UNIX sockets in Firecracker's hybrid
 * vsock scheme:
 *   - the guest connecting to the host (cid 2) port P reaches the UNIX
 *     socket UDS_P (non-blocking connect: refused at once, or RST);
 *   - a host process connecting to the listening socket UDS and writing
 *     "CONNECT P\n" reaches the guest's listener on port P, and reads
 *     "OK HOSTPORT\n" once the guest accepted (HOSTPORT a host-side port
 *     allocated here), or sees the socket closed when it refused.
 * Guest data is taken only into a bounded buffer per connection (the
 * buf_alloc advertised to the guest), and host data is read only as far as
 * the guest's credit reaches: neither side makes petrel buffer without
 * bound. Everything runs on one thread (the device's lock held).
 */
#ifndef PETREL_VIRTIO_VIRTIO_VSOCK_CONN_H
#define PETREL_VIRTIO_VIRTIO_VSOCK_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VSOCK_HOST_CID 2
#define VSOCK_MIN_GUEST_CID 3
/* cids 0xffffffff and above are reserved (VMADDR_CID_ANY and beyond) */
#define VSOCK_MAX_GUEST_CID 0xfffffffeULL

/* The packet header, little endian on the rings: 44 bytes. */
#define VSOCK_HDR_LEN 44

#define VSOCK_TYPE_STREAM 1
#define VSOCK_TYPE_SEQPACKET 2

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

#define VSOCK_SHUTDOWN_RCV 1
#define VSOCK_SHUTDOWN_SEND 2
#define VSOCK_SHUTDOWN_BOTH 3

/* Most connections at once; one more is refused (RST, or the host socket closed). */
#define VSOCK_MAX_CONNS 1024
/* Bytes from the guest a connection buffers for its host socket: its buf_alloc. */
#define VSOCK_BUF_ALLOC (256u * 1024)
/* Largest payload of one packet either way (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
#define VSOCK_MAX_PAYLOAD (64u * 1024)
/* RSTs for packets of no connection, waiting for receive buffers; more are dropped. */
#define VSOCK_RST_QUEUE 64
/* "CONNECT 4294967295\n" with room to spare. */
#define VSOCK_CONNECT_LINE_MAX 32
/* Host-side ports of connections the host opened start here. */
#define VSOCK_HOST_PORT_BASE 0x40000000u
/* The longest --vsock uds= path: UDS_4294967295 must fit in sun_path. */
#define VSOCK_UDS_PATH_MAX (108 - 1 - 11) /* 96 */

/* A header in host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_LEN], struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_LEN]);

/* Why a packet from the guest is dropped without an answer. */
enum vsock_bad {
	VSOCK_OK = 0,
	VSOCK_BAD_SRC_CID, /* not the guest's own cid */
	VSOCK_BAD_DST_CID, /* not the host: petrel routes nothing else */
	VSOCK_BAD_LEN,	   /* more payload than the chain holds, or than a packet may */
};

/*
 * Check a header from the guest whose chain carries @avail payload bytes
 * after it. Type and op are checked by the connection (answered with RST).
 */
enum vsock_bad vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, size_t avail);

/* What --vsock asks for. */
struct virtio_vsock_config_opts {
	uint64_t cid;
	char uds[VSOCK_UDS_PATH_MAX + 1];
};

/*
 * Parse "cid=N,uds=PATH": both required, cid 3 to 0xfffffffe, PATH 1 to
 * VSOCK_UDS_PATH_MAX bytes. -EINVAL on an unknown or repeated key, a
 * missing one or a bad value.
 */
int virtio_vsock_parse(const char *spec, struct virtio_vsock_config_opts *o);

enum vsock_conn_state {
	VSOCK_CONN_HOST_HELLO,	/* accepted on UDS: reading "CONNECT P\n" */
	VSOCK_CONN_REQUESTED,	/* REQUEST sent to the guest: waiting for RESPONSE */
	VSOCK_CONN_ESTABLISHED, /* data flows */
	VSOCK_CONN_CLOSING,	/* SHUTDOWN (both) sent to the guest: waiting for its RST */
};

/* Control packets a connection owes the guest (bits of vsock_conn.owed). */
#define VSOCK_OWE_RESPONSE (1u << 0)
#define VSOCK_OWE_REQUEST (1u << 1)
#define VSOCK_OWE_CREDIT (1u << 2)
#define VSOCK_OWE_SHUTDOWN (1u << 3)
#define VSOCK_OWE_RST (1u << 4) /* the last one: then the connection goes */

struct vsock_mux;

struct vsock_conn {
	struct vsock_mux *mux;
	uint32_t host_port, guest_port;
	int fd; /* the host's UNIX socket */
	enum vsock_conn_state state;
	uint32_t watched;	/* EPOLLIN/EPOLLOUT asked of the loop */
	uint32_t owed;		/* VSOCK_OWE_* */
	bool host_readable;	/* the host socket may have bytes: try a read */
	bool host_eof;		/* the host closed (or broke) its socket */
	uint32_t peer_shutdown; /* VSOCK_SHUTDOWN_* the guest sent */
	/* the guest's receive side, as it last said */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt; /* payload bytes sent to the guest */
	/* ours: bytes of the guest taken off buf into the host socket */
	uint32_t fwd_cnt, fwd_cnt_sent;
	uint8_t *buf; /* VSOCK_BUF_ALLOC bytes from the guest, a ring; allocated on use */
	uint32_t buf_head, buf_len;
	char line[VSOCK_CONNECT_LINE_MAX];
	unsigned int line_len;
	struct vsock_conn *next_owed; /* in the mux's list of connections with work for the guest */
	bool listed;
};

/* How the mux has its host sockets watched (the I/O thread's loop). */
struct vsock_mux_ops {
	/*
	 * Watch @fd for @events (EPOLLIN, EPOLLOUT, 0 for none for now): the
	 * first call for an fd adds it, later ones change it. Events go to
	 * vsock_mux_host_event(mux, @conn, events), @conn NULL for the listener.
	 */
	int (*watch)(void *ctx, int fd, uint32_t events, struct vsock_conn *conn);
	void (*unwatch)(void *ctx, int fd);
	void *ctx;
};

struct vsock_mux_stats {
	uint64_t conns_opened, conns_refused; /* either side's */
	uint64_t bytes_to_guest, bytes_from_guest;
	uint64_t bad_packets; /* dropped by vsock_hdr_check */
	uint64_t rst_dropped; /* answers lost to a full RST queue */
};

struct vsock_mux {
	uint64_t guest_cid;
	char uds[VSOCK_UDS_PATH_MAX + 1];
	int listen_fd; /* -1: no host-initiated connections */
	struct vsock_mux_ops ops;
	struct vsock_conn *conns[VSOCK_MAX_CONNS];
	unsigned int nr_conns;
	struct vsock_conn *owed_head, *owed_tail;
	struct vsock_hdr rst[VSOCK_RST_QUEUE];
	unsigned int rst_head, rst_count;
	uint32_t next_host_port;
	struct vsock_mux_stats stats;
};

/*
 * Set up @mux for @guest_cid with host sockets under @uds. @listen_fd is a
 * listening UNIX socket (non-blocking, watched by the caller with ops) or -1.
 */
void vsock_mux_init(struct vsock_mux *mux, uint64_t guest_cid, const char *uds, int listen_fd,
		    const struct vsock_mux_ops *ops);
/* Close every connection (the driver reset, or the device goes). */
void vsock_mux_reset(struct vsock_mux *mux);

/*
 * A packet from the guest: its header (copied out of guest memory once)
 * and @niov segments holding its @avail payload bytes.
 */
void vsock_mux_guest_pkt(struct vsock_mux *mux, const struct vsock_hdr *h, const struct iovec *iov,
			 unsigned int niov, size_t avail);
/* The loop says @events happened on @conn's socket (NULL: the listener). */
void vsock_mux_host_event(struct vsock_mux *mux, struct vsock_conn *conn, uint32_t events);
/* Is a packet for the guest waiting (or possibly, a read may give one)? */
bool vsock_mux_has_pkt(const struct vsock_mux *mux);
/*
 * The next packet for the guest into *h, its payload read into @iov (@niov
 * segments, @room bytes in all): 1 with h->len set, 0 when nothing is
 * waiting.
 */
int vsock_mux_next_pkt(struct vsock_mux *mux, struct vsock_hdr *h, const struct iovec *iov,
		       unsigned int niov, size_t room);
/* Credit the guest has for @c: how many more bytes may be sent to it. */
uint32_t vsock_conn_peer_credit(const struct vsock_conn *c);

#endif
