/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege (libcap). Loading and attaching the sensor takes CAP_BPF and CAP_PERFMON;
 * watching afterwards takes almost nothing: the ring buffer is memory already mapped, the
 * counters are maps already open. So once the programs are attached pangolin keeps only what
 * it still uses (docs/operations.md says what each command needs, measured, and why):
 *
 *   CAP_SYS_PTRACE  not kept: the processes found at start-up are completed from /proc
 *                   (/proc/PID/exe of another user's process takes it) before attaching ends
 *   CAP_BPF         for as long as pangolin runs, only where the kernel checks it on every
 *                   bpf() call, map reads included (before Linux 6.5, with
 *                   kernel.unprivileged_bpf_disabled set: Debian's default); probed, not
 *                   guessed by version
 *
 * Capabilities belong to threads. pg_caps__limit() changes the calling thread's; a thread
 * that pangolin or a library starts calls pg_caps__drop_thread() first thing (the metrics
 * server's, librdkafka's through its on_thread_start interceptor), so no thread has more
 * than the main one. no_new_privs is set too: nothing executed later (a SASL kinit) gets
 * capabilities back, not even as root.
 */
#ifndef PANGOLIN_CAPS_H
#define PANGOLIN_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/capability.h> /* CAP_BPF, ... */

#define PG_CAP(c) (1ULL << (c))

/* This thread's effective and permitted sets, as bit masks of CAP_* numbers. */
uint64_t pg_caps__effective(void);
uint64_t pg_caps__permitted(void);

/*
 * Keep only the capabilities in keep (those of them this thread has) in its effective and
 * permitted sets; clear the inheritable and ambient sets; set no_new_privs; drop the rest of
 * the bounding set when CAP_SETPCAP allows. 0, or -errno with the reason in err.
 */
int pg_caps__limit(uint64_t keep, char *err, size_t errlen);

/* Drop every capability of the calling thread (and set no_new_privs). For threads that need
 * none; never fails in a way that leaves more than before. */
void pg_caps__drop_thread(void);

/*
 * Whether this kernel checks CAP_BPF (or CAP_SYS_ADMIN) on every bpf() call, map reads
 * included: a bpf() call on no map is made with both lowered from the effective set for a
 * moment (EPERM: it does; EBADF: it does not). false when neither is held.
 */
bool pg_caps__bpf_calls_need_cap(void);

/* "CAP_BPF, CAP_PERFMON" for a set ("none" when empty). */
void pg_caps__names(uint64_t set, char *out, size_t len);

#endif /* PANGOLIN_CAPS_H */
