/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the Kafka producer (sink_kafka.c) and consumer (source_kafka.c) do alike with their
 * librdkafka handle: properties and their errors, the library's log, the errors its
 * error_cb reports, and the start-up check that a broker answers and the topic exists.
 */
#ifndef PG_KAFKA_CLIENT_H
#define PG_KAFKA_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

/* What error_cb saw last: the reason to give when nothing works. */
struct pg_kafka_errors {
	char last[400];
	bool all_brokers_down;
	bool fatal;
};

/* A client's error_cb, for e: "fatal <role> error: ..." when librdkafka gives up. */
void pg_kafka__note_error(struct pg_kafka_errors *e, rd_kafka_t *rk, int err, const char *reason,
			  const char *role);

static inline void pg_kafka__clear_errors(struct pg_kafka_errors *e)
{
	e->all_brokers_down = false;
	e->last[0] = 0;
}

/* conf's k = v; -EINVAL with "-X k=v: why" in err when librdkafka refuses it. */
int pg_kafka__set_prop(rd_kafka_conf_t *conf, const char *k, const char *v, char *err,
		       size_t errlen);

/*
 * The user's -X "key=value" properties on conf, in order; a key in fixed (NULL-terminated, may
 * be NULL) is refused with "-X key: " and fixed_why. -EINVAL with err filled.
 */
int pg_kafka__set_user_props(rd_kafka_conf_t *conf, const char *const *props, size_t nprops,
			     const char *const *fixed, const char *fixed_why, char *err,
			     size_t errlen);

/* Whether the user's "key=value" properties set key. */
bool pg_kafka__user_set(const char *const *props, size_t nprops, const char *key);

/* librdkafka's log on standard error when the user asked for it (debug, log_level), else none. */
void pg_kafka__set_log(rd_kafka_conf_t *conf, const char *const *props, size_t nprops);

double pg_kafka__mono_ms(void);

/* The start-up check: which client asks, and how to word what it is missing. */
struct pg_kafka_check {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	const char *brokers, *topic;
	const struct pg_kafka_errors *errs;
	volatile sig_atomic_t *stop; /* set by a signal: give up */
	const char *missing; /* the advice when the topic does not exist */
	const char *verb; /* "read" or "write to" */
};

/* A broker answers and the topic exists, within timeout_ms. 0 or -errno with err filled. */
int pg_kafka__check_topic(const struct pg_kafka_check *c, int timeout_ms, char *err,
			  size_t errlen);

#endif
