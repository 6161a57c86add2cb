// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The userspace half of --filter: whatever the kernel could not decide is decided here. */
#include <errno.h>
#include <stdlib.h>

#include "filter.h"
#include "stage.h"

struct stage_filter {
	struct pg_stage base;
	struct pg_filter *filter;
	bool keep_decided;
};

static int filter_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	struct stage_filter *sf = (struct stage_filter *)st;

	if (sf->keep_decided && ev->meta.action)
		return PG_PASS;
	return pg_filter__match(sf->filter, ev) ? PG_PASS : PG_DROP;
}

static void filter_free(struct pg_stage *st)
{
	struct stage_filter *sf = (struct stage_filter *)st;

	pg_filter__free(sf->filter);
	free(sf);
}

static const struct pg_stage_ops filter_ops = {
	.name = "filter",
	.process = filter_process,
	.free = filter_free,
};

struct pg_stage *pg_stage_filter__new_opts(struct pg_filter *f, bool keep_decided)
{
	struct stage_filter *sf = calloc(1, sizeof(*sf));

	if (!sf) {
		pg_filter__free(f);
		return NULL;
	}
	sf->base.ops = &filter_ops;
	sf->filter = f;
	sf->keep_decided = keep_decided;
	return &sf->base;
}

struct pg_stage *pg_stage_filter__new(struct pg_filter *f)
{
	return pg_stage_filter__new_opts(f, false);
}
