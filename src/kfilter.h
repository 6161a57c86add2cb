/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Splitting a filter between the kernel and userspace.
 *
 * The top-level conjuncts of a --filter expression that the BPF program can decide exactly go
 * into its maps and rodata; the others form the residual filter userspace evaluates. Plain C
 * over the filter tree: no BPF here, so the split is unit-tested without a kernel.
 *
 * Kernel-decidable conjuncts (docs/filter.md lists them):
 *   type ==/!=/in            -> the set of event types whose programs are loaded at all
 *   pid, uid, cgroup_id, comm ==/in, !=, not (... in ...)  -> allow or deny sets
 *   dport ==/in              -> allowed ports (connect and dns events only)
 *   path startswith "..."    -> up to 8 prefixes of < 64 bytes (exec and open events only)
 *   an || of such comparisons on one field -> the union of their sets
 *
 * The two parts are filters of their own, built from copies of the conjuncts' nodes (never
 * printed and parsed again), so any filter the parser takes splits, however long.
 */
#ifndef PANGOLIN_KFILTER_H
#define PANGOLIN_KFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor.h"
#include "filter.h"

#define PG_KF_MAX_KEYS 64 /* values per key set */

struct pg_kf_set {
	enum pg_filter_mode mode;
	size_t n;
	uint64_t keys[PG_KF_MAX_KEYS]; /* pids, uids, cgroup ids, ports */
	char comms[PG_KF_MAX_KEYS][16]; /* comm keys, zero padded */
};

struct pg_kfilter {
	uint32_t type_mask; /* bit (1 << type) per type the kernel should produce */
	struct pg_kf_set pids, comms, uids, cgroups, ports;
	uint32_t n_prefixes;
	struct pg_prefix prefixes[PG_MAX_PREFIXES];
	/*
	 * The conjuncts the kernel decides and those left to userspace, each as a filter of
	 * their own (NULL when there are none). pg_kfilter__match is the kernel's decision; the
	 * kernel filter is there to show (--explain) and to build on. Both belong to the struct
	 * pg_kfilter__plan filled: a copy of it (the BPF source keeps one) is never released.
	 */
	struct pg_filter *kernel;
	struct pg_filter *residual;
};

/*
 * Plan the split of f (NULL: no filter). Fills kf; the caller frees what it holds with
 * pg_kfilter__release, also after a failure. 0, or -ENOMEM.
 */
int pg_kfilter__plan(const struct pg_filter *f, struct pg_kfilter *kf);
void pg_kfilter__release(struct pg_kfilter *kf);

/*
 * Would the kernel part of the filter let ev through? The BPF programs' decision, in C, for
 * events that did not come through them (the processes found running at start-up). Together
 * with kf->residual it decides what the whole filter decides (tests/unit/test_kfilter.c).
 */
bool pg_kfilter__match(const struct pg_kfilter *kf, const struct pg_event *ev);

#endif /* PANGOLIN_KFILTER_H */
