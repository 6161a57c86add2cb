// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sigma rules: what the loader refuses (and that it says where and why), and what the matcher
 * matches: case, wildcards, escapes, modifiers, lists, conditions, log sources, the process
 * table's fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "detect.h"

/* --- helpers -------------------------------------------------------------------------------- */

#define HEAD(cat)                                                                          \
	"title: t\nid: r1\nlevel: high\nlogsource:\n  product: linux\n  category: " cat "\n" \
	"detection:\n"

static struct pg_ruleset *load_ok(const char *yaml)
{
	struct pg_ruleset *rs = pg_ruleset__new();
	char err[1024] = "";

	assert_non_null(rs);
	if (pg_ruleset__load_buf(rs, "t.yml", yaml, strlen(yaml), err, sizeof(err)) ||
	    pg_ruleset__finish(rs, err, sizeof(err)))
		fail_msg("rule refused: %s\n%s", err, yaml);
	return rs;
}

/* The error must contain every '|'-separated fragment (the first is usually "t.yml:L:C:"). */
static void load_bad(const char *yaml, const char *frags)
{
	struct pg_ruleset *rs = pg_ruleset__new();
	char err[1024] = "", f[512], *save = NULL;
	int rc = pg_ruleset__load_buf(rs, "t.yml", yaml, strlen(yaml), err, sizeof(err));

	if (!rc)
		rc = pg_ruleset__finish(rs, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("rule accepted (rc %d), expected: %s\n%s", rc, frags, yaml);
	snprintf(f, sizeof(f), "%s", frags);
	for (char *w = strtok_r(f, "|", &save); w; w = strtok_r(NULL, "|", &save))
		if (!strstr(err, w))
			fail_msg("error '%s' lacks '%s'\n%s", err, w, yaml);
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("error has a raw byte 0x%02x: %s", (unsigned char)*p, err);
	pg_ruleset__free(rs);
}

static struct pg_event ev;

static void mk(unsigned int type)
{
	pg_event_init(&ev, type);
	ev.r.hdr.ts_ns = 1000;
	ev.r.hdr.pid = ev.r.hdr.tid = 4242;
	ev.r.hdr.ppid = 1;
	ev.r.hdr.start_ns = 77;
	ev.r.hdr.uid = 1000;
	strcpy(ev.r.hdr.comm, "x");
}

static void mk_exec(const char *exe, const char *cmdline)
{
	mk(PG_EV_EXEC);
	snprintf(ev.r.exec.path, sizeof(ev.r.exec.path), "%s", exe);
	ev.meta.proc.exe = exe;
	ev.meta.proc.cmdline = cmdline;
}

static int count_alert(void *ctx, struct pg_event *a)
{
	(*(int *)ctx)++;
	assert_int_equal(a->r.hdr.type, PG_EV_ALERT);
	return 0;
}

/* How many alerts the rule set raises on the current event. */
static int alerts(struct pg_ruleset *rs)
{
	struct pg_detector *d = pg_detector__new(rs, NULL);
	int n = 0;

	assert_non_null(d);
	assert_int_equal(pg_detector__process(d, &ev, count_alert, &n), 0);
	pg_detector__free(d);
	return n;
}

/* One selection on one field, over an exec event with this command line: matches or not. */
static bool cmd_matches(const char *sel, const char *cmdline)
{
	char yaml[2048];
	struct pg_ruleset *rs;
	int n;

	snprintf(yaml, sizeof(yaml), HEAD("process_creation") "  selection:\n%s\n  condition: selection\n", sel);
	rs = load_ok(yaml);
	mk_exec("/usr/bin/x", cmdline);
	n = alerts(rs);
	pg_ruleset__free(rs);
	return n == 1;
}

/* --- the loader refuses, and says where and why --------------------------------------------------- */

static void test_refused(void **state)
{
	/* YAML itself */
	load_bad("title: [unclosed\n", "t.yml:2:1: YAML:");
	load_bad("- a\n- b\n", "t.yml:1:1: a rule is a map");
	load_bad("title: x\ntitle: y\n", "t.yml:2:1: rule: key 'title' appears twice");
	/* rule structure */
	load_bad("id: x\nlogsource: {category: process_creation}\ndetection: {s: {Image: a}, condition: s}\n", "t.yml:1:1: no title");
	load_bad("title: t\n", "no detection and no correlation");
	load_bad("title: t\naction: global\n", "t.yml:2:9: action: rule collections");
	load_bad("title: t\nlevel: severe\nlogsource: {category: process_creation}\ndetection: {s: {Image: a}, condition: s}\n",
		 "t.yml:2:8: level: 'severe' is not informational");
	load_bad("title: t\ndetection: {s: {Image: a}, condition: s}\n", "logsource: missing");
	load_bad("title: t\nlogsource: {product: windows, category: process_creation}\ndetection: {s: {Image: a}, condition: s}\n",
		 "logsource: product: 'windows': pangolin watches Linux");
	load_bad("title: t\nlogsource: {product: linux, service: auditd}\ndetection: {s: {Image: a}, condition: s}\n",
		 "logsource: service: 'auditd'");
	load_bad("title: t\nlogsource: {product: linux, category: registry_set}\ndetection: {s: {Image: a}, condition: s}\n",
		 "logsource: category: 'registry_set' is not one pangolin has");
	/* fields */
	load_bad(HEAD("process_creation") "  s:\n    CurrentDirectory: /tmp\n  condition: s\n",
		 "t.yml:9:5: detection: CurrentDirectory: field 'CurrentDirectory' is not supported: pangolin does not see a process's working directory");
	load_bad(HEAD("process_creation") "  s:\n    Imagee: /bin/sh\n  condition: s\n", "t.yml:9:5:|unknown field 'Imagee'");
	load_bad(HEAD("process_creation") "  s:\n    TargetFilename: /etc/passwd\n  condition: s\n",
		 "field 'TargetFilename' is not in process_creation events");
	load_bad(HEAD("file_event") "  s:\n    dport: 22\n  condition: s\n",
		 "field 'dport' is not in file_event events (file_event rules see open events)");
	load_bad(HEAD("network_connection") "  s:\n    DestinationHostname: evil.example\n  condition: s\n",
		 "DestinationHostname' is not supported: a connect event has the address only");
	/* modifiers */
	load_bad(HEAD("process_creation") "  s:\n    CommandLine|base64offset|contains: x\n  condition: s\n",
		 "t.yml:9:5:|modifier 'base64offset' is not supported");
	load_bad(HEAD("process_creation") "  s:\n    CommandLine|containz: x\n  condition: s\n", "unknown modifier 'containz'");
	load_bad(HEAD("process_creation") "  s:\n    CommandLine|contains|endswith: x\n  condition: s\n", "exclude each other");
	load_bad(HEAD("process_creation") "  s:\n    CommandLine|: x\n  condition: s\n", "a modifier is missing after the last '|'");
	load_bad(HEAD("process_creation") "  s:\n    Image|cidr: 10.0.0.0/8\n  condition: s\n", "cidr applies to addresses");
	load_bad(HEAD("network_connection") "  s:\n    DestinationIp|cidr: 10.0.0.0/33\n  condition: s\n", "t.yml:9:25:|the prefix must be 0..32");
	load_bad(HEAD("network_connection") "  s:\n    DestinationIp|cidr: not-an-ip\n  condition: s\n", "not an IPv4 or IPv6 address");
	load_bad(HEAD("process_creation") "  s:\n    Image|gt: 5\n  condition: s\n", "gt, gte, lt and lte apply to numeric fields");
	load_bad(HEAD("process_creation") "  s:\n    ProcessId|gt: five\n  condition: s\n", "'five' is not an integer");
	load_bad(HEAD("process_creation") "  s:\n    Image|windash: -x\n  condition: s\n", "windash applies to command lines only");
	load_bad(HEAD("process_creation") "  s:\n    Image|exists: maybe\n  condition: s\n", "|exists takes true or false");
	load_bad(HEAD("process_creation") "  s:\n    Image|re: 'a(b'\n  condition: s\n", "t.yml:9:15:|regular expression: missing closing parenthesis");
	load_bad(HEAD("process_creation") "  s:\n    Image|i: x\n  condition: s\n", "modifiers i, m and s go with re");
	load_bad(HEAD("process_creation") "  s:\n    User: www-data\n  condition: s\n", "User is a uid here");
	load_bad(HEAD("process_creation") "  s:\n    Image: []\n  condition: s\n", "an empty list matches nothing");
	load_bad(HEAD("process_creation") "  s:\n    Image: {a: b}\n  condition: s\n", "not a map");
	load_bad(HEAD("process_creation") "  s:\n    Image|contains: null\n  condition: s\n", "null with a modifier");
	/* selections */
	load_bad(HEAD("process_creation") "  keywords:\n    - 'nc -e'\n  condition: keywords\n", "t.yml:9:7:|keyword searches");
	load_bad(HEAD("process_creation") "  s: {}\n  condition: s\n", "an empty map matches everything");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  timeframe: 5m\n  condition: s\n", "timeframe: the Sigma 1 aggregation window");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n", "no condition");
	/* conditions, with the column of the offending word */
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: s and t\n", "t.yml:10:20: detection: condition: 't' is not a selection of this rule");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: (s or s\n", "t.yml:10:21:|'(' is not closed");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: s s\n", "t.yml:10:16:|unexpected 's'");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: s | count() > 5\n", "t.yml:10:16:|'|' starts an aggregation");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: 2 of s*\n", "'2 of': Sigma has '1 of' and 'all of'");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: 1 of x*\n", "'x*' names no selection");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: s and\n", "ends where a selection name");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: not\n", "ends where a selection name");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: and s\n", "'and' needs a selection before it");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: \"s and (t\"\n", "t.yml:10:22:|'t' is not a selection");
	/* correlations */
	load_bad("title: c\ncorrelation:\n  type: value_sum\n  rules: [a]\n  timespan: 1m\n", "t.yml:3:9: correlation: type: 'value_sum' is not supported");
	load_bad("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  condition: {gte: 3}\n", "no timespan");
	load_bad("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5 minutes\n  condition: {gte: 3}\n",
		 "t.yml:5:13: correlation: timespan: '5 minutes' is not a time span");
	load_bad("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {lt: 3}\n",
		 "t.yml:6:15:|'lt' can only be decided when a window closes");
	load_bad("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 0}\n", "gte takes a count of 1..10000");
	load_bad("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 10001}\n", "gte takes a count of 1..10000");
	load_bad("title: c\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 3}\n", "value_count needs the field");
	load_bad("title: c\ncorrelation:\n  type: temporal\n  rules: [a]\n  timespan: 5m\n", "at least two rules");
	load_bad("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 2}\n  windoe: 3\n",
		 "unknown key 'windoe'");
	load_bad("title: c\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 5m\n  condition: {gte: 2}\n",
		 "t.yml:4: correlation: rules: no rule has the id or name 'nope'");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: s\n---\n" HEAD("process_creation") "  s:\n    Image: b\n  condition: s\n",
		 "id 'r1' is also the id of the rule at t.yml:1");
	load_bad(HEAD("process_creation") "  s:\n    Image: a\n  condition: s\n---\ntitle: c\ncorrelation:\n  type: event_count\n  rules: [r1]\n"
		 "  group-by: [TargetFilename]\n  timespan: 5m\n  condition: {gte: 2}\n",
		 "correlation: 'TargetFilename' in rule 'r1': field 'TargetFilename' is not in process_creation events");
	load_bad("title: a\nid: a\ncorrelation:\n  type: event_count\n  rules: [b]\n  timespan: 5m\n  condition: {gte: 2}\n---\n"
		 "title: b\nid: b\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 2}\n",
		 "a cycle");
}

/* A file that fails adds none of its rules; the rule set stays usable. */
static void test_file_loads_whole_or_not(void **state)
{
	struct pg_ruleset *rs = pg_ruleset__new();
	const char *good = HEAD("process_creation") "  s:\n    Image|re: '^/bin/'\n  condition: s\n";
	const char *bad = "title: a\nid: a\nlogsource: {category: process_creation}\ndetection: {s: {Image|re: x}, condition: s}\n"
			  "---\ntitle: b\nid: b\nlogsource: {category: process_creation}\ndetection: {s: {Image|re: '('}, condition: s}\n";
	char err[512];

	assert_int_equal(pg_ruleset__load_buf(rs, "bad.yml", bad, strlen(bad), err, sizeof(err)), -EINVAL);
	assert_int_equal(pg_ruleset__count(rs), 0);
	assert_int_equal(pg_ruleset__load_buf(rs, "good.yml", good, strlen(good), err, sizeof(err)), 0);
	assert_int_equal(pg_ruleset__finish(rs, err, sizeof(err)), 0);
	assert_int_equal(pg_ruleset__count(rs), 1);
	mk_exec("/bin/sh", "sh");
	assert_int_equal(alerts(rs), 1);
	pg_ruleset__free(rs);
}

/* --- the matcher ------------------------------------------------------------------------------- */

static void test_strings(void **state)
{
	/* case-insensitive by default; |cased is not */
	assert_true(cmd_matches("    CommandLine: CURL -O X", "curl -o x"));
	assert_false(cmd_matches("    CommandLine|cased: CURL -O X", "curl -o x"));
	assert_true(cmd_matches("    CommandLine|cased: curl -o x", "curl -o x"));
	assert_false(cmd_matches("    CommandLine: curl", "curl -o x")); /* whole value */
	assert_true(cmd_matches("    CommandLine|contains: ' -O '", "curl -o x"));
	assert_true(cmd_matches("    CommandLine|startswith: CURL", "curl -o x"));
	assert_false(cmd_matches("    CommandLine|startswith: -o", "curl -o x"));
	assert_true(cmd_matches("    CommandLine|endswith: ' x'", "curl -o x"));
	/* wildcards, and escaped ones */
	assert_true(cmd_matches("    CommandLine: 'curl * x'", "curl -o x"));
	assert_true(cmd_matches("    CommandLine: 'curl ?o x'", "curl -o x"));
	assert_false(cmd_matches("    CommandLine: 'curl ?o'", "curl -o x"));
	assert_true(cmd_matches("    CommandLine: 'a\\*b'", "a*b"));
	assert_false(cmd_matches("    CommandLine: 'a\\*b'", "axxb"));
	assert_true(cmd_matches("    CommandLine: 'a\\*b*'", "a*bzz"));
	assert_true(cmd_matches("    CommandLine: 'c:\\windows'", "C:\\Windows")); /* a lone \\ is itself */
	assert_true(cmd_matches("    CommandLine|contains: '*x*'", "curl -o x"));
	assert_true(cmd_matches("    CommandLine|endswith: '-? x'", "curl -o x"));
	/* lists are OR, |all makes them AND */
	assert_true(cmd_matches("    CommandLine|contains:\n      - wget\n      - curl", "curl -o x"));
	assert_true(cmd_matches("    CommandLine|contains|all:\n      - ' -o '\n      - curl", "curl -o x"));
	assert_false(cmd_matches("    CommandLine|contains|all:\n      - ' -o '\n      - wget", "curl -o x"));
	/* regular expressions: case-sensitive unless |i */
	assert_true(cmd_matches("    CommandLine|re: '^curl\\s+-o\\s'", "curl -o x"));
	assert_false(cmd_matches("    CommandLine|re: '^CURL'", "curl -o x"));
	assert_true(cmd_matches("    CommandLine|re|i: '^CURL'", "curl -o x"));
	/* windash: each option dash as -, /, en and em dash, horizontal bar */
	assert_true(cmd_matches("    CommandLine|windash|contains: ' -o '", "curl /o x"));
	assert_true(cmd_matches("    CommandLine|windash|contains: ' -o '", "curl \xe2\x80\x94o x"));
	assert_false(cmd_matches("    CommandLine|windash|contains: ' -o '", "curl +o x"));
	/* null and exists */
	assert_true(cmd_matches("    ParentCommandLine: null", "curl"));
	assert_true(cmd_matches("    ParentCommandLine|exists: false", "curl"));
	assert_false(cmd_matches("    CommandLine|exists: false", "curl"));
	assert_true(cmd_matches("    CommandLine: ''", ""));
	/* bytes that are not UTF-8 do not stop a regex (PCRE2_MATCH_INVALID_UTF) */
	assert_true(cmd_matches("    CommandLine|re: 'x$'", "\xff\xfe x"));
}

static void test_fields(void **state)
{
	struct pg_ruleset *rs;

	/* numbers: User is the uid, 'root' is 0; gt/lt compare numbers */
	rs = load_ok(HEAD("process_creation") "  s:\n    User: root\n  condition: s\n");
	mk_exec("/bin/sh", "sh");
	assert_int_equal(alerts(rs), 0);
	ev.r.hdr.uid = 0;
	assert_int_equal(alerts(rs), 1);
	pg_ruleset__free(rs);
	rs = load_ok(HEAD("process_creation") "  s:\n    ProcessId|gte: 4242\n    ParentProcessId|lt: 2\n  condition: s\n");
	mk_exec("/bin/sh", "sh");
	assert_int_equal(alerts(rs), 1);
	ev.r.hdr.pid = 4241;
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
	/* ancestors: a value matches when one of them does */
	rs = load_ok(HEAD("process_creation") "  s:\n    ancestors|endswith: /nginx\n  condition: s\n");
	mk_exec("/bin/sh", "sh -c id");
	ev.meta.proc.ancestors[0] = "/usr/bin/python3";
	ev.meta.proc.ancestors[1] = "/usr/sbin/nginx";
	ev.meta.proc.nancestors = 2;
	assert_int_equal(alerts(rs), 1);
	ev.meta.proc.nancestors = 1;
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
	/* without the process table an exec's own path and argv stand for Image and CommandLine */
	rs = load_ok(HEAD("process_creation") "  s:\n    Image: /usr/bin/curl\n    CommandLine: 'curl -s'\n  condition: s\n");
	mk(PG_EV_EXEC);
	strcpy(ev.r.exec.path, "/usr/bin/curl");
	memcpy(ev.r.exec.argv, "curl\0-s", 8);
	ev.r.exec.argc = 2;
	ev.r.exec.argv_len = 8;
	assert_int_equal(alerts(rs), 1);
	pg_ruleset__free(rs);
	/* pangolin's own event fields, flags as true/false */
	rs = load_ok(HEAD("process_creation") "  s:\n    exe_unlinked: true\n  condition: s\n");
	mk_exec("/memfd:x (deleted)", "x");
	assert_int_equal(alerts(rs), 0);
	ev.r.exec.flags |= PG_EXE_UNLINKED;
	assert_int_equal(alerts(rs), 1);
	pg_ruleset__free(rs);
	/* addresses and ports; Initiated is always true for connects */
	rs = load_ok(HEAD("network_connection") "  s:\n    DestinationIp|cidr:\n      - 10.0.0.0/8\n      - 'fd00::/8'\n"
		     "    DestinationPort: 4444\n    Initiated: 'true'\n  condition: s\n");
	mk(PG_EV_CONNECT);
	ev.r.connect.family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", ev.r.connect.daddr);
	ev.r.connect.dport = 4444;
	assert_int_equal(alerts(rs), 1);
	inet_pton(AF_INET, "11.1.2.3", ev.r.connect.daddr);
	assert_int_equal(alerts(rs), 0);
	ev.r.connect.family = AF_INET6;
	inet_pton(AF_INET6, "fd12::1", ev.r.connect.daddr);
	assert_int_equal(alerts(rs), 1);
	ev.r.connect.dport = 4445;
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
	rs = load_ok(HEAD("network_connection") "  s:\n    DestinationIp|cidr: 192.168.1.128/25\n  condition: s\n");
	mk(PG_EV_CONNECT);
	ev.r.connect.family = AF_INET;
	inet_pton(AF_INET, "192.168.1.200", ev.r.connect.daddr);
	assert_int_equal(alerts(rs), 1);
	inet_pton(AF_INET, "192.168.1.127", ev.r.connect.daddr);
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
	/* DNS names */
	rs = load_ok(HEAD("dns_query") "  s:\n    QueryName|endswith: .ONION.example\n    QueryType: A\n  condition: s\n");
	mk(PG_EV_DNS);
	ev.r.dns.flags = PG_DNS_F_PARSED;
	ev.r.dns.qtype = 1;
	strcpy(ev.r.dns.qname, "abc.onion.example");
	assert_int_equal(alerts(rs), 1);
	ev.r.dns.flags = 0; /* malformed: not a query the rules see */
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
}

/*
 * Where the event came from: node and the pod's fields, in every log source; labels as
 * "key=value" values (one is enough) or one label by its key, labels.KEY.
 */
static void test_pod_fields(void **state)
{
	static const struct pg_label lbl[] = { { "app.kubernetes.io/name", "web" },
					       { "team", "Payments" },
					       { "tier", "" } };
	struct pg_pod_meta pod = { .namespace = "shop", .name = "web-7c9f-abcde",
				   .workload_kind = "Deployment", .workload = "web",
				   .labels = lbl, .nlabels = 3 };
	struct pg_ruleset *rs;

	rs = load_ok(HEAD("network_connection") "  s:\n    node: node-1\n    namespace: shop\n"
		     "    pod|startswith: web-\n    workload_kind: deployment\n    workload: web\n"
		     "  condition: s\n");
	mk(PG_EV_CONNECT);
	ev.meta.node = "node-1";
	assert_int_equal(alerts(rs), 0); /* no pod known: the fields are absent */
	ev.meta.pod = &pod;
	assert_int_equal(alerts(rs), 1);
	ev.meta.node = "node-2";
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);

	/* labels: each "key=value", case-insensitive as Sigma compares */
	rs = load_ok(HEAD("process_creation") "  s:\n    labels: team=payments\n  condition: s\n");
	mk_exec("/bin/sh", "sh");
	ev.meta.pod = &pod;
	assert_int_equal(alerts(rs), 1);
	pg_ruleset__free(rs);
	rs = load_ok(HEAD("process_creation") "  s:\n    labels|startswith: 'tier='\n"
		     "  f:\n    labels: 'tier=web'\n  condition: s and not f\n");
	assert_int_equal(alerts(rs), 1);
	pg_ruleset__free(rs);
	rs = load_ok(HEAD("process_creation") "  s:\n    labels|contains: 'payments team'\n"
		     "  condition: s\n");
	assert_int_equal(alerts(rs), 0); /* one label at a time, never joined */
	pg_ruleset__free(rs);

	/* labels.KEY: one label, any key Kubernetes allows */
	rs = load_ok(HEAD("process_creation") "  s:\n    labels.app.kubernetes.io/name: web\n"
		     "    labels.team|cased: Payments\n  condition: s\n");
	assert_int_equal(alerts(rs), 1);
	pod.nlabels = 1; /* team is gone */
	assert_int_equal(alerts(rs), 0);
	pod.nlabels = 3;
	pg_ruleset__free(rs);
	rs = load_ok(HEAD("process_creation") "  s:\n    labels.owner|exists: false\n"
		     "    labels.tier|exists: true\n  condition: s\n");
	assert_int_equal(alerts(rs), 1);
	ev.meta.pod = NULL;
	assert_int_equal(alerts(rs), 0); /* no pod: tier does not exist either */
	pg_ruleset__free(rs);
	ev.meta.pod = NULL;
}

static void test_conditions(void **state)
{
	struct pg_ruleset *rs;
	const char *sels = HEAD("process_creation")
		"  selection_a:\n    CommandLine|contains: aaa\n"
		"  selection_b:\n    CommandLine|contains: bbb\n"
		"  _helper:\n    CommandLine|contains: zzz\n"
		"  filter:\n    Image: /usr/bin/ok\n";
	static const struct {
		const char *cond;
		const char *cmd, *img;
		bool want;
	} cases[] = {
		{ "selection_a and not filter", "aaa", "/bin/x", true },
		{ "selection_a and not filter", "aaa", "/usr/bin/ok", false },
		{ "selection_a and selection_b", "aaa", "/bin/x", false },
		{ "selection_a or selection_b", "bbb", "/bin/x", true },
		{ "1 of selection_*", "bbb", "/bin/x", true },
		{ "all of selection_*", "bbb", "/bin/x", false },
		{ "all of selection_*", "aaa bbb", "/bin/x", true },
		{ "1 of them", "zzz", "/bin/x", false }, /* them leaves out _helper */
		{ "1 of them", "zzz", "/usr/bin/ok", true }, /* ... but not filter */
		{ "1 of _*", "zzz", "/bin/x", true },
		{ "not (selection_a or selection_b)", "ccc", "/bin/x", true },
		{ "not selection_a and not selection_b", "bbb", "/bin/x", false },
		{ "(selection_a or selection_b) and not (filter or _helper)", "aaa zzz", "/bin/x", false },
		{ "selection_a or selection_b and filter", "aaa", "/bin/x", true }, /* and binds tighter */
		{ "NOT selection_a AND selection_b", "bbb", "/bin/x", true }, /* keywords in any case */
		{ "all of them", "aaa bbb", "/usr/bin/ok", true },
	};
	char yaml[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "%s  condition: %s\n", sels, cases[i].cond);
		rs = load_ok(yaml);
		mk_exec(cases[i].img, cases[i].cmd);
		if ((alerts(rs) == 1) != cases[i].want)
			fail_msg("'%s' on '%s' %s: expected %s", cases[i].cond, cases[i].cmd, cases[i].img,
				 cases[i].want ? "a match" : "none");
		pg_ruleset__free(rs);
	}
	/* a list of maps: one of them; a list of conditions (Sigma 1): one of them */
	rs = load_ok(HEAD("process_creation") "  s:\n    - Image: /bin/a\n    - Image: /bin/b\n      CommandLine: b\n"
		     "  t:\n    Image: /bin/c\n  condition:\n    - s\n    - t\n");
	mk_exec("/bin/b", "b");
	assert_int_equal(alerts(rs), 1);
	mk_exec("/bin/b", "x");
	assert_int_equal(alerts(rs), 0);
	mk_exec("/bin/c", "x");
	assert_int_equal(alerts(rs), 1);
	pg_ruleset__free(rs);
}

static void test_logsources(void **state)
{
	struct pg_ruleset *rs;

	/* process_creation: not the processes found running at start-up */
	rs = load_ok(HEAD("process_creation") "  s:\n    Image: /bin/sh\n  condition: s\n");
	mk_exec("/bin/sh", "sh");
	assert_int_equal(alerts(rs), 1);
	ev.r.exec.flags = PG_SNAPSHOT;
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
	/* file_event: opens that succeeded with write intent; file_access: every open */
	rs = load_ok(HEAD("file_event") "  s:\n    TargetFilename|startswith: /etc/cron\n  condition: s\n");
	mk(PG_EV_OPEN);
	strcpy(ev.r.open.path, "/etc/cron.d/x");
	ev.r.open.flags = O_RDONLY;
	ev.r.open.ret = 3;
	assert_int_equal(alerts(rs), 0);
	ev.r.open.flags = O_WRONLY | O_CREAT;
	assert_int_equal(alerts(rs), 1);
	ev.r.open.flags = O_RDONLY | O_TRUNC;
	assert_int_equal(alerts(rs), 1);
	ev.r.open.ret = -13;
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
	rs = load_ok(HEAD("file_access") "  s:\n    TargetFilename: /etc/shadow\n  condition: s\n");
	mk(PG_EV_OPEN);
	strcpy(ev.r.open.path, "/etc/shadow");
	ev.r.open.ret = -13;
	assert_int_equal(alerts(rs), 1);
	/* an alert read back is not matched again */
	ev.r.hdr.type = PG_EV_ALERT;
	assert_int_equal(alerts(rs), 0);
	pg_ruleset__free(rs);
}

/* The alert: the rule's identity, the event's process, the event by identity. */
static int keep_alert(void *ctx, struct pg_event *a)
{
	*(struct pg_event *)ctx = *a;
	return 0;
}

static void test_alert_fields(void **state)
{
	struct pg_ruleset *rs = load_ok("title: Shell from a web server\nid: 5d1f0c2e-8a63-4c1e-9a53-7f7d0b0b6a01\n"
					"level: critical\ntags:\n  - attack.persistence\n  - attack.t1505.003\n"
					"logsource: {product: linux, category: process_creation}\n"
					"detection:\n  s:\n    ParentImage|endswith: /nginx\n  condition: s\n");
	struct pg_detector *d = pg_detector__new(rs, NULL);
	struct pg_event a;

	mk_exec("/bin/sh", "sh -c id");
	ev.meta.proc.parent_exe = "/usr/sbin/nginx";
	ev.meta.node = "web-1";
	memset(&a, 0, sizeof(a));
	assert_int_equal(pg_detector__process(d, &ev, keep_alert, &a), 0);
	assert_int_equal(a.r.hdr.type, PG_EV_ALERT);
	assert_string_equal(a.r.alert.rule_id, "5d1f0c2e-8a63-4c1e-9a53-7f7d0b0b6a01");
	assert_string_equal(a.r.alert.title, "Shell from a web server");
	assert_int_equal(a.r.alert.level, PG_LEVEL_CRITICAL);
	assert_int_equal(a.r.alert.ntags, 2);
	assert_memory_equal(a.r.alert.tags, "attack.persistence\0attack.t1505.003\0", a.r.alert.tags_len);
	assert_int_equal(a.r.alert.count, 1);
	assert_int_equal(a.r.alert.nevents, 1);
	assert_int_equal(a.r.alert.events[0].pid, 4242);
	assert_int_equal(a.r.alert.events[0].start_ns, 77);
	assert_int_equal(a.r.alert.events[0].ts_ns, 1000);
	assert_int_equal(a.r.alert.events[0].type, PG_EV_EXEC);
	assert_int_equal(a.r.hdr.pid, 4242);
	assert_string_equal(a.meta.node, "web-1");
	assert_string_equal(a.meta.proc.exe, "/bin/sh");
	assert_int_equal(a.r.alert.ngroup, 0);
	pg_detector__free(d);
	pg_ruleset__free(rs);
}

/* Rules from a directory: every .yml and .yaml below it, in order; others ignored. */
static void test_load_dir(void **state)
{
	char dir[] = "/tmp/pg-sigma-XXXXXX", path[256], err[512];
	struct pg_ruleset *rs = pg_ruleset__new();
	const char *rule = HEAD("process_creation") "  s:\n    Image: /bin/sh\n  condition: s\n";
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/a.yaml", dir);
	f = fopen(path, "w");
	fputs(rule, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/README.md", dir);
	f = fopen(path, "w");
	fputs("not a rule", f);
	fclose(f);
	assert_int_equal(pg_ruleset__load_dir(rs, dir, err, sizeof(err)), 1);
	assert_int_equal(pg_ruleset__count(rs), 1);
	snprintf(path, sizeof(path), "%s/b.yml", dir);
	f = fopen(path, "w");
	fputs("title: [", f);
	fclose(f);
	pg_ruleset__free(rs);
	rs = pg_ruleset__new();
	assert_int_equal(pg_ruleset__load_dir(rs, dir, err, sizeof(err)), -EINVAL);
	if (!strstr(err, "/b.yml:") || !strstr(err, ": YAML: "))
		fail_msg("%s", err);
	pg_ruleset__free(rs);
	assert_int_equal(pg_ruleset__load_dir(rs = pg_ruleset__new(), "/nonexistent-dir", err, sizeof(err)), -ENOENT);
	pg_ruleset__free(rs);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_file_loads_whole_or_not),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_pod_fields),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_logsources),
		cmocka_unit_test(test_alert_fields),
		cmocka_unit_test(test_load_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
