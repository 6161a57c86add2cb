/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The kernel as an EventSource: the sensor's BPF programs and their one ring buffer. */
#ifndef PANGOLIN_SOURCE_BPF_H
#define PANGOLIN_SOURCE_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor.h"
#include "dns.h"
#include "kfilter.h"
#include "source.h"

#define PG_RINGBUF_DEFAULT (4u << 20)

struct pg_bpf_opts {
	size_t ringbuf_bytes; /* power of two, at least a page; 0: PG_RINGBUF_DEFAULT */
	size_t wakeup_bytes; /* wake the reader when this much is waiting; 0: ringbuf/16 */
	const struct pg_kfilter *kfilter; /* what the kernel filters; NULL: nothing */
	bool verbose; /* libbpf debug output */
	/* Report the processes running at start-up as exec events flagged PG_SNAPSHOT, before
	 * any live event (when exec events are wanted). */
	bool snapshot;
	/* Which of the sensor's objects may be loaded: bit (1 << tier) per PG_BPF_TIER_*;
	 * 0: any, the best this kernel accepts first (tests and --bpf-tier narrow it). */
	unsigned int tier_mask;
	/* Policies may be installed (docs/enforce.md): the decision code is loaded, every event
	 * type a policy acts on is watched whatever the filter wants, and the processes' binaries
	 * are kept. Without it that code is not even loaded. */
	bool policy;
};

/*
 * The sensor is one BPF source compiled once per kernel tier (src/bpf/common.bpf.h): the
 * higher the tier, the more of the kernel is read with plain loads instead of helper calls.
 */
enum pg_bpf_tier {
	PG_BPF_TIER_PROBE_READ = 0, /* Linux 5.8+: kernel memory through bpf_probe_read_kernel */
	PG_BPF_TIER_TASK_BTF = 1, /* 5.11+: the task through BTF pointers */
	PG_BPF_TIER_BTF = 2, /* 6.2+: all through BTF pointers (bpf_rdonly_cast) */
	PG_BPF_TIER_COUNT,
};

/* What each tier needs from the kernel, e.g. "bpf_rdonly_cast (Linux 6.2+)". */
const char *pg_bpf_tier_needs(int tier);

/* The best tier this kernel offers, by probing (BTF for the kfunc, a program for a helper). */
int pg_bpf_tier_probe(void);

/* Why a hook is not running, for `pangolin doctor` and start-up warnings. */
struct pg_hook_status {
	const char *program; /* handle_... */
	const char *tracepoint; /* "raw_syscalls/sys_exit" */
	unsigned int types; /* bit (1 << type) per event type it serves */
	const char *via; /* only those submitted this way ("io_uring"); NULL: all */
	const char *kind; /* "tracepoint" or "raw tracepoint" */
	bool wanted; /* the filter needs it */
	bool present; /* the kernel has the tracepoint */
	bool attached;
	char refused[160]; /* the verifier refused it on this kernel: why (else empty) */
};

/*
 * Load, configure and attach the sensor. NULL on failure with errno set and a one-line reason
 * plus what to do in err.
 */
struct pg_source *pg_source_bpf__new(const struct pg_bpf_opts *opts, char *err, size_t errlen);

/* Stop the programs (detach) so a final poll drains what is left. 0 or -errno. */
int pg_source_bpf__detach(struct pg_source *src);

/* Sum the per-CPU counters of each type into out[PG_EV_TYPE_COUNT]. 0 or -errno. */
int pg_source_bpf__counters(struct pg_source *src, struct pg_type_counters *out);

/* Hooks and their state; returns how many (at most max). */
size_t pg_source_bpf__hooks(struct pg_source *src, struct pg_hook_status *out, size_t max);

/* How many processes the start-up snapshot found (before any filter). */
size_t pg_source_bpf__snapshot_size(struct pg_source *src);

/* The start-up snapshot: 1 taken, 0 failed (the kernel has no task iterator), -1 not asked. */
int pg_source_bpf__snapshot_state(struct pg_source *src);

/* Processes of the start-up snapshot not yet handed out (their /proc entries still to read). */
bool pg_source_bpf__snapshot_pending(struct pg_source *src);

/*
 * DNS messages seen but not reported whole (skipped, by enum pg_dns_skip, counted in the
 * kernel) and DNS events whose message did not parse (by enum pg_dns_unparsed). 0 or -errno.
 */
int pg_source_bpf__dns_counts(struct pg_source *src, uint64_t skipped[PG_DNS_SKIP_COUNT],
			      uint64_t unparsed[PG_DNS_UNPARSED_COUNT]);
/* "length_alone", "cut", ... for enum pg_dns_skip; NULL when unknown. */
const char *pg_dns_skip_name(unsigned int why);

/* The tier whose object is loaded (enum pg_bpf_tier). */
int pg_source_bpf__tier(struct pg_source *src);

/* Why the start-up snapshot's iterator was refused by this kernel, or "" when it was not. */
const char *pg_source_bpf__snapshot_refused(struct pg_source *src);

/* Milliseconds spent in bpf_object__load and in attaching. */
void pg_source_bpf__timing(struct pg_source *src, double *load_ms, double *attach_ms);

/* The source's named counters (source_bpf_metrics.c): its ops table's metrics member. */
void pg_source_bpf__metrics(struct pg_source *src, struct pg_metrics *m);

/* Records from the kernel that failed validation (size/type): 0 unless something is broken. */
unsigned long long pg_source_bpf__malformed(struct pg_source *src);

/* --- policies (opts.policy): docs/enforce.md ------------------------------------------------ */

struct pg_policy_env;
struct pg_policy_plan;

/* How this kernel can act on each event type, and how cgroups are looked up, for a plan. */
void pg_source_bpf__policy_env(struct pg_source *src, struct pg_policy_env *env);

/* Put plan in force (atomically; the old one stays when this fails). 0, or -errno with err. */
int pg_source_bpf__policy_install(struct pg_source *src, const struct pg_policy_plan *plan,
				  char *err, size_t errlen);

/* The kernel's decisions for a rule's slot, by action, since the start. */
void pg_source_bpf__policy_hits(struct pg_source *src, uint32_t slot, uint64_t *hits);

/* Why the strongest mechanism for an event type is not in use here ("" when it is): an LSM
 * hook the kernel lacks or refused, no BPF LSM, a cgroup hook refused. */
const char *pg_source_bpf__policy_refused(struct pg_source *src, unsigned int type);

/* Processes whose binaries did not fit the kernel's table (their exe selectors miss). */
uint64_t pg_source_bpf__policy_proc_lost(struct pg_source *src);

#endif /* PANGOLIN_SOURCE_BPF_H */
