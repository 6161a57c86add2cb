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
 *  - open, connect, DNS sends and the setuid family all come from one raw tracepoint at
 *    sys_exit (see handle_sys_exit for why): arguments from the saved registers, the result
 *    from the tracepoint; connected sockets (what glibc's resolver uses) reveal their peer
 *    through task->files.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define SOCK_STREAM 1

const volatile __u16 dns_port = 53;

/*
 * Open and exec records are built off the ring and copied to it only as far as their last
 * string goes (bpf_ringbuf_output takes a variable size): an open of a 30-byte path takes
 * 120 bytes of ring, not 352, so a ring holds three times as many. They are built in per-CPU
 * scratch slots, not on the BPF stack: a program's frames together get 512 bytes, and a
 * 344-byte open record next to handle_sys_exit's own locals passed that (560 bytes) on every
 * kernel that does not give each subprogram a stack of its own (all before 6.13, and 6.13+
 * where the JIT does not). Tracing programs do not nest on a CPU, so one slot each suffices.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_exec_event);
} exec_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_open_event);
} open_scratch SEC(".maps");

#include "policy.bpf.h"

/* --- process lifecycle --------------------------------------------------------------------- */

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task;
	struct pg_exec_event *e;
	unsigned long start, end, len;
	__u32 off, zero = 0, verdict = 0;
	long plen;

	task = current_task();
	/* with policies the process table learns every exec, and a rule may decide one that the
	 * filter does not want: the filters wait until the decision is made */
	if (!policy_on && (!type_on(PG_EV_EXEC) || !pass_common(task, PG_EV_EXEC)))
		return 0;
	e = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!e)
		return 0;
	e->flags = 0;
	/* the new image's file: no link in any directory means memfd_create or deleted */
	if (TREAD(task, mm) && TREAD(task, mm, exe_file) &&
	    TREAD(task, mm, exe_file, f_inode, __i_nlink) == 0)
		e->flags |= PG_EXE_UNLINKED;
	off = ctx->__data_loc_filename & 0xffff;
	plen = bpf_probe_read_kernel_str(e->path, sizeof(e->path), (void *)ctx + off);
	if (plen == PG_PATH_LEN)
		e->flags |= PG_TRUNC_PATH; /* the kernel copy is NUL-terminated; full means cut */
	if (policy_on) {
		if (plen <= 0) {
			e->path[0] = 0;
			plen = 1;
		}
		pol_proc_exec(task, e->path, (__u32)plen);
		/* with BPF LSM, bprm_check_security decided it (a refusal never gets here) */
		if (pol_active(PG_EV_EXEC))
			verdict = pol_lsm_types & (1u << PG_EV_EXEC) ?
					  pol_lsm_taken(0, 0, PG_EV_EXEC) :
					  pol_exec(task, e->path, (__u32)plen,
						   e->flags & PG_EXE_UNLINKED);
		if (!verdict && (!type_on(PG_EV_EXEC) || !pass_common(task, PG_EV_EXEC)))
			return 0;
	}
	if (!verdict && !pass_prefix(PG_EV_EXEC, e->path))
		return 0;
	e->flags |= verdict;
	e->argc = 0; /* counted by userspace from argv_len */
	start = TREAD(task, mm, arg_start);
	end = TREAD(task, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > PG_ARGV_LEN) {
		len = PG_ARGV_LEN;
		e->flags |= PG_TRUNC_ARGV;
	}
	if (bpf_probe_read_user(e->argv, len, (void *)start))
		len = 0;
	e->argv_len = len;
	len += offsetof(struct pg_exec_event, argv); /* the record ends with argv's last byte */
	fill_hdr(task, &e->hdr, PG_EV_EXEC, len);
	output(e, PG_EV_EXEC, len);
	return 0;
}

/*
 * BPF LSM's exec decision: before the new image is even loaded. A refused exec fails with
 * EPERM and has no sched_process_exec: it is reported here, as an exec event without argv
 * (the arguments are not in the process yet). An interpreter's round (#! scripts) is the same
 * exec, decided already.
 */
SEC("lsm/bprm_check_security")
int BPF_PROG(pol_lsm_bprm, struct linux_binprm *bprm)
{
	struct task_struct *task;
	struct pg_exec_event *e;
	__u32 zero = 0, v, len;
	long plen;

	if (!policy_on || !(pol_lsm_types & (1u << PG_EV_EXEC)))
		return 0;
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		return 0;
	if (!pol_cfg_of(pol_bank_now(), PG_EV_EXEC) ||
	    !(e = bpf_map_lookup_elem(&exec_scratch, &zero)))
		return 0;
	e->flags = 0;
	if (BPF_CORE_READ(bprm, file, f_inode, __i_nlink) == 0)
		e->flags |= PG_EXE_UNLINKED;
	plen = bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	if (plen <= 0) {
		e->path[0] = 0;
		plen = 1;
	} else if (plen == PG_PATH_LEN) {
		e->flags |= PG_TRUNC_PATH;
	}
	task = current_task();
	v = pol_exec(task, e->path, (__u32)plen, e->flags & PG_EXE_UNLINKED);
	if (!v || !pol_verdict_refuses(v))
		return pol_lsm_leave(v, PG_EV_EXEC, 0);
	e->flags |= v;
	e->argc = 0;
	e->argv_len = 0;
	len = offsetof(struct pg_exec_event, argv);
	fill_hdr(task, &e->hdr, PG_EV_EXEC, len);
	output(e, PG_EV_EXEC, len);
	return pol_eperm();
}

SEC("raw_tp/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1], *parent;
	struct pg_fork_event *e;
	__u32 cpid, ctgid;

	if (!policy_on && !type_on(PG_EV_FORK))
		return 0;
	cpid = BPF_CORE_READ(child, pid);
	ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid)
		return 0; /* a new thread, not a new process */
	parent = current_task();
	if (policy_on) {
		pol_proc_fork(TREAD(parent, tgid), ctgid);
		if (!type_on(PG_EV_FORK))
			return 0;
	}
	if (!pass_common(parent, PG_EV_FORK))
		return 0;
	e = reserve(PG_EV_FORK, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(parent, &e->hdr, PG_EV_FORK, sizeof(*e));
	e->child_pid = ctgid;
	e->flags = 0;
	e->child_start_ns = BPF_CORE_READ(child, start_boottime);
	submit(e, PG_EV_FORK, sizeof(*e));
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	struct task_struct *task = current_task();
	struct pg_exit_event *e;
	bool last;
	__u32 code;

	if (!policy_on && !type_on(PG_EV_EXIT))
		return 0;
	/* Only the last thread's exit ends the process. Kernels before group_dead was added to
	 * the tracepoint: the live count has already been decremented here. */
	if (bpf_core_field_exists(ctx->group_dead))
		last = BPF_CORE_READ(ctx, group_dead);
	else
		last = TREAD(task, signal, live.counter) == 0;
	if (!last)
		return 0;
	if (policy_on) {
		pol_proc_exit(TREAD(task, tgid));
		if (!type_on(PG_EV_EXIT))
			return 0;
	}
	if (!pass_common(task, PG_EV_EXIT))
		return 0;
	e = reserve(PG_EV_EXIT, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(task, &e->hdr, PG_EV_EXIT, sizeof(*e));
	code = TREAD(task, exit_code);
	e->exit_code = (code >> 8) & 0xff;
	e->signal = code & 0x7f;
	e->core_dumped = (code & 0x80) ? 1 : 0;
	e->pad = 0;
	e->lifetime_ns = e->hdr.ts_ns - e->hdr.start_ns;
	submit(e, PG_EV_EXIT, sizeof(*e));
	return 0;
}

/*
 * The processes already running when the sensor starts: their exec and fork happened before
 * it, so without this a consumer could not place them (or their children) in the process
 * tree. A task iterator walks the kernel's task list once at start-up and writes the header
 * an exec event of each process would carry, read exactly as the live events read it (the
 * same start_ns, so the two join); userspace adds path and argv from /proc and the filter.
 * Kernel threads have neither and are left out.
 */
#define PF_KTHREAD 0x00200000

SEC("iter/task")
int snapshot_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct pg_event_hdr h;

	/* thread-group leaders of user processes that have not exited (zombies did, unseen) */
	if (!t || t->pid != t->tgid || (t->flags & PF_KTHREAD) || t->exit_state ||
	    t->tgid == self_tgid)
		return 0;
	fill_hdr(t, &h, PG_EV_EXEC, offsetof(struct pg_exec_event, argv));
	bpf_seq_write(ctx->meta->seq, &h, sizeof(h));
	return 0;
}

/* --- network ------------------------------------------------------------------------------- */

/*
 * A sockaddr (user memory, or a kernel copy when !user): family, port (host order) and
 * address. false when not INET/INET6.
 */
static __always_inline bool read_sockaddr(const void *uaddr, __u32 len, bool user, __u16 *family,
					  __u16 *port, __u8 *addr)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || len < sizeof(struct sockaddr_in))
		return false;
	/* constant sizes: a variable one loses its bounds in the verifier after clang spills it */
	if (len >= sizeof(struct sockaddr_in6)) {
		if (read_mem(user, &sa, sizeof(struct sockaddr_in6), uaddr))
			return false;
	} else if (read_mem(user, &sa, sizeof(struct sockaddr_in), uaddr)) {
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

/*
 * The socket behind fd of the task, or NULL when fd is not a socket. Since write(2) comes
 * through here (DNS on connected sockets), every write pays for it when DNS events are
 * wanted: one helper call (the fd table slot), the rest plain loads through BTF pointers.
 */
static __always_inline struct sock *fd_to_sock(struct task_struct *task, int fd)
{
	struct fdtable *fdt = TREAD(task, files, fdt);
	struct file *f;
	struct socket *sock;
	__u64 slot = 0;

	if (fd < 0 || (unsigned int)fd >= KREAD(fdt, max_fds))
		return NULL;
	if (bpf_probe_read_kernel(&slot, sizeof(slot), (void *)((__u64)KREAD(fdt, fd) + (__u64)fd * 8)) ||
	    !slot)
		return NULL;
	f = KPTR(struct file, slot);
	if ((KREAD(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = KPTR(struct socket, KREAD(f, private_data));
	return KREAD(sock, sk);
}

/*
 * A DNS message a send reports (its first bytes at buf, on fd): the verdict the egress hook
 * left for it, and the kill it asked for. Scalars only: a frame of its own at the end of the
 * DNS path's chain.
 */
static __noinline __u32 pol_dns_taken(__u64 fd, __u64 buf)
{
	struct pol_dns_key key = {};
	struct pol_pending *p;
	struct sock *sk;
	__u8 idb[2];
	__u32 v;

	if (!pol_dns_hook || !pol_cfg_of(pol_bank_now(), PG_EV_DNS))
		return 0;
	sk = fd_to_sock(current_task(), (int)fd);
	if (!sk || bpf_probe_read_user(idb, 2, (const void *)buf))
		return 0;
	key.cookie = KREAD(sk, __sk_common.skc_cookie.counter);
	key.id = (__u32)idb[0] << 8 | idb[1];
	p = bpf_map_lookup_elem(&pol_dns_pending, &key);
	if (!p)
		return 0;
	v = p->verdict;
	if (p->action == PG_ACT_KILL)
		bpf_send_signal(p->signal);
	bpf_map_delete_elem(&pol_dns_pending, &key);
	return v;
}

/* The struct file behind fd of the task (its address), 0 when there is none. */
static __always_inline __u64 fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = TREAD(task, files, fdt);
	__u64 slot = 0;

	if (fd < 0 || (unsigned int)fd >= KREAD(fdt, max_fds))
		return 0;
	if (bpf_probe_read_kernel(&slot, sizeof(slot),
				  (void *)((__u64)KREAD(fdt, fd) + (__u64)fd * 8)))
		return 0;
	return slot;
}

/* --- DNS ----------------------------------------------------------------------------------- */

/*
 * A DNS message the sensor saw leave but could not report whole, or did not look at, is
 * counted here by reason (enum pg_dns_skip): `--stats` shows them, nothing is skipped silently.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PG_DNS_SKIP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} dns_skips SEC(".maps");

static __always_inline void dns_skip(__u32 why)
{
	__u64 *c = bpf_map_lookup_elem(&dns_skips, &why);

	if (c)
		*c += 1;
}

/*
 * DNS over TCP sends a 2-byte length before each message. Most resolvers write both at once
 * (glibc: one writev of [length, message]); some send the length alone and the message in a
 * second call. Such a length waits here, keyed by process and fd, until its message comes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* tgid << 32 | fd */
	__type(value, __u32); /* the message length announced */
} dns_lengths SEC(".maps");

#define EPERM 1
/* pg_dns_iov's fdv, above the fd: through io_uring; a send the egress hook may have refused */
#define DNS_IOV_URING (1ull << 32)
#define DNS_IOV_FAILED (2ull << 32)
/*
 * With DNS rules, a send that failed with EPERM may be one the egress hook refused: its message
 * is reported whole if the hook decided it (a verdict waits for it), and not otherwise. A
 * verdict travels to pg_dns_msg in the top half of the message's length (lengths fit 32 bits).
 */
#define DNS_REFUSED(ret) (policy_on && pol_dns_hook && (ret) == -EPERM)
#define DNS_WHOLE (1u << 20)
#define DNS_LEN_VERDICT(len, v) ((__u64)(len) | (__u64)(v) << 32)

#define DNS_MAX_MSGS 4 /* messages of one stream send, or of one sendmmsg/writev, looked at */

/*
 * The start of one message leaving on fd: to uaddr when given (sendto/sendmsg with a name),
 * else to the socket's connected peer. Emits a DNS event when the destination port is the DNS
 * port. prefix, when not NULL, is the 2-byte length of the message at buf, sent as a separate
 * piece (glibc writes [length, message] with writev). Returns the bytes of buf this message
 * took: on a stream one send may carry several messages, each behind its own length, and the
 * caller goes on with the rest; 0 when buf is not DNS at all.
 */
static __always_inline __u64 dns_message(struct task_struct *task, int fd, const void *uaddr,
					 __u32 alen, const void *prefix, const void *buf, __u64 len,
					 __u32 flags)
{
	__u16 family = 0, port = 0;
	__u8 addr[16] = {};
	struct sock *sk = NULL;
	struct pg_dns_event *e;
	__u64 msg = len; /* bytes of buf in this message */
	__u32 n, *announced;
	__u8 lenbuf[2] = {};

	if (uaddr) {
		if (!read_sockaddr(uaddr, alen, true, &family, &port, addr))
			return 0;
	} else {
		sk = fd_to_sock(task, fd);
		if (!sk)
			return 0;
		family = KREAD(sk, __sk_common.skc_family);
		port = bpf_ntohs(KREAD(sk, __sk_common.skc_dport));
		if (port != dns_port)
			return 0; /* most writes to sockets: stop before copying addresses */
		if (family == AF_INET) {
			__u32 a4 = KREAD(sk, __sk_common.skc_daddr);

			__builtin_memcpy(addr, &a4, 4);
		} else if (family == AF_INET6) {
#if PG_TIER >= 2
			__builtin_memcpy(addr, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
#else
			bpf_core_read(addr, 16, &sk->__sk_common.skc_v6_daddr);
#endif
		} else {
			return 0;
		}
	}
	if (port != dns_port || !buf || len == 0)
		return 0;
	/* a query the egress hook decided (flags has its verdict) is reported, whatever the
	 * filters want */
	if (!(flags & PG_VERDICT_MASK) &&
	    (!type_on(PG_EV_DNS) || !pass_common(task, PG_EV_DNS) || !pass_port(PG_EV_DNS, port)))
		return len;
	if (!sk)
		sk = fd_to_sock(task, fd);
	if (sk && KREAD(sk, sk_type) == SOCK_STREAM) {
		__u64 key = (__u64)TREAD(task, tgid) << 32 | (__u32)fd;

		flags |= PG_DNS_F_TCP;
		if (!prefix && len == 2) { /* a length alone: its message follows */
			if (!bpf_probe_read_user(lenbuf, 2, buf)) {
				__u32 l = (__u32)lenbuf[0] << 8 | lenbuf[1];

				bpf_map_update_elem(&dns_lengths, &key, &l, BPF_ANY);
			}
			dns_skip(PG_DNS_SKIP_LENGTH_ALONE);
			return len;
		}
		announced = prefix ? NULL : bpf_map_lookup_elem(&dns_lengths, &key);
		if (announced) {
			/* the message whose length went alone: no prefix in buf */
			if (*announced && *announced < msg)
				msg = *announced;
			flags |= PG_DNS_F_BARE;
			bpf_map_delete_elem(&dns_lengths, &key);
		} else if (!prefix && !bpf_probe_read_user(lenbuf, 2, buf)) {
			__u64 l = (__u64)lenbuf[0] << 8 | lenbuf[1];

			if (l + 2 < len)
				msg = l + 2; /* several messages in one send: this one ends here */
		}
	}
	e = reserve(PG_EV_DNS, sizeof(*e));
	if (!e)
		return msg;
	fill_hdr(task, &e->hdr, PG_EV_DNS, sizeof(*e));
	e->family = family;
	e->dport = port;
	e->id = 0;
	e->qtype = 0;
	e->qclass = 0;
	__builtin_memcpy(e->daddr, addr, 16);
	e->qname[0] = 0;
	if (prefix) {
		n = msg > PG_DNS_PAYLOAD_LEN - 2 ? PG_DNS_PAYLOAD_LEN - 2 : (__u32)msg;
		if (bpf_probe_read_user(e->payload, 2, prefix) ||
		    bpf_probe_read_user(e->payload + 2, n, buf))
			n = 0;
		else
			n += 2;
		if (msg > PG_DNS_PAYLOAD_LEN - 2)
			flags |= PG_DNS_F_CUT;
	} else {
		n = msg > PG_DNS_PAYLOAD_LEN ? PG_DNS_PAYLOAD_LEN : (__u32)msg;
		if (bpf_probe_read_user(e->payload, n, buf))
			n = 0;
		if (msg > PG_DNS_PAYLOAD_LEN)
			flags |= PG_DNS_F_CUT;
	}
	if (flags & PG_DNS_F_CUT)
		dns_skip(PG_DNS_SKIP_CUT);
	e->flags = flags;
	e->payload_len = n;
	submit(e, PG_EV_DNS, sizeof(*e));
	return msg;
}

/*
 * dns_message behind a global function: the verifier checks a global function once, with
 * unknown arguments, instead of once per call site; that keeps the sensor's load time down.
 * Scalars only, so fd and alen share a word, and alen's top bit says the message was
 * submitted through io_uring.
 */
#define DNS_VIA_URING (1u << 31)

__noinline __u64 pg_dns_msg(__u64 fd_alen, __u64 uaddr, __u64 prefix, __u64 buf, __u64 len)
{
	__u32 alen = (__u32)fd_alen;

	return dns_message(current_task(), (int)(fd_alen >> 32), (const void *)uaddr,
			   alen & ~DNS_VIA_URING, (const void *)prefix, (const void *)buf,
			   len & 0xffffffffULL,
			   (alen & DNS_VIA_URING ? PG_VIA_IO_URING : 0) | (__u32)(len >> 32));
}

/* Every message of one send: on a stream, one send may hold several, each with its length. */
static __always_inline void dns_messages(__u64 fd_alen, __u64 uaddr, __u64 prefix, __u64 buf,
					 __u64 len)
{
	__u64 verdict = len >> 32; /* the first message's */

	len &= 0xffffffffULL;
	for (__u32 i = 0; i < DNS_MAX_MSGS; i++) {
		__u64 n = pg_dns_msg(fd_alen, uaddr, prefix, buf, DNS_LEN_VERDICT(len, verdict));

		verdict = 0;
		if (n == 0 || n >= len)
			return;
		buf += n;
		len -= n;
		prefix = 0;
	}
	dns_skip(PG_DNS_SKIP_NOT_LOOKED_AT);
}

/* dns_messages as a call of its own for the syscalls (a frame of its own, verified once) */
__noinline int pg_dns_send(__u64 fd_alen, __u64 uaddr, __u64 prefix, __u64 buf, __u64 len)
{
	dns_messages(fd_alen, uaddr, prefix, buf, len);
	return 0;
}

#define DNS_SEND(fd, uaddr, alen, prefix, buf, len)                                        \
	pg_dns_send(((__u64)(__u32)(fd) << 32) | (__u32)(alen), (__u64)(uaddr), (__u64)(prefix), \
		    (__u64)(buf), (__u64)(len))

/*
 * The messages in an iovec array: sendmsg's (um, whose msg_name may name the peer) or writev's
 * (uiov, iovcnt). A piece of exactly two bytes followed by another is a DNS-over-TCP length and
 * its message (glibc sends [length, A query, length, AAAA query] in one writev with
 * `options use-vc`); any other piece is a message of its own. sent: the bytes that went out.
 * fdv: the fd in the low word, 1 in the high word when the message came through io_uring.
 * A global function, like pg_dns_send: verified once for its four callers, in a frame of its
 * own; so its arguments are plain numbers (the callers' pointers are user addresses anyway).
 */
struct iov_scratch {
	struct user_msghdr m;
	struct iovec iov[2];
};

/* pg_dns_iov's locals: off the stack, whose 512 bytes its chain of frames shares. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iov_scratch);
} iov_scratch SEC(".maps");

__noinline int pg_dns_iov(__u64 fdv, __u64 umsg, __u64 uiov_addr, __u64 iovcnt, __u64 sent_bytes)
{
	const struct user_msghdr *um = (const struct user_msghdr *)umsg;
	const struct iovec *uiov = (const struct iovec *)uiov_addr;
	long sent = (long)sent_bytes;
	int fd = (int)(__u32)fdv;
	struct iov_scratch *sc;
	struct iovec *iov;
	__u32 alen, zero = 0;
	__u32 k = 0;

	sc = bpf_map_lookup_elem(&iov_scratch, &zero);
	if (!sc)
		return 0;
	iov = sc->iov;
	__builtin_memset(&sc->m, 0, sizeof(sc->m));
	if (um) {
		if (bpf_probe_read_user(&sc->m, sizeof(sc->m), um))
			return 0;
		uiov = sc->m.msg_iov;
		iovcnt = sc->m.msg_iovlen;
	}
	/* the application's length never carries our flag (a huge one is refused anyway) */
	alen = (sc->m.msg_namelen & ~DNS_VIA_URING) | (fdv & DNS_IOV_URING ? DNS_VIA_URING : 0);
	for (__u32 i = 0; i < DNS_MAX_MSGS; i++) {
		const void *prefix = NULL;

		if (k >= iovcnt || sent <= 0 || k >= 2 * DNS_MAX_MSGS)
			return 0;
		if (bpf_probe_read_user(&iov[0], sizeof(iov[0]), uiov + k))
			return 0;
		k++;
		if (iov[0].iov_len == 2 && k < iovcnt && sent > 2 &&
		    !bpf_probe_read_user(&iov[1], sizeof(iov[1]), uiov + k)) {
			prefix = iov[0].iov_base; /* iov[0] is the length, iov[1] the message */
			sent -= 2;
			k++;
		} else {
			iov[1] = iov[0];
		}
		if (iov[1].iov_len > (__u64)sent)
			iov[1].iov_len = sent;
		sent -= iov[1].iov_len;
		{
			__u32 v = policy_on && pol_dns_hook
					  ? pol_dns_taken((__u32)fd, (__u64)iov[1].iov_base)
					  : 0;

			if ((fdv & DNS_IOV_FAILED) && !v)
				return 0; /* refused by something else: not sent, not ours */
			/* here, not through pg_dns_send: one frame less between the syscall and
			 * the message (the frames of a chain share 512 bytes) */
			dns_messages((__u64)(__u32)fd << 32 | alen, (__u64)sc->m.msg_name,
				     (__u64)prefix, (__u64)iov[1].iov_base,
				     DNS_LEN_VERDICT(iov[1].iov_len, v));
		}
	}
	if (k < iovcnt && sent > 0)
		dns_skip(PG_DNS_SKIP_NOT_LOOKED_AT);
	return 0;
}

/* The smallest write that can be a DNS query or a stream's length alone. */
#define DNS_QUERY_MIN 17
#define DNS_LENGTH_ALONE 2

/* --- syscalls: one program at sys_exit ---------------------------------------------------- */

/*
 * Why raw_syscalls:sys_exit and not syscalls:sys_{enter,exit}_openat and friends: the
 * per-syscall tracepoints run BPF through perf's trace buffer, and merely attaching one
 * with a predicate that never matches slowed an open+close loop here by 25-45 % (bpftrace,
 * bench/README.md); a raw tracepoint on sys_exit costs a few ns for a syscall we do not want.
 * At sys_exit the arguments are still in the saved user registers and the result is known,
 * so nothing waits in a table between enter and exit.
 *
 * Which syscalls matter is a byte per syscall number in rodata (sys_kind), filled by
 * userspace from this architecture's numbers and only for the event types the filter wants.
 */
#if defined(__TARGET_ARCH_x86)
#if PG_TIER >= 2
/* the saved registers themselves, through a BTF pointer: each field a plain load (a macro,
 * not a typedef: CO-RE looks the kernel's type up by the name the access is made through) */
#define sys_regs const struct pt_regs
#else
/* a copy of the saved registers that hold the number and the arguments: pt_regs from r10 to
 * orig_ax, read with one helper call (x86_64's pt_regs order, fixed since 2.6) */
typedef struct {
	__u64 r10, r9, r8, ax, cx, dx, si, di, orig_ax;
} sys_regs;
#endif

/* Where tiers 0 and 1 keep that copy: off the stack, which the DNS path's frames need. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct { __u64 r[9]; });
} regs_scratch SEC(".maps");
#define SYSCALL_NR(r) ((r)->orig_ax)
#define ARG1(r) ((r)->di)
#define ARG2(r) ((r)->si)
#define ARG3(r) ((r)->dx)
#define ARG4(r) ((r)->r10)
#define ARG5(r) ((r)->r8)
#define ARG6(r) ((r)->r9)
#else
#error "sensor.bpf.c: syscall argument registers are only described for x86_64"
#endif

const volatile __u8 sys_kind[PG_SYS_MAX] = {};
static const __u8 kind_type[PG_SYS_KIND_COUNT] = PG_SYS_KIND_TYPES;

#define AT_FDCWD -100
#define CREAT_FLAGS (01 | 0100 | 01000) /* O_WRONLY | O_CREAT | O_TRUNC */

/* The record is built in open_scratch and copied to the ring only as far as the path goes. */
static __always_inline void emit_open(struct task_struct *task, sys_regs *r, __u8 kind,
				      long ret, bool pol)
{
	struct pg_open_event *e;
	const char *filename;
	__u32 flags, mode, size, zero = 0, verdict = 0, plen;
	__s32 dirfd = AT_FDCWD;

	switch (kind) {
	case PG_SYS_OPEN:
		filename = (const char *)ARG1(r);
		flags = (__u32)ARG2(r);
		mode = (__u32)ARG3(r);
		break;
	case PG_SYS_CREAT:
		filename = (const char *)ARG1(r);
		flags = CREAT_FLAGS;
		mode = (__u32)ARG2(r);
		break;
	case PG_SYS_OPENAT2: {
		struct open_how how = {};

		bpf_probe_read_user(&how, sizeof(how), (void *)ARG3(r));
		dirfd = (__s32)ARG1(r);
		filename = (const char *)ARG2(r);
		flags = (__u32)how.flags;
		mode = (__u32)how.mode;
		break;
	}
	default: /* PG_SYS_OPENAT */
		dirfd = (__s32)ARG1(r);
		filename = (const char *)ARG2(r);
		flags = (__u32)ARG3(r);
		mode = (__u32)ARG4(r);
	}
	e = bpf_map_lookup_elem(&open_scratch, &zero);
	if (!e)
		return;
	e->pflags = 0;
	plen = read_path(e->path, filename, &e->pflags, true);
	size = offsetof(struct pg_open_event, path) + plen;
	if (pol) {
		/* an LSM hook decided it before it happened (on the resolved path); else now */
		if (pol_lsm_types & (1u << PG_EV_OPEN))
			verdict = pol_lsm_taken(ret, ret >= 0 ? fd_file(task, (int)ret) : 0,
						PG_EV_OPEN);
		else
			verdict = pol_open(task, e->path, plen);
		if (!verdict && !pol_wanted(task, PG_EV_OPEN))
			return;
	}
	if (!verdict && !pass_prefix(PG_EV_OPEN, e->path))
		return;
	e->pflags |= verdict;
	fill_hdr(task, &e->hdr, PG_EV_OPEN, size);
	e->dirfd = dirfd;
	e->flags = flags;
	e->mode = mode;
	e->ret = (__s32)ret;
	e->pad = 0;
	output(e, PG_EV_OPEN, size);
}

static __always_inline void emit_connect(struct task_struct *task, sys_regs *r, long ret,
					 bool pol)
{
	struct pg_connect_event *e;
	__u16 family = 0, port = 0;
	__u8 addr[16] = {};
	__u32 verdict = 0;

	if (!read_sockaddr((void *)ARG2(r), (__u32)ARG3(r), true, &family, &port, addr))
		return; /* AF_UNIX and friends are not network connections */
	if (pol) {
		/* the cgroup hook decided it before a packet left; else decide now */
		verdict = pol_connect_hook ? pol_connect_taken()
					   : pol_connect_exit(task, family, addr, port);
		if (!verdict && !pol_wanted(task, PG_EV_CONNECT))
			return;
	}
	if (!verdict && !pass_port(PG_EV_CONNECT, port))
		return;
	e = reserve(PG_EV_CONNECT, sizeof(*e));
	if (!e)
		return;
	fill_hdr(task, &e->hdr, PG_EV_CONNECT, sizeof(*e));
	e->family = family;
	e->dport = port;
	e->fd = (__s32)ARG1(r);
	e->ret = (__s32)ret;
	e->flags = verdict;
	__builtin_memcpy(e->daddr, addr, 16);
	submit(e, PG_EV_CONNECT, sizeof(*e));
}

#define UNCHANGED 0xffffffffu

static __always_inline void emit_setid(struct task_struct *task, sys_regs *r, __u8 kind,
				       long ret, bool pol)
{
	struct pg_setid_event *e;
	__u32 a = (__u32)ARG1(r), b = (__u32)ARG2(r), c = (__u32)ARG3(r);
	__u32 verdict = 0;

	if (pol) {
		verdict = pol_lsm_types & (1u << PG_EV_SETID) ? pol_lsm_taken(ret, 0, PG_EV_SETID) :
								pol_task(task, PG_EV_SETID);
		if (!verdict && !pol_wanted(task, PG_EV_SETID))
			return;
	}
	e = reserve(PG_EV_SETID, sizeof(*e));
	if (!e)
		return;
	fill_hdr(task, &e->hdr, PG_EV_SETID, sizeof(*e));
	e->call = kind - PG_SYS_SETUID + PG_SETID_SETUID;
	e->ret = (__s32)ret;
	e->flags = verdict;
	switch (kind) {
	case PG_SYS_SETUID:
	case PG_SYS_SETGID:
		e->id_real = a;
		e->id_effective = UNCHANGED;
		e->id_saved = UNCHANGED;
		break;
	case PG_SYS_SETREUID:
	case PG_SYS_SETREGID:
		e->id_real = a;
		e->id_effective = b;
		e->id_saved = UNCHANGED;
		break;
	case PG_SYS_SETRESUID:
	case PG_SYS_SETRESGID:
		e->id_real = a;
		e->id_effective = b;
		e->id_saved = c;
		break;
	default: /* setfsuid/setfsgid: the new fs id; ret is the previous one, not an error */
		e->id_real = UNCHANGED;
		e->id_effective = a;
		e->id_saved = UNCHANGED;
	}
	submit(e, PG_EV_SETID, sizeof(*e));
}

/* The ptrace requests that take control of a process or change it (pg_abi.h). */
static __always_inline bool ptrace_wanted(unsigned long req)
{
	switch (req) {
	case PG_PTRACE_TRACEME:
	case PG_PTRACE_POKETEXT:
	case PG_PTRACE_POKEDATA:
	case PG_PTRACE_POKEUSER:
	case PG_PTRACE_SETREGS:
	case PG_PTRACE_SETFPREGS:
	case PG_PTRACE_ATTACH:
	case PG_PTRACE_SETREGSET:
	case PG_PTRACE_SEIZE:
		return true;
	}
	return false;
}

static __always_inline void emit_ptrace(struct task_struct *task, sys_regs *r, long ret, bool pol)
{
	struct pg_ptrace_event *e;
	__u32 req = (__u32)ARG1(r);
	__u32 verdict = 0;

	if (pol) {
		verdict = pol_lsm_types & (1u << PG_EV_PTRACE) ?
				  pol_lsm_taken(ret, 0, PG_EV_PTRACE) :
				  pol_task(task, PG_EV_PTRACE);
		if (!verdict && !pol_wanted(task, PG_EV_PTRACE))
			return;
	}
	e = reserve(PG_EV_PTRACE, sizeof(*e));
	if (!e)
		return;
	fill_hdr(task, &e->hdr, PG_EV_PTRACE, sizeof(*e));
	e->request = req;
	e->ret = (__s32)ret;
	e->target_pid = req == PG_PTRACE_TRACEME ? 0 : (__u32)ARG2(r);
	e->flags = verdict;
	e->addr = req >= PG_PTRACE_POKETEXT && req <= PG_PTRACE_POKEUSER ? ARG3(r) : 0;
	submit(e, PG_EV_PTRACE, sizeof(*e));
}

/*
 * A syscall of a type some rule is for, opens aside (handle_sys_exit): decided before the filters
 * (an enforcement is always an event), which run once the decision is "none". A call of its own,
 * so that the path without policies keeps its code and its frame (the syscall path's frames
 * share 512 bytes with DNS's).
 */
static __noinline int pol_sys_exit(struct task_struct *task, sys_regs *r, __u8 kind, long ret)
{
	switch (kind) {
	case PG_SYS_CONNECT:
		emit_connect(task, r, ret, true);
		break;
	case PG_SYS_PTRACE:
		emit_ptrace(task, r, ret, true);
		break;
	default:
		emit_setid(task, r, kind, ret, true);
	}
	return 0;
}

SEC("raw_tp/sys_exit")
int handle_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	/*
	 * The tracepoint's first argument is the syscall's saved user registers. Cast to a BTF
	 * pointer on tier 2 (the verifier rewrites bpf_rdonly_cast into a register move) their
	 * fields are plain loads, so no helper runs before a syscall we do not want is turned
	 * away; lower tiers pay a bpf_probe_read_kernel for the number and one for the rest.
	 */
#if PG_TIER >= 2
	sys_regs *r = KPTR(struct pt_regs, ctx->args[0]);
#else
	const struct pt_regs *saved = (const struct pt_regs *)ctx->args[0];
	__u32 zero = 0;
	sys_regs *r = bpf_map_lookup_elem(&regs_scratch, &zero);
#endif
	long ret = (long)ctx->args[1];
	unsigned long nr;
	struct task_struct *task;
	__u8 kind;
	__u32 type;
	bool pol;

#if PG_TIER < 2
	if (!r || bpf_core_read(&r->orig_ax, sizeof(r->orig_ax), &saved->orig_ax))
		return 0;
#endif
	nr = SYSCALL_NR(r);
	if (nr >= PG_SYS_MAX)
		return 0;
	kind = sys_kind[nr];
	if (kind == PG_SYS_NONE)
		return 0;
#if PG_TIER < 2
	if (bpf_core_read(r, offsetof(sys_regs, orig_ax), &saved->r10))
		return 0;
#endif
	task = current_task();
	if (kind >= PG_SYS_KIND_COUNT)
		return 0;
	if (kind == PG_SYS_URING_ENTER) {
		pol_lsm_forget();
		return 0;
	}
	type = kind_type[kind];
	if (type == PG_EV_PTRACE && !ptrace_wanted(ARG1(r)))
		return 0; /* reads: what debuggers do all day */
	/*
	 * A type some rule is for is decided before the filters (an enforcement is always an
	 * event); the filters run once the decision is "none". With --policy, sys_kind holds the
	 * types the rules may want, whether or not the filter does. Opens, by far the most
	 * frequent, are decided on the way they take without policies (emit_open, one copy of
	 * it), not through a call of their own.
	 */
	pol = policy_on && type != PG_EV_DNS && pol_active(type);
	if (pol && type != PG_EV_OPEN)
		return pol_sys_exit(task, r, kind, ret);
	if (policy_on && !pol && !type_on(type) &&
	    !(type == PG_EV_DNS && pol_dns_hook && pol_cfg_of(pol_bank_now(), PG_EV_DNS)))
		return 0;
	/* DNS is decided by the destination port first: most sends are not DNS */
	if (type != PG_EV_DNS && !pol && !pass_common(task, type))
		return 0;
	switch (kind) {
	case PG_SYS_OPEN:
	case PG_SYS_OPENAT:
	case PG_SYS_OPENAT2:
	case PG_SYS_CREAT: emit_open(task, r, kind, ret, pol); break;
	case PG_SYS_CONNECT:
		emit_connect(task, r, ret, false);
		break;
	case PG_SYS_SENDTO: {
		__u32 v = policy_on && pol_dns_hook ? pol_dns_taken(ARG1(r), ARG2(r)) : 0;

		if (!DNS_REFUSED(ret) || v)
			DNS_SEND(ARG1(r), ARG5(r), (__u32)ARG6(r) & ~DNS_VIA_URING, 0, ARG2(r),
				 DNS_LEN_VERDICT(ARG3(r), v));
		break;
	}
	case PG_SYS_SENDMSG:
		if (DNS_REFUSED(ret))
			pg_dns_iov((__u32)ARG1(r) | DNS_IOV_FAILED, ARG2(r), 0, 0, DNS_WHOLE);
		else
			pg_dns_iov((__u32)ARG1(r), ARG2(r), 0, 0, ret);
		break;
	case PG_SYS_SENDMMSG: {
		const struct mmsghdr *v = (const struct mmsghdr *)ARG2(r);
		__u32 sent = 0;

		/* the first message refused: the others were not sent */
		if (DNS_REFUSED(ret)) {
			pg_dns_iov((__u32)ARG1(r) | DNS_IOV_FAILED, (__u64)&v[0].msg_hdr, 0, 0,
				   DNS_WHOLE);
			break;
		}
		/* ret is how many messages went out; msg_len how much of each */
		for (__u32 i = 0; i < DNS_MAX_MSGS; i++) {
			if ((long)i >= ret)
				break;
			if (bpf_probe_read_user(&sent, sizeof(sent), &v[i].msg_len))
				break;
			pg_dns_iov((__u32)ARG1(r), (__u64)&v[i].msg_hdr, 0, 0, sent);
		}
		if (ret > DNS_MAX_MSGS)
			dns_skip(PG_DNS_SKIP_NOT_LOOKED_AT);
		break;
	}
	case PG_SYS_WRITE:
	case PG_SYS_WRITEV: {
		struct sock *sk;

		/* every write comes here: the cheap test first (failed, or too small to be a query
		 * or a stream's length), then whether fd is a socket to the DNS port */
		if (ret < DNS_QUERY_MIN && ret != DNS_LENGTH_ALONE && !DNS_REFUSED(ret))
			break;
		sk = fd_to_sock(task, (int)ARG1(r));
		if (!sk || bpf_ntohs(KREAD(sk, __sk_common.skc_dport)) != dns_port)
			break;
		if (kind == PG_SYS_WRITE) {
			__u32 v = policy_on && pol_dns_hook ? pol_dns_taken(ARG1(r), ARG2(r)) : 0;

			if (!DNS_REFUSED(ret) || v)
				DNS_SEND(ARG1(r), 0, 0, 0, ARG2(r),
					 DNS_LEN_VERDICT(DNS_REFUSED(ret) ? ARG3(r) : ret, v));
		} else if (DNS_REFUSED(ret)) {
			pg_dns_iov((__u32)ARG1(r) | DNS_IOV_FAILED, 0, ARG2(r), ARG3(r), DNS_WHOLE);
		} else {
			pg_dns_iov((__u32)ARG1(r), 0, ARG2(r), ARG3(r), ret);
		}
		break;
	}
	case PG_SYS_PTRACE:
		emit_ptrace(task, r, ret, false);
		break;
	default:
		emit_setid(task, r, kind, ret, false);
	}
	return 0;
}

/* --- io_uring ------------------------------------------------------------------------------ */

/*
 * Opens, connects and sends submitted through io_uring never pass sys_exit: the ring does the
 * work in io_uring_enter, in a kernel worker or in an SQPOLL thread, so a syscall-only sensor
 * is blind to them (a known way around such sensors). Sends are looked at for DNS at
 * submission (uring_dns). For opens and connects two io_uring tracepoints close the gap (and
 * a third, below, for completions that overflow):
 *  - io_uring_submit_req, in the submitting thread once the request is prepared: the open's
 *    path is already the kernel's own copy (struct filename);
 *  - io_uring_complete, wherever the result is posted: it carries the result.
 * The record is built at submission (identity of the submitter, filters applied there) and
 * waits in uring_inflight, keyed by the request, until its completion fills in ret.
 *
 * Completions that find the CQ ring full go to io_uring's overflow list and pass
 * io_uring_cqe_overflow instead, which names the ring and the user_data but not the request:
 * the oldest record waiting with that ring and user_data takes the result (when an
 * application gives several requests one user_data, which of them gets which result is a
 * guess; every one is still reported). A request with IOSQE_CQE_SKIP_SUCCESS posts no
 * completion when it succeeds: it is emitted at submission with ret 0 (a failure, if any, is
 * not reported). Should a record still wait when its request slot is used again, it is
 * counted as dropped.
 */
#define URING_INFLIGHT 1024

/*
 * io_uring_complete's arguments changed in 6.14: (ctx, req, cqe) since, (ctx, req, user_data,
 * res, cflags, extra1, extra2) before. Userspace reads which from the kernel's BTF
 * (btf_trace_io_uring_complete) and sets this before load.
 */
const volatile bool uring_complete_cqe = true;

union uring_record {
	struct pg_event_hdr hdr;
	struct pg_open_event open;
	struct pg_connect_event connect;
};

struct uring_inflight_val {
	union uring_record u; /* hdr.ts_ns: the submission's time until the completion */
	__u64 ctx; /* the ring and the application's tag, to match an overflowed completion */
	__u64 user_data;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, URING_INFLIGHT);
	__type(key, __u64); /* the struct io_kiocb */
	__type(value, struct uring_inflight_val);
} uring_inflight SEC(".maps");

#define IOSQE_CQE_SKIP_SUCCESS_BIT 6 /* UAPI; io_uring keeps it as REQ_F_CQE_SKIP */

/* Hand a prepared record to the completion, or out at once when no completion will come. */
static __always_inline void uring_park(struct io_kiocb *r, struct uring_inflight_val *v)
{
	struct uring_inflight_val *old;
	__u64 req = (__u64)r;
	__u32 type = v->u.hdr.type;

	if (KREAD(r, flags) & (1ull << IOSQE_CQE_SKIP_SUCCESS_BIT)) {
		output(&v->u, type, v->u.hdr.size <= sizeof(v->u) ? v->u.hdr.size : sizeof(v->u));
		return;
	}
	v->ctx = (__u64)KREAD(r, ctx);
	v->user_data = KREAD(r, cqe.user_data);
	old = bpf_map_lookup_elem(&uring_inflight, &req);
	if (old) /* the request slot's previous record never saw its completion */
		count(old->u.hdr.type, COUNT_DROPPED);
	if (bpf_map_update_elem(&uring_inflight, &req, v, BPF_ANY))
		count(type, COUNT_DROPPED); /* more requests in flight than URING_INFLIGHT */
}

/* The record waiting for req is complete with res: out it goes. */
static __always_inline void uring_done(__u64 req, struct uring_inflight_val *v, __s32 res)
{
	__u32 type = v->u.hdr.type, size = v->u.hdr.size;

	if (size > sizeof(v->u))
		size = sizeof(v->u);
	v->u.hdr.ts_ns = bpf_ktime_get_boot_ns(); /* when it happened, like a syscall's exit */
	if (type == PG_EV_OPEN)
		v->u.open.ret = res;
	else
		v->u.connect.ret = res;
	output(&v->u, type, size);
	bpf_map_delete_elem(&uring_inflight, &req);
}

static __noinline void uring_open(struct task_struct *task, struct io_kiocb *r, struct io_open *o)
{
	struct uring_inflight_val v;
	struct pg_open_event *e = &v.u.open;
	const char *name = KREAD(o, filename, name);
	__u32 size;

	e->pflags = PG_VIA_IO_URING;
	size = offsetof(struct pg_open_event, path) + read_path(e->path, name, &e->pflags, false);
	if (!pass_prefix(PG_EV_OPEN, e->path))
		return;
	fill_hdr(task, &e->hdr, PG_EV_OPEN, size);
	e->dirfd = KREAD(o, dfd);
	e->flags = (__u32)KREAD(o, how.flags);
	e->mode = (__u32)KREAD(o, how.mode);
	e->ret = 0;
	e->pad = 0;
	uring_park(r, &v);
}

static __noinline void uring_connect(struct task_struct *task, struct io_kiocb *r,
				     struct io_connect *c)
{
	struct uring_inflight_val v;
	struct pg_connect_event *e = &v.u.connect;
	__u16 family = 0, port = 0;
	__u8 addr[16] = {};

	/*
	 * The address as the application passed it: the kernel's copy sits in the request's
	 * async data, whose layout changes between kernel versions (at offset 0 on 6.18, not in
	 * struct io_async_msghdr) where CO-RE cannot follow. Read in the submitting thread (or
	 * its SQPOLL thread, which shares its memory) right after the kernel copied it.
	 */
	if (!read_sockaddr(KREAD(c, addr), KREAD(c, addr_len), true, &family, &port, addr))
		return;
	if (!pass_port(PG_EV_CONNECT, port))
		return;
	fill_hdr(task, &e->hdr, PG_EV_CONNECT, sizeof(*e));
	e->family = family;
	e->dport = port;
	e->fd = KREAD(r, cqe.fd);
	e->ret = 0;
	e->flags = PG_VIA_IO_URING;
	__builtin_memcpy(e->daddr, addr, 16);
	uring_park(r, &v);
}

/*
 * Opcodes are UAPI (include/uapi/linux/io_uring.h): their numbers never change. Not read from
 * the kernel's BTF: before 5.11 the enum has no name, so a CO-RE lookup of it fails.
 */
#define URING_OP_SENDMSG 9
#define URING_OP_CONNECT 16
#define URING_OP_OPENAT 18
#define URING_OP_SEND 26
#define URING_OP_OPENAT2 28

/* The request's opcode as an event type, PG_EV_NONE for the opcodes not watched. */
static __always_inline __u32 uring_type(const struct io_kiocb *req)
{
	__u8 op = KREAD(req, opcode);

	if (op == URING_OP_OPENAT || op == URING_OP_OPENAT2)
		return PG_EV_OPEN;
	if (op == URING_OP_CONNECT)
		return PG_EV_CONNECT;
	if (op == URING_OP_SEND || op == URING_OP_SENDMSG)
		return PG_EV_DNS; /* if it goes to the DNS port */
	return PG_EV_NONE;
}

#define IOSQE_FIXED_FILE_BIT 0 /* UAPI, kept as REQ_F_FIXED_FILE */
#define IOSQE_BUFFER_SELECT_BIT 5 /* UAPI, kept as REQ_F_BUFFER_SELECT */

/*
 * A send through io_uring, at submission (what leaves is known, not yet how much of it did):
 * the same DNS code as the syscalls, which looks at the destination port first. Sends from a
 * registered (fixed) file or a buffer chosen later by the kernel are not looked at.
 */
static __noinline void uring_dns(struct io_kiocb *r)
{
	struct io_sr_msg *sr = KPTR(struct io_sr_msg, &r->cmd);
	__s32 fd = KREAD(r, cqe.fd);
	__u32 len;

	if (KREAD(r, flags) & ((1ull << IOSQE_FIXED_FILE_BIT) | (1ull << IOSQE_BUFFER_SELECT_BIT))) {
		/* the data behind a buffer the kernel picks later is out of reach here: counted
		 * when the socket goes to the DNS port. A registered (fixed) file's socket is
		 * out of reach too, so not even that is known: docs/sensor.md */
		struct sock *sk = KREAD(r, flags) & (1ull << IOSQE_FIXED_FILE_BIT)
					  ? NULL : fd_to_sock(current_task(), fd);

		if (sk && bpf_ntohs(KREAD(sk, __sk_common.skc_dport)) == dns_port)
			dns_skip(PG_DNS_SKIP_IO_URING);
		return;
	}
	if (KREAD(r, opcode) == URING_OP_SENDMSG) {
		/* what will go out is not known yet: all of it, as far as the iovecs say */
		pg_dns_iov((__u32)fd | DNS_IOV_URING, (__u64)BPF_CORE_READ(sr, umsg), 0, 0,
			   1u << 30);
		return;
	}
	len = KREAD(sr, len);
	if (len >= DNS_QUERY_MIN || len == DNS_LENGTH_ALONE)
		/* the user pointer as a plain number: pg_dns_send takes scalars only */
		DNS_SEND(fd, 0, DNS_VIA_URING, 0, BPF_CORE_READ(sr, buf), len);
}

/*
 * Every io_uring request passes here, reads and writes by the million on a busy database: the
 * opcode is read through a BTF pointer (a plain load), so the others cost a compare or two.
 * Attached to io_uring_submit_req, or on kernels before 6.4 to the same hook under its older
 * name, io_uring_submit_sqe(req, force_nonblock): the request is the first argument of both.
 */
SEC("raw_tp/io_uring_submit_req")
int handle_uring_submit(struct bpf_raw_tracepoint_args *ctx)
{
	struct io_kiocb *req = KPTR(struct io_kiocb, ctx->args[0]);
	struct task_struct *task;
	__u32 type;

	/* kernels whose io_uring internals differ: no io_uring events, the rest still loads */
	if (!bpf_core_type_exists(struct io_open) || !bpf_core_type_exists(struct io_connect))
		return 0;
	type = uring_type(req);
	if (type == PG_EV_NONE || !type_on(type))
		return 0;
	if (type == PG_EV_DNS) { /* the port decides first, then the common filters */
		if (bpf_core_type_exists(struct io_sr_msg))
			uring_dns(req);
		return 0;
	}
	task = current_task();
	if (!pass_common(task, type))
		return 0;
	/* the request's command area, typed as what this opcode keeps there (BTF pointers) */
	if (type == PG_EV_OPEN)
		uring_open(task, req, KPTR(struct io_open, &req->cmd));
	else
		uring_connect(task, req, KPTR(struct io_connect, &req->cmd));
	return 0;
}

SEC("raw_tp/io_uring_complete")
int handle_uring_complete(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 req = ctx->args[1];
	struct uring_inflight_val *v;
	__u32 type;
	__s32 res;

	if (!req)
		return 0; /* a completion of no request (e.g. a message between rings) */
	/* only opens and connects wait in the map: the other completions skip the lookup */
	type = uring_type(KPTR(struct io_kiocb, req));
	if (type != PG_EV_OPEN && type != PG_EV_CONNECT)
		return 0;
	v = bpf_map_lookup_elem(&uring_inflight, &req);
	if (!v)
		return 0;
	if (uring_complete_cqe) {
		struct io_uring_cqe *cqe = KPTR(struct io_uring_cqe, ctx->args[2]);

		res = KREAD(cqe, res);
	} else {
		res = (__s32)ctx->args[3];
	}
	uring_done(req, v, res);
	return 0;
}

struct overflow_match {
	__u64 ctx, user_data;
	__u64 req, ts; /* the oldest record of that ring and tag so far */
};

static long match_overflow(struct bpf_map *map, __u64 *req, struct uring_inflight_val *v,
			   struct overflow_match *m)
{
	if (v->ctx == m->ctx && v->user_data == m->user_data &&
	    (!m->req || v->u.hdr.ts_ns < m->ts)) {
		m->req = *req;
		m->ts = v->u.hdr.ts_ns;
	}
	return 0;
}

/* A completion that found the CQ ring full (rare: the application is not reaping). */
SEC("raw_tp/io_uring_cqe_overflow")
int handle_uring_overflow(struct bpf_raw_tracepoint_args *ctx)
{
	struct overflow_match m = { .ctx = ctx->args[0], .user_data = ctx->args[1] };
	struct uring_inflight_val *v;

	bpf_for_each_map_elem(&uring_inflight, match_overflow, &m, 0);
	if (!m.req)
		return 0;
	v = bpf_map_lookup_elem(&uring_inflight, &m.req);
	if (v)
		uring_done(m.req, v, (__s32)ctx->args[2]);
	return 0;
}
