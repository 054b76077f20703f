// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-vsock's receive and transmit queues (queue 0 and 1; the event queue
 * stays unset) on the virtqueue walker, over the harness's guest memory
 * (fuzz_virtio.h): the guest's packets, parsed and checked, against real
 * UNIX sockets in a temporary directory. The device's socket is DIR/v.sock;
 * a host listener waits on DIR/v.sock_5, so a guest connecting to port 5
 * gets a connection. DEV's sub-command plays the host: 0 accept a pending
 * connection on v.sock_5, 1 one of the host's sockets writes u8 bytes of
 * the input, 2 one closes, 3 every watched fd fires with what it is watched
 * for. DEV2: a host process connects to v.sock and writes u8 bytes of the
 * input ("CONNECT 5\n" in the seeds).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_virtio.h"
#include "virtio/virtio_vsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST_FDS 8

static struct fz fz;
static struct virtio_vsock vs;
static char dir[32] = "/tmp/petrel-fuzz-vsock-XXXXXX";
static int listener = -1; /* DIR/v.sock_5 */
static int host[HOST_FDS];
static unsigned int nr_host;

static int unix_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		fz_fail("the host listener");
	return fd;
}

static void host_keep(int fd)
{
	if (nr_host == HOST_FDS) {
		close(fd);
		return;
	}
	host[nr_host++] = fd;
}

static int vsock_create(struct fz *f)
{
	struct virtio_vsock_config_opts o = {.cid = 3};

	snprintf(o.uds, sizeof(o.uds), "%s/v.sock", dir);
	nr_host = 0;
	if (virtio_vsock_init(&vs, &o, false, &f->gm, &f->plat, &f->io) < 0)
		return -1;
	f->vp = &vs.vp;
	return 0;
}

static void vsock_destroy(struct fz *f)
{
	unsigned int i;

	virtio_vsock_destroy(&vs);
	for (i = 0; i < nr_host; i++)
		close(host[i]);
	nr_host = 0;
	/* connections the device never accepted are dropped */
	for (int fd; (fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
		close(fd);
}

static void vsock_dev(struct fz *f, struct fz_in *in)
{
	uint8_t sub = fz_u8(in);
	const uint8_t *p;
	size_t len;
	int fd;

	switch (sub % 4) {
	case 0:
		fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			host_keep(fd);
		break;
	case 1:
		fd = nr_host ? host[fz_u8(in) % nr_host] : -1;
		p = fz_bytes(in, fz_u8(in), &len);
		if (fd >= 0 && len && send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* full, or the other end went: as a host would see it */
		}
		break;
	case 2:
		if (nr_host) {
			unsigned int i = fz_u8(in) % nr_host;

			close(host[i]);
			host[i] = host[--nr_host];
		}
		break;
	case 3:
		fz_fire_all(f);
		break;
	}
}

static void vsock_dev2(struct fz *f, struct fz_in *in)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	const uint8_t *p = fz_bytes(in, fz_u8(in), &len);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/v.sock", dir);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	if (len && send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* the device may have refused it already */
	}
	host_keep(fd);
	fz_fire_all(f);
}

static const struct fz_target target = {
    .nr_queues = 2,
    .create = vsock_create,
    .destroy = vsock_destroy,
    .dev = vsock_dev,
    .dev2 = vsock_dev2,
};

/* The temporary directory goes with the process. */
static void cleanup(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/v.sock_5", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		char path[64];

		fz_global_init(&fz);
		if (!mkdtemp(dir))
			fz_fail("a temporary directory");
		snprintf(path, sizeof(path), "%s/v.sock_5", dir);
		listener = unix_listen(path);
		atexit(cleanup);
		ready = true;
	}
	fz_run(&fz, &target, data, size);
	return 0;
}
