// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Packet events: frames decoded into fields, the canonical NDJSON line, the exact round trip
 * back to the same record, and the filter language over packet fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pcap/dlt.h>

#include "dns.h"
#include "filter.h"
#include "json.h"
#include "packet.h"

struct frame {
	uint8_t b[1600];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static void eth(struct frame *f, uint16_t type)
{
	f->n = 0;
	put(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	put16(f, type);
}

/* IPv4 header; total length patched by ip_done. */
static size_t ipv4(struct frame *f, uint8_t proto, const char *src, const char *dst)
{
	size_t at = f->n;
	uint8_t h[20] = { 0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto };

	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	put(f, h, 20);
	return at;
}

static void ip_done(struct frame *f, size_t at)
{
	size_t tot = f->n - at;

	f->b[at + 2] = (uint8_t)(tot >> 8);
	f->b[at + 3] = (uint8_t)tot;
}

static size_t udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	size_t at = f->n;

	put16(f, sport);
	put16(f, dport);
	put16(f, 0);
	put16(f, 0);
	return at;
}

static void udp_done(struct frame *f, size_t at)
{
	size_t l = f->n - at;

	f->b[at + 4] = (uint8_t)(l >> 8);
	f->b[at + 5] = (uint8_t)l;
}

/* A DNS response: www.example.com A -> CNAME cdn.example.net, A 192.0.2.7 */
static void dns_response(struct frame *f)
{
	static const uint8_t msg[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 17,
		3, 'c', 'd', 'n', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
		0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7,
	};

	put(f, msg, sizeof(msg));
}

static void decode(struct pg_event *ev, const struct frame *f, uint32_t caplen)
{
	struct pg_packet_meta m = { .ts_ns = 1700000000123456789ULL, .ifindex = 3,
				    .ifname = "veth1", .direction = PG_PKT_DIR_IN };

	assert_int_equal(pg_packet_decode(ev, DLT_EN10MB, f->b, caplen, (uint32_t)f->n, &m), 0);
}

/* Encode, check the line, decode, compare the records, encode again. */
static void roundtrip(const struct pg_event *ev, const char *expect)
{
	struct pg_buf a = { 0 }, b = { 0 };
	struct pg_json_decoder dec;
	struct pg_json_error err;
	struct pg_event back;

	pg_json_encode(ev, &a);
	pg_buf__putc(&a, 0);
	if (expect && strcmp(a.data, expect))
		fail_msg("encoded\n%s\nexpected\n%s", a.data, expect);
	if (pg_json_decode(&dec, a.data, a.len - 1, &back, &err))
		fail_msg("decode failed at column %zu: %s\n%s", err.column, err.msg, a.data);
	if (memcmp(&back.r, &ev->r, pg_event_record_size(PG_EV_PACKET))) {
		for (size_t i = 0; i < pg_event_record_size(PG_EV_PACKET); i++)
			if (((uint8_t *)&back.r)[i] != ((const uint8_t *)&ev->r)[i])
				fail_msg("record differs first at byte %zu\n%s", i, a.data);
	}
	pg_json_encode(&back, &b);
	pg_buf__putc(&b, 0);
	assert_string_equal(a.data, b.data);
	pg_buf__free(&a);
	pg_buf__free(&b);
}

static bool match(const char *expr, const struct pg_event *ev)
{
	struct pg_filter_error err;
	struct pg_filter *f = pg_filter__parse(expr, &err);
	bool m;

	if (!f)
		fail_msg("filter '%s': column %zu: %s", expr, err.column, err.msg);
	m = pg_filter__match(f, ev);
	pg_filter__free(f);
	return m;
}

static void test_dns_over_udp(void **state)
{
	struct frame f;
	struct pg_event ev;
	size_t ip, u;
	const struct pg_packet_event *p = &ev.r.packet;

	eth(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.53", "10.0.0.2");
	u = udp(&f, 53, 40000);
	dns_response(&f);
	udp_done(&f, u);
	ip_done(&f, ip);
	decode(&ev, &f, (uint32_t)f.n);
	assert_int_equal(p->hdr.type, PG_EV_PACKET);
	assert_int_equal(p->family, AF_INET);
	assert_int_equal(p->ip_proto, 17);
	assert_int_equal(p->sport, 53);
	assert_int_equal(p->dport, 40000);
	assert_true(p->flags & PG_PKT_F_DNS);
	assert_false(p->flags & PG_PKT_F_DNS_ERROR);
	assert_string_equal(p->qname, "www.example.com");
	assert_int_equal(p->nanswers, 2);
	roundtrip(&ev,
		  "{\"v\":1,\"type\":\"packet\",\"time\":\"2023-11-14T22:13:20.123456789Z\",\"ts\":1700000000123456789,"
		  "\"pid\":0,\"tid\":0,\"ppid\":0,\"uid\":0,\"gid\":0,\"comm\":\"\",\"cgroup_id\":0,\"start_ns\":0,"
		  "\"ifindex\":3,\"ifname\":\"veth1\",\"direction\":\"in\",\"len\":120,\"caplen\":120,\"ethertype\":2048,"
		  "\"family\":\"inet\",\"saddr\":\"192.0.2.53\",\"daddr\":\"10.0.0.2\",\"ip_proto\":\"udp\",\"sport\":53,"
		  "\"dport\":40000,\"dns_id\":4660,\"qr\":true,\"rcode\":\"NOERROR\",\"qname\":\"www.example.com\","
		  "\"qtype\":\"A\",\"qclass\":1,\"answers\":[{\"name\":\"www.example.com\",\"type\":\"CNAME\",\"ttl\":300,"
		  "\"data\":\"cdn.example.net\"},{\"name\":\"cdn.example.net\",\"type\":\"A\",\"ttl\":60,"
		  "\"data\":\"192.0.2.7\"}]}");
	assert_true(match("type == \"packet\" && qname endswith \".example.com\" && qtype == \"A\"", &ev));
	assert_true(match("ip_proto == \"udp\" && sport == 53 && qr == 1 && rcode == \"NOERROR\"", &ev));
	assert_true(match("answers contains \"192.0.2.7\" && saddr == \"192.0.2.0/24\"", &ev));
	assert_true(match("direction == \"in\" && ifname == \"veth1\" && len > 100", &ev));
	assert_false(match("vlan == 0", &ev)); /* untagged: no VLAN field at all */
	assert_false(match("tcp_flags == \"SYN\"", &ev));
	assert_false(match("rcode == \"NXDOMAIN\"", &ev));

	/* the same frame cut by a 68-byte snapshot (the seed's ACCEPT): the question is cut
	 * (26 bytes of DNS), the header is kept and the error says what happened */
	decode(&ev, &f, 68);
	assert_true(p->flags & PG_PKT_F_DNS_ERROR);
	assert_int_equal(p->dns_error, PG_DNS_E_TRUNCATED);
	assert_int_equal(p->caplen, 68);
	assert_int_equal(p->wire_len, 120);
	assert_int_equal(p->dns_id, 0x1234);
	assert_false(p->flags & PG_PKT_F_DNS_QUESTION);
	assert_false(match("qname == \"\"", &ev));
	roundtrip(&ev, NULL);
}

static void test_vlan_ipv6_tcp(void **state)
{
	struct frame f;
	struct pg_event ev;
	const struct pg_packet_event *p = &ev.r.packet;
	uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 28, 0 /* hop-by-hop */, 64 };

	eth(&f, 0x8100);
	put16(&f, 0x2064); /* PCP 1, VID 100 */
	put16(&f, 0x86dd);
	inet_pton(AF_INET6, "2001:db8::1", ip6 + 8);
	inet_pton(AF_INET6, "2001:db8::2", ip6 + 24);
	put(&f, ip6, 40);
	put(&f, "\x06\x00\x01\x04\x00\x00\x00\x00", 8); /* hop-by-hop: next TCP, 8 bytes */
	put16(&f, 443);
	put16(&f, 51000);
	put(&f, "\0\0\0\1\0\0\0\0\x50\x12\xff\xff\0\0\0\0", 16); /* SYN|ACK */
	decode(&ev, &f, (uint32_t)f.n);
	assert_true(p->flags & PG_PKT_F_VLAN);
	assert_int_equal(p->vlan, 100);
	assert_int_equal(p->ethertype, 0x86dd);
	assert_int_equal(p->family, AF_INET6);
	assert_int_equal(p->ip_proto, 6);
	assert_int_equal(p->sport, 443);
	assert_int_equal(p->tcp_flags, 0x12);
	assert_false(p->flags & PG_PKT_F_DNS);
	roundtrip(&ev, NULL);
	assert_true(match("vlan == 100 && tcp_flags == \"SYN|ACK\" && family == \"inet6\"", &ev));
	assert_true(match("tcp_flags in [\"ACK|SYN\", \"SYN\"] && daddr == \"2001:db8::/64\"", &ev));
	assert_false(match("qname == \"\"", &ev)); /* not DNS: no qname at all */
	assert_false(match("dns_id == 0", &ev));
}

static void test_truncated_frames(void **state)
{
	struct frame f;
	struct pg_event ev;
	const struct pg_packet_event *p = &ev.r.packet;
	size_t ip;

	/* shorter than an Ethernet header */
	eth(&f, 0x0800);
	decode(&ev, &f, 10);
	assert_true(p->flags & PG_PKT_F_L4_TRUNC);
	assert_int_equal(p->ethertype, 0);
	roundtrip(&ev, NULL);
	/* an IPv4 header cut in half */
	ip = ipv4(&f, 6, "10.0.0.1", "10.0.0.2");
	ip_done(&f, ip);
	decode(&ev, &f, 24);
	assert_true(p->flags & PG_PKT_F_L4_TRUNC);
	assert_int_equal(p->family, 0);
	roundtrip(&ev, NULL);
	/* a TCP header with only its ports */
	put16(&f, 1);
	put16(&f, 2);
	ip_done(&f, ip);
	decode(&ev, &f, (uint32_t)f.n);
	assert_true(p->flags & PG_PKT_F_L4_TRUNC);
	assert_int_equal(p->sport, 1);
	assert_int_equal(p->dport, 2);
	roundtrip(&ev, NULL);
	/* a later IPv4 fragment: no ports */
	eth(&f, 0x0800);
	ip = ipv4(&f, 17, "10.0.0.1", "10.0.0.2");
	f.b[ip + 6] = 0x00;
	f.b[ip + 7] = 0x10; /* offset 128 bytes */
	udp(&f, 53, 53);
	ip_done(&f, ip);
	decode(&ev, &f, (uint32_t)f.n);
	assert_true(p->flags & PG_PKT_F_FRAGMENT);
	assert_int_equal(p->sport, 0);
	assert_false(p->flags & PG_PKT_F_DNS);
	roundtrip(&ev, NULL);
	/* ARP: no IP fields at all */
	eth(&f, 0x0806);
	put(&f, "\0\1\x08\0\6\4\0\1", 8);
	decode(&ev, &f, (uint32_t)f.n);
	assert_int_equal(p->family, 0);
	assert_false(match("sport == 0", &ev));
	roundtrip(&ev, NULL);
}

/* Ethernet pads short frames; the UDP length, not the frame, bounds the DNS message. */
static void test_padding(void **state)
{
	struct frame f;
	struct pg_event ev;
	const struct pg_packet_event *p = &ev.r.packet;
	size_t ip, u;
	static const uint8_t q[] = { 0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1 };

	eth(&f, 0x0800);
	ip = ipv4(&f, 17, "10.0.0.1", "10.0.0.2");
	u = udp(&f, 40000, 53);
	put(&f, q, sizeof(q));
	udp_done(&f, u);
	ip_done(&f, ip);
	memset(f.b + f.n, 0xee, 10); /* padding */
	f.n += 10;
	decode(&ev, &f, (uint32_t)f.n);
	assert_false(p->flags & PG_PKT_F_DNS_ERROR);
	assert_string_equal(p->qname, "a");
	assert_int_equal(p->dns_id, 9);
	roundtrip(&ev, NULL);
}

static void test_dns_over_tcp(void **state)
{
	struct frame f;
	struct pg_event ev;
	const struct pg_packet_event *p = &ev.r.packet;
	size_t ip;
	static const uint8_t q[] = { 0, 19, 0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				     1, 'a', 0, 0, 16, 0, 1 };

	eth(&f, 0x0800);
	ip = ipv4(&f, 6, "10.0.0.1", "10.0.0.2");
	put16(&f, 40000);
	put16(&f, 53);
	put(&f, "\0\0\0\1\0\0\0\0\x50\x18\xff\xff\0\0\0\0", 16);
	put(&f, q, sizeof(q));
	ip_done(&f, ip);
	decode(&ev, &f, (uint32_t)f.n);
	assert_true(p->flags & PG_PKT_F_DNS);
	assert_false(p->flags & PG_PKT_F_DNS_ERROR);
	assert_int_equal(p->qtype, 16);
	roundtrip(&ev, NULL);
	assert_true(match("qtype == \"TXT\" && tcp_flags == \"PSH|ACK\"", &ev));
}

static void expect_decode_error(const char *line, const char *needle)
{
	struct pg_json_decoder dec;
	struct pg_json_error err;
	struct pg_event ev;

	if (!pg_json_decode(&dec, line, strlen(line), &ev, &err))
		fail_msg("decoded, but should not have: %s", line);
	if (!strstr(err.msg, needle))
		fail_msg("got '%s', wanted '%s'", err.msg, needle);
}

#define PHDR "{\"v\":1,\"type\":\"packet\",\"ts\":1,\"pid\":0,\"tid\":0,\"ppid\":0,\"uid\":0,\"gid\":0," \
	     "\"comm\":\"\",\"cgroup_id\":0,\"start_ns\":0,\"ifindex\":0,\"ifname\":\"\",\"direction\":\"\"," \
	     "\"len\":60,\"caplen\":60,\"ethertype\":2048"

static void test_decoder_errors(void **state)
{
	expect_decode_error(PHDR ",\"family\":\"inet\"}", "come together");
	expect_decode_error(PHDR ",\"family\":\"inet\",\"saddr\":\"1.2.3.4\",\"daddr\":\"1.2.3.5\","
				 "\"ip_proto\":\"tcp\",\"sport\":1,\"dport\":2}",
			    "tcp_flags");
	expect_decode_error(PHDR ",\"family\":\"inet\",\"saddr\":\"1.2.3.4\",\"daddr\":\"1.2.3.5\","
				 "\"ip_proto\":\"udp\",\"sport\":1,\"dport\":2,\"tcp_flags\":\"SYN\"}",
			    "only in TCP");
	expect_decode_error(PHDR ",\"family\":\"inet\",\"saddr\":\"::1\",\"daddr\":\"1.2.3.5\","
				 "\"ip_proto\":\"udp\",\"sport\":1,\"dport\":2}",
			    "not an IPv4 address");
	expect_decode_error(PHDR ",\"family\":\"inet\",\"saddr\":\"1.2.3.4\",\"daddr\":\"1.2.3.5\","
				 "\"ip_proto\":\"bogus\",\"sport\":1,\"dport\":2}",
			    "unknown protocol");
	expect_decode_error(PHDR ",\"dns_id\":1,\"rcode\":\"NOERROR\"}", "answers");
	expect_decode_error(PHDR ",\"dns_id\":1,\"rcode\":\"NOERROR\",\"answers\":[{\"name\":\"a\","
				 "\"type\":\"A\",\"ttl\":1,\"data\":\"nope\"}]}",
			    "not an IPv4 address");
	expect_decode_error(PHDR ",\"dns_id\":1,\"rcode\":\"NOERROR\",\"answers\":[{\"name\":\"a\","
				 "\"type\":\"A\",\"data\":\"1.2.3.4\"}]}",
			    "has no \"ttl\"");
	expect_decode_error(PHDR ",\"dns_id\":1,\"rcode\":\"NOERROR\",\"answers\":[{\"name\":\"a\","
				 "\"type\":\"A\",\"ttl\":1,\"data\":\"1.2.3.4\",\"color\":1}]}",
			    "unknown field \"color\"");
	expect_decode_error(PHDR ",\"dns_id\":1,\"rcode\":\"NOERROR\",\"answers\":[1]}",
			    "expected an object");
	expect_decode_error(PHDR ",\"dns_id\":1,\"rcode\":\"BAD\",\"answers\":[]}", "unknown rcode");
	expect_decode_error(PHDR ",\"dns_id\":1,\"rcode\":\"NOERROR\",\"qname\":\"a\",\"answers\":[]}",
			    "come together");
	expect_decode_error(PHDR ",\"dns_error\":\"short\",\"dns_id\":1}", "no DNS fields");
	expect_decode_error(PHDR ",\"dns_error\":\"weird\"}", "unknown error");
	expect_decode_error(PHDR ",\"direction\":\"sideways\"}", "duplicate field");
	expect_decode_error(PHDR ",\"vlan\":5000}", "out of range");
	expect_decode_error(PHDR ",\"path\":\"/x\"}", "does not belong in packet events");
}

/* Random frames: the decoder reads nothing outside them (ASan build) and always round-trips. */
static void test_random_frames(void **state)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806 };

	for (int iter = 0; iter < 3000; iter++) {
		struct frame f;
		struct pg_event ev;
		size_t n;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		n = 14 + (size_t)(s % 200);
		eth(&f, types[s % 5]);
		for (size_t i = 14; i < n; i++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			f.b[i] = (uint8_t)(s >> 32);
		}
		if (n > 24 && types[(s >> 8) % 5] == 0x0800) {
			f.b[14] = 0x45;
			f.b[23] = s & 1 ? 17 : 6;
			f.b[34] = 0;
			f.b[35] = 53;
		}
		f.n = n;
		decode(&ev, &f, (uint32_t)(s % 2 ? n : n / 2));
		roundtrip(&ev, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_over_udp),	  cmocka_unit_test(test_vlan_ipv6_tcp),
		cmocka_unit_test(test_truncated_frames),  cmocka_unit_test(test_padding),
		cmocka_unit_test(test_dns_over_tcp),	  cmocka_unit_test(test_decoder_errors),
		cmocka_unit_test(test_random_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
