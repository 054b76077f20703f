/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * GDB Remote Serial Protocol, the transport-free part: a byte-by-byte packet
 * receiver, packet framing with escapes and checksums, hex helpers and pure
 * parsers for the commands a stub has to understand (m/M/X, Z/z, thread ids,
 * vCont). Nothing here touches KVM, sockets or the machine.
 */
#ifndef PETREL_DEBUG_GDB_PROTO_H
#define PETREL_DEBUG_GDB_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Largest packet payload we accept (and advertise as PacketSize). */
#define GDB_PACKET_MAX 16384

enum gdb_rx_event {
	GDB_RX_NONE,	     /* byte consumed, nothing to do yet */
	GDB_RX_PACKET,	     /* rx->buf holds a complete packet: send '+' */
	GDB_RX_BAD_CHECKSUM, /* bad checksum or oversize packet: send '-' */
	GDB_RX_INTERRUPT,    /* 0x03 outside a packet: stop the guest */
	GDB_RX_ACK,	     /* '+' outside a packet */
	GDB_RX_NACK,	     /* '-' outside a packet: resend the last reply */
};

enum gdb_rx_state {
	GDB_RX_IDLE,
	GDB_RX_DATA,
	GDB_RX_ESCAPE,
	GDB_RX_CSUM1,
	GDB_RX_CSUM2,
};

struct gdb_rx {
	enum gdb_rx_state state;
	uint8_t sum;		      /* running checksum of the raw (escaped) bytes */
	uint8_t csum;		      /* checksum received after '#' */
	int overflow;		      /* the packet did not fit: drop it */
	size_t len;		      /* payload length, escapes undone */
	char buf[GDB_PACKET_MAX + 1]; /* payload, NUL-terminated */
};

void gdb_rx_init(struct gdb_rx *rx);
/*
 * Feed one byte from the connection. On GDB_RX_PACKET the payload is in
 * rx->buf (rx->len bytes, NUL-terminated; binary packets such as X may also
 * contain NUL bytes) and stays valid until the next call. A '$' inside a
 * packet restarts the packet. Run-length encoding is not expanded (gdb does
 * not use it towards a stub).
 */
enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte);

/*
 * Frame payload as "$payload#cs", escaping '$', '#', '}' and '*' as 0x7d
 * followed by the byte xor 0x20. out is NUL-terminated. Returns the framed
 * length (without the NUL) or 0 when it does not fit in out_size.
 */
size_t gdb_frame(const char *payload, size_t len, char *out, size_t out_size);
/* The same for binary data (qXfer, binary memory reads). */
size_t gdb_frame_bin(const uint8_t *payload, size_t len, char *out, size_t out_size);

/* Decode hexlen hex digits into hexlen/2 bytes. -EINVAL on a bad digit or odd length. */
int gdb_hex_decode(const char *hex, size_t hexlen, uint8_t *out);
/* Encode len bytes as 2*len lowercase hex digits and a NUL (out: 2*len+1). */
void gdb_hex_encode(const uint8_t *in, size_t len, char *out);
/* Parse a hex number at *p and advance *p past it. -EINVAL if no digit or > 64 bits. */
int gdb_parse_hex_u64(const char **p, uint64_t *v);

/*
 * "mADDR,LEN" (whole packet), or the "MADDR,LEN:" / "XADDR,LEN:" header of a
 * write (the data starts after the first ':'). -EINVAL when malformed or when
 * the range wraps past 2^64.
 */
int gdb_parse_mem(const char *pkt, uint64_t *addr, uint64_t *len);
/*
 * "Ztype,addr,kind" or "ztype,addr,kind", optionally followed by ";cond...".
 * type is 0 (sw bp), 1 (hw bp), 2 (write wp), 3 (read wp), 4 (access wp).
 */
int gdb_parse_breakpoint(const char *pkt, int *type, uint64_t *addr, uint64_t *kind);

#define GDB_TID_ALL (-1L) /* "-1": all threads */
#define GDB_TID_ANY 0L	  /* "0": any thread */
/*
 * A whole thread-id string: "-1", "0", a positive hex thread id, or the
 * multiprocess forms "pPID.TID", "pPID.-1", "pPID" (the process's threads,
 * reported as GDB_TID_ALL). The pid is not checked.
 */
int gdb_parse_thread_id(const char *s, long *tid);

struct gdb_vcont_action {
	char action; /* 'c', 's', 'C', 'S' or 't' */
	int sig;     /* signal for 'C' / 'S', else 0 */
	long tid;    /* thread, GDB_TID_ALL when no thread was given */
};
/*
 * "vCont;s:1;c" -> {s, 0, 1}, {c, 0, -1}. Returns the number of actions,
 * -EINVAL when malformed (including "vCont?" and range stepping 'r'),
 * -ENOSPC for more than max actions.
 */
int gdb_parse_vcont(const char *pkt, struct gdb_vcont_action *acts, int max);

#endif
