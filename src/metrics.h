/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Named counters: what every part of pangolin counts, in one form that every reader shares.
 *
 * A collection (struct pg_metrics) is one pass over the running parts: sources, stages and
 * sinks each add their samples (a family, label values, a number), and then one renderer
 * turns the whole collection into what a reader wants: Prometheus text for --metrics, the
 * JSON of --stats, the numbers of the status line and of the end-of-run summary. Nobody
 * builds counter text of their own.
 *
 * How to add counters (a new source, sink or stage; per-rule counters of a policy engine):
 *
 *   1. Describe each family once, as a const struct pg_metric_desc: a Prometheus name
 *      (pangolin_..., `_total` for counters, the unit in the name: _seconds, _bytes), one line
 *      of help, counter or gauge, the label names (few values each: a type, an outcome, a rule
 *      id; never a pid, a path or a pod), and, when --stats should carry it, the JSON path its
 *      value is added to. Families several parts share (events, sinks) are declared below;
 *      a part's own families live in its own file.
 *   2. Implement the `metrics` member of the part's ops table (pg_source_ops, pg_stage_ops,
 *      pg_sink_ops): one function that calls pg_metrics__add() once per sample, label values
 *      in the order the family names them. Sources and sinks get their standard counters
 *      (struct pg_source_stats, struct pg_sink_stats) reported for them; `metrics` adds the
 *      rest, or is NULL.
 *   3. Add every sample every time, zeros included: a series that appears only once it is
 *      non-zero breaks rate() and alerts on absence.
 *
 * The collection runs on the thread that owns the parts (the event loop), never on the HTTP
 * server's: the server serves the text of the last collection (metrics_server.h).
 */
#ifndef PANGOLIN_METRICS_H
#define PANGOLIN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum pg_metric_type {
	PG_METRIC_COUNTER, /* only goes up while the process lives: events, bytes */
	PG_METRIC_GAUGE, /* a level that goes up and down: a queue, an age, a tier */
	PG_METRIC_HISTOGRAM, /* a distribution: added with pg_metrics__add_histogram */
};

#define PG_METRIC_MAX_LABELS 4

struct pg_metric_desc {
	/* Prometheus name; NULL for a value only --stats carries (the run's duration) */
	const char *name;
	const char *help;
	enum pg_metric_type type;
	const char *labels[PG_METRIC_MAX_LABELS]; /* label names, in order; unused ones NULL */
	/*
	 * --stats: the dotted JSON path the sample's value is added to, where "{label}" stands for
	 * the sample's value of that label ("kernel.{type}.{outcome}"); NULL: not in --stats.
	 */
	const char *stats;
	double stats_scale; /* the --stats value is value * stats_scale (0: 1); ms from seconds */
	/* PG_METRIC_HISTOGRAM: the upper bounds of the buckets, ascending (+Inf is implied) */
	const double *buckets;
	unsigned int nbuckets;
};

/* One sample: a family, its label values (in the collection's arena), a value. */
struct pg_metric_sample {
	const struct pg_metric_desc *desc;
	uint32_t label_off[PG_METRIC_MAX_LABELS]; /* offsets into the arena */
	uint32_t total_off; /* --stats path of a total this sample also adds to; 0: none */
	uint32_t hist_off; /* histogram: nbuckets + 1 cumulative counts (u64) in the arena */
	double value; /* histogram: the sum of the observations */
};

struct pg_metrics {
	struct pg_metric_sample *samples;
	size_t n, cap;
	struct pg_buf arena; /* label values and histogram counts; offset 0 stands for "" */
	int err; /* -ENOMEM once an add failed: renderers refuse a partial collection */
};

/* An empty collection; allocates nothing (release is still needed once samples are added). */
void pg_metrics__init(struct pg_metrics *m);
/* Forget the samples, keep the memory: the next collection reuses it. */
void pg_metrics__reset(struct pg_metrics *m);
void pg_metrics__release(struct pg_metrics *m);

/* One sample of d: value, then one label value (const char *) per label d names, in order.
 * Values are copied. */
void pg_metrics__add(struct pg_metrics *m, const struct pg_metric_desc *d, double value, ...);

/* The same, also added to the --stats path total (a sum over a family's labels: "read"). */
void pg_metrics__add_total(struct pg_metrics *m, const char *total,
			   const struct pg_metric_desc *d, double value, ...);

/*
 * One histogram of d: counts[i] observations at most d->buckets[i] (not cumulative), and
 * counts[d->nbuckets] above the last bound; sum of the observations; then the label values.
 */
void pg_metrics__add_histogram(struct pg_metrics *m, const struct pg_metric_desc *d,
			       const uint64_t *counts, double sum, ...);

/* Label value i of a sample. */
const char *pg_metric_sample__label(const struct pg_metrics *m, const struct pg_metric_sample *s,
				    unsigned int i);

/*
 * The sum of d's samples whose labels match: NULL-terminated pairs of label name and value
 * ("hop", "kernel", "outcome", "dropped", NULL). No pairs: every sample of d.
 */
double pg_metrics__sum(const struct pg_metrics *m, const struct pg_metric_desc *d, ...);

/*
 * Prometheus text exposition format 0.0.4: each family once (HELP, TYPE, then its samples,
 * whichever part added them), in the order families first appear. 0 or -ENOMEM.
 */
int pg_metrics__prometheus(const struct pg_metrics *m, struct pg_buf *out);

/*
 * The --stats JSON object (one line): every sample whose family has a stats path, summed per
 * path, keys in the order they first appear. 0 or -ENOMEM.
 */
int pg_metrics__stats_json(const struct pg_metrics *m, struct pg_buf *out);

/* --- families several parts report -------------------------------------------------------- */

/* pangolin_events_total{hop, outcome, type}: events by type at each hop of their way */
extern const struct pg_metric_desc pg_metric_events;
/* pangolin_sink_events_total{sink, outcome} and the other standard sink families */
extern const struct pg_metric_desc pg_metric_sink_events;
extern const struct pg_metric_desc pg_metric_sink_queued;
extern const struct pg_metric_desc pg_metric_sink_bytes;
extern const struct pg_metric_desc pg_metric_sink_oldest;
/* pangolin_source_skipped_records_total{source, reason} */
extern const struct pg_metric_desc pg_metric_source_skipped;

/* Hops and outcomes of pangolin_events_total. */
#define PG_HOP_KERNEL "kernel"
#define PG_HOP_USERSPACE "userspace"

struct pg_source_stats;
struct pg_sink_stats;

/* The standard counters of a source or sink, from its stats(), under its name. */
void pg_metrics__source_stats(struct pg_metrics *m, const char *source,
			      const struct pg_source_stats *st);
void pg_metrics__sink_stats(struct pg_metrics *m, const char *sink, const struct pg_sink_stats *st);

/*
 * pangolin_build_info{version} 1 and the process itself (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_open_fds, process_start_time_seconds...: the names
 * every Prometheus client library uses), read from /proc/self.
 */
void pg_metrics__process(struct pg_metrics *m);

#endif /* PANGOLIN_METRICS_H */
