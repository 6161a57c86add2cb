/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pangolin event ABI: the one header the kernel programs (src/bpf/) and userspace share.
 *
 * Every record that crosses the ring buffer starts with struct pg_event_hdr; hdr.type says
 * which payload struct follows and hdr.size how many bytes the record holds. Records are
 * fixed-size per type, except that the kernel may end an open or exec record right after the
 * bytes its last field uses (open.path up to its NUL, exec.argv up to argv_len): writing a
 * 40-byte path and not 256 is what the traced task saves. Readers zero the rest
 * (pg_event_record_accept). The layout is pinned by tests/unit/test_abi.c: change a field and
 * that test fails until the expected offsets are updated on purpose.
 *
 * Rules for changing this file without breaking recordings:
 *  - never renumber an enum pg_event_type value, never reuse a retired one;
 *  - add new types at the end; add fields only at the end of a payload struct;
 *  - NDJSON (docs/events.md) carries names, not numbers, so recordings survive renumbering
 *    of nothing but the code; bump PG_SCHEMA_VERSION when a field changes meaning.
 */
#ifndef PANGOLIN_ABI_H
#define PANGOLIN_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Version of the NDJSON/protobuf schema built from these structs ("v" in every line). */
#define PG_SCHEMA_VERSION 1

#define PG_COMM_LEN  16
#define PG_PATH_LEN  256 /* bytes of a path captured, NUL included */
#define PG_ARGV_LEN  1024 /* bytes of NUL-separated argv captured */
#define PG_ARGV_MAX  64 /* arguments captured at most */
#define PG_QNAME_LEN 256 /* DNS name in dotted form, NUL included */
#define PG_DNS_PAYLOAD_LEN 512 /* bytes of a DNS message copied by the kernel */

enum pg_event_type {
	PG_EV_NONE = 0,
	PG_EV_EXEC = 1, /* a program image replaced the process (sched_process_exec) */
	PG_EV_FORK = 2, /* a new process (not thread) was created */
	PG_EV_EXIT = 3, /* the last thread of a process exited */
	PG_EV_OPEN = 4, /* open/openat/openat2/creat returned, or an io_uring open completed */
	PG_EV_CONNECT = 5, /* connect(2) on an INET/INET6 socket returned (or io_uring's) */
	PG_EV_DNS = 6, /* a DNS query left through sendto/sendmsg/sendmmsg */
	PG_EV_SETID = 7, /* setuid/setgid family changed credentials */
	PG_EV_PACKET = 8, /* a packet an AF_PACKET socket filter let through, or one from a pcap */
	PG_EV_PTRACE = 9, /* ptrace(2) attached to another process or wrote into it */
	/*
	 * A detection rule fired (src/detect.c). Userspace only: never in the ring buffer (the
	 * reader refuses it), its record is struct pg_alert_event in src/event.h. The number is
	 * here so no kernel type can ever take it.
	 */
	PG_EV_ALERT = 10,
	PG_EV_TYPE_COUNT /* keep last: array bound, not an ABI value */
};

/*
 * Common header, 64 bytes, on every record.
 *
 * ts_ns:    the kernel writes CLOCK_BOOTTIME ns (bpf_ktime_get_boot_ns); the BPF source
 *           rewrites it to ns since the Unix epoch before anything else sees the event.
 * start_ns: CLOCK_BOOTTIME ns at which the process (thread-group leader) started. With pid it
 *           names one process for the life of the machine even when pids are reused.
 */
struct pg_event_hdr {
	__u64 ts_ns;
	__u64 start_ns;
	__u64 cgroup_id; /* cgroup v2 id of the task (the inode number of its cgroup dir) */
	__u32 pid; /* thread-group id, what userspace calls the pid */
	__u32 tid;
	__u32 ppid; /* pid of the real parent */
	__u32 uid;
	__u32 gid;
	__u16 type; /* enum pg_event_type */
	__u16 size; /* bytes in the whole record, header included */
	char comm[PG_COMM_LEN];
};

/* Flags shared by payloads that carry strings the kernel had to cut. */
#define PG_TRUNC_PATH (1u << 0) /* path filled its buffer: the real one is longer */
#define PG_TRUNC_ARGV (1u << 1) /* more argv than PG_ARGV_LEN/PG_ARGV_MAX */
/*
 * open/connect/dns: submitted through io_uring, not the syscall. open and connect are
 * reported when the request completes, with the submitting thread's identity (ret is the
 * completion's result); dns when the send is submitted.
 */
#define PG_VIA_IO_URING (1u << 2)
/*
 * exec: not an exec that happened, a process found running when the sensor started (its exec
 * was before). ts is when it was found; path and argv come from /proc (path: the executable,
 * resolved). Identity fields are the kernel's, as in live events.
 */
#define PG_SNAPSHOT (1u << 3)
/*
 * exec: the executable has no link left in any directory: a memfd_create file, or a file
 * deleted since it was opened. Fileless execution, a classic way to run a payload that never
 * touches the disk.
 */
#define PG_EXE_UNLINKED (1u << 4)

/*
 * A policy's decision on the event (docs/enforce.md), carried in the flags word of the types a
 * policy acts on (exec.flags, open.pflags, connect.flags, dns.flags, setid.flags,
 * ptrace.flags), because no record has room to grow before its variable-length tail: bits
 * 8-27 hold the deciding rule's slot + 1 (0: no decision), bits 28-30 the action. Userspace
 * maps slots to policy and rule names; a slot is never given to another rule within a run, so
 * a reload cannot rename an event already in the ring.
 */
enum pg_action {
	PG_ACT_NONE = 0,
	PG_ACT_KILL = 1, /* the process was sent its rule's signal (SIGKILL by default) */
	PG_ACT_DENY = 2, /* the call failed with EPERM: what it asked for did not happen */
	PG_ACT_WOULD_KILL = 3, /* a rule of a policy in monitor mode: nothing was done */
	PG_ACT_WOULD_DENY = 4,
	PG_ACT_ALERT = 5, /* an alert rule matched (userspace only, never in a record) */
	PG_ACT_COUNT
};

#define PG_VERDICT_SLOT_SHIFT 8
#define PG_VERDICT_SLOT_MAX ((1u << 20) - 2) /* slots 0..this: slot + 1 fits 20 bits */
#define PG_VERDICT_ACTION_SHIFT 28
#define PG_VERDICT_MASK (0x7fffff00u)
#define PG_VERDICT(slot, action)                                \
	((((__u32)(slot) + 1u) << PG_VERDICT_SLOT_SHIFT) |     \
	 ((__u32)(action) << PG_VERDICT_ACTION_SHIFT))
/* The slot of a verdict, -1 when there is none; its action (enum pg_action). */
#define PG_VERDICT_SLOT(w) ((int)(((w) >> PG_VERDICT_SLOT_SHIFT) & 0xfffffu) - 1)
#define PG_VERDICT_ACTION(w) (((w) >> PG_VERDICT_ACTION_SHIFT) & 7u)

struct pg_exec_event {
	struct pg_event_hdr hdr;
	__u32 flags; /* PG_TRUNC_*, PG_SNAPSHOT, PG_EXE_UNLINKED, PG_VERDICT */
	__u16 argc; /* arguments captured in argv */
	__u16 argv_len; /* bytes used in argv, every argument NUL-terminated */
	char path[PG_PATH_LEN]; /* the file executed, as passed to execve */
	char argv[PG_ARGV_LEN];
};

struct pg_fork_event {
	struct pg_event_hdr hdr; /* the parent */
	__u32 child_pid;
	__u32 flags; /* reserved, 0 */
	__u64 child_start_ns; /* with child_pid, the child's identity */
};

struct pg_exit_event {
	struct pg_event_hdr hdr;
	__s32 exit_code; /* the status passed to exit(), 0..255, when not killed */
	__u32 signal; /* the signal that killed it, 0 if it exited */
	__u64 lifetime_ns; /* from process start to exit */
	__u32 core_dumped; /* 1 when the signal dumped core */
	__u32 pad;
};

struct pg_open_event {
	struct pg_event_hdr hdr;
	__s32 dirfd; /* AT_FDCWD (-100) for open/creat */
	__u32 flags; /* O_* */
	__u32 mode;
	__s32 ret; /* fd, or -errno */
	__u32 pflags; /* PG_TRUNC_PATH, PG_VIA_IO_URING, PG_VERDICT */
	__u32 pad;
	char path[PG_PATH_LEN];
};

/* Addresses are network byte order, IPv4 in the first 4 bytes of addr. Ports host order. */
struct pg_connect_event {
	struct pg_event_hdr hdr;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 dport;
	__s32 fd;
	__s32 ret; /* 0 or -errno (-EINPROGRESS for non-blocking sockets) */
	__u32 flags; /* PG_VIA_IO_URING, PG_VERDICT */
	__u8 daddr[16];
};

#define PG_DNS_F_TCP   (1u << 0) /* sent over a stream socket (2-byte length prefix) */
#define PG_DNS_F_PARSED (1u << 1) /* qname/qtype/id are filled in */
/* (1u << 2) is PG_VIA_IO_URING */
#define PG_DNS_F_CUT (1u << 5) /* longer than the payload: only its start is there */
#define PG_DNS_F_BARE (1u << 6) /* a stream message whose length was sent separately: the
				 * payload starts with the message, not with the length */

struct pg_dns_event {
	struct pg_event_hdr hdr;
	__u16 family;
	__u16 dport;
	__u16 id; /* DNS transaction id */
	__u16 qtype;
	__u16 qclass;
	__u16 payload_len; /* bytes copied in payload (0 after a replay) */
	__u32 flags; /* PG_DNS_F_*, PG_VIA_IO_URING, PG_VERDICT */
	__u8 daddr[16];
	char qname[PG_QNAME_LEN]; /* dotted, without the final dot; "" for the root */
	__u8 payload[PG_DNS_PAYLOAD_LEN]; /* the kernel copies the message; userspace parses it */
};

/* Which credential call ran; the value is part of the ABI. */
enum pg_setid_call {
	PG_SETID_SETUID = 1,
	PG_SETID_SETREUID = 2,
	PG_SETID_SETRESUID = 3,
	PG_SETID_SETFSUID = 4,
	PG_SETID_SETGID = 5,
	PG_SETID_SETREGID = 6,
	PG_SETID_SETRESGID = 7,
	PG_SETID_SETFSGID = 8,
};

/* Arguments of -1 ("unchanged") are kept as 0xffffffff. */
struct pg_setid_event {
	struct pg_event_hdr hdr;
	__u32 call; /* enum pg_setid_call */
	__s32 ret;
	__u32 id_real;
	__u32 id_effective;
	__u32 id_saved;
	__u32 flags; /* PG_VERDICT (was padding: the layout is unchanged) */
};

/*
 * ptrace requests reported: those that take control of a process or change it (the Linux
 * request numbers, part of the ABI). Reads (PEEK*, GETREGS, ...) are what debuggers and
 * strace do all the time and are not events.
 */
#define PG_PTRACE_TRACEME 0
#define PG_PTRACE_POKETEXT 4
#define PG_PTRACE_POKEDATA 5
#define PG_PTRACE_POKEUSER 6
#define PG_PTRACE_SETREGS 13
#define PG_PTRACE_SETFPREGS 15
#define PG_PTRACE_ATTACH 16
#define PG_PTRACE_SETREGSET 0x4205
#define PG_PTRACE_SEIZE 0x4206

struct pg_ptrace_event {
	struct pg_event_hdr hdr; /* the tracer */
	__u32 request; /* PG_PTRACE_* */
	__s32 ret; /* 0 or -errno */
	__u32 target_pid; /* the thread asked for (0 for TRACEME: the tracer is the parent) */
	__u32 flags; /* PG_VERDICT (was padding: the layout is unchanged) */
	__u64 addr; /* POKE*: the address written; else 0 */
};

/*
 * One DNS resource record of an answer section (pangolin sniff; reused by any DNS decoder).
 * data is the record's data in presentation form, as dig prints it: the address of an A or
 * AAAA record, the target name of CNAME/NS/PTR/DNAME, "10 mx.example" for MX, "0 5 443 x"
 * for SRV, quoted strings for TXT, the SOA fields, else RFC 3597 "\# len hex".
 * Names are dotted without the final dot, "" for the root; bytes other than letters, digits
 * and printable punctuation are written \DDD, a dot inside a label "\.".
 */
#define PG_DNS_ANS_DATA_TRUNC (1u << 0) /* data did not fit and was cut */

struct pg_dns_answer {
	__u16 type; /* DNS type (1 A, 28 AAAA, 5 CNAME, ...) */
	__u16 rclass; /* 1 IN */
	__u32 ttl;
	__u32 flags; /* PG_DNS_ANS_* */
	__u32 pad;
	__u8 addr[16]; /* A: 4 bytes, AAAA: 16; zero otherwise */
	char name[PG_QNAME_LEN]; /* the owner name */
	char data[PG_QNAME_LEN];
};

#define PG_PKT_DNS_ANSWERS 8 /* answers kept per packet; more set PG_PKT_F_DNS_ANS_TRUNC */

/* enum pg_pkt_direction: the packet socket's view (sll_pkttype), or unknown for a file */
#define PG_PKT_DIR_UNKNOWN 0
#define PG_PKT_DIR_IN 1 /* received: PACKET_HOST, BROADCAST, MULTICAST, OTHERHOST */
#define PG_PKT_DIR_OUT 2 /* sent by this host: PACKET_OUTGOING */

#define PG_PKT_F_VLAN (1u << 0) /* vlan holds the outermost 802.1Q/802.1ad tag's VID */
#define PG_PKT_F_FRAGMENT (1u << 1) /* an IP fragment (ports only in the first) */
#define PG_PKT_F_L4_TRUNC (1u << 2) /* the capture ends inside a header: fields after it are 0 */
#define PG_PKT_F_DNS (1u << 3) /* the payload was taken for DNS: dns_* fields follow */
#define PG_PKT_F_DNS_ERROR (1u << 4) /* ... and did not parse: dns_error says why */
#define PG_PKT_F_DNS_ANS_TRUNC (1u << 5) /* more answers than PG_PKT_DNS_ANSWERS */
#define PG_PKT_F_DNS_QUESTION (1u << 6) /* qname, qtype, qclass hold the first question */

/*
 * A captured packet, decoded. Packets have no process: pid, tid, uid, ... in the header are 0
 * and comm is empty; ts_ns is the capture time. Addresses are network byte order (IPv4 in the
 * first 4 bytes), ports host order.
 */
struct pg_packet_event {
	struct pg_event_hdr hdr;
	__u32 ifindex; /* 0 when unknown (read from a file) */
	__u32 wire_len; /* bytes on the wire */
	__u32 caplen; /* bytes captured (the filter's verdict can cut a packet short) */
	__u32 flags; /* PG_PKT_F_* */
	__u16 ethertype; /* after VLAN tags; 0 when the frame has none */
	__u16 vlan; /* VID, valid with PG_PKT_F_VLAN */
	__u16 family; /* AF_INET, AF_INET6, or 0 for non-IP */
	__u16 sport;
	__u16 dport;
	__u8 direction; /* PG_PKT_DIR_* */
	__u8 ip_proto; /* IPPROTO_* after IPv6 extension headers; 0 for non-IP */
	__u8 tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	__u8 dns_qr; /* 1: response */
	__u8 dns_rcode; /* RCODE from the header */
	__u8 dns_error; /* enum pg_dns_err (src/dns.h) with PG_PKT_F_DNS_ERROR */
	char ifname[16]; /* interface name, "" when unknown */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 dns_id;
	__u16 qtype;
	__u16 qclass;
	__u16 nanswers; /* entries used in answers */
	char qname[PG_QNAME_LEN];
	struct pg_dns_answer answers[PG_PKT_DNS_ANSWERS];
};

/*
 * In-kernel aggregations (pangolin profile, pangolin latency). These never cross the ring
 * buffer: the kernel updates maps and userspace reads snapshots, so the traffic per interval
 * is O(distinct keys), not O(events).
 */

/* Deepest stack bpf_get_stackid records (the kernel's PERF_MAX_STACK_DEPTH). */
#define PG_PROF_MAX_DEPTH 127

/*
 * Key of the profiler's counts map. A stack id >= 0 names an entry of the stack map; a
 * negative one is the -errno bpf_get_stackid returned: -EFAULT means "no stack of that kind"
 * (a kernel thread has no user stack, a sample taken in user mode has no kernel stack),
 * -EEXIST (hash collision) and -ENOMEM (stack map full) mean the stack was lost and counted.
 * PG_PROF_STACK_SKIPPED is written when --kernel-only/--user-only told the kernel not to walk
 * that side at all.
 */
#define PG_PROF_STACK_SKIPPED (-4096)

struct pg_prof_key {
	__u32 pid; /* thread-group id */
	__s32 kstack_id;
	__s32 ustack_id;
	__u32 pad;
	char comm[PG_COMM_LEN];
};

/* Per-CPU counters of the profiler (array indices). */
enum pg_prof_counter {
	PG_PROF_CTR_SAMPLES = 0, /* samples that passed the filters */
	PG_PROF_CTR_IDLE = 1, /* samples of the idle task, skipped */
	PG_PROF_CTR_KSTACK_LOST = 2, /* kernel stack id could not be had (-EEXIST/-ENOMEM) */
	PG_PROF_CTR_USTACK_LOST = 3, /* user stack id could not be had (-EEXIST/-ENOMEM) */
	PG_PROF_CTR_MAP_FULL = 4, /* counts map full: the sample itself was dropped */
	PG_PROF_CTR_COUNT /* keep last */
};

/*
 * Log2 latency histogram: slot k counts values v (in the unit chosen at load time) with
 * 2^k <= v < 2^(k+1); slot 0 also holds v == 0 (the libbpf-tools convention). Values beyond
 * the last slot land in it. sum is in the same unit, so the mean is exact.
 */
#define PG_HIST_SLOTS 48

struct pg_hist {
	__u64 slots[PG_HIST_SLOTS];
	__u64 count;
	__u64 sum;
	__u64 max;
};

/* Units the latency programs bucket in (rodata). */
enum pg_lat_unit {
	PG_LAT_NS = 0,
	PG_LAT_US = 1,
	PG_LAT_MS = 2,
};

/* Per-CPU counters of the latency programs (array indices). */
enum pg_lat_counter {
	PG_LAT_CTR_EVENTS = 0, /* latencies recorded into a histogram */
	PG_LAT_CTR_START_FULL = 1, /* start map full: an interval could not be timed (dropped) */
	PG_LAT_CTR_HIST_FULL = 2, /* histogram map full: a latency was dropped */
	PG_LAT_CTR_NO_START = 3, /* an end without a start (began before attach): not timed */
	PG_LAT_CTR_COUNT /* keep last */
};

/*
 * Both compilers (gcc for userspace, clang -target bpf for the kernel side) check these, so
 * the two sides cannot disagree on a size; tests/unit/test_abi.c pins every offset as well.
 */
_Static_assert(sizeof(struct pg_event_hdr) == 64, "pg_event_hdr layout changed");
_Static_assert(sizeof(struct pg_exec_event) == 1352, "pg_exec_event layout changed");
_Static_assert(sizeof(struct pg_fork_event) == 80, "pg_fork_event layout changed");
_Static_assert(sizeof(struct pg_exit_event) == 88, "pg_exit_event layout changed");
_Static_assert(sizeof(struct pg_open_event) == 344, "pg_open_event layout changed");
_Static_assert(sizeof(struct pg_connect_event) == 96, "pg_connect_event layout changed");
_Static_assert(sizeof(struct pg_dns_event) == 864, "pg_dns_event layout changed");
_Static_assert(sizeof(struct pg_setid_event) == 88, "pg_setid_event layout changed");
_Static_assert(sizeof(struct pg_dns_answer) == 544, "pg_dns_answer layout changed");
_Static_assert(sizeof(struct pg_packet_event) == 4760, "pg_packet_event layout changed");

_Static_assert(sizeof(struct pg_prof_key) == 32, "pg_prof_key layout changed");
_Static_assert(sizeof(struct pg_hist) == 408, "pg_hist layout changed");

#endif /* PANGOLIN_ABI_H */
