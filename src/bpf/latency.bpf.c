// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin latency, kernel side: log2 histograms of three latencies, built in the kernel and
 * read by userspace as snapshots (O(buckets) per interval however many events).
 *
 *   syscall  raw_syscalls sys_enter -> sys_exit, per syscall number
 *   runq     sched_wakeup / sched_wakeup_new (or a preempted task put back) -> sched_switch
 *            onto a CPU: the time a runnable task waited for a CPU
 *   block    block_rq_issue -> block_rq_complete, per disk: device service time
 *
 * Raw tracepoints, not tp_btf/fentry (unavailable on the kernels we target) and not classic
 * tracepoints: the raw ones hand us the task_struct / request pointers, which we read with
 * CO-RE, and they cost less per event. Userspace disables the programs of modes it did not ask
 * for before load (bpf_program__set_autoload), so an idle mode costs nothing.
 *
 * Every interval that cannot be timed is counted: a full start map, a full histogram map, and
 * an end whose start happened before we attached (PG_LAT_CTR_NO_START: only for what the
 * filters want, and never for an end that is not one of an interval, see each mode).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "pg_abi.h"

#define TASK_RUNNING 0

/* Set before load. */
const volatile __u32 targ_tgid = 0; /* 0: every process */
const volatile bool filter_comm = false;
const volatile char targ_comm[PG_COMM_LEN] = {};
const volatile __s32 targ_syscall = -1; /* -1: every syscall */
const volatile __u32 unit = PG_LAT_US; /* enum pg_lat_unit */
/* Syscalls that never return (exit, exit_group): timing them would only leak start entries. */
const volatile __s32 noreturn_a = -1;
const volatile __s32 noreturn_b = -1;

struct syscall_start {
	__u64 ts;
	__u32 nr;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct syscall_start);
	__uint(max_entries, 16384);
} sys_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, __u64);
	__uint(max_entries, 16384);
} runq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64); /* struct request * */
	__type(value, __u64);
	__uint(max_entries, 16384);
} block_start SEC(".maps");

/*
 * Key: syscall number (syscall), 0 (runq), dev_t of the disk as MKDEV(major, minor) (block).
 * Per-CPU: every CPU updates its own copy with plain adds, no atomics and no cache line bouncing
 * between CPUs on the hot path (sys_exit and sched_switch run very often); userspace sums the
 * copies. Not preallocated: only the keys that occur cost memory (a few dozen syscalls).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct pg_hist);
	__uint(max_entries, 1024);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, PG_LAT_CTR_COUNT);
} counters SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	/* branchy binary search: bounded, verifier-friendly */
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

static __always_inline void record(__u32 key, __u64 delta_ns)
{
	static const struct pg_hist zero = {};
	struct pg_hist *h;
	__u64 v = delta_ns;
	__u32 slot;

	if (unit == PG_LAT_US)
		v /= 1000;
	else if (unit == PG_LAT_MS)
		v /= 1000000;

	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		/* a new key: this CPU inserts its copy (the others start at zero) */
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h) {
			bump(PG_LAT_CTR_HIST_FULL);
			return;
		}
	}
	slot = log2_u64(v);
	if (slot >= PG_HIST_SLOTS)
		slot = PG_HIST_SLOTS - 1;
	/* this CPU's copy, and a BPF program is not preempted by another one that writes it */
	h->slots[slot]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	bump(PG_LAT_CTR_EVENTS);
}

static __always_inline bool comm_matches(void)
{
	char comm[PG_COMM_LEN];

	if (!filter_comm)
		return true;
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < PG_COMM_LEN; i++) {
		if (comm[i] != targ_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* --- syscall ------------------------------------------------------------------------------- */

/* Would the entry probe time syscall nr of the current task? */
static __always_inline bool syscall_wanted(__u64 pid_tgid, long nr)
{
	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return false;
	if (targ_syscall >= 0 && nr != targ_syscall)
		return false;
	if (nr == noreturn_a || nr == noreturn_b || nr < 0)
		return false;
	return comm_matches();
}

/*
 * The number of the syscall sys_exit reports, as syscall_get_nr() reads it. -1 after
 * rt_sigreturn (the kernel sets it so), which was timed, if at all, by its entry.
 */
static __always_inline long syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return (long)BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#else
#error "syscall_nr: add this architecture's pt_regs field (syscall_get_nr in the kernel)"
#endif
}

SEC("raw_tp/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long nr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_start st = {};
	__u32 tid = (__u32)id;

	if (!syscall_wanted(id, nr))
		return 0;
	st.ts = bpf_ktime_get_ns();
	st.nr = (__u32)nr;
	if (bpf_map_update_elem(&sys_start, &tid, &st, BPF_ANY))
		bump(PG_LAT_CTR_START_FULL);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct syscall_start *st;
	__u64 now = bpf_ktime_get_ns();

	st = bpf_map_lookup_elem(&sys_start, &tid);
	if (!st) {
		/* filtered at entry (nothing to say), or entered before we attached: a call
		 * that may have been long (a blocking read) is missing from the histogram */
		if (syscall_wanted(id, syscall_nr(regs)))
			bump(PG_LAT_CTR_NO_START);
		return 0;
	}
	record(st->nr, now - st->ts);
	bpf_map_delete_elem(&sys_start, &tid);
	return 0;
}

/* --- run queue ----------------------------------------------------------------------------- */

static __always_inline bool task_wanted(struct task_struct *p)
{
	char comm[PG_COMM_LEN];

	if (targ_tgid && BPF_CORE_READ(p, tgid) != (int)targ_tgid)
		return false;
	if (filter_comm) {
		BPF_CORE_READ_STR_INTO(&comm, p, comm);
		for (int i = 0; i < PG_COMM_LEN; i++) {
			if (comm[i] != targ_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	return true;
}

static __always_inline void runq_enqueue(struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	__u64 ts;

	if (!tid || !task_wanted(p))
		return;
	ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&runq_start, &tid, &ts, BPF_ANY))
		bump(PG_LAT_CTR_START_FULL);
}

/* Older kernels call the field "state"; CO-RE picks whichever this kernel has. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *p)
{
	if (bpf_core_field_exists(p->__state))
		return BPF_CORE_READ(p, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)p, state);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
	runq_enqueue(p);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(handle_sched_wakeup_new, struct task_struct *p)
{
	runq_enqueue(p);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 *ts, now;
	__u32 tid;

	/*
	 * A task switched out while still runnable goes straight back onto the run queue; so
	 * does a preempted one whatever its state says (preempted between setting a sleeping
	 * state and calling schedule(), it was not dequeued).
	 */
	if (preempt || task_state(prev) == TASK_RUNNING)
		runq_enqueue(prev);

	tid = BPF_CORE_READ(next, pid);
	ts = bpf_map_lookup_elem(&runq_start, &tid);
	if (!ts) {
		/* tid 0 is the idle task, never queued; anything else wanted was runnable
		 * before we attached */
		if (tid && task_wanted(next))
			bump(PG_LAT_CTR_NO_START);
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (now > *ts)
		record(0, now - *ts);
	bpf_map_delete_elem(&runq_start, &tid);
	return 0;
}

/* --- block I/O ----------------------------------------------------------------------------- */

static __always_inline __u32 request_dev(struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);
	__u32 major, minor;

	if (!disk)
		return 0;
	major = BPF_CORE_READ(disk, major);
	minor = BPF_CORE_READ(disk, first_minor);
	return (major << 20) | minor; /* the kernel's MKDEV */
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(handle_block_rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq, ts = bpf_ktime_get_ns();

	if (bpf_map_update_elem(&block_start, &key, &ts, BPF_ANY))
		bump(PG_LAT_CTR_START_FULL);
	return 0;
}

/*
 * The tracepoint fires once per blk_update_request, before the bytes are taken off: a driver
 * that completes a request in parts fires it for each part, and the last one has nr_bytes of
 * at least what is left (rq->__data_len). A request with a flush sequence (O_SYNC and FUA
 * writes) fires it again with 0 bytes when the sequence ends, after its data completed: that
 * is not the end of an interval, and not one that began before we attached.
 */
SEC("raw_tp/block_rq_complete")
int BPF_PROG(handle_block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq, *ts, now = bpf_ktime_get_ns();

	if (nr_bytes < BPF_CORE_READ(rq, __data_len))
		return 0; /* a part: the request is done at its last */
	ts = bpf_map_lookup_elem(&block_start, &key);
	if (!ts) {
		if (nr_bytes)
			bump(PG_LAT_CTR_NO_START);
		return 0;
	}
	if (now > *ts)
		record(request_dev(rq), now - *ts);
	bpf_map_delete_elem(&block_start, &key);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
