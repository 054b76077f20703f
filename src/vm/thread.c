// SPDX-License-Identifier: GPL-2.0-only
#include "vm/thread.h"

int vm_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, const char *name)
{
	pthread_attr_t attr;
	int ret;

	ret = pthread_attr_init(&attr);
	if (ret)
		return -ret;
	ret = pthread_attr_setstacksize(&attr, VM_THREAD_STACK);
	if (!ret)
		ret = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	pthread_setname_np(*t, name);
	return 0;
}

struct timespec vm_deadline_after_ms(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}
