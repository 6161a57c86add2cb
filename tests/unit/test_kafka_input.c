// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A Kafka message's value as `detect --input kafka://` reads it: NDJSON or protobuf told apart
 * by content (or as forced), every event type either way, and each malformed value refused
 * with its reason (empty, json, protobuf) and a message that says where. The consumer around
 * it runs against a real broker in tests/integration/test_detect_kafka.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gen_event.h"
#include "source_kafka.h"

static struct pg_kafka_decoder dec;

/* The canonical NDJSON of an event: what two events are compared by. */
static char *canon(const struct pg_event *ev)
{
	struct pg_buf b = { 0 };

	pg_json_encode(ev, &b);
	pg_buf__putc(&b, 0);
	assert_int_equal(b.err, 0);
	return b.data;
}

static int decode(enum pg_input_format f, const void *v, size_t len, struct pg_event *ev,
		  enum pg_kafka_bad *why, char *err)
{
	*why = PG_KAFKA_BAD_REASONS;
	err[0] = 0;
	return pg_kafka_value_decode(&dec, f, v, len, ev, why, err, 256);
}

/*
 * Every type, both encodings: read by content (and as forced), each comes back as its own
 * decoder reads it (what the codecs keep is their tests' business: test_json, test_proto).
 */
static void test_both_formats_every_type(void **state)
{
	static struct pg_json_decoder jd;
	static struct pg_proto_decoder pd;
	struct rng r = { 7 };

	for (int i = 0; i < 400; i++) {
		struct pg_buf j = { 0 }, p = { 0 };
		struct pg_event ev, back, direct;
		struct pg_json_error jerr;
		struct gen_meta gm;
		enum pg_kafka_bad why;
		char err[256], *a, *b;

		gen_event(&r, &ev, 1 + (unsigned int)(i % (PG_EV_TYPE_COUNT - 1)), &gm);
		pg_json_encode(&ev, &j);
		pg_proto_encode(&ev, &p);
		assert_int_equal(j.err | p.err, 0);

		assert_int_equal(pg_json_decode(&jd, j.data, j.len, &direct, &jerr), 0);
		a = canon(&direct);
		assert_int_equal(decode(PG_INPUT_AUTO, j.data, j.len, &back, &why, err), 0);
		b = canon(&back);
		assert_string_equal(a, b);
		free(b);
		assert_int_equal(decode(PG_INPUT_JSON, j.data, j.len, &back, &why, err), 0);
		b = canon(&back);
		assert_string_equal(a, b);
		free(a);
		free(b);

		assert_int_equal(pg_proto_decode(&pd, p.data, p.len, &direct, err, sizeof(err)), 0);
		a = canon(&direct);
		assert_int_equal(decode(PG_INPUT_AUTO, p.data, p.len, &back, &why, err), 0);
		b = canon(&back);
		assert_string_equal(a, b);
		free(b);
		assert_int_equal(decode(PG_INPUT_PROTOBUF, p.data, p.len, &back, &why, err), 0);
		b = canon(&back);
		assert_string_equal(a, b);
		free(a);
		free(b);
		pg_buf__free(&j);
		pg_buf__free(&p);
	}
}

/* A line with its newline, blanks before it: still one NDJSON event. */
static void test_json_lines_and_blanks(void **state)
{
	const char *v = " \t\n{\"v\":1,\"type\":\"exit\",\"ts\":5,\"pid\":1,\"tid\":1,\"ppid\":0,\"uid\":0,"
			"\"gid\":0,\"comm\":\"x\",\"cgroup_id\":0,\"start_ns\":0,\"exit_code\":0,"
			"\"signal\":0,\"lifetime_ns\":1}\r\n";
	enum pg_kafka_bad why;
	struct pg_event ev;
	char err[256];

	assert_int_equal(decode(PG_INPUT_AUTO, v, strlen(v), &ev, &why, err), 0);
	assert_int_equal(ev.r.hdr.type, PG_EV_EXIT);
	assert_int_equal(ev.r.hdr.ts_ns, 5);
}

static void test_refusals(void **state)
{
	static const struct {
		enum pg_input_format f;
		const char *v;
		size_t len;
		enum pg_kafka_bad why;
		const char *says;
	} cases[] = {
		{ PG_INPUT_AUTO, NULL, 0, PG_KAFKA_BAD_EMPTY, "no value" },
		{ PG_INPUT_AUTO, "", 0, PG_KAFKA_BAD_EMPTY, "no value" },
		{ PG_INPUT_AUTO, "{\"v\":1,\"type\":", 14, PG_KAFKA_BAD_JSON, "column " },
		{ PG_INPUT_AUTO, "{\"v\":1,\"type\":\"teleport\",\"ts\":1}", 32, PG_KAFKA_BAD_JSON,
		  "teleport" },
		{ PG_INPUT_AUTO, "\x08\x01\x12\xff\xff", 5, PG_KAFKA_BAD_PROTOBUF, "" },
		{ PG_INPUT_AUTO, "not an event", 12, PG_KAFKA_BAD_PROTOBUF, "" },
		{ PG_INPUT_AUTO, "   ", 3, PG_KAFKA_BAD_PROTOBUF, "" },
		/* forced: a JSON event is no protobuf message, and the other way round */
		{ PG_INPUT_PROTOBUF, "{\"v\":1}", 7, PG_KAFKA_BAD_PROTOBUF, "" },
		{ PG_INPUT_JSON, "\x08\x01", 2, PG_KAFKA_BAD_JSON, "column 1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum pg_kafka_bad why;
		struct pg_event ev;
		char err[256];

		assert_int_equal(decode(cases[i].f, cases[i].v, cases[i].len, &ev, &why, err),
				 -EINVAL);
		assert_int_equal(why, cases[i].why);
		assert_true(err[0]); /* always a reason */
		if (!strstr(err, cases[i].says))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].says);
	}
	assert_string_equal(pg_kafka_bad_name(PG_KAFKA_BAD_EMPTY), "empty");
	assert_string_equal(pg_kafka_bad_name(PG_KAFKA_BAD_JSON), "json");
	assert_string_equal(pg_kafka_bad_name(PG_KAFKA_BAD_PROTOBUF), "protobuf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_formats_every_type),
		cmocka_unit_test(test_json_lines_and_blanks),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
