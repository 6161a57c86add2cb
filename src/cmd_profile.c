// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin profile: a sampling CPU profiler. A perf_event program (profile.bpf.c) runs on
 * every CPU at -F Hz and counts {pid, kernel stack, user stack, comm} in the kernel; this
 * file attaches it, notes the maps of every process it sees while it runs (so processes that
 * exit early still get names), and at the end (or every --interval) reads the counts,
 * symbolizes them and writes folded stacks, an SVG flame graph or a pprof profile.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_util.h"
#include "cli.h"
#include "profile.h"
#include "profile.skel.h"
#include "symbolize.h"

#define CGROUP2_MAGIC 0x63677270

static void profile_help(FILE *out)
{
	fputs("usage: pangolin profile [options]\n"
	      "\n"
	      "Sample on-CPU stacks (kernel and user) of every process, or of the ones selected,\n"
	      "at a fixed frequency, count them in the kernel and write the profile when done\n"
	      "(Ctrl-C, --duration, or the -p process exiting). docs/profile.md has the details.\n"
	      "\n"
	      "options:\n"
	      "  -F, --frequency HZ    samples per second per CPU (default 99)\n"
	      "  -p, --pid PID         only this process (all its threads)\n"
	      "      --cgroup PATH     only tasks in this cgroup v2 directory or below it\n"
	      "  -d, --duration S      stop after S seconds (default: until Ctrl-C)\n"
	      "      --interval S      write a profile every S seconds (see docs/profile.md)\n"
	      "      --kernel-only     kernel stacks only\n"
	      "      --user-only       user stacks only\n"
	      "      --include-idle    count the idle task too (left out by default)\n"
	      "  -f, --format FMT      folded (default), svg, or pprof (gzipped profile.proto)\n"
	      "  -o, --output FILE     write to FILE (default: standard output)\n"
	      "      --title TEXT      flame graph title\n"
	      "      --stack-storage N distinct stacks the kernel can keep (default 16384)\n"
	      "      --max-keys N      distinct {pid, stacks, comm} the kernel can count (default 32768)\n"
	      "  -v, --verbose         libbpf debug output\n"
	      "  -h, --help            this help\n"
	      "\n"
	      "exit status: 0 success, 1 failure (cannot load, cannot write), 2 bad command line\n",
	      out);
}

enum out_format { FMT_FOLDED, FMT_SVG, FMT_PPROF };

struct prof_opts {
	unsigned long freq;
	pid_t pid;
	const char *cgroup;
	double duration, interval;
	bool kernel_only, user_only, include_idle, verbose;
	enum out_format format;
	const char *output, *title;
	unsigned long stack_storage, max_keys;
};

struct entry {
	struct pg_prof_key key;
	uint64_t count;
};

struct prof_state {
	const struct prof_opts *o;
	struct profile_bpf *skel;
	struct pg_ksyms ksyms;
	bool ksyms_loaded;
	struct pg_usyms *usyms;
	struct entry *prev; /* the last snapshot, sorted by key, for --interval deltas */
	size_t nprev;
	/* "[libc.so.6]" names for frames in a known file without a symbol */
	const char **mod_keys;
	char **mod_names;
	size_t nmods;
	uint64_t ctr_prev[PG_PROF_CTR_COUNT];
	unsigned int snapshots;
	double t_start, t_last;
	uint64_t wall_start_ns, wall_last_ns;
};

static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* cgroup v2 id (the directory's inode) and depth below the hierarchy's root. */
static int cgroup_identify(const char *path, uint64_t *id, uint32_t *level, char *err, size_t len)
{
	char cur[PATH_MAX], up[PATH_MAX + 4];
	struct statfs sfs;
	struct stat st, pst;
	uint32_t depth = 0;

	if (statfs(path, &sfs) || stat(path, &st)) {
		snprintf(err, len, "--cgroup %s: %s", path, strerror(errno));
		return -errno;
	}
	if (sfs.f_type != CGROUP2_MAGIC || !S_ISDIR(st.st_mode)) {
		snprintf(err, len,
			 "--cgroup %s is not a cgroup v2 directory (look under the cgroup2 mount, e.g. /sys/fs/cgroup/unified or /sys/fs/cgroup)",
			 path);
		return -EINVAL;
	}
	*id = (uint64_t)st.st_ino;
	if (!realpath(path, cur)) {
		snprintf(err, len, "--cgroup %s: %s", path, strerror(errno));
		return -errno;
	}
	/* walk up until the parent is on another file system: that directory is the root */
	for (;;) {
		snprintf(up, sizeof(up), "%s/..", cur);
		if (stat(up, &pst) || pst.st_dev != st.st_dev || pst.st_ino == st.st_ino)
			break;
		depth++;
		if (!realpath(up, cur))
			break;
		st = pst;
		if (depth > 256)
			break;
	}
	*level = depth;
	return 0;
}

static int open_perf_events(const struct prof_opts *o, struct profile_bpf *skel,
			    struct bpf_link ***links_out, int *nlinks_out)
{
	int ncpus = libbpf_num_possible_cpus(), nlinks = 0, err = 0;
	struct bpf_link **links;

	if (ncpus <= 0)
		return ncpus ? ncpus : -ENODEV;
	links = calloc((size_t)ncpus, sizeof(*links));
	if (!links)
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_CPU_CLOCK, /* works in VMs without a PMU */
			.size = sizeof(attr),
			.freq = 1,
			.sample_freq = o->freq,
		};
		int fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			if (errno == ENODEV)
				continue; /* possible but offline CPU */
			err = -errno;
			fprintf(stderr,
				"pangolin profile: perf_event_open(cpu-clock, cpu %d, %lu Hz) failed: %s%s\n",
				cpu, o->freq, strerror(errno),
				errno == EINVAL ? " (is -F above kernel.perf_event_max_sample_rate?)"
				: errno == EACCES || errno == EPERM
					? " (needs root or CAP_PERFMON; see kernel.perf_event_paranoid)"
					: "");
			break;
		}
		links[nlinks] = bpf_program__attach_perf_event(skel->progs.handle_perf_sample, fd);
		if (!links[nlinks]) {
			err = -errno;
			close(fd);
			fprintf(stderr, "pangolin profile: cannot attach to the cpu-clock event of cpu %d: %s\n",
				cpu, strerror(-err));
			break;
		}
		nlinks++;
	}
	if (!err && !nlinks)
		err = -ENODEV;
	*links_out = links;
	*nlinks_out = nlinks;
	return err;
}

static void read_counters(struct prof_state *st, uint64_t out[PG_PROF_CTR_COUNT])
{
	pg_bpf_percpu_sum(bpf_map__fd(st->skel->maps.counters), PG_PROF_CTR_COUNT, 1, out);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct entry *)a)->key, &((const struct entry *)b)->key,
		      sizeof(struct pg_prof_key));
}

/* Every {key, count} in the counts map, sorted by key. */
static int read_counts(struct prof_state *st, struct entry **out, size_t *n)
{
	int fd = bpf_map__fd(st->skel->maps.counts);
	struct pg_prof_key key, next;
	struct entry *v = NULL;
	size_t cnt = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		uint64_t count;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &count))
			continue; /* deleted meanwhile: cannot happen, we never delete */
		if (cnt == cap) {
			size_t c = cap ? cap * 2 : 1024;
			struct entry *nv = realloc(v, c * sizeof(*nv));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = c;
		}
		v[cnt].key = key;
		v[cnt].count = count;
		cnt++;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), key_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

/* Record the maps of every process that has samples, while it is (probably) still alive. */
static void note_new_pids(struct prof_state *st)
{
	int fd = bpf_map__fd(st->skel->maps.counts);
	struct pg_prof_key key, next;
	void *prev = NULL;

	if (st->o->kernel_only)
		return;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.pid && key.ustack_id >= 0)
			pg_usyms__note_pid(st->usyms, (pid_t)key.pid);
	}
}

static const char *module_unknown_name(struct prof_state *st, const char *module)
{
	const char *base = strrchr(module, '/');
	char **names;
	const char **keys;
	char *s;

	for (size_t i = 0; i < st->nmods; i++)
		if (st->mod_keys[i] == module)
			return st->mod_names[i];
	keys = realloc(st->mod_keys, (st->nmods + 1) * sizeof(*keys));
	if (!keys)
		return "[unknown]";
	st->mod_keys = keys;
	names = realloc(st->mod_names, (st->nmods + 1) * sizeof(*names));
	if (!names)
		return "[unknown]";
	st->mod_names = names;
	if (asprintf(&s, "[%s]", base ? base + 1 : module) < 0)
		return "[unknown]";
	st->mod_keys[st->nmods] = module;
	st->mod_names[st->nmods++] = s;
	return s;
}

static const char *lost_name(int id, bool kernel)
{
	if (id == -ENOMEM)
		return kernel ? "[lost kernel stack: stack map full]" : "[lost user stack: stack map full]";
	return kernel ? "[lost kernel stack: stack map collision]"
		      : "[lost user stack: stack map collision]";
}

/* Turn one counts-map entry into frames (leaf first). Returns the number of frames. */
static uint32_t build_frames(struct prof_state *st, const struct pg_prof_key *k,
			     struct pg_frame *fr, uint64_t *ips)
{
	int sfd = bpf_map__fd(st->skel->maps.stacks);
	uint32_t n = 0;

	if (k->kstack_id >= 0) {
		memset(ips, 0, PG_PROF_MAX_DEPTH * sizeof(*ips));
		if (bpf_map_lookup_elem(sfd, &k->kstack_id, ips) == 0) {
			for (int i = 0; i < PG_PROF_MAX_DEPTH && ips[i]; i++) {
				const struct pg_ksym *s = st->ksyms_loaded ? pg_ksyms__lookup(&st->ksyms, ips[i]) : NULL;

				fr[n++] = (struct pg_frame){
					.name = s ? s->name : "[unknown]",
					.module = s && s->module ? s->module : "[kernel.kallsyms]",
					.addr = ips[i],
					.kind = s ? PG_FRAME_KERNEL : PG_FRAME_UNKNOWN,
				};
			}
		}
	} else if (k->kstack_id != -EFAULT && k->kstack_id != PG_PROF_STACK_SKIPPED) {
		fr[n++] = (struct pg_frame){ .name = lost_name(k->kstack_id, true),
					     .kind = PG_FRAME_UNKNOWN };
	}
	if (k->ustack_id >= 0) {
		memset(ips, 0, PG_PROF_MAX_DEPTH * sizeof(*ips));
		if (bpf_map_lookup_elem(sfd, &k->ustack_id, ips) == 0) {
			for (int i = 0; i < PG_PROF_MAX_DEPTH && ips[i]; i++) {
				struct pg_usym u;

				/*
				 * Return addresses point after the call: look up ip - 1 so a call
				 * that ends a function is attributed to it, not to the next one.
				 */
				pg_usyms__resolve(st->usyms, (pid_t)k->pid, i ? ips[i] - 1 : ips[i], &u);
				fr[n++] = (struct pg_frame){
					.name = u.name ? u.name
						       : u.module ? module_unknown_name(st, u.module)
								  : "[unknown]",
					.system_name = u.system_name,
					.module = u.module,
					.build_id = u.build_id,
					.addr = u.norm_addr,
					.module_lo = u.module_lo,
					.module_hi = u.module_hi,
					.kind = u.name ? PG_FRAME_USER : PG_FRAME_UNKNOWN,
				};
			}
		}
	} else if (k->ustack_id != -EFAULT && k->ustack_id != PG_PROF_STACK_SKIPPED) {
		fr[n++] = (struct pg_frame){ .name = lost_name(k->ustack_id, false),
					     .kind = PG_FRAME_UNKNOWN };
	}
	return n;
}

static uint64_t prev_count(const struct prof_state *st, const struct pg_prof_key *k)
{
	struct entry probe = { .key = *k }, *e;

	if (!st->prev)
		return 0;
	e = bsearch(&probe, st->prev, st->nprev, sizeof(*st->prev), key_cmp);
	return e ? e->count : 0;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int write_output(struct prof_state *st, const struct pg_profile *p, bool last)
{
	const struct prof_opts *o = st->o;
	char path[PATH_MAX], desc[512];
	struct pg_folded f;
	FILE *out = stdout;
	int err = 0;

	if (o->output && strcmp(o->output, "-")) {
		if (o->interval > 0) {
			const char *dot = strrchr(o->output, '.'), *slash = strrchr(o->output, '/');

			if (dot && (!slash || dot > slash))
				snprintf(path, sizeof(path), "%.*s-%04u%s", (int)(dot - o->output),
					 o->output, st->snapshots, dot);
			else
				snprintf(path, sizeof(path), "%s-%04u", o->output, st->snapshots);
		} else {
			snprintf(path, sizeof(path), "%s", o->output);
		}
		out = fopen(path, "we");
		if (!out) {
			pg_cli_err("profile", "cannot write %s: %s", path, strerror(errno));
			return -errno;
		}
	}
	pg_profile__describe(p, desc, sizeof(desc));
	switch (o->format) {
	case FMT_PPROF:
		err = pg_profile__write_pprof(p, out);
		break;
	case FMT_FOLDED:
	case FMT_SVG:
		err = pg_profile__fold(p, &f);
		if (err)
			break;
		if (o->format == FMT_FOLDED) {
			err = pg_folded__write(&f, out);
			if (!err && o->interval > 0 && out == stdout && !last)
				fputc('\n', out); /* snapshots on one stream: a blank line between */
		} else {
			struct pg_flame_opts fo = {
				.title = o->title ? o->title : "CPU profile (pangolin)",
				.subtitle = desc,
				.unit = "samples",
			};
			err = pg_flamegraph__write(&f, &fo, out);
		}
		pg_folded__destroy(&f);
		break;
	}
	if (fflush(out) || ferror(out))
		err = err ? err : -EIO;
	if (out != stdout && fclose(out) && !err)
		err = -EIO;
	if (err)
		pg_cli_err("profile", "writing the profile failed: %s", strerror(-err));
	return err;
}

static int snapshot(struct prof_state *st, bool last)
{
	uint64_t ctr[PG_PROF_CTR_COUNT], ips[PG_PROF_MAX_DEPTH];
	struct pg_frame fr[2 * PG_PROF_MAX_DEPTH + 2];
	struct entry *cur = NULL;
	struct pg_profile p;
	size_t n = 0, pids = 0, files = 0;
	uint64_t total = 0;
	double now = pg_now_seconds();
	char desc[512];
	int err;

	st->snapshots++;
	read_counters(st, ctr);
	err = read_counts(st, &cur, &n);
	if (err)
		return err;
	pg_profile__init(&p);
	p.freq_hz = st->o->freq;
	p.time_ns = st->wall_last_ns;
	p.duration_ns = (uint64_t)((now - st->t_last) * 1e9);
	p.samples_seen = ctr[PG_PROF_CTR_SAMPLES] - st->ctr_prev[PG_PROF_CTR_SAMPLES];
	p.kstack_lost = ctr[PG_PROF_CTR_KSTACK_LOST] - st->ctr_prev[PG_PROF_CTR_KSTACK_LOST];
	p.ustack_lost = ctr[PG_PROF_CTR_USTACK_LOST] - st->ctr_prev[PG_PROF_CTR_USTACK_LOST];
	p.map_full = ctr[PG_PROF_CTR_MAP_FULL] - st->ctr_prev[PG_PROF_CTR_MAP_FULL];
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t c = cur[i].count - prev_count(st, &cur[i].key);
		uint32_t nf;

		if (!c)
			continue;
		nf = build_frames(st, &cur[i].key, fr, ips);
		err = pg_profile__add(&p, cur[i].key.pid, cur[i].key.comm, fr, nf, c);
		total += c;
	}
	if (!err)
		err = write_output(st, &p, last);
	pg_profile__describe(&p, desc, sizeof(desc));
	pg_usyms__stats(st->usyms, &pids, &files);
	fprintf(stderr, "pangolin profile: %s; %zu distinct stacks, %zu processes, %zu ELF files read\n",
		desc, p.n, pids, files);
	if (p.kstack_lost || p.ustack_lost)
		fprintf(stderr,
			"pangolin profile: warning: stacks were lost (shown as [lost ...] frames); raise --stack-storage\n");
	if (p.map_full)
		fprintf(stderr,
			"pangolin profile: warning: %llu samples dropped because the counts map was full; raise --max-keys\n",
			(unsigned long long)p.map_full);
	pg_profile__destroy(&p);
	free(st->prev);
	st->prev = cur;
	st->nprev = n;
	memcpy(st->ctr_prev, ctr, sizeof(ctr));
	st->t_last = now;
	st->wall_last_ns = wall_ns();
	return err;
}

static int parse_args(int argc, char **argv, struct prof_opts *o)
{
	static const struct option longopts[] = {
		{ "frequency", required_argument, NULL, 'F' },
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'C' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "kernel-only", no_argument, NULL, 'K' },
		{ "user-only", no_argument, NULL, 'U' },
		{ "include-idle", no_argument, NULL, 'I' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "title", required_argument, NULL, 'T' },
		{ "stack-storage", required_argument, NULL, 'S' },
		{ "max-keys", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "F:p:d:f:o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (!parse_ulong(optarg, 1, 100000, &o->freq)) {
				pg_cli_err("profile", "-F: '%s' is not a frequency in Hz (1..100000)", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'p':
			if (!parse_ulong(optarg, 1, INT_MAX, &v)) {
				pg_cli_err("profile", "-p: '%s' is not a process id", optarg);
				return PG_EXIT_USAGE;
			}
			o->pid = (pid_t)v;
			break;
		case 'C': o->cgroup = optarg; break;
		case 'd':
		case 'i':
			if (!pg_parse_seconds(optarg, c == 'd' ? &o->duration : &o->interval)) {
				pg_cli_err("profile", "--%s: '%s' is not a positive number of seconds",
					   c == 'd' ? "duration" : "interval", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'K': o->kernel_only = true; break;
		case 'U': o->user_only = true; break;
		case 'I': o->include_idle = true; break;
		case 'f':
			if (!strcmp(optarg, "folded"))
				o->format = FMT_FOLDED;
			else if (!strcmp(optarg, "svg"))
				o->format = FMT_SVG;
			else if (!strcmp(optarg, "pprof"))
				o->format = FMT_PPROF;
			else {
				pg_cli_err("profile", "--format: '%s' is not one of folded, svg, pprof", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'o': o->output = optarg; break;
		case 'T': o->title = optarg; break;
		case 'S':
		case 'M':
			if (!parse_ulong(optarg, 16, 1UL << 24, c == 'S' ? &o->stack_storage : &o->max_keys)) {
				pg_cli_err("profile", "--%s: '%s' is not a count in 16..16777216",
					   c == 'S' ? "stack-storage" : "max-keys", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'v': o->verbose = true; break;
		case 'h': profile_help(stdout); return -1;
		default: return pg_cli_usage_error("profile", argc, argv);
		}
	}
	if (optind < argc) {
		pg_cli_err("profile", "unexpected argument '%s' (to profile one process use -p PID)",
			   argv[optind]);
		return PG_EXIT_USAGE;
	}
	if (o->kernel_only && o->user_only) {
		pg_cli_err("profile", "--kernel-only and --user-only exclude each other");
		return PG_EXIT_USAGE;
	}
	if (o->format == FMT_PPROF && (!o->output || !strcmp(o->output, "-")) && isatty(1)) {
		pg_cli_err("profile", "pprof output is binary: give -o FILE or redirect standard output");
		return PG_EXIT_USAGE;
	}
	if (o->interval > 0 && o->format != FMT_FOLDED && (!o->output || !strcmp(o->output, "-"))) {
		pg_cli_err("profile", "--interval with --format %s needs -o FILE (one file per interval)",
			   o->format == FMT_SVG ? "svg" : "pprof");
		return PG_EXIT_USAGE;
	}
	return 0;
}

static int profile_run(const struct pg_cli *cli, int argc, char **argv)
{
	struct prof_opts o = { .freq = 99, .stack_storage = 16384, .max_keys = 32768 };
	struct prof_state st = { .o = &o };
	struct bpf_link **links = NULL;
	int nlinks = 0, err, status = PG_EXIT_FAIL;
	uint64_t cg_id = 0;
	uint32_t cg_level = 0;
	char msg[512];
	double next_scan, next_interval;

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? PG_EXIT_OK : err;
	if (o.pid && kill(o.pid, 0) && errno == ESRCH) {
		pg_cli_err("profile", "-p %d: no such process", (int)o.pid);
		return PG_EXIT_FAIL;
	}
	if (o.cgroup && cgroup_identify(o.cgroup, &cg_id, &cg_level, msg, sizeof(msg))) {
		pg_cli_err("profile", "%s", msg);
		return PG_EXIT_FAIL;
	}
	if (pg_bpf_preflight(msg, sizeof(msg))) {
		pg_cli_err("profile", "%s", msg);
		return PG_EXIT_FAIL;
	}
	pg_bpf_setup_logging(o.verbose);

	st.usyms = pg_usyms__new();
	if (!st.usyms) {
		pg_cli_err("profile", "out of memory");
		return PG_EXIT_FAIL;
	}
	if (!o.user_only) {
		err = pg_ksyms__load(&st.ksyms, "/proc/kallsyms");
		if (err)
			pg_cli_err("profile", "cannot read /proc/kallsyms (%s): kernel frames will be [unknown]",
				   strerror(-err));
		else if (st.ksyms.restricted)
			pg_cli_err("profile",
				   "/proc/kallsyms shows no addresses (kernel.kptr_restrict): kernel frames will be [unknown]; run as root or set kptr_restrict=0");
		st.ksyms_loaded = !err;
	}

	st.skel = profile_bpf__open();
	if (!st.skel) {
		pg_cli_err("profile", "cannot open the BPF object: %s", strerror(errno));
		goto cleanup;
	}
	st.skel->rodata->targ_tgid = (uint32_t)o.pid;
	st.skel->rodata->targ_cgroup_id = cg_id;
	st.skel->rodata->targ_cgroup_level = cg_level;
	st.skel->rodata->kernel_only = o.kernel_only;
	st.skel->rodata->user_only = o.user_only;
	st.skel->rodata->include_idle = o.include_idle;
	bpf_map__set_max_entries(st.skel->maps.stacks, (uint32_t)o.stack_storage);
	bpf_map__set_max_entries(st.skel->maps.counts, (uint32_t)o.max_keys);
	err = profile_bpf__load(st.skel);
	if (err) {
		pg_cli_err("profile", "cannot load the BPF program: %s (run with -v for the verifier log)",
			   strerror(-err));
		goto cleanup;
	}
	err = open_perf_events(&o, st.skel, &links, &nlinks);
	if (err) {
		if (err == -ENODEV)
			pg_cli_err("profile", "no CPU accepted a cpu-clock perf event");
		goto cleanup;
	}

	st.t_start = st.t_last = pg_now_seconds();
	st.wall_start_ns = st.wall_last_ns = wall_ns();
	next_scan = st.t_start + 0.5;
	next_interval = o.interval > 0 ? st.t_start + o.interval : 0;
	fprintf(stderr, "pangolin profile: sampling %s at %lu Hz on %d CPUs%s; Ctrl-C to stop\n",
		o.pid ? "one process" : o.cgroup ? "one cgroup" : "every process", o.freq, nlinks,
		o.kernel_only ? " (kernel stacks only)" : o.user_only ? " (user stacks only)" : "");
	status = PG_EXIT_OK;
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		double now;

		nanosleep(&ts, NULL);
		now = pg_now_seconds();
		if (*cli->stop)
			break;
		if (o.duration > 0 && now - st.t_start >= o.duration)
			break;
		if (o.pid && !pg_pid_running(o.pid)) {
			fprintf(stderr, "pangolin profile: process %d exited\n", (int)o.pid);
			break;
		}
		if (now >= next_scan) {
			note_new_pids(&st);
			next_scan = now + 0.5;
		}
		if (next_interval && now >= next_interval) {
			if (snapshot(&st, false)) {
				status = PG_EXIT_FAIL;
				goto cleanup;
			}
			next_interval += o.interval;
		}
	}
	/* stop sampling first, so the snapshot is the whole run and nothing arrives after it */
	for (int i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	nlinks = 0;
	note_new_pids(&st);
	if (snapshot(&st, true))
		status = PG_EXIT_FAIL;

cleanup:
	for (int i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	free(links);
	profile_bpf__destroy(st.skel);
	pg_usyms__free(st.usyms);
	pg_ksyms__destroy(&st.ksyms);
	free(st.prev);
	for (size_t i = 0; i < st.nmods; i++)
		free(st.mod_names[i]);
	free(st.mod_names);
	free(st.mod_keys);
	return status;
}

const struct pg_cmd pg_cmd_profile = {
	.name = "profile",
	.summary = "sample CPU stacks at 99 Hz: folded stacks, SVG flame graph, pprof",
	.run = profile_run,
	.help = profile_help,
};
