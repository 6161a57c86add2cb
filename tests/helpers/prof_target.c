// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A CPU-bound workload with a known call chain for the profiler tests:
 *     main -> prof_target_alpha -> prof_target_beta -> prof_target_gamma (spins)
 * The functions are noinline and do work after each call, so neither inlining nor tail calls
 * can remove a frame; the Makefile builds helpers with frame pointers.
 *
 * usage: prof_target SECONDS [THREADS]
 * Prints "ready PID" once the threads spin.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double seconds;
static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) unsigned long prof_target_gamma(double until)
{
	unsigned long x = 0;

	while (now() < until)
		for (int i = 0; i < 2000000; i++)
			x = x * 2862933555777941757UL + 3037000493UL;
	sink = x;
	return x;
}

__attribute__((noinline)) unsigned long prof_target_beta(double until)
{
	unsigned long r = prof_target_gamma(until);

	sink += r;
	return r + 1;
}

__attribute__((noinline)) unsigned long prof_target_alpha(double until)
{
	unsigned long r = prof_target_beta(until);

	sink += r;
	return r + 1;
}

static void *spin(void *arg)
{
	(void)arg;
	prof_target_alpha(now() + seconds);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t t[64];

	if (argc < 2 || (seconds = atof(argv[1])) <= 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: prof_target SECONDS [THREADS]\n");
		return 2;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (int i = 1; i < threads; i++)
		pthread_create(&t[i], NULL, spin, NULL);
	spin(NULL);
	for (int i = 1; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
