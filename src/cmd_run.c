// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin run / pangolin record: the live sensor. The kernel source feeds the same pipeline
 * replay uses; --filter is split between kernel maps and a userspace stage (kfilter.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "cli.h"
#include "enrich.h"
#include "kfilter.h"
#include "enforce.h"
#include "kube.h"
#include "metrics_server.h"
#include "policy.h"
#include "source_bpf.h"

#define POLL_MS 100
#define STATUS_EVERY_S 2.0
#define POLICY_PATHS_MAX 64

/* long options of its own: clear of the output options' values (output.c: 0x1000, 0x2000 + n) */
enum { OPT_POLICY = 0x7000 };

static void run_help_common(FILE *out, const char *cmd)
{
	fprintf(out,
		"options:\n"
		"  -f, --filter EXPR       keep only events matching EXPR (docs/filter.md); the parts the\n"
		"                          kernel can decide are decided there, before the ring buffer\n"
		"      --filter-file FILE  the filter EXPR from FILE (for filters longer than 128 KiB)\n"
		"      --policy FILE|DIR   enforce the policies in FILE, or in every *.yaml of DIR\n"
		"                          (repeatable; docs/enforce.md): alert, kill and deny rules;\n"
		"                          what a rule decides is always reported, whatever --filter says;\n"
		"                          SIGHUP, or a change to the files, reloads them\n"
		"  -o, --output OUT        write events to OUT: a file%s, or\n"
		"                          kafka://HOST:PORT/TOPIC (docs/kafka.md); see the\n"
		"                          outputs below\n"
		"      --rotate-size N     rotate the output file at N bytes (e.g. 64M)\n"
		"      --node NAME         node name on every event (default: $NODE_NAME, else the\n"
		"                          host name); container and pod come from the cgroup\n"
		"      --kubeconfig FILE   pod namespace, name, labels and workload from the API server\n"
		"                          of FILE (default: in a pod, the service account's; else none;\n"
		"                          docs/kubernetes.md)\n"
		"      --pod-grace S       keep a deleted pod's names S seconds (default 30)\n"
		"      --ringbuf-size N    kernel ring buffer size, a power of two (default 4M)\n"
		"      --wakeup-bytes N    wake the reader when N bytes wait (default ringbuf/16)\n"
		"  -d, --duration S        stop after S seconds\n"
		"      --stats FILE        write counters as JSON to FILE at exit\n"
		"      --metrics ADDR      serve Prometheus metrics on http://ADDR/metrics, and\n"
		"                          /healthz, /readyz for probes (e.g. 127.0.0.1:9464;\n"
		"                          docs/operations.md)\n"
		"      --explain           print how the filter is split between kernel and userspace\n"
		"      --no-snapshot       do not report the processes already running at start-up\n"
		"                          (exec events with \"snapshot\":true)\n"
		"      --no-process        no process fields (exe, cmdline, parent_exe,\n"
		"                          parent_cmdline, ancestors) on events\n"
		"  -r, --rules DIR         run the Sigma rules under DIR (docs/detect.md): alerts\n"
		"                          come inline, each just before the event that completed\n"
		"                          it; --filter 'type == \"alert\"' keeps only them. Every\n"
		"                          event then comes to userspace (the filter runs after\n"
		"                          the rules, not in the kernel)\n"
		"      --alerts-output OUT  with --rules: the alerts to OUT (a file, '-', or\n"
		"                          kafka://HOST:PORT/TOPIC), the events to --output\n"
		"  -q, --quiet             no status line, no summary and no notices from the output\n"
		"                          (a Kafka broker that does not answer) on standard error\n"
		"      --bpf-tier N        load the sensor object of kernel tier N (0, 1 or 2) and no\n"
		"                          other; by default the best this kernel accepts (docs/kernels.md)\n"
		"  -v, --verbose           libbpf debug output (verifier logs)\n"
		"  -h, --help              this help\n",
		strcmp(cmd, "record") ? " instead of standard output ('-')" : " (required)");
	pg_output__help(out);
	fputs("\n"
		"Events reach a file or pipe within about 100 ms, in batches; a kill -9 loses about\n"
		"the last 100 ms, lines already written stay whole (docs/sensor.md).\n"
		"Stops on SIGINT/SIGTERM: drains the ring buffer, flushes the output, exits 0.\n"
		"Needs root, or CAP_BPF and CAP_PERFMON; 'pangolin doctor' checks this kernel.\n"
		"Once the programs are attached, the capabilities no longer used are dropped\n"
		"(docs/operations.md).\n",
	      out);
}

static void run_help(FILE *out)
{
	fputs("usage: pangolin run [options]\n"
	      "\n"
	      "Watch this host from the kernel: process exec/fork/exit, file opens, connects, DNS\n"
	      "queries and credential changes, as NDJSON events (docs/events.md) on standard output.\n"
	      "\n",
	      out);
	run_help_common(out, "run");
}

static void record_help(FILE *out)
{
	fputs("usage: pangolin record -o FILE [options]\n"
	      "\n"
	      "Like 'pangolin run', into a recording that 'pangolin replay FILE' reads back.\n"
	      "\n",
	      out);
	run_help_common(out, "record");
}

struct run_opts {
	const char *cmd;
	const char *filter;
	const char *filter_file;
	const char *stats_path;
	const char *metrics_addr;
	const char *node;
	const char *kubeconfig;
	const char *policies[POLICY_PATHS_MAX];
	size_t npolicies;
	double pod_grace;
	const char *rules;
	const char *alerts_spec; /* --alerts-output */
	struct pg_output_opts out;
	uint64_t ringbuf, wakeup;
	unsigned int tier_mask;
	double duration;
	bool quiet, verbose, explain, no_snapshot, no_process;
};

/* One line every few seconds while stderr is a terminal: rate and whether we are losing. */
static void status_line(const char *cmd, const struct pg_metrics *m, const struct pg_pipeline *pl,
			double now, double *last_t, unsigned long long *last_read,
			unsigned long long *last_lost)
{
	unsigned long long read = (unsigned long long)pg_metrics__sum(
		m, &pg_metric_events, "hop", PG_HOP_USERSPACE, "outcome", "read", NULL);
	unsigned long long lost = (unsigned long long)pg_metrics__sum(
		m, &pg_metric_events, "hop", PG_HOP_KERNEL, "outcome", "dropped", NULL);
	double dt = now - *last_t;

	fprintf(stderr, "pangolin %s: %.0f events/s, %llu events, %llu lost in the kernel (%s)", cmd,
		dt > 0 ? (double)(read - *last_read) / dt : 0.0, read, lost,
		lost > *last_lost ? "DROPPING" : "quiet: nothing lost");
	pg_cli_sink_counters(stderr, m, pl, 0);
	fputc('\n', stderr);
	*last_t = now;
	*last_read = read;
	*last_lost = lost;
}

/*
 * --explain: the two halves of the filter, each as text that parses back to it. With --rules
 * the kernel decides nothing and the whole filter (user) runs after the rules.
 */
static int explain(const char *cmd, const struct pg_filter *kernel, const struct pg_filter *user)
{
	char *k = kernel ? pg_filter__to_text(kernel) : strdup("(nothing)");
	char *u = user ? pg_filter__to_text(user) : strdup("(nothing)");

	if (k && u)
		fprintf(stderr,
			"pangolin %s: kernel decides: %s\npangolin %s: userspace decides: %s\n",
			cmd, k, cmd, u);
	free(k);
	free(u);
	return k && u ? 0 : -ENOMEM;
}

/*
 * The programs are attached: keep only the capabilities still used (caps.h), in *kept. The
 * threads started so far (the metrics server's, librdkafka's) dropped theirs as they began.
 */
static int least_privilege(const struct run_opts *o, struct pg_source *src, uint64_t *kept)
{
	uint64_t keep = 0;
	char err[256], names[256];

	if (pg_caps__bpf_calls_need_cap())
		keep |= pg_caps__effective() & PG_CAP(CAP_BPF) ? PG_CAP(CAP_BPF)
							       : PG_CAP(CAP_SYS_ADMIN);
	/* the start-up snapshot read /proc as the sensor opened: CAP_SYS_PTRACE's last use */
	if (pg_source_bpf__snapshot_size(src)) {
		if (!(pg_caps__permitted() & PG_CAP(CAP_SYS_PTRACE)) && !o->quiet)
			pg_cli_err(o->cmd, "no CAP_SYS_PTRACE: processes of other users found at "
				   "start-up are reported without their executable (their "
				   "arguments are there)");
	}
	if (pg_caps__limit(keep, err, sizeof(err))) {
		pg_cli_err(o->cmd, "%s", err);
		return -1;
	}
	*kept = pg_caps__permitted();
	if (o->verbose) {
		pg_caps__names(*kept, names, sizeof(names));
		pg_cli_err(o->cmd, "capabilities kept after start-up: %s",
			   names[0] ? names : "none");
	}
	return 0;
}

/* The kernel's side of the policy stage's counters. */
static void policy_hits(void *ctx, uint32_t slot, uint64_t *hits)
{
	pg_source_bpf__policy_hits(ctx, slot, hits);
}

static uint64_t policy_lost(void *ctx)
{
	return pg_source_bpf__policy_proc_lost(ctx);
}

static bool has_alert_rules(const struct pg_policy_set *set)
{
	for (size_t p = 0; p < set->n; p++)
		for (size_t i = 0; i < set->policies[p]->nrules; i++)
			if (set->policies[p]->rules[i].action == PG_RULE_ALERT)
				return true;
	return false;
}

static bool pipeline_has(const struct pg_pipeline *pl, const struct pg_stage *st)
{
	for (size_t i = 0; i < pl->nstages; i++)
		if (pl->stages[i] == st)
			return true;
	return false;
}

/* --policy: the set, its slots given by a new policy stage (*stage). NULL after an error. */
static struct pg_policy_set *load_policies(struct run_opts *o, struct pg_stage **stage)
{
	struct pg_policy_set *set;
	struct pg_policy_env env;
	struct pg_policy_plan plan;
	char err[2048], cgmount[256];
	int rc;

	set = pg_policy_set__load_paths(o->policies, o->npolicies, err, sizeof(err));
	if (!set) {
		pg_cli_err(o->cmd, "--policy: %s", err);
		return NULL;
	}
	*stage = pg_stage_policy__new();
	if (!*stage || pg_stage_policy__assign(*stage, set)) {
		pg_cli_err(o->cmd, "out of memory");
		goto err_out;
	}
	/* before the (slow) load: a bad rule is a usage error at once */
	pg_enforce__provisional_env(&env, cgmount, sizeof(cgmount), true);
	rc = pg_policy_plan__build(&plan, set, &env, err, sizeof(err));
	pg_policy_plan__release(&plan);
	if (rc) {
		pg_cli_err(o->cmd, "--policy: %s", err);
		goto err_out;
	}
	return set;
err_out:
	pg_stage__free(*stage);
	*stage = NULL;
	pg_policy_set__free(set);
	return NULL;
}

/* Plan set for this kernel and put it in force, in the kernel and in the stage (which then
 * owns it). 0, or -errno with the reason in err (nothing changed). */
static int install_policies(struct pg_source *src, struct pg_stage *stage,
			    struct pg_policy_set *set, char *err, size_t errlen)
{
	struct pg_policy_env env;
	struct pg_policy_plan plan;
	int rc;

	pg_source_bpf__policy_env(src, &env);
	rc = pg_policy_plan__build(&plan, set, &env, err, errlen);
	if (!rc)
		rc = pg_source_bpf__policy_install(src, &plan, err, errlen);
	/* out of memory here leaves the kernel's set new and the alert rules old (the kernel's
	 * decisions are still named: their slots were given before) */
	if (!rc)
		rc = pg_stage_policy__use(stage, set);
	pg_policy_plan__release(&plan);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return rc;
}

/*
 * SIGHUP, or a policy file changed: load every --policy path again and put the new set in
 * force atomically. A set that does not load, or that this kernel cannot enforce, is refused
 * with its error, and the set in force stays.
 */
static void reload_policies(struct run_opts *o, struct pg_source *src, struct pg_stage *stage,
			    bool kernel_filters)
{
	struct pg_policy_set *set;
	char err[2048];
	int rc;

	set = pg_policy_set__load_paths(o->policies, o->npolicies, err, sizeof(err));
	if (!set) {
		pg_cli_err(o->cmd, "--policy: reload refused, the policies in force stay: %s", err);
		pg_stage_policy__reloaded(stage, false);
		return;
	}
	if ((rc = pg_stage_policy__assign(stage, set)) ||
	    (rc = install_policies(src, stage, set, err, sizeof(err)))) {
		if (rc == -ENOSPC)
			snprintf(err, sizeof(err),
				 "this run has named more rules than events can carry: restart pangolin");
		pg_cli_err(o->cmd, "--policy: reload refused, the policies in force stay: %s", err);
		pg_stage_policy__reloaded(stage, false);
		pg_policy_set__free(set);
		return;
	}
	pg_stage_policy__reloaded(stage, true);
	if (!o->quiet)
		pg_cli_err(o->cmd, "--policy: reloaded: %zu policies, %zu rules in force", set->n,
			   set->nrules);
	if (kernel_filters && has_alert_rules(set))
		pg_cli_err(o->cmd, "--policy: alert rules loaded by a reload see only what the kernel "
			   "part of --filter keeps; restart pangolin to give them every event");
}

static int run_sensor(const struct pg_cli *cli, struct run_opts *o)
{
	struct pg_filter *filter = NULL;
	struct pg_filter_error ferr;
	char *ftext = NULL;
	struct pg_kfilter kf = { 0 };
	struct pg_pipeline pl;
	struct pg_source *src = NULL;
	struct pg_sink *sink = NULL;
	struct pg_bpf_opts bo = { 0 };
	struct pg_kube kube = { 0 };
	struct pg_metrics m;
	struct pg_metrics_server *srv = NULL;
	char err[512];
	int status = PG_EXIT_FAIL, rc, wait_ms = POLL_MS;
	bool tty = !o->quiet && isatty(STDERR_FILENO), all_user;
	double t0, last_t;
	unsigned long long last_read = 0, last_lost = 0;
	uint64_t kept = 0;
	struct pg_policy_set *set = NULL;
	struct pg_stage *pstage = NULL;
	struct pg_policy_watch *pwatch = NULL;
	bool alerts = false;

	pg_pipeline__init(&pl);
	if (o->filter_file &&
	    !(o->filter = ftext = pg_cli_read_filter_file(o->cmd, o->filter_file)))
		return PG_EXIT_USAGE;
	pg_metrics__init(&m);
	if (o->filter) {
		filter = pg_filter__parse(o->filter, &ferr);
		if (!filter) {
			char msg[1024];

			pg_filter_error__format(o->filter, &ferr, msg, sizeof(msg));
			pg_cli_err(o->cmd, "%s: %s", o->filter_file ? "--filter-file" : "--filter",
				   msg);
			free(ftext);
			return PG_EXIT_USAGE;
		}
	}
	free(ftext); /* the filter keeps its own copy */
	o->filter = ftext = NULL;
	if (filter && o->no_process && pg_filter__uses(filter, pg_field_is_process)) {
		pg_cli_err(o->cmd, "the filter asks for process fields (exe, cmdline, parent_exe, "
			   "parent_cmdline, ancestors) and --no-process turns them off: drop one");
		pg_filter__free(filter);
		return PG_EXIT_USAGE;
	}
	if (o->npolicies) {
		if (!(set = load_policies(o, &pstage)))
			goto cleanup_usage;
		alerts = has_alert_rules(set);
	}
	/*
	 * The kernel decides nothing, and the whole filter runs in userspace, when something there
	 * must see every event: rules or alert rules of policies (the filter then runs after them,
	 * so it can keep alerts or anything else), or the process table for a filter on its
	 * fields (it learns lineage from exec, fork and exit events, which a kernel part such as
	 * type == "open" would drop).
	 */
	all_user = o->rules || alerts || (filter && pg_filter__uses(filter, pg_field_is_process));
	if (pg_kfilter__plan(all_user ? NULL : filter, &kf)) {
		pg_cli_err(o->cmd, "cannot split the filter: out of memory");
		goto cleanup;
	}
	/* before the rest: the probes answer while the programs load and the output connects */
	if (o->metrics_addr && !(srv = pg_cli_metrics_start(o->cmd, o->metrics_addr, o->quiet)))
		goto cleanup;
	/* identity first (node, cgroup, container, pod): the userspace filter may ask for it */
	if (pg_kube__open(&kube, o->kubeconfig, o->pod_grace, err, sizeof(err))) {
		pg_cli_err(o->cmd, "%s", err);
		goto cleanup;
	}
	{
		struct pg_enrich_opts eo = { .node = o->node, .cgroups = true, .pods = kube.cache };
		char mount[256];

		if (pg_cgroup2_mount(mount, sizeof(mount)) == -ENOENT) {
			eo.cgroups = false;
			if (!o->quiet)
				pg_cli_err(o->cmd, "no cgroup2 file system is mounted: events carry no "
					   "cgroup, container or pod");
		}
		if (pg_cli_add_enrich(o->cmd, &pl, &eo))
			goto cleanup;
		pl.more_metrics = pg_kube__metrics;
		pl.more_metrics_ctx = &kube;
		/* the first list runs while the programs load */
		if (pg_kube__start(&kube, pg_stage_enrich__node(pl.stages[pl.nstages - 1]),
				   o->verbose, err, sizeof(err))) {
			pg_cli_err(o->cmd, "%s", err);
			goto cleanup;
		}
	}
	if (o->explain && explain(o->cmd, kf.kernel, all_user ? filter : kf.residual)) {
		pg_cli_err(o->cmd, "out of memory");
		goto cleanup;
	}
	/* the process table before the filter: it learns from events the filter then drops */
	if (!o->no_process && pg_cli_add_process(o->cmd, &pl))
		goto cleanup;
	if (o->rules && pg_cli_add_rules(o->cmd, &pl, o->rules, NULL, false, o->quiet, NULL))
		goto cleanup;
	/* policies after the process table: alert rules may ask for its fields */
	if (pstage && pg_pipeline__add_stage(&pl, pstage)) {
		pg_cli_err(o->cmd, "out of memory");
		goto cleanup;
	}
	if (all_user ? filter != NULL : kf.residual != NULL) {
		/* with policies, what a rule decided passes whatever the filter says */
		struct pg_stage *st = pg_stage_filter__new_opts(all_user ? filter : kf.residual,
								o->npolicies > 0);

		/* the stage owns it now */
		if (all_user)
			filter = NULL;
		else
			kf.residual = NULL;
		if (!st || pg_pipeline__add_stage(&pl, st)) {
			pg_stage__free(st);
			pg_cli_err(o->cmd, "out of memory");
			goto cleanup;
		}
	}
	/* queue_wait_ms stays 0 unless asked for: the sensor must not block on its output,
	 * a full Kafka queue drops (or spills) and says so */
	o->out.stop = cli->stop;
	o->out.cmd = o->cmd;
	o->out.quiet = o->quiet;
	sink = pg_output__open(&o->out, err, sizeof(err));
	if (!sink) {
		pg_cli_err(o->cmd, "%s", err);
		goto cleanup;
	}
	/* with --alerts-output, alerts go there and only there */
	pg_pipeline__add_sink_types(&pl, sink, o->alerts_spec ? ~(1u << PG_EV_ALERT) : 0);
	if (o->alerts_spec) {
		struct pg_sink *asink = pg_output__open_alerts(&o->out, o->cmd, o->alerts_spec, err,
							       sizeof(err));

		if (!asink) {
			pg_cli_err(o->cmd, "--alerts-output: %s", err);
			goto cleanup;
		}
		pg_pipeline__add_sink_types(&pl, asink, 1u << PG_EV_ALERT);
	}

	bo.ringbuf_bytes = o->ringbuf;
	bo.wakeup_bytes = o->wakeup;
	bo.kfilter = &kf;
	bo.verbose = o->verbose;
	bo.snapshot = !o->no_snapshot;
	bo.tier_mask = o->tier_mask;
	bo.policy = o->npolicies > 0;
	src = pg_source_bpf__new(&bo, err, sizeof(err));
	if (!src) {
		pg_cli_err(o->cmd, "%s", err);
		goto cleanup;
	}
	if (set) {
		pg_stage_policy__kernel(pstage, policy_hits, policy_lost, src);
		if (install_policies(src, pstage, set, err, sizeof(err))) {
			pg_cli_err(o->cmd, "--policy: %s", err);
			goto cleanup;
		}
		set = NULL; /* the stage's now */
		if (!(pwatch = pg_policy_watch__new(o->policies, o->npolicies)) && !o->quiet)
			pg_cli_err(o->cmd, "--policy: cannot watch the policy files (%s): reload them with SIGHUP",
				   strerror(errno));
	}
	if (kube.watch && !pg_kube__wait_synced(&kube, 5000, cli->stop) && !o->quiet)
		pg_cli_err(o->cmd, "kubernetes: no pod list from %s yet: events lack pod names until it comes",
			   kube.cfg.source);
	if (least_privilege(o, src, &kept))
		goto cleanup;
	if (!o->quiet) {
		struct pg_hook_status hooks[64];
		size_t n = pg_source_bpf__hooks(src, hooks, 64), attached = 0;
		double lm, am;

		for (size_t i = 0; i < n && i < 64; i++)
			attached += hooks[i].attached;
		pg_source_bpf__timing(src, &lm, &am);
		fprintf(stderr, "pangolin %s: watching: %zu hooks attached (tier %d, loaded in %.1f ms, attached in %.1f ms)",
			o->cmd, attached, pg_source_bpf__tier(src), lm, am);
		if (bo.snapshot && (kf.type_mask & (1u << PG_EV_EXEC)))
			fprintf(stderr, "; %zu processes already running",
				pg_source_bpf__snapshot_size(src));
		if (kube.watch)
			fprintf(stderr, "; pods from %s", kube.cfg.source);
		fputc('\n', stderr);
	}

	t0 = last_t = pg_now_seconds();
	status = PG_EXIT_OK;
	while (!*cli->stop) {
		double now;
		int due;

		rc = pg_source__poll(src, wait_ms, pg_pipeline__on_event, &pl);
		if (rc < 0) {
			pg_cli_err(o->cmd, "%s", sink->errmsg[0] ? sink->errmsg : src->errmsg);
			status = PG_EXIT_FAIL;
			break;
		}
		/* the output's timer: lines held since a quiet moment are written when due */
		due = pg_pipeline__tick(&pl);
		wait_ms = due >= 0 && due < POLL_MS ? due : POLL_MS;
		now = pg_now_seconds();
		pg_cli_metrics_round(srv, &m, src, &pl, now - t0, NULL);
		if (tty && now - last_t >= STATUS_EVERY_S) {
			pg_cli_collect(&m, src, &pl, now - t0);
			status_line(o->cmd, &m, &pl, now, &last_t, &last_read, &last_lost);
		}
		if (o->duration > 0 && now - t0 >= o->duration)
			break;
		if (pstage && (*cli->reload || (pwatch && pg_policy_watch__due(pwatch, now)))) {
			*cli->reload = 0;
			if (pwatch)
				pg_policy_watch__refresh(pwatch);
			reload_policies(o, src, pstage, !all_user);
		}
	}

	/* stop the programs, then take everything they left in the ring buffer */
	pg_cli_metrics_round(srv, &m, src, &pl, pg_now_seconds() - t0, "stopping");
	pg_source_bpf__detach(src);
	while ((rc = pg_source__poll(src, 0, pg_pipeline__on_event, &pl)) > 0)
		;
	if (rc < 0 && status == PG_EXIT_OK) {
		pg_cli_err(o->cmd, "%s", sink->errmsg[0] ? sink->errmsg : src->errmsg);
		status = PG_EXIT_FAIL;
	}
	rc = pg_pipeline__flush(&pl, 10000);
	if (rc) {
		pg_cli_err(o->cmd, "%s", sink->errmsg[0] ? sink->errmsg : strerror(-rc));
		status = PG_EXIT_FAIL;
	}
	pg_cli_collect(&m, src, &pl, pg_now_seconds() - t0);
	if (!o->quiet)
		pg_cli_summary(o->cmd, &m, &pl, pg_now_seconds() - t0);
	if (o->stats_path && (rc = pg_cli_write_stats(o->stats_path, &m))) {
		pg_cli_err(o->cmd, "cannot write --stats %s: %s", o->stats_path, strerror(-rc));
		status = PG_EXIT_FAIL;
	}
	goto cleanup;
cleanup_usage:
	status = PG_EXIT_USAGE;
cleanup:
	pg_metrics_server__stop(srv); /* before what it reports on goes away */
	pg_source__free(src);
	if (pstage && !pipeline_has(&pl, pstage))
		pg_stage__free(pstage);
	pg_policy_set__free(set);
	pg_policy_watch__free(pwatch);
	pg_pipeline__destroy(&pl);
	pg_kube__close(&kube); /* after the pipeline: the enrich stage read its cache */
	pg_metrics__release(&m);
	pg_kfilter__release(&kf);
	pg_filter__free(filter);
	return status;
}

static int parse_run_opts(struct run_opts *o, int argc, char **argv)
{
	static const struct option cmd_longopts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "filter-file", required_argument, NULL, 'F' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "output", required_argument, NULL, 'o' },
		{ "node", required_argument, NULL, 'N' },
		{ "kubeconfig", required_argument, NULL, 'K' },
		{ "pod-grace", required_argument, NULL, 'G' },
		{ "rotate-size", required_argument, NULL, 'R' },
		{ "ringbuf-size", required_argument, NULL, 'B' },
		{ "wakeup-bytes", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stats", required_argument, NULL, 's' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "explain", no_argument, NULL, 'E' },
		{ "no-snapshot", no_argument, NULL, 'S' },
		{ "bpf-tier", required_argument, NULL, 'T' },
		{ "no-process", no_argument, NULL, 'P' },
		{ "rules", required_argument, NULL, 'r' },
		{ "alerts-output", required_argument, NULL, 'A' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct option longopts[sizeof(cmd_longopts) / sizeof(cmd_longopts[0]) +
			       PG_OUTPUT_MAX_LONGOPTS];
	char shortopts[64];
	int c;

	if (pg_output__longopts(longopts, sizeof(longopts) / sizeof(longopts[0]), cmd_longopts) ||
	    pg_output__shortopts(shortopts, sizeof(shortopts), "f:o:d:r:qvh"))
		return PG_EXIT_FAIL; /* a sink type with too many options: caught by the tests */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int handled = pg_output__option(&o->out, o->cmd, c, optarg);

		if (handled < 0)
			return PG_EXIT_USAGE;
		if (handled)
			continue;
		switch (c) {
		case 'f': o->filter = optarg; break;
		case 'F': o->filter_file = optarg; break;
		case OPT_POLICY:
			if (o->npolicies == POLICY_PATHS_MAX) {
				pg_cli_err(o->cmd, "--policy: at most %d of them; give a directory",
					   POLICY_PATHS_MAX);
				return PG_EXIT_USAGE;
			}
			o->policies[o->npolicies++] = optarg;
			break;
		case 'o': o->out.spec = optarg; break;
		case 'N': o->node = optarg; break;
		case 'K': o->kubeconfig = optarg; break;
		case 'G':
			if (!pg_parse_seconds(optarg, &o->pod_grace)) {
				pg_cli_err(o->cmd, "--pod-grace: '%s' is not a positive number of seconds", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'R':
			if (pg_parse_size(optarg, &o->out.rotate_bytes) || !o->out.rotate_bytes) {
				pg_cli_err(o->cmd, "--rotate-size: '%s' is not a size (e.g. 64M)", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'B':
			if (pg_parse_size(optarg, &o->ringbuf)) {
				pg_cli_err(o->cmd, "--ringbuf-size: '%s' is not a size (e.g. 4M)", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'W':
			if (pg_parse_size(optarg, &o->wakeup) || !o->wakeup) {
				pg_cli_err(o->cmd, "--wakeup-bytes: '%s' is not a size (e.g. 256K)", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'd':
			if (!pg_parse_seconds(optarg, &o->duration)) {
				pg_cli_err(o->cmd, "--duration: '%s' is not a positive number of seconds", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 's': o->stats_path = optarg; break;
		case 'M':
			if (pg_cli_metrics_option(o->cmd, optarg))
				return PG_EXIT_USAGE;
			o->metrics_addr = optarg;
			break;
		case 'E': o->explain = true; break;
		case 'S': o->no_snapshot = true; break;
		case 'T':
			if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] >= '0' + PG_BPF_TIER_COUNT) {
				pg_cli_err(o->cmd, "--bpf-tier: '%s' is not a tier (0, 1 or 2)", optarg);
				return PG_EXIT_USAGE;
			}
			o->tier_mask = 1u << (optarg[0] - '0');
			break;
		case 'P': o->no_process = true; break;
		case 'r': o->rules = optarg; break;
		case 'A': o->alerts_spec = optarg; break;
		case 'q': o->quiet = true; break;
		case 'v': o->verbose = true; break;
		case 'h': return -1;
		default: return pg_cli_usage_error(o->cmd, argc, argv);
		}
	}
	if (optind < argc) {
		pg_cli_err(o->cmd, "unexpected argument '%s'; see 'pangolin %s --help'", argv[optind],
			   o->cmd);
		return PG_EXIT_USAGE;
	}
	if (o->filter && o->filter_file) {
		pg_cli_err(o->cmd, "--filter and --filter-file: give the filter one way");
		return PG_EXIT_USAGE;
	}
	if (o->alerts_spec && !o->rules) {
		pg_cli_err(o->cmd, "--alerts-output is where the alerts of --rules go: give --rules DIR");
		return PG_EXIT_USAGE;
	}
	{
		struct pg_output_opts ao;
		char err[256] = "";

		if (pg_output__check(&o->out, err, sizeof(err))) {
			pg_cli_err(o->cmd, "%s", err);
			return PG_EXIT_USAGE;
		}
		if (o->alerts_spec && (pg_output__second(&o->out, o->cmd, o->alerts_spec, &ao) ||
				       pg_output__check(&ao, err, sizeof(err)))) {
			if (err[0])
				pg_cli_err(o->cmd, "--alerts-output: %s", err);
			return PG_EXIT_USAGE;
		}
	}
	return 0;
}

static int run_run(const struct pg_cli *cli, int argc, char **argv)
{
	struct run_opts o = { .cmd = "run" };
	int rc = parse_run_opts(&o, argc, argv);

	if (rc < 0) {
		run_help(stdout);
		return PG_EXIT_OK;
	}
	if (rc)
		return rc;
	/* on a terminal, show events as they come; into a pipe or file, batch the writes */
	o.out.line_buffered = (!o.out.spec || !strcmp(o.out.spec, "-")) && isatty(STDOUT_FILENO);
	return run_sensor(cli, &o);
}

static int record_run(const struct pg_cli *cli, int argc, char **argv)
{
	struct run_opts o = { .cmd = "record", .out.ndjson_only = true };
	int rc = parse_run_opts(&o, argc, argv);

	if (rc < 0) {
		record_help(stdout);
		return PG_EXIT_OK;
	}
	if (rc)
		return rc;
	if (!o.out.spec || !strcmp(o.out.spec, "-")) {
		pg_cli_err("record", "where to? give -o FILE (or use 'pangolin run' for standard output)");
		return PG_EXIT_USAGE;
	}
	return run_sensor(cli, &o);
}

const struct pg_cmd pg_cmd_run = {
	.name = "run",
	.summary = "run the kernel sensor: events on standard output (NDJSON; compact on a tty)",
	.run = run_run,
	.help = run_help,
	.reloads = true,
};

const struct pg_cmd pg_cmd_record = {
	.name = "record",
	.summary = "run the kernel sensor into a recording file for 'replay'",
	.run = record_run,
	.help = record_help,
	.reloads = true,
};
