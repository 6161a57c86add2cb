/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Policies (docs/enforce.md): YAML files of rules whose `match` is written in the filter
 * language (docs/filter.md) and whose action is
 *   alert  the event is reported with "action":"alert" (decided in userspace, any field);
 *   kill   the process gets a signal (SIGKILL unless `signal:` says otherwise);
 *   deny   the call fails with EPERM, so what it asked for never happens.
 * kill and deny are decided entirely in the kernel: a rule the kernel cannot decide whole is
 * refused when it is loaded, never left to a userspace decision that races the process.
 *
 *   name: protect-secrets
 *   mode: enforce              # or monitor: the same decisions, reported, nothing done
 *   rules:
 *     - name: shadow
 *       match: type == "open" && path in ["/etc/shadow", "/etc/gshadow"] && uid != 0
 *       action: deny
 *
 * Three steps, each plain C that runs without a kernel:
 *   load   YAML text into a pg_policy_set (libyaml's event parser), every error naming
 *          file:line:column (this file, policy_load.c);
 *   plan   kill and deny rules into the selector bitmaps of the kernel's maps (bpf/sensor.h),
 *          or a refusal naming the part the kernel cannot decide (policy_plan.c);
 *   stage  events get the names of the policy and rule that decided them, and alert rules
 *          run (stage_policy.c).
 */
#ifndef PANGOLIN_POLICY_H
#define PANGOLIN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor.h"
#include "filter.h"

/* Bounds on what one set may hold; past them a load fails and says which. */
#define PG_POLICY_FILE_MAX (16u << 20) /* bytes of one YAML file */
#define PG_POLICY_RULES_MAX 10000 /* rules of a whole set */
#define PG_POLICY_NAME_MAX 128 /* bytes of a policy or rule name */

/* What a rule asks for (its `action:`). */
enum pg_rule_action {
	PG_RULE_ALERT = 1,
	PG_RULE_KILL,
	PG_RULE_DENY,
};

struct pg_policy;

struct pg_policy_rule {
	char *name;
	char *description; /* NULL when there is none */
	char *match_text; /* as written */
	struct pg_filter *match;
	enum pg_rule_action action;
	int signal; /* kill: the signal sent (SIGKILL unless given) */
	const struct pg_policy *policy;
	unsigned int line, column; /* of the rule's mapping, 1-based */
	/*
	 * Where the match text begins in the file. When match_exact, the text is the line's
	 * bytes from there (a one-line scalar without escapes), so a column in the match is a
	 * column of the file; else errors give the match's position and the column within it.
	 */
	unsigned int match_line, match_column;
	bool match_exact;
	/* the rule's identity for the run: events and counters name it by slot (set by the
	 * policy stage, kept across reloads while the rule is unchanged); ~0u before */
	uint32_t slot;
};

struct pg_policy {
	char *name;
	char *description;
	char *file;
	bool monitor; /* mode: monitor */
	unsigned int line, column;
	struct pg_policy_rule *rules;
	size_t nrules;
};

struct pg_policy_set {
	struct pg_policy **policies; /* pointers: a policy's address is stable */
	size_t n;
	size_t nrules; /* over all policies */
};

/* An empty set; NULL with errno ENOMEM. */
struct pg_policy_set *pg_policy_set__new(void);
void pg_policy_set__free(struct pg_policy_set *set);

/*
 * Add the policies of one YAML text (one per document) to set; file names it in errors.
 * 0; -EINVAL with err "FILE:LINE:COLUMN: what is wrong" (a rule that does not parse, an
 * unknown key, a duplicate name...); -E2BIG past the bounds above; -ENOMEM. On failure the
 * set holds what it held before.
 */
int pg_policy_set__parse(struct pg_policy_set *set, const char *file, const char *text, size_t len,
			 char *err, size_t errlen);

/*
 * Add the policies of a file, or of every *.yaml file in a directory (in name order; others
 * are left alone). Errors as pg_policy_set__parse, and -errno when a file cannot be read.
 */
int pg_policy_set__load(struct pg_policy_set *set, const char *path, char *err, size_t errlen);

/* A new set of the policies under every path (files or directories, as pg_policy_set__load).
 * NULL with errno set and err filled. */
struct pg_policy_set *pg_policy_set__load_paths(const char *const *paths, size_t n, char *err,
						size_t errlen);

/* "FILE:LINE:COLUMN" of column col (1-based) of a rule's match, or of the match itself (0). */
void pg_policy_rule__where(const struct pg_policy_rule *r, size_t col, char *buf, size_t len);

/* --- the kernel's part: policy_plan.c ------------------------------------------------------ */

/*
 * How this kernel can stop an event type (doctor prints it per action and type):
 *   LSM     a BPF LSM hook refuses the call (EPERM) before it happens;
 *   CGROUP  a cgroup socket hook refuses the connect or drops the DNS query before a packet
 *           leaves (EPERM);
 *   SIGNAL  the sensor's own hook (sys_exit, sched_process_exec) sends the signal: the call has
 *           happened, the process never runs another instruction of its own.
 * deny on an event type whose mechanism is SIGNAL becomes kill, and its events say "kill".
 */
enum pg_pol_mech {
	PG_MECH_NONE = 0, /* the event type cannot be acted on here */
	PG_MECH_SIGNAL,
	PG_MECH_LSM,
	PG_MECH_CGROUP,
};

/* "signal", "lsm", "cgroup" */
const char *pg_pol_mech_name(unsigned int mech);

struct pg_policy_env {
	unsigned char mech[PG_EV_TYPE_COUNT]; /* enum pg_pol_mech per event type */
	/* The id and depth (the root is 0) of a cgroup, by its path below the cgroup2 mount
	 * ("/system.slice/x.service"). 0 or -errno (-ENOENT: no such cgroup). */
	int (*cgroup)(void *ctx, const char *path, uint64_t *id, unsigned int *level);
	void *ctx;
};

struct pg_pol_hentry {
	struct pg_pol_key key;
	struct pg_pol_bits bits;
};

struct pg_pol_lentry {
	struct pg_pol_lpm_key key;
	struct pg_pol_bits bits;
};

/*
 * The kernel's maps for one set, bank 0 (the installer writes the bank into every key).
 * Kernel rule b of type t is rules[t][b], from policy rule owner[t][b].
 */
struct pg_policy_plan {
	uint32_t types; /* bit (1 << type) per event type with kernel rules */
	struct pg_pol_cfg cfg[PG_POL_NTYPES];
	struct pg_pol_rule *rules[PG_POL_NTYPES];
	const struct pg_policy_rule **owner[PG_POL_NTYPES];
	size_t nbits[PG_POL_NTYPES];
	struct pg_pol_hentry *h;
	size_t nh, caph;
	struct pg_pol_lentry *l;
	size_t nl, capl;
};

/*
 * Plan the kill and deny rules of set (alert rules are the stage's) for a kernel that has
 * env's mechanisms; every rule must have its slot. 0; -EINVAL with err "FILE:LINE:COLUMN:
 * rule NAME: 'TEXT' cannot be decided in the kernel (why; what to write instead)", or a rule
 * that names no event type the kernel can act on, or more kernel rules than fit; -ENOMEM.
 * Release the plan also after a failure.
 */
int pg_policy_plan__build(struct pg_policy_plan *plan, const struct pg_policy_set *set,
			  const struct pg_policy_env *env, char *err, size_t errlen);
void pg_policy_plan__release(struct pg_policy_plan *plan);

/*
 * The plan's decision for ev, in C: the verdict word (PG_VERDICT) the kernel would put on it,
 * 0 for none. What the BPF programs do, for tests (tests/unit/test_policy.c checks it against
 * the rules' own filters); proc gives the process's binaries (exe dims), cgroup_ids the ids of
 * the event's cgroup and its ancestors from the root (levels[i] is the id at depth i).
 */
struct pg_pol_facts {
	const char *exe, *pexe;
	const uint64_t *cgroup_ids;
	unsigned int ncgroup; /* depth + 1 */
	/* a second id the event's cgroup goes by (0: none): a replay's stand-in id of its path,
	 * next to the id it was recorded with */
	uint64_t cgroup_alias;
};
uint32_t pg_policy_plan__decide(const struct pg_policy_plan *plan, const struct pg_event *ev,
				const struct pg_pol_facts *facts);

/* A directory's entry --policy DIR loads: NAME.yaml, not hidden (policy_load.c). */
bool pg_policy_is_file_name(const char *name);

/* --- reloads: policy_watch.c ------------------------------------------------------------- */

struct pg_policy_watch;

/* Watch the policy paths (files or directories) for changes. NULL with errno set. */
struct pg_policy_watch *pg_policy_watch__new(const char *const *paths, size_t n);
void pg_policy_watch__free(struct pg_policy_watch *pw);

/* Time to reload? true once changes have been quiet for a moment (now: pg_now_seconds()). */
bool pg_policy_watch__due(struct pg_policy_watch *pw, double now);

/* Before a reload reads the paths: the watches set up again from them (where they lead now). */
void pg_policy_watch__refresh(struct pg_policy_watch *pw);

/* --- userspace: stage_policy.c ------------------------------------------------------------ */

struct pg_stage;

/*
 * The policy stage: an event the kernel decided gets the names of the policy and rule behind
 * its verdict (meta.action, meta.policy, meta.rule); any other event is offered to the alert
 * rules in order, and the first that matches tags it "alert". Replayed events keep the names
 * they carry. NULL with errno ENOMEM.
 */
struct pg_stage *pg_stage_policy__new(void);

/*
 * Give every rule of set its slot: the one it had in the set in force if it is unchanged
 * (policy, name, mode, action, signal and match alike), else a new one. Slots are never given
 * to another rule, so events decided under an older set keep their names. 0; -ENOSPC when the
 * run has used all PG_VERDICT_SLOT_MAX + 1 slots (restart pangolin); -ENOMEM.
 */
int pg_stage_policy__assign(struct pg_stage *st, struct pg_policy_set *set);

/* Put set (its slots assigned) in force here; the stage owns it and frees the one before.
 * 0, or -ENOMEM (nothing changed, set still the caller's). */
int pg_stage_policy__use(struct pg_stage *st, struct pg_policy_set *set);

/*
 * For a replay (no kernel): the stage decides the kill and deny rules too, with plan (the set
 * in force's, built with env; the stage owns it now), as the kernel would, and names what
 * they decide would_kill or would_deny (nothing is enforced on a recording). An event's
 * cgroup is looked up by its path through env, as the plan's selectors were (env's ctx must
 * live as long as the stage). A decision an event carries from its recording is replaced by
 * this set's.
 */
void pg_stage_policy__decide_here(struct pg_stage *st, struct pg_policy_plan *plan,
				  const struct pg_policy_env *env);

/* The set in force (NULL before the first use). */
const struct pg_policy_set *pg_stage_policy__set(const struct pg_stage *st);

/* What a slot names: its policy and rule, and how many events alert rules tagged with it. */
struct pg_policy_slot {
	const char *policy;
	const char *rule;
	enum pg_rule_action action;
	bool monitor;
	bool current; /* the rule is in the set in force */
	uint64_t alerts;
};

/* Slots given out so far (0..n-1), and one of them (NULL past the end). */
uint32_t pg_stage_policy__nslots(const struct pg_stage *st);
const struct pg_policy_slot *pg_stage_policy__slot(const struct pg_stage *st, uint32_t slot);

/*
 * Where the stage's counters (pangolin_policy_decisions_total ...) get the kernel's side: the
 * decisions per action for a slot, and the processes the kernel's table had no room for.
 */
void pg_stage_policy__kernel(struct pg_stage *st, void (*hits)(void *ctx, uint32_t slot,
								 uint64_t *hits),
			     uint64_t (*lost)(void *ctx), void *ctx);

/* Count a reload: done, or refused. */
void pg_stage_policy__reloaded(struct pg_stage *st, bool done);

/* Events whose verdict named no slot this stage gave out (0 unless something is broken). */
uint64_t pg_stage_policy__unknown(const struct pg_stage *st);

/* The flags word that carries an event's verdict, NULL for types a policy cannot act on. */
uint32_t *pg_event_verdict_word(struct pg_event *ev);

#endif /* PANGOLIN_POLICY_H */
