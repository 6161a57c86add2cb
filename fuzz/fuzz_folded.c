// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Folded stacks: each input line is parsed; what parses is merged and drawn as an SVG (to
 * /dev/null), so the layout and the XML escaping see arbitrary frame names too.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "flamegraph.h"
#include "folded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct pg_folded f;
	char err[128];
	FILE *null;

	pg_folded__init(&f);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		pg_folded__parse_line(&f, p, (size_t)(eol - p), err, sizeof(err));
		p = eol + 1;
	}
	pg_folded__merge(&f);
	null = fopen("/dev/null", "w");
	if (null) {
		pg_flamegraph__write(&f, NULL, null);
		fclose(null);
	}
	pg_folded__destroy(&f);
	return 0;
}
