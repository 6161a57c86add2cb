// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A classic BPF interpreter with Linux's semantics (net/core/filter.c converts cBPF to eBPF;
 * this file follows what that code does, not what BSD or libpcap's bpf_filter() do where they
 * differ):
 *
 *  - A, X and M[] start at 0; the verifier has proven M[] is written before it is read.
 *  - A packet load outside [0, caplen) ends the program with 0, as the kernel's
 *    bpf_skb_load_helper_*() failing does. Offsets are signed: ld [x + k] computes
 *    (s32)(X + k); negative offsets reach the network header (SKF_NET_OFF) or the link-layer
 *    header (SKF_LL_OFF) and fail below them.
 *  - div x / mod x with X == 0 end the program with 0.
 *  - lsh x / rsh x shift by X & 31 (the eBPF interpreter masks; x86 does in hardware).
 *    libpcap's bpf_filter() gives 0 instead: one of the places the two differ.
 *  - ld [SKF_AD_OFF + n] loads the ancillary value from pkt->anc (docs/cbpf.md lists them).
 *
 * Nothing is read outside pkt->data[0, caplen): every load checks, and fuzz/fuzz_cbpf_verify_vm
 * runs random programs under ASan to keep it so.
 *
 * Speed: the program is decoded once into absolute jump targets and one handler per opcode,
 * then run with computed gotos (one indirect branch per instruction, each predicted on its
 * own). bench/cbpf.sh compares it with libpcap's bpf_filter().
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf.h"

enum vm_op {
	OP_LD_W_ABS, OP_LD_H_ABS, OP_LD_B_ABS,
	OP_LD_W_IND, OP_LD_H_IND, OP_LD_B_IND,
	OP_LD_NEG, /* ld[h,b] [k] with k negative (SKF_NET_OFF, SKF_LL_OFF, or always failing) */
	OP_LD_ANC, /* ld[h,b] [SKF_AD_OFF + k] */
	OP_LD_LEN, OP_LD_IMM, OP_LD_MEM,
	OP_LDX_IMM, OP_LDX_MEM, OP_LDX_LEN, OP_LDX_MSH,
	OP_ST, OP_STX,
	OP_ADD_K, OP_SUB_K, OP_MUL_K, OP_DIV_K, OP_MOD_K, OP_AND_K, OP_OR_K, OP_XOR_K,
	OP_LSH_K, OP_RSH_K,
	OP_ADD_X, OP_SUB_X, OP_MUL_X, OP_DIV_X, OP_MOD_X, OP_AND_X, OP_OR_X, OP_XOR_X,
	OP_LSH_X, OP_RSH_X,
	OP_NEG, OP_TAX, OP_TXA,
	OP_RET_K, OP_RET_A,
	OP_JA,
	OP_JEQ_K, OP_JGT_K, OP_JGE_K, OP_JSET_K,
	OP_JEQ_X, OP_JGT_X, OP_JGE_X, OP_JSET_X,
	/*
	 * Superinstructions: a packet load at a constant offset and the conditional jump after
	 * it, in one dispatch. tcpdump's code is mostly such pairs. The jump's instruction stays
	 * in the program for the paths that jump straight to it.
	 */
	OP_LDW_JEQ, OP_LDW_JGT, OP_LDW_JGE, OP_LDW_JSET,
	OP_LDH_JEQ, OP_LDH_JGT, OP_LDH_JGE, OP_LDH_JSET,
	OP_LDB_JEQ, OP_LDB_JGT, OP_LDB_JGE, OP_LDB_JSET,
	OP_LDWI_JEQ, OP_LDWI_JGT, OP_LDWI_JGE, OP_LDWI_JSET, /* ld[h,b] [x + k]; jXX #k2 */
	OP_LDHI_JEQ, OP_LDHI_JGT, OP_LDHI_JGE, OP_LDHI_JSET,
	OP_LDBI_JEQ, OP_LDBI_JGT, OP_LDBI_JGE, OP_LDBI_JSET,
	OP_COUNT
};

struct vm_insn {
	uint16_t op;
	uint16_t jt; /* absolute targets; ja uses jt */
	uint16_t jf;
	uint16_t size; /* OP_LD_NEG/OP_LD_ANC: bytes (1, 2, 4) */
	uint32_t k;
	uint32_t k2; /* superinstructions: the jump's constant */
};

struct pg_cbpf_vm {
	size_t n;
	bool uses_anc;
	struct vm_insn code[];
};

static int decode(const struct sock_filter *f, size_t pc, struct vm_insn *out, bool *anc)
{
	uint16_t op;
	unsigned int size = BPF_SIZE(f->code) == BPF_W ? 4 : BPF_SIZE(f->code) == BPF_H ? 2 : 1;

	out->k = f->k;
	out->jt = out->jf = 0;
	out->size = (uint16_t)size;
	switch (f->code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
		if (f->k >= (uint32_t)SKF_AD_OFF) {
			op = OP_LD_ANC;
			out->k = f->k - (uint32_t)SKF_AD_OFF;
			*anc = true;
		} else if (f->k >= 0x80000000u) {
			op = OP_LD_NEG;
		} else {
			op = size == 4 ? OP_LD_W_ABS : size == 2 ? OP_LD_H_ABS : OP_LD_B_ABS;
		}
		break;
	case BPF_LD | BPF_W | BPF_IND: op = OP_LD_W_IND; break;
	case BPF_LD | BPF_H | BPF_IND: op = OP_LD_H_IND; break;
	case BPF_LD | BPF_B | BPF_IND: op = OP_LD_B_IND; break;
	case BPF_LD | BPF_W | BPF_LEN: op = OP_LD_LEN; break;
	case BPF_LD | BPF_IMM: op = OP_LD_IMM; break;
	case BPF_LD | BPF_MEM: op = OP_LD_MEM; break;
	case BPF_LDX | BPF_IMM: op = OP_LDX_IMM; break;
	case BPF_LDX | BPF_MEM: op = OP_LDX_MEM; break;
	case BPF_LDX | BPF_W | BPF_LEN: op = OP_LDX_LEN; break;
	case BPF_LDX | BPF_B | BPF_MSH: op = OP_LDX_MSH; break;
	case BPF_ST: op = OP_ST; break;
	case BPF_STX: op = OP_STX; break;
	case BPF_ALU | BPF_ADD | BPF_K: op = OP_ADD_K; break;
	case BPF_ALU | BPF_SUB | BPF_K: op = OP_SUB_K; break;
	case BPF_ALU | BPF_MUL | BPF_K: op = OP_MUL_K; break;
	case BPF_ALU | BPF_DIV | BPF_K: op = OP_DIV_K; break;
	case BPF_ALU | BPF_MOD | BPF_K: op = OP_MOD_K; break;
	case BPF_ALU | BPF_AND | BPF_K: op = OP_AND_K; break;
	case BPF_ALU | BPF_OR | BPF_K: op = OP_OR_K; break;
	case BPF_ALU | BPF_XOR | BPF_K: op = OP_XOR_K; break;
	case BPF_ALU | BPF_LSH | BPF_K: op = OP_LSH_K; break;
	case BPF_ALU | BPF_RSH | BPF_K: op = OP_RSH_K; break;
	case BPF_ALU | BPF_ADD | BPF_X: op = OP_ADD_X; break;
	case BPF_ALU | BPF_SUB | BPF_X: op = OP_SUB_X; break;
	case BPF_ALU | BPF_MUL | BPF_X: op = OP_MUL_X; break;
	case BPF_ALU | BPF_DIV | BPF_X: op = OP_DIV_X; break;
	case BPF_ALU | BPF_MOD | BPF_X: op = OP_MOD_X; break;
	case BPF_ALU | BPF_AND | BPF_X: op = OP_AND_X; break;
	case BPF_ALU | BPF_OR | BPF_X: op = OP_OR_X; break;
	case BPF_ALU | BPF_XOR | BPF_X: op = OP_XOR_X; break;
	case BPF_ALU | BPF_LSH | BPF_X: op = OP_LSH_X; break;
	case BPF_ALU | BPF_RSH | BPF_X: op = OP_RSH_X; break;
	case BPF_ALU | BPF_NEG: op = OP_NEG; break;
	case BPF_MISC | BPF_TAX: op = OP_TAX; break;
	case BPF_MISC | BPF_TXA: op = OP_TXA; break;
	case BPF_RET | BPF_K: op = OP_RET_K; break;
	case BPF_RET | BPF_A: op = OP_RET_A; break;
	case BPF_JMP | BPF_JA:
		op = OP_JA;
		out->jt = (uint16_t)(pc + 1 + f->k);
		break;
	case BPF_JMP | BPF_JEQ | BPF_K: op = OP_JEQ_K; goto cond;
	case BPF_JMP | BPF_JGT | BPF_K: op = OP_JGT_K; goto cond;
	case BPF_JMP | BPF_JGE | BPF_K: op = OP_JGE_K; goto cond;
	case BPF_JMP | BPF_JSET | BPF_K: op = OP_JSET_K; goto cond;
	case BPF_JMP | BPF_JEQ | BPF_X: op = OP_JEQ_X; goto cond;
	case BPF_JMP | BPF_JGT | BPF_X: op = OP_JGT_X; goto cond;
	case BPF_JMP | BPF_JGE | BPF_X: op = OP_JGE_X; goto cond;
	case BPF_JMP | BPF_JSET | BPF_X: op = OP_JSET_X; goto cond;
	default:
		return -EINVAL;
	}
	out->op = op;
	return 0;
cond:
	out->op = op;
	out->jt = (uint16_t)(pc + 1 + f->jt);
	out->jf = (uint16_t)(pc + 1 + f->jf);
	return 0;
}

/* Fuse "ld[h,b] [k]; jXX #k2" at pc into one superinstruction when pc + 1 is that jump. */
static void fuse(struct vm_insn *code, size_t n)
{
	for (size_t pc = 0; pc + 1 < n; pc++) {
		unsigned int base, cond;

		switch (code[pc].op) {
		case OP_LD_W_ABS: base = OP_LDW_JEQ; break;
		case OP_LD_H_ABS: base = OP_LDH_JEQ; break;
		case OP_LD_B_ABS: base = OP_LDB_JEQ; break;
		case OP_LD_W_IND: base = OP_LDWI_JEQ; break;
		case OP_LD_H_IND: base = OP_LDHI_JEQ; break;
		case OP_LD_B_IND: base = OP_LDBI_JEQ; break;
		default: continue;
		}
		switch (code[pc + 1].op) {
		case OP_JEQ_K: cond = 0; break;
		case OP_JGT_K: cond = 1; break;
		case OP_JGE_K: cond = 2; break;
		case OP_JSET_K: cond = 3; break;
		default: continue;
		}
		code[pc].op = (uint16_t)(base + cond);
		code[pc].k2 = code[pc + 1].k;
		code[pc].jt = code[pc + 1].jt;
		code[pc].jf = code[pc + 1].jf;
	}
}

struct pg_cbpf_vm *pg_cbpf_vm__new(const struct sock_filter *insns, size_t n)
{
	return pg_cbpf_vm__new_opts(insns, n, true);
}

struct pg_cbpf_vm *pg_cbpf_vm__new_opts(const struct sock_filter *insns, size_t n, bool fused)
{
	struct pg_cbpf_vm *vm;
	bool anc = false;

	if (pg_cbpf_verify(insns, n, NULL)) {
		errno = EINVAL;
		return NULL;
	}
	vm = malloc(sizeof(*vm) + n * sizeof(vm->code[0]));
	if (!vm)
		return NULL;
	vm->n = n;
	for (size_t pc = 0; pc < n; pc++) {
		if (decode(&insns[pc], pc, &vm->code[pc], &anc)) {
			free(vm);
			errno = EINVAL;
			return NULL;
		}
	}
	vm->uses_anc = anc;
	if (fused)
		fuse(vm->code, n);
	return vm;
}

void pg_cbpf_vm__free(struct pg_cbpf_vm *vm)
{
	free(vm);
}

bool pg_cbpf_vm__uses_ancillary(const struct pg_cbpf_vm *vm)
{
	return vm->uses_anc;
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/*
 * A load at a signed offset, as bpf_skb_load_helper_*() and
 * bpf_internal_load_pointer_neg_helper() do it. false: out of bounds.
 */
static bool load_at(const struct pg_cbpf_pkt *pkt, int32_t off, unsigned int size, uint32_t *v)
{
	uint64_t pos;

	if (off >= 0) {
		pos = (uint32_t)off;
	} else if (off >= SKF_NET_OFF) {
		if (pkt->net_off == UINT32_MAX)
			return false;
		pos = (uint64_t)pkt->net_off + (uint32_t)(off - SKF_NET_OFF);
	} else if (off >= SKF_LL_OFF) {
		pos = (uint32_t)(off - SKF_LL_OFF);
	} else {
		return false;
	}
	if (pos + size > pkt->caplen)
		return false;
	*v = size == 4 ? rd32(pkt->data + pos) : size == 2 ? rd16(pkt->data + pos) : pkt->data[pos];
	return true;
}

/* nla_find(): the first attribute of type x in [start, start + len) of the packet. */
static uint32_t nla_find_off(const struct pg_cbpf_pkt *pkt, uint64_t start, int64_t len, uint32_t x)
{
	uint64_t pos = start;
	int64_t rem = len;

	/* nla_ok(): the header fits, and nla_len covers it and stays inside */
	while (rem >= 4 && pos + 4 <= pkt->caplen) {
		uint16_t nla_len, nla_type; /* struct nlattr is host byte order */

		memcpy(&nla_len, pkt->data + pos, 2);
		memcpy(&nla_type, pkt->data + pos + 2, 2);
		if (nla_len < 4 || nla_len > rem)
			break;
		if ((nla_type & 0x3fff) == x)
			return (uint32_t)pos;
		rem -= (nla_len + 3) & ~3;
		pos += (nla_len + 3) & ~3;
	}
	return 0;
}

static uint32_t anc_load(const struct pg_cbpf_pkt *pkt, uint32_t off, uint32_t a, uint32_t x)
{
	switch (off) {
	case SKF_AD_PROTOCOL: return pkt->anc.protocol;
	case SKF_AD_PKTTYPE: return pkt->anc.pkttype;
	case SKF_AD_IFINDEX: return pkt->anc.ifindex;
	case SKF_AD_MARK: return pkt->anc.mark;
	case SKF_AD_QUEUE: return pkt->anc.queue;
	case SKF_AD_HATYPE: return pkt->anc.hatype;
	case SKF_AD_RXHASH: return pkt->anc.rxhash;
	case SKF_AD_CPU: return pkt->anc.cpu;
	case SKF_AD_ALU_XOR_X: return a ^ x;
	case SKF_AD_VLAN_TAG: return pkt->anc.vlan_tci;
	case SKF_AD_VLAN_TAG_PRESENT: return pkt->anc.vlan_present;
	case SKF_AD_VLAN_TPID: return pkt->anc.vlan_tpid;
	case SKF_AD_PAY_OFFSET: return pg_cbpf_payload_offset(pkt);
	case SKF_AD_RANDOM:
		if (!pkt->rand_state)
			return 0;
		{
			uint32_t s = *pkt->rand_state ? *pkt->rand_state : 0x9e3779b9u;

			s ^= s << 13;
			s ^= s >> 17;
			s ^= s << 5;
			*pkt->rand_state = s;
			return s;
		}
	case SKF_AD_NLATTR:
	case SKF_AD_NLATTR_NEST: {
		/* bpf_skb_get_nlattr{,_nest}(): A is an offset, X an attribute type */
		uint32_t len = pkt->caplen;
		uint16_t nla_len;

		if (len < 4 || a > len - 4)
			return 0;
		if (off == SKF_AD_NLATTR)
			return nla_find_off(pkt, a, (int64_t)len - a, x);
		memcpy(&nla_len, pkt->data + a, 2);
		if (nla_len < 4 || nla_len > len - a)
			return 0;
		return nla_find_off(pkt, (uint64_t)a + 4, (int64_t)nla_len - 4, x);
	}
	}
	return 0; /* the verifier refuses other offsets */
}

uint32_t pg_cbpf_vm__run_ex(const struct pg_cbpf_vm *vm, const struct pg_cbpf_pkt *pkt,
			    enum pg_cbpf_exit *why, size_t *pcout)
{
	static const void *const labels[OP_COUNT] = {
		[OP_LD_W_ABS] = &&l_ld_w_abs, [OP_LD_H_ABS] = &&l_ld_h_abs,
		[OP_LD_B_ABS] = &&l_ld_b_abs, [OP_LD_W_IND] = &&l_ld_w_ind,
		[OP_LD_H_IND] = &&l_ld_h_ind, [OP_LD_B_IND] = &&l_ld_b_ind,
		[OP_LD_NEG] = &&l_ld_neg,     [OP_LD_ANC] = &&l_ld_anc,
		[OP_LD_LEN] = &&l_ld_len,     [OP_LD_IMM] = &&l_ld_imm,
		[OP_LD_MEM] = &&l_ld_mem,     [OP_LDX_IMM] = &&l_ldx_imm,
		[OP_LDX_MEM] = &&l_ldx_mem,   [OP_LDX_LEN] = &&l_ldx_len,
		[OP_LDX_MSH] = &&l_ldx_msh,   [OP_ST] = &&l_st,
		[OP_STX] = &&l_stx,	      [OP_ADD_K] = &&l_add_k,
		[OP_SUB_K] = &&l_sub_k,	      [OP_MUL_K] = &&l_mul_k,
		[OP_DIV_K] = &&l_div_k,	      [OP_MOD_K] = &&l_mod_k,
		[OP_AND_K] = &&l_and_k,	      [OP_OR_K] = &&l_or_k,
		[OP_XOR_K] = &&l_xor_k,	      [OP_LSH_K] = &&l_lsh_k,
		[OP_RSH_K] = &&l_rsh_k,	      [OP_ADD_X] = &&l_add_x,
		[OP_SUB_X] = &&l_sub_x,	      [OP_MUL_X] = &&l_mul_x,
		[OP_DIV_X] = &&l_div_x,	      [OP_MOD_X] = &&l_mod_x,
		[OP_AND_X] = &&l_and_x,	      [OP_OR_X] = &&l_or_x,
		[OP_XOR_X] = &&l_xor_x,	      [OP_LSH_X] = &&l_lsh_x,
		[OP_RSH_X] = &&l_rsh_x,	      [OP_NEG] = &&l_neg,
		[OP_TAX] = &&l_tax,	      [OP_TXA] = &&l_txa,
		[OP_RET_K] = &&l_ret_k,	      [OP_RET_A] = &&l_ret_a,
		[OP_JA] = &&l_ja,	      [OP_JEQ_K] = &&l_jeq_k,
		[OP_JGT_K] = &&l_jgt_k,	      [OP_JGE_K] = &&l_jge_k,
		[OP_JSET_K] = &&l_jset_k,     [OP_JEQ_X] = &&l_jeq_x,
		[OP_JGT_X] = &&l_jgt_x,	      [OP_JGE_X] = &&l_jge_x,
		[OP_JSET_X] = &&l_jset_x,
		[OP_LDW_JEQ] = &&l_ldw_jeq,   [OP_LDW_JGT] = &&l_ldw_jgt,
		[OP_LDW_JGE] = &&l_ldw_jge,   [OP_LDW_JSET] = &&l_ldw_jset,
		[OP_LDH_JEQ] = &&l_ldh_jeq,   [OP_LDH_JGT] = &&l_ldh_jgt,
		[OP_LDH_JGE] = &&l_ldh_jge,   [OP_LDH_JSET] = &&l_ldh_jset,
		[OP_LDB_JEQ] = &&l_ldb_jeq,   [OP_LDB_JGT] = &&l_ldb_jgt,
		[OP_LDB_JGE] = &&l_ldb_jge,   [OP_LDB_JSET] = &&l_ldb_jset,
		[OP_LDWI_JEQ] = &&l_ldwi_jeq, [OP_LDWI_JGT] = &&l_ldwi_jgt,
		[OP_LDWI_JGE] = &&l_ldwi_jge, [OP_LDWI_JSET] = &&l_ldwi_jset,
		[OP_LDHI_JEQ] = &&l_ldhi_jeq, [OP_LDHI_JGT] = &&l_ldhi_jgt,
		[OP_LDHI_JGE] = &&l_ldhi_jge, [OP_LDHI_JSET] = &&l_ldhi_jset,
		[OP_LDBI_JEQ] = &&l_ldbi_jeq, [OP_LDBI_JGT] = &&l_ldbi_jgt,
		[OP_LDBI_JGE] = &&l_ldbi_jge, [OP_LDBI_JSET] = &&l_ldbi_jset,
	};
	const struct vm_insn *const code = vm->code;
	const struct vm_insn *in = code;
	const uint8_t *const data = pkt->data;
	const uint32_t caplen = pkt->caplen;
	/* no need to clear M[]: the verifier proved every read follows a store on every path */
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS];
	uint32_t v;
	enum pg_cbpf_exit reason = PG_CBPF_X_RET;

#define NEXT goto *labels[(++in)->op]
#define JUMP(t) do { in = code + (t); goto *labels[in->op]; } while (0)
	goto *labels[in->op];

l_ld_w_abs:
	if ((uint64_t)in->k + 4 > caplen)
		goto oob;
	A = rd32(data + in->k);
	NEXT;
l_ld_h_abs:
	if ((uint64_t)in->k + 2 > caplen)
		goto oob;
	A = rd16(data + in->k);
	NEXT;
l_ld_b_abs:
	if ((uint64_t)in->k + 1 > caplen)
		goto oob;
	A = data[in->k];
	NEXT;
	/* X + k as a signed offset: the common case inline, negative ones through load_at */
#define IND(size, load)                                                     \
	do {                                                                \
		uint32_t off_ = X + in->k;                                  \
		if ((int32_t)off_ >= 0 && (uint64_t)off_ + (size) <= caplen) \
			A = (load);                                         \
		else if (!load_at(pkt, (int32_t)off_, (size), &A))          \
			goto oob;                                           \
	} while (0)
l_ld_w_ind:
	IND(4, rd32(data + off_));
	NEXT;
l_ld_h_ind:
	IND(2, rd16(data + off_));
	NEXT;
l_ld_b_ind:
	IND(1, data[off_]);
	NEXT;
l_ld_neg:
	if (!load_at(pkt, (int32_t)in->k, in->size, &A))
		goto oob;
	NEXT;
l_ld_anc:
	A = anc_load(pkt, in->k, A, X);
	NEXT;
l_ld_len:
	A = pkt->len;
	NEXT;
l_ld_imm:
	A = in->k;
	NEXT;
l_ld_mem:
	A = M[in->k];
	NEXT;
l_ldx_imm:
	X = in->k;
	NEXT;
l_ldx_mem:
	X = M[in->k];
	NEXT;
l_ldx_len:
	X = pkt->len;
	NEXT;
l_ldx_msh:
	if ((uint64_t)in->k + 1 > caplen) {
		if (!load_at(pkt, (int32_t)in->k, 1, &v))
			goto oob;
	} else {
		v = data[in->k];
	}
	X = (v & 0xf) << 2;
	NEXT;
l_st:
	M[in->k] = A;
	NEXT;
l_stx:
	M[in->k] = X;
	NEXT;
l_add_k: A += in->k; NEXT;
l_sub_k: A -= in->k; NEXT;
l_mul_k: A *= in->k; NEXT;
l_div_k: A /= in->k; NEXT; /* k != 0: verified */
l_mod_k: A %= in->k; NEXT;
l_and_k: A &= in->k; NEXT;
l_or_k: A |= in->k; NEXT;
l_xor_k: A ^= in->k; NEXT;
l_lsh_k: A <<= in->k; NEXT; /* k < 32: verified */
l_rsh_k: A >>= in->k; NEXT;
l_add_x: A += X; NEXT;
l_sub_x: A -= X; NEXT;
l_mul_x: A *= X; NEXT;
l_div_x:
	if (!X)
		goto divzero;
	A /= X;
	NEXT;
l_mod_x:
	if (!X)
		goto divzero;
	A %= X;
	NEXT;
l_and_x: A &= X; NEXT;
l_or_x: A |= X; NEXT;
l_xor_x: A ^= X; NEXT;
l_lsh_x: A <<= (X & 31); NEXT;
l_rsh_x: A >>= (X & 31); NEXT;
l_neg: A = 0u - A; NEXT;
l_tax: X = A; NEXT;
l_txa: A = X; NEXT;
l_ja: JUMP(in->jt);
l_jeq_k: JUMP(A == in->k ? in->jt : in->jf);
l_jgt_k: JUMP(A > in->k ? in->jt : in->jf);
l_jge_k: JUMP(A >= in->k ? in->jt : in->jf);
l_jset_k: JUMP(A & in->k ? in->jt : in->jf);
l_jeq_x: JUMP(A == X ? in->jt : in->jf);
l_jgt_x: JUMP(A > X ? in->jt : in->jf);
l_jge_x: JUMP(A >= X ? in->jt : in->jf);
l_jset_x: JUMP(A & X ? in->jt : in->jf);
#define FUSED(lbl, size, load, test)                      \
	lbl:                                              \
	if ((uint64_t)in->k + (size) > caplen)            \
		goto oob;                                 \
	A = (load);                                       \
	JUMP((test) ? in->jt : in->jf);
	FUSED(l_ldw_jeq, 4, rd32(data + in->k), A == in->k2)
	FUSED(l_ldw_jgt, 4, rd32(data + in->k), A > in->k2)
	FUSED(l_ldw_jge, 4, rd32(data + in->k), A >= in->k2)
	FUSED(l_ldw_jset, 4, rd32(data + in->k), A & in->k2)
	FUSED(l_ldh_jeq, 2, rd16(data + in->k), A == in->k2)
	FUSED(l_ldh_jgt, 2, rd16(data + in->k), A > in->k2)
	FUSED(l_ldh_jge, 2, rd16(data + in->k), A >= in->k2)
	FUSED(l_ldh_jset, 2, rd16(data + in->k), A & in->k2)
	FUSED(l_ldb_jeq, 1, data[in->k], A == in->k2)
	FUSED(l_ldb_jgt, 1, data[in->k], A > in->k2)
	FUSED(l_ldb_jge, 1, data[in->k], A >= in->k2)
	FUSED(l_ldb_jset, 1, data[in->k], A & in->k2)
#undef FUSED
#define FUSED_IND(lbl, size, load, test) \
	lbl:                             \
	IND((size), (load));             \
	JUMP((test) ? in->jt : in->jf);
	FUSED_IND(l_ldwi_jeq, 4, rd32(data + off_), A == in->k2)
	FUSED_IND(l_ldwi_jgt, 4, rd32(data + off_), A > in->k2)
	FUSED_IND(l_ldwi_jge, 4, rd32(data + off_), A >= in->k2)
	FUSED_IND(l_ldwi_jset, 4, rd32(data + off_), A & in->k2)
	FUSED_IND(l_ldhi_jeq, 2, rd16(data + off_), A == in->k2)
	FUSED_IND(l_ldhi_jgt, 2, rd16(data + off_), A > in->k2)
	FUSED_IND(l_ldhi_jge, 2, rd16(data + off_), A >= in->k2)
	FUSED_IND(l_ldhi_jset, 2, rd16(data + off_), A & in->k2)
	FUSED_IND(l_ldbi_jeq, 1, data[off_], A == in->k2)
	FUSED_IND(l_ldbi_jgt, 1, data[off_], A > in->k2)
	FUSED_IND(l_ldbi_jge, 1, data[off_], A >= in->k2)
	FUSED_IND(l_ldbi_jset, 1, data[off_], A & in->k2)
#undef FUSED_IND
#undef IND
l_ret_k:
	A = in->k;
	goto done;
l_ret_a:
	goto done;
oob:
	reason = PG_CBPF_X_OOB;
	A = 0;
	goto done;
divzero:
	reason = PG_CBPF_X_DIV_X_ZERO;
	A = 0;
done:
#undef NEXT
#undef JUMP
	if (why)
		*why = reason;
	if (pcout)
		*pcout = (size_t)(in - code);
	return A;
}

uint32_t pg_cbpf_vm__run(const struct pg_cbpf_vm *vm, const struct pg_cbpf_pkt *pkt)
{
	return pg_cbpf_vm__run_ex(vm, pkt, NULL, NULL);
}

/* --- packet context ----------------------------------------------------------------------- */

/* eth_type_trans(): skb->protocol from the type/length field and what follows it. */
static uint32_t eth_protocol(const uint8_t *typefield, uint32_t avail)
{
	uint32_t t = rd16(typefield);

	if (t >= ETH_P_802_3_MIN)
		return t;
	if (avail >= 4 && typefield[2] == 0xff && typefield[3] == 0xff)
		return ETH_P_802_3;
	return ETH_P_802_2;
}

int pg_cbpf_pkt_init(struct pg_cbpf_pkt *pkt, int linktype, const uint8_t *data,
		     uint32_t caplen, uint32_t len, bool strip_vlan, uint8_t *scratch)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->len = len;
	pkt->net_off = UINT32_MAX;
	switch (linktype) {
	case DLT_EN10MB:
		pkt->anc.hatype = ARPHRD_ETHER;
		if (caplen < ETH_HLEN)
			return 0;
		pkt->net_off = ETH_HLEN;
		if (data[0] & 1)
			pkt->anc.pkttype = memcmp(data, "\xff\xff\xff\xff\xff\xff", 6) ? PACKET_MULTICAST
										  : PACKET_BROADCAST;
		else
			pkt->anc.pkttype = PACKET_HOST;
		pkt->anc.protocol = eth_protocol(data + 12, caplen - 12);
		if (strip_vlan && (pkt->anc.protocol == ETH_P_8021Q || pkt->anc.protocol == ETH_P_8021AD)) {
			/* skb_vlan_untag() needs the tag and the two bytes after it */
			if (caplen < ETH_HLEN + 4 + 2)
				return -EINVAL;
			pkt->anc.vlan_present = true;
			pkt->anc.vlan_tpid = (uint16_t)pkt->anc.protocol;
			pkt->anc.vlan_tci = (uint16_t)rd16(data + 14);
			memcpy(scratch, data, 12);
			memcpy(scratch + 12, data + 16, caplen - 16);
			pkt->data = scratch;
			pkt->caplen = caplen - 4;
			pkt->len = len >= 4 ? len - 4 : 0;
			pkt->anc.protocol = eth_protocol(scratch + 12, pkt->caplen - 12);
		}
		return 0;
	case DLT_LINUX_SLL:
		if (caplen >= 16) {
			pkt->anc.pkttype = rd16(data);
			pkt->anc.hatype = rd16(data + 2);
			pkt->anc.protocol = rd16(data + 14);
			pkt->net_off = 16;
		}
		return 0;
	case DLT_LINUX_SLL2:
		if (caplen >= 20) {
			pkt->anc.protocol = rd16(data);
			pkt->anc.ifindex = rd32(data + 4);
			pkt->anc.hatype = rd16(data + 8);
			pkt->anc.pkttype = data[10];
			pkt->net_off = 20;
		}
		return 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		pkt->net_off = 0;
		if (caplen)
			pkt->anc.protocol = (data[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
		return 0;
	}
	return 0;
}

/*
 * skb_get_poff(): the basic flow dissector's transport offset plus the transport header, as
 * net/core/flow_dissector.c computes them: stacked VLAN tags, IPv4, IPv6 with hop-by-hop,
 * routing, destination and fragment headers, and the encapsulations it follows (GRE with its
 * optional fields and TEB, IPIP, IPv6-in-IP, PPPoE, MPLS), ARP, FCoE and TIPC, with the same
 * 15-header limit. B.A.T.M.A.N. is not modelled (0). 0 where the kernel's dissector fails.
 */
uint32_t pg_cbpf_payload_offset(const struct pg_cbpf_pkt *pkt)
{
	enum { BAD, GOOD, PROTO_AGAIN, IPPROTO_AGAIN, CONTINUE } ret;
	const uint8_t *d = pkt->data;
	const uint64_t hlen = pkt->caplen;
	uint64_t nh = pkt->net_off;
	uint32_t proto = pkt->anc.vlan_present ? pkt->anc.vlan_tpid : pkt->anc.protocol;
	unsigned int ip_proto = 0, vlan_stage = 0, hdrs = 0;
	bool frag = false, first = false;

	if (nh == UINT32_MAX)
		return 0;
proto_again:
	switch (proto) {
	case ETH_P_IP: {
		unsigned int fo;

		if (nh + 20 > hlen || (d[nh] & 0xf) < 5)
			return 0;
		ip_proto = d[nh + 9];
		fo = rd16(d + nh + 6);
		nh += (d[nh] & 0xfu) * 4;
		if (fo & 0x3fff) {
			frag = true;
			first = !(fo & 0x1fff);
			goto good; /* without FLOW_DISSECTOR_F_PARSE_1ST_FRAG, fragments stop here */
		}
		ret = CONTINUE;
		break;
	}
	case ETH_P_IPV6:
		if (nh + 40 > hlen)
			return 0;
		ip_proto = d[nh + 6];
		nh += 40;
		ret = CONTINUE;
		break;
	case ETH_P_8021Q:
	case ETH_P_8021AD:
		if (vlan_stage == 0 && pkt->anc.vlan_present) {
			proto = pkt->anc.protocol; /* the tag Linux stripped */
		} else {
			if (nh + 4 > hlen)
				return 0;
			proto = rd16(d + nh + 2);
			nh += 4;
		}
		vlan_stage++;
		ret = PROTO_AGAIN;
		break;
	case ETH_P_PPP_SES: {
		unsigned int ppp;

		if (nh + 8 > hlen)
			return 0;
		/* is_pppoe_ses_hdr_valid(): version 1, type 1, code 0 */
		if (d[nh] != 0x11 || d[nh + 1] != 0)
			return 0;
		ppp = rd16(d + nh + 6);
		if (ppp & 0x0100) { /* a compressed, one-byte protocol field */
			ppp >>= 8;
			nh += 7;
		} else {
			nh += 8;
		}
		if (ppp == 0x21) {
			proto = ETH_P_IP;
		} else if (ppp == 0x57) {
			proto = ETH_P_IPV6;
		} else if (ppp == 0x281 || ppp == 0x283) {
			proto = ETH_P_MPLS_UC;
		} else if ((ppp & 0x0101) == 0x0001) {
			goto good;
		} else {
			return 0;
		}
		ret = PROTO_AGAIN;
		break;
	}
	case ETH_P_TIPC:
		if (nh + 16 > hlen)
			return 0;
		goto good;
	case ETH_P_MPLS_UC:
	case ETH_P_MPLS_MC:
		nh += 4; /* one label; without MPLS keys the dissector reads no further */
		goto good;
	case ETH_P_FCOE:
		if (nh > hlen || hlen - nh < 38)
			return 0;
		nh += 38;
		goto good;
	case ETH_P_ARP:
	case ETH_P_RARP:
		goto good;
	default:
		return 0;
	}
	if (ret == PROTO_AGAIN) {
		if (++hdrs <= 15)
			goto proto_again;
		goto good;
	}
ip_proto_again:
	ret = CONTINUE;
	switch (ip_proto) {
	case IPPROTO_GRE: {
		unsigned int flags, ver, gproto, off = 4;

		if (nh + 4 > hlen)
			return 0;
		flags = rd16(d + nh);
		if (flags & 0x4000) /* routing */
			goto good;
		ver = flags & 7;
		if (ver > 1)
			goto good;
		gproto = rd16(d + nh + 2);
		if (ver == 1 && !(gproto == 0x880b && (flags & 0x2000)))
			goto good;
		if (flags & 0x8000) /* checksum */
			off += 4;
		if (flags & 0x2000) { /* key */
			if (nh + off + 4 > hlen)
				return 0;
			off += 4;
		}
		if (flags & 0x1000) /* sequence */
			off += 4;
		if (ver == 0) {
			if (gproto == ETH_P_TEB) {
				if (nh + off + 14 > hlen)
					return 0;
				gproto = rd16(d + nh + off + 12);
				off += 14;
			}
		} else {
			if (flags & 0x0080) /* PPTP ack */
				off += 4;
			if (nh + off + 4 > hlen)
				return 0;
			if (rd16(d + nh + off + 2) == 0x21)
				gproto = ETH_P_IP;
			else if (rd16(d + nh + off + 2) == 0x57)
				gproto = ETH_P_IPV6;
			off += 4;
		}
		nh += off;
		proto = gproto;
		ret = PROTO_AGAIN;
		break;
	}
	case 0: /* hop-by-hop */
	case 43: /* routing */
	case 60: /* destination options */
		if (proto != ETH_P_IPV6)
			break;
		if (nh + 2 > hlen)
			return 0;
		ip_proto = d[nh];
		nh += ((uint64_t)d[nh + 1] + 1) << 3;
		ret = IPPROTO_AGAIN;
		break;
	case 44: /* fragment */
		if (proto != ETH_P_IPV6)
			break;
		if (nh + 8 > hlen)
			return 0;
		frag = true;
		first = !(rd16(d + nh + 2) & 0xfff8);
		ip_proto = d[nh];
		nh += 8;
		goto good;
	case IPPROTO_IPIP:
		proto = ETH_P_IP;
		ret = PROTO_AGAIN;
		break;
	case IPPROTO_IPV6:
		proto = ETH_P_IPV6;
		ret = PROTO_AGAIN;
		break;
	case IPPROTO_MPLS:
		proto = ETH_P_MPLS_UC;
		ret = PROTO_AGAIN;
		break;
	}
	if (ret == PROTO_AGAIN && ++hdrs <= 15)
		goto proto_again;
	if (ret == IPPROTO_AGAIN && ++hdrs <= 15)
		goto ip_proto_again;
good:
	if (nh > pkt->len)
		nh = pkt->len; /* thoff = min(nhoff, skb->len) */
	/* __skb_get_poff() */
	if (frag && !first)
		return (uint32_t)nh;
	switch (ip_proto) {
	case IPPROTO_TCP:
		if (nh + 13 > hlen)
			return (uint32_t)nh;
		return (uint32_t)(nh + ((d[nh + 12] & 0xf0) >> 2 > 20 ? (d[nh + 12] & 0xf0) >> 2 : 20));
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
	case IPPROTO_IGMP:
		return (uint32_t)(nh + 8);
	case IPPROTO_DCCP:
	case IPPROTO_SCTP:
		return (uint32_t)(nh + 12);
	}
	return (uint32_t)nh;
}
