// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin profile, kernel side: one perf_event program runs on every CPU at the sampling
 * frequency (software cpu-clock, so it works in VMs without a PMU). Each sample is reduced to
 * a key {pid, kernel stack id, user stack id, comm} and counted in a hash map; the stacks
 * themselves are deduplicated by the kernel's stack-trace map. Userspace reads both maps as a
 * snapshot: traffic is O(distinct stacks) however long the run.
 *
 * Nothing is lost silently: a stack the stack map cannot store (hash collision or full) and a
 * sample the counts map cannot hold are counted in per-CPU counters that userspace reports.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "pg_abi.h"

#define EFAULT 14
#define EEXIST 17

/* Filters, fixed before load (0 / false: no filter). */
const volatile __u32 targ_tgid = 0;
const volatile __u64 targ_cgroup_id = 0; /* cgroup v2 id: the cgroup or any descendant */
const volatile __u32 targ_cgroup_level = 0; /* its depth below the root */
const volatile bool kernel_only = false;
const volatile bool user_only = false;
const volatile bool include_idle = false;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PG_PROF_MAX_DEPTH * sizeof(__u64));
	__uint(max_entries, 8192); /* userspace resizes before load (--stack-storage) */
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct pg_prof_key);
	__type(value, __u64);
	__uint(max_entries, 16384); /* userspace resizes before load */
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, PG_PROF_CTR_COUNT);
} counters SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1; /* per-CPU slot: no other writer */
}

/* A stack id, or the reason there is none; collisions and a full map are counted. */
static __always_inline __s32 stack_id(struct bpf_perf_event_data *ctx, __u64 flags, __u32 lost)
{
	long id = bpf_get_stackid(ctx, &stacks, flags);

	if (id < 0 && id != -EFAULT)
		bump(lost);
	return (__s32)id;
}

SEC("perf_event")
int handle_perf_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct pg_prof_key key = {};
	__u64 one = 1, *val;
	long err;

	if (tid == 0 && !include_idle) {
		bump(PG_PROF_CTR_IDLE);
		return 0;
	}
	if (targ_tgid && tgid != targ_tgid)
		return 0;
	if (targ_cgroup_id &&
	    bpf_get_current_ancestor_cgroup_id(targ_cgroup_level) != targ_cgroup_id)
		return 0;
	bump(PG_PROF_CTR_SAMPLES);

	key.pid = tgid;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	key.kstack_id = user_only ? PG_PROF_STACK_SKIPPED : stack_id(ctx, 0, PG_PROF_CTR_KSTACK_LOST);
	key.ustack_id = kernel_only ? PG_PROF_STACK_SKIPPED
				    : stack_id(ctx, BPF_F_USER_STACK, PG_PROF_CTR_USTACK_LOST);

	val = bpf_map_lookup_elem(&counts, &key);
	if (val) {
		__sync_fetch_and_add(val, 1);
		return 0;
	}
	err = bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* another CPU inserted the same key between our lookup and update */
		val = bpf_map_lookup_elem(&counts, &key);
		if (val) {
			__sync_fetch_and_add(val, 1);
			return 0;
		}
	}
	if (err)
		bump(PG_PROF_CTR_MAP_FULL);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
