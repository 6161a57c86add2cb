// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cgroup path parser reads names chosen by whoever creates a cgroup (any container can
 * make sub-cgroups of its own): it must never read past the input, and what it reports must
 * be well formed (a UUID or 32 hex digits, 64 hex digits).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"

static int hexlower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_cgroup_ids ids;
	/* an exact-size copy, so ASan sees any read past the end */
	char *p = malloc(size ? size : 1);
	unsigned int got;

	if (!p)
		return 0;
	memcpy(p, data, size);
	got = pg_cgroup_path_parse(p, size, &ids);
	if (got & PG_CGROUP_HAS_CONTAINER) {
		if (strlen(ids.container_id) != 64 || !hexlower(ids.container_id, 64))
			abort();
	} else if (ids.container_id[0]) {
		abort();
	}
	if (got & PG_CGROUP_HAS_POD) {
		size_t n = strlen(ids.pod_uid);

		if (n != 32 && n != 36)
			abort();
		if (n == 36 && (ids.pod_uid[8] != '-' || ids.pod_uid[13] != '-' ||
				ids.pod_uid[18] != '-' || ids.pod_uid[23] != '-'))
			abort();
	} else if (ids.pod_uid[0]) {
		abort();
	}
	free(p);
	return 0;
}
