// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process table over synthetic event streams: lineage from forks and from the start-up
 * snapshot in any order, pid reuse, reparenting, the depth bound, the cap, expiry after exit,
 * and a fork storm that must leave the table as small as it found it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "pipeline.h"
#include "proctable.h"

#define SEC 1000000000ULL

static struct pg_event ev;

static void hdr(unsigned int type, uint64_t ts, uint32_t pid, uint64_t start, uint32_t ppid,
		const char *comm)
{
	pg_event_init(&ev, type);
	ev.r.hdr.ts_ns = ts;
	ev.r.hdr.pid = ev.r.hdr.tid = pid;
	ev.r.hdr.start_ns = start;
	ev.r.hdr.ppid = ppid;
	snprintf(ev.r.hdr.comm, sizeof(ev.r.hdr.comm), "%s", comm);
}

/* argv as one string with spaces between the arguments */
static void exec_(struct pg_proctable *t, uint64_t ts, uint32_t pid, uint64_t start, uint32_t ppid,
		  const char *path, const char *args, bool snapshot)
{
	size_t n = strlen(args);

	hdr(PG_EV_EXEC, ts, pid, start, ppid, strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	snprintf(ev.r.exec.path, sizeof(ev.r.exec.path), "%s", path);
	memcpy(ev.r.exec.argv, args, n + 1);
	ev.r.exec.argc = n ? 1 : 0;
	for (size_t i = 0; i < n; i++)
		if (ev.r.exec.argv[i] == ' ') {
			ev.r.exec.argv[i] = 0;
			ev.r.exec.argc++;
		}
	ev.r.exec.argv_len = (uint16_t)(n ? n + 1 : 0);
	if (snapshot)
		ev.r.exec.flags |= PG_SNAPSHOT;
	assert_int_equal(pg_proctable__observe(t, &ev), 0);
}

static void fork_(struct pg_proctable *t, uint64_t ts, uint32_t pid, uint64_t start, uint32_t ppid,
		  uint32_t child, uint64_t child_start)
{
	hdr(PG_EV_FORK, ts, pid, start, ppid, "x");
	ev.r.fork.child_pid = child;
	ev.r.fork.child_start_ns = child_start;
	assert_int_equal(pg_proctable__observe(t, &ev), 0);
}

static void exit_(struct pg_proctable *t, uint64_t ts, uint32_t pid, uint64_t start, uint32_t ppid)
{
	hdr(PG_EV_EXIT, ts, pid, start, ppid, "x");
	assert_int_equal(pg_proctable__observe(t, &ev), 0);
}

/* An open by the process: the event whose process fields the tests look at. */
static const struct pg_event_proc *open_(struct pg_proctable *t, uint64_t ts, uint32_t pid,
					  uint64_t start, uint32_t ppid, const char *comm)
{
	hdr(PG_EV_OPEN, ts, pid, start, ppid, comm);
	strcpy(ev.r.open.path, "/etc/hosts");
	assert_int_equal(pg_proctable__observe(t, &ev), 0);
	return &ev.meta.proc;
}

static void expect_str(const char *what, const char *got, const char *want)
{
	if (!want && got)
		fail_msg("%s: '%s', expected none", what, got);
	if (want && (!got || strcmp(got, want)))
		fail_msg("%s: '%s', expected '%s'", what, got ? got : "(none)", want);
}

/* ancestors as one string, "a b c", for comparisons */
static void expect_ancestors(const struct pg_event_proc *p, const char *want)
{
	char got[2048] = "";

	for (unsigned int i = 0; i < p->nancestors; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 p->ancestors[i]);
	expect_str("ancestors", got, want);
}

static struct pg_proctable *table(size_t max)
{
	struct pg_proctable_opts o = { .max_entries = max };
	struct pg_proctable *t = pg_proctable__new(&o);

	assert_non_null(t);
	return t;
}

/* The usual boot: init, sshd found running; a login forks a shell that runs curl. */
static void test_lineage(void **state)
{
	struct pg_proctable *t = table(0);
	const struct pg_event_proc *p;

	exec_(t, 1 * SEC, 1, 10, 0, "/usr/lib/systemd/systemd", "/sbin/init splash", true);
	exec_(t, 1 * SEC, 700, 70, 1, "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D", true);
	p = &ev.meta.proc;
	expect_str("exe", p->exe, "/usr/sbin/sshd");
	expect_str("parent_exe", p->parent_exe, "/usr/lib/systemd/systemd");
	expect_str("parent_cmdline", p->parent_cmdline, "/sbin/init splash");

	fork_(t, 2 * SEC, 700, 70, 1, 800, 80);
	p = &ev.meta.proc; /* the fork is the parent's event */
	expect_str("fork's exe", p->exe, "/usr/sbin/sshd");
	/* the child runs sshd until it execs */
	p = open_(t, 2 * SEC, 800, 80, 700, "sshd");
	expect_str("child exe", p->exe, "/usr/sbin/sshd");
	expect_str("child cmdline", p->cmdline, "sshd: /usr/sbin/sshd -D");
	expect_ancestors(p, "/usr/sbin/sshd /usr/lib/systemd/systemd");

	exec_(t, 3 * SEC, 800, 80, 700, "/bin/bash", "-bash", false);
	p = &ev.meta.proc;
	expect_str("exec exe", p->exe, "/bin/bash");
	expect_str("exec cmdline", p->cmdline, "-bash");
	expect_str("exec parent", p->parent_exe, "/usr/sbin/sshd");
	fork_(t, 4 * SEC, 800, 80, 700, 900, 90);
	exec_(t, 4 * SEC, 900, 90, 800, "/usr/bin/curl", "curl -s http://x/ -o /tmp/y", false);
	/* a thread of curl: comm is the thread's name, exe the program */
	p = open_(t, 5 * SEC, 900, 90, 800, "curl-resolver");
	expect_str("exe", p->exe, "/usr/bin/curl");
	expect_str("cmdline", p->cmdline, "curl -s http://x/ -o /tmp/y");
	expect_str("parent_exe", p->parent_exe, "/bin/bash");
	expect_str("parent_cmdline", p->parent_cmdline, "-bash");
	expect_ancestors(p, "/bin/bash /usr/sbin/sshd /usr/lib/systemd/systemd");
	pg_proctable__free(t);
}

/* The snapshot lists by pid: children can come before parents, and the parent's parent last. */
static void test_snapshot_out_of_order(void **state)
{
	struct pg_proctable *t = table(0);
	const struct pg_event_proc *p;

	exec_(t, SEC, 300, 30, 200, "/usr/bin/python3", "python3 app.py", true);
	expect_ancestors(&ev.meta.proc, ""); /* its parent is not known yet */
	exec_(t, SEC, 200, 20, 1, "/usr/sbin/gunicorn", "gunicorn app", true);
	exec_(t, SEC, 1, 1, 0, "/sbin/init", "/sbin/init", true);
	p = open_(t, 2 * SEC, 300, 30, 200, "python3");
	expect_str("exe", p->exe, "/usr/bin/python3");
	expect_str("parent_cmdline", p->parent_cmdline, "gunicorn app");
	expect_ancestors(p, "/usr/sbin/gunicorn /sbin/init");
	pg_proctable__free(t);
}

/*
 * ev as NDJSON twice: through the table entry's memo (event.h) and without it. They must be
 * the same text, whatever changed in the entry since the memo was made. Returns the first.
 */
static char *encode_checked(void)
{
	struct pg_buf memo = { 0 }, fresh = { 0 };
	struct pg_event plain = ev;

	assert_non_null(ev.meta.proc.memo);
	pg_json_encode(&ev, &memo);
	pg_json_encode(&ev, &memo); /* the second time from the memo, if the first made one */
	assert_non_null(ev.meta.proc.memo->json);
	plain.meta.proc.memo = NULL;
	pg_json_encode(&plain, &fresh);
	assert_int_equal(memo.err, 0);
	assert_int_equal(fresh.err, 0);
	assert_int_equal(memo.len, 2 * fresh.len);
	assert_memory_equal(memo.data, fresh.data, fresh.len);
	assert_memory_equal(memo.data + fresh.len, fresh.data, fresh.len);
	pg_buf__free(&fresh);
	pg_buf__putc(&memo, 0);
	return memo.data;
}

/* The encoded process fields follow every change of the entry: exec, late lineage, fork. */
static void test_encoded_fields_follow_changes(void **state)
{
	struct pg_proctable *t = table(0);
	char *j;

	/* a child found running before its parent: no ancestors yet, then linked */
	exec_(t, SEC, 300, 30, 200, "/usr/bin/python3", "python3 app.py", true);
	open_(t, SEC, 300, 30, 200, "python3");
	j = encode_checked();
	assert_null(strstr(j, "\"ancestors\""));
	free(j);
	exec_(t, SEC, 200, 20, 1, "/usr/sbin/gunicorn", "gunicorn app", true);
	exec_(t, SEC, 1, 1, 0, "/sbin/init", "/sbin/init", true);
	open_(t, 2 * SEC, 300, 30, 200, "python3");
	j = encode_checked();
	assert_non_null(strstr(j, "\"ancestors\":[\"/usr/sbin/gunicorn\",\"/sbin/init\"]"));
	free(j);
	/* the same process runs another program: same pid and start time */
	exec_(t, 3 * SEC, 300, 30, 200, "/bin/sh", "sh -c id", false);
	open_(t, 3 * SEC, 300, 30, 200, "sh");
	j = encode_checked();
	assert_non_null(strstr(j, "\"exe\":\"/bin/sh\",\"cmdline\":\"sh -c id\""));
	assert_null(strstr(j, "python3"));
	free(j);
	/* its child seen first, by an open, then its fork: the lineage comes from the fork */
	open_(t, 4 * SEC, 310, 40, 300, "sh");
	free(encode_checked());
	fork_(t, 4 * SEC, 300, 30, 200, 310, 40);
	open_(t, 4 * SEC, 310, 40, 300, "sh");
	j = encode_checked();
	assert_non_null(strstr(j, "\"parent_exe\":\"/bin/sh\""));
	free(j);
	pg_proctable__free(t);
}

/* A parent exits and its child is reparented to init: the child keeps its lineage. */
static void test_reparent(void **state)
{
	struct pg_proctable *t = table(0);
	const struct pg_event_proc *p;

	exec_(t, SEC, 1, 1, 0, "/sbin/init", "init", true);
	exec_(t, SEC, 50, 5, 1, "/usr/sbin/nginx", "nginx: master process", true);
	fork_(t, 2 * SEC, 50, 5, 1, 60, 6);
	exec_(t, 2 * SEC, 60, 6, 50, "/bin/sh", "sh -c sleep 1000 &", false);
	fork_(t, 2 * SEC, 60, 6, 50, 61, 7); /* the backgrounded child */
	exit_(t, 3 * SEC, 60, 6, 50); /* sh exits: 61 goes to init */
	exit_(t, 3 * SEC, 50, 5, 1); /* and nginx too */
	/* well past the grace period: both parents have left the table */
	p = open_(t, 60 * SEC, 61, 7, 1, "sh");
	expect_str("parent_exe", p->parent_exe, "/bin/sh");
	expect_ancestors(p, "/bin/sh /usr/sbin/nginx /sbin/init");
	hdr(PG_EV_OPEN, 60 * SEC, 60, 6, 50, "sh");
	assert_int_equal(pg_proctable__observe(t, &ev), 0);
	expect_str("an expired process is unknown", ev.meta.proc.exe, NULL);
	pg_proctable__free(t);
}

/* pids are reused: (pid, start_ns) tells the processes apart, and parents started earlier. */
static void test_pid_reuse(void **state)
{
	struct pg_proctable *t = table(0);
	const struct pg_event_proc *p;

	exec_(t, SEC, 1, 1, 0, "/sbin/init", "init", true);
	exec_(t, SEC, 500, 100, 1, "/usr/bin/old", "old", true);
	exit_(t, 2 * SEC, 500, 100, 1);
	exec_(t, 3 * SEC, 500, 300, 1, "/usr/bin/new", "new", false); /* pid 500 again */
	/* a late event of the first process, within the grace period */
	p = open_(t, 3 * SEC, 500, 100, 1, "old");
	expect_str("old exe", p->exe, "/usr/bin/old");
	p = open_(t, 3 * SEC, 500, 300, 1, "new");
	expect_str("new exe", p->exe, "/usr/bin/new");
	/* a process found running, started between the two: its parent is the first */
	exec_(t, 3 * SEC, 510, 200, 500, "/bin/child", "child", true);
	expect_str("parent by start time", ev.meta.proc.parent_exe, "/usr/bin/old");
	/* one started after the second: the second */
	exec_(t, 3 * SEC, 520, 400, 500, "/bin/child2", "child2", true);
	expect_str("parent by start time", ev.meta.proc.parent_exe, "/usr/bin/new");
	pg_proctable__free(t);
}

/* Ancestors stop at PG_PROC_ANCESTORS however deep the tree. */
static void test_depth_bound(void **state)
{
	struct pg_proctable *t = table(0);
	char path[32];

	exec_(t, SEC, 1, 1, 0, "/sbin/init", "init", true);
	for (uint32_t i = 2; i < 30; i++) {
		fork_(t, SEC, i - 1, i - 1, i == 2 ? 0 : i - 2, i, i);
		snprintf(path, sizeof(path), "/bin/p%u", i);
		exec_(t, SEC, i, i, i - 1, path, path, false);
	}
	assert_int_equal(ev.meta.proc.nancestors, PG_PROC_ANCESTORS);
	expect_ancestors(&ev.meta.proc, "/bin/p28 /bin/p27 /bin/p26 /bin/p25 /bin/p24 /bin/p23 /bin/p22 /bin/p21");
	pg_proctable__free(t);
}

/* Events that carry process fields (a recording replayed) keep them. */
static void test_recorded_fields_kept(void **state)
{
	struct pg_proctable *t = table(0);

	exec_(t, SEC, 1, 1, 0, "/sbin/init", "init", true);
	hdr(PG_EV_OPEN, SEC, 1, 1, 0, "init");
	ev.meta.proc.exe = "/recorded/exe";
	assert_int_equal(pg_proctable__observe(t, &ev), 0);
	expect_str("exe", ev.meta.proc.exe, "/recorded/exe");
	expect_str("cmdline", ev.meta.proc.cmdline, NULL);
	/* packets have no process */
	hdr(PG_EV_PACKET, SEC, 0, 0, 0, "");
	assert_int_equal(pg_proctable__observe(t, &ev), 0);
	assert_null(ev.meta.proc.exe);
	pg_proctable__free(t);
}

/* Processes whose exits are never seen fill the table only up to its cap. */
static void test_cap(void **state)
{
	struct pg_proctable *t = table(16);
	struct pg_proctable_stats st;

	exec_(t, SEC, 1, 1, 0, "/sbin/init", "init", true);
	for (uint32_t i = 2; i < 1000; i++)
		open_(t, SEC + i, i, i, 1, "x");
	pg_proctable__stats(t, &st);
	assert_int_equal(st.entries, 16);
	assert_int_equal(st.peak, 16);
	assert_int_equal(st.evicted, 999 - 16);
	/* the newest is there: no new entry, no eviction */
	open_(t, 2 * SEC, 999, 999, 1, "x");
	pg_proctable__stats(t, &st);
	assert_int_equal(st.evicted, 999 - 16);
	pg_proctable__free(t);

	/* when full, an exited process (in its grace period) leaves before a live one */
	t = table(4);
	exec_(t, SEC, 1, 1, 0, "/sbin/init", "init", true);
	exec_(t, SEC, 2, 2, 1, "/bin/live", "live", true);
	exec_(t, SEC, 3, 3, 1, "/bin/gone", "gone", true);
	exec_(t, SEC, 4, 4, 1, "/bin/live2", "live2", true);
	exit_(t, 2 * SEC, 3, 3, 1);
	open_(t, 2 * SEC, 1, 1, 0, "init"); /* /bin/live is now the least recently seen */
	exec_(t, 2 * SEC, 5, 5, 1, "/bin/new", "new", false);
	expect_str("live stays", open_(t, 2 * SEC, 2, 2, 1, "live")->exe, "/bin/live");
	pg_proctable__stats(t, &st);
	assert_int_equal(st.evicted, 1);
	pg_proctable__free(t);
}

/*
 * A fork storm: one shell forks a million short-lived children (10k a second for 100 s), each
 * execs and exits. With exits seen, the table holds the processes of the last grace period
 * (5 s: 50k), never more, and is back to its two long-lived processes afterwards.
 */
static void test_fork_storm(void **state)
{
	struct pg_proctable *t = table(0);
	struct pg_proctable_stats st;
	uint64_t ts = SEC;
	const uint32_t n = 1000000;

	exec_(t, ts, 1, 1, 0, "/sbin/init", "init", true);
	exec_(t, ts, 2, 2, 1, "/bin/bash", "bash storm.sh", true);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pid = 1000 + i % 30000; /* pids wrap, as the kernel's do */
		uint64_t start = ts;

		ts += 100000; /* 10k forks a second */
		fork_(t, ts, 2, 2, 1, pid, start);
		exec_(t, ts, pid, start, 2, "/bin/true", "true --storm", false);
		exit_(t, ts + 5000, pid, start, 2);
	}
	pg_proctable__stats(t, &st);
	/* 50001 exits in a closed 5 s window, 2 long-lived processes, the child just forked */
	assert_true(st.peak <= 50000 + 4);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.added, n + 2);
	/* everything after the storm: the exited children expire */
	open_(t, ts + 10 * SEC, 2, 2, 1, "bash");
	pg_proctable__stats(t, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.added, st.entries + st.expired + st.evicted);
	print_message("fork storm: %u forks, peak %llu entries, %llu expired, %llu evicted\n", n,
		      (unsigned long long)st.peak, (unsigned long long)st.expired,
		      (unsigned long long)st.evicted);
	pg_proctable__free(t);
}

/* Expiry is by event time: a process leaves the grace period after it, not before. */
static void test_grace(void **state)
{
	struct pg_proctable_opts o = { .grace_ns = 2 * SEC };
	struct pg_proctable *t = pg_proctable__new(&o);
	struct pg_proctable_stats st;

	exec_(t, SEC, 1, 1, 0, "/sbin/init", "init", true);
	exec_(t, SEC, 9, 9, 1, "/bin/x", "x", true);
	exit_(t, 10 * SEC, 9, 9, 1);
	expect_str("exit's exe", ev.meta.proc.exe, "/bin/x");
	expect_str("just inside", open_(t, 12 * SEC - 1, 9, 9, 1, "x")->exe, "/bin/x");
	open_(t, 12 * SEC, 1, 1, 0, "init");
	pg_proctable__stats(t, &st);
	assert_int_equal(st.expired, 1);
	expect_str("just outside", open_(t, 12 * SEC, 9, 9, 1, "x")->exe, NULL);
	pg_proctable__free(t);
}

/* The stage passes every event, enriched. */
static void test_stage(void **state)
{
	struct pg_stage *st = pg_stage_process__new(NULL);
	struct pg_sink *rec = pg_sink_record__new();
	struct pg_pipeline pl;
	struct pg_proctable_stats s;

	pg_pipeline__init(&pl);
	assert_int_equal(pg_pipeline__add_stage(&pl, st), 0);
	assert_int_equal(pg_pipeline__add_sink(&pl, rec), 0);
	hdr(PG_EV_EXEC, SEC, 42, 42, 1, "isc-net-0000");
	strcpy(ev.r.exec.path, "/usr/sbin/named");
	assert_int_equal(pg_pipeline__push(&pl, &ev), 0);
	hdr(PG_EV_DNS, SEC, 42, 42, 1, "isc-net-0000");
	assert_int_equal(pg_pipeline__push(&pl, &ev), 0);
	assert_int_equal(pg_sink_record__count(rec), 2);
	expect_str("exe", pg_sink_record__get(rec, 1)->meta.proc.exe, "/usr/sbin/named");
	pg_stage_process__stats(st, &s);
	assert_int_equal(s.enriched, 2);
	pg_pipeline__destroy(&pl);
	assert_null(pg_proctable__new(&(struct pg_proctable_opts){ .max_entries = 1 }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lineage),
		cmocka_unit_test(test_snapshot_out_of_order),
		cmocka_unit_test(test_reparent),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_recorded_fields_kept),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_fork_storm),
		cmocka_unit_test(test_grace),
		cmocka_unit_test(test_stage),
		cmocka_unit_test(test_encoded_fields_follow_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
