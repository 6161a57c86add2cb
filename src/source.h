/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * EventSource: where events come from (the kernel, a recording, a test). A source pushes
 * events into a callback; the pipeline never knows which kind it reads.
 */
#ifndef PANGOLIN_SOURCE_H
#define PANGOLIN_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "metrics.h"

/* poll() return value when the source is exhausted and will never produce again. */
#define PG_SOURCE_EOF (-4096)

/*
 * Called once per event. The event belongs to the source and is valid only during the call;
 * the callee may modify it (stages do). Return 0 to go on, non-zero to make poll() stop and
 * return that value.
 */
typedef int (*pg_event_fn)(void *ctx, struct pg_event *ev);

struct pg_source_stats {
	uint64_t read; /* events handed to the callback */
	uint64_t skipped; /* input records refused and skipped (bad lines) */
	uint64_t lost; /* events the source knows were lost before reaching it (kernel drops) */
};

struct pg_source;

struct pg_source_ops {
	const char *name;
	/*
	 * Hand available events to fn, waiting up to timeout_ms (-1: forever) for the first.
	 * Returns how many were handed over (0 on timeout), PG_SOURCE_EOF at the end of the
	 * stream, what fn returned if it stopped the poll, -EINTR when a signal interrupted the
	 * wait (nothing is lost: poll again, after looking at the stop flag), or -errno with
	 * src->errmsg set.
	 */
	int (*poll)(struct pg_source *src, int timeout_ms, pg_event_fn fn, void *ctx);
	/* Fill counters; may be called at any time. */
	void (*stats)(struct pg_source *src, struct pg_source_stats *st);
	/* Release everything; NULL-safe through pg_source__free. */
	void (*free)(struct pg_source *src);
	/*
	 * Add the source's own named counters to a collection (src/metrics.h says how), beyond
	 * the standard ones reported from stats(). May be NULL.
	 */
	void (*metrics)(struct pg_source *src, struct pg_metrics *m);
};

struct pg_source {
	const struct pg_source_ops *ops;
	char errmsg[512]; /* why the last poll failed, for the user */
};

static inline int pg_source__poll(struct pg_source *s, int timeout_ms, pg_event_fn fn, void *ctx)
{
	return s->ops->poll(s, timeout_ms, fn, ctx);
}

static inline void pg_source__stats(struct pg_source *s, struct pg_source_stats *st)
{
	s->ops->stats(s, st);
}

/* Every counter of the source: the standard ones from stats(), then its own. */
static inline void pg_source__metrics(struct pg_source *s, struct pg_metrics *m)
{
	struct pg_source_stats st;

	pg_source__stats(s, &st);
	pg_metrics__source_stats(m, s->ops->name, &st);
	if (s->ops->metrics)
		s->ops->metrics(s, m);
}

static inline void pg_source__free(struct pg_source *s)
{
	if (s)
		s->ops->free(s);
}

/* --- replay: NDJSON from a file or stdin ----------------------------------------------------- */

/* Called for each line skipped with skip_bad; msg is "file:line:col: what". */
typedef void (*pg_warn_fn)(void *ctx, const char *msg);

struct pg_replay_opts {
	const char *path; /* NULL or "-" for standard input */
	int fd; /* >= 0: read this descriptor instead of opening path (path names it in errors) */
	bool skip_bad; /* skip malformed lines (counted) instead of stopping */
	size_t max_line; /* longest line accepted; 0 means PG_REPLAY_MAX_LINE */
	pg_warn_fn warn;
	void *warn_ctx;
};

#define PG_REPLAY_MAX_LINE (1u << 20)

/* NULL with errno set on failure (the file cannot be opened: errno from open). */
struct pg_source *pg_source_replay__new(const struct pg_replay_opts *opts);

/* --- memory: events from an array (tests) ------------------------------------------------------ */

/* The source copies nothing: events must outlive it. Each poll hands over at most batch events. */
struct pg_source *pg_source_mem__new(const struct pg_event *events, size_t n, size_t batch);

#endif /* PANGOLIN_SOURCE_H */
