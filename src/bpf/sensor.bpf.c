// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin's kernel side: process, file, network, DNS and credential events into one ring
 * buffer, filtered before bpf_ringbuf_reserve, with every loss counted.
 *
 * Why these hooks: this kernel has no kprobes, fentry or BPF LSM, so everything hangs off
 * tracepoints, which are also the stable ABI across kernel versions:
 *  - sched_process_exec fires once the new image is committed, so a failed execve never
 *    looks like a process start, and comm is already the new one;
 *  - sched_process_fork (raw) hands us parent and child task_structs, so the child's start
 *    time (its identity) is read, not guessed;
 *  - sched_process_exit with group_dead tells the last thread from the others;
 *  - syscall enter/exit pairs for open, connect and setuid-family: the arguments exist only
 *    at enter and the result only at exit, so arguments wait in a per-thread table;
 *  - DNS rides on sendto/sendmsg/sendmmsg at enter: the query is in user memory then, and
 *    connected sockets (what glibc uses) reveal their peer through task->files.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "pg_abi.h"
#include "sensor.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define SOCK_STREAM 1
#define MAX_MMSG 4 /* messages of one sendmmsg looked at (glibc sends A and AAAA together) */

/* --- configuration, fixed before load ----------------------------------------------------- */

const volatile __u32 self_tgid = 0; /* pangolin itself: never traced */
const volatile __u32 type_mask = ~0u; /* bit (1 << type) per enabled event type */
const volatile __u8 pid_mode = PG_FM_OFF;
const volatile __u8 comm_mode = PG_FM_OFF;
const volatile __u8 uid_mode = PG_FM_OFF;
const volatile __u8 cgroup_mode = PG_FM_OFF;
const volatile __u8 port_mode = PG_FM_OFF;
const volatile __u32 n_prefixes = 0;
const volatile struct pg_prefix prefixes[PG_MAX_PREFIXES] = {};
const volatile __u64 wakeup_bytes = 256 * 1024; /* wake the reader once this much is waiting */
const volatile __u16 dns_port = 53;

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

/* Arguments waiting for their syscall's exit, per thread. */
struct open_args {
	const char *filename;
	__s32 dirfd;
	__u32 flags;
	__u32 mode;
};

struct connect_args {
	__s32 fd;
	__u16 family;
	__u16 dport;
	__u8 daddr[16];
};

struct setid_args {
	__u32 call;
	__u32 ids[3];
};

#define PENDING(name, value_type)                  \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_HASH);   \
		__uint(max_entries, 16384);        \
		__type(key, __u64);                \
		__type(value, value_type);         \
	} name SEC(".maps")

PENDING(pending_open, struct open_args);
PENDING(pending_connect, struct connect_args);
PENDING(pending_setid, struct setid_args);

/* Room to read a path before deciding whether it is worth a ring buffer slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[PG_PATH_LEN]);
} path_scratch SEC(".maps");

/* --- helpers ------------------------------------------------------------------------------- */

static __always_inline void count(__u32 type, int what)
{
	struct pg_type_counters *c = bpf_map_lookup_elem(&counters, &type);

	if (!c)
		return;
	if (what == 0)
		c->filtered++;
	else if (what == 1)
		c->emitted++;
	else
		c->dropped++;
}
#define COUNT_FILTERED 0
#define COUNT_EMITTED 1
#define COUNT_DROPPED 2

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
 * The filters every event type shares: self, pid, uid, cgroup, comm (cheapest first).
 * Counts the rejection, so userspace can show what the kernel kept away.
 */
static __always_inline bool pass_common(__u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (tgid == self_tgid)
		return false; /* not counted: pangolin's own activity is not the user's */
	if (!in_set(&filter_pids, &tgid, pid_mode))
		goto filtered;
	if (uid_mode != PG_FM_OFF) {
		__u32 uid = (__u32)bpf_get_current_uid_gid();

		if (!in_set(&filter_uids, &uid, uid_mode))
			goto filtered;
	}
	if (cgroup_mode != PG_FM_OFF) {
		__u64 cg = bpf_get_current_cgroup_id();

		if (!in_set(&filter_cgroups, &cg, cgroup_mode))
			goto filtered;
	}
	if (comm_mode != PG_FM_OFF) {
		struct pg_comm_key k = {};

		bpf_get_current_comm(k.comm, sizeof(k.comm));
		if (!in_set(&filter_comms, &k, comm_mode))
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

static __always_inline void fill_hdr(struct pg_event_hdr *h, __u32 type, __u32 size)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();

	h->ts_ns = bpf_ktime_get_boot_ns();
	h->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)ug;
	h->gid = ug >> 32;
	h->type = type;
	h->size = size;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
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
 * Submit without waking the reader unless enough is waiting: a wakeup per event would make the
 * traced workload pay for the reader's context switches. The reader also polls on a timer.
 */
static __always_inline void submit(void *e, __u32 type)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(e, avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	count(type, COUNT_EMITTED);
}

/* Read a user path into dst (PG_PATH_LEN); returns PG_TRUNC_PATH if it did not fit. */
static __always_inline __u32 read_user_path(char *dst, const char *src)
{
	long n = bpf_probe_read_user_str(dst, PG_PATH_LEN, src);
	char next = 0;

	if (n < 0) {
		dst[0] = 0;
		return 0;
	}
	if (n == PG_PATH_LEN && !bpf_probe_read_user(&next, 1, src + PG_PATH_LEN - 1) && next)
		return PG_TRUNC_PATH;
	return 0;
}

/* --- process lifecycle --------------------------------------------------------------------- */

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task;
	struct pg_exec_event *e;
	unsigned long start, end, len;
	__u32 off;
	char *scratch;
	__u32 zero = 0;

	if (!type_on(PG_EV_EXEC) || !pass_common(PG_EV_EXEC))
		return 0;
	off = ctx->__data_loc_filename & 0xffff;
	if (n_prefixes) {
		scratch = bpf_map_lookup_elem(&path_scratch, &zero);
		if (!scratch)
			return 0;
		bpf_probe_read_kernel_str(scratch, PG_PATH_LEN, (void *)ctx + off);
		if (!pass_prefix(PG_EV_EXEC, scratch))
			return 0;
	}
	e = reserve(PG_EV_EXEC, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, PG_EV_EXEC, sizeof(*e));
	e->flags = 0;
	e->argc = 0; /* counted by userspace from argv_len */
	if (bpf_probe_read_kernel_str(e->path, sizeof(e->path), (void *)ctx + off) == PG_PATH_LEN)
		e->flags |= PG_TRUNC_PATH; /* the kernel copy is NUL-terminated; full means cut */
	task = (struct task_struct *)bpf_get_current_task();
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > PG_ARGV_LEN) {
		len = PG_ARGV_LEN;
		e->flags |= PG_TRUNC_ARGV;
	}
	if (bpf_probe_read_user(e->argv, len, (void *)start))
		len = 0;
	e->argv_len = len;
	submit(e, PG_EV_EXEC);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	struct pg_fork_event *e;
	__u32 cpid, ctgid;

	if (!type_on(PG_EV_FORK))
		return 0;
	cpid = BPF_CORE_READ(child, pid);
	ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid)
		return 0; /* a new thread, not a new process */
	if (!pass_common(PG_EV_FORK))
		return 0;
	e = reserve(PG_EV_FORK, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, PG_EV_FORK, sizeof(*e));
	e->child_pid = ctgid;
	e->flags = 0;
	e->child_start_ns = BPF_CORE_READ(child, start_boottime);
	submit(e, PG_EV_FORK);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pg_exit_event *e;
	bool last;
	__u32 code;

	if (!type_on(PG_EV_EXIT))
		return 0;
	/* Only the last thread's exit ends the process. Kernels before group_dead was added to
	 * the tracepoint: the live count has already been decremented here. */
	if (bpf_core_field_exists(ctx->group_dead))
		last = BPF_CORE_READ(ctx, group_dead);
	else
		last = BPF_CORE_READ(task, signal, live.counter) == 0;
	if (!last || !pass_common(PG_EV_EXIT))
		return 0;
	e = reserve(PG_EV_EXIT, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, PG_EV_EXIT, sizeof(*e));
	code = BPF_CORE_READ(task, exit_code);
	e->exit_code = (code >> 8) & 0xff;
	e->signal = code & 0x7f;
	e->core_dumped = (code & 0x80) ? 1 : 0;
	e->pad = 0;
	e->lifetime_ns = e->hdr.ts_ns - e->hdr.start_ns;
	submit(e, PG_EV_EXIT);
	return 0;
}

/* --- files --------------------------------------------------------------------------------- */

static __always_inline int open_enter(int dirfd, const char *filename, __u32 flags, __u32 mode)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct open_args a = { .filename = filename, .dirfd = dirfd, .flags = flags, .mode = mode };

	if (!type_on(PG_EV_OPEN) || !pass_common(PG_EV_OPEN))
		return 0;
	if (bpf_map_update_elem(&pending_open, &id, &a, BPF_ANY))
		count(PG_EV_OPEN, COUNT_DROPPED); /* too many opens in flight: a counted loss */
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter((int)ctx->args[0], (const char *)ctx->args[1], (__u32)ctx->args[2],
			  (__u32)ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int handle_openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return open_enter((int)ctx->args[0], (const char *)ctx->args[1], (__u32)how.flags,
			  (__u32)how.mode);
}

SEC("tracepoint/syscalls/sys_enter_open")
int handle_open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(-100, (const char *)ctx->args[0], (__u32)ctx->args[1], (__u32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int handle_creat_enter(struct trace_event_raw_sys_enter *ctx)
{
	/* creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode) */
	return open_enter(-100, (const char *)ctx->args[0], 01 | 0100 | 01000, (__u32)ctx->args[1]);
}

static __always_inline int open_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct open_args *ap, a;
	struct pg_open_event *e;
	char *scratch;
	__u32 zero = 0;

	ap = bpf_map_lookup_elem(&pending_open, &id);
	if (!ap)
		return 0;
	a = *ap;
	bpf_map_delete_elem(&pending_open, &id);
	if (n_prefixes) {
		scratch = bpf_map_lookup_elem(&path_scratch, &zero);
		if (!scratch)
			return 0;
		read_user_path(scratch, a.filename);
		if (!pass_prefix(PG_EV_OPEN, scratch))
			return 0;
	}
	e = reserve(PG_EV_OPEN, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, PG_EV_OPEN, sizeof(*e));
	e->dirfd = a.dirfd;
	e->flags = a.flags;
	e->mode = a.mode;
	e->ret = (__s32)ctx->ret;
	e->pad = 0;
	e->pflags = read_user_path(e->path, a.filename);
	submit(e, PG_EV_OPEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int handle_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int handle_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_open")
int handle_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int handle_creat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx);
}

/* --- network ------------------------------------------------------------------------------- */

/* A user sockaddr: family, port (host order) and address. false when not INET/INET6. */
static __always_inline bool read_sockaddr(const void *uaddr, __u32 len, __u16 *family, __u16 *port,
					  __u8 *addr)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || len < sizeof(struct sockaddr_in))
		return false;
	/* constant sizes: a variable one loses its bounds in the verifier after clang spills it */
	if (len >= sizeof(struct sockaddr_in6)) {
		if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in6), uaddr))
			return false;
	} else if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr)) {
		return false;
	}
	*family = sa.sin6_family;
	*port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		__builtin_memset(addr, 0, 16);
		__builtin_memcpy(addr, &in->sin_addr.s_addr, 4);
		return true;
	}
	if (sa.sin6_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		__builtin_memcpy(addr, &sa.sin6_addr, 16);
		return true;
	}
	return false;
}

/* The socket behind fd of the current task, or NULL when fd is not a socket. */
static __always_inline struct sock *fd_to_sock(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds;
	struct file *f = NULL;
	struct socket *sock;
	unsigned int max;
	umode_t mode;

	if (fd < 0)
		return NULL;
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int handle_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct connect_args a = { .fd = (int)ctx->args[0] };

	if (!type_on(PG_EV_CONNECT))
		return 0;
	if (!read_sockaddr((void *)ctx->args[1], (__u32)ctx->args[2], &a.family, &a.dport, a.daddr))
		return 0; /* AF_UNIX and friends are not network connections */
	if (!pass_common(PG_EV_CONNECT) || !pass_port(PG_EV_CONNECT, a.dport))
		return 0;
	if (bpf_map_update_elem(&pending_connect, &id, &a, BPF_ANY))
		count(PG_EV_CONNECT, COUNT_DROPPED);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int handle_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct connect_args *a;
	struct pg_connect_event *e;

	a = bpf_map_lookup_elem(&pending_connect, &id);
	if (!a)
		return 0;
	e = reserve(PG_EV_CONNECT, sizeof(*e));
	if (e) {
		fill_hdr(&e->hdr, PG_EV_CONNECT, sizeof(*e));
		e->family = a->family;
		e->dport = a->dport;
		e->fd = a->fd;
		e->ret = (__s32)ctx->ret;
		e->pad = 0;
		__builtin_memcpy(e->daddr, a->daddr, 16);
		submit(e, PG_EV_CONNECT);
	}
	bpf_map_delete_elem(&pending_connect, &id);
	return 0;
}

/* --- DNS ----------------------------------------------------------------------------------- */

/*
 * One outgoing message on fd: to uaddr when given (sendto/sendmsg with a name), else to the
 * socket's connected peer. Emits a DNS event when the destination port is the DNS port.
 */
static __always_inline void dns_message(int fd, const void *uaddr, __u32 alen, const void *buf,
					__u64 len)
{
	__u16 family = 0, port = 0;
	__u8 addr[16] = {};
	struct sock *sk = NULL;
	struct pg_dns_event *e;
	__u32 n;

	if (uaddr) {
		if (!read_sockaddr(uaddr, alen, &family, &port, addr))
			return;
	} else {
		sk = fd_to_sock(fd);
		if (!sk)
			return;
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
		port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (family == AF_INET) {
			__u32 a4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);

			__builtin_memcpy(addr, &a4, 4);
		} else if (family == AF_INET6) {
			BPF_CORE_READ_INTO(addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		} else {
			return;
		}
	}
	if (port != dns_port || !buf || len == 0)
		return;
	if (!pass_common(PG_EV_DNS) || !pass_port(PG_EV_DNS, port))
		return;
	if (!sk)
		sk = fd_to_sock(fd);
	e = reserve(PG_EV_DNS, sizeof(*e));
	if (!e)
		return;
	fill_hdr(&e->hdr, PG_EV_DNS, sizeof(*e));
	e->family = family;
	e->dport = port;
	e->id = 0;
	e->qtype = 0;
	e->qclass = 0;
	e->flags = 0;
	if (sk && BPF_CORE_READ(sk, sk_type) == SOCK_STREAM)
		e->flags |= PG_DNS_F_TCP;
	__builtin_memcpy(e->daddr, addr, 16);
	e->qname[0] = 0;
	n = len > PG_DNS_PAYLOAD_LEN ? PG_DNS_PAYLOAD_LEN : (__u32)len;
	if (bpf_probe_read_user(e->payload, n, buf))
		n = 0;
	e->payload_len = n;
	submit(e, PG_EV_DNS);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int handle_sendto_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (!type_on(PG_EV_DNS))
		return 0;
	dns_message((int)ctx->args[0], (void *)ctx->args[4], (__u32)ctx->args[5],
		    (void *)ctx->args[1], ctx->args[2]);
	return 0;
}

static __always_inline void dns_msghdr(int fd, const struct user_msghdr *um)
{
	struct user_msghdr m;
	struct iovec iov;

	if (bpf_probe_read_user(&m, sizeof(m), um))
		return;
	if (!m.msg_iov || m.msg_iovlen < 1)
		return;
	if (bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov))
		return;
	dns_message(fd, m.msg_name, (__u32)m.msg_namelen, iov.iov_base, iov.iov_len);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int handle_sendmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (!type_on(PG_EV_DNS))
		return 0;
	dns_msghdr((int)ctx->args[0], (const struct user_msghdr *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int handle_sendmmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	const struct mmsghdr *v = (const struct mmsghdr *)ctx->args[1];
	__u32 vlen = (__u32)ctx->args[2];

	if (!type_on(PG_EV_DNS))
		return 0;
	for (__u32 i = 0; i < MAX_MMSG; i++) {
		if (i >= vlen)
			break;
		dns_msghdr((int)ctx->args[0], &v[i].msg_hdr);
	}
	return 0;
}

/* --- credentials --------------------------------------------------------------------------- */

static __always_inline int setid_enter(__u32 call, __u32 a, __u32 b, __u32 c)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct setid_args s = { .call = call, .ids = { a, b, c } };

	if (!type_on(PG_EV_SETID) || !pass_common(PG_EV_SETID))
		return 0;
	if (bpf_map_update_elem(&pending_setid, &id, &s, BPF_ANY))
		count(PG_EV_SETID, COUNT_DROPPED);
	return 0;
}

static __always_inline int setid_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct setid_args *s;
	struct pg_setid_event *e;

	s = bpf_map_lookup_elem(&pending_setid, &id);
	if (!s)
		return 0;
	e = reserve(PG_EV_SETID, sizeof(*e));
	if (e) {
		fill_hdr(&e->hdr, PG_EV_SETID, sizeof(*e));
		e->call = s->call;
		e->ret = (__s32)ctx->ret;
		e->id_real = s->ids[0];
		e->id_effective = s->ids[1];
		e->id_saved = s->ids[2];
		e->pad = 0;
		submit(e, PG_EV_SETID);
	}
	bpf_map_delete_elem(&pending_setid, &id);
	return 0;
}

#define UNCHANGED 0xffffffffu
/* One program per call and direction; the exits share one body. setfs*id put the new id in
 * id_effective and return the previous one (not an error code). */
#define SETID_ENTER(name, call, a, b, c)                                   \
	SEC("tracepoint/syscalls/sys_enter_" #name)                        \
	int handle_##name##_enter(struct trace_event_raw_sys_enter *ctx)   \
	{                                                                  \
		return setid_enter(call, a, b, c);                         \
	}
#define SETID_EXIT(name)                                                   \
	SEC("tracepoint/syscalls/sys_exit_" #name)                         \
	int handle_##name##_exit(struct trace_event_raw_sys_exit *ctx)     \
	{                                                                  \
		return setid_exit(ctx);                                    \
	}

SETID_ENTER(setuid, PG_SETID_SETUID, (__u32)ctx->args[0], UNCHANGED, UNCHANGED)
SETID_ENTER(setreuid, PG_SETID_SETREUID, (__u32)ctx->args[0], (__u32)ctx->args[1], UNCHANGED)
SETID_ENTER(setresuid, PG_SETID_SETRESUID, (__u32)ctx->args[0], (__u32)ctx->args[1],
	    (__u32)ctx->args[2])
SETID_ENTER(setfsuid, PG_SETID_SETFSUID, UNCHANGED, (__u32)ctx->args[0], UNCHANGED)
SETID_ENTER(setgid, PG_SETID_SETGID, (__u32)ctx->args[0], UNCHANGED, UNCHANGED)
SETID_ENTER(setregid, PG_SETID_SETREGID, (__u32)ctx->args[0], (__u32)ctx->args[1], UNCHANGED)
SETID_ENTER(setresgid, PG_SETID_SETRESGID, (__u32)ctx->args[0], (__u32)ctx->args[1],
	    (__u32)ctx->args[2])
SETID_ENTER(setfsgid, PG_SETID_SETFSGID, UNCHANGED, (__u32)ctx->args[0], UNCHANGED)
SETID_EXIT(setuid)
SETID_EXIT(setreuid)
SETID_EXIT(setresuid)
SETID_EXIT(setfsuid)
SETID_EXIT(setgid)
SETID_EXIT(setregid)
SETID_EXIT(setresgid)
SETID_EXIT(setfsgid)
