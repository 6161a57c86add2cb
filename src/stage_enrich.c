// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The enrich stage: node name on every event; cgroup path, container id and pod UID from the
 * event's cgroup id (enrich.h). Lookups go through a bounded LRU cache: cgroup ids are never
 * reused, so a positive entry stays right for the cgroup's life, and a negative one ("no such
 * cgroup": removed already, or an id from another machine) is kept for a few seconds so a
 * burst of events from a vanished cgroup costs one lookup, not one per event.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enrich.h"
#include "pod.h"

#define NODE_MAX 253 /* a DNS name, which is what Kubernetes node names are */

struct stage_enrich {
	struct pg_stage base;
	char node[NODE_MAX + 1];
	bool cgroups;
	uint64_t negative_ttl_ns;
	struct pg_cgroup_resolver *resolver;
	struct pg_cgroup_cache *cache;
	struct pg_pod_cache *pods;
	char path[PG_CGROUP_PATH_MAX];
	struct pg_enrich_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const struct pg_cgroup_info *lookup(struct stage_enrich *s, uint64_t id)
{
	const struct pg_cgroup_info *ci = pg_cgroup_cache__get(s->cache, id);
	struct pg_cgroup_ids ids;
	int rc;

	if (ci && (!ci->expires_ns || ci->expires_ns > now_ns()))
		return ci;
	rc = pg_cgroup_resolver__path(s->resolver, id, s->path, sizeof(s->path));
	if (rc) {
		/* gone, foreign or unreadable: remember for a while, then ask again */
		return pg_cgroup_cache__put(s->cache, id, NULL, NULL, now_ns() + s->negative_ttl_ns);
	}
	pg_cgroup_path_parse(s->path, strlen(s->path), &ids);
	return pg_cgroup_cache__put(s->cache, id, s->path, &ids, 0);
}

static int enrich_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	struct stage_enrich *s = (struct stage_enrich *)st;
	const struct pg_cgroup_info *ci;

	if (!ev->meta.node)
		ev->meta.node = s->node;
	if (s->cgroups && !ev->meta.cgroup && ev->r.hdr.cgroup_id) {
		ci = lookup(s, ev->r.hdr.cgroup_id);
		if (!ci)
			return -ENOMEM;
		if (ci->path) {
			s->st.resolved++;
			ev->meta.cgroup = ci->path;
			if (!ev->meta.container_id && ci->ids.container_id[0])
				ev->meta.container_id = ci->ids.container_id;
			if (!ev->meta.pod_uid && ci->ids.pod_uid[0])
				ev->meta.pod_uid = ci->ids.pod_uid;
		} else {
			s->st.unresolved++;
		}
	}
	if (s->pods) {
		/* applied on every event, not only pod events: the watcher's mailbox is bounded
		 * and is emptied only here (pod.h) */
		uint64_t now = now_ns();

		if (ev->meta.pod_uid && !ev->meta.pod)
			ev->meta.pod = pg_pod_cache__lookup(s->pods, ev->meta.pod_uid, now);
		else
			pg_pod_cache__apply(s->pods, now);
	}
	return PG_PASS;
}

static void enrich_free(struct pg_stage *st)
{
	struct stage_enrich *s = (struct stage_enrich *)st;

	if (!s)
		return;
	pg_cgroup_resolver__free(s->resolver);
	pg_cgroup_cache__free(s->cache);
	free(s);
}

static const struct pg_metric_desc cgroup_resolutions = {
	.name = "pangolin_cgroup_resolutions_total",
	.help = "Events whose cgroup id was resolved to a cgroup path (and container, pod), or "
		"matched no cgroup.",
	.type = PG_METRIC_COUNTER,
	.labels = { "result" },
	.stats = "enrich.cgroups.{result}",
};

static const struct pg_metric_desc cgroup_cache = {
	.name = "pangolin_cgroup_cache_lookups_total",
	.help = "Lookups in the cgroup cache, by result (a miss walks the cgroup file system).",
	.type = PG_METRIC_COUNTER,
	.labels = { "result" },
	.stats = "enrich.cgroup_cache.{result}",
};

static const struct pg_metric_desc pod_cache = {
	.name = "pangolin_pod_cache_lookups_total",
	.help = "Lookups of a pod UID in the pod cache (names and labels from the API server), "
		"by result.",
	.type = PG_METRIC_COUNTER,
	.labels = { "result" },
	.stats = "enrich.pod_cache.{result}",
};

static const struct pg_metric_desc pod_cache_pods = {
	.name = "pangolin_pod_cache_pods",
	.help = "Pods in the pod cache (deleted ones in their grace period included).",
	.type = PG_METRIC_GAUGE,
	.stats = "enrich.pod_cache.pods",
};

/* The stage's counters (metrics.h): cgroup resolution and its cache, the pod cache. */
static void enrich_metrics(struct pg_stage *st, struct pg_metrics *m)
{
	struct stage_enrich *s = (struct stage_enrich *)st;
	struct pg_enrich_stats es;

	if (!s->cgroups)
		return;
	pg_stage_enrich__stats(st, &es);
	pg_metrics__add(m, &cgroup_resolutions, (double)es.resolved, "resolved");
	pg_metrics__add(m, &cgroup_resolutions, (double)es.unresolved, "unresolved");
	pg_metrics__add(m, &cgroup_cache, (double)es.cache.hits, "hit");
	pg_metrics__add(m, &cgroup_cache, (double)es.cache.misses, "miss");
	if (s->pods) {
		struct pg_pod_cache_stats ps;

		pg_pod_cache__stats(s->pods, &ps);
		pg_metrics__add(m, &pod_cache, (double)ps.hits, "hit");
		pg_metrics__add(m, &pod_cache, (double)ps.misses, "miss");
		pg_metrics__add(m, &pod_cache_pods, (double)ps.pods);
	}
}

static const struct pg_stage_ops enrich_ops = {
	.name = "enrich",
	.process = enrich_process,
	.free = enrich_free,
	.metrics = enrich_metrics,
};

/* Node names end up in JSON strings and protobuf `string` fields: printable ASCII only. */
static bool node_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > NODE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (n[i] <= ' ' || n[i] > '~')
			return false;
	return true;
}

struct pg_stage *pg_stage_enrich__new(const struct pg_enrich_opts *o, char *err, size_t errlen)
{
	struct stage_enrich *s = calloc(1, sizeof(*s));
	const char *node = o->node, *from = "--node";
	char mount[PATH_MAX];
	int e = EINVAL;

	if (!s)
		return NULL;
	s->base.ops = &enrich_ops;
	if (!node || !*node) {
		node = getenv("NODE_NAME");
		from = "NODE_NAME";
	}
	if (!node || !*node) {
		if (gethostname(s->node, sizeof(s->node) - 1)) {
			e = errno;
			snprintf(err, errlen, "cannot read the host name (%s): give --node NAME",
				 strerror(errno));
			goto err_out;
		}
		node = s->node;
		from = "the host name";
	}
	if (!node_ok(node)) {
		snprintf(err, errlen,
			 "node name from %s is not 1..%d printable ASCII characters without spaces",
			 from, NODE_MAX);
		goto err_out;
	}
	if (node != s->node)
		strcpy(s->node, node);

	s->cgroups = o->cgroups;
	s->pods = o->pods;
	s->negative_ttl_ns = o->negative_ttl_ns ? o->negative_ttl_ns : 5000000000ULL;
	if (!s->cgroups)
		return &s->base;
	if (o->cgroup_mount) {
		snprintf(mount, sizeof(mount), "%s", o->cgroup_mount);
	} else {
		int rc = pg_cgroup2_mount(mount, sizeof(mount));

		if (rc) {
			e = -rc;
			snprintf(err, errlen,
				 rc == -ENOENT ? "no cgroup2 file system is mounted (see /proc/self/mountinfo): "
						 "mount one (mount -t cgroup2 none /sys/fs/cgroup/unified) or run without cgroup enrichment"
					       : "cannot read /proc/self/mountinfo: %s",
				 strerror(-rc));
			goto err_out;
		}
	}
	s->resolver = pg_cgroup_resolver__new(mount, !o->no_handles);
	if (!s->resolver) {
		e = errno;
		snprintf(err, errlen, "cannot open the cgroup2 mount %s: %s", mount, strerror(errno));
		goto err_out;
	}
	s->cache = pg_cgroup_cache__new(o->cache_entries ? o->cache_entries : PG_ENRICH_CACHE_DEFAULT);
	if (!s->cache) {
		e = errno;
		snprintf(err, errlen, "cgroup cache of %zu entries: %s", o->cache_entries,
			 strerror(errno));
		goto err_out;
	}
	return &s->base;
err_out:
	enrich_free(&s->base);
	errno = e;
	return NULL;
}

void pg_stage_enrich__stats(const struct pg_stage *st, struct pg_enrich_stats *out)
{
	const struct stage_enrich *s = (const struct stage_enrich *)st;

	*out = s->st;
	if (s->cache)
		pg_cgroup_cache__stats(s->cache, &out->cache);
}

const char *pg_stage_enrich__node(const struct pg_stage *st)
{
	return ((const struct stage_enrich *)st)->node;
}
