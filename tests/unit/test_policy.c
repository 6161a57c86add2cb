// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Policies: the YAML loader (every malformed input refused with file:line:column), the kernel
 * plan (what the kernel cannot decide is refused and named; what it can is decided exactly as
 * the rules' own filters decide it), and the policy stage (names, alert rules, slots).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gen_event.h"
#include "pipeline.h"
#include "policy.h"

static struct pg_policy_set *parse_ok(const char *yaml)
{
	struct pg_policy_set *set = pg_policy_set__new();
	char err[1024];
	int rc;

	assert_non_null(set);
	rc = pg_policy_set__parse(set, "t.yaml", yaml, strlen(yaml), err, sizeof(err));
	if (rc)
		fail_msg("parse failed (%d): %s\n%s", rc, err, yaml);
	return set;
}

/* The error of a text that must not load; the set must stay as it was. */
static int parse_err(const char *yaml, size_t len, char *err, size_t errlen)
{
	struct pg_policy_set *set = pg_policy_set__new();
	int rc;

	assert_non_null(set);
	rc = pg_policy_set__parse(set, "t.yaml", yaml, len, err, errlen);
	assert_int_not_equal(rc, 0);
	assert_int_equal(set->n, 0);
	assert_int_equal(set->nrules, 0);
	pg_policy_set__free(set);
	return rc;
}

static const char example[] =
	"name: protect-secrets\n"
	"mode: enforce            # enforce (default) | monitor\n"
	"rules:\n"
	"  - name: shadow\n"
	"    match: type == \"open\" && path in [\"/etc/shadow\", \"/etc/gshadow\"] && uid != 0\n"
	"    action: deny\n"
	"  - name: no-exec-from-tmp\n"
	"    match: type == \"exec\" && (path startswith \"/tmp/\" || exe_unlinked)\n"
	"    action: kill\n"
	"    signal: 9\n"
	"  - name: curl\n"
	"    description: who fetches what\n"
	"    match: 'comm == \"curl\"'\n"
	"    action: alert\n";

static void test_load_example(void **state)
{
	struct pg_policy_set *set = parse_ok(example);
	const struct pg_policy *p;

	assert_int_equal(set->n, 1);
	assert_int_equal(set->nrules, 3);
	p = set->policies[0];
	assert_string_equal(p->name, "protect-secrets");
	assert_string_equal(p->file, "t.yaml");
	assert_false(p->monitor);
	assert_int_equal(p->nrules, 3);
	assert_string_equal(p->rules[0].name, "shadow");
	assert_int_equal(p->rules[0].action, PG_RULE_DENY);
	assert_int_equal(p->rules[0].signal, 9);
	assert_int_equal(p->rules[0].match_line, 5);
	assert_int_equal(p->rules[0].match_column, 12);
	assert_true(p->rules[0].match_exact);
	assert_int_equal(p->rules[1].action, PG_RULE_KILL);
	assert_int_equal(p->rules[2].action, PG_RULE_ALERT);
	assert_string_equal(p->rules[2].description, "who fetches what");
	assert_string_equal(p->rules[2].match_text, "comm == \"curl\"");
	assert_int_equal(p->rules[2].match_column, 13); /* inside the quote */
	assert_ptr_equal(p->rules[2].policy, p);
	pg_policy_set__free(set);
}

static void test_several_documents_and_signals(void **state)
{
	struct pg_policy_set *set =
		parse_ok("name: a\nmode: monitor\nrules:\n"
			 "  - {name: r, match: 'type == \"open\"', action: kill, signal: SIGTERM}\n"
			 "---\nname: b\nrules: []\n"
			 "---\nname: c\nrules:\n  - name: x\n    match: type == \"exec\"\n"
			 "    action: kill\n    signal: HUP\n");

	assert_int_equal(set->n, 3);
	assert_true(set->policies[0]->monitor);
	assert_int_equal(set->policies[0]->rules[0].signal, 15);
	assert_int_equal(set->policies[1]->nrules, 0);
	assert_int_equal(set->policies[2]->rules[0].signal, 1);
	pg_policy_set__free(set);
}

/* Malformed inputs: the message and where it points. */
static const struct {
	const char *yaml;
	const char *err; /* the start of the error */
	const char *also; /* a part of the rest (NULL: none asked for) */
} bad[] = {
	{ "name: p\nrules:\n  - name: r\n    actoin: kill\n",
	  "t.yaml:4:5: unknown key 'actoin' in a rule",
	  "(name, match, action, signal, description)" },
	{ "name: p\nrulez: []\n", "t.yaml:2:1: unknown key 'rulez' in a policy", NULL },
	{ "name: [p]\nrules: []\n", "t.yaml:1:7: name: expected a value, found a list", NULL },
	{ "name: p\nrules: kill\n", "t.yaml:2:8: rules: expected a list of rules, found a value",
	  NULL },
	{ "name: p\nrules:\n  - kill\n", "t.yaml:3:5: rules: each rule is a mapping", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: {a: b}\n    action: kill\n",
	  "t.yaml:4:12: match: expected a value, found a mapping", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"open\"\n    action: alert\n"
	  "  - name: r\n    match: type == \"exec\"\n    action: alert\n",
	  "t.yaml:6:5: policy p has two rules named 'r'", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: \"\"\n    action: kill\n",
	  "t.yaml:4:12: match is empty", NULL },
	{ "name: p\nrules:\n  - name: r\n    match:\n    action: kill\n",
	  "t.yaml:4:11: match has no value", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"open\" &&\n    action: kill\n",
	  "t.yaml:4:29: match: expected a field name", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: 'type == \"open\" && pathh == \"x\"'\n    action: kill\n",
	  "t.yaml:4:31: match: unknown field 'pathh'", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: |\n      type == \"open\" &&\n      x\n    action: kill\n",
	  "t.yaml:4:12: match: unknown field 'x'", "(column 19 of the match)" },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"open\"\n    action: block\n",
	  "t.yaml:5:13: action 'block' is not one of alert, kill, deny", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"open\"\n    action: deny\n    signal: 15\n",
	  "t.yaml:6:13: rule r: signal is for kill rules only", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"open\"\n    action: kill\n    signal: 99\n",
	  "t.yaml:6:13: signal '99' is not a signal", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"open\"\n    action: kill\n    signal: NOPE\n",
	  "t.yaml:6:13: signal 'NOPE' is not a signal", NULL },
	{ "name: p\nrules:\n  - match: type == \"open\"\n    action: kill\n",
	  "t.yaml:3:5: a rule needs a name", NULL },
	{ "name: p\nrules:\n  - name: r\n    action: kill\n", "t.yaml:3:5: rule r has no match",
	  NULL },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"open\"\n",
	  "t.yaml:3:5: rule r has no action", NULL },
	{ "rules: []\n", "t.yaml:1:1: a policy needs a name", NULL },
	{ "name: p\n", "t.yaml:1:1: policy p has no rules", NULL },
	{ "name: p\nname: q\nrules: []\n", "t.yaml:2:1: key 'name' appears twice", NULL },
	{ "name: p\nmode: audit\nrules: []\n", "t.yaml:2:7: mode 'audit' is not enforce or monitor",
	  NULL },
	{ "name: p q\nrules: []\n", "t.yaml:1:7: policy name 'p q': use letters, digits", NULL },
	{ "name: p\nrules: [\n", "t.yaml:", "not valid YAML" },
	{ "name: 'p\nrules: []\n", "t.yaml:", "not valid YAML: found unexpected end of stream" },
	{ "\tname: p\n", "t.yaml:1:1: not valid YAML", NULL },
	{ "name: &n p\nrules: []\n", "t.yaml:1:7: anchors (&n) are not supported", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: *m\n",
	  "t.yaml:4:12: aliases (*m) are not supported", NULL },
	{ "name: !!str p\nrules: []\n",
	  "t.yaml:1:7: tags (tag:yaml.org,2002:str) are not supported", NULL },
	{ "", "t.yaml:1:1: no policy in this file", NULL },
	{ "# only a comment\n", "t.yaml:1:1: no policy in this file", NULL },
	{ "---\n", "t.yaml:2:1: a policy is a mapping (name, mode, rules), found an empty document",
	  NULL },
	{ "- name: p\n", "t.yaml:1:1: a policy is a mapping (name, mode, rules), found a list",
	  NULL },
	{ "name: p\nrules: []\n---\nname: p\nrules: []\n",
	  "t.yaml:4:1: policy 'p' is already defined at t.yaml:1:1", NULL },
	{ "name: p\nrules:\n  - name: r\n    match: type == \"\xff\"\n",
	  "t.yaml:", "not valid YAML" },
};

static void test_malformed(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[1024];

		parse_err(bad[i].yaml, strlen(bad[i].yaml), err, sizeof(err));
		if (strncmp(err, bad[i].err, strlen(bad[i].err)) ||
		    (bad[i].also && !strstr(err, bad[i].also)))
			fail_msg("case %zu: got \"%s\", want \"%s...%s\"", i, err, bad[i].err,
				 bad[i].also ? bad[i].also : "");
	}
}

/* A NUL byte is not text: libyaml stops there, or the value says so. */
static void test_nul_byte(void **state)
{
	static const char yaml[] =
		"name: p\nrules:\n  - name: r\n    match: \"type\\0\"\n    action: kill\n";
	static const char raw[] = "name: p\0\nrules: []\n";
	char err[1024];

	parse_err(yaml, sizeof(yaml) - 1, err, sizeof(err));
	assert_non_null(strstr(err, "t.yaml:4:12: match holds a NUL byte"));
	parse_err(raw, sizeof(raw) - 1, err, sizeof(err));
	assert_non_null(strstr(err, "not valid YAML"));
}

/* A billion laughs never expands: the first alias is refused, at once. */
static void test_alias_bomb(void **state)
{
	char yaml[4096] = "a: &a [x, x, x, x, x, x, x, x, x]\n";
	char err[1024];

	for (char c = 'b'; c <= 'j'; c++) {
		size_t n = strlen(yaml);

		snprintf(yaml + n, sizeof(yaml) - n,
			 "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c, c - 1,
			 c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	}
	parse_err(yaml, strlen(yaml), err, sizeof(err));
	assert_non_null(strstr(err, "t.yaml:1:1: unknown key 'a' in a policy"));
	parse_err(yaml + strlen("a: &a [x, x, x, x, x, x, x, x, x]\n"), 40, err, sizeof(err));
}

/* Deep nesting costs libyaml heap, not our stack, and is an error at its first level. */
static void test_deep_nesting(void **state)
{
	size_t depth = 100000, n = 0;
	char *yaml = malloc(2 * depth + 64), err[1024];

	assert_non_null(yaml);
	n += (size_t)sprintf(yaml, "name: p\nrules: ");
	for (size_t i = 0; i < depth; i++)
		yaml[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		yaml[n++] = ']';
	parse_err(yaml, n, err, sizeof(err));
	assert_non_null(strstr(err, "t.yaml:2:9: rules: each rule is a mapping"));
	free(yaml);
}

static void test_huge_documents(void **state)
{
	size_t big = PG_POLICY_FILE_MAX + 1;
	char *yaml = malloc(big), err[1024];
	size_t n = 0;

	assert_non_null(yaml);
	memset(yaml, '#', big);
	assert_int_equal(parse_err(yaml, big, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "at most 16 MiB"));
	/* more rules than a set may hold */
	n += (size_t)sprintf(yaml, "name: p\nrules:\n");
	for (int i = 0; i <= PG_POLICY_RULES_MAX; i++)
		n += (size_t)sprintf(
			yaml + n, "  - {name: r%d, match: type == \"open\", action: alert}\n", i);
	assert_int_equal(parse_err(yaml, n, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "more than 10000 rules"));
	free(yaml);
}

/* A second file cannot reuse a policy name; a failed parse leaves the set as it was. */
static void test_set_is_transactional(void **state)
{
	struct pg_policy_set *set = parse_ok("name: p\nrules: []\n");
	const char *two = "name: q\nrules: []\n---\nname: p\nrules: []\n";
	char err[1024];

	assert_int_equal(pg_policy_set__parse(set, "u.yaml", two, strlen(two), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "u.yaml:4:1: policy 'p' is already defined at t.yaml:1:1");
	assert_int_equal(set->n, 1);
	pg_policy_set__free(set);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_directory(void **state)
{
	char dir[] = "/tmp/pg-policy-XXXXXX", err[1024], path[512];
	struct pg_policy_set *set = pg_policy_set__new();

	assert_non_null(mkdtemp(dir));
	write_file(dir, "b.yaml", "name: b\nrules: []\n");
	write_file(dir, "a.yaml", "name: a\nrules: []\n");
	write_file(dir, ".#c.yaml", "garbage: [\n");
	write_file(dir, "d.yml", "garbage: [\n");
	write_file(dir, "notes.txt", "garbage: [\n");
	assert_int_equal(pg_policy_set__load(set, dir, err, sizeof(err)), 0);
	assert_int_equal(set->n, 2);
	assert_string_equal(set->policies[0]->name, "a");
	assert_string_equal(set->policies[1]->name, "b");
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	assert_string_equal(set->policies[0]->file, path);
	pg_policy_set__free(set);

	/* one bad file: nothing of the directory is loaded */
	write_file(dir, "c.yaml", "name: c\nrules: 7\n");
	set = pg_policy_set__new();
	assert_int_equal(pg_policy_set__load(set, dir, err, sizeof(err)), -EINVAL);
	snprintf(path, sizeof(path), "%s/c.yaml:2:8: rules: expected a list", dir);
	assert_non_null(strstr(err, path));
	assert_int_equal(set->n, 0);
	assert_int_equal(set->nrules, 0);
	assert_int_equal(pg_policy_set__load(set, "/nonexistent/p.yaml", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/p.yaml: No such file"));
	pg_policy_set__free(set);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

/* --- the kernel plan ---------------------------------------------------------------------- */

/* A small cgroup tree: paths, ids and depths. */
static const struct {
	const char *path;
	uint64_t id;
	unsigned int level;
	int parent; /* index, -1 for the root */
} cgs[] = {
	{ "/", 1, 0, -1 },  { "/a", 11, 1, 0 },	  { "/a/b", 12, 2, 1 }, { "/a/b/c", 13, 3, 2 },
	{ "/d", 21, 1, 0 }, { "/d/e", 22, 2, 4 }, { "/ab", 31, 1, 0 },
};
#define NCG (sizeof(cgs) / sizeof(cgs[0]))

static int fake_cgroup(void *ctx, const char *path, uint64_t *id, unsigned int *level)
{
	for (size_t i = 0; i < NCG; i++)
		if (!strcmp(cgs[i].path, path)) {
			*id = cgs[i].id;
			*level = cgs[i].level;
			return 0;
		}
	return -ENOENT;
}

static struct pg_policy_env env_host(void)
{
	struct pg_policy_env env = { .cgroup = fake_cgroup };

	env.mech[PG_EV_EXEC] = env.mech[PG_EV_OPEN] = env.mech[PG_EV_SETID] =
		env.mech[PG_EV_PTRACE] = PG_MECH_SIGNAL;
	env.mech[PG_EV_CONNECT] = env.mech[PG_EV_DNS] = PG_MECH_CGROUP;
	return env;
}

/* Slots by position, as the stage would give them. */
static void number_rules(struct pg_policy_set *set)
{
	uint32_t slot = 0;

	for (size_t p = 0; p < set->n; p++)
		for (size_t i = 0; i < set->policies[p]->nrules; i++)
			set->policies[p]->rules[i].slot = slot++;
}

static int plan_text(const char *yaml, struct pg_policy_plan *pl, char *err, size_t errlen)
{
	struct pg_policy_set *set = parse_ok(yaml);
	struct pg_policy_env env = env_host();
	int rc;

	number_rules(set);
	rc = pg_policy_plan__build(pl, set, &env, err, errlen);
	pg_policy_plan__release(pl);
	pg_policy_set__free(set);
	return rc;
}

static const struct {
	const char *match;
	const char *action;
	const char *err;
} refused[] = {
	{ "type == \"open\" && pod_uid == \"0a1b\"", "kill",
	  "t.yaml:4:31: rule r: 'pod_uid == \"0a1b\"' cannot be decided in the kernel: pods and containers are named in userspace" },
	{ "type == \"open\" && container_id == \"0a1b\"", "deny",
	  "t.yaml:4:31: rule r: 'container_id == \"0a1b\"' cannot be decided in the kernel" },
	{ "type == \"exec\" && argv contains \"-c\"", "kill",
	  "t.yaml:4:31: rule r: 'argv contains \"-c\"' cannot be decided in the kernel: the kernel decides type, uid" },
	{ "type == \"open\" && uid < 1000", "kill",
	  "t.yaml:4:31: rule r: 'uid < 1000' cannot be decided in the kernel: there the kernel compares it with ==" },
	{ "type == \"open\" && ret < 0", "kill",
	  "'ret < 0' cannot be decided in the kernel: the result is known only after" },
	{ "type == \"open\" && pid == 1", "kill",
	  "'pid == 1' cannot be decided in the kernel: pids are reused" },
	{ "type == \"open\" && path glob \"/etc/*\"", "deny",
	  "'path glob \"/etc/*\"' cannot be decided" },
	{ "type == \"open\" && path contains \"shadow\"", "deny",
	  "'path contains \"shadow\"' cannot be decided" },
	{ "type == \"exec\" && comm == \"sh\"", "kill",
	  "'comm == \"sh\"' cannot be decided in the kernel for exec events: an exec's comm is the new program's" },
	{ "type == \"dns\" && comm == \"curl\"", "deny",
	  "'comm == \"curl\"' cannot be decided in the kernel for dns events: a DNS query is decided on its packet" },
	{ "type == \"dns\" && qname endswith \"evil.com\"", "deny",
	  "'qname endswith \"evil.com\"' cannot be decided in the kernel: the kernel matches whole labels" },
	{ "type == \"dns\" && qname == \"evil.com.\"", "deny", "without the final dot" },
	{ "type == \"open\" && cgroup startswith \"/a\"", "kill",
	  "'cgroup startswith \"/a\"' cannot be decided in the kernel: the kernel matches whole cgroups" },
	{ "type == \"open\" && cgroup == \"/nope\"", "kill",
	  "t.yaml:4:31: rule r: 'cgroup == \"/nope\"': no cgroup /nope here (No such file or directory)" },
	{ "type == \"open\" && comm == \"a-name-longer-than-15\"", "kill",
	  "a comm holds 15 bytes at most" },
	{ "type == \"open\" && path startswith \"\"", "kill", "an empty prefix is every path" },
	{ "type == \"open\" && exe endswith \"/curl\"", "kill",
	  "'exe endswith \"/curl\"' cannot be decided in the kernel: there the kernel compares it" },
	{ "type == \"open\" && ancestors == \"/bin/sh\"", "kill",
	  "the kernel keeps each process's program and its parent's, no more: match exe or parent_exe" },
	{ "type == \"dns\" && parent_exe == \"/bin/sh\"", "deny",
	  "cannot be decided in the kernel for dns events" },
	{ "uid == 0", "kill", "t.yaml:3:5: rule r: a kill rule must say which events it is for" },
	{ "type == \"fork\"", "kill", "t.yaml:3:5: rule r: matches no event the kernel acts on" },
	{ "type == \"open\" && daddr == \"10.0.0.0/8\"", "deny",
	  "matches no event the kernel acts on" },
	{ "type == \"open\" && (uid == 1 || uid == 2) && (gid == 1 || comm == \"a\")", "kill",
	  "'gid == 1' cannot be decided in the kernel" },
	{ "type == \"open\" && (uid == 1 || comm == \"a\") && (uid == 2 || comm == \"b\") && "
	  "(uid == 3 || comm == \"c\") && (uid == 4 || comm == \"d\") && (uid == 5 || comm == \"e\") && "
	  "(uid == 6 || comm == \"f\") && (uid == 7 || comm == \"g\")",
	  "kill", "the match becomes more than 64 kernel rules for open events" },
};

static void test_plan_refuses_what_the_kernel_cannot_decide(void **state)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct pg_policy_plan pl;
		char yaml[1024], err[1024];

		snprintf(yaml, sizeof(yaml),
			 "name: p\nrules:\n  - name: r\n    match: '%s'\n    action: %s\n",
			 refused[i].match, refused[i].action);
		if (plan_text(yaml, &pl, err, sizeof(err)) != -EINVAL)
			fail_msg("case %zu: planned, but should be refused: %s", i,
				 refused[i].match);
		if (!strstr(err, refused[i].err))
			fail_msg("case %zu: got \"%s\", want \"...%s...\"", i, err, refused[i].err);
	}
}

static void test_plan_takes_alert_rules_as_they_are(void **state)
{
	struct pg_policy_plan pl;
	char err[1024];

	assert_int_equal(
		plan_text(
			"name: p\nrules:\n  - name: r\n    match: pod_uid == \"x\" && argv contains \"y\"\n"
			"    action: alert\n",
			&pl, err, sizeof(err)),
		0);
}

static void test_plan_layout(void **state)
{
	struct pg_policy_set *set = parse_ok(
		"name: m\nmode: monitor\nrules:\n"
		"  - {name: w, match: 'type == \"open\" && path == \"/x\"', action: kill}\n"
		"---\nname: e\nrules:\n"
		"  - {name: k, match: 'type in [\"open\", \"exec\"] && path startswith \"/tmp/\"', action: kill}\n"
		"  - {name: d, match: 'type == \"open\" && (uid == 7 || comm == \"cat\")', action: deny}\n"
		"  - {name: c, match: 'type == \"connect\" && daddr == \"10.0.0.0/8\"', action: deny}\n");
	struct pg_policy_env env = env_host();
	struct pg_policy_plan pl;
	char err[1024];

	number_rules(set);
	assert_int_equal(pg_policy_plan__build(&pl, set, &env, err, sizeof(err)), 0);
	assert_int_equal(pl.types, (1u << PG_EV_OPEN) | (1u << PG_EV_EXEC) | (1u << PG_EV_CONNECT));
	/* open: d becomes kill here (no way to deny an open on this kernel): kill class first, in
	 * rule order (k, d's two disjuncts), then monitor's */
	assert_int_equal(pl.nbits[PG_EV_OPEN], 4);
	assert_string_equal(pl.owner[PG_EV_OPEN][0]->name, "k");
	assert_string_equal(pl.owner[PG_EV_OPEN][1]->name, "d");
	assert_string_equal(pl.owner[PG_EV_OPEN][2]->name, "d");
	assert_string_equal(pl.owner[PG_EV_OPEN][3]->name, "w");
	assert_int_equal(pl.rules[PG_EV_OPEN][1].action, PG_ACT_KILL);
	assert_int_equal(pl.rules[PG_EV_OPEN][1].signal, 9);
	assert_int_equal(pl.rules[PG_EV_OPEN][3].action, PG_ACT_WOULD_KILL);
	assert_int_equal(pl.rules[PG_EV_OPEN][3].verdict, PG_VERDICT(0, PG_ACT_WOULD_KILL));
	assert_int_equal(pl.cfg[PG_EV_OPEN].nwords, 1);
	assert_int_equal(pl.cfg[PG_EV_OPEN].live[0], 0xf);
	assert_int_equal(pl.cfg[PG_EV_OPEN].dims,
			 (1u << PG_DIM_PATH) | (1u << PG_DIM_UID) | (1u << PG_DIM_COMM));
	/* connect keeps deny: the cgroup hook refuses it */
	assert_int_equal(pl.rules[PG_EV_CONNECT][0].action, PG_ACT_DENY);
	assert_int_equal(pl.cfg[PG_EV_CONNECT].required, 1u << PG_DIM_DADDR);
	/* exec: one rule, every one with a path: a miss there ends it */
	assert_int_equal(pl.cfg[PG_EV_EXEC].required, 1u << PG_DIM_PATH);
	pg_policy_plan__release(&pl);
	pg_policy_set__free(set);
}

/* Random rules over the fields the kernel decides, and random events: the kernel's decision
 * (pg_policy_plan__decide, what the BPF programs do) is the first rule, by priority, whose
 * filter matches. */
static const char *const g_types[] = { "exec", "open", "connect", "dns", "setid", "ptrace" };
static const unsigned int g_type_ids[] = { PG_EV_EXEC, PG_EV_OPEN,  PG_EV_CONNECT,
					   PG_EV_DNS,  PG_EV_SETID, PG_EV_PTRACE };
static const char *const g_comms[] = { "curl", "cat", "sh" };
static const unsigned int g_uids[] = { 0, 1000, 1001 };
static const char *const g_paths[] = { "/etc/shadow", "/etc/passwd",  "/tmp/x",
				       "/tmp/y.so",   "/usr/bin/cat", "/e" };
static const char *const g_prefixes[] = { "/etc/", "/tmp/", "/e", "/etc/shadow" };
static const char *const g_suffixes[] = { ".so", "shadow", "x" };
static const char *const g_addrs[] = { "10.0.0.1", "10.1.2.3", "192.168.1.1", "::1",
				       "2001:db8::1" };
static const char *const g_cidrs[] = { "10.0.0.0/8", "10.0.0.0/24", "192.168.1.1", "2001:db8::/32",
				       "::1",	     "0.0.0.0/0",   "::/1",	   "::/0" };
static const unsigned int g_ports[] = { 53, 80, 443 };
static const char *const g_names[] = { "evil.com", "a.evil.com", "b.a.evil.com", "good.org",
				       "com" };
static const char *const g_under[] = { ".evil.com", ".com", ".a.evil.com" };
static const char *const g_cgpaths[] = { "/a", "/a/b", "/d/e", "/ab" };
static const char *const g_cgunder[] = { "/a/", "/a/b/", "/d/", "/" };
static const char *const g_exes[] = { "/usr/bin/curl", "/usr/bin/cat", "/bin/sh", "/tmp/x" };
static const char *const g_exe_prefixes[] = { "/usr/bin/", "/tmp/", "/bin/sh" };

#define PICK(r, a) (a[rng_below(r, sizeof(a) / sizeof(a[0]))])

/* no_comm: the rule is for exec or dns events, whose comm the kernel does not decide on; dns
 * has no process fields either */
static size_t gen_cmp(struct rng *r, char *o, size_t n, bool no_comm, bool no_proc)
{
	unsigned int k = (unsigned int)rng_below(r, 16);

	if (k == 0 && no_comm)
		k = 1;
	if (k >= 13 && k <= 15 && no_proc)
		k = 12;
	switch (k) {
	case 0: return (size_t)snprintf(o, n, "comm == \"%s\"", PICK(r, g_comms));
	case 1:
		return (size_t)snprintf(o, n, "uid %s %u",
					rng_chance(r, 50) ? "==" : "!=", PICK(r, g_uids));
	case 2: return (size_t)snprintf(o, n, "uid in [%u, %u]", PICK(r, g_uids), PICK(r, g_uids));
	case 3: return (size_t)snprintf(o, n, "path == \"%s\"", PICK(r, g_paths));
	case 4: return (size_t)snprintf(o, n, "path startswith \"%s\"", PICK(r, g_prefixes));
	case 5: return (size_t)snprintf(o, n, "path endswith \"%s\"", PICK(r, g_suffixes));
	case 6:
		return (size_t)snprintf(o, n, "daddr %s \"%s\"",
					rng_chance(r, 70) ? "==" : "!=", PICK(r, g_cidrs));
	case 7:
		return (size_t)snprintf(o, n, "dport in [%u, %u]", PICK(r, g_ports),
					PICK(r, g_ports));
	case 8: return (size_t)snprintf(o, n, "qname == \"%s\"", PICK(r, g_names));
	case 9: return (size_t)snprintf(o, n, "qname endswith \"%s\"", PICK(r, g_under));
	case 10: return (size_t)snprintf(o, n, "cgroup == \"%s\"", PICK(r, g_cgpaths));
	case 11: return (size_t)snprintf(o, n, "cgroup startswith \"%s\"", PICK(r, g_cgunder));
	case 13:
		return (size_t)snprintf(o, n, "exe %s \"%s\"", rng_chance(r, 70) ? "==" : "!=",
					PICK(r, g_exes));
	case 14: return (size_t)snprintf(o, n, "exe startswith \"%s\"", PICK(r, g_exe_prefixes));
	case 15:
		return (size_t)snprintf(o, n, "parent_exe in [\"%s\", \"%s\"]", PICK(r, g_exes),
					PICK(r, g_exes));
	default:
		return (size_t)snprintf(o, n,
					rng_chance(r, 50) ? "exe_unlinked" : "exe_unlinked == 0");
	}
}

static size_t gen_expr(struct rng *r, char *o, size_t n, int depth, bool no_comm,
		       bool no_proc)
{
	size_t len = 0;
	int kind = depth > 2 ? 0 : (int)rng_below(r, 4);

	if (kind == 0)
		return gen_cmp(r, o, n, no_comm, no_proc);
	if (kind == 1) {
		len += (size_t)snprintf(o, n, "not (");
		len += gen_expr(r, o + len, n - len, depth + 1, no_comm, no_proc);
		return len + (size_t)snprintf(o + len, n - len, ")");
	}
	len += (size_t)snprintf(o, n, "(");
	len += gen_expr(r, o + len, n - len, depth + 1, no_comm, no_proc);
	len += (size_t)snprintf(o + len, n - len, kind == 2 ? " && " : " || ");
	len += gen_expr(r, o + len, n - len, depth + 1, no_comm, no_proc);
	return len + (size_t)snprintf(o + len, n - len, ")");
}

struct gen_case {
	struct pg_event ev;
	char cgpath[64], exe[64], pexe[64];
	uint64_t ids[8];
	struct pg_pol_facts facts;
};

static void gen_policy_event(struct rng *r, struct gen_case *c)
{
	unsigned int type = PICK(r, g_type_ids);
	size_t cg = rng_below(r, NCG), depth = 0;
	struct pg_event *ev = &c->ev;

	memset(c, 0, sizeof(*c));
	pg_event_init(ev, type);
	ev->r.hdr.uid = PICK(r, g_uids);
	strcpy(ev->r.hdr.comm, PICK(r, g_comms));
	ev->r.hdr.cgroup_id = cgs[cg].id;
	snprintf(c->cgpath, sizeof(c->cgpath), "%s", cgs[cg].path);
	ev->meta.cgroup = c->cgpath;
	for (int i = (int)cg; i >= 0; i = cgs[i].parent)
		depth++;
	for (int i = (int)cg, d = (int)depth - 1; i >= 0; i = cgs[i].parent, d--)
		c->ids[d] = cgs[i].id;
	c->facts.cgroup_ids = c->ids;
	c->facts.ncgroup = (unsigned int)depth;
	/* the process table's view, the same for the filter and for the kernel */
	snprintf(c->exe, sizeof(c->exe), "%s", PICK(r, g_exes));
	snprintf(c->pexe, sizeof(c->pexe), "%s", PICK(r, g_exes));
	ev->meta.proc.exe = c->facts.exe = c->exe;
	ev->meta.proc.parent_exe = c->facts.pexe = c->pexe;
	switch (type) {
	case PG_EV_EXEC: {
		const char *path = PICK(r, g_paths);

		strcpy(ev->r.exec.path, path);
		if (rng_chance(r, 30))
			ev->r.exec.flags |= PG_EXE_UNLINKED;
		/* runs what it exec'd (from the short literal, not the event's 256-byte buffer:
		 * gcc -O1 with the sanitizers warns of a truncation otherwise) */
		snprintf(c->exe, sizeof(c->exe), "%s", path);
		break;
	}
	case PG_EV_OPEN: strcpy(ev->r.open.path, PICK(r, g_paths)); break;
	case PG_EV_CONNECT:
	case PG_EV_DNS: {
		const char *a = PICK(r, g_addrs);
		bool v6 = strchr(a, ':') != NULL;
		unsigned char *daddr = type == PG_EV_DNS ? ev->r.dns.daddr : ev->r.connect.daddr;

		inet_pton(v6 ? AF_INET6 : AF_INET, a, daddr);
		if (type == PG_EV_DNS) {
			ev->r.dns.family = v6 ? AF_INET6 : AF_INET;
			ev->r.dns.dport = (uint16_t)PICK(r, g_ports);
			ev->r.dns.flags = PG_DNS_F_PARSED;
			strcpy(ev->r.dns.qname, PICK(r, g_names));
		} else {
			ev->r.connect.family = v6 ? AF_INET6 : AF_INET;
			ev->r.connect.dport = (uint16_t)PICK(r, g_ports);
		}
		break;
	}
	}
}

static void test_plan_decides_like_the_rules(void **state)
{
	struct rng r = { 0x9e3779b97f4a7c15ULL };
	struct pg_policy_env env = env_host();
	unsigned long decided = 0, checked = 0;

	for (int round = 0; round < 300; round++) {
		char yaml[16384];
		size_t n = 0;
		unsigned int nrules = 1 + (unsigned int)rng_below(&r, 8);
		bool monitor[8];
		unsigned int act[8];
		struct pg_policy_set *set;
		struct pg_policy_plan pl;
		char err[1024];
		int rc;

		for (unsigned int i = 0; i < nrules; i++) {
			char expr[2048];
			const char *t1 = PICK(&r, g_types), *t2 = PICK(&r, g_types);
			bool no_comm = !strcmp(t1, "exec") || !strcmp(t1, "dns") ||
				       !strcmp(t2, "exec") || !strcmp(t2, "dns");
			bool no_proc = !strcmp(t1, "dns") || !strcmp(t2, "dns");

			monitor[i] = rng_chance(&r, 30);
			act[i] = rng_chance(&r, 50) ? PG_RULE_KILL : PG_RULE_DENY;
			gen_expr(&r, expr, sizeof(expr), 0, no_comm, no_proc);
			n += (size_t)snprintf(
				yaml + n, sizeof(yaml) - n,
				"%sname: p%u\nmode: %s\nrules:\n  - name: r\n"
				"    match: 'type in [\"%s\", \"%s\"] && %s'\n    action: %s\n",
				i ? "---\n" : "", i, monitor[i] ? "monitor" : "enforce", t1, t2,
				expr, act[i] == PG_RULE_KILL ? "kill" : "deny");
		}
		set = parse_ok(yaml);
		number_rules(set);
		rc = pg_policy_plan__build(&pl, set, &env, err, sizeof(err));
		if (rc) {
			/* only refusals of rules that can match nothing, or too many disjuncts */
			if (!strstr(err, "matches no event") && !strstr(err, "more than 64"))
				fail_msg("round %d: %s\n%s", round, err, yaml);
			pg_policy_plan__release(&pl);
			pg_policy_set__free(set);
			continue;
		}
		for (int e = 0; e < 2000; e++) {
			struct gen_case c;
			uint32_t want = 0, got;
			unsigned int best_cls = 99;

			gen_policy_event(&r, &c);
			for (unsigned int i = 0; i < nrules; i++) {
				const struct pg_policy_rule *rule = &set->policies[i]->rules[0];
				unsigned int t = c.ev.r.hdr.type;
				bool deny = act[i] == PG_RULE_DENY && env.mech[t] != PG_MECH_SIGNAL;
				unsigned int cls = (monitor[i] ? 2 : 0) + !deny;

				if (cls < best_cls && pg_filter__match(rule->match, &c.ev)) {
					best_cls = cls;
					want = PG_VERDICT(rule->slot,
							  monitor[i] ? (deny ? PG_ACT_WOULD_DENY :
									       PG_ACT_WOULD_KILL) :
								       (deny ? PG_ACT_DENY :
									       PG_ACT_KILL));
				}
			}
			got = pg_policy_plan__decide(&pl, &c.ev, &c.facts);
			if (got != want) {
				char ev_cg[64];

				snprintf(ev_cg, sizeof(ev_cg), "%s", c.cgpath);
				fail_msg(
					"round %d event %d (type %s, cgroup %s): kernel says %#x, rules say %#x\n%s",
					round, e, pg_event_type_name(c.ev.r.hdr.type), ev_cg, got,
					want, yaml);
			}
			decided += want != 0;
			checked++;
		}
		pg_policy_plan__release(&pl);
		pg_policy_set__free(set);
	}
	print_message("%lu events, %lu decided\n", checked, decided);
	assert_true(decided > checked / 20); /* the rules do match things */
}

/* 1,000 rules for one type: they all fit, and cost one bit each. */
static void test_plan_1000_rules(void **state)
{
	size_t cap = 1 << 20, n = 0;
	char *yaml = malloc(cap), err[1024];
	struct pg_policy_set *set;
	struct pg_policy_env env = env_host();
	struct pg_policy_plan pl;

	assert_non_null(yaml);
	n += (size_t)snprintf(yaml, cap, "name: many\nrules:\n");
	for (int i = 0; i < 1025; i++)
		n += (size_t)snprintf(
			yaml + n, cap - n,
			"  - {name: r%d, match: 'type == \"open\" && path == \"/nonexistent/%d\"', action: kill}\n",
			i, i);
	set = parse_ok(yaml);
	number_rules(set);
	assert_int_equal(pg_policy_plan__build(&pl, set, &env, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "1025 kernel rules for open events: at most 1024 fit"));
	pg_policy_plan__release(&pl);
	/* the last one out: 1,024 fit */
	set->policies[0]->nrules--;
	set->nrules--;
	free(set->policies[0]->rules[1024].name);
	free(set->policies[0]->rules[1024].match_text);
	pg_filter__free(set->policies[0]->rules[1024].match);
	assert_int_equal(pg_policy_plan__build(&pl, set, &env, err, sizeof(err)), 0);
	assert_int_equal(pl.cfg[PG_EV_OPEN].nwords, 16);
	assert_int_equal(pl.nl, 1024);
	assert_int_equal(pl.cfg[PG_EV_OPEN].required, 1u << PG_DIM_PATH);
	pg_policy_plan__release(&pl);
	pg_policy_set__free(set);
	free(yaml);
}

/*
 * The path gate: on when every rule needs a path of 4 bytes or more, with the bit of each
 * entry's first 4 bytes; a path starting otherwise is decided without a lookup, one starting
 * like a rule's is looked up; off with a shorter entry, or a rule without a path.
 */
static void gate_plan(const char *yaml, struct pg_policy_plan *pl)
{
	struct pg_policy_set *set = parse_ok(yaml);
	struct pg_policy_env env = env_host();
	char err[1024];

	number_rules(set);
	if (pg_policy_plan__build(pl, set, &env, err, sizeof(err)))
		fail_msg("%s", err);
	pg_policy_set__free(set);
}

static bool gate_bit(const struct pg_pol_cfg *cfg, const char *s)
{
	uint32_t head, bit;

	memcpy(&head, s, 4);
	bit = pg_pol_gate_bit(head);
	return cfg->path_gate[bit / 64] >> (bit % 64) & 1;
}

static void test_plan_path_gate(void **state)
{
	struct pg_policy_plan pl;
	const struct pg_pol_cfg *cfg = &pl.cfg[PG_EV_OPEN];
	int set = 0;

	gate_plan(
		"name: g\nrules:\n"
		"  - {name: a, match: 'type == \"open\" && path startswith \"/etc/\"', action: kill}\n"
		"  - {name: b, match: 'type == \"open\" && path == \"/var/secret\" && uid == 7', action: kill}\n",
		&pl);
	assert_true(cfg->path_gate_on);
	assert_true(gate_bit(cfg, "/etc/shadow"));
	assert_true(gate_bit(cfg, "/var/secret"));
	assert_false(gate_bit(cfg, "/tmp/x"));
	for (int w = 0; w < PG_POL_GATE_BITS / 64; w++)
		set += __builtin_popcountll(cfg->path_gate[w]);
	assert_int_equal(set, 2);
	pg_policy_plan__release(&pl);

	gate_plan(
		"name: g\nrules:\n"
		"  - {name: a, match: 'type == \"open\" && path startswith \"/etc/\"', action: kill}\n"
		"  - {name: b, match: 'type == \"open\" && path startswith \"/e\"', action: kill}\n",
		&pl);
	assert_false(cfg->path_gate_on); /* "/e": a path under it may go on with anything */
	pg_policy_plan__release(&pl);

	gate_plan(
		"name: g\nrules:\n"
		"  - {name: a, match: 'type == \"open\" && path startswith \"/etc/\"', action: kill}\n"
		"  - {name: b, match: 'type == \"open\" && uid == 7', action: kill}\n",
		&pl);
	assert_false(cfg->path_gate_on); /* rule b decides opens of any path */
	pg_policy_plan__release(&pl);
}

/* --- the stage ---------------------------------------------------------------------------- */

static void test_stage_names_and_alerts(void **state)
{
	struct pg_stage *st = pg_stage_policy__new();
	struct pg_policy_set *set = parse_ok(
		"name: p\nrules:\n"
		"  - {name: k, match: 'type == \"open\" && path == \"/x\"', action: kill}\n"
		"  - {name: a1, match: 'comm == \"curl\"', action: alert}\n"
		"  - {name: a2, match: 'comm startswith \"cu\"', action: alert}\n");
	struct pg_pipeline pl;
	struct pg_event ev;

	assert_non_null(st);
	pg_pipeline__init(&pl);
	assert_int_equal(pg_stage_policy__assign(st, set), 0);
	assert_int_equal(pg_stage_policy__use(st, set), 0);
	assert_int_equal(pg_stage_policy__nslots(st), 3);

	/* the kernel's verdict names its rule */
	pg_event_init(&ev, PG_EV_OPEN);
	ev.r.open.pflags = PG_TRUNC_PATH | PG_VERDICT(0, PG_ACT_KILL);
	assert_int_equal(st->ops->process(st, &pl, &ev), PG_PASS);
	assert_string_equal(ev.meta.action, "kill");
	assert_string_equal(ev.meta.policy, "p");
	assert_string_equal(ev.meta.rule, "k");

	/* the first alert rule that matches */
	pg_event_init(&ev, PG_EV_FORK);
	strcpy(ev.r.hdr.comm, "curl");
	st->ops->process(st, &pl, &ev);
	assert_string_equal(ev.meta.action, "alert");
	assert_string_equal(ev.meta.rule, "a1");
	assert_int_equal(pg_stage_policy__slot(st, 1)->alerts, 1);
	pg_event_init(&ev, PG_EV_EXIT);
	strcpy(ev.r.hdr.comm, "curly");
	st->ops->process(st, &pl, &ev);
	assert_string_equal(ev.meta.rule, "a2");
	pg_event_init(&ev, PG_EV_EXIT);
	strcpy(ev.r.hdr.comm, "bash");
	st->ops->process(st, &pl, &ev);
	assert_null(ev.meta.action);

	/* a verdict whose slot was never given out is counted, not named */
	pg_event_init(&ev, PG_EV_SETID);
	ev.r.setid.flags = PG_VERDICT(77, PG_ACT_DENY);
	st->ops->process(st, &pl, &ev);
	assert_string_equal(ev.meta.action, "deny");
	assert_null(ev.meta.rule);
	assert_int_equal(pg_stage_policy__unknown(st), 1);
	pg_stage__free(st);
}

/* Unchanged rules keep their slots across a reload; changed ones get new ones, never reused. */
static void test_stage_slots_survive_reloads(void **state)
{
	struct pg_stage *st = pg_stage_policy__new();
	struct pg_policy_set *a =
		parse_ok("name: p\nrules:\n"
			 "  - {name: x, match: 'type == \"open\"', action: kill}\n"
			 "  - {name: y, match: 'type == \"exec\"', action: kill}\n");
	struct pg_policy_set *b =
		parse_ok("name: p\nrules:\n"
			 "  - {name: y, match: 'type == \"exec\"', action: kill}\n"
			 "  - {name: x, match: 'type == \"open\"', action: deny}\n"
			 "  - {name: z, match: 'type == \"exec\"', action: kill}\n");
	struct pg_pipeline pl;
	struct pg_event ev;

	assert_int_equal(pg_stage_policy__assign(st, a), 0);
	assert_int_equal(pg_stage_policy__use(st, a), 0);
	assert_int_equal(a->policies[0]->rules[0].slot, 0);
	assert_int_equal(a->policies[0]->rules[1].slot, 1);
	assert_int_equal(pg_stage_policy__assign(st, b), 0);
	assert_int_equal(b->policies[0]->rules[0].slot, 1); /* y, unchanged */
	assert_int_equal(b->policies[0]->rules[1].slot, 2); /* x, now deny: a new rule */
	assert_int_equal(b->policies[0]->rules[2].slot, 3);
	assert_int_equal(pg_stage_policy__use(st, b), 0);
	assert_false(pg_stage_policy__slot(st, 0)->current);
	assert_true(pg_stage_policy__slot(st, 2)->current);
	/* an event the old set decided still names its rule */
	pg_pipeline__init(&pl);
	pg_event_init(&ev, PG_EV_OPEN);
	ev.r.open.pflags = PG_VERDICT(0, PG_ACT_KILL);
	st->ops->process(st, &pl, &ev);
	assert_string_equal(ev.meta.rule, "x");
	assert_string_equal(ev.meta.action, "kill");
	pg_stage__free(st);
}

static void test_verdict_bits_are_free(void **state)
{
	/* the verdict's bits are clear of every flag a record carries */
	uint32_t flags = PG_TRUNC_PATH | PG_TRUNC_ARGV | PG_VIA_IO_URING | PG_SNAPSHOT |
			 PG_EXE_UNLINKED | PG_DNS_F_TCP | PG_DNS_F_PARSED | PG_DNS_F_CUT |
			 PG_DNS_F_BARE;

	assert_int_equal(flags & PG_VERDICT_MASK, 0);
	assert_int_equal(PG_VERDICT(PG_VERDICT_SLOT_MAX, 7) & ~PG_VERDICT_MASK, 0);
	assert_int_equal(PG_VERDICT_SLOT(PG_VERDICT(PG_VERDICT_SLOT_MAX, 2)), PG_VERDICT_SLOT_MAX);
	assert_int_equal(PG_VERDICT_SLOT(0), -1);
	assert_int_equal(PG_VERDICT_ACTION(PG_VERDICT(5, PG_ACT_WOULD_DENY)), PG_ACT_WOULD_DENY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_example),
		cmocka_unit_test(test_several_documents_and_signals),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_huge_documents),
		cmocka_unit_test(test_set_is_transactional),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_plan_refuses_what_the_kernel_cannot_decide),
		cmocka_unit_test(test_plan_takes_alert_rules_as_they_are),
		cmocka_unit_test(test_plan_layout),
		cmocka_unit_test(test_plan_decides_like_the_rules),
		cmocka_unit_test(test_plan_1000_rules),
		cmocka_unit_test(test_stage_names_and_alerts),
		cmocka_unit_test(test_stage_slots_survive_reloads),
		cmocka_unit_test(test_verdict_bits_are_free),
		cmocka_unit_test(test_plan_path_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
