// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Record sink: keeps copies of events in memory so tests can assert on them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod.h"
#include "sink.h"

struct sink_record {
	struct pg_sink base;
	struct pg_event *events;
	size_t n, cap;
	int fail_next;
	struct pg_sink_stats stats;
};

static void free_meta(struct pg_event *ev)
{
	struct pg_event_proc *p = &ev->meta.proc;

	free((char *)ev->meta.node);
	free((char *)ev->meta.cgroup);
	free((char *)ev->meta.container_id);
	free((char *)ev->meta.pod_uid);
	free((char *)ev->meta.action);
	free((char *)ev->meta.policy);
	free((char *)ev->meta.rule);
	free((void *)ev->meta.pod);
	free((char *)p->exe);
	free((char *)p->cmdline);
	free((char *)p->parent_exe);
	free((char *)p->parent_cmdline);
	for (unsigned int i = 0; i < p->nancestors; i++)
		free((char *)p->ancestors[i]);
}

static int dup_str(const char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int dup_proc(struct pg_event_proc *dst, const struct pg_event_proc *src)
{
	if (dup_str(&dst->exe, src->exe) || dup_str(&dst->cmdline, src->cmdline) ||
	    dup_str(&dst->parent_exe, src->parent_exe) ||
	    dup_str(&dst->parent_cmdline, src->parent_cmdline))
		return -ENOMEM;
	for (unsigned int i = 0; i < src->nancestors && i < PG_PROC_ANCESTORS; i++) {
		if (dup_str(&dst->ancestors[i], src->ancestors[i]))
			return -ENOMEM;
		dst->nancestors = i + 1;
	}
	return 0;
}

static int record_send(struct pg_sink *sink, const struct pg_event *ev)
{
	struct sink_record *s = (struct sink_record *)sink;
	struct pg_event *copy;

	if (s->fail_next) {
		int err = s->fail_next;

		s->fail_next = 0;
		s->stats.failed++;
		return err;
	}
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct pg_event *ne = realloc(s->events, ncap * sizeof(*ne));

		if (!ne) {
			s->stats.failed++;
			return -ENOMEM;
		}
		s->events = ne;
		s->cap = ncap;
	}
	copy = &s->events[s->n];
	copy->r = ev->r;
	memset(&copy->meta, 0, sizeof(copy->meta));
	if (dup_str(&copy->meta.node, ev->meta.node) ||
	    dup_str(&copy->meta.cgroup, ev->meta.cgroup) ||
	    dup_str(&copy->meta.container_id, ev->meta.container_id) ||
	    dup_str(&copy->meta.pod_uid, ev->meta.pod_uid) ||
	    dup_str(&copy->meta.action, ev->meta.action) ||
	    dup_str(&copy->meta.policy, ev->meta.policy) ||
	    dup_str(&copy->meta.rule, ev->meta.rule) ||
	    (ev->meta.pod && !(copy->meta.pod = pg_pod_meta__dup(ev->meta.pod))) ||
	    dup_proc(&copy->meta.proc, &ev->meta.proc)) {
		free_meta(copy);
		s->stats.failed++;
		return -ENOMEM;
	}
	s->n++;
	s->stats.sent++;
	s->stats.written++;
	return 0;
}

static int record_flush(struct pg_sink *sink, int timeout_ms)
{
	return 0;
}

static void record_stats(struct pg_sink *sink, struct pg_sink_stats *st)
{
	*st = ((struct sink_record *)sink)->stats;
}

static void record_free(struct pg_sink *sink)
{
	struct sink_record *s = (struct sink_record *)sink;

	for (size_t i = 0; i < s->n; i++)
		free_meta(&s->events[i]);
	free(s->events);
	free(s);
}

static const struct pg_sink_ops record_ops = {
	.name = "record",
	.send = record_send,
	.flush = record_flush,
	.stats = record_stats,
	.free = record_free,
};

struct pg_sink *pg_sink_record__new(void)
{
	struct sink_record *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &record_ops;
	return &s->base;
}

size_t pg_sink_record__count(const struct pg_sink *sink)
{
	return ((const struct sink_record *)sink)->n;
}

const struct pg_event *pg_sink_record__get(const struct pg_sink *sink, size_t i)
{
	const struct sink_record *s = (const struct sink_record *)sink;

	return i < s->n ? &s->events[i] : NULL;
}

void pg_sink_record__fail_with(struct pg_sink *sink, int err)
{
	((struct sink_record *)sink)->fail_next = err;
}
