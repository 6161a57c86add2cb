// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The pprof encoder, checked by decoding our own output (and the gzip wrapper around it). */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "pprof.pb-c.h"
#include "profile.h"

static const char *str(const Pangolin__Pprof__Profile *p, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < p->n_string_table);
	return p->string_table[i];
}

static const Pangolin__Pprof__Location *loc(const Pangolin__Pprof__Profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const Pangolin__Pprof__Function *fn(const Pangolin__Pprof__Profile *p, uint64_t fid)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == fid)
			return p->function[i];
	fail_msg("no function %llu", (unsigned long long)fid);
	return NULL;
}

static const char *fn_name(const Pangolin__Pprof__Profile *p, uint64_t fid)
{
	return str(p, fn(p, fid)->name);
}

static void build(struct pg_profile *pr)
{
	/* leaf first */
	struct pg_frame a[] = {
		{ .name = "vfs_read", .module = "[kernel.kallsyms]", .addr = 0xffffffff81001000, .kind = PG_FRAME_KERNEL },
		{ .name = "read", .module = "/usr/lib/libc.so.6", .build_id = "abcd", .addr = 0x1000, .module_lo = 0x1000, .module_hi = 0x9000, .kind = PG_FRAME_USER },
		{ .name = "app::run(int)", .system_name = "_ZN3app3runEi", .module = "/usr/bin/app", .addr = 0x2000, .kind = PG_FRAME_USER },
	};
	struct pg_frame b[] = {
		{ .name = "read", .module = "/usr/lib/libc.so.6", .build_id = "abcd", .addr = 0x1000, .module_lo = 0x1000, .module_hi = 0x9000, .kind = PG_FRAME_USER },
		{ .name = "app::run(int)", .system_name = "_ZN3app3runEi", .module = "/usr/bin/app", .addr = 0x2000, .kind = PG_FRAME_USER },
	};

	pg_profile__init(pr);
	pr->freq_hz = 100;
	pr->time_ns = 1700000000000000000ULL;
	pr->duration_ns = 3000000000ULL;
	assert_int_equal(pg_profile__add(pr, 42, "app", a, 3, 7), 0);
	assert_int_equal(pg_profile__add(pr, 43, "app2", b, 2, 5), 0);
}

static void check(const Pangolin__Pprof__Profile *p)
{
	assert_string_equal(p->string_table[0], "");
	assert_int_equal(p->n_sample_type, 2);
	assert_string_equal(str(p, p->sample_type[0]->type), "samples");
	assert_string_equal(str(p, p->sample_type[0]->unit), "count");
	assert_string_equal(str(p, p->sample_type[1]->type), "cpu");
	assert_string_equal(str(p, p->sample_type[1]->unit), "nanoseconds");
	assert_int_equal(p->period, 10000000);
	assert_int_equal(p->duration_nanos, 3000000000LL);
	assert_int_equal(p->n_sample, 2);
	assert_int_equal(p->sample[0]->n_value, 2);
	assert_int_equal(p->sample[0]->value[0], 7);
	assert_int_equal(p->sample[0]->value[1], 70000000);
	/* leaf first, and the shared frames are shared locations */
	assert_int_equal(p->sample[0]->n_location_id, 3);
	assert_string_equal(fn_name(p, loc(p, p->sample[0]->location_id[0])->line[0]->function_id), "vfs_read");
	/* a C++ function: demangled name, and the symbol table's (mangled) as system_name */
	const Pangolin__Pprof__Function *cxx = fn(p, loc(p, p->sample[0]->location_id[2])->line[0]->function_id);

	assert_string_equal(str(p, cxx->name), "app::run(int)");
	assert_string_equal(str(p, cxx->system_name), "_ZN3app3runEi");
	assert_string_equal(str(p, fn(p, loc(p, p->sample[0]->location_id[0])->line[0]->function_id)->system_name),
			    "vfs_read");
	assert_int_equal(p->sample[0]->location_id[1], p->sample[1]->location_id[0]);
	assert_int_equal(p->n_location, 3);
	assert_int_equal(p->n_function, 3);
	assert_int_equal(p->n_mapping, 3);
	/* labels */
	assert_int_equal(p->sample[1]->n_label, 2);
	assert_string_equal(str(p, p->sample[1]->label[0]->key), "pid");
	assert_int_equal(p->sample[1]->label[0]->num, 43);
	assert_string_equal(str(p, p->sample[1]->label[1]->key), "comm");
	assert_string_equal(str(p, p->sample[1]->label[1]->str), "app2");
	/* every location's mapping exists and covers its address */
	for (size_t i = 0; i < p->n_location; i++) {
		const Pangolin__Pprof__Location *l = p->location[i];
		bool found = false;

		for (size_t j = 0; j < p->n_mapping; j++)
			if (p->mapping[j]->id == l->mapping_id) {
				found = true;
				assert_true(l->address >= p->mapping[j]->memory_start);
				assert_true(l->address < p->mapping[j]->memory_limit);
				assert_true(p->mapping[j]->has_functions);
			}
		assert_true(found);
	}
	for (size_t j = 0; j < p->n_mapping; j++)
		if (!strcmp(str(p, p->mapping[j]->filename), "/usr/lib/libc.so.6")) {
			assert_string_equal(str(p, p->mapping[j]->build_id), "abcd");
			assert_int_equal(p->mapping[j]->memory_start, 0x1000);
			assert_int_equal(p->mapping[j]->memory_limit, 0x9000);
		}
}

static void test_encode_decode(void **state)
{
	struct pg_profile pr;
	Pangolin__Pprof__Profile *p;
	uint8_t *buf;
	size_t len;

	build(&pr);
	assert_int_equal(pg_profile__encode_pprof(&pr, &buf, &len), 0);
	p = pangolin__pprof__profile__unpack(NULL, len, buf);
	assert_non_null(p);
	check(p);
	pangolin__pprof__profile__free_unpacked(p, NULL);
	free(buf);
	pg_profile__destroy(&pr);
}

static void test_gzip_wrapper(void **state)
{
	struct pg_profile pr;
	Pangolin__Pprof__Profile *p;
	char *gz = NULL;
	size_t gzlen = 0;
	uint8_t out[1 << 16];
	z_stream z = { 0 };
	FILE *f;

	build(&pr);
	f = open_memstream(&gz, &gzlen);
	assert_int_equal(pg_profile__write_pprof(&pr, f), 0);
	fclose(f);
	assert_true(gzlen > 2);
	assert_int_equal((unsigned char)gz[0], 0x1f); /* gzip magic */
	assert_int_equal((unsigned char)gz[1], 0x8b);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)gzlen;
	z.next_out = out;
	z.avail_out = sizeof(out);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	p = pangolin__pprof__profile__unpack(NULL, sizeof(out) - z.avail_out, out);
	inflateEnd(&z);
	assert_non_null(p);
	check(p);
	pangolin__pprof__profile__free_unpacked(p, NULL);
	free(gz);
	pg_profile__destroy(&pr);
}

static void test_fold(void **state)
{
	struct pg_profile pr;
	struct pg_folded f;
	struct pg_frame semi[] = { { .name = "a;b\nc", .kind = PG_FRAME_USER } };

	build(&pr);
	assert_int_equal(pg_profile__add(&pr, 44, "app", semi, 1, 1), 0);
	assert_int_equal(pg_profile__fold(&pr, &f), 0);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.v[0].stack, "app;a:b?c"); /* separators in names are neutralised */
	assert_string_equal(f.v[1].stack, "app;app::run(int);read;vfs_read_[k]"); /* demangled */
	assert_int_equal(f.v[1].count, 7);
	assert_string_equal(f.v[2].stack, "app2;app::run(int);read");
	pg_folded__destroy(&f);
	pg_profile__destroy(&pr);
}

static void test_empty_profile(void **state)
{
	struct pg_profile pr;
	Pangolin__Pprof__Profile *p;
	uint8_t *buf;
	size_t len;

	pg_profile__init(&pr);
	pr.freq_hz = 99;
	assert_int_equal(pg_profile__encode_pprof(&pr, &buf, &len), 0);
	p = pangolin__pprof__profile__unpack(NULL, len, buf);
	assert_non_null(p);
	assert_int_equal(p->n_sample, 0);
	pangolin__pprof__profile__free_unpacked(p, NULL);
	free(buf);
	pg_profile__destroy(&pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_gzip_wrapper),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_empty_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
