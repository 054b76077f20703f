// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X: capability, vector table, pending bits, and delivery through KVM
 * MSI routes bound to per-vector eventfds.
 */
#include "pci/msix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSI_ADDR_MASK 0xfff00000u
#define MSI_ADDR_BASE 0xfee00000u

static unsigned int pba_len(unsigned int nvec)
{
	return (nvec + 63) / 64 * 8;
}

static int route_set(struct msix *x, int *gsi, uint64_t addr, uint32_t data)
{
	return platform_msi_route_set(x->platform, gsi, addr, data);
}

static void route_release(struct msix *x, int gsi)
{
	const struct platform *p = x->platform;

	if (p && p->ops && p->ops->msi_route_release)
		p->ops->msi_route_release(p->ctx, gsi);
}

static int irqfd_set(struct msix *x, int efd, int gsi, bool assign)
{
	const struct platform *p = x->platform;

	if (!p || !p->ops || !p->ops->irqfd_set)
		return -ENOSYS;
	return p->ops->irqfd_set(p->ctx, efd, gsi, assign);
}

static int send_msi(struct msix *x, uint64_t addr, uint32_t data)
{
	const struct platform *p = x->platform;

	if (!p || !p->ops || !p->ops->send_msi)
		return -ENOSYS;
	return p->ops->send_msi(p->ctx, addr, data);
}

static bool addr_valid(const struct msix_vector *v)
{
	return (v->addr_lo & MSI_ADDR_MASK) == MSI_ADDR_BASE;
}

static uint64_t vec_addr(const struct msix_vector *v)
{
	return ((uint64_t)v->addr_hi << 32) | v->addr_lo;
}

static bool deliverable(const struct msix *x, const struct msix_vector *v)
{
	return x->enabled && !x->fmask && !(v->ctrl & MSIX_ENTRY_CTRL_MASKED);
}

static void set_pending(struct msix *x, unsigned int i, bool on)
{
	if (on)
		x->pba[i / 64] |= 1ULL << (i % 64);
	else
		x->pba[i / 64] &= ~(1ULL << (i % 64));
}

static bool is_pending(const struct msix *x, unsigned int i)
{
	return x->pba[i / 64] & (1ULL << (i % 64));
}

static void unbind(struct msix *x, struct msix_vector *v)
{
	if (!v->bound)
		return;
	irqfd_set(x, v->efd, v->gsi, false);
	v->bound = false;
}

static void release(struct msix *x, struct msix_vector *v)
{
	unbind(x, v);
	if (v->gsi >= 0)
		route_release(x, v->gsi);
	v->gsi = -1;
}

/* Send the vector's message now; the caller checked it is deliverable. */
static void deliver(struct msix *x, struct msix_vector *v)
{
	if (v->bound) {
		uint64_t one = 1;
		ssize_t r = write(v->efd, &one, sizeof(one));

		(void)r; /* EAGAIN only when the counter saturates: still signalled */
		return;
	}
	if (!addr_valid(v) || send_msi(x, vec_addr(v), v->data) < 0)
		x->dropped++;
}

/* Bring vector i's route, irqfd and pending bit in line with its state. */
static void update_vector(struct msix *x, unsigned int i)
{
	struct msix_vector *v = &x->vec[i];
	uint64_t addr = vec_addr(v);

	if (!deliverable(x, v) || !addr_valid(v)) {
		unbind(x, v);
		return;
	}
	if (v->gsi < 0 || v->route_addr != addr || v->route_data != v->data) {
		if (route_set(x, &v->gsi, addr, v->data) < 0) {
			/* No route: messages go out with send_msi. */
			unbind(x, v);
		} else {
			v->route_addr = addr;
			v->route_data = v->data;
		}
	}
	if (!v->bound && !x->no_irqfd && v->gsi >= 0 && v->route_addr == addr &&
	    v->route_data == v->data) {
		int ret = irqfd_set(x, v->efd, v->gsi, true);

		if (ret == 0)
			v->bound = true;
		else if (ret == -ENOSYS)
			x->no_irqfd = true;
	}
	if (is_pending(x, i) && pci_dev_bus_master(x->dev)) {
		set_pending(x, i, false);
		deliver(x, v);
	}
}

static void update_all(struct msix *x)
{
	unsigned int i;

	for (i = 0; i < x->nvec; i++)
		update_vector(x, i);
}

static void cap_write(void *opaque, struct pci_dev *d, uint32_t off, unsigned int size,
		      uint32_t val)
{
	struct msix *x = opaque;
	uint16_t ctrl = pci_le16_get(&d->cfg[x->cap + MSIX_CAP_CTRL]);
	bool enabled = ctrl & MSIX_CTRL_ENABLE, fmask = ctrl & MSIX_CTRL_FMASK;
	bool intx_off = false;
	unsigned int i;

	pthread_mutex_lock(&x->lock);
	if (enabled != x->enabled || fmask != x->fmask) {
		bool was_enabled = x->enabled;

		x->enabled = enabled;
		x->fmask = fmask;
		if (was_enabled && !enabled)
			for (i = 0; i < x->nvec; i++)
				release(x, &x->vec[i]);
		update_all(x);
		intx_off = enabled && !was_enabled;
	}
	pthread_mutex_unlock(&x->lock);
	/*
	 * MSI-X on: the function no longer uses its INTx pin (PCI 3.0, 6.8.2);
	 * one it left asserted would hold its line, shared or not, up for good.
	 */
	if (intx_off)
		pci_intx_set(d, false);
}

static void reset_locked(struct msix *x)
{
	unsigned int i;
	uint16_t ctrl;

	for (i = 0; i < x->nvec; i++) {
		struct msix_vector *v = &x->vec[i];

		release(x, v);
		v->addr_lo = v->addr_hi = v->data = 0;
		v->ctrl = MSIX_ENTRY_CTRL_MASKED;
		v->route_addr = 0;
		v->route_data = 0;
	}
	memset(x->pba, 0, pba_len(x->nvec));
	x->enabled = x->fmask = false;
	ctrl = pci_le16_get(&x->dev->cfg[x->cap + MSIX_CAP_CTRL]);
	pci_le16_put(&x->dev->cfg[x->cap + MSIX_CAP_CTRL],
		     ctrl & (uint16_t) ~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK));
}

int msix_init(struct msix *x, struct pci_dev *d, unsigned int nvec, int bar, uint32_t table_off,
	      uint32_t pba_off, const struct platform *p)
{
	uint64_t tlen = (uint64_t)nvec * MSIX_ENTRY_SIZE, plen = pba_len(nvec);
	unsigned int i;
	int cap, ret;

	memset(x, 0, sizeof(*x));
	if (nvec == 0 || nvec > MSIX_MAX_VECTORS || bar < 0 || bar >= PCI_NUM_BARS)
		return -EINVAL;
	if (!d->bar[bar].size || d->bar[bar].io || (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	if (table_off + tlen > d->bar[bar].size || pba_off + plen > d->bar[bar].size)
		return -EINVAL;
	if (table_off < pba_off + plen && pba_off < table_off + tlen)
		return -EINVAL;

	ret = pthread_mutex_init(&x->lock, NULL);
	if (ret)
		return -ret;
	x->dev = d;
	x->platform = p;
	x->nvec = nvec;
	x->bar = bar;
	x->table_off = table_off;
	x->pba_off = pba_off;
	x->vec = calloc(nvec, sizeof(*x->vec));
	x->pba = calloc(1, plen);
	if (!x->vec || !x->pba) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < nvec; i++) {
		x->vec[i].gsi = -1;
		x->vec[i].efd = -1;
		x->vec[i].ctrl = MSIX_ENTRY_CTRL_MASKED;
	}
	for (i = 0; i < nvec; i++) {
		x->vec[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (x->vec[i].efd < 0) {
			ret = -errno;
			goto err;
		}
	}

	cap = pci_cap_add(d, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0) {
		ret = cap;
		goto err;
	}
	x->cap = (uint8_t)cap;
	pci_le16_put(&d->cfg[cap + MSIX_CAP_CTRL], (uint16_t)(nvec - 1));
	pci_le16_put(&d->wmask[cap + MSIX_CAP_CTRL], MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	pci_le32_put(&d->cfg[cap + MSIX_CAP_TABLE], table_off | (uint32_t)bar);
	pci_le32_put(&d->cfg[cap + MSIX_CAP_PBA], pba_off | (uint32_t)bar);
	pci_cap_set_write_hook(d, x->cap, cap_write, x);
	return 0;

err:
	if (x->vec)
		for (i = 0; i < nvec; i++)
			if (x->vec[i].efd >= 0)
				close(x->vec[i].efd);
	free(x->vec);
	free(x->pba);
	pthread_mutex_destroy(&x->lock);
	memset(x, 0, sizeof(*x));
	return ret;
}

void msix_destroy(struct msix *x)
{
	unsigned int i;

	if (!x->vec)
		return;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < x->nvec; i++) {
		release(x, &x->vec[i]);
		close(x->vec[i].efd);
	}
	pthread_mutex_unlock(&x->lock);
	pci_cap_set_write_hook(x->dev, x->cap, NULL, NULL);
	free(x->vec);
	free(x->pba);
	pthread_mutex_destroy(&x->lock);
	memset(x, 0, sizeof(*x));
}

void msix_reset(struct msix *x)
{
	if (!x->vec)
		return;
	pthread_mutex_lock(&x->lock);
	reset_locked(x);
	pthread_mutex_unlock(&x->lock);
}

void msix_notify(struct msix *x, unsigned int vec)
{
	struct msix_vector *v;

	if (!x->vec || vec >= x->nvec)
		return;
	pthread_mutex_lock(&x->lock);
	v = &x->vec[vec];
	/* a message is a memory write: none while Bus Master Enable is clear */
	if (deliverable(x, v) && pci_dev_bus_master(x->dev))
		deliver(x, v);
	else
		set_pending(x, vec, true);
	pthread_mutex_unlock(&x->lock);
}

void msix_bus_master_changed(struct msix *x)
{
	if (!x->vec)
		return;
	pthread_mutex_lock(&x->lock);
	update_all(x);
	pthread_mutex_unlock(&x->lock);
}

bool msix_enabled(struct msix *x)
{
	bool on;

	if (!x->vec)
		return false;
	pthread_mutex_lock(&x->lock);
	on = x->enabled;
	pthread_mutex_unlock(&x->lock);
	return on;
}

bool msix_pending(struct msix *x, unsigned int vec)
{
	bool on;

	if (!x->vec || vec >= x->nvec)
		return false;
	pthread_mutex_lock(&x->lock);
	on = is_pending(x, vec);
	pthread_mutex_unlock(&x->lock);
	return on;
}

int msix_vector_eventfd(struct msix *x, unsigned int vec)
{
	if (!x->vec || vec >= x->nvec)
		return -1;
	return x->vec[vec].efd;
}

static bool size_ok(uint64_t off, unsigned int size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	return !(off & (size - 1));
}

static uint32_t *entry_word(struct msix *x, uint64_t off)
{
	struct msix_vector *v = &x->vec[off / MSIX_ENTRY_SIZE];

	switch (off % MSIX_ENTRY_SIZE / 4) {
	case 0:
		return &v->addr_lo;
	case 1:
		return &v->addr_hi;
	case 2:
		return &v->data;
	default:
		return &v->ctrl;
	}
}

/* Writable bits of each entry word: address dword-aligned, one mask bit. */
static uint32_t entry_wmask(uint64_t off)
{
	switch (off % MSIX_ENTRY_SIZE / 4) {
	case 0:
		return ~0x3u;
	case 3:
		return MSIX_ENTRY_CTRL_MASKED;
	default:
		return ~0u;
	}
}

uint64_t msix_table_read(struct msix *x, uint64_t off, unsigned int size)
{
	uint64_t val = 0;
	unsigned int i;

	if (!x->vec || !size_ok(off, size) || off + size > (uint64_t)x->nvec * MSIX_ENTRY_SIZE)
		return ~0ULL;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < size; i++) {
		uint64_t pos = off + i;
		uint32_t w = *entry_word(x, pos);

		val |= (uint64_t)((w >> (pos % 4 * 8)) & 0xff) << (8 * i);
	}
	pthread_mutex_unlock(&x->lock);
	return val;
}

void msix_table_write(struct msix *x, uint64_t off, unsigned int size, uint64_t val)
{
	unsigned int i;

	if (!x->vec || !size_ok(off, size) || off + size > (uint64_t)x->nvec * MSIX_ENTRY_SIZE)
		return;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < size; i++) {
		uint64_t pos = off + i;
		uint32_t *w = entry_word(x, pos);
		uint32_t shift = (uint32_t)(pos % 4 * 8);
		uint32_t m = entry_wmask(pos) & (0xffu << shift);
		uint32_t byte = (uint32_t)((val >> (8 * i)) & 0xff) << shift;

		*w = (*w & ~m) | (byte & m);
	}
	/* An aligned access of at most 8 bytes stays inside one entry. */
	update_vector(x, (unsigned int)(off / MSIX_ENTRY_SIZE));
	pthread_mutex_unlock(&x->lock);
}

uint64_t msix_pba_read(struct msix *x, uint64_t off, unsigned int size)
{
	uint64_t val = 0;
	unsigned int i;

	if (!x->vec || !size_ok(off, size) || off + size > pba_len(x->nvec))
		return ~0ULL;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < size; i++) {
		uint64_t pos = off + i;

		val |= ((x->pba[pos / 8] >> (pos % 8 * 8)) & 0xff) << (8 * i);
	}
	pthread_mutex_unlock(&x->lock);
	return val;
}

bool msix_bar_access(struct msix *x, uint64_t off, unsigned int size, uint64_t *val, bool write)
{
	uint64_t tlen, plen;

	if (!x->vec)
		return false;
	tlen = (uint64_t)x->nvec * MSIX_ENTRY_SIZE;
	plen = pba_len(x->nvec);
	if (off >= x->table_off && off < x->table_off + tlen) {
		if (write)
			msix_table_write(x, off - x->table_off, size, *val);
		else
			*val = msix_table_read(x, off - x->table_off, size);
		return true;
	}
	if (off >= x->pba_off && off < x->pba_off + plen) {
		if (!write) /* the PBA is read-only */
			*val = msix_pba_read(x, off - x->pba_off, size);
		return true;
	}
	return false;
}

static uint64_t bar_read(void *opaque, uint64_t off, unsigned int size)
{
	uint64_t val = ~0ULL;

	msix_bar_access(opaque, off, size, &val, false);
	return val;
}

static void bar_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	msix_bar_access(opaque, off, size, &val, true);
}

const struct bus_ops msix_bar_ops = {bar_read, bar_write};

int msix_save(struct msix *x, struct msix_entry_state *tab, uint64_t *pba, unsigned int nvec)
{
	unsigned int i;

	if (!x->vec || nvec != x->nvec)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < nvec; i++)
		tab[i] = (struct msix_entry_state){.addr_lo = x->vec[i].addr_lo,
						   .addr_hi = x->vec[i].addr_hi,
						   .data = x->vec[i].data,
						   .ctrl = x->vec[i].ctrl};
	memcpy(pba, x->pba, pba_len(nvec));
	pthread_mutex_unlock(&x->lock);
	return 0;
}

int msix_state_check(const struct msix *x, const struct msix_entry_state *tab, const uint64_t *pba,
		     unsigned int nvec, unsigned int *vec, const char **field)
{
	unsigned int i;

	*vec = 0;
	if (!x->vec || nvec != x->nvec) {
		*field = "vectors";
		return -EINVAL;
	}
	for (i = 0; i < nvec; i++) {
		*vec = i;
		if (tab[i].addr_lo & ~entry_wmask(MSIX_ENTRY_ADDR_LO)) {
			*field = "addr_lo";
			return -EINVAL;
		}
		if (tab[i].ctrl & ~entry_wmask(MSIX_ENTRY_CTRL)) {
			*field = "ctrl";
			return -EINVAL;
		}
	}
	if (nvec % 64 && pba[nvec / 64] >> (nvec % 64)) {
		*vec = nvec / 64;
		*field = "pba";
		return -EINVAL;
	}
	return 0;
}

int msix_restore(struct msix *x, const struct msix_entry_state *tab, const uint64_t *pba,
		 unsigned int nvec)
{
	unsigned int i;

	if (!x->vec || nvec != x->nvec)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < nvec; i++) {
		struct msix_vector *v = &x->vec[i];

		v->addr_lo = tab[i].addr_lo & entry_wmask(MSIX_ENTRY_ADDR_LO);
		v->addr_hi = tab[i].addr_hi;
		v->data = tab[i].data;
		v->ctrl = tab[i].ctrl & MSIX_ENTRY_CTRL_MASKED;
	}
	memcpy(x->pba, pba, pba_len(nvec));
	update_all(x);
	pthread_mutex_unlock(&x->lock);
	return 0;
}
