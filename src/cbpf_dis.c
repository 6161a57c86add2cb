// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cBPF writers: the tcpdump -d listing (same text as libpcap's bpf_image(), so the two can be
 * diffed), labelled assembly, and the bytecode forms (C array, decimal, raw, sock_fprog).
 * Every text form assembles back to the same instructions (cbpf_asm.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf.h"

/* 2004: load EtherType, IPv4? load protocol, UDP? keep 68 bytes : drop. */
const struct sock_filter pg_cbpf_seed_udp[6] = {
	{ 0x28, 0, 0, 0x0000000c },
	{ 0x15, 0, 3, 0x00000800 },
	{ 0x30, 0, 0, 0x00000017 },
	{ 0x15, 0, 1, 0x00000011 },
	{ 0x6, 0, 0, 0x00000044 },
	{ 0x6, 0, 0, 0x00000000 },
};

void pg_cbpf_prog__free(struct pg_cbpf_prog *p)
{
	if (!p)
		return;
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}

int pg_cbpf_prog__set(struct pg_cbpf_prog *p, const struct sock_filter *insns, size_t n)
{
	struct sock_filter *copy = malloc((n ? n : 1) * sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	if (n)
		memcpy(copy, insns, n * sizeof(*copy));
	free(p->insns);
	p->insns = copy;
	p->len = n;
	return 0;
}

/* Names libpcap prints for ancillary loads, indexed by SKF_AD_* / 4. */
static const char *const anc_names[SKF_AD_MAX / 4] = {
	"proto", "type",   "ifidx",    "nla",	"nlan",	     "mark",  "queue",	"hatype",
	"rxhash", "cpu",   "xor_x",    "vlan_tci", "vlanp", "poff", "random", "vlan_tpid",
};

static const char *anc_name(uint32_t k)
{
	uint32_t off = k - (uint32_t)SKF_AD_OFF;

	if (k < (uint32_t)SKF_AD_OFF || off >= SKF_AD_MAX || off % 4)
		return NULL;
	return anc_names[off / 4];
}

static bool is_cond(const struct sock_filter *in);

/* Does the instruction use its k field? (tax, neg, ret a, ... ignore it) */
static bool uses_k(uint16_t code)
{
	switch (code) {
	case BPF_RET | BPF_A:
	case BPF_RET | BPF_X:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_ALU | BPF_NEG:
		return false;
	}
	if ((BPF_CLASS(code) == BPF_ALU || BPF_CLASS(code) == BPF_JMP) && BPF_SRC(code) == BPF_X)
		return false;
	return true;
}

/*
 * Mnemonic and operand of one instruction, as bpf_image() has them. false when the text
 * cannot say it all: an unknown opcode, or fields the instruction ignores that are not zero
 * (the kernel ignores them too, but a listing must not lose bytes).
 */
static bool insn_parts(const struct sock_filter *in, size_t pc, const char **op, char *operand,
		       size_t size)
{
	int32_t sk = (int32_t)in->k;
	const char *an;

	operand[0] = 0;
	*op = NULL;
	if ((!is_cond(in) && (in->jt || in->jf)) || (!uses_k(in->code) && in->k))
		return false;
#define OPF(o, ...)                                   \
	do {                                          \
		*op = o;                              \
		snprintf(operand, size, __VA_ARGS__); \
		return true;                          \
	} while (0)
	switch (in->code) {
	case BPF_RET | BPF_K: OPF("ret", "#%d", sk);
	case BPF_RET | BPF_A: OPF("ret", "%s", "");
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
		*op = BPF_SIZE(in->code) == BPF_W ? "ld" : BPF_SIZE(in->code) == BPF_H ? "ldh" : "ldb";
		an = anc_name(in->k);
		if (an)
			snprintf(operand, size, "[%s]", an);
		else
			snprintf(operand, size, "[%d]", sk);
		return true;
	case BPF_LD | BPF_W | BPF_LEN: OPF("ld", "#pktlen");
	case BPF_LD | BPF_W | BPF_IND: OPF("ld", "[x + %d]", sk);
	case BPF_LD | BPF_H | BPF_IND: OPF("ldh", "[x + %d]", sk);
	case BPF_LD | BPF_B | BPF_IND: OPF("ldb", "[x + %d]", sk);
	case BPF_LD | BPF_IMM: OPF("ld", "#0x%x", in->k);
	case BPF_LDX | BPF_IMM: OPF("ldx", "#0x%x", in->k);
	/* libpcap never emits this and prints it as "unimp"; Linux takes it */
	case BPF_LDX | BPF_W | BPF_LEN: OPF("ldx", "#pktlen");
	case BPF_LDX | BPF_MSH | BPF_B: OPF("ldxb", "4*([%d]&0xf)", sk);
	case BPF_LD | BPF_MEM: OPF("ld", "M[%d]", sk);
	case BPF_LDX | BPF_MEM: OPF("ldx", "M[%d]", sk);
	case BPF_ST: OPF("st", "M[%d]", sk);
	case BPF_STX: OPF("stx", "M[%d]", sk);
	case BPF_JMP | BPF_JA: OPF("ja", "%d", (int)((int64_t)pc + 1 + in->k));
	case BPF_JMP | BPF_JGT | BPF_K: OPF("jgt", "#0x%x", in->k);
	case BPF_JMP | BPF_JGE | BPF_K: OPF("jge", "#0x%x", in->k);
	case BPF_JMP | BPF_JEQ | BPF_K: OPF("jeq", "#0x%x", in->k);
	case BPF_JMP | BPF_JSET | BPF_K: OPF("jset", "#0x%x", in->k);
	case BPF_JMP | BPF_JGT | BPF_X: OPF("jgt", "x");
	case BPF_JMP | BPF_JGE | BPF_X: OPF("jge", "x");
	case BPF_JMP | BPF_JEQ | BPF_X: OPF("jeq", "x");
	case BPF_JMP | BPF_JSET | BPF_X: OPF("jset", "x");
	case BPF_ALU | BPF_ADD | BPF_X: OPF("add", "x");
	case BPF_ALU | BPF_SUB | BPF_X: OPF("sub", "x");
	case BPF_ALU | BPF_MUL | BPF_X: OPF("mul", "x");
	case BPF_ALU | BPF_DIV | BPF_X: OPF("div", "x");
	case BPF_ALU | BPF_MOD | BPF_X: OPF("mod", "x");
	case BPF_ALU | BPF_AND | BPF_X: OPF("and", "x");
	case BPF_ALU | BPF_OR | BPF_X: OPF("or", "x");
	case BPF_ALU | BPF_XOR | BPF_X: OPF("xor", "x");
	case BPF_ALU | BPF_LSH | BPF_X: OPF("lsh", "x");
	case BPF_ALU | BPF_RSH | BPF_X: OPF("rsh", "x");
	case BPF_ALU | BPF_ADD | BPF_K: OPF("add", "#%d", sk);
	case BPF_ALU | BPF_SUB | BPF_K: OPF("sub", "#%d", sk);
	case BPF_ALU | BPF_MUL | BPF_K: OPF("mul", "#%d", sk);
	case BPF_ALU | BPF_DIV | BPF_K: OPF("div", "#%d", sk);
	case BPF_ALU | BPF_MOD | BPF_K: OPF("mod", "#%d", sk);
	case BPF_ALU | BPF_AND | BPF_K: OPF("and", "#0x%x", in->k);
	case BPF_ALU | BPF_OR | BPF_K: OPF("or", "#0x%x", in->k);
	case BPF_ALU | BPF_XOR | BPF_K: OPF("xor", "#0x%x", in->k);
	case BPF_ALU | BPF_LSH | BPF_K: OPF("lsh", "#%d", sk);
	case BPF_ALU | BPF_RSH | BPF_K: OPF("rsh", "#%d", sk);
	case BPF_ALU | BPF_NEG: OPF("neg", "%s", "");
	case BPF_MISC | BPF_TAX: OPF("tax", "%s", "");
	case BPF_MISC | BPF_TXA: OPF("txa", "%s", "");
	/* not valid on Linux, but a named form reads better than a tuple */
	case BPF_RET | BPF_X: OPF("ret", "x");
	}
#undef OPF
	*op = NULL;
	return false;
}

static bool is_cond(const struct sock_filter *in)
{
	return BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) != BPF_JA && in->code <= 0xff &&
	       (BPF_OP(in->code) == BPF_JEQ || BPF_OP(in->code) == BPF_JGT ||
		BPF_OP(in->code) == BPF_JGE || BPF_OP(in->code) == BPF_JSET);
}

void pg_cbpf_insn_text(const struct sock_filter *in, size_t pc, char *buf, size_t size)
{
	char operand[64];
	const char *op;

	if (!insn_parts(in, pc, &op, operand, sizeof(operand))) {
		snprintf(buf, size, "{ 0x%x, %u, %u, 0x%08x }", in->code, in->jt, in->jf, in->k);
		return;
	}
	if (is_cond(in) && in->code != (BPF_RET | BPF_X))
		snprintf(buf, size, "%-8s %-16s jt %zu\tjf %zu", op, operand, pc + 1 + in->jt,
			 pc + 1 + in->jf);
	else
		snprintf(buf, size, "%-8s %s", op, operand);
}

int pg_cbpf_format_from_name(const char *name)
{
	static const struct {
		const char *name;
		enum pg_cbpf_format f;
	} names[] = {
		{ "listing", PG_CBPF_FMT_LISTING }, { "d", PG_CBPF_FMT_LISTING },
		{ "asm", PG_CBPF_FMT_ASM },	    { "c", PG_CBPF_FMT_C },
		{ "dd", PG_CBPF_FMT_C },	    { "ddd", PG_CBPF_FMT_DDD },
		{ "raw", PG_CBPF_FMT_RAW },	    { "fprog", PG_CBPF_FMT_FPROG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return (int)names[i].f;
	return -1;
}

/* Do the jumps of in (at pc) land inside an n-instruction program? Text forms need that. */
static bool targets_ok(const struct sock_filter *in, size_t pc, size_t n)
{
	if (in->code == (BPF_JMP | BPF_JA))
		return pc + 1 + (uint64_t)in->k < n;
	if (is_cond(in))
		return pc + 1 + in->jt < n && pc + 1 + in->jf < n;
	return true;
}

/* One target of a jump in labelled assembly: "L7", or the index when it is out of range. */
static void put_target(struct pg_buf *out, size_t target, size_t n)
{
	char tmp[32];

	if (target < n)
		snprintf(tmp, sizeof(tmp), "L%zu", target);
	else
		snprintf(tmp, sizeof(tmp), "%zu", target);
	pg_buf__puts(out, tmp);
}

static void write_asm(const struct sock_filter *insns, size_t n, struct pg_buf *out)
{
	bool *is_target = calloc(n ? n : 1, sizeof(*is_target));
	char operand[64], line[160];
	const char *op;

	if (!is_target) {
		out->err = -ENOMEM;
		return;
	}
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *in = &insns[pc];

		if (!targets_ok(in, pc, n))
			continue;
		if (in->code == (BPF_JMP | BPF_JA))
			is_target[pc + 1 + in->k] = true;
		else if (is_cond(in)) {
			is_target[pc + 1 + in->jt] = true;
			is_target[pc + 1 + in->jf] = true;
		}
	}
	snprintf(line, sizeof(line), "; %zu instruction%s\n", n, n == 1 ? "" : "s");
	pg_buf__puts(out, line);
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *in = &insns[pc];

		if (is_target[pc]) {
			snprintf(line, sizeof(line), "L%zu:\n", pc);
			pg_buf__puts(out, line);
		}
		if (!insn_parts(in, pc, &op, operand, sizeof(operand)) || !targets_ok(in, pc, n)) {
			snprintf(line, sizeof(line), "\t; %s\n\t{ 0x%02x, %u, %u, 0x%08x }\n",
				 op ? "jumps past the end" : "not a canonical instruction", in->code,
				 in->jt, in->jf, in->k);
			pg_buf__puts(out, line);
			continue;
		}
		pg_buf__putc(out, '\t');
		pg_buf__puts(out, op);
		if (in->code == (BPF_RET | BPF_A)) {
			pg_buf__lit(out, "\ta\n");
			continue;
		}
		if (in->code == (BPF_JMP | BPF_JA)) {
			pg_buf__putc(out, '\t');
			put_target(out, pc + 1 + (uint64_t)in->k, n);
			pg_buf__putc(out, '\n');
			continue;
		}
		if (operand[0]) {
			pg_buf__putc(out, '\t');
			pg_buf__puts(out, operand);
		}
		if (is_cond(in)) {
			pg_buf__lit(out, ", ");
			put_target(out, pc + 1 + in->jt, n);
			pg_buf__lit(out, ", ");
			put_target(out, pc + 1 + in->jf, n);
		}
		pg_buf__putc(out, '\n');
	}
	free(is_target);
}

void pg_cbpf_write(const struct sock_filter *insns, size_t n, enum pg_cbpf_format fmt,
		   const char *name, struct pg_buf *out)
{
	char line[200];

	if (!name)
		name = "filter";
	switch (fmt) {
	case PG_CBPF_FMT_LISTING:
		for (size_t pc = 0; pc < n; pc++) {
			int l = snprintf(line, sizeof(line), "(%03zu) ", pc);

			if (targets_ok(&insns[pc], pc, n))
				pg_cbpf_insn_text(&insns[pc], pc, line + l, sizeof(line) - (size_t)l);
			else
				snprintf(line + l, sizeof(line) - (size_t)l,
					 "{ 0x%x, %u, %u, 0x%08x }\t; jumps past the end", insns[pc].code,
					 insns[pc].jt, insns[pc].jf, insns[pc].k);
			pg_buf__puts(out, line);
			pg_buf__putc(out, '\n');
		}
		break;
	case PG_CBPF_FMT_ASM:
		write_asm(insns, n, out);
		break;
	case PG_CBPF_FMT_C:
	case PG_CBPF_FMT_FPROG:
		if (fmt == PG_CBPF_FMT_FPROG) {
			snprintf(line, sizeof(line),
				 "#include <linux/filter.h>\n\nstatic struct sock_filter %s_insns[%zu] = {\n",
				 name, n);
			pg_buf__puts(out, line);
		}
		for (size_t pc = 0; pc < n; pc++) {
			snprintf(line, sizeof(line), "%s{ 0x%x, %u, %u, 0x%08x },\n",
				 fmt == PG_CBPF_FMT_FPROG ? "\t" : "", insns[pc].code, insns[pc].jt,
				 insns[pc].jf, insns[pc].k);
			pg_buf__puts(out, line);
		}
		if (fmt == PG_CBPF_FMT_FPROG) {
			snprintf(line, sizeof(line),
				 "};\n\nstatic struct sock_fprog %s = {\n\t.len = %zu,\n\t.filter = %s_insns,\n};\n",
				 name, n, name);
			pg_buf__puts(out, line);
		}
		break;
	case PG_CBPF_FMT_DDD:
		snprintf(line, sizeof(line), "%zu\n", n);
		pg_buf__puts(out, line);
		for (size_t pc = 0; pc < n; pc++) {
			snprintf(line, sizeof(line), "%u %u %u %u\n", insns[pc].code, insns[pc].jt,
				 insns[pc].jf, insns[pc].k);
			pg_buf__puts(out, line);
		}
		break;
	case PG_CBPF_FMT_RAW:
		pg_buf__put(out, insns, n * sizeof(*insns));
		break;
	}
}
