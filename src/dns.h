/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS wire-format parser (RFC 1035): header, first question, answer records. Used by the
 * kernel sensor (queries copied from sendto/sendmsg) and by the packet decoder (queries and
 * responses on the wire, pangolin sniff). The input is untrusted: every read is bounds
 * checked, compression pointers may only point backwards and are followed a bounded number
 * of times, and a failure says at which byte and why, in words (err) and as a code stored in
 * events (msg->err, msg->err_off). Nothing is allocated.
 */
#ifndef PANGOLIN_DNS_H
#define PANGOLIN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg_abi.h"

#define PG_DNS_NAME_LEN PG_QNAME_LEN /* presentation form, NUL included */
#define PG_DNS_MAX_ANSWERS PG_PKT_DNS_ANSWERS /* answers kept (all are checked) */
#define PG_DNS_MAX_POINTERS 32 /* compression jumps followed in one name */

/* Why a message did not parse. The values are stored in packet events: append only. */
enum pg_dns_err {
	PG_DNS_OK = 0,
	PG_DNS_E_SHORT, /* fewer than 12 bytes: no header */
	PG_DNS_E_TRUNCATED, /* a name or record runs past the end of the message */
	PG_DNS_E_LABEL_TYPE, /* a label starts with 0x40 or 0x80 (extended/reserved types) */
	PG_DNS_E_POINTER, /* a compression pointer not pointing backwards, or too many of them */
	PG_DNS_E_NAME_LONG, /* a name longer than 255 bytes on the wire, or than PG_DNS_NAME_LEN
			     * printed */
	PG_DNS_E_RDATA, /* record data of the wrong size for its type */
	PG_DNS_E_COUNT
};

/*
 * Why the message of a sensor's DNS record did not parse: a parser error, or one of these.
 * (pg_dns_record_parse; counted by reason in `--stats`.)
 */
enum pg_dns_unparsed {
	PG_DNS_UNPARSED_NONE = PG_DNS_OK, /* it parsed, with a question */
	/* PG_DNS_E_SHORT .. PG_DNS_E_RDATA: the parser's reasons */
	PG_DNS_UNPARSED_EMPTY = PG_DNS_E_COUNT, /* nothing copied (user memory unreadable) */
	PG_DNS_UNPARSED_NO_QUESTION, /* a well-formed message that asks nothing */
	PG_DNS_UNPARSED_COUNT
};

struct pg_dns_event;
struct pg_dns_msg;
/* Parse the message a sensor DNS record carries (its payload). */
enum pg_dns_unparsed pg_dns_record_parse(const struct pg_dns_event *e, struct pg_dns_msg *m);
/* "short", ..., "empty", "no_question"; NULL when unknown. */
const char *pg_dns_unparsed_name(enum pg_dns_unparsed why);

/* "short", "truncated", ... (stable names for NDJSON); NULL when unknown. */
const char *pg_dns_err_name(enum pg_dns_err err);
/* PG_DNS_OK when the name is unknown. */
enum pg_dns_err pg_dns_err_from_name(const char *name, size_t len);

/* RCODE names: "NOERROR", "NXDOMAIN", ...; NULL when unnamed. */
const char *pg_dns_rcode_name(unsigned int rcode);
/* 0..15, or -1 when unknown. Accepts "RCODE<n>". */
int pg_dns_rcode_from_name(const char *name, size_t len);

struct pg_dns_msg {
	uint16_t id;
	uint16_t flags; /* the raw flags word */
	bool response; /* QR */
	uint8_t opcode;
	uint8_t rcode;
	uint16_t qdcount, ancount, nscount, arcount;
	/* the first question; qdcount == 0 leaves qname empty, qtype 0, has_question false */
	bool has_question;
	char qname[PG_QNAME_LEN]; /* dotted, no final dot; "" for the root (see pg_abi.h) */
	uint16_t qtype;
	uint16_t qclass;
	size_t nanswers; /* answers kept: at most PG_DNS_MAX_ANSWERS of ancount */
	bool answers_truncated; /* ancount had more answers than were kept */
	struct pg_dns_answer answers[PG_DNS_MAX_ANSWERS]; /* pg_abi.h: data in dig's form */
	enum pg_dns_err err; /* why parsing stopped; PG_DNS_OK on success */
	size_t err_off; /* the byte where it stopped */
};

/*
 * Parse a DNS message of len bytes (without the TCP length prefix). 0 on success; -EINVAL on
 * malformed input, with a message such as "byte 17: label type 0x40 is not supported" in err
 * (may be NULL) and msg->err/err_off set. What was parsed before the failure stays valid:
 * the header (unless PG_DNS_E_SHORT), the question when has_question, nanswers answers.
 * Every answer is checked; authority and additional records are not read.
 *
 * Names are written in presentation form: labels joined by '.', and bytes that would be
 * ambiguous or unprintable escaped as in RFC 1035 master files: "\." for a dot inside a
 * label, "\\" for a backslash, "\DDD" (three decimal digits) for bytes outside 0x21..0x7e.
 */
int pg_dns_parse(const uint8_t *buf, size_t len, struct pg_dns_msg *msg, char *err,
		 size_t errlen);

/*
 * DNS over TCP: buf starts with the two-byte length prefix. A message cut by the segment or
 * the capture is parsed as far as it goes; bytes after the first message (pipelined queries)
 * are ignored. Offsets in err and err_off count from buf.
 */
int pg_dns_parse_tcp(const uint8_t *buf, size_t len, struct pg_dns_msg *msg, char *err,
		     size_t errlen);

#endif /* PANGOLIN_DNS_H */
