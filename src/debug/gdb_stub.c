// SPDX-License-Identifier: GPL-2.0-only
/*
 * The GDB remote stub's server thread: connection handling, the packet
 * dispatcher and stop replies. The protocol pieces live in gdb_proto.c and
 * gdb_x86.c; breakpoints, memory and stops in guest_debug.c.
 */
#include "debug/gdb_stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "debug/gdb_proto.h"
#include "debug/gdb_x86.h"
#include "debug/guest_debug.h"
#include "vm/sandbox.h"
#include "vm/thread.h"

#define GDB_SIGINT 2
#define GDB_SIGTRAP 5
#define GDB_MAX_MEM (GDB_PACKET_MAX / 2 - 16)
#define GDB_EXIT_KILLED (VM_EXIT_SIGNAL_BASE + SIGKILL)

struct vm_gdb {
	struct machine *m;
	struct vm_debug dbg;
	int listen_fd;
	int client_fd;
	int wake_efd; /* a vCPU stopped, or the machine is going away */
	pthread_t thread;
	bool thread_started;
	bool quit;
	bool running; /* the debugger let the guest run */
	bool no_ack;
	unsigned int g_vcpu; /* Hg: registers and memory of this vCPU */
	struct gdb_hw_bp hw[4];
	int nr_hw;
	struct gdb_rx rx;
	uint8_t mem[GDB_PACKET_MAX]; /* guest memory for m/M/X */
	char reply[GDB_PACKET_MAX + 1];
	char frame[2 * GDB_PACKET_MAX + 8];
	size_t frame_len;
	char host[256];
	unsigned int port;
};

int vm_gdb_parse_addr(const char *spec, char *host, size_t host_size, unsigned int *port)
{
	const char *colon;
	char *end;
	unsigned long p;
	size_t n;

	if (!spec)
		return -EINVAL;
	if (!strncmp(spec, "tcp:", 4))
		spec += 4;
	colon = strrchr(spec, ':');
	if (colon) {
		n = (size_t)(colon - spec);
		if (n >= host_size)
			return -EINVAL;
		memcpy(host, spec, n);
		host[n] = 0;
		spec = colon + 1;
	} else {
		host[0] = 0;
	}
	if (!host[0]) {
		if (host_size < sizeof("127.0.0.1"))
			return -EINVAL;
		strcpy(host, "127.0.0.1");
	}
	errno = 0;
	p = strtoul(spec, &end, 10);
	if (errno || end == spec || *end || p == 0 || p > 65535)
		return -EINVAL;
	*port = (unsigned int)p;
	return 0;
}

/* ---- sending ---- */

static void send_raw(struct vm_gdb *g, const char *buf, size_t len)
{
	while (len && g->client_fd >= 0) {
		ssize_t n = send(g->client_fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the reader went away; the receive side notices */
		buf += n;
		len -= (size_t)n;
	}
}

static void send_packet(struct vm_gdb *g, const char *payload, size_t len)
{
	g->frame_len = gdb_frame_bin((const uint8_t *)payload, len, g->frame, sizeof(g->frame));
	if (!g->frame_len)
		g->frame_len = gdb_frame("E01", 3, g->frame, sizeof(g->frame));
	send_raw(g, g->frame, g->frame_len);
}

static void send_str(struct vm_gdb *g, const char *s)
{
	send_packet(g, s, strlen(s));
}

static void send_err(struct vm_gdb *g, int err)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "E%02x", (unsigned int)(err < 0 ? -err : err) & 0xff);
	send_str(g, buf);
}

/* ---- registers ---- */

static void regs_get(struct vm_gdb *g, unsigned int idx, struct gdb_x86_regs *r)
{
	struct kvm_vcpu *v = &g->m->vcpus[idx].kvm;
	struct kvm_regs *k = kvm_vcpu_regs(v);
	struct kvm_sregs *s = kvm_vcpu_sregs(v);

	memset(r, 0, sizeof(*r));
	if (k) {
		const uint64_t gpr[16] = {k->rax, k->rbx, k->rcx, k->rdx, k->rsi, k->rdi,
					  k->rbp, k->rsp, k->r8,  k->r9,  k->r10, k->r11,
					  k->r12, k->r13, k->r14, k->r15};

		memcpy(r->gpr, gpr, sizeof(gpr));
		r->rip = k->rip;
		r->eflags = (uint32_t)k->rflags;
	}
	if (s) {
		r->seg[GDB_SEG_CS] = s->cs.selector;
		r->seg[GDB_SEG_SS] = s->ss.selector;
		r->seg[GDB_SEG_DS] = s->ds.selector;
		r->seg[GDB_SEG_ES] = s->es.selector;
		r->seg[GDB_SEG_FS] = s->fs.selector;
		r->seg[GDB_SEG_GS] = s->gs.selector;
		r->fs_base = s->fs.base;
		r->gs_base = s->gs.base;
		r->cr0 = s->cr0;
		r->cr2 = s->cr2;
		r->cr3 = s->cr3;
		r->cr4 = s->cr4;
		r->cr8 = s->cr8;
		r->efer = s->efer;
	}
}

/* Only what a debugger may sensibly change: GPRs, rip and flags. */
static void regs_put(struct vm_gdb *g, unsigned int idx, const struct gdb_x86_regs *r)
{
	struct kvm_vcpu *v = &g->m->vcpus[idx].kvm;
	struct kvm_regs *k = kvm_vcpu_regs(v);

	if (!k)
		return;
	k->rax = r->gpr[GDB_X86_RAX];
	k->rbx = r->gpr[GDB_X86_RBX];
	k->rcx = r->gpr[GDB_X86_RCX];
	k->rdx = r->gpr[GDB_X86_RDX];
	k->rsi = r->gpr[GDB_X86_RSI];
	k->rdi = r->gpr[GDB_X86_RDI];
	k->rbp = r->gpr[GDB_X86_RBP];
	k->rsp = r->gpr[GDB_X86_RSP];
	k->r8 = r->gpr[GDB_X86_R8];
	k->r9 = r->gpr[GDB_X86_R9];
	k->r10 = r->gpr[GDB_X86_R10];
	k->r11 = r->gpr[GDB_X86_R11];
	k->r12 = r->gpr[GDB_X86_R12];
	k->r13 = r->gpr[GDB_X86_R13];
	k->r14 = r->gpr[GDB_X86_R14];
	k->r15 = r->gpr[GDB_X86_R15];
	k->rip = r->rip;
	k->rflags = (k->rflags & ~0xffffffffULL) | r->eflags | 0x2;
	kvm_vcpu_regs_dirty(v);
}

/* ---- stops ---- */

static void on_vcpu_stop(void *opaque)
{
	struct vm_gdb *g = opaque;
	uint64_t one = 1;

	if (write(g->wake_efd, &one, sizeof(one)) < 0) {
		/* the counter is far from overflowing; nothing to do */
	}
}

/* All vCPUs out of KVM_RUN; a stop with no recorded reason is a SIGINT. */
static void stop_all(struct vm_gdb *g)
{
	vm_debug_stop_all(&g->dbg);
	pthread_mutex_lock(&g->dbg.lock);
	if (!g->dbg.stopped) {
		g->dbg.stopped = true;
		g->dbg.stop_vcpu = g->g_vcpu;
		g->dbg.stop_reason = VM_DEBUG_STOP_SIGNAL;
		g->dbg.stop_addr = 0;
	}
	pthread_mutex_unlock(&g->dbg.lock);
	g->running = false;
}

static void send_stop_reply(struct vm_gdb *g)
{
	char buf[96];
	const char *why = "";
	char extra[40] = "";
	int sig = GDB_SIGTRAP;

	pthread_mutex_lock(&g->dbg.lock);
	switch (g->dbg.stop_reason) {
	case VM_DEBUG_STOP_SW_BP:
		why = "swbreak:;";
		break;
	case VM_DEBUG_STOP_HW_BP:
		why = "hwbreak:;";
		break;
	case VM_DEBUG_STOP_WATCH: {
		int i;
		const char *kind = "watch";

		for (i = 0; i < g->nr_hw; i++)
			if (g->hw[i].addr == g->dbg.stop_addr)
				kind = g->hw[i].type == 3   ? "rwatch"
				       : g->hw[i].type == 4 ? "awatch"
							    : "watch";
		snprintf(extra, sizeof(extra), "%s:%llx;", kind,
			 (unsigned long long)g->dbg.stop_addr);
		break;
	}
	case VM_DEBUG_STOP_SIGNAL:
		sig = GDB_SIGINT;
		break;
	default:
		break;
	}
	g->g_vcpu = g->dbg.stop_vcpu;
	snprintf(buf, sizeof(buf), "T%02xthread:%x;%s%s", sig, g->dbg.stop_vcpu + 1, why, extra);
	pthread_mutex_unlock(&g->dbg.lock);
	send_str(g, buf);
}

/*
 * Let the guest run: vCPU step_vcpu (or none, -1) single-steps; with
 * only_step, every other vCPU stays stopped (gdb stepping one thread over a
 * breakpoint), else they all continue.
 */
static void resume_vcpus(struct vm_gdb *g, int step_vcpu, bool only_step)
{
	struct machine *m = g->m;
	unsigned int i;

	pthread_mutex_lock(&g->dbg.lock);
	for (i = 0; i < m->nr_vcpus; i++)
		g->dbg.step[i] = (int)i == step_vcpu;
	pthread_mutex_unlock(&g->dbg.lock);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nr_vcpus; i++)
		m->vcpus[i].held = only_step && (int)i != step_vcpu;
	pthread_mutex_unlock(&m->lock);
	g->running = true;
	vm_debug_resume(&g->dbg);
}

static void resume(struct vm_gdb *g, int step_vcpu)
{
	resume_vcpus(g, step_vcpu, false);
}

/* The debugger went away: nothing of ours stays in the guest, which runs on. */
static void drop_client(struct vm_gdb *g, const char *why)
{
	if (g->client_fd < 0)
		return;
	close(g->client_fd);
	g->client_fd = -1;
	fprintf(stderr, "petrel: gdb: debugger %s; the guest runs on\n", why);
	if (g->running)
		stop_all(g); /* vCPUs out of KVM_RUN before their debug state changes */
	vm_debug_clear_all(&g->dbg);
	g->nr_hw = 0;
	resume(g, -1); /* also releases vCPUs held by a single-thread step */
}

/* ---- commands ---- */

static bool vcpu_of_tid(struct vm_gdb *g, long tid, unsigned int *idx)
{
	if (tid == GDB_TID_ALL || tid == GDB_TID_ANY) {
		*idx = g->g_vcpu;
		return true;
	}
	if (tid < 1 || (unsigned long)tid > g->m->nr_vcpus)
		return false;
	*idx = (unsigned int)(tid - 1);
	return true;
}

static void cmd_read_mem(struct vm_gdb *g, const char *pkt)
{
	uint8_t *data = g->mem;
	uint64_t addr, len;
	int ret;

	if (gdb_parse_mem(pkt, &addr, &len) < 0)
		return send_err(g, EINVAL);
	if (len > GDB_MAX_MEM)
		len = GDB_MAX_MEM;
	ret = vm_debug_read(&g->dbg, g->g_vcpu, addr, data, len);
	if (ret < 0)
		return send_err(g, EFAULT);
	gdb_hex_encode(data, len, g->reply);
	send_packet(g, g->reply, 2 * len);
}

static void cmd_write_mem(struct vm_gdb *g, const char *pkt, size_t pkt_len, bool binary)
{
	uint8_t *data = g->mem;
	const char *colon = memchr(pkt, ':', pkt_len);
	uint64_t addr, len;
	size_t off;

	if (!colon || gdb_parse_mem(pkt, &addr, &len) < 0)
		return send_err(g, EINVAL);
	off = (size_t)(colon + 1 - pkt);
	if (binary) {
		if (pkt_len - off != len || len > sizeof(g->mem))
			return send_err(g, EINVAL);
		memcpy(data, colon + 1, len);
	} else {
		if (pkt_len - off != 2 * len || len > sizeof(g->mem) ||
		    gdb_hex_decode(colon + 1, 2 * len, data) < 0)
			return send_err(g, EINVAL);
	}
	if (len && vm_debug_write(&g->dbg, g->g_vcpu, addr, data, len) < 0)
		return send_err(g, EFAULT);
	send_str(g, "OK");
}

static void cmd_breakpoint(struct vm_gdb *g, const char *pkt, bool insert)
{
	struct gdb_hw_bp hw[4];
	uint64_t addr, kind, dr[4], dr7;
	int type, n, i, ret;

	if (gdb_parse_breakpoint(pkt, &type, &addr, &kind) < 0)
		return send_err(g, EINVAL);
	if (type == 0) {
		ret = insert ? vm_debug_sw_insert(&g->dbg, g->g_vcpu, addr)
			     : vm_debug_sw_remove(&g->dbg, addr);
		return ret < 0 ? send_err(g, -ret) : send_str(g, "OK");
	}
	memcpy(hw, g->hw, sizeof(hw));
	n = g->nr_hw;
	if (insert) {
		if (n == 4)
			return send_err(g, ENOSPC); /* the four debug registers are taken */
		hw[n].type = type;
		hw[n].addr = addr;
		hw[n].len = type == 1 ? 1 : kind;
		n++;
	} else {
		for (i = 0; i < n; i++)
			if (hw[i].type == type && hw[i].addr == addr)
				break;
		if (i == n)
			return send_err(g, ENOENT);
		memmove(&hw[i], &hw[i + 1], (size_t)(n - i - 1) * sizeof(hw[0]));
		n--;
	}
	ret = gdb_x86_dr7_build(hw, n, &dr7, dr);
	if (ret < 0)
		return send_err(g, -ret);
	ret = vm_debug_set_hw(&g->dbg, dr, dr7);
	if (ret < 0)
		return send_err(g, -ret);
	memcpy(g->hw, hw, sizeof(hw));
	g->nr_hw = n;
	send_str(g, "OK");
}

static void cmd_vcont(struct vm_gdb *g, const char *pkt)
{
	struct gdb_vcont_action acts[16];
	int n, i, step = -1;
	bool others_continue = false;
	unsigned int idx;

	if (!strcmp(pkt, "vCont?"))
		return send_str(g, "vCont;c;C;s;S");
	n = gdb_parse_vcont(pkt, acts, 16);
	if (n <= 0)
		return send_err(g, EINVAL);
	for (i = 0; i < n; i++) {
		bool is_step = acts[i].action == 's' || acts[i].action == 'S';

		if (acts[i].tid == GDB_TID_ALL) {
			/* the default action for every thread not named before */
			if (is_step && step < 0)
				step = (int)g->g_vcpu;
			else if (!is_step)
				others_continue = true;
			continue;
		}
		if (!vcpu_of_tid(g, acts[i].tid, &idx))
			return send_err(g, EINVAL);
		if (is_step && step < 0)
			step = (int)idx;
		else if (!is_step)
			others_continue = true; /* a named thread continues: let all run */
	}
	resume_vcpus(g, step, step >= 0 && !others_continue);
}

static void cmd_query(struct vm_gdb *g, const char *pkt)
{
	unsigned int i;
	long tid;
	size_t n;
	int ret;

	if (!strncmp(pkt, "qSupported", 10)) {
		snprintf(g->reply, sizeof(g->reply),
			 "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;"
			 "QStartNoAckMode+",
			 GDB_PACKET_MAX);
		return send_str(g, g->reply);
	}
	if (!strncmp(pkt, "qXfer:features:read:", 20)) {
		ret = gdb_xfer_slice(gdb_x86_target_xml(), "target.xml", pkt + 20, g->reply,
				     sizeof(g->reply));
		if (ret < 0)
			return send_err(g, -ret);
		return send_packet(g, g->reply, (size_t)ret);
	}
	if (!strcmp(pkt, "qfThreadInfo")) {
		n = (size_t)snprintf(g->reply, sizeof(g->reply), "m");
		for (i = 0; i < g->m->nr_vcpus && n < sizeof(g->reply) - 16; i++)
			n += (size_t)snprintf(g->reply + n, sizeof(g->reply) - n, "%s%x",
					      i ? "," : "", i + 1);
		return send_str(g, g->reply);
	}
	if (!strcmp(pkt, "qsThreadInfo"))
		return send_str(g, "l");
	if (!strcmp(pkt, "qC")) {
		snprintf(g->reply, sizeof(g->reply), "QC%x", g->g_vcpu + 1);
		return send_str(g, g->reply);
	}
	if (!strncmp(pkt, "qThreadExtraInfo,", 17)) {
		char name[32];

		if (gdb_parse_thread_id(pkt + 17, &tid) < 0 || !vcpu_of_tid(g, tid, &i))
			return send_err(g, EINVAL);
		snprintf(name, sizeof(name), "vCPU %u", i);
		gdb_hex_encode((const uint8_t *)name, strlen(name), g->reply);
		return send_str(g, g->reply);
	}
	if (!strcmp(pkt, "qAttached"))
		return send_str(g, "1");
	send_str(g, "");
}

static void handle_packet(struct vm_gdb *g, const char *pkt, size_t len)
{
	struct gdb_x86_regs r;
	uint8_t val[GDB_X86_REG_MAX_SIZE];
	unsigned int idx;
	size_t size;
	uint64_t v;
	long tid;
	const char *p;
	int regno;

	switch (pkt[0]) {
	case '?':
		return send_stop_reply(g);
	case 'g':
		regs_get(g, g->g_vcpu, &r);
		size = gdb_x86_regs_encode(&r, g->reply, sizeof(g->reply));
		return size ? send_packet(g, g->reply, size) : send_err(g, ENOSPC);
	case 'G':
		regs_get(g, g->g_vcpu, &r);
		if (gdb_x86_regs_decode(pkt + 1, len - 1, &r) < 0)
			return send_err(g, EINVAL);
		regs_put(g, g->g_vcpu, &r);
		return send_str(g, "OK");
	case 'p':
		p = pkt + 1;
		if (gdb_parse_hex_u64(&p, &v) < 0 || v > 1000)
			return send_err(g, EINVAL);
		regs_get(g, g->g_vcpu, &r);
		if (gdb_x86_reg_get(&r, (int)v, val, &size) < 0)
			return send_err(g, EINVAL);
		gdb_hex_encode(val, size, g->reply);
		return send_packet(g, g->reply, 2 * size);
	case 'P':
		p = pkt + 1;
		if (gdb_parse_hex_u64(&p, &v) < 0 || *p != '=' || v > 1000)
			return send_err(g, EINVAL);
		regno = (int)v;
		size = strlen(p + 1) / 2;
		if (size > sizeof(val) || gdb_hex_decode(p + 1, 2 * size, val) < 0)
			return send_err(g, EINVAL);
		regs_get(g, g->g_vcpu, &r);
		if (gdb_x86_reg_set(&r, regno, val, size) < 0)
			return send_err(g, EINVAL);
		regs_put(g, g->g_vcpu, &r);
		return send_str(g, "OK");
	case 'm':
		return cmd_read_mem(g, pkt);
	case 'M':
		return cmd_write_mem(g, pkt, len, false);
	case 'X':
		return cmd_write_mem(g, pkt, len, true);
	case 'Z':
	case 'z':
		return cmd_breakpoint(g, pkt, pkt[0] == 'Z');
	case 'c':
		if (pkt[1])
			return send_err(g, EINVAL); /* resuming at an address is not supported */
		return resume(g, -1);
	case 's':
		if (pkt[1])
			return send_err(g, EINVAL);
		return resume_vcpus(g, (int)g->g_vcpu, true);
	case 'H':
		if ((pkt[1] != 'g' && pkt[1] != 'c') || gdb_parse_thread_id(pkt + 2, &tid) < 0 ||
		    !vcpu_of_tid(g, tid, &idx))
			return send_err(g, EINVAL);
		if (pkt[1] == 'g')
			g->g_vcpu = idx;
		return send_str(g, "OK");
	case 'T':
		if (gdb_parse_thread_id(pkt + 1, &tid) < 0 || !vcpu_of_tid(g, tid, &idx))
			return send_err(g, ESRCH);
		return send_str(g, "OK");
	case 'v':
		if (!strncmp(pkt, "vCont", 5))
			return cmd_vcont(g, pkt);
		if (!strncmp(pkt, "vMustReplyEmpty", 15))
			return send_str(g, "");
		if (!strncmp(pkt, "vKill", 5)) {
			send_str(g, "OK");
			machine_request_stop(g->m, GDB_EXIT_KILLED);
			return;
		}
		return send_str(g, "");
	case 'q':
		return cmd_query(g, pkt);
	case 'Q':
		if (!strcmp(pkt, "QStartNoAckMode")) {
			send_str(g, "OK");
			g->no_ack = true;
			return;
		}
		return send_str(g, "");
	case 'D':
		send_str(g, "OK");
		return drop_client(g, "detached");
	case 'k':
		machine_request_stop(g->m, GDB_EXIT_KILLED);
		return;
	default:
		return send_str(g, "");
	}
}

/* ---- the server thread ---- */

static void accept_client(struct vm_gdb *g)
{
	int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	int one = 1;

	if (fd < 0)
		return;
	if (g->client_fd >= 0) {
		/* one debugger at a time: say so on the new connection and close it */
		static const char busy[] = "$E10#a6";

		send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		close(fd);
		fprintf(stderr, "petrel: gdb: refused a second debugger connection\n");
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->client_fd = fd;
	g->no_ack = false;
	gdb_rx_init(&g->rx);
	fprintf(stderr, "petrel: gdb: debugger attached\n");
	/* The debugger finds the guest stopped. */
	stop_all(g);
}

static void client_input(struct vm_gdb *g)
{
	uint8_t buf[4096];
	ssize_t n, i;

	n = recv(g->client_fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		drop_client(g, "disconnected");
		return;
	}
	for (i = 0; i < n && g->client_fd >= 0; i++) {
		switch (gdb_rx_feed(&g->rx, buf[i])) {
		case GDB_RX_PACKET:
			if (!g->no_ack)
				send_raw(g, "+", 1);
			/* while the guest runs, only an interrupt or a stop matter */
			if (g->running && g->rx.buf[0] != 'k' && strncmp(g->rx.buf, "vKill", 5))
				break;
			handle_packet(g, g->rx.buf, g->rx.len);
			break;
		case GDB_RX_BAD_CHECKSUM:
			if (!g->no_ack)
				send_raw(g, "-", 1);
			break;
		case GDB_RX_NACK:
			send_raw(g, g->frame, g->frame_len);
			break;
		case GDB_RX_INTERRUPT:
			if (g->running) {
				stop_all(g);
				send_stop_reply(g);
			}
			break;
		default:
			break;
		}
	}
}

static void *gdb_thread(void *arg)
{
	struct vm_gdb *g = arg;
	struct pollfd pf[3];
	uint64_t cnt;

	/* before the first byte from the debugger, and the first read of guest memory */
	if (sandbox_enter(g->m->cfg.sandbox, SANDBOX_GDB, "gdb") < 0) {
		machine_request_stop(g->m, VM_EXIT_ERROR);
		return NULL;
	}
	while (!__atomic_load_n(&g->quit, __ATOMIC_ACQUIRE)) {
		pf[0] = (struct pollfd){.fd = g->wake_efd, .events = POLLIN};
		pf[1] = (struct pollfd){.fd = g->listen_fd, .events = POLLIN};
		pf[2] = (struct pollfd){.fd = g->client_fd, .events = POLLIN};
		if (poll(pf, g->client_fd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents & POLLIN) {
			if (read(g->wake_efd, &cnt, sizeof(cnt)) < 0) {
				/* spurious wake-up: nothing to read */
			}
			if (__atomic_load_n(&g->quit, __ATOMIC_ACQUIRE))
				break;
			if (g->running && g->dbg.stopped) {
				stop_all(g);
				if (g->client_fd >= 0)
					send_stop_reply(g);
			}
		}
		if (pf[1].revents & POLLIN)
			accept_client(g);
		if (g->client_fd >= 0 && (pf[2].revents & (POLLIN | POLLHUP | POLLERR)))
			client_input(g);
	}
	return NULL;
}

static const struct machine_debug_hooks gdb_hooks = {
    .debug_exit = vm_debug_handle_exit,
    .emulation_failure = vm_debug_handle_emulation_failure,
};

int vm_gdb_create(struct machine *m, const char *spec, bool wait)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	struct vm_gdb *g;
	char port_s[8];
	int one = 1, ret;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->m = m;
	g->listen_fd = g->client_fd = g->wake_efd = -1;
	if (vm_gdb_parse_addr(spec, g->host, sizeof(g->host), &g->port) < 0) {
		fprintf(stderr, "petrel: --gdb %s: expected tcp:HOST:PORT or tcp::PORT\n", spec);
		free(g);
		return -EINVAL;
	}
	ret = vm_debug_init(&g->dbg, m);
	if (ret < 0) {
		free(g);
		return ret;
	}
	g->dbg.on_stop = on_vcpu_stop;
	g->dbg.on_stop_opaque = g;
	m->gdb = g;
	m->debug = &g->dbg;
	m->debug_hooks = &gdb_hooks;

	snprintf(port_s, sizeof(port_s), "%u", g->port);
	ret = getaddrinfo(g->host, port_s, &hints, &ai);
	if (ret) {
		fprintf(stderr, "petrel: --gdb %s: %s\n", spec, gai_strerror(ret));
		ret = -EINVAL;
		goto fail;
	}
	g->listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->listen_fd < 0 ||
	    setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(g->listen_fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(g->listen_fd, 1) < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: --gdb %s: cannot listen on %s:%u: %s\n", spec, g->host,
			g->port, strerror(-ret));
		goto fail;
	}
	g->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->wake_efd < 0) {
		ret = -errno;
		goto fail;
	}
	freeaddrinfo(ai);
	/* Everything stops at once for the debugger; KVM debugging is on from the start. */
	vm_debug_apply(&g->dbg);
	if (wait) {
		pthread_mutex_lock(&m->lock);
		m->pause_requested = true;
		pthread_mutex_unlock(&m->lock);
		g->dbg.stopped = true;
		g->dbg.stop_reason = VM_DEBUG_STOP_SIGNAL;
		g->running = false;
	} else {
		g->running = true;
	}
	fprintf(stderr, "petrel: gdb: listening on %s:%u%s\n", g->host, g->port,
		wait ? " (the guest waits for the debugger)" : "");
	return 0;
fail:
	if (ai)
		freeaddrinfo(ai);
	vm_gdb_destroy(m, 0);
	return ret;
}

int vm_gdb_start(struct machine *m)
{
	struct vm_gdb *g = m->gdb;
	int ret;

	if (!g)
		return 0;
	ret = vm_thread_start(&g->thread, gdb_thread, g, "gdb");
	if (ret < 0)
		return ret;
	g->thread_started = true;
	return 0;
}

void vm_gdb_destroy(struct machine *m, int status)
{
	struct vm_gdb *g = m->gdb;
	uint64_t one = 1;
	char buf[8];

	if (!g)
		return;
	if (g->thread_started) {
		__atomic_store_n(&g->quit, true, __ATOMIC_RELEASE);
		if (write(g->wake_efd, &one, sizeof(one)) < 0) {
			/* the thread also ends on its next wake-up */
		}
		pthread_join(g->thread, NULL);
	}
	if (g->client_fd >= 0) {
		/* the "process" exited: gdb prints the status */
		snprintf(buf, sizeof(buf), "W%02x", (unsigned int)status & 0xff);
		send_str(g, buf);
		close(g->client_fd);
	}
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->wake_efd >= 0)
		close(g->wake_efd);
	vm_debug_destroy(&g->dbg);
	m->debug_hooks = NULL;
	m->debug = NULL;
	m->gdb = NULL;
	free(g);
}
