// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The pod watch's counters (metrics.h): is the API server answering, and how often. */
#include "kube.h"
#include "metrics.h"

static const struct pg_metric_desc requests = {
	.name = "pangolin_kube_requests_total",
	.help = "Requests to the Kubernetes API server by kind: list (at start-up, then after "
		"410 Gone), watch, owner (a Job's owner).",
	.type = PG_METRIC_COUNTER,
	.labels = { "request" },
	.stats = "kube.requests.{request}",
};

static const struct pg_metric_desc errors = {
	.name = "pangolin_kube_request_errors_total",
	.help = "Requests to the API server that failed (connection, HTTP status, body); the "
		"watch backs off and tries again.",
	.type = PG_METRIC_COUNTER,
	.stats = "kube.errors",
};

static const struct pg_metric_desc gone = {
	.name = "pangolin_kube_watch_expired_total",
	.help = "Watches the API server ended with 410 Gone (resourceVersion too old): a new "
		"list followed.",
	.type = PG_METRIC_COUNTER,
	.stats = "kube.gone",
};

static const struct pg_metric_desc events = {
	.name = "pangolin_kube_watch_events_total",
	.help = "Pod events from the watch applied to the pod cache.",
	.type = PG_METRIC_COUNTER,
	.stats = "kube.events",
};

static const struct pg_metric_desc malformed = {
	.name = "pangolin_kube_malformed_total",
	.help = "Pods or watch events from the API server that did not parse (skipped).",
	.type = PG_METRIC_COUNTER,
	.stats = "kube.malformed",
};

static const struct pg_metric_desc synced = {
	.name = "pangolin_kube_synced",
	.help = "1 once the first list of this node's pods is in the cache.",
	.type = PG_METRIC_GAUGE,
	.stats = "kube.synced",
};

void pg_kube__metrics(void *ctx, struct pg_metrics *m)
{
	struct pg_kube *k = ctx;
	struct pg_kube_watch_stats st;

	if (!k->watch)
		return;
	pg_kube_watch__stats(k->watch, &st);
	pg_metrics__add(m, &requests, (double)st.lists, "list");
	pg_metrics__add(m, &requests, (double)st.watches, "watch");
	pg_metrics__add(m, &requests, (double)st.owner_lookups, "owner");
	pg_metrics__add(m, &errors, (double)st.errors);
	pg_metrics__add(m, &gone, (double)st.gone);
	pg_metrics__add(m, &events, (double)st.events);
	pg_metrics__add(m, &malformed, (double)st.malformed);
	pg_metrics__add(m, &synced, st.synced);
}
