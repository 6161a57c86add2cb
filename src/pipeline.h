/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pipeline: stages in order, then every sink. Plain C over in-memory events, no I/O of
 * its own: the same code runs behind the kernel source, a replay and a unit test.
 */
#ifndef PANGOLIN_PIPELINE_H
#define PANGOLIN_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "sink.h"
#include "source.h"
#include "stage.h"

#define PG_PIPELINE_MAX_STAGES 8
#define PG_PIPELINE_MAX_SINKS 4

struct pg_pipeline_stats {
	uint64_t in; /* events pushed in (source events plus emitted ones) */
	uint64_t filtered; /* dropped on purpose by a stage */
	uint64_t passed; /* reached the sinks */
	uint64_t sink_errors; /* sends that failed (per sink; the event is counted lost there) */
	uint64_t stage_errors; /* events a stage failed on (dropped, counted) */
};

/* Event types counted one by one (pangolin_events_total); a type past them counts as 0. */
#define PG_PIPELINE_TYPES 16

/* What happened to an event in userspace, per type (pangolin_events_total{hop="userspace"}). */
enum pg_pipeline_outcome {
	PG_PL_READ, /* pushed in from the source */
	PG_PL_GENERATED, /* emitted by a stage (an alert) */
	PG_PL_FILTERED, /* dropped on purpose by a stage */
	PG_PL_ERROR, /* a stage failed on it (dropped, counted) */
	PG_PL_PASSED, /* reached the sinks */
	PG_PL_OUTCOMES
};

struct pg_pipeline {
	struct pg_stage *stages[PG_PIPELINE_MAX_STAGES];
	size_t nstages;
	struct pg_sink *sinks[PG_PIPELINE_MAX_SINKS];
	uint32_t sink_types[PG_PIPELINE_MAX_SINKS]; /* bit (1 << type) per type it takes; 0: all */
	size_t nsinks;
	struct pg_pipeline_stats stats;
	uint64_t by_type[PG_PL_OUTCOMES][PG_PIPELINE_TYPES];
	/* the counters of a part that lives as long as the pipeline but is none of its stages
	 * or sinks (the pod watch): reported with them; NULL: none */
	void (*more_metrics)(void *ctx, struct pg_metrics *m);
	void *more_metrics_ctx;
	int last_err; /* first -errno a sink or stage returned, 0 if none */
};

void pg_pipeline__init(struct pg_pipeline *pl);
/* Takes ownership. 0, or -ENOSPC when full. */
int pg_pipeline__add_stage(struct pg_pipeline *pl, struct pg_stage *st);
int pg_pipeline__add_sink(struct pg_pipeline *pl, struct pg_sink *sink);
/* A sink that takes only some event types: bit (1u << type) per type (alerts to their own
 * output, `run --alerts-output`). Takes ownership. 0, or -ENOSPC when full. */
int pg_pipeline__add_sink_types(struct pg_pipeline *pl, struct pg_sink *sink, uint32_t types);

/* Run one event through every stage and into every sink. 0, or the first -errno of a sink. */
int pg_pipeline__push(struct pg_pipeline *pl, struct pg_event *ev);

/* A stage's new event (an alert), processed by the stages after `from` and then the sinks. */
int pg_pipeline__emit(struct pg_pipeline *pl, const struct pg_stage *from, struct pg_event *ev);

/* pg_event_fn adapter: pass the pipeline as ctx. A sink error stops the source (returned). */
int pg_pipeline__on_event(void *ctx, struct pg_event *ev);

/* Flush every sink; the first error wins. */
int pg_pipeline__flush(struct pg_pipeline *pl, int timeout_ms);
/* Tick every sink (after each poll of the source). The soonest any sink wants the next tick,
 * in ms, or -1: poll the source no longer than that. */
int pg_pipeline__tick(struct pg_pipeline *pl);

/* The sum of every sink's counters (oldest_ms: the largest). */
void pg_pipeline__sink_totals(const struct pg_pipeline *pl, struct pg_sink_stats *out);

/* The pipeline's counters by type, then every stage's and every sink's (src/metrics.h). */
void pg_pipeline__metrics(struct pg_pipeline *pl, struct pg_metrics *m);

/* Free stages and sinks. */
void pg_pipeline__destroy(struct pg_pipeline *pl);

#endif /* PANGOLIN_PIPELINE_H */
