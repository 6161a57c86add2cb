// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for kubeconfig files (src/kube_config.c, libyaml underneath): a file a
 * user hands over. Any bytes: an error naming the file, or a config with a server URL; and
 * base64 never writes past its buffer.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_kube_config c;
	char err[400] = "";
	char *copy = malloc(size ? size : 1);
	unsigned char out[64];
	long n;
	int rc;

	memcpy(copy, data, size);
	rc = pg_kube_config__parse(&c, copy, size, "fuzz.yaml", "/d", NULL, err, sizeof(err));
	if (rc) {
		assert(rc == -EINVAL || rc == -ENOMEM || rc == -ENAMETOOLONG);
		assert(!strncmp(err, "fuzz.yaml", 9));
		assert(!c.server);
	} else {
		assert(c.server && (!strncmp(c.server, "https://", 8) || !strncmp(c.server, "http://", 7)));
		assert(!c.ca_data || c.ca_len > 0);
		pg_kube_config__release(&c);
	}
	n = pg_base64_decode(copy, size, out, sizeof(out));
	assert(n == -EINVAL || (n >= 0 && (size_t)n <= sizeof(out)));
	free(copy);
	return 0;
}
