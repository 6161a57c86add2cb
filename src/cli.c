// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Helpers every subcommand shares: errors, sizes, output selection, the summary line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "detect.h"
#include "proctable.h"
#include "enrich.h"
#include "filter.h"
#include "metrics_server.h"

void pg_cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pangolin %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int pg_cli_usage_error(const char *cmd, int argc, char **argv)
{
	extern int optind, optopt;
	const char *bad = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";

	if (optopt && strncmp(bad, "--", 2))
		pg_cli_err(cmd, "option '-%c' is unknown or needs a value; see 'pangolin %s --help'",
			   optopt, cmd);
	else
		pg_cli_err(cmd, "option '%s' is unknown or needs a value; see 'pangolin %s --help'",
			   bad, cmd);
	return PG_EXIT_USAGE;
}

bool pg_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return false;
	*out = v;
	return true;
}

int pg_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B' || *end == 'b')
		end += *end == 'i' ? 1 : 0;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int pg_cli_add_enrich(const char *cmd, struct pg_pipeline *pl, const struct pg_enrich_opts *o)
{
	char err[512];
	struct pg_stage *st = pg_stage_enrich__new(o, err, sizeof(err));

	if (!st) {
		int e = errno ? errno : EINVAL;

		pg_cli_err(cmd, "%s", err);
		return -e;
	}
	if (pg_pipeline__add_stage(pl, st)) {
		pg_stage__free(st);
		pg_cli_err(cmd, "too many pipeline stages");
		return -ENOSPC;
	}
	return 0;
}

int pg_cli_add_process(const char *cmd, struct pg_pipeline *pl)
{
	struct pg_stage *st = pg_stage_process__new(NULL);

	if (!st || pg_pipeline__add_stage(pl, st)) {
		pg_stage__free(st);
		pg_cli_err(cmd, "cannot add the process table: %s", st ? "too many pipeline stages" : strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

int pg_cli_add_rules(const char *cmd, struct pg_pipeline *pl, const char *dir,
		     const struct pg_detector_opts *dopts, bool alerts_only, bool quiet,
		     struct pg_stage **out)
{
	struct pg_ruleset *rs = pg_ruleset__new();
	struct pg_stage *st;
	char err[1024];
	int rc;

	if (!rs) {
		pg_cli_err(cmd, "out of memory");
		return -ENOMEM;
	}
	rc = pg_ruleset__load_dir(rs, dir, err, sizeof(err));
	if (rc >= 0 && !pg_ruleset__count(rs)) {
		snprintf(err, sizeof(err), "%s: no rules (*.yml, *.yaml) there", dir);
		rc = -ENOENT;
	}
	if (rc >= 0)
		rc = pg_ruleset__finish(rs, err, sizeof(err));
	if (rc < 0) {
		pg_cli_err(cmd, "--rules: %s", err);
		pg_ruleset__free(rs);
		return rc;
	}
	if (!quiet)
		pg_cli_err(cmd, "%zu rules (%zu correlations) from %s", pg_ruleset__count(rs),
			   pg_ruleset__correlations(rs), dir);
	st = pg_stage_detect__new(rs, dopts, alerts_only);
	if (!st || pg_pipeline__add_stage(pl, st)) {
		pg_stage__free(st);
		pg_cli_err(cmd, "cannot start the rules: %s", st ? "too many pipeline stages" : strerror(errno));
		return -ENOMEM;
	}
	if (out)
		*out = st;
	return 0;
}

int pg_cli_add_filter(const char *cmd, struct pg_pipeline *pl, const char *expr, bool keep_decided)
{
	struct pg_filter_error ferr;
	struct pg_filter *f;
	struct pg_stage *st;

	if (!expr)
		return 0;
	f = pg_filter__parse(expr, &ferr);
	if (!f) {
		char msg[1024];

		pg_filter_error__format(expr, &ferr, msg, sizeof(msg));
		pg_cli_err(cmd, "--filter: %s", msg);
		return -EINVAL;
	}
	st = pg_stage_filter__new_opts(f, keep_decided);
	if (!st || pg_pipeline__add_stage(pl, st)) {
		pg_stage__free(st);
		pg_cli_err(cmd, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

char *pg_cli_read_filter_file(const char *cmd, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t len = 0, cap = 4096;
	char *text = NULL, *grown;

	if (!f) {
		pg_cli_err(cmd, "--filter-file %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (len + 1 >= cap || !text) {
			cap = text ? 2 * cap : cap;
			grown = realloc(text, cap);
			if (!grown) {
				pg_cli_err(cmd, "--filter-file %s: out of memory", path);
				goto err_out;
			}
			text = grown;
		}
		got = fread(text + len, 1, cap - 1 - len, f);
		len += got;
		if (len > PG_FILTER_FILE_MAX) {
			pg_cli_err(cmd, "--filter-file %s: larger than %u MiB", path,
				   PG_FILTER_FILE_MAX >> 20);
			goto err_out;
		}
		if (got)
			continue;
		if (ferror(f)) {
			pg_cli_err(cmd, "--filter-file %s: %s", path, strerror(errno));
			goto err_out;
		}
		break;
	}
	text[len] = 0;
	if (strlen(text) != len) {
		pg_cli_err(cmd, "--filter-file %s: a NUL byte at offset %zu: a filter is text",
			   path, strlen(text));
		goto err_out;
	}
	fclose(f);
	return text;
err_out:
	free(text);
	fclose(f);
	return NULL;
}

double pg_now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct pg_metric_desc run_seconds = {
	.stats = "seconds", /* --stats only: Prometheus has process_start_time_seconds */
};

void pg_cli_collect(struct pg_metrics *m, struct pg_source *src, struct pg_pipeline *pl,
		    double seconds)
{
	pg_metrics__reset(m);
	pg_metrics__add(m, &run_seconds, seconds);
	pg_metrics__process(m);
	if (src)
		pg_source__metrics(src, m);
	pg_pipeline__metrics(pl, m);
}

static unsigned long long events(const struct pg_metrics *m, const char *hop, const char *outcome)
{
	return (unsigned long long)pg_metrics__sum(m, &pg_metric_events, "hop", hop, "outcome",
						   outcome, NULL);
}

static unsigned long long sink_events(const struct pg_metrics *m, const char *sink,
				      const char *outcome)
{
	if (sink)
		return (unsigned long long)pg_metrics__sum(m, &pg_metric_sink_events, "sink", sink,
							   "outcome", outcome, NULL);
	return (unsigned long long)pg_metrics__sum(m, &pg_metric_sink_events, "outcome", outcome,
						   NULL);
}

void pg_cli_summary(const char *cmd, const struct pg_metrics *m, const struct pg_pipeline *pl,
		    double seconds)
{
	unsigned long long read = events(m, PG_HOP_USERSPACE, "read");
	unsigned long long lost = events(m, PG_HOP_KERNEL, "dropped");
	unsigned long long failed = sink_events(m, NULL, "failed");
	unsigned long long dropped = sink_events(m, NULL, "dropped");
	unsigned long long queued =
		(unsigned long long)pg_metrics__sum(m, &pg_metric_sink_queued, NULL);
	unsigned long long errors = events(m, PG_HOP_USERSPACE, "error");

	fprintf(stderr,
		"pangolin %s: %llu read, %llu passed, %llu filtered, %llu written, %llu skipped",
		cmd, read, events(m, PG_HOP_USERSPACE, "passed"),
		events(m, PG_HOP_USERSPACE, "filtered"), sink_events(m, NULL, "written"),
		(unsigned long long)pg_metrics__sum(m, &pg_metric_source_skipped, NULL));
	if (lost)
		fprintf(stderr, ", %llu lost in the kernel", lost);
	if (failed || queued)
		fprintf(stderr, ", %llu failed, %llu undelivered", failed, queued);
	if (dropped)
		fprintf(stderr, ", %llu dropped", dropped);
	if (errors)
		fprintf(stderr, ", %llu stage errors", errors);
	if (seconds > 0)
		fprintf(stderr, " in %.2f s (%.0f events/s)", seconds, (double)read / seconds);
	pg_cli_sink_counters(stderr, m, pl, seconds);
	fputc('\n', stderr);
}

void pg_cli_sink_counters(FILE *out, const struct pg_metrics *m, const struct pg_pipeline *pl,
			  double seconds)
{
	/* an acknowledged sink accounts for every event it was given, in one of these counters */
	for (size_t i = 0; i < pl->nsinks; i++) {
		const char *name = pg_sink__name(pl->sinks[i]);
		unsigned long long spilled = sink_events(m, name, "spilled");
		unsigned long long resent = sink_events(m, name, "resent");
		unsigned long long queued = (unsigned long long)pg_metrics__sum(
			m, &pg_metric_sink_queued, "sink", name, NULL);
		double oldest = pg_metrics__sum(m, &pg_metric_sink_oldest, "sink", name, NULL);
		double bytes = pg_metrics__sum(m, &pg_metric_sink_bytes, "sink", name, NULL);

		if (!pl->sinks[i]->ops->acknowledged)
			continue;
		fprintf(out, "; %s: %llu produced, %llu delivered, %llu failed, %llu queued, %llu dropped",
			name, sink_events(m, name, "accepted"), sink_events(m, name, "written"),
			sink_events(m, name, "failed"), queued, sink_events(m, name, "dropped"));
		if (spilled)
			fprintf(out, ", %llu spilled", spilled);
		if (resent)
			fprintf(out, ", %llu re-sent from the spill file", resent);
		if (queued && oldest >= 1)
			fprintf(out, ", the oldest queued for %.0f s", oldest);
		/* bytes of this run's events: a spill file's are reported when re-sent */
		if (seconds > 0)
			fprintf(out, ", %.1f MB/s", bytes / 1e6 / seconds);
	}
}

int pg_cli_write_stats(const char *path, const struct pg_metrics *m)
{
	struct pg_buf b = { 0 };
	FILE *f;
	int rc = pg_metrics__stats_json(m, &b);

	pg_buf__putc(&b, '\n');
	if (!rc)
		rc = b.err;
	if (rc) {
		pg_buf__free(&b);
		return rc;
	}
	f = fopen(path, "we");
	if (!f) {
		rc = -errno;
		pg_buf__free(&b);
		return rc;
	}
	if (fwrite(b.data, 1, b.len, f) != b.len)
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	pg_buf__free(&b);
	return rc;
}

int pg_cli_metrics_option(const char *cmd, const char *addr)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char err[256];

	if (!pg_listen_addr_parse(addr, &sa, &len, err, sizeof(err)))
		return 0;
	pg_cli_err(cmd, "--metrics %s", err);
	return -EINVAL;
}

struct pg_metrics_server *pg_cli_metrics_start(const char *cmd, const char *addr, bool quiet)
{
	struct pg_metrics_server *srv;
	char err[512];

	if (!addr)
		return NULL;
	srv = pg_metrics_server__start(addr, err, sizeof(err));
	if (!srv) {
		pg_cli_err(cmd, "%s", err);
		return NULL;
	}
	if (!quiet) {
		const char *colon = strrchr(addr, ':');

		pg_cli_err(cmd, "metrics on http://%.*s:%d/metrics (health: /healthz, /readyz)",
			   (int)(colon - addr), colon == addr ? "0.0.0.0" : addr,
			   pg_metrics_server__port(srv));
	}
	return srv;
}

static double thread_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pg_cli_metrics_round(struct pg_metrics_server *srv, struct pg_metrics *m,
			  struct pg_source *src, struct pg_pipeline *pl, double seconds,
			  const char *not_ready)
{
	char why[512];
	bool ready = !not_ready;

	if (!srv)
		return;
	pg_metrics_server__beat(srv);
	if (not_ready)
		snprintf(why, sizeof(why), "%s", not_ready);
	for (size_t i = 0; ready && i < pl->nsinks; i++) {
		char reason[400] = "";

		if (!pg_sink__accepting(pl->sinks[i], reason, sizeof(reason))) {
			ready = false;
			snprintf(why, sizeof(why), "output %s does not accept events: %s",
				 pg_sink__name(pl->sinks[i]), reason);
		}
	}
	pg_metrics_server__set_ready(srv, ready, why);
	if (pg_metrics_server__wanted(srv)) {
		/* CPU time of this thread: what the event path pays, not the time it was
		 * descheduled meanwhile */
		double t0 = thread_cpu_seconds();

		pg_cli_collect(m, src, pl, seconds);
		pg_metrics_server__metrics(srv, m);
		pg_metrics_server__publish(srv, m);
		pg_metrics_server__count(srv, thread_cpu_seconds() - t0);
	}
}

bool pg_pid_running(int pid)
{
	char path[64], buf[512], *close_paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* "pid (comm) S ...": comm may hold spaces and parentheses, the last ')' ends it */
	close_paren = strrchr(buf, ')');
	if (!close_paren || close_paren[1] != ' ')
		return true;
	return close_paren[2] != 'Z' && close_paren[2] != 'X';
}
