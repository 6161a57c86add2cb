// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * min_open: loads bench/min_open.bpf.c (the least an open reporter can do in the kernel),
 * reads its ring in batches with pangolin's reader (src/ring.c) every millisecond and writes
 * "PID PATH" per open to stdout, until SIGINT/SIGTERM; then prints the records read and lost
 * on stderr. Prints "attached" on stderr once the program is in place.
 *   usage: min_open OBJECT
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ring.h"

struct min_rec {
	uint64_t ts_ns;
	uint32_t pid;
	int32_t ret;
	char path[256];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct min_rec *e = data;

	if (size < sizeof(*e))
		return 0;
	(*(unsigned long long *)ctx)++;
	printf("%u %.*s\n", e->pid, (int)sizeof(e->path), e->path);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_link *link;
	struct pg_ring ring;
	unsigned long long n = 0, lost = 0, per[1024];
	uint32_t zero = 0;
	char err[256];
	int ncpu;

	if (argc != 2) {
		fprintf(stderr, "usage: min_open OBJECT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "min_open: cannot load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	link = bpf_program__attach(bpf_object__find_program_by_name(obj, "min_open"));
	if (!link) {
		fprintf(stderr, "min_open: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	if (pg_ring__open(&ring, bpf_object__find_map_fd_by_name(obj, "ring"), err, sizeof(err))) {
		fprintf(stderr, "min_open: %s\n", err);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "attached\n");
	while (!stop) {
		pg_ring__wait(&ring, 1);
		pg_ring__consume(&ring, on_record, &n);
	}
	bpf_link__destroy(link);
	pg_ring__consume(&ring, on_record, &n);
	fflush(stdout);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu > 0 && ncpu <= 1024 &&
	    !bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "lost"), &zero, per))
		for (int i = 0; i < ncpu; i++)
			lost += per[i];
	fprintf(stderr, "records=%llu lost=%llu\n", n, lost);
	pg_ring__close(&ring);
	bpf_object__close(obj);
	return 0;
}
