/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MSI-X for a PCI function: the capability, the vector table and pending bit
 * array in one of its memory BARs, and delivery through per-vector eventfds
 * bound to KVM MSI routes (irqfd), or send_msi when irqfds are unavailable.
 *
 * A vector is deliverable while MSI-X is enabled, the function is not masked,
 * the vector is not masked and its address is an interrupt address
 * (0xfeexxxxx). Deliverable vectors have a route and a bound irqfd, so
 * msix_notify() is a single eventfd write. Signals to a vector that is not
 * deliverable set its pending bit; the message goes out when it becomes
 * deliverable again. While COMMAND's Bus Master Enable is clear no message
 * goes out (it is a memory write): signals pend until the device model calls
 * msix_bus_master_changed() with it set again. Masking unbinds the irqfd and
 * keeps the route; disabling
 * MSI-X or msix_reset() also releases the routes. Enabling MSI-X lowers the
 * function's INTx (pci_intx_set), which it must not use while MSI-X is on.
 */
#ifndef PETREL_PCI_MSIX_H
#define PETREL_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/platform.h"
#include "pci/pci.h"

#define PCI_CAP_ID_MSIX 0x11
#define MSIX_CAP_LEN 12
#define MSIX_MAX_VECTORS 2048
#define MSIX_ENTRY_SIZE 16

/* Offsets inside the capability */
#define MSIX_CAP_CTRL 2
#define MSIX_CAP_TABLE 4
#define MSIX_CAP_PBA 8
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_FMASK 0x4000
#define MSIX_CTRL_SIZE_MASK 0x07ff

/* Offsets inside a table entry */
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA 8
#define MSIX_ENTRY_CTRL 12
#define MSIX_ENTRY_CTRL_MASKED 0x1

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl; /* the table entry */
	int efd;			       /* eventfd for irqfd */
	int gsi;			       /* MSI route, -1 when none */
	uint64_t route_addr;		       /* what the route currently says */
	uint32_t route_data;
	bool bound; /* efd is bound to gsi with irqfd */
};

struct msix {
	pthread_mutex_t lock;
	struct pci_dev *dev;
	const struct platform *platform;
	unsigned int nvec;
	int bar;
	uint32_t table_off, pba_off; /* inside the BAR */
	uint8_t cap;		     /* capability offset in config space */
	bool enabled, fmask;	     /* last seen in the message control */
	bool no_irqfd;		     /* platform said -ENOSYS: use send_msi */
	struct msix_vector *vec;
	uint64_t *pba;
	uint64_t dropped; /* signals to a deliverable vector with a bad address */
};

/*
 * Add the capability to d for nvec (1..2048) vectors whose table and PBA live
 * in d's memory BAR bar (already added) at table_off and pba_off (8-byte
 * aligned, inside the BAR, not overlapping). All vectors start masked.
 * The capability's config writes are hooked; the device's BAR ops must
 * pass table/PBA accesses to msix_bar_access() (or use msix_bar_ops).
 */
int msix_init(struct msix *x, struct pci_dev *d, unsigned int nvec, int bar, uint32_t table_off,
	      uint32_t pba_off, const struct platform *p);
void msix_destroy(struct msix *x);
/* Device reset: MSI-X disabled, every vector masked, routes and irqfds gone. */
void msix_reset(struct msix *x);

/* Signal vector vec: delivered if deliverable, else left pending. */
void msix_notify(struct msix *x, unsigned int vec);
/* COMMAND's Bus Master Enable changed: with it set, pending messages go out. */
void msix_bus_master_changed(struct msix *x);
/* MSI-X enabled by the guest (else the device uses INTx). */
bool msix_enabled(struct msix *x);
bool msix_pending(struct msix *x, unsigned int vec);
int msix_vector_eventfd(struct msix *x, unsigned int vec);

/*
 * BAR accesses: off is relative to the BAR. When it falls in the table or the
 * PBA the access is handled (a read stores into *val) and true returned.
 */
bool msix_bar_access(struct msix *x, uint64_t off, unsigned int size, uint64_t *val, bool write);
/* Table/PBA accesses with off relative to the table/PBA start. */
uint64_t msix_table_read(struct msix *x, uint64_t off, unsigned int size);
void msix_table_write(struct msix *x, uint64_t off, unsigned int size, uint64_t val);
uint64_t msix_pba_read(struct msix *x, uint64_t off, unsigned int size);
/* Ops for a BAR that holds only the table and PBA (opaque: struct msix *). */
extern const struct bus_ops msix_bar_ops;

/* A table entry as saved: the four words the guest sees. */
struct msix_entry_state {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

/* Words of the PBA of @nvec vectors. */
#define MSIX_PBA_WORDS(nvec) (((nvec) + 63) / 64)

/* The table (@nvec entries, x->nvec of them) and the PBA words: -EINVAL for another @nvec. */
int msix_save(struct msix *x, struct msix_entry_state *tab, uint64_t *pba, unsigned int nvec);
/*
 * Could the guest (and the device) have left the table and PBA so? Each
 * entry's reserved bits clear (address dword-aligned, only the mask bit in
 * its control), no pending bit past the last vector. 0, or -EINVAL with
 * *@vec the bad entry and *@field its word ("addr_lo", "ctrl", "pba").
 */
int msix_state_check(const struct msix *x, const struct msix_entry_state *tab, const uint64_t *pba,
		     unsigned int nvec, unsigned int *vec, const char **field);
/*
 * Put the checked table and PBA back; routes and irqfds follow as after a
 * guest's table write (with MSI-X enabled, deliverable vectors are bound).
 * The capability's control word is the config space's: restore it there
 * (pci_dev_restore replays it through the capability's hook).
 */
int msix_restore(struct msix *x, const struct msix_entry_state *tab, const uint64_t *pba,
		 unsigned int nvec);

#endif
