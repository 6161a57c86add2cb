// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Percentile estimates from log2 buckets (the interpolation documented in hist.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"

static void put(struct pg_hist *h, uint64_t v)
{
	unsigned int k = 0;

	while (k + 1 < PG_HIST_SLOTS && (v >> (k + 1)))
		k++;
	h->slots[k]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static void test_slot_ranges(void **state)
{
	uint64_t lo, hi;

	pg_hist_slot_range(0, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 2);
	pg_hist_slot_range(1, &lo, &hi);
	assert_int_equal(lo, 2);
	assert_int_equal(hi, 4);
	pg_hist_slot_range(10, &lo, &hi);
	assert_int_equal(lo, 1024);
	assert_int_equal(hi, 2048);
}

static void test_empty_is_nan(void **state)
{
	struct pg_hist h = { 0 };

	assert_true(isnan(pg_hist_percentile(&h, 50)));
}

/* One bucket: the percentile moves linearly through [lo, hi) and stops at the max. */
static void test_linear_within_bucket(void **state)
{
	struct pg_hist h = { 0 };

	h.slots[4] = 100; /* [16, 32) */
	h.count = 100;
	h.max = 31;
	assert_float_equal(pg_hist_percentile(&h, 0), 16.0, 1e-9);
	assert_float_equal(pg_hist_percentile(&h, 50), 24.0, 1e-9);
	assert_float_equal(pg_hist_percentile(&h, 25), 20.0, 1e-9);
	assert_float_equal(pg_hist_percentile(&h, 100), 31.0, 1e-9); /* clamped to max */
}

/* The max narrows its own bucket: all values in [16, 20] -> p50 is 18, not 24. */
static void test_max_bounds_bucket(void **state)
{
	struct pg_hist h = { 0 };

	h.slots[4] = 10;
	h.max = 20;
	assert_float_equal(pg_hist_percentile(&h, 50), 18.5, 1e-9);
}

static void test_across_buckets(void **state)
{
	struct pg_hist h = { 0 };

	h.slots[0] = 50; /* [0, 2) */
	h.slots[10] = 50; /* [1024, 2048) */
	h.max = 2047;
	/* rank 50 is the last of slot 0 */
	assert_float_equal(pg_hist_percentile(&h, 50), 2.0, 1e-9);
	/* rank 75: halfway through slot 10 */
	assert_float_equal(pg_hist_percentile(&h, 75), 1536.0, 1e-9);
	assert_float_equal(pg_hist_percentile(&h, 99), 1024.0 + 1024.0 * 49 / 50, 1e-9);
}

/* Against exact percentiles of real data: always inside the true value's bucket. */
static void test_within_factor_two(void **state)
{
	static uint64_t vals[10000];
	struct pg_hist h = { 0 };
	const double ps[] = { 50, 90, 99, 99.9 };

	srand(7);
	for (int i = 0; i < 10000; i++) {
		/* log-normal-ish: what latencies look like */
		double x = exp(3.0 + 1.5 * ((rand() / (double)RAND_MAX) + (rand() / (double)RAND_MAX) - 1.0) * 2);

		vals[i] = (uint64_t)x;
		put(&h, vals[i]);
	}
	for (int i = 1; i < 10000; i++) /* insertion sort is fine for a test */
		for (int j = i; j > 0 && vals[j - 1] > vals[j]; j--) {
			uint64_t t = vals[j];

			vals[j] = vals[j - 1];
			vals[j - 1] = t;
		}
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double exact = (double)vals[(size_t)(ps[i] / 100.0 * 10000) - 1];
		double est = pg_hist_percentile(&h, ps[i]);

		assert_true(est <= 2 * exact + 2);
		assert_true(est >= exact / 2 - 1);
	}
}

static void test_sub_and_add(void **state)
{
	struct pg_hist a = { 0 }, b = { 0 }, d;

	put(&a, 5);
	put(&a, 100);
	b = a;
	put(&a, 1000);
	pg_hist_sub(&d, &a, &b);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.sum, 1000);
	assert_int_equal(d.slots[9], 1);
	pg_hist_add(&d, &b);
	assert_int_equal(d.count, 3);
	assert_int_equal(d.max, 1000);
}

static void test_print_and_json(void **state)
{
	struct pg_hist h = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	put(&h, 0);
	put(&h, 3);
	put(&h, 3);
	put(&h, 40);
	pg_hist_print(f, &h, PG_LAT_US, NULL);
	pg_hist_json(f, &h, "a\"b");
	fclose(f);
	assert_non_null(strstr(buf, "usecs"));
	assert_non_null(strstr(buf, "0 -> 1"));
	assert_non_null(strstr(buf, "2 -> 3"));
	assert_non_null(strstr(buf, "32 -> 63"));
	assert_non_null(strstr(buf, "|****************************************|")); /* the widest bar */
	assert_non_null(strstr(buf, "count 4"));
	assert_non_null(strstr(buf, "{\"key\":\"a\\\"b\",\"count\":4,\"sum\":46"));
	assert_non_null(strstr(buf, "{\"lo\":2,\"hi\":4,\"count\":2}"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_ranges),	    cmocka_unit_test(test_empty_is_nan),
		cmocka_unit_test(test_linear_within_bucket), cmocka_unit_test(test_max_bounds_bucket),
		cmocka_unit_test(test_across_buckets),	    cmocka_unit_test(test_within_factor_two),
		cmocka_unit_test(test_sub_and_add),	    cmocka_unit_test(test_print_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
