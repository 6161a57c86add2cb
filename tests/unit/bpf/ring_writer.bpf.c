// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fixture for tests/unit/test_ring.c: writes one record to a ring buffer per run
 * (BPF_PROG_TEST_RUN), of the size and sequence number the test asks for, or reserves one and
 * discards it, so the reader can be checked against the kernel's own ring.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct ring_args {
	__u32 size; /* bytes of the record, 4..1024: the sequence number, then seq + i per byte i */
	__u32 seq;
	__u32 discard; /* reserve 64 bytes and discard them instead */
	__u32 flags; /* BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP or 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* the test sets its size */
} ring SEC(".maps");

char buf[1024];

SEC("syscall")
int write_record(struct ring_args *a)
{
	__u32 n = a->size, seq = a->seq;

	if (a->discard) {
		void *p = bpf_ringbuf_reserve(&ring, 64, 0);

		if (!p)
			return -1;
		bpf_ringbuf_discard(p, 0);
		return 0;
	}
	if (n < 4 || n > sizeof(buf))
		return -2;
	__builtin_memcpy(buf, &seq, 4);
	for (__u32 i = 4; i < sizeof(buf); i++) {
		if (i >= n)
			break;
		buf[i] = (char)(seq + i);
	}
	asm volatile("" : "+r"(n)); /* the loop's compares do not bound n for the verifier */
	if (n > sizeof(buf))
		return -2;
	return bpf_ringbuf_output(&ring, buf, n, a->flags);
}
