/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* EventSink: where events go (NDJSON stdout/file, memory for tests, Kafka). */
#ifndef PANGOLIN_SINK_H
#define PANGOLIN_SINK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "metrics.h"

struct pg_sink_stats {
	uint64_t sent; /* events accepted by send() */
	uint64_t written; /* events durably handed on (written to the fd, acknowledged by a broker) */
	uint64_t failed; /* events that could not be delivered and are gone (counted, reported) */
	uint64_t queued; /* accepted, not yet written or acknowledged */
	uint64_t bytes; /* payload bytes written */
	uint64_t dropped; /* refused because the sink's bounded queue was full (gone, counted) */
	uint64_t spilled; /* not deliverable now, saved to a local spill file instead */
	uint64_t resent; /* events an earlier run spilled, sent again (counted in sent too) */
	uint64_t oldest_ms; /* how long the oldest queued event has waited (0: none queued) */
};

struct pg_sink;

/* A flush timeout: as long as the sink may still deliver (Kafka: message.timeout.ms). */
#define PG_FLUSH_UNTIL_DELIVERED (-1)

struct pg_sink_ops {
	const char *name;
	/* Delivery is confirmed later (a broker's acks): the status line and summary show the
	 * sink's own queue and loss counters. */
	bool acknowledged;
	/* Take one event. 0 on success, -errno on failure; the event stays the caller's. */
	int (*send)(struct pg_sink *sink, const struct pg_event *ev);
	/*
	 * Deliver everything buffered; blocks up to timeout_ms, or with PG_FLUSH_UNTIL_DELIVERED
	 * as long as the sink may still deliver. 0, -ETIMEDOUT, -EINTR (a stop request ended the
	 * wait) or -errno.
	 */
	int (*flush)(struct pg_sink *sink, int timeout_ms);
	/*
	 * Let the sink do background work (delivery reports, writing lines held too long); never
	 * blocks. Returns in how many ms the sink wants the next tick (something falls due then),
	 * or -1 when nothing does. Callers tick after every poll of their source and poll no
	 * longer than that. May be NULL.
	 */
	int (*tick)(struct pg_sink *sink);
	void (*stats)(struct pg_sink *sink, struct pg_sink_stats *st);
	/* Release everything without flushing; NULL-safe through pg_sink__free. */
	void (*free)(struct pg_sink *sink);
	/*
	 * Add the sink's own named counters (src/metrics.h), beyond the standard ones reported
	 * from stats() under the sink's name. May be NULL.
	 */
	void (*metrics)(struct pg_sink *sink, struct pg_metrics *m);
	/*
	 * Whether the sink accepts events now (what /readyz reports): true, or false with the
	 * reason in why. Never blocks. May be NULL: always.
	 */
	bool (*accepting)(struct pg_sink *sink, char *why, size_t len);
};

struct pg_sink {
	const struct pg_sink_ops *ops;
	/* what the user chose it as ("stdout", "file", "kafka"): its counters' sink label;
	 * NULL: ops->name */
	const char *name;
	char errmsg[512]; /* why the last call failed, for the user */
};

static inline int pg_sink__send(struct pg_sink *s, const struct pg_event *ev)
{
	return s->ops->send(s, ev);
}

static inline int pg_sink__flush(struct pg_sink *s, int timeout_ms)
{
	return s->ops->flush(s, timeout_ms);
}

static inline int pg_sink__tick(struct pg_sink *s)
{
	return s->ops->tick ? s->ops->tick(s) : -1;
}

static inline void pg_sink__stats(struct pg_sink *s, struct pg_sink_stats *st)
{
	s->ops->stats(s, st);
}

static inline const char *pg_sink__name(const struct pg_sink *s)
{
	return s->name ? s->name : s->ops->name;
}

static inline bool pg_sink__accepting(struct pg_sink *s, char *why, size_t len)
{
	return s->ops->accepting ? s->ops->accepting(s, why, len) : true;
}

/* Every counter of the sink: the standard ones from stats(), then its own. */
static inline void pg_sink__metrics(struct pg_sink *s, struct pg_metrics *m)
{
	struct pg_sink_stats st;

	pg_sink__stats(s, &st);
	pg_metrics__sink_stats(m, pg_sink__name(s), &st);
	if (s->ops->metrics)
		s->ops->metrics(s, m);
}

static inline void pg_sink__free(struct pg_sink *s)
{
	if (s)
		s->ops->free(s);
}

/* How an event is written: what --format names (output.c). */
enum pg_value_format {
	PG_FORMAT_JSON, /* the NDJSON line, without its newline */
	PG_FORMAT_PROTOBUF, /* pangolin.v1.Event (proto/pangolin.proto) */
	PG_FORMAT_COMPACT, /* a line a person reads (compact.h); files and terminals only */
};

/* --- NDJSON (or compact) lines to a file or stdout ----------------------------------------- */

struct pg_ndjson_opts {
	const char *path; /* NULL or "-" for standard output */
	int fd; /* >= 0: write this descriptor (not closed by the sink) instead of opening path */
	size_t buffer; /* bytes buffered before a write; 0 means 256 KiB */
	uint64_t rotate_bytes; /* > 0: when the file would grow past this, rename it to path.1 */
	unsigned int rotate_keep; /* rotated files kept (path.1 .. path.N); 0 means 5 */
	bool line_buffered; /* flush after every event (interactive use) */
	/*
	 * > 0: no line waits in the buffer longer than this, as long as the owner ticks the sink
	 * when it asks (a reader of the file sees events this late at most; so does a kill -9
	 * lose). 0: lines wait until the buffer fills or the owner flushes.
	 */
	unsigned int flush_ms;
	/* fdatasync(2) after every write (and the directory after creating a file): what a
	 * kill -9 or a power cut can lose is then only what was not yet written. Regular files
	 * only: the sink refuses to open otherwise. */
	bool fsync;
	enum pg_value_format format; /* PG_FORMAT_JSON (0) or PG_FORMAT_COMPACT */
	bool colour; /* compact: ANSI colours */
};

struct pg_sink *pg_sink_ndjson__new(const struct pg_ndjson_opts *opts);

/* --- record: events kept in memory (tests) -------------------------------------------------- */

struct pg_sink *pg_sink_record__new(void);
/* The events recorded so far, in order; metadata strings are copies owned by the sink. */
size_t pg_sink_record__count(const struct pg_sink *sink);
const struct pg_event *pg_sink_record__get(const struct pg_sink *sink, size_t i);
/* The next send() fails with this -errno (0: succeed again): tests of failure paths. */
void pg_sink_record__fail_with(struct pg_sink *sink, int err);

/* --- Kafka (librdkafka producer) ------------------------------------------------------------ */

/* An empty string is no identity. An event with none of the rule's identities gets
 * PG_KAFKA_KEY_UNKNOWN, so it is still in order with the others like it (docs/kafka.md). */
enum pg_kafka_key {
	PG_KAFKA_KEY_POD, /* pod UID, else container id, else node name (the default) */
	PG_KAFKA_KEY_CONTAINER, /* container id, else node name */
	PG_KAFKA_KEY_NODE, /* node name */
	PG_KAFKA_KEY_NONE, /* no key: librdkafka spreads events over the partitions */
};

/* Not a valid node name, pod UID or container id: it cannot stand for a real one. */
#define PG_KAFKA_KEY_UNKNOWN "-"

struct pg_kafka_opts {
	const char *url; /* kafka://HOST[:PORT][,HOST[:PORT]...]/TOPIC */
	const char *const *props; /* librdkafka properties, "key=value", applied after pangolin's */
	size_t nprops;
	enum pg_kafka_key key;
	enum pg_value_format format;
	/*
	 * NULL: an event that cannot be queued (queue full) or delivered (librdkafka gave up) is
	 * counted as dropped or failed. A path: it is appended to this NDJSON file instead, and
	 * the next sink opened with the same path sends the file's events first.
	 */
	const char *spill_path;
	/* When librdkafka's queue is full, wait this long for room before dropping or spilling
	 * (-1: as long as it takes; a replay wants that, a live sensor must not block). */
	int queue_wait_ms;
	int connect_timeout_ms; /* the start-up check of brokers and topic; 0: 10 s */
	/* when set, waits give up; a flush gives up when it is set during the flush (may be
	 * NULL) */
	volatile sig_atomic_t *stop;
	/*
	 * Told, one line at a time, what the user should know while it happens: a broker that
	 * has not acknowledged for a while (every few seconds, with the queue and the oldest
	 * event's age), a long wait at the end, what a spill file re-sent. May be NULL.
	 */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/*
 * Connects, checks within connect_timeout_ms that a broker answers and the topic exists, and
 * sends what an earlier run spilled. NULL with one line in err (what is wrong and what to do)
 * and errno set: bad URL, unknown host, bad property, no broker, no topic.
 */
struct pg_sink *pg_sink_kafka__new(const struct pg_kafka_opts *opts, char *err, size_t errlen);

#define PG_KAFKA_TOPIC_MAX 249 /* Kafka's own limit */

/*
 * Split kafka://HOST[:PORT][,...]/TOPIC into librdkafka's bootstrap.servers list ("HOST:PORT,
 * ...", port 9092 when absent) and the topic. 0, or -EINVAL with the reason in err.
 */
int pg_kafka_url_parse(const char *url, char *brokers, size_t blen, char *topic, size_t tlen,
		       char *err, size_t errlen);
/* Every host of a bootstrap.servers list resolves (librdkafka would retry an unknown name
 * forever): 0, or -EHOSTUNREACH with "cannot resolve broker host 'H': why" in err. */
int pg_kafka_resolve_brokers(const char *brokers, char *err, size_t errlen);

#endif /* PANGOLIN_SINK_H */
