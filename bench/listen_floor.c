// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/api's floor: the least a program can do to answer on a UNIX socket
 * (listen, then answer each connection's first request with a fixed 200), so
 * the table shows what exec and a listening socket cost on this machine.
 *   listen-floor PATH
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				    "Content-Length: 2\r\n\r\n{}";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	int fd, c;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: listen-floor PATH\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		perror("listen-floor");
		return 1;
	}
	while ((c = accept(fd, NULL, NULL)) >= 0) {
		if (read(c, buf, sizeof(buf)) > 0 && write(c, reply, sizeof(reply) - 1) < 0)
			perror("listen-floor");
		close(c);
	}
	return 0;
}
