// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kafka:// URL parser and the Kafka sink's refusals that need no broker: a bad URL or a
 * bad librdkafka property fails at once, with one message saying which and why. (Everything
 * that needs a broker is in tests/integration/test_kafka.py, against a real one.)
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sink.h"

static void ok(const char *url, const char *brokers, const char *topic)
{
	char b[256], t[PG_KAFKA_TOPIC_MAX + 1], err[256] = "";

	if (pg_kafka_url_parse(url, b, sizeof(b), t, sizeof(t), err, sizeof(err)))
		fail_msg("%s: %s", url, err);
	assert_string_equal(b, brokers);
	assert_string_equal(t, topic);
}

static void bad(const char *url, const char *needle)
{
	char b[256], t[PG_KAFKA_TOPIC_MAX + 1], err[256] = "";

	assert_int_equal(pg_kafka_url_parse(url, b, sizeof(b), t, sizeof(t), err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, needle))
		fail_msg("%s: error '%s' does not mention '%s'", url, err, needle);
}

static void test_good(void **state)
{
	ok("kafka://127.0.0.1:9092/events", "127.0.0.1:9092", "events");
	ok("kafka://kafka-0.kafka.svc:19092,kafka-1.kafka.svc:19092/pangolin.v1_events-x",
	   "kafka-0.kafka.svc:19092,kafka-1.kafka.svc:19092", "pangolin.v1_events-x");
	ok("kafka://broker/t", "broker:9092", "t"); /* Kafka's port when none is given */
	ok("kafka://[::1]:9093/t", "[::1]:9093", "t");
	ok("kafka://[fe80::1]/t", "[fe80::1]:9092", "t");
	ok("kafka://a:1,b:65535/t", "a:1,b:65535", "t");
}

static void test_bad(void **state)
{
	char longtopic[300] = "kafka://h:1/";

	bad("", "kafka://");
	bad("kafka:/h:1/t", "kafka://");
	bad("http://h:1/t", "kafka://");
	bad("kafka://h:1", "no topic");
	bad("kafka://h:1/", "no topic");
	bad("kafka:///t", "no broker");
	bad("kafka://:9092/t", "empty host");
	bad("kafka://h:/t", "not a number");
	bad("kafka://h:x1/t", "not a number");
	bad("kafka://h:1x/t", "not a number");
	bad("kafka://h:-1/t", "not a number");
	bad("kafka://h:0/t", "1..65535");
	bad("kafka://h:65536/t", "1..65535");
	bad("kafka://h:99999999999999999999999/t", "1..65535");
	bad("kafka://h:1,/t", "empty broker");
	bad("kafka://,h:1/t", "empty broker");
	bad("kafka://h:1,,g:2/t", "empty broker");
	bad("kafka://h h:1/t", "host name");
	bad("kafka://h\xff:1/t", "0xff");
	bad("kafka://user@h:1/t", "host name");
	bad("kafka://[::1/t", "IPv6");
	bad("kafka://[]:1/t", "IPv6");
	bad("kafka://[::g]:1/t", "IPv6");
	bad("kafka://[::1]x/t", "':PORT'");
	bad("kafka://h:1/a/b", "not allowed");
	bad("kafka://h:1/t?acks=1", "not allowed");
	bad("kafka://h:1/.", "not a valid topic");
	bad("kafka://h:1/..", "not a valid topic");
	memset(longtopic + strlen(longtopic), 'x', 250);
	bad(longtopic, "longer than 249");
}

static void test_small_buffers(void **state)
{
	char b[8], t[4], err[128];

	assert_int_equal(pg_kafka_url_parse("kafka://long-host-name:9092/t", b, sizeof(b), t,
					    sizeof(t), err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pg_kafka_url_parse("kafka://h:1/topic", b, sizeof(b), t, sizeof(t), err,
					    sizeof(err)),
			 -EINVAL);
}

static void refused(const struct pg_kafka_opts *o, const char *needle)
{
	char err[512] = "";

	assert_null(pg_sink_kafka__new(o, err, sizeof(err)));
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_null(strchr(err, '\n'));
}

static void test_sink_refuses_bad_configuration(void **state)
{
	const char *bad_name[] = { "no.such.property=1" };
	const char *bad_value[] = { "linger.ms=soon" };
	const char *no_eq[] = { "linger.ms" };
	const char *conflict[] = { "acks=0" };
	struct pg_kafka_opts o = { .url = "kafka://127.0.0.1:9/t" };

	o.url = "kafka://127.0.0.1:9";
	refused(&o, "no topic");
	o.url = "kafka://127.0.0.1:9/t";
	o.props = bad_name;
	o.nprops = 1;
	refused(&o, "-X no.such.property=1: No such configuration property");
	o.props = bad_value;
	refused(&o, "-X linger.ms=soon");
	o.props = no_eq;
	refused(&o, "expected KEY=VALUE");
	/* only rd_kafka_new sees that these two settings contradict each other */
	o.props = conflict;
	refused(&o, "enable.idempotence");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_sink_refuses_bad_configuration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
