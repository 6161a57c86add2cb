// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Correlations: event_count, value_count, temporal, temporal_ordered, chained, with group-by,
 * aliases and generate, each at the edges of its window (an event exactly timespan after the
 * first is inside; one nanosecond later is outside), and their state bounded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect.h"

#define SEC 1000000000ULL

/* Two detection rules, A (CommandLine contains 'aaa') and B ('bbb'), a third C ('ccc'), and
 * a failed-login-like rule F on exits with a code. Correlations are appended per test. */
#define BASE                                                                                   \
	"title: A\nname: rule_a\nlogsource: {product: linux, category: process_creation}\n"   \
	"detection: {s: {CommandLine|contains: aaa}, condition: s}\n---\n"                    \
	"title: B\nname: rule_b\nlogsource: {product: linux, category: process_creation}\n"   \
	"detection: {s: {CommandLine|contains: bbb}, condition: s}\n---\n"                    \
	"title: C\nname: rule_c\nlogsource: {product: linux, category: process_creation}\n"   \
	"detection: {s: {CommandLine|contains: ccc}, condition: s}\n---\n"                    \
	"title: conn\nname: rule_conn\nlogsource: {product: linux, category: network_connection}\n" \
	"detection: {s: {DestinationIp|cidr: 10.0.0.0/8}, condition: s}\n---\n"

struct run {
	struct pg_ruleset *rs;
	struct pg_detector *d;
	struct pg_event last; /* the last alert */
	int alerts; /* alerts of the rule under test (id "corr") */
	int others; /* alerts of other rules */
};

static int on_alert(void *ctx, struct pg_event *a)
{
	struct run *r = ctx;

	if (!strcmp(a->r.alert.rule_id, "corr")) {
		r->alerts++;
		r->last = *a;
	} else {
		r->others++;
	}
	return 0;
}

static void start(struct run *r, const char *corr, size_t max_groups)
{
	char *yaml = malloc(strlen(BASE) + strlen(corr) + 1), err[1024];
	struct pg_detector_opts o = { .max_groups = max_groups };

	strcpy(yaml, BASE);
	strcat(yaml, corr);
	memset(r, 0, sizeof(*r));
	r->rs = pg_ruleset__new();
	if (pg_ruleset__load_buf(r->rs, "c.yml", yaml, strlen(yaml), err, sizeof(err)) ||
	    pg_ruleset__finish(r->rs, err, sizeof(err)))
		fail_msg("%s", err);
	free(yaml);
	r->d = pg_detector__new(r->rs, &o);
	assert_non_null(r->d);
}

static void stop(struct run *r)
{
	pg_detector__free(r->d);
	pg_ruleset__free(r->rs);
}

/* An exec at t of a process with this command line, pid and uid, on node. */
static void exec_at(struct run *r, uint64_t t, const char *cmd, uint32_t pid, uint32_t uid,
		    const char *node)
{
	struct pg_event ev;

	pg_event_init(&ev, PG_EV_EXEC);
	ev.r.hdr.ts_ns = t;
	ev.r.hdr.pid = pid;
	ev.r.hdr.start_ns = pid * 10ULL;
	ev.r.hdr.uid = uid;
	strcpy(ev.r.exec.path, "/bin/x");
	ev.meta.proc.exe = "/bin/x";
	ev.meta.proc.cmdline = cmd;
	ev.meta.node = node;
	assert_int_equal(pg_detector__process(r->d, &ev, on_alert, r), 0);
}

static void connect_at(struct run *r, uint64_t t, uint32_t pid, uint16_t port)
{
	struct pg_event ev;

	pg_event_init(&ev, PG_EV_CONNECT);
	ev.r.hdr.ts_ns = t;
	ev.r.hdr.pid = pid;
	ev.r.hdr.start_ns = pid * 10ULL;
	ev.r.connect.family = 2;
	ev.r.connect.daddr[0] = 10;
	ev.r.connect.dport = port;
	assert_int_equal(pg_detector__process(r->d, &ev, on_alert, r), 0);
}

#define EVENT_COUNT(cond, span)                                                                   \
	"title: corr\nid: corr\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [rule_a]\n" \
	"  group-by: [User]\n  timespan: " span "\n  condition: {" cond "}\n"

static void test_event_count_edges(void **state)
{
	struct run r;

	/* three in 10 s: the third exactly 10 s after the first is inside */
	start(&r, EVENT_COUNT("gte: 3", "10s"), 0);
	exec_at(&r, 100 * SEC, "aaa", 1, 1000, NULL);
	exec_at(&r, 105 * SEC, "aaa", 2, 1000, NULL);
	exec_at(&r, 110 * SEC, "aaa", 3, 1000, NULL);
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.others, 0); /* rule_a is counted, it does not alert by itself */
	assert_int_equal(r.last.r.alert.count, 3);
	assert_int_equal(r.last.r.alert.nevents, 3);
	assert_int_equal(r.last.r.alert.events[0].pid, 1); /* oldest first */
	assert_int_equal(r.last.r.alert.events[2].pid, 3);
	assert_int_equal(r.last.r.hdr.pid, 3); /* the event that completed it */
	assert_int_equal(r.last.r.alert.ngroup, 1);
	assert_memory_equal(r.last.r.alert.group, "User\0" "1000\0", 10);
	stop(&r);

	/* one nanosecond later is outside; the next event slides the window */
	start(&r, EVENT_COUNT("gte: 3", "10s"), 0);
	exec_at(&r, 100 * SEC, "aaa", 1, 1000, NULL);
	exec_at(&r, 105 * SEC, "aaa", 2, 1000, NULL);
	exec_at(&r, 110 * SEC + 1, "aaa", 3, 1000, NULL);
	assert_int_equal(r.alerts, 0);
	exec_at(&r, 111 * SEC, "aaa", 4, 1000, NULL); /* 105, 110+, 111: inside */
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.events[0].pid, 2);
	stop(&r);

	/* groups: another uid does not count for this one; a group that fired starts over */
	start(&r, EVENT_COUNT("gt: 2", "10s"), 0);
	exec_at(&r, 1 * SEC, "aaa", 1, 1000, NULL);
	exec_at(&r, 2 * SEC, "aaa", 2, 0, NULL);
	exec_at(&r, 3 * SEC, "aaa", 3, 1000, NULL);
	assert_int_equal(r.alerts, 0);
	for (uint32_t i = 0; i < 6; i++)
		exec_at(&r, 4 * SEC + i, "aaa", 10 + i, 1000, NULL);
	assert_int_equal(r.alerts, 2); /* after 1 (then 3 more), and again after 3 more */
	stop(&r);

	/* nodes never mix: the same uid on two machines is two users */
	start(&r, EVENT_COUNT("gte: 2", "10s"), 0);
	exec_at(&r, 1 * SEC, "aaa", 1, 1000, "node-a");
	exec_at(&r, 2 * SEC, "aaa", 2, 1000, "node-b");
	assert_int_equal(r.alerts, 0);
	exec_at(&r, 3 * SEC, "aaa", 3, 1000, "node-b");
	assert_int_equal(r.alerts, 1);
	stop(&r);
}

#define VALUE_COUNT(span)                                                                          \
	"title: corr\nid: corr\ncorrelation:\n  type: value_count\n  rules: [rule_conn]\n"            \
	"  group-by: [ProcessId]\n  timespan: " span "\n  condition: {gte: 3, field: DestinationPort}\n"

static void test_value_count_edges(void **state)
{
	struct run r;

	start(&r, VALUE_COUNT("10s"), 0);
	connect_at(&r, 100 * SEC, 7, 22);
	connect_at(&r, 101 * SEC, 7, 22); /* the same port again: still one value */
	connect_at(&r, 102 * SEC, 7, 23);
	connect_at(&r, 103 * SEC, 8, 24); /* another process */
	assert_int_equal(r.alerts, 0);
	connect_at(&r, 111 * SEC, 7, 24); /* 22 was last seen at 101: exactly 10 s, inside */
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.count, 3);
	assert_memory_equal(r.last.r.alert.group, "ProcessId\0" "7\0", 12);
	stop(&r);

	start(&r, VALUE_COUNT("10s"), 0);
	connect_at(&r, 100 * SEC, 7, 22);
	connect_at(&r, 102 * SEC, 7, 23);
	connect_at(&r, 110 * SEC + 1, 7, 24); /* 22 at 100 is now outside */
	assert_int_equal(r.alerts, 0);
	connect_at(&r, 110 * SEC + 2, 7, 25);
	assert_int_equal(r.alerts, 1);
	stop(&r);
}

#define TEMPORAL(type, cond)                                                                        \
	"title: corr\nid: corr\ncorrelation:\n  type: " type "\n  rules: [rule_a, rule_b, rule_c]\n" \
	"  group-by: [User]\n  timespan: 30s\n" cond

static void test_temporal_edges(void **state)
{
	struct run r;

	/* all three, any order, within 30 s */
	start(&r, TEMPORAL("temporal", ""), 0);
	exec_at(&r, 100 * SEC, "ccc", 1, 5, NULL);
	exec_at(&r, 110 * SEC, "aaa", 2, 5, NULL);
	exec_at(&r, 130 * SEC, "bbb", 3, 5, NULL); /* exactly 30 s after the first */
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.count, 3);
	stop(&r);
	start(&r, TEMPORAL("temporal", ""), 0);
	exec_at(&r, 100 * SEC, "ccc", 1, 5, NULL);
	exec_at(&r, 110 * SEC, "aaa", 2, 5, NULL);
	exec_at(&r, 130 * SEC + 1, "bbb", 3, 5, NULL);
	assert_int_equal(r.alerts, 0);
	exec_at(&r, 131 * SEC, "ccc", 4, 5, NULL); /* ccc again: now all three within 30 s */
	assert_int_equal(r.alerts, 1);
	stop(&r);
	/* a condition counts rules: two of the three */
	start(&r, TEMPORAL("temporal", "  condition: {gte: 2}\n"), 0);
	exec_at(&r, 100 * SEC, "bbb", 1, 5, NULL);
	exec_at(&r, 101 * SEC, "bbb", 2, 5, NULL);
	assert_int_equal(r.alerts, 0); /* one rule twice is one rule */
	exec_at(&r, 102 * SEC, "ccc", 3, 5, NULL);
	assert_int_equal(r.alerts, 1);
	stop(&r);
}

static void test_temporal_ordered_edges(void **state)
{
	struct run r;

	/* in order within the timespan; the last exactly at the edge */
	start(&r, TEMPORAL("temporal_ordered", ""), 0);
	exec_at(&r, 100 * SEC, "aaa", 1, 5, NULL);
	exec_at(&r, 120 * SEC, "bbb", 2, 5, NULL);
	exec_at(&r, 130 * SEC, "ccc", 3, 5, NULL);
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.nevents, 3);
	assert_int_equal(r.last.r.alert.events[0].pid, 1);
	assert_int_equal(r.last.r.alert.events[1].pid, 2);
	assert_int_equal(r.last.r.alert.events[2].pid, 3);
	stop(&r);
	/* one nanosecond late */
	start(&r, TEMPORAL("temporal_ordered", ""), 0);
	exec_at(&r, 100 * SEC, "aaa", 1, 5, NULL);
	exec_at(&r, 120 * SEC, "bbb", 2, 5, NULL);
	exec_at(&r, 130 * SEC + 1, "ccc", 3, 5, NULL);
	assert_int_equal(r.alerts, 0);
	stop(&r);
	/* out of order does not count; a later start does */
	start(&r, TEMPORAL("temporal_ordered", ""), 0);
	exec_at(&r, 100 * SEC, "bbb", 1, 5, NULL);
	exec_at(&r, 101 * SEC, "aaa", 2, 5, NULL);
	exec_at(&r, 102 * SEC, "ccc", 3, 5, NULL);
	assert_int_equal(r.alerts, 0);
	exec_at(&r, 103 * SEC, "bbb", 4, 5, NULL);
	exec_at(&r, 104 * SEC, "ccc", 5, 5, NULL);
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.events[0].pid, 2);
	stop(&r);
	/* a restart keeps the latest start: aaa at 100 and 125, bbb and ccc by 150 */
	start(&r, TEMPORAL("temporal_ordered", ""), 0);
	exec_at(&r, 100 * SEC, "aaa", 1, 5, NULL);
	exec_at(&r, 125 * SEC, "aaa", 2, 5, NULL);
	exec_at(&r, 140 * SEC, "bbb", 3, 5, NULL);
	exec_at(&r, 150 * SEC, "ccc", 4, 5, NULL);
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.events[0].pid, 2);
	stop(&r);
	/* one event that is two steps counts once: "aaa bbb" is A and B, but not A then B */
	start(&r, "title: corr\nid: corr\ncorrelation:\n  type: temporal_ordered\n  rules: [rule_a, rule_b]\n"
		  "  timespan: 30s\n", 0);
	exec_at(&r, 100 * SEC, "aaa bbb", 1, 5, NULL);
	assert_int_equal(r.alerts, 0);
	exec_at(&r, 101 * SEC, "bbb", 2, 5, NULL);
	assert_int_equal(r.alerts, 1);
	stop(&r);
}

/* A correlation of a correlation: three A by one user, then B, within a minute. */
static void test_chained(void **state)
{
	struct run r;

	start(&r, "title: burst\nname: burst\ncorrelation:\n  type: event_count\n  rules: [rule_a]\n"
		  "  group-by: [User]\n  timespan: 10s\n  condition: {gte: 3}\n---\n"
		  "title: corr\nid: corr\nlevel: critical\ncorrelation:\n  type: temporal_ordered\n"
		  "  rules: [burst, rule_b]\n  group-by: [User]\n  timespan: 1m\n", 0);
	exec_at(&r, 100 * SEC, "bbb", 1, 1000, NULL); /* B before the burst: nothing */
	exec_at(&r, 101 * SEC, "aaa", 2, 1000, NULL);
	exec_at(&r, 102 * SEC, "aaa", 3, 1000, NULL);
	exec_at(&r, 103 * SEC, "aaa", 4, 1000, NULL);
	assert_int_equal(r.alerts, 0);
	assert_int_equal(r.others, 0); /* the burst only feeds corr */
	exec_at(&r, 110 * SEC, "bbb", 5, 0, NULL); /* another user */
	assert_int_equal(r.alerts, 0);
	exec_at(&r, 120 * SEC, "bbb", 6, 1000, NULL);
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.level, PG_LEVEL_CRITICAL);
	stop(&r);
}

/* generate: the counted rules alert by themselves too; aliases: group by differently named
 * fields in each rule. */
static void test_generate_and_aliases(void **state)
{
	struct run r;

	start(&r, "title: corr\nid: corr\ngenerate: true\ncorrelation:\n  type: temporal\n"
		  "  rules: [rule_a, rule_conn]\n  group-by: [proc]\n  timespan: 10s\n"
		  "  aliases:\n    proc:\n      rule_a: ProcessId\n      rule_conn: ProcessId\n", 0);
	exec_at(&r, 100 * SEC, "aaa", 7, 0, NULL);
	assert_int_equal(r.others, 1); /* rule_a alerts by itself */
	connect_at(&r, 101 * SEC, 8, 80);
	assert_int_equal(r.alerts, 0);
	connect_at(&r, 102 * SEC, 7, 80);
	assert_int_equal(r.alerts, 1);
	assert_memory_equal(r.last.r.alert.group, "proc\0" "7\0", 7);
	stop(&r);
}

/* State is bounded: groups per correlation, and groups whose window passed leave. */
static void test_bounded_state(void **state)
{
	struct run r;
	struct pg_detector_stats st;

	start(&r, EVENT_COUNT("gte: 5", "10s"), 100);
	for (uint32_t i = 0; i < 10000; i++)
		exec_at(&r, SEC + i, "aaa", i, i, NULL); /* 10000 users, one event each */
	pg_detector__stats(r.d, &st);
	assert_int_equal(st.groups, 100);
	assert_int_equal(st.groups_evicted, 10000 - 100);
	exec_at(&r, 100 * SEC, "aaa", 1, 1, NULL); /* far later: every old group has expired */
	pg_detector__stats(r.d, &st);
	assert_int_equal(st.groups, 1);
	assert_int_equal(st.groups_expired, 100);
	assert_int_equal(r.alerts, 0);
	stop(&r);
}

/*
 * Scopes (a Kafka consumer's partitions): each keeps its own groups and its own time. A
 * sequence split over two scopes does not fire; a scope read far behind another (a partition
 * re-read after a rebalance) is not expired by the other's time; dropping a scope drops its
 * groups, counted.
 */
static void test_scopes(void **state)
{
	struct pg_detect_scope *a, *b;
	struct pg_detector_stats st;
	struct run r;

	start(&r, TEMPORAL("temporal_ordered", ""), 0);
	a = pg_detector__scope_new(r.d);
	b = pg_detector__scope_new(r.d);
	assert_non_null(a);
	assert_non_null(b);
	pg_detector__scope_use(r.d, a);
	exec_at(&r, 1000 * SEC, "aaa", 1, 5, NULL);
	exec_at(&r, 1001 * SEC, "bbb", 2, 5, NULL);
	pg_detector__scope_use(r.d, b);
	exec_at(&r, 1002 * SEC, "ccc", 3, 5, NULL);
	assert_int_equal(r.alerts, 0); /* the last step is in another scope */
	/* b reads events 900 s older than a's: a's time does not expire them */
	exec_at(&r, 100 * SEC, "aaa", 4, 5, NULL);
	pg_detector__scope_use(r.d, a);
	exec_at(&r, 1003 * SEC, "aaa", 9, 6, NULL); /* a correlate in a: expires a's groups only */
	pg_detector__scope_use(r.d, b);
	exec_at(&r, 110 * SEC, "bbb", 5, 5, NULL);
	exec_at(&r, 120 * SEC, "ccc", 6, 5, NULL);
	assert_int_equal(r.alerts, 1);
	assert_int_equal(r.last.r.alert.events[0].pid, 4);
	pg_detector__stats(r.d, &st);
	assert_true(st.groups >= 2);
	/* a's groups go with it; the sequence in a no longer completes */
	pg_detector__scope_free(r.d, a);
	a = pg_detector__scope_new(r.d);
	pg_detector__scope_use(r.d, a);
	exec_at(&r, 1004 * SEC, "ccc", 7, 5, NULL);
	assert_int_equal(r.alerts, 1);
	pg_detector__stats(r.d, &st);
	assert_true(st.groups_dropped >= 2);
	pg_detector__scope_free(r.d, a);
	pg_detector__scope_free(r.d, b);
	pg_detector__stats(r.d, &st);
	assert_int_equal(st.groups, 0);
	stop(&r);
}

/* How far back the rules look: the longest chain of timespans; 0 with no correlation. */
static void test_reach(void **state)
{
	struct run r;

	start(&r, "title: burst\nname: burst\ncorrelation:\n  type: event_count\n  rules: [rule_a]\n"
		  "  group-by: [User]\n  timespan: 10s\n  condition: {gte: 3}\n---\n"
		  "title: corr\nid: corr\ncorrelation:\n  type: temporal_ordered\n"
		  "  rules: [burst, rule_b]\n  group-by: [User]\n  timespan: 1m\n---\n"
		  "title: other\nid: other\ncorrelation:\n  type: temporal\n"
		  "  rules: [rule_a, rule_c]\n  timespan: 65s\n", 0);
	assert_int_equal(pg_ruleset__reach_ns(r.rs), 70 * SEC);
	stop(&r);
	start(&r, "title: corr\nid: corr\nlogsource: {product: linux, category: process_creation}\n"
		  "detection: {s: {CommandLine|contains: x}, condition: s}\n", 0);
	assert_int_equal(pg_ruleset__reach_ns(r.rs), 0);
	stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_count_edges),
		cmocka_unit_test(test_value_count_edges),
		cmocka_unit_test(test_temporal_edges),
		cmocka_unit_test(test_temporal_ordered_edges),
		cmocka_unit_test(test_chained),
		cmocka_unit_test(test_generate_and_aliases),
		cmocka_unit_test(test_bounded_state),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_reach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
