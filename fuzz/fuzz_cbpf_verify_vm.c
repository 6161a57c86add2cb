// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Random programs on random packets. Each input is a program and a packet; programs come
 * either as raw struct sock_filter bytes or mapped onto valid opcodes with jumps in range (so
 * most of them pass the verifier and reach the VM). Checked on every input:
 *  - pangolin's verifier and the running kernel (SO_ATTACH_FILTER on a UDP socket) agree;
 *  - what the verifier accepts, the VM runs on the packet in a buffer of exactly its size,
 *    with and without the VLAN receive model: ASan stops any read outside it;
 *  - the VM with superinstructions and without gives the same verdict and exit reason;
 *  - every program survives the text round trip (listing, asm) byte for byte.
 */
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cbpf.h"

static const uint16_t codes[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x0c, 0x14, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30,
	0x34, 0x3c, 0x40, 0x44, 0x48, 0x4c, 0x50, 0x54, 0x5c, 0x60, 0x61, 0x64, 0x6c, 0x74,
	0x7c, 0x80, 0x81, 0x84, 0x87, 0x94, 0x9c, 0xa4, 0xac, 0xb1, 0x15, 0x1d, 0x25, 0x2d,
	0x35, 0x3d, 0x45, 0x4d, 0x05, 0x16, 0x06,
};

static int kernel_fd = -1;

static int kernel_accepts(const struct sock_filter *p, size_t n)
{
	struct sock_fprog fp = { .len = (unsigned short)n, .filter = (struct sock_filter *)p };

	if (kernel_fd < 0)
		kernel_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (kernel_fd < 0)
		return -1;
	return setsockopt(kernel_fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) == 0;
}

static void roundtrip(const struct sock_filter *p, size_t n, enum pg_cbpf_format fmt)
{
	struct pg_buf b = { 0 };
	struct pg_cbpf_prog back = { 0 };
	struct pg_cbpf_diag d;

	pg_cbpf_write(p, n, fmt, NULL, &b);
	if (b.err)
		abort();
	if (pg_cbpf_load(b.data, b.len, &back, &d) || back.len != n ||
	    memcmp(back.insns, p, n * sizeof(*p))) {
		fprintf(stderr, "round trip (format %d) failed: %s\n%.*s\n", (int)fmt, d.msg, (int)b.len,
			b.data);
		abort();
	}
	pg_cbpf_prog__free(&back);
	pg_buf__free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sock_filter prog[64];
	size_t n, i, used;
	bool structured;
	uint8_t *pkt, *scratch;
	size_t plen;
	int ours, theirs;

	if (size < 2)
		return 0;
	structured = data[0] & 1;
	n = 1 + data[1] % 64;
	used = 2 + n * 8;
	if (used > size)
		return 0;
	memcpy(prog, data + 2, n * 8);
	if (structured) {
		for (i = 0; i < n; i++) {
			uint32_t k = prog[i].k;

			prog[i].code = codes[prog[i].code % (sizeof(codes) / sizeof(codes[0]))];
			prog[i].jt = (uint8_t)(prog[i].jt % (n - i));
			prog[i].jf = (uint8_t)(prog[i].jf % (n - i));
			switch (k >> 30) { /* bias k towards what programs use */
			case 0: prog[i].k = k % 64; break;
			case 1: prog[i].k = 0xfffff000u + k % 64; break;
			case 2: prog[i].k = k % 16; break;
			}
			if (prog[i].code == 0x05)
				prog[i].k = n - i > 1 ? prog[i].k % (uint32_t)(n - i - 1) : 0;
		}
		prog[n - 1].code = data[0] & 2 ? 0x16 : 0x06;
	}
	ours = pg_cbpf_verify(prog, n, NULL);
	theirs = kernel_accepts(prog, n);
	if (theirs >= 0 && (ours == 0) != (theirs == 1)) {
		fprintf(stderr, "pangolin %s, the kernel %s\n", ours ? "refuses" : "accepts",
			theirs ? "accepts" : "refuses");
		abort();
	}
	roundtrip(prog, n, PG_CBPF_FMT_LISTING);
	roundtrip(prog, n, PG_CBPF_FMT_ASM);
	if (ours)
		return 0;

	/* the packet: exactly its own size on the heap, so ASan sees any stray read */
	plen = size - used;
	pkt = malloc(plen ? plen : 1);
	scratch = malloc(plen ? plen : 1);
	memcpy(pkt, data + used, plen);
	{
		struct pg_cbpf_vm *vm = pg_cbpf_vm__new(prog, n);
		struct pg_cbpf_vm *plain = pg_cbpf_vm__new_opts(prog, n, false);
		struct pg_cbpf_pkt p;

		if (!vm || !plain)
			abort(); /* verified programs always prepare */
		for (int mode = 0; mode < 3; mode++) {
			uint32_t r1 = 1, r2 = 1, a, b;
			enum pg_cbpf_exit w1, w2;

			/* Ethernet, Ethernet through Linux's VLAN model, no link layer at all */
			if (pg_cbpf_pkt_init(&p, mode == 2 ? DLT_RAW : DLT_EN10MB, pkt, (uint32_t)plen,
					     (uint32_t)plen + (mode == 1 ? 7 : 0), mode == 1, scratch))
				continue;
			p.rand_state = &r1;
			a = pg_cbpf_vm__run_ex(vm, &p, &w1, NULL);
			p.rand_state = &r2;
			b = pg_cbpf_vm__run_ex(plain, &p, &w2, NULL);
			if (a != b || w1 != w2) {
				fprintf(stderr, "fused VM %u (exit %d), plain VM %u (exit %d)\n", a, w1, b, w2);
				abort();
			}
			(void)pg_cbpf_payload_offset(&p);
		}
		pg_cbpf_vm__free(plain);
		pg_cbpf_vm__free(vm);
	}
	free(scratch);
	free(pkt);
	return 0;
}
