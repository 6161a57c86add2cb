// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pgwork: a known workload for the sensor tests and benchmarks. Each subcommand does one
 * thing the sensor must see and prints what it did (pid, fd, result) on stdout, so a test
 * can match events against facts instead of guesses.
 */
#define _GNU_SOURCE /* setresuid */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fputs("usage: pgwork open PATH | burst N PATH | fork-exit CODE | fork-kill SIGNAL |\n"
	      "              connect ADDR PORT | setresuid R E S | loop SECONDS PATH\n",
	      stderr);
	return 2;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];

	if (!strcmp(cmd, "open") && argc == 3) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);

		printf("pid=%d ret=%d\n", getpid(), fd < 0 ? -errno : fd);
		return 0;
	}
	if (!strcmp(cmd, "burst") && argc == 4) {
		/* open+close N times: the benchmark's unit of work and the drop test's burst */
		long n = atol(argv[2]);
		double t0 = now();

		for (long i = 0; i < n; i++) {
			int fd = open(argv[3], O_RDONLY | O_CLOEXEC);

			if (fd >= 0)
				close(fd);
		}
		printf("pid=%d n=%ld ns_per_op=%.1f\n", getpid(), n, (now() - t0) * 1e9 / (double)n);
		return 0;
	}
	if (!strcmp(cmd, "loop") && argc == 4) {
		/* open+close for SECONDS: ops/s of the traced workload */
		double secs = atof(argv[2]), t0 = now(), t;
		long n = 0;

		do {
			for (int i = 0; i < 1000; i++) {
				int fd = open(argv[3], O_RDONLY | O_CLOEXEC);

				if (fd >= 0)
					close(fd);
			}
			n += 1000;
			t = now();
		} while (t - t0 < secs);
		printf("pid=%d n=%ld ops_per_s=%.0f ns_per_op=%.1f\n", getpid(), n, (double)n / (t - t0),
		       (t - t0) * 1e9 / (double)n);
		return 0;
	}
	if (!strcmp(cmd, "fork-exit") && argc == 3) {
		pid_t c = fork();
		int st;

		if (c == 0) {
			usleep(20000); /* a measurable lifetime */
			_exit(atoi(argv[2]));
		}
		waitpid(c, &st, 0);
		printf("pid=%d child=%d status=%d\n", getpid(), c, WEXITSTATUS(st));
		return 0;
	}
	if (!strcmp(cmd, "fork-kill") && argc == 3) {
		pid_t c = fork();
		int st;

		if (c == 0) {
			pause();
			_exit(0);
		}
		usleep(20000);
		kill(c, atoi(argv[2]));
		waitpid(c, &st, 0);
		printf("pid=%d child=%d signal=%d\n", getpid(), c, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		return 0;
	}
	if (!strcmp(cmd, "connect") && argc == 4) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len;
		int fd, rc;

		if (strchr(argv[2], ':')) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((unsigned short)atoi(argv[3]));
			if (inet_pton(AF_INET6, argv[2], &s6->sin6_addr) != 1)
				return usage();
			len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = htons((unsigned short)atoi(argv[3]));
			if (inet_pton(AF_INET, argv[2], &s4->sin_addr) != 1)
				return usage();
			len = sizeof(*s4);
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		rc = connect(fd, (struct sockaddr *)&ss, len);
		printf("pid=%d fd=%d ret=%d\n", getpid(), fd, rc < 0 ? -errno : 0);
		return 0;
	}
	if (!strcmp(cmd, "setresuid") && argc == 5) {
		int rc = setresuid((uid_t)atol(argv[2]), (uid_t)atol(argv[3]), (uid_t)atol(argv[4]));

		printf("pid=%d ret=%d\n", getpid(), rc < 0 ? -errno : 0);
		return 0;
	}
	return usage();
}
