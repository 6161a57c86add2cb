/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every command that loads BPF needs before and around bpf_object__load. */
#ifndef PANGOLIN_BPF_UTIL_H
#define PANGOLIN_BPF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Route libbpf's messages to stderr: warnings always, debug output only when verbose. */
void pg_bpf_setup_logging(bool verbose);

/*
 * Check what loading BPF needs, in the order a user fixes things: privileges (root, or
 * CAP_BPF + CAP_PERFMON), kernel BTF, tracefs (mounted here if missing). 0, or -errno with a
 * one-line reason and what to do in msg.
 */
int pg_bpf_preflight(char *msg, size_t len);

/* Does the kernel have this tracepoint (tracefs events/<category>/<name>)? */
bool pg_tracepoint_exists(const char *category, const char *name);

/* Mount tracefs at /sys/kernel/tracing if it is not there. 0 or -errno with msg. */
int pg_tracefs_ensure(char *msg, size_t len);

/*
 * Sum a per-CPU array map whose values are `lanes` u64 each over all possible CPUs:
 * out[key * lanes + lane] for keys 0..nkeys-1. Keys that cannot be read count 0.
 * 0 or -ENOMEM.
 */
int pg_bpf_percpu_sum(int map_fd, uint32_t nkeys, size_t lanes, uint64_t *out);

/* Effective capability bit set (from /proc/self/status), or 0 when it cannot be read. */
unsigned long long pg_cap_effective(void);

/* The cgroup socket hooks of --policy: CAP_NET_ADMIN (or CAP_SYS_ADMIN), else -EPERM + msg. */
int pg_bpf_preflight_cgroup_hooks(char *msg, size_t len);

/* Is name among the active LSMs? 1 yes, 0 no, -1 unknown (securityfs not mounted). */
int pg_lsm_active(const char *name);

#endif /* PANGOLIN_BPF_UTIL_H */
