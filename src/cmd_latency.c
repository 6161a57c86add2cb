// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin latency: log2 histograms built in the kernel (latency.bpf.c) for syscall,
 * run-queue and block I/O latency, printed like libbpf-tools (bars) with percentiles, or as
 * one JSON object per interval. Userspace reads O(buckets) per interval, whatever the rate.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_util.h"
#include "cli.h"
#include "hist.h"
#include "latency.skel.h"
#include "syscalls.h"

static void latency_help(FILE *out)
{
	fputs("usage: pangolin latency syscall|runq|block [options]\n"
	      "\n"
	      "Log2 latency histograms built in the kernel, with p50/p90/p99/p99.9:\n"
	      "  syscall  time from syscall entry to exit, per syscall (raw_syscalls tracepoints)\n"
	      "  runq     time a runnable task waited for a CPU (sched_wakeup, sched_wakeup_new,\n"
	      "           sched_switch)\n"
	      "  block    block device I/O time from issue to completion, per disk\n"
	      "           (block_rq_issue, block_rq_complete)\n"
	      "docs/latency.md explains the buckets and how percentiles are estimated.\n"
	      "\n"
	      "options:\n"
	      "  -p, --pid PID         only this process (syscall, runq)\n"
	      "  -c, --comm NAME       only tasks with this command name (syscall, runq)\n"
	      "  -s, --syscall NAME    only this syscall, e.g. read or openat (syscall)\n"
	      "  -i, --interval S      print every S seconds (the change since the last print)\n"
	      "  -d, --duration S      stop after S seconds (default: until Ctrl-C)\n"
	      "  -u, --unit U          bucket unit: ns, us or ms (default ns for syscall, else us)\n"
	      "  -t, --top N           syscalls shown in the table (default 10; all with --json)\n"
	      "      --per-disk        one histogram per disk (block)\n"
	      "      --histograms      a histogram per syscall, not only the table (syscall)\n"
	      "  -j, --json            one JSON object per interval instead of text\n"
	      "  -v, --verbose         libbpf debug output\n"
	      "  -h, --help            this help\n"
	      "\n"
	      "exit status: 0 success, 1 failure (cannot load), 2 bad command line\n",
	      out);
}

enum mode { MODE_SYSCALL, MODE_RUNQ, MODE_BLOCK };

struct lat_opts {
	enum mode mode;
	pid_t pid;
	const char *comm;
	long syscall_nr;
	double interval, duration;
	int unit;
	unsigned long top;
	bool per_disk, histograms, json, verbose;
};

struct keyed {
	uint32_t key;
	struct pg_hist h;
};

struct lat_state {
	const struct lat_opts *o;
	struct latency_bpf *skel;
	struct keyed *prev;
	size_t nprev;
	uint64_t ctr_prev[PG_LAT_CTR_COUNT];
	double t_last;
};

static const char *mode_name(enum mode m)
{
	return m == MODE_SYSCALL ? "syscall" : m == MODE_RUNQ ? "runq" : "block";
}

/* Tracepoints a mode needs, checked before load so the error names the missing one. */
static int check_tracepoints(enum mode m, char *msg, size_t len)
{
	static const char *const need[][3][2] = {
		[MODE_SYSCALL] = { { "raw_syscalls", "sys_enter" }, { "raw_syscalls", "sys_exit" } },
		[MODE_RUNQ] = { { "sched", "sched_wakeup" },
				{ "sched", "sched_wakeup_new" },
				{ "sched", "sched_switch" } },
		[MODE_BLOCK] = { { "block", "block_rq_issue" }, { "block", "block_rq_complete" } },
	};

	for (int i = 0; i < 3 && need[m][i][0]; i++)
		if (!pg_tracepoint_exists(need[m][i][0], need[m][i][1])) {
			snprintf(msg, len,
				 "this kernel has no tracepoint %s:%s (/sys/kernel/tracing/events/%s/%s), which '%s' latency needs%s",
				 need[m][i][0], need[m][i][1], need[m][i][0], need[m][i][1], mode_name(m),
				 m == MODE_SYSCALL ? ": it needs CONFIG_FTRACE_SYSCALLS"
				 : m == MODE_BLOCK ? ": it needs CONFIG_BLOCK and a block device"
						   : "");
			return -ENOENT;
		}
	return 0;
}

static void read_counters(struct lat_state *st, uint64_t out[PG_LAT_CTR_COUNT])
{
	pg_bpf_percpu_sum(bpf_map__fd(st->skel->maps.counters), PG_LAT_CTR_COUNT, 1, out);
}

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int read_hists(struct lat_state *st, struct keyed **out, size_t *n)
{
	int fd = bpf_map__fd(st->skel->maps.hists), ncpus = libbpf_num_possible_cpus();
	uint32_t key, next;
	struct keyed *v = NULL;
	size_t cnt = 0, cap = 0;
	void *prev = NULL;
	struct pg_hist *percpu;

	if (ncpus <= 0)
		return -ENODEV;
	/* a per-CPU map hands back one value per possible CPU */
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (cnt == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct keyed *nv = realloc(v, c * sizeof(*nv));

			if (!nv) {
				free(v);
				free(percpu);
				return -ENOMEM;
			}
			v = nv;
			cap = c;
		}
		if (bpf_map_lookup_elem(fd, &key, percpu))
			continue;
		memset(&v[cnt].h, 0, sizeof(v[cnt].h));
		for (int c = 0; c < ncpus; c++)
			pg_hist_add(&v[cnt].h, &percpu[c]);
		v[cnt++].key = key;
	}
	free(percpu);
	if (cnt)
		qsort(v, cnt, sizeof(*v), keyed_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

static void key_name(const struct lat_opts *o, uint32_t key, char *buf, size_t len)
{
	if (o->mode == MODE_SYSCALL) {
		const char *n = pg_syscall_name((long)key);

		if (n)
			snprintf(buf, len, "%s", n);
		else
			snprintf(buf, len, "syscall_%u", key);
	} else if (o->mode == MODE_BLOCK) {
		char path[64], target[PATH_MAX];
		unsigned int major = key >> 20, minor = key & 0xfffff;
		ssize_t r;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
		r = readlink(path, target, sizeof(target) - 1);
		if (r > 0) {
			const char *base;

			target[r] = 0;
			base = strrchr(target, '/');
			base = base ? base + 1 : target;
			if (strlen(base) < len)
				memcpy(buf, base, strlen(base) + 1);
			else
				snprintf(buf, len, "%u:%u", major, minor);
		} else {
			snprintf(buf, len, "%u:%u", major, minor);
		}
	} else {
		snprintf(buf, len, "all");
	}
}

static uint64_t hist_total(const struct pg_hist *h)
{
	uint64_t t = 0;

	for (unsigned int k = 0; k < PG_HIST_SLOTS; k++)
		t += h->slots[k];
	return t;
}

static int by_count_desc(const void *a, const void *b)
{
	uint64_t x = hist_total(&((const struct keyed *)a)->h), y = hist_total(&((const struct keyed *)b)->h);

	return x > y ? -1 : x < y;
}

static void print_cell(double v)
{
	if (isnan(v))
		printf(" %9s", "-");
	else if (v < 100)
		printf(" %9.2f", v);
	else
		printf(" %9.0f", v);
}

static void print_text(struct lat_state *st, struct keyed *d, size_t n, double secs,
		       const uint64_t *ctr)
{
	const struct lat_opts *o = st->o;
	const char *us = pg_lat_unit_short((unsigned int)o->unit);
	time_t now = time(NULL);
	struct tm tm;
	char when[32], name[64];

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s %s latency over %.1f s\n", when, mode_name(o->mode), secs);
	if (o->mode == MODE_SYSCALL) {
		qsort(d, n, sizeof(*d), by_count_desc);
		printf("%-20s %10s %9s %9s %9s %9s %9s %9s  (%s)\n", "SYSCALL", "COUNT", "MEAN", "P50",
		       "P90", "P99", "P99.9", "MAX", us);
		for (size_t i = 0; i < n && i < o->top; i++) {
			uint64_t t = hist_total(&d[i].h);

			key_name(o, d[i].key, name, sizeof(name));
			printf("%-20s %10llu", name, (unsigned long long)t);
			print_cell(t ? (double)d[i].h.sum / (double)t : NAN);
			print_cell(pg_hist_percentile(&d[i].h, 50));
			print_cell(pg_hist_percentile(&d[i].h, 90));
			print_cell(pg_hist_percentile(&d[i].h, 99));
			print_cell(pg_hist_percentile(&d[i].h, 99.9));
			printf(" %9llu\n", (unsigned long long)d[i].h.max);
		}
		if (n > o->top)
			printf("(%zu more syscalls; --top N shows more)\n", n - o->top);
		if (o->histograms || o->syscall_nr >= 0)
			for (size_t i = 0; i < n && i < o->top; i++) {
				char label[96];

				key_name(o, d[i].key, name, sizeof(name));
				snprintf(label, sizeof(label), "\nsyscall %s", name);
				pg_hist_print(stdout, &d[i].h, (unsigned int)o->unit, label);
			}
	} else if (o->mode == MODE_BLOCK && o->per_disk) {
		for (size_t i = 0; i < n; i++) {
			char label[96];

			key_name(o, d[i].key, name, sizeof(name));
			snprintf(label, sizeof(label), "disk = %s", name);
			pg_hist_print(stdout, &d[i].h, (unsigned int)o->unit, label);
		}
	} else {
		struct pg_hist all = { 0 };

		for (size_t i = 0; i < n; i++)
			pg_hist_add(&all, &d[i].h);
		pg_hist_print(stdout, &all, (unsigned int)o->unit, NULL);
	}
	if (ctr[PG_LAT_CTR_START_FULL] || ctr[PG_LAT_CTR_HIST_FULL])
		printf("dropped: %llu (start map full), %llu (histogram map full)\n",
		       (unsigned long long)ctr[PG_LAT_CTR_START_FULL],
		       (unsigned long long)ctr[PG_LAT_CTR_HIST_FULL]);
	putchar('\n');
}

static void print_json(struct lat_state *st, struct keyed *d, size_t n, double secs,
		       const uint64_t *ctr)
{
	const struct lat_opts *o = st->o;
	struct timespec ts;
	char name[64];
	bool split = o->mode == MODE_SYSCALL || (o->mode == MODE_BLOCK && o->per_disk);

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("{\"mode\":\"%s\",\"unit\":\"%s\",\"ts\":%lld%09ld,\"seconds\":%.3f,"
	       "\"events\":%llu,\"dropped\":{\"start_map_full\":%llu,\"hist_map_full\":%llu},"
	       "\"untimed\":%llu,\"histograms\":[",
	       mode_name(o->mode), pg_lat_unit_short((unsigned int)o->unit), (long long)ts.tv_sec,
	       ts.tv_nsec, secs, (unsigned long long)ctr[PG_LAT_CTR_EVENTS],
	       (unsigned long long)ctr[PG_LAT_CTR_START_FULL],
	       (unsigned long long)ctr[PG_LAT_CTR_HIST_FULL],
	       (unsigned long long)ctr[PG_LAT_CTR_NO_START]);
	if (split) {
		for (size_t i = 0; i < n; i++) {
			key_name(o, d[i].key, name, sizeof(name));
			if (i)
				putchar(',');
			pg_hist_json(stdout, &d[i].h, name);
		}
	} else {
		struct pg_hist all = { 0 };

		for (size_t i = 0; i < n; i++)
			pg_hist_add(&all, &d[i].h);
		pg_hist_json(stdout, &all, "all");
	}
	fputs("]}\n", stdout);
}

static int report(struct lat_state *st)
{
	uint64_t ctr[PG_LAT_CTR_COUNT], delta[PG_LAT_CTR_COUNT];
	struct keyed *cur = NULL, *d;
	size_t n = 0, nd = 0;
	double now = pg_now_seconds();
	int err;

	read_counters(st, ctr);
	err = read_hists(st, &cur, &n);
	if (err)
		return err;
	d = calloc(n + 1, sizeof(*d));
	if (!d) {
		free(cur);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct keyed *p = st->prev ? bsearch(&cur[i], st->prev, st->nprev, sizeof(*cur), keyed_cmp)
					   : NULL;

		d[nd].key = cur[i].key;
		if (p)
			pg_hist_sub(&d[nd].h, &cur[i].h, &p->h);
		else
			d[nd].h = cur[i].h;
		if (hist_total(&d[nd].h))
			nd++;
	}
	for (int i = 0; i < PG_LAT_CTR_COUNT; i++)
		delta[i] = ctr[i] - st->ctr_prev[i];
	if (st->o->json)
		print_json(st, d, nd, now - st->t_last, delta);
	else
		print_text(st, d, nd, now - st->t_last, delta);
	fflush(stdout);
	free(d);
	free(st->prev);
	st->prev = cur;
	st->nprev = n;
	memcpy(st->ctr_prev, ctr, sizeof(ctr));
	st->t_last = now;
	if (ferror(stdout))
		return -EIO;
	return 0;
}

static int parse_args(int argc, char **argv, struct lat_opts *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "syscall", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "unit", required_argument, NULL, 'u' },
		{ "top", required_argument, NULL, 't' },
		{ "per-disk", no_argument, NULL, 'D' },
		{ "histograms", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *syscall_name = NULL;
	char *end;
	long v;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:c:s:i:d:u:t:jvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v <= 0 || v > INT_MAX) {
				pg_cli_err("latency", "-p: '%s' is not a process id", optarg);
				return PG_EXIT_USAGE;
			}
			o->pid = (pid_t)v;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) >= PG_COMM_LEN) {
				pg_cli_err("latency", "--comm: '%s' must be 1..%d characters (the kernel's comm)",
					   optarg, PG_COMM_LEN - 1);
				return PG_EXIT_USAGE;
			}
			o->comm = optarg;
			break;
		case 's': syscall_name = optarg; break;
		case 'i':
		case 'd':
			if (!pg_parse_seconds(optarg, c == 'i' ? &o->interval : &o->duration)) {
				pg_cli_err("latency", "--%s: '%s' is not a positive number of seconds",
					   c == 'i' ? "interval" : "duration", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'u':
			if (!strcmp(optarg, "ns"))
				o->unit = PG_LAT_NS;
			else if (!strcmp(optarg, "us"))
				o->unit = PG_LAT_US;
			else if (!strcmp(optarg, "ms"))
				o->unit = PG_LAT_MS;
			else {
				pg_cli_err("latency", "--unit: '%s' is not ns, us or ms", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v <= 0) {
				pg_cli_err("latency", "--top: '%s' is not a positive count", optarg);
				return PG_EXIT_USAGE;
			}
			o->top = (unsigned long)v;
			break;
		case 'D': o->per_disk = true; break;
		case 'H': o->histograms = true; break;
		case 'j': o->json = true; break;
		case 'v': o->verbose = true; break;
		case 'h': latency_help(stdout); return -1;
		default: return pg_cli_usage_error("latency", argc, argv);
		}
	}
	if (optind >= argc) {
		pg_cli_err("latency", "which latency? syscall, runq or block (see 'pangolin latency --help')");
		return PG_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "syscall"))
		o->mode = MODE_SYSCALL;
	else if (!strcmp(argv[optind], "runq"))
		o->mode = MODE_RUNQ;
	else if (!strcmp(argv[optind], "block"))
		o->mode = MODE_BLOCK;
	else {
		pg_cli_err("latency", "'%s' is not syscall, runq or block", argv[optind]);
		return PG_EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		pg_cli_err("latency", "unexpected argument '%s'", argv[optind + 1]);
		return PG_EXIT_USAGE;
	}
	if (syscall_name) {
		if (o->mode != MODE_SYSCALL) {
			pg_cli_err("latency", "--syscall only applies to 'syscall'");
			return PG_EXIT_USAGE;
		}
		o->syscall_nr = pg_syscall_number(syscall_name);
		if (o->syscall_nr < 0) {
			pg_cli_err("latency", "--syscall: no syscall named '%s' on this architecture",
				   syscall_name);
			return PG_EXIT_USAGE;
		}
	}
	if (o->mode == MODE_BLOCK && (o->pid || o->comm)) {
		/* completions run in interrupt context: the issuing task is not known there */
		pg_cli_err("latency", "block latency cannot filter by --pid/--comm (I/O completes in interrupt context)");
		return PG_EXIT_USAGE;
	}
	if (o->unit < 0)
		o->unit = o->mode == MODE_SYSCALL ? PG_LAT_NS : PG_LAT_US;
	if (o->json)
		o->top = ULONG_MAX;
	return 0;
}

static void only_mode(struct latency_bpf *skel, enum mode m)
{
	bpf_program__set_autoload(skel->progs.handle_sys_enter, m == MODE_SYSCALL);
	bpf_program__set_autoload(skel->progs.handle_sys_exit, m == MODE_SYSCALL);
	bpf_program__set_autoload(skel->progs.handle_sched_wakeup, m == MODE_RUNQ);
	bpf_program__set_autoload(skel->progs.handle_sched_wakeup_new, m == MODE_RUNQ);
	bpf_program__set_autoload(skel->progs.handle_sched_switch, m == MODE_RUNQ);
	bpf_program__set_autoload(skel->progs.handle_block_rq_issue, m == MODE_BLOCK);
	bpf_program__set_autoload(skel->progs.handle_block_rq_complete, m == MODE_BLOCK);
}

static int latency_run(const struct pg_cli *cli, int argc, char **argv)
{
	struct lat_opts o = { .syscall_nr = -1, .unit = -1, .top = 10 };
	struct lat_state st = { .o = &o };
	int err, status = PG_EXIT_FAIL;
	double t0, next_interval;
	char msg[512];

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? PG_EXIT_OK : err;
	if (o.pid && kill(o.pid, 0) && errno == ESRCH) {
		pg_cli_err("latency", "-p %d: no such process", (int)o.pid);
		return PG_EXIT_FAIL;
	}
	if (pg_bpf_preflight(msg, sizeof(msg)) || check_tracepoints(o.mode, msg, sizeof(msg))) {
		pg_cli_err("latency", "%s", msg);
		return PG_EXIT_FAIL;
	}
	pg_bpf_setup_logging(o.verbose);

	st.skel = latency_bpf__open();
	if (!st.skel) {
		pg_cli_err("latency", "cannot open the BPF object: %s", strerror(errno));
		return PG_EXIT_FAIL;
	}
	st.skel->rodata->targ_tgid = (uint32_t)o.pid;
	if (o.comm) {
		st.skel->rodata->filter_comm = true;
		strncpy((char *)st.skel->rodata->targ_comm, o.comm, PG_COMM_LEN - 1);
	}
	st.skel->rodata->targ_syscall = (int32_t)o.syscall_nr;
	st.skel->rodata->unit = (uint32_t)o.unit;
#ifdef __NR_exit
	st.skel->rodata->noreturn_a = __NR_exit;
#endif
#ifdef __NR_exit_group
	st.skel->rodata->noreturn_b = __NR_exit_group;
#endif
	only_mode(st.skel, o.mode);
	err = latency_bpf__load(st.skel);
	if (err) {
		pg_cli_err("latency", "cannot load the BPF programs: %s (run with -v for the verifier log)",
			   strerror(-err));
		goto cleanup;
	}
	err = latency_bpf__attach(st.skel);
	if (err) {
		pg_cli_err("latency", "cannot attach to the %s tracepoints: %s", mode_name(o.mode),
			   strerror(-err));
		goto cleanup;
	}

	t0 = st.t_last = pg_now_seconds();
	next_interval = o.interval > 0 ? t0 + o.interval : 0;
	fprintf(stderr, "pangolin latency: tracing %s latency%s; Ctrl-C to stop\n", mode_name(o.mode),
		o.interval > 0 ? ", printing every interval" : "");
	status = PG_EXIT_OK;
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		double now;

		nanosleep(&ts, NULL);
		now = pg_now_seconds();
		if (*cli->stop)
			break;
		if (o.duration > 0 && now - t0 >= o.duration)
			break;
		if (o.pid && !pg_pid_running(o.pid)) {
			fprintf(stderr, "pangolin latency: process %d exited\n", (int)o.pid);
			break;
		}
		if (next_interval && now >= next_interval) {
			if (report(&st)) {
				status = PG_EXIT_FAIL;
				goto cleanup;
			}
			next_interval += o.interval;
		}
	}
	/* the last (partial) interval, or the whole run without --interval */
	if (report(&st))
		status = PG_EXIT_FAIL;
	{
		uint64_t ctr[PG_LAT_CTR_COUNT];

		read_counters(&st, ctr);
		fprintf(stderr, "pangolin latency: %llu latencies recorded, %llu dropped (%llu start map full, %llu histogram map full), %llu not timed (began before attach)\n",
			(unsigned long long)ctr[PG_LAT_CTR_EVENTS],
			(unsigned long long)(ctr[PG_LAT_CTR_START_FULL] + ctr[PG_LAT_CTR_HIST_FULL]),
			(unsigned long long)ctr[PG_LAT_CTR_START_FULL],
			(unsigned long long)ctr[PG_LAT_CTR_HIST_FULL],
			(unsigned long long)ctr[PG_LAT_CTR_NO_START]);
	}
cleanup:
	latency_bpf__destroy(st.skel);
	free(st.prev);
	return status;
}

const struct pg_cmd pg_cmd_latency = {
	.name = "latency",
	.summary = "syscall, run-queue and block I/O latency histograms with percentiles",
	.run = latency_run,
	.help = latency_help,
};
