// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin policy check: load policy files or directories as `run --policy` does, plan their
 * kill and deny rules for the kernel as `run` does before it loads anything, and list every
 * rule with what decides it. No kernel, no privilege: for an operator's CI before a policy
 * goes to a fleet (docs/enforce.md, "Checking a policy").
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "enforce.h"
#include "event.h"
#include "policy.h"

static void policy_help(FILE *out)
{
	fputs("usage: pangolin policy check PATH... [--offline]\n"
	      "\n"
	      "Load the policies under each PATH (a YAML file, or every *.yaml file of a\n"
	      "directory) as 'run --policy' does, check that every kill and deny rule can be\n"
	      "decided entirely in the kernel, and list the rules: policy, rule, action (would_kill\n"
	      "and would_deny in monitor mode), where it is decided, the event types it acts on,\n"
	      "file:line. An error names the file, line and column. Needs no privilege and loads\n"
	      "nothing into the kernel; 'pangolin doctor' says how this kernel enforces each type.\n"
	      "\n"
	      "options:\n"
	      "      --offline   check cgroup selectors for their form only (a policy written for\n"
	      "                  other hosts); without it they must exist here, as 'run' requires\n"
	      "  -h, --help      this help\n"
	      "\n"
	      "exit status: 0 the policies load, 1 they do not, 2 bad command line\n",
	      out);
}

/* What the rule does, as its events will say. */
static const char *action_name(const struct pg_policy_rule *r)
{
	switch (r->action) {
	case PG_RULE_KILL: return r->policy->monitor ? "would_kill" : "kill";
	case PG_RULE_DENY: return r->policy->monitor ? "would_deny" : "deny";
	default: return "alert";
	}
}

/* The event types the plan gives rule r a kernel bit for: "open,exec", or "" for none. */
static void kernel_types(const struct pg_policy_plan *plan, const struct pg_policy_rule *r,
			 char *out, size_t len)
{
	size_t n = 0;

	out[0] = 0;
	for (unsigned int t = 0; t < PG_POL_NTYPES && n < len; t++)
		for (size_t b = 0; b < plan->nbits[t]; b++)
			if (plan->owner[t][b] == r) {
				n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "",
						      pg_event_type_name(t));
				break;
			}
}

static int policy_check(char **paths, size_t npaths, bool offline)
{
	struct pg_policy_set *set;
	struct pg_stage *stage = NULL;
	struct pg_policy_env env;
	struct pg_policy_plan plan;
	char err[2048], cgmount[256], types[128];
	size_t kernel = 0;
	int rc;

	set = pg_policy_set__load_paths((const char *const *)paths, npaths, err, sizeof(err));
	if (!set) {
		fprintf(stderr, "pangolin policy: %s\n", err);
		return PG_EXIT_FAIL;
	}
	/* the plan wants every rule's slot, which the policy stage gives */
	if (!(stage = pg_stage_policy__new()) || pg_stage_policy__assign(stage, set)) {
		pg_cli_err("policy", "out of memory");
		rc = PG_EXIT_FAIL;
		goto out;
	}
	pg_enforce__provisional_env(&env, cgmount, sizeof(cgmount), !offline);
	if (pg_policy_plan__build(&plan, set, &env, err, sizeof(err))) {
		fprintf(stderr, "pangolin policy: %s\n", err);
		pg_policy_plan__release(&plan);
		rc = PG_EXIT_FAIL;
		goto out;
	}
	printf("%-24s %-24s %-10s %-9s %-20s %s\n", "POLICY", "RULE", "ACTION", "DECIDED",
	       "TYPES", "WHERE");
	for (size_t i = 0; i < set->n; i++) {
		const struct pg_policy *p = set->policies[i];

		for (size_t j = 0; j < p->nrules; j++) {
			const struct pg_policy_rule *r = &p->rules[j];
			bool k = r->action != PG_RULE_ALERT;

			if (k)
				kernel_types(&plan, r, types, sizeof(types));
			kernel += k;
			printf("%-24s %-24s %-10s %-9s %-20s %s:%u\n", p->name, r->name,
			       action_name(r), k ? "kernel" : "userspace", k ? types : "any", p->file,
			       r->line);
		}
	}
	pg_policy_plan__release(&plan);
	fprintf(stderr,
		"pangolin policy: %zu policies, %zu rules (%zu decided in the kernel, %zu alert) load%s\n",
		set->n, set->nrules, kernel, set->nrules - kernel,
		offline ? " (cgroups checked for their form only)" : "");
	rc = PG_EXIT_OK;
out:
	pg_stage__free(stage);
	pg_policy_set__free(set);
	return rc;
}

static int policy_run(const struct pg_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "offline", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool offline = false;
	int c;

	(void)cli;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'O': offline = true; break;
		case 'h': policy_help(stdout); return PG_EXIT_OK;
		default: return pg_cli_usage_error("policy", argc, argv);
		}
	}
	if (argc - optind < 2 || strcmp(argv[optind], "check")) {
		pg_cli_err("policy", "usage: pangolin policy check PATH... [--offline]");
		return PG_EXIT_USAGE;
	}
	return policy_check(argv + optind + 1, (size_t)(argc - optind - 1), offline);
}

const struct pg_cmd pg_cmd_policy = {
	.name = "policy",
	.summary = "check enforcement policies and list their rules",
	.run = policy_run,
	.help = policy_help,
};
