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
#include <liburing.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fputs("usage: pgwork open PATH | burst N PATH | fork-exit CODE | fork-kill SIGNAL |\n"
	      "              connect ADDR PORT | setresuid R E S | loop SECONDS PATH\n"
	      "              uring-open PATH | uring-open2 PATH | uring-open-skip PATH | uring-open-async PATH\n"
	      "              uring-open-sqpoll PATH | uring-connect ADDR PORT | uring-burst N PATH\n"
	      "              uring-loop SECONDS nop|open [PATH]\n"
	      "              uring-send FD HEX | uring-sendmsg ADDR PORT HEX | ptrace-poke\n"
	      "              udp-send ADDR PORT N | memfd-exec SRC ARG0 [ARG...]\n",
	      stderr);
	return 2;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ADDR PORT as an IPv4 or IPv6 socket address. */
static int parse_addr(const char *addr, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(port));
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((unsigned short)atoi(port));
	*len = sizeof(*s4);
	return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? 0 : -1;
}

/*
 * One request through io_uring (never the open/connect syscall): cmd picks it, the result of
 * its completion is printed. "-skip" asks for no completion on success; "-sqpoll" has the
 * kernel's SQPOLL thread submit it; "-async" has an io-wq worker do it.
 */
static int uring(const char *cmd, char **argv)
{
	struct io_uring ring;
	struct io_uring_params p = { 0 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct sockaddr_storage ss;
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
	socklen_t len;
	int fd = -1, rc, res;
	bool skip = !strcmp(cmd, "uring-open-skip");

	if (!strcmp(cmd, "uring-open-sqpoll")) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 1000;
	}
	if ((rc = io_uring_queue_init_params(4, &ring, &p)) < 0) {
		fprintf(stderr, "pgwork: io_uring_queue_init: %s\n", strerror(-rc));
		return 1;
	}
	sqe = io_uring_get_sqe(&ring);
	if (!strcmp(cmd, "uring-connect")) {
		if (parse_addr(argv[2], argv[3], &ss, &len))
			return usage();
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		io_uring_prep_connect(sqe, fd, (struct sockaddr *)&ss, len);
	} else if (!strcmp(cmd, "uring-open2")) {
		io_uring_prep_openat2(sqe, AT_FDCWD, argv[2], &how);
	} else {
		io_uring_prep_openat(sqe, AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC, 0);
	}
	if (skip)
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	if (!strcmp(cmd, "uring-open-async"))
		sqe->flags |= IOSQE_ASYNC; /* done by an io-wq worker thread, not inline */
	if ((rc = io_uring_submit(&ring)) != 1) {
		fprintf(stderr, "pgwork: io_uring_submit: %s\n", strerror(rc < 0 ? -rc : EIO));
		return 1;
	}
	if (skip) {
		/* nothing will complete on success; a NOP's completion says the ring moved on */
		io_uring_prep_nop(io_uring_get_sqe(&ring));
		io_uring_submit_and_wait(&ring, 1);
		io_uring_wait_cqe(&ring, &cqe);
		printf("pid=%d fd=%d ret=%s\n", getpid(), fd, cqe->res == 0 ? "skipped" : "failed");
	} else {
		if ((rc = io_uring_wait_cqe(&ring, &cqe)) < 0) {
			fprintf(stderr, "pgwork: io_uring_wait_cqe: %s\n", strerror(-rc));
			return 1;
		}
		res = cqe->res;
		printf("pid=%d fd=%d ret=%d\n", getpid(), fd, res);
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * n opens of path through a ring of 4 entries, none reaped until all are submitted: the
 * completion queue (8 entries) overflows and io_uring keeps the rest on its overflow list.
 */
static int uring_burst(long n, const char *path)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	long ok = 0, seen = 0;
	int rc;

	if ((rc = io_uring_queue_init(4, &ring, 0)) < 0) {
		fprintf(stderr, "pgwork: io_uring_queue_init: %s\n", strerror(-rc));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		if (!sqe) {
			io_uring_submit(&ring);
			sqe = io_uring_get_sqe(&ring);
		}
		io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	}
	io_uring_submit(&ring);
	while (seen < n && io_uring_wait_cqe(&ring, &cqe) == 0) {
		if (cqe->res >= 0) {
			ok++;
			close(cqe->res);
		}
		seen++;
		io_uring_cqe_seen(&ring, cqe);
	}
	printf("pid=%d n=%ld completed=%ld ok=%ld\n", getpid(), n, seen, ok);
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * For SECONDS: one request at a time through io_uring, submitted and reaped; "nop" (what any
 * io_uring request pays for being watched) or "open" of path (closed again with close(2)).
 */
static int uring_loop(double secs, const char *op, const char *path)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	double t0 = now(), t;
	long n = 0;
	bool open_op = !strcmp(op, "open");
	int rc;

	if ((rc = io_uring_queue_init(8, &ring, 0)) < 0) {
		fprintf(stderr, "pgwork: io_uring_queue_init: %s\n", strerror(-rc));
		return 1;
	}
	do {
		for (int i = 0; i < 1000; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			if (open_op)
				io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
			else
				io_uring_prep_nop(sqe);
			io_uring_submit_and_wait(&ring, 1);
			if (io_uring_peek_cqe(&ring, &cqe) == 0) {
				if (open_op && cqe->res >= 0)
					close(cqe->res);
				io_uring_cqe_seen(&ring, cqe);
			}
		}
		n += 1000;
		t = now();
	} while (t - t0 < secs);
	printf("pid=%d n=%ld ops_per_s=%.0f ns_per_op=%.1f\n", getpid(), n, (double)n / (t - t0),
	       (t - t0) * 1e9 / (double)n);
	io_uring_queue_exit(&ring);
	return 0;
}

/* HEX as bytes into out (at most max); their count, or -1 when HEX is not hex. */
static int unhex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = strlen(hex) / 2;

	if (strlen(hex) % 2 || n > max)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return (int)n;
}

/*
 * One message through io_uring: "uring-send FD HEX" on an inherited (connected) socket with
 * IORING_OP_SEND, "uring-sendmsg ADDR PORT HEX" from a new UDP socket to ADDR:PORT with
 * IORING_OP_SENDMSG and a destination in msg_name. Prints the completion's result.
 */
static int uring_send(int argc, char **argv)
{
	static unsigned char msg[1024];
	struct sockaddr_storage ss;
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct iovec iov;
	struct msghdr mh = { 0 };
	bool sendmsg_op = !strcmp(argv[1], "uring-sendmsg");
	socklen_t len;
	int fd, n, rc;

	if ((n = unhex(argv[argc - 1], msg, sizeof(msg))) < 0)
		return usage();
	if ((rc = io_uring_queue_init(4, &ring, 0)) < 0) {
		fprintf(stderr, "pgwork: io_uring_queue_init: %s\n", strerror(-rc));
		return 1;
	}
	if (sendmsg_op) {
		if (parse_addr(argv[2], argv[3], &ss, &len))
			return usage();
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		iov = (struct iovec){ .iov_base = msg, .iov_len = (size_t)n };
		mh.msg_name = &ss;
		mh.msg_namelen = len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		io_uring_prep_sendmsg(io_uring_get_sqe(&ring), fd, &mh, 0);
	} else {
		fd = atoi(argv[2]);
		io_uring_prep_send(io_uring_get_sqe(&ring), fd, msg, (size_t)n, 0);
	}
	io_uring_submit(&ring);
	if ((rc = io_uring_wait_cqe(&ring, &cqe)) < 0) {
		fprintf(stderr, "pgwork: io_uring_wait_cqe: %s\n", strerror(-rc));
		return 1;
	}
	printf("pid=%d fd=%d ret=%d\n", getpid(), fd, cqe->res);
	io_uring_queue_exit(&ring);
	return 0;
}

static volatile long poke_target = 0x5ca1ab1e; /* the word ptrace-poke writes in the child */

/*
 * ptrace-poke: attach to a child of ours, read a word (not an event), write it back (an
 * event), detach. What a process injector does, with a harmless write.
 */
static int ptrace_poke(void)
{
	pid_t c = fork();
	long word;
	int st, attach, poke;

	if (c == 0) {
		for (;;)
			pause();
	}
	attach = ptrace(PTRACE_ATTACH, c, NULL, NULL) ? -errno : 0;
	poke = -ESRCH;
	if (!attach) { /* refused (a policy), the child never stops: nothing to wait for */
		waitpid(c, &st, 0);
		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, c, (void *)&poke_target, NULL);
		poke = ptrace(PTRACE_POKEDATA, c, (void *)&poke_target, (void *)word) ? -errno : 0;
		ptrace(PTRACE_DETACH, c, NULL, NULL);
	}
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	printf("pid=%d child=%d attach=%d poke=%d addr=%lu\n", getpid(), c, attach, poke,
	       (unsigned long)&poke_target);
	return 0;
}

/*
 * memfd-exec: SRC copied into a memfd and exec'd from there, as fileless malware runs (the
 * image has no link in any directory). Prints the exec's error when it fails (a policy).
 */
static int memfd_exec(char **argv)
{
	char buf[65536], path[64];
	int src = open(argv[2], O_RDONLY | O_CLOEXEC), fd = memfd_create("pgfileless", 0);
	ssize_t n;

	if (src < 0 || fd < 0) {
		fprintf(stderr, "pgwork: %s: %s\n", src < 0 ? argv[2] : "memfd_create",
			strerror(errno));
		return 1;
	}
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			fprintf(stderr, "pgwork: write to the memfd: %s\n", strerror(errno));
			return 1;
		}
	close(src);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	execv(path, argv + 3);
	printf("pid=%d ret=%d\n", getpid(), -errno);
	return 0;
}

/*
 * udp-send: N datagrams of 8 bytes from one socket to ADDR:PORT, nothing else (a known count
 * for packet captures: a closed port answers with ICMP, which is not UDP).
 */
static int udp_send(char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long n = atol(argv[4]), sent = 0;
	int fd;

	if (parse_addr(argv[2], argv[3], &ss, &len) || n < 0)
		return usage();
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "pgwork: socket: %s\n", strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++)
		if (sendto(fd, "pangolin", 8, 0, (struct sockaddr *)&ss, len) == 8)
			sent++;
	close(fd);
	printf("pid=%d sent=%ld\n", getpid(), sent);
	return 0;
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
	if (!strcmp(cmd, "memfd-exec") && argc >= 4)
		return memfd_exec(argv);
	if (!strcmp(cmd, "udp-send") && argc == 5)
		return udp_send(argv);
	if (!strcmp(cmd, "ptrace-poke") && argc == 2)
		return ptrace_poke();
	if (!strcmp(cmd, "uring-loop") && (argc == 4 || argc == 5))
		return uring_loop(atof(argv[2]), argv[3], argc == 5 ? argv[4] : "/dev/null");
	if ((!strcmp(cmd, "uring-send") && argc == 4) || (!strcmp(cmd, "uring-sendmsg") && argc == 5))
		return uring_send(argc, argv);
	if (!strcmp(cmd, "uring-burst") && argc == 4)
		return uring_burst(atol(argv[2]), argv[3]);
	if (!strncmp(cmd, "uring-", 6) && argc == (strcmp(cmd, "uring-connect") ? 3 : 4))
		return uring(cmd, argv);
	if (!strcmp(cmd, "connect") && argc == 4) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len;
		int fd, rc;

		if (parse_addr(argv[2], argv[3], &ss, &len))
			return usage();
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
