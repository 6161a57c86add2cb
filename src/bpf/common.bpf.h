/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every pangolin BPF program that emits events shares: how kernel memory is read on this
 * object's kernel tier, the event counters, the filters every event type passes (self, pid,
 * uid, cgroup, comm, port, path prefix), the record header and the ring buffer's
 * reserve/submit/output with loss accounting.
 *
 * Include once per object, after vmlinux.h and the libbpf headers, with PG_TIER defined.
 */
#ifndef PANGOLIN_COMMON_BPF_H
#define PANGOLIN_COMMON_BPF_H

#include "pg_abi.h"
#include "sensor.h"

/*
 * Kernel tiers. One source is compiled into one object per tier (Makefile) and userspace
 * loads the best one the running kernel accepts (source_bpf.c, `pangolin doctor`):
 *
 *  PG_TIER 2, Linux 6.2+: every kernel pointer is a BTF pointer, read with plain loads that
 *     the verifier checks (no helper call); bpf_rdonly_cast (a kfunc, 6.2) turns the
 *     addresses a raw tracepoint hands over (a syscall's saved registers, an fd table slot,
 *     an io_uring request) into such pointers.
 *  PG_TIER 1, Linux 5.11-6.1: the current task is a BTF pointer (bpf_get_current_task_btf,
 *     5.11); other kernel memory is read with bpf_probe_read_kernel (BPF_CORE_READ).
 *  PG_TIER 0, Linux 5.8-5.10: everything through bpf_probe_read_kernel. 5.8 is the floor:
 *     the ring buffer, bpf_ktime_get_boot_ns and the task iterator arrived there.
 *
 * The price of a lower tier is a helper call per read: reading a syscall's number costs one
 * per syscall on tiers 0 and 1, where tier 2 loads it. The code below reads the kernel only
 * through these macros, so the three objects are the same program:
 *   KPTR(type, addr)  an address as a pointer KREAD may follow;
 *   KREAD(p, a, b)    p->a->b of such a pointer;
 *   TREAD(t, a, b)    t->a->b of a task (current_task(), a tracepoint's or iterator's task).
 */
#ifndef PG_TIER
#error "common.bpf.h: define PG_TIER (0, 1 or 2): the Makefile builds one object per tier"
#endif

/* p->a->b->... from a list of members (up to six), as BPF_CORE_READ takes them */
#define PG_ARROW_N(_1, _2, _3, _4, _5, _6, _7, N, ...) N
#define PG_ARROW2(a, b) a->b
#define PG_ARROW3(a, b, c) a->b->c
#define PG_ARROW4(a, b, c, d) a->b->c->d
#define PG_ARROW5(a, b, c, d, e) a->b->c->d->e
#define PG_ARROW6(a, b, c, d, e, f) a->b->c->d->e->f
#define PG_ARROW7(a, b, c, d, e, f, g) a->b->c->d->e->f->g
#define PG_ARROW_(n) PG_ARROW##n
#define PG_ARROW_APPLY(n) PG_ARROW_(n)
#define PG_ARROW(...) \
	PG_ARROW_APPLY(PG_ARROW_N(__VA_ARGS__, 7, 6, 5, 4, 3, 2, 1, 0))(__VA_ARGS__)

#if PG_TIER >= 2
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KPTR(type, addr) ((type *)bpf_rdonly_cast((void *)(addr), bpf_core_type_id_kernel(type)))
#define KREAD(...) PG_ARROW(__VA_ARGS__)
#else
#define KPTR(type, addr) ((type *)(addr))
#define KREAD(...) BPF_CORE_READ(__VA_ARGS__)
#endif

#if PG_TIER >= 1
#define current_task() bpf_get_current_task_btf()
#define TREAD(...) PG_ARROW(__VA_ARGS__)
#else
#define current_task() ((struct task_struct *)bpf_get_current_task())
#define TREAD(...) BPF_CORE_READ(__VA_ARGS__)
#endif

/* --- configuration, fixed before load ----------------------------------------------------- */

const volatile __u32 self_tgid = 0; /* pangolin itself: never traced */
const volatile __u32 type_mask = ~0u; /* bit (1 << type) per enabled event type */
const volatile __u8 pid_mode = PG_FM_OFF;
const volatile __u8 comm_mode = PG_FM_OFF;
const volatile __u8 uid_mode = PG_FM_OFF;
const volatile __u8 cgroup_mode = PG_FM_OFF;
const volatile __u8 port_mode = PG_FM_OFF;
const volatile struct pg_inline_set inline_sets[PG_SET_COUNT] = {};
const volatile __u32 n_prefixes = 0;
const volatile struct pg_prefix prefixes[PG_MAX_PREFIXES] = {};
const volatile __u64 wakeup_bytes = 64 * 1024; /* per CPU: wake the reader after this much */

/* --- maps ---------------------------------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* userspace sets the real size before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PG_EV_TYPE_COUNT);
	__type(key, __u32);
	__type(value, struct pg_type_counters);
} counters SEC(".maps");

#define FILTER_SET(name, keytype)                  \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_HASH);   \
		__uint(max_entries, 1024);         \
		__type(key, keytype);              \
		__type(value, __u8);               \
	} name SEC(".maps")

FILTER_SET(filter_pids, __u32);
FILTER_SET(filter_comms, struct pg_comm_key);
FILTER_SET(filter_uids, __u32);
FILTER_SET(filter_cgroups, __u64);
FILTER_SET(filter_ports, __u16);

/* Bytes this CPU submitted since it last woke the reader. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} unwoken_bytes SEC(".maps");

/* --- counters ------------------------------------------------------------------------------ */

#define COUNT_FILTERED 0
#define COUNT_EMITTED 1
#define COUNT_DROPPED 2

static __always_inline void count(__u32 type, int what)
{
	struct pg_type_counters *c = bpf_map_lookup_elem(&counters, &type);

	if (!c)
		return;
	if (what == COUNT_FILTERED)
		c->filtered++;
	else if (what == COUNT_EMITTED)
		c->emitted++;
	else
		c->dropped++;
}

/* --- the filters every event type shares --------------------------------------------------- */

static __always_inline bool type_on(__u32 type)
{
	return type_mask & (1u << type);
}

static __always_inline bool in_set(void *map, const void *key, __u8 mode)
{
	bool hit;

	if (mode == PG_FM_OFF)
		return true;
	hit = bpf_map_lookup_elem(map, key) != NULL;
	return mode == PG_FM_ALLOW ? hit : !hit;
}

/*
 * A pid/uid/cgroup/comm set: in place when small (rodata is frozen, so the verifier keeps
 * only the compares this filter needs), else in its hash map. key points at a0 (and a1).
 */
static __always_inline bool in_keyset(void *map, const void *key, __u8 mode, __u32 set, __u64 a0,
				      __u64 a1)
{
	bool hit = false;

	if (mode == PG_FM_OFF)
		return true;
	if (inline_sets[set].n == 0)
		return in_set(map, key, mode);
	for (__u32 i = 0; i < PG_INLINE_KEYS; i++) {
		if (i >= inline_sets[set].n)
			break;
		if (inline_sets[set].k[i][0] == a0 && inline_sets[set].k[i][1] == a1) {
			hit = true;
			break;
		}
	}
	return mode == PG_FM_ALLOW ? hit : !hit;
}

/*
 * Identity straight from the task (tiers 1 and 2: plain loads through BTF pointers). On the
 * VM this was measured on, each helper call (bpf_get_current_comm, _uid_gid, _cgroup_id) cost
 * 25-60 ns, more than the rest of a filtered-out syscall's path together. The cgroup is the
 * task's own (its default hierarchy's), which is what bpf_get_current_cgroup_id would return
 * for the current task, but also works for a task that is not current (the iterator's).
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return TREAD(task, cgroups, dfl_cgrp, kn, id);
}

static __always_inline void task_comm(struct task_struct *task, char *dst)
{
#if PG_TIER >= 1
	__builtin_memcpy(dst, task->comm, PG_COMM_LEN);
#else
	bpf_core_read(dst, PG_COMM_LEN, &task->comm);
#endif
}

/*
 * The filters every event type shares: self, pid, uid, cgroup, comm (cheapest first).
 * Counts the rejection, so userspace can show what the kernel kept away.
 */
static __always_inline bool pass_common(struct task_struct *task, __u32 type)
{
	__u32 tgid = TREAD(task, tgid);

	if (tgid == self_tgid)
		return false; /* not counted: pangolin's own activity is not the user's */
	if (!in_keyset(&filter_pids, &tgid, pid_mode, PG_SET_PID, tgid, 0))
		goto filtered;
	if (uid_mode != PG_FM_OFF) {
		__u32 uid = TREAD(task, cred, uid.val);

		if (!in_keyset(&filter_uids, &uid, uid_mode, PG_SET_UID, uid, 0))
			goto filtered;
	}
	if (cgroup_mode != PG_FM_OFF) {
		__u64 cg = task_cgroup_id(task);

		if (!in_keyset(&filter_cgroups, &cg, cgroup_mode, PG_SET_CGROUP, cg, 0))
			goto filtered;
	}
	if (comm_mode != PG_FM_OFF) {
		union {
			struct pg_comm_key k;
			__u64 w[2];
		} c;

		task_comm(task, c.k.comm);
		if (!in_keyset(&filter_comms, &c.k, comm_mode, PG_SET_COMM, c.w[0], c.w[1]))
			goto filtered;
	}
	return true;
filtered:
	count(type, COUNT_FILTERED);
	return false;
}

static __always_inline bool pass_port(__u32 type, __u16 port)
{
	if (in_set(&filter_ports, &port, port_mode))
		return true;
	count(type, COUNT_FILTERED);
	return false;
}

/* Does path (a NUL-terminated buffer of PG_PATH_LEN) start with one of the prefixes? */
static __always_inline bool pass_prefix(__u32 type, const char *path)
{
	if (n_prefixes == 0)
		return true;
	for (__u32 i = 0; i < PG_MAX_PREFIXES; i++) {
		bool ok = true;

		if (i >= n_prefixes)
			break;
		for (__u32 j = 0; j < PG_PREFIX_LEN; j++) {
			if (j >= prefixes[i].len)
				break;
			if (path[j] != prefixes[i].s[j]) {
				ok = false;
				break;
			}
		}
		if (ok)
			return true;
	}
	count(type, COUNT_FILTERED);
	return false;
}

/* --- records ------------------------------------------------------------------------------- */

static __always_inline void fill_hdr(struct task_struct *task, struct pg_event_hdr *h, __u32 type,
				     __u32 size)
{
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->start_ns = TREAD(task, group_leader, start_boottime);
	h->cgroup_id = task_cgroup_id(task);
	h->pid = TREAD(task, tgid);
	h->tid = TREAD(task, pid);
	h->ppid = TREAD(task, real_parent, tgid);
	h->uid = TREAD(task, cred, uid.val);
	h->gid = TREAD(task, cred, gid.val);
	h->type = type;
	h->size = size;
	task_comm(task, h->comm);
}

/* Reserve a record; on failure count the loss against the type. */
static __always_inline void *reserve(__u32 type, __u32 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		count(type, COUNT_DROPPED);
	return e;
}

/*
 * Submit without waking the reader unless enough has been written: a wakeup per event would
 * make the traced workload pay for the reader's context switches. The reader also polls on a
 * timer. "Enough" is counted per CPU (wakeup_bytes is already divided by the CPU count): asking
 * the ring how much is waiting (bpf_ringbuf_query) reads the consumer position the reader
 * keeps writing on another CPU, a cache miss that cost ~115 ns per event here.
 */
static __always_inline __u64 wakeup_flag(__u32 size)
{
	__u32 zero = 0;
	__u64 *unwoken = bpf_map_lookup_elem(&unwoken_bytes, &zero);

	if (!unwoken)
		return BPF_RB_NO_WAKEUP;
	*unwoken += size;
	if (*unwoken < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	*unwoken = 0;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void submit(void *e, __u32 type, __u32 size)
{
	bpf_ringbuf_submit(e, wakeup_flag(size));
	count(type, COUNT_EMITTED);
}

/* Copy the first size bytes of a record built in scratch to the ring, or count the loss. */
static __always_inline void output(void *e, __u32 type, __u32 size)
{
	if (bpf_ringbuf_output(&events, e, size, wakeup_flag(size)))
		count(type, COUNT_DROPPED);
	else
		count(type, COUNT_EMITTED);
}

/* User or kernel memory: user is a constant at every call site, so only one call remains. */
static __always_inline long read_mem(bool user, void *dst, __u32 size, const void *src)
{
	return user ? bpf_probe_read_user(dst, size, src) : bpf_probe_read_kernel(dst, size, src);
}

/*
 * Read a path (user memory, or the kernel's copy when !user) into dst (PG_PATH_LEN). Returns
 * the bytes used, NUL included (1 when unreadable: an empty path), and sets PG_TRUNC_PATH in
 * *flags if it did not fit.
 */
static __always_inline __u32 read_path(char *dst, const char *src, __u32 *flags, bool user)
{
	long n = user ? bpf_probe_read_user_str(dst, PG_PATH_LEN, src)
		      : bpf_probe_read_kernel_str(dst, PG_PATH_LEN, src);
	char next = 0;

	if (n <= 0) {
		dst[0] = 0;
		return 1;
	}
	if (n >= PG_PATH_LEN) {
		if (!read_mem(user, &next, 1, src + PG_PATH_LEN - 1) && next)
			*flags |= PG_TRUNC_PATH;
		return PG_PATH_LEN;
	}
	return (__u32)n;
}

#endif /* PANGOLIN_COMMON_BPF_H */
