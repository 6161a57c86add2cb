// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin detect: Sigma rules over a stream of events (a recording, standard input, a Kafka
 * topic shared by a consumer group), alerts out. The same stages `run --rules` uses: the
 * process table (for events that do not carry their process's fields yet), then the rules.
 *
 * From Kafka, delivery is at least once: offsets are committed only after the outputs
 * acknowledged every alert made from the events before them, and each partition's commit
 * trails what was read by the rules' reach in event time, so that a partition's next reader
 * rebuilds its correlation state (docs/detect.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"
#include "metrics_server.h"
#include "output.h"
#include "source_kafka.h"

/* While the outputs have not acknowledged, reading pauses; this often it looks again. */
#define PAUSED_SLICE_MS 200

static void detect_help(FILE *out)
{
	fputs("usage: pangolin detect --rules DIR [--input FILE|-|kafka://HOST:PORT/TOPIC] [options]\n"
	      "\n"
	      "Run Sigma rules (docs/detect.md) over events and write the alerts they raise\n"
	      "(events of type \"alert\", docs/events.md).\n"
	      "\n"
	      "options:\n"
	      "  -r, --rules DIR       the rules: every *.yml and *.yaml file under DIR (or one file)\n"
	      "  -i, --input IN        events from IN: an NDJSON file, '-' for standard input (the\n"
	      "                        default), or kafka://HOST:PORT[,HOST:PORT...]/TOPIC: a topic\n"
	      "                        the sensors write to, read in a consumer group (--group)\n"
	      "  -o, --output OUT      write alerts to OUT: a file, '-' for standard output (the\n"
	      "                        default), or kafka://HOST:PORT/TOPIC\n"
	      "      --all             write the events too, each alert just before the event\n"
	      "                        that completed it\n"
	      "      --alerts-output OUT  with --all: the alerts to OUT, the events to --output\n"
	      "  -f, --filter EXPR     keep only output matching EXPR (docs/filter.md)\n"
	      "      --max-groups N    correlation groups kept per correlation (10000; from Kafka,\n"
	      "                        per partition)\n"
	      "      --skip-bad        skip malformed lines (counted) instead of stopping\n"
	      "      --flush-timeout S seconds to wait at the end for the output to deliver;\n"
	      "                        the default waits while Kafka may still deliver\n"
	      "      --metrics ADDR    serve Prometheus metrics on http://ADDR/metrics, and\n"
	      "                        /healthz and /readyz for probes ([HOST]:PORT)\n"
	      "      --stats FILE      write the counters as JSON to FILE at exit\n"
	      "  -q, --quiet           no summary and no notices on standard error\n"
	      "  -h, --help            this help\n"
	      "  Kafka input (docs/detect.md, 'Across the fleet'):\n"
	      "  -g, --group NAME      the consumer group: detect processes of one group share the\n"
	      "                        topic's partitions\n"
	      "      --input-format F  auto (default: NDJSON or protobuf, told by content), json\n"
	      "                        or protobuf\n"
	      "      --commit-interval S  seconds between offset commits (1); each waits for the\n"
	      "                        outputs to acknowledge the alerts before it\n"
	      "  -X KEY=VALUE          a librdkafka property for the input and a Kafka output alike\n"
	      "                        (TLS, SASL, session.timeout.ms...); repeatable\n",
	      out);
	pg_output__help(out);
	fputs("\n"
	      "A Kafka input runs until SIGINT/SIGTERM: it then gives its partitions up, committed\n"
	      "once the outputs acknowledged, and exits 0.\n"
	      "exit status: 0 success (alerts or not), 1 bad rules, bad input or output errors,\n"
	      "2 bad command line\n",
	      out);
}

#define MAX_PROPS 64

struct detect_opts {
	const char *rules, *filter, *input, *alerts_spec, *group, *metrics_addr, *stats_path;
	struct pg_output_opts out;
	struct pg_replay_opts ro;
	struct pg_detector_opts dopts;
	enum pg_input_format format;
	const char *props[MAX_PROPS]; /* -X: the Kafka input's, and a Kafka output's */
	size_t nprops;
	int flush_ms, commit_ms;
	bool all, quiet, kafka;
};

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

static void notice(void *ctx, const char *msg)
{
	pg_cli_err("detect", "%s", msg);
}

static int parse_seconds_ms(const char *opt, const char *arg, double max, int *out)
{
	double v;

	if (!pg_parse_seconds(arg, &v) || v > max) {
		pg_cli_err("detect", "%s: '%s' is not a number of seconds in 0..%.0f", opt, arg, max);
		return -1;
	}
	*out = (int)(v * 1000);
	return 0;
}

/* Whether the options go together. 0, or the exit status of a usage error (reported). */
static int check(struct detect_opts *o, const char *format)
{
	char err[512];

	if (!o->rules) {
		pg_cli_err("detect", "which rules? give --rules DIR");
		return PG_EXIT_USAGE;
	}
	o->kafka = o->input && !strncmp(o->input, "kafka://", 8);
	o->ro.path = o->input ? o->input : "-";
	if (format) {
		if (!strcmp(format, "auto"))
			o->format = PG_INPUT_AUTO;
		else if (!strcmp(format, "json"))
			o->format = PG_INPUT_JSON;
		else if (!strcmp(format, "protobuf"))
			o->format = PG_INPUT_PROTOBUF;
		else {
			pg_cli_err("detect", "--input-format: '%s' is not auto, json or protobuf", format);
			return PG_EXIT_USAGE;
		}
	}
	if (!o->kafka && (o->group || format || o->commit_ms)) {
		pg_cli_err("detect", "%s applies to a kafka:// input only (files and standard input are NDJSON, read once)",
			   o->group ? "--group" : format ? "--input-format" : "--commit-interval");
		return PG_EXIT_USAGE;
	}
	if (o->kafka && !o->group) {
		pg_cli_err("detect", "a kafka:// input needs a consumer group: give --group NAME (the detect processes of one group share the topic's partitions)");
		return PG_EXIT_USAGE;
	}
	if (o->kafka && o->ro.skip_bad) {
		pg_cli_err("detect", "--skip-bad is for files: from Kafka a bad message is always skipped and counted");
		return PG_EXIT_USAGE;
	}
	if (o->alerts_spec && !o->all) {
		pg_cli_err("detect", "--alerts-output goes with --all (without it, --output has only alerts)");
		return PG_EXIT_USAGE;
	}
	/* -X is the Kafka output's too when there is one; otherwise the input's alone */
	if (o->out.spec && !strncmp(o->out.spec, "kafka://", 8)) {
		for (size_t i = 0; i < o->nprops; i++)
			if (pg_output__option(&o->out, "detect", 'X', o->props[i]) < 0)
				return PG_EXIT_USAGE;
	} else if (o->nprops && !o->kafka) {
		pg_cli_err("detect", "-X applies to kafka:// inputs and outputs only");
		return PG_EXIT_USAGE;
	}
	if (pg_output__check(&o->out, err, sizeof(err))) {
		pg_cli_err("detect", "%s", err);
		return PG_EXIT_USAGE;
	}
	if (o->alerts_spec) {
		struct pg_output_opts ao;

		err[0] = 0;
		if (pg_output__second(&o->out, "detect", o->alerts_spec, &ao) ||
		    pg_output__check(&ao, err, sizeof(err))) {
			if (err[0])
				pg_cli_err("detect", "--alerts-output: %s", err);
			return PG_EXIT_USAGE;
		}
	}
	return 0;
}

/* The command line into o. 0, or the exit status of a usage error (already reported). */
static int parse(struct detect_opts *o, int argc, char **argv)
{
	static const struct option cmd_longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "alerts-output", required_argument, NULL, 'a' },
		{ "filter", required_argument, NULL, 'f' },
		{ "group", required_argument, NULL, 'g' },
		{ "input-format", required_argument, NULL, 'I' },
		{ "commit-interval", required_argument, NULL, 'C' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "stats", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'A' },
		{ "max-groups", required_argument, NULL, 'G' },
		{ "skip-bad", no_argument, NULL, 'S' },
		{ "flush-timeout", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct option longopts[sizeof(cmd_longopts) / sizeof(cmd_longopts[0]) +
			       PG_OUTPUT_MAX_LONGOPTS];
	const char *format = NULL;
	char shortopts[64];
	int c, rc;

	if (pg_output__longopts(longopts, sizeof(longopts) / sizeof(longopts[0]), cmd_longopts) ||
	    pg_output__shortopts(shortopts, sizeof(shortopts), "r:i:o:f:g:qh"))
		return PG_EXIT_FAIL; /* a sink type with too many options: caught by the tests */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'X') {
			/* the input's, and the output's too when it is Kafka (offered below) */
			if (o->nprops == MAX_PROPS) {
				pg_cli_err("detect", "-X: more than %d properties", MAX_PROPS);
				return PG_EXIT_USAGE;
			}
			o->props[o->nprops++] = optarg;
			continue;
		}
		rc = pg_output__option(&o->out, "detect", c, optarg);
		if (rc < 0)
			return PG_EXIT_USAGE;
		if (rc > 0)
			continue;
		switch (c) {
		case 'r': o->rules = optarg; break;
		case 'i': o->input = optarg; break;
		case 'o': o->out.spec = optarg; break;
		case 'a': o->alerts_spec = optarg; break;
		case 'f': o->filter = optarg; break;
		case 'g': o->group = optarg; break;
		case 'I': format = optarg; break;
		case 'A': o->all = true; break;
		case 'G': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || *end || v < 1 || v > 10000000) {
				pg_cli_err("detect", "--max-groups: '%s' is not a number in 1..10000000", optarg);
				return PG_EXIT_USAGE;
			}
			o->dopts.max_groups = v;
			break;
		}
		case 'S': o->ro.skip_bad = true; break;
		case 'T':
			if (parse_seconds_ms("--flush-timeout", optarg, 3600, &o->flush_ms))
				return PG_EXIT_USAGE;
			break;
		case 'C':
			if (parse_seconds_ms("--commit-interval", optarg, 3600, &o->commit_ms))
				return PG_EXIT_USAGE;
			break;
		case 'M':
			if (pg_cli_metrics_option("detect", optarg))
				return PG_EXIT_USAGE;
			o->metrics_addr = optarg;
			break;
		case 's': o->stats_path = optarg; break;
		case 'q': o->quiet = true; o->out.quiet = true; break;
		case 'h': detect_help(stdout); return -1;
		default: return pg_cli_usage_error("detect", argc, argv);
		}
	}
	if (optind < argc) {
		pg_cli_err("detect", "unexpected argument '%s' (events come with --input FILE)", argv[optind]);
		return PG_EXIT_USAGE;
	}
	return check(o, format);
}

/* The alerts' own output (--alerts-output); -X is its own when --output is not Kafka. */
static int add_alerts_output(struct detect_opts *o, struct pg_pipeline *pl)
{
	struct pg_output_opts base = o->out;
	struct pg_sink *sink;
	char err[512];

	if (!strncmp(o->alerts_spec, "kafka://", 8) &&
	    strncmp(o->out.spec ? o->out.spec : "-", "kafka://", 8)) {
		base.spec = o->alerts_spec; /* the -X below are a Kafka output's */
		for (size_t i = 0; i < o->nprops; i++)
			if (pg_output__option(&base, "detect", 'X', o->props[i]) < 0)
				return -EINVAL;
	}
	sink = pg_output__open_alerts(&base, "detect", o->alerts_spec, err, sizeof(err));
	if (!sink) {
		pg_cli_err("detect", "--alerts-output: %s", err);
		return -EINVAL;
	}
	pg_pipeline__add_sink_types(pl, sink, 1u << PG_EV_ALERT);
	return 0;
}

/* --- a recording or standard input --------------------------------------------------------- */

/* What every loop carries: --metrics, and the run's start. */
struct loop {
	const struct pg_cli *cli;
	struct pg_metrics_server *srv;
	struct pg_metrics m;
	double t0;
};

/* After every poll: --metrics' heartbeat, readiness and collections. The wait for the next. */
static int round_done(struct loop *l, struct pg_source *src, struct pg_pipeline *pl, int wait_ms,
		      const char *not_ready)
{
	if (l->srv && (wait_ms < 0 || wait_ms > PG_METRICS_ROUND_MS))
		wait_ms = PG_METRICS_ROUND_MS;
	pg_cli_metrics_round(l->srv, &l->m, src, pl, pg_now_seconds() - l->t0, not_ready);
	return wait_ms;
}

/* Read src to its end. The exit status. */
static int run_stream(struct loop *l, struct pg_source *src, struct pg_pipeline *pl)
{
	int rc, wait_ms = l->srv ? PG_METRICS_ROUND_MS : -1;

	for (;;) {
		if (*l->cli->stop) {
			pg_cli_err("detect", "interrupted; stopping after the events read so far");
			return PG_EXIT_FAIL;
		}
		rc = pg_source__poll(src, wait_ms, pg_pipeline__on_event, pl);
		/* a pipe that pauses (pangolin run | pangolin detect) must not hold alerts back */
		wait_ms = round_done(l, src, pl, pg_pipeline__tick(pl),
				     rc == PG_SOURCE_EOF ? "the input is read to its end" : NULL);
		if (rc == -EINTR || (rc == PG_SOURCE_EOF && *l->cli->stop))
			continue;
		if (rc == PG_SOURCE_EOF)
			return PG_EXIT_OK;
		if (rc < 0) {
			if (src->errmsg[0])
				fprintf(stderr, "pangolin detect: %s\n", src->errmsg);
			else
				pg_cli_err("detect", "%s", pl->last_err ? strerror(-pl->last_err) : strerror(-rc));
			return PG_EXIT_FAIL;
		}
	}
}

/* --- a Kafka topic in a consumer group ------------------------------------------------------ */

struct fleet {
	struct pg_pipeline *pl;
	struct pg_stage *det;
	struct pg_source *src;
	bool lost; /* an alert was lost (failed, dropped, a stage failed): never commit past it */
};

/*
 * Is everything made from the events read so far acknowledged by the outputs? Waits up to
 * timeout_ms. 0: yes; -EAGAIN: not yet; -EIO: something was lost, which no later
 * acknowledgement can make good (the run stops without committing past it).
 */
static int fleet_settle(void *ctx, int timeout_ms)
{
	struct fleet *f = ctx;
	struct pg_sink_stats t;
	int rc = pg_pipeline__flush(f->pl, timeout_ms);

	pg_pipeline__sink_totals(f->pl, &t);
	if (t.failed || t.dropped || f->pl->stats.stage_errors || f->pl->stats.sink_errors)
		f->lost = true;
	if (f->lost)
		return -EIO;
	return rc || t.queued ? -EAGAIN : 0;
}

static void fleet_revoked(void *ctx, int32_t partition)
{
	struct fleet *f = ctx;

	pg_stage_detect__drop(f->det, (size_t)partition);
}

/* Each partition's events in its own correlation scope: one pod's sequence is in one. */
static int fleet_on_event(void *ctx, struct pg_event *ev)
{
	struct fleet *f = ctx;
	int32_t part = pg_source_kafka__partition(f->src);
	int rc = pg_stage_detect__select(f->det, part < 0 ? 0 : (size_t)part);

	return rc ? rc : pg_pipeline__push(f->pl, ev);
}

/* Why settling failed, for the user. */
static void report_lost(struct fleet *f)
{
	char why[600] = "";

	for (size_t i = 0; i < f->pl->nsinks && !why[0]; i++)
		if (f->pl->sinks[i]->errmsg[0])
			snprintf(why, sizeof(why), ": %s", f->pl->sinks[i]->errmsg);
	pg_cli_err("detect", "alerts were lost%s; stopping without committing past them (the "
		   "next reader of the partitions re-reads those events)", why);
}

/* Read until stopped, committing every commit_ms. The exit status. */
static int run_kafka(struct loop *l, struct fleet *f, int commit_ms, bool quiet)
{
	double next_commit = pg_now_seconds() + commit_ms / 1000.0;
	bool paused = false;
	int rc, wait_ms = l->srv ? PG_METRICS_ROUND_MS : -1;

	for (;;) {
		if (*l->cli->stop)
			return PG_EXIT_OK;
		if (paused) {
			rc = fleet_settle(f, PAUSED_SLICE_MS);
			if (rc == -EIO)
				break;
			/* rebalances and the group's liveness are served by polls (nothing comes) */
			pg_source__poll(f->src, 0, fleet_on_event, f);
			round_done(l, f->src, f->pl, -1, NULL);
			if (rc)
				continue;
			pg_source_kafka__commit(f->src);
			pg_source_kafka__pause(f->src, false);
			paused = false;
			if (!quiet)
				pg_cli_err("detect", "the outputs acknowledge again: reading resumes");
			next_commit = pg_now_seconds() + commit_ms / 1000.0;
			continue;
		}
		rc = pg_source__poll(f->src, wait_ms, fleet_on_event, f);
		wait_ms = round_done(l, f->src, f->pl, pg_pipeline__tick(f->pl), NULL);
		if (rc < 0 && rc != -EINTR) {
			if (f->src->errmsg[0])
				fprintf(stderr, "pangolin detect: %s\n", f->src->errmsg);
			else
				pg_cli_err("detect", "%s", strerror(-rc));
			return PG_EXIT_FAIL;
		}
		if (pg_now_seconds() < next_commit)
			continue;
		next_commit = pg_now_seconds() + commit_ms / 1000.0;
		/* alerts just produced are acknowledged within milliseconds by a broker that works;
		 * one that does not answer within the interval pauses reading */
		rc = fleet_settle(f, commit_ms);
		if (rc == -EIO)
			break;
		if (rc == 0) {
			pg_source_kafka__commit(f->src);
			continue;
		}
		if (!quiet)
			pg_cli_err("detect", "the outputs have not acknowledged every alert after %.1f s: "
				   "reading pauses, offsets stay where they are until they do",
				   commit_ms / 1000.0);
		pg_source_kafka__pause(f->src, true);
		paused = true;
	}
	report_lost(f);
	return PG_EXIT_FAIL;
}

static void kafka_summary(const struct pg_metrics *m)
{
	const struct pg_metric_desc *skipped = &pg_metric_source_skipped;

	fprintf(stderr, "pangolin detect: kafka input: %.0f messages, %.0f skipped (%.0f empty, "
			"%.0f json, %.0f protobuf), %.0f commits, %.0f commit failures; partitions: "
			"%.0f taken, %.0f given up, %.0f of them uncommitted\n",
		pg_metrics__sum(m, &pg_metric_kafka_consumer, "what", "messages", NULL),
		pg_metrics__sum(m, skipped, "source", "kafka", NULL),
		pg_metrics__sum(m, skipped, "source", "kafka", "reason", "empty", NULL),
		pg_metrics__sum(m, skipped, "source", "kafka", "reason", "json", NULL),
		pg_metrics__sum(m, skipped, "source", "kafka", "reason", "protobuf", NULL),
		pg_metrics__sum(m, &pg_metric_kafka_consumer, "what", "commits", NULL),
		pg_metrics__sum(m, &pg_metric_kafka_consumer, "what", "commit_failures", NULL),
		pg_metrics__sum(m, &pg_metric_kafka_consumer, "what", "partitions_taken", NULL),
		pg_metrics__sum(m, &pg_metric_kafka_consumer, "what", "partitions_given_up", NULL),
		pg_metrics__sum(m, &pg_metric_kafka_consumer, "what", "partitions_uncommitted", NULL));
}

static struct pg_source *open_kafka(const struct pg_cli *cli, struct detect_opts *o,
				    struct fleet *f, const struct pg_ruleset *rs)
{
	uint64_t reach = pg_ruleset__reach_ns(rs);
	const char *timeout = pg_output__arg(&o->out, "kafka-timeout");
	struct pg_kafka_source_opts ko = {
		.url = o->input,
		.group = o->group,
		.props = o->props,
		.nprops = o->nprops,
		.format = o->format,
		/* no correlation: each event decides alone, nothing needs re-reading */
		.hold_ns = reach ? reach + PG_KAFKA_HOLD_SLACK_NS : 0,
		.connect_timeout_ms = timeout ? atoi(timeout) * 1000 : 0,
		.stop = cli->stop,
		.settle = fleet_settle,
		.revoked = fleet_revoked,
		.ctx = f,
		.notice = o->quiet ? NULL : notice,
	};
	struct pg_source *src;
	char err[1024];

	src = pg_source_kafka__new(&ko, err, sizeof(err));
	if (!src)
		pg_cli_err("detect", "%s", err);
	else if (!o->quiet)
		pg_cli_err("detect", "reading %s in group '%s'; offsets committed %.0f s of event "
			   "time behind each partition's latest event (the rules' reach, plus %.0f s)",
			   o->input, o->group, ko.hold_ns / 1e9,
			   ko.hold_ns ? PG_KAFKA_HOLD_SLACK_NS / 1e9 : 0.0);
	return src;
}

/* The rules, the filter and the outputs, in the pipeline. The exit status on failure, else 0. */
static int build(struct detect_opts *o, struct pg_pipeline *pl, struct pg_stage **det)
{
	struct pg_sink *sink;
	char err[512];

	/* the process table first: recordings made without it (or by other tools) get it here */
	if (pg_cli_add_process("detect", pl) ||
	    pg_cli_add_rules("detect", pl, o->rules, &o->dopts, !o->all, o->quiet, det))
		return PG_EXIT_FAIL;
	if (pg_cli_add_filter("detect", pl, o->filter, false))
		return PG_EXIT_USAGE;
	sink = pg_output__open(&o->out, err, sizeof(err));
	if (!sink) {
		pg_cli_err("detect", "%s", err);
		return PG_EXIT_FAIL;
	}
	pg_pipeline__add_sink_types(pl, sink, o->alerts_spec ? ~(1u << PG_EV_ALERT) : 0);
	if (o->alerts_spec && add_alerts_output(o, pl))
		return PG_EXIT_FAIL;
	return 0;
}

/* The summary lines, from the run's last collection. */
static void summary(struct loop *l, struct pg_pipeline *pl, bool kafka)
{
	const struct pg_metric_desc *dropped = &pg_metric_detect_groups_dropped;

	pg_cli_summary("detect", &l->m, pl, pg_now_seconds() - l->t0);
	if (kafka)
		kafka_summary(&l->m);
	fprintf(stderr, "pangolin detect: %.0f rule matches, %.0f alerts; correlation groups: "
			"%.0f held, %.0f expired, %.0f evicted, %.0f dropped with their partitions\n",
		pg_metrics__sum(&l->m, &pg_metric_detect, "what", "matches", NULL),
		pg_metrics__sum(&l->m, &pg_metric_detect, "what", "alerts", NULL),
		pg_metrics__sum(&l->m, &pg_metric_detect_groups, NULL),
		pg_metrics__sum(&l->m, dropped, "reason", "expired", NULL),
		pg_metrics__sum(&l->m, dropped, "reason", "evicted", NULL),
		pg_metrics__sum(&l->m, dropped, "reason", "partition", NULL));
}

static int detect_run(const struct pg_cli *cli, int argc, char **argv)
{
	struct detect_opts o = {
		.out = { .queue_wait_ms = -1, .stop = cli->stop, .cmd = "detect" },
		.ro = { .fd = -1 },
		/* a stream has no deadline: at its end, wait while Kafka may still deliver */
		.flush_ms = PG_FLUSH_UNTIL_DELIVERED,
	};
	struct loop l = { .cli = cli };
	struct warn_state ws = { 0 };
	struct fleet f = { 0 };
	struct pg_stage *det = NULL;
	struct pg_source *src = NULL;
	struct pg_pipeline pl;
	int rc, status;

	rc = parse(&o, argc, argv);
	if (rc)
		return rc < 0 ? PG_EXIT_OK : rc;
	if (!o.commit_ms)
		o.commit_ms = 1000;
	o.ro.warn = warn_line;
	o.ro.warn_ctx = &ws;

	pg_metrics__init(&l.m);
	pg_pipeline__init(&pl);
	status = build(&o, &pl, &det);
	if (status)
		goto cleanup;
	status = PG_EXIT_FAIL;
	f.pl = &pl;
	f.det = det;
	if (o.kafka) {
		src = f.src = open_kafka(cli, &o, &f, pg_stage_detect__rules(det));
	} else {
		src = pg_source_replay__new(&o.ro);
		if (!src)
			pg_cli_err("detect", "cannot open %s: %s", o.ro.path, strerror(errno));
	}
	if (!src)
		goto cleanup;
	if (o.metrics_addr && !(l.srv = pg_cli_metrics_start("detect", o.metrics_addr, o.quiet)))
		goto cleanup;
	l.t0 = pg_now_seconds();
	status = o.kafka ? run_kafka(&l, &f, o.commit_ms, o.quiet) : run_stream(&l, src, &pl);
	/* interrupted: what was produced gets a short chance, not minutes */
	if (*cli->stop && o.flush_ms < 0)
		o.flush_ms = 5000;
	/* from Kafka: the last revoke settles (flushes), commits what it may and gives the
	 * partitions up; a run that lost alerts leaves without committing */
	if (o.kafka && !f.lost && pg_source_kafka__close(src)) {
		fprintf(stderr, "pangolin detect: %s\n", src->errmsg);
		status = PG_EXIT_FAIL;
	}
	rc = pg_pipeline__flush(&pl, o.flush_ms);
	if (rc) {
		for (size_t i = 0; i < pl.nsinks; i++)
			if (pl.sinks[i]->errmsg[0]) {
				fprintf(stderr, "pangolin detect: %s\n", pl.sinks[i]->errmsg);
				break;
			}
		status = PG_EXIT_FAIL;
	}
	if (pl.stats.stage_errors)
		status = PG_EXIT_FAIL;
	pg_cli_collect(&l.m, src, &pl, pg_now_seconds() - l.t0);
	if (!o.quiet)
		summary(&l, &pl, o.kafka);
	if (o.stats_path && (rc = pg_cli_write_stats(o.stats_path, &l.m))) {
		pg_cli_err("detect", "cannot write --stats %s: %s", o.stats_path, strerror(-rc));
		status = PG_EXIT_FAIL;
	}
cleanup:
	pg_metrics_server__stop(l.srv);
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
	pg_metrics__release(&l.m);
	return status;
}

const struct pg_cmd pg_cmd_detect = {
	.name = "detect",
	.summary = "run Sigma rules over events from a recording, standard input or Kafka",
	.run = detect_run,
	.help = detect_help,
};
