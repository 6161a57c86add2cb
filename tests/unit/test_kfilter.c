// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The kernel/userspace split of --filter: what goes to BPF maps, what stays a residual. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gen_event.h"
#include "kfilter.h"

#define ALL (((1u << PG_EV_TYPE_COUNT) - 1) & ~1u)
#define T(x) (1u << PG_EV_##x)

static struct pg_kfilter plan(const char *expr)
{
	struct pg_filter_error err;
	struct pg_filter *f = pg_filter__parse(expr, &err);
	struct pg_kfilter kf;

	if (!f)
		fail_msg("%s: column %zu: %s", expr, err.column, err.msg);
	assert_int_equal(pg_kfilter__plan(f, &kf), 0);
	pg_filter__free(f);
	return kf;
}

/* A part of the split as text ("" for none), into buf. */
static const char *text(const struct pg_filter *f, char *buf, size_t size)
{
	char *t = f ? pg_filter__to_text(f) : strdup("");

	assert_non_null(t);
	snprintf(buf, size, "%s", t);
	free(t);
	return buf;
}

static void test_no_filter(void **state)
{
	struct pg_kfilter kf;

	assert_int_equal(pg_kfilter__plan(NULL, &kf), 0);
	assert_int_equal(kf.type_mask, ALL);
	assert_null(kf.residual);
	assert_int_equal(kf.pids.mode, PG_FM_OFF);
}

static void test_everything_in_kernel(void **state)
{
	struct pg_kfilter kf = plan("type == \"open\" && comm in [\"curl\", \"wget\"] && uid == 0 && "
				    "path startswith \"/etc/\"");

	assert_int_equal(kf.type_mask, T(OPEN));
	assert_int_equal(kf.comms.mode, PG_FM_ALLOW);
	assert_int_equal(kf.comms.n, 2);
	assert_string_equal(kf.comms.comms[0], "curl");
	assert_string_equal(kf.comms.comms[1], "wget");
	assert_int_equal(kf.uids.mode, PG_FM_ALLOW);
	assert_int_equal(kf.uids.keys[0], 0);
	assert_int_equal(kf.n_prefixes, 1);
	assert_string_equal(kf.prefixes[0].s, "/etc/");
	assert_int_equal(kf.prefixes[0].len, 5);
	char buf[256];

	assert_null(kf.residual);
	assert_string_equal(text(kf.kernel, buf, sizeof(buf)),
			    "type == \"open\" && comm in [\"curl\", \"wget\"] && uid == 0 && "
			    "path startswith \"/etc/\"");
	pg_kfilter__release(&kf);
}

static void test_residual(void **state)
{
	struct pg_kfilter kf = plan("type == \"open\" && (ret < 0 || path endswith \".so\") && pid != 1");

	assert_int_equal(kf.type_mask, T(OPEN));
	assert_int_equal(kf.pids.mode, PG_FM_DENY);
	assert_int_equal(kf.pids.keys[0], 1);
	char buf[256];

	assert_non_null(kf.residual);
	assert_string_equal(text(kf.residual, buf, sizeof(buf)), "(ret < 0 || path endswith \".so\")");
	assert_string_equal(text(kf.kernel, buf, sizeof(buf)), "type == \"open\" && pid != 1");
	pg_kfilter__release(&kf);
}

static void test_or_of_one_field_is_a_set(void **state)
{
	struct pg_kfilter kf = plan("(type == \"exec\" || type == \"exit\") && (pid == 7 || pid in [8, 9])");

	assert_int_equal(kf.type_mask, T(EXEC) | T(EXIT));
	assert_int_equal(kf.pids.mode, PG_FM_ALLOW);
	assert_int_equal(kf.pids.n, 3);
	assert_null(kf.residual);
	pg_kfilter__release(&kf);

	kf = plan("pid == 7 || comm == \"x\"");
	assert_int_equal(kf.type_mask, ALL);
	assert_int_equal(kf.pids.mode, PG_FM_OFF);
	assert_non_null(kf.residual);
	pg_kfilter__release(&kf);
}

static void test_negations(void **state)
{
	struct pg_kfilter kf = plan("not (comm in [\"sshd\", \"systemd\"]) && type != \"open\" && comm != \"cron\"");

	assert_int_equal(kf.comms.mode, PG_FM_DENY);
	assert_int_equal(kf.comms.n, 3); /* two deny conjuncts merge */
	assert_int_equal(kf.type_mask, ALL & ~T(OPEN));
	assert_null(kf.residual);
	pg_kfilter__release(&kf);
}

static void test_ports_restrict_types(void **state)
{
	struct pg_kfilter kf = plan("dport in [53, 853]");

	assert_int_equal(kf.type_mask, T(CONNECT) | T(DNS));
	assert_int_equal(kf.ports.mode, PG_FM_ALLOW);
	assert_int_equal(kf.ports.n, 2);
	pg_kfilter__release(&kf);

	/* "dport != 53" must stay true for events without a port: userspace */
	kf = plan("dport != 53");
	assert_int_equal(kf.type_mask, ALL);
	assert_int_equal(kf.ports.mode, PG_FM_OFF);
	assert_non_null(kf.residual);
	pg_kfilter__release(&kf);
}

static void test_what_the_kernel_cannot_do_exactly(void **state)
{
	/* comm longer than the kernel's 15 characters, a second allow set on one field,
	 * prefixes too long for the kernel, paths compared other than by prefix */
	struct pg_kfilter kf = plan("comm == \"a-name-longer-than-15\"");
	char buf[256];

	assert_int_equal(kf.comms.mode, PG_FM_OFF);
	assert_non_null(kf.residual);
	pg_kfilter__release(&kf);

	kf = plan("uid == 0 && uid in [0, 1]");
	assert_int_equal(kf.uids.mode, PG_FM_ALLOW);
	assert_int_equal(kf.uids.n, 1);
	assert_string_equal(text(kf.residual, buf, sizeof(buf)), "uid in [0, 1]");
	pg_kfilter__release(&kf);

	kf = plan("path startswith \"/0123456789012345678901234567890123456789012345678901234567890123\"");
	assert_int_equal(kf.n_prefixes, 0);
	assert_non_null(kf.residual);
	pg_kfilter__release(&kf);

	kf = plan("path == \"/etc/passwd\"");
	assert_int_equal(kf.type_mask, ALL);
	assert_non_null(kf.residual);
	pg_kfilter__release(&kf);
}

/* The process table's fields are userspace's: the kernel never takes them, not even "or". */
static void test_process_fields_stay_in_userspace(void **state)
{
	struct pg_kfilter kf = plan("type == \"exec\" && exe endswith \"/sh\" && comm == \"sh\" && "
				    "ancestors contains \"sshd\" && (parent_exe == \"/usr/sbin/sshd\" || "
				    "cmdline contains \"-c\") && not parent_cmdline == \"\"");
	char buf[512];

	assert_int_equal(kf.type_mask, T(EXEC));
	assert_int_equal(kf.comms.mode, PG_FM_ALLOW);
	assert_string_equal(text(kf.kernel, buf, sizeof(buf)), "type == \"exec\" && comm == \"sh\"");
	assert_string_equal(text(kf.residual, buf, sizeof(buf)),
			    "exe endswith \"/sh\" && ancestors contains \"sshd\" && "
			    "(parent_exe == \"/usr/sbin/sshd\" || cmdline contains \"-c\") && "
			    "!parent_cmdline == \"\"");
	pg_kfilter__release(&kf);

	kf = plan("ancestors == \"/usr/sbin/sshd\" || pid == 7");
	assert_int_equal(kf.type_mask, ALL);
	assert_int_equal(kf.pids.mode, PG_FM_OFF);
	assert_null(kf.kernel);
	assert_non_null(kf.residual);
	pg_kfilter__release(&kf);
}

/* The pod's fields are userspace's too (the API server's, after the kernel): never taken. */
static void test_pod_fields_stay_in_userspace(void **state)
{
	struct pg_kfilter kf = plan("type == \"connect\" && namespace == \"shop\" && uid == 0 && "
				    "(labels == \"team=payments\" || workload startswith \"web\") && "
				    "not pod == \"x\" && workload_kind != \"Job\"");
	char buf[512];

	assert_int_equal(kf.type_mask, T(CONNECT));
	assert_int_equal(kf.uids.mode, PG_FM_ALLOW);
	assert_string_equal(text(kf.kernel, buf, sizeof(buf)), "type == \"connect\" && uid == 0");
	assert_string_equal(text(kf.residual, buf, sizeof(buf)),
			    "namespace == \"shop\" && (labels == \"team=payments\" || "
			    "workload startswith \"web\") && !pod == \"x\" && workload_kind != \"Job\"");
	pg_kfilter__release(&kf);

	kf = plan("labels == \"app=web\" || pid == 7");
	assert_int_equal(kf.type_mask, ALL);
	assert_int_equal(kf.pids.mode, PG_FM_OFF);
	assert_null(kf.kernel);
	pg_kfilter__release(&kf);
}

/* The residual text parses back to an equivalent filter, escapes included. */
static void test_residual_round_trips(void **state)
{
	struct pg_kfilter kf = plan("type == \"open\" && path contains \"a\\\"b\\\\c\\x01\"");
	struct pg_event ev;

	assert_non_null(kf.residual);
	pg_event_init(&ev, PG_EV_OPEN);
	strcpy(ev.r.open.path, "/x/a\"b\\c\x01/y");
	assert_true(pg_filter__match(kf.residual, &ev));
	strcpy(ev.r.open.path, "/x/a\"b\\c/y");
	assert_false(pg_filter__match(kf.residual, &ev));
	pg_kfilter__release(&kf);
}

/*
 * The kernel part and the residual together decide what the whole filter decides: for random
 * events nudged towards the filters' literals, match(filter) == kernel && residual.
 */
static void test_split_decides_like_the_whole_filter(void **state)
{
	static const char *const filters[] = {
		"type == \"open\" && comm in [\"curl\", \"wget\"] && uid == 0 && path startswith \"/etc/\"",
		"type == \"open\" && (ret < 0 || path endswith \".so\") && pid != 7",
		"(type == \"exec\" || type == \"exit\") && (pid == 7 || pid in [8, 9])",
		"not (comm in [\"curl\", \"sshd\"]) && type != \"open\" && comm != \"cron\"",
		"dport in [53, 853] && uid != 0",
		"dport != 53",
		"path startswith \"/etc/\" || path startswith \"/usr/\"",
		"cgroup_id == 42 && comm == \"curl\"",
		"pid == 7 || comm == \"curl\"",
		"type in [\"connect\", \"dns\"] && not (dport == 53) && pid in [7, 8]",
		"type == \"open\" && not io_uring && comm == \"curl\" || snapshot",
		"comm == \"curl\" && (exe endswith \"/curl\" || ancestors contains \"sshd\")",
		"not (ancestors == \"/usr/sbin/sshd\") && uid == 0 && type != \"exit\"",
		"uid == 0 && (namespace != \"kube-system\" || labels startswith \"app=\") && pid != 8",
	};
	struct rng r = { 99 };
	struct pg_event ev;
	struct gen_meta m;
	size_t both = 0, neither = 0;

	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		struct pg_filter_error err;
		struct pg_filter *whole = pg_filter__parse(filters[f], &err);
		struct pg_kfilter kf;

		assert_non_null(whole);
		assert_int_equal(pg_kfilter__plan(whole, &kf), 0);
		for (int i = 0; i < 4000; i++) {
			gen_event(&r, &ev, 0, &m);
			if (ev.r.hdr.type == PG_EV_PACKET)
				continue; /* not a sensor event: pangolin sniff has no kernel filter */
			if (rng_chance(&r, 50))
				ev.r.hdr.pid = 7 + (uint32_t)rng_below(&r, 3);
			if (rng_chance(&r, 50))
				ev.r.hdr.uid = (uint32_t)rng_below(&r, 2);
			if (rng_chance(&r, 30))
				ev.r.hdr.cgroup_id = 42;
			if (rng_chance(&r, 50))
				strcpy(ev.r.hdr.comm, (const char *[]){ "curl", "wget", "cron", "sshd" }[rng_below(&r, 4)]);
			if (ev.r.hdr.type == PG_EV_OPEN && rng_chance(&r, 50))
				strcpy(ev.r.open.path, rng_chance(&r, 50) ? "/etc/ld.so" : "/usr/lib/x.so");
			if (ev.r.hdr.type == PG_EV_EXEC && rng_chance(&r, 50))
				strcpy(ev.r.exec.path, "/usr/bin/curl");
			if (ev.r.hdr.type == PG_EV_CONNECT && rng_chance(&r, 50))
				ev.r.connect.dport = rng_chance(&r, 50) ? 53 : 853;
			if (ev.r.hdr.type == PG_EV_DNS && rng_chance(&r, 50))
				ev.r.dns.dport = 53;
			if (rng_chance(&r, 30))
				ev.meta.proc.exe = "/usr/bin/curl";
			if (ev.meta.proc.nancestors && rng_chance(&r, 50))
				ev.meta.proc.ancestors[ev.meta.proc.nancestors - 1] = "/usr/sbin/sshd";

			bool want = pg_filter__match(whole, &ev);
			bool kernel = pg_kfilter__match(&kf, &ev);
			bool split = kernel && (!kf.residual || pg_filter__match(kf.residual, &ev));

			if (want != split)
				fail_msg("%s: event %d of type %u: whole filter %d, kernel+residual %d",
					 filters[f], i, ev.r.hdr.type, want, split);
			/* what --explain says the kernel decides is what it decides */
			if (kernel != (!kf.kernel || pg_filter__match(kf.kernel, &ev)))
				fail_msg("%s: event %d of type %u: kernel %d, its filter %d", filters[f],
					 i, ev.r.hdr.type, kernel, !kernel);
			both += want;
			neither += !want;
		}
		pg_kfilter__release(&kf);
		pg_filter__free(whole);
	}
	assert_true(both > 1000 && neither > 1000); /* the events hit both sides */
}

/*
 * The filter: 40 "path != ..." conjuncts (2 kB) were printed into 1 kB and failed to
 * split ("out of memory"). Any length splits now, and the residual is the conjuncts given.
 */
static void test_long_filter_splits(void **state)
{
	char *expr = malloc(40 * 64), buf[4096];
	struct pg_kfilter kf;
	size_t n = 0;

	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(expr + n, "%spath != \"/nonexistent/some/longer/path/number-%04d\"",
				     i ? " && " : "", i);
	assert_true(n > 2000);
	kf = plan(expr);
	assert_null(kf.kernel);
	assert_non_null(kf.residual);
	assert_int_equal(pg_filter__conjuncts(kf.residual, NULL, 0), 40);
	assert_string_equal(text(kf.residual, buf, sizeof(buf)), expr);
	pg_kfilter__release(&kf);

	/* with a kernel part in front: both halves whole, none of it cut */
	char *typed;

	assert_true(asprintf(&typed, "type == \"open\" && %s", expr) > 0);
	kf = plan(typed);
	free(typed);
	assert_int_equal(kf.type_mask, T(OPEN));
	assert_string_equal(text(kf.kernel, buf, sizeof(buf)), "type == \"open\"");
	assert_int_equal(pg_filter__conjuncts(kf.residual, NULL, 0), 40);
	pg_kfilter__release(&kf);
	free(expr);
}

/*
 * A cut residual can parse as another filter: when the residual was text in 1 kB, this one
 * was cut to "... && ret != 123" and let ret 12345 through. The split works on the tree: the
 * residual decides what the conjuncts decide, to the last one.
 */
static void test_residual_is_never_cut(void **state)
{
	const char *cut = " && ret != 123";
	char *expr = malloc(4096), buf[4096];
	struct pg_kfilter kf;
	struct pg_event ev;
	size_t n = 0;

	while (n + strlen(cut) < 1023 - 40)
		n += (size_t)sprintf(expr + n, "%spath != \"/p/%zu\"", n ? " && " : "", n);
	/* a last path as long as it takes for 1023 bytes to end in the middle of 12345 */
	n += (size_t)sprintf(expr + n, " && path != \"/");
	while (n + 1 + strlen(cut) < 1023)
		expr[n++] = 'x';
	n += (size_t)sprintf(expr + n, "\"");
	assert_int_equal(n + strlen(cut), 1023);
	sprintf(expr + n, " && ret != 12345");

	kf = plan(expr);
	assert_string_equal(text(kf.residual, buf, sizeof(buf)), expr);
	pg_event_init(&ev, PG_EV_OPEN);
	strcpy(ev.r.open.path, "/etc/passwd");
	ev.r.open.ret = 123;
	assert_true(pg_filter__match(kf.residual, &ev));
	ev.r.open.ret = 12345;
	assert_false(pg_filter__match(kf.residual, &ev));
	pg_kfilter__release(&kf);
	free(expr);
}

/*
 * 10,000 conjuncts, the kernel's among them, against random events nudged towards the
 * literals: kernel part && residual == the whole filter, and the kernel's filter is what the
 * kernel decides.
 */
static void test_split_of_10000_conjuncts(void **state)
{
	char *expr = malloc(10000 * 40);
	struct pg_filter_error err;
	struct pg_filter *whole;
	struct pg_kfilter kf;
	struct rng r = { 7 };
	struct pg_event ev;
	struct gen_meta m;
	size_t n = 0, both = 0, neither = 0;

	for (int i = 0; i < 10000; i++) {
		const char *sep = i ? " && " : "";

		switch (i % 1000) {
		case 10: n += (size_t)sprintf(expr + n, "%stype in [\"open\", \"exec\", \"connect\"]", sep); break;
		case 20: n += (size_t)sprintf(expr + n, "%scomm != \"cron\"", sep); break;
		case 30: n += (size_t)sprintf(expr + n, "%s(uid == 0 || uid == 1)", sep); break;
		case 40: n += (size_t)sprintf(expr + n, "%s(ret < 0 || pid != 8)", sep); break;
		case 50: n += (size_t)sprintf(expr + n, "%snot (pid in [9, %d])", sep, 100000 + i); break;
		default: n += (size_t)sprintf(expr + n, "%spath != \"/p/%d\"", sep, i % 997); break;
		}
	}
	whole = pg_filter__parse(expr, &err);
	assert_non_null(whole);
	assert_int_equal(pg_filter__conjuncts(whole, NULL, 0), 10000);
	assert_int_equal(pg_kfilter__plan(whole, &kf), 0);
	assert_non_null(kf.kernel);
	assert_int_equal(kf.type_mask, T(OPEN) | T(EXEC) | T(CONNECT));
	assert_int_equal(kf.comms.mode, PG_FM_DENY);
	assert_int_equal(kf.uids.mode, PG_FM_ALLOW);
	assert_int_equal(kf.pids.mode, PG_FM_DENY);
	assert_int_equal(kf.pids.n, 11); /* 9 and ten others */
	assert_int_equal(pg_filter__conjuncts(kf.kernel, NULL, 0) +
				 pg_filter__conjuncts(kf.residual, NULL, 0),
			 10000);
	for (int i = 0; i < 3000; i++) {
		gen_event(&r, &ev, 0, &m);
		if (ev.r.hdr.type == PG_EV_PACKET)
			continue;
		if (rng_chance(&r, 70))
			ev.r.hdr.uid = (uint32_t)rng_below(&r, 3);
		if (rng_chance(&r, 50))
			ev.r.hdr.pid = 7 + (uint32_t)rng_below(&r, 3);
		if (rng_chance(&r, 20))
			strcpy(ev.r.hdr.comm, "cron");
		if (ev.r.hdr.type == PG_EV_OPEN && rng_chance(&r, 80))
			sprintf(ev.r.open.path, "/p/%d", (int)rng_below(&r, 3000));
		if (ev.r.hdr.type == PG_EV_OPEN && rng_chance(&r, 50))
			ev.r.open.ret = 3;
		if (ev.r.hdr.type == PG_EV_EXEC && rng_chance(&r, 80))
			sprintf(ev.r.exec.path, "/p/%d", (int)rng_below(&r, 3000));

		bool want = pg_filter__match(whole, &ev);
		bool kernel = pg_kfilter__match(&kf, &ev);
		bool split = kernel && pg_filter__match(kf.residual, &ev);

		if (want != split)
			fail_msg("event %d of type %u: whole filter %d, kernel+residual %d", i,
				 ev.r.hdr.type, want, split);
		if (kernel != pg_filter__match(kf.kernel, &ev))
			fail_msg("event %d of type %u: kernel %d, its filter %d", i, ev.r.hdr.type,
				 kernel, !kernel);
		both += want;
		neither += !want;
	}
	assert_true(both > 100 && neither > 100);
	pg_kfilter__release(&kf);
	pg_filter__free(whole);
	free(expr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_filter),
		cmocka_unit_test(test_everything_in_kernel),
		cmocka_unit_test(test_residual),
		cmocka_unit_test(test_or_of_one_field_is_a_set),
		cmocka_unit_test(test_negations),
		cmocka_unit_test(test_ports_restrict_types),
		cmocka_unit_test(test_what_the_kernel_cannot_do_exactly),
		cmocka_unit_test(test_process_fields_stay_in_userspace),
		cmocka_unit_test(test_pod_fields_stay_in_userspace),
		cmocka_unit_test(test_residual_round_trips),
		cmocka_unit_test(test_split_decides_like_the_whole_filter),
		cmocka_unit_test(test_long_filter_splits),
		cmocka_unit_test(test_residual_is_never_cut),
		cmocka_unit_test(test_split_of_10000_conjuncts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
