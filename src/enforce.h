/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's policy maps, from userspace (docs/enforce.md; the maps: bpf/sensor.h and
 * bpf/policy.bpf.h): a plan installed into the bank not in force, the flip, the old bank
 * retired once no program can still be reading it, the counters of every bank summed per rule.
 * The BPF source owns one of these (source_bpf.c); nothing here loads programs.
 */
#ifndef PANGOLIN_ENFORCE_H
#define PANGOLIN_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct pg_enforce;

/* The maps, by fd (the BPF object keeps them open). */
struct pg_enforce_maps {
	int bank, cfg, rules, hits, hash, lpm, proc, proc_lost;
};

/* NULL with errno ENOMEM. */
struct pg_enforce *pg_enforce__new(const struct pg_enforce_maps *maps);
void pg_enforce__free(struct pg_enforce *e);

/*
 * Put plan in force, atomically: every event is decided by the old set or by the new one,
 * whole. 0; -errno with err filled when the maps refuse an entry (the old set stays in force,
 * the new one's entries are taken out again).
 */
int pg_enforce__install(struct pg_enforce *e, const struct pg_policy_plan *plan, char *err,
			size_t errlen);

/* Decisions the kernel made for a slot, by action (enum pg_action), over every bank so far. */
void pg_enforce__hits(struct pg_enforce *e, uint32_t slot, uint64_t hits[PG_ACT_COUNT]);

/* Processes whose binaries the kernel's table had no room for (their exe selectors miss). */
uint64_t pg_enforce__proc_lost(struct pg_enforce *e);

/*
 * The binaries of the processes running now, from /proc, into the kernel's table; entries the
 * kernel wrote meanwhile (an exec since the programs were attached) win. Returns how many.
 */
int pg_enforce__fill_procs(struct pg_enforce *e);

/* A cgroup by its path below the cgroup2 mount at ctx (a string): pg_policy_env.cgroup. */
int pg_enforce__cgroup_lookup(void *ctx, const char *path, uint64_t *id, unsigned int *level);

/* A cgroup path checked for its form only, with a stand-in id (policy check --offline). */
int pg_enforce__cgroup_form(void *ctx, const char *path, uint64_t *id, unsigned int *level);

/*
 * The kernel's mechanisms are known once the sensor is loaded; what a rule asks of the kernel
 * does not depend on them. So a set is checked before the (slow) load, or without a kernel at
 * all, with this stand-in: every type enforced by a signal; cgroups looked up below this
 * host's cgroup2 mount (cgmount, len bytes: where it is) when cgroups_here, else checked for
 * their form only.
 */
void pg_enforce__provisional_env(struct pg_policy_env *env, char *cgmount, size_t len,
				 bool cgroups_here);

#endif /* PANGOLIN_ENFORCE_H */
