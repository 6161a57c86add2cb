/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pipeline stages: everything between a source and its sinks (filter, enrich, correlate).
 * A stage sees each event once, may amend it, and says whether it goes on.
 */
#ifndef PANGOLIN_STAGE_H
#define PANGOLIN_STAGE_H

#include <stdbool.h>

#include "event.h"
#include "metrics.h"

enum pg_verdict {
	PG_PASS = 0, /* hand the event to the next stage */
	PG_DROP = 1, /* the event stops here, on purpose (counted as filtered) */
};

struct pg_stage;
struct pg_pipeline;

struct pg_stage_ops {
	const char *name;
	/*
	 * Look at one event and amend it if the stage enriches. PG_PASS, PG_DROP or -errno.
	 * The event is the source's; strings put in ev->meta must live until the next event.
	 * A correlating stage may emit new events with pg_pipeline__emit(pl, stage, ev).
	 */
	int (*process)(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev);
	void (*free)(struct pg_stage *st);
	/*
	 * Add the stage's named counters to a collection (src/metrics.h): alerts per rule,
	 * actions per policy. The events it drops are counted by the pipeline. May be NULL.
	 */
	void (*metrics)(struct pg_stage *st, struct pg_metrics *m);
};

struct pg_stage {
	const struct pg_stage_ops *ops;
};

static inline int pg_stage__process(struct pg_stage *st, struct pg_pipeline *pl,
				    struct pg_event *ev)
{
	return st->ops->process(st, pl, ev);
}

static inline void pg_stage__metrics(struct pg_stage *st, struct pg_metrics *m)
{
	if (st->ops->metrics)
		st->ops->metrics(st, m);
}

static inline void pg_stage__free(struct pg_stage *st)
{
	if (st)
		st->ops->free(st);
}

struct pg_filter;

/* Drops events the filter does not match. Takes ownership of f (freed on failure too). */
struct pg_stage *pg_stage_filter__new(struct pg_filter *f);
/* The same; with keep_decided, an event a policy decided (meta.action set) always passes:
 * the live sensor reports every enforcement, whatever --filter says (docs/enforce.md). */
struct pg_stage *pg_stage_filter__new_opts(struct pg_filter *f, bool keep_decided);

#endif /* PANGOLIN_STAGE_H */
