// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pangolin replay: a recording through the same pipeline and sinks the live sensor uses. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "caps.h"
#include "cli.h"
#include "enforce.h"
#include "enrich.h"
#include "metrics_server.h"
#include "policy.h"

#define INTERRUPTED_FLUSH_MS 5000
#define POLICY_PATHS_MAX 64

static void replay_help(FILE *out)
{
	fputs("usage: pangolin replay FILE|- [options]\n"
	      "\n"
	      "Read an NDJSON recording (from 'pangolin record', or any file in the format of\n"
	      "docs/events.md) and send its events through the pipeline to the output.\n"
	      "\n"
	      "options:\n"
	      "  -f, --filter EXPR     keep only events matching EXPR (docs/filter.md)\n"
	      "      --filter-file F   the filter EXPR from file F (for filters longer than 128 KiB)\n"
	      "  -o, --output OUT      write to OUT: a file, '-' for standard output (the\n"
	      "                        default), or kafka://HOST:PORT/TOPIC\n"
	      "      --rotate-size N   rotate the output file at N bytes (e.g. 64M)\n"
	      "      --skip-bad        skip malformed lines (counted, first 10 shown) instead of\n"
	      "                        stopping at the first one\n"
	      "      --node NAME       stamp events that have no node with NAME (default:\n"
	      "                        $NODE_NAME, else the host name; only with --enrich or\n"
	      "                        --node)\n"
	      "      --enrich          resolve cgroup ids on this host to cgroup path, container\n"
	      "                        id and pod UID (for recordings made on this host)\n"
	      "      --process         add process fields (exe, cmdline, parent_exe, ...) from\n"
	      "                        the recording's exec/fork/exit events where missing\n"
	      "  -r, --rules DIR       run the Sigma rules under DIR (docs/detect.md) and write\n"
	      "                        their alerts inline, each just before the event that\n"
	      "                        completed it (implies --process)\n"
	      "      --policy PATH     what the policies in PATH (a file, or a directory's\n"
	      "                        *.yaml; repeatable) would have done: each event their\n"
	      "                        kill and deny rules decide says would_kill or would_deny,\n"
	      "                        as the kernel would decide it, and alert rules run\n"
	      "                        (docs/enforce.md); it passes --filter whatever it says\n"
	      "      --flush-timeout S seconds to wait at the end for the output to deliver;\n"
	      "                        the default waits while Kafka may still deliver (as\n"
	      "                        long as message.timeout.ms, 300 s, lets an event wait;\n"
	      "                        5 s after Ctrl-C) and says so while it waits\n"
	      "      --stats FILE      write counters as JSON to FILE at the end\n"
	      "      --metrics ADDR    serve Prometheus metrics on http://ADDR/metrics, and\n"
	      "                        /healthz, /readyz (e.g. 127.0.0.1:9464;\n"
	      "                        docs/operations.md)\n"
	      "  -q, --quiet           no summary and no notices from the output (a Kafka broker\n"
	      "                        that does not answer) on standard error\n"
	      "  -h, --help            this help\n",
	      out);
	pg_output__help(out);
	fputs("\n"
	      "exit status: 0 success, 1 bad input, I/O error or events not delivered,\n"
	      "2 bad command line\n",
	      out);
}

struct warn_state {
	unsigned long long shown;
};

static void warn_line(void *ctx, const char *msg)
{
	struct warn_state *w = ctx;

	if (w->shown++ < 10)
		fprintf(stderr, "pangolin replay: skipped %s\n", msg);
	else if (w->shown == 11)
		fprintf(stderr, "pangolin replay: more lines skipped; the summary counts them\n");
}

/*
 * --policy: the set, planned as `run` plans it (a kill or deny rule the kernel could not
 * decide is refused here too), in a policy stage that decides with that plan.
 */
static int add_policies(struct pg_pipeline *pl, const char *const *paths, size_t n)
{
	struct pg_policy_set *set;
	struct pg_stage *stage;
	struct pg_policy_env env;
	struct pg_policy_plan plan;
	char err[2048], cgmount[256];
	int rc;

	if (!(set = pg_policy_set__load_paths(paths, n, err, sizeof(err)))) {
		pg_cli_err("replay", "--policy: %s", err);
		return -EINVAL;
	}
	if (!(stage = pg_stage_policy__new()) || pg_stage_policy__assign(stage, set)) {
		pg_cli_err("replay", "out of memory");
		rc = -ENOMEM;
		goto err_out;
	}
	/* cgroups by the form of their paths (a recording may come from any host); deny as a
	 * kernel that can refuse every type decides it (on one without BPF LSM it is a kill) */
	pg_enforce__provisional_env(&env, cgmount, sizeof(cgmount), false);
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++)
		env.mech[t] = t == PG_EV_CONNECT || t == PG_EV_DNS ? PG_MECH_CGROUP : PG_MECH_LSM;
	rc = pg_policy_plan__build(&plan, set, &env, err, sizeof(err));
	if (rc) {
		pg_policy_plan__release(&plan);
		pg_cli_err("replay", "--policy: %s", err);
		goto err_out;
	}
	if ((rc = pg_stage_policy__use(stage, set))) {
		pg_policy_plan__release(&plan);
		pg_cli_err("replay", "out of memory");
		goto err_out;
	}
	set = NULL; /* the stage's */
	pg_stage_policy__decide_here(stage, &plan, &env);
	if ((rc = pg_pipeline__add_stage(pl, stage))) {
		pg_cli_err("replay", "out of memory");
		goto err_out;
	}
	return 0;
err_out:
	pg_stage__free(stage);
	pg_policy_set__free(set);
	return rc ? rc : -EINVAL;
}

static int replay_run(const struct pg_cli *cli, int argc, char **argv)
{
	static const struct option cmd_longopts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "filter-file", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "node", required_argument, NULL, 'N' },
		{ "enrich", no_argument, NULL, 'E' },
		{ "process", no_argument, NULL, 'P' },
		{ "rules", required_argument, NULL, 'r' },
		{ "policy", required_argument, NULL, 'Y' },
		{ "flush-timeout", required_argument, NULL, 'T' },
		{ "rotate-size", required_argument, NULL, 'R' },
		{ "skip-bad", no_argument, NULL, 'S' },
		{ "stats", required_argument, NULL, 's' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* a replay has no deadline: when Kafka's queue is full, wait for room */
	struct pg_output_opts out = { .queue_wait_ms = -1, .stop = cli->stop, .cmd = "replay" };
	struct option longopts[sizeof(cmd_longopts) / sizeof(cmd_longopts[0]) +
			       PG_OUTPUT_MAX_LONGOPTS];
	char shortopts[64];
	struct pg_enrich_opts eo = { 0 };
	bool enrich = false, process = false;
	/* a file has no deadline: at its end, wait while Kafka may still deliver */
	int flush_ms = PG_FLUSH_UNTIL_DELIVERED;
	struct pg_replay_opts ro = { .fd = -1 };
	struct warn_state ws = { 0 };
	const char *filter = NULL, *filter_file = NULL, *rules = NULL, *stats_path = NULL;
	const char *metrics_addr = NULL, *policies[POLICY_PATHS_MAX];
	size_t npolicies = 0;
	char *ftext = NULL;
	struct pg_metrics_server *srv = NULL;
	struct pg_metrics m;
	struct pg_pipeline pl;
	struct pg_source *src = NULL;
	struct pg_sink *sink;
	bool quiet = false;
	char err[512];
	int c, rc, status = PG_EXIT_OK, wait_ms = -1;
	double t0;

	if (pg_output__longopts(longopts, sizeof(longopts) / sizeof(longopts[0]), cmd_longopts) ||
	    pg_output__shortopts(shortopts, sizeof(shortopts), "f:o:r:qh"))
		return PG_EXIT_FAIL; /* a sink type with too many options: caught by the tests */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		rc = pg_output__option(&out, "replay", c, optarg);
		if (rc < 0)
			return PG_EXIT_USAGE;
		if (rc > 0)
			continue;
		switch (c) {
		case 'f': filter = optarg; break;
		case 'F': filter_file = optarg; break;
		case 'o': out.spec = optarg; break;
		case 'N': eo.node = optarg; enrich = true; break;
		case 'E': eo.cgroups = true; enrich = true; break;
		case 'P': process = true; break;
		case 'r': rules = optarg; process = true; break;
		case 'Y':
			if (npolicies == POLICY_PATHS_MAX) {
				pg_cli_err("replay",
					   "--policy: at most %d paths (give a directory)",
					   POLICY_PATHS_MAX);
				return PG_EXIT_USAGE;
			}
			policies[npolicies++] = optarg;
			break;
		case 'T': {
			char *end;
			double v = strtod(optarg, &end);

			if (end == optarg || *end || !(v >= 0 && v <= 3600)) {
				pg_cli_err("replay", "--flush-timeout: '%s' is not a number of seconds in 0..3600", optarg);
				return PG_EXIT_USAGE;
			}
			flush_ms = (int)(v * 1000);
			break;
		}
		case 'R':
			if (pg_parse_size(optarg, &out.rotate_bytes) || !out.rotate_bytes) {
				pg_cli_err("replay", "--rotate-size: '%s' is not a size (e.g. 64M, 1G)", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'S': ro.skip_bad = true; break;
		case 's': stats_path = optarg; break;
		case 'M':
			if (pg_cli_metrics_option("replay", optarg))
				return PG_EXIT_USAGE;
			metrics_addr = optarg;
			break;
		case 'q': quiet = true; out.quiet = true; break;
		case 'h': replay_help(stdout); return PG_EXIT_OK;
		default: return pg_cli_usage_error("replay", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		pg_cli_err("replay", optind == argc ? "which recording? give a FILE, or - for standard input"
						    : "one recording at a time (got '%s' too)",
			   optind < argc ? argv[optind + 1] : "");
		return PG_EXIT_USAGE;
	}
	/* checked before anything is opened, so a typo costs nothing and exits 2 */
	if (pg_output__check(&out, err, sizeof(err))) {
		pg_cli_err("replay", "%s", err);
		return PG_EXIT_USAGE;
	}
	if (out.rotate_bytes && (!out.spec || !strcmp(out.spec, "-"))) {
		pg_cli_err("replay", "--rotate-size needs --output FILE (standard output is not rotated)");
		return PG_EXIT_USAGE;
	}
	if (filter && filter_file) {
		pg_cli_err("replay", "--filter and --filter-file: give the filter one way");
		return PG_EXIT_USAGE;
	}
	ro.path = argv[optind];
	if (pg_output__path(&out) && strcmp(ro.path, "-")) {
		struct stat in_st, out_st;

		/* appending to the file being read would replay its own output until the disk is full */
		if (!stat(ro.path, &in_st) && !stat(pg_output__path(&out), &out_st) &&
		    in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
			pg_cli_err("replay", "--output %s is the recording being read; write to another file",
				   out.spec);
			return PG_EXIT_USAGE;
		}
	}
	ro.warn = warn_line;
	ro.warn_ctx = &ws;

	if (metrics_addr && !(srv = pg_cli_metrics_start("replay", metrics_addr, quiet)))
		return PG_EXIT_FAIL;
	pg_metrics__init(&m);
	pg_pipeline__init(&pl);
	/* enrich first: the filter may ask for pod_uid or node */
	status = PG_EXIT_FAIL;
	if (enrich && pg_cli_add_enrich("replay", &pl, &eo))
		goto cleanup;
	if (process && pg_cli_add_process("replay", &pl))
		goto cleanup;
	if (rules && pg_cli_add_rules("replay", &pl, rules, NULL, false, quiet, NULL))
		goto cleanup;
	/* after the process table: rules may ask for its fields; before the filter, which lets
	 * what they decide pass */
	if (npolicies && add_policies(&pl, policies, npolicies)) {
		status = PG_EXIT_USAGE;
		goto cleanup;
	}
	if (filter_file && !(filter = ftext = pg_cli_read_filter_file("replay", filter_file))) {
		status = PG_EXIT_USAGE;
		goto cleanup;
	}
	rc = pg_cli_add_filter("replay", &pl, filter, npolicies > 0);
	free(ftext); /* the filter keeps its own copy */
	if (rc) {
		status = PG_EXIT_USAGE;
		goto cleanup;
	}
	sink = pg_output__open(&out, err, sizeof(err));
	if (!sink) {
		pg_cli_err("replay", "%s", err);
		goto cleanup;
	}
	pg_pipeline__add_sink(&pl, sink);
	src = pg_source_replay__new(&ro);
	if (!src) {
		pg_cli_err("replay", "cannot open %s: %s", ro.path, strerror(errno));
		goto cleanup;
	}
	/* input and output are open: a replay needs no capability from here on (caps.h) */
	if (pg_caps__limit(0, err, sizeof(err))) {
		pg_cli_err("replay", "%s", err);
		goto cleanup;
	}
	status = PG_EXIT_OK;
	if (srv)
		wait_ms = PG_METRICS_ROUND_MS;

	t0 = pg_now_seconds();
	for (;;) {
		if (*cli->stop) {
			pg_cli_err("replay", "interrupted; stopping after the events read so far");
			status = PG_EXIT_FAIL;
			break;
		}
		rc = pg_source__poll(src, wait_ms, pg_pipeline__on_event, &pl);
		/* a pipe that pauses (tail -f | pangolin replay -) must not hold lines back */
		wait_ms = pg_pipeline__tick(&pl);
		if (srv && (wait_ms < 0 || wait_ms > PG_METRICS_ROUND_MS))
			wait_ms = PG_METRICS_ROUND_MS;
		pg_cli_metrics_round(srv, &m, src, &pl, pg_now_seconds() - t0,
				     rc == PG_SOURCE_EOF ? "the recording is read to its end"
							 : NULL);
		/* a signal woke a blocked read (or raced the end of the input): the loop looks at
		 * the stop flag */
		if (rc == -EINTR || (rc == PG_SOURCE_EOF && *cli->stop))
			continue;
		if (rc == PG_SOURCE_EOF)
			break;
		if (rc < 0) {
			if (src->errmsg[0])
				fprintf(stderr, "pangolin replay: %s\n", src->errmsg);
			else if (sink->errmsg[0])
				fprintf(stderr, "pangolin replay: %s\n", sink->errmsg);
			else
				pg_cli_err("replay", "%s", strerror(-rc));
			if (src->errmsg[0] && !ro.skip_bad)
				fprintf(stderr, "pangolin replay: stopped; use --skip-bad to skip bad lines and count them\n");
			status = PG_EXIT_FAIL;
			break;
		}
	}
	/* interrupted: what was produced gets a short chance, not minutes */
	if (*cli->stop && flush_ms < 0)
		flush_ms = INTERRUPTED_FLUSH_MS;
	rc = pg_pipeline__flush(&pl, flush_ms);
	if (rc) {
		fprintf(stderr, "pangolin replay: %s\n", sink->errmsg[0] ? sink->errmsg : strerror(-rc));
		status = PG_EXIT_FAIL;
	}
	pg_cli_collect(&m, src, &pl, pg_now_seconds() - t0);
	if (!quiet)
		pg_cli_summary("replay", &m, &pl, pg_now_seconds() - t0);
	if (stats_path && (rc = pg_cli_write_stats(stats_path, &m))) {
		pg_cli_err("replay", "cannot write --stats %s: %s", stats_path, strerror(-rc));
		status = PG_EXIT_FAIL;
	}
cleanup:
	pg_metrics_server__stop(srv);
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
	pg_metrics__release(&m);
	return status;
}

const struct pg_cmd pg_cmd_replay = {
	.name = "replay",
	.summary = "replay an NDJSON recording through filters to an output",
	.run = replay_run,
	.help = replay_help,
};
