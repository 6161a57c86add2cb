// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Makes an exact number of one cheap syscall, for the latency tests and the tracing-overhead
 * benchmark.
 *
 * usage: syscall_loop N [wait]
 *   Prints "ready PID"; with "wait", blocks until a line arrives on standard input (so a tracer
 *   can attach first). Then calls getppid(2) N times through syscall(2) (never cached by libc),
 *   prints "done N SECONDS" and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	long n;
	char line[64];

	if (argc < 2 || (n = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: syscall_loop N [wait]\n");
		return 2;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (argc > 2 && !strcmp(argv[2], "wait") && !fgets(line, sizeof(line), stdin))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("done %ld %.6f\n", n, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	fflush(stdout);
	return 0;
}
