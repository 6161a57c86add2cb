// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kafka source: a librdkafka high-level consumer (consumer groups), one topic, one event per
 * message (source_kafka.h says what it promises).
 *
 * Offsets: enable.auto.commit and enable.auto.offset.store are off; the source keeps, per
 * partition, where reading got to and commits only when asked (after the caller's outputs
 * acknowledged) or when partitions leave and the caller's settle() says everything is
 * acknowledged. With hold_ns, the offset committed is that of the first event of the last
 * hold_ns of event time read in the partition, found from checkpoints (offset, the latest
 * event time before it) taken every hold_ns/32 of event time: a few dozen per partition.
 *
 * Threads: every callback here (rebalances, errors, logs when quiet) runs in the caller's
 * thread from rd_kafka_consumer_poll() or rd_kafka_consumer_close() (the main queue is routed
 * to the consumer's), so nothing needs a lock. Only a verbose log callback runs on
 * librdkafka's threads; it touches nothing but stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "json.h"
#include "kafka_client.h"
#include "proto.h"
#include "sink.h"
#include "source_kafka.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define BATCH 4096 /* messages handed over per poll at most */
/* A poll blocks no longer than this, so that a stop request is seen (librdkafka's waits do
 * not end on a signal). */
#define POLL_SLICE_MS 100
/* How long the outputs may take to acknowledge before partitions leave: a rebalance waits
 * for every member, so this is what one slow output costs the whole group. */
#define REVOKE_SETTLE_MS 10000
#define CHECKPOINTS 64
#define WARN_MAX 10 /* skipped messages told one by one; the summary counts the rest */
#define ERROR_REPEAT_MS 5000 /* the same consumer error is told again after this long */

/* Every message before offset had an event time of at most `before` (0: there was none). */
struct checkpoint {
	int64_t offset;
	uint64_t before;
};

struct part {
	bool held; /* assigned to us now */
	bool started; /* a message was read since it was assigned */
	int64_t next; /* the offset after the last message handed over; -1: none yet */
	int64_t committed; /* the last offset we committed since it was assigned; -1: none */
	uint64_t tmax; /* the latest event time read */
	struct checkpoint cp[CHECKPOINTS]; /* oldest first, from cphead */
	unsigned int cphead, ncp;
};

struct source_kafka {
	struct pg_source base;
	rd_kafka_t *rk;
	char brokers[1024];
	char topic[PG_KAFKA_TOPIC_MAX + 1];
	enum pg_input_format format;
	uint64_t hold_ns, step_ns;
	volatile sig_atomic_t *stop;
	int (*settle)(void *ctx, int timeout_ms);
	void (*revoked)(void *ctx, int32_t partition);
	void *ctx;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;

	struct part *parts; /* by partition number */
	size_t nparts;
	int32_t cur; /* the partition of the event being handed over */
	bool paused, closed, cooperative;

	struct pg_kafka_decoder dec;
	struct pg_event ev;

	struct pg_source_stats st;
	struct pg_kafka_source_stats ks;
	unsigned long long warned;
	int last_err_code;
	double last_err_ms;
	struct pg_kafka_errors errs;
};

static const char *const bad_names[PG_KAFKA_BAD_REASONS] = {
	[PG_KAFKA_BAD_EMPTY] = "empty",
	[PG_KAFKA_BAD_JSON] = "json",
	[PG_KAFKA_BAD_PROTOBUF] = "protobuf",
};

const char *pg_kafka_bad_name(enum pg_kafka_bad why)
{
	return why < PG_KAFKA_BAD_REASONS ? bad_names[why] : "?";
}

__attribute__((format(printf, 2, 3))) static void notify(struct source_kafka *s,
							  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!s->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->notice(s->notice_ctx, msg);
}

/* --- partitions ------------------------------------------------------------------------------ */

static void part_reset(struct part *p)
{
	memset(p, 0, sizeof(*p));
	p->next = -1;
	p->committed = -1;
}

static struct part *part_get(struct source_kafka *s, int32_t id)
{
	if (id < 0)
		return NULL;
	if ((size_t)id >= s->nparts) {
		size_t n = (size_t)id + 1 > 2 * s->nparts ? (size_t)id + 1 : 2 * s->nparts;
		struct part *grown = realloc(s->parts, n * sizeof(*grown));

		if (!grown)
			return NULL;
		for (size_t i = s->nparts; i < n; i++)
			part_reset(&grown[i]);
		s->parts = grown;
		s->nparts = n;
	}
	return &s->parts[id];
}

static struct checkpoint *cp_at(struct part *p, unsigned int i)
{
	return &p->cp[(p->cphead + i) % CHECKPOINTS];
}

/*
 * Where whoever reads the partition next must start so that it sees every event of the last
 * hold_ns of event time: the latest checkpoint before which every event is older than that.
 * Checkpoints older than it are no longer needed and go. -1 when there is none yet.
 */
static int64_t hold_position(struct source_kafka *s, struct part *p)
{
	uint64_t cut;
	unsigned int best = 0;
	bool found = false;

	if (p->next < 0 || !s->hold_ns)
		return p->next;
	cut = p->tmax > s->hold_ns ? p->tmax - s->hold_ns : 0;
	/* `before` only grows along the ring */
	for (unsigned int i = 0; i < p->ncp && cp_at(p, i)->before < cut; i++) {
		best = i;
		found = true;
	}
	if (!found)
		return p->committed;
	p->cphead = (p->cphead + best) % CHECKPOINTS;
	p->ncp -= best;
	return p->cp[p->cphead].offset;
}

/* Before the event at offset is counted in tmax: a checkpoint when time moved on enough. */
static void checkpoint(struct source_kafka *s, struct part *p, int64_t offset)
{
	if (!s->hold_ns)
		return;
	if (p->ncp && p->tmax < cp_at(p, p->ncp - 1)->before + s->step_ns)
		return;
	if (p->ncp == CHECKPOINTS)
		hold_position(s, p); /* drop those that are no longer needed */
	if (p->ncp == CHECKPOINTS) {
		/* time went backwards a lot: keep the older ones (more is re-read, never less) */
		return;
	}
	*cp_at(p, p->ncp++) = (struct checkpoint){ offset, p->tmax };
}

/* --- committing ------------------------------------------------------------------------------ */

/* Commit the held partitions of `only` (NULL: all held). 0, -EAGAIN or -ENOMEM. */
static int commit_parts(struct source_kafka *s, const rd_kafka_topic_partition_list_t *only)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
	rd_kafka_resp_err_t e;
	int rc = 0;

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < s->nparts; i++) {
		struct part *p = &s->parts[i];
		int64_t pos;
		bool wanted = !only;

		for (int k = 0; only && k < only->cnt; k++)
			wanted |= only->elems[k].partition == (int32_t)i;
		if (!wanted || !p->held)
			continue;
		pos = hold_position(s, p);
		if (pos > p->committed)
			rd_kafka_topic_partition_list_add(list, s->topic, (int32_t)i)->offset = pos;
	}
	if (!list->cnt)
		goto out;
	e = rd_kafka_commit(s->rk, list, 0);
	for (int k = 0; !e && k < list->cnt; k++)
		if (list->elems[k].err)
			e = list->elems[k].err;
		else
			s->parts[list->elems[k].partition].committed = list->elems[k].offset;
	if (e) {
		s->ks.commit_failures++;
		notify(s, "kafka: committing offsets of %s failed: %s (counted; tried again at the next commit)",
		       s->topic, rd_kafka_err2str(e));
		rc = -EAGAIN;
		goto out;
	}
	s->ks.commits++;
out:
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

int pg_source_kafka__commit(struct pg_source *src)
{
	struct source_kafka *s = (struct source_kafka *)src;

	return s->closed ? 0 : commit_parts(s, NULL);
}

/* --- rebalances ------------------------------------------------------------------------------ */

static void take(struct source_kafka *s, rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
	char list[512];
	size_t len = 0;

	list[0] = 0;
	for (int k = 0; k < parts->cnt; k++) {
		struct part *p = part_get(s, parts->elems[k].partition);

		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", k ? ", " : "",
						parts->elems[k].partition);
		if (!p)
			continue; /* out of memory: its events come, its offsets are not committed */
		part_reset(p);
		p->held = true;
		s->ks.assigned++;
		s->ks.partitions++;
	}
	/* a cooperative rebalance that brings nothing new says nothing */
	if (parts->cnt)
		notify(s, "kafka: partitions assigned: %s", list);
	if (s->cooperative)
		error = rd_kafka_incremental_assign(s->rk, parts);
	else
		e = rd_kafka_assign(s->rk, parts);
	if (error) {
		notify(s, "kafka: cannot take partitions of %s: %s", s->topic,
		       rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (e) {
		notify(s, "kafka: cannot take partitions of %s: %s", s->topic, rd_kafka_err2str(e));
	}
	if (s->paused)
		rd_kafka_pause_partitions(s->rk, parts);
}

static void give_up(struct source_kafka *s, rd_kafka_topic_partition_list_t *parts, bool lost)
{
	bool settled = false;

	/* lost: the group went on without us; a commit would be refused (and wrong) */
	if (!lost) {
		settled = !s->settle || s->settle(s->ctx, REVOKE_SETTLE_MS) == 0;
		if (settled)
			commit_parts(s, parts);
	}
	for (int k = 0; k < parts->cnt; k++) {
		int32_t id = parts->elems[k].partition;
		struct part *p = id >= 0 && (size_t)id < s->nparts ? &s->parts[id] : NULL;

		if (!p || !p->held)
			continue;
		if (!p->started)
			notify(s, "kafka: partition %d given up: nothing read", id);
		else if (lost)
			notify(s, "kafka: partition %d lost (this consumer was out of the group): read to offset %lld, not committed",
			       id, (long long)p->next);
		else if (settled)
			notify(s, "kafka: partition %d given up: read to offset %lld, committed %lld",
			       id, (long long)p->next, (long long)p->committed);
		else
			notify(s, "kafka: partition %d given up: read to offset %lld, not committed (the outputs have not acknowledged everything: the next reader re-reads)",
			       id, (long long)p->next);
		if (p->started && !settled)
			s->ks.unsettled++;
		if (s->revoked)
			s->revoked(s->ctx, id);
		part_reset(p);
		s->ks.revoked++;
		s->ks.partitions--;
	}
	if (s->cooperative) {
		rd_kafka_error_t *error = rd_kafka_incremental_unassign(s->rk, parts);

		if (error)
			rd_kafka_error_destroy(error);
	} else {
		rd_kafka_assign(s->rk, NULL);
	}
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct source_kafka *s = opaque;

	s->cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
		take(s, parts);
	else
		give_up(s, parts, err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ||
					 rd_kafka_assignment_lost(rk));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct source_kafka *s = opaque;

	pg_kafka__note_error(&s->errs, rk, err, reason, "consumer");
}

/* --- reading --------------------------------------------------------------------------------- */

int pg_kafka_value_decode(struct pg_kafka_decoder *d, enum pg_input_format format,
			  const void *value, size_t len, struct pg_event *ev,
			  enum pg_kafka_bad *why, char *err, size_t errlen)
{
	const char *v = value;
	size_t i = 0;

	if (!v || !len) {
		*why = PG_KAFKA_BAD_EMPTY;
		snprintf(err, errlen, "no value");
		return -EINVAL;
	}
	if (format == PG_INPUT_AUTO) {
		/* an NDJSON event is an object; a pangolin.v1.Event never starts with '{' (it would
		 * be field 15 as a group, which proto3 does not have) */
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'))
			i++;
		format = i < len && v[i] == '{' ? PG_INPUT_JSON : PG_INPUT_PROTOBUF;
	}
	if (format == PG_INPUT_JSON) {
		struct pg_json_error jerr;

		/* a producer that wrote whole lines: the newline is not part of the event */
		while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
			len--;
		if (pg_json_decode(&d->json, v, len, ev, &jerr)) {
			*why = PG_KAFKA_BAD_JSON;
			snprintf(err, errlen, "column %zu: %s", jerr.column, jerr.msg);
			return -EINVAL;
		}
		return 0;
	}
	if (pg_proto_decode(&d->proto, v, len, ev, err, errlen)) {
		*why = PG_KAFKA_BAD_PROTOBUF;
		return -EINVAL;
	}
	return 0;
}

/* Decode a message into s->ev. 0, or -EINVAL: skipped (counted, told). */
static int decode(struct source_kafka *s, const rd_kafka_message_t *m)
{
	enum pg_kafka_bad why;
	char err[256];

	if (!pg_kafka_value_decode(&s->dec, s->format, m->payload, m->len, &s->ev, &why, err,
				   sizeof(err)))
		return 0;
	s->ks.bad[why]++;
	s->st.skipped++;
	if (s->warned++ < WARN_MAX)
		notify(s, "kafka: skipped partition %d offset %lld: %s: %s", m->partition,
		       (long long)m->offset, bad_names[why], err);
	else if (s->warned == WARN_MAX + 1)
		notify(s, "kafka: more messages skipped; the summary counts them by reason");
	return -EINVAL;
}

/* A consumer error (not a message): told, the same one at most every few seconds. */
static int consumer_error(struct source_kafka *s, const rd_kafka_message_t *m)
{
	double now = pg_kafka__mono_ms();
	char fatal[256];

	if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(s->rk, fatal, sizeof(fatal));
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "kafka: fatal consumer error: %s",
			 fatal);
		return -EIO;
	}
	if ((int)m->err != s->last_err_code || now - s->last_err_ms >= ERROR_REPEAT_MS) {
		notify(s, "kafka: %s: %s", s->topic, rd_kafka_message_errstr(m));
		s->last_err_code = m->err;
		s->last_err_ms = now;
	}
	return 0;
}

static int kafka_poll(struct pg_source *src, int timeout_ms, pg_event_fn fn, void *ctx)
{
	struct source_kafka *s = (struct source_kafka *)src;
	int n = 0;

	if (s->closed)
		return PG_SOURCE_EOF;
	if (timeout_ms < 0 || timeout_ms > POLL_SLICE_MS)
		timeout_ms = POLL_SLICE_MS;
	while (n < BATCH) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, n ? 0 : timeout_ms);
		struct part *p;
		int rc = 0;

		if (!m)
			break;
		if (m->err) {
			rc = consumer_error(s, m);
			rd_kafka_message_destroy(m);
			if (rc)
				return rc;
			continue;
		}
		s->ks.messages++;
		p = part_get(s, m->partition);
		if (p && !p->started) {
			p->started = true;
			notify(s, "kafka: partition %d: reading from offset %lld", m->partition,
			       (long long)m->offset);
		}
		if (decode(s, m) == 0) {
			if (p)
				checkpoint(s, p, m->offset);
			s->cur = m->partition;
			s->st.read++;
			n++;
			rc = fn(ctx, &s->ev);
			if (p && s->ev.r.hdr.ts_ns > p->tmax)
				p->tmax = s->ev.r.hdr.ts_ns;
		}
		/* skipped or handed over: done with, committed with the others */
		if (p)
			p->next = m->offset + 1;
		rd_kafka_message_destroy(m);
		if (rc)
			return rc;
	}
	return n;
}

int32_t pg_source_kafka__partition(const struct pg_source *src)
{
	return ((const struct source_kafka *)src)->cur;
}

int pg_source_kafka__pause(struct pg_source *src, bool pause)
{
	struct source_kafka *s = (struct source_kafka *)src;
	rd_kafka_topic_partition_list_t *list = NULL;
	rd_kafka_resp_err_t e;

	if (s->closed || s->paused == pause)
		return 0;
	e = rd_kafka_assignment(s->rk, &list);
	if (!e)
		e = pause ? rd_kafka_pause_partitions(s->rk, list)
			  : rd_kafka_resume_partitions(s->rk, list);
	if (list)
		rd_kafka_topic_partition_list_destroy(list);
	if (e)
		return -EIO;
	s->paused = pause;
	return 0;
}

int pg_source_kafka__close(struct pg_source *src)
{
	struct source_kafka *s = (struct source_kafka *)src;
	rd_kafka_resp_err_t e;

	if (s->closed)
		return 0;
	/* the last revoke runs in here: settled, committed, dropped */
	e = rd_kafka_consumer_close(s->rk);
	s->closed = true;
	if (e) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "kafka: leaving group: %s",
			 rd_kafka_err2str(e));
		return -EIO;
	}
	return 0;
}

void pg_source_kafka__stats(const struct pg_source *src, struct pg_kafka_source_stats *st)
{
	*st = ((const struct source_kafka *)src)->ks;
}

static void kafka_stats(struct pg_source *src, struct pg_source_stats *st)
{
	*st = ((struct source_kafka *)src)->st;
	/* reported by reason in kafka_metrics, not as one "malformed" */
	st->skipped = 0;
}

const struct pg_metric_desc pg_metric_kafka_consumer = {
	.name = "pangolin_kafka_consumer_total",
	.help = "The Kafka input: messages read, offset commits and commits refused, partitions "
		"taken and given up (uncommitted: the outputs had not acknowledged).",
	.type = PG_METRIC_COUNTER,
	.labels = { "what" },
	.stats = "kafka_input.{what}",
};

static const struct pg_metric_desc partitions_held = {
	.name = "pangolin_kafka_consumer_partitions",
	.help = "Partitions of the input topic this consumer holds now.",
	.type = PG_METRIC_GAUGE,
	.stats = "kafka_input.partitions",
};

static const struct pg_metric_desc lag = {
	.name = "pangolin_kafka_consumer_lag_messages",
	.help = "Messages in a held partition not read yet (the broker's high watermark as last "
		"fetched, minus where reading got to).",
	.type = PG_METRIC_GAUGE,
	.labels = { "partition" },
};

static void kafka_metrics(struct pg_source *src, struct pg_metrics *m)
{
	struct source_kafka *s = (struct source_kafka *)src;
	const struct pg_kafka_source_stats *k = &s->ks;

	pg_metrics__add(m, &pg_metric_kafka_consumer, (double)k->messages, "messages");
	pg_metrics__add(m, &pg_metric_kafka_consumer, (double)k->commits, "commits");
	pg_metrics__add(m, &pg_metric_kafka_consumer, (double)k->commit_failures, "commit_failures");
	pg_metrics__add(m, &pg_metric_kafka_consumer, (double)k->assigned, "partitions_taken");
	pg_metrics__add(m, &pg_metric_kafka_consumer, (double)k->revoked, "partitions_given_up");
	pg_metrics__add(m, &pg_metric_kafka_consumer, (double)k->unsettled, "partitions_uncommitted");
	pg_metrics__add(m, &partitions_held, (double)k->partitions);
	for (unsigned int r = 0; r < PG_KAFKA_BAD_REASONS; r++)
		pg_metrics__add_total(m, "malformed", &pg_metric_source_skipped, (double)k->bad[r],
				      "kafka", bad_names[r]);
	for (size_t i = 0; !s->closed && i < s->nparts; i++) {
		int64_t lo, hi;
		char id[24];

		if (!s->parts[i].held || !s->parts[i].started ||
		    rd_kafka_get_watermark_offsets(s->rk, s->topic, (int32_t)i, &lo, &hi) ||
		    hi < 0)
			continue;
		snprintf(id, sizeof(id), "%zu", i);
		pg_metrics__add(m, &lag, hi > s->parts[i].next ? (double)(hi - s->parts[i].next) : 0,
				id);
	}
}

static void kafka_free(struct pg_source *src)
{
	struct source_kafka *s = (struct source_kafka *)src;

	if (!s)
		return;
	/* not closed: leave without committing (what was read is read again by the next owner) */
	if (s->rk)
		rd_kafka_destroy_flags(s->rk, s->closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	free(s->parts);
	free(s);
}

static const struct pg_source_ops kafka_ops = {
	.name = "kafka",
	.poll = kafka_poll,
	.stats = kafka_stats,
	.free = kafka_free,
	.metrics = kafka_metrics,
};

/* --- start-up -------------------------------------------------------------------------------- */

/* A broker answers and the topic exists, within timeout_ms. 0 or -errno with err filled. */
static int check_topic(struct source_kafka *s, int timeout_ms, char *err, size_t errlen)
{
	struct pg_kafka_check c = {
		.rk = s->rk,
		.rkt = rd_kafka_topic_new(s->rk, s->topic, NULL),
		.brokers = s->brokers,
		.topic = s->topic,
		.errs = &s->errs,
		.stop = s->stop,
		.missing = ": is it the one the sensors write to (pangolin run -o kafka://...)?",
		.verb = "read",
	};
	int rc;

	if (!c.rkt) {
		snprintf(err, errlen, "topic '%s': %s", s->topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		return -EINVAL;
	}
	rc = pg_kafka__check_topic(&c, timeout_ms, err, errlen);
	rd_kafka_topic_destroy(c.rkt);
	return rc;
}

static rd_kafka_conf_t *make_conf(struct source_kafka *s, const struct pg_kafka_source_opts *o,
				  char *err, size_t errlen)
{
	/* pangolin's defaults; any of them can be overridden with -X but the commit policy */
	static const char *const defaults[][2] = {
		{ "client.id", "pangolin-detect" },
		/* a new group reads what the topic still holds: nothing is left out */
		{ "auto.offset.reset", "earliest" },
		{ "enable.partition.eof", "false" },
		/*
		 * A consumer that catches up (a backlog, a re-read after a rebalance) fills its local
		 * queue, and librdkafka before 2.2 (Debian 12 has 2.0.2; no fetch.queue.backoff.ms)
		 * then waits a fixed second before it fetches again: with the default 64 MiB,
		 * detect drained the queue in 0.3 s and idled 0.7 s, 106 k events/s at 40 % of a
		 * core. 128 MiB and a message threshold it never reaches first: 210 k events/s
		 * (bench/README.md), for ~130 MiB more memory while catching up.
		 */
		{ "queued.max.messages.kbytes", "131072" },
		{ "queued.min.messages", "1000000" },
	};
	/* committing is this source's business (source_kafka.h), not librdkafka's: all "false" */
	static const char *const fixed[] = { "enable.auto.commit", "enable.auto.offset.store",
					     NULL };
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (pg_kafka__set_prop(conf, "bootstrap.servers", s->brokers, err, errlen) ||
	    pg_kafka__set_prop(conf, "group.id", o->group, err, errlen))
		goto err_out;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (pg_kafka__set_prop(conf, defaults[i][0], defaults[i][1], err, errlen))
			goto err_out;
	if (pg_kafka__set_user_props(conf, o->props, o->nprops, fixed,
				     "offsets are committed only once the alerts are acknowledged "
				     "(docs/detect.md); this cannot be changed",
				     err, errlen))
		goto err_out;
	for (size_t f = 0; fixed[f]; f++)
		if (pg_kafka__set_prop(conf, fixed[f], "false", err, errlen))
			goto err_out;
	rd_kafka_conf_set_opaque(conf, s);
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_error_cb(conf, on_error);
	pg_kafka__set_log(conf, o->props, o->nprops);
	return conf;
err_out:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

struct pg_source *pg_source_kafka__new(const struct pg_kafka_source_opts *o, char *err,
				       size_t errlen)
{
	struct source_kafka *s = calloc(1, sizeof(*s));
	rd_kafka_topic_partition_list_t *sub;
	rd_kafka_conf_t *conf;
	char why[512];
	int rc = -EINVAL;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->base.ops = &kafka_ops;
	s->format = o->format;
	s->hold_ns = o->hold_ns;
	s->step_ns = o->hold_ns / (CHECKPOINTS / 2) ? o->hold_ns / (CHECKPOINTS / 2) : 1;
	s->stop = o->stop;
	s->settle = o->settle;
	s->revoked = o->revoked;
	s->ctx = o->ctx;
	s->notice = o->notice;
	s->notice_ctx = o->notice_ctx;
	s->cur = -1;

	if (pg_kafka_url_parse(o->url, s->brokers, sizeof(s->brokers), s->topic, sizeof(s->topic),
			       why, sizeof(why))) {
		snprintf(err, errlen, "bad input '%s': %s", o->url, why);
		goto err_out;
	}
	if (!o->group || !*o->group) {
		snprintf(err, errlen, "a kafka:// input needs a consumer group: give --group NAME (every detect process of one group shares the partitions)");
		goto err_out;
	}
	conf = make_conf(s, o, err, errlen);
	if (!conf)
		goto err_out;
	rc = pg_kafka_resolve_brokers(s->brokers, err, errlen);
	if (rc) {
		rd_kafka_conf_destroy(conf);
		goto err_out;
	}
	s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!s->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "cannot create the Kafka consumer: %s", why);
		rc = -EINVAL;
		goto err_out;
	}
	/* errors and rebalances come through the consumer's queue, in our thread */
	rd_kafka_poll_set_consumer(s->rk);
	rc = check_topic(s, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS,
			 err, errlen);
	if (rc)
		goto err_out;
	pg_kafka__clear_errors(&s->errs);
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, s->topic, RD_KAFKA_PARTITION_UA);
	{
		rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, sub);

		rd_kafka_topic_partition_list_destroy(sub);
		if (e) {
			snprintf(err, errlen, "cannot subscribe to topic '%s': %s", s->topic,
				 rd_kafka_err2str(e));
			rc = -EIO;
			goto err_out;
		}
	}
	return &s->base;
err_out:
	kafka_free(&s->base);
	errno = -rc;
	return NULL;
}
