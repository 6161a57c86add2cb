// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The assembler on arbitrary text. Whatever assembles must verify without crashing and come
 * back unchanged through every writer (listing, labelled asm, C, -ddd, fprog, raw).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum pg_cbpf_format fmts[] = { PG_CBPF_FMT_LISTING, PG_CBPF_FMT_ASM,
						    PG_CBPF_FMT_C, PG_CBPF_FMT_DDD,
						    PG_CBPF_FMT_FPROG, PG_CBPF_FMT_RAW };
	struct pg_cbpf_prog p = { 0 };
	struct pg_cbpf_diag d;
	struct pg_cbpf_vresult *res;

	if (pg_cbpf_asm((const char *)data, size, &p, &d)) {
		if (!d.msg[0])
			abort(); /* every failure says why */
		return 0;
	}
	res = malloc(sizeof(*res));
	(void)pg_cbpf_verify(p.insns, p.len, res);
	free(res);
	if (p.len > 5000) {
		pg_cbpf_prog__free(&p);
		return 0;
	}
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		struct pg_buf b = { 0 };
		struct pg_cbpf_prog back = { 0 };

		pg_cbpf_write(p.insns, p.len, fmts[f], "f", &b);
		if (pg_cbpf_load(b.data, b.len, &back, &d) || back.len != p.len ||
		    memcmp(back.insns, p.insns, p.len * sizeof(*p.insns))) {
			fprintf(stderr, "format %zu does not round-trip: %s\n", f, d.msg);
			abort();
		}
		pg_cbpf_prog__free(&back);
		pg_buf__free(&b);
	}
	pg_cbpf_prog__free(&p);
	return 0;
}
