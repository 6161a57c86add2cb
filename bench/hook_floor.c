// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hook_floor: attaches a BPF program that does nothing (r0 = 0; exit) to the raw tracepoint
 * sys_exit and holds it until SIGINT/SIGTERM. What a syscall sensor on this kernel costs before
 * it runs a single instruction of its own: the floor under any sensor's overhead.
 * Prints "attached" on stdout once the program is in place.
 *   usage: hook_floor [TRACEPOINT]      (default sys_exit)
 */
#include <errno.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static void on_signal(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	int pfd, lfd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	a.insns = (unsigned long)prog;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	if ((pfd = bpf(BPF_PROG_LOAD, &a)) < 0) {
		fprintf(stderr, "hook_floor: BPF_PROG_LOAD: %s (run as root)\n", strerror(errno));
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (unsigned long)(argc > 1 ? argv[1] : "sys_exit");
	a.raw_tracepoint.prog_fd = (unsigned int)pfd;
	if ((lfd = bpf(BPF_RAW_TRACEPOINT_OPEN, &a)) < 0) {
		fprintf(stderr, "hook_floor: BPF_RAW_TRACEPOINT_OPEN: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	pause();
	close(lfd); /* detaches */
	close(pfd);
	return 0;
}
