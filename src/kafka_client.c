// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the Kafka producer and consumer do alike (kafka_client.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kafka_client.h"

void pg_kafka__note_error(struct pg_kafka_errors *e, rd_kafka_t *rk, int err, const char *reason,
			  const char *role)
{
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
		e->all_brokers_down = true;
		return; /* its reason says less than the transport error before it */
	}
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char fatal[256];

		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		e->fatal = true;
		snprintf(e->last, sizeof(e->last), "fatal %s error: %s", role, fatal);
		return;
	}
	snprintf(e->last, sizeof(e->last), "%s", reason);
}

int pg_kafka__set_prop(rd_kafka_conf_t *conf, const char *k, const char *v, char *err,
		       size_t errlen)
{
	char why[512];

	if (rd_kafka_conf_set(conf, k, v, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "-X %s=%s: %s", k, v, why);
		return -EINVAL;
	}
	return 0;
}

int pg_kafka__set_user_props(rd_kafka_conf_t *conf, const char *const *props, size_t nprops,
			     const char *const *fixed, const char *fixed_why, char *err,
			     size_t errlen)
{
	for (size_t i = 0; i < nprops; i++) {
		const char *eq = strchr(props[i], '=');
		char k[256];

		if (!eq || eq == props[i] || (size_t)(eq - props[i]) >= sizeof(k)) {
			snprintf(err, errlen, "-X '%s': expected KEY=VALUE (a librdkafka property)",
				 props[i]);
			return -EINVAL;
		}
		memcpy(k, props[i], (size_t)(eq - props[i]));
		k[eq - props[i]] = 0;
		for (size_t f = 0; fixed && fixed[f]; f++)
			if (!strcmp(k, fixed[f])) {
				snprintf(err, errlen, "-X %s: %s", k, fixed_why);
				return -EINVAL;
			}
		if (pg_kafka__set_prop(conf, k, eq + 1, err, errlen))
			return -EINVAL;
	}
	return 0;
}

bool pg_kafka__user_set(const char *const *props, size_t nprops, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < nprops; i++)
		if (!strncmp(props[i], key, kl) && props[i][kl] == '=')
			return true;
	return false;
}

static void log_quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static void log_verbose(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	fprintf(stderr, "pangolin: librdkafka %d %s: %s\n", level, fac, buf);
}

void pg_kafka__set_log(rd_kafka_conf_t *conf, const char *const *props, size_t nprops)
{
	bool verbose = pg_kafka__user_set(props, nprops, "debug") ||
		       pg_kafka__user_set(props, nprops, "log_level");

	rd_kafka_conf_set_log_cb(conf, verbose ? log_verbose : log_quiet);
}

double pg_kafka__mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The metadata of c's topic answered: 0 ready, 1 ask again, -errno with err filled. */
static int topic_state(const struct pg_kafka_check *c, const struct rd_kafka_metadata *md,
		       rd_kafka_resp_err_t *last, char *err, size_t errlen)
{
	const rd_kafka_metadata_topic_t *t = md->topic_cnt ? &md->topics[0] : NULL;

	*last = t ? t->err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
	if (!*last && t->partition_cnt > 0)
		return 0;
	if (*last == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		snprintf(err, errlen, "topic '%s' does not exist on %s%s", c->topic, c->brokers,
			 c->missing);
		return -ENOENT;
	}
	if (*last == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
		snprintf(err, errlen,
			 "not allowed to %s topic '%s' on %s (check the ACLs or the -X sasl.* "
			 "settings)",
			 c->verb, c->topic, c->brokers);
		return -EACCES;
	}
	return 1; /* LEADER_NOT_AVAILABLE and friends: being created or elected; ask again */
}

int pg_kafka__check_topic(const struct pg_kafka_check *c, int timeout_ms, char *err,
			  size_t errlen)
{
	const struct pg_kafka_errors *e = c->errs;
	double deadline = pg_kafka__mono_ms() + timeout_ms;
	rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;

	for (;;) {
		const struct rd_kafka_metadata *md = NULL;
		int left = (int)(deadline - pg_kafka__mono_ms()), rc;
		rd_kafka_resp_err_t me;

		if (c->stop && *c->stop) {
			snprintf(err, errlen, "interrupted while connecting to %s", c->brokers);
			return -EINTR;
		}
		me = rd_kafka_metadata(c->rk, 0, c->rkt, &md, left < 500 ? (left > 0 ? left : 1) : 500);
		if (me == RD_KAFKA_RESP_ERR_NO_ERROR) {
			rc = topic_state(c, md, &last, err, errlen);
			rd_kafka_metadata_destroy(md);
			if (rc <= 0)
				return rc;
		}
		rd_kafka_poll(c->rk, 0); /* runs error_cb: connection failures arrive there */
		if (e->fatal) {
			snprintf(err, errlen, "%s", e->last);
			return -EIO;
		}
		if (e->all_brokers_down) {
			snprintf(err, errlen, "no broker of %s is reachable: %s", c->brokers,
				 e->last[0] ? e->last : "all connections failed");
			return -ECONNREFUSED;
		}
		if (pg_kafka__mono_ms() >= deadline) {
			if (last != RD_KAFKA_RESP_ERR_NO_ERROR)
				snprintf(err, errlen, "topic '%s' on %s is not ready after %.1f s: %s",
					 c->topic, c->brokers, timeout_ms / 1000.0,
					 rd_kafka_err2str(last));
			else
				snprintf(err, errlen, "no broker of %s answered within %.1f s%s%s",
					 c->brokers, timeout_ms / 1000.0, e->last[0] ? ": " : "",
					 e->last);
			return -ETIMEDOUT;
		}
		if (me == RD_KAFKA_RESP_ERR_NO_ERROR)
			rd_kafka_poll(c->rk, 100); /* the topic exists but is not ready: pace the asks */
	}
}
