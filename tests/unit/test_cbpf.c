// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cBPF assembler, writers, verifier and VM. Wherever the kernel has an opinion it is
 * asked: every verifier case is also attached with SO_ATTACH_FILTER to a UDP socket (no
 * privilege needed), and VM results are checked against what the kernel lets through a
 * filtered UDP socket on loopback (a socket filter's return value trims the datagram, so the
 * received length shows it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <pcap/dlt.h>

#include "cbpf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 0 when the running kernel accepts the program, else -errno. */
static int kernel_attach(const struct sock_filter *insns, size_t n)
{
	struct sock_fprog fp = { .len = (unsigned short)n, .filter = (struct sock_filter *)insns };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = 0;

	assert_true(fd >= 0);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)))
		rc = -errno;
	close(fd);
	return rc;
}

static struct pg_cbpf_prog assemble(const char *text)
{
	struct pg_cbpf_prog p = { 0 };
	struct pg_cbpf_diag d;
	int rc = pg_cbpf_asm(text, strlen(text), &p, &d);

	if (rc)
		fail_msg("assembly failed: line %u col %u: %s\n%s", d.line, d.col, d.msg, text);
	return p;
}

static const char seed_text[] =
	"#define ETHERTYPE_OFFSET 0x0000000c\n"
	"#define ETHERTYPE_IPV4 0x00000800\n"
	"#define IP_PROTOCOL_OFFSET 0x00000017\n"
	"#define PROTO_UDP 0x00000011\n"
	"#define ACCEPT 0x00000044\n"
	"#define REJECT 0x00000000\n"
	"#define BPF_LD_H 0x28 /* load halfword */\n"
	"#define BPF_JEQ 0x15 /* jump if equal */\n"
	"#define BPF_LD_B 0x30 /* load byte */\n"
	"#define BPF_RET 0x6 /* return */\n"
	"struct sock_filter UDP_code[] = {\n"
	"{BPF_LD_H, 0, 0, ETHERTYPE_OFFSET},\n"
	"{BPF_JEQ, 0, 3, ETHERTYPE_IPV4},\n"
	"{BPF_LD_B, 0, 0, IP_PROTOCOL_OFFSET},\n"
	"{BPF_JEQ, 0, 1, PROTO_UDP},\n"
	"{BPF_RET, 0, 0, ACCEPT},\n"
	"{BPF_RET, 0, 0, REJECT}\n"
	"};\n";

/* The article's program, with its own #define table, assembles to its own bytecode. */
static void test_seed_article_text(void **state)
{
	struct pg_cbpf_prog p = assemble(seed_text);

	assert_int_equal(p.len, 6);
	assert_memory_equal(p.insns, pg_cbpf_seed_udp, sizeof(pg_cbpf_seed_udp));
	assert_int_equal(pg_cbpf_verify(p.insns, p.len, NULL), 0);
	assert_int_equal(kernel_attach(p.insns, p.len), 0);
	pg_cbpf_prog__free(&p);

	/* the same with built-in names and labels */
	p = assemble("\tldh [ETHERTYPE_OFFSET]\n"
		     "\tjeq #ETHERTYPE_IPV4, v4, drop ; comment\n"
		     "v4:\tldb [IP_PROTOCOL_OFFSET]\n"
		     "\tjeq #PROTO_UDP, ok, drop\n"
		     "ok: ret #ACCEPT\n"
		     "drop: ret #REJECT\n");
	assert_int_equal(p.len, 6);
	assert_memory_equal(p.insns, pg_cbpf_seed_udp, sizeof(pg_cbpf_seed_udp));
	pg_cbpf_prog__free(&p);
}

/* linux/filter.h's BPF_JEQ is not an opcode: the assembler says what to write instead. */
static void test_bare_jeq_explained(void **state)
{
	const char *t = "{ BPF_JEQ, 0, 1, 0x800 },\n{ 6, 0, 0, 0 },\n{ 6, 0, 0, 1 },\n";
	struct pg_cbpf_prog p = { 0 };
	struct pg_cbpf_diag d;

	assert_int_equal(pg_cbpf_asm(t, strlen(t), &p, &d), -EINVAL);
	assert_int_equal(d.line, 1);
	assert_non_null(strstr(d.msg, "BPF_JMP|BPF_JEQ|BPF_K"));
	/* but in an expression with the class it is what the kernel means */
	p = assemble("BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, 0x800, 0, 1)\nBPF_STMT(BPF_RET+BPF_K, 1)\n"
		     "BPF_STMT(BPF_RET+BPF_K, 0)\n");
	assert_int_equal(p.insns[0].code, 0x15);
	assert_int_equal(p.insns[0].k, 0x800);
	assert_int_equal(p.insns[0].jf, 1);
	pg_cbpf_prog__free(&p);
}

static void expect_asm_error(const char *text, unsigned int line, const char *needle)
{
	struct pg_cbpf_prog p = { 0 };
	struct pg_cbpf_diag d;

	if (pg_cbpf_asm(text, strlen(text), &p, &d) != -EINVAL)
		fail_msg("assembled, but should not have:\n%s", text);
	if (d.line != line || !strstr(d.msg, needle))
		fail_msg("got line %u: %s\nwanted line %u with '%s'", d.line, d.msg, line, needle);
}

static void test_asm_errors(void **state)
{
	expect_asm_error("ldh [12]\nfrob #1\nret #0\n", 2, "unknown instruction 'frob'");
	expect_asm_error("ldh [NOPE]\nret #0\n", 1, "unknown name 'NOPE'");
	expect_asm_error("jeq #1, nowhere, x\nret #0\n", 1, "undefined label 'nowhere'");
	expect_asm_error("a: ret #0\na: ret #1\n", 2, "already defined");
	expect_asm_error("ld #1\nret #0\njeq #1, 0, 1\n", 3, "goes backwards");
	expect_asm_error("{ 0x28, 300, 0, 12 }\n", 1, "jump offsets are 0..255");
	expect_asm_error("{ 0x28, 0, 0 }\n", 1, "expected ','");
	expect_asm_error("#define X 1\n#define X 2\nret #X\n", 2, "already defined");
	expect_asm_error("ldx [12]\nret #0\n", 1, "ldx cannot load from the packet");
	expect_asm_error("ld #0x100000000\nret #0\n", 1, "out of range");
	expect_asm_error("/* open\nret #0\n", 2, "unterminated");
	expect_asm_error("(001) ret #0\n", 1, "this is instruction 0");
	expect_asm_error("#include <stdio.h>\nret #0\n", 1, "#include");
	expect_asm_error("ret #1/0\n", 1, "division by zero");
	expect_asm_error("3\n6 0 0 0\n", 1, "says 3 instructions, but 1 follow");
	expect_asm_error("", 0, "no instructions");
	expect_asm_error("ld [1]\nend:\n", 2, "no instruction after it");
	{
		/* deep nesting is refused, not recursed into (found by fuzz_cbpf_asm) */
		char *t = malloc(300000);

		for (int form = 0; form < 2; form++) {
			size_t n = (size_t)sprintf(t, "ld #");

			for (int i = 0; i < 100000; i++)
				t[n++] = form ? '-' : '(';
			t[n++] = '1';
			for (int i = 0; i < 100000 && !form; i++)
				t[n++] = ')';
			t[n] = 0;
			expect_asm_error(t, 1, "nested too deeply");
		}
		free(t);
	}
	{
		/* a conditional jump of 300 instructions does not fit jt */
		char *t = malloc(8000);
		size_t n = 0;

		n += (size_t)sprintf(t + n, "jeq #1, far, near\nnear: ret #0\n");
		for (int i = 0; i < 300; i++)
			n += (size_t)sprintf(t + n, "ld #%d\n", i);
		sprintf(t + n, "far: ret #1\n");
		expect_asm_error(t, 1, "reach at most 255");
		free(t);
	}
}

/* Every syntax the assembler takes gives the same bytes. */
static void test_asm_syntaxes_agree(void **state)
{
	static const char *const forms[] = {
		/* mnemonics, bpf_asm style, one-target jumps, jne */
		"ldh [12]\njne #0x800, drop\nldb [23]\njeq #17, keep\ndrop: ret #0\nkeep: ret #0x40000\n",
		/* tcpdump -d listing */
		"(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 4\n"
		"(002) ldb      [23]\n(003) jeq      #0x11            jt 5\tjf 4\n"
		"(004) ret      #0\n(005) ret      #262144\n",
		/* C initialisers with kernel macros and expressions */
		"static struct sock_filter f[] = {\n"
		"\tBPF_STMT(BPF_LD|BPF_H|BPF_ABS, 12),\n"
		"\tBPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, ETHERTYPE_IPV4, 0, 2),\n"
		"\tBPF_STMT(BPF_LD+BPF_B+BPF_ABS, ETH_HLEN + 9),\n"
		"\tBPF_JUMP(BPF_JMP+BPF_JEQ+BPF_K, PROTO_UDP, 1, 0),\n"
		"\tBPF_STMT(BPF_RET|BPF_K, 0),\n"
		"\tBPF_STMT(BPF_RET|BPF_K, 1 << 18),\n"
		"};\n",
		/* one-line C array */
		"struct sock_filter f[] = { { 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 2, 0x00000800 }, "
		"{ 0x30, 0, 0, 0x00000017 }, { 0x15, 1, 0, 0x00000011 }, { 0x6, 0, 0, 0x00000000 }, "
		"{ 0x6, 0, 0, 0x00040000 } };\n",
		/* tcpdump -ddd */
		"6\n40 0 0 12\n21 0 2 2048\n48 0 0 23\n21 1 0 17\n6 0 0 0\n6 0 0 262144\n",
	};
	struct pg_cbpf_prog ref = assemble(forms[0]);

	assert_int_equal(ref.len, 6);
	for (size_t i = 1; i < N(forms); i++) {
		struct pg_cbpf_prog p = assemble(forms[i]);

		assert_int_equal(p.len, ref.len);
		if (memcmp(p.insns, ref.insns, ref.len * sizeof(*ref.insns)))
			fail_msg("form %zu assembles differently", i);
		pg_cbpf_prog__free(&p);
	}
	pg_cbpf_prog__free(&ref);
}

/* Every valid opcode, with odd constants, survives asm -> dis -> asm in every text format. */
static void test_roundtrip_all_opcodes(void **state)
{
	static const uint16_t codes[] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x0c, 0x14, 0x1c, 0x20, 0x24, 0x28, 0x2c,
		0x30, 0x34, 0x3c, 0x40, 0x44, 0x48, 0x4c, 0x50, 0x54, 0x5c, 0x60, 0x61, 0x64,
		0x6c, 0x74, 0x7c, 0x80, 0x81, 0x84, 0x87, 0x94, 0x9c, 0xa4, 0xac, 0xb1, 0x0e,
		0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x05, 0x8c, 0x16, 0x06,
	};
	static const uint32_t ks[] = { 0, 1, 14, 0x7fffffff, 0x80000000, 0xfffff000, 0xfffff030,
				       0xffffffff, 0xfff00004, 0xffe00000 };
	enum pg_cbpf_format fmts[] = { PG_CBPF_FMT_LISTING, PG_CBPF_FMT_ASM, PG_CBPF_FMT_C,
				       PG_CBPF_FMT_DDD, PG_CBPF_FMT_FPROG, PG_CBPF_FMT_RAW };
	size_t n = N(codes) * N(ks) + 1, pc = 0;
	struct sock_filter *prog = calloc(n + 3, sizeof(*prog));

	for (size_t c = 0; c < N(codes); c++)
		for (size_t k = 0; k < N(ks); k++, pc++) {
			prog[pc].code = codes[c];
			prog[pc].k = ks[k];
			if (codes[c] == 0x05)
				prog[pc].k = 1; /* ja must stay inside */
			if ((codes[c] & 7) == 5 && codes[c] != 0x05) {
				prog[pc].jt = (uint8_t)(k % 3);
				prog[pc].jf = (uint8_t)(k % 2);
			}
		}
	prog[pc++] = (struct sock_filter){ 0x06, 0, 0, 0 };
	prog[pc++] = (struct sock_filter){ 0x06, 0, 0, 1 };
	prog[pc++] = (struct sock_filter){ 0x06, 0, 0, 2 };
	for (size_t f = 0; f < N(fmts); f++) {
		struct pg_buf b = { 0 };
		struct pg_cbpf_prog back = { 0 };
		struct pg_cbpf_diag d;

		pg_cbpf_write(prog, pc, fmts[f], "x", &b);
		assert_int_equal(b.err, 0);
		if (pg_cbpf_load(b.data, b.len, &back, &d))
			fail_msg("format %d: line %u: %s", (int)fmts[f], d.line, d.msg);
		assert_int_equal(back.len, pc);
		for (size_t i = 0; i < pc; i++)
			if (memcmp(&back.insns[i], &prog[i], sizeof(prog[i])))
				fail_msg("format %d: instruction %zu: {0x%x,%u,%u,0x%x} came back as {0x%x,%u,%u,0x%x}",
					 (int)fmts[f], i, prog[i].code, prog[i].jt, prog[i].jf, prog[i].k,
					 back.insns[i].code, back.insns[i].jt, back.insns[i].jf,
					 back.insns[i].k);
		pg_cbpf_prog__free(&back);
		pg_buf__free(&b);
	}
	free(prog);
}

/* --- verifier: each kind of rejection, with the kernel agreeing ------------------------ */

struct bad {
	const char *what;
	enum pg_cbpf_verr code;
	int pc;
	const char *needle;
	size_t n;
	struct sock_filter insns[8];
};

#define RET0 { 0x06, 0, 0, 0 }

static const struct bad bad_programs[] = {
	{ "empty", PG_CBPF_E_EMPTY, -1, "no instructions", 0, { RET0 } },
	{ "unknown opcode", PG_CBPF_E_OPCODE, 0, "not a classic BPF instruction", 2,
	  { { 0xf4, 0, 0, 0 }, RET0 } },
	{ "misc class", PG_CBPF_E_OPCODE, 0, "only tax", 2, { { 0x1f, 0, 0, 0 }, RET0 } },
	{ "eBPF mov", PG_CBPF_E_EBPF_OPCODE, 0, "mov", 2, { { 0xb4, 0, 0, 1 }, RET0 } },
	{ "eBPF jne", PG_CBPF_E_EBPF_OPCODE, 0, "jne", 3, { { 0x55, 0, 0, 1 }, RET0, RET0 } },
	{ "eBPF exit", PG_CBPF_E_EBPF_OPCODE, 0, "exit", 2, { { 0x95, 0, 0, 0 }, RET0 } },
	{ "64-bit load", PG_CBPF_E_EBPF_OPCODE, 0, "64-bit", 2, { { 0x38, 0, 0, 0 }, RET0 } },
	{ "ldx from packet", PG_CBPF_E_LDX_PACKET, 0, "ldx cannot load from the packet", 2,
	  { { 0x29, 0, 0, 12 }, RET0 } },
	{ "ret x", PG_CBPF_E_RET_X, 1, "ret x", 2, { { 0x01, 0, 0, 5 }, { 0x0e, 0, 0, 0 } } },
	{ "16-bit immediate", PG_CBPF_E_SIZE, 0, "32-bit", 2, { { 0x08, 0, 0, 5 }, RET0 } },
	{ "sized store", PG_CBPF_E_SIZE, 0, "st takes no size", 2, { { 0x0a, 0, 0, 1 }, RET0 } },
	{ "div by 0", PG_CBPF_E_DIV_ZERO, 0, "division by the constant 0", 2,
	  { { 0x34, 0, 0, 0 }, RET0 } },
	{ "mod by 0", PG_CBPF_E_MOD_ZERO, 0, "modulo by the constant 0", 2,
	  { { 0x94, 0, 0, 0 }, RET0 } },
	{ "shift by 32", PG_CBPF_E_SHIFT, 0, "shift by 32", 2, { { 0x64, 0, 0, 32 }, RET0 } },
	{ "M[16]", PG_CBPF_E_MEM_INDEX, 0, "M[16] does not exist", 2, { { 0x02, 0, 0, 16 }, RET0 } },
	{ "ja past the end", PG_CBPF_E_JA_RANGE, 0, "past the last instruction", 2,
	  { { 0x05, 0, 0, 1 }, RET0 } },
	{ "jt past the end", PG_CBPF_E_JT_RANGE, 0, "true branch", 3,
	  { { 0x15, 2, 0, 1 }, RET0, RET0 } },
	{ "jf past the end", PG_CBPF_E_JF_RANGE, 0, "false branch", 3,
	  { { 0x15, 0, 7, 1 }, RET0, RET0 } },
	{ "unknown ancillary", PG_CBPF_E_ANCILLARY, 0, "names no ancillary value", 2,
	  { { 0x20, 0, 0, 0xfffff000 + 64 }, RET0 } },
	{ "misaligned ancillary", PG_CBPF_E_ANCILLARY, 0, "names no ancillary value", 2,
	  { { 0x28, 0, 0, 0xfffff000 + 2 }, RET0 } },
	{ "no ret at the end", PG_CBPF_E_NO_RET, 1, "must be a return", 2,
	  { RET0, { 0x00, 0, 0, 1 } } },
	{ "M[] read before write", PG_CBPF_E_MEM_UNINIT, 0, "M[3] is read", 2,
	  { { 0x60, 0, 0, 3 }, RET0 } },
	{ "M[] written on one path only", PG_CBPF_E_MEM_UNINIT, 4, "M[0] is read", 6,
	  { { 0x30, 0, 0, 0 }, { 0x15, 0, 1, 1 }, { 0x02, 0, 0, 0 }, { 0x00, 0, 0, 0 },
	    { 0x61, 0, 0, 0 }, { 0x16, 0, 0, 0 } } },
};

static void test_verifier_rejections(void **state)
{
	struct pg_cbpf_vresult res;
	bool seen[PG_CBPF_E_COUNT] = { false };
	int kinds = 0;

	for (size_t i = 0; i < N(bad_programs); i++) {
		const struct bad *b = &bad_programs[i];

		if (pg_cbpf_verify(b->insns, b->n, &res) != -EINVAL)
			fail_msg("%s: accepted", b->what);
		if (res.errors[0].code != b->code || res.errors[0].pc != b->pc ||
		    !strstr(res.errors[0].msg, b->needle))
			fail_msg("%s: got [%s] at %d: %s", b->what, pg_cbpf_verr_name(res.errors[0].code),
				 res.errors[0].pc, res.errors[0].msg);
		if (b->pc >= 0) {
			char prefix[32];

			snprintf(prefix, sizeof(prefix), "instruction %d (", b->pc);
			assert_non_null(strstr(res.errors[0].msg, prefix));
		}
		/* the kernel refuses it too (a 0-length program cannot pass the fprog check) */
		assert_int_equal(kernel_attach(b->insns, b->n), -EINVAL);
		if (!seen[b->code]) {
			seen[b->code] = true;
			kinds++;
		}
	}
	/* too long: 4097 instructions */
	{
		struct sock_filter *big = calloc(PG_CBPF_MAXINSNS + 1, sizeof(*big));

		for (size_t i = 0; i <= PG_CBPF_MAXINSNS; i++)
			big[i] = (struct sock_filter)RET0;
		assert_int_equal(pg_cbpf_verify(big, PG_CBPF_MAXINSNS + 1, &res), -EINVAL);
		assert_int_equal(res.errors[0].code, PG_CBPF_E_TOO_LONG);
		assert_int_equal(kernel_attach(big, PG_CBPF_MAXINSNS + 1), -EINVAL);
		assert_int_equal(pg_cbpf_verify(big, PG_CBPF_MAXINSNS, &res), 0);
		assert_int_equal(kernel_attach(big, PG_CBPF_MAXINSNS), 0);
		free(big);
		kinds++;
	}
	assert_true(kinds >= 17);
}

/* Several errors in one program are all reported, the kernel's first one first. */
static void test_verifier_reports_all(void **state)
{
	struct sock_filter p[] = { { 0x34, 0, 0, 0 }, { 0x64, 0, 0, 40 }, { 0x02, 0, 0, 99 },
				   { 0x00, 0, 0, 0 } };
	struct pg_cbpf_vresult res;

	assert_int_equal(pg_cbpf_verify(p, N(p), &res), -EINVAL);
	assert_int_equal(res.nerrors, 4);
	assert_int_equal(res.errors[0].code, PG_CBPF_E_DIV_ZERO);
	assert_int_equal(res.errors[1].code, PG_CBPF_E_SHIFT);
	assert_int_equal(res.errors[2].code, PG_CBPF_E_MEM_INDEX);
	assert_int_equal(res.errors[3].code, PG_CBPF_E_NO_RET);
}

/* Accepted by the kernel, but worth a word. */
static void test_verifier_warnings(void **state)
{
	struct sock_filter p[] = { { 0x05, 0, 0, 1 }, { 0x00, 0, 0, 1 }, { 0x15, 0, 0, 3 },
				   { 0x28, 0, 0, 0x90000000 }, RET0 };
	struct pg_cbpf_vresult res;

	assert_int_equal(pg_cbpf_verify(p, N(p), &res), 0);
	assert_int_equal(kernel_attach(p, N(p)), 0);
	assert_int_equal(res.nwarnings, 3);
	assert_non_null(strstr(res.warnings[0].msg, "both branches"));
	assert_non_null(strstr(res.warnings[1].msg, "always fails"));
	assert_non_null(strstr(res.warnings[2].msg, "unreachable"));
}

/* The kernel's M[] check is a forward pass with a quirk: the path state flows past a ret. */
static void test_verifier_mem_quirk(void **state)
{
	/* 0: jeq -> 2 or 1; 1: st M[0]; 2: ret... reached from 0 without the store */
	struct sock_filter a[] = { { 0x15, 1, 0, 1 }, { 0x02, 0, 0, 0 }, { 0x60, 0, 0, 0 },
				   { 0x16, 0, 0, 0 } };
	/* st M[0]; ret; ld M[0] reached only by ... nothing: dead code after ret, accepted */
	struct sock_filter b[] = { { 0x02, 0, 0, 0 }, { 0x06, 0, 0, 1 }, { 0x60, 0, 0, 0 },
				   { 0x16, 0, 0, 0 } };
	/* jump over the store to a load: refused */
	struct sock_filter c[] = { { 0x05, 0, 0, 1 }, { 0x02, 0, 0, 0 }, { 0x60, 0, 0, 0 },
				   { 0x16, 0, 0, 0 } };

	assert_int_equal(pg_cbpf_verify(a, N(a), NULL), -EINVAL);
	assert_int_equal(kernel_attach(a, N(a)), -EINVAL);
	assert_int_equal(pg_cbpf_verify(b, N(b), NULL), 0);
	assert_int_equal(kernel_attach(b, N(b)), 0);
	assert_int_equal(pg_cbpf_verify(c, N(c), NULL), -EINVAL);
	assert_int_equal(kernel_attach(c, N(c)), -EINVAL);
}

/* A small deterministic generator, so failures reproduce. */
static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static const uint16_t valid_codes[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x0c, 0x14, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30,
	0x34, 0x3c, 0x40, 0x44, 0x48, 0x4c, 0x50, 0x54, 0x5c, 0x60, 0x61, 0x64, 0x6c, 0x74,
	0x7c, 0x80, 0x81, 0x84, 0x87, 0x94, 0x9c, 0xa4, 0xac, 0xb1, 0x15, 0x1d, 0x25, 0x2d,
	0x35, 0x3d, 0x45, 0x4d, 0x05, 0x16, 0x06,
};

static void random_program(struct sock_filter *p, size_t n, bool wild)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t r = rnd();

		p[i].code = wild && r % 17 == 0 ? (uint16_t)(rnd() & (r % 5 ? 0xff : 0xffff))
						 : valid_codes[rnd() % N(valid_codes)];
		switch (rnd() % 6) {
		case 0: p[i].k = rnd() % 16; break;
		case 1: p[i].k = rnd() % 64; break;
		case 2: p[i].k = 0xfffff000u + (rnd() % 70); break;
		case 3: p[i].k = rnd() % 3; break;
		case 4: p[i].k = rnd(); break;
		default: p[i].k = (uint32_t)(n - i) - rnd() % 3; break;
		}
		p[i].jt = (uint8_t)(rnd() % (n - i + 1));
		p[i].jf = (uint8_t)(rnd() % (n - i + 1));
	}
	if (rnd() % 8)
		p[n - 1].code = rnd() % 2 ? 0x06 : 0x16;
}

/* Random programs, most of them nearly valid: pangolin and the kernel agree on every one. */
static void test_verifier_matches_kernel_random(void **state)
{
	struct sock_filter p[40];
	unsigned int accepted = 0, rejected = 0;

	for (int iter = 0; iter < 6000; iter++) {
		size_t n = 1 + rnd() % N(p);
		int ours, theirs;

		random_program(p, n, iter % 3 == 0);
		ours = pg_cbpf_verify(p, n, NULL);
		theirs = kernel_attach(p, n);
		if ((ours == 0) != (theirs == 0)) {
			struct pg_buf b = { 0 };
			struct pg_cbpf_vresult res;

			pg_cbpf_verify(p, n, &res);
			pg_cbpf_write(p, n, PG_CBPF_FMT_C, NULL, &b);
			pg_buf__putc(&b, 0);
			fail_msg("iteration %d: pangolin %s (%s), kernel %s\n%s", iter,
				 ours ? "rejects" : "accepts", ours ? res.errors[0].msg : "",
				 theirs ? strerror(-theirs) : "accepts", b.data);
		}
		if (ours)
			rejected++;
		else
			accepted++;
	}
	/* the generator must exercise both sides */
	assert_true(accepted > 500);
	assert_true(rejected > 500);
}

/* --- VM ---------------------------------------------------------------------------------- */

static uint32_t run(const char *text, const uint8_t *pkt, uint32_t len, enum pg_cbpf_exit *why)
{
	struct pg_cbpf_prog p = assemble(text);
	struct pg_cbpf_vm *vm = pg_cbpf_vm__new(p.insns, p.len);
	struct pg_cbpf_pkt k;
	uint32_t r;

	assert_non_null(vm);
	pg_cbpf_pkt_init(&k, DLT_EN10MB, pkt, len, len, false, NULL);
	r = pg_cbpf_vm__run_ex(vm, &k, why, NULL);
	pg_cbpf_vm__free(vm);
	pg_cbpf_prog__free(&p);
	return r;
}

static void test_vm_basics(void **state)
{
	uint8_t f[60] = { 0 };
	enum pg_cbpf_exit why;

	f[12] = 0x08; f[14] = 0x45; f[23] = 17; f[59] = 0xab;
	assert_int_equal(run("ldh [12]\nret a\n", f, 60, &why), 0x0800);
	assert_int_equal(run("ld [56]\nret a\n", f, 60, &why), 0xab);
	/* loads that end past the packet end the program with 0, and say so */
	assert_int_equal(run("ld [57]\nret #1\n", f, 60, &why), 0);
	assert_int_equal(why, PG_CBPF_X_OOB);
	assert_int_equal(run("ldb [59]\nret a\n", f, 60, &why), 0xab);
	assert_int_equal(why, PG_CBPF_X_RET);
	assert_int_equal(run("ldx #0xffffffff\nldb [x + 1]\nret a\n", f, 60, &why), 0);
	assert_int_equal(why, PG_CBPF_X_RET); /* X + 1 wraps to 0: byte 0 */
	assert_int_equal(run("ldx #0xfffffffe\nldb [x + 1]\nret #7\n", f, 60, &why), 0);
	assert_int_equal(why, PG_CBPF_X_OOB); /* offset -1 */
	/* SKF_NET_OFF reaches the network header, SKF_LL_OFF the frame start */
	assert_int_equal(run("ldb [SKF_NET_OFF]\nret a\n", f, 60, &why), 0x45);
	assert_int_equal(run("ldh [SKF_LL_OFF + 12]\nret a\n", f, 60, &why), 0x0800);
	assert_int_equal(run("ld [SKF_LL_OFF + 57]\nret #1\n", f, 60, &why), 0);
	/* ldxb 4*([k]&0xf) */
	assert_int_equal(run("ldxb 4*([14]&0xf)\ntxa\nret a\n", f, 60, &why), 20);
	/* division by X == 0 ends with 0 */
	assert_int_equal(run("ld #10\nldx #0\ndiv x\nret #5\n", f, 60, &why), 0);
	assert_int_equal(why, PG_CBPF_X_DIV_X_ZERO);
	assert_int_equal(run("ld #10\nldx #0\nmod x\nret #5\n", f, 60, &why), 0);
	/* shifts by X use X & 31, as Linux does */
	assert_int_equal(run("ld #1\nldx #33\nlsh x\nret a\n", f, 60, &why), 2);
	assert_int_equal(run("ld #0x80\nldx #36\nrsh x\nret a\n", f, 60, &why), 8);
	/* scratch memory, ALU, neg */
	assert_int_equal(run("ld #7\nst M[15]\nldx M[15]\ntxa\nmul x\nneg\nneg\nadd #1\nret a\n",
			     f, 60, &why), 50);
	assert_int_equal(run("ld #len\nret a\n", f, 60, &why), 60);
	assert_int_equal(run("ldx #len\ntxa\nret a\n", f, 60, &why), 60);
	/* ancillary: protocol and hatype come from the frame */
	assert_int_equal(run("ld [proto]\nret a\n", f, 60, &why), 0x0800);
	assert_int_equal(run("ld [hatype]\nret a\n", f, 60, &why), 1);
	assert_int_equal(run("ld #5\nldx #3\nld [xor_x]\nret a\n", f, 60, &why), 6);
	/* poff of a UDP/IPv4 frame: 14 + 20 + 8 */
	assert_int_equal(run("ld [poff]\nret a\n", f, 60, &why), 42);
}

/* Linux's receive path strips the outer VLAN tag; the VM models it on request. */
static void test_vm_vlan_offload(void **state)
{
	uint8_t f[64] = { 0 }, scratch[64];
	struct pg_cbpf_pkt k;
	struct pg_cbpf_prog p = assemble("ld [vlan_tci]\nst M[0]\nld [vlanp]\nst M[1]\nld [proto]\n"
					 "st M[2]\nldh [12]\nret a\n");
	struct pg_cbpf_vm *vm = pg_cbpf_vm__new(p.insns, p.len);

	f[12] = 0x81; f[13] = 0x00; f[14] = 0x20; f[15] = 0x64; f[16] = 0x08; f[17] = 0x00;
	assert_int_equal(pg_cbpf_pkt_init(&k, DLT_EN10MB, f, 64, 64, true, scratch), 0);
	assert_int_equal(k.caplen, 60);
	assert_int_equal(k.anc.vlan_tci, 0x2064);
	assert_true(k.anc.vlan_present);
	assert_int_equal(k.anc.vlan_tpid, 0x8100);
	assert_int_equal(k.anc.protocol, 0x0800);
	assert_int_equal(pg_cbpf_vm__run(vm, &k), 0x0800); /* the tag is gone from the data */
	/* too short to untag: Linux drops it before any filter */
	assert_int_equal(pg_cbpf_pkt_init(&k, DLT_EN10MB, f, 19, 19, true, scratch), -EINVAL);
	pg_cbpf_vm__free(vm);
	pg_cbpf_prog__free(&p);
}

/* Netlink attribute search (ld [nla]) walks attributes like nla_find(). */
static void test_vm_nlattr(void **state)
{
	/* two attributes: len 8 type 1, len 6 type 7 (padded to 8) */
	uint8_t pkt[16] = { 8, 0, 1, 0, 0xaa, 0xbb, 0xcc, 0xdd, 6, 0, 7, 0, 1, 2, 0, 0 };
	struct pg_cbpf_prog p = assemble("ld #0\nldx #7\nld [nla]\nret a\n");
	struct pg_cbpf_vm *vm = pg_cbpf_vm__new(p.insns, p.len);
	struct pg_cbpf_pkt k = { .data = pkt, .caplen = 16, .len = 16, .net_off = UINT32_MAX };

	assert_int_equal(pg_cbpf_vm__run(vm, &k), 8);
	pg_cbpf_vm__free(vm);
	pg_cbpf_prog__free(&p);
}

/* The VM refuses to prepare what the kernel would refuse. */
static void test_vm_needs_verified(void **state)
{
	struct sock_filter bad[] = { { 0x34, 0, 0, 0 }, RET0 };

	assert_null(pg_cbpf_vm__new(bad, N(bad)));
	assert_int_equal(errno, EINVAL);
}

/*
 * The kernel as the reference: a filter on a UDP socket sees the UDP header and payload and
 * trims the datagram to what it returns, so the bytes received say what the kernel computed.
 */
static long kernel_udp_verdict(int rx, int tx, const struct sockaddr_in *to,
			       const struct sock_filter *insns, size_t n, const uint8_t *payload,
			       size_t plen)
{
	struct sock_fprog fp = { .len = (unsigned short)n, .filter = (struct sock_filter *)insns };
	struct sock_filter accept_all = { 0x06, 0, 0, 0xffffffff };
	struct sock_fprog all = { .len = 1, .filter = &accept_all };
	uint8_t buf[2048];
	static const uint8_t marker[4] = { 'M', 'R', 'K', '!' };
	long got = -1;
	ssize_t r;

	assert_int_equal(setsockopt(rx, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)), 0);
	assert_true(sendto(tx, payload, plen, 0, (const struct sockaddr *)to, sizeof(*to)) >= 0);
	/* swap to accept-all, then send a marker: what arrives before it is the verdict */
	assert_int_equal(setsockopt(rx, SOL_SOCKET, SO_ATTACH_FILTER, &all, sizeof(all)), 0);
	assert_true(sendto(tx, marker, sizeof(marker), 0, (const struct sockaddr *)to, sizeof(*to)) >= 0);
	for (;;) {
		struct pollfd pfd = { .fd = rx, .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, 2000), 1);
		r = recv(rx, buf, sizeof(buf), 0);
		assert_true(r >= 0);
		if (r == sizeof(marker) && !memcmp(buf, marker, sizeof(marker)) && plen != sizeof(marker))
			return got; /* -1: dropped */
		got = r;
	}
}

static void test_vm_matches_kernel_udp(void **state)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(addr);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	/*
	 * Each computes a value into A, masks it to 0..255 and returns A + 16, so the datagram
	 * comes back cut to (A & 0xff) + 8 bytes of payload; ret #0 paths mean "dropped".
	 */
	static const char *const progs[] = {
		"ld #1\nldx #33\nlsh x\n",			/* shift by X & 31 */
		"ld #0x80000000\nldx #60\nrsh x\nrsh #24\n",	/* 0x80000000 >> 28 */
		"ld #200\nldx #0\ndiv x\n",			/* X == 0: dropped */
		"ld #200\nldx #0\nmod x\n",
		"ld #200\nldx #7\nmod x\n",
		"ld #200\nldx #7\ndiv x\n",
		"ld #3\nneg\nrsh #24\n",
		"ld #0xfffffff0\nadd #0x20\n",			/* wraps */
		"ld #5\nsub #9\nrsh #28\n",
		"ld #0x10001\nmul #0x10001\n",
		"ldb [8]\nxor #0x5a\n",				/* payload byte */
		"ldh [0]\n",					/* UDP source port, big-endian */
		"ld [200]\n",					/* past the end: dropped */
		"ldx #250\nldb [x + 40]\n",			/* past the end via X */
		"ldx #0xffffffff\nldb [x + 9]\n",		/* X + k wraps to 8 */
		"ld #len\n",
		"ldxb 4*([8]&0xf)\ntxa\n",
		"ld #77\nst M[5]\nld #1\nldx M[5]\ntxa\n",
		"ld #9\nldx #12\nld [xor_x]\n",
		"ld #0xab\nldx #0xab\njeq x, t, f\nf: ld #3\nt: ",
		"ld #0xf0\njset #0x10, t, f\nf: ld #4\nt: ",
		"ld #9\njgt #8, t, f\nf: ld #6\nt: ",
		"ld #9\njge #10, t, f\nf: ld #6\nt: ",
		"ld #9\njlt #10, t\nld #6\nt: ",
	};
	uint8_t payload[300];

	assert_true(rx >= 0 && tx >= 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&addr, &alen), 0);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < N(progs); i++) {
		char text[512];
		struct pg_cbpf_prog p;
		struct pg_cbpf_vm *vm;
		uint8_t dgram[8 + sizeof(payload)];
		struct sockaddr_in src;
		socklen_t slen = sizeof(src);
		struct pg_cbpf_pkt k;
		uint32_t ret;
		long expect, got;

		snprintf(text, sizeof(text), "%sand #0xff\nadd #16\nret a\n", progs[i]);
		p = assemble(text);
		vm = pg_cbpf_vm__new(p.insns, p.len);
		assert_non_null(vm);
		/* what the filter sees: the UDP header, then the payload */
		assert_int_equal(getsockname(tx, (struct sockaddr *)&src, &slen), 0);
		if (src.sin_port == 0) {
			struct sockaddr_in any = { .sin_family = AF_INET,
						   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

			assert_int_equal(bind(tx, (struct sockaddr *)&any, sizeof(any)), 0);
			slen = sizeof(src);
			assert_int_equal(getsockname(tx, (struct sockaddr *)&src, &slen), 0);
		}
		memcpy(dgram, &src.sin_port, 2);
		memcpy(dgram + 2, &addr.sin_port, 2);
		dgram[4] = (uint8_t)(sizeof(dgram) >> 8);
		dgram[5] = (uint8_t)sizeof(dgram);
		dgram[6] = dgram[7] = 0; /* the checksum: programs above do not read it */
		memcpy(dgram + 8, payload, sizeof(payload));
		k = (struct pg_cbpf_pkt){ .data = dgram, .caplen = sizeof(dgram), .len = sizeof(dgram),
					  .net_off = UINT32_MAX };
		ret = pg_cbpf_vm__run(vm, &k);
		expect = ret == 0 ? -1 : (long)((ret < sizeof(dgram) ? (ret > 8 ? ret : 8) : sizeof(dgram)) - 8);
		got = kernel_udp_verdict(rx, tx, &addr, p.insns, p.len, payload, sizeof(payload));
		if (got != expect)
			fail_msg("program %zu (%s): VM returned %u (expect %ld bytes), kernel gave %ld",
				 i, progs[i], ret, expect, got);
		pg_cbpf_vm__free(vm);
		pg_cbpf_prog__free(&p);
	}
	close(rx);
	close(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_article_text),
		cmocka_unit_test(test_bare_jeq_explained),
		cmocka_unit_test(test_asm_errors),
		cmocka_unit_test(test_asm_syntaxes_agree),
		cmocka_unit_test(test_roundtrip_all_opcodes),
		cmocka_unit_test(test_verifier_rejections),
		cmocka_unit_test(test_verifier_reports_all),
		cmocka_unit_test(test_verifier_warnings),
		cmocka_unit_test(test_verifier_mem_quirk),
		cmocka_unit_test(test_verifier_matches_kernel_random),
		cmocka_unit_test(test_vm_basics),
		cmocka_unit_test(test_vm_vlan_offload),
		cmocka_unit_test(test_vm_nlattr),
		cmocka_unit_test(test_vm_needs_verified),
		cmocka_unit_test(test_vm_matches_kernel_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
