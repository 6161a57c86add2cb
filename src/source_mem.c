// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A source over an array of events: the test engine. Each event is copied before delivery, so
 * stages may amend it without touching the caller's array. */
#include <errno.h>
#include <stdlib.h>

#include "source.h"

struct source_mem {
	struct pg_source base;
	const struct pg_event *events;
	size_t n, next, batch;
	struct pg_source_stats stats;
	struct pg_event scratch;
};

static int mem_poll(struct pg_source *src, int timeout_ms, pg_event_fn fn, void *ctx)
{
	struct source_mem *m = (struct source_mem *)src;
	int delivered = 0, err;

	if (m->next == m->n)
		return PG_SOURCE_EOF;
	while (m->next < m->n && (size_t)delivered < m->batch) {
		m->scratch = m->events[m->next++];
		m->stats.read++;
		delivered++;
		if ((err = fn(ctx, &m->scratch)))
			return err;
	}
	return delivered;
}

static void mem_stats(struct pg_source *src, struct pg_source_stats *st)
{
	*st = ((struct source_mem *)src)->stats;
}

static void mem_free(struct pg_source *src)
{
	free(src);
}

static const struct pg_source_ops mem_ops = {
	.name = "memory",
	.poll = mem_poll,
	.stats = mem_stats,
	.free = mem_free,
};

struct pg_source *pg_source_mem__new(const struct pg_event *events, size_t n, size_t batch)
{
	struct source_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base.ops = &mem_ops;
	m->events = events;
	m->n = n;
	m->batch = batch ? batch : 1024;
	return &m->base;
}
