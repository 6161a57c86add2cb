// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * NDJSON sink: canonical JSON lines into a buffer, written with write(2) when the buffer
 * fills, at a tick when the last write is flush_ms old, on flush, or after every event when
 * line-buffered. So a line waits at most flush_ms, a quiet stream's line is written at the
 * first tick after it came, and there are at most 1000 / flush_ms timed writes a second on
 * top of the full buffers: never one write per event (a replay of 300,000 events to a file
 * makes 442 writes, with or without the timer). With rotate_bytes the file is renamed to
 * path.1 (path.1 to path.2, ...) before it would grow past the limit, and lines are never
 * split across files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compact.h"
#include "json.h"
#include "output.h"
#include "sink.h"

struct sink_ndjson {
	struct pg_sink base;
	int fd;
	bool own_fd;
	bool line_buffered;
	bool fsync;
	bool compact, colour; /* --format compact (with ANSI colours) instead of NDJSON */
	unsigned int flush_ms;
	char *path;
	struct pg_buf buf;
	size_t limit;
	uint64_t rotate_bytes;
	unsigned int rotate_keep;
	uint64_t file_bytes; /* bytes in the current file */
	uint64_t buffered_events;
	long long pending_since_ns; /* when the oldest buffered line was taken (flush_ms > 0) */
	long long last_write_ns; /* when the buffer was last written (flush_ms > 0) */
	int tick_err; /* a write at a tick failed: the next send or flush returns it */
	bool write_failed; /* the last write failed (errmsg says why) */
	struct pg_sink_stats stats;
};

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_all(struct sink_ndjson *s, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(s->fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;

			snprintf(s->base.errmsg, sizeof(s->base.errmsg), "%s: write: %s",
				 s->path ? s->path : "<stdout>", strerror(errno));
			return err;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A new file's name is durable once its directory is synced, not before. */
static int sync_dir(struct sink_ndjson *s)
{
	char *copy = strdup(s->path);
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd)) {
		err = -errno;
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "--fsync: cannot sync the directory of %s: %s",
			 s->path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	free(copy);
	return err;
}

static int open_out(struct sink_ndjson *s)
{
	struct stat sb;

	s->fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->fd < 0) {
		int err = -errno;

		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "cannot open %s for writing: %s",
			 s->path, strerror(errno));
		return err;
	}
	s->file_bytes = fstat(s->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	return s->fsync ? sync_dir(s) : 0;
}

static int rotate(struct sink_ndjson *s)
{
	size_t n = strlen(s->path) + 16;
	char *from = malloc(n), *to = malloc(n);
	int err = 0;

	if (!from || !to) {
		err = -ENOMEM;
		goto out;
	}
	close(s->fd);
	s->fd = -1;
	for (unsigned int i = s->rotate_keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, n, "%s", s->path);
		else
			snprintf(from, n, "%s.%u", s->path, i - 1);
		snprintf(to, n, "%s.%u", s->path, i);
		if (rename(from, to) && errno != ENOENT) {
			err = -errno;
			snprintf(s->base.errmsg, sizeof(s->base.errmsg), "rotate %s to %s: %s", from, to,
				 strerror(errno));
			goto out;
		}
	}
	err = open_out(s);
out:
	free(from);
	free(to);
	return err;
}

static int drain(struct sink_ndjson *s)
{
	int err;

	if (!s->buf.len)
		return 0;
	err = write_all(s, s->buf.data, s->buf.len);
	if (!err && s->fsync && fdatasync(s->fd)) {
		/* after a failed sync the kernel may have dropped the pages: they may be gone */
		err = -errno;
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "%s: fdatasync: %s",
			 s->path ? s->path : "<stdout>", strerror(errno));
	}
	s->write_failed = err != 0;
	if (err) {
		/* what was buffered is gone: count it, never pretend */
		s->stats.failed += s->buffered_events;
	} else {
		s->stats.written += s->buffered_events;
		s->stats.bytes += s->buf.len;
		s->file_bytes += s->buf.len;
	}
	s->buffered_events = 0;
	s->buf.len = 0;
	if (s->flush_ms)
		s->last_write_ns = mono_ns();
	return err;
}

static int ndjson_send(struct pg_sink *sink, const struct pg_event *ev)
{
	struct sink_ndjson *s = (struct sink_ndjson *)sink;
	size_t before = s->buf.len;
	int err = s->tick_err;

	if (err) {
		/* refused like any event a failed write stops: counted, and the caller told */
		s->tick_err = 0;
		s->stats.sent++;
		s->stats.failed++;
		return err;
	}
	if (s->compact)
		pg_compact_encode(ev, &s->buf, s->colour);
	else
		pg_json_encode(ev, &s->buf);
	pg_buf__putc(&s->buf, '\n');
	if (s->buf.err) {
		s->buf.len = before;
		s->buf.err = 0;
		s->stats.failed++;
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "out of memory encoding an event");
		return -ENOMEM;
	}
	s->stats.sent++;
	if (s->rotate_bytes && s->own_fd &&
	    s->file_bytes + s->buf.len > s->rotate_bytes && s->file_bytes + before > 0) {
		/* the new line would cross the limit: write what came before, then rotate */
		size_t line = s->buf.len - before;
		char *tmp = malloc(line);

		if (!tmp) {
			s->stats.failed++;
			s->buf.len = before;
			return -ENOMEM;
		}
		memcpy(tmp, s->buf.data + before, line);
		s->buf.len = before;
		err = drain(s);
		if (!err)
			err = rotate(s);
		pg_buf__put(&s->buf, tmp, line);
		free(tmp);
		if (err) {
			s->stats.failed++;
			s->buf.len = 0;
			return err;
		}
	}
	if (s->buffered_events++ == 0 && s->flush_ms)
		s->pending_since_ns = mono_ns(); /* one clock read per write, not per event */
	if (s->line_buffered || s->buf.len >= s->limit)
		err = drain(s);
	return err;
}

static int ndjson_flush(struct pg_sink *sink, int timeout_ms)
{
	struct sink_ndjson *s = (struct sink_ndjson *)sink;
	int err = s->tick_err;

	s->tick_err = 0;
	return drain(s) ?: err;
}

static int ndjson_tick(struct pg_sink *sink)
{
	struct sink_ndjson *s = (struct sink_ndjson *)sink;
	long long due;

	if (!s->flush_ms || !s->buffered_events)
		return -1;
	/*
	 * Not the oldest line's age but the last write's: a line that comes after a quiet moment
	 * is written at once (its reader already waited for the ring buffer), one that comes in a
	 * stream waits for the next write, flush_ms after the one before.
	 */
	due = s->last_write_ns + s->flush_ms * 1000000LL - mono_ns();
	if (due > 0)
		return (int)((due + 999999) / 1000000); /* rounded up: the next tick is not early */
	/* drain counted the lines as failed and said why in errmsg; the caller hears it next */
	s->tick_err = drain(s);
	return -1;
}

static void ndjson_stats(struct pg_sink *sink, struct pg_sink_stats *st)
{
	struct sink_ndjson *s = (struct sink_ndjson *)sink;

	*st = s->stats;
	st->queued = s->buffered_events;
	if (s->buffered_events && s->flush_ms)
		st->oldest_ms = (uint64_t)(mono_ns() - s->pending_since_ns) / 1000000;
}

static bool ndjson_accepting(struct pg_sink *sink, char *why, size_t len)
{
	struct sink_ndjson *s = (struct sink_ndjson *)sink;

	if (s->write_failed)
		snprintf(why, len, "the last write failed: %s", s->base.errmsg);
	return !s->write_failed;
}

static void ndjson_free(struct pg_sink *sink)
{
	struct sink_ndjson *s = (struct sink_ndjson *)sink;

	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	pg_buf__free(&s->buf);
	free(s->path);
	free(s);
}

static const struct pg_sink_ops ndjson_ops = {
	.name = "ndjson",
	.send = ndjson_send,
	.flush = ndjson_flush,
	.tick = ndjson_tick,
	.stats = ndjson_stats,
	.free = ndjson_free,
	.accepting = ndjson_accepting,
};

struct pg_sink *pg_sink_ndjson__new(const struct pg_ndjson_opts *opts)
{
	struct sink_ndjson *s = calloc(1, sizeof(*s));
	bool use_stdout = !opts->path || !strcmp(opts->path, "-");

	if (!s)
		return NULL;
	s->base.ops = &ndjson_ops;
	s->fd = -1;
	s->limit = opts->buffer ? opts->buffer : 256 * 1024;
	s->line_buffered = opts->line_buffered;
	s->flush_ms = opts->flush_ms;
	s->fsync = opts->fsync;
	s->compact = opts->format == PG_FORMAT_COMPACT;
	s->colour = opts->colour;
	s->rotate_bytes = opts->rotate_bytes;
	s->rotate_keep = opts->rotate_keep ? opts->rotate_keep : 5;
	if (pg_buf__reserve(&s->buf, s->limit + 4096))
		goto enomem;
	if (opts->fd >= 0 || use_stdout) {
		struct stat sb;

		s->fd = opts->fd >= 0 ? opts->fd : STDOUT_FILENO;
		if (s->fsync && (fstat(s->fd, &sb) || !S_ISREG(sb.st_mode))) {
			/* a pipe or a terminal has nothing to sync: say so rather than pretend */
			ndjson_free(&s->base);
			errno = EINVAL;
			return NULL;
		}
	} else {
		s->path = strdup(opts->path);
		if (!s->path)
			goto enomem;
		s->own_fd = true;
		if (open_out(s)) {
			int err = errno;

			ndjson_free(&s->base);
			errno = err;
			return NULL;
		}
	}
	return &s->base;
enomem:
	ndjson_free(&s->base);
	errno = ENOMEM;
	return NULL;
}

/* --- the stdout and file sink types (output.h) ------------------------------------------------ */

static const struct pg_sink_option file_options[] = {
	{ .name = "fsync",
	  .elsewhere = "applies to file outputs; a kafka:// output is durable once the broker "
		       "acknowledges (acks=all, docs/kafka.md)" },
	{ 0 },
};

static const char file_help[] =
	"      --fsync             sync the output file to disk after every write (a few a\n"
	"                          second, or one per 256 KiB): a power cut then loses no more\n"
	"                          than a kill -9, the last 100 ms of events (docs/sensor.md)\n";

static bool claims_stdout(const char *spec)
{
	return !strcmp(spec, "-");
}

static bool claims_file(const char *spec)
{
	/* a path; a path that looks like a URL (x://) is some other output this build lacks */
	return !strncmp(spec, "file:", 5) || !strstr(spec, "://");
}

static enum pg_value_format stdout_default(const struct pg_output_opts *o)
{
	return isatty(STDOUT_FILENO) ? PG_FORMAT_COMPACT : PG_FORMAT_JSON;
}

static enum pg_value_format file_default(const struct pg_output_opts *o)
{
	return PG_FORMAT_JSON;
}

static int stdout_check(const struct pg_output_opts *o, enum pg_value_format f, char *err,
			size_t errlen)
{
	struct stat sb;

	if (pg_output__arg(o, "fsync") && (fstat(STDOUT_FILENO, &sb) || !S_ISREG(sb.st_mode))) {
		snprintf(err, errlen, "--fsync needs a file: standard output is a %s; give -o FILE",
			 isatty(STDOUT_FILENO) ? "terminal" : "pipe or device");
		return -EINVAL;
	}
	return 0;
}

static struct pg_sink *lines_open(const struct pg_output_opts *o, enum pg_value_format f,
				  const char *path, char *err, size_t errlen)
{
	struct pg_ndjson_opts no = {
		.path = path,
		.fd = -1,
		.rotate_bytes = o->rotate_bytes,
		.line_buffered = o->line_buffered,
		.flush_ms = PG_OUTPUT_FLUSH_MS,
		.fsync = pg_output__arg(o, "fsync") != NULL,
		.format = f,
		/* colour for a person at a terminal, never into a file */
		.colour = f == PG_FORMAT_COMPACT && !path && pg_output__colour(STDOUT_FILENO),
	};
	struct pg_sink *sink = pg_sink_ndjson__new(&no);

	if (!sink)
		snprintf(err, errlen, "cannot open %s for writing: %s",
			 path ? path : "standard output", strerror(errno));
	return sink;
}

static struct pg_sink *stdout_open(const struct pg_output_opts *o, enum pg_value_format f,
				   char *err, size_t errlen)
{
	return lines_open(o, f, NULL, err, errlen);
}

static struct pg_sink *file_open(const struct pg_output_opts *o, enum pg_value_format f,
				 char *err, size_t errlen)
{
	const char *path = pg_output__path(o);

	/* file:- is a file named "-", not standard output */
	return lines_open(o, f, strcmp(path, "-") ? path : "./-", err, errlen);
}

const struct pg_sink_type pg_sink_type_stdout = {
	.name = "stdout",
	.form = "- (the default)",
	.about = "standard output: compact on a terminal, else NDJSON",
	.claims = claims_stdout,
	.formats = 1u << PG_FORMAT_JSON | 1u << PG_FORMAT_COMPACT,
	.default_format = stdout_default,
	.options = file_options,
	.check = stdout_check,
	.open = stdout_open,
};

const struct pg_sink_type pg_sink_type_file = {
	.name = "file",
	.form = "PATH, or file:PATH",
	.about = "a file, appended to; NDJSON unless --format compact",
	.claims = claims_file,
	.formats = 1u << PG_FORMAT_JSON | 1u << PG_FORMAT_COMPACT,
	.default_format = file_default,
	.options = file_options,
	.help = file_help,
	.open = file_open,
};
