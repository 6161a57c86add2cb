// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* DNS wire parser: real-shaped messages, and each way a message can be malformed. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "dns.h"

/* A query for www.example.com AAAA, id 0x1234, recursion desired. */
static const uint8_t query[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0, 28, 0, 1,
};

static void test_query(void **state)
{
	struct pg_dns_msg m;
	char err[128];

	assert_int_equal(pg_dns_parse(query, sizeof(query), &m, err, sizeof(err)), 0);
	assert_int_equal(m.id, 0x1234);
	assert_false(m.response);
	assert_int_equal(m.qdcount, 1);
	assert_string_equal(m.qname, "www.example.com");
	assert_int_equal(m.qtype, 28);
	assert_int_equal(m.qclass, 1);
	assert_int_equal(m.nanswers, 0);
}

/* Response: www.example.com CNAME web.example.com (compressed), web.example.com A 192.0.2.7 */
static const uint8_t response[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, /* @12 */
	0, 1, 0, 1,
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3, 'w', 'e', 'b', 0xc0, 16, /* CNAME @33 */
	0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7, /* A for the name at 45 */
};

static void test_response_with_compression(void **state)
{
	struct pg_dns_msg m;
	char err[128];

	assert_int_equal(pg_dns_parse(response, sizeof(response), &m, err, sizeof(err)), 0);
	assert_true(m.response);
	assert_int_equal(m.rcode, 0);
	assert_int_equal(m.nanswers, 2);
	assert_string_equal(m.answers[0].name, "www.example.com");
	assert_int_equal(m.answers[0].type, 5);
	assert_int_equal(m.answers[0].ttl, 3600);
	assert_string_equal(m.answers[0].target, "web.example.com");
	assert_string_equal(m.answers[1].name, "web.example.com");
	assert_int_equal(m.answers[1].addr_len, 4);
	assert_memory_equal(m.answers[1].addr, ((uint8_t[]){ 192, 0, 2, 7 }), 4);
}

static void test_escapes_and_root(void **state)
{
	uint8_t msg[64] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
			    4, 'a', '.', '\\', 0x07, 2, 'x', ' ', 0, 0, 1, 0, 1 };
	uint8_t root[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1 };
	struct pg_dns_msg m;

	assert_int_equal(pg_dns_parse(msg, 25, &m, NULL, 0), 0);
	assert_string_equal(m.qname, "a\\.\\\\\\007.x\\032");
	assert_int_equal(pg_dns_parse(root, sizeof(root), &m, NULL, 0), 0);
	assert_string_equal(m.qname, "");
	assert_int_equal(m.qtype, 2);
}

static void expect_error(const uint8_t *msg, size_t len, const char *want)
{
	struct pg_dns_msg m;
	char err[160];

	assert_int_equal(pg_dns_parse(msg, len, &m, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

static void test_malformed(void **state)
{
	uint8_t b[600];

	expect_error(query, 11, "shorter than the 12-byte DNS header");
	expect_error(query, sizeof(query) - 2, "message ends inside the question class");
	expect_error(query, 20, "label of 7 bytes runs past the end");
	expect_error(query, 12, "message ends inside a name");

	/* label types 0x40 / 0x80 are not plain labels */
	memcpy(b, query, 12);
	b[12] = 0x41;
	expect_error(b, 20, "label type 0x40 is not supported");

	/* a pointer forward, a pointer to itself */
	memcpy(b, query, 12);
	b[12] = 0xc0;
	b[13] = 20;
	expect_error(b, 30, "does not point backwards");
	b[13] = 12;
	expect_error(b, 30, "does not point backwards");
	b[12] = 0xc0;
	expect_error(b, 13, "message ends inside a compression pointer");

	/* a name of 5 * 63-byte labels is longer than 255 */
	memcpy(b, query, 12);
	size_t p = 12;
	for (int l = 0; l < 5; l++) {
		b[p++] = 63;
		memset(b + p, 'a', 63);
		p += 63;
	}
	b[p++] = 0;
	expect_error(b, p + 4, "name longer than 255 bytes");

	/* answers that lie */
	uint8_t r[sizeof(response)];

	memcpy(r, response, sizeof(r));
	r[sizeof(r) - 5] = 5; /* A rdlength 5 */
	expect_error(r, sizeof(r), "runs past the end of the message");
	memcpy(r, response, sizeof(r));
	r[sizeof(r) - 5] = 3; /* A rdlength 3 */
	expect_error(r, sizeof(r) - 1, "A record with 3 bytes of data");
	memcpy(r, response, sizeof(r));
	expect_error(r, sizeof(r) - 12, "message ends inside a resource record header");
	memcpy(r, response, sizeof(r));
	r[44] = 7; /* CNAME rdlength longer than its name */
	expect_error(r, sizeof(r), "");
}

/*
 * Pointer chains are bounded: 40 questions, each named by a pointer to the previous one, so
 * question k walks k pointers; past 32 the parser refuses instead of walking on.
 */
static void test_pointer_chain(void **state)
{
	uint8_t c[400] = { 0, 1, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1 };
	size_t cn = 19, prev = 12;
	struct pg_dns_msg m;

	for (int i = 1; i < 40; i++) {
		c[cn] = 0xc0;
		c[cn + 1] = (uint8_t)prev;
		prev = cn;
		cn += 2;
		memcpy(c + cn, (uint8_t[]){ 0, 1, 0, 1 }, 4);
		cn += 4;
	}
	expect_error(c, cn, "more than 32 compression pointers");
	/* 30 questions stay under the bound and parse */
	c[5] = 30;
	assert_int_equal(pg_dns_parse(c, 19 + 29 * 6, &m, NULL, 0), 0);
	assert_string_equal(m.qname, "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_response_with_compression),
		cmocka_unit_test(test_escapes_and_root),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_pointer_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
