// SPDX-License-Identifier: GPL-2.0-only
/*
 * memfail: a process of the Linux test guest whose page the host poisons.
 * It fills one locked page, prints the page's guest-physical address (from
 * /proc/self/pagemap, which shows frame numbers to root), then reads the page
 * back every 50 ms. Once the host has poisoned the page under it, the guest
 * kernel gets a machine check on that read and kills this process with
 * SIGBUS; if that never comes, it exits 1 after SECS seconds (its argument,
 * default 240).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PATTERN 0x5a
#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

int main(int argc, char **argv)
{
	long secs = argc > 1 ? strtol(argv[1], NULL, 0) : 240;
	long page = sysconf(_SC_PAGESIZE), i, rounds;
	struct timespec nap = {0, 50 * 1000 * 1000};
	volatile uint8_t *p;
	uint64_t entry;
	off_t at;
	int fd;

	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("memfail: mmap");
		return 2;
	}
	memset((void *)p, PATTERN, (size_t)page);
	if (mlock((void *)p, (size_t)page) < 0)
		perror("memfail: mlock");
	at = (off_t)((uintptr_t)p / (uintptr_t)page * sizeof(entry));
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &entry, sizeof(entry), at) != (ssize_t)sizeof(entry)) {
		perror("memfail: /proc/self/pagemap");
		return 2;
	}
	if (!(entry & PM_PRESENT) || !(entry & PM_PFN_MASK)) {
		fprintf(stderr, "memfail: no frame number in pagemap entry 0x%llx (not root?)\n",
			(unsigned long long)entry);
		return 2;
	}
	printf("petrel-guest: memfail pid %d page gpa 0x%llx\n", (int)getpid(),
	       (unsigned long long)((entry & PM_PFN_MASK) * (uint64_t)page));
	fflush(stdout);
	rounds = secs * 20;
	for (i = 0; i < rounds; i++) {
		long j;

		for (j = 0; j < page; j++) {
			if (p[j] != PATTERN) {
				printf("petrel-guest: memfail page changed at byte %ld\n", j);
				return 1;
			}
		}
		nanosleep(&nap, NULL);
	}
	printf("petrel-guest: memfail page still readable after %ld s\n", secs);
	return 1;
}
