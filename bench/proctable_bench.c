// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process table under a long fork storm: RSS over time must stay flat, and the cost per
 * event with and without the table. Not a test: numbers for bench/README.md.
 *
 *   proctable_bench FORKS RATE      (e.g. 60000000 10000: a minute at 10k forks/s is 600k;
 *                                    60M forks is 100 minutes of event time)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proctable.h"

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mk(struct pg_event *ev, unsigned int type, uint64_t ts, uint32_t pid, uint64_t start,
	       uint32_t ppid)
{
	pg_event_init(ev, type);
	ev->r.hdr.ts_ns = ts;
	ev->r.hdr.pid = ev->r.hdr.tid = pid;
	ev->r.hdr.start_ns = start;
	ev->r.hdr.ppid = ppid;
	strcpy(ev->r.hdr.comm, "storm");
}

/* One child's life: fork, exec with a distinct command line, two opens, exit. 5 events. */
static double storm(struct pg_proctable *t, uint64_t forks, uint64_t step, int report)
{
	static struct pg_event ev[5];
	uint64_t ts = 1000000000ULL;
	double t0 = now();
	struct pg_proctable_stats st;

	for (uint64_t i = 0; i < forks; i++) {
		uint32_t pid = 1000 + (uint32_t)(i % 4000000);
		uint64_t start = ts;
		int n;

		ts += step;
		mk(&ev[0], PG_EV_FORK, ts, 2, 2, 1);
		ev[0].r.fork.child_pid = pid;
		ev[0].r.fork.child_start_ns = start;
		mk(&ev[1], PG_EV_EXEC, ts, pid, start, 2);
		strcpy(ev[1].r.exec.path, "/usr/bin/curl");
		n = snprintf(ev[1].r.exec.argv, 200, "curl%c-s%chttp://x/%llu", 0, 0,
			     (unsigned long long)i);
		ev[1].r.exec.argc = 3;
		ev[1].r.exec.argv_len = (uint16_t)(n + 1);
		mk(&ev[2], PG_EV_OPEN, ts, pid, start, 2);
		mk(&ev[3], PG_EV_OPEN, ts, pid, start, 2);
		mk(&ev[4], PG_EV_EXIT, ts + step / 2, pid, start, 2);
		for (int k = 0; k < 5; k++) {
			ev[k].meta.proc = (struct pg_event_proc){ 0 };
			if (t)
				pg_proctable__observe(t, &ev[k]);
		}
		if (report && t && (i + 1) % (forks / 10) == 0) {
			pg_proctable__stats(t, &st);
			printf("  %10llu forks (%6.0f s of event time): RSS %6ld kB, %6llu entries, peak %llu\n",
			       (unsigned long long)(i + 1), (double)(ts - 1000000000ULL) / 1e9, rss_kb(),
			       (unsigned long long)st.entries, (unsigned long long)st.peak);
		}
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	uint64_t forks = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	uint64_t rate = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000;
	struct pg_proctable *t;
	double with, without;

	printf("fork storm: %llu forks at %llu/s of event time, 5 events each\n",
	       (unsigned long long)forks, (unsigned long long)rate);
	printf("  RSS before the table: %ld kB\n", rss_kb());
	t = pg_proctable__new(NULL);
	with = storm(t, forks, 1000000000ULL / rate, 1);
	pg_proctable__free(t);
	/* cost: the same loop twice more, with and without the table, after warm-up */
	t = pg_proctable__new(NULL);
	with = storm(t, forks / 4, 1000000000ULL / rate, 0);
	without = storm(NULL, forks / 4, 1000000000ULL / rate, 0);
	pg_proctable__free(t);
	printf("  cost: %.1f ns/event with the table, %.1f ns/event building the events alone\n",
	       with * 1e9 / (double)(forks / 4 * 5), without * 1e9 / (double)(forks / 4 * 5));
	printf("  table alone: %.1f ns/event\n", (with - without) * 1e9 / (double)(forks / 4 * 5));
	return 0;
}
