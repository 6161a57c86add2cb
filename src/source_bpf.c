// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * BPF EventSource: loads the sensor skeleton with the filter plan in rodata and maps, attaches
 * only the programs the plan needs (and the kernel has), and turns ring buffer records into
 * pipeline events: timestamps to the epoch, argv counted, DNS payloads parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_util.h"
#include "dns.h"
#include "enforce.h"
#include "enrich.h"
#include "ring.h"
#include "source_bpf.h" /* before the skeletons: they name struct pg_prefix */
#include "sensor.skel.h"
#include "sensor_tier0.skel.h"
#include "sensor_tier1.skel.h"

/*
 * The sensor's objects by tier. All are built from src/bpf/sensor.bpf.c and have the same maps,
 * programs and rodata (tests/unit/test_bpf_objects.c pins that), so the tier-2 skeleton's
 * types drive whichever object is loaded.
 */
static const struct {
	const char *needs;
	const void *(*elf)(size_t *size);
} sensor_objects[PG_BPF_TIER_COUNT] = {
	[PG_BPF_TIER_PROBE_READ] = { "the ring buffer and BTF (Linux 5.8+)", sensor_tier0_bpf__elf_bytes },
	[PG_BPF_TIER_TASK_BTF] = { "bpf_get_current_task_btf (Linux 5.11+)", sensor_tier1_bpf__elf_bytes },
	[PG_BPF_TIER_BTF] = { "bpf_rdonly_cast (Linux 6.2+)", sensor_bpf__elf_bytes },
};

const char *pg_bpf_tier_needs(int tier)
{
	return tier >= 0 && tier < PG_BPF_TIER_COUNT ? sensor_objects[tier].needs : "?";
}

int pg_bpf_tier_probe(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int tier = PG_BPF_TIER_PROBE_READ;

	if (vmlinux && btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0)
		tier = PG_BPF_TIER_BTF;
	else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf,
					 NULL) == 1)
		tier = PG_BPF_TIER_TASK_BTF;
	btf__free(vmlinux);
	return tier;
}

/*
 * How many arguments a raw tracepoint hands its programs on this kernel, from the kernel's BTF
 * (the typedef btf_trace_NAME, whose first parameter is the tracepoint's own data); -1 when
 * unknown. Tracepoints change their arguments between kernel versions.
 */
static int raw_tp_nargs(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char tname[128];
	int id, n = -1;

	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	if (vmlinux && (id = btf__find_by_name_kind(vmlinux, tname, BTF_KIND_TYPEDEF)) > 0) {
		const struct btf_type *t = btf__type_by_id(vmlinux, id);

		while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
			t = btf__type_by_id(vmlinux, t->type);
		if (t && btf_is_func_proto(t))
			n = btf_vlen(t) - 1;
	}
	btf__free(vmlinux);
	return n;
}

/* sensor_bpf__open() with the tier's object in place of the tier-2 one. */
static struct sensor_bpf *sensor_open(int tier)
{
	struct sensor_bpf *obj = calloc(1, sizeof(*obj));
	int err;

	if (!obj) {
		errno = ENOMEM;
		return NULL;
	}
	err = sensor_bpf__create_skeleton(obj);
	if (!err) {
		obj->skeleton->data = (void *)sensor_objects[tier].elf(&obj->skeleton->data_sz);
		err = bpf_object__open_skeleton(obj->skeleton, NULL);
	}
	if (err) {
		sensor_bpf__destroy(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

/* Program name -> the tracepoint it needs and the event types it serves. */
static const struct {
	const char *prog;
	const char *tracepoint; /* category/name in tracefs */
	unsigned int types;
	const char *via; /* events only of this path, e.g. "io_uring"; NULL: all of them */
	const char *kind;
	/* the same hook's name on older kernels, tried when tracepoint is not there, if it passes
	 * older_nargs arguments there (a hook that kept its name may have changed them) */
	const char *older;
	int older_nargs;
} hook_table[] = {
	{ .prog = "handle_exec", .tracepoint = "sched/sched_process_exec",
	  .types = 1u << PG_EV_EXEC, .kind = "tracepoint" },
	{ .prog = "handle_fork", .tracepoint = "sched/sched_process_fork",
	  .types = 1u << PG_EV_FORK, .kind = "raw tracepoint" },
	{ .prog = "handle_exit", .tracepoint = "sched/sched_process_exit",
	  .types = 1u << PG_EV_EXIT, .kind = "tracepoint" },
	{ .prog = "handle_sys_exit", .tracepoint = "raw_syscalls/sys_exit",
	  .types = 1u << PG_EV_OPEN | 1u << PG_EV_CONNECT | 1u << PG_EV_DNS | 1u << PG_EV_SETID |
		   1u << PG_EV_PTRACE,
	  .kind = "raw tracepoint" },
	/* opens and connects submitted through io_uring: prepared, then completed */
	{ .prog = "handle_uring_submit", .tracepoint = "io_uring/io_uring_submit_req",
	  .types = 1u << PG_EV_OPEN | 1u << PG_EV_CONNECT | 1u << PG_EV_DNS, .via = "io_uring",
	  .kind = "raw tracepoint",
	  /* 6.0-6.3: (req, force_nonblock); 5.x had the same name with (ctx, opcode, ...) */
	  .older = "io_uring/io_uring_submit_sqe", .older_nargs = 2 },
	{ .prog = "handle_uring_complete", .tracepoint = "io_uring/io_uring_complete",
	  .types = 1u << PG_EV_OPEN | 1u << PG_EV_CONNECT, .via = "io_uring", .kind = "raw tracepoint" },
	{ .prog = "handle_uring_overflow", .tracepoint = "io_uring/io_uring_cqe_overflow",
	  .types = 1u << PG_EV_OPEN | 1u << PG_EV_CONNECT, .via = "io_uring", .kind = "raw tracepoint" },
};

/* This architecture's syscall numbers for each kind handle_sys_exit knows. */
static const struct {
	long nr;
	unsigned char kind;
} sys_table[] = {
#ifdef SYS_open
	{ SYS_open, PG_SYS_OPEN },
#endif
#ifdef SYS_creat
	{ SYS_creat, PG_SYS_CREAT },
#endif
	{ SYS_openat, PG_SYS_OPENAT },
	{ SYS_openat2, PG_SYS_OPENAT2 },
	{ SYS_connect, PG_SYS_CONNECT },
	{ SYS_sendto, PG_SYS_SENDTO },
	{ SYS_sendmsg, PG_SYS_SENDMSG },
	{ SYS_sendmmsg, PG_SYS_SENDMMSG },
	{ SYS_write, PG_SYS_WRITE },
	{ SYS_writev, PG_SYS_WRITEV },
	{ SYS_setuid, PG_SYS_SETUID },
	{ SYS_setreuid, PG_SYS_SETREUID },
	{ SYS_setresuid, PG_SYS_SETRESUID },
	{ SYS_setfsuid, PG_SYS_SETFSUID },
	{ SYS_setgid, PG_SYS_SETGID },
	{ SYS_setregid, PG_SYS_SETREGID },
	{ SYS_setresgid, PG_SYS_SETRESGID },
	{ SYS_setfsgid, PG_SYS_SETFSGID },
	{ SYS_ptrace, PG_SYS_PTRACE },
};

static const unsigned char kind_type[PG_SYS_KIND_COUNT] = PG_SYS_KIND_TYPES;

#define NHOOKS (sizeof(hook_table) / sizeof(hook_table[0]))
#define SNAP_PROG ((int)NHOOKS) /* the iterator's slot in source_bpf.logs */

/*
 * The policies' own hooks, loaded only with --policy, attached at the cgroup v2 root: they
 * refuse a connect, and drop a DNS query, before a packet leaves. Where this kernel refuses
 * them, connect rules are decided at sys_exit (a kill) and DNS rules cannot be loaded.
 */
enum {
	POL_HOOK_CONNECT,
	POL_HOOK_DNS,
	/* BPF LSM: exec, open, setid, ptrace refused before they happen */
	POL_HOOK_LSM_EXEC,
	POL_HOOK_LSM_OPEN,
	POL_HOOK_LSM_SETID,
	POL_HOOK_LSM_PTRACE,
	POL_HOOK_COUNT
};

static const struct {
	const char *prog;
	int hook;
	const char *lsm; /* the LSM hook it attaches to (its section's name after "lsm/") */
} pol_prog_table[] = {
	{ "pol_connect4", POL_HOOK_CONNECT, NULL },
	{ "pol_connect6", POL_HOOK_CONNECT, NULL },
	{ "pol_dns_egress", POL_HOOK_DNS, NULL },
	{ "pol_lsm_bprm", POL_HOOK_LSM_EXEC, "bprm_check_security" },
	{ "pol_lsm_file_open", POL_HOOK_LSM_OPEN, "file_open" },
	{ "pol_lsm_setuid", POL_HOOK_LSM_SETID, "task_fix_setuid" },
	{ "pol_lsm_setgid", POL_HOOK_LSM_SETID, "task_fix_setgid" },
	{ "pol_lsm_ptrace", POL_HOOK_LSM_PTRACE, "ptrace_access_check" },
	{ "pol_lsm_traceme", POL_HOOK_LSM_PTRACE, "ptrace_traceme" },
};

/* The event type each LSM hook decides, and what it is for warnings. */
static const struct {
	unsigned int type;
	const char *what;
} pol_hook_info[POL_HOOK_COUNT] = {
	[POL_HOOK_CONNECT] = { PG_EV_CONNECT,
			       "connect rules are decided at sys_exit instead, and kill" },
	[POL_HOOK_DNS] = { PG_EV_DNS, "DNS rules cannot be enforced" },
	[POL_HOOK_LSM_EXEC] = { PG_EV_EXEC, "exec rules kill at sched_process_exec instead" },
	[POL_HOOK_LSM_OPEN] = { PG_EV_OPEN, "open rules kill at sys_exit instead" },
	[POL_HOOK_LSM_SETID] = { PG_EV_SETID, "setid rules kill at sys_exit instead" },
	[POL_HOOK_LSM_PTRACE] = { PG_EV_PTRACE, "ptrace rules kill at sys_exit instead" },
};

static bool pol_hook_is_lsm(int h)
{
	return h >= POL_HOOK_LSM_EXEC;
}

#define NPOLPROGS (sizeof(pol_prog_table) / sizeof(pol_prog_table[0]))
#define POL_PROG(i) (SNAP_PROG + 1 + (int)(i)) /* their slots in source_bpf.logs */
#define NLOGS (POL_PROG(NPOLPROGS))
#define LOG_BYTES (1u << 22) /* a verifier log per program: only written on refusal */

struct source_bpf {
	struct pg_source base;
	struct sensor_bpf *skel;
	int tier; /* of the object loaded */
	bool uring_complete_cqe; /* io_uring_complete(ctx, req, cqe), 6.14+; else res is args[3] */
	char *logs[NLOGS]; /* per program (hooks, iterator, policy hooks): the verifier's log */
	char snap_refused[160];
	struct pg_ring ring;
	struct bpf_link *links[NHOOKS];
	struct pg_hook_status hooks[NHOOKS];
	bool detached;
	int ncpus;
	long long boot_to_epoch; /* add to CLOCK_BOOTTIME ns to get Unix epoch ns */
	double load_ms, attach_ms;
	/* the current poll's consumer */
	pg_event_fn fn;
	void *fn_ctx;
	unsigned long long delivered, malformed;
	unsigned long long dns_unparsed[PG_DNS_UNPARSED_COUNT]; /* DNS events by why they did not parse */
	struct pg_event ev;
	/* adaptive polling: see next_timeout() */
	unsigned long long wakeup_total; /* bytes at which the kernel wakes us (all CPUs) */
	unsigned long long pass_bytes; /* consumed by the current pass */
	long long last_pass_ns;
	double rate; /* bytes per ns, smoothed */
	/*
	 * processes found running at start-up, completed from /proc before the sensor is ready
	 * (snapshot_fill) and handed out before the ring: exec records packed at their own size,
	 * each at an 8-byte boundary
	 */
	unsigned char *snap;
	size_t snap_off, nsnap, snap_next;
	int snap_state; /* 1 taken, 0 failed, -1 not asked for */
	struct pg_kfilter kf; /* the kernel part of the filter, for them (residual: NULL) */
	/* policies (opts.policy) */
	bool policy;
	struct pg_enforce *enforce;
	char cgmount[256]; /* the cgroup2 mount, for cgroup selectors ("" when none) */
	bool lsm; /* BPF LSM programs load and run here (the type, and 'bpf' an active LSM) */
	char pol_refused[NPOLPROGS][160]; /* why this kernel refused a policy hook ("" if not) */
	bool pol_hook[POL_HOOK_COUNT]; /* loaded and attached */
	struct bpf_link *pol_links[NPOLPROGS];
	char pol_why[256];
};

static long long ts_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Sampled between two realtime reads so the offset is off by at most their distance. */
static long long boot_offset(void)
{
	long long r1 = ts_ns(CLOCK_REALTIME), b = ts_ns(CLOCK_BOOTTIME), r2 = ts_ns(CLOCK_REALTIME);

	return r1 + (r2 - r1) / 2 - b;
}

static double ms_since(long long t0)
{
	return (double)(ts_ns(CLOCK_MONOTONIC) - t0) / 1e6;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct source_bpf *s = ctx;

	if (pg_event_from_record(&s->ev, data, size)) {
		s->malformed++;
		return 0;
	}
	if (s->ev.r.hdr.type == PG_EV_DNS && !(s->ev.r.dns.flags & PG_DNS_F_PARSED)) {
		struct pg_dns_msg m;
		enum pg_dns_unparsed why = pg_dns_record_parse(&s->ev.r.dns, &m);

		if (why < PG_DNS_UNPARSED_COUNT)
			s->dns_unparsed[why]++;
	}
	s->pass_bytes += size;
	s->ev.r.hdr.ts_ns += (unsigned long long)s->boot_to_epoch;
	s->delivered++;
	return s->fn(s->fn_ctx, &s->ev);
}

/*
 * How long to sleep before looking at the ring again. A wakeup forced by the kernel is paid
 * by the traced task (an irq_work self-IPI and a cross-CPU wakeup on its CPU: native_write_msr
 * in bench/sensor_profile.sh, ~10 ns per op of the open+close loop), while a timer is paid by
 * the reader. So the reader estimates the rate at which records arrive and comes back at half
 * the time the ring takes to reach the wakeup threshold: under a steady load the kernel rarely
 * has to wake it, a burst still does, and a quiet ring is visited every timeout_ms. Measured
 * against a fixed 100 ms timer on that loop the difference was within noise (bench/README.md).
 */
static int next_timeout(struct source_bpf *s, int timeout_ms)
{
	long long now = ts_ns(CLOCK_MONOTONIC);
	long long dt = now - s->last_pass_ns;
	double ms;

	if (s->last_pass_ns && dt > 0)
		s->rate = 0.5 * s->rate + 0.5 * ((double)s->pass_bytes / (double)dt);
	s->last_pass_ns = now;
	s->pass_bytes = 0;
	if (timeout_ms <= 0 || s->rate <= 0)
		return timeout_ms;
	ms = (double)s->wakeup_total / s->rate / 2e6;
	if (ms >= timeout_ms)
		return timeout_ms;
	return ms < 1 ? 1 : (int)ms;
}

/*
 * The processes running now, as the kernel's task iterator lists them (snapshot_task in
 * sensor.bpf.c): one exec header each. Not fatal when it fails: the live events still come,
 * only the processes started earlier stay unknown, and the user is told.
 */
static int snapshot_complete(struct source_bpf *s, const struct pg_event_hdr *h, size_t n);

static void snapshot_collect(struct source_bpf *s)
{
	struct bpf_link *link = bpf_program__attach_iter(s->skel->progs.snapshot_task, NULL);
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = -1;

	if (!link || (fd = bpf_iter_create(bpf_link__fd(link))) < 0)
		goto fail;
	for (;;) {
		if (cap - len < 64 * 1024) {
			unsigned char *nb = realloc(buf, cap + 256 * 1024);

			if (!nb)
				goto fail;
			buf = nb;
			cap += 256 * 1024;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	bpf_link__destroy(link);
	link = NULL;
	if (snapshot_complete(s, (const struct pg_event_hdr *)buf,
			      len / sizeof(struct pg_event_hdr)))
		goto fail;
	free(buf);
	s->snap_state = 1;
	return;
fail:
	s->snap_state = 0;
	fprintf(stderr, "pangolin: warning: cannot list the processes already running (%s): only those "
			"started from now on are known\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	free(buf);
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot; 0 when unreadable. */
static unsigned long long proc_start_ticks(unsigned int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (!(p = strrchr(buf, ')'))) /* comm may hold spaces and parentheses */
		return 0;
	for (int field = 2; field < 22 && p; field++) /* p: the space before field + 1 */
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

/*
 * Snapshot header h as an exec record in rec: the executable and argv from /proc, kept only
 * if the process there is still the one listed (same start time: pids are reused).
 */
static void snapshot_fill(struct pg_exec_event *rec, const struct pg_event_hdr *h)
{
	char path[64], exe[4096];
	long tick_ns = 1000000000L / sysconf(_SC_CLK_TCK);
	unsigned long long ticks;
	ssize_t n;
	int fd;

	memset(rec, 0, sizeof(*rec));
	rec->hdr = *h;
	rec->flags = PG_SNAPSHOT;
	snprintf(path, sizeof(path), "/proc/%u/exe", h->pid);
	n = readlink(path, exe, sizeof(exe));
	/* /proc shows an executable without a link as "/memfd:name (deleted)" or "... (deleted)" */
	if (n > 10 && !memcmp(exe + n - 10, " (deleted)", 10))
		rec->flags |= PG_EXE_UNLINKED;
	if (n > 0) {
		if (n >= PG_PATH_LEN) {
			n = PG_PATH_LEN - 1;
			rec->flags |= PG_TRUNC_PATH;
		}
		memcpy(rec->path, exe, (size_t)n);
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", h->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		char more;
		size_t got = 0;

		while (got < PG_ARGV_LEN && (n = read(fd, rec->argv + got, PG_ARGV_LEN - got)) > 0)
			got += (size_t)n;
		if (got == PG_ARGV_LEN && read(fd, &more, 1) == 1)
			rec->flags |= PG_TRUNC_ARGV;
		rec->argv_len = (unsigned short)got;
		close(fd);
	}
	ticks = proc_start_ticks(h->pid);
	if (tick_ns <= 0 || ticks + 1 < h->start_ns / (unsigned long long)tick_ns ||
	    ticks > h->start_ns / (unsigned long long)tick_ns + 1) {
		/* gone, or another process under that pid: keep what the kernel listed */
		memset(rec->path, 0, sizeof(rec->path));
		rec->argv_len = 0;
		rec->flags = PG_SNAPSHOT;
	}
	rec->hdr.size = (unsigned short)(offsetof(struct pg_exec_event, argv) + rec->argv_len);
}

#define SNAP_ALIGN(n) (((n) + 7) & ~(size_t)7)

/*
 * The n processes the iterator listed, completed from /proc now, while the sensor starts: read
 * when handed out instead, a process that exits in between (the test that found it: one killed
 * right after start-up) would be reported without its executable and argv.
 */
static int snapshot_complete(struct source_bpf *s, const struct pg_event_hdr *h, size_t n)
{
	struct pg_exec_event *rec = malloc(sizeof(*rec));
	size_t cap = 0, len = 0;

	if (!rec)
		return -1;
	for (size_t i = 0; i < n; i++) {
		snapshot_fill(rec, &h[i]);
		if (cap - len < SNAP_ALIGN(rec->hdr.size)) {
			size_t nc = cap ? 2 * cap : 64 * 1024;
			unsigned char *nb = realloc(s->snap, nc);

			if (!nb) {
				free(rec);
				return -1;
			}
			s->snap = nb;
			cap = nc;
		}
		memcpy(s->snap + len, rec, rec->hdr.size);
		len += SNAP_ALIGN(rec->hdr.size);
	}
	free(rec);
	s->nsnap = n;
	return 0;
}

/* The next snapshot record as an event in s->ev. */
static int snapshot_event(struct source_bpf *s)
{
	const struct pg_event_hdr *h = (const struct pg_event_hdr *)(s->snap + s->snap_off);

	s->snap_off += SNAP_ALIGN(h->size);
	s->snap_next++;
	if (pg_event_from_record(&s->ev, h, h->size))
		return -1;
	s->ev.r.hdr.ts_ns += (unsigned long long)s->boot_to_epoch;
	return 0;
}

/* Hand out the snapshot's events that pass the kernel part of the filter. */
static int snapshot_poll(struct source_bpf *s)
{
	while (s->snap_next < s->nsnap) {
		int rc;

		if (snapshot_event(s)) {
			s->malformed++;
			continue;
		}
		if (!pg_kfilter__match(&s->kf, &s->ev))
			continue;
		s->delivered++;
		if ((rc = s->fn(s->fn_ctx, &s->ev)))
			return rc;
	}
	return 0;
}

size_t pg_source_bpf__snapshot_size(struct pg_source *src)
{
	return ((struct source_bpf *)src)->nsnap;
}

int pg_source_bpf__snapshot_state(struct pg_source *src)
{
	return ((struct source_bpf *)src)->snap_state;
}

bool pg_source_bpf__snapshot_pending(struct pg_source *src)
{
	struct source_bpf *s = (struct source_bpf *)src;

	return s->snap_next < s->nsnap;
}

static int bpf_poll(struct pg_source *src, int timeout_ms, pg_event_fn fn, void *ctx)
{
	struct source_bpf *s = (struct source_bpf *)src;
	unsigned long long before = s->delivered;
	int err = 0;

	s->fn = fn;
	s->fn_ctx = ctx;
	s->boot_to_epoch = boot_offset(); /* follows clock steps (NTP) between polls */
	if (s->snap_next < s->nsnap) {
		if ((err = snapshot_poll(s)))
			return err;
		timeout_ms = 0; /* they came first; the ring may have filled meanwhile */
	}
	/*
	 * Sleep first (pg_ring__wait: until the kernel wakes us or the timer is due), then take
	 * the batch: reading at the producer's heels would move the ring's lines between CPUs
	 * on every record. A caller who would wait for ever still gets what is waiting now.
	 */
	if (timeout_ms != 0) {
		int t = next_timeout(s, timeout_ms);

		err = pg_ring__wait(&s->ring, t < 0 && pg_ring__pending(&s->ring) ? 0 : t);
	}
	if (err >= 0 || err == -EINTR) {
		long n = pg_ring__consume(&s->ring, on_record, s);

		err = n < 0 ? (int)n : 0;
	}
	if (err < 0) {
		if (s->delivered == before || err > -4096)
			snprintf(src->errmsg, sizeof(src->errmsg), "ring buffer: %s", strerror(-err));
		return err;
	}
	return (int)(s->delivered - before);
}

int pg_source_bpf__counters(struct pg_source *src, struct pg_type_counters *out)
{
	struct source_bpf *s = (struct source_bpf *)src;

	_Static_assert(sizeof(struct pg_type_counters) % sizeof(uint64_t) == 0, "u64 lanes");
	return pg_bpf_percpu_sum(bpf_map__fd(s->skel->maps.counters), PG_EV_TYPE_COUNT,
				 sizeof(*out) / sizeof(uint64_t), (uint64_t *)out);
}

static void bpf_stats(struct pg_source *src, struct pg_source_stats *st)
{
	struct source_bpf *s = (struct source_bpf *)src;
	struct pg_type_counters c[PG_EV_TYPE_COUNT];

	memset(st, 0, sizeof(*st));
	st->read = s->delivered;
	st->skipped = s->malformed;
	if (!pg_source_bpf__counters(src, c))
		for (unsigned int t = 0; t < PG_EV_TYPE_COUNT; t++)
			st->lost += c[t].dropped;
}

static void *destroy_link(void *arg)
{
	bpf_link__destroy(arg);
	return NULL;
}

/*
 * Detaching a tracepoint program waits for an RCU grace period (tens of ms); one after the
 * other, the sensor's seven made every exit take seconds. In parallel the waits overlap.
 */
int pg_source_bpf__detach(struct pg_source *src)
{
	struct source_bpf *s = (struct source_bpf *)src;
	pthread_t th[NHOOKS];
	bool started[NHOOKS] = { false };

	for (size_t i = 0; i < NHOOKS; i++) {
		if (!s->links[i])
			continue;
		started[i] = !pthread_create(&th[i], NULL, destroy_link, s->links[i]);
		if (!started[i])
			bpf_link__destroy(s->links[i]); /* no thread: do it here, slowly */
	}
	for (size_t i = 0; i < NHOOKS; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		s->links[i] = NULL;
		s->hooks[i].attached = false;
	}
	for (size_t i = 0; i < NPOLPROGS; i++) {
		bpf_link__destroy(s->pol_links[i]);
		s->pol_links[i] = NULL;
	}
	s->detached = true;
	return 0;
}

static void bpf_free(struct pg_source *src)
{
	struct source_bpf *s = (struct source_bpf *)src;

	if (!s)
		return;
	pg_source_bpf__detach(src);
	pg_ring__close(&s->ring);
	sensor_bpf__destroy(s->skel);
	for (int i = 0; i < NLOGS; i++)
		free(s->logs[i]);
	free(s->snap);
	pg_enforce__free(s->enforce);
	free(s);
}

size_t pg_source_bpf__hooks(struct pg_source *src, struct pg_hook_status *out, size_t max)
{
	struct source_bpf *s = (struct source_bpf *)src;
	size_t n = NHOOKS < max ? NHOOKS : max;

	memcpy(out, s->hooks, n * sizeof(*out));
	return NHOOKS;
}

static const char *const dns_skip_names[PG_DNS_SKIP_COUNT] = {
	[PG_DNS_SKIP_LENGTH_ALONE] = "length_alone",
	[PG_DNS_SKIP_CUT] = "cut",
	[PG_DNS_SKIP_NOT_LOOKED_AT] = "not_looked_at",
	[PG_DNS_SKIP_IO_URING] = "io_uring_buffer",
};

const char *pg_dns_skip_name(unsigned int why)
{
	return why < PG_DNS_SKIP_COUNT ? dns_skip_names[why] : NULL;
}

int pg_source_bpf__dns_counts(struct pg_source *src, uint64_t skipped[PG_DNS_SKIP_COUNT],
			      uint64_t unparsed[PG_DNS_UNPARSED_COUNT])
{
	struct source_bpf *s = (struct source_bpf *)src;

	for (unsigned int i = 0; i < PG_DNS_UNPARSED_COUNT; i++)
		unparsed[i] = s->dns_unparsed[i];
	return pg_bpf_percpu_sum(bpf_map__fd(s->skel->maps.dns_skips), PG_DNS_SKIP_COUNT, 1, skipped);
}

int pg_source_bpf__tier(struct pg_source *src)
{
	return ((struct source_bpf *)src)->tier;
}

const char *pg_source_bpf__snapshot_refused(struct pg_source *src)
{
	return ((struct source_bpf *)src)->snap_refused;
}

void pg_source_bpf__timing(struct pg_source *src, double *load_ms, double *attach_ms)
{
	struct source_bpf *s = (struct source_bpf *)src;

	*load_ms = s->load_ms;
	*attach_ms = s->attach_ms;
}

unsigned long long pg_source_bpf__malformed(struct pg_source *src)
{
	return ((struct source_bpf *)src)->malformed;
}

static const struct pg_source_ops bpf_ops = {
	.name = "bpf",
	.poll = bpf_poll,
	.stats = bpf_stats,
	.metrics = pg_source_bpf__metrics,
	.free = bpf_free,
};

/* A small set goes into rodata (before load) and its hash map stays empty: PG_INLINE_KEYS. */
static bool set_is_inline(const struct pg_kf_set *set)
{
	return set->mode != PG_FM_OFF && set->n > 0 && set->n <= PG_INLINE_KEYS;
}

static void inline_set(struct pg_inline_set *dst, const struct pg_kf_set *set, bool comm)
{
	memset(dst, 0, sizeof(*dst));
	if (!set_is_inline(set))
		return;
	for (size_t i = 0; i < set->n; i++) {
		if (comm)
			memcpy(dst->k[i], set->comms[i], sizeof(dst->k[i]));
		else
			dst->k[i][0] = set->keys[i];
	}
	dst->n = (__u32)set->n;
}

/* A set into its hash map; one that inline_set() put in rodata (inlined) stays out of it. */
static int fill_set(int fd, const struct pg_kf_set *set, bool inlined, size_t keysize, char *err,
		    size_t errlen, const char *what)
{
	__u8 one = 1;

	if (inlined)
		return 0;
	for (size_t i = 0; i < set->n; i++) {
		union {
			__u16 u16;
			__u32 u32;
			__u64 u64;
		} k;
		const void *key = &k;

		if (keysize == 16)
			key = set->comms[i];
		else if (keysize == 2)
			k.u16 = (__u16)set->keys[i];
		else if (keysize == 4)
			k.u32 = (__u32)set->keys[i];
		else
			k.u64 = set->keys[i];
		if (bpf_map_update_elem(fd, key, &one, BPF_ANY)) {
			int e = -errno;

			snprintf(err, errlen, "cannot fill the kernel %s filter: %s", what, strerror(errno));
			return e;
		}
	}
	return 0;
}

static bool is_pow2(size_t v)
{
	return v && !(v & (v - 1));
}


/* The event types a policy acts on at sys_exit, and the hooks the process table needs. */
#define POLICY_SYS_TYPES                                                                         \
	((1u << PG_EV_OPEN) | (1u << PG_EV_CONNECT) | (1u << PG_EV_SETID) | (1u << PG_EV_PTRACE) | \
	 (1u << PG_EV_DNS))
#define POLICY_HOOK_TYPES \
	(POLICY_SYS_TYPES | (1u << PG_EV_EXEC) | (1u << PG_EV_FORK) | (1u << PG_EV_EXIT))

/* Without policies their maps take no memory: one entry each, never looked at. */
static void policy_maps_minimal(struct source_bpf *s)
{
	struct bpf_map *maps[] = {
		s->skel->maps.pol_cfg,	       s->skel->maps.pol_rules,
		s->skel->maps.pol_hits,	       s->skel->maps.pol_hash,
		s->skel->maps.pol_lpm,	       s->skel->maps.pol_proc,
		s->skel->maps.pol_pending,     s->skel->maps.pol_dns_pending,
		s->skel->maps.pol_skb_scratch, s->skel->maps.pol_lsm_pending,
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		bpf_map__set_max_entries(maps[i], 1);
}

/* Rodata, ring size and which programs load: fixed before load, so the verifier prunes what the
 * filter does not need. */
static void configure(struct source_bpf *s, const struct pg_kfilter *kf,
		      const struct pg_bpf_opts *opts, size_t rb_bytes, bool snapshot)
{
	struct sensor_bpf__rodata *ro = s->skel->rodata;

	ro->self_tgid = (__u32)getpid();
	ro->type_mask = kf->type_mask;
	ro->pid_mode = kf->pids.mode;
	ro->comm_mode = kf->comms.mode;
	ro->uid_mode = kf->uids.mode;
	ro->cgroup_mode = kf->cgroups.mode;
	ro->port_mode = kf->ports.mode;
	inline_set((struct pg_inline_set *)&ro->inline_sets[PG_SET_PID], &kf->pids, false);
	inline_set((struct pg_inline_set *)&ro->inline_sets[PG_SET_UID], &kf->uids, false);
	inline_set((struct pg_inline_set *)&ro->inline_sets[PG_SET_CGROUP], &kf->cgroups, false);
	inline_set((struct pg_inline_set *)&ro->inline_sets[PG_SET_COMM], &kf->comms, true);
	ro->n_prefixes = kf->n_prefixes;
	memcpy((void *)ro->prefixes, kf->prefixes, sizeof(kf->prefixes));
	/* the kernel counts per CPU: split the threshold so the total waiting stays under it */
	ro->wakeup_bytes = (opts->wakeup_bytes ? opts->wakeup_bytes : rb_bytes / 16) /
			   (s->ncpus > 0 ? (unsigned int)s->ncpus : 1);
	if (ro->wakeup_bytes < sizeof(union pg_record))
		ro->wakeup_bytes = sizeof(union pg_record);
	s->wakeup_total = ro->wakeup_bytes * (unsigned long long)(s->ncpus > 0 ? s->ncpus : 1);
	bpf_map__set_max_entries(s->skel->maps.events, (__u32)rb_bytes);

	ro->uring_complete_cqe = s->uring_complete_cqe;
	ro->policy_on = s->policy;
	if (!s->policy)
		policy_maps_minimal(s);

	/* the syscalls handle_sys_exit looks at: only those of the types the filter wants, and
	 * with policies those a rule may be for */
	for (size_t i = 0; i < sizeof(sys_table) / sizeof(sys_table[0]); i++) {
		unsigned int t = 1u << kind_type[sys_table[i].kind];

		if (((kf->type_mask & t) || (s->policy && (POLICY_SYS_TYPES & t))) &&
		    sys_table[i].nr < PG_SYS_MAX)
			((__u8 *)ro->sys_kind)[sys_table[i].nr] = sys_table[i].kind;
	}

	/* only the programs wanted, where the kernel has their tracepoint and took them so far */
	for (size_t i = 0; i < NHOOKS; i++) {
		struct pg_hook_status *h = &s->hooks[i];
		struct bpf_program *p = bpf_object__find_program_by_name(s->skel->obj, h->program);

		bpf_program__set_autoload(p, h->wanted && h->present && !h->refused[0]);
		bpf_program__set_log_buf(p, s->logs[i], LOG_BYTES);
	}
	bpf_program__set_autoload(s->skel->progs.snapshot_task, snapshot && !s->snap_refused[0]);
	bpf_program__set_log_buf(s->skel->progs.snapshot_task, s->logs[SNAP_PROG], LOG_BYTES);

	/* a hook whose programs were all accepted so far, where there is a cgroup2 to attach to */
	for (int h = 0; h < POL_HOOK_COUNT; h++)
		s->pol_hook[h] = s->policy && (pol_hook_is_lsm(h) ? s->lsm : s->cgmount[0] != 0);
	for (size_t i = 0; i < NPOLPROGS; i++)
		if (s->pol_refused[i][0])
			s->pol_hook[pol_prog_table[i].hook] = false;
	ro->pol_connect_hook = s->pol_hook[POL_HOOK_CONNECT];
	ro->pol_dns_hook = s->pol_hook[POL_HOOK_DNS];
	ro->pol_lsm_types = 0;
	for (int h = POL_HOOK_LSM_EXEC; h < POL_HOOK_COUNT; h++)
		if (s->pol_hook[h])
			ro->pol_lsm_types |= 1u << pol_hook_info[h].type;
#ifdef SYS_io_uring_enter
	if ((ro->pol_lsm_types & (1u << PG_EV_OPEN)) && SYS_io_uring_enter < PG_SYS_MAX)
		((__u8 *)ro->sys_kind)[SYS_io_uring_enter] = PG_SYS_URING_ENTER;
#endif
	for (size_t i = 0; i < NPOLPROGS; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(s->skel->obj,
									 pol_prog_table[i].prog);

		bpf_program__set_autoload(p, s->pol_hook[pol_prog_table[i].hook]);
		bpf_program__set_log_buf(p, s->logs[POL_PROG(i)], LOG_BYTES);
	}
}

/* The verifier's verdict: the last line of its log that is not a statistic. */
static void log_reason(const char *log, char *out, size_t len)
{
	const char *end = log + strlen(log), *line;

	snprintf(out, len, "refused by the verifier");
	while (end > log) {
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		line = end;
		while (line > log && line[-1] != '\n')
			line--;
		if (end > line && strncmp(line, "processed ", 10) && strncmp(line, "verification time", 17) &&
		    strncmp(line, "stack depth", 11)) {
			snprintf(out, len, "%.*s", (int)(end - line), line);
			return;
		}
		end = line;
	}
}

/* A program's name by its slot in source_bpf.logs. */
static const char *slot_program(const struct source_bpf *s, int slot)
{
	if (slot == SNAP_PROG)
		return "snapshot_task";
	if (slot > SNAP_PROG)
		return pol_prog_table[slot - SNAP_PROG - 1].prog;
	return s->hooks[slot].program;
}

/* Which program's log the verifier wrote (the one it refused): its slot, or -1. */
static int refused_program(struct source_bpf *s)
{
	for (int i = 0; i < NLOGS; i++)
		if (s->logs[i] && s->logs[i][0])
			return i;
	return -1;
}

static int try_load(struct source_bpf *s, int tier, const struct pg_kfilter *kf,
		    const struct pg_bpf_opts *opts, size_t rb_bytes, bool snapshot)
{
	long long t0;
	int rc;

	sensor_bpf__destroy(s->skel);
	s->skel = sensor_open(tier);
	if (!s->skel)
		return -errno;
	s->tier = tier;
	for (int i = 0; i < NLOGS; i++)
		s->logs[i][0] = 0;
	configure(s, kf, opts, rb_bytes, snapshot);
	t0 = ts_ns(CLOCK_MONOTONIC);
	rc = sensor_bpf__load(s->skel);
	s->load_ms = ms_since(t0);
	return rc;
}

/* The events a program serves, for warnings: "open, connect events through io_uring". */
static void hook_events(const struct pg_hook_status *h, char *out, size_t len)
{
	size_t n = 0;

	out[0] = 0;
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT && n < len; t++)
		if (h->types & (1u << t))
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", pg_event_type_name(t));
	if (n < len)
		snprintf(out + n, len - n, " events%s%s", h->via ? " through " : "", h->via ? h->via : "");
}

/*
 * Load the best object the kernel accepts, never refusing the whole sensor for one program:
 * a refused io_uring program or iterator is left out (its events are not seen, and the user
 * is told); a refused core program first sends us one tier down (a lower tier reads the kernel
 * with helpers, which older verifiers accept more readily), and at the lowest tier it is left
 * out too. Every round either leaves a program out or lowers the tier, so this ends.
 */
static int load_best(struct source_bpf *s, const struct pg_kfilter *kf, const struct pg_bpf_opts *opts,
		     size_t rb_bytes, bool snapshot, char *err, size_t errlen)
{
	unsigned int mask = opts->tier_mask ? opts->tier_mask : (1u << PG_BPF_TIER_COUNT) - 1;
	int tier = pg_bpf_tier_probe(), rc, slot;
	char why[160];

	while (tier >= 0 && !(mask & (1u << tier)))
		tier--;
	if (tier < 0) { /* only higher tiers allowed than the kernel has: try the lowest allowed */
		for (tier = 0; tier < PG_BPF_TIER_COUNT && !(mask & (1u << tier)); tier++)
			;
	}
	for (;;) {
		rc = try_load(s, tier, kf, opts, rb_bytes, snapshot);
		if (!rc)
			return 0;
		slot = refused_program(s);
		if (slot >= 0) {
			log_reason(s->logs[slot], why, sizeof(why));
			if (opts->verbose)
				fprintf(stderr, "pangolin: verifier log of %s (tier %d):\n%s\n",
					slot_program(s, slot), tier, s->logs[slot]);
		} else if (rc == -EPERM) {
			/* not a verifier's refusal (no log): a lower tier would be refused alike */
			snprintf(
				err, errlen,
				"the kernel does not let this process load BPF programs (%s): it "
				"needs CAP_BPF and CAP_PERFMON (with --policy, CAP_NET_ADMIN too), and "
				"a kernel not locked down against BPF; 'pangolin doctor' checks",
				strerror(-rc));
			return rc;
		} else {
			snprintf(why, sizeof(why), "%s", strerror(-rc));
		}
		bool optional = slot >= SNAP_PROG || (slot >= 0 && s->hooks[slot].via);
		int lower = tier - 1;

		if (slot > SNAP_PROG) {
			size_t i = (size_t)(slot - SNAP_PROG - 1);

			snprintf(s->pol_refused[i], sizeof(s->pol_refused[i]), "%s", why);
			fprintf(stderr,
				"pangolin: warning: this kernel refused %s (%s): %s; 'pangolin run -v' shows the verifier log\n",
				pol_prog_table[i].prog, why,
				pol_hook_info[pol_prog_table[i].hook].what);
			continue;
		}
		while (lower >= 0 && !(mask & (1u << lower)))
			lower--;
		if (slot >= 0 && (optional || lower < 0)) {
			char ev[96];

			if (slot == SNAP_PROG) {
				snprintf(s->snap_refused, sizeof(s->snap_refused), "%s", why);
				snprintf(ev, sizeof(ev), "the processes already running at start-up");
			} else {
				snprintf(s->hooks[slot].refused, sizeof(s->hooks[slot].refused), "%s", why);
				hook_events(&s->hooks[slot], ev, sizeof(ev));
			}
			fprintf(stderr,
				"pangolin: warning: this kernel refused %s (%s): %s are not seen; 'pangolin run -v' shows the verifier log\n",
				slot_program(s, slot), why, ev);
			continue;
		}
		if (lower >= 0) {
			fprintf(stderr,
				"pangolin: warning: this kernel refused the tier-%d sensor (%s): loading tier %d, which needs %s\n",
				tier, why, lower, sensor_objects[lower].needs);
			tier = lower;
			continue;
		}
		snprintf(err, errlen,
			 "the kernel refused the sensor's BPF programs (%s); run with --verbose for the verifier log, and 'pangolin doctor'",
			 why);
		return rc;
	}
}

/* Every program of hook left out before the load, with a warning: this kernel lacks what they
 * need (said without the verifier's cryptic refusal, and without libbpf's complaints). */
static void pol_refuse_early(struct source_bpf *s, int hook, const char *why)
{
	for (size_t i = 0; i < NPOLPROGS; i++) {
		if (pol_prog_table[i].hook != hook)
			continue;
		snprintf(s->pol_refused[i], sizeof(s->pol_refused[i]), "%s", why);
		fprintf(stderr, "pangolin: warning: %s: %s\n", why, pol_hook_info[hook].what);
	}
}

/* An LSM hook this kernel does not have (its BTF lacks bpf_lsm_NAME): the program is left out,
 * as if refused, so that libbpf does not fail the whole object looking for it. */
static void lsm_hooks_present(struct source_bpf *s)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();

	for (size_t i = 0; i < NPOLPROGS; i++) {
		char name[96];

		if (!pol_prog_table[i].lsm)
			continue;
		snprintf(name, sizeof(name), "bpf_lsm_%s", pol_prog_table[i].lsm);
		if (!vmlinux || btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) < 0) {
			snprintf(s->pol_refused[i], sizeof(s->pol_refused[i]),
				 "this kernel has no LSM hook %s", pol_prog_table[i].lsm);
			fprintf(stderr, "pangolin: warning: %s: %s\n", s->pol_refused[i],
				pol_hook_info[pol_prog_table[i].hook].what);
		}
	}
	btf__free(vmlinux);
}

/*
 * The policy hooks at the cgroup v2 root, as bpf links (they go when pangolin does). Loaded
 * means they must attach: the kernel side already counts on them to decide.
 */
static int attach_policy_hooks(struct source_bpf *s, char *err, size_t errlen)
{
	int fd = -1, rc = 0;

	if (s->pol_hook[POL_HOOK_CONNECT] || s->pol_hook[POL_HOOK_DNS]) {
		fd = open(s->cgmount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			snprintf(err, errlen,
				 "cannot open the cgroup2 root %s for the policy hooks: %s",
				 s->cgmount, strerror(errno));
			return rc;
		}
	}
	for (size_t i = 0; i < NPOLPROGS && !rc; i++) {
		int h = pol_prog_table[i].hook;
		struct bpf_program *p;

		if (!s->pol_hook[h])
			continue;
		p = bpf_object__find_program_by_name(s->skel->obj, pol_prog_table[i].prog);
		s->pol_links[i] = pol_hook_is_lsm(h) ? bpf_program__attach_lsm(p) :
						       bpf_program__attach_cgroup(p, fd);
		if (!s->pol_links[i]) {
			rc = -errno;
			snprintf(err, errlen, "cannot attach %s%s%s: %s", pol_prog_table[i].prog,
				 pol_hook_is_lsm(h) ? "" : " at the cgroup2 root ",
				 pol_hook_is_lsm(h) ? "" : s->cgmount, strerror(errno));
		}
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

struct pg_source *pg_source_bpf__new(const struct pg_bpf_opts *opts, char *err, size_t errlen)
{
	const struct pg_kfilter none = { .type_mask = ~0u };
	const struct pg_kfilter *kf = opts->kfilter ? opts->kfilter : &none;
	size_t rb_bytes = opts->ringbuf_bytes ? opts->ringbuf_bytes : PG_RINGBUF_DEFAULT;
	long page = sysconf(_SC_PAGESIZE);
	bool snapshot = opts->snapshot && (kf->type_mask & (1u << PG_EV_EXEC));
	struct source_bpf *s;
	long long t0;
	int rc;

	if (!is_pow2(rb_bytes) || rb_bytes < (size_t)page || rb_bytes > (1u << 30)) {
		snprintf(err, errlen,
			 "ring buffer size %zu is invalid: use a power of two from %ld (a page) to 1G, e.g. 4M",
			 rb_bytes, page);
		errno = EINVAL;
		return NULL;
	}
	if ((rc = pg_bpf_preflight(err, errlen))) {
		errno = -rc;
		return NULL;
	}
	/* else the kernel refuses the cgroup programs with EPERM, which reads like a verifier's no */
	if (opts->policy && (rc = pg_bpf_preflight_cgroup_hooks(err, errlen))) {
		char cgmount[256];

		if (!pg_cgroup2_mount(cgmount, sizeof(cgmount))) {
			errno = -rc;
			return NULL;
		}
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		struct utsname u;

		uname(&u);
		snprintf(err, errlen,
			 "this kernel (Linux %s) has no BPF ring buffer: the sensor needs Linux 5.8 or newer, with BTF",
			 u.release);
		errno = ENOTSUP;
		return NULL;
	}
	pg_bpf_setup_logging(opts->verbose);

	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->base.ops = &bpf_ops;
	s->kf = *kf;
	s->kf.residual = NULL; /* not ours: userspace's part runs in the pipeline */
	s->kf.kernel = NULL; /* nor the kernel part's tree: the caller frees both */
	s->ncpus = libbpf_num_possible_cpus();
	s->boot_to_epoch = boot_offset();
	s->policy = opts->policy;
	if (s->policy && pg_cgroup2_mount(s->cgmount, sizeof(s->cgmount)))
		s->cgmount[0] = 0;
	/* both: with only the program type, LSM programs load and are never called (5.10) */
	s->lsm = s->policy && libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, NULL) == 1 &&
		 pg_lsm_active("bpf") == 1;
	if (s->lsm)
		lsm_hooks_present(s);
	if (s->policy &&
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_loop, NULL) != 1)
		pol_refuse_early(s, POL_HOOK_DNS, "no bpf_loop (5.17+) to read a DNS name with");
	for (int i = 0; i < NLOGS; i++) {
		/* untouched pages cost nothing: the kernel writes a log only when it refuses */
		if (!(s->logs[i] = calloc(1, LOG_BYTES))) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto err_out;
		}
	}
	for (size_t i = 0; i < NHOOKS; i++) {
		const char *tp = hook_table[i].tracepoint;
		const char *slash = strchr(tp, '/');
		char cat[64];

		snprintf(cat, sizeof(cat), "%.*s", (int)(slash - tp), tp);
		s->hooks[i] = (struct pg_hook_status){
			.program = hook_table[i].prog,
			.tracepoint = tp,
			.types = hook_table[i].types,
			.via = hook_table[i].via,
			.kind = hook_table[i].kind,
			.wanted = (kf->type_mask & hook_table[i].types) != 0 ||
				  (opts->policy && !hook_table[i].via &&
				   (hook_table[i].types & POLICY_HOOK_TYPES)),
			.present = pg_tracepoint_exists(cat, slash + 1),
		};
		if (!s->hooks[i].present && hook_table[i].older) {
			const char *old = hook_table[i].older, *os = strchr(old, '/');

			snprintf(cat, sizeof(cat), "%.*s", (int)(os - old), old);
			if (pg_tracepoint_exists(cat, os + 1) &&
			    raw_tp_nargs(os + 1) == hook_table[i].older_nargs) {
				s->hooks[i].tracepoint = old;
				s->hooks[i].present = true;
			}
		}
		if (s->hooks[i].wanted && !s->hooks[i].present)
			fprintf(stderr,
				"pangolin: warning: this kernel has no tracepoint %s: the events it serves%s%s are not seen\n",
				tp, hook_table[i].via ? " through " : "",
				hook_table[i].via ? hook_table[i].via : "");
	}
	s->uring_complete_cqe = raw_tp_nargs("io_uring_complete") == 3;
	if ((rc = load_best(s, kf, opts, rb_bytes, snapshot, err, errlen)))
		goto err_out;
	for (int i = 0; i < NLOGS; i++) {
		free(s->logs[i]);
		s->logs[i] = NULL;
	}
	if ((rc = fill_set(bpf_map__fd(s->skel->maps.filter_pids), &kf->pids,
			   set_is_inline(&kf->pids), 4, err, errlen, "pid")) ||
	    (rc = fill_set(bpf_map__fd(s->skel->maps.filter_comms), &kf->comms,
			   set_is_inline(&kf->comms), 16, err, errlen, "comm")) ||
	    (rc = fill_set(bpf_map__fd(s->skel->maps.filter_uids), &kf->uids,
			   set_is_inline(&kf->uids), 4, err, errlen, "uid")) ||
	    (rc = fill_set(bpf_map__fd(s->skel->maps.filter_cgroups), &kf->cgroups,
			   set_is_inline(&kf->cgroups), 8, err, errlen, "cgroup")) ||
	    (rc = fill_set(bpf_map__fd(s->skel->maps.filter_ports), &kf->ports, false, 2, err,
			   errlen, "port")))
		goto err_out;

	if ((rc = pg_ring__open(&s->ring, bpf_map__fd(s->skel->maps.events), err, errlen)))
		goto err_out;

	t0 = ts_ns(CLOCK_MONOTONIC);
	for (size_t i = 0; i < NHOOKS; i++) {
		struct bpf_program *p;

		if (!s->hooks[i].wanted || !s->hooks[i].present || s->hooks[i].refused[0])
			continue;
		p = bpf_object__find_program_by_name(s->skel->obj, hook_table[i].prog);
		if (s->hooks[i].tracepoint != hook_table[i].tracepoint) /* its older name */
			s->links[i] = bpf_program__attach_raw_tracepoint(
				p, strchr(s->hooks[i].tracepoint, '/') + 1);
		else
			s->links[i] = bpf_program__attach(p);
		if (!s->links[i]) {
			rc = -errno;
			snprintf(err, errlen, "cannot attach %s to %s: %s", hook_table[i].prog,
				 hook_table[i].tracepoint, strerror(errno));
			goto err_out;
		}
		s->hooks[i].attached = true;
	}
	s->attach_ms = ms_since(t0);
	if (s->policy) {
		struct pg_enforce_maps m = {
			.bank = bpf_map__fd(s->skel->maps.pol_bank),
			.cfg = bpf_map__fd(s->skel->maps.pol_cfg),
			.rules = bpf_map__fd(s->skel->maps.pol_rules),
			.hits = bpf_map__fd(s->skel->maps.pol_hits),
			.hash = bpf_map__fd(s->skel->maps.pol_hash),
			.lpm = bpf_map__fd(s->skel->maps.pol_lpm),
			.proc = bpf_map__fd(s->skel->maps.pol_proc),
			.proc_lost = bpf_map__fd(s->skel->maps.pol_proc_lost),
		};

		if (!(s->enforce = pg_enforce__new(&m))) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto err_out;
		}
		if ((rc = attach_policy_hooks(s, err, errlen)))
			goto err_out;
		/* after attaching: an exec from now on is the kernel's to record */
		pg_enforce__fill_procs(s->enforce);
	}
	/* after attaching: a process started meanwhile is in both, none is in neither */
	s->snap_state = -1;
	if (snapshot && !s->snap_refused[0])
		snapshot_collect(s);
	else if (snapshot)
		s->snap_state = 0;
	return &s->base;
err_out:
	bpf_free(&s->base);
	errno = rc < 0 ? -rc : EINVAL;
	return NULL;
}

/* --- policies ------------------------------------------------------------------------------ */

/* The hook that reports events of type (not through io_uring): a rule's event is one. */
static const struct pg_hook_status *pol_reporter_hook(const struct source_bpf *s, unsigned int type)
{
	for (size_t i = 0; i < NHOOKS; i++)
		if (!s->hooks[i].via && (s->hooks[i].types & (1u << type)))
			return &s->hooks[i];
	return NULL;
}

static bool pol_reporter(const struct source_bpf *s, unsigned int type)
{
	const struct pg_hook_status *h = pol_reporter_hook(s, type);

	return !h || h->attached;
}

void pg_source_bpf__policy_env(struct pg_source *src, struct pg_policy_env *env)
{
	struct source_bpf *s = (struct source_bpf *)src;

	memset(env, 0, sizeof(*env));
	if (!s->policy)
		return;
	/* the strongest the kernel took: LSM hooks, else the signal from the sensor's own
	 * hooks (sys_exit, sched_process_exec); cgroup socket hooks for connect and DNS */
	env->mech[PG_EV_EXEC] = s->pol_hook[POL_HOOK_LSM_EXEC] ? PG_MECH_LSM : PG_MECH_SIGNAL;
	env->mech[PG_EV_OPEN] = s->pol_hook[POL_HOOK_LSM_OPEN] ? PG_MECH_LSM : PG_MECH_SIGNAL;
	env->mech[PG_EV_CONNECT] = s->pol_hook[POL_HOOK_CONNECT] ? PG_MECH_CGROUP : PG_MECH_SIGNAL;
	env->mech[PG_EV_DNS] = s->pol_hook[POL_HOOK_DNS] ? PG_MECH_CGROUP : PG_MECH_NONE;
	env->mech[PG_EV_SETID] = s->pol_hook[POL_HOOK_LSM_SETID] ? PG_MECH_LSM : PG_MECH_SIGNAL;
	env->mech[PG_EV_PTRACE] = s->pol_hook[POL_HOOK_LSM_PTRACE] ? PG_MECH_LSM : PG_MECH_SIGNAL;
	/* a type whose own hook does not run here (refused: 5.10 did, before its fix) is
	 * neither reported nor, without it, enforced: its rules are refused */
	for (unsigned int t = 0; t < PG_EV_TYPE_COUNT; t++)
		if (!pol_reporter(s, t))
			env->mech[t] = PG_MECH_NONE;
	if (s->cgmount[0]) {
		env->cgroup = pg_enforce__cgroup_lookup;
		env->ctx = s->cgmount;
	}
}

int pg_source_bpf__policy_install(struct pg_source *src, const struct pg_policy_plan *plan,
				  char *err, size_t errlen)
{
	struct source_bpf *s = (struct source_bpf *)src;

	if (!s->enforce) {
		snprintf(err, errlen, "the sensor was loaded without policies");
		return -EINVAL;
	}
	return pg_enforce__install(s->enforce, plan, err, errlen);
}

void pg_source_bpf__policy_hits(struct pg_source *src, uint32_t slot, uint64_t *hits)
{
	struct source_bpf *s = (struct source_bpf *)src;

	if (s->enforce)
		pg_enforce__hits(s->enforce, slot, hits);
	else
		memset(hits, 0, PG_ACT_COUNT * sizeof(*hits));
}

uint64_t pg_source_bpf__policy_proc_lost(struct pg_source *src)
{
	struct source_bpf *s = (struct source_bpf *)src;

	return s->enforce ? pg_enforce__proc_lost(s->enforce) : 0;
}

const char *pg_source_bpf__policy_refused(struct pg_source *src, unsigned int type)
{
	struct source_bpf *s = (struct source_bpf *)src;
	const struct pg_hook_status *h = pol_reporter_hook(s, type);

	if (s->policy && h && !h->attached) {
		const char *open = h->refused[0] ? " (" : !h->present ? " (no tracepoint)" : "";

		snprintf(s->pol_why, sizeof(s->pol_why), "%s does not run here%s%s%s", h->program,
			 open, h->refused, h->refused[0] ? ")" : "");
		return s->pol_why;
	}
	for (size_t i = 0; i < NPOLPROGS; i++)
		if (pol_hook_info[pol_prog_table[i].hook].type == type && s->pol_refused[i][0])
			return s->pol_refused[i];
	if (type == PG_EV_DNS && s->policy && !s->cgmount[0])
		return "no cgroup2 file system mounted";
	if (!s->lsm && type != PG_EV_CONNECT && type != PG_EV_DNS)
		return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, NULL) != 1 ?
			       "no BPF LSM program type" :
			       "'bpf' is not an active LSM (lsm= on the kernel command line)";
	return "";
}
