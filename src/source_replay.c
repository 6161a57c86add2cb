// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Replay: events from an NDJSON recording. Reads large blocks and cuts lines with memchr, so
 * the decoder, not the I/O, sets the pace. Every line is either an event, a counted skip
 * (skip_bad), or an error that names file, line and column.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "source.h"

#define READ_CHUNK (1u << 20)
#define BATCH 4096

struct source_replay {
	struct pg_source base;
	int fd;
	bool own_fd;
	bool eof; /* read() returned 0 */
	bool done; /* everything delivered */
	bool skipping; /* inside an over-long line that is being skipped */
	bool skip_bad;
	size_t max_line;
	char *name;
	char *buf;
	size_t cap, start, end; /* unconsumed bytes are buf[start, end) */
	unsigned long long lineno;
	struct pg_source_stats stats;
	struct pg_json_decoder dec;
	struct pg_event ev;
	pg_warn_fn warn;
	void *warn_ctx;
};

/* Only spaces and tabs: a line that carries nothing (a record never starts that way). */
static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* Record a bad line: an error, or a warning and a skip. Returns 0 to go on, -EINVAL to stop. */
static int bad_line(struct source_replay *r, size_t column, const char *msg)
{
	snprintf(r->base.errmsg, sizeof(r->base.errmsg), "%s:%llu:%zu: %s", r->name, r->lineno,
		 column, msg);
	if (!r->skip_bad)
		return -EINVAL;
	r->stats.skipped++;
	if (r->warn)
		r->warn(r->warn_ctx, r->base.errmsg);
	r->base.errmsg[0] = 0;
	return 0;
}

/* Read more input after compacting. 0, or -errno. */
static int fill(struct source_replay *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		/* a line longer than the buffer, but shorter than max_line: grow */
		size_t ncap = r->cap * 2;
		char *nb;

		if (ncap > r->max_line + READ_CHUNK)
			ncap = r->max_line + READ_CHUNK;
		nb = realloc(r->buf, ncap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = ncap;
	}
	n = read(r->fd, r->buf + r->end, r->cap - r->end);
	if (n < 0 && errno == EINTR)
		return -EINTR; /* a signal: let the caller look at its stop flag, then poll again */
	if (n < 0) {
		int err = -errno;

		snprintf(r->base.errmsg, sizeof(r->base.errmsg), "%s: read: %s", r->name,
			 strerror(errno));
		return err;
	}
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return 0;
}

/* 1 when input can be read, 0 when timeout_ms passed first (-1: wait forever), or -errno. */
static int wait_input(struct source_replay *r, int timeout_ms)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	int n;

	if (timeout_ms < 0)
		return 1; /* the read blocks */
	n = poll(&p, 1, timeout_ms);
	if (n < 0 && errno == EINTR)
		return -EINTR;
	if (n < 0) {
		int err = -errno;

		snprintf(r->base.errmsg, sizeof(r->base.errmsg), "%s: poll: %s", r->name,
			 strerror(errno));
		return err;
	}
	return n > 0;
}

static int replay_poll(struct pg_source *src, int timeout_ms, pg_event_fn fn, void *ctx)
{
	struct source_replay *r = (struct source_replay *)src;
	int delivered = 0;

	if (r->done)
		return PG_SOURCE_EOF;
	while (delivered < BATCH) {
		char *line = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *nl = memchr(line, '\n', avail);
		size_t len, bom;
		int err;

		if (r->skipping) {
			/* discard the rest of an over-long line */
			if (!nl) {
				r->start = r->end;
				if (r->eof)
					goto finished;
				if ((err = fill(r)))
					return err;
				continue;
			}
			r->start += (size_t)(nl - line) + 1;
			r->skipping = false;
			continue;
		}
		if (!nl) {
			/*
			 * Surely too long: more than max_line bytes, a byte order mark and a "\r"
			 * (what a line may hold besides its max_line bytes). Anything shorter waits
			 * for its newline, or the end, and the exact check below.
			 */
			if (avail > r->max_line + 4) {
				char msg[128];

				r->lineno++;
				snprintf(msg, sizeof(msg),
					 "line longer than %zu bytes (the limit): not a pangolin recording?",
					 r->max_line);
				if ((err = bad_line(r, 1, msg)))
					return err;
				r->skipping = true;
				r->start = r->end;
				continue;
			}
			if (!r->eof) {
				/* hand over what we have before blocking on a pipe that pauses; wait
				 * for more no longer than the caller allows (its outputs have timers) */
				if (delivered)
					return delivered;
				if ((err = wait_input(r, timeout_ms)) <= 0)
					return err;
				if ((err = fill(r)))
					return err;
				continue;
			}
			if (avail == 0)
				goto finished;
			/* last line without a final newline: still a line */
			len = avail;
			r->start = r->end;
		} else {
			len = (size_t)(nl - line);
			r->start += len + 1;
		}
		r->lineno++;
		if (len && line[len - 1] == '\r')
			len--; /* tolerate CRLF recordings: the limit is the same as for LF */
		/* a byte order mark (Windows tools write one) starts the input: it says nothing */
		bom = r->lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3) ? 3 : 0;
		line += bom;
		len -= bom;
		if (len > r->max_line) {
			char msg[128];

			snprintf(msg, sizeof(msg), "line longer than %zu bytes (the limit)", r->max_line);
			if ((err = bad_line(r, 1, msg)))
				return err;
			continue;
		}
		if (blank(line, len))
			continue; /* blank lines carry nothing */

		struct pg_json_error jerr;

		if (pg_json_decode(&r->dec, line, len, &r->ev, &jerr)) {
			if ((err = bad_line(r, jerr.column + bom, jerr.msg)))
				return err;
			continue;
		}
		r->stats.read++;
		delivered++;
		if ((err = fn(ctx, &r->ev)))
			return err;
	}
	return delivered;
finished:
	r->done = true;
	return delivered ? delivered : PG_SOURCE_EOF;
}

static void replay_stats(struct pg_source *src, struct pg_source_stats *st)
{
	*st = ((struct source_replay *)src)->stats;
}

static void replay_free(struct pg_source *src)
{
	struct source_replay *r = (struct source_replay *)src;

	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->name);
	free(r);
}

static const struct pg_source_ops replay_ops = {
	.name = "replay",
	.poll = replay_poll,
	.stats = replay_stats,
	.free = replay_free,
};

struct pg_source *pg_source_replay__new(const struct pg_replay_opts *opts)
{
	struct source_replay *r = calloc(1, sizeof(*r));
	bool use_stdin = !opts->path || !strcmp(opts->path, "-");
	int err;

	if (!r)
		return NULL;
	r->base.ops = &replay_ops;
	r->skip_bad = opts->skip_bad;
	r->max_line = opts->max_line ? opts->max_line : PG_REPLAY_MAX_LINE;
	r->warn = opts->warn;
	r->warn_ctx = opts->warn_ctx;
	r->name = strdup(use_stdin ? "<stdin>" : opts->path);
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap);
	if (!r->name || !r->buf) {
		err = ENOMEM;
		goto err_out;
	}
	if (opts->fd >= 0) {
		r->fd = opts->fd;
	} else if (use_stdin) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(opts->path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			err = errno;
			goto err_out;
		}
		r->own_fd = true;
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	return &r->base;
err_out:
	r->fd = -1;
	replay_free(&r->base);
	errno = err;
	return NULL;
}
