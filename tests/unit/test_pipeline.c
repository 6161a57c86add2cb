// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The sans-I/O pipeline: memory source -> stages -> record sinks, and every counter on the way
 * (read, in, filtered, passed, sink and stage errors). Also the two test engines themselves
 * (memory source, record sink), since other tests trust them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "filter.h"
#include "gen_event.h"
#include "pipeline.h"

#define N 1000

static struct pg_event evs[N];
static struct gen_meta metas[N];

/* A mix of every type, deterministic; hdr.pid is the index, to check order. */
static int setup(void **state)
{
	struct rng r = { 42 };

	for (int i = 0; i < N; i++) {
		gen_event(&r, &evs[i], 1 + (unsigned int)(i % (PG_EV_TYPE_COUNT - 1)), &metas[i]);
		evs[i].r.hdr.pid = (uint32_t)i;
	}
	return 0;
}

static struct pg_stage *filter_stage(const char *expr)
{
	struct pg_filter_error err;
	struct pg_filter *f = pg_filter__parse(expr, &err);

	if (!f)
		fail_msg("'%s': %s", expr, err.msg);
	return pg_stage_filter__new(f);
}

/* Run src to its end through pl; every poll must make progress. Returns the polls. */
static int drain(struct pg_source *src, struct pg_pipeline *pl)
{
	int polls = 0, rc;

	while ((rc = pg_source__poll(src, 0, pg_pipeline__on_event, pl)) != PG_SOURCE_EOF) {
		if (rc <= 0)
			fail_msg("poll returned %d", rc);
		polls++;
	}
	return polls;
}

/* --- the test engines -------------------------------------------------------------------- */

struct counter {
	int seen;
	int stop_at; /* return 1 from the callback at this event (-1: never) */
	uint32_t last_pid;
};

static int count_cb(void *ctx, struct pg_event *ev)
{
	struct counter *c = ctx;

	if (c->seen && ev->r.hdr.pid != c->last_pid + 1)
		fail_msg("out of order: %u after %u", ev->r.hdr.pid, c->last_pid);
	c->last_pid = ev->r.hdr.pid;
	ev->r.hdr.uid = 12345; /* a stage may amend the event: the caller's array stays intact */
	if (c->seen++ == c->stop_at)
		return 7;
	return 0;
}

static void test_mem_source(void **state)
{
	struct pg_source *src = pg_source_mem__new(evs, N, 300);
	struct pg_source_stats st;
	struct counter c = { .stop_at = -1 };
	uint32_t uid0 = evs[0].r.hdr.uid;

	assert_non_null(src);
	assert_string_equal(src->ops->name, "memory");
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), 300);
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), 300);
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), 300);
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), 100);
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), PG_SOURCE_EOF);
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), PG_SOURCE_EOF);
	assert_int_equal(c.seen, N);
	assert_int_equal(evs[0].r.hdr.uid, uid0);
	pg_source__stats(src, &st);
	assert_int_equal(st.read, N);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.lost, 0);
	pg_source__free(src);

	/* a callback that says stop: poll returns its value, the rest comes on the next poll */
	src = pg_source_mem__new(evs, N, 0);
	c = (struct counter){ .stop_at = 9 };
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), 7);
	assert_int_equal(c.seen, 10);
	c.stop_at = -1;
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), 990); /* default batch 1024 */
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), PG_SOURCE_EOF);
	pg_source__stats(src, &st);
	assert_int_equal(st.read, N);
	pg_source__free(src);

	/* nothing at all */
	src = pg_source_mem__new(NULL, 0, 10);
	assert_int_equal(pg_source__poll(src, 0, count_cb, &c), PG_SOURCE_EOF);
	pg_source__free(src);
	pg_source__free(NULL);
}

static void test_record_sink(void **state)
{
	struct pg_sink *s = pg_sink_record__new();
	struct pg_sink_stats st;
	struct pg_event ev;

	assert_non_null(s);
	assert_string_equal(s->ops->name, "record");
	for (int i = 0; i < 200; i++)
		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
	assert_int_equal(pg_sink_record__count(s), 200);
	for (int i = 0; i < 200; i++)
		assert_true(events_equal(pg_sink_record__get(s, (size_t)i), &evs[i]));
	assert_null(pg_sink_record__get(s, 200));

	/* metadata is copied: the caller may reuse its strings */
	pg_event_init(&ev, PG_EV_FORK);
	char node[] = "node-a";

	ev.meta.node = node;
	assert_int_equal(pg_sink__send(s, &ev), 0);
	node[5] = 'b';
	assert_string_equal(pg_sink_record__get(s, 200)->meta.node, "node-a");
	assert_ptr_not_equal(pg_sink_record__get(s, 200)->meta.node, node);
	assert_null(pg_sink_record__get(s, 200)->meta.cgroup);

	/* one failure on demand, then success again */
	pg_sink_record__fail_with(s, -EIO);
	assert_int_equal(pg_sink__send(s, &ev), -EIO);
	assert_int_equal(pg_sink__send(s, &ev), 0);
	assert_int_equal(pg_sink__flush(s, 0), 0);
	pg_sink__tick(s);
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, 202);
	assert_int_equal(st.written, 202);
	assert_int_equal(st.failed, 1);
	assert_int_equal(pg_sink_record__count(s), 202);
	pg_sink__free(s);
	pg_sink__free(NULL);
}

/* --- the pipeline ------------------------------------------------------------------------ */

static void test_source_filter_sink(void **state)
{
	struct pg_pipeline pl;
	struct pg_source *src = pg_source_mem__new(evs, N, 64);
	struct pg_sink *rec = pg_sink_record__new();
	struct pg_source_stats ss;
	size_t opens = 0;

	pg_pipeline__init(&pl);
	assert_int_equal(pg_pipeline__add_stage(&pl, filter_stage("type == \"open\" || type == \"exec\"")), 0);
	assert_int_equal(pg_pipeline__add_sink(&pl, rec), 0);
	assert_int_equal(drain(src, &pl), (N + 63) / 64);
	assert_int_equal(pg_pipeline__flush(&pl, 0), 0);

	for (int i = 0; i < N; i++)
		if (evs[i].r.hdr.type == PG_EV_OPEN || evs[i].r.hdr.type == PG_EV_EXEC)
			opens++;
	assert_true(opens >= 200);
	pg_source__stats(src, &ss);
	assert_int_equal(ss.read, N);
	assert_int_equal(pl.stats.in, N);
	assert_int_equal(pl.stats.passed, opens);
	assert_int_equal(pl.stats.filtered, N - opens);
	assert_int_equal(pl.stats.sink_errors, 0);
	assert_int_equal(pl.stats.stage_errors, 0);
	assert_int_equal(pl.last_err, 0);
	/* exactly the matching events, in order, unchanged */
	assert_int_equal(pg_sink_record__count(rec), opens);
	for (size_t i = 0, k = 0; i < N; i++) {
		if (evs[i].r.hdr.type != PG_EV_OPEN && evs[i].r.hdr.type != PG_EV_EXEC)
			continue;
		assert_true(events_equal(pg_sink_record__get(rec, k++), &evs[i]));
	}
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
	assert_int_equal(pl.nstages, 0);
	assert_int_equal(pl.nsinks, 0);
}

/* A sink of some types only (alerts to their own output): each event goes to the sinks of its
 * type, the other sinks do not see it. */
static void test_sink_types(void **state)
{
	struct pg_pipeline pl;
	struct pg_source *src = pg_source_mem__new(evs, N, 0);
	struct pg_sink *all = pg_sink_record__new(), *execs = pg_sink_record__new();
	struct pg_sink *rest = pg_sink_record__new();
	size_t nexec = 0;

	pg_pipeline__init(&pl);
	assert_int_equal(pg_pipeline__add_sink(&pl, all), 0);
	assert_int_equal(pg_pipeline__add_sink_types(&pl, execs, 1u << PG_EV_EXEC), 0);
	assert_int_equal(pg_pipeline__add_sink_types(&pl, rest, ~(1u << PG_EV_EXEC)), 0);
	drain(src, &pl);
	for (int i = 0; i < N; i++)
		nexec += evs[i].r.hdr.type == PG_EV_EXEC;
	assert_true(nexec > 0);
	assert_int_equal(pg_sink_record__count(all), N);
	assert_int_equal(pg_sink_record__count(execs), nexec);
	assert_int_equal(pg_sink_record__count(rest), N - nexec);
	for (size_t k = 0; k < nexec; k++)
		assert_int_equal(pg_sink_record__get(execs, k)->r.hdr.type, PG_EV_EXEC);
	for (size_t k = 0; k < N - nexec; k++)
		assert_int_not_equal(pg_sink_record__get(rest, k)->r.hdr.type, PG_EV_EXEC);
	assert_int_equal(pl.stats.passed, N);
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
}

static void test_stages_in_order(void **state)
{
	struct pg_pipeline pl;
	struct pg_sink *rec = pg_sink_record__new();

	/* pid < 500, then odd tids: 250 pass, 500 + 250 filtered */
	pg_pipeline__init(&pl);
	pg_pipeline__add_stage(&pl, filter_stage("pid < 500"));
	pg_pipeline__add_stage(&pl, filter_stage("tid == 1"));
	pg_pipeline__add_stage(&pl, filter_stage(""));
	pg_pipeline__add_sink(&pl, rec);
	for (int i = 0; i < N; i++) {
		struct pg_event copy = evs[i];

		copy.r.hdr.pid = (uint32_t)i;
		copy.r.hdr.tid = (uint32_t)(i % 2);
		assert_int_equal(pg_pipeline__push(&pl, &copy), 0);
	}
	assert_int_equal(pl.stats.in, N);
	assert_int_equal(pl.stats.passed, 250);
	assert_int_equal(pl.stats.filtered, 750);
	assert_int_equal(pg_sink_record__count(rec), 250);
	for (size_t k = 0; k < 250; k++)
		assert_int_equal(pg_sink_record__get(rec, k)->r.hdr.pid, 2 * k + 1);
	pg_pipeline__destroy(&pl);
}

static void test_sink_errors_counted(void **state)
{
	struct pg_pipeline pl;
	struct pg_sink *good = pg_sink_record__new(), *bad = pg_sink_record__new();
	struct pg_source *src = pg_source_mem__new(evs, 10, 0);
	struct pg_sink_stats st;
	int rc;

	pg_pipeline__init(&pl);
	pg_pipeline__add_sink(&pl, good);
	pg_pipeline__add_sink(&pl, bad);

	/* the 4th event fails in one sink: the other still gets it, the source stops there */
	assert_int_equal(pg_pipeline__push(&pl, &evs[0]), 0);
	assert_int_equal(pg_pipeline__push(&pl, &evs[1]), 0);
	assert_int_equal(pg_pipeline__push(&pl, &evs[2]), 0);
	pg_sink_record__fail_with(bad, -ENOSPC);
	rc = pg_source__poll(src, 0, pg_pipeline__on_event, &pl);
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(pl.stats.sink_errors, 1);
	assert_int_equal(pl.last_err, -ENOSPC);
	assert_int_equal(pl.stats.passed, 4);
	assert_int_equal(pg_sink_record__count(good), 4);
	assert_int_equal(pg_sink_record__count(bad), 3);
	pg_sink__stats(bad, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.written, 3);

	/* the rest of the source arrives on the next poll; the first error stays in last_err */
	pg_sink_record__fail_with(good, -EIO);
	rc = pg_source__poll(src, 0, pg_pipeline__on_event, &pl);
	assert_int_equal(rc, -EIO);
	assert_int_equal(pl.last_err, -ENOSPC);
	assert_int_equal(pl.stats.sink_errors, 2);
	assert_int_equal(pg_source__poll(src, 0, pg_pipeline__on_event, &pl), 8);
	assert_int_equal(pg_source__poll(src, 0, pg_pipeline__on_event, &pl), PG_SOURCE_EOF);
	/* 3 pushed + 10 from the source; each sink lost exactly one */
	assert_int_equal(pl.stats.in, 13);
	assert_int_equal(pl.stats.passed, 13);
	assert_int_equal(pg_sink_record__count(good), 12);
	assert_int_equal(pg_sink_record__count(bad), 12);
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
}

/* A stage that fails on exec events and otherwise passes. */
static int failing_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	return ev->r.hdr.type == PG_EV_EXEC ? -EPROTO : PG_PASS;
}

static void free_stage(struct pg_stage *st)
{
	free(st);
}

static const struct pg_stage_ops failing_ops = {
	.name = "failing",
	.process = failing_process,
	.free = free_stage,
};

static void test_stage_errors_counted(void **state)
{
	struct pg_pipeline pl;
	struct pg_stage *st = calloc(1, sizeof(*st));
	struct pg_sink *rec = pg_sink_record__new();
	size_t execs = 0;

	st->ops = &failing_ops;
	pg_pipeline__init(&pl);
	pg_pipeline__add_stage(&pl, st);
	pg_pipeline__add_sink(&pl, rec);
	for (int i = 0; i < N; i++) {
		struct pg_event copy = evs[i];

		/* a stage failure drops the event (counted) but does not stop the pipeline */
		assert_int_equal(pg_pipeline__push(&pl, &copy), 0);
		execs += evs[i].r.hdr.type == PG_EV_EXEC;
	}
	assert_true(execs > 0);
	assert_int_equal(pl.stats.stage_errors, execs);
	assert_int_equal(pl.stats.passed, N - execs);
	assert_int_equal(pl.stats.filtered, 0);
	assert_int_equal(pl.last_err, -EPROTO);
	assert_int_equal(pg_sink_record__count(rec), N - execs);
	pg_pipeline__destroy(&pl);
}

/*
 * A correlating stage: after each exit it emits a second event (a made-up "alert" fork event
 * with child_pid 0xdeadbeef). Stages after it see the new event, stages before it do not.
 */
struct emitter {
	struct pg_stage base;
	int emitted;
};

static int emit_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	struct emitter *e = (struct emitter *)st;

	if (ev->r.hdr.type == PG_EV_EXIT) {
		struct pg_event alert;
		int rc;

		pg_event_init(&alert, PG_EV_FORK);
		alert.r.fork.child_pid = 0xdeadbeef;
		alert.r.hdr.pid = ev->r.hdr.pid;
		rc = pg_pipeline__emit(pl, st, &alert);
		if (rc)
			return rc;
		e->emitted++;
	}
	return PG_PASS;
}

static const struct pg_stage_ops emit_ops = {
	.name = "emitter",
	.process = emit_process,
	.free = free_stage,
};

/* Counts what it sees; passes everything. */
struct seen {
	struct pg_stage base;
	int forks, alerts;
};

static int seen_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	struct seen *s = (struct seen *)st;

	if (ev->r.hdr.type == PG_EV_FORK)
		s->forks++;
	if (ev->r.hdr.type == PG_EV_FORK && ev->r.fork.child_pid == 0xdeadbeef)
		s->alerts++;
	return PG_PASS;
}

static const struct pg_stage_ops seen_ops = {
	.name = "seen",
	.process = seen_process,
	.free = free_stage,
};

static void test_emit(void **state)
{
	struct pg_pipeline pl;
	struct seen *before = calloc(1, sizeof(*before)), *after = calloc(1, sizeof(*after));
	struct emitter *em = calloc(1, sizeof(*em));
	struct pg_sink *rec = pg_sink_record__new();
	struct pg_source *src = pg_source_mem__new(evs, N, 0);
	size_t exits = 0, forks = 0, alerts_in_sink = 0;

	before->base.ops = &seen_ops;
	after->base.ops = &seen_ops;
	em->base.ops = &emit_ops;
	pg_pipeline__init(&pl);
	pg_pipeline__add_stage(&pl, &before->base);
	pg_pipeline__add_stage(&pl, &em->base);
	pg_pipeline__add_stage(&pl, filter_stage("not (type == \"fork\" && child_pid == 0xdeadbeef && pid < 100)"));
	pg_pipeline__add_stage(&pl, &after->base);
	pg_pipeline__add_sink(&pl, rec);
	drain(src, &pl);

	for (int i = 0; i < N; i++) {
		exits += evs[i].r.hdr.type == PG_EV_EXIT;
		forks += evs[i].r.hdr.type == PG_EV_FORK;
	}
	size_t low_exits = 0;

	for (int i = 0; i < 100; i++)
		low_exits += evs[i].r.hdr.type == PG_EV_EXIT;
	assert_int_equal(em->emitted, exits);
	assert_int_equal(before->forks, forks); /* emitted events skip the stages before */
	assert_int_equal(before->alerts, 0);
	/* the filter after the emitter saw the alerts and dropped those with pid < 100 */
	assert_int_equal(after->alerts, exits - low_exits);
	assert_int_equal(pl.stats.in, N + exits);
	assert_int_equal(pl.stats.filtered, low_exits);
	assert_int_equal(pl.stats.passed, N + exits - low_exits);
	for (size_t k = 0; k < pg_sink_record__count(rec); k++) {
		const struct pg_event *ev = pg_sink_record__get(rec, k);

		if (ev->r.hdr.type == PG_EV_FORK && ev->r.fork.child_pid == 0xdeadbeef) {
			alerts_in_sink++;
			/* the alert reaches the sink before the exit that caused it */
			const struct pg_event *next = pg_sink_record__get(rec, k + 1);

			assert_non_null(next);
			assert_int_equal(next->r.hdr.type, PG_EV_EXIT);
			assert_int_equal(next->r.hdr.pid, ev->r.hdr.pid);
		}
	}
	assert_int_equal(alerts_in_sink, exits - low_exits);

	/* emit from a stage not in the pipeline: only the sinks see it */
	struct pg_event alert;
	size_t before_count = pg_sink_record__count(rec);

	pg_event_init(&alert, PG_EV_FORK);
	alert.r.fork.child_pid = 0xdeadbeef;
	alert.r.hdr.pid = 1;
	assert_int_equal(pg_pipeline__emit(&pl, NULL, &alert), 0);
	assert_int_equal(pg_sink_record__count(rec), before_count + 1);

	/* an emit whose sink fails returns the error to the emitting stage */
	pg_sink_record__fail_with(rec, -EIO);
	alert.r.hdr.pid = 1000; /* past the filter after the emitter */
	assert_int_equal(pg_pipeline__emit(&pl, &em->base, &alert), -EIO);
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
}

static void test_limits(void **state)
{
	struct pg_pipeline pl;
	struct pg_stage *extra = filter_stage("");
	struct pg_sink *extra_sink = pg_sink_record__new();

	pg_pipeline__init(&pl);
	for (int i = 0; i < PG_PIPELINE_MAX_STAGES; i++)
		assert_int_equal(pg_pipeline__add_stage(&pl, filter_stage("")), 0);
	assert_int_equal(pg_pipeline__add_stage(&pl, extra), -ENOSPC);
	for (int i = 0; i < PG_PIPELINE_MAX_SINKS; i++)
		assert_int_equal(pg_pipeline__add_sink(&pl, pg_sink_record__new()), 0);
	assert_int_equal(pg_pipeline__add_sink(&pl, extra_sink), -ENOSPC);
	/* a refused stage or sink stays the caller's */
	pg_stage__free(extra);
	pg_sink__free(extra_sink);
	assert_int_equal(pg_pipeline__push(&pl, &evs[0]), 0);
	for (int i = 0; i < PG_PIPELINE_MAX_SINKS; i++)
		assert_int_equal(pg_sink_record__count(pl.sinks[i]), 1);
	pg_pipeline__tick(&pl);
	pg_pipeline__destroy(&pl);
	pg_pipeline__destroy(&pl); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_source),
		cmocka_unit_test(test_record_sink),
		cmocka_unit_test(test_source_filter_sink),
		cmocka_unit_test(test_sink_types),
		cmocka_unit_test(test_stages_in_order),
		cmocka_unit_test(test_sink_errors_counted),
		cmocka_unit_test(test_stage_errors_counted),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
