// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Named counters (src/metrics.h): a collection rendered as Prometheus text and as --stats
 * JSON, sums over labels, and the pipeline's counters by type and hop. `promtool check
 * metrics` checks the text of a live sensor too (tests/integration/test_metrics.py).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "filter.h"
#include "metrics.h"
#include "pipeline.h"

static const struct pg_metric_desc fam_a = {
	.name = "pg_test_a_total",
	.help = "A \\ help\nwith a newline.",
	.type = PG_METRIC_COUNTER,
	.labels = { "kind", "outcome" },
	.stats = "a.{kind}.{outcome}",
};

static const struct pg_metric_desc fam_b = {
	.name = "pg_test_b_seconds",
	.help = "B.",
	.type = PG_METRIC_GAUGE,
	.stats = "b_ms",
	.stats_scale = 1000,
};

static const double bounds[] = { 0.01, 0.1, 1 };

static const struct pg_metric_desc fam_h = {
	.name = "pg_test_latency_seconds",
	.help = "H.",
	.type = PG_METRIC_HISTOGRAM,
	.labels = { "sink" },
	.buckets = bounds,
	.nbuckets = 3,
};

static const char *render(const struct pg_metrics *m, struct pg_buf *b)
{
	b->len = 0;
	assert_int_equal(pg_metrics__prometheus(m, b), 0);
	pg_buf__putc(b, 0);
	return b->data;
}

/* A family added by two parts, with another in between, is written once, all together. */
static void test_prometheus_groups_families(void **state)
{
	struct pg_metrics m;
	struct pg_buf b = { 0 };
	const char *t;

	pg_metrics__init(&m);
	pg_metrics__add(&m, &fam_a, 3, "x", "ok");
	pg_metrics__add(&m, &fam_b, 0.25);
	pg_metrics__add(&m, &fam_a, 4, "y\"\\\n", "bad");
	t = render(&m, &b);
	assert_string_equal(t,
			    "# HELP pg_test_a_total A \\\\ help\\nwith a newline.\n"
			    "# TYPE pg_test_a_total counter\n"
			    "pg_test_a_total{kind=\"x\",outcome=\"ok\"} 3\n"
			    "pg_test_a_total{kind=\"y\\\"\\\\\\n\",outcome=\"bad\"} 4\n"
			    "# HELP pg_test_b_seconds B.\n"
			    "# TYPE pg_test_b_seconds gauge\n"
			    "pg_test_b_seconds 0.25\n");
	/* a reset keeps nothing of the last collection */
	pg_metrics__reset(&m);
	pg_metrics__add(&m, &fam_b, 1e20);
	t = render(&m, &b);
	assert_non_null(strstr(t, "pg_test_b_seconds 1e+20\n"));
	assert_null(strstr(t, "pg_test_a_total"));
	pg_buf__free(&b);
	pg_metrics__release(&m);
}

static void test_histogram(void **state)
{
	const uint64_t counts[] = { 1, 0, 2, 5 }; /* per bucket, the last above 1 s */
	struct pg_metrics m;
	struct pg_buf b = { 0 };

	pg_metrics__init(&m);
	pg_metrics__add(&m, &fam_b, 1); /* a histogram's counts must be aligned after any label */
	pg_metrics__add_histogram(&m, &fam_h, counts, 12.5, "kafka");
	assert_string_equal(strstr(render(&m, &b), "# HELP pg_test_latency"),
			    "# HELP pg_test_latency_seconds H.\n"
			    "# TYPE pg_test_latency_seconds histogram\n"
			    "pg_test_latency_seconds_bucket{sink=\"kafka\",le=\"0.01\"} 1\n"
			    "pg_test_latency_seconds_bucket{sink=\"kafka\",le=\"0.1\"} 1\n"
			    "pg_test_latency_seconds_bucket{sink=\"kafka\",le=\"1\"} 3\n"
			    "pg_test_latency_seconds_bucket{sink=\"kafka\",le=\"+Inf\"} 8\n"
			    "pg_test_latency_seconds_sum{sink=\"kafka\"} 12.5\n"
			    "pg_test_latency_seconds_count{sink=\"kafka\"} 8\n");
	pg_buf__free(&b);
	pg_metrics__release(&m);
}

static json_t *stats(const struct pg_metrics *m)
{
	struct pg_buf b = { 0 };
	json_error_t jerr;
	json_t *j;

	assert_int_equal(pg_metrics__stats_json(m, &b), 0);
	pg_buf__putc(&b, 0);
	assert_null(strchr(b.data, '\n')); /* one line */
	j = json_loads(b.data, 0, &jerr);
	if (!j)
		fail_msg("not JSON: %s: %s", jerr.text, b.data);
	pg_buf__free(&b);
	return j;
}

static double at(json_t *j, const char *path)
{
	json_t *v = json_object_get(j, path);

	if (!v)
		fail_msg("no key %s", path);
	return json_number_value(v);
}

/* Paths from label values, totals summed over labels, scaled units, integers stay integers. */
static void test_stats_json(void **state)
{
	struct pg_metrics m;
	json_t *j, *a;

	pg_metrics__init(&m);
	pg_metrics__add_total(&m, "sum", &fam_a, 3, "x", "ok");
	pg_metrics__add_total(&m, "sum", &fam_a, 4, "y", "ok");
	pg_metrics__add(&m, &fam_a, 5, "x", "ok"); /* the same path again: added */
	pg_metrics__add(&m, &fam_b, 0.0125);
	pg_metrics__add_histogram(&m, &fam_h, (const uint64_t[]){ 0, 0, 0, 1 }, 1, "k");
	j = stats(&m);
	a = json_object_get(j, "a");
	assert_true(json_is_integer(json_object_get(json_object_get(a, "x"), "ok")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "x"), "ok")), 8);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "y"), "ok")), 4);
	assert_true(json_is_integer(json_object_get(j, "sum")));
	assert_true(at(j, "sum") == 7);
	assert_true(at(j, "b_ms") > 12.49 && at(j, "b_ms") < 12.51);
	assert_int_equal(json_object_size(j), 3); /* a histogram is not in --stats */
	json_decref(j);
	pg_metrics__release(&m);
}

static void test_sum_by_labels(void **state)
{
	struct pg_metrics m;

	pg_metrics__init(&m);
	pg_metrics__add(&m, &fam_a, 1, "x", "ok");
	pg_metrics__add(&m, &fam_a, 2, "y", "ok");
	pg_metrics__add(&m, &fam_a, 4, "x", "bad");
	pg_metrics__add(&m, &fam_b, 8);
	assert_true(pg_metrics__sum(&m, &fam_a, NULL) == 7);
	assert_true(pg_metrics__sum(&m, &fam_a, "outcome", "ok", NULL) == 3);
	assert_true(pg_metrics__sum(&m, &fam_a, "kind", "x", "outcome", "bad", NULL) == 4);
	assert_true(pg_metrics__sum(&m, &fam_a, "kind", "z", NULL) == 0);
	assert_true(pg_metrics__sum(&m, &fam_a, "nolabel", "x", NULL) == 0);
	assert_true(pg_metrics__sum(&m, &fam_b, NULL) == 8);
	pg_metrics__release(&m);
}

/*
 * The pipeline counts every event by type at the userspace hop, and a sink's standard
 * counters come from its stats() under its name: what --stats' old keys are made of.
 */
static void test_pipeline_counts_by_type(void **state)
{
	struct pg_event evs[6];
	struct pg_pipeline pl;
	struct pg_source *src;
	struct pg_metrics m;
	struct pg_filter_error ferr;
	struct pg_stage *st;
	json_t *j, *u;
	int rc;

	for (int i = 0; i < 6; i++) {
		pg_event_init(&evs[i], i < 4 ? PG_EV_OPEN : PG_EV_EXEC);
		evs[i].r.hdr.pid = (uint32_t)i;
	}
	pg_pipeline__init(&pl);
	st = pg_stage_filter__new(pg_filter__parse("pid != 1", &ferr));
	assert_int_equal(pg_pipeline__add_stage(&pl, st), 0);
	assert_int_equal(pg_pipeline__add_sink(&pl, pg_sink_record__new()), 0);
	src = pg_source_mem__new(evs, 6, 6);
	while ((rc = pg_source__poll(src, 0, pg_pipeline__on_event, &pl)) != PG_SOURCE_EOF)
		assert_true(rc > 0);
	pg_metrics__init(&m);
	pg_source__metrics(src, &m);
	pg_pipeline__metrics(&pl, &m);
	assert_true(pg_metrics__sum(&m, &pg_metric_events, "type", "open", "outcome", "read",
				    NULL) == 4);
	assert_true(pg_metrics__sum(&m, &pg_metric_events, "type", "open", "outcome", "filtered",
				    NULL) == 1);
	assert_true(pg_metrics__sum(&m, &pg_metric_events, "type", "exec", "outcome", "passed",
				    NULL) == 2);
	/* every type this build knows is there, zeros too */
	assert_true(pg_metrics__sum(&m, &pg_metric_events, "type", "ptrace", NULL) == 0);
	for (size_t i = 0; i < m.n; i++)
		if (m.samples[i].desc == &pg_metric_events &&
		    !strcmp(pg_metric_sample__label(&m, &m.samples[i], 2), "ptrace"))
			goto found;
	fail_msg("no ptrace series");
found:
	j = stats(&m);
	assert_true(at(j, "read") == 6 && at(j, "passed") == 5);
	assert_true(at(j, "filtered_in_userspace") == 1);
	assert_true(at(j, "written") == 5 && at(j, "malformed") == 0 && at(j, "undelivered") == 0);
	u = json_object_get(json_object_get(j, "userspace"), "open");
	assert_int_equal(json_integer_value(json_object_get(u, "passed")), 3);
	u = json_object_get(json_object_get(j, "sinks"), "record");
	assert_int_equal(json_integer_value(json_object_get(u, "written")), 5);
	json_decref(j);
	pg_metrics__release(&m);
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
}

static void test_process_metrics(void **state)
{
	struct pg_metrics m;

	pg_metrics__init(&m);
	pg_metrics__process(&m);
	for (size_t i = 0; i < m.n; i++) {
		const struct pg_metric_sample *s = &m.samples[i];

		if (!strcmp(s->desc->name, "process_resident_memory_bytes"))
			assert_true(s->value > 100000);
		if (!strcmp(s->desc->name, "process_open_fds"))
			assert_true(s->value >= 3);
		if (!strcmp(s->desc->name, "pangolin_build_info"))
			assert_true(s->value == 1 && *pg_metric_sample__label(&m, s, 0));
	}
	assert_true(m.n >= 6);
	pg_metrics__release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_groups_families),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_sum_by_labels),
		cmocka_unit_test(test_pipeline_counts_by_type),
		cmocka_unit_test(test_process_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
