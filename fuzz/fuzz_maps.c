// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The hand-written text parsers of the profiler: /proc/PID/maps and /proc/kallsyms. Both are
 * kernel output, but a profiler that reads them from other mount namespaces or from saved
 * files must not crash on anything. The first byte picks the parser; lookups then run on
 * whatever was parsed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "symbolize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (!size)
		return 0;
	size--;
	if (data[0] & 1) {
		struct pg_ksyms k;

		if (pg_ksyms__parse(&k, text, size, NULL) == 0) {
			for (size_t i = 0; i < k.n; i++)
				pg_ksyms__lookup(&k, k.syms[i].addr + 1);
			pg_ksyms__lookup(&k, 0);
			pg_ksyms__lookup(&k, UINT64_MAX);
			pg_ksyms__destroy(&k);
		}
	} else {
		struct pg_map *m;
		size_t n;

		if (pg_maps_parse(text, size, &m, &n) == 0)
			pg_maps_free(m, n);
	}
	return 0;
}
