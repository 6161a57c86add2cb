// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * min_open: the least an open reporter can do in the kernel, to put pangolin's cost per event
 * in proportion (bench/sensor_bench.py, "min-open"). On raw_syscalls:sys_exit, like pangolin:
 * the syscall number is a plain load; for an openat, a record of the boot-time timestamp, the
 * pid, the result and the path, reserved in the ring at its full size and the path read
 * straight into it (no copy), committed without a wakeup. No identity beyond the pid, no
 * filter, no counters but the losses, no process table.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NR_OPENAT 257 /* x86_64 */

struct min_rec {
	__u64 ts_ns;
	__u32 pid;
	__s32 ret;
	char path[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

SEC("raw_tp/sys_exit")
int min_open(struct bpf_raw_tracepoint_args *ctx)
{
	const struct pt_regs *r =
		bpf_rdonly_cast((void *)ctx->args[0], bpf_core_type_id_kernel(struct pt_regs));
	struct min_rec *e;
	__u32 zero = 0;

	if (r->orig_ax != NR_OPENAT)
		return 0;
	e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);
	if (!e) {
		__u64 *n = bpf_map_lookup_elem(&lost, &zero);

		if (n)
			(*n)++;
		return 0;
	}
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ret = (__s32)ctx->args[1];
	bpf_probe_read_user_str(e->path, sizeof(e->path), (const void *)r->si);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
