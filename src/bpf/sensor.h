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
#include "pg_abi.h"

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
	PG_SYS_URING_ENTER, /* no event: clears what an LSM hook left in it (policies) */
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

/* --- policies: the kernel's half of enforcement (docs/enforce.md, src/policy.h) -------------
 *
 * Selector bitmaps. Per event type, the kernel rules (a policy rule's match in disjunctive
 * form: one kernel rule per disjunct) get bit positions 0..PG_POL_RULES-1. Each dimension the
 * kernel can look at (enum pg_pol_dim) maps a value to two bitmaps: pos, the rules that require
 * the value to be in their set, and neg, the rules that require it not to be. Per event, one
 * lookup per dimension some rule of the type uses:
 *     accept = (pos | nopos) & ~neg          (nopos: the rules with no positive condition there)
 * and a rule matches when every dimension accepts it; the lowest such bit decides (userspace
 * orders bits deny, kill, then monitor's). So 1,000 rules cost about what 4 cost: a lookup per
 * dimension and a few words of AND.
 *
 * Every key carries a bank (0 or 1). pg_pol_bank[0] names the bank in force; a reload fills
 * the other bank, flips the index (one write: every event sees one policy set whole), waits
 * for the programs that read the old index to finish (an RCU grace period) and clears it.
 */
#define PG_POL_WORDS 16
#define PG_POL_RULES (PG_POL_WORDS * 64) /* kernel rules per event type and bank */
#define PG_POL_NTYPES 16 /* userspace's plan: indexed by event type (enum pg_event_type) */
#define PG_POL_KTYPES 6 /* the kernel's maps: the types a policy acts on, by pg_pol_kidx() */
#define PG_POL_LEVELS 8 /* cgroup levels 'cgroup startswith "/a/b/"' rules can name per type */
#define PG_POL_PATH_BYTES 252 /* path bytes an LPM key holds: 256 of data less its header */
#define PG_POL_QNAME_LABELS 16 /* labels of a DNS name looked at, from the right */

enum pg_pol_dim {
	PG_DIM_UNLINKED = 0, /* exec: the file has no link (memfd, deleted) */
	PG_DIM_UID, /* hash: the real uid */
	PG_DIM_COMM, /* hash: 16 zero-padded bytes */
	PG_DIM_DPORT, /* hash */
	PG_DIM_PATH, /* LPM: exact (path plus its NUL) and prefix */
	PG_DIM_SUFFIX, /* LPM over the reversed path: endswith */
	PG_DIM_DADDR, /* LPM: a family byte (4, 6), then the address; IPv4-mapped IPv6 as IPv4 */
	PG_DIM_QNAME, /* hash of a lowercase dotted name: exact, or a suffix at a label boundary */
	PG_DIM_CGROUP, /* hash: the cgroup's id (exact), or an ancestor's id ('under') */
	PG_DIM_EXE, /* LPM: the process's binary, as its exec named it */
	PG_DIM_PEXE, /* LPM: its parent's binary */
	PG_DIM_COUNT
};

/* The kernel maps' index of an event type a policy acts on; -1 for the others. */
static inline int pg_pol_kidx(__u32 type)
{
	switch (type) {
	case PG_EV_EXEC: return 0;
	case PG_EV_OPEN: return 1;
	case PG_EV_CONNECT: return 2;
	case PG_EV_DNS: return 3;
	case PG_EV_SETID: return 4;
	case PG_EV_PTRACE: return 5;
	default: return -1;
	}
}

/* pg_pol_key.kind */
#define PG_POL_EXACT 0
#define PG_POL_UNDER 1 /* cgroup: a strict ancestor; qname: a suffix after a label boundary */

struct pg_pol_bits {
	__u64 pos[PG_POL_WORDS];
	__u64 neg[PG_POL_WORDS];
};

/* Key of the hash dimensions (uid, comm, dport, qname, cgroup). */
struct pg_pol_key {
	__u8 bank;
	__u8 type;
	__u8 dim;
	__u8 kind; /* PG_POL_EXACT or PG_POL_UNDER */
	__u32 pad;
	__u64 v[2]; /* comm: both words; the others: v[0], v[1] = 0 */
};

/* Key of the prefix dimensions (path, suffix, exe, parent exe, daddr): 256 bytes of data. */
struct pg_pol_lpm_key {
	__u32 prefixlen; /* bits, from bank on */
	__u8 bank;
	__u8 type;
	__u8 dim;
	__u8 pad;
	__u8 data[PG_POL_PATH_BYTES];
};

#define PG_POL_GATE_BITS 512

/* The path gate's bit for a path's first 4 bytes (head, as they lie in memory). */
static inline __u32 pg_pol_gate_bit(__u32 head)
{
	return (head * 2654435761u) >> 23; /* 0..511: Knuth's multiplicative hash, top 9 bits */
}

/* Per bank and event type: what the kernel needs to know before any lookup. */
struct pg_pol_cfg {
	__u32 nwords; /* words of bits in use; 0: no rule of this type */
	__u32 dims; /* bit (1 << dim) per dimension some rule looks at */
	__u32 required; /* dimensions every rule has a positive condition on: a miss ends it */
	__u8 nlevels; /* cgroup ancestor levels to look up for 'under' selectors */
	__u8 levels[PG_POL_LEVELS];
	__u8 path_gate_on; /* path_gate says which paths no rule can match */
	__u8 pad[2];
	/*
	 * With path_gate_on (every rule needs a path, and every path entry has 4 bytes or more):
	 * a bit per pg_pol_gate_bit() of the first 4 bytes of each entry. A path whose bit is
	 * clear starts like no rule's path: decided (none) without the trie.
	 */
	__u64 path_gate[PG_POL_GATE_BITS / 64];
	__u64 live[PG_POL_WORDS]; /* the bits in use */
	__u64 nopos[PG_DIM_COUNT][PG_POL_WORDS]; /* rules without a positive condition on dim */
};

/* Per bank, event type and bit: what the rule does. */
struct pg_pol_rule {
	__u32 verdict; /* PG_VERDICT(slot, action) for the event */
	__u8 action; /* enum pg_action: what the kernel does (KILL, DENY or a WOULD_) */
	__u8 signal; /* KILL: the signal */
	__u16 pad;
};

/*
 * DNS names are matched by hash, a name as its labels: each label hashed on its own (FNV-1a over
 * its lowercase bytes), then the labels folded from the right, so that one pass gives the hash
 * of every suffix at a label boundary (what 'qname endswith ".example.com"' needs): "a.b.c" is
 * fold(fold(fold(OFFSET, H("c")), H("b")), H("a")).
 */
#define PG_POL_FNV_OFFSET 0xcbf29ce484222325ULL
#define PG_POL_FNV_PRIME 0x100000001b3ULL

static inline __u64 pg_pol_label_step(__u64 h, __u8 c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return (h ^ c) * PG_POL_FNV_PRIME;
}

static inline __u64 pg_pol_fold(__u64 suffix, __u64 label)
{
	return (suffix ^ label) * PG_POL_FNV_PRIME;
}

/*
 * The binaries of a process (tgid -> this), for the exe and parent exe selectors: a tracepoint
 * cannot read a path from a task cheaply, so they are kept from when they are known. exec sets
 * exe (its file name), fork copies the parent's exe into both of the child's, exit deletes;
 * userspace fills the processes running at start-up from /proc. Lengths count the NUL.
 */
struct pg_pol_proc {
	__u16 exe_len;
	__u16 pexe_len;
	__u32 pad;
	char exe[PG_PATH_LEN];
	char pexe[PG_PATH_LEN];
};

#define PG_SYS_MAX 512 /* syscall numbers looked at: all of x86_64's */

#endif /* PANGOLIN_SENSOR_H */
