// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* DNS wire-format parser (dns.h). Every read is preceded by a bounds check on len. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

static const char *const err_text[PG_DNS_E_COUNT] = {
	[PG_DNS_OK] = "no error",
	[PG_DNS_E_SHORT] = "message shorter than a DNS header (12 bytes)",
	[PG_DNS_E_TRUNCATED] = "a name or record runs past the end of the message",
	[PG_DNS_E_LABEL_TYPE] = "label with a reserved type (first byte 0x40..0xbf)",
	[PG_DNS_E_POINTER] = "compression pointer that does not point backwards",
	[PG_DNS_E_NAME_LONG] = "name longer than 255 bytes",
	[PG_DNS_E_RDATA] = "record data of the wrong length for its type",
};

static const char *const err_names[PG_DNS_E_COUNT] = {
	[PG_DNS_OK] = "ok",		  [PG_DNS_E_SHORT] = "short",
	[PG_DNS_E_TRUNCATED] = "truncated", [PG_DNS_E_LABEL_TYPE] = "label-type",
	[PG_DNS_E_POINTER] = "pointer",	  [PG_DNS_E_NAME_LONG] = "name-too-long",
	[PG_DNS_E_RDATA] = "rdata",
};

const char *pg_dns_strerror(enum pg_dns_err err)
{
	return (unsigned int)err < PG_DNS_E_COUNT ? err_text[err] : "unknown error";
}

const char *pg_dns_err_name(enum pg_dns_err err)
{
	return (unsigned int)err < PG_DNS_E_COUNT ? err_names[err] : NULL;
}

enum pg_dns_err pg_dns_err_from_name(const char *name, size_t len)
{
	for (unsigned int e = 1; e < PG_DNS_E_COUNT; e++)
		if (strlen(err_names[e]) == len && !memcmp(err_names[e], name, len))
			return (enum pg_dns_err)e;
	return PG_DNS_OK;
}

static const char *const rcodes[16] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",	 "REFUSED", "YXDOMAIN", "YXRRSET",
	"NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI", NULL,	 NULL,	    NULL,	NULL,
};

const char *pg_dns_rcode_name(unsigned int rcode)
{
	return rcode < 16 ? rcodes[rcode] : NULL;
}

int pg_dns_rcode_from_name(const char *name, size_t len)
{
	for (int r = 0; r < 16; r++)
		if (rcodes[r] && strlen(rcodes[r]) == len && !strncasecmp(rcodes[r], name, len))
			return r;
	if (len > 5 && len < 8 && !strncasecmp(name, "RCODE", 5)) {
		int v = 0;

		for (size_t i = 5; i < len; i++) {
			if (name[i] < '0' || name[i] > '9')
				return -1;
			v = v * 10 + (name[i] - '0');
		}
		return v < 16 ? v : -1;
	}
	return -1;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appending presentation text to a bounded buffer; overflow is remembered, not written. */
struct text {
	char *buf;
	size_t size, len;
	bool cut;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->cut || t->len + n >= t->size) {
		t->cut = true;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = 0;
}

/* One byte of a label or string in presentation form (RFC 1035 5.1). */
static void put_byte(struct text *t, uint8_t c, bool in_string)
{
	char tmp[5];

	if ((c == '.' && !in_string) || c == '\\' || (c == '"' && in_string)) {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		put(t, tmp, 2);
	} else if (c < 0x21 || c > 0x7e) {
		if (c == ' ' && in_string) {
			put(t, " ", 1);
			return;
		}
		snprintf(tmp, sizeof(tmp), "\\%03u", c);
		put(t, tmp, 4);
	} else {
		tmp[0] = (char)c;
		put(t, tmp, 1);
	}
}

static int name_at(const uint8_t *msg, size_t len, size_t off, struct text *t, size_t *next,
		   enum pg_dns_err *err, size_t *err_off)
{
	size_t pos = off, wire = 0;
	bool jumped = false, first = true;

	for (;;) {
		uint8_t l;

		if (pos >= len) {
			*err = PG_DNS_E_TRUNCATED;
			*err_off = pos;
			return -EINVAL;
		}
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len) {
				*err = PG_DNS_E_TRUNCATED;
				*err_off = pos;
				return -EINVAL;
			}
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			/* strictly backwards: the walk ends, and there can be no loop */
			if (target >= pos) {
				*err = PG_DNS_E_POINTER;
				*err_off = pos;
				return -EINVAL;
			}
			if (!jumped)
				*next = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (l & 0xc0) {
			*err = PG_DNS_E_LABEL_TYPE;
			*err_off = pos;
			return -EINVAL;
		}
		wire += (size_t)l + 1;
		if (wire > 255) {
			*err = PG_DNS_E_NAME_LONG;
			*err_off = pos;
			return -EINVAL;
		}
		if (l == 0) {
			if (!jumped)
				*next = pos + 1;
			return 0;
		}
		if (pos + 1 + l > len) {
			*err = PG_DNS_E_TRUNCATED;
			*err_off = pos;
			return -EINVAL;
		}
		if (!first)
			put(t, ".", 1);
		first = false;
		for (size_t i = 0; i < l; i++)
			put_byte(t, msg[pos + 1 + i], false);
		pos += 1 + (size_t)l;
	}
}

int pg_dns_read_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t outsz,
		     size_t *next, enum pg_dns_err *err)
{
	struct text t = { .buf = out, .size = outsz };
	size_t err_off;

	if (outsz)
		out[0] = 0;
	*err = PG_DNS_OK;
	if (name_at(msg, len, off, &t, next, err, &err_off))
		return -EINVAL;
	return t.cut ? -ENOSPC : 0;
}

static void put_num(struct text *t, unsigned long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lu", v);

	put(t, tmp, (size_t)n);
}

/*
 * The answer's data in presentation form. rd points at rdlen bytes inside msg (names in it
 * may point anywhere earlier in the message).
 */
static int answer_data(const uint8_t *msg, size_t len, size_t rd, size_t rdlen,
		       struct pg_dns_answer *a, enum pg_dns_err *err, size_t *err_off)
{
	struct text t = { .buf = a->data, .size = sizeof(a->data) };
	size_t end = rd + rdlen, next = rd;
	char tmp[INET6_ADDRSTRLEN];

	a->data[0] = 0;
#define NAME_AT(o)                                                     \
	do {                                                           \
		if (name_at(msg, len, (o), &t, &next, err, err_off))   \
			return -EINVAL;                                \
		if (next > end)                                        \
			goto bad_length;                               \
	} while (0)
	switch (a->type) {
	case 1: /* A */
	case 28: /* AAAA */
		if (rdlen != (a->type == 1 ? 4u : 16u))
			goto bad_length;
		memcpy(a->addr, msg + rd, rdlen);
		inet_ntop(a->type == 1 ? AF_INET : AF_INET6, a->addr, tmp, sizeof(tmp));
		put(&t, tmp, strlen(tmp));
		break;
	case 2: /* NS */
	case 5: /* CNAME */
	case 12: /* PTR */
	case 39: /* DNAME */
		NAME_AT(rd);
		if (next != end)
			goto bad_length;
		break;
	case 15: /* MX: preference, exchange */
		if (rdlen < 3)
			goto bad_length;
		put_num(&t, rd16(msg + rd));
		put(&t, " ", 1);
		NAME_AT(rd + 2);
		if (next != end)
			goto bad_length;
		break;
	case 33: /* SRV: priority, weight, port, target */
		if (rdlen < 7)
			goto bad_length;
		for (int i = 0; i < 3; i++) {
			put_num(&t, rd16(msg + rd + 2 * (size_t)i));
			put(&t, " ", 1);
		}
		NAME_AT(rd + 6);
		if (next != end)
			goto bad_length;
		break;
	case 6: /* SOA: mname rname serial refresh retry expire minimum */
		NAME_AT(rd);
		put(&t, " ", 1);
		NAME_AT(next);
		if (end - next != 20)
			goto bad_length;
		for (int i = 0; i < 5; i++) {
			put(&t, " ", 1);
			put_num(&t, rd32(msg + next + 4 * (size_t)i));
		}
		break;
	case 16: /* TXT: one or more character-strings */
		if (!rdlen)
			goto bad_length;
		for (size_t p = rd; p < end;) {
			size_t l = msg[p];

			if (p + 1 + l > end)
				goto bad_length;
			if (p != rd)
				put(&t, " ", 1);
			put(&t, "\"", 1);
			for (size_t i = 0; i < l; i++)
				put_byte(&t, msg[p + 1 + i], true);
			put(&t, "\"", 1);
			p += 1 + l;
		}
		break;
	default: { /* RFC 3597: \# length hex */
		static const char hex[] = "0123456789abcdef";

		put(&t, "\\# ", 3);
		put_num(&t, rdlen);
		if (rdlen)
			put(&t, " ", 1);
		for (size_t i = 0; i < rdlen; i++) {
			char h[2] = { hex[msg[rd + i] >> 4], hex[msg[rd + i] & 15] };

			put(&t, h, 2);
		}
	}
	}
#undef NAME_AT
	if (t.cut)
		a->flags |= PG_DNS_ANS_DATA_TRUNC;
	return 0;
bad_length:
	*err = PG_DNS_E_RDATA;
	*err_off = rd;
	return -EINVAL;
}

int pg_dns_parse(const uint8_t *msg, size_t len, struct pg_dns_msg *out)
{
	size_t pos, next = 0;
	struct text t;

	memset(out, 0, offsetof(struct pg_dns_msg, answers));
	out->nanswers = 0;
	out->answers_truncated = false;
	out->err = PG_DNS_OK;
	out->err_off = 0;
	if (len < 12) {
		out->err = PG_DNS_E_SHORT;
		return -EINVAL;
	}
	out->id = rd16(msg);
	out->flags = rd16(msg + 2);
	out->qr = out->flags >> 15;
	out->opcode = (out->flags >> 11) & 0xf;
	out->rcode = out->flags & 0xf;
	out->qdcount = rd16(msg + 4);
	out->ancount = rd16(msg + 6);
	out->nscount = rd16(msg + 8);
	out->arcount = rd16(msg + 10);
	pos = 12;
	for (unsigned int q = 0; q < out->qdcount; q++) {
		char skip[PG_DNS_NAME_LEN];

		t = (struct text){ .buf = q ? skip : out->qname, .size = PG_DNS_NAME_LEN };
		if (name_at(msg, len, pos, &t, &next, &out->err, &out->err_off))
			return -EINVAL;
		if (next + 4 > len) {
			out->err = PG_DNS_E_TRUNCATED;
			out->err_off = next;
			return -EINVAL;
		}
		if (!q) {
			out->qtype = rd16(msg + next);
			out->qclass = rd16(msg + next + 2);
			out->has_question = true;
		}
		pos = next + 4;
	}
	for (unsigned int i = 0; i < out->ancount; i++) {
		struct pg_dns_answer *a;
		size_t rdlen;

		if (out->nanswers == PG_DNS_MAX_ANSWERS) {
			out->answers_truncated = true;
			break;
		}
		a = &out->answers[out->nanswers];
		memset(a, 0, sizeof(*a));
		t = (struct text){ .buf = a->name, .size = sizeof(a->name) };
		if (name_at(msg, len, pos, &t, &next, &out->err, &out->err_off))
			return -EINVAL;
		if (next + 10 > len) {
			out->err = PG_DNS_E_TRUNCATED;
			out->err_off = next;
			return -EINVAL;
		}
		a->type = rd16(msg + next);
		a->rclass = rd16(msg + next + 2);
		a->ttl = rd32(msg + next + 4);
		rdlen = rd16(msg + next + 8);
		pos = next + 10;
		if (pos + rdlen > len) {
			out->err = PG_DNS_E_TRUNCATED;
			out->err_off = pos;
			return -EINVAL;
		}
		if (answer_data(msg, len, pos, rdlen, a, &out->err, &out->err_off))
			return -EINVAL;
		if (t.cut)
			a->flags |= PG_DNS_ANS_DATA_TRUNC;
		out->nanswers++;
		pos += rdlen;
	}
	return 0;
}

int pg_dns_parse_tcp(const uint8_t *buf, size_t len, struct pg_dns_msg *out)
{
	size_t mlen;
	int rc;

	if (len < 2)
		return pg_dns_parse(buf, 0, out);
	mlen = rd16(buf);
	rc = pg_dns_parse(buf + 2, mlen < len - 2 ? mlen : len - 2, out);
	if (rc)
		out->err_off += 2;
	return rc;
}
