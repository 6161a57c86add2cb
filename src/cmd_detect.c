// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin detect: Sigma rules over a stream of events (a recording, standard input), alerts
 * out. The same stages `run --rules` uses: the process table (for events that do not carry
 * their process's fields yet), then the rules.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"

static void detect_help(FILE *out)
{
	fputs("usage: pangolin detect --rules DIR [--input FILE|-] [options]\n"
	      "\n"
	      "Run Sigma rules (docs/detect.md) over NDJSON events and write the alerts they raise\n"
	      "(events of type \"alert\", docs/events.md).\n"
	      "\n"
	      "options:\n"
	      "  -r, --rules DIR       the rules: every *.yml and *.yaml file under DIR (or one file)\n"
	      "  -i, --input IN        events from IN: an NDJSON file, or '-' for standard input\n"
	      "                        (the default)\n"
	      "  -o, --output OUT      write alerts to OUT: a file, '-' for standard output (the\n"
	      "                        default), or kafka://HOST:PORT/TOPIC\n"
	      "      --all             write the events too, each alert just before the event\n"
	      "                        that completed it\n"
	      "  -f, --filter EXPR     keep only output matching EXPR (docs/filter.md)\n"
	      "      --max-groups N    correlation groups kept per correlation (10000)\n"
	      "      --skip-bad        skip malformed lines (counted) instead of stopping\n"
	      "      --flush-timeout S seconds to wait at the end for the output to deliver;\n"
	      "                        the default waits while Kafka may still deliver\n"
	      "  -q, --quiet           no summary and no notices from the output on standard error\n"
	      "  -h, --help            this help\n",
	      out);
	pg_output__help(out);
	fputs("\n"
	      "exit status: 0 success (alerts or not), 1 bad rules, bad input or output errors,\n"
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
		fprintf(stderr, "pangolin detect: skipped %s\n", msg);
	else if (w->shown == 11)
		fprintf(stderr, "pangolin detect: more lines skipped; the summary counts them\n");
}

static int detect_run(const struct pg_cli *cli, int argc, char **argv)
{
	static const struct option cmd_longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'A' },
		{ "max-groups", required_argument, NULL, 'G' },
		{ "skip-bad", no_argument, NULL, 'S' },
		{ "flush-timeout", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pg_output_opts out = { .queue_wait_ms = -1, .stop = cli->stop, .cmd = "detect" };
	struct option longopts[sizeof(cmd_longopts) / sizeof(cmd_longopts[0]) +
			       PG_OUTPUT_MAX_LONGOPTS];
	char shortopts[64];
	struct pg_replay_opts ro = { .fd = -1, .path = "-" };
	struct warn_state ws = { 0 };
	const char *rules = NULL, *filter = NULL;
	struct pg_detector_opts dopts = { 0 };
	struct pg_stage *det = NULL;
	struct pg_source *src = NULL;
	struct pg_sink *sink;
	struct pg_pipeline pl;
	bool all = false, quiet = false;
	/* a stream has no deadline: at its end, wait while Kafka may still deliver */
	int c, rc, flush_ms = PG_FLUSH_UNTIL_DELIVERED, status = PG_EXIT_OK, wait_ms = -1;
	char err[512];
	double t0;

	if (pg_output__longopts(longopts, sizeof(longopts) / sizeof(longopts[0]), cmd_longopts) ||
	    pg_output__shortopts(shortopts, sizeof(shortopts), "r:i:o:f:qh"))
		return PG_EXIT_FAIL; /* a sink type with too many options: caught by the tests */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		rc = pg_output__option(&out, "detect", c, optarg);
		if (rc < 0)
			return PG_EXIT_USAGE;
		if (rc > 0)
			continue;
		switch (c) {
		case 'r': rules = optarg; break;
		case 'i': ro.path = optarg; break;
		case 'o': out.spec = optarg; break;
		case 'f': filter = optarg; break;
		case 'A': all = true; break;
		case 'G': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || *end || v < 1 || v > 10000000) {
				pg_cli_err("detect", "--max-groups: '%s' is not a number in 1..10000000", optarg);
				return PG_EXIT_USAGE;
			}
			dopts.max_groups = v;
			break;
		}
		case 'S': ro.skip_bad = true; break;
		case 'T': {
			double v;

			if (!pg_parse_seconds(optarg, &v) || v > 3600) {
				pg_cli_err("detect", "--flush-timeout: '%s' is not a number of seconds in 0..3600", optarg);
				return PG_EXIT_USAGE;
			}
			flush_ms = (int)(v * 1000);
			break;
		}
		case 'q': quiet = true; out.quiet = true; break;
		case 'h': detect_help(stdout); return PG_EXIT_OK;
		default: return pg_cli_usage_error("detect", argc, argv);
		}
	}
	if (optind < argc) {
		pg_cli_err("detect", "unexpected argument '%s' (events come with --input FILE)", argv[optind]);
		return PG_EXIT_USAGE;
	}
	if (!rules) {
		pg_cli_err("detect", "which rules? give --rules DIR");
		return PG_EXIT_USAGE;
	}
	if (pg_output__check(&out, err, sizeof(err))) {
		pg_cli_err("detect", "%s", err);
		return PG_EXIT_USAGE;
	}
	ro.warn = warn_line;
	ro.warn_ctx = &ws;

	pg_pipeline__init(&pl);
	/* the process table first: recordings made without it (or by other tools) get it here */
	if (pg_cli_add_process("detect", &pl) ||
	    pg_cli_add_rules("detect", &pl, rules, &dopts, !all, quiet, &det)) {
		pg_pipeline__destroy(&pl);
		return PG_EXIT_FAIL;
	}
	if (pg_cli_add_filter("detect", &pl, filter)) {
		pg_pipeline__destroy(&pl);
		return PG_EXIT_USAGE;
	}
	sink = pg_output__open(&out, err, sizeof(err));
	if (!sink) {
		pg_cli_err("detect", "%s", err);
		pg_pipeline__destroy(&pl);
		return PG_EXIT_FAIL;
	}
	pg_pipeline__add_sink(&pl, sink);
	src = pg_source_replay__new(&ro);
	if (!src) {
		pg_cli_err("detect", "cannot open %s: %s", ro.path, strerror(errno));
		pg_pipeline__destroy(&pl);
		return PG_EXIT_FAIL;
	}
	t0 = pg_now_seconds();
	for (;;) {
		if (*cli->stop) {
			pg_cli_err("detect", "interrupted; stopping after the events read so far");
			status = PG_EXIT_FAIL;
			break;
		}
		rc = pg_source__poll(src, wait_ms, pg_pipeline__on_event, &pl);
		/* a pipe that pauses (pangolin run | pangolin detect) must not hold alerts back */
		wait_ms = pg_pipeline__tick(&pl);
		if (rc == -EINTR || (rc == PG_SOURCE_EOF && *cli->stop))
			continue;
		if (rc == PG_SOURCE_EOF)
			break;
		if (rc < 0) {
			if (src->errmsg[0])
				fprintf(stderr, "pangolin detect: %s\n", src->errmsg);
			else if (sink->errmsg[0])
				fprintf(stderr, "pangolin detect: %s\n", sink->errmsg);
			else
				pg_cli_err("detect", "%s", strerror(-rc));
			status = PG_EXIT_FAIL;
			break;
		}
	}
	/* interrupted: what was produced gets a short chance, not minutes */
	if (*cli->stop && flush_ms < 0)
		flush_ms = 5000;
	rc = pg_pipeline__flush(&pl, flush_ms);
	if (rc) {
		fprintf(stderr, "pangolin detect: %s\n", sink->errmsg[0] ? sink->errmsg : strerror(-rc));
		status = PG_EXIT_FAIL;
	}
	if (pl.stats.stage_errors)
		status = PG_EXIT_FAIL;
	if (!quiet) {
		const struct pg_metric_desc *dropped = &pg_metric_detect_groups_dropped;
		struct pg_metrics m;

		pg_metrics__init(&m);
		pg_cli_collect(&m, src, &pl, pg_now_seconds() - t0);
		pg_cli_summary("detect", &m, &pl, pg_now_seconds() - t0);
		fprintf(stderr, "pangolin detect: %.0f rule matches, %.0f alerts; "
				"correlation groups: %.0f held, %.0f expired, %.0f evicted\n",
			pg_metrics__sum(&m, &pg_metric_detect, "what", "matches", NULL),
			pg_metrics__sum(&m, &pg_metric_detect, "what", "alerts", NULL),
			pg_metrics__sum(&m, &pg_metric_detect_groups, NULL),
			pg_metrics__sum(&m, dropped, "reason", "expired", NULL),
			pg_metrics__sum(&m, dropped, "reason", "evicted", NULL));
		pg_metrics__release(&m);
	}
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
	return status;
}

const struct pg_cmd pg_cmd_detect = {
	.name = "detect",
	.summary = "run Sigma rules over events from a recording or standard input",
	.run = detect_run,
	.help = detect_help,
};
