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
	__u64 dropped; /* passed the filter but lost: the ring buffer was full */
	__u64 pad;
};

/* Comm keys are the 16 bytes bpf_get_current_comm writes, zero padded. */
struct pg_comm_key {
	char comm[16];
};

/*
 * Key sets this small are compared in place from rodata, a few loads each; larger ones go to
 * a hash map, whose lookup (a helper call and a jhash) costs more than the compares. Keys are
 * two words so one layout serves comms (16 bytes) and pids, uids, cgroup ids (word 0 only).
 */
#define PG_INLINE_KEYS 4

enum pg_set_id {
	PG_SET_PID = 0,
	PG_SET_UID,
	PG_SET_CGROUP,
	PG_SET_COMM,
	PG_SET_COUNT,
};

struct pg_inline_set {
	__u32 n; /* 0: the set, if any, is in its hash map */
	__u32 pad;
	__u64 k[PG_INLINE_KEYS][2];
};

/*
 * What handle_sys_exit does for a syscall number: userspace fills sys_kind[nr] from this
 * architecture's numbers (<sys/syscall.h>) for the event types the filter wants. The credential
 * calls are in the order of enum pg_setid_call (emit_setid relies on it).
 */
enum pg_sys_kind {
	PG_SYS_NONE = 0,
	PG_SYS_OPEN,
	PG_SYS_OPENAT,
	PG_SYS_OPENAT2,
	PG_SYS_CREAT,
	PG_SYS_CONNECT,
	PG_SYS_SENDTO,
	PG_SYS_SENDMSG,
	PG_SYS_SENDMMSG,
	PG_SYS_WRITE, /* DNS on a connected socket: Go's resolver, DNS over TCP */
	PG_SYS_WRITEV,
	PG_SYS_SETUID,
	PG_SYS_SETREUID,
	PG_SYS_SETRESUID,
	PG_SYS_SETFSUID,
	PG_SYS_SETGID,
	PG_SYS_SETREGID,
	PG_SYS_SETRESGID,
	PG_SYS_SETFSGID,
	PG_SYS_PTRACE,
	PG_SYS_KIND_COUNT
};

/* The event type of each kind: one table for handle_sys_exit and source_bpf.c. */
#define PG_SYS_KIND_TYPES                                                                     \
	{                                                                                     \
		[PG_SYS_OPEN] = PG_EV_OPEN, [PG_SYS_OPENAT] = PG_EV_OPEN,                     \
		[PG_SYS_OPENAT2] = PG_EV_OPEN, [PG_SYS_CREAT] = PG_EV_OPEN,                   \
		[PG_SYS_CONNECT] = PG_EV_CONNECT, [PG_SYS_SENDTO] = PG_EV_DNS,                \
		[PG_SYS_SENDMSG] = PG_EV_DNS, [PG_SYS_SENDMMSG] = PG_EV_DNS,                  \
		[PG_SYS_WRITE] = PG_EV_DNS, [PG_SYS_WRITEV] = PG_EV_DNS,                      \
		[PG_SYS_SETUID] = PG_EV_SETID, [PG_SYS_SETREUID] = PG_EV_SETID,               \
		[PG_SYS_SETRESUID] = PG_EV_SETID, [PG_SYS_SETFSUID] = PG_EV_SETID,            \
		[PG_SYS_SETGID] = PG_EV_SETID, [PG_SYS_SETREGID] = PG_EV_SETID,               \
		[PG_SYS_SETRESGID] = PG_EV_SETID, [PG_SYS_SETFSGID] = PG_EV_SETID,            \
		[PG_SYS_PTRACE] = PG_EV_PTRACE,                                               \
	}

/*
 * DNS messages the sensor saw leave but did not report whole, or did not look at: counted per
 * reason in the dns_skips map (shown by --stats). Append only.
 */
enum pg_dns_skip {
	PG_DNS_SKIP_LENGTH_ALONE = 0, /* a stream's 2-byte length sent on its own (the message,
				       * sent next, is reported) */
	PG_DNS_SKIP_CUT, /* longer than PG_DNS_PAYLOAD_LEN: reported from its start (the question
			  * is there), the rest not copied */
	PG_DNS_SKIP_NOT_LOOKED_AT, /* past the messages looked at in one send, writev or sendmmsg */
	PG_DNS_SKIP_IO_URING, /* sent through io_uring from a buffer the kernel picks later */
	PG_DNS_SKIP_COUNT
};

#define PG_SYS_MAX 512 /* syscall numbers looked at: all of x86_64's */

#endif /* PANGOLIN_SENSOR_H */
