// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every device's state as named sections: the legacy devices on their
 * ports, the PCI host, and per virtio device its config space, its
 * transport (registers, queues, MSI-X) and its model. Restoring checks every
 * value before it goes in, then puts it in as the guest's own writes would
 * have (BARs claimed, doorbells bound, MSI routes and irqfds rebuilt).
 *
 * Sections (version 1 unless said):
 *	uart.com1	struct uart_state
 *	rtc		struct rtc_cmos_state
 *	i8042		struct i8042_state
 *	acpi-pm		struct acpi_pm_state (the power button's status with it)
 *	pci-host	struct pci_host_section: CONFIG_ADDRESS, the bridge's config space
 *	NAME.pci	struct pci_dev_state of a virtio device
 *	NAME		struct virtio_pci_state: its transport and MSI-X table
 *	NAME.dev	its model: struct virtio_blk_state, virtio_net_state, virtio_console_state,
 *			virtio_vsock_state (its cid: connections are not carried),
 *			virtio_balloon_state
 * with NAME blk.N and net.N (N in --disk and --net order), rng, balloon, console and vsock.
 * net.N and net.N.dev are version 2: the NIC has a control queue (three
 * queues, four MSI-X vectors), and its model's section is struct
 * virtio_net_state followed by the packet waiting for receive buffers, if
 * any (at most VIRTIO_NET_MAX_PACKET bytes). Version 1 of them, from a NIC
 * without a control queue, is refused by name.
 * pvpanic, the debug-exit port and the boot timer hold no guest state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vm/devices.h"
#include "vm/devices_priv.h"

#define SECTION_VERSION 1
/* net.N and net.N.dev */
#define NET_SECTION_VERSION 2
/* How long a save waits for a disk's requests in flight. */
#define SAVE_BLK_DRAIN_MS 5000

struct pci_host_section {
	uint32_t config_address;
	uint32_t pad;
	struct pci_dev_state bridge;
};

_Static_assert(sizeof(struct uart_state) == 29, "uart_state layout");
_Static_assert(sizeof(struct rtc_cmos_state) == 144, "rtc_cmos_state layout");
_Static_assert(sizeof(struct i8042_state) == 28, "i8042_state layout");
_Static_assert(sizeof(struct acpi_pm_state) == 8, "acpi_pm_state layout");
_Static_assert(sizeof(struct pci_host_section) == 8 + PCI_CFG_SPACE_SIZE, "pci-host layout");
_Static_assert(sizeof(struct virtio_pci_state) == 824, "virtio_pci_state layout");
_Static_assert(sizeof(struct virtio_blk_state) == 16, "virtio_blk_state layout");
_Static_assert(sizeof(struct virtio_net_state) == 16, "virtio_net_state layout");
_Static_assert(VIRTIO_NET_NR_QUEUES <= VIRTIO_PCI_MAX_QUEUES, "virtio_pci_state holds the NIC");
_Static_assert(sizeof(struct virtio_console_state) == 8, "virtio_console_state layout");
_Static_assert(sizeof(struct virtio_vsock_state) == 8, "virtio_vsock_state layout");
_Static_assert(VIRTIO_VSOCK_NR_QUEUES <= VIRTIO_PCI_MAX_QUEUES, "virtio_pci_state holds vsock");

_Static_assert(sizeof(struct virtio_balloon_state) == 168, "virtio_balloon_state layout");

enum vdev_kind { VDEV_BLK, VDEV_NET, VDEV_RNG, VDEV_BALLOON, VDEV_CONSOLE, VDEV_VSOCK };

/* A virtio device the machine may have: its sections' name, and it when it is there. */
struct vdev {
	char name[VM_STATE_NAME_MAX + 1];
	enum vdev_kind kind;
	struct virtio_pci *vp; /* NULL: the configuration has none */
	void *dev;
};

#define MAX_VDEVS (VM_MAX_DISKS + VM_MAX_NETS + 4)

/* Every virtio device the machine could have, in the order they are plugged. */
static unsigned int list_vdevs(struct vm_devices *d, struct vdev *v)
{
	unsigned int n = 0, i;

	for (i = 0; i < VM_MAX_DISKS; i++, n++) {
		v[n] = (struct vdev){.kind = VDEV_BLK, .dev = d->blk[i]};
		v[n].vp = d->blk[i] ? &d->blk[i]->vp : NULL;
		snprintf(v[n].name, sizeof(v[n].name), "blk.%u", i);
	}
	for (i = 0; i < VM_MAX_NETS; i++, n++) {
		v[n] = (struct vdev){.kind = VDEV_NET, .dev = d->net[i]};
		v[n].vp = d->net[i] ? &d->net[i]->vp : NULL;
		snprintf(v[n].name, sizeof(v[n].name), "net.%u", i);
	}
	v[n] = (struct vdev){.name = "rng", .kind = VDEV_RNG, .dev = d->rng};
	v[n++].vp = d->rng ? &d->rng->vp : NULL;
	v[n] = (struct vdev){.name = "balloon", .kind = VDEV_BALLOON, .dev = d->balloon};
	v[n++].vp = d->balloon ? &d->balloon->vp : NULL;
	v[n] = (struct vdev){.name = "console", .kind = VDEV_CONSOLE, .dev = d->con};
	v[n++].vp = d->con ? &d->con->vp : NULL;
	v[n] = (struct vdev){.name = "vsock", .kind = VDEV_VSOCK, .dev = d->vsock};
	v[n++].vp = d->vsock ? &d->vsock->vp : NULL;
	return n;
}

/* "NAME.suffix" */
static void sub_name(char *out, const struct vdev *v, const char *suffix)
{
	/* at most "console.pci": always fits */
	if (snprintf(out, VM_STATE_NAME_MAX + 1, "%s.%s", v->name, suffix) > VM_STATE_NAME_MAX)
		out[VM_STATE_NAME_MAX] = '\0';
}

static int put_version(const struct vm_state_sink *sink, const char *name, uint32_t version,
		       const void *data, size_t len, struct vm_state_err *err)
{
	int ret = sink->put(sink->ctx, name, version, data, len);

	if (ret < 0)
		return vm_state_fail(err, ret, "saving section '%s': %s", name, strerror(-ret));
	return 0;
}

static int put(const struct vm_state_sink *sink, const char *name, const void *data, size_t len,
	       struct vm_state_err *err)
{
	return put_version(sink, name, SECTION_VERSION, data, len, err);
}

static int get(const struct vm_state_source *src, const char *name, void *out, size_t len,
	       struct vm_state_err *err)
{
	return vm_state_get_exact(src, name, SECTION_VERSION, out, len, err);
}

/*
 * Section @name of exactly @version: *data and *len set. An older one is
 * refused by name (@why: what changed since).
 */
static int get_at(const struct vm_state_source *src, const char *name, uint32_t version,
		  const char *why, const void **data, size_t *len, struct vm_state_err *err)
{
	uint32_t got;
	int ret;

	ret = src->get(src->ctx, name, version, data, len, &got);
	if (ret == -ENOENT)
		return vm_state_fail(err, -EINVAL, "the state has no section '%s'", name);
	if (ret < 0)
		return vm_state_fail(err, -EINVAL,
				     "section '%s' is newer than this petrel reads (version %u)",
				     name, version);
	if (got != version)
		return vm_state_fail(err, -EINVAL,
				     "section '%s' is version %u, from a petrel before %s: this "
				     "petrel restores version %u only",
				     name, got, why, version);
	return 0;
}

#define NET_WHY "virtio-net's control queue"

/* The NIC's transport (version 2), of exactly @len bytes. */
static int get_net_transport(const struct vm_state_source *src, const char *name, void *out,
			     size_t len, struct vm_state_err *err)
{
	const void *data;
	size_t got;
	int ret = get_at(src, name, NET_SECTION_VERSION, NET_WHY, &data, &got, err);

	if (ret < 0)
		return ret;
	if (got != len)
		return vm_state_fail(err, -EINVAL,
				     "section '%s' holds %zu bytes where %zu were expected", name,
				     got, len);
	memcpy(out, data, len);
	return 0;
}

static bool has_section(const struct vm_state_source *src, const char *name)
{
	const void *data;
	size_t len;
	uint32_t version;

	return src->get(src->ctx, name, UINT32_MAX, &data, &len, &version) != -ENOENT;
}

/* A field a checker named: one line naming the section and the field. */
static int bad_field(struct vm_state_err *err, const char *section, const char *field)
{
	return vm_state_fail(err, -EINVAL, "section '%s': %s holds a value the device cannot have",
			     section, field);
}

/* ---- saving ---- */

static int save_legacy(struct vm_devices *d, const struct vm_state_sink *sink,
		       struct vm_state_err *err)
{
	struct uart_state uart;
	struct rtc_cmos_state rtc;
	struct i8042_state kbc;
	struct acpi_pm_state pm;
	int ret;

	/* what the guest wrote is out before the UART is saved: not part of the state */
	uart_flush(&d->com1);
	uart_save(&d->com1, &uart);
	rtc_cmos_save(&d->rtc, &rtc);
	i8042_save(&d->kbc, &kbc);
	acpi_pm_save(&d->pm, &pm);
	ret = put(sink, "uart.com1", &uart, sizeof(uart), err);
	if (!ret)
		ret = put(sink, "rtc", &rtc, sizeof(rtc), err);
	if (!ret)
		ret = put(sink, "i8042", &kbc, sizeof(kbc), err);
	if (!ret)
		ret = put(sink, "acpi-pm", &pm, sizeof(pm), err);
	return ret;
}

static int save_pci_host(struct vm_devices *d, const struct vm_state_sink *sink,
			 struct vm_state_err *err)
{
	static struct pci_host_section s; /* 4 KiB: not on the stack; one save at a time */

	memset(&s, 0, sizeof(s));
	s.config_address = pci_host_save(&d->pci);
	pthread_mutex_lock(&d->pci.lock);
	pci_dev_save(&d->pci.bridge, &s.bridge);
	pthread_mutex_unlock(&d->pci.lock);
	return put(sink, "pci-host", &s, sizeof(s), err);
}

/* The model gives back or completes everything it holds. */
static int quiesce(const struct vdev *v, struct vm_state_err *err)
{
	int ret;

	switch (v->kind) {
	case VDEV_BLK:
		ret = virtio_blk_quiesce(v->dev, SAVE_BLK_DRAIN_MS);
		if (ret < 0)
			return vm_state_fail(err, ret, "%s: the requests in flight %s", v->name,
					     ret == -ETIMEDOUT
						 ? "did not complete in time"
						 : "could not be completed and synced");
		break;
	case VDEV_NET:
		virtio_net_quiesce(v->dev);
		break;
	case VDEV_CONSOLE:
		virtio_console_quiesce(v->dev);
		break;
	case VDEV_BALLOON:
		virtio_balloon_quiesce(v->dev);
		break;
	case VDEV_RNG:
	case VDEV_VSOCK:
		break; /* requests are served at once; receive buffers stay on the ring */
	}
	return 0;
}

static int save_model(const struct vdev *v, const struct vm_state_sink *sink,
		      struct vm_state_err *err)
{
	char name[VM_STATE_NAME_MAX + 1];
	/* a NIC's with its pending packet: not on the stack; one save at a time */
	static union {
		struct virtio_blk_state blk;
		struct virtio_net_state net;
		struct virtio_console_state con;
		struct virtio_vsock_state vsock;
		struct virtio_balloon_state balloon;
		uint8_t bytes[VIRTIO_NET_STATE_MAX];
	} s;
	size_t len;

	switch (v->kind) {
	case VDEV_BLK:
		virtio_blk_save(v->dev, &s.blk);
		len = sizeof(s.blk);
		break;
	case VDEV_NET:
		virtio_net_save(v->dev, &s.net, s.bytes + sizeof(s.net));
		len = sizeof(s.net) + s.net.pending_len;
		sub_name(name, v, "dev");
		return put_version(sink, name, NET_SECTION_VERSION, &s, len, err);
	case VDEV_CONSOLE:
		virtio_console_save(v->dev, &s.con);
		len = sizeof(s.con);
		break;
	case VDEV_VSOCK:
		virtio_vsock_save(v->dev, &s.vsock);
		len = sizeof(s.vsock);
		break;
	case VDEV_BALLOON:
		virtio_balloon_save(v->dev, &s.balloon);
		len = sizeof(s.balloon);
		break;
	default:
		return 0; /* virtio-rng has no state of its own */
	}
	sub_name(name, v, "dev");
	return put(sink, name, &s, len, err);
}

static int save_vdev(struct vm_devices *d, const struct vdev *v, const struct vm_state_sink *sink,
		     struct vm_state_err *err)
{
	static struct pci_dev_state cfg;
	static struct virtio_pci_state tr;
	char name[VM_STATE_NAME_MAX + 1];
	int ret;

	ret = quiesce(v, err);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&d->pci.lock);
	pci_dev_save(&v->vp->pci, &cfg);
	pthread_mutex_unlock(&d->pci.lock);
	virtio_pci_save(v->vp, &tr);
	sub_name(name, v, "pci");
	ret = put(sink, name, &cfg, sizeof(cfg), err);
	if (!ret)
		ret = put_version(sink, v->name,
				  v->kind == VDEV_NET ? NET_SECTION_VERSION : SECTION_VERSION, &tr,
				  sizeof(tr), err);
	if (!ret)
		ret = save_model(v, sink, err);
	return ret;
}

int vm_devices_save(struct machine *m, const struct vm_state_sink *sink, struct vm_state_err *err)
{
	struct vm_devices *d = m->devs;
	struct vdev v[MAX_VDEVS];
	unsigned int n, i;
	int ret;

	if (!d)
		return vm_state_fail(err, -ENODEV, "the machine has no devices");
	ret = save_legacy(d, sink, err);
	if (ret < 0 || !d->pci_on)
		return ret;
	ret = save_pci_host(d, sink, err);
	n = list_vdevs(d, v);
	for (i = 0; i < n && !ret; i++)
		if (v[i].vp)
			ret = save_vdev(d, &v[i], sink, err);
	/* chains given back to their rings are taken again once the devices go on */
	for (i = 0; i < n; i++)
		if (v[i].vp)
			virtio_pci_kick_all(v[i].vp);
	return ret;
}

/* ---- restoring ---- */

static int restore_legacy(struct vm_devices *d, const struct vm_state_source *src,
			  struct vm_state_err *err)
{
	struct uart_state uart;
	struct rtc_cmos_state rtc;
	struct i8042_state kbc;
	struct acpi_pm_state pm;
	const char *field;
	int ret;

	ret = get(src, "uart.com1", &uart, sizeof(uart), err);
	if (!ret && (field = uart_state_check(&uart)))
		ret = bad_field(err, "uart.com1", field);
	if (!ret)
		ret = get(src, "rtc", &rtc, sizeof(rtc), err);
	if (!ret && (field = rtc_cmos_state_check(&rtc)))
		ret = bad_field(err, "rtc", field);
	if (!ret)
		ret = get(src, "i8042", &kbc, sizeof(kbc), err);
	if (!ret && (field = i8042_state_check(&kbc)))
		ret = bad_field(err, "i8042", field);
	if (!ret)
		ret = get(src, "acpi-pm", &pm, sizeof(pm), err);
	if (!ret && (field = acpi_pm_state_check(&pm)))
		ret = bad_field(err, "acpi-pm", field);
	if (ret < 0)
		return ret;
	uart_restore(&d->com1, &uart);
	rtc_cmos_restore(&d->rtc, &rtc);
	i8042_restore(&d->kbc, &kbc);
	acpi_pm_restore(&d->pm, &pm);
	return 0;
}

/* A saved config space that does not fit @dev: one line naming the byte. */
static int bad_config(struct vm_state_err *err, const char *section, uint32_t off)
{
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 4 * PCI_NUM_BARS)
		return vm_state_fail(err, -EINVAL,
				     "section '%s': BAR%u is not aligned to its size or not of "
				     "the device's kind",
				     section, (off - PCI_BAR0) / 4);
	return vm_state_fail(err, -EINVAL,
			     "section '%s': config byte 0x%03x is not what this device has there "
			     "(another device?)",
			     section, off);
}

/* Does a memory BAR of @pd now claimed lie over guest RAM? */
static int bar_over_ram(struct vm_devices *d, const struct pci_dev *pd)
{
	const struct guest_mem *gm = &d->m->mem;
	unsigned int i, r;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &pd->bar[i];

		if (!b->mapped || b->io)
			continue;
		for (r = 0; r < gm->nr_regions; r++)
			if (b->addr < gm->regions[r].gpa + gm->regions[r].size &&
			    gm->regions[r].gpa < b->addr + b->size)
				return (int)i;
	}
	return -1;
}

/* Check and put a config space into @pd, as the guest's writes would (host lock held). */
static int restore_config(struct vm_devices *d, struct pci_dev *pd, const char *section,
			  const struct pci_dev_state *s, struct vm_state_err *err)
{
	uint32_t off;
	int bar = -1, ret;

	pthread_mutex_lock(&d->pci.lock);
	ret = pci_dev_state_check(pd, s, &off);
	if (ret < 0) {
		pthread_mutex_unlock(&d->pci.lock);
		return bad_config(err, section, off);
	}
	ret = pci_dev_restore(pd, s, &bar);
	if (!ret && (bar = bar_over_ram(d, pd)) >= 0)
		ret = -EINVAL;
	pthread_mutex_unlock(&d->pci.lock);
	if (ret == -EBUSY)
		return vm_state_fail(err, -EINVAL,
				     "section '%s': BAR%d overlaps another device's range", section,
				     bar);
	if (ret < 0)
		return vm_state_fail(err, -EINVAL,
				     "section '%s': BAR%d at 0x%llx overlaps guest RAM", section,
				     bar, (unsigned long long)pd->bar[bar].addr);
	return 0;
}

static int restore_pci_host(struct vm_devices *d, const struct vm_state_source *src,
			    struct vm_state_err *err)
{
	static struct pci_host_section s;
	int ret;

	ret = get(src, "pci-host", &s, sizeof(s), err);
	if (ret < 0)
		return ret;
	if (pci_host_restore(&d->pci, s.config_address) < 0)
		return bad_field(err, "pci-host", "config_address");
	return restore_config(d, &d->pci.bridge, "pci-host", &s.bridge, err);
}

union model_state {
	struct virtio_blk_state blk;
	struct virtio_net_state net;
	struct virtio_console_state con;
	struct virtio_vsock_state vsock;
	struct virtio_balloon_state balloon;
	uint8_t bytes[VIRTIO_NET_STATE_MAX]; /* a NIC's, with its pending packet */
};

/* A NIC's model: its state, then the packet waiting for buffers (checked). */
static int get_net_model(const struct vdev *v, const struct vm_state_source *src, const char *name,
			 union model_state *s, struct vm_state_err *err)
{
	const void *data;
	const char *field;
	size_t len;
	int ret = get_at(src, name, NET_SECTION_VERSION, NET_WHY, &data, &len, err);

	if (ret < 0)
		return ret;
	if (len < sizeof(s->net) || len > sizeof(s->bytes))
		return vm_state_fail(err, -EINVAL,
				     "section '%s' holds %zu bytes where %zu to %zu were expected",
				     name, len, sizeof(s->net), sizeof(s->bytes));
	memcpy(s->bytes, data, len);
	field = virtio_net_state_check(v->dev, &s->net, len - sizeof(s->net));
	return field ? bad_field(err, name, field) : 0;
}

/* Read and check the model's section (none for virtio-rng). */
static int get_model(const struct vdev *v, const struct vm_state_source *src, union model_state *s,
		     struct vm_state_err *err)
{
	char name[VM_STATE_NAME_MAX + 1];
	const char *field = NULL;
	int ret = 0;

	sub_name(name, v, "dev");
	switch (v->kind) {
	case VDEV_BLK:
		ret = get(src, name, &s->blk, sizeof(s->blk), err);
		if (!ret && (field = virtio_blk_state_check(v->dev, &s->blk)))
			return vm_state_fail(err, -EINVAL,
					     "section '%s': %s differs from this disk's (another "
					     "image, or resized?)",
					     name, field);
		break;
	case VDEV_NET:
		ret = get_net_model(v, src, name, s, err);
		break;
	case VDEV_CONSOLE:
		ret = get(src, name, &s->con, sizeof(s->con), err);
		if (!ret && (field = virtio_console_state_check(&s->con)))
			ret = bad_field(err, name, field);
		break;
	case VDEV_VSOCK:
		ret = get(src, name, &s->vsock, sizeof(s->vsock), err);
		if (!ret && (field = virtio_vsock_state_check(v->dev, &s->vsock)))
			ret = vm_state_fail(err, -EINVAL,
					    "section '%s': %s differs from this device's (another "
					    "--vsock cid?)",
					    name, field);
		break;
	case VDEV_BALLOON:
		ret = get(src, name, &s->balloon, sizeof(s->balloon), err);
		if (!ret && (field = virtio_balloon_state_check(v->dev, &s->balloon)))
			ret = bad_field(err, name, field);
		break;
	case VDEV_RNG:
		if (has_section(src, name))
			ret = vm_state_fail(err, -EINVAL,
					    "section '%s': virtio-rng has no such state", name);
		break;
	}
	return ret;
}

static void restore_model(const struct vdev *v, const union model_state *s)
{
	if (v->kind == VDEV_BLK)
		virtio_blk_restore(v->dev, &s->blk);
	else if (v->kind == VDEV_NET)
		virtio_net_restore(v->dev, &s->net, s->bytes + sizeof(s->net));
	else if (v->kind == VDEV_CONSOLE)
		virtio_console_restore(v->dev, &s->con);
	else if (v->kind == VDEV_BALLOON)
		(void)virtio_balloon_restore(
		    v->dev, &s->balloon); /* a timer that cannot be set: no statistics */
}

static int restore_vdev(struct vm_devices *d, const struct vdev *v,
			const struct vm_state_source *src, struct vm_state_err *err)
{
	static struct pci_dev_state cfg;
	static struct virtio_pci_state tr;
	static union model_state model; /* up to 64 KiB: one restore at a time */
	char name[VM_STATE_NAME_MAX + 1], field[48];
	int ret;

	sub_name(name, v, "pci");
	ret = get(src, name, &cfg, sizeof(cfg), err);
	if (!ret && v->kind == VDEV_NET)
		ret = get_net_transport(src, v->name, &tr, sizeof(tr), err);
	else if (!ret)
		ret = get(src, v->name, &tr, sizeof(tr), err);
	if (!ret && virtio_pci_state_check(v->vp, &tr, field, sizeof(field)) < 0)
		ret = bad_field(err, v->name, field);
	if (!ret)
		ret = get_model(v, src, &model, err);
	if (ret < 0)
		return ret;
	/* the transport first: the config space's replay binds its queues' doorbells */
	if (virtio_pci_restore(v->vp, &tr, field, sizeof(field)) < 0)
		return vm_state_fail(err, -EINVAL, "section '%s': %s", v->name, field);
	ret = restore_config(d, &v->vp->pci, name, &cfg, err);
	if (ret < 0)
		return ret;
	restore_model(v, &model);
	return 0;
}

/* Sections of devices this machine lacks are refused by name. */
static int refuse_absent(struct vm_devices *d, const struct vdev *v, unsigned int n,
			 const struct vm_state_source *src, struct vm_state_err *err)
{
	unsigned int i;

	if (!d->pci_on && has_section(src, "pci-host"))
		return vm_state_fail(err, -EINVAL,
				     "section 'pci-host': this machine has no PCI bus (another "
				     "configuration?)");
	for (i = 0; i < n; i++) {
		char name[VM_STATE_NAME_MAX + 1];

		sub_name(name, &v[i], "pci");
		if (!v[i].vp && (has_section(src, v[i].name) || has_section(src, name)))
			return vm_state_fail(err, -EINVAL,
					     "section '%s': this machine has no such device "
					     "(another configuration?)",
					     v[i].name);
	}
	return 0;
}

int vm_devices_restore(struct machine *m, const struct vm_state_source *src,
		       struct vm_state_err *err)
{
	struct vm_devices *d = m->devs;
	struct vdev v[MAX_VDEVS];
	unsigned int n, i;
	int ret;

	if (!d)
		return vm_state_fail(err, -ENODEV, "the machine has no devices");
	n = list_vdevs(d, v); /* without a PCI bus, none is there */
	ret = refuse_absent(d, v, n, src, err);
	if (!ret)
		ret = restore_legacy(d, src, err);
	if (!ret && d->pci_on)
		ret = restore_pci_host(d, src, err);
	for (i = 0; i < n && !ret; i++)
		if (v[i].vp)
			ret = restore_vdev(d, &v[i], src, err);
	if (ret < 0)
		return ret;
	/* once the machine runs, each enabled queue is looked at as if the driver kicked */
	for (i = 0; i < n; i++)
		if (v[i].vp)
			virtio_pci_kick_all(v[i].vp);
	return 0;
}

void vm_devices_resync_irqs(struct machine *m)
{
	if (m->devs)
		i8042_resync_irqs(&m->devs->kbc);
}

unsigned int vm_devices_announce(struct machine *m)
{
	struct vm_devices *d = m->devs;
	unsigned int i, asked = 0;

	if (!d)
		return 0;
	for (i = 0; i < VM_MAX_NETS; i++)
		if (d->net[i] && virtio_net_announce(d->net[i]))
			asked++;
	/* connections stayed behind: the guest drops its own */
	if (d->vsock && virtio_vsock_transport_reset(d->vsock))
		asked++;
	return asked;
}
