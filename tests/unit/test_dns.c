// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * DNS wire parser: real-shaped messages, compression, each way a message can be malformed
 * (with the words and the stored code and offset), the pointer-chain bound, DNS over TCP, and
 * random bytes (run under ASan in the sanitizer build).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
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
	assert_string_equal(m.answers[0].data, "web.example.com");
	assert_string_equal(m.answers[1].name, "web.example.com");
	assert_int_equal(m.answers[1].type, 1);
	assert_memory_equal(m.answers[1].addr, ((uint8_t[]){ 192, 0, 2, 7 }), 4);
	assert_string_equal(m.answers[1].data, "192.0.2.7");
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

/* A message builder: header, then raw bytes appended. */
struct msg {
	uint8_t b[1024];
	size_t n;
};

static void hdr(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an)
{
	uint8_t h[12] = { (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(flags >> 8), (uint8_t)flags,
			  0, (uint8_t)qd, 0, (uint8_t)an, 0, 0, 0, 0 };

	memcpy(m->b, h, 12);
	m->n = 12;
}

static void raw(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void u16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	raw(m, b, 2);
}

static void u32(struct msg *m, uint32_t v)
{
	u16(m, (uint16_t)(v >> 16));
	u16(m, (uint16_t)v);
}

/* "www.example.com" -> labels */
static void name(struct msg *m, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);

		m->b[m->n++] = (uint8_t)l;
		raw(m, dotted, l);
		dotted += l + (dot ? 1 : 0);
	}
	m->b[m->n++] = 0;
}

static void ptr(struct msg *m, uint16_t off)
{
	u16(m, (uint16_t)(0xc000 | off));
}

static void question(struct msg *m, const char *q, uint16_t type)
{
	name(m, q);
	u16(m, type);
	u16(m, 1);
}

/* Resource record header after its owner name. */
static void rr(struct msg *m, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	u16(m, type);
	u16(m, 1);
	u32(m, ttl);
	u16(m, rdlen);
}

static void test_query_built(void **state)
{
	struct msg m;
	struct pg_dns_msg d;

	hdr(&m, 0xbeef, 0x0100, 1, 0);
	question(&m, "www.example.com", 28);
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), 0);
	assert_int_equal(d.id, 0xbeef);
	assert_false(d.response);
	assert_true(d.has_question);
	assert_string_equal(d.qname, "www.example.com");
	assert_int_equal(d.qtype, 28);
	assert_int_equal(d.qclass, 1);
	assert_int_equal(d.nanswers, 0);
}

/* A response with a CNAME chain, compression, and several record types. */
static void test_response_compressed(void **state)
{
	struct msg m;
	struct pg_dns_msg d;
	size_t qoff, cname_off;

	hdr(&m, 7, 0x8180, 1, 6);
	qoff = m.n;
	question(&m, "www.example.com", 1);
	/* www.example.com CNAME cdn.example.net */
	ptr(&m, (uint16_t)qoff);
	rr(&m, 5, 300, 17);
	cname_off = m.n;
	name(&m, "cdn.example.net");
	/* cdn.example.net A 192.0.2.7 */
	ptr(&m, (uint16_t)cname_off);
	rr(&m, 1, 60, 4);
	raw(&m, "\xc0\x00\x02\x07", 4);
	/* AAAA 2001:db8::1 */
	ptr(&m, (uint16_t)cname_off);
	rr(&m, 28, 60, 16);
	raw(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	/* MX 10 mail.<example.com> with a pointer inside the rdata */
	ptr(&m, (uint16_t)(qoff + 4));
	rr(&m, 15, 1, 2 + 5 + 2);
	u16(&m, 10);
	raw(&m, "\x04mail", 5);
	ptr(&m, (uint16_t)(qoff + 4));
	/* TXT with two strings, one with a quote and a space */
	ptr(&m, (uint16_t)qoff);
	rr(&m, 16, 5, 12);
	raw(&m, "\x05v=spf\x05\"a b\x01", 12);
	/* unknown type 99: RFC 3597 form */
	ptr(&m, (uint16_t)qoff);
	rr(&m, 4660, 5, 3);
	raw(&m, "\x01\xab\xff", 3);
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), 0);
	assert_true(d.response);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.nanswers, 6);
	assert_string_equal(d.answers[0].name, "www.example.com");
	assert_int_equal(d.answers[0].type, 5);
	assert_int_equal(d.answers[0].ttl, 300);
	assert_string_equal(d.answers[0].data, "cdn.example.net");
	assert_string_equal(d.answers[1].name, "cdn.example.net");
	assert_string_equal(d.answers[1].data, "192.0.2.7");
	assert_memory_equal(d.answers[1].addr, "\xc0\x00\x02\x07", 4);
	assert_string_equal(d.answers[2].data, "2001:db8::1");
	assert_string_equal(d.answers[3].name, "example.com");
	assert_string_equal(d.answers[3].data, "10 mail.example.com");
	assert_string_equal(d.answers[4].data, "\"v=spf\" \"\\\"a b\\001\"");
	assert_string_equal(d.answers[5].data, "\\# 3 01abff");
}

static void test_nxdomain_and_counts(void **state)
{
	struct msg m;
	struct pg_dns_msg d;

	hdr(&m, 1, 0x8183, 1, 0);
	question(&m, "nope.invalid", 1);
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), 0);
	assert_int_equal(d.rcode, 3);
	assert_string_equal(pg_dns_rcode_name(d.rcode), "NXDOMAIN");
	assert_int_equal(pg_dns_rcode_from_name("nxdomain", 8), 3);
	assert_int_equal(pg_dns_rcode_from_name("RCODE12", 7), 12);
	assert_int_equal(pg_dns_rcode_from_name("BOGUS", 5), -1);
}

/* Names with odd bytes come out escaped, the way dig prints them. */
static void test_name_escapes(void **state)
{
	struct msg m;
	struct pg_dns_msg d;

	hdr(&m, 1, 0, 1, 0);
	raw(&m, "\x05" "a.b c" "\x02\\\xff" "\x00", 10);
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), 0);
	assert_string_equal(d.qname, "a\\.b\\032c.\\\\\\255");
	/* the root */
	hdr(&m, 1, 0, 1, 0);
	raw(&m, "\x00\x00\x02\x00\x01", 5);
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), 0);
	assert_string_equal(d.qname, "");
	assert_int_equal(d.qtype, 2);
}

static void expect_err(const uint8_t *b, size_t n, enum pg_dns_err err, size_t off)
{
	struct pg_dns_msg d;

	assert_int_equal(pg_dns_parse(b, n, &d, NULL, 0), -EINVAL);
	if (d.err != err || d.err_off != off)
		fail_msg("got %s at %zu, wanted %s at %zu", pg_dns_err_name(d.err), d.err_off,
			 pg_dns_err_name(err), off);
	assert_non_null(pg_dns_err_name(d.err));
}

static void test_malformed_codes(void **state)
{
	struct msg m;
	struct pg_dns_msg d;

	/* shorter than a header */
	expect_err((const uint8_t *)"\x01\x02\x03", 3, PG_DNS_E_SHORT, 3); /* where the header would go on */
	expect_err(NULL, 0, PG_DNS_E_SHORT, 0);
	/* qdcount 1, nothing after the header */
	hdr(&m, 1, 0, 1, 0);
	expect_err(m.b, m.n, PG_DNS_E_TRUNCATED, 12);
	/* label runs past the end */
	hdr(&m, 1, 0, 1, 0);
	raw(&m, "\x09" "abc", 4);
	expect_err(m.b, m.n, PG_DNS_E_TRUNCATED, 12);
	/* name ends, but no room for qtype/qclass */
	hdr(&m, 1, 0, 1, 0);
	raw(&m, "\x01" "a" "\x00" "\x00", 4);
	expect_err(m.b, m.n, PG_DNS_E_TRUNCATED, 15);
	/* a pointer to itself */
	hdr(&m, 1, 0, 1, 0);
	ptr(&m, 12);
	expect_err(m.b, m.n, PG_DNS_E_POINTER, 12);
	/* a forward pointer */
	hdr(&m, 1, 0, 1, 0);
	ptr(&m, 40);
	expect_err(m.b, m.n, PG_DNS_E_POINTER, 12);
	/* a loop through two pointers: the second points forward again */
	hdr(&m, 1, 0, 1, 1);
	raw(&m, "\x01" "a", 2);
	ptr(&m, 16); /* at 14, points forward to 16 */
	ptr(&m, 14);
	expect_err(m.b, m.n, PG_DNS_E_POINTER, 14);
	/* a pointer cut in half */
	hdr(&m, 1, 0, 1, 0);
	raw(&m, "\xc0", 1);
	expect_err(m.b, m.n, PG_DNS_E_TRUNCATED, 12);
	/* reserved label types 0x40 and 0x80 */
	hdr(&m, 1, 0, 1, 0);
	raw(&m, "\x41" "a\x00\x00\x01\x00\x01", 7);
	expect_err(m.b, m.n, PG_DNS_E_LABEL_TYPE, 12);
	hdr(&m, 1, 0, 1, 0);
	raw(&m, "\x81" "a\x00\x00\x01\x00\x01", 7);
	expect_err(m.b, m.n, PG_DNS_E_LABEL_TYPE, 12);
	/* longer than 255 bytes: five 63-byte labels */
	hdr(&m, 1, 0, 1, 0);
	for (int i = 0; i < 5; i++) {
		m.b[m.n++] = 63;
		memset(m.b + m.n, 'x', 63);
		m.n += 63;
	}
	m.b[m.n++] = 0;
	u16(&m, 1);
	u16(&m, 1);
	expect_err(m.b, m.n, PG_DNS_E_NAME_LONG, 12 + 3 * 64); /* the 4th label passes 255 */
	/* an A record with 5 bytes of data */
	hdr(&m, 1, 0x8000, 1, 1);
	question(&m, "a", 1);
	ptr(&m, 12);
	rr(&m, 1, 1, 5);
	raw(&m, "\1\2\3\4\5", 5);
	expect_err(m.b, m.n, PG_DNS_E_RDATA, 31);
	/* rdlength past the end */
	hdr(&m, 1, 0x8000, 1, 1);
	question(&m, "a", 1);
	ptr(&m, 12);
	rr(&m, 1, 1, 4);
	raw(&m, "\1\2", 2);
	expect_err(m.b, m.n, PG_DNS_E_TRUNCATED, 31);
	/* a CNAME whose name is shorter than its rdlength */
	hdr(&m, 1, 0x8000, 1, 1);
	question(&m, "a", 1);
	ptr(&m, 12);
	rr(&m, 5, 1, 5);
	raw(&m, "\x01" "b\x00\x00\x00", 5);
	expect_err(m.b, m.n, PG_DNS_E_RDATA, 34); /* where the name ended early */
	/* a CNAME whose name runs past its rdlength */
	hdr(&m, 1, 0x8000, 1, 1);
	question(&m, "a", 1);
	ptr(&m, 12);
	rr(&m, 5, 1, 2);
	raw(&m, "\x01" "b\x00", 3);
	expect_err(m.b, m.n, PG_DNS_E_RDATA, 31);
	/* TXT whose string overruns its rdata */
	hdr(&m, 1, 0x8000, 1, 1);
	question(&m, "a", 1);
	ptr(&m, 12);
	rr(&m, 16, 1, 3);
	raw(&m, "\x05" "ab", 3);
	expect_err(m.b, m.n, PG_DNS_E_RDATA, 31);
	/* what parsed before the error stays: the question */
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), -EINVAL);
	assert_true(d.has_question);
	assert_string_equal(d.qname, "a");
	assert_int_equal(d.id, 1);
}

/* More answers than kept: the first 8, and a flag. */
static void test_many_answers(void **state)
{
	struct msg m;
	struct pg_dns_msg d;

	hdr(&m, 1, 0x8000, 1, 20);
	question(&m, "a", 1);
	for (int i = 0; i < 20; i++) {
		ptr(&m, 12);
		rr(&m, 1, (uint32_t)i, 4);
		u32(&m, 0x0a000000u + (uint32_t)i);
	}
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), 0);
	assert_int_equal(d.nanswers, PG_DNS_MAX_ANSWERS);
	assert_true(d.answers_truncated);
	assert_string_equal(d.answers[7].data, "10.0.0.7");
	/* a huge ancount over a short message is a truncation, not a hang */
	hdr(&m, 1, 0x8000, 1, 0);
	m.b[6] = 0xff;
	m.b[7] = 0xff;
	question(&m, "a", 1);
	expect_err(m.b, m.n, PG_DNS_E_TRUNCATED, m.n);
}

/* The longest name a message can carry prints in full; one printed longer is refused. */
static void test_name_buffer_limits(void **state)
{
	struct msg m;
	struct pg_dns_msg d;
	char err[160];

	hdr(&m, 1, 0, 1, 0);
	/* 127 one-byte labels: 255 wire bytes, 253 printed */
	for (int i = 0; i < 127; i++)
		raw(&m, "\x01z", 2);
	m.b[m.n++] = 0;
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, NULL, 0), 0);
	assert_int_equal(strlen(d.qname), 253);
	/* 3 labels of 63 bytes 0xff: 193 wire bytes, but 4 characters each printed (\255) */
	hdr(&m, 1, 0, 1, 0);
	for (int i = 0; i < 3; i++) {
		m.b[m.n++] = 63;
		memset(m.b + m.n, 0xff, 63);
		m.n += 63;
	}
	m.b[m.n++] = 0;
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(pg_dns_parse(m.b, m.n, &d, err, sizeof(err)), -EINVAL);
	assert_int_equal(d.err, PG_DNS_E_NAME_LONG);
	assert_non_null(strstr(err, "too long to print"));
}

static void test_tcp(void **state)
{
	struct msg m;
	uint8_t b[600];
	struct pg_dns_msg d;

	hdr(&m, 9, 0x0100, 1, 0);
	question(&m, "tcp.example", 16);
	b[0] = (uint8_t)(m.n >> 8);
	b[1] = (uint8_t)m.n;
	memcpy(b + 2, m.b, m.n);
	assert_int_equal(pg_dns_parse_tcp(b, m.n + 2, &d, NULL, 0), 0);
	assert_string_equal(d.qname, "tcp.example");
	/* two pipelined messages: the first is read */
	memcpy(b + 2 + m.n, b, m.n + 2);
	assert_int_equal(pg_dns_parse_tcp(b, 2 * (m.n + 2), &d, NULL, 0), 0);
	assert_int_equal(d.id, 9);
	/* cut short */
	{
		char err[160];

		assert_int_equal(pg_dns_parse_tcp(b, 20, &d, err, sizeof(err)), -EINVAL);
		assert_int_equal(d.err, PG_DNS_E_TRUNCATED);
		assert_int_equal(d.err_off, 18); /* the label "example", counted from the prefix */
		assert_string_equal(err, "byte 18: label of 7 bytes runs past the end of the message");
	}
	assert_int_equal(pg_dns_parse_tcp(b, 1, &d, NULL, 0), -EINVAL);
	assert_int_equal(d.err, PG_DNS_E_SHORT);
}

/* Random bytes never crash or read outside (run under ASan in the sanitizer build). */
/* A sensor record carrying msg (with the stream's length first when tcp && !bare). */
static void record_with(struct pg_dns_event *e, const uint8_t *msg, size_t n, uint32_t flags)
{
	size_t off = 0;

	memset(e, 0, sizeof(*e));
	e->flags = flags;
	if ((flags & PG_DNS_F_TCP) && !(flags & PG_DNS_F_BARE)) {
		e->payload[0] = (uint8_t)(n >> 8);
		e->payload[1] = (uint8_t)n;
		off = 2;
	}
	if (n > sizeof(e->payload) - off)
		n = sizeof(e->payload) - off;
	memcpy(e->payload + off, msg, n);
	e->payload_len = (uint16_t)(off + n);
}

/* The sensor's records: UDP, TCP with its length, TCP whose length went alone (bare), a message
 * longer than the copy (cut: its question still counts), and why the others do not parse. */
static void test_sensor_records(void **state)
{
	struct pg_dns_event e;
	struct pg_dns_msg m;
	uint8_t big[700] = { 0 };

	record_with(&e, query, sizeof(query), 0);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_UNPARSED_NONE);
	assert_string_equal(m.qname, "www.example.com");
	record_with(&e, query, sizeof(query), PG_DNS_F_TCP);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_UNPARSED_NONE);
	record_with(&e, query, sizeof(query), PG_DNS_F_TCP | PG_DNS_F_BARE);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_UNPARSED_NONE);
	assert_int_equal(m.qtype, 28);
	/* bare read as prefixed: the id would be taken for a length and the parse go wrong */
	record_with(&e, query, sizeof(query), PG_DNS_F_TCP | PG_DNS_F_BARE);
	e.flags &= ~PG_DNS_F_BARE;
	assert_int_not_equal(pg_dns_record_parse(&e, &m), PG_DNS_UNPARSED_NONE);

	/* cut: a query whose additional section (a long EDNS option) did not fit */
	memcpy(big, query, sizeof(query));
	big[11] = 1; /* ARCOUNT 1, never read: the message parses */
	record_with(&e, big, sizeof(big), PG_DNS_F_CUT);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_UNPARSED_NONE);
	/* cut inside the question: not a question */
	record_with(&e, query, 20, PG_DNS_F_CUT);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_E_TRUNCATED);
	assert_string_equal(pg_dns_unparsed_name((enum pg_dns_unparsed)PG_DNS_E_TRUNCATED), "truncated");
	/* the same cut without the flag is malformed too */
	record_with(&e, query, 20, 0);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_E_TRUNCATED);

	record_with(&e, query, 0, 0);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_UNPARSED_EMPTY);
	assert_string_equal(pg_dns_unparsed_name(PG_DNS_UNPARSED_EMPTY), "empty");
	record_with(&e, query, 1, PG_DNS_F_TCP | PG_DNS_F_BARE);
	assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_E_SHORT);
	{
		uint8_t noq[12] = { 0x12, 0x34, 0x01, 0x00 }; /* a header that asks nothing */

		record_with(&e, noq, sizeof(noq), 0);
		assert_int_equal(pg_dns_record_parse(&e, &m), PG_DNS_UNPARSED_NO_QUESTION);
		assert_string_equal(pg_dns_unparsed_name(PG_DNS_UNPARSED_NO_QUESTION), "no_question");
	}
	assert_null(pg_dns_unparsed_name(PG_DNS_UNPARSED_COUNT));
}

static void test_random_bytes(void **state)
{
	uint64_t s = 88172645463325252ULL;
	struct pg_dns_msg d;

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)(s % 300);
		uint8_t *b = malloc(n ? n : 1);

		for (size_t i = 0; i < n; i++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			b[i] = (uint8_t)(s >> 24);
			/* bias towards structure: small counts, pointers, short labels */
			if (i >= 4 && i < 12 && (i & 1) == 0)
				b[i] = 0;
			if (i >= 12 && (s & 7) == 0)
				b[i] = (uint8_t)(s & 0x100 ? 0xc0 : (s >> 40) % 8);
		}
		(void)pg_dns_parse(b, n, &d, NULL, 0);
		(void)pg_dns_parse_tcp(b, n, &d, NULL, 0);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_response_with_compression),
		cmocka_unit_test(test_escapes_and_root),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_pointer_chain),
		cmocka_unit_test(test_query_built),
		cmocka_unit_test(test_response_compressed),
		cmocka_unit_test(test_nxdomain_and_counts),
		cmocka_unit_test(test_name_escapes),
		cmocka_unit_test(test_malformed_codes),
		cmocka_unit_test(test_many_answers),
		cmocka_unit_test(test_name_buffer_limits),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_sensor_records),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
