/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS messages (RFC 1035) from the wire: header, first question, answer records. Shared by
 * pangolin sniff (packets) and the kernel sensor's DNS events (a message copied by BPF).
 *
 * Strict: every length is checked against the buffer before a byte is read; compression
 * pointers must point strictly backwards (which also rules out loops); names longer than 255
 * bytes on the wire, reserved label types and record data that does not fit its type are
 * errors with the offset where they happen. Nothing is allocated.
 */
#ifndef PANGOLIN_DNS_H
#define PANGOLIN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg_abi.h"

#define PG_DNS_NAME_LEN PG_QNAME_LEN /* presentation form, NUL included */
#define PG_DNS_MAX_ANSWERS PG_PKT_DNS_ANSWERS

/* Why a message did not parse. The values are stored in events: append only. */
enum pg_dns_err {
	PG_DNS_OK = 0,
	PG_DNS_E_SHORT, /* fewer than 12 bytes: no header */
	PG_DNS_E_TRUNCATED, /* a name or record runs past the end of the message */
	PG_DNS_E_LABEL_TYPE, /* a label starts with 0x40 or 0x80 (reserved/extended types) */
	PG_DNS_E_POINTER, /* a compression pointer that does not point strictly backwards */
	PG_DNS_E_NAME_LONG, /* a name longer than 255 bytes on the wire */
	PG_DNS_E_RDATA, /* record data of the wrong size for its type */
	PG_DNS_E_COUNT
};

/* "message shorter than a DNS header", ... */
const char *pg_dns_strerror(enum pg_dns_err err);
/* "short", "truncated", ... (stable names for NDJSON) */
const char *pg_dns_err_name(enum pg_dns_err err);
enum pg_dns_err pg_dns_err_from_name(const char *name, size_t len);

/* RCODE names: "NOERROR", "NXDOMAIN", ...; NULL when unnamed. */
const char *pg_dns_rcode_name(unsigned int rcode);
/* 0..15, or -1 when unknown. Accepts "RCODE<n>". */
int pg_dns_rcode_from_name(const char *name, size_t len);

struct pg_dns_msg {
	uint16_t id;
	uint16_t flags; /* the header's flags word */
	bool qr; /* a response */
	uint8_t opcode;
	uint8_t rcode;
	uint16_t qdcount, ancount, nscount, arcount;
	bool has_question; /* qname/qtype/qclass are the first question's */
	char qname[PG_DNS_NAME_LEN];
	uint16_t qtype;
	uint16_t qclass;
	struct pg_dns_answer answers[PG_DNS_MAX_ANSWERS];
	unsigned int nanswers; /* answers filled */
	bool answers_truncated; /* ancount had more than PG_DNS_MAX_ANSWERS */
	enum pg_dns_err err;
	size_t err_off; /* byte offset in the message where err was found */
};

/*
 * Parse a message of len bytes (UDP payload, or what BPF copied). 0 on success. -EINVAL with
 * out->err and out->err_off set; what was parsed before the error stays valid (the header
 * unless err is PG_DNS_E_SHORT, the question when has_question, nanswers answers).
 */
int pg_dns_parse(const uint8_t *msg, size_t len, struct pg_dns_msg *out);

/*
 * DNS over TCP: buf starts with the two-byte length prefix. A message cut by the segment or
 * the capture is parsed as far as it goes (ending in PG_DNS_E_TRUNCATED); bytes after the
 * first message (pipelined queries) are ignored. err_off counts from buf.
 */
int pg_dns_parse_tcp(const uint8_t *buf, size_t len, struct pg_dns_msg *out);

/*
 * Decode the (possibly compressed) name at off into out (presentation form, see pg_abi.h).
 * *next is the offset after the name where it starts (after a pointer, not its target).
 * 0, or -EINVAL with *err set; a name that does not fit outsz is cut and -ENOSPC returned
 * (still NUL-terminated, *next valid).
 */
int pg_dns_read_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t outsz,
		     size_t *next, enum pg_dns_err *err);

#endif /* PANGOLIN_DNS_H */
