// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "pipeline.h"

void pg_pipeline__init(struct pg_pipeline *pl)
{
	memset(pl, 0, sizeof(*pl));
}

int pg_pipeline__add_stage(struct pg_pipeline *pl, struct pg_stage *st)
{
	if (pl->nstages == PG_PIPELINE_MAX_STAGES)
		return -ENOSPC;
	pl->stages[pl->nstages++] = st;
	return 0;
}

int pg_pipeline__add_sink(struct pg_pipeline *pl, struct pg_sink *sink)
{
	return pg_pipeline__add_sink_types(pl, sink, 0);
}

int pg_pipeline__add_sink_types(struct pg_pipeline *pl, struct pg_sink *sink, uint32_t types)
{
	if (pl->nsinks == PG_PIPELINE_MAX_SINKS)
		return -ENOSPC;
	pl->sink_types[pl->nsinks] = types;
	pl->sinks[pl->nsinks++] = sink;
	return 0;
}

static int run_from(struct pg_pipeline *pl, size_t first, struct pg_event *ev,
		    enum pg_pipeline_outcome how)
{
	unsigned int type = ev->r.hdr.type < PG_PIPELINE_TYPES ? ev->r.hdr.type : 0;
	int rc = 0;

	pl->stats.in++;
	pl->by_type[how][type]++;
	for (size_t i = first; i < pl->nstages; i++) {
		int v = pg_stage__process(pl->stages[i], pl, ev);

		if (v == PG_PASS)
			continue;
		if (v == PG_DROP) {
			pl->stats.filtered++;
			pl->by_type[PG_PL_FILTERED][type]++;
			return 0;
		}
		pl->stats.stage_errors++;
		pl->by_type[PG_PL_ERROR][type]++;
		if (!pl->last_err)
			pl->last_err = v;
		return 0;
	}
	pl->stats.passed++;
	pl->by_type[PG_PL_PASSED][type]++;
	for (size_t i = 0; i < pl->nsinks; i++) {
		uint32_t types = pl->sink_types[i];
		int err;

		if (types && (ev->r.hdr.type >= 32 || !(types & (1u << ev->r.hdr.type))))
			continue;
		err = pg_sink__send(pl->sinks[i], ev);

		if (err) {
			pl->stats.sink_errors++;
			if (!pl->last_err)
				pl->last_err = err;
			if (!rc)
				rc = err;
		}
	}
	return rc;
}

int pg_pipeline__push(struct pg_pipeline *pl, struct pg_event *ev)
{
	return run_from(pl, 0, ev, PG_PL_READ);
}

int pg_pipeline__emit(struct pg_pipeline *pl, const struct pg_stage *from, struct pg_event *ev)
{
	size_t i;

	for (i = 0; i < pl->nstages; i++)
		if (pl->stages[i] == from)
			break;
	return run_from(pl, i < pl->nstages ? i + 1 : pl->nstages, ev, PG_PL_GENERATED);
}

int pg_pipeline__on_event(void *ctx, struct pg_event *ev)
{
	return pg_pipeline__push(ctx, ev);
}

int pg_pipeline__flush(struct pg_pipeline *pl, int timeout_ms)
{
	int rc = 0;

	for (size_t i = 0; i < pl->nsinks; i++) {
		int err = pg_sink__flush(pl->sinks[i], timeout_ms);

		if (err && !rc)
			rc = err;
	}
	return rc;
}

int pg_pipeline__tick(struct pg_pipeline *pl)
{
	int due = -1;

	for (size_t i = 0; i < pl->nsinks; i++) {
		int d = pg_sink__tick(pl->sinks[i]);

		if (d >= 0 && (due < 0 || d < due))
			due = d;
	}
	return due;
}

void pg_pipeline__sink_totals(const struct pg_pipeline *pl, struct pg_sink_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < pl->nsinks; i++) {
		struct pg_sink_stats st;

		pg_sink__stats(pl->sinks[i], &st);
		out->sent += st.sent;
		out->written += st.written;
		out->failed += st.failed;
		out->queued += st.queued;
		out->bytes += st.bytes;
		out->dropped += st.dropped;
		out->spilled += st.spilled;
		out->resent += st.resent;
		if (st.oldest_ms > out->oldest_ms)
			out->oldest_ms = st.oldest_ms;
	}
}

/* Each userspace outcome: its label, and the --stats total it adds to (as before: "read"...). */
static const struct {
	const char *outcome;
	const char *total;
} outcomes[PG_PL_OUTCOMES] = {
	[PG_PL_READ] = { "read", "read" },
	[PG_PL_GENERATED] = { "generated", "generated" },
	[PG_PL_FILTERED] = { "filtered", "filtered_in_userspace" },
	[PG_PL_ERROR] = { "error", "stage_errors" },
	[PG_PL_PASSED] = { "passed", "passed" },
};

void pg_pipeline__metrics(struct pg_pipeline *pl, struct pg_metrics *m)
{
	for (unsigned int t = 0; t < PG_PIPELINE_TYPES; t++) {
		const char *name = pg_event_type_name(t);
		bool any = false;

		for (unsigned int o = 0; o < PG_PL_OUTCOMES; o++)
			any |= pl->by_type[o][t] != 0;
		/* every type this build knows, zeros too; the others only once they occur */
		if (!name && !any)
			continue;
		for (unsigned int o = 0; o < PG_PL_OUTCOMES; o++)
			pg_metrics__add_total(m, outcomes[o].total, &pg_metric_events,
					      (double)pl->by_type[o][t], PG_HOP_USERSPACE,
					      outcomes[o].outcome, name ? name : "unknown");
	}
	for (size_t i = 0; i < pl->nstages; i++)
		pg_stage__metrics(pl->stages[i], m);
	for (size_t i = 0; i < pl->nsinks; i++)
		pg_sink__metrics(pl->sinks[i], m);
	if (pl->more_metrics)
		pl->more_metrics(pl->more_metrics_ctx, m);
}

void pg_pipeline__destroy(struct pg_pipeline *pl)
{
	for (size_t i = 0; i < pl->nstages; i++)
		pg_stage__free(pl->stages[i]);
	for (size_t i = 0; i < pl->nsinks; i++)
		pg_sink__free(pl->sinks[i]);
	pl->nstages = pl->nsinks = 0;
}
