// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the live migration stream as a destination reads it.
 * The input is cut into messages by their headers (mig_hdr_parse, which
 * bounds each length); hellos, memory records, memfd layouts and TAP
 * handovers are decoded and checked. A refusal must say why; an accepted
 * memory record's data lies inside its message and is exactly its pages; an
 * accepted memfd layout lies inside its memfd.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "state/migration_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mig_hello h;
	struct state_err err;
	size_t off = 0;

	while (size - off >= MIG_HDR_LEN) {
		uint32_t type;
		uint64_t len;
		const uint8_t *p;

		err.msg[0] = 0;
		if (mig_hdr_parse(data + off, &type, &len, &err)) {
			if (!err.msg[0])
				abort();
			break;
		}
		off += MIG_HDR_LEN;
		if (len > size - off)
			break;
		p = data + off;
		if (type == MIG_HELLO) {
			err.msg[0] = 0;
			if (mig_hello_decode(p, (size_t)len, &h, &err) == 0) {
				if (h.nr_cpuid > MIG_CPUID_MAX)
					abort();
				mig_hello_check(&h, MIG_VERSION, "GenuineIntel", &err);
				mig_hello_check_cpuid(&h, h.cpuid, h.nr_cpuid, &err);
			} else if (!err.msg[0]) {
				abort();
			}
		} else if (type == MIG_MEM) {
			struct mig_mem m;

			err.msg[0] = 0;
			if (mig_mem_decode(p, (size_t)len, &m, &err) == 0) {
				if (!m.pages || m.pages > MIG_MEM_MAX_PAGES)
					abort();
				if (!m.zero && (m.data != p + MIG_MEM_HDR_LEN ||
						len != MIG_MEM_HDR_LEN + m.pages * GM_PAGE_SIZE))
					abort();
			} else if (!err.msg[0]) {
				abort();
			}
		} else if (type == MIG_MEMFD) {
			static struct mig_memfd f;

			/* a layout taken lies within the memfd, page aligned */
			err.msg[0] = 0;
			if (mig_memfd_decode(p, (size_t)len, &f, &err) == 0) {
				if (!f.nr || f.nr > MIG_MEMFD_REGIONS)
					abort();
				for (unsigned int i = 0; i < f.nr; i++)
					if (!f.regions[i].size ||
					    f.regions[i].offset + f.regions[i].size > f.size ||
					    (f.regions[i].offset & (GM_PAGE_SIZE - 1)))
						abort();
			} else if (!err.msg[0]) {
				abort();
			}
		} else if (type == MIG_RELEASED) {
			struct mig_released r;

			err.msg[0] = 0;
			if (mig_released_decode(p, (size_t)len, &r, &err) == 0) {
				if (r.nr > MIG_FDS_MAX)
					abort();
			} else if (!err.msg[0]) {
				abort();
			}
		}
		off += (size_t)len;
	}
	return 0;
}
