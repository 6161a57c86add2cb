// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The mountinfo parser that finds the cgroup2 mount: any text in, a bounded answer out. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);
	char out[64];
	int rc;

	if (!p)
		return 0;
	memcpy(p, data, size);
	rc = pg_mountinfo_cgroup2(p, size, out, sizeof(out));
	if (rc == 0 && strlen(out) >= sizeof(out))
		abort();
	if (rc != 0 && rc != -ENOENT && rc != -ENAMETOOLONG)
		abort();
	free(p);
	return 0;
}
