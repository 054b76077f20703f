// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock-test: the Linux test guest's end of the vsock lab case. Streams are
 * checked with CRC-32 (zlib's, which the host's Python computes): the side
 * that receives a stream answers "SUM <crc32 hex> <bytes>\n" once it has
 * read to the end, and the sender compares.
 *
 *   vsock-test cid                  print the guest's cid
 *   vsock-test send PORT MIB N      N connections at once to the host (cid
 *                                   2) PORT, each sends MIB MiB (a pattern
 *                                   of its own), shuts its side down and
 *                                   checks the host's SUM; exit 0 when all
 *                                   N match
 *   vsock-test connect PORT         connect to the host's PORT: prints
 *                                   "connected" or "refused <errno name>"
 *   vsock-test cut PORT             send to the host's PORT until the host
 *                                   closes: prints how it ended
 *   vsock-test listen PORT N        accept N connections on PORT; read each
 *                                   to its end and answer its SUM
 * Lines start with "petrel-guest: vsock " so the host can find them.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>

#define CHUNK 65536

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* zlib's crc32: start with 0, feed the previous value back */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int vsock_connect(unsigned int port)
{
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = 2, .svm_port = port};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read to the end: the CRC and byte count of the stream. */
static int read_sum(int fd, uint32_t *crc, uint64_t *bytes)
{
	static uint8_t buf[CHUNK];

	*crc = 0;
	*bytes = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*crc = crc32_update(*crc, buf, (size_t)n);
		*bytes += (uint64_t)n;
	}
}

/* A line from fd (up to a newline), NUL-terminated. */
static int read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, line + n, 1);

		if (r <= 0)
			return -1;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return 0;
}

static int send_one(unsigned int port, unsigned int idx, unsigned long mib)
{
	static uint8_t buf[CHUNK];
	uint64_t total = (uint64_t)mib << 20, sent = 0;
	uint32_t crc = 0, host_crc;
	unsigned long long host_bytes;
	char line[64];
	int fd = vsock_connect(port);

	if (fd < 0) {
		printf("petrel-guest: vsock send %u connect failed: %s\n", idx, strerror(-fd));
		return 1;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + idx * 13 + (i >> 9));
	while (sent < total) {
		/* the pattern shifts each chunk: a lost or repeated chunk shows */
		buf[0] = (uint8_t)(sent >> 16);
		crc = crc32_update(crc, buf, sizeof(buf));
		if (write_all(fd, buf, sizeof(buf)) < 0) {
			printf("petrel-guest: vsock send %u write failed at %llu: %s\n", idx,
			       (unsigned long long)sent, strerror(errno));
			return 1;
		}
		sent += sizeof(buf);
	}
	shutdown(fd, SHUT_WR);
	if (read_line(fd, line, sizeof(line)) < 0 ||
	    sscanf(line, "SUM %x %llu", &host_crc, &host_bytes) != 2) {
		printf("petrel-guest: vsock send %u no SUM from the host\n", idx);
		return 1;
	}
	close(fd);
	if (host_crc != crc || host_bytes != total) {
		printf("petrel-guest: vsock send %u mismatch: sent %08x %llu, host got %08x %llu\n",
		       idx, crc, (unsigned long long)total, host_crc, host_bytes);
		return 1;
	}
	printf("petrel-guest: vsock send %u ok %08x %llu\n", idx, crc, host_bytes);
	return 0;
}

static int cmd_send(unsigned int port, unsigned long mib, unsigned int n)
{
	unsigned int i, bad = 0;
	int st;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			fflush(stdout);
			_exit(send_one(port, i, mib));
		}
		if (pid < 0)
			bad++;
	}
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	printf("petrel-guest: vsock send done %u of %u ok\n", n - bad, n);
	return bad ? 1 : 0;
}

static int cmd_connect(unsigned int port)
{
	int fd = vsock_connect(port);

	if (fd < 0) {
		printf("petrel-guest: vsock connect %u refused %s\n", port,
		       fd == -ECONNRESET ? "ECONNRESET" : strerror(-fd));
		return 1;
	}
	printf("petrel-guest: vsock connect %u connected\n", port);
	close(fd);
	return 0;
}

static int cmd_cut(unsigned int port)
{
	static uint8_t buf[CHUNK];
	uint64_t sent = 0;
	int fd = vsock_connect(port);

	if (fd < 0) {
		printf("petrel-guest: vsock cut %u connect failed: %s\n", port, strerror(-fd));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(buf, 0x5a, sizeof(buf));
	/* the host reads a little and closes: the write fails, and it must not hang */
	while (sent < (1ULL << 30)) {
		int e = write_all(fd, buf, sizeof(buf));

		if (e < 0) {
			printf("petrel-guest: vsock cut %u ended after %llu bytes: %s\n", port,
			       (unsigned long long)sent, strerror(-e));
			close(fd);
			return 0;
		}
		sent += sizeof(buf);
	}
	printf("petrel-guest: vsock cut %u never ended\n", port);
	return 1;
}

static int cmd_listen(unsigned int port, unsigned int n)
{
	struct sockaddr_vm sa = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	int lfd = socket(AF_VSOCK, SOCK_STREAM, 0), st;
	unsigned int i, bad = 0;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		printf("petrel-guest: vsock listen %u failed: %s\n", port, strerror(errno));
		return 1;
	}
	printf("petrel-guest: vsock listening %u\n", port);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd < 0) {
			bad++;
			continue;
		}
		pid = fork();
		if (pid == 0) {
			uint32_t crc;
			uint64_t bytes;
			char line[64];
			int e = read_sum(fd, &crc, &bytes);

			if (e < 0) {
				printf("petrel-guest: vsock listen %u read failed: %s\n", port,
				       strerror(-e));
				_exit(1);
			}
			snprintf(line, sizeof(line), "SUM %08x %llu\n", crc,
				 (unsigned long long)bytes);
			e = write_all(fd, (const uint8_t *)line, strlen(line));
			printf("petrel-guest: vsock listen %u got %08x %llu%s\n", port, crc,
			       (unsigned long long)bytes, e < 0 ? " (answer failed)" : "");
			close(fd);
			_exit(e < 0);
		}
		close(fd);
	}
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	close(lfd);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	crc_init();
	if (argc == 2 && !strcmp(argv[1], "cid")) {
		unsigned int cid = 0;
		int fd = open("/dev/vsock", O_RDONLY);

		if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0) {
			printf("petrel-guest: vsock cid unknown: %s\n", strerror(errno));
			return 1;
		}
		printf("petrel-guest: vsock cid %u\n", cid);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "send"))
		return cmd_send((unsigned int)strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
				(unsigned int)strtoul(argv[4], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "connect"))
		return cmd_connect((unsigned int)strtoul(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "cut"))
		return cmd_cut((unsigned int)strtoul(argv[2], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "listen"))
		return cmd_listen((unsigned int)strtoul(argv[2], NULL, 0),
				  (unsigned int)strtoul(argv[3], NULL, 0));
	fprintf(stderr, "usage: vsock-test cid | send PORT MIB N | connect PORT | cut PORT | "
			"listen PORT N\n");
	return 2;
}
