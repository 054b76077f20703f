// SPDX-License-Identifier: GPL-2.0-only
/* The vCPU run loop: enter the guest, decode exits, dispatch I/O and MMIO. */
#include "kvm/kvm_vcpu.h"

#include "kvm/kvm_mce.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

static void handle_io(struct kvm_vcpu *v, const struct kvm_exit_ops *ops, void *opaque)
{
	struct kvm_run *run = v->run;
	unsigned int size = run->io.size;
	uint64_t bytes = (uint64_t)size * run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool in = run->io.direction == KVM_EXIT_IO_IN;
	uint32_t i;

	/* KVM fills these; stay inside the mapping even if it did not. */
	if ((size != 1 && size != 2 && size != 4) || run->io.data_offset >= v->run_size ||
	    bytes > v->run_size - run->io.data_offset)
		return;
	/* String I/O: count elements back to back in the data area. */
	for (i = 0; i < run->io.count; i++) {
		ops->pio(opaque, v, run->io.port, in, size, data);
		data += size;
	}
}

static void handle_mmio(struct kvm_vcpu *v, const struct kvm_exit_ops *ops, void *opaque)
{
	struct kvm_run *run = v->run;
	unsigned int len = run->mmio.len;

	if (!len || len > sizeof(run->mmio.data))
		return;
	ops->mmio(opaque, v, run->mmio.phys_addr, run->mmio.is_write, len, run->mmio.data);
}

int kvm_vcpu_run(struct kvm_vcpu *v, const struct kvm_exit_ops *ops, void *opaque)
{
	struct kvm_run *run = v->run;
	bool memory_error;
	int ret;

	v->stop_loop = false;
	for (;;) {
		ret = kvm_vcpu_regs_flush(v);
		if (ret < 0) {
			fprintf(stderr, "petrel: vCPU %u: writing registers: %s\n", v->id,
				strerror(-ret));
			return ret;
		}
		kvm_sigbus_enter_run();
		ret = ioctl(v->fd, KVM_RUN, 0);
		memory_error = kvm_sigbus_leave_run(&v->mem_error_hva);
		/* The guest ran: cached registers are stale. */
		v->regs_valid = v->sregs_valid = false;
		v->exit_unfinished = false;
		kvm_coalesced_flush(v->vm);
		if (memory_error) {
			/* KVM_RUN ended for the host's SIGBUS: the access did not happen. */
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			return KVM_EV_MEMORY_ERROR;
		}
		if (ret < 0) {
			ret = -errno;
			if (ret == -EINTR || ret == -EAGAIN) {
				__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				v->stats[KVM_STAT_INTR]++;
				return KVM_EV_KICKED;
			}
			fprintf(stderr, "petrel: vCPU %u: KVM_RUN: %s\n", v->id, strerror(-ret));
			return ret;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v->stats[KVM_STAT_IO]++;
			handle_io(v, ops, opaque);
			v->exit_unfinished = true;
			break;
		case KVM_EXIT_MMIO:
			v->stats[KVM_STAT_MMIO]++;
			handle_mmio(v, ops, opaque);
			v->exit_unfinished = true;
			break;
		case KVM_EXIT_DIRTY_RING_FULL:
			/* the ring reached its soft limit: empty it and go on */
			v->stats[KVM_STAT_DIRTY_RING_FULL]++;
			ret = kvm_dirty_ring_full(v);
			if (ret == -EOVERFLOW) {
				fprintf(
				    stderr,
				    "petrel: vCPU %u: KVM overran its dirty ring and lost written "
				    "pages; use --dirty-log bitmap or a larger --dirty-ring-size\n",
				    v->id);
				return ret;
			}
			if (ret < 0) {
				fprintf(stderr,
					"petrel: vCPU %u: harvesting its full dirty ring: %s\n",
					v->id, strerror(-ret));
				return ret;
			}
			break;
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			v->stats[KVM_STAT_IRQ_WINDOW]++;
			break;
		case KVM_EXIT_INTR:
			v->stats[KVM_STAT_INTR]++;
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			return KVM_EV_KICKED;
		case KVM_EXIT_HLT:
			v->stats[KVM_STAT_HLT]++;
			return KVM_EV_HLT;
		case KVM_EXIT_SHUTDOWN:
			v->stats[KVM_STAT_SHUTDOWN]++;
			return KVM_EV_SHUTDOWN;
		case KVM_EXIT_FAIL_ENTRY:
			v->stats[KVM_STAT_FAIL_ENTRY]++;
			return KVM_EV_FAIL_ENTRY;
		case KVM_EXIT_INTERNAL_ERROR:
			v->stats[KVM_STAT_INTERNAL_ERROR]++;
			return KVM_EV_INTERNAL_ERROR;
		case KVM_EXIT_SYSTEM_EVENT:
			v->stats[KVM_STAT_SYSTEM_EVENT]++;
			return KVM_EV_SYSTEM_EVENT;
		case KVM_EXIT_DEBUG:
			v->stats[KVM_STAT_DEBUG]++;
			return KVM_EV_DEBUG;
		default:
			v->stats[KVM_STAT_UNKNOWN]++;
			return KVM_EV_UNKNOWN;
		}
		if (v->stop_loop)
			return KVM_EV_STOP;
		/* A kick that arrived while we handled the exit. */
		if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			v->stats[KVM_STAT_INTR]++;
			return KVM_EV_KICKED;
		}
	}
}

int kvm_vcpu_settle(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	int ret;

	if (!v->exit_unfinished)
		return 0;
	ret = kvm_vcpu_regs_flush(v);
	if (ret < 0)
		return ret;
	__atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	ret = ioctl(v->fd, KVM_RUN, 0) < 0 ? -errno : 0;
	__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	v->regs_valid = v->sregs_valid = false;
	/* KVM finished the access and returned at once: EINTR is the success */
	if (ret == -EINTR || ret == -EAGAIN || (!ret && run->exit_reason == KVM_EXIT_INTR)) {
		v->exit_unfinished = false;
		return 0;
	}
	return ret ? ret : -EIO;
}
