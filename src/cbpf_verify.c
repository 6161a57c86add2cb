// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's classic BPF checks (bpf_check_classic() and check_load_and_stores() in
 * net/core/filter.c, plus the length test SO_ATTACH_FILTER makes first), re-stated so a
 * program can be judged anywhere, with a reason. The order of the checks is the kernel's:
 * per instruction from the first, then "ends in a return", then scratch memory. The kernel
 * stops at the first failure and says EINVAL; we keep going where that is safe and name each.
 *
 * tests/unit/test_cbpf.c attaches every program it verifies to a real socket, so this file
 * and the running kernel cannot drift apart unnoticed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf.h"

static const char *const verr_names[PG_CBPF_E_COUNT] = {
	[PG_CBPF_E_OK] = "ok",
	[PG_CBPF_E_EMPTY] = "empty",
	[PG_CBPF_E_TOO_LONG] = "too-long",
	[PG_CBPF_E_OPCODE] = "bad-opcode",
	[PG_CBPF_E_EBPF_OPCODE] = "ebpf-opcode",
	[PG_CBPF_E_LDX_PACKET] = "ldx-packet",
	[PG_CBPF_E_RET_X] = "ret-x",
	[PG_CBPF_E_SIZE] = "bad-size",
	[PG_CBPF_E_DIV_ZERO] = "div-zero",
	[PG_CBPF_E_MOD_ZERO] = "mod-zero",
	[PG_CBPF_E_SHIFT] = "shift-range",
	[PG_CBPF_E_MEM_INDEX] = "mem-index",
	[PG_CBPF_E_JA_RANGE] = "ja-range",
	[PG_CBPF_E_JT_RANGE] = "jt-range",
	[PG_CBPF_E_JF_RANGE] = "jf-range",
	[PG_CBPF_E_ANCILLARY] = "ancillary",
	[PG_CBPF_E_NO_RET] = "no-ret",
	[PG_CBPF_E_MEM_UNINIT] = "mem-uninit",
};

const char *pg_cbpf_verr_name(enum pg_cbpf_verr e)
{
	return (unsigned int)e < PG_CBPF_E_COUNT ? verr_names[e] : "?";
}

/* The opcodes chk_code_allowed() lets through: nothing else is classic BPF to Linux. */
static bool code_allowed(uint16_t code)
{
	switch (code) {
	case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K: case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_K: case BPF_ALU | BPF_MOD | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K: case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K: case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_H | BPF_ABS: case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LD | BPF_W | BPF_IND: case BPF_LD | BPF_H | BPF_IND: case BPF_LD | BPF_B | BPF_IND:
	case BPF_LD | BPF_IMM:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_B | BPF_MSH:
	case BPF_LDX | BPF_IMM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
		return true;
	}
	return false;
}

static bool is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA && code_allowed(code);
}

static bool is_ancillary(uint32_t k)
{
	uint32_t off = k - (uint32_t)SKF_AD_OFF;

	return k >= (uint32_t)SKF_AD_OFF && off < SKF_AD_MAX && off % 4 == 0;
}

struct vstate {
	struct pg_cbpf_vresult *res;
	const struct sock_filter *insns;
	size_t n;
};

__attribute__((format(printf, 4, 5))) static void add(struct vstate *vs, enum pg_cbpf_verr code,
						       int pc, const char *fmt, ...)
{
	struct pg_cbpf_vresult *res = vs->res;
	struct pg_cbpf_verror *e;
	va_list ap;
	int n = 0;

	if (!res)
		return;
	if (res->nerrors++ >= sizeof(res->errors) / sizeof(res->errors[0]))
		return;
	e = &res->errors[res->nerrors - 1];
	e->code = code;
	e->pc = pc;
	if (pc >= 0) {
		char txt[96];

		pg_cbpf_insn_text(&vs->insns[pc], (size_t)pc, txt, sizeof(txt));
		n = snprintf(e->msg, sizeof(e->msg), "instruction %d (%s): ", pc, txt);
		if (n < 0 || (size_t)n >= sizeof(e->msg))
			n = 0;
	}
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void warn(struct vstate *vs, enum pg_cbpf_warn code,
							int pc, const char *fmt, ...)
{
	struct pg_cbpf_vresult *res = vs->res;
	struct pg_cbpf_verror *e;
	va_list ap;
	int n;

	if (!res || res->nwarnings >= sizeof(res->warnings) / sizeof(res->warnings[0]))
		return;
	e = &res->warnings[res->nwarnings++];
	e->code = (enum pg_cbpf_verr)code;
	e->pc = pc;
	n = snprintf(e->msg, sizeof(e->msg), "instruction %d: ", pc);
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Why an opcode is not classic BPF, in words a person who wrote it can act on. */
static void explain_opcode(struct vstate *vs, int pc)
{
	uint16_t code = vs->insns[pc].code;
	unsigned int cls = BPF_CLASS(code), size = BPF_SIZE(code), mode = BPF_MODE(code);
	unsigned int op = BPF_OP(code);

	if (code > 0xff) {
		add(vs, PG_CBPF_E_OPCODE, pc, "opcode 0x%04x has bits above the low byte set; classic BPF opcodes are 8 bits",
		    code);
		return;
	}
	switch (cls) {
	case BPF_LD:
	case BPF_LDX:
		if (size == 0x18) {
			add(vs, PG_CBPF_E_EBPF_OPCODE, pc, "opcode 0x%02x is a 64-bit (BPF_DW) load, which only eBPF has",
			    code);
			return;
		}
		if (cls == BPF_LDX && (mode == BPF_ABS || mode == BPF_IND)) {
			add(vs, PG_CBPF_E_LDX_PACKET, pc, "opcode 0x%02x: ldx cannot load from the packet; use ld then tax, or ldxb 4*([k]&0xf) for an IP header length",
			    code);
			return;
		}
		if (cls == BPF_LD && mode == BPF_MSH) {
			add(vs, PG_CBPF_E_OPCODE, pc, "opcode 0x%02x: 4*([k]&0xf) (BPF_MSH) loads only into X: write ldxb 4*([k]&0xf)",
			    code);
			return;
		}
		if (mode == BPF_MSH && size != BPF_B) {
			add(vs, PG_CBPF_E_SIZE, pc, "opcode 0x%02x: ldx 4*([k]&0xf) reads one byte: its size must be BPF_B (opcode 0xb1)",
			    code);
			return;
		}
		if (mode == BPF_IMM || mode == BPF_MEM || mode == BPF_LEN) {
			add(vs, PG_CBPF_E_SIZE, pc, "opcode 0x%02x: %s loads are 32-bit; the size bits must be BPF_W (opcode 0x%02x)",
			    code, mode == BPF_IMM ? "immediate" : mode == BPF_MEM ? "M[]" : "#len",
			    cls | mode);
			return;
		}
		break;
	case BPF_ST:
	case BPF_STX:
		add(vs, PG_CBPF_E_SIZE, pc, "opcode 0x%02x: %s takes no size or mode bits (opcode 0x%02x)", code,
		    cls == BPF_ST ? "st" : "stx", cls);
		return;
	case BPF_ALU:
		if (op == 0xb0 || op == 0xc0 || op == 0xd0) {
			add(vs, PG_CBPF_E_EBPF_OPCODE, pc, "opcode 0x%02x is the eBPF ALU operation %s, which classic BPF lacks",
			    code, op == 0xb0 ? "mov" : op == 0xc0 ? "arsh" : "end (byte swap)");
			return;
		}
		if (op == BPF_NEG) {
			add(vs, PG_CBPF_E_OPCODE, pc, "opcode 0x%02x: neg takes no operand; write neg (opcode 0x84)", code);
			return;
		}
		break;
	case BPF_JMP:
		if (op == 0x50 || op == 0x60 || op == 0x70 || op == 0x80 || op == 0x90 || op == 0xa0 ||
		    op == 0xb0 || op == 0xc0 || op == 0xd0) {
			static const char *const names[] = { "jne", "jsgt", "jsge", "call", "exit",
							     "jlt", "jle", "jslt", "jsle" };
			add(vs, PG_CBPF_E_EBPF_OPCODE, pc, "opcode 0x%02x is the eBPF jump %s; classic BPF has only ja, jeq, jgt, jge and jset (swap the targets for the opposite test)",
			    code, names[(op - 0x50) >> 4]);
			return;
		}
		if (op == BPF_JA) {
			add(vs, PG_CBPF_E_OPCODE, pc, "opcode 0x%02x: ja takes no source bit; write ja (opcode 0x05)", code);
			return;
		}
		break;
	case BPF_RET:
		if (BPF_RVAL(code) == BPF_X && !(code & ~0x0f)) {
			add(vs, PG_CBPF_E_RET_X, pc, "ret x is not allowed by Linux: return a constant or A (txa; ret a)");
			return;
		}
		break;
	case BPF_MISC:
		add(vs, PG_CBPF_E_OPCODE, pc, "opcode 0x%02x: classic BPF's misc class has only tax (0x07) and txa (0x87); eBPF reads this class as 64-bit ALU",
		    code);
		return;
	}
	add(vs, PG_CBPF_E_OPCODE, pc, "opcode 0x%02x is not a classic BPF instruction", code);
}

/* check_load_and_stores(): the kernel's forward pass over M[] validity, quirks included. */
static void check_mem(struct vstate *vs)
{
	const struct sock_filter *f = vs->insns;
	size_t n = vs->n;
	uint16_t *masks, memvalid = 0;

	masks = malloc(n * sizeof(*masks));
	if (!masks) {
		add(vs, PG_CBPF_E_MEM_UNINIT, -1, "out of memory checking scratch memory");
		return;
	}
	memset(masks, 0xff, n * sizeof(*masks));
	for (size_t pc = 0; pc < n; pc++) {
		memvalid &= masks[pc];
		switch (f[pc].code) {
		case BPF_ST:
		case BPF_STX:
			memvalid |= (uint16_t)(1u << f[pc].k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(memvalid & (1u << f[pc].k))) {
				add(vs, PG_CBPF_E_MEM_UNINIT, (int)pc, "M[%u] is read, but some path reaches here without a store to M[%u] (st/stx M[%u] first on every path)",
				    f[pc].k, f[pc].k, f[pc].k);
				goto out; /* the kernel stops here; later verdicts would be guesses */
			}
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + f[pc].k] &= memvalid;
			memvalid = (uint16_t)~0;
			break;
		default:
			if (is_cond_jump(f[pc].code)) {
				masks[pc + 1 + f[pc].jt] &= memvalid;
				masks[pc + 1 + f[pc].jf] &= memvalid;
				memvalid = (uint16_t)~0;
			}
		}
	}
out:
	free(masks);
}

/* Warnings: what the kernel takes but is almost certainly not what was meant. */
static void lint(struct vstate *vs)
{
	const struct sock_filter *f = vs->insns;
	size_t n = vs->n;
	bool *reach = calloc(n, sizeof(*reach));

	if (!reach)
		return;
	reach[0] = true;
	for (size_t pc = 0; pc < n; pc++) {
		uint16_t c = f[pc].code;

		if (!reach[pc])
			continue;
		if (BPF_CLASS(c) == BPF_RET)
			continue;
		if (c == (BPF_JMP | BPF_JA)) {
			reach[pc + 1 + f[pc].k] = true;
			continue;
		}
		if (is_cond_jump(c)) {
			reach[pc + 1 + f[pc].jt] = true;
			reach[pc + 1 + f[pc].jf] = true;
			if (f[pc].jt == f[pc].jf)
				warn(vs, PG_CBPF_W_SAME_TARGET, (int)pc,
				     "both branches go to instruction %zu: the test decides nothing",
				     pc + 1 + f[pc].jt);
			continue;
		}
		if (pc + 1 < n)
			reach[pc + 1] = true;
		if ((BPF_CLASS(c) == BPF_LD || BPF_CLASS(c) == BPF_LDX) && BPF_MODE(c) == BPF_ABS &&
		    f[pc].k >= 0x80000000u && f[pc].k < (uint32_t)SKF_LL_OFF)
			warn(vs, PG_CBPF_W_NEVER_IN_BOUNDS, (int)pc,
			     "offset %d is negative and below SKF_LL_OFF: the load always fails and the program returns 0",
			     (int32_t)f[pc].k);
	}
	for (size_t pc = 0; pc < n; pc++) {
		size_t end = pc;

		if (reach[pc])
			continue;
		while (end + 1 < n && !reach[end + 1])
			end++;
		if (end == pc)
			warn(vs, PG_CBPF_W_UNREACHABLE, (int)pc, "unreachable: no path leads here");
		else
			warn(vs, PG_CBPF_W_UNREACHABLE, (int)pc,
			     "instructions %zu to %zu are unreachable: no path leads there", pc, end);
		pc = end;
	}
	free(reach);
}

int pg_cbpf_verify(const struct sock_filter *insns, size_t n, struct pg_cbpf_vresult *res)
{
	struct pg_cbpf_vresult local;
	struct vstate vs = { .res = res ? res : &local, .insns = insns, .n = n };
	bool structural_ok = true;

	res = vs.res;
	memset(res, 0, sizeof(*res));
	if (n == 0) {
		add(&vs, PG_CBPF_E_EMPTY, -1, "the program has no instructions (Linux needs 1 to %d)",
		    PG_CBPF_MAXINSNS);
		return -EINVAL;
	}
	if (n > PG_CBPF_MAXINSNS) {
		add(&vs, PG_CBPF_E_TOO_LONG, -1, "the program has %zu instructions; Linux takes at most %d (BPF_MAXINSNS)",
		    n, PG_CBPF_MAXINSNS);
		return -EINVAL;
	}
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &insns[pc];
		int ipc = (int)pc;

		if (!code_allowed(f->code)) {
			explain_opcode(&vs, ipc);
			continue;
		}
		switch (f->code) {
		case BPF_ALU | BPF_DIV | BPF_K:
			if (f->k == 0)
				add(&vs, PG_CBPF_E_DIV_ZERO, ipc, "division by the constant 0");
			break;
		case BPF_ALU | BPF_MOD | BPF_K:
			if (f->k == 0)
				add(&vs, PG_CBPF_E_MOD_ZERO, ipc, "modulo by the constant 0");
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (f->k >= 32)
				add(&vs, PG_CBPF_E_SHIFT, ipc, "shift by %u: A is 32 bits, shifts must be 0..31", f->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (f->k >= BPF_MEMWORDS)
				add(&vs, PG_CBPF_E_MEM_INDEX, ipc, "M[%u] does not exist: scratch memory is M[0] to M[%d]",
				    f->k, BPF_MEMWORDS - 1);
			break;
		case BPF_JMP | BPF_JA:
			if (f->k >= (uint32_t)(n - pc - 1)) {
				if (pc + 1 == n)
					add(&vs, PG_CBPF_E_JA_RANGE, ipc, "ja is the last instruction: it jumps past the end");
				else
					add(&vs, PG_CBPF_E_JA_RANGE, ipc, "ja +%u lands past the last instruction (%zu): it may skip at most %zu",
					    f->k, n - 1, n - pc - 2);
			}
			break;
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (f->k >= (uint32_t)SKF_AD_OFF && !is_ancillary(f->k))
				add(&vs, PG_CBPF_E_ANCILLARY, ipc, "offset SKF_AD_OFF%+d names no ancillary value (SKF_AD_PROTOCOL=0 .. SKF_AD_VLAN_TPID=60, multiples of 4)",
				    (int)(f->k - (uint32_t)SKF_AD_OFF));
			break;
		default:
			if (is_cond_jump(f->code)) {
				if (pc + f->jt + 1 >= n)
					add(&vs, PG_CBPF_E_JT_RANGE, ipc, "the true branch (jt %u) goes to instruction %zu, past the last one (%zu)",
					    f->jt, pc + f->jt + 1, n - 1);
				if (pc + f->jf + 1 >= n)
					add(&vs, PG_CBPF_E_JF_RANGE, ipc, "the false branch (jf %u) goes to instruction %zu, past the last one (%zu)",
					    f->jf, pc + f->jf + 1, n - 1);
			}
		}
	}
	if (res->nerrors)
		structural_ok = false;
	switch (insns[n - 1].code) {
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
		break;
	default:
		add(&vs, PG_CBPF_E_NO_RET, (int)n - 1, "the last instruction must be a return (ret #k or ret a): the program could run off its end");
		structural_ok = false;
	}
	/* jump targets and M[] indexes are only safe to follow once the structure is sound */
	if (!structural_ok)
		return -EINVAL;
	check_mem(&vs);
	if (res->nerrors)
		return -EINVAL;
	lint(&vs);
	return 0;
}
