// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* DNS wire-format parser (dns.h). Every read is preceded by a bounds check against len. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

#define MAX_WIRE_NAME 255 /* RFC 1035 2.3.4 */

static const char *const err_names[PG_DNS_E_COUNT] = {
	[PG_DNS_OK] = "ok",		    [PG_DNS_E_SHORT] = "short",
	[PG_DNS_E_TRUNCATED] = "truncated", [PG_DNS_E_LABEL_TYPE] = "label-type",
	[PG_DNS_E_POINTER] = "pointer",	    [PG_DNS_E_NAME_LONG] = "name-too-long",
	[PG_DNS_E_RDATA] = "rdata",
};

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
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",	  "REFUSED", "YXDOMAIN", "YXRRSET",
	"NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI", NULL,	  NULL,	     NULL,	 NULL,
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

struct rd {
	const uint8_t *b;
	size_t len;
	struct pg_dns_msg *m;
	char *err;
	size_t errlen;
};

/* Record a failure: the code and offset in the message, the words in err. Returns -EINVAL. */
__attribute__((format(printf, 4, 5))) static int bad(struct rd *r, enum pg_dns_err code,
						      size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->m->err = code;
	r->m->err_off = at;
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

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Presentation text into a bounded buffer; overflow is remembered, nothing written past. */
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

/* One byte of a label (or of a TXT string) in presentation form. */
static void put_byte(struct text *t, uint8_t c, bool in_string)
{
	char tmp[5];

	if ((c == '.' && !in_string) || c == '\\' || (c == '"' && in_string)) {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		put(t, tmp, 2);
	} else if (c == ' ' && in_string) {
		put(t, " ", 1);
	} else if (c < 0x21 || c > 0x7e) {
		snprintf(tmp, sizeof(tmp), "\\%03u", c);
		put(t, tmp, 4);
	} else {
		tmp[0] = (char)c;
		put(t, tmp, 1);
	}
}

/*
 * Read the name at *pos into t. *pos moves past the name as it is in the record (a pointer
 * counts as two bytes). Pointers must point before the place they are read from, which
 * excludes loops; their count bounds the work of a long chain anyway. A name that does not
 * fit t is an error when fatal_cut, else t->cut says so.
 */
static int read_name(struct rd *r, size_t *pos, struct text *t, bool fatal_cut)
{
	size_t at = *pos, wire = 1, end = 0;
	int jumps = 0;
	bool jumped = false, first = true;

	if (t->size)
		t->buf[0] = 0;
	for (;;) {
		uint8_t l;

		if (at >= r->len)
			return bad(r, PG_DNS_E_TRUNCATED, at, "message ends inside a name");
		l = r->b[at];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (at + 1 >= r->len)
				return bad(r, PG_DNS_E_TRUNCATED, at,
					   "message ends inside a compression pointer");
			target = (size_t)(l & 0x3f) << 8 | r->b[at + 1];
			if (target >= at)
				return bad(r, PG_DNS_E_POINTER, at,
					   "compression pointer to byte %zu does not point backwards", target);
			if (++jumps > PG_DNS_MAX_POINTERS)
				return bad(r, PG_DNS_E_POINTER, at,
					   "more than %d compression pointers in one name",
					   PG_DNS_MAX_POINTERS);
			if (!jumped) {
				end = at + 2;
				jumped = true;
			}
			at = target;
			continue;
		}
		if (l & 0xc0)
			return bad(r, PG_DNS_E_LABEL_TYPE, at,
				   "label type 0x%02x is not supported (only plain labels and pointers)",
				   l & 0xc0);
		if (l == 0) {
			at++;
			break;
		}
		if (at + 1 + l > r->len)
			return bad(r, PG_DNS_E_TRUNCATED, at,
				   "label of %u bytes runs past the end of the message", l);
		wire += 1u + l;
		if (wire > MAX_WIRE_NAME)
			return bad(r, PG_DNS_E_NAME_LONG, at, "name longer than %d bytes", MAX_WIRE_NAME);
		if (!first)
			put(t, ".", 1);
		first = false;
		for (unsigned int i = 0; i < l; i++)
			put_byte(t, r->b[at + 1 + i], false);
		if (t->cut && fatal_cut)
			return bad(r, PG_DNS_E_NAME_LONG, at, "name too long to print in %zu bytes",
				   t->size - 1);
		at += 1u + l;
	}
	*pos = jumped ? end : at;
	return 0;
}

static void put_num(struct text *t, unsigned long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lu", v);

	put(t, tmp, (size_t)n);
}

static const char *type_word(uint16_t type)
{
	switch (type) {
	case 1: return "A";
	case 28: return "AAAA";
	case 2: return "NS";
	case 5: return "CNAME";
	case 12: return "PTR";
	case 39: return "DNAME";
	case 15: return "MX";
	case 33: return "SRV";
	case 6: return "SOA";
	case 16: return "TXT";
	}
	return "record";
}

/*
 * The data of an answer, rdlen bytes at at, in presentation form (pg_abi.h). Names inside it
 * must end inside it; they may point anywhere earlier in the message.
 */
static int answer_data(struct rd *r, size_t at, size_t rdlen, struct pg_dns_answer *a)
{
	struct text t = { .buf = a->data, .size = sizeof(a->data) };
	struct rd sub = { r->b, at + rdlen, r->m, r->err, r->errlen }; /* names end in the data */
	size_t end = at + rdlen, p = at, need = 0;
	char tmp[INET6_ADDRSTRLEN];
	int rc;

	a->data[0] = 0;
	switch (a->type) {
	case 1: /* A */
	case 28: /* AAAA */
		need = a->type == 1 ? 4 : 16;
		if (rdlen != need)
			return bad(r, PG_DNS_E_RDATA, at, "%s record with %zu bytes of data (%zu expected)",
				   type_word(a->type), rdlen, need);
		memcpy(a->addr, r->b + at, rdlen);
		inet_ntop(a->type == 1 ? AF_INET : AF_INET6, a->addr, tmp, sizeof(tmp));
		put(&t, tmp, strlen(tmp));
		return 0;
	case 15: /* MX: preference, exchange */
	case 33: /* SRV: priority, weight, port, target */
		need = a->type == 15 ? 2 : 6;
		if (rdlen < need + 1)
			return bad(r, PG_DNS_E_RDATA, at, "%s record with %zu bytes of data (at least %zu expected)",
				   type_word(a->type), rdlen, need + 1);
		for (size_t i = 0; i < need; i += 2) {
			put_num(&t, rd16(r->b + at + i));
			put(&t, " ", 1);
		}
		p = at + need;
		/* fallthrough */
	case 2: /* NS */
	case 5: /* CNAME */
	case 12: /* PTR */
	case 39: { /* DNAME */
		char name[PG_QNAME_LEN];
		struct text nt = { .buf = name, .size = sizeof(name) };

		if ((rc = read_name(&sub, &p, &nt, false)))
			return rc == -EINVAL && r->m->err == PG_DNS_E_TRUNCATED
				       ? bad(r, PG_DNS_E_RDATA, at, "%s record: the name runs past its %zu bytes of data",
					     type_word(a->type), rdlen)
				       : rc;
		put(&t, name, nt.len);
		if (nt.cut)
			t.cut = true;
		if (p != end)
			return bad(r, PG_DNS_E_RDATA, p, "record data has %zu bytes after the name", end - p);
		break;
	}
	case 6: { /* SOA: mname rname serial refresh retry expire minimum */
		char name[PG_QNAME_LEN];

		for (int n = 0; n < 2; n++) {
			struct text nt = { .buf = name, .size = sizeof(name) };

			if ((rc = read_name(&sub, &p, &nt, false)))
				return rc;
			if (n)
				put(&t, " ", 1);
			put(&t, name, nt.len);
		}
		if (end - p != 20)
			return bad(r, PG_DNS_E_RDATA, p, "SOA record with %zu bytes after the names (20 expected)",
				   end - p);
		for (int i = 0; i < 5; i++) {
			put(&t, " ", 1);
			put_num(&t, rd32(r->b + p + 4 * (size_t)i));
		}
		break;
	}
	case 16: /* TXT: one or more character-strings, quoted */
		if (!rdlen)
			return bad(r, PG_DNS_E_RDATA, at, "TXT record without data");
		for (p = at; p < end;) {
			size_t l = r->b[p];

			if (p + 1 + l > end)
				return bad(r, PG_DNS_E_RDATA, p, "TXT string of %zu bytes runs past its record", l);
			if (p != at)
				put(&t, " ", 1);
			put(&t, "\"", 1);
			for (size_t i = 0; i < l; i++)
				put_byte(&t, r->b[p + 1 + i], true);
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
			char h[2] = { hex[r->b[at + i] >> 4], hex[r->b[at + i] & 15] };

			put(&t, h, 2);
		}
	}
	}
	if (t.cut)
		a->flags |= PG_DNS_ANS_DATA_TRUNC;
	return 0;
}

static int read_answer(struct rd *r, size_t *pos, struct pg_dns_answer *a)
{
	struct text t = { .buf = a->name, .size = sizeof(a->name) };
	size_t at, rdlen;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = read_name(r, pos, &t, true)))
		return rc;
	at = *pos;
	if (at + 10 > r->len)
		return bad(r, PG_DNS_E_TRUNCATED, at, "message ends inside a resource record header");
	a->type = rd16(r->b + at);
	a->rclass = rd16(r->b + at + 2);
	a->ttl = rd32(r->b + at + 4);
	rdlen = rd16(r->b + at + 8);
	at += 10;
	if (at + rdlen > r->len)
		return bad(r, PG_DNS_E_TRUNCATED, at,
			   "record data of %zu bytes runs past the end of the message", rdlen);
	if ((rc = answer_data(r, at, rdlen, a)))
		return rc;
	*pos = at + rdlen;
	return 0;
}

int pg_dns_parse(const uint8_t *buf, size_t len, struct pg_dns_msg *m, char *err, size_t errlen)
{
	struct rd r = { buf, len, m, err, errlen };
	size_t pos = 12;
	int rc;

	/* the answers are cleared one by one as they are read */
	memset(m, 0, offsetof(struct pg_dns_msg, answers));
	m->err = PG_DNS_OK;
	m->err_off = 0;
	if (err && errlen)
		err[0] = 0;
	if (len < 12)
		return bad(&r, PG_DNS_E_SHORT, len,
			   "message of %zu bytes is shorter than the 12-byte DNS header", len);
	m->id = rd16(buf);
	m->flags = rd16(buf + 2);
	m->qdcount = rd16(buf + 4);
	m->ancount = rd16(buf + 6);
	m->nscount = rd16(buf + 8);
	m->arcount = rd16(buf + 10);
	m->response = m->flags >> 15;
	m->opcode = (m->flags >> 11) & 0xf;
	m->rcode = m->flags & 0xf;

	for (unsigned int q = 0; q < m->qdcount; q++) {
		char name[PG_QNAME_LEN];
		struct text t = { .buf = q == 0 ? m->qname : name, .size = PG_QNAME_LEN };

		if ((rc = read_name(&r, &pos, &t, true)))
			return rc;
		if (pos + 2 > len)
			return bad(&r, PG_DNS_E_TRUNCATED, pos, "message ends inside the question type");
		if (pos + 4 > len)
			return bad(&r, PG_DNS_E_TRUNCATED, pos + 2, "message ends inside the question class");
		if (q == 0) {
			m->qtype = rd16(buf + pos);
			m->qclass = rd16(buf + pos + 2);
			m->has_question = true;
		}
		pos += 4;
	}
	for (unsigned int i = 0; i < m->ancount; i++) {
		struct pg_dns_answer scratch;
		bool keep = m->nanswers < PG_DNS_MAX_ANSWERS;

		if ((rc = read_answer(&r, &pos, keep ? &m->answers[m->nanswers] : &scratch)))
			return rc;
		if (keep)
			m->nanswers++;
		else
			m->answers_truncated = true;
	}
	return 0;
}

int pg_dns_parse_tcp(const uint8_t *buf, size_t len, struct pg_dns_msg *m, char *err,
		     size_t errlen)
{
	char inner[256];
	const char *why;
	size_t mlen;
	int rc;

	if (len < 2)
		return pg_dns_parse(buf, 0, m, err, errlen);
	mlen = rd16(buf);
	rc = pg_dns_parse(buf + 2, mlen < len - 2 ? mlen : len - 2, m, inner, sizeof(inner));
	if (rc) {
		/* the same words, with the offset counted from the length prefix */
		m->err_off += 2;
		why = strstr(inner, ": ");
		if (err && errlen)
			snprintf(err, errlen, "byte %zu: %s", m->err_off, why ? why + 2 : inner);
	}
	return rc;
}
