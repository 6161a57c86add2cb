// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The ring buffer reader (src/ring.c) against the kernel's own ring: records written by a BPF
 * program (tests/unit/bpf/ring_writer.bpf.c, run with BPF_PROG_TEST_RUN) come out whole, in
 * order, across the end of the ring, without the discarded ones; a refusing callback stops
 * the pass after its record; the space read is given back; the wait is edge-triggered.
 * Needs a kernel that loads BPF for this user: skipped otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "ring.h"

#define FIXTURE "build/bpf/test/ring_writer.bpf.o"
#define RING_BYTES 4096u

struct ring_args {
	uint32_t size, seq, discard, flags;
};

struct fx {
	struct bpf_object *obj;
	int prog_fd;
	struct pg_ring ring;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct bpf_map *m;
	char err[256];

	assert_non_null(f);
	f->obj = bpf_object__open_file(FIXTURE, NULL);
	if (!f->obj)
		fail_msg("cannot open %s: %s", FIXTURE, strerror(errno));
	m = bpf_object__find_map_by_name(f->obj, "ring");
	assert_non_null(m);
	assert_int_equal(bpf_map__set_max_entries(m, RING_BYTES), 0);
	if (bpf_object__load(f->obj)) {
		print_message("the kernel did not load the fixture (%s): skipped\n",
			      strerror(errno));
		bpf_object__close(f->obj);
		free(f);
		*state = NULL;
		return 0;
	}
	f->prog_fd = bpf_program__fd(bpf_object__find_program_by_name(f->obj, "write_record"));
	if (pg_ring__open(&f->ring, bpf_map__fd(m), err, sizeof(err)))
		fail_msg("pg_ring__open: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f) {
		pg_ring__close(&f->ring);
		bpf_object__close(f->obj);
		free(f);
	}
	return 0;
}

#define NEED_KERNEL(f)          \
	do {                    \
		if (!(f))       \
			skip(); \
	} while (0)

/* The program's return: bpf_ringbuf_output's (0, or -EAGAIN when full), or <0 on bad args. */
static int put(struct fx *f, uint32_t size, uint32_t seq, uint32_t discard, uint32_t flags)
{
	struct ring_args a = { size, seq, discard, flags };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &a, .ctx_size_in = sizeof(a));

	assert_int_equal(bpf_prog_test_run_opts(f->prog_fd, &o), 0);
	return (int)o.retval;
}

struct seen {
	uint32_t seq[64], size[64];
	int n, refuse_at; /* refuse the record with this index (-1: none) */
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	const unsigned char *b = data;
	uint32_t seq;

	assert_true(size >= 4 && size <= 1024);
	memcpy(&seq, b, 4);
	for (size_t i = 4; i < size; i++)
		if (b[i] != (unsigned char)(seq + i))
			fail_msg("record %u: byte %zu is %u, not %u", seq, i, b[i],
				 (unsigned char)(seq + i));
	assert_true(s->n < 64);
	s->seq[s->n] = seq;
	s->size[s->n] = (uint32_t)size;
	if (s->n++ == s->refuse_at)
		return -EPIPE;
	return 0;
}

static void test_records_whole_and_in_order(void **state)
{
	struct fx *f = *state;
	static const uint32_t sizes[] = { 4, 5, 100, 1024, 7 };
	struct seen s = { .refuse_at = -1 };

	NEED_KERNEL(f);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(put(f, sizes[i], 100 + i, 0, BPF_RB_NO_WAKEUP), 0);
	assert_true(pg_ring__pending(&f->ring));
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(s.seq[i], 100 + i);
		assert_int_equal(s.size[i], sizes[i]);
	}
	assert_false(pg_ring__pending(&f->ring));
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), 0);
}

/* A 4 KiB ring and records of 500-1024 bytes: most passes cross the end of the ring. */
static void test_records_cross_the_end(void **state)
{
	struct fx *f = *state;
	uint32_t seq = 0;

	NEED_KERNEL(f);
	for (int round = 0; round < 200; round++) {
		struct seen s = { .refuse_at = -1 };
		uint32_t first = seq;
		int n = 1 + round % 3;

		for (int i = 0; i < n; i++)
			assert_int_equal(put(f, 500 + (seq * 131) % 525, seq, 0, BPF_RB_NO_WAKEUP),
					 0),
				seq++;
		assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), n);
		for (int i = 0; i < n; i++) {
			assert_int_equal(s.seq[i], first + i);
			assert_int_equal(s.size[i], 500 + ((first + i) * 131) % 525);
		}
	}
}

static void test_discarded_records_are_skipped(void **state)
{
	struct fx *f = *state;
	struct seen s = { .refuse_at = -1 };

	NEED_KERNEL(f);
	assert_int_equal(put(f, 40, 1, 0, BPF_RB_NO_WAKEUP), 0);
	assert_int_equal(put(f, 0, 0, 1, 0), 0);
	assert_int_equal(put(f, 0, 0, 1, 0), 0);
	assert_int_equal(put(f, 41, 2, 0, BPF_RB_NO_WAKEUP), 0);
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), 2);
	assert_int_equal(s.seq[0], 1);
	assert_int_equal(s.seq[1], 2);
	assert_false(pg_ring__pending(&f->ring));
}

/* The record the callback refused is consumed (as libbpf does); the rest wait for the next pass. */
static void test_refusal_stops_the_pass(void **state)
{
	struct fx *f = *state;
	struct seen s = { .refuse_at = 1 };

	NEED_KERNEL(f);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(put(f, 64, 10 + i, 0, BPF_RB_NO_WAKEUP), 0);
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), -EPIPE);
	assert_int_equal(s.n, 2);
	s.refuse_at = -1;
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), 2);
	assert_int_equal(s.seq[2], 12);
	assert_int_equal(s.seq[3], 13);
}

/* A full ring refuses records until a pass gives the space back. */
static void test_space_is_given_back(void **state)
{
	struct fx *f = *state;
	struct seen s = { .refuse_at = -1 };
	int fit = 0;

	NEED_KERNEL(f);
	while (put(f, 1000, (uint32_t)fit, 0, BPF_RB_NO_WAKEUP) == 0)
		fit++;
	assert_int_equal(fit, 4); /* 1008 bytes each with the header, in 4096 */
	assert_int_equal(put(f, 1000, 99, 0, BPF_RB_NO_WAKEUP), -EAGAIN);
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(put(f, 1000, 20 + (uint32_t)i, 0, BPF_RB_NO_WAKEUP), 0);
	s.n = 0;
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), 4);
	assert_int_equal(s.seq[3], 23);
}

/*
 * Woken by a forced wakeup; not by records submitted without one, nor, once it has woken, by
 * the records still waiting (edge-triggered: the caller's timer fetches those in batches).
 */
static void test_wait_is_edge_triggered(void **state)
{
	struct fx *f = *state;
	struct seen s = { .refuse_at = -1 };

	NEED_KERNEL(f);
	assert_int_equal(put(f, 8, 1, 0, BPF_RB_NO_WAKEUP), 0);
	assert_int_equal(pg_ring__wait(&f->ring, 50), 0);
	assert_int_equal(put(f, 8, 2, 0, BPF_RB_FORCE_WAKEUP), 0);
	assert_int_equal(pg_ring__wait(&f->ring, 5000), 1);
	assert_int_equal(pg_ring__wait(&f->ring, 50), 0);
	assert_true(pg_ring__pending(&f->ring));
	assert_int_equal(pg_ring__consume(&f->ring, on_record, &s), 2);
}

static void test_close_of_an_unopened_ring(void **state)
{
	struct pg_ring r;

	(void)state;
	memset(&r, 0, sizeof(r));
	pg_ring__close(&r); /* closes nothing: fd 0 stays open */
	assert_int_not_equal(fcntl(0, F_GETFD), -1);
}

static void test_open_refuses_other_maps(void **state)
{
	struct pg_ring r;
	char err[256] = "";
	int fd;

	NEED_KERNEL(*state);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	assert_true(fd >= 0);
	assert_int_equal(pg_ring__open(&r, fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a ring buffer"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_whole_and_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_cross_the_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discarded_records_are_skipped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusal_stops_the_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_space_is_given_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_is_edge_triggered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_other_maps, setup, teardown),
		cmocka_unit_test(test_close_of_an_unopened_ring),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
