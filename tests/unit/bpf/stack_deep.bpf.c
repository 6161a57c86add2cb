// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fixture for tests/unit/test_bpf_objects.c: the shape that once made the sensor refuse to
 * load (a 344-byte record on a __noinline function's frame, called from a program with locals
 * of its own: 560 bytes together, over the verifier's 512), and the same record kept on one
 * frame, which fits. The stack analysis must tell the two apart.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct rec {
	char b[344];
};

static __noinline int fill(void *ctx)
{
	struct rec r;

	bpf_probe_read_kernel(&r, sizeof(r), ctx);
	return r.b[10];
}

SEC("raw_tp/sys_exit")
int too_deep(void *ctx)
{
	char locals[200];

	bpf_probe_read_kernel(locals, sizeof(locals), ctx);
	return fill(ctx) + locals[3];
}

SEC("raw_tp/sys_enter")
int fits(void *ctx)
{
	struct rec r;

	bpf_probe_read_kernel(&r, sizeof(r), ctx);
	return r.b[7];
}
