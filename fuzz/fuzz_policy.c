// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for policy files (src/policy_load.c, src/policy_plan.c): a policy decides
 * what the kernel kills and denies, and the file may come from anyone who can write to the
 * policy directory.
 *
 * Any bytes: either an error that names the file and a line and column, leaving the set as it
 * was; or policies whose kill and deny rules either plan (and then the plan decides, on one
 * event of each type the kernel acts on, exactly what the rules' own filters decide) or are
 * refused with a message that names the file.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "policy.h"
#include "stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR(type, comm, exe)                                                                   \
	"{\"v\":1,\"type\":\"" type "\",\"ts\":1764084477000000000,\"pid\":4321,\"tid\":4322," \
	"\"ppid\":1,\"uid\":1000,\"gid\":100,\"comm\":\"" comm "\",\"cgroup_id\":4242,"        \
	"\"start_ns\":5,\"cgroup\":\"/k8s/pod\",\"exe\":\"" exe "\",\"parent_exe\":\"/bin/bash\""

static const char *const lines[] = {
	HDR("open", "curl",
	    "/usr/bin/curl") ",\"dirfd\":-100,\"flags\":524288,\"mode\":420,\"ret\":3,\"path\":\"/etc/shadow\"}",
	HDR("exec", "bash",
	    "/tmp/x") ",\"path\":\"/tmp/x\",\"argv\":[\"x\"],\"exe_unlinked\":true}",
	HDR("connect", "curl",
	    "/usr/bin/curl") ",\"family\":\"inet\",\"daddr\":\"10.1.2.3\",\"dport\":443,\"fd\":5,\"ret\":0}",
	HDR("connect", "nc",
	    "/usr/bin/nc") ",\"family\":\"inet6\",\"daddr\":\"2001:db8::1\",\"dport\":80,\"fd\":6,\"ret\":0}",
	HDR("dns", "curl",
	    "/usr/bin/curl") ",\"family\":\"inet\",\"daddr\":\"127.0.0.53\",\"dport\":53,\"transport\":\"udp\","
			     "\"dns_id\":4660,\"qname\":\"a.example.com\",\"qtype\":\"AAAA\",\"qclass\":1}",
	HDR("setid", "sudo",
	    "/usr/bin/sudo") ",\"call\":\"setuid\",\"ret\":0,\"id_real\":0,\"id_effective\":0,\"id_saved\":4294967295}",
	HDR("ptrace", "gdb",
	    "/usr/bin/gdb") ",\"request\":\"attach\",\"ret\":0,\"target_pid\":7,\"addr\":0}",
};
#define NEV (sizeof(lines) / sizeof(lines[0]))

static const uint64_t cg_ids[] = { 1, 4000, 4242 }; /* "/", "/k8s", "/k8s/pod" */

static int fake_cgroup(void *ctx, const char *path, uint64_t *id, unsigned int *level)
{
	static const char *const paths[] = { "/", "/k8s", "/k8s/pod" };

	for (unsigned int i = 0; i < 3; i++)
		if (!strcmp(path, paths[i])) {
			*id = cg_ids[i];
			*level = i;
			return 0;
		}
	return -ENOENT;
}

struct fixture {
	struct pg_json_decoder dec[NEV];
	struct pg_event ev[NEV];
};

static const struct fixture *fixture(void)
{
	static struct fixture *fx;

	if (!fx) {
		fx = calloc(1, sizeof(*fx));
		for (size_t i = 0; i < NEV; i++) {
			struct pg_json_error err;

			if (pg_json_decode(&fx->dec[i], lines[i], strlen(lines[i]), &fx->ev[i],
					   &err)) {
				fprintf(stderr, "fixture %zu: %s\n", i, err.msg);
				abort();
			}
		}
	}
	return fx;
}

/* "t.yaml:LINE:COLUMN: " with both numbers positive */
static void assert_located(const char *err)
{
	unsigned int line = 0, col = 0;

	assert(sscanf(err, "t.yaml:%u:%u: ", &line, &col) == 2 || !strncmp(err, "t.yaml: ", 8));
	assert(!strncmp(err, "t.yaml", 6));
	assert(strlen(err) > 10);
}

static void check_plan(const struct pg_policy_set *set)
{
	const struct fixture *fx = fixture();
	struct pg_policy_env env = { .cgroup = fake_cgroup };
	struct pg_pol_facts facts = { .cgroup_ids = cg_ids, .ncgroup = 3 };
	struct pg_policy_plan pl;
	char err[1024];
	int rc;

	env.mech[PG_EV_EXEC] = env.mech[PG_EV_OPEN] = env.mech[PG_EV_SETID] =
		env.mech[PG_EV_PTRACE] = PG_MECH_SIGNAL;
	env.mech[PG_EV_CONNECT] = env.mech[PG_EV_DNS] = PG_MECH_CGROUP;
	rc = pg_policy_plan__build(&pl, set, &env, err, sizeof(err));
	if (rc) {
		assert(rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
		assert(!strncmp(err, "t.yaml", 6) || strstr(err, "kernel rules for"));
		pg_policy_plan__release(&pl);
		return;
	}
	for (size_t e = 0; e < NEV; e++) {
		const struct pg_event *ev = &fx->ev[e];
		unsigned int t = ev->r.hdr.type, best = 99;
		uint32_t want = 0;

		for (size_t p = 0; p < set->n; p++) {
			const struct pg_policy *pol = set->policies[p];

			for (size_t i = 0; i < pol->nrules; i++) {
				const struct pg_policy_rule *r = &pol->rules[i];
				bool deny = r->action == PG_RULE_DENY &&
					    env.mech[t] != PG_MECH_SIGNAL;
				unsigned int cls = (pol->monitor ? 2 : 0) + !deny;

				if (r->action == PG_RULE_ALERT || cls >= best)
					continue;
				/* DNS names: the kernel ignores case; the fixture's name is lowercase */
				if (pg_filter__match(r->match, ev)) {
					best = cls;
					want = PG_VERDICT(
						r->slot,
						pol->monitor ? (deny ? PG_ACT_WOULD_DENY :
								       PG_ACT_WOULD_KILL) :
							       (deny ? PG_ACT_DENY : PG_ACT_KILL));
				}
			}
		}
		facts.exe = ev->meta.proc.exe;
		facts.pexe = ev->meta.proc.parent_exe;
		if (pg_policy_plan__decide(&pl, ev, &facts) != want) {
			fprintf(stderr, "event %zu: the plan decides %#x, the rules %#x\n", e,
				pg_policy_plan__decide(&pl, ev, &facts), want);
			abort();
		}
	}
	pg_policy_plan__release(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_policy_set *set = pg_policy_set__new();
	struct pg_stage *st;
	char err[1024];
	int rc;

	rc = pg_policy_set__parse(set, "t.yaml", (const char *)data, size, err, sizeof(err));
	if (rc) {
		assert(rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
		assert(set->n == 0 && set->nrules == 0);
		assert_located(err);
		pg_policy_set__free(set);
		return 0;
	}
	st = pg_stage_policy__new();
	assert(st && pg_stage_policy__assign(st, set) == 0);
	check_plan(set);
	assert(pg_stage_policy__use(st, set) == 0);
	pg_stage__free(st); /* frees the set too */
	return 0;
}
