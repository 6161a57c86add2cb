// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ELF symbol-table reading: the profiler opens every executable file mapped by every process
 * it samples, so any file a user can map is input. libelf does the decoding; what is ours is
 * the walk over program headers, notes and symbol tables and the address translation, and the
 * names go through the demangler (libiberty's) as the profiler shows them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "symbolize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_elf_syms e;
	uint64_t v;

	if (pg_elf_syms__from_memory(&e, data, size))
		return 0;
	for (size_t i = 0; i < e.n; i++) {
		const struct pg_elf_sym *s = pg_elf_syms__lookup(&e, e.syms[i].addr);

		if (s && !pg_elf_syms__display_name(&e, s)[0] && s->name[0])
			abort(); /* a name never shows as nothing */
	}
	for (size_t i = 0; i < e.nsegs; i++)
		pg_elf_syms__offset_to_vaddr(&e, e.segs[i].offset, &v);
	pg_elf_syms__lookup(&e, UINT64_MAX);
	pg_elf_syms__destroy(&e);
	return 0;
}
