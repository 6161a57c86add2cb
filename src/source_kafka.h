/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kafka as a source: a librdkafka high-level consumer in a consumer group, one topic, each
 * message one event (NDJSON or protobuf, told apart by content). `pangolin detect --input
 * kafka://...` reads the fleet's events with it (docs/detect.md).
 *
 * Offsets are committed by the caller's say-so only, never automatically: the caller makes
 * sure that what the events it was handed produced is acknowledged by its outputs, then asks
 * for a commit. Before partitions leave (a rebalance, the end), the source asks the caller the
 * same through settle(), and commits only when it says yes. A message that cannot be decoded
 * is counted by reason and skipped, and its offset is committed like any other: a poison
 * message never wedges the group.
 *
 * The committed offset of a partition can trail what was read by hold_ns of event time, so
 * that whoever reads the partition next rebuilds the state that rules keep across events
 * (correlations) from the events it re-reads.
 */
#ifndef PANGOLIN_SOURCE_KAFKA_H
#define PANGOLIN_SOURCE_KAFKA_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "proto.h"
#include "source.h"

enum pg_input_format {
	PG_INPUT_AUTO, /* a value starting with '{' (after blanks) is NDJSON, any other protobuf */
	PG_INPUT_JSON,
	PG_INPUT_PROTOBUF,
};

/* Why a message was skipped. */
enum pg_kafka_bad {
	PG_KAFKA_BAD_EMPTY, /* no value (a tombstone, an empty message) */
	PG_KAFKA_BAD_JSON, /* not one valid NDJSON event (docs/events.md) */
	PG_KAFKA_BAD_PROTOBUF, /* not one valid pangolin.v1.Event */
	PG_KAFKA_BAD_REASONS
};

/* "empty", "json", "protobuf" */
const char *pg_kafka_bad_name(enum pg_kafka_bad why);

/* What decoding a message's value needs; event metadata points into it after a decode. */
struct pg_kafka_decoder {
	struct pg_json_decoder json;
	struct pg_proto_decoder proto;
};

/*
 * One message's value (len bytes; NULL or 0 is an empty message) into ev, as format says
 * (PG_INPUT_AUTO: a value that starts with '{' after blanks is NDJSON, any other protobuf).
 * 0; or -EINVAL with *why and, in err, what was wrong (the decoder's message: column, field).
 */
int pg_kafka_value_decode(struct pg_kafka_decoder *d, enum pg_input_format format,
			  const void *value, size_t len, struct pg_event *ev,
			  enum pg_kafka_bad *why, char *err, size_t errlen);

/*
 * Event time kept behind each partition's latest event, on top of the rules' reach, when
 * committing: events of one partition come in about the order they happened, not exactly
 * (several CPUs, several nodes' clocks), and a group must not lose the event that opened it.
 */
#define PG_KAFKA_HOLD_SLACK_NS (5ULL * 1000000000ULL)

struct pg_kafka_source_opts {
	const char *url; /* kafka://HOST[:PORT][,HOST[:PORT]...]/TOPIC */
	const char *group; /* the consumer group (group.id) */
	const char *const *props; /* librdkafka properties "key=value", applied after pangolin's */
	size_t nprops;
	enum pg_input_format format;
	/* commit at most up to the first event of the last hold_ns of event time read in each
	 * partition; 0: up to the last event read */
	uint64_t hold_ns;
	int connect_timeout_ms; /* the start-up check of brokers and topic; 0: 10 s */
	volatile sig_atomic_t *stop; /* waits at start-up give up when it is set (may be NULL) */
	/*
	 * Before partitions leave (a rebalance, close): is everything made from the events handed
	 * over so far acknowledged by the outputs? Wait up to timeout_ms for it. 0: yes (the
	 * source commits); -errno: no (it does not commit; whoever reads the partitions next
	 * re-reads those events). May be NULL: always yes.
	 */
	int (*settle)(void *ctx, int timeout_ms);
	/* After a partition left: drop whatever was built from its events. May be NULL. */
	void (*revoked)(void *ctx, int32_t partition);
	void *ctx;
	/* Told, one line at a time, what the user should know: partitions coming and going, with
	 * offsets; skipped messages (the first few); commits that fail. May be NULL. */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

struct pg_kafka_source_stats {
	uint64_t messages; /* read from the topic */
	uint64_t bad[PG_KAFKA_BAD_REASONS]; /* skipped, by reason */
	uint64_t commits; /* offset commits that succeeded */
	uint64_t commit_failures; /* commits the group coordinator refused or did not answer */
	uint64_t unsettled; /* partitions given up without a commit (outputs not acknowledged) */
	uint64_t assigned, revoked; /* partitions taken and given up, over the run */
	uint32_t partitions; /* held now */
};

/*
 * Connects, checks within connect_timeout_ms that a broker answers and the topic exists, and
 * subscribes (partitions come with the first polls). NULL with one line in err (what is wrong
 * and what to do) and errno set.
 */
struct pg_source *pg_source_kafka__new(const struct pg_kafka_source_opts *o, char *err,
				       size_t errlen);

/* The partition of the event being handed to the callback (during poll's callback only). */
int32_t pg_source_kafka__partition(const struct pg_source *src);

/*
 * Commit each held partition's offset (hold_ns behind what was read), synchronously. The
 * caller has made sure the outputs acknowledged everything made from the events handed over.
 * 0, -EAGAIN (the coordinator refused or did not answer: counted, try again later) or -errno.
 */
int pg_source_kafka__commit(struct pg_source *src);

/* Stop reading (the outputs are behind) or read again; the group keeps the partitions. */
int pg_source_kafka__pause(struct pg_source *src, bool pause);

/*
 * Leave the group: partitions are settled, committed and revoked as in a rebalance. Called
 * once, before pg_source__free (which otherwise leaves without committing). 0 or -errno.
 */
int pg_source_kafka__close(struct pg_source *src);

void pg_source_kafka__stats(const struct pg_source *src, struct pg_kafka_source_stats *st);

/*
 * Its counter families (metrics.h): pangolin_kafka_consumer_total{what=messages|commits|
 * commit_failures|partitions_taken|partitions_given_up|partitions_uncommitted}, the
 * partitions held now, the lag per partition; skipped messages are
 * pangolin_source_skipped_records_total{source="kafka", reason=empty|json|protobuf}.
 */
struct pg_metric_desc;
extern const struct pg_metric_desc pg_metric_kafka_consumer;

#endif /* PANGOLIN_SOURCE_KAFKA_H */
