// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Helpers every subcommand shares: errors, sizes, output selection, the summary line. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "filter.h"

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

struct pg_sink *pg_output__open(const struct pg_output_opts *o, char *err, size_t errlen)
{
	const char *format = o->format ? o->format : "json";
	struct pg_sink *sink;

	if (strcmp(format, "json")) {
		snprintf(err, errlen, "unknown --format '%s' (this build writes: json)", format);
		return NULL;
	}
	if (o->spec && !strncmp(o->spec, "kafka://", 8)) {
		snprintf(err, errlen, "kafka output is not in this build yet");
		return NULL;
	}
	struct pg_ndjson_opts no = {
		.path = o->spec,
		.fd = -1,
		.rotate_bytes = o->rotate_bytes,
		.line_buffered = o->line_buffered,
	};

	sink = pg_sink_ndjson__new(&no);
	if (!sink)
		snprintf(err, errlen, "cannot open %s for writing: %s", o->spec, strerror(errno));
	return sink;
}

int pg_cli_add_filter(const char *cmd, struct pg_pipeline *pl, const char *expr)
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
	st = pg_stage_filter__new(f);
	if (!st || pg_pipeline__add_stage(pl, st)) {
		pg_stage__free(st);
		pg_cli_err(cmd, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

double pg_now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pg_cli_summary(const char *cmd, struct pg_source *src, struct pg_pipeline *pl,
		    double seconds)
{
	struct pg_source_stats ss = { 0 };
	struct pg_sink_stats total = { 0 };

	if (src)
		pg_source__stats(src, &ss);
	for (size_t i = 0; i < pl->nsinks; i++) {
		struct pg_sink_stats st;

		pg_sink__stats(pl->sinks[i], &st);
		total.written += st.written;
		total.failed += st.failed;
		total.queued += st.queued;
	}
	fprintf(stderr,
		"pangolin %s: %llu read, %llu passed, %llu filtered, %llu written, %llu skipped",
		cmd, (unsigned long long)ss.read, (unsigned long long)pl->stats.passed,
		(unsigned long long)pl->stats.filtered, (unsigned long long)total.written,
		(unsigned long long)ss.skipped);
	if (ss.lost)
		fprintf(stderr, ", %llu lost in the kernel", (unsigned long long)ss.lost);
	if (total.failed || total.queued)
		fprintf(stderr, ", %llu failed, %llu undelivered", (unsigned long long)total.failed,
			(unsigned long long)total.queued);
	if (pl->stats.stage_errors)
		fprintf(stderr, ", %llu stage errors", (unsigned long long)pl->stats.stage_errors);
	if (seconds > 0)
		fprintf(stderr, " in %.2f s (%.0f events/s)", seconds, (double)ss.read / seconds);
	fputc('\n', stderr);
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
