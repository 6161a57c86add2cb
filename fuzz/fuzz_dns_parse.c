// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: the DNS parser on arbitrary bytes. ASan checks every read stays in the buffer;
 * the asserts check that what comes out is well formed. */
#include <assert.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_dns_msg m;
	char err[160];

	if (pg_dns_parse(data, size, &m, err, sizeof(err)) == 0) {
		assert(strlen(m.qname) < PG_QNAME_LEN);
		assert(m.nanswers <= PG_DNS_MAX_ANSWERS && m.nanswers <= m.ancount);
		for (size_t i = 0; i < m.nanswers; i++)
			assert(m.answers[i].addr_len == 0 || m.answers[i].addr_len == 4 ||
			       m.answers[i].addr_len == 16);
	} else {
		assert(err[0]); /* every refusal says why */
	}
	return 0;
}
