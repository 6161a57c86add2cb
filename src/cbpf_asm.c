// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cBPF assembler (docs/cbpf.md). One program may mix, line by line:
 *
 *   mnemonics      ldh [12] / jeq #ETHERTYPE_IPV4, udp, drop / udp: ret #ACCEPT
 *   listings       (001) jeq      #0x800           jt 2	jf 5      (tcpdump -d, re-assembled)
 *   initialisers   { BPF_LD_H, 0, 0, ETHERTYPE_OFFSET },  BPF_STMT(...), BPF_JUMP(...)
 *   #define        #define PROTO_UDP 0x11   (the seed article's table works as written)
 *
 * and a whole file may be tcpdump -ddd output. Constants are C-style expressions over
 * numbers and names (built-in: linux/filter.h, SKF_AD_*, the seed article's vocabulary).
 * Mnemonic jump targets are labels or absolute instruction numbers (what tcpdump -d prints);
 * in { code, jt, jf, k } they are the raw relative fields.
 *
 * Two passes: the first parses every line and records label references, the second resolves
 * them, so labels may be used before they are defined. Every error names line and column.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf.h"

#define C(n, doc) { #n, (uint32_t)(n), doc }
const struct pg_cbpf_const pg_cbpf_consts[] = {
	/* linux/bpf_common.h and linux/filter.h */
	C(BPF_LD, "class: load into A"), C(BPF_LDX, "class: load into X"),
	C(BPF_ST, "class: store A into M[k]"), C(BPF_STX, "class: store X into M[k]"),
	C(BPF_ALU, "class: arithmetic on A"), C(BPF_JMP, "class: jumps"),
	C(BPF_RET, "class: return"), C(BPF_MISC, "class: tax/txa"),
	C(BPF_W, "size: 32 bits"), C(BPF_H, "size: 16 bits"), C(BPF_B, "size: 8 bits"),
	C(BPF_IMM, "mode: the constant k"), C(BPF_ABS, "mode: packet at k"),
	C(BPF_IND, "mode: packet at X + k"), C(BPF_MEM, "mode: M[k]"),
	C(BPF_LEN, "mode: packet length"), C(BPF_MSH, "mode: 4*([k]&0xf)"),
	C(BPF_ADD, "op"), C(BPF_SUB, "op"), C(BPF_MUL, "op"), C(BPF_DIV, "op"),
	C(BPF_OR, "op"), C(BPF_AND, "op"), C(BPF_LSH, "op"), C(BPF_RSH, "op"),
	C(BPF_NEG, "op"), C(BPF_MOD, "op"), C(BPF_XOR, "op"),
	C(BPF_JA, "jump op: always"), C(BPF_JEQ, "jump op: A == src"),
	C(BPF_JGT, "jump op: A > src"), C(BPF_JGE, "jump op: A >= src"),
	C(BPF_JSET, "jump op: A & src"),
	C(BPF_K, "source: the constant k"), C(BPF_X, "source: register X"),
	C(BPF_A, "return source: register A"),
	C(BPF_TAX, "misc: X = A"), C(BPF_TXA, "misc: A = X"),
	C(BPF_MEMWORDS, "scratch memory words M[0..15]"),
	C(BPF_MAXINSNS, "longest program Linux accepts"),
	C(SKF_AD_OFF, "ld [SKF_AD_OFF + SKF_AD_x]: ancillary data"),
	C(SKF_AD_PROTOCOL, "skb->protocol"), C(SKF_AD_PKTTYPE, "skb->pkt_type"),
	C(SKF_AD_IFINDEX, "interface index"), C(SKF_AD_NLATTR, "netlink attribute search"),
	C(SKF_AD_NLATTR_NEST, "nested netlink attribute search"), C(SKF_AD_MARK, "skb->mark"),
	C(SKF_AD_QUEUE, "skb->queue_mapping"), C(SKF_AD_HATYPE, "device type (ARPHRD_*)"),
	C(SKF_AD_RXHASH, "skb->hash"), C(SKF_AD_CPU, "current CPU"),
	C(SKF_AD_ALU_XOR_X, "A ^= X"), C(SKF_AD_VLAN_TAG, "VLAN TCI"),
	C(SKF_AD_VLAN_TAG_PRESENT, "1 if a VLAN tag was stripped"),
	C(SKF_AD_PAY_OFFSET, "payload offset (flow dissector)"), C(SKF_AD_RANDOM, "random u32"),
	C(SKF_AD_VLAN_TPID, "VLAN TPID"), C(SKF_AD_MAX, "end of the ancillary range"),
	C(SKF_NET_OFF, "ld [SKF_NET_OFF + k]: k bytes after the network header"),
	C(SKF_LL_OFF, "ld [SKF_LL_OFF + k]: k bytes after the link-layer header"),
	/* the seed article's vocabulary (from-bpf-to-ebpf: "the magic numbers become readable") */
	{ "ETHERTYPE_OFFSET", 0x0c, "EtherType in an Ethernet frame" },
	{ "ETHERTYPE_IPV4", 0x0800, "EtherType of IPv4" },
	{ "IP_PROTOCOL_OFFSET", 0x17, "IPv4 protocol byte (14 + 9)" },
	{ "PROTO_UDP", 0x11, "IP protocol number of UDP" },
	{ "ACCEPT", 0x44, "the seed's accept: keep 68 bytes" },
	{ "REJECT", 0x00, "the seed's reject: keep nothing" },
	{ "BPF_LD_W", 0x20, "ld [k] (BPF_LD|BPF_W|BPF_ABS)" },
	{ "BPF_LD_H", 0x28, "ldh [k] (BPF_LD|BPF_H|BPF_ABS)" },
	{ "BPF_LD_B", 0x30, "ldb [k] (BPF_LD|BPF_B|BPF_ABS)" },
	/* more of the same kind, for hand-written filters */
	{ "ETH_HLEN", 14, "Ethernet header length" },
	{ "ETHERTYPE_IPV6", 0x86dd, "EtherType of IPv6" },
	{ "ETHERTYPE_ARP", 0x0806, "EtherType of ARP" },
	{ "ETHERTYPE_VLAN", 0x8100, "EtherType of an 802.1Q tag" },
	{ "ETHERTYPE_QINQ", 0x88a8, "EtherType of an 802.1ad tag" },
	{ "IP_FRAG_OFFSET", 20, "IPv4 flags and fragment offset (14 + 6)" },
	{ "IP_SRC_OFFSET", 26, "IPv4 source address (14 + 12)" },
	{ "IP_DST_OFFSET", 30, "IPv4 destination address (14 + 16)" },
	{ "IP6_NEXTHDR_OFFSET", 20, "IPv6 next header (14 + 6)" },
	{ "PROTO_ICMP", 1, "" }, { "PROTO_TCP", 6, "" }, { "PROTO_ICMPV6", 58, "" },
	{ "PROTO_SCTP", 132, "" },
	{ "PACKET_HOST", 0, "ld [type]: to us" }, { "PACKET_BROADCAST", 1, "" },
	{ "PACKET_MULTICAST", 2, "" }, { "PACKET_OTHERHOST", 3, "" },
	{ "PACKET_OUTGOING", 4, "ld [type]: sent by this host" },
	{ "ARPHRD_ETHER", 1, "ld [hatype]: Ethernet" }, { "ARPHRD_LOOPBACK", 772, "" },
};
#undef C
const size_t pg_cbpf_nconsts = sizeof(pg_cbpf_consts) / sizeof(pg_cbpf_consts[0]);

/* Names of ancillary loads as operands: tcpdump's and bpf_asm's spellings. */
static const struct {
	const char *name;
	uint32_t off;
} anc_ops[] = {
	{ "proto", SKF_AD_PROTOCOL },	{ "type", SKF_AD_PKTTYPE },
	{ "ifidx", SKF_AD_IFINDEX },	{ "nla", SKF_AD_NLATTR },
	{ "nlan", SKF_AD_NLATTR_NEST }, { "mark", SKF_AD_MARK },
	{ "queue", SKF_AD_QUEUE },	{ "hatype", SKF_AD_HATYPE },
	{ "rxhash", SKF_AD_RXHASH },	{ "cpu", SKF_AD_CPU },
	{ "xor_x", SKF_AD_ALU_XOR_X },	{ "vlan_tci", SKF_AD_VLAN_TAG },
	{ "vlanp", SKF_AD_VLAN_TAG_PRESENT }, { "vlan_avail", SKF_AD_VLAN_TAG_PRESENT },
	{ "vlan_pr", SKF_AD_VLAN_TAG_PRESENT }, { "poff", SKF_AD_PAY_OFFSET },
	{ "random", SKF_AD_RANDOM },	{ "rand", SKF_AD_RANDOM },
	{ "vlan_tpid", SKF_AD_VLAN_TPID },
};

struct define {
	char *name;
	uint32_t value;
};

struct label {
	char *name;
	size_t pc;
	unsigned int line;
};

/* A jump target waiting for pass two. */
struct fixup {
	size_t pc;
	int which; /* 0: k (ja), 1: jt, 2: jf */
	char *label; /* NULL: absolute instruction number in abs */
	size_t abs;
	unsigned int line, col;
};

struct asm_state {
	const char *text;
	size_t len;
	struct pg_cbpf_diag *err;
	/* the current line */
	const char *ln; /* comment-free copy of the line, NUL-terminated */
	size_t pos;
	unsigned int lineno;
	const char *lnorig; /* for column numbers: ln and lnorig have the same length */
	/* results */
	struct sock_filter *insns;
	size_t n, cap;
	struct define *defs;
	size_t ndefs, capdefs;
	struct label *labels;
	size_t nlabels, caplabels;
	struct fixup *fix;
	size_t nfix, capfix;
	bool in_comment; /* inside a block comment that spans lines */
	int depth; /* expression nesting: parentheses and unary operators */
};

__attribute__((format(printf, 3, 4))) static int aerr(struct asm_state *st, size_t col,
						      const char *fmt, ...)
{
	va_list ap;

	if (st->err->msg[0])
		return -EINVAL;
	st->err->line = st->lineno;
	st->err->col = (unsigned int)col + 1;
	va_start(ap, fmt);
	vsnprintf(st->err->msg, sizeof(st->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static void skip_ws(struct asm_state *st)
{
	while (st->ln[st->pos] == ' ' || st->ln[st->pos] == '\t' || st->ln[st->pos] == '\r' ||
	       st->ln[st->pos] == '\f' || st->ln[st->pos] == '\v')
		st->pos++;
}

static bool at_end(struct asm_state *st)
{
	skip_ws(st);
	return !st->ln[st->pos];
}

static bool accept_ch(struct asm_state *st, char c)
{
	skip_ws(st);
	if (st->ln[st->pos] == c) {
		st->pos++;
		return true;
	}
	return false;
}

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Read an identifier at pos into buf. Length, 0 when there is none. */
static size_t read_ident(struct asm_state *st, char *buf, size_t size)
{
	size_t start, n;

	skip_ws(st);
	start = st->pos;
	if (!is_ident_start(st->ln[start]))
		return 0;
	while (is_ident(st->ln[st->pos]))
		st->pos++;
	n = st->pos - start;
	if (n >= size) {
		n = size - 1;
	}
	memcpy(buf, st->ln + start, n);
	buf[n] = 0;
	return st->pos - start;
}

/* Is the word at pos (case-insensitive) w, followed by a non-identifier character? */
static bool peek_word(struct asm_state *st, const char *w)
{
	size_t l = strlen(w);

	skip_ws(st);
	return !strncasecmp(st->ln + st->pos, w, l) && !is_ident(st->ln[st->pos + l]);
}

static bool accept_word(struct asm_state *st, const char *w)
{
	if (!peek_word(st, w))
		return false;
	st->pos += strlen(w);
	return true;
}

static const struct define *find_define(const struct asm_state *st, const char *name)
{
	for (size_t i = st->ndefs; i-- > 0;)
		if (!strcmp(st->defs[i].name, name))
			return &st->defs[i];
	return NULL;
}

static const struct pg_cbpf_const *find_builtin(const char *name)
{
	for (size_t i = 0; i < pg_cbpf_nconsts; i++)
		if (!strcmp(pg_cbpf_consts[i].name, name))
			return &pg_cbpf_consts[i];
	return NULL;
}

/* --- expressions: C precedence, unsigned 32-bit arithmetic (what the kernel computes in) - */

static int expr(struct asm_state *st, uint32_t *out);

static int primary(struct asm_state *st, uint32_t *out)
{
	char name[64];
	size_t start;
	int rc;

	skip_ws(st);
	start = st->pos;
	switch (st->ln[st->pos]) {
	case '(':
	case '-':
	case '~':
	case '+': {
		char op = st->ln[st->pos++];
		uint32_t v;

		/* the recursion is the C stack: bound it */
		if (++st->depth > 64)
			return aerr(st, start, "expression nested too deeply (64 levels at most)");
		if (op == '(') {
			rc = expr(st, out);
			if (!rc && !accept_ch(st, ')'))
				rc = aerr(st, st->pos, "expected ')'");
		} else {
			rc = primary(st, &v);
			if (!rc)
				*out = op == '-' ? 0u - v : op == '~' ? ~v : v;
		}
		st->depth--;
		return rc;
	}
	}
	if (isdigit((unsigned char)st->ln[st->pos])) {
		const char *s = st->ln + st->pos;
		char *end;
		unsigned long long v;

		errno = 0;
		if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
			v = strtoull(s + 2, &end, 2);
		else
			v = strtoull(s, &end, 0); /* 0x.. hex, 0.. octal, decimal: as in C */
		if (errno || v > 0xffffffffULL)
			return aerr(st, start, "number out of range: constants are 32-bit");
		while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')
			end++; /* C suffixes, as in 0x800u */
		if (is_ident(*end) || isdigit((unsigned char)*end))
			return aerr(st, (size_t)(end - st->ln), "unexpected '%c' in a number", *end);
		st->pos = (size_t)(end - st->ln);
		*out = (uint32_t)v;
		return 0;
	}
	if (read_ident(st, name, sizeof(name))) {
		const struct define *d = find_define(st, name);
		const struct pg_cbpf_const *b;

		if (d) {
			*out = d->value;
			return 0;
		}
		b = find_builtin(name);
		if (b) {
			*out = b->value;
			return 0;
		}
		return aerr(st, start, "unknown name '%s': #define it, or see 'pangolin cbpf consts' for the built-in names",
			    name);
	}
	if (!st->ln[st->pos])
		return aerr(st, start, "expected a number or a name, found the end of the line");
	return aerr(st, start, "expected a number or a name, found '%c'", st->ln[st->pos]);
}

/* Binary operators by precedence level, lowest first (C's order). */
static int binary(struct asm_state *st, uint32_t *out, int level)
{
	static const char *const ops[][3] = {
		{ "|", NULL, NULL }, { "^", NULL, NULL }, { "&", NULL, NULL },
		{ "<<", ">>", NULL }, { "+", "-", NULL }, { "*", "/", "%" },
	};
	uint32_t lhs, rhs;

	if (level == 6)
		return primary(st, out);
	if (binary(st, &lhs, level + 1))
		return -EINVAL;
	for (;;) {
		const char *op = NULL;
		size_t at;

		skip_ws(st);
		at = st->pos;
		for (int i = 0; i < 3 && ops[level][i]; i++) {
			size_t l = strlen(ops[level][i]);

			/* '|' is not the start of "||", nor '&' of "&&" */
			if (!strncmp(st->ln + st->pos, ops[level][i], l) &&
			    !(l == 1 && (ops[level][i][0] == '|' || ops[level][i][0] == '&') &&
			      st->ln[st->pos + 1] == ops[level][i][0]))
				op = ops[level][i];
		}
		if (!op)
			break;
		st->pos += strlen(op);
		if (binary(st, &rhs, level + 1))
			return -EINVAL;
		switch (op[0]) {
		case '|': lhs |= rhs; break;
		case '^': lhs ^= rhs; break;
		case '&': lhs &= rhs; break;
		case '+': lhs += rhs; break;
		case '-': lhs -= rhs; break;
		case '*': lhs *= rhs; break;
		case '/':
		case '%':
			if (!rhs)
				return aerr(st, at, "division by zero in a constant expression");
			lhs = op[0] == '/' ? lhs / rhs : lhs % rhs;
			break;
		case '<':
		case '>':
			if (rhs > 31)
				return aerr(st, at, "shift by %u in a constant expression (0..31)", rhs);
			lhs = op[0] == '<' ? lhs << rhs : lhs >> rhs;
			break;
		}
	}
	*out = lhs;
	return 0;
}

static int expr(struct asm_state *st, uint32_t *out)
{
	return binary(st, out, 0);
}

static int expr_u32(struct asm_state *st, uint32_t *out, const char *what)
{
	(void)what;
	return expr(st, out);
}

/* --- instructions ------------------------------------------------------------------------ */

static int emit(struct asm_state *st, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (st->n >= PG_CBPF_MAXINSNS * 16)
		return aerr(st, 0, "too many instructions");
	if (grow((void **)&st->insns, &st->cap, st->n + 1, sizeof(*st->insns)))
		return -ENOMEM;
	st->insns[st->n++] = (struct sock_filter){ code, jt, jf, k };
	return 0;
}

static int add_fixup(struct asm_state *st, int which, const char *label, size_t abs, size_t col)
{
	struct fixup *f;

	if (grow((void **)&st->fix, &st->capfix, st->nfix + 1, sizeof(*st->fix)))
		return -ENOMEM;
	f = &st->fix[st->nfix++];
	f->pc = st->n; /* the instruction about to be emitted */
	f->which = which;
	f->label = label ? strdup(label) : NULL;
	if (label && !f->label)
		return -ENOMEM;
	f->abs = abs;
	f->line = st->lineno;
	f->col = (unsigned int)col;
	return 0;
}

/* A jump target: a label, or an absolute instruction number. which: 0 k, 1 jt, 2 jf. */
static int target(struct asm_state *st, int which)
{
	char name[64];
	size_t start;

	skip_ws(st);
	start = st->pos;
	if (is_ident_start(st->ln[st->pos])) {
		read_ident(st, name, sizeof(name));
		return add_fixup(st, which, name, 0, start);
	}
	if (isdigit((unsigned char)st->ln[st->pos])) {
		uint32_t v;

		if (expr(st, &v))
			return -EINVAL;
		return add_fixup(st, which, NULL, v, start);
	}
	return aerr(st, start, "expected a jump target (a label or an instruction number)");
}

/* "[x + k]", "[k]", "[proto]" after ld/ldh/ldb. */
static int ld_operand(struct asm_state *st, uint16_t size)
{
	size_t start;
	char name[32];
	uint32_t k;

	skip_ws(st);
	start = st->pos;
	if (accept_ch(st, '#')) {
		size_t save = st->pos;

		if (size == BPF_W && (accept_word(st, "len") || accept_word(st, "pktlen")))
			return emit(st, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
		if (read_ident(st, name, sizeof(name))) {
			for (size_t i = 0; i < sizeof(anc_ops) / sizeof(anc_ops[0]); i++)
				if (!strcmp(name, anc_ops[i].name))
					return emit(st, BPF_LD | size | BPF_ABS, 0, 0,
						    (uint32_t)SKF_AD_OFF + anc_ops[i].off);
		}
		st->pos = save;
		if (size != BPF_W)
			return aerr(st, start, "ld%s #k: immediate loads are 32-bit; write ld #k",
				    size == BPF_H ? "h" : "b");
		if (expr_u32(st, &k, "constant"))
			return -EINVAL;
		return emit(st, BPF_LD | BPF_IMM, 0, 0, k);
	}
	if (peek_word(st, "M")) {
		accept_word(st, "M");
		if (size != BPF_W)
			return aerr(st, start, "M[] loads are 32-bit: write ld M[k]");
		if (!accept_ch(st, '['))
			return aerr(st, st->pos, "expected '[' after M");
		if (expr_u32(st, &k, "index"))
			return -EINVAL;
		if (!accept_ch(st, ']'))
			return aerr(st, st->pos, "expected ']'");
		return emit(st, BPF_LD | BPF_MEM, 0, 0, k);
	}
	if (peek_word(st, "len") || peek_word(st, "pktlen")) {
		(void)(accept_word(st, "len") || accept_word(st, "pktlen"));
		return emit(st, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
	}
	if (!accept_ch(st, '['))
		return aerr(st, st->pos, "expected an operand: [k], [x + k], #k, M[k] or #len");
	skip_ws(st);
	{
		size_t save = st->pos;

		if (read_ident(st, name, sizeof(name))) {
			skip_ws(st);
			if (st->ln[st->pos] == ']') {
				for (size_t i = 0; i < sizeof(anc_ops) / sizeof(anc_ops[0]); i++)
					if (!strcmp(name, anc_ops[i].name)) {
						st->pos++;
						return emit(st, BPF_LD | size | BPF_ABS, 0, 0,
							    (uint32_t)SKF_AD_OFF + anc_ops[i].off);
					}
			}
			if ((!strcmp(name, "x") || !strcmp(name, "X")) &&
			    (st->ln[st->pos] == '+' || st->ln[st->pos] == ']')) {
				k = 0;
				if (accept_ch(st, '+') && expr_u32(st, &k, "offset"))
					return -EINVAL;
				if (!accept_ch(st, ']'))
					return aerr(st, st->pos, "expected ']'");
				return emit(st, BPF_LD | size | BPF_IND, 0, 0, k);
			}
		}
		st->pos = save;
		if (accept_ch(st, '%') && accept_word(st, "x")) {
			k = 0;
			if (accept_ch(st, '+') && expr_u32(st, &k, "offset"))
				return -EINVAL;
			if (!accept_ch(st, ']'))
				return aerr(st, st->pos, "expected ']'");
			return emit(st, BPF_LD | size | BPF_IND, 0, 0, k);
		}
		st->pos = save;
	}
	if (expr_u32(st, &k, "offset"))
		return -EINVAL;
	if (!accept_ch(st, ']'))
		return aerr(st, st->pos, "expected ']'");
	return emit(st, BPF_LD | size | BPF_ABS, 0, 0, k);
}

/* "4*([k]&0xf)" */
static int msh_operand(struct asm_state *st)
{
	uint32_t k;

	if (!accept_ch(st, '4') || !accept_ch(st, '*') || !accept_ch(st, '(') || !accept_ch(st, '['))
		return aerr(st, st->pos, "expected 4*([k]&0xf)");
	if (expr_u32(st, &k, "offset"))
		return -EINVAL;
	if (!accept_ch(st, ']') || !accept_ch(st, '&'))
		return aerr(st, st->pos, "expected ']&0xf)' in 4*([k]&0xf)");
	skip_ws(st);
	if (strncasecmp(st->ln + st->pos, "0xf", 3) || is_ident(st->ln[st->pos + 3]))
		return aerr(st, st->pos, "expected 0xf in 4*([k]&0xf)");
	st->pos += 3;
	if (!accept_ch(st, ')'))
		return aerr(st, st->pos, "expected ')' closing 4*([k]&0xf)");
	return emit(st, BPF_LDX | BPF_B | BPF_MSH, 0, 0, k);
}

static int ldx_operand(struct asm_state *st, bool only_msh)
{
	uint32_t k;

	skip_ws(st);
	if (st->ln[st->pos] == '4' || only_msh)
		return msh_operand(st);
	if (accept_ch(st, '#')) {
		if (accept_word(st, "len") || accept_word(st, "pktlen"))
			return emit(st, BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0);
		if (expr_u32(st, &k, "constant"))
			return -EINVAL;
		return emit(st, BPF_LDX | BPF_IMM, 0, 0, k);
	}
	if (accept_word(st, "len") || accept_word(st, "pktlen"))
		return emit(st, BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0);
	if (accept_word(st, "M")) {
		if (!accept_ch(st, '['))
			return aerr(st, st->pos, "expected '[' after M");
		if (expr_u32(st, &k, "index"))
			return -EINVAL;
		if (!accept_ch(st, ']'))
			return aerr(st, st->pos, "expected ']'");
		return emit(st, BPF_LDX | BPF_MEM, 0, 0, k);
	}
	if (st->ln[st->pos] == '[')
		return aerr(st, st->pos, "ldx cannot load from the packet; use ld [k] then tax, or ldxb 4*([k]&0xf)");
	return aerr(st, st->pos, "expected an operand for ldx: #k, M[k], #len or 4*([k]&0xf)");
}

static int mem_operand(struct asm_state *st, uint16_t code)
{
	uint32_t k;

	if (!accept_word(st, "M") || !accept_ch(st, '['))
		return aerr(st, st->pos, "expected M[k]");
	if (expr_u32(st, &k, "index"))
		return -EINVAL;
	if (!accept_ch(st, ']'))
		return aerr(st, st->pos, "expected ']'");
	return emit(st, code, 0, 0, k);
}

/* "x", "%x" or "X": the register as source. */
static bool accept_x(struct asm_state *st)
{
	size_t save = st->pos;

	skip_ws(st);
	if (st->ln[st->pos] == '%')
		st->pos++;
	if (accept_word(st, "x"))
		return true;
	st->pos = save;
	return false;
}

static bool accept_a(struct asm_state *st)
{
	size_t save = st->pos;

	skip_ws(st);
	if (st->ln[st->pos] == '%')
		st->pos++;
	if (accept_word(st, "a"))
		return true;
	st->pos = save;
	return false;
}

/* "#k" or "x" for ALU and jumps; sets *code's source bit and *k. */
static int src_operand(struct asm_state *st, uint16_t *code, uint32_t *k)
{
	if (accept_x(st)) {
		*code |= BPF_X;
		*k = 0;
		return 0;
	}
	if (!accept_ch(st, '#')) {
		skip_ws(st);
		if (!st->ln[st->pos])
			return aerr(st, st->pos, "missing operand: #k or x");
	}
	return expr_u32(st, k, "constant");
}

static const struct {
	const char *name;
	uint16_t op;
} alu_ops[] = {
	{ "add", BPF_ADD }, { "sub", BPF_SUB }, { "mul", BPF_MUL }, { "div", BPF_DIV },
	{ "mod", BPF_MOD }, { "and", BPF_AND }, { "or", BPF_OR },	{ "xor", BPF_XOR },
	{ "lsh", BPF_LSH }, { "rsh", BPF_RSH },
};

enum jkind { J_EQ, J_NE, J_GT, J_GE, J_LT, J_LE, J_SET };

static const struct {
	const char *name;
	enum jkind kind;
} jmp_ops[] = {
	{ "jeq", J_EQ }, { "jneq", J_NE }, { "jne", J_NE }, { "jgt", J_GT }, { "jge", J_GE },
	{ "jlt", J_LT }, { "jle", J_LE },  { "jset", J_SET },
};

static int cond_jump(struct asm_state *st, enum jkind kind)
{
	uint16_t code = BPF_JMP;
	uint32_t k;
	bool swap = false;
	size_t f0 = st->nfix;

	switch (kind) {
	case J_EQ: code |= BPF_JEQ; break;
	case J_NE: code |= BPF_JEQ; swap = true; break;
	case J_GT: code |= BPF_JGT; break;
	case J_GE: code |= BPF_JGE; break;
	case J_LT: code |= BPF_JGE; swap = true; break;
	case J_LE: code |= BPF_JGT; swap = true; break;
	case J_SET: code |= BPF_JSET; break;
	}
	if (src_operand(st, &code, &k))
		return -EINVAL;
	skip_ws(st);
	if (accept_word(st, "jt")) {
		/* tcpdump -d form: "jt N jf M", absolute */
		if (target(st, 1))
			return -EINVAL;
		if (!accept_word(st, "jf"))
			return aerr(st, st->pos, "expected 'jf' after the jt target");
		if (target(st, 2))
			return -EINVAL;
	} else {
		if (!accept_ch(st, ','))
			return aerr(st, st->pos, "expected ', target' after the operand");
		if (target(st, 1))
			return -EINVAL;
		if (accept_ch(st, ',')) {
			if (target(st, 2))
				return -EINVAL;
		} else {
			/* one target: the other branch falls through to the next instruction */
			if (add_fixup(st, 2, NULL, st->n + 1, st->pos))
				return -ENOMEM;
		}
	}
	if (swap) {
		for (size_t i = f0; i < st->nfix; i++)
			st->fix[i].which = st->fix[i].which == 1 ? 2 : 1;
	}
	return emit(st, code, 0, 0, k);
}

/* One mnemonic instruction at pos. */
static int mnemonic(struct asm_state *st)
{
	char op[16];
	size_t start;

	skip_ws(st);
	start = st->pos;
	if (!read_ident(st, op, sizeof(op)))
		return aerr(st, start, "expected an instruction");
	for (char *p = op; *p; p++)
		*p = (char)tolower((unsigned char)*p);

	if (!strcmp(op, "ld") || !strcmp(op, "ldw") || !strcmp(op, "ldi"))
		return ld_operand(st, BPF_W);
	if (!strcmp(op, "ldh"))
		return ld_operand(st, BPF_H);
	if (!strcmp(op, "ldb"))
		return ld_operand(st, BPF_B);
	if (!strcmp(op, "ldx") || !strcmp(op, "ldxi"))
		return ldx_operand(st, false);
	if (!strcmp(op, "ldxb"))
		return ldx_operand(st, true);
	if (!strcmp(op, "st"))
		return mem_operand(st, BPF_ST);
	if (!strcmp(op, "stx"))
		return mem_operand(st, BPF_STX);
	if (!strcmp(op, "tax"))
		return emit(st, BPF_MISC | BPF_TAX, 0, 0, 0);
	if (!strcmp(op, "txa"))
		return emit(st, BPF_MISC | BPF_TXA, 0, 0, 0);
	if (!strcmp(op, "neg"))
		return emit(st, BPF_ALU | BPF_NEG, 0, 0, 0);
	if (!strcmp(op, "ret")) {
		uint32_t k;

		if (at_end(st) || accept_a(st))
			return emit(st, BPF_RET | BPF_A, 0, 0, 0);
		if (accept_x(st))
			return emit(st, BPF_RET | BPF_X, 0, 0, 0);
		accept_ch(st, '#');
		if (expr_u32(st, &k, "return value"))
			return -EINVAL;
		return emit(st, BPF_RET | BPF_K, 0, 0, k);
	}
	if (!strcmp(op, "ja") || !strcmp(op, "jmp") || !strcmp(op, "ba")) {
		if (target(st, 0))
			return -EINVAL;
		return emit(st, BPF_JMP | BPF_JA, 0, 0, 0);
	}
	for (size_t i = 0; i < sizeof(alu_ops) / sizeof(alu_ops[0]); i++) {
		if (strcmp(op, alu_ops[i].name))
			continue;
		uint16_t code = BPF_ALU | alu_ops[i].op;
		uint32_t k;

		if (src_operand(st, &code, &k))
			return -EINVAL;
		return emit(st, code, 0, 0, k);
	}
	for (size_t i = 0; i < sizeof(jmp_ops) / sizeof(jmp_ops[0]); i++)
		if (!strcmp(op, jmp_ops[i].name))
			return cond_jump(st, jmp_ops[i].kind);
	return aerr(st, start, "unknown instruction '%s' (ld ldh ldb ldx ldxb st stx add sub mul div mod and or xor lsh rsh neg tax txa ja jeq jne jlt jle jgt jge jset ret)",
		    op);
}

/* The bare op names of linux/filter.h, which are not opcodes by themselves. */
static bool is_bare_op(const char *name)
{
	static const char *const ops[] = { "BPF_JEQ", "BPF_JGT", "BPF_JGE", "BPF_JSET", "BPF_JA" };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(name, ops[i]))
			return true;
	return false;
}

/* { code, jt, jf, k }, BPF_STMT(code, k), BPF_JUMP(code, k, jt, jf). pos is at '{' or 'B'. */
static int initialiser(struct asm_state *st)
{
	uint32_t v[4];
	size_t cols[4];
	int kind; /* 0 tuple, 1 STMT, 2 JUMP */
	int nvals;
	char close;

	skip_ws(st);
	if (st->ln[st->pos] == '{') {
		st->pos++;
		kind = 0;
		nvals = 4;
		close = '}';
	} else if (accept_word(st, "BPF_STMT")) {
		kind = 1;
		nvals = 2;
		close = ')';
		if (!accept_ch(st, '('))
			return aerr(st, st->pos, "expected '(' after BPF_STMT");
	} else if (accept_word(st, "BPF_JUMP")) {
		kind = 2;
		nvals = 4;
		close = ')';
		if (!accept_ch(st, '('))
			return aerr(st, st->pos, "expected '(' after BPF_JUMP");
	} else {
		return aerr(st, st->pos, "expected '{' or BPF_STMT/BPF_JUMP");
	}
	for (int i = 0; i < nvals; i++) {
		char name[64];
		size_t save;

		skip_ws(st);
		cols[i] = st->pos;
		save = st->pos;
		/* the seed article's BPF_JEQ (0x15) is not linux/filter.h's (0x10) */
		if (i == 0 && read_ident(st, name, sizeof(name)) && is_bare_op(name) &&
		    !find_define(st, name)) {
			skip_ws(st);
			if (st->ln[st->pos] == ',')
				return aerr(st, cols[i], "%s alone is 0x%x, the jump operation bits of linux/filter.h, not an opcode: write BPF_JMP|%s|BPF_K, or '#define %s 0x%x' as the seed article does",
					    name, find_builtin(name)->value, name, name,
					    BPF_JMP | find_builtin(name)->value);
		}
		st->pos = save;
		if (expr(st, &v[i]))
			return -EINVAL;
		if (i + 1 < nvals && !accept_ch(st, ','))
			return aerr(st, st->pos, "expected ',' (%s takes %d values)",
				    kind == 0 ? "{ code, jt, jf, k }" : kind == 1 ? "BPF_STMT(code, k)" : "BPF_JUMP(code, k, jt, jf)",
				    nvals);
	}
	if (!accept_ch(st, close))
		return aerr(st, st->pos, "expected '%c' after the %s value", close,
			    kind == 1 ? "second" : "fourth");
	uint32_t code = v[0], k = kind == 0 ? v[3] : v[1];
	uint32_t jt = kind == 0 ? v[1] : kind == 2 ? v[2] : 0;
	uint32_t jf = kind == 0 ? v[2] : kind == 2 ? v[3] : 0;
	size_t kcol = cols[kind == 0 ? 3 : 1];
	size_t jtcol = cols[kind == 0 ? 1 : 2], jfcol = cols[kind == 0 ? 2 : 3];

	(void)kcol;
	if (code > 0xffff)
		return aerr(st, cols[0], "opcode %u (0x%x) does not fit in 16 bits", code, code);
	if (kind != 1 && jt > 255)
		return aerr(st, jtcol, "jt %d: jump offsets are 0..255", (int32_t)jt);
	if (kind != 1 && jf > 255)
		return aerr(st, jfcol, "jf %d: jump offsets are 0..255", (int32_t)jf);
	return emit(st, (uint16_t)code, (uint8_t)jt, (uint8_t)jf, (uint32_t)k);
}

static int define(struct asm_state *st)
{
	char name[64];
	size_t start;
	uint32_t v;
	struct define *d;

	skip_ws(st);
	start = st->pos;
	if (!read_ident(st, name, sizeof(name)))
		return aerr(st, start, "expected a name after #define");
	if (st->ln[st->pos] == '(')
		return aerr(st, st->pos, "#define with parameters is not supported: define constants only");
	skip_ws(st);
	if (!st->ln[st->pos])
		return aerr(st, st->pos, "#define %s needs a value", name);
	if (expr(st, &v))
		return -EINVAL;
	if (!at_end(st))
		return aerr(st, st->pos, "unexpected text after the value of %s", name);
	{
		const struct define *old = find_define(st, name);

		if (old && old->value != v)
			return aerr(st, start, "%s is already defined as 0x%x", name, old->value);
	}
	if (grow((void **)&st->defs, &st->capdefs, st->ndefs + 1, sizeof(*st->defs)))
		return -ENOMEM;
	d = &st->defs[st->ndefs];
	d->name = strdup(name);
	if (!d->name)
		return -ENOMEM;
	d->value = v;
	st->ndefs++;
	return 0;
}

static int add_label(struct asm_state *st, const char *name, size_t col)
{
	struct label *l;

	for (size_t i = 0; i < st->nlabels; i++)
		if (!strcmp(st->labels[i].name, name))
			return aerr(st, col, "label '%s' is already defined on line %u", name,
				    st->labels[i].line);
	if (grow((void **)&st->labels, &st->caplabels, st->nlabels + 1, sizeof(*st->labels)))
		return -ENOMEM;
	l = &st->labels[st->nlabels];
	l->name = strdup(name);
	if (!l->name)
		return -ENOMEM;
	l->pc = st->n;
	l->line = st->lineno;
	st->nlabels++;
	return 0;
}

/*
 * C around an initialiser list: "struct sock_filter f[] = {", "};", a struct sock_fprog and
 * its ".len = ..." lines. Returns 1 when the line holds nothing more, 0 when it is not such a
 * line, and moves pos past "= {" when instructions follow on the same line; -EINVAL for other C.
 */
static int c_wrapper(struct asm_state *st)
{
	const char *s = st->ln + st->pos;
	const char *brace;

	if (s[0] == '.') /* .len = 6, .filter = x, */
		return 1;
	if (!strncmp(s, "static ", 7) || !strncmp(s, "const ", 6) || !strncmp(s, "struct ", 7)) {
		if (strstr(s, "sock_fprog"))
			return 1;
		if (!strstr(s, "sock_filter"))
			return aerr(st, st->pos, "C other than a struct sock_filter initialiser is not understood here");
		brace = strchr(s, '{');
		if (!brace)
			return 1;
		st->pos = (size_t)(brace + 1 - st->ln);
		return at_end(st) ? 1 : 0;
	}
	for (; *s; s++)
		if (*s != '}' && *s != ';' && *s != ',' && !isspace((unsigned char)*s))
			return 0;
	return 1;
}

static int parse_line(struct asm_state *st)
{
	char name[64];
	size_t save;
	int rc;

	st->pos = 0;
	skip_ws(st);
	if (!st->ln[st->pos])
		return 0;
	if (st->ln[st->pos] == '#') {
		st->pos++;
		skip_ws(st);
		if (accept_word(st, "define"))
			return define(st);
		if (accept_word(st, "include")) {
			skip_ws(st);
			if (!strncmp(st->ln + st->pos, "<linux/filter.h>", 16) ||
			    !strncmp(st->ln + st->pos, "<linux/bpf_common.h>", 20))
				return 0; /* their names are built in */
			return aerr(st, st->pos, "#include of other files is not supported: put the #defines in this file");
		}
		return aerr(st, st->pos, "unknown directive (only #define and #include <linux/filter.h>)");
	}
	rc = c_wrapper(st);
	if (rc)
		return rc < 0 ? rc : 0;
	/* (NNN) listing prefix */
	if (st->ln[st->pos] == '(' && isdigit((unsigned char)st->ln[st->pos + 1])) {
		size_t at = st->pos;
		unsigned long idx = strtoul(st->ln + st->pos + 1, NULL, 10);
		const char *close = strchr(st->ln + st->pos, ')');

		if (!close)
			return aerr(st, at, "expected ')' closing the instruction number");
		if (idx != st->n)
			return aerr(st, at, "listing line says (%03lu) but this is instruction %zu", idx, st->n);
		st->pos = (size_t)(close - st->ln) + 1;
	}
	/* labels: "name:" (several may precede one instruction) */
	for (;;) {
		skip_ws(st);
		save = st->pos;
		if (!read_ident(st, name, sizeof(name)))
			break;
		skip_ws(st);
		if (st->ln[st->pos] != ':') {
			st->pos = save;
			break;
		}
		st->pos++;
		if ((rc = add_label(st, name, save)))
			return rc;
	}
	skip_ws(st);
	if (!st->ln[st->pos])
		return 0;
	if (st->ln[st->pos] == '{' || peek_word(st, "BPF_STMT") || peek_word(st, "BPF_JUMP")) {
		for (;;) {
			if ((rc = initialiser(st)))
				return rc;
			accept_ch(st, ',');
			skip_ws(st);
			if (!st->ln[st->pos] || st->ln[st->pos] == '}')
				break;
		}
		while (accept_ch(st, '}') || accept_ch(st, ';') || accept_ch(st, ','))
			;
		if (!at_end(st))
			return aerr(st, st->pos, "unexpected text after the instruction");
		return 0;
	}
	if ((rc = mnemonic(st)))
		return rc;
	if (!at_end(st))
		return aerr(st, st->pos, "unexpected text after the instruction");
	return 0;
}

/* Copy a line with comments blanked to spaces (columns survive); tracks block comments. */
static char *clean_line(struct asm_state *st, const char *s, size_t n)
{
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (st->in_comment) {
			if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
				out[i] = out[i + 1] = ' ';
				i++;
				st->in_comment = false;
			} else {
				out[i] = ' ';
			}
			continue;
		}
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			out[i] = out[i + 1] = ' ';
			i++;
			st->in_comment = true;
			continue;
		}
		if (s[i] == ';') {
			/* ';' starts a comment, except where it ends C: "};" */
			size_t j = i;

			bool c_end = true;

			while (j > 0 && isspace((unsigned char)s[j - 1]))
				j--;
			for (size_t r = i + 1; r < n && c_end; r++)
				c_end = isspace((unsigned char)s[r]) || s[r] == '}' || s[r] == ';';
			if (!(j > 0 && s[j - 1] == '}' && c_end)) {
				memset(out + i, ' ', n - i);
				break;
			}
		}
		if ((s[i] == '/' && i + 1 < n && s[i + 1] == '/')) {
			memset(out + i, ' ', n - i);
			break;
		}
		if (s[i] == 0)
			out[i] = ' ';
		else
			out[i] = s[i];
	}
	out[n] = 0;
	return out;
}

/* Whole-file tcpdump -ddd: a count, then "code jt jf k" per line, all decimal. */
static bool looks_like_ddd(const char *text, size_t len)
{
	size_t lines = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		int nums = 0;
		bool innum = false;

		for (const char *q = p; q < le; q++) {
			if (isdigit((unsigned char)*q)) {
				if (!innum)
					nums++;
				innum = true;
			} else if (*q == ' ' || *q == '\t' || *q == '\r') {
				innum = false;
			} else {
				return false;
			}
		}
		if (nums) {
			if ((lines == 0 && nums != 1) || (lines > 0 && nums != 4))
				return false;
			lines++;
		}
		p = le + 1;
	}
	return lines >= 1;
}

static int parse_ddd(struct asm_state *st)
{
	const char *p = st->text, *end = st->text + st->len;
	unsigned long long count = 0;
	bool have_count = false;

	st->lineno = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		unsigned long long v[4];
		char buf[128];
		size_t l = (size_t)(le - p);
		int got;

		st->lineno++;
		if (l >= sizeof(buf))
			return aerr(st, 0, "line too long for tcpdump -ddd input");
		memcpy(buf, p, l);
		buf[l] = 0;
		p = le + 1;
		got = sscanf(buf, "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]);
		if (got <= 0)
			continue;
		if (!have_count) {
			count = v[0];
			have_count = true;
			continue;
		}
		if (v[0] > 0xffff || v[1] > 255 || v[2] > 255 || v[3] > 0xffffffffULL)
			return aerr(st, 0, "value out of range (code 0..65535, jt/jf 0..255, k 32-bit)");
		if (emit(st, (uint16_t)v[0], (uint8_t)v[1], (uint8_t)v[2], (uint32_t)v[3]))
			return -EINVAL;
	}
	if (count != st->n) {
		st->lineno = 1;
		return aerr(st, 0, "the first line says %llu instructions, but %zu follow", count, st->n);
	}
	return 0;
}

static int resolve(struct asm_state *st)
{
	for (size_t i = 0; i < st->nfix; i++) {
		struct fixup *f = &st->fix[i];
		size_t tgt = f->abs, off;
		struct sock_filter *in = &st->insns[f->pc];

		st->lineno = f->line;
		if (f->label) {
			size_t l;

			for (l = 0; l < st->nlabels; l++)
				if (!strcmp(st->labels[l].name, f->label))
					break;
			if (l == st->nlabels)
				return aerr(st, f->col, "undefined label '%s'", f->label);
			tgt = st->labels[l].pc;
		}
		if (tgt <= f->pc)
			return aerr(st, f->col, "jump from instruction %zu to %zu goes backwards: classic BPF jumps only forward%s",
				    f->pc, tgt,
				    f->label ? "" : " (in mnemonic lines a number is an instruction index, as tcpdump -d prints it; raw offsets go in { code, jt, jf, k })");
		if (tgt >= st->n)
			return aerr(st, f->col, "jump target %zu is past the last instruction (%zu)", tgt,
				    st->n ? st->n - 1 : 0);
		off = tgt - f->pc - 1;
		if (f->which == 0) {
			in->k = (uint32_t)off;
		} else {
			if (off > 255)
				return aerr(st, f->col, "conditional jump from %zu to %zu skips %zu instructions; jt/jf reach at most 255 (jump to a 'ja' closer by)",
					    f->pc, tgt, off);
			if (f->which == 1)
				in->jt = (uint8_t)off;
			else
				in->jf = (uint8_t)off;
		}
	}
	return 0;
}

static void state_free(struct asm_state *st)
{
	for (size_t i = 0; i < st->ndefs; i++)
		free(st->defs[i].name);
	for (size_t i = 0; i < st->nlabels; i++)
		free(st->labels[i].name);
	for (size_t i = 0; i < st->nfix; i++)
		free(st->fix[i].label);
	free(st->defs);
	free(st->labels);
	free(st->fix);
	free(st->insns);
}

int pg_cbpf_asm(const char *text, size_t len, struct pg_cbpf_prog *out, struct pg_cbpf_diag *err)
{
	struct asm_state st = { .text = text, .len = len, .err = err };
	const char *p = text, *end = text + len;
	int rc = 0;

	memset(err, 0, sizeof(*err));
	if (looks_like_ddd(text, len)) {
		rc = parse_ddd(&st);
		goto done;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *line;

		st.lineno++;
		line = clean_line(&st, p, (size_t)(le - p));
		if (!line) {
			rc = -ENOMEM;
			goto done;
		}
		st.ln = line;
		rc = parse_line(&st);
		free(line);
		st.ln = NULL;
		if (rc)
			goto done;
		p = le + 1;
	}
	if (st.in_comment) {
		rc = aerr(&st, 0, "unterminated /* comment");
		goto done;
	}
	for (size_t i = 0; i < st.nlabels; i++) {
		if (st.labels[i].pc >= st.n) {
			st.lineno = st.labels[i].line;
			rc = aerr(&st, 0, "label '%s' is at the end of the program, with no instruction after it",
				  st.labels[i].name);
			goto done;
		}
	}
	rc = resolve(&st);
done:
	if (!rc && st.n == 0) {
		st.lineno = 0;
		rc = aerr(&st, 0, "no instructions found");
	}
	if (rc == -EINVAL && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "invalid input");
	if (rc == -ENOMEM)
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	if (!rc) {
		out->insns = st.insns;
		out->len = st.n;
		st.insns = NULL;
	}
	state_free(&st);
	return rc;
}

int pg_cbpf_load(const void *data, size_t len, struct pg_cbpf_prog *out, struct pg_cbpf_diag *err)
{
	const unsigned char *d = data;
	bool binary = false;

	memset(err, 0, sizeof(*err));
	for (size_t i = 0; i < len; i++) {
		if (d[i] == 0 || (d[i] < 0x20 && d[i] != '\n' && d[i] != '\r' && d[i] != '\t' &&
				  d[i] != '\f' && d[i] != '\v')) {
			binary = true;
			break;
		}
	}
	if (!binary)
		return pg_cbpf_asm(data, len, out, err);
	if (len % sizeof(struct sock_filter)) {
		snprintf(err->msg, sizeof(err->msg),
			 "binary input of %zu bytes is not a whole number of 8-byte struct sock_filter instructions",
			 len);
		return -EINVAL;
	}
	if (len == 0) {
		snprintf(err->msg, sizeof(err->msg), "no instructions found");
		return -EINVAL;
	}
	out->insns = NULL;
	out->len = 0;
	return pg_cbpf_prog__set(out, data, len / sizeof(struct sock_filter));
}
