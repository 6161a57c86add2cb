// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kafka sink: one librdkafka producer, one topic, one message per event.
 *
 * Delivery: the idempotent producer (enable.idempotence=true implies acks=all, bounded
 * in-flight requests and retries without duplicates or reordering), so a broker outage
 * shorter than message.timeout.ms costs neither loss nor duplicates: events wait in
 * librdkafka's bounded queue and go out, in order per partition, once a broker answers.
 * Every event ends in exactly one counter: delivered (acknowledged by the broker), failed
 * (librdkafka gave up), dropped (the queue was full), spilled (saved to the spill file
 * instead), or it is still queued.
 *
 * Threads: librdkafka's own threads talk to the brokers; every callback here (delivery
 * reports, errors) runs in the caller's thread from rd_kafka_poll()/rd_kafka_flush(), so the
 * counters need no locks. Only the log callback runs on librdkafka's threads; it touches
 * nothing but stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "caps.h"
#include "json.h"
#include "kafka_client.h"
#include "output.h"
#include "proto.h"
#include "sink.h"
#include "source.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define POLL_EVERY 1024 /* serve delivery reports at least this often while producing */
#define SPILL_RESEND_FLUSH_MS 30000
/* A broker that acknowledged nothing for this long is worth a line, and again this often. */
#define WAIT_NOTICE_MS 5000
#define FLUSH_ANNOUNCE_MS 1000 /* a flush that takes longer than this says what it waits for */
#define FLUSH_SLICE_MS 200 /* how often a long flush looks at the clock and the stop flag */
/* Past message.timeout.ms: librdkafka checks its timeouts about once a second, and a
 * request in flight gets its own socket timeout on top. */
#define FLUSH_SLACK_MS 10000
#define AGE_MARKS 1024
/* The opaque of a message re-sent from the spill file: its bytes are not this run's. */
#define RESENT_OPAQUE ((void *)(uintptr_t)1)

/*
 * Delivery latency buckets (seconds, from produce to the broker's acknowledgement, as
 * librdkafka measures it): linger.ms is 5 and message.timeout.ms 300 s by default.
 */
static const double latency_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					 0.5,	1,	2.5,   5,     10,    30,   60,	 300 };
#define NLATENCY (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

static const struct pg_metric_desc delivery_latency = {
	.name = "pangolin_kafka_delivery_latency_seconds",
	.help = "Time from producing an event to the broker's acknowledgement (librdkafka's "
		"measure), for each event delivered.",
	.type = PG_METRIC_HISTOGRAM,
	.buckets = latency_bounds,
	.nbuckets = NLATENCY,
};

/* "produced event number seq at time ms": the oldest queued event's age, without a clock
 * per event kept anywhere (see oldest_ms) */
struct age_mark {
	uint64_t seq;
	double ms;
};

struct sink_kafka {
	struct pg_sink base;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char brokers[1024];
	char topic[PG_KAFKA_TOPIC_MAX + 1];
	enum pg_kafka_key key;
	enum pg_value_format format;
	int queue_wait_ms;
	volatile sig_atomic_t *stop;
	unsigned int since_poll;
	struct pg_buf buf; /* the value being produced */

	/* spill: NDJSON of what could not go to Kafka */
	char *spill_path; /* PATH.resend: where an earlier run's spill is read from */
	struct pg_sink *spill;
	struct pg_json_decoder jdec;
	struct pg_proto_decoder pdec;
	bool resending; /* producing the spill file's events (their opaque says so) */

	/* telling the user while it happens (may be NULL) */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
	bool waiting; /* a wait was reported and has not ended yet */
	uint64_t delivered_at_wait; /* delivered when it was last reported */
	double last_notice_ms;
	int msg_timeout_ms; /* message.timeout.ms as configured: 0 is forever */

	/* a ring of marks, one per mark_every_ms at most, while events are produced */
	struct age_mark marks[AGE_MARKS];
	unsigned int mark_head, nmarks;
	double mark_every_ms;

	/* what error_cb saw last: the reason to give when nothing works */
	struct pg_kafka_errors errs;

	uint64_t produced, delivered, failed, dropped, spilled, resent, bytes;
	/* delivery reports that were not successes: with delivered, what is no longer queued */
	uint64_t dr_failed, dr_spilled;
	/* the spill file's events delivered, and their bytes (not in bytes: not this run's) */
	uint64_t resent_delivered, resent_bytes;
	uint64_t latency[NLATENCY + 1]; /* delivered events by latency bucket (the last: above) */
	double latency_sum; /* seconds */
};

__attribute__((format(printf, 2, 3))) static void notify(struct sink_kafka *s, const char *fmt,
							  ...)
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

static uint64_t queued(const struct sink_kafka *s)
{
	uint64_t done = s->delivered + s->dr_failed + s->dr_spilled;

	return s->produced > done ? s->produced - done : 0;
}

/* --- how long the oldest queued event has waited ----------------------------------------------- */

/* Called before event number s->produced is produced. */
static void mark_produced(struct sink_kafka *s, double now)
{
	if (s->nmarks) {
		const struct age_mark *last = &s->marks[(s->mark_head + s->nmarks - 1) % AGE_MARKS];

		/* a full ring keeps its marks: later events then look older than they are, never
		 * younger (only with a message.timeout.ms far above the default) */
		if (now - last->ms < s->mark_every_ms || s->nmarks == AGE_MARKS)
			return;
	}
	s->marks[(s->mark_head + s->nmarks++) % AGE_MARKS] = (struct age_mark){ s->produced, now };
}

/*
 * The age of the oldest queued event in ms (0: none queued), overstated by mark_every_ms at
 * most. Events leave the queue about in the order they were produced (exactly so per
 * partition; an outage stalls every partition, and timeouts come in produce order), so the
 * oldest queued one is number delivered + failed + spilled.
 */
static double oldest_ms(struct sink_kafka *s, double now)
{
	uint64_t done = s->produced - queued(s);

	if (!queued(s) || !s->nmarks)
		return 0;
	while (s->nmarks > 1 && s->marks[(s->mark_head + 1) % AGE_MARKS].seq <= done) {
		s->mark_head = (s->mark_head + 1) % AGE_MARKS;
		s->nmarks--;
	}
	return now - s->marks[s->mark_head].ms;
}

/*
 * A broker that has acknowledged nothing for WAIT_NOTICE_MS: say so, how much waits and for
 * how long, every WAIT_NOTICE_MS while it lasts, and once when events flow again. A replay
 * blocked on a full queue, or a flush at exit, is otherwise silent for minutes.
 */
static void report_wait(struct sink_kafka *s)
{
	double now, age;

	if (!s->notice)
		return;
	now = pg_kafka__mono_ms();
	age = oldest_ms(s, now);
	if (age < WAIT_NOTICE_MS) {
		/* over when the broker acknowledges; events given up (failed) do not end it */
		if (s->waiting && s->delivered > s->delivered_at_wait) {
			notify(s, "kafka: the broker acknowledges again (%llu events queued)",
			       (unsigned long long)queued(s));
			s->errs.last[0] = 0; /* it is over: not a reason to give later */
			s->waiting = false;
		} else if (!queued(s)) {
			s->waiting = false;
		}
		return;
	}
	if (s->waiting && now - s->last_notice_ms < WAIT_NOTICE_MS)
		return;
	s->waiting = true;
	s->last_notice_ms = now;
	s->delivered_at_wait = s->delivered;
	if (s->msg_timeout_ms > 0)
		notify(s,
		       "kafka: waiting for %s: %llu events queued, the oldest for %.0f s; each is "
		       "given up after %.0f s (message.timeout.ms)%s%s",
		       s->brokers, (unsigned long long)queued(s), age / 1000,
		       s->msg_timeout_ms / 1000.0, s->errs.last[0] ? "; last error: " : "",
		       s->errs.last);
	else
		notify(s,
		       "kafka: waiting for %s: %llu events queued, the oldest for %.0f s "
		       "(message.timeout.ms=0: never given up)%s%s",
		       s->brokers, (unsigned long long)queued(s), age / 1000,
		       s->errs.last[0] ? "; last error: " : "", s->errs.last);
}

/* --- the URL -------------------------------------------------------------------------------- */

/* A character for a message: itself when printable ASCII, else its byte value. */
static const char *show_char(char c, char buf[8])
{
	if (c > ' ' && c <= '~')
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned char)c);
	return buf;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

static bool topic_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

__attribute__((format(printf, 3, 4))) static int url_fail(char *err, size_t errlen,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int pg_kafka_url_parse(const char *url, char *brokers, size_t blen, char *topic, size_t tlen,
		       char *err, size_t errlen)
{
	const char *p, *slash;
	size_t bl = 0, n;
	char cb[8];

	if (strncmp(url, "kafka://", 8))
		return url_fail(err, errlen, "does not start with kafka://");
	p = url + 8;
	slash = strchr(p, '/');
	if (!slash)
		return url_fail(err, errlen, "no topic: write kafka://HOST:PORT/TOPIC");
	if (slash == p)
		return url_fail(err, errlen, "no broker: write kafka://HOST:PORT/TOPIC");

	/* brokers: HOST[:PORT] or [IPV6][:PORT], comma-separated */
	while (p < slash) {
		const char *hs, *he, *e = memchr(p, ',', (size_t)(slash - p));
		unsigned long port = 9092;
		bool v6 = false;

		if (!e)
			e = slash;
		if (e == p)
			return url_fail(err, errlen, "empty broker in the list (two commas, or a comma at an end)");
		if (*p == '[') {
			hs = p + 1;
			he = memchr(hs, ']', (size_t)(e - hs));
			if (!he || he == hs)
				return url_fail(err, errlen, "'[' without an IPv6 address and ']'");
			for (const char *q = hs; q < he; q++)
				if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
				      (*q >= 'A' && *q <= 'F') || *q == ':' || *q == '.'))
					return url_fail(err, errlen, "the address in [...] is not an IPv6 address");
			v6 = true;
			p = he + 1;
		} else {
			hs = p;
			while (p < e && *p != ':')
				p++;
			he = p;
			if (he == hs)
				return url_fail(err, errlen, "empty host name before ':'");
			for (const char *q = hs; q < he; q++)
				if (!host_char(*q))
					return url_fail(err, errlen,
							"host name: %s is not allowed in a host name",
							show_char(*q, cb));
		}
		if (p < e) {
			char *end;

			if (*p != ':')
				return url_fail(err, errlen, "expected ':PORT' after '%.*s'",
						(int)(he - hs), hs);
			p++;
			if (p == e || *p < '0' || *p > '9')
				return url_fail(err, errlen, "port of '%.*s' is not a number",
						(int)(he - hs), hs);
			errno = 0;
			port = strtoul(p, &end, 10);
			if (end != e)
				return url_fail(err, errlen, "port of '%.*s' is not a number",
						(int)(he - hs), hs);
			if (errno || port == 0 || port > 65535)
				return url_fail(err, errlen, "port %.*s of '%.*s' is not in 1..65535",
						(int)(e - p), p, (int)(he - hs), hs);
		}
		n = (size_t)snprintf(brokers + bl, blen - bl, "%s%s%.*s%s:%lu", bl ? "," : "",
				     v6 ? "[" : "", (int)(he - hs), hs, v6 ? "]" : "", port);
		if (n >= blen - bl)
			return url_fail(err, errlen, "broker list longer than %zu bytes", blen - 1);
		bl += n;
		p = e < slash ? e + 1 : e;
		if (e < slash && p == slash)
			return url_fail(err, errlen, "empty broker in the list (two commas, or a comma at an end)");
	}

	/* topic: Kafka's rules (legal characters, length, not . or ..) */
	p = slash + 1;
	n = strlen(p);
	if (!n)
		return url_fail(err, errlen, "no topic after '/': write kafka://HOST:PORT/TOPIC");
	if (n > PG_KAFKA_TOPIC_MAX || n >= tlen)
		return url_fail(err, errlen, "topic longer than %d characters", PG_KAFKA_TOPIC_MAX);
	if (!strcmp(p, ".") || !strcmp(p, ".."))
		return url_fail(err, errlen, "'%s' is not a valid topic name", p);
	for (size_t i = 0; i < n; i++)
		if (!topic_char(p[i]))
			return url_fail(err, errlen,
					"topic: %s is not allowed (letters, digits, '.', '_', '-')",
					show_char(p[i], cb));
	memcpy(topic, p, n + 1);
	return 0;
}

/* Every host must resolve: librdkafka would otherwise retry an unknown name forever. */
int pg_kafka_resolve_brokers(const char *brokers, char *err, size_t errlen)
{
	char copy[1024], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", brokers);
	for (char *b = strtok_r(copy, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
		char *colon = strrchr(b, ':'), *host = b;
		int rc;

		*colon = 0;
		if (*host == '[') {
			host++;
			host[strlen(host) - 1] = 0;
		}
		rc = getaddrinfo(host, colon + 1, &hints, &res);
		if (rc) {
			snprintf(err, errlen, "cannot resolve broker host '%s': %s", host,
				 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
			return -EHOSTUNREACH;
		}
		freeaddrinfo(res);
	}
	return 0;
}

/* --- callbacks (all but the logger run in the polling thread) ------------------------------ */

static void spill_event(struct sink_kafka *s, const struct pg_event *ev)
{
	if (pg_sink__send(s->spill, ev) == 0)
		s->spilled++;
	else
		s->failed++; /* the spill file failed too: the event is gone, and counted so */
}

/* A message librdkafka gives back: turn its value into an event again for the spill file. */
static bool spill_payload(struct sink_kafka *s, const void *data, size_t len)
{
	struct pg_event ev;
	char why[256];

	if (s->format == PG_FORMAT_JSON) {
		struct pg_json_error jerr;

		if (pg_json_decode(&s->jdec, data, len, &ev, &jerr))
			return false;
	} else if (pg_proto_decode(&s->pdec, data, len, &ev, why, sizeof(why))) {
		return false;
	}
	if (pg_sink__send(s->spill, &ev))
		return false;
	s->spilled++;
	s->dr_spilled++;
	return true;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct sink_kafka *s = opaque;

	if (!m->err) {
		int64_t us = rd_kafka_message_latency(m);

		s->delivered++;
		if (us >= 0) {
			double sec = (double)us / 1e6;
			unsigned int b = 0;

			while (b < NLATENCY && sec > latency_bounds[b])
				b++;
			s->latency[b]++;
			s->latency_sum += sec;
		}
		if (m->_private == RESENT_OPAQUE) {
			s->resent_delivered++;
			s->resent_bytes += m->len;
		} else {
			s->bytes += m->len;
		}
		return;
	}
	if (s->spill && spill_payload(s, m->payload, m->len))
		return;
	s->failed++;
	s->dr_failed++;
	if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE && m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		snprintf(s->errs.last, sizeof(s->errs.last), "delivery failed: %s",
			 rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct sink_kafka *s = opaque;

	pg_kafka__note_error(&s->errs, rk, err, reason, "producer");
}

/* librdkafka's threads need no capability: each drops them all as it starts (caps.h) */
static rd_kafka_resp_err_t on_thread_start(rd_kafka_t *rk, rd_kafka_thread_type_t type,
					   const char *name, void *opaque)
{
	pg_caps__drop_thread();
	return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *opaque,
				  char *errstr, size_t errstr_size)
{
	return rd_kafka_interceptor_add_on_thread_start(rk, "pangolin", on_thread_start, NULL);
}

/* --- producing ------------------------------------------------------------------------------ */

/* A recording may say "pod_uid":"": that is no pod, not a pod named "". */
static bool known(const char *id)
{
	return id && *id;
}

static const char *pick_key(const struct sink_kafka *s, const struct pg_event *ev)
{
	switch (s->key) {
	case PG_KAFKA_KEY_POD:
		if (known(ev->meta.pod_uid))
			return ev->meta.pod_uid;
		/* fall through */
	case PG_KAFKA_KEY_CONTAINER:
		if (known(ev->meta.container_id))
			return ev->meta.container_id;
		/* fall through */
	case PG_KAFKA_KEY_NODE:
		/* no identity at all: one key still, so such events keep their order */
		return known(ev->meta.node) ? ev->meta.node : PG_KAFKA_KEY_UNKNOWN;
	case PG_KAFKA_KEY_NONE:
	default:
		return NULL;
	}
}

static bool stopping(const struct sink_kafka *s)
{
	return s->stop && *s->stop;
}

static void serve(struct sink_kafka *s, int timeout_ms)
{
	rd_kafka_poll(s->rk, timeout_ms);
	s->since_poll = 0;
	report_wait(s);
}

static int kafka_send(struct pg_sink *sink, const struct pg_event *ev)
{
	struct sink_kafka *s = (struct sink_kafka *)sink;
	const char *key = pick_key(s, ev);
	int waited = 0;

	if (s->errs.fatal) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "kafka: %s", s->errs.last);
		s->failed++;
		return -EIO;
	}
	s->buf.len = 0;
	if (s->format == PG_FORMAT_PROTOBUF)
		pg_proto_encode(ev, &s->buf);
	else
		pg_json_encode(ev, &s->buf);
	if (s->buf.err) {
		s->buf.err = 0;
		s->failed++;
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "kafka: out of memory encoding an event");
		return -ENOMEM;
	}
	mark_produced(s, pg_kafka__mono_ms());
	for (;;) {
		rd_kafka_resp_err_t e;

		if (rd_kafka_produce(s->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, s->buf.data,
				     s->buf.len, key, key ? strlen(key) : 0,
				     s->resending ? RESENT_OPAQUE : NULL) == 0)
			break;
		e = rd_kafka_last_error();
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && waited == 0) {
			/* delivered events hold their place until their reports are served */
			serve(s, 0);
			waited = 1;
			continue;
		}
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping(s) &&
		    (s->queue_wait_ms < 0 || waited < s->queue_wait_ms)) {
			/* serving delivery reports is how we wait for room */
			serve(s, 10);
			waited += 10;
			continue;
		}
		if (s->spill) {
			spill_event(s, ev);
			return 0;
		}
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			s->dropped++;
			return 0;
		}
		s->failed++;
		snprintf(s->errs.last, sizeof(s->errs.last), "produce: %s", rd_kafka_err2str(e));
		if (e == RD_KAFKA_RESP_ERR__FATAL) {
			s->errs.fatal = true;
			snprintf(s->base.errmsg, sizeof(s->base.errmsg), "kafka: %s", s->errs.last);
			return -EIO;
		}
		return 0; /* one event refused (too large, ...): counted, the stream goes on */
	}
	s->produced++;
	if (++s->since_poll >= POLL_EVERY)
		serve(s, 0);
	return 0;
}

/*
 * Wait until every queued event is acknowledged or given up, the timeout passes, or a stop
 * request comes in while waiting (one that came before is the caller's business: it chose
 * the timeout knowing). true when interrupted.
 */
static bool wait_delivered(struct sink_kafka *s, int timeout_ms, double start)
{
	bool stop_before = stopping(s), announced = false;
	double deadline;

	if (timeout_ms >= 0)
		deadline = start + timeout_ms;
	else if (s->msg_timeout_ms > 0)
		deadline = start + s->msg_timeout_ms + FLUSH_SLACK_MS;
	else
		deadline = 1e300; /* message.timeout.ms=0: librdkafka never gives up either */
	for (;;) {
		double now, left;

		serve(s, 0);
		if (!queued(s))
			return false;
		now = pg_kafka__mono_ms();
		left = deadline - now;
		if (left <= 0)
			return false;
		if (!stop_before && stopping(s))
			return true;
		if (!announced && now - start >= FLUSH_ANNOUNCE_MS) {
			announced = true;
			notify(s, "kafka: waiting up to %.0f s for the broker to acknowledge %llu events "
				  "(%s)%s",
			       left / 1000, (unsigned long long)queued(s),
			       timeout_ms >= 0 ? "the flush timeout"
					       : "as long as message.timeout.ms lets them wait",
			       stop_before ? "" : "; Ctrl-C stops waiting");
		}
		rd_kafka_flush(s->rk, left < FLUSH_SLICE_MS ? (int)left + 1 : FLUSH_SLICE_MS);
	}
}

static int kafka_flush(struct pg_sink *sink, int timeout_ms)
{
	struct sink_kafka *s = (struct sink_kafka *)sink;
	double start = pg_kafka__mono_ms();
	bool interrupted;
	int rc = 0;

	interrupted = wait_delivered(s, timeout_ms, start);
	if (queued(s) && s->spill) {
		/* what never left this process can be saved without risking a duplicate */
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE);
		rd_kafka_flush(s->rk, 1000);
		serve(s, 0);
	}
	if (s->spill) {
		int err = pg_sink__flush(s->spill, timeout_ms);

		if (err) {
			snprintf(s->base.errmsg, sizeof(s->base.errmsg), "kafka: spill file: %.400s",
				 s->spill->errmsg);
			return err;
		}
	}
	if (queued(s)) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg),
			 "kafka: %llu events still undelivered after %.1f s%s%s%s",
			 (unsigned long long)queued(s), (pg_kafka__mono_ms() - start) / 1000.0,
			 interrupted ? " (stopped waiting on request)" : "",
			 s->errs.last[0] ? "; last error: " : "", s->errs.last);
		rc = interrupted ? -EINTR : -ETIMEDOUT;
	} else if (s->failed || s->dropped) {
		snprintf(
			s->base.errmsg, sizeof(s->base.errmsg),
			"kafka: %llu events failed delivery and %llu were dropped (queue full)%s%s",
			(unsigned long long)s->failed, (unsigned long long)s->dropped,
			s->errs.last[0] ? "; last error: " : "", s->errs.last);
		rc = -EIO;
	}
	return rc;
}

static int kafka_tick(struct pg_sink *sink)
{
	struct sink_kafka *s = (struct sink_kafka *)sink;

	serve(s, 0);
	/* while events wait, come back: their reports are served and a silent broker is told */
	return queued(s) ? 1000 : -1;
}

static void kafka_stats(struct pg_sink *sink, struct pg_sink_stats *st)
{
	struct sink_kafka *s = (struct sink_kafka *)sink;

	memset(st, 0, sizeof(*st));
	st->sent = s->produced;
	st->written = s->delivered;
	st->failed = s->failed;
	st->queued = queued(s);
	st->bytes = s->bytes;
	st->dropped = s->dropped;
	st->spilled = s->spilled;
	st->resent = s->resent;
	st->oldest_ms = (uint64_t)oldest_ms(s, pg_kafka__mono_ms());
}

static void kafka_metrics(struct pg_sink *sink, struct pg_metrics *m)
{
	struct sink_kafka *s = (struct sink_kafka *)sink;

	pg_metrics__add_histogram(m, &delivery_latency, s->latency, s->latency_sum);
}

/* Accepting: no fatal error, and the broker acknowledges (the "waiting for" notice is off). */
static bool kafka_accepting(struct pg_sink *sink, char *why, size_t len)
{
	struct sink_kafka *s = (struct sink_kafka *)sink;
	double age;

	if (s->errs.fatal) {
		snprintf(why, len, "kafka: %s", s->errs.last);
		return false;
	}
	age = oldest_ms(s, pg_kafka__mono_ms());
	if (age >= WAIT_NOTICE_MS) {
		snprintf(why, len,
			 "kafka: %s has not acknowledged for %.0f s (%llu events queued)%s%s",
			 s->brokers, age / 1000, (unsigned long long)queued(s),
			 s->errs.last[0] ? "; last error: " : "", s->errs.last);
		return false;
	}
	return true;
}

static void kafka_free(struct pg_sink *sink)
{
	struct sink_kafka *s = (struct sink_kafka *)sink;

	if (!s)
		return;
	if (s->rk) {
		/* without flushing: whatever is left is given up now, so destroy cannot block on it */
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(s->rk, 0);
	}
	if (s->spill)
		pg_sink__flush(s->spill, 0);
	if (s->rkt)
		rd_kafka_topic_destroy(s->rkt);
	if (s->rk)
		rd_kafka_destroy_flags(s->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	pg_sink__free(s->spill);
	pg_buf__free(&s->buf);
	free(s->spill_path);
	free(s);
}

static const struct pg_sink_ops kafka_ops = {
	.name = "kafka",
	.acknowledged = true,
	.send = kafka_send,
	.flush = kafka_flush,
	.tick = kafka_tick,
	.stats = kafka_stats,
	.free = kafka_free,
	.metrics = kafka_metrics,
	.accepting = kafka_accepting,
};

/* --- start-up ------------------------------------------------------------------------------- */

/* A broker answers and the topic exists, within timeout_ms. 0 or -errno with err filled. */
static int check_topic(struct sink_kafka *s, int timeout_ms, char *err, size_t errlen)
{
	char missing[sizeof(s->brokers) + sizeof(s->topic) + 192];
	struct pg_kafka_check c = {
		.rk = s->rk,
		.rkt = s->rkt,
		.brokers = s->brokers,
		.topic = s->topic,
		.errs = &s->errs,
		.stop = s->stop,
		.missing = missing,
		.verb = "write to",
	};

	snprintf(missing, sizeof(missing),
		 " and the broker does not create topics on demand: create it (kafka-topics.sh "
		 "--bootstrap-server %s --create --topic %s --partitions N)",
		 s->brokers, s->topic);
	return pg_kafka__check_topic(&c, timeout_ms, err, errlen);
}

static int resend_one(void *ctx, struct pg_event *ev)
{
	return kafka_send(ctx, ev);
}

/*
 * Before the spill file is opened for appending: move what an earlier run spilled aside, to
 * PATH.resend, so events that fail again land in a new spill file rather than in the one
 * being read. A .resend left by a run that stopped half-way is sent first, and alone. Sets
 * *have when there is a file to re-send.
 */
static int take_spill(const char *path, const char *resend, bool *have, char *err, size_t errlen)
{
	struct stat sb;

	*have = false;
	if (stat(resend, &sb) == 0) {
		*have = true;
		return 0;
	}
	if (stat(path, &sb) != 0 || sb.st_size == 0)
		return 0;
	if (rename(path, resend)) {
		int e = -errno;

		snprintf(err, errlen, "cannot rename the spill file %s to %s: %s", path, resend,
			 strerror(errno));
		return e;
	}
	*have = true;
	return 0;
}

/* Send PATH.resend's events, wait for them (they are delivered, or spilled anew), remove it. */
static int resend_spill(struct sink_kafka *s, const char *resend, char *err, size_t errlen)
{
	struct pg_replay_opts ro = { .path = resend, .fd = -1, .skip_bad = true };
	struct pg_source_stats ss;
	struct pg_source *src;
	int wait = s->queue_wait_ms, rc = 0;
	double start = pg_kafka__mono_ms();

	src = pg_source_replay__new(&ro);
	if (!src) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the spill file %s: %s", resend, strerror(errno));
		return rc;
	}
	/* these events waited already: wait for queue room rather than spill them again */
	s->queue_wait_ms = -1;
	s->resending = true;
	for (;;) {
		int got = pg_source__poll(src, -1, resend_one, s);

		if (got == PG_SOURCE_EOF)
			break;
		if (got < 0) {
			snprintf(err, errlen, "re-sending the spill file %s: %s", resend,
				 src->errmsg[0] ? src->errmsg : s->base.errmsg);
			rc = got;
			goto out;
		}
	}
	pg_source__stats(src, &ss);
	s->resent = ss.read;
	s->resending = false;
	wait_delivered(s, SPILL_RESEND_FLUSH_MS, pg_kafka__mono_ms());
	/* said here, with its own time: the summary's rate is of this run's events only */
	notify(s,
	       "kafka: re-sent %llu events from the spill file %.*s in %.1f s: %llu delivered "
	       "(%.1f MB)%s",
	       (unsigned long long)s->resent, (int)(strlen(resend) - strlen(".resend")), resend,
	       (pg_kafka__mono_ms() - start) / 1000, (unsigned long long)s->resent_delivered,
	       s->resent_bytes / 1e6,
	       s->resent_delivered < s->resent ? "; the rest is in the counters at exit" : "");
	if (unlink(resend)) {
		rc = -errno;
		snprintf(err, errlen, "cannot remove %s after re-sending it: %s", resend, strerror(errno));
	}
out:
	s->queue_wait_ms = wait;
	s->resending = false;
	pg_source__free(src);
	return rc;
}

struct pg_sink *pg_sink_kafka__new(const struct pg_kafka_opts *o, char *err, size_t errlen)
{
	/* pangolin's defaults; any of them can be overridden with -X */
	static const char *const defaults[][2] = {
		{ "client.id", "pangolin" },
		{ "enable.idempotence", "true" }, /* no duplicates or reordering on retry */
		{ "acks", "all" },
		{ "compression.codec", "lz4" },
		/* the Java client's partitioner: a key lands where a Java producer would put it */
		{ "partitioner", "murmur2_random" },
		{ "linger.ms", "5" },
		/* the bounded queue: at most this many events or KiB wait for a broker */
		{ "queue.buffering.max.messages", "100000" },
		{ "queue.buffering.max.kbytes", "131072" },
		{ "message.timeout.ms", "300000" },
	};
	struct sink_kafka *s = calloc(1, sizeof(*s));
	rd_kafka_conf_t *conf = NULL;
	char why[512];
	int rc = -EINVAL;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->base.ops = &kafka_ops;
	s->key = o->key;
	s->format = o->format;
	s->queue_wait_ms = o->queue_wait_ms;
	s->stop = o->stop;
	s->notice = o->notice;
	s->notice_ctx = o->notice_ctx;

	if (pg_kafka_url_parse(o->url, s->brokers, sizeof(s->brokers), s->topic, sizeof(s->topic),
			       why, sizeof(why))) {
		snprintf(err, errlen, "bad output '%s': %s", o->url, why);
		goto err_out;
	}
	conf = rd_kafka_conf_new();
	if (pg_kafka__set_prop(conf, "bootstrap.servers", s->brokers, err, errlen))
		goto err_out;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (pg_kafka__set_prop(conf, defaults[i][0], defaults[i][1], err, errlen))
			goto err_out;
	if (pg_kafka__set_user_props(conf, o->props, o->nprops, NULL, NULL, err, errlen))
		goto err_out;
	rd_kafka_conf_set_opaque(conf, s);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	if (rd_kafka_conf_interceptor_add_on_new(conf, "pangolin", on_new, NULL)) {
		snprintf(err, errlen, "cannot set up the Kafka producer's threads");
		goto err_out;
	}
	pg_kafka__set_log(conf, o->props, o->nprops);

	/* before any thread starts: an unknown host would otherwise be retried forever */
	rc = pg_kafka_resolve_brokers(s->brokers, err, errlen);
	if (rc)
		goto err_out;

	s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (!s->rk) {
		snprintf(err, errlen, "cannot create the Kafka producer: %s", why);
		rc = -EINVAL;
		goto err_out;
	}
	conf = NULL; /* the producer owns it now */
	{
		char v[32];
		size_t vlen = sizeof(v);

		/* after -X: the user may have changed it (or its alias delivery.timeout.ms) */
		if (rd_kafka_conf_get(rd_kafka_conf(s->rk), "message.timeout.ms", v, &vlen) ==
		    RD_KAFKA_CONF_OK)
			s->msg_timeout_ms = atoi(v);
		/* ~500 marks cover the longest an event may wait */
		s->mark_every_ms = s->msg_timeout_ms / (AGE_MARKS / 2.0);
		if (s->mark_every_ms < 1000)
			s->mark_every_ms = 1000;
	}
	s->rkt = rd_kafka_topic_new(s->rk, s->topic, NULL);
	if (!s->rkt) {
		snprintf(err, errlen, "topic '%s': %s", s->topic, rd_kafka_err2str(rd_kafka_last_error()));
		rc = -EINVAL;
		goto err_out;
	}
	rc = check_topic(s, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS,
			 err, errlen);
	if (rc)
		goto err_out;
	pg_kafka__clear_errors(&s->errs);

	if (o->spill_path) {
		struct pg_ndjson_opts no = { .path = o->spill_path, .fd = -1 };
		bool have;

		if (asprintf(&s->spill_path, "%s.resend", o->spill_path) < 0) {
			s->spill_path = NULL;
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto err_out;
		}
		rc = take_spill(o->spill_path, s->spill_path, &have, err, errlen);
		if (rc)
			goto err_out;
		s->spill = pg_sink_ndjson__new(&no);
		if (!s->spill) {
			rc = -errno;
			snprintf(err, errlen, "cannot open the spill file %s: %s", o->spill_path,
				 strerror(errno));
			goto err_out;
		}
		if (have && (rc = resend_spill(s, s->spill_path, err, errlen)))
			goto err_out;
	}
	return &s->base;
err_out:
	if (conf)
		rd_kafka_conf_destroy(conf);
	kafka_free(&s->base);
	errno = -rc;
	return NULL;
}

/* --- the kafka sink type (output.h) --------------------------------------------------------- */

#define MAX_PROPS 64 /* -X given at most this often */

static int check_prop(const char *arg, char *err, size_t errlen)
{
	if (strchr(arg, '=') && *arg != '=')
		return 0;
	snprintf(err, errlen,
		 "-X '%s': expected KEY=VALUE (a librdkafka property, e.g. -X linger.ms=20)", arg);
	return -EINVAL;
}

static int check_key(const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "pod") || !strcmp(arg, "container") || !strcmp(arg, "node") ||
	    !strcmp(arg, "none"))
		return 0;
	snprintf(err, errlen, "--kafka-key: '%s' is not pod, container, node or none", arg);
	return -EINVAL;
}

static bool int_in(const char *arg, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(arg, &end, 10);
	return !errno && end != arg && !*end && *v >= lo && *v <= hi;
}

static int check_timeout(const char *arg, char *err, size_t errlen)
{
	long v;

	if (int_in(arg, 1, 3600, &v))
		return 0;
	snprintf(err, errlen, "--kafka-timeout: '%s' is not a number of seconds in 1..3600", arg);
	return -EINVAL;
}

static int check_queue_wait(const char *arg, char *err, size_t errlen)
{
	long v;

	if (int_in(arg, -1, 86400000, &v))
		return 0;
	snprintf(err, errlen, "--kafka-queue-wait: '%s' is not -1 or a number of milliseconds",
		 arg);
	return -EINVAL;
}

#define KAFKA_ONLY "applies to kafka:// outputs only"

static const struct pg_sink_option kafka_options[] = {
	{ .name = "kafka-property", .short_name = 'X', .has_arg = true, .check = check_prop,
	  .elsewhere = KAFKA_ONLY },
	{ .name = "kafka-key", .has_arg = true, .check = check_key, .elsewhere = KAFKA_ONLY },
	{ .name = "kafka-spill", .has_arg = true, .elsewhere = KAFKA_ONLY },
	{ .name = "kafka-timeout", .has_arg = true, .check = check_timeout,
	  .elsewhere = KAFKA_ONLY },
	{ .name = "kafka-queue-wait", .has_arg = true, .check = check_queue_wait,
	  .elsewhere = KAFKA_ONLY },
	{ 0 },
};

static const char kafka_help[] =
	"  -X KEY=VALUE            a librdkafka property (TLS, SASL, batching...); repeatable\n"
	"      --kafka-key K       message key: pod (pod UID, else container id, else node;\n"
	"                          the default), container, node, or none\n"
	"      --kafka-spill F     save events Kafka cannot take now to the NDJSON file F\n"
	"                          instead of dropping them; the next start re-sends F\n"
	"      --kafka-timeout S   seconds to wait at start for a broker and the topic (10)\n"
	"      --kafka-queue-wait MS  when librdkafka's queue is full, wait up to MS for\n"
	"                          room before dropping or spilling (-1: as long as it takes)\n";

static bool claims_kafka(const char *spec)
{
	return !strncmp(spec, "kafka://", 8);
}

static enum pg_value_format kafka_default(const struct pg_output_opts *o)
{
	return PG_FORMAT_JSON;
}

static int kafka_check(const struct pg_output_opts *o, enum pg_value_format f, char *err,
		       size_t errlen)
{
	size_t n = 0;

	for (size_t i = 0; i < o->ngiven; i++)
		n += o->given[i].opt->short_name == 'X';
	if (n > MAX_PROPS) {
		snprintf(err, errlen, "-X: more than %d properties", MAX_PROPS);
		return -EINVAL;
	}
	return 0;
}

static struct pg_sink *kafka_open(const struct pg_output_opts *o, enum pg_value_format f,
				  char *err, size_t errlen)
{
	const char *props[MAX_PROPS];
	const char *key = pg_output__arg(o, "kafka-key");
	const char *timeout = pg_output__arg(o, "kafka-timeout");
	const char *wait = pg_output__arg(o, "kafka-queue-wait");
	struct pg_kafka_opts ko = {
		.url = o->spec,
		.props = props,
		.key = PG_KAFKA_KEY_POD,
		.format = f,
		.spill_path = pg_output__arg(o, "kafka-spill"),
		.queue_wait_ms = wait ? atoi(wait) : o->queue_wait_ms,
		.connect_timeout_ms = timeout ? atoi(timeout) * 1000 : 0,
		.stop = o->stop,
		.notice = o->quiet ? NULL : pg_output__notice,
		.notice_ctx = (void *)(o->cmd ? o->cmd : "output"),
	};

	for (size_t i = 0; i < o->ngiven && ko.nprops < MAX_PROPS; i++)
		if (o->given[i].opt->short_name == 'X')
			props[ko.nprops++] = o->given[i].arg;
	if (key && !strcmp(key, "container"))
		ko.key = PG_KAFKA_KEY_CONTAINER;
	else if (key && !strcmp(key, "node"))
		ko.key = PG_KAFKA_KEY_NODE;
	else if (key && !strcmp(key, "none"))
		ko.key = PG_KAFKA_KEY_NONE;
	return pg_sink_kafka__new(&ko, err, errlen);
}

const struct pg_sink_type pg_sink_type_kafka = {
	.name = "kafka",
	.form = "kafka://HOST:PORT[,HOST:PORT...]/TOPIC",
	.about = "a Kafka topic, keyed by pod (docs/kafka.md); NDJSON or protobuf messages",
	.claims = claims_kafka,
	.formats = 1u << PG_FORMAT_JSON | 1u << PG_FORMAT_PROTOBUF,
	.default_format = kafka_default,
	.options = kafka_options,
	.help = kafka_help,
	.check = kafka_check,
	.open = kafka_open,
};
