/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS wire-format parser (RFC 1035): header, first question, and the address and name
 * answers. Used by the kernel sensor (queries copied from sendto/sendmsg) and by the packet
 * decoder (queries and responses on the wire). The input is untrusted: every read is bounds
 * checked, compression pointers may only point backwards and are followed a bounded number
 * of times, and a failure says at which byte and why.
 */
#ifndef PANGOLIN_DNS_H
#define PANGOLIN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg_abi.h"

#define PG_DNS_MAX_ANSWERS 8

struct pg_dns_answer {
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	char name[PG_QNAME_LEN];
	/* A and AAAA: the address; CNAME, PTR, NS, DNAME: the target name */
	uint8_t addr_len; /* 4, 16, or 0 */
	uint8_t addr[16];
	char target[PG_QNAME_LEN];
};

struct pg_dns_msg {
	uint16_t id;
	uint16_t flags; /* the raw flags word */
	bool response; /* QR */
	uint8_t opcode;
	uint8_t rcode;
	uint16_t qdcount, ancount, nscount, arcount;
	/* the first question; qdcount == 0 leaves qname empty and qtype 0 */
	char qname[PG_QNAME_LEN]; /* dotted, no final dot; "" for the root; see pg_dns_name */
	uint16_t qtype;
	uint16_t qclass;
	size_t nanswers; /* answers parsed (at most PG_DNS_MAX_ANSWERS of ancount) */
	struct pg_dns_answer answers[PG_DNS_MAX_ANSWERS];
};

/*
 * Parse a DNS message of len bytes (without the TCP length prefix). 0 on success; -EINVAL
 * with a message such as "byte 17: label of 70 bytes (at most 63)" in err on malformed input.
 * Answers after the first PG_DNS_MAX_ANSWERS, authority and additional records are skipped
 * without being parsed.
 *
 * Names are written in presentation form: labels joined by '.', and bytes that would be
 * ambiguous or unprintable escaped as in RFC 1035 master files: "\." for a dot inside a
 * label, "\\" for a backslash, "\DDD" (three decimal digits) for bytes outside 0x21..0x7e.
 */
int pg_dns_parse(const uint8_t *buf, size_t len, struct pg_dns_msg *msg, char *err, size_t errlen);

#endif /* PANGOLIN_DNS_H */
