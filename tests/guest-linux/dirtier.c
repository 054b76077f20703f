// SPDX-License-Identifier: GPL-2.0-only
/*
 * dirtier: a process of the Linux test guest that dirties its memory at a
 * steady rate and prints a heartbeat, for the live migration benchmark.
 *   dirtier RATE_MIB BUF_MIB [SECONDS [PERIOD_MS]]
 * It fills a buffer of BUF_MIB MiB (no zero page left), says so, then every
 * PERIOD_MS (default 5) ms writes its share of RATE_MIB MiB a second as one
 * word in each of that many pages, stepping through the buffer by a stride
 * that visits every page before it comes back to one (so the pages written in
 * a second are spread over the buffer, not one run), and prints
 * "petrel-guest: beat N" with N the tick's number on CLOCK_MONOTONIC. A tick
 * that comes late (the guest was paused) is not made up: N jumps, and the
 * pages owed are written at once. With SECONDS (0: forever, the default) it
 * ends after that long with a line of what it wrote. RATE_MIB 0 (and BUF_MIB
 * 0) is a heartbeat alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void say(const char *s, size_t n)
{
	/* one write a line, unbuffered: the host times the lines as they come */
	while (n) {
		ssize_t w = write(1, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static long arg(int argc, char **argv, int i, long dflt, long max)
{
	char *end;
	long v;

	if (argc <= i)
		return dflt;
	v = strtol(argv[i], &end, 10);
	if (*end || v < 0 || v > max) {
		fprintf(stderr, "dirtier: bad argument %s (0 to %ld)\n", argv[i], max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long rate = arg(argc, argv, 1, 0, 1L << 20), buf_mib = arg(argc, argv, 2, 0, 1L << 20);
	long secs = arg(argc, argv, 3, 0, 1L << 30), period_ms = arg(argc, argv, 4, 5, 10000);
	uint64_t npages = (uint64_t)buf_mib * (1 << 20) / PAGE, pages_per_s, stride = 1;
	uint64_t period = (uint64_t)(period_ms ? period_ms : 1) * 1000000ULL;
	uint64_t start, tick = 0, written = 0, due, at = 0, end;
	volatile uint64_t *mem = NULL;
	char line[96];
	int n;

	if (argc < 3 || (rate && !npages)) {
		fprintf(stderr, "usage: dirtier RATE_MIB BUF_MIB [SECONDS [PERIOD_MS]] "
				"(a buffer for any rate above 0)\n");
		return 2;
	}
	pages_per_s = (uint64_t)rate * (1 << 20) / PAGE;
	if (npages) {
		void *p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (p == MAP_FAILED) {
			perror("dirtier: mmap");
			return 1;
		}
		mem = p;
		/* every word non-zero, so no page goes as a zero page */
		for (uint64_t i = 0; i < npages * PAGE / 8; i++)
			mem[i] = 0x9e3779b97f4a7c15ULL * (i + 1) | 1;
		/* a stride near the golden ratio of the buffer, coprime to it */
		stride = npages * 618 / 1000 | 1;
		while (gcd(stride, npages) != 1)
			stride += 2;
	}
	n = snprintf(line, sizeof(line),
		     "petrel-guest: dirtier %ld MiB/s over %ld MiB, a beat every %ld ms\n", rate,
		     buf_mib, period_ms ? period_ms : 1);
	say(line, (size_t)n);
	start = now_ns();
	end = secs ? start + (uint64_t)secs * 1000000000ULL : UINT64_MAX;
	for (;;) {
		uint64_t t = now_ns(), next;
		struct timespec ts;

		/* the pages owed by now, at the rate since the start */
		due = (t - start) / 1000 * pages_per_s / 1000000;
		for (; written < due; written++) {
			mem[at * (PAGE / 8)] = written | 1;
			at += stride;
			if (at >= npages)
				at -= npages;
		}
		n = snprintf(line, sizeof(line), "petrel-guest: beat %llu\n",
			     (unsigned long long)tick);
		say(line, (size_t)n);
		if (t >= end)
			break;
		/* the next tick after now; late ones are skipped */
		tick = (t - start) / period + 1;
		next = start + tick * period;
		ts.tv_sec = (time_t)(next / 1000000000ULL);
		ts.tv_nsec = (long)(next % 1000000000ULL);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
			;
	}
	n = snprintf(line, sizeof(line),
		     "petrel-guest: dirtier done: %llu pages written in %ld s (%.1f MiB/s)\n",
		     (unsigned long long)written, secs,
		     (double)written * PAGE / (1 << 20) / (double)secs);
	say(line, (size_t)n);
	return 0;
}
