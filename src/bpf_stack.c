// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Worst-case combined BPF stack per program, from the ELF object (see bpf_stack.h). Reads the
 * object with libelf: executable sections hold the functions (STT_FUNC symbols), their
 * relocation sections say where each call goes (libbpf resolves a call the same way:
 * target = symbol offset / 8 + imm + 1).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_stack.h"

#define INSN_SZ sizeof(struct bpf_insn)

struct func {
	const char *name;
	size_t sec; /* section index */
	size_t start, n; /* in instructions, within the section */
	bool prog; /* a program's entry (outside .text) */
	unsigned int frame;
	/* computed: the deepest chain from here; -1 while on the current path (recursion) */
	int worst;
	int next; /* the callee on that chain, or -1 */
	size_t *callees;
	size_t ncallees;
};

struct object {
	Elf *elf;
	struct func *f;
	size_t nf;
	/* relocations of executable sections: section index, byte offset, symbol */
	struct reloc {
		size_t sec;
		size_t off;
		GElf_Sym sym;
	} *r;
	size_t nr;
	Elf_Data **insns; /* per section index, NULL unless executable */
	size_t nsec;
};

static unsigned int round_frame(unsigned int depth)
{
	if (depth == 0)
		depth = 1; /* the verifier rounds even an empty frame up */
	return (depth + PG_BPF_STACK_FRAME_ALIGN - 1) / PG_BPF_STACK_FRAME_ALIGN *
	       PG_BPF_STACK_FRAME_ALIGN;
}

static void deepen(unsigned int *depth, long off)
{
	if (off < 0 && (unsigned long)-off > *depth)
		*depth = (unsigned int)-off;
}

/*
 * The deepest r10-relative byte the function touches. Stack addresses also travel in other
 * registers (clang writes "r1 = r10; r1 += -344" to pass a buffer to a helper), so registers
 * derived from r10 are followed through a linear scan; any other write forgets them.
 */
unsigned int pg_bpf_stack_frame(const void *code, size_t ninsns)
{
	const struct bpf_insn *in = code;
	bool derived[11] = { false };
	long doff[11] = { 0 };
	unsigned int depth = 0;

	derived[BPF_REG_10] = true;
	for (size_t i = 0; i < ninsns; i++) {
		const struct bpf_insn *x = &in[i];
		__u8 cls = BPF_CLASS(x->code), dst = x->dst_reg, src = x->src_reg;

		if (dst > 10 || src > 10)
			continue;
		switch (cls) {
		case BPF_STX:
		case BPF_ST:
			if (derived[dst])
				deepen(&depth, doff[dst] + x->off);
			break;
		case BPF_LDX:
			if (derived[src])
				deepen(&depth, doff[src] + x->off);
			if (dst != BPF_REG_10)
				derived[dst] = false;
			break;
		case BPF_ALU64:
		case BPF_ALU:
			if (dst == BPF_REG_10)
				break;
			if (cls == BPF_ALU64 && BPF_OP(x->code) == BPF_MOV && BPF_SRC(x->code) == BPF_X &&
			    derived[src]) {
				derived[dst] = true;
				doff[dst] = doff[src];
				deepen(&depth, doff[dst]);
			} else if (cls == BPF_ALU64 && derived[dst] && BPF_SRC(x->code) == BPF_K &&
				   (BPF_OP(x->code) == BPF_ADD || BPF_OP(x->code) == BPF_SUB)) {
				doff[dst] += BPF_OP(x->code) == BPF_ADD ? x->imm : -(long)x->imm;
				deepen(&depth, doff[dst]);
			} else {
				derived[dst] = false;
			}
			break;
		case BPF_LD:
			if (dst != BPF_REG_10)
				derived[dst] = false;
			if (x->code == (BPF_LD | BPF_IMM | BPF_DW))
				i++; /* a 16-byte instruction */
			break;
		case BPF_JMP:
			if (BPF_OP(x->code) == BPF_CALL)
				for (int r = 0; r <= 5; r++)
					derived[r] = false;
			break;
		}
	}
	return depth;
}

static const struct reloc *reloc_at(const struct object *o, size_t sec, size_t insn)
{
	for (size_t i = 0; i < o->nr; i++)
		if (o->r[i].sec == sec && o->r[i].off == insn * INSN_SZ)
			return &o->r[i];
	return NULL;
}

/* The function starting at instruction idx of section sec, or -1. */
static long func_at(const struct object *o, size_t sec, long idx)
{
	for (size_t i = 0; i < o->nf; i++)
		if (o->f[i].sec == sec && (long)o->f[i].start == idx)
			return (long)i;
	return -1;
}

static int add_callee(struct func *f, size_t callee)
{
	size_t *n;

	for (size_t i = 0; i < f->ncallees; i++)
		if (f->callees[i] == callee)
			return 0;
	n = realloc(f->callees, (f->ncallees + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	f->callees = n;
	f->callees[f->ncallees++] = callee;
	return 0;
}

/* Calls (BPF_PSEUDO_CALL) and callback addresses (ld_imm64 BPF_PSEUDO_FUNC) of function fi. */
static int find_callees(struct object *o, size_t fi, char *err, size_t errlen)
{
	struct func *f = &o->f[fi];
	const struct bpf_insn *in = (const struct bpf_insn *)o->insns[f->sec]->d_buf;

	for (size_t i = f->start; i < f->start + f->n; i++) {
		const struct bpf_insn *x = &in[i];
		bool call = x->code == (BPF_JMP | BPF_CALL) && x->src_reg == BPF_PSEUDO_CALL;
		bool ld64 = x->code == (BPF_LD | BPF_IMM | BPF_DW);
		const struct reloc *r = call || ld64 ? reloc_at(o, f->sec, i) : NULL;
		/* a function's address (a callback): an ld_imm64 relocated against code */
		bool func = ld64 && r && r->sym.st_shndx < o->nsec && o->insns[r->sym.st_shndx];
		size_t sec = f->sec;
		long target, t;
		int rc;

		if (ld64)
			i++; /* a 16-byte instruction */
		if (!call && !func)
			continue;
		if (r && r->sym.st_shndx == SHN_UNDEF)
			continue; /* a kfunc (an extern resolved by libbpf): the kernel's stack */
		if (call) {
			target = r ? (long)(r->sym.st_value / INSN_SZ) + x->imm + 1 : (long)i + x->imm + 1;
		} else {
			/* a callback's address: imm counts bytes from the symbol */
			target = r ? (long)((r->sym.st_value + (__u64)(__s64)x->imm) / INSN_SZ)
				   : (long)i + x->imm + 1;
		}
		if (r)
			sec = r->sym.st_shndx;
		t = sec < o->nsec && o->insns[sec] ? func_at(o, sec, target) : -1;
		if (t < 0) {
			snprintf(err, errlen, "%s: the %s at instruction %zu goes to %ld, not to a function",
				 f->name, call ? "call" : "callback", i - f->start - (ld64 ? 1 : 0),
				 target);
			return -ENOEXEC;
		}
		if ((rc = add_callee(f, (size_t)t)))
			return rc;
	}
	return 0;
}

/* The deepest chain of frames from function fi (memoized in worst/next). */
static int worst_from(struct object *o, size_t fi, char *err, size_t errlen)
{
	struct func *f = &o->f[fi];
	int best = 0;

	if (f->worst == -1) {
		snprintf(err, errlen, "%s calls itself (recursion)", f->name);
		return -ELOOP;
	}
	if (f->worst >= 0)
		return f->worst;
	f->worst = -1;
	f->next = -1;
	for (size_t i = 0; i < f->ncallees; i++) {
		int d = worst_from(o, f->callees[i], err, errlen);

		if (d < 0)
			return d;
		if (d > best) {
			best = d;
			f->next = (int)f->callees[i];
		}
	}
	f->worst = (int)round_frame(f->frame) + best;
	return f->worst;
}

static int load_object(struct object *o, const void *buf, size_t len, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t strndx;
	Elf_Data *syms = NULL;
	size_t symstr = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	o->elf = elf_memory((char *)buf, len);
	if (!o->elf || !gelf_getehdr(o->elf, &eh) || eh.e_machine != EM_BPF ||
	    elf_getshdrstrndx(o->elf, &strndx) || elf_getshdrnum(o->elf, &o->nsec)) {
		snprintf(err, errlen, "not a BPF ELF object");
		return -EINVAL;
	}
	o->insns = calloc(o->nsec, sizeof(*o->insns));
	if (!o->insns)
		return -ENOMEM;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR))
			o->insns[elf_ndxscn(scn)] = elf_getdata(scn, NULL);
		if (sh.sh_type == SHT_SYMTAB) {
			syms = elf_getdata(scn, NULL);
			symstr = sh.sh_link;
		}
	}
	if (!syms) {
		snprintf(err, errlen, "no symbol table");
		return -EINVAL;
	}
	/* functions */
	for (size_t i = 0; i < syms->d_size / sizeof(Elf64_Sym); i++) {
		GElf_Sym s;
		struct func *nf;
		const char *secname;
		GElf_Shdr sh;

		if (!gelf_getsym(syms, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_shndx >= o->nsec || !o->insns[s.st_shndx])
			continue;
		nf = realloc(o->f, (o->nf + 1) * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		o->f = nf;
		gelf_getshdr(elf_getscn(o->elf, s.st_shndx), &sh);
		secname = elf_strptr(o->elf, strndx, sh.sh_name);
		o->f[o->nf] = (struct func){
			.name = elf_strptr(o->elf, symstr, s.st_name),
			.sec = s.st_shndx,
			.start = s.st_value / INSN_SZ,
			.n = s.st_size / INSN_SZ,
			.prog = secname && strcmp(secname, ".text") != 0,
			.worst = -2,
			.next = -1,
		};
		if (!o->f[o->nf].name)
			o->f[o->nf].name = "?";
		o->nf++;
	}
	/* relocations of executable sections */
	scn = NULL;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_REL || sh.sh_info >= o->nsec ||
		    !o->insns[sh.sh_info] || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < d->d_size / sizeof(Elf64_Rel); i++) {
			GElf_Rel rel;
			struct reloc *nr;

			if (!gelf_getrel(d, (int)i, &rel))
				continue;
			nr = realloc(o->r, (o->nr + 1) * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			o->r = nr;
			o->r[o->nr].sec = sh.sh_info;
			o->r[o->nr].off = rel.r_offset;
			if (!gelf_getsym(syms, (int)GELF_R_SYM(rel.r_info), &o->r[o->nr].sym))
				continue;
			o->nr++;
		}
	}
	return 0;
}

static void free_object(struct object *o)
{
	for (size_t i = 0; i < o->nf; i++)
		free(o->f[i].callees);
	free(o->f);
	free(o->r);
	free(o->insns);
	if (o->elf)
		elf_end(o->elf);
}

static int cmp_depth(const void *a, const void *b)
{
	const struct pg_bpf_stack_prog *x = a, *y = b;

	return x->depth < y->depth ? 1 : x->depth > y->depth ? -1 : strcmp(x->name, y->name);
}

int pg_bpf_stack_analyze(const void *elf, size_t len, struct pg_bpf_stack_prog *out, size_t max,
			 char *err, size_t errlen)
{
	struct object o = { 0 };
	struct pg_bpf_stack_prog *all = NULL;
	size_t nprog = 0;
	int rc;

	err[0] = 0;
	if ((rc = load_object(&o, elf, len, err, errlen)))
		goto out;
	for (size_t i = 0; i < o.nf; i++) {
		struct func *f = &o.f[i];

		f->frame = pg_bpf_stack_frame((const struct bpf_insn *)o.insns[f->sec]->d_buf + f->start,
					      f->n);
		if ((rc = find_callees(&o, i, err, errlen)))
			goto out;
	}
	all = calloc(o.nf ? o.nf : 1, sizeof(*all));
	if (!all) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < o.nf; i++) {
		struct pg_bpf_stack_prog *p;
		size_t cl = 0;
		int d;

		if (!o.f[i].prog)
			continue;
		if ((d = worst_from(&o, i, err, errlen)) < 0) {
			rc = d;
			goto out;
		}
		p = &all[nprog++];
		snprintf(p->name, sizeof(p->name), "%s", o.f[i].name);
		p->depth = (unsigned int)d;
		for (int c = (int)i; c >= 0 && cl < sizeof(p->chain); c = o.f[c].next)
			cl += (size_t)snprintf(p->chain + cl, sizeof(p->chain) - cl, "%s%s(%u)",
					       cl ? " > " : "", o.f[c].name, round_frame(o.f[c].frame));
	}
	qsort(all, nprog, sizeof(*all), cmp_depth);
	memcpy(out, all, (nprog < max ? nprog : max) * sizeof(*all));
	rc = (int)nprog;
out:
	free(all);
	free_object(&o);
	return rc;
}
