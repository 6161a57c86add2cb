/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Classic BPF (cBPF): the socket-filter bytecode of 1993 that Linux still runs unchanged
 * (docs/cbpf.md).
 *
 *   assembler  text (mnemonics with labels, tcpdump -d listings, C initialisers with the
 *              seed article's named constants, tcpdump -ddd numbers) or raw bytes -> program
 *   writers    tcpdump -d listing, labelled assembly, C array (-dd), decimal (-ddd), raw,
 *              struct sock_fprog source
 *   verifier   the kernel's bpf_check_classic() rules, one message per rejection
 *   VM         an interpreter with the kernel's semantics: a load outside the packet ends
 *              the program with 0 (drop), division by X == 0 likewise; it never reads outside
 *              the packet
 *
 * Instructions are struct sock_filter from <linux/filter.h>; libpcap's struct bpf_insn has
 * the same layout.
 */
#ifndef PANGOLIN_CBPF_H
#define PANGOLIN_CBPF_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PG_CBPF_MAXINSNS BPF_MAXINSNS /* 4096: the kernel refuses longer programs */

/* Opcodes the kernel has no macro for, named once here. */
#define PG_CBPF_RET_K (BPF_RET | BPF_K) /* 0x06 */
#define PG_CBPF_RET_A (BPF_RET | BPF_A) /* 0x16 */

struct pg_cbpf_prog {
	struct sock_filter *insns; /* malloc'ed; pg_cbpf_prog__free releases it */
	size_t len;
};

void pg_cbpf_prog__free(struct pg_cbpf_prog *p);
/* Copy n instructions into p (replacing what it held). 0 or -ENOMEM. */
int pg_cbpf_prog__set(struct pg_cbpf_prog *p, const struct sock_filter *insns, size_t n);

/* The seed article's 2004 UDP socket filter, byte for byte (6 instructions). */
extern const struct sock_filter pg_cbpf_seed_udp[6];

/* --- assembler -------------------------------------------------------------------------- */

struct pg_cbpf_diag {
	unsigned int line; /* 1-based; 0 when the error is not about one line */
	unsigned int col; /* 1-based; 0 when unknown */
	char msg[300];
};

/*
 * Assemble a program from text (len bytes, need not be NUL-terminated). The syntaxes may be
 * mixed line by line; see docs/cbpf.md. name is used in messages only. 0 on success with out
 * filled (caller frees); -EINVAL with err set; -ENOMEM.
 */
int pg_cbpf_asm(const char *text, size_t len, struct pg_cbpf_prog *out, struct pg_cbpf_diag *err);

/*
 * Load a program from file contents: raw struct sock_filter bytes (host byte order, what
 * SO_ATTACH_FILTER takes, 8 bytes per instruction) when the data is not text, else the
 * assembler. Same returns as pg_cbpf_asm.
 */
int pg_cbpf_load(const void *data, size_t len, struct pg_cbpf_prog *out, struct pg_cbpf_diag *err);

/* Names and values of the built-in constants, for documentation and `cbpf consts`. */
struct pg_cbpf_const {
	const char *name;
	uint32_t value;
	const char *doc;
};
extern const struct pg_cbpf_const pg_cbpf_consts[];
extern const size_t pg_cbpf_nconsts;

/* --- writers ---------------------------------------------------------------------------- */

enum pg_cbpf_format {
	PG_CBPF_FMT_LISTING, /* tcpdump -d: "(000) ldh      [12]" */
	PG_CBPF_FMT_ASM, /* labelled assembly, assembles back to the same program */
	PG_CBPF_FMT_C, /* tcpdump -dd: "{ 0x28, 0, 0, 0x0000000c }," */
	PG_CBPF_FMT_DDD, /* tcpdump -ddd: count, then "40 0 0 12" lines */
	PG_CBPF_FMT_RAW, /* struct sock_filter bytes, host order */
	PG_CBPF_FMT_FPROG, /* C source: struct sock_filter array + struct sock_fprog */
};

/* "listing", "asm", "c", "ddd", "raw", "fprog" -> format; -1 when unknown. */
int pg_cbpf_format_from_name(const char *name);

/* Append the program in a format. name names the C arrays (FMT_FPROG; NULL: "filter"). */
void pg_cbpf_write(const struct sock_filter *insns, size_t n, enum pg_cbpf_format fmt,
		   const char *name, struct pg_buf *out);

/* One instruction as tcpdump -d prints it, without the "(NNN) " prefix; pc is its index. */
void pg_cbpf_insn_text(const struct sock_filter *in, size_t pc, char *buf, size_t size);

/* --- verifier --------------------------------------------------------------------------- */

enum pg_cbpf_verr {
	PG_CBPF_E_OK = 0,
	PG_CBPF_E_EMPTY, /* no instructions */
	PG_CBPF_E_TOO_LONG, /* more than BPF_MAXINSNS */
	PG_CBPF_E_OPCODE, /* not an opcode of classic BPF */
	PG_CBPF_E_EBPF_OPCODE, /* an eBPF-only operation (jne, mov, call, exit, 64-bit load) */
	PG_CBPF_E_LDX_PACKET, /* ldx from the packet other than ldxb 4*([k]&0xf) */
	PG_CBPF_E_RET_X, /* ret x */
	PG_CBPF_E_SIZE, /* a load or store whose size must be 32 bits */
	PG_CBPF_E_DIV_ZERO, /* div #0 */
	PG_CBPF_E_MOD_ZERO, /* mod #0 */
	PG_CBPF_E_SHIFT, /* lsh/rsh #k with k >= 32 */
	PG_CBPF_E_MEM_INDEX, /* M[k] with k >= 16 */
	PG_CBPF_E_JA_RANGE, /* ja past the last instruction */
	PG_CBPF_E_JT_RANGE, /* true branch past the last instruction */
	PG_CBPF_E_JF_RANGE, /* false branch past the last instruction */
	PG_CBPF_E_ANCILLARY, /* ld [k] with k >= SKF_AD_OFF that names no ancillary value */
	PG_CBPF_E_NO_RET, /* the last instruction is not a return */
	PG_CBPF_E_MEM_UNINIT, /* M[k] read on a path where nothing stored to it */
	PG_CBPF_E_COUNT
};

/* Short stable names ("div-zero", ...) for tests and scripts. */
const char *pg_cbpf_verr_name(enum pg_cbpf_verr e);

struct pg_cbpf_verror {
	enum pg_cbpf_verr code;
	int pc; /* the instruction, -1 for the whole program */
	char msg[300];
};

enum pg_cbpf_warn {
	PG_CBPF_W_UNREACHABLE = 1, /* no path reaches the instruction */
	PG_CBPF_W_NEVER_IN_BOUNDS, /* a packet load whose offset can never be inside a packet */
	PG_CBPF_W_SAME_TARGET, /* a conditional jump whose branches go to the same place */
};

struct pg_cbpf_vresult {
	struct pg_cbpf_verror errors[16]; /* in the order the kernel checks: errors[0] is what
					   * the kernel stops at */
	size_t nerrors; /* errors found (may exceed 16; only 16 kept) */
	struct pg_cbpf_verror warnings[16]; /* accepted by the kernel, but suspicious */
	size_t nwarnings;
};

/*
 * Check a program with the rules of the kernel's bpf_check_classic() (net/core/filter.c), as
 * SO_ATTACH_FILTER applies them. Returns 0 when the kernel would accept it, -EINVAL when not,
 * with the reasons in res (may be NULL).
 */
int pg_cbpf_verify(const struct sock_filter *insns, size_t n, struct pg_cbpf_vresult *res);

/* --- VM --------------------------------------------------------------------------------- */

/*
 * What a filter can ask the kernel about a packet besides its bytes (ld [proto] and friends:
 * SKF_AD_*). A capture file records little of it; docs/cbpf.md says where each value comes
 * from. pg_cbpf_pkt_init fills a default from the frame.
 */
struct pg_cbpf_anc {
	uint32_t protocol; /* skb->protocol, host order (the EtherType after a stripped tag) */
	uint32_t pkttype; /* PACKET_HOST, PACKET_BROADCAST, ... */
	uint32_t ifindex;
	uint32_t mark;
	uint32_t queue;
	uint32_t hatype; /* ARPHRD_ETHER ... */
	uint32_t rxhash;
	uint32_t cpu;
	uint16_t vlan_tci; /* tag control information of the stripped outer tag */
	uint16_t vlan_tpid; /* its TPID (0x8100, 0x88a8), 0 when there is no tag */
	bool vlan_present;
};

struct pg_cbpf_pkt {
	const uint8_t *data; /* the bytes the filter sees, starting at the link-layer header */
	uint32_t caplen; /* bytes at data; nothing past them is ever read */
	uint32_t len; /* what ld #len loads (the kernel's skb->len; a file's original length) */
	uint32_t net_off; /* network header offset for SKF_NET_OFF loads; UINT32_MAX: none */
	struct pg_cbpf_anc anc;
	uint32_t *rand_state; /* ld [random]: xorshift32 state (NULL: always 0) */
};

/*
 * Reasons a run ended in 0 although no "ret #0" did it; reported by pg_cbpf_run_ex.
 */
enum pg_cbpf_exit {
	PG_CBPF_X_RET = 0, /* a ret instruction */
	PG_CBPF_X_OOB, /* a packet load outside the packet */
	PG_CBPF_X_DIV_X_ZERO, /* div x / mod x with X == 0 */
};

/* A program prepared for fast repeated runs: verify first, then compile. */
struct pg_cbpf_vm;

/*
 * Prepare a program the verifier accepted (pg_cbpf_verify returned 0); NULL with errno EINVAL
 * when it did not (the VM runs only what the kernel would), ENOMEM.
 */
struct pg_cbpf_vm *pg_cbpf_vm__new(const struct sock_filter *insns, size_t n);
/* The same; fused = false runs one instruction per dispatch (tests compare the two). */
struct pg_cbpf_vm *pg_cbpf_vm__new_opts(const struct sock_filter *insns, size_t n, bool fused);
void pg_cbpf_vm__free(struct pg_cbpf_vm *vm);
/* Does the program use ancillary loads (ld [proto], ...)? */
bool pg_cbpf_vm__uses_ancillary(const struct pg_cbpf_vm *vm);

/* Run on one packet: the kernel's verdict, the number of bytes to keep (0: drop). */
uint32_t pg_cbpf_vm__run(const struct pg_cbpf_vm *vm, const struct pg_cbpf_pkt *pkt);
/* The same, also saying why it ended and which instruction ended it. */
uint32_t pg_cbpf_vm__run_ex(const struct pg_cbpf_vm *vm, const struct pg_cbpf_pkt *pkt,
			    enum pg_cbpf_exit *why, size_t *pc);

/*
 * Fill pkt for a frame of a link type (DLT_EN10MB ...): data, lengths, net_off, and the
 * ancillary values the frame implies (protocol, hatype; pkttype PACKET_HOST).
 * strip_vlan models Linux's receive path, which removes the outer 802.1Q/802.1ad tag before
 * a socket filter runs and exposes it as vlan_tci/vlan_avail/vlan_tpid: the frame is copied
 * without the tag into scratch (at least caplen bytes). Returns 0, or -EINVAL when Linux
 * would not deliver the frame at all (a tagged frame too short to untag).
 */
int pg_cbpf_pkt_init(struct pg_cbpf_pkt *pkt, int linktype, const uint8_t *data,
		     uint32_t caplen, uint32_t len, bool strip_vlan, uint8_t *scratch);

/* SKF_AD_PAY_OFFSET as the kernel's flow dissector computes it (0 when it cannot). */
uint32_t pg_cbpf_payload_offset(const struct pg_cbpf_pkt *pkt);

#endif /* PANGOLIN_CBPF_H */
