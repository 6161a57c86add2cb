// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The filter language (src/filter.c, docs/filter.md): what the parser accepts, where it says
 * a bad filter goes wrong, what every kind of field compares like, precedence, and the tree
 * helpers the kernel source uses (conjuncts, format).
 *
 * Events are written as NDJSON lines and decoded, so each one reads like the recordings the
 * filters run over.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "filter.h"
#include "json.h"

#define HDR(type, comm)                                                                      \
	"{\"v\":1,\"type\":\"" type "\",\"ts\":1764084477000000000,\"pid\":4321,\"tid\":4322,"   \
	"\"ppid\":1,\"uid\":1000,\"gid\":100,\"comm\":\"" comm "\",\"cgroup_id\":4242,"           \
	"\"start_ns\":5"

enum {
	E_OPEN,
	E_OPEN_META,
	E_EXEC,
	E_FORK,
	E_EXIT,
	E_CONNECT,
	E_CONNECT6,
	E_DNS,
	E_DNS_BAD,
	E_SETID,
	E_PROC,
	E_POD,
	E_COUNT
};

static const char *const lines[E_COUNT] = {
	[E_OPEN] = HDR("open", "curl") ",\"dirfd\":-100,\"flags\":524288,\"mode\":420,\"ret\":3,"
				       "\"path\":\"/etc/ssl/certs/ca.crt\"}",
	[E_OPEN_META] = HDR("open", "nginx") ",\"node\":\"node-1\",\"cgroup\":\"/system.slice/nginx.service\","
					     "\"dirfd\":7,\"flags\":0,\"mode\":0,\"ret\":-2,"
					     "\"path\":\"caf\\u00e9 \\\"menu\\\"\\n\\udcff.txt\"}",
	[E_EXEC] = HDR("exec", "bash") ",\"path\":\"/usr/bin/curl\","
				       "\"argv\":[\"curl\",\"-s\",\"https://example.com/\"]}",
	[E_FORK] = HDR("fork", "bash") ",\"child_pid\":4400,\"child_start_ns\":9}",
	[E_EXIT] = HDR("exit", "curl") ",\"exit_code\":-1,\"signal\":9,\"lifetime_ns\":2500000000}",
	[E_CONNECT] = HDR("connect", "curl") ",\"family\":\"inet\",\"daddr\":\"10.1.2.3\",\"dport\":443,"
					     "\"fd\":5,\"ret\":-115}",
	[E_CONNECT6] = HDR("connect", "curl") ",\"family\":\"inet6\",\"daddr\":\"2001:db8::1\","
					      "\"dport\":80,\"fd\":6,\"ret\":0}",
	[E_DNS] = HDR("dns", "curl") ",\"family\":\"inet\",\"daddr\":\"127.0.0.53\",\"dport\":53,"
				     "\"transport\":\"udp\",\"dns_id\":4660,\"qname\":\"example.com\","
				     "\"qtype\":\"AAAA\",\"qclass\":1}",
	[E_DNS_BAD] = HDR("dns", "curl") ",\"family\":\"inet\",\"daddr\":\"127.0.0.53\",\"dport\":53,"
					 "\"transport\":\"tcp\",\"malformed\":true}",
	[E_SETID] = HDR("setid", "sudo") ",\"call\":\"setuid\",\"ret\":0,\"id_real\":0,"
					 "\"id_effective\":0,\"id_saved\":4294967295}",
	/* the process table's fields (docs/events.md, "Process fields") */
	[E_PROC] = HDR("open", "worker") ",\"exe\":\"/usr/bin/python3\","
					 "\"cmdline\":\"python3 /srv/app.py --port 8080\","
					 "\"parent_exe\":\"/usr/bin/bash\",\"parent_cmdline\":\"bash -c ./start\","
					 "\"ancestors\":[\"/usr/bin/bash\",\"/usr/sbin/sshd\",\"/usr/lib/systemd/systemd\"],"
					 "\"dirfd\":-100,\"flags\":0,\"mode\":0,\"ret\":3,\"path\":\"/srv/app.db\"}",
	/* the pod's fields (docs/events.md, "Pod fields") */
	[E_POD] = HDR("exec", "sh") ",\"node\":\"node-1\",\"pod_uid\":\"0a1b2c3d-4e5f-6789-abcd-ef0123456789\","
				    "\"namespace\":\"shop\",\"pod\":\"web-7c9f-abcde\","
				    "\"workload_kind\":\"Deployment\",\"workload\":\"web\","
				    "\"labels\":{\"app.kubernetes.io/name\":\"web\",\"team\":\"payments\",\"tier\":\"\"},"
				    "\"path\":\"/bin/sh\",\"argv\":[\"sh\"]}",
};

static struct pg_event events[E_COUNT];
static struct pg_json_decoder decoders[E_COUNT];

static int setup(void **state)
{
	for (int i = 0; i < E_COUNT; i++) {
		struct pg_json_error err;

		if (pg_json_decode(&decoders[i], lines[i], strlen(lines[i]), &events[i], &err)) {
			fprintf(stderr, "event %d: column %zu: %s\n", i, err.column, err.msg);
			return -1;
		}
	}
	return 0;
}

static struct pg_filter *parse_ok(const char *expr)
{
	struct pg_filter_error err;
	struct pg_filter *f = pg_filter__parse(expr, &err);

	if (!f)
		fail_msg("'%s' does not parse: column %zu: %s", expr, err.column, err.msg);
	return f;
}

/* --- the parser accepts the documented language ----------------------------------------- */

static void test_accepts(void **state)
{
	static const char *const ok[] = {
		"",
		"   \t\n",
		"type == \"open\" && comm == \"curl\" && path startswith \"/etc/\"",
		"not (uid in [0, 1000]) or dport >= 1024",
		"type == 'open' and comm != 'curl' or not pid < 10",
		"!(pid == 1) || !pid == 2",
		"pid==1&&tid==2||ppid==3",
		"comm in (\"curl\", \"wget\") && uid in [0]",
		"path endswith \".so\" || path contains \"/lib\" || path glob \"/usr/*/lib?.so.[0-9]\"",
		"mode == 0644 || mode == 0o644 || mode == 0O644 || flags == 0x80000 || flags == 0X80000",
		"ret == -2 || ret < -100 || exit_code == -2147483648 || ts > 9223372036854775807",
		"daddr == \"10.0.0.0/8\" || daddr == \"::1\" || daddr in [\"fe80::/10\", \"127.0.0.1/32\"]",
		"qtype == \"AAAA\" || qtype == 28 || qtype == \"type65\" || qtype in [\"A\", 5]",
		"family == \"inet6\" || family == 2",
		"call == \"setresuid\" && id_effective == 0",
		"node == \"n\" || cgroup startswith \"/k\" || container_id == \"\" || pod_uid != \"x\"",
		"argv contains \"--insecure\" && argc > 2",
		"namespace == \"shop\" && labels == \"app=web\" || workload_kind == \"DaemonSet\"",
		"exe endswith \"/sh\" || cmdline contains \"-c\" || parent_exe == \"/usr/bin/bash\"",
		"parent_cmdline glob \"bash *\" || ancestors contains \"sshd\" || ancestors in [\"/a\", \"/b\"]",
		"comm == \"\\\"\\\\\\'\\n\\t\\x41\"",
		"comm == '\"' || comm == \"'\"",
		"path == \"caf\xc3\xa9\" || path == \"\\xff\"",
		"((((((((pid == 1))))))))",
		"child_pid > 0 || child_start_ns > 0 || signal == 9 || lifetime_ns > 1000000000",
		"dirfd == -100 || fd == 3 || dns_id == 0x1234 || id_real == 0 || id_saved == 4294967295",
		"io_uring || snapshot || path_truncated || argv_truncated || core_dumped",
		"not io_uring && !snapshot && (io_uring == 0 || core_dumped == 1) && type == \"open\"",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct pg_filter_error err;
		struct pg_filter *f = pg_filter__parse(ok[i], &err);

		if (!f)
			fail_msg("'%s' does not parse: column %zu: %s", ok[i], err.column, err.msg);
		assert_string_equal(f->source, ok[i]);
		pg_filter__free(f);
	}
	/* NULL is the empty filter */
	struct pg_filter *f = pg_filter__parse(NULL, NULL);

	assert_non_null(f);
	assert_int_equal(f->root->op, PG_FOP_TRUE);
	for (int e = 0; e < E_COUNT; e++)
		assert_true(pg_filter__match(f, &events[e]));
	pg_filter__free(f);
}

/* --- errors carry the right column ------------------------------------------------------ */

struct ecase {
	const char *expr;
	const char *at; /* marker: the column is where it first occurs; NULL: the end */
	const char *msg; /* fragments separated by '|' */
};

static const struct ecase ecases[] = {
	{ "type = \"open\"", "= ", "'=' is not an operator: use '=='" },
	{ "pid == 1 & tid == 2", "& ", "'&' is not an operator: use '&&' or 'and'" },
	{ "pid == 1 | tid == 2", "| ", "'|' is not an operator: use '||' or 'or'" },
	{ "pidd == 1", "pidd", "unknown field 'pidd'|docs/filter.md" },
	{ "pid == 1 && Comm == \"x\"", "Comm", "unknown field 'Comm'" },
	{ "pid == \"1\"", "\"1\"", "field pid is a number: remove the quotes" },
	{ "comm == 1", "1", "field comm is a string: quote the value" },
	{ "argv == 1", "1", "field argv is a string" },
	{ "node == 7", "7", "field node is a string" },
	{ "exe == 7", "7", "field exe is a string: quote the value" },
	{ "ancestors contains 7", "7", "field ancestors is a list of strings: quote the value" },
	{ "ancestors < \"/a\"", "\"/a\"", "field ancestors is a list of strings|need a number" },
	{ "namespace == 1", "1", "field namespace is a string: quote the value" },
	{ "labels == 1", "1", "field labels is a list of \"key=value\" strings: quote the value" },
	{ "labels > \"a\"", "\"a\"", "need a number" },
	{ "cmdline > 1", "1", "field cmdline is a string: quote the value" },
	{ "type == \"alrt\"", "\"alrt\"", "unknown event type \"alrt\"|ptrace, alert" },
	{ "comm < \"a\"", "\"a\"", "field comm is a string: '<', '<=', '>', '>=' need a number" },
	{ "daddr >= \"1.2.3.4\"", "\"1.2", "field daddr is an IP address|need a number" },
	{ "type > \"open\"", "\"open\"", "field type is an event type|need a number" },
	{ "call <= \"setuid\"", "\"setuid\"", "need a number" },
	{ "pid startswith \"1\"", "startswith", "'startswith' works on strings; field pid is a number" },
	{ "daddr contains \"10.\"", "contains", "'contains' works on strings; field daddr is an IP address" },
	{ "type glob \"o*\"", "glob", "'glob' works on strings; field type is an event type" },
	{ "uid endswith \"0\"", "endswith", "'endswith' works on strings" },
	{ "type == \"opne\"", "\"opne\"", "unknown event type \"opne\"|exec, fork" },
	{ "type == 4", "4", "compare type with a name, e.g. type == \"open\"" },
	{ "type in [\"open\", \"exe\"]", "\"exe\"", "unknown event type \"exe\"" },
	{ "qtype == \"BOGUS\"", "\"BOGUS\"", "unknown DNS type \"BOGUS\"" },
	{ "family == \"inet7\"", "\"inet7\"", "family is \"inet\" or \"inet6\"" },
	{ "call == \"setfoo\"", "\"setfoo\"", "unknown call \"setfoo\"" },
	{ "call == 1", "1", "compare call with a name" },
	{ "daddr == 1", "1", "quote the address" },
	{ "daddr == \"10.0.0\"", "\"10", "\"10.0.0\" is not an IP address or CIDR" },
	{ "daddr == \"10.0.0.0/33\"", "\"10", "bad prefix length in \"10.0.0.0/33\" (0..32)" },
	{ "daddr == \"::/129\"", "\"::", "bad prefix length in \"::/129\" (0..128)" },
	{ "daddr == \"10.0.0.0/\"", "\"10", "bad prefix length" },
	{ "daddr == \"10.0.0.0/8x\"", "\"10", "bad prefix length" },
	{ "daddr == \"10.0.0.0/-1\"", "\"10", "bad prefix length" },
	{ "daddr in [\"::1\", \"localhost\"]", "\"localhost\"", "\"localhost\" is not an IP address" },
	{ "pid == 0x", "0x", "expected digits" },
	{ "mode == 0o", "0o", "expected digits" },
	{ "mode == 0648", "8", "digit '8' is not valid in a base-8 number" },
	{ "mode == 0o19", "9", "digit '9' is not valid in a base-8 number" },
	{ "pid == 12a", "a", "digit 'a' is not valid in a base-10 number" },
	{ "pid == 0x1g", "g", "unexpected 'g' in a number" },
	{ "pid == 12_000", "_", "unexpected '_' in a number" },
	{ "pid == 99999999999999999999", "9999", "number too large" },
	{ "pid == 9223372036854775808", "9223", "number out of range" },
	{ "pid == -9223372036854775809", "-9223", "number out of range" },
	{ "pid == -", "-", "unexpected character '-'" },
	{ "comm == \"abc", "\"abc", "unterminated string: add the closing \"" },
	{ "comm == 'abc", "'abc", "unterminated string: add the closing '" },
	{ "comm == \"a\\qb\"", "\\q", "unknown escape '\\q'" },
	{ "comm == \"a\\", "\\", "unknown escape" },
	{ "comm == \"\\x4\"", "\\x", "\\x needs two hex digits" },
	{ "comm == \"\\x", "\\x", "\\x needs two hex digits" }, /* found by fuzz_filter_parse: read past the end */
	{ "comm == \"\\xg0\"", "\\x", "\\x needs two hex digits" },
	{ "comm == \"\\x00\"", "\\x", "\\x00 cannot appear in a string" },
	{ "(pid == 1", NULL, "expected ')' to close the '(' at column 1, found end of the filter" },
	{ "pid == 1 && (tid == 2 || (ppid == 3)", NULL, "expected ')' to close the '(' at column 13" },
	{ "pid == 1)", ")", "expected '&&', '||' or the end of the filter, found ')'" },
	{ "pid == 1 tid == 2", "tid", "expected '&&', '||' or the end of the filter, found a field name" },
	{ "pid == 1 \"x\"", "\"x\"", "found a string" },
	{ "pid ==", NULL, "expected a value (a number or a \"string\"), found end of the filter" },
	{ "pid == &&", "&&", "expected a value|found '&&'" },
	{ "pid", NULL, "expected an operator after 'pid'|found end of the filter" },
	{ "pid 1", "1", "expected an operator after 'pid'|found a number" },
	{ "pid = = 1", "= =", "'=' is not an operator" },
	{ "&& pid == 1", "&&", "expected a field name, '(' or 'not', found '&&'" },
	{ "pid == 1 &&", NULL, "expected a field name, '(' or 'not', found end of the filter" },
	{ "pid == 1 || or", "or", "found '||'" },
	{ "not", NULL, "expected a field name, '(' or 'not', found end of the filter" },
	{ "()", ")", "expected a field name, '(' or 'not', found ')'" },
	{ "\"open\" == type", "\"open\"", "expected a field name, '(' or 'not', found a string" },
	{ "1 == pid", "1", "found a number" },
	{ "pid in 1", "1", "expected a list after 'in'" },
	{ "pid in [1, 2", NULL, "expected ',' or ']' in the list, found end of the filter" },
	{ "pid in (1, 2]", "]", "expected ',' or ')' in the list, found ']'" },
	{ "pid in [1 2]", "2]", "expected ',' or ']' in the list, found a number" },
	{ "pid in []", "]", "expected a value (a number or a \"string\"), found ']'" },
	{ "pid in [1, \"2\"]", "\"2\"", "field pid is a number" },
	{ "pid in [1,]", "]", "expected a value" },
	{ "pid $ 1", "$", "unexpected character '$'" },
	{ "io_uring startswith \"x\"", "startswith", "works on strings|io_uring is a flag" },
	{ "request == \"peek\"", "\"peek\"", "unknown ptrace request \"peek\"" },
	{ "io_uring == 2", "2", "io_uring is a flag: use it by itself (io_uring, not io_uring) or compare it with 0 or 1" },
	{ "snapshot == \"1\"", "\"1\"", "snapshot is a flag" },
	{ "io_uring pid == 1", "pid", "expected '&&', '||' or the end of the filter, found a field name" },
	{ "comm == \xc3\xa9", "\xc3", "unexpected character '?'" },
	{ "pid == 1 ; tid == 2", ";", "unexpected character ';'" },
};

static void check_error(const char *what, const char *expr, size_t col, const char *msg)
{
	struct pg_filter_error err;
	struct pg_filter *f = pg_filter__parse(expr, &err);
	char frags[256], *save = NULL;

	if (f)
		fail_msg("%s: '%s' parsed, expected an error at column %zu", what, expr, col);
	assert_int_equal(errno, EINVAL);
	if (err.column != col)
		fail_msg("%s: '%s': column %zu, expected %zu (%s)", what, expr, err.column, col, err.msg);
	snprintf(frags, sizeof(frags), "%s", msg);
	for (char *p = strtok_r(frags, "|", &save); p; p = strtok_r(NULL, "|", &save))
		if (!strstr(err.msg, p))
			fail_msg("%s: '%s': message '%s' lacks '%s'", what, expr, err.msg, p);
}

static void test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++) {
		const struct ecase *c = &ecases[i];
		const char *p = c->at ? strstr(c->expr, c->at) : c->expr + strlen(c->expr);
		char what[32];

		if (!p)
			fail_msg("test bug: '%s' not in '%s'", c->at, c->expr);
		snprintf(what, sizeof(what), "case %zu", i);
		check_error(what, c->expr, (size_t)(p - c->expr) + 1, c->msg);
	}
}

static void test_nesting_limit(void **state)
{
	char expr[512];
	size_t n;
	struct pg_filter *f;

	/* 63 parentheses: 64 levels with the comparison inside */
	n = 0;
	for (int i = 0; i < 63; i++)
		expr[n++] = '(';
	n += (size_t)sprintf(expr + n, "pid == 1");
	for (int i = 0; i < 63; i++)
		expr[n++] = ')';
	expr[n] = 0;
	f = parse_ok(expr);
	assert_true(pg_filter__match(f, &events[E_OPEN]) == false);
	pg_filter__free(f);

	/* 64 is one too many: the error is at what sits 65 levels deep */
	memmove(expr + 1, expr, n + 1);
	expr[0] = '(';
	strcat(expr, ")");
	check_error("64 parentheses", expr, 65, "filter nested deeper than 64 levels");

	/* the same for 'not' */
	n = 0;
	for (int i = 0; i < 64; i++)
		n += (size_t)sprintf(expr + n, "!");
	sprintf(expr + n, "pid == 1");
	check_error("64 nots", expr, 65, "filter nested deeper than 64 levels");
	expr[0] = ' ';
	f = parse_ok(expr); /* 63 */
	assert_true(pg_filter__match(f, &events[E_OPEN])); /* odd number of nots */
	pg_filter__free(f);

	/* a long flat chain is not nesting: 2000 terms */
	char *longf = malloc(2000 * 16);

	n = 0;
	for (int i = 0; i < 2000; i++)
		n += (size_t)sprintf(longf + n, "%spid == %d", i ? " || " : "", i);
	f = parse_ok(longf);
	assert_false(pg_filter__match(f, &events[E_OPEN]));
	{
		/* its format is one flat chain, which parses again (no nesting) */
		char *buf = malloc(2000 * 20);
		struct pg_filter *g;

		pg_filter_node__format(f->root, buf, 2000 * 20);
		assert_int_equal(buf[0], '(');
		assert_int_not_equal(buf[1], '(');
		g = parse_ok(buf);
		pg_filter__free(g);
		free(buf);
	}
	pg_filter__free(f);
	sprintf(longf + n, " || pid == 4321");
	f = parse_ok(longf);
	assert_true(pg_filter__match(f, &events[E_OPEN]));
	pg_filter__free(f);
	free(longf);
}

static void test_error_format(void **state)
{
	struct pg_filter_error err;
	char buf[512];
	const char *expr = "type == \"open\" && pid = 3";

	assert_null(pg_filter__parse(expr, &err));
	pg_filter_error__format(expr, &err, buf, sizeof(buf));
	assert_string_equal(buf, "column 23: '=' is not an operator: use '==' to compare\n"
				 "  type == \"open\" && pid = 3\n"
				 "                        ^");

	/* tabs and newlines print as spaces; the caret counts characters, not UTF-8 bytes */
	expr = "comm == \"\xc3\xa9\" &&\n\tpid = 3";
	assert_null(pg_filter__parse(expr, &err));
	assert_int_equal(err.column, 22);
	pg_filter_error__format(expr, &err, buf, sizeof(buf));
	assert_string_equal(buf, "column 22: '=' is not an operator: use '==' to compare\n"
				 "  comm == \"\xc3\xa9\" &&  pid = 3\n"
				 "  " "                    ^");

	/* an error at the end */
	expr = "pid ==";
	assert_null(pg_filter__parse(expr, &err));
	pg_filter_error__format(expr, &err, buf, sizeof(buf));
	assert_string_equal(buf, "column 7: expected a value (a number or a \"string\"), found end of the filter\n"
				 "  pid ==\n"
				 "        ^");

	/* a small buffer is cut, never overrun */
	char small[16];

	memset(small, 'x', sizeof(small));
	pg_filter_error__format(expr, &err, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* --- evaluation -------------------------------------------------------------------------- */

struct mcase {
	const char *expr;
	unsigned int ev;
	bool want;
};

static const struct mcase mcases[] = {
	/* numbers: unsigned, signed, every operator */
	{ "pid == 4321", E_OPEN, true },
	{ "pid == 4322", E_OPEN, false },
	{ "pid != 4321", E_OPEN, false },
	{ "pid != 1", E_OPEN, true },
	{ "pid < 4321", E_OPEN, false },
	{ "pid <= 4321", E_OPEN, true },
	{ "pid > 4320", E_OPEN, true },
	{ "pid >= 4322", E_OPEN, false },
	{ "tid == 4322 && ppid == 1 && uid == 1000 && gid == 100", E_OPEN, true },
	{ "cgroup_id == 4242 && start_ns == 5 && ts == 1764084477000000000", E_OPEN, true },
	{ "ts > 1764084476999999999 && ts < 1764084477000000001", E_OPEN, true },
	{ "ret == 3", E_OPEN, true },
	{ "ret == -115", E_CONNECT, true },
	{ "ret < 0", E_CONNECT, true },
	{ "ret < 0", E_OPEN, false },
	{ "ret >= -115 && ret <= -115", E_CONNECT, true },
	{ "dirfd == -100", E_OPEN, true },
	{ "exit_code == -1 && signal == 9 && lifetime_ns > 1000000000", E_EXIT, true },
	{ "exit_code < 0", E_EXIT, true },
	{ "id_saved == 4294967295 && id_saved == 0xffffffff", E_SETID, true },
	{ "id_saved == -1", E_SETID, false },
	{ "child_pid == 4400 && child_start_ns == 9", E_FORK, true },
	{ "dns_id == 0x1234", E_DNS, true },
	{ "dns_id == 4660", E_DNS, true },
	/* number literals: octal, hex */
	{ "mode == 0644", E_OPEN, true },
	{ "mode == 0o644", E_OPEN, true },
	{ "mode == 420", E_OPEN, true },
	{ "mode == 644", E_OPEN, false },
	{ "flags == 0x80000", E_OPEN, true },
	{ "flags == 0X80000 && flags == 524288 && flags == 02000000", E_OPEN, true },
	/* strings */
	{ "comm == \"curl\"", E_OPEN, true },
	{ "comm == \"cur\"", E_OPEN, false },
	{ "comm == \"curl \"", E_OPEN, false },
	{ "comm == \"CURL\"", E_OPEN, false },
	{ "comm != \"curl\"", E_OPEN, false },
	{ "comm != \"wget\"", E_OPEN, true },
	{ "comm == 'curl'", E_OPEN, true },
	{ "path startswith \"/etc/\"", E_OPEN, true },
	{ "path startswith \"/etc/ssl/certs/ca.crt\"", E_OPEN, true },
	{ "path startswith \"/etc/ssl/certs/ca.crt/\"", E_OPEN, false },
	{ "path startswith \"\"", E_OPEN, true },
	{ "path startswith \"etc\"", E_OPEN, false },
	{ "path endswith \".crt\"", E_OPEN, true },
	{ "path endswith \".pem\"", E_OPEN, false },
	{ "path contains \"/certs/\"", E_OPEN, true },
	{ "path contains \"/cert/\"", E_OPEN, false },
	{ "path contains \"\"", E_OPEN, true },
	{ "path glob \"/etc/*/ca.crt\"", E_OPEN, true },
	{ "path glob \"/etc/*\"", E_OPEN, true }, /* '*' matches '/' too */
	{ "path glob \"/etc/ssl/certs/??.crt\"", E_OPEN, true },
	{ "path glob \"/etc/ssl/certs/[a-c]a.crt\"", E_OPEN, true },
	{ "path glob \"/etc/ssl/certs/[!c]a.crt\"", E_OPEN, false },
	{ "path glob \"*.pem\"", E_OPEN, false },
	{ "path glob \"/etc/ssl/certs/ca.crt\"", E_OPEN, true },
	{ "path glob \"/etc\"", E_OPEN, false },
	/* the exec path is the same field */
	{ "path == \"/usr/bin/curl\"", E_EXEC, true },
	{ "path endswith \"/curl\" && comm == \"bash\"", E_EXEC, true },
	/* escapes and bytes that are not UTF-8 */
	{ "path == \"caf\xc3\xa9 \\\"menu\\\"\\n\\xff.txt\"", E_OPEN_META, true },
	{ "path == 'caf\\xc3\\xa9 \"menu\"\\n\\xff.txt'", E_OPEN_META, true },
	{ "path contains \"\\xff\"", E_OPEN_META, true },
	{ "path contains \"\\n\"", E_OPEN_META, true },
	{ "path contains \"\\xfe\"", E_OPEN_META, false },
	/* argv: the arguments joined by spaces; argc */
	{ "argv == \"curl -s https://example.com/\"", E_EXEC, true },
	{ "argv startswith \"curl \"", E_EXEC, true },
	{ "argv contains \" -s \"", E_EXEC, true },
	{ "argv endswith \"example.com/\"", E_EXEC, true },
	{ "argv glob \"curl * https://*\"", E_EXEC, true },
	{ "argv contains \"--insecure\"", E_EXEC, false },
	{ "argc == 3", E_EXEC, true },
	{ "argc > 3", E_EXEC, false },
	/* in-lists */
	{ "pid in [1, 4321]", E_OPEN, true },
	{ "pid in [1, 2, 3]", E_OPEN, false },
	{ "pid in (4321)", E_OPEN, true },
	{ "comm in (\"wget\", \"curl\")", E_OPEN, true },
	{ "comm in [\"wget\", \"curlx\"]", E_OPEN, false },
	{ "type in [\"exec\", \"open\"]", E_OPEN, true },
	{ "type in [\"exec\", \"fork\"]", E_OPEN, false },
	{ "ret in [-115, -111]", E_CONNECT, true },
	{ "dport in [80, 443] && family == \"inet\"", E_CONNECT, true },
	/* addresses and CIDR */
	{ "daddr == \"10.1.2.3\"", E_CONNECT, true },
	{ "daddr == \"10.1.2.4\"", E_CONNECT, false },
	{ "daddr == \"10.0.0.0/8\"", E_CONNECT, true },
	{ "daddr == \"10.1.2.0/24\"", E_CONNECT, true },
	{ "daddr == \"10.1.2.2/31\"", E_CONNECT, true },
	{ "daddr == \"10.1.2.0/31\"", E_CONNECT, false },
	{ "daddr == \"10.1.0.0/17\"", E_CONNECT, true },
	{ "daddr == \"10.1.128.0/17\"", E_CONNECT, false },
	{ "daddr == \"10.1.2.3/32\"", E_CONNECT, true },
	{ "daddr == \"0.0.0.0/0\"", E_CONNECT, true },
	{ "daddr == \"0.0.0.0/0\"", E_CONNECT6, false }, /* families never match each other */
	{ "daddr == \"::/0\"", E_CONNECT6, true },
	{ "daddr == \"::/0\"", E_CONNECT, false },
	{ "daddr == \"2001:db8::/32\"", E_CONNECT6, true },
	{ "daddr == \"2001:db9::/32\"", E_CONNECT6, false },
	{ "daddr == \"2001:db8::1\"", E_CONNECT6, true },
	{ "daddr == \"2001:0db8:0000::0001\"", E_CONNECT6, true },
	{ "daddr == \"2001:db8::/127\"", E_CONNECT6, true },
	{ "daddr == \"2001:db8::/128\"", E_CONNECT6, false },
	{ "daddr != \"10.0.0.0/8\"", E_CONNECT, false },
	{ "daddr != \"192.168.0.0/16\"", E_CONNECT, true },
	{ "daddr in [\"192.168.0.0/16\", \"10.0.0.0/8\"]", E_CONNECT, true },
	{ "daddr in [\"192.168.0.0/16\", \"172.16.0.0/12\"]", E_CONNECT, false },
	{ "daddr == \"127.0.0.0/8\" && dport == 53", E_DNS, true },
	/* type names */
	{ "type == \"dns\"", E_DNS, true },
	{ "type == \"dns\"", E_DNS_BAD, true },
	{ "type != \"dns\"", E_DNS, false },
	{ "type == \"open\"", E_OPEN_META, true },
	{ "type == \"setid\" && call == \"setuid\"", E_SETID, true },
	{ "call == \"setgid\"", E_SETID, false },
	{ "call in [\"setgid\", \"setuid\"]", E_SETID, true },
	/* qtype names and numbers, family names and numbers */
	{ "qtype == \"AAAA\"", E_DNS, true },
	{ "qtype == \"aaaa\"", E_DNS, true },
	{ "qtype == 28", E_DNS, true },
	{ "qtype == \"TYPE28\"", E_DNS, true },
	{ "qtype == \"A\"", E_DNS, false },
	{ "qtype in [\"A\", \"AAAA\"]", E_DNS, true },
	{ "qtype > 1", E_DNS, true },
	{ "qname == \"example.com\" && dns_id == 4660", E_DNS, true },
	{ "qname endswith \".com\"", E_DNS, true },
	{ "family == \"inet\"", E_DNS, true },
	{ "family == 2", E_CONNECT, true },
	{ "family == \"inet6\"", E_CONNECT6, true },
	{ "family == \"inet6\"", E_CONNECT, false },
	/* metadata */
	{ "node == \"node-1\"", E_OPEN_META, true },
	{ "cgroup endswith \".service\" && cgroup startswith \"/system.slice/\"", E_OPEN_META, true },
	{ "cgroup glob \"/system.slice/*.service\"", E_OPEN_META, true },
	/* the process table's fields: strings, and ancestors a list where one match is enough */
	{ "exe == \"/usr/bin/python3\"", E_PROC, true },
	{ "exe endswith \"/python3\" && comm == \"worker\"", E_PROC, true },
	{ "exe == \"python3\"", E_PROC, false },
	{ "cmdline == \"python3 /srv/app.py --port 8080\"", E_PROC, true },
	{ "cmdline contains \"--port 8080\"", E_PROC, true },
	{ "cmdline glob \"python3 * --port *\"", E_PROC, true },
	{ "parent_exe == \"/usr/bin/bash\"", E_PROC, true },
	{ "parent_exe != \"/usr/bin/bash\"", E_PROC, false },
	{ "parent_cmdline startswith \"bash -c\"", E_PROC, true },
	{ "ancestors == \"/usr/sbin/sshd\"", E_PROC, true }, /* the second of three */
	{ "ancestors == \"/usr/lib/systemd/systemd\"", E_PROC, true }, /* the last */
	{ "ancestors == \"/usr/sbin\"", E_PROC, false },
	{ "ancestors contains \"sshd\"", E_PROC, true },
	{ "ancestors contains \"bash /usr\"", E_PROC, false }, /* each one, not them joined */
	{ "ancestors startswith \"/usr/lib/\"", E_PROC, true },
	{ "ancestors endswith \"/systemd\"", E_PROC, true },
	{ "ancestors endswith \"/init\"", E_PROC, false },
	{ "ancestors glob \"*/ss?d\"", E_PROC, true },
	{ "ancestors in [\"/bin/sh\", \"/usr/sbin/sshd\"]", E_PROC, true },
	{ "ancestors in [\"/bin/sh\", \"/bin/zsh\"]", E_PROC, false },
	{ "ancestors != \"/usr/sbin/sshd\"", E_PROC, false }, /* none of them is */
	{ "ancestors != \"/bin/sh\"", E_PROC, true },
	{ "not ancestors == \"/usr/sbin/sshd\"", E_PROC, false },
	/* the pod's fields: strings, and labels a list of "key=value" where one match is enough */
	{ "namespace == \"shop\" && pod startswith \"web-\"", E_POD, true },
	{ "namespace in [\"kube-system\", \"shop\"]", E_POD, true },
	{ "namespace != \"shop\"", E_POD, false },
	{ "workload == \"web\" && workload_kind == \"Deployment\"", E_POD, true },
	{ "pod glob \"web-*-abcde\"", E_POD, true },
	{ "labels == \"team=payments\"", E_POD, true },
	{ "labels == \"app.kubernetes.io/name=web\"", E_POD, true },
	{ "labels == \"team=search\"", E_POD, false },
	{ "labels == \"tier=\"", E_POD, true }, /* a label with an empty value */
	{ "labels startswith \"team=\"", E_POD, true }, /* the pod has the label */
	{ "labels startswith \"owner=\"", E_POD, false },
	{ "labels in [\"team=search\", \"team=payments\"]", E_POD, true },
	{ "labels != \"team=payments\"", E_POD, false }, /* none of them is: one is */
	{ "labels != \"team=search\"", E_POD, true },
	{ "labels contains \"=web\"", E_POD, true },
	{ "labels contains \"payments team\"", E_POD, false }, /* each one, not them joined */
	{ "namespace == \"shop\"", E_OPEN_META, false }, /* no pod known: absent */
	{ "namespace != \"shop\"", E_OPEN_META, false },
	{ "labels != \"x=y\"", E_OPEN_META, false },
	{ "not labels == \"x=y\"", E_OPEN_META, true },
	/* absent fields are false, whatever the operator */
	{ "exe == \"/usr/bin/curl\"", E_EXEC, false }, /* exec's path is not exe */
	{ "exe != \"x\"", E_OPEN, false },
	{ "cmdline contains \"\"", E_OPEN, false },
	{ "parent_cmdline != \"x\"", E_OPEN, false },
	{ "ancestors contains \"\"", E_OPEN, false },
	{ "ancestors != \"x\"", E_OPEN, false },
	{ "not ancestors == \"x\"", E_OPEN, true },
	{ "path == \"x\"", E_CONNECT, false },
	{ "path != \"x\"", E_CONNECT, false },
	{ "not path == \"x\"", E_CONNECT, true },
	{ "dport > 0", E_OPEN, false },
	{ "dport != 0", E_OPEN, false },
	{ "daddr == \"0.0.0.0/0\"", E_OPEN, false },
	{ "daddr != \"10.0.0.0/8\"", E_OPEN, false },
	{ "argv contains \"\"", E_OPEN, false },
	{ "argc == 0", E_OPEN, false },
	{ "ret == 0", E_FORK, false },
	{ "ret != 0", E_FORK, false },
	{ "exit_code == 0", E_OPEN, false },
	{ "node == \"node-1\"", E_OPEN, false },
	{ "node != \"node-1\"", E_OPEN, false },
	{ "container_id == \"\"", E_OPEN_META, false },
	{ "pod_uid startswith \"\"", E_OPEN_META, false },
	{ "qname == \"example.com\"", E_DNS_BAD, false }, /* not parsed: no qname */
	{ "qname != \"example.com\"", E_DNS_BAD, false },
	{ "qtype == 0", E_DNS_BAD, false },
	{ "dns_id == 0", E_DNS_BAD, false },
	{ "dport == 53", E_DNS_BAD, true },
	{ "qname == \"\"", E_CONNECT, false },
	{ "call == \"setuid\"", E_OPEN, false },
	/* precedence: not binds tightest, then and, then or */
	{ "pid == 4321 || pid == 1 && pid == 2", E_OPEN, true }, /* a || (b && c) */
	{ "(pid == 4321 || pid == 1) && pid == 2", E_OPEN, false },
	{ "pid == 1 && pid == 2 || pid == 4321", E_OPEN, true }, /* (a && b) || c */
	{ "pid == 1 && (pid == 2 || pid == 4321)", E_OPEN, false },
	{ "not pid == 1 && pid == 2", E_OPEN, false }, /* (not a) && b */
	{ "not (pid == 1 && pid == 2)", E_OPEN, true },
	{ "not pid == 4321 || pid == 4321", E_OPEN, true }, /* (not a) || b */
	{ "not (pid == 4321 || pid == 4321)", E_OPEN, false },
	{ "!pid == 1", E_OPEN, true },
	{ "!!pid == 4321", E_OPEN, true },
	{ "not not not pid == 4321", E_OPEN, false },
	{ "pid == 1 or pid == 4321 and comm == \"curl\"", E_OPEN, true },
	{ "pid == 1 or pid == 4321 and comm == \"wget\"", E_OPEN, false },
	{ "type == \"open\" && comm == \"curl\" && path startswith \"/etc/\"", E_OPEN, true },
	{ "type == \"open\" && comm == \"curl\" && path startswith \"/etc/\"", E_EXEC, false },
	{ "not (uid in [0, 1000]) or dport >= 1024", E_OPEN, false },
	{ "not (uid in [0, 1000]) or dport >= 1024", E_SETID, false },
	{ "", E_SETID, true },
};

static void test_evaluation(void **state)
{
	unsigned int checked = 0;

	for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		const struct mcase *c = &mcases[i];
		struct pg_filter_error err;
		struct pg_filter *f = pg_filter__parse(c->expr, &err);

		if (!f)
			fail_msg("case %zu: '%s' does not parse: column %zu: %s", i, c->expr, err.column,
				 err.msg);
		if (pg_filter__match(f, &events[c->ev]) != c->want)
			fail_msg("case %zu: '%s' on %s: %s, expected %s", i, c->expr, lines[c->ev],
				 c->want ? "false" : "true", c->want ? "true" : "false");
		pg_filter__free(f);
		checked++;
	}
	assert_int_equal(checked, sizeof(mcases) / sizeof(mcases[0]));
}

/* pg_filter__uses finds a field at any depth, and only where it is. */
static void test_uses(void **state)
{
	static const struct {
		const char *expr;
		bool want;
	} cases[] = {
		{ "", false },
		{ "pid == 1 && comm == \"x\" && node == \"n\"", false },
		{ "exe == \"/bin/sh\"", true },
		{ "pid == 1 && (uid == 0 || not (comm == \"x\" && ancestors contains \"sshd\"))", true },
		{ "type == \"open\" || parent_cmdline glob \"*\"", true },
		{ "argv contains \"exe\" && path endswith \"ancestors\"", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pg_filter *f = parse_ok(cases[i].expr);

		if (pg_filter__uses(f, pg_field_is_process) != cases[i].want)
			fail_msg("'%s': uses a process field: %d", cases[i].expr, !cases[i].want);
		pg_filter__free(f);
	}
}

/* A filter with every type in a list matches every event; one without a type matches none. */
static void test_every_type(void **state)
{
	struct pg_filter *all = parse_ok("type in [\"exec\", \"fork\", \"exit\", \"open\", \"connect\", \"dns\", \"setid\"]");
	struct pg_filter *none = parse_ok("type in [\"exec\"] && type in [\"open\"]");

	for (int e = 0; e < E_COUNT; e++) {
		char expr[64];
		struct pg_filter *one;

		assert_true(pg_filter__match(all, &events[e]));
		assert_false(pg_filter__match(none, &events[e]));
		snprintf(expr, sizeof(expr), "type == \"%s\"", pg_event_type_name(events[e].r.hdr.type));
		one = parse_ok(expr);
		for (int o = 0; o < E_COUNT; o++)
			assert_int_equal(pg_filter__match(one, &events[o]),
					 events[o].r.hdr.type == events[e].r.hdr.type);
		pg_filter__free(one);
	}
	pg_filter__free(all);
	pg_filter__free(none);
}

/* Flags: true when their bit is set, false when clear or when the type has no such flag. */
static void test_flags(void **state)
{
	static const struct {
		const char *expr;
		unsigned int type, flags; /* the flags word of the type's record */
		bool want;
	} cases[] = {
		{ "io_uring", PG_EV_OPEN, PG_VIA_IO_URING, true },
		{ "io_uring", PG_EV_OPEN, PG_TRUNC_PATH, false },
		{ "io_uring", PG_EV_CONNECT, PG_VIA_IO_URING, true },
		{ "io_uring", PG_EV_EXEC, PG_VIA_IO_URING, false }, /* exec has no io_uring flag */
		{ "not io_uring", PG_EV_EXEC, 0, true },
		{ "!io_uring && type == \"open\"", PG_EV_OPEN, PG_TRUNC_PATH, true },
		{ "io_uring == 0", PG_EV_OPEN, 0, true },
		{ "snapshot", PG_EV_EXEC, PG_SNAPSHOT | PG_TRUNC_ARGV, true },
		{ "snapshot", PG_EV_EXEC, PG_TRUNC_ARGV, false },
		{ "exe_unlinked && !snapshot", PG_EV_EXEC, PG_EXE_UNLINKED, true },
		{ "exe_unlinked", PG_EV_OPEN, PG_EXE_UNLINKED, false }, /* an exec flag only */
		{ "argv_truncated && path_truncated", PG_EV_EXEC, PG_TRUNC_ARGV | PG_TRUNC_PATH, true },
		{ "path_truncated", PG_EV_OPEN, PG_TRUNC_PATH | PG_VIA_IO_URING, true },
		{ "core_dumped", PG_EV_EXIT, 1, true },
		{ "core_dumped", PG_EV_EXIT, 0, false },
	};
	static const struct {
		const char *expr;
		unsigned int request;
		bool want;
	} ptrace_cases[] = {
		{ "request == \"attach\"", PG_PTRACE_ATTACH, true },
		{ "request == 16", PG_PTRACE_ATTACH, true },
		{ "request in [\"seize\", \"attach\"] && target_pid == 7", PG_PTRACE_SEIZE, true },
		{ "request == \"pokedata\"", PG_PTRACE_POKETEXT, false },
		{ "type == \"ptrace\" && request != \"traceme\" && ret == 0", PG_PTRACE_SETREGS, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pg_filter *f = parse_ok(cases[i].expr);
		struct pg_event ev;

		pg_event_init(&ev, cases[i].type);
		switch (cases[i].type) {
		case PG_EV_EXEC: ev.r.exec.flags = cases[i].flags; break;
		case PG_EV_OPEN: ev.r.open.pflags = cases[i].flags; break;
		case PG_EV_CONNECT: ev.r.connect.flags = cases[i].flags; break;
		case PG_EV_EXIT: ev.r.exit.core_dumped = cases[i].flags; break;
		}
		if (pg_filter__match(f, &ev) != cases[i].want)
			fail_msg("case %zu: '%s' on type %u flags 0x%x: expected %d", i, cases[i].expr,
				 cases[i].type, cases[i].flags, cases[i].want);
		pg_filter__free(f);
	}
	for (size_t i = 0; i < sizeof(ptrace_cases) / sizeof(ptrace_cases[0]); i++) {
		struct pg_filter *f = parse_ok(ptrace_cases[i].expr);
		struct pg_event ev;

		pg_event_init(&ev, PG_EV_PTRACE);
		ev.r.ptrace.request = ptrace_cases[i].request;
		ev.r.ptrace.target_pid = 7;
		if (pg_filter__match(f, &ev) != ptrace_cases[i].want)
			fail_msg("ptrace case %zu: '%s': expected %d", i, ptrace_cases[i].expr,
				 ptrace_cases[i].want);
		pg_filter__free(f);
	}
}

/* --- conjuncts and format ---------------------------------------------------------------- */

static void fmt(const struct pg_filter_node *n, char *buf, size_t size)
{
	pg_filter_node__format(n, buf, size);
}

static void test_conjuncts(void **state)
{
	const struct pg_filter_node *out[8];
	struct pg_filter *f;
	char buf[256];
	size_t n;

	f = parse_ok("type == \"open\" && (comm == \"curl\" || comm == \"wget\") && path startswith \"/etc/\"");
	n = pg_filter__conjuncts(f, out, 8);
	assert_int_equal(n, 3);
	fmt(out[0], buf, sizeof(buf));
	assert_string_equal(buf, "type == \"open\"");
	fmt(out[1], buf, sizeof(buf));
	assert_string_equal(buf, "(comm == \"curl\" || comm == \"wget\")");
	fmt(out[2], buf, sizeof(buf));
	assert_string_equal(buf, "path startswith \"/etc/\"");
	assert_int_equal(out[0]->op, PG_FOP_CMP);
	assert_ptr_equal(out[0]->field, pg_field_lookup("type", 4));
	assert_int_equal(out[0]->vals[0].num, PG_EV_OPEN);
	assert_int_equal(out[0]->column, 1);
	assert_int_equal(out[2]->column, 57);

	/* fewer slots than conjuncts: the count is still the whole */
	out[1] = NULL;
	assert_int_equal(pg_filter__conjuncts(f, out, 1), 3);
	assert_null(out[1]);
	assert_int_equal(pg_filter__conjuncts(f, NULL, 0), 3);
	pg_filter__free(f);

	/* parentheses group conjuncts the same way */
	f = parse_ok("(pid == 1 && tid == 2) && (uid == 3 && gid == 4)");
	assert_int_equal(pg_filter__conjuncts(f, out, 8), 4);
	pg_filter__free(f);

	f = parse_ok("pid == 1 || tid == 2");
	assert_int_equal(pg_filter__conjuncts(f, out, 8), 1);
	assert_int_equal(out[0]->op, PG_FOP_OR);
	pg_filter__free(f);

	f = parse_ok("not (pid == 1 && tid == 2)");
	assert_int_equal(pg_filter__conjuncts(f, out, 8), 1);
	assert_int_equal(out[0]->op, PG_FOP_NOT);
	pg_filter__free(f);

	f = parse_ok("pid == 1");
	assert_int_equal(pg_filter__conjuncts(f, out, 8), 1);
	pg_filter__free(f);

	f = parse_ok("");
	assert_int_equal(pg_filter__conjuncts(f, out, 8), 0);
	pg_filter__free(f);
}

static void test_format(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "pid==1", "pid == 1" },
		{ "pid == 1 || pid == 2 && pid == 3", "(pid == 1 || (pid == 2 && pid == 3))" },
		{ "(pid == 1 || pid == 2) && pid == 3", "((pid == 1 || pid == 2) && pid == 3)" },
		{ "pid == 1 || pid == 2 || pid == 3", "(pid == 1 || pid == 2 || pid == 3)" },
		{ "pid == 1 && pid == 2 && pid == 3 || pid == 4", "((pid == 1 && pid == 2 && pid == 3) || pid == 4)" },
		/* an || inside an || is one ||: the same conjuncts, a shallower tree */
		{ "pid == 1 || (pid == 2 || pid == 3)", "(pid == 1 || pid == 2 || pid == 3)" },
		{ "(pid == 1 && pid == 2) && (pid == 3 && pid == 4)",
		  "(pid == 1 && pid == 2 && pid == 3 && pid == 4)" },
		{ "not pid == 1", "!pid == 1" },
		{ "not (pid == 1 or tid == 2)", "!(pid == 1 || tid == 2)" },
		{ "mode == 0644", "mode == 420" },
		{ "flags == 0x10", "flags == 16" },
		{ "ret == -2", "ret == -2" },
		{ "type in ['open', 'exec']", "type in [\"open\", \"exec\"]" },
		{ "pid in (1)", "pid in [1]" },
		{ "qtype == \"AAAA\"", "qtype == \"AAAA\"" },
		{ "qtype == 28", "qtype == 28" },
		{ "family == 'inet6'", "family == \"inet6\"" },
		{ "daddr == \"10.0.0.0/8\"", "daddr == \"10.0.0.0/8\"" },
		{ "path glob '/etc/*'", "path glob \"/etc/*\"" },
		{ "comm == 'a\"b\\\\c'", "comm == \"a\\\"b\\\\c\"" },
		{ "comm == \"\\n\\t\\x01\\x7f\"", "comm == \"\\x0a\\x09\\x01\\x7f\"" },
		{ "path == \"caf\xc3\xa9\\xff\"", "path == \"caf\\xc3\\xa9\\xff\"" },
		{ "io_uring", "io_uring" },
		{ "io_uring == 1", "io_uring" },
		{ "not io_uring", "!io_uring" },
		{ "snapshot == 0 && core_dumped", "(snapshot == 0 && core_dumped)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pg_filter *f = parse_ok(cases[i].in), *g;
		char buf[256], again[256];

		fmt(f->root, buf, sizeof(buf));
		if (strcmp(buf, cases[i].out))
			fail_msg("case %zu: '%s' formats as '%s', expected '%s'", i, cases[i].in, buf,
				 cases[i].out);
		/* the format is the language: it parses to a filter that formats the same */
		g = parse_ok(buf);
		fmt(g->root, again, sizeof(again));
		assert_string_equal(again, buf);
		for (int e = 0; e < E_COUNT; e++)
			assert_int_equal(pg_filter__match(f, &events[e]), pg_filter__match(g, &events[e]));
		pg_filter__free(f);
		pg_filter__free(g);
	}

	/* a buffer too small is cut and terminated */
	struct pg_filter *f = parse_ok("comm in [\"aaaaaaaa\", \"bbbbbbbb\", \"cccccccc\"]");
	char small[12];

	memset(small, 'x', sizeof(small));
	/* ... and the length of the whole text comes back, as from snprintf */
	assert_int_equal(pg_filter_node__format(f->root, small, sizeof(small)), 44);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "comm in [\"a", 11);
	assert_int_equal(pg_filter_node__format(f->root, small, 0), 44); /* nothing written */
	assert_int_equal(small[0], 'c');
	pg_filter__free(f);
}

/* --- filters built from other filters' nodes --------------------------------------------- */

static char *to_text(const struct pg_filter *f)
{
	char *t = pg_filter__to_text(f);

	assert_non_null(t);
	return t;
}

static void assert_same_decisions(const struct pg_filter *a, const struct pg_filter *b)
{
	for (int e = 0; e < E_COUNT; e++)
		if (pg_filter__match(a, &events[e]) != pg_filter__match(b, &events[e]))
			fail_msg("event %d: %d, %d", e, pg_filter__match(a, &events[e]),
				 pg_filter__match(b, &events[e]));
}

static void test_to_text(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "pid==1", "pid == 1" },
		/* the conjuncts without parentheses around them all; an || keeps its own */
		{ "pid == 1 && (tid == 2 || tid == 3) && comm == 'x'",
		  "pid == 1 && (tid == 2 || tid == 3) && comm == \"x\"" },
		{ "pid == 1 || tid == 2", "(pid == 1 || tid == 2)" },
		{ "not (pid == 1 && tid == 2)", "!(pid == 1 && tid == 2)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pg_filter *f = parse_ok(cases[i].in), *g;
		char *t = to_text(f), *again;

		if (strcmp(t, cases[i].out))
			fail_msg("'%s' is '%s' as text, expected '%s'", cases[i].in, t,
				 cases[i].out);
		g = parse_ok(t);
		again = to_text(g);
		assert_string_equal(again, t);
		assert_same_decisions(f, g);
		free(again);
		free(t);
		pg_filter__free(g);
		pg_filter__free(f);
	}
}

static void test_clone_and_from_conjuncts(void **state)
{
	struct pg_filter *f = parse_ok("type == \"open\" && "
				       "(comm in ['a\"b', 'curl'] || daddr == '10.0.0.0/8') && "
				       "!(path endswith '.so' && uid != 0) && io_uring");
	const struct pg_filter_node *conj[8];
	struct pg_filter_node *c;
	struct pg_filter *g;
	char a[512], b[512];
	char *t, *u;
	size_t n = pg_filter__conjuncts(f, conj, 8);

	assert_int_equal(n, 4);
	/* a clone is equal and shares no memory with the original */
	c = pg_filter_node__clone(f->root);
	assert_non_null(c);
	pg_filter_node__format(f->root, a, sizeof(a));
	pg_filter_node__format(c, b, sizeof(b));
	assert_string_equal(a, b);
	assert_ptr_not_equal(c->sub[1]->sub[0]->vals[0].str, f->root->sub[1]->sub[0]->vals[0].str);
	assert_int_equal(c->sub[1]->sub[0]->column, f->root->sub[1]->sub[0]->column);
	pg_filter_node__free(c);
	pg_filter_node__free(NULL);

	/* all the conjuncts again are the filter again */
	g = pg_filter__from_conjuncts(conj, n);
	assert_non_null(g);
	assert_null(g->source);
	t = to_text(f);
	u = to_text(g);
	assert_string_equal(t, u);
	assert_same_decisions(f, g);
	free(u);
	pg_filter__free(g);

	/* one conjunct is itself; none is the empty filter */
	g = pg_filter__from_conjuncts(&conj[1], 1);
	u = to_text(g);
	assert_string_equal(u, "(comm in [\"a\\\"b\", \"curl\"] || daddr == \"10.0.0.0/8\")");
	free(u);
	pg_filter__free(g);
	g = pg_filter__from_conjuncts(NULL, 0);
	assert_int_equal(g->root->op, PG_FOP_TRUE);
	assert_int_equal(pg_filter__conjuncts(g, NULL, 0), 0);
	pg_filter__free(g);
	/* an empty filter's root among them adds nothing */
	struct pg_filter *empty = parse_ok("");
	const struct pg_filter_node *with_true[] = { empty->root, conj[0], empty->root };

	g = pg_filter__from_conjuncts(with_true, 3);
	u = to_text(g);
	assert_string_equal(u, "type == \"open\"");
	free(u);
	pg_filter__free(g);
	g = pg_filter__from_conjuncts(with_true, 1);
	assert_int_equal(g->root->op, PG_FOP_TRUE);
	pg_filter__free(g);
	pg_filter__free(empty);

	/* an && among the conjuncts given is spliced in: the result is one flat && */
	struct pg_filter *h = parse_ok("pid == 1 && tid == 2");
	const struct pg_filter_node *mix[] = { h->root, conj[0] };

	g = pg_filter__from_conjuncts(mix, 2);
	assert_int_equal(pg_filter__conjuncts(g, NULL, 0), 3);
	u = to_text(g);
	assert_string_equal(u, "pid == 1 && tid == 2 && type == \"open\"");
	free(u);
	pg_filter__free(g);
	pg_filter__free(h);
	free(t);
	pg_filter__free(f);
}

/*
 * Stack: what the deepest and the longest filters take, measured. The work runs on a thread
 * whose stack is painted first and has an inaccessible page below it: running out would be a
 * crash here, not a silent overwrite, and the paint left untouched says how much was used.
 */
#define STACK_SIZE (256 * 1024)
#define STACK_PAINT 0xa5

struct stack_job {
	const char *expr;
	size_t conjuncts; /* expected */
	bool match; /* expected for events[E_OPEN] */
};

static void *stack_job(void *arg)
{
	struct stack_job *j = arg;
	struct pg_filter_error err;
	struct pg_filter *f = pg_filter__parse(j->expr, &err), *g;
	const struct pg_filter_node **conj;
	size_t n;
	char *t;

	if (!f) {
		fprintf(stderr, "column %zu: %s\n", err.column, err.msg);
		return "does not parse";
	}
	if (pg_filter__match(f, &events[E_OPEN]) != j->match)
		return "wrong match";
	n = pg_filter__conjuncts(f, NULL, 0);
	if (n != j->conjuncts)
		return "wrong number of conjuncts";
	conj = calloc(n, sizeof(*conj));
	pg_filter__conjuncts(f, conj, n);
	g = pg_filter__from_conjuncts(conj, n);
	t = pg_filter__to_text(g);
	pg_filter_node__format(f->root, NULL, 0);
	if (pg_filter__match(g, &events[E_OPEN]) != j->match)
		return "wrong match from the conjuncts";
	pg_filter__free(g);
	g = pg_filter__parse(t, &err); /* the text parses back */
	if (!g || pg_filter__match(g, &events[E_OPEN]) != j->match)
		return "text does not parse back to the same";
	pg_filter__free(g);
	free(t);
	free(conj);
	pg_filter__free(f);
	return NULL;
}

/* Run j on a painted, guarded stack; returns the bytes of it used. */
static size_t stack_used(struct stack_job *j)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *mem = mmap(NULL, STACK_SIZE + page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *stack = mem + page;
	pthread_attr_t attr;
	pthread_t t;
	void *res;
	size_t untouched = 0;

	assert_true(mem != MAP_FAILED);
	assert_int_equal(mprotect(mem, page, PROT_NONE), 0);
	memset(stack, STACK_PAINT, STACK_SIZE);
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstack(&attr, stack, STACK_SIZE), 0);
	assert_int_equal(pthread_create(&t, &attr, stack_job, j), 0);
	assert_int_equal(pthread_join(t, &res), 0);
	pthread_attr_destroy(&attr);
	if (res)
		fail_msg("%.60s...: %s", j->expr, (const char *)res);
	while (untouched < STACK_SIZE && stack[untouched] == STACK_PAINT)
		untouched++;
	munmap(mem, STACK_SIZE + page);
	return STACK_SIZE - untouched;
}

static void test_stack_is_bounded(void **state)
{
	size_t n = 0, used[4];
	char *expr = malloc(100000 * 24);
	struct stack_job j;

	/* 10,000 conjuncts, 100,000 disjuncts: long, one level deep */
	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(expr + n, "%spath != \"/x/%d\"", i ? " && " : "", i);
	j = (struct stack_job){ expr, 10000, true };
	used[0] = stack_used(&j);
	n = 0;
	for (int i = 0; i < 100000; i++)
		n += (size_t)sprintf(expr + n, "%spid == %d", i ? " || " : "", i + 10000);
	j = (struct stack_job){ expr, 1, false };
	used[1] = stack_used(&j);

	/* as deep as the parser takes: an && and an || at each of 63 levels of parentheses */
	n = 0;
	for (int i = 0; i < 63; i++)
		n += (size_t)sprintf(expr + n, "pid == %d %s (tid == 1 %s ", i, i % 2 ? "||" : "&&",
				     i % 2 ? "&&" : "||");
	n += (size_t)sprintf(expr + n, "uid == 7");
	for (int i = 0; i < 63; i++)
		n += (size_t)sprintf(expr + n, ")");
	j = (struct stack_job){ expr, 2, false };
	used[2] = stack_used(&j);
	/* and 62 nots around a parenthesis: 64 levels */
	n = 0;
	for (int i = 0; i < 62; i++)
		n += (size_t)sprintf(expr + n, "not ");
	sprintf(expr + n, "(pid == 1 || tid == 1)");
	j = (struct stack_job){ expr, 1, false };
	used[3] = stack_used(&j);
	print_message("stack used: %zu bytes (10,000 conjuncts), %zu (100,000 disjuncts), "
		      "%zu (63 levels of && and ||), %zu (62 nots and a parenthesis)\n",
		      used[0], used[1], used[2], used[3]);
	/* long is not deep: a chain takes no more stack than one comparison nested a level */
	assert_true(used[0] < used[2] && used[1] < used[2]);
	free(expr);
}

/* A long filter's error shows the part around the column, so the caret is on screen. */
static void test_error_in_a_long_filter(void **state)
{
	size_t n = 0;
	char *expr = malloc(10000 * 24);
	char buf[1024];
	struct pg_filter_error err;

	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(expr + n, "%spath != \"/x/%d\"", i ? " && " : "", i);
	strcpy(strstr(expr, "/x/5000\"") - 9, "path = \"/x/5000\" && pid == 1");
	assert_null(pg_filter__parse(expr, &err));
	pg_filter_error__format(expr, &err, buf, sizeof(buf));
	const char *line = strchr(buf, '\n') + 1, *caret = strchr(line, '\n') + 1;

	assert_memory_equal(buf, "column ", 7);
	assert_memory_equal(line, "  ...", 5);
	assert_true(strlen(buf) < 300);
	/* the caret sits under the '=' */
	assert_int_equal(line[strchr(caret, '^') - caret], '=');
	assert_int_equal(line[strchr(caret, '^') - caret + 1], ' ');
	free(expr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),	     cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nesting_limit), cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_evaluation),   cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_conjuncts),    cmocka_unit_test(test_format),
		cmocka_unit_test(test_flags),	      cmocka_unit_test(test_to_text),
		cmocka_unit_test(test_clone_and_from_conjuncts),
		cmocka_unit_test(test_stack_is_bounded), cmocka_unit_test(test_uses),
		cmocka_unit_test(test_error_in_a_long_filter),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
