/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The worst-case combined BPF stack of each program in a BPF ELF object, computed from the
 * object itself, the way the verifier adds frames up: every function's frame is the deepest
 * r10-relative byte it touches, rounded up to 32 bytes, and a program's need is the deepest
 * chain of frames through its calls (bpf-to-bpf calls, global functions and callbacks).
 *
 * A program whose chain passes MAX_BPF_STACK (512) loads only where the kernel gives each
 * subprogram a private stack (6.13+, and not always there): tests/unit/test_bpf_objects.c
 * checks every object pangolin embeds against it, so such a change fails before a user's
 * kernel refuses it.
 */
#ifndef PANGOLIN_BPF_STACK_H
#define PANGOLIN_BPF_STACK_H

#include <stddef.h>

#define PG_BPF_STACK_MAX 512
#define PG_BPF_STACK_FRAME_ALIGN 32 /* what older verifiers round each frame up to */

struct pg_bpf_stack_prog {
	char name[64]; /* the program (its function's name) */
	unsigned int depth; /* worst combined stack in bytes, frames rounded */
	char chain[256]; /* that chain: "handle_sys_exit(224) > pg_dns_iov(96)" */
};

/* One function, for the analysis on its own: frame depth from its instructions. */
unsigned int pg_bpf_stack_frame(const void *insns, size_t ninsns);

/*
 * Every program of the object (the functions outside .text), worst first. Returns how many
 * programs the object has (out holds the first max), or -errno: -EINVAL for an object that is
 * not BPF ELF, -ENOEXEC for a call whose target is not the start of a function (then err says
 * which), -ELOOP for recursion.
 */
int pg_bpf_stack_analyze(const void *elf, size_t len, struct pg_bpf_stack_prog *out, size_t max,
			 char *err, size_t errlen);

#endif /* PANGOLIN_BPF_STACK_H */
