// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Filter language: a recursive-descent parser into a small tree, and an evaluator over
 * events. Literals are converted once at parse time (type names to numbers, addresses to
 * bytes), so matching does no parsing. A chain of && (or of ||) is one node with many
 * operands, so a long filter makes a wide tree, not a deep one: nothing here recurses more
 * than the filter nests (filter.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "filter.h"
#include "packet.h"

enum tok {
	T_EOF,
	T_IDENT,
	T_STRING,
	T_NUMBER,
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_AND,
	T_OR,
	T_NOT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_IN,
	T_STARTSWITH,
	T_ENDSWITH,
	T_CONTAINS,
	T_GLOB,
};

struct parser {
	const char *src;
	size_t pos;
	/* current token */
	enum tok tok;
	size_t tstart, tlen;
	int64_t num;
	char *str; /* T_STRING value, owned until taken */
	size_t slen;
	struct pg_filter_error *err;
	int depth;
};

__attribute__((format(printf, 3, 4))) static int perr(struct parser *p, size_t pos,
						      const char *fmt, ...)
{
	va_list ap;

	if (p->err->msg[0])
		return -EINVAL; /* keep the first error */
	p->err->column = pos + 1;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *tok_name(enum tok t)
{
	static const char *const names[] = {
		[T_EOF] = "end of the filter", [T_IDENT] = "a field name", [T_STRING] = "a string",
		[T_NUMBER] = "a number",	[T_LPAREN] = "'('",	   [T_RPAREN] = "')'",
		[T_LBRACK] = "'['",		[T_RBRACK] = "']'",	   [T_COMMA] = "','",
		[T_AND] = "'&&'",		[T_OR] = "'||'",	   [T_NOT] = "'!'",
		[T_EQ] = "'=='",		[T_NE] = "'!='",	   [T_LT] = "'<'",
		[T_LE] = "'<='",		[T_GT] = "'>'",		   [T_GE] = "'>='",
		[T_IN] = "'in'",		[T_STARTSWITH] = "'startswith'",
		[T_ENDSWITH] = "'endswith'",	[T_CONTAINS] = "'contains'", [T_GLOB] = "'glob'",
	};
	return names[t];
}

static int lex_string(struct parser *p)
{
	char q = p->src[p->pos];
	size_t i = p->pos + 1, cap = 16, n = 0;
	char *s = malloc(cap);

	if (!s)
		return -ENOMEM;
	for (;;) {
		char c = p->src[i];

		if (!c) {
			free(s);
			return perr(p, p->pos, "unterminated string: add the closing %c", q);
		}
		if (c == q)
			break;
		if (c == '\\') {
			char e = p->src[i + 1];

			switch (e) {
			case '\\': case '"': case '\'': c = e; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'x': {
				/* the second digit is only looked at when the first is one: a string may
				 * end right after "\x" */
				char hex[3] = { p->src[i + 2], 0, 0 };
				bool ok = isxdigit((unsigned char)hex[0]);

				if (ok) {
					hex[1] = p->src[i + 3];
					ok = isxdigit((unsigned char)hex[1]);
				}
				if (!ok) {
					free(s);
					return perr(p, i, "\\x needs two hex digits");
				}
				c = (char)strtol(hex, NULL, 16);
				if (!c) {
					free(s);
					return perr(p, i, "\\x00 cannot appear in a string");
				}
				i += 2;
				break;
			}
			default:
				free(s);
				return perr(p, i, "unknown escape '\\%c' (use \\\\, \\\", \\', \\n, \\t or \\xHH)",
					    e ? e : ' ');
			}
			i++;
		}
		if (n + 1 >= cap) {
			char *ns = realloc(s, cap *= 2);

			if (!ns) {
				free(s);
				return -ENOMEM;
			}
			s = ns;
		}
		s[n++] = c;
		i++;
	}
	s[n] = 0;
	p->str = s;
	p->slen = n;
	p->tok = T_STRING;
	p->tlen = i + 1 - p->pos;
	p->pos = i + 1;
	return 0;
}

static int lex_number(struct parser *p)
{
	const char *s = p->src + p->pos;
	bool neg = *s == '-';
	const char *digits = s + neg;
	int base = 10;
	unsigned long long v = 0;
	size_t i = 0;

	if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O')) {
		base = 8;
		i = 2;
	} else if (digits[0] == '0' && isdigit((unsigned char)digits[1])) {
		base = 8; /* C style 0644, as in mode == 0644 */
		i = 1;
	}
	size_t first = i;

	for (;; i++) {
		int d;
		char c = digits[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (d >= base)
			return perr(p, p->pos + neg + i, "digit '%c' is not valid in a base-%d number", c,
				    base);
		if (v > (~0ULL - (unsigned)d) / (unsigned)base)
			return perr(p, p->pos, "number too large");
		v = v * (unsigned)base + (unsigned)d;
	}
	if (i == first)
		return perr(p, p->pos, "expected digits");
	if (isalpha((unsigned char)digits[i]) || digits[i] == '_')
		return perr(p, p->pos + neg + i, "unexpected '%c' in a number", digits[i]);
	if (neg ? v > (1ULL << 63) : v > (unsigned long long)INT64_MAX)
		return perr(p, p->pos, "number out of range");
	p->num = neg ? (int64_t)(0 - v) : (int64_t)v;
	p->tok = T_NUMBER;
	p->tlen = neg + i;
	p->pos += p->tlen;
	return 0;
}

static int next(struct parser *p)
{
	const char *s = p->src;

	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
		p->pos++;
	p->tstart = p->pos;
	p->tlen = 1;
	char c = s[p->pos];
	char c2 = c ? s[p->pos + 1] : 0;

#define TOK2(t)             \
	do {                \
		p->tok = t; \
		p->tlen = 2; \
		p->pos += 2; \
		return 0;   \
	} while (0)
#define TOK1(t)             \
	do {                \
		p->tok = t; \
		p->pos += 1; \
		return 0;   \
	} while (0)
	switch (c) {
	case 0: p->tok = T_EOF; p->tlen = 0; return 0;
	case '(': TOK1(T_LPAREN);
	case ')': TOK1(T_RPAREN);
	case '[': TOK1(T_LBRACK);
	case ']': TOK1(T_RBRACK);
	case ',': TOK1(T_COMMA);
	case '&':
		if (c2 == '&')
			TOK2(T_AND);
		return perr(p, p->pos, "'&' is not an operator: use '&&' or 'and'");
	case '|':
		if (c2 == '|')
			TOK2(T_OR);
		return perr(p, p->pos, "'|' is not an operator: use '||' or 'or'");
	case '=':
		if (c2 == '=')
			TOK2(T_EQ);
		return perr(p, p->pos, "'=' is not an operator: use '==' to compare");
	case '!':
		if (c2 == '=')
			TOK2(T_NE);
		TOK1(T_NOT);
	case '<':
		if (c2 == '=')
			TOK2(T_LE);
		TOK1(T_LT);
	case '>':
		if (c2 == '=')
			TOK2(T_GE);
		TOK1(T_GT);
	case '"':
	case '\'':
		return lex_string(p);
	}
#undef TOK1
#undef TOK2
	if (isdigit((unsigned char)c) || (c == '-' && isdigit((unsigned char)c2)))
		return lex_number(p);
	if (isalpha((unsigned char)c) || c == '_') {
		size_t i = p->pos;
		static const struct {
			const char *kw;
			enum tok t;
		} kws[] = { { "and", T_AND },	      { "or", T_OR },
			    { "not", T_NOT },	      { "in", T_IN },
			    { "startswith", T_STARTSWITH }, { "endswith", T_ENDSWITH },
			    { "contains", T_CONTAINS }, { "glob", T_GLOB } };

		while (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.')
			i++;
		p->tlen = i - p->pos;
		p->tok = T_IDENT;
		for (size_t k = 0; k < sizeof(kws) / sizeof(kws[0]); k++)
			if (strlen(kws[k].kw) == p->tlen && !memcmp(kws[k].kw, s + p->pos, p->tlen))
				p->tok = kws[k].t;
		p->pos = i;
		return 0;
	}
	return perr(p, p->pos, "unexpected character '%c'", isprint((unsigned char)c) ? c : '?');
}

void pg_filter_node__free(struct pg_filter_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nsub; i++)
		pg_filter_node__free(n->sub[i]);
	free(n->sub);
	for (size_t i = 0; i < n->nvals; i++)
		free(n->vals[i].str);
	free(n->vals);
	free(n);
}

static struct pg_filter_node *node_new(enum pg_filter_op op)
{
	struct pg_filter_node *n = calloc(1, sizeof(*n));

	if (n)
		n->op = op;
	return n;
}

/* Append one operand slot (NULL) to n; the array doubles when its count is a power of two. */
static int node_grow(struct pg_filter_node *n)
{
	if (!(n->nsub & (n->nsub - 1))) {
		size_t cap = n->nsub < 2 ? 2 : 2 * n->nsub;
		struct pg_filter_node **ns = realloc(n->sub, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		n->sub = ns;
	}
	n->sub[n->nsub++] = NULL;
	return 0;
}

/*
 * Give kid to n as its last operand, or its operands when it has n's own op ("a && (b && c)"
 * becomes one AND of three: the conjuncts are the same either way and the tree stays as
 * shallow as the text nests). kid is n's (or freed) whatever the result: 0 or -ENOMEM.
 */
static int node_adopt(struct pg_filter_node *n, struct pg_filter_node *kid)
{
	if (kid->op != n->op) {
		if (node_grow(n)) {
			pg_filter_node__free(kid);
			return -ENOMEM;
		}
		n->sub[n->nsub - 1] = kid;
		return 0;
	}
	for (size_t i = 0; i < kid->nsub; i++) {
		if (node_grow(n)) {
			pg_filter_node__free(kid); /* the operands not moved yet go with it */
			return -ENOMEM;
		}
		n->sub[n->nsub - 1] = kid->sub[i];
		kid->sub[i] = NULL;
	}
	pg_filter_node__free(kid);
	return 0;
}

static int parse_or(struct parser *p, struct pg_filter_node **out);

static bool field_is_stringy(const struct pg_field *f)
{
	return f->kind == PG_FK_STR || f->kind == PG_FK_META || f->kind == PG_FK_ARGV ||
	       f->kind == PG_FK_DNS_ANSWERS || f->kind == PG_FK_ANCESTORS || f->kind == PG_FK_POD ||
	       f->kind == PG_FK_LABELS;
}

static const char *field_kind_desc(const struct pg_field *f)
{
	switch (f->kind) {
	case PG_FK_STR:
	case PG_FK_META:
	case PG_FK_POD:
	case PG_FK_ARGV:
	case PG_FK_DNS_ANSWERS:
		return "a string";
	case PG_FK_ANCESTORS:
		return "a list of strings";
	case PG_FK_LABELS:
		return "a list of \"key=value\" strings";
	case PG_FK_DIRECTION:
		return "a direction";
	case PG_FK_ADDR:
		return "an IP address";
	case PG_FK_TYPE:
		return "an event type";
	case PG_FK_FLAG:
		return "a flag (a condition by itself: io_uring, not io_uring)";
	default:
		return "a number";
	}
}

static int parse_addr(struct parser *p, struct pg_filter_value *v, size_t at)
{
	char tmp[64];
	char *slash;
	unsigned int maxp;

	if (v->len >= sizeof(tmp))
		return perr(p, at, "\"%s\" is not an IP address or CIDR", v->str);
	memcpy(tmp, v->str, v->len + 1);
	slash = strchr(tmp, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, tmp, v->addr) == 1) {
		v->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, tmp, v->addr) == 1) {
		v->family = AF_INET6;
		maxp = 128;
	} else {
		return perr(p, at, "\"%s\" is not an IP address or CIDR (e.g. \"10.0.0.0/8\", \"::1\")",
			    v->str);
	}
	v->prefix = maxp;
	if (slash) {
		char *end;
		long pl = strtol(slash + 1, &end, 10);

		if (!slash[1] || *end || pl < 0 || (unsigned long)pl > maxp)
			return perr(p, at, "bad prefix length in \"%s\" (0..%u)", v->str, maxp);
		v->prefix = (unsigned int)pl;
	}
	return 0;
}

/* Parse one literal for field f into v, converting to the field's representation. */
static int parse_value(struct parser *p, const struct pg_field *f, enum pg_cmp cmp,
		       struct pg_filter_value *v)
{
	size_t at = p->tstart;

	if (p->tok != T_STRING && p->tok != T_NUMBER)
		return perr(p, at, "expected a value (a number or a \"string\"), found %s",
			    tok_name(p->tok));
	if (p->tok == T_STRING) {
		v->str = p->str;
		v->len = p->slen;
		p->str = NULL;
	} else {
		v->num = p->num;
	}

	switch (f->kind) {
	case PG_FK_STR:
	case PG_FK_META:
	case PG_FK_POD:
	case PG_FK_ARGV:
	case PG_FK_DNS_ANSWERS:
	case PG_FK_ANCESTORS:
	case PG_FK_LABELS:
		if (p->tok != T_STRING)
			return perr(p, at, "field %s is %s: quote the value", f->name,
				    field_kind_desc(f));
		break;
	case PG_FK_PTRACE_REQUEST:
		if (p->tok == T_STRING) {
			int rq = pg_ptrace_request_from_name(v->str, v->len);

			if (rq < 0)
				return perr(p, at, "unknown ptrace request \"%s\" (traceme, attach, seize, poketext, pokedata, pokeuser, setregs, setfpregs, setregset, or a number)",
					    v->str);
			v->num = rq;
		}
		break;
	case PG_FK_IP_PROTO:
		if (p->tok == T_STRING) {
			int pr = pg_ip_proto_from_name(v->str, v->len);

			if (pr < 0)
				return perr(p, at, "unknown IP protocol \"%s\" (e.g. \"tcp\", \"udp\", \"icmp\", \"icmp6\", or a number)",
					    v->str);
			v->num = pr;
		}
		break;
	case PG_FK_DIRECTION: {
		int d = p->tok == T_STRING ? pg_pkt_direction_from_name(v->str, v->len) : -1;

		if (d <= 0)
			return perr(p, at, "direction is \"in\" or \"out\"");
		v->num = d;
		break;
	}
	case PG_FK_RCODE:
		if (p->tok == T_STRING) {
			int r = pg_dns_rcode_from_name(v->str, v->len);

			if (r < 0)
				return perr(p, at, "unknown DNS rcode \"%s\" (e.g. \"NOERROR\", \"NXDOMAIN\", \"SERVFAIL\", or a number)",
					    v->str);
			v->num = r;
		}
		break;
	case PG_FK_TCP_FLAGS:
		if (p->tok == T_STRING) {
			int fl = pg_tcp_flags_parse(v->str, v->len);

			if (fl < 0)
				return perr(p, at, "TCP flags are names joined by '|' (FIN SYN RST PSH ACK URG ECE CWR), e.g. \"SYN|ACK\"");
			v->num = fl;
		}
		break;
	case PG_FK_FLAG:
		if (p->tok != T_NUMBER || (v->num != 0 && v->num != 1))
			return perr(p, at, "%s is a flag: use it by itself (%s, not %s) or compare it with 0 or 1",
				    f->name, f->name, f->name);
		break;
	case PG_FK_UINT:
	case PG_FK_INT:
		if (p->tok != T_NUMBER)
			return perr(p, at, "field %s is a number: remove the quotes", f->name);
		break;
	case PG_FK_TYPE:
		if (p->tok != T_STRING)
			return perr(p, at, "compare type with a name, e.g. type == \"open\"");
		v->num = pg_event_type_from_name(v->str, v->len);
		if (!v->num)
			return perr(p, at, "unknown event type \"%s\" (exec, fork, exit, open, connect, dns, setid, packet, ptrace, alert)",
				    v->str);
		break;
	case PG_FK_QTYPE:
		if (p->tok == T_STRING) {
			v->num = pg_dns_type_from_name(v->str, v->len);
			if (!v->num)
				return perr(p, at, "unknown DNS type \"%s\" (e.g. \"A\", \"AAAA\", \"TYPE65\")",
					    v->str);
		}
		break;
	case PG_FK_FAMILY:
		if (p->tok == T_STRING) {
			if (!strcmp(v->str, "inet"))
				v->num = AF_INET;
			else if (!strcmp(v->str, "inet6"))
				v->num = AF_INET6;
			else
				return perr(p, at, "family is \"inet\" or \"inet6\"");
		}
		break;
	case PG_FK_SETID_CALL:
		if (p->tok != T_STRING)
			return perr(p, at, "compare call with a name, e.g. call == \"setuid\"");
		v->num = pg_setid_call_from_name(v->str, v->len);
		if (!v->num)
			return perr(p, at, "unknown call \"%s\" (setuid, setreuid, setresuid, setfsuid, setgid, setregid, setresgid, setfsgid)",
				    v->str);
		break;
	case PG_FK_ADDR:
		if (p->tok != T_STRING)
			return perr(p, at, "quote the address, e.g. daddr == \"127.0.0.1\"");
		if (parse_addr(p, v, at))
			return -EINVAL;
		break;
	}
	if (cmp >= PG_CMP_LT && cmp <= PG_CMP_GE &&
	    (field_is_stringy(f) || f->kind == PG_FK_ADDR || f->kind == PG_FK_TYPE ||
	     f->kind == PG_FK_SETID_CALL || f->kind == PG_FK_DIRECTION))
		return perr(p, at, "field %s is %s: '<', '<=', '>', '>=' need a number", f->name,
			    field_kind_desc(f));
	return next(p);
}

static bool is_operator(enum tok t)
{
	return t >= T_EQ && t <= T_GLOB;
}

static int parse_cmp(struct parser *p, struct pg_filter_node **out)
{
	struct pg_filter_node *n;
	const struct pg_field *f;
	size_t fstart = p->tstart;
	enum pg_cmp cmp;
	int err;

	if (p->tok != T_IDENT)
		return perr(p, p->tstart, "expected a field name, '(' or 'not', found %s",
			    tok_name(p->tok));
	f = pg_field_lookup(p->src + p->tstart, p->tlen);
	if (!f) {
		char name[48];
		size_t l = p->tlen < sizeof(name) - 1 ? p->tlen : sizeof(name) - 1;

		memcpy(name, p->src + p->tstart, l);
		name[l] = 0;
		return perr(p, p->tstart, "unknown field '%s' (see docs/filter.md for the list)", name);
	}
	if ((err = next(p)))
		return err;
	/* a flag by itself: "io_uring" is "io_uring == 1" */
	bool bare = f->kind == PG_FK_FLAG && !is_operator(p->tok);

	switch (bare ? T_EQ : p->tok) {
	case T_EQ: cmp = PG_CMP_EQ; break;
	case T_NE: cmp = PG_CMP_NE; break;
	case T_LT: cmp = PG_CMP_LT; break;
	case T_LE: cmp = PG_CMP_LE; break;
	case T_GT: cmp = PG_CMP_GT; break;
	case T_GE: cmp = PG_CMP_GE; break;
	case T_IN: cmp = PG_CMP_IN; break;
	case T_STARTSWITH: cmp = PG_CMP_STARTSWITH; break;
	case T_ENDSWITH: cmp = PG_CMP_ENDSWITH; break;
	case T_CONTAINS: cmp = PG_CMP_CONTAINS; break;
	case T_GLOB: cmp = PG_CMP_GLOB; break;
	default:
		return perr(p, p->tstart, "expected an operator after '%s' (==, !=, <, <=, >, >=, in, startswith, endswith, contains, glob), found %s",
			    f->name, tok_name(p->tok));
	}
	if (cmp >= PG_CMP_STARTSWITH && !field_is_stringy(f))
		return perr(p, p->tstart, "%s works on strings; field %s is %s",
			    tok_name(p->tok), f->name, field_kind_desc(f));
	if (!bare && (err = next(p)))
		return err;

	n = node_new(PG_FOP_CMP);
	if (!n)
		return -ENOMEM;
	n->field = f;
	n->cmp = cmp;
	n->column = fstart + 1;
	*out = n;
	if (cmp != PG_CMP_IN) {
		n->vals = calloc(1, sizeof(*n->vals));
		if (!n->vals)
			return -ENOMEM;
		n->nvals = 1;
		if (bare) {
			n->vals[0].num = 1;
			return 0;
		}
		return parse_value(p, f, cmp, &n->vals[0]);
	}
	/* in [a, b, c]  or  in (a, b, c) */
	enum tok close;

	if (p->tok == T_LBRACK)
		close = T_RBRACK;
	else if (p->tok == T_LPAREN)
		close = T_RPAREN;
	else
		return perr(p, p->tstart, "expected a list after 'in', e.g. [1, 2] or (\"a\", \"b\")");
	if ((err = next(p)))
		return err;
	for (;;) {
		struct pg_filter_value *nv = realloc(n->vals, (n->nvals + 1) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		n->vals = nv;
		memset(&nv[n->nvals], 0, sizeof(*nv));
		n->nvals++;
		if ((err = parse_value(p, f, PG_CMP_EQ, &nv[n->nvals - 1])))
			return err;
		if (p->tok == T_COMMA) {
			if ((err = next(p)))
				return err;
			continue;
		}
		if (p->tok == close)
			return next(p);
		return perr(p, p->tstart, "expected ',' or %s in the list, found %s", tok_name(close),
			    tok_name(p->tok));
	}
}

static int parse_unary(struct parser *p, struct pg_filter_node **out)
{
	int err;

	if (++p->depth > PG_FILTER_MAX_NESTING)
		return perr(p, p->tstart, "filter nested deeper than %d levels",
			    PG_FILTER_MAX_NESTING);
	if (p->tok == T_NOT) {
		struct pg_filter_node *n = node_new(PG_FOP_NOT);

		if (!n)
			return -ENOMEM;
		*out = n;
		if ((err = next(p)) || (err = node_grow(n)))
			return err;
		err = parse_unary(p, &n->sub[0]);
	} else if (p->tok == T_LPAREN) {
		size_t open = p->tstart;

		if ((err = next(p)) || (err = parse_or(p, out)))
			return err;
		if (p->tok != T_RPAREN)
			return perr(p, p->tstart, "expected ')' to close the '(' at column %zu, found %s",
				    open + 1, tok_name(p->tok));
		err = next(p);
	} else {
		err = parse_cmp(p, out);
	}
	p->depth--;
	return err;
}

/*
 * operand { optok operand }: one node of op with all the operands, a loop and not a
 * recursion, however long the chain. Everything allocated hangs from *out, also on error.
 */
static int parse_binary(struct parser *p, struct pg_filter_node **out, enum tok optok,
			enum pg_filter_op op, int (*sub)(struct parser *, struct pg_filter_node **))
{
	struct pg_filter_node *n, *kid = NULL;
	int err = sub(p, out);

	if (err || p->tok != optok)
		return err;
	n = node_new(op);
	if (!n)
		return -ENOMEM;
	kid = *out;
	*out = n;
	if ((err = node_adopt(n, kid)))
		return err;
	while (p->tok == optok) {
		kid = NULL;
		if ((err = next(p)))
			return err;
		err = sub(p, &kid);
		if (err) {
			pg_filter_node__free(kid);
			return err;
		}
		if ((err = node_adopt(n, kid)))
			return err;
	}
	return 0;
}

static int parse_and(struct parser *p, struct pg_filter_node **out)
{
	return parse_binary(p, out, T_AND, PG_FOP_AND, parse_unary);
}

static int parse_or(struct parser *p, struct pg_filter_node **out)
{
	return parse_binary(p, out, T_OR, PG_FOP_OR, parse_and);
}

struct pg_filter *pg_filter__parse(const char *expr, struct pg_filter_error *err)
{
	struct pg_filter_error dummy;
	struct parser p = { 0 };
	struct pg_filter *f;
	int rc;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	f = calloc(1, sizeof(*f));
	if (!f)
		goto enomem;
	f->source = strdup(expr ? expr : "");
	if (!f->source)
		goto enomem;
	p.src = f->source;
	p.err = err;
	rc = next(&p);
	if (!rc && p.tok == T_EOF) {
		f->root = node_new(PG_FOP_TRUE);
		if (!f->root)
			goto enomem;
		return f;
	}
	if (!rc)
		rc = parse_or(&p, &f->root);
	if (!rc && p.tok != T_EOF)
		rc = perr(&p, p.tstart, "expected '&&', '||' or the end of the filter, found %s",
			  tok_name(p.tok));
	free(p.str);
	if (rc == -ENOMEM)
		goto enomem;
	if (rc) {
		pg_filter__free(f);
		errno = EINVAL;
		return NULL;
	}
	return f;
enomem:
	free(p.str);
	pg_filter__free(f);
	snprintf(err->msg, sizeof(err->msg), "out of memory");
	errno = ENOMEM;
	return NULL;
}

void pg_filter__free(struct pg_filter *f)
{
	if (!f)
		return;
	pg_filter_node__free(f->root);
	free(f->source);
	free(f);
}

/* --- evaluation --------------------------------------------------------------------------- */

static bool str_cmp(enum pg_cmp cmp, const char *s, size_t n, const struct pg_filter_value *v)
{
	switch (cmp) {
	case PG_CMP_EQ:
	case PG_CMP_IN:
		return n == v->len && !memcmp(s, v->str, n);
	case PG_CMP_NE:
		return !(n == v->len && !memcmp(s, v->str, n));
	case PG_CMP_STARTSWITH:
		return n >= v->len && !memcmp(s, v->str, v->len);
	case PG_CMP_ENDSWITH:
		return n >= v->len && !memcmp(s + n - v->len, v->str, v->len);
	case PG_CMP_CONTAINS:
		return memmem(s, n, v->str, v->len) != NULL;
	case PG_CMP_GLOB: {
		char tmp[PG_ARGV_LEN + 1];

		if (n >= sizeof(tmp))
			return false;
		memcpy(tmp, s, n);
		tmp[n] = 0;
		return fnmatch(v->str, tmp, 0) == 0;
	}
	default:
		return false;
	}
}

static bool num_cmp(enum pg_cmp cmp, int64_t a, int64_t b)
{
	switch (cmp) {
	case PG_CMP_EQ:
	case PG_CMP_IN:
		return a == b;
	case PG_CMP_NE: return a != b;
	case PG_CMP_LT: return a < b;
	case PG_CMP_LE: return a <= b;
	case PG_CMP_GT: return a > b;
	case PG_CMP_GE: return a >= b;
	default: return false;
	}
}

static bool addr_match(const struct pg_filter_value *v, unsigned int family,
		       const unsigned char *addr)
{
	unsigned int full = v->prefix / 8, rest = v->prefix % 8;

	if (family != v->family)
		return false;
	if (memcmp(addr, v->addr, full))
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		return (addr[full] & mask) == (v->addr[full] & mask);
	}
	return true;
}

/* Which packet fields exist depends on what the packet is: a DNS id only in DNS, ... */
static bool packet_has(const struct pg_packet_event *p, const struct pg_field *f)
{
	switch (f - pg_fields) {
	case PG_FLD_QNAME:
	case PG_FLD_QTYPE:
		return (p->flags & PG_PKT_F_DNS_QUESTION) != 0;
	case PG_FLD_DNS_ID:
	case PG_FLD_QR:
	case PG_FLD_RCODE:
	case PG_FLD_ANSWERS:
		return (p->flags & PG_PKT_F_DNS) && !((p->flags & PG_PKT_F_DNS_ERROR) &&
						      p->dns_error == PG_DNS_E_SHORT);
	case PG_FLD_VLAN:
		return (p->flags & PG_PKT_F_VLAN) != 0;
	case PG_FLD_SADDR:
	case PG_FLD_DADDR:
	case PG_FLD_IP_PROTO:
	case PG_FLD_SPORT:
	case PG_FLD_DPORT:
		return p->family != 0;
	case PG_FLD_TCP_FLAGS:
		return p->family != 0 && p->ip_proto == IPPROTO_TCP;
	}
	return true;
}

/*
 * ancestors: true when the comparison holds for one of the ancestors' programs ("in": one of
 * them equals one of the values); "!=" when none of them equals the value. No ancestors known:
 * absent, false whatever the operator.
 */
static bool ancestors_match(const struct pg_filter_node *n, const struct pg_event *ev)
{
	const struct pg_event_proc *p = &ev->meta.proc;
	unsigned int na = p->nancestors < PG_PROC_ANCESTORS ? p->nancestors : PG_PROC_ANCESTORS;
	bool ne = n->cmp == PG_CMP_NE;
	enum pg_cmp cmp = ne ? PG_CMP_EQ : n->cmp;

	if (!na)
		return false;
	for (unsigned int a = 0; a < na; a++) {
		const char *s = p->ancestors[a];

		if (!s)
			continue;
		for (size_t i = 0; i < n->nvals; i++)
			if (str_cmp(cmp, s, strlen(s), &n->vals[i]))
				return !ne;
	}
	return ne;
}

/*
 * labels: as ancestors, over the pod's labels written "key=value" ('labels == "app=web"',
 * 'labels startswith "app="' for a pod that has the label). A pod with no labels, or no pod
 * known: absent, false whatever the operator.
 */
static bool labels_match(const struct pg_filter_node *n, const struct pg_event *ev)
{
	const struct pg_pod_meta *pod = ev->meta.pod;
	bool ne = n->cmp == PG_CMP_NE;
	enum pg_cmp cmp = ne ? PG_CMP_EQ : n->cmp;
	char kv[PG_POD_LABELS_BYTES];

	if (!pod || !pod->nlabels)
		return false;
	for (unsigned int l = 0; l < pod->nlabels; l++) {
		size_t len = pg_label_text(&pod->labels[l], kv, sizeof(kv));

		for (size_t i = 0; i < n->nvals; i++)
			if (str_cmp(cmp, kv, len, &n->vals[i]))
				return !ne;
	}
	return ne;
}

static bool cmp_match(const struct pg_filter_node *n, const struct pg_event *ev)
{
	const struct pg_field *f = n->field;
	unsigned int type = ev->r.hdr.type;
	const char *s = NULL;
	size_t slen = 0;
	char joined[PG_ARGV_LEN];
	int off;
	bool any = false, ne = n->cmp == PG_CMP_NE;

	if (f->kind == PG_FK_ANCESTORS)
		return ancestors_match(n, ev);
	if (f->kind == PG_FK_LABELS)
		return labels_match(n, ev);
	if (f->kind == PG_FK_META || f->kind == PG_FK_POD) {
		s = f->kind == PG_FK_POD ? pg_field_pod(ev, f)
					 : *(const char *const *)((const char *)&ev->meta + f->meta_off);
		if (!s)
			return false; /* unknown metadata: every comparison is false */
		slen = strlen(s);
	} else {
		off = pg_field_offset(f, type);
		if (off < 0)
			return false; /* the event has no such field */
		if (type == PG_EV_DNS && !(ev->r.dns.flags & PG_DNS_F_PARSED) &&
		    (f == &pg_fields[PG_FLD_QNAME] || f == &pg_fields[PG_FLD_QTYPE] ||
		     f == &pg_fields[PG_FLD_DNS_ID]))
			return false;
		if (type == PG_EV_PACKET && !packet_has(&ev->r.packet, f))
			return false; /* a field the packet does not carry compares false */
		if (f->kind == PG_FK_STR) {
			s = (const char *)&ev->r + off;
			slen = strnlen(s, f->size);
		} else if (f->kind == PG_FK_ARGV) {
			const struct pg_exec_event *e = &ev->r.exec;
			size_t len = e->argv_len < PG_ARGV_LEN ? e->argv_len : PG_ARGV_LEN;

			memcpy(joined, e->argv, len);
			for (size_t i = 0; i + 1 < len; i++)
				if (!joined[i])
					joined[i] = ' ';
			slen = len ? strnlen(joined, len) : 0;
			s = joined;
		} else if (f->kind == PG_FK_DNS_ANSWERS) {
			const struct pg_packet_event *pk = &ev->r.packet;
			size_t jl = 0;

			/* answers' data joined by spaces; joined has room for typical answers */
			for (unsigned int i = 0; i < pk->nanswers && i < PG_PKT_DNS_ANSWERS; i++) {
				size_t l = strnlen(pk->answers[i].data, sizeof(pk->answers[i].data));

				if (jl + l + 1 >= sizeof(joined))
					break;
				if (jl)
					joined[jl++] = ' ';
				memcpy(joined + jl, pk->answers[i].data, l);
				jl += l;
			}
			s = joined;
			slen = jl;
		} else if (f->kind == PG_FK_ADDR) {
			int foff = pg_field_offset(&pg_fields[PG_FLD_FAMILY], type);
			unsigned int family = (unsigned int)pg_field_int(ev, &pg_fields[PG_FLD_FAMILY], foff);
			const unsigned char *addr = (const unsigned char *)&ev->r + off;

			for (size_t i = 0; i < n->nvals; i++)
				if (addr_match(&n->vals[i], family, addr))
					return !ne;
			return ne;
		}
	}

	if (s) {
		if (ne)
			return str_cmp(PG_CMP_NE, s, slen, &n->vals[0]);
		for (size_t i = 0; i < n->nvals && !any; i++)
			any = str_cmp(n->cmp, s, slen, &n->vals[i]);
		return any;
	}
	int64_t val = f->kind == PG_FK_TYPE ? (int64_t)type : pg_field_int(ev, f, off);

	for (size_t i = 0; i < n->nvals && !any; i++)
		any = num_cmp(n->cmp, val, n->vals[i].num);
	return any;
}

bool pg_filter_node__match(const struct pg_filter_node *n, const struct pg_event *ev)
{
	switch (n->op) {
	case PG_FOP_TRUE:
		return true;
	case PG_FOP_AND:
		for (size_t i = 0; i < n->nsub; i++)
			if (!pg_filter_node__match(n->sub[i], ev))
				return false;
		return true;
	case PG_FOP_OR:
		for (size_t i = 0; i < n->nsub; i++)
			if (pg_filter_node__match(n->sub[i], ev))
				return true;
		return false;
	case PG_FOP_NOT:
		return !pg_filter_node__match(n->sub[0], ev);
	case PG_FOP_CMP:
		return cmp_match(n, ev);
	}
	return false;
}

bool pg_filter__match(const struct pg_filter *f, const struct pg_event *ev)
{
	return pg_filter_node__match(f->root, ev);
}

size_t pg_filter__conjuncts(const struct pg_filter *f, const struct pg_filter_node **out,
			    size_t max)
{
	const struct pg_filter_node *root = f->root;

	if (root->op == PG_FOP_TRUE)
		return 0;
	if (root->op != PG_FOP_AND) {
		if (max)
			out[0] = root;
		return 1;
	}
	for (size_t i = 0; i < root->nsub && i < max; i++)
		out[i] = root->sub[i];
	return root->nsub;
}

/* --- building filters from other filters' nodes ------------------------------------------ */

static int value_copy(struct pg_filter_value *to, const struct pg_filter_value *from)
{
	*to = *from;
	if (!from->str)
		return 0;
	to->str = malloc(from->len + 1);
	if (!to->str)
		return -ENOMEM; /* to holds no string: nothing of from's to free by mistake */
	memcpy(to->str, from->str, from->len + 1);
	return 0;
}

struct pg_filter_node *pg_filter_node__clone(const struct pg_filter_node *n)
{
	struct pg_filter_node *c = node_new(n->op);

	if (!c)
		goto enomem;
	c->field = n->field;
	c->cmp = n->cmp;
	c->column = n->column;
	if (n->nvals) {
		c->vals = calloc(n->nvals, sizeof(*c->vals));
		if (!c->vals)
			goto enomem;
		for (; c->nvals < n->nvals; c->nvals++)
			if (value_copy(&c->vals[c->nvals], &n->vals[c->nvals]))
				goto enomem;
	}
	if (n->nsub) {
		c->sub = calloc(n->nsub, sizeof(*c->sub));
		if (!c->sub)
			goto enomem;
		for (; c->nsub < n->nsub; c->nsub++)
			if (!(c->sub[c->nsub] = pg_filter_node__clone(n->sub[c->nsub])))
				goto enomem;
	}
	return c;
enomem:
	pg_filter_node__free(c);
	errno = ENOMEM;
	return NULL;
}

struct pg_filter *pg_filter__from_conjuncts(const struct pg_filter_node *const *conj, size_t n)
{
	struct pg_filter *f = calloc(1, sizeof(*f));
	struct pg_filter_node *root;

	if (!f)
		goto enomem;
	f->root = root = node_new(PG_FOP_AND);
	if (!root)
		goto enomem;
	for (size_t i = 0; i < n; i++) {
		struct pg_filter_node *c;

		if (conj[i]->op == PG_FOP_TRUE)
			continue; /* "everything" adds nothing to a conjunction */
		c = pg_filter_node__clone(conj[i]);
		if (!c || node_adopt(root, c))
			goto enomem;
	}
	/* an AND of one is that one; of none, the empty filter */
	if (root->nsub == 1) {
		f->root = root->sub[0];
		root->nsub = 0;
		pg_filter_node__free(root);
	} else if (!root->nsub) {
		root->op = PG_FOP_TRUE;
	}
	return f;
enomem:
	pg_filter__free(f);
	errno = ENOMEM;
	return NULL;
}

/* --- back to text ------------------------------------------------------------------------ */

static const char *cmp_text(enum pg_cmp c)
{
	static const char *const t[] = { "==", "!=", "<", "<=", ">", ">=", "in", "startswith",
					 "endswith", "contains", "glob" };
	return t[c];
}

struct fmt {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void fput(struct fmt *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* past the end of buf, count only: the caller learns the length it needs */
	va_start(ap, fmt);
	if (o->len < o->size)
		n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void fmt_value(struct fmt *o, const struct pg_field *f, const struct pg_filter_value *v)
{
	if (v->str) {
		/* escaped so that the text parses back to the same value */
		fput(o, "\"");
		for (size_t i = 0; i < v->len; i++) {
			unsigned char c = (unsigned char)v->str[i];

			if (c == '"' || c == '\\')
				fput(o, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				fput(o, "\\x%02x", c);
			else
				fput(o, "%c", c);
		}
		fput(o, "\"");
	} else if (f->kind == PG_FK_TYPE) {
		fput(o, "\"%s\"", pg_event_type_name((unsigned int)v->num));
	} else {
		fput(o, "%lld", (long long)v->num);
	}
}

static void fmt_node(struct fmt *o, const struct pg_filter_node *n);

/* The operands of an and/or node, without the parentheses around them all. */
static void fmt_operands(struct fmt *o, const struct pg_filter_node *n)
{
	for (size_t i = 0; i < n->nsub; i++) {
		if (i)
			fput(o, n->op == PG_FOP_AND ? " && " : " || ");
		fmt_node(o, n->sub[i]);
	}
}

static void fmt_node(struct fmt *o, const struct pg_filter_node *n)
{
	switch (n->op) {
	case PG_FOP_TRUE:
		fput(o, "true");
		break;
	case PG_FOP_AND:
	case PG_FOP_OR:
		fput(o, "(");
		fmt_operands(o, n);
		fput(o, ")");
		break;
	case PG_FOP_NOT:
		fput(o, "!");
		fmt_node(o, n->sub[0]);
		break;
	case PG_FOP_CMP:
		if (n->field->kind == PG_FK_FLAG && n->cmp == PG_CMP_EQ && n->vals[0].num == 1) {
			fput(o, "%s", n->field->name); /* as written: a flag by itself */
			break;
		}
		fput(o, "%s %s ", n->field->name, cmp_text(n->cmp));
		if (n->cmp == PG_CMP_IN) {
			fput(o, "[");
			for (size_t i = 0; i < n->nvals; i++) {
				if (i)
					fput(o, ", ");
				fmt_value(o, n->field, &n->vals[i]);
			}
			fput(o, "]");
		} else {
			fmt_value(o, n->field, &n->vals[0]);
		}
		break;
	}
}

size_t pg_filter_node__format(const struct pg_filter_node *n, char *buf, size_t size)
{
	struct fmt o = { buf, size, 0 };

	if (size)
		buf[0] = 0;
	fmt_node(&o, n);
	return o.len;
}

static void fmt_filter(struct fmt *o, const struct pg_filter *f)
{
	if (f->root->op == PG_FOP_AND)
		fmt_operands(o, f->root);
	else if (f->root->op != PG_FOP_TRUE)
		fmt_node(o, f->root);
}

static bool node_uses(const struct pg_filter_node *n, bool (*pred)(const struct pg_field *))
{
	if (n->op == PG_FOP_CMP)
		return pred(n->field);
	for (size_t i = 0; i < n->nsub; i++)
		if (node_uses(n->sub[i], pred))
			return true;
	return false;
}

bool pg_filter__uses(const struct pg_filter *f, bool (*pred)(const struct pg_field *))
{
	return node_uses(f->root, pred);
}

char *pg_filter__to_text(const struct pg_filter *f)
{
	struct fmt o = { NULL, 0, 0 };

	fmt_filter(&o, f); /* measure, then write */
	o.size = o.len + 1;
	o.len = 0;
	o.buf = malloc(o.size);
	if (!o.buf) {
		errno = ENOMEM;
		return NULL;
	}
	o.buf[0] = 0;
	fmt_filter(&o, f);
	return o.buf;
}

/* A filter longer than this is shown as the ERR_CONTEXT bytes each side of the error. */
#define ERR_LONG 160
#define ERR_CONTEXT 60

void pg_filter_error__format(const char *expr, const struct pg_filter_error *err, char *buf,
			     size_t size)
{
	size_t col = err->column ? err->column - 1 : 0;
	size_t elen = strlen(expr), width = 0, from = 0, to;
	struct fmt o = { buf, size, 0 };

	if (size)
		buf[0] = 0;
	if (col > elen)
		col = elen;
	to = elen;
	if (elen > ERR_LONG) {
		/* whole UTF-8 characters only: start and end on a lead byte */
		from = col > ERR_CONTEXT ? col - ERR_CONTEXT : 0;
		to = col + ERR_CONTEXT < elen ? col + ERR_CONTEXT : elen;
		while (from > 0 && ((unsigned char)expr[from] & 0xc0) == 0x80)
			from--;
		while (to < elen && ((unsigned char)expr[to] & 0xc0) == 0x80)
			to++;
	}
	fput(&o, "column %zu: %s\n  ", col + 1, err->msg);
	if (from) {
		fput(&o, "...");
		width += 3;
	}
	/*
	 * The expression on one line (tabs and newlines shown as spaces), and the caret under
	 * the character the column names: UTF-8 continuation bytes take no place on screen.
	 */
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)expr[i];

		fput(&o, "%c", c < 0x20 ? ' ' : c);
		if (i < col && (c & 0xc0) != 0x80)
			width++;
	}
	if (to < elen)
		fput(&o, "...");
	fput(&o, "\n  %*s^", (int)width, "");
}
