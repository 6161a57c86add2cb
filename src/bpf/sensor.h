/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sensor's control ABI: how userspace configures the kernel-side filters and reads the
 * counters. Events themselves are in pg_abi.h. Shared by sensor.bpf.c and source_bpf.c.
 */
#ifndef PANGOLIN_SENSOR_H
#define PANGOLIN_SENSOR_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Path prefixes the kernel can test (path startswith "..."): how many, how long. */
#define PG_MAX_PREFIXES 8
#define PG_PREFIX_LEN 64

/* How a key set (pids, comms, uids, cgroups, ports) applies. */
enum pg_filter_mode {
	PG_FM_OFF = 0, /* no condition */
	PG_FM_ALLOW = 1, /* only keys in the set pass */
	PG_FM_DENY = 2, /* keys in the set are dropped */
};

struct pg_prefix {
	__u32 len;
	char s[PG_PREFIX_LEN];
};

/* Per event type, per CPU. generated == emitted + dropped for events that passed filters. */
struct pg_type_counters {
	__u64 filtered; /* rejected by the kernel-side filter: never reserved */
	__u64 emitted; /* written to the ring buffer */
	__u64 dropped; /* passed the filter but lost: ring buffer full or in-flight table full */
	__u64 pad;
};

/* Comm keys are the 16 bytes bpf_get_current_comm writes, zero padded. */
struct pg_comm_key {
	char comm[16];
};

#endif /* PANGOLIN_SENSOR_H */
