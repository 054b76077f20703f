// SPDX-License-Identifier: GPL-2.0-only
/* TAP interfaces through /dev/net/tun. */
#include "virtio/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tap_open(const char *name, const char **what)
{
	unsigned int features = 0;
	struct ifreq ifr;
	int hdr_len = TAP_VNET_HDR_LEN;
	int fd, ret;

	*what = "bad interface name";
	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	*what = "cannot open /dev/net/tun";
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	*what = "the kernel's TAP driver has no vnet header support";
	if (ioctl(fd, TUNGETFEATURES, &features) == 0 && !(features & IFF_VNET_HDR)) {
		ret = -EOPNOTSUPP;
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	*what = "cannot attach to the TAP";
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail_errno;
	*what = "cannot set the vnet header size";
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		goto fail_errno;
	*what = "cannot clear the offloads";
	ret = tap_set_offload(fd, 0);
	if (ret < 0)
		goto fail;
	*what = NULL;
	return fd;
fail_errno:
	ret = -errno;
fail:
	close(fd);
	return ret;
}

int tap_set_offload(int fd, unsigned int offloads)
{
	unsigned int flags = 0;

	/* segmentation offloads only come with checksum offload */
	if (offloads & TAP_OFFLOAD_CSUM) {
		flags |= TUN_F_CSUM;
		if (offloads & TAP_OFFLOAD_TSO4)
			flags |= TUN_F_TSO4;
		if (offloads & TAP_OFFLOAD_TSO6)
			flags |= TUN_F_TSO6;
		if ((offloads & TAP_OFFLOAD_ECN) && (flags & (TUN_F_TSO4 | TUN_F_TSO6)))
			flags |= TUN_F_TSO_ECN;
		if (offloads & TAP_OFFLOAD_UFO)
			flags |= TUN_F_UFO;
	}
	return ioctl(fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}

int tap_adopt(int fd, const char *name)
{
	int hdr_len = TAP_VNET_HDR_LEN, fl;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EBADFD || errno == EINVAL || errno == ENOTTY ? -ENODEV : -errno;
	if (strncmp(ifr.ifr_name, name, IFNAMSIZ) ||
	    (ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)) !=
		(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
		return -ENODEV;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return -errno;
	return 0;
}

void tap_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
