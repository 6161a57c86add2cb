// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The policy stage (policy.h): names on the events the kernel decided, and the alert rules.
 *
 * The kernel puts a rule's slot on the events it decides (pg_abi.h, PG_VERDICT). A slot names
 * one rule for the whole run: a reload keeps the slots of the rules it does not change and
 * gives new ones to the others, so an event decided just before a reload and read just after
 * still names the rule that decided it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "stage.h"

struct slot {
	struct pg_policy_slot pub;
	char *policy, *rule;
	uint64_t here[PG_ACT_COUNT]; /* kill and deny rules decided by this stage (replay) */
};

struct stage_policy {
	struct pg_stage base;
	struct pg_policy_set *set; /* in force */
	const struct pg_policy_rule **alerts; /* its alert rules, in order */
	size_t nalerts;
	/* pg_stage_policy__decide_here: the kernel's plan of the set, and what it was made with */
	bool decides;
	struct pg_policy_plan plan;
	struct pg_policy_env env;
	struct slot *slots;
	uint32_t nslots, cap;
	uint64_t unknown;
	uint64_t reloads[2]; /* refused, done */
	/* the kernel's side of the counters (pg_stage_policy__kernel) */
	void (*hits)(void *ctx, uint32_t slot, uint64_t *hits);
	uint64_t (*lost)(void *ctx);
	void *ctx;
};

uint32_t *pg_event_verdict_word(struct pg_event *ev)
{
	switch (ev->r.hdr.type) {
	case PG_EV_EXEC: return &ev->r.exec.flags;
	case PG_EV_OPEN: return &ev->r.open.pflags;
	case PG_EV_CONNECT: return &ev->r.connect.flags;
	case PG_EV_DNS: return &ev->r.dns.flags;
	case PG_EV_SETID: return &ev->r.setid.flags;
	case PG_EV_PTRACE: return &ev->r.ptrace.flags;
	default: return NULL;
	}
}

/*
 * The cgroup facts of a recorded event, from its cgroup path: the ids the plan's env gives the
 * path and each of its ancestors (so a 'cgroup' selector matches as the kernel matches it),
 * next to the id the event was recorded with ('cgroup_id' selectors). false: no path.
 */
static bool cgroup_facts(const struct stage_policy *s, const struct pg_event *ev,
			 struct pg_pol_facts *f, uint64_t *ids, size_t max)
{
	const char *cg = ev->meta.cgroup;
	char prefix[4096];
	size_t len;
	unsigned int level;

	if (!cg || cg[0] != '/' || !s->env.cgroup || (len = strlen(cg)) >= sizeof(prefix))
		return false;
	f->ncgroup = 0;
	/* the root, then the path up to each '/' after it, and the whole path */
	for (size_t i = 0; i <= len && f->ncgroup < max; i++) {
		if (i > 0 && ((i < len && cg[i] != '/') || (i == len && len == 1)))
			continue;
		memcpy(prefix, cg, i ? i : 1);
		prefix[i ? i : 1] = 0;
		if (s->env.cgroup(s->env.ctx, prefix, &ids[f->ncgroup], &level) ||
		    level != f->ncgroup)
			return false;
		f->ncgroup++;
	}
	f->cgroup_ids = ids;
	f->cgroup_alias = f->ncgroup ? ids[f->ncgroup - 1] : 0;
	return true;
}

/*
 * The kernel's decision, made here with its own plan and the facts the kernel would have
 * (pg_policy_plan__decide: the selector bitmaps, one lookup per field whatever the number of
 * rules). Nothing is enforced on a recording, so every action is a would_. true when a rule
 * decided.
 */
static bool decide_here(struct stage_policy *s, struct pg_event *ev)
{
	struct pg_pol_facts f = { 0 };
	uint64_t ids[256];
	uint32_t v;
	int slot;
	unsigned int act;

	f.exe = ev->meta.proc.exe;
	if (!f.exe && ev->r.hdr.type == PG_EV_EXEC)
		f.exe = ev->r.exec.path; /* an exec's binary is its path */
	f.pexe = ev->meta.proc.parent_exe;
	/* the cgroup's ancestors only for a type some rule scopes by cgroup: they hash the path
	 * once per level, on every event */
	if (ev->r.hdr.type < PG_POL_NTYPES &&
	    (s->plan.cfg[ev->r.hdr.type].dims & (1u << PG_DIM_CGROUP)) &&
	    !cgroup_facts(s, ev, &f, ids, sizeof(ids) / sizeof(ids[0])))
		f = (struct pg_pol_facts){ .exe = f.exe, .pexe = f.pexe };
	if (!(v = pg_policy_plan__decide(&s->plan, ev, &f)))
		return false;
	slot = PG_VERDICT_SLOT(v);
	act = PG_VERDICT_ACTION(v);
	act = act == PG_ACT_DENY || act == PG_ACT_WOULD_DENY ? PG_ACT_WOULD_DENY :
							       PG_ACT_WOULD_KILL;
	if (slot < 0 || (uint32_t)slot >= s->nslots) {
		s->unknown++;
		return false;
	}
	ev->meta.action = pg_action_name(act);
	ev->meta.policy = s->slots[slot].policy;
	ev->meta.rule = s->slots[slot].rule;
	s->slots[slot].here[act]++;
	return true;
}

static int policy_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	struct stage_policy *s = (struct stage_policy *)st;
	uint32_t *w = pg_event_verdict_word(ev);

	if (s->decides) {
		/* the recording's own decisions were another set's: these policies decide */
		if (w)
			*w &= ~PG_VERDICT_MASK;
		ev->meta.action = ev->meta.policy = ev->meta.rule = NULL;
		if (decide_here(s, ev))
			return PG_PASS;
		w = NULL;
	}
	if (w && (*w & PG_VERDICT_MASK)) {
		int slot = PG_VERDICT_SLOT(*w);
		unsigned int act = PG_VERDICT_ACTION(*w);

		ev->meta.action = pg_action_name(act);
		if (slot >= 0 && (uint32_t)slot < s->nslots && act && act < PG_ACT_ALERT) {
			ev->meta.policy = s->slots[slot].policy;
			ev->meta.rule = s->slots[slot].rule;
		} else {
			s->unknown++;
		}
		return PG_PASS;
	}
	if (ev->meta.action)
		return PG_PASS; /* decided before it was recorded */
	for (size_t i = 0; i < s->nalerts; i++) {
		const struct pg_policy_rule *r = s->alerts[i];

		if (pg_filter__match(r->match, ev)) {
			struct slot *sl = &s->slots[r->slot];

			ev->meta.action = pg_action_name(PG_ACT_ALERT);
			ev->meta.policy = sl->policy;
			ev->meta.rule = sl->rule;
			sl->pub.alerts++;
			break;
		}
	}
	return PG_PASS;
}

static void policy_free(struct pg_stage *st)
{
	struct stage_policy *s = (struct stage_policy *)st;

	for (uint32_t i = 0; i < s->nslots; i++) {
		free(s->slots[i].policy);
		free(s->slots[i].rule);
	}
	free(s->slots);
	free(s->alerts);
	if (s->decides)
		pg_policy_plan__release(&s->plan);
	pg_policy_set__free(s->set);
	free(s);
}

/* --- counters (src/metrics.h) -------------------------------------------------------------- */

static const struct pg_metric_desc decisions = {
	.name = "pangolin_policy_decisions_total",
	.help = "Decisions of policy rules by policy, rule and action: kill, deny, would_kill, "
		"would_deny (made in the kernel) and alert (in userspace). A reload keeps the "
		"counts of the rules it leaves unchanged.",
	.type = PG_METRIC_COUNTER,
	.labels = { "policy", "rule", "action" },
	.stats = "policy.{policy}.{rule}.{action}",
};

static const struct pg_metric_desc rules_in_force = {
	.name = "pangolin_policy_rules",
	.help = "Policy rules in force (every --policy file loaded).",
	.type = PG_METRIC_GAUGE,
	.stats = "policy_rules",
};

static const struct pg_metric_desc reloads = {
	.name = "pangolin_policy_reloads_total",
	.help = "Policy reloads (SIGHUP, a file changed): done, or refused (the set in force "
		"stayed).",
	.type = PG_METRIC_COUNTER,
	.labels = { "outcome" },
	.stats = "policy_reloads.{outcome}",
};

static const struct pg_metric_desc unnamed = {
	.name = "pangolin_policy_unnamed_verdicts_total",
	.help = "Events whose verdict named no rule this run gave out (0 unless something is "
		"broken).",
	.type = PG_METRIC_COUNTER,
	.stats = "policy_unnamed_verdicts",
};

static const struct pg_metric_desc procs_lost = {
	.name = "pangolin_policy_processes_lost_total",
	.help = "Processes whose binaries did not fit the kernel's table: exe and parent_exe "
		"rules do not see them.",
	.type = PG_METRIC_COUNTER,
	.stats = "policy_procs_lost",
};

/*
 * Every rule in force, with each action it can take (zeros included: a series that appears
 * only when it moves breaks rate() and absence alerts), and the rules a reload retired that
 * decided something.
 */
static void policy_metrics(struct pg_stage *st, struct pg_metrics *m)
{
	struct stage_policy *s = (struct stage_policy *)st;

	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct slot *sl = &s->slots[i];
		uint64_t hits[PG_ACT_COUNT] = { 0 };

		if (s->hits)
			s->hits(s->ctx, i, hits);
		for (unsigned int a = 0; a < PG_ACT_COUNT; a++)
			hits[a] += sl->here[a];
		hits[PG_ACT_ALERT] += sl->pub.alerts;
		for (unsigned int a = 1; a < PG_ACT_COUNT; a++) {
			bool possible = sl->pub.action == PG_RULE_ALERT ?
						a == PG_ACT_ALERT :
						a != PG_ACT_ALERT &&
							(sl->pub.monitor || s->decides ?
								 a >= PG_ACT_WOULD_KILL :
								 a <= PG_ACT_DENY);

			if ((sl->pub.current && possible) || hits[a])
				pg_metrics__add(m, &decisions, (double)hits[a], sl->policy, sl->rule,
						pg_action_name(a));
		}
	}
	pg_metrics__add(m, &rules_in_force, s->set ? (double)s->set->nrules : 0);
	pg_metrics__add(m, &reloads, (double)s->reloads[1], "done");
	pg_metrics__add(m, &reloads, (double)s->reloads[0], "refused");
	pg_metrics__add(m, &unnamed, (double)s->unknown);
	pg_metrics__add(m, &procs_lost, s->lost ? (double)s->lost(s->ctx) : 0);
}

void pg_stage_policy__kernel(struct pg_stage *st, void (*hits)(void *ctx, uint32_t slot,
								 uint64_t *hits),
			     uint64_t (*lost)(void *ctx), void *ctx)
{
	struct stage_policy *s = (struct stage_policy *)st;

	s->hits = hits;
	s->lost = lost;
	s->ctx = ctx;
}

void pg_stage_policy__reloaded(struct pg_stage *st, bool done)
{
	((struct stage_policy *)st)->reloads[done]++;
}

static const struct pg_stage_ops policy_ops = {
	.name = "policy",
	.process = policy_process,
	.free = policy_free,
	.metrics = policy_metrics,
};

struct pg_stage *pg_stage_policy__new(void)
{
	struct stage_policy *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &policy_ops;
	return &s->base;
}

/* What makes two rules the same rule: everything that decides what it does and to what. */
static char *rule_key(const struct pg_policy *p, const struct pg_policy_rule *r)
{
	char *k = NULL;

	if (asprintf(&k, "%s%c%s%c%d%c%d%c%d%c%s", p->name, 0, r->name, 0, p->monitor, 0,
		     (int)r->action, 0, r->signal, 0, r->match_text) < 0)
		return NULL;
	return k;
}

static size_t key_len(const char *k)
{
	size_t n = 0;

	for (int part = 0; part < 6; part++)
		n += strlen(k + n) + 1;
	return n;
}

struct keyed {
	char *key;
	size_t len;
	uint32_t slot;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int new_slot(struct stage_policy *s, const struct pg_policy *p,
		    const struct pg_policy_rule *r)
{
	struct slot *sl;

	if (s->nslots > PG_VERDICT_SLOT_MAX)
		return -ENOSPC;
	if (s->nslots == s->cap) {
		uint32_t nc = s->cap ? 2 * s->cap : 64;
		struct slot *ns = realloc(s->slots, nc * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		s->slots = ns;
		s->cap = nc;
	}
	sl = &s->slots[s->nslots];
	memset(sl, 0, sizeof(*sl));
	sl->policy = strdup(p->name);
	sl->rule = strdup(r->name);
	if (!sl->policy || !sl->rule) {
		free(sl->policy);
		free(sl->rule);
		return -ENOMEM;
	}
	sl->pub.policy = sl->policy;
	sl->pub.rule = sl->rule;
	sl->pub.action = r->action;
	sl->pub.monitor = p->monitor;
	return (int)s->nslots++;
}

int pg_stage_policy__assign(struct pg_stage *st, struct pg_policy_set *set)
{
	struct stage_policy *s = (struct stage_policy *)st;
	const struct pg_policy_set *cur = s->set;
	struct keyed *old = NULL;
	size_t nold = 0;
	uint32_t first_new = s->nslots;
	int rc = 0;

	if (cur && cur->nrules && !(old = calloc(cur->nrules, sizeof(*old))))
		return -ENOMEM;
	for (size_t p = 0; cur && p < cur->n && !rc; p++) {
		for (size_t i = 0; i < cur->policies[p]->nrules && !rc; i++) {
			const struct pg_policy_rule *r = &cur->policies[p]->rules[i];

			if (!(old[nold].key = rule_key(cur->policies[p], r))) {
				rc = -ENOMEM;
				break;
			}
			old[nold].len = key_len(old[nold].key);
			old[nold++].slot = r->slot;
		}
	}
	if (nold)
		qsort(old, nold, sizeof(*old), cmp_keyed);
	for (size_t p = 0; p < set->n && !rc; p++) {
		const struct pg_policy *pol = set->policies[p];

		for (size_t i = 0; i < pol->nrules && !rc; i++) {
			struct pg_policy_rule *r = &pol->rules[i];
			struct keyed k = { rule_key(pol, r), 0, 0 }, *hit = NULL;

			if (!k.key) {
				rc = -ENOMEM;
				break;
			}
			k.len = key_len(k.key);
			if (nold)
				hit = bsearch(&k, old, nold, sizeof(*old), cmp_keyed);
			free(k.key);
			if (hit) {
				r->slot = hit->slot;
			} else {
				int slot = new_slot(s, pol, r);

				if (slot < 0)
					rc = slot;
				else
					r->slot = (uint32_t)slot;
			}
		}
	}
	for (size_t i = 0; i < nold; i++)
		free(old[i].key);
	free(old);
	if (rc) {
		/* the set is refused: the slots just made name nothing, take them back */
		while (s->nslots > first_new) {
			s->nslots--;
			free(s->slots[s->nslots].policy);
			free(s->slots[s->nslots].rule);
		}
	}
	return rc;
}

int pg_stage_policy__use(struct pg_stage *st, struct pg_policy_set *set)
{
	struct stage_policy *s = (struct stage_policy *)st;
	const struct pg_policy_rule **alerts = NULL;
	size_t n = 0;

	if (set && set->nrules && !(alerts = calloc(set->nrules, sizeof(*alerts))))
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nslots; i++)
		s->slots[i].pub.current = false;
	for (size_t p = 0; set && p < set->n; p++) {
		for (size_t i = 0; i < set->policies[p]->nrules; i++) {
			const struct pg_policy_rule *r = &set->policies[p]->rules[i];

			if (r->slot < s->nslots)
				s->slots[r->slot].pub.current = true;
			if (r->action == PG_RULE_ALERT && r->slot < s->nslots)
				alerts[n++] = r;
		}
	}
	free(s->alerts);
	s->alerts = alerts;
	s->nalerts = n;
	pg_policy_set__free(s->set);
	s->set = set;
	return 0;
}

void pg_stage_policy__decide_here(struct pg_stage *st, struct pg_policy_plan *plan,
				  const struct pg_policy_env *env)
{
	struct stage_policy *s = (struct stage_policy *)st;

	if (s->decides)
		pg_policy_plan__release(&s->plan);
	s->plan = *plan;
	s->env = *env;
	s->decides = true;
}

const struct pg_policy_set *pg_stage_policy__set(const struct pg_stage *st)
{
	return ((const struct stage_policy *)st)->set;
}

uint32_t pg_stage_policy__nslots(const struct pg_stage *st)
{
	return ((const struct stage_policy *)st)->nslots;
}

const struct pg_policy_slot *pg_stage_policy__slot(const struct pg_stage *st, uint32_t slot)
{
	const struct stage_policy *s = (const struct stage_policy *)st;

	return slot < s->nslots ? &s->slots[slot].pub : NULL;
}

uint64_t pg_stage_policy__unknown(const struct pg_stage *st)
{
	return ((const struct stage_policy *)st)->unknown;
}
