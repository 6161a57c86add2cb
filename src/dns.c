// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

#define MAX_POINTERS 32 /* compression jumps followed in one name */
#define MAX_WIRE_NAME 255 /* RFC 1035 2.3.4 */

struct rd {
	const uint8_t *b;
	size_t len;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int bad(struct rd *r, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!r->err || !r->errlen)
		return -EINVAL;
	n = snprintf(r->err, r->errlen, "byte %zu: ", at);
	if (n > 0 && (size_t)n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int u16_at(struct rd *r, size_t at, uint16_t *v, const char *what)
{
	if (at + 2 > r->len)
		return bad(r, at, "message ends inside the %s", what);
	*v = (uint16_t)(r->b[at] << 8 | r->b[at + 1]);
	return 0;
}

/* Append one label byte in presentation form; false when out would overflow. */
static bool put_label_byte(char *out, size_t *n, uint8_t c)
{
	char tmp[5];
	size_t l;

	if (c == '.' || c == '\\') {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		l = 2;
	} else if (c < 0x21 || c > 0x7e) {
		snprintf(tmp, sizeof(tmp), "\\%03u", c);
		l = 4;
	} else {
		tmp[0] = (char)c;
		l = 1;
	}
	if (*n + l >= PG_QNAME_LEN)
		return false;
	memcpy(out + *n, tmp, l);
	*n += l;
	return true;
}

/*
 * Read the name at *pos into out (PG_QNAME_LEN). *pos moves past the name as it is in the
 * record (a pointer counts as two bytes). Pointers must point before the place they are
 * read from, which excludes loops; the count bounds the work anyway.
 */
static int read_name(struct rd *r, size_t *pos, char *out)
{
	size_t at = *pos, n = 0, wire = 1, end = 0;
	int jumps = 0;
	bool jumped = false;

	out[0] = 0;
	for (;;) {
		uint8_t l;

		if (at >= r->len)
			return bad(r, at, "message ends inside a name");
		l = r->b[at];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (at + 1 >= r->len)
				return bad(r, at, "message ends inside a compression pointer");
			target = (size_t)(l & 0x3f) << 8 | r->b[at + 1];
			if (target >= at)
				return bad(r, at, "compression pointer to byte %zu does not point backwards",
					   target);
			if (++jumps > MAX_POINTERS)
				return bad(r, at, "more than %d compression pointers in one name",
					   MAX_POINTERS);
			if (!jumped) {
				end = at + 2;
				jumped = true;
			}
			at = target;
			continue;
		}
		if (l & 0xc0)
			return bad(r, at, "label type 0x%02x is not supported (only plain labels and pointers)",
				   l & 0xc0);
		if (l == 0) {
			at++;
			break;
		}
		if (at + 1 + l > r->len)
			return bad(r, at, "label of %u bytes runs past the end of the message", l);
		wire += 1u + l;
		if (wire > MAX_WIRE_NAME)
			return bad(r, at, "name longer than %d bytes", MAX_WIRE_NAME);
		if (n && n + 1 < PG_QNAME_LEN)
			out[n++] = '.';
		for (unsigned int i = 0; i < l; i++)
			if (!put_label_byte(out, &n, r->b[at + 1 + i]))
				return bad(r, at, "name too long to print in %d bytes", PG_QNAME_LEN - 1);
		at += 1u + l;
	}
	out[n] = 0;
	*pos = jumped ? end : at;
	return 0;
}

static int read_answer(struct rd *r, size_t *pos, struct pg_dns_answer *a, bool keep)
{
	uint16_t rdlen = 0, hi = 0, lo = 0;
	size_t at;
	char name[PG_QNAME_LEN];
	int err;

	if ((err = read_name(r, pos, keep ? a->name : name)))
		return err;
	at = *pos;
	if (at + 10 > r->len)
		return bad(r, at, "message ends inside a resource record header");
	u16_at(r, at, &a->type, "type");
	u16_at(r, at + 2, &a->class, "class");
	u16_at(r, at + 4, &hi, "ttl");
	u16_at(r, at + 6, &lo, "ttl");
	a->ttl = (uint32_t)hi << 16 | lo;
	u16_at(r, at + 8, &rdlen, "rdlength");
	at += 10;
	if (at + rdlen > r->len)
		return bad(r, at, "record data of %u bytes runs past the end of the message", rdlen);
	a->addr_len = 0;
	a->target[0] = 0;
	if (keep) {
		switch (a->type) {
		case 1: /* A */
			if (rdlen != 4)
				return bad(r, at, "A record with %u bytes of data (4 expected)", rdlen);
			memcpy(a->addr, r->b + at, 4);
			a->addr_len = 4;
			break;
		case 28: /* AAAA */
			if (rdlen != 16)
				return bad(r, at, "AAAA record with %u bytes of data (16 expected)", rdlen);
			memcpy(a->addr, r->b + at, 16);
			a->addr_len = 16;
			break;
		case 2: /* NS */
		case 5: /* CNAME */
		case 12: /* PTR */
		case 39: { /* DNAME */
			size_t p = at;
			/* the name must lie inside the record data */
			struct rd sub = { r->b, at + rdlen, r->err, r->errlen };

			if ((err = read_name(&sub, &p, a->target)))
				return err;
			if (p != at + rdlen)
				return bad(r, p, "record data has %zu bytes after the name", at + rdlen - p);
			break;
		}
		}
	}
	*pos = at + rdlen;
	return 0;
}

int pg_dns_parse(const uint8_t *buf, size_t len, struct pg_dns_msg *m, char *err, size_t errlen)
{
	struct rd r = { buf, len, err, errlen };
	size_t pos = 12;
	int rc;

	memset(m, 0, sizeof(*m));
	if (err && errlen)
		err[0] = 0;
	if (len < 12)
		return bad(&r, len, "message of %zu bytes is shorter than the 12-byte DNS header", len);
	u16_at(&r, 0, &m->id, "id");
	u16_at(&r, 2, &m->flags, "flags");
	u16_at(&r, 4, &m->qdcount, "qdcount");
	u16_at(&r, 6, &m->ancount, "ancount");
	u16_at(&r, 8, &m->nscount, "nscount");
	u16_at(&r, 10, &m->arcount, "arcount");
	m->response = m->flags >> 15;
	m->opcode = (m->flags >> 11) & 0xf;
	m->rcode = m->flags & 0xf;

	for (unsigned int q = 0; q < m->qdcount; q++) {
		char name[PG_QNAME_LEN];
		uint16_t type = 0, class = 0;

		if ((rc = read_name(&r, &pos, q == 0 ? m->qname : name)))
			return rc;
		if ((rc = u16_at(&r, pos, &type, "question type")) ||
		    (rc = u16_at(&r, pos + 2, &class, "question class")))
			return rc;
		pos += 4;
		if (q == 0) {
			m->qtype = type;
			m->qclass = class;
		}
	}
	for (unsigned int i = 0; i < m->ancount; i++) {
		struct pg_dns_answer scratch;
		bool keep = m->nanswers < PG_DNS_MAX_ANSWERS;

		if ((rc = read_answer(&r, &pos, keep ? &m->answers[m->nanswers] : &scratch, keep)))
			return rc;
		if (keep)
			m->nanswers++;
	}
	return 0;
}
