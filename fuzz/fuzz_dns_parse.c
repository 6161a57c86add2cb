// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer: the DNS parser on arbitrary bytes, as a UDP payload and as a TCP stream. The
 * input is copied to a buffer of exactly its size so ASan sees any read past it; the checks
 * say that what comes out is well formed, and that every refusal says why and where.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static void check(const struct pg_dns_msg *m, int rc, const char *err, size_t len)
{
	if (!memchr(m->qname, 0, sizeof(m->qname)) || m->nanswers > PG_DNS_MAX_ANSWERS ||
	    m->nanswers > m->ancount)
		abort();
	for (size_t i = 0; i < m->nanswers; i++)
		if (!memchr(m->answers[i].name, 0, sizeof(m->answers[i].name)) ||
		    !memchr(m->answers[i].data, 0, sizeof(m->answers[i].data)))
			abort();
	if (rc == 0 && m->err != PG_DNS_OK)
		abort();
	if (rc != 0 && (!err[0] || m->err == PG_DNS_OK || m->err >= PG_DNS_E_COUNT ||
			m->err_off > len + 2))
		abort(); /* every refusal says why, and where */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct pg_dns_msg *m = malloc(sizeof(*m));
	char err[160];
	int rc;

	memcpy(buf, data, size);
	rc = pg_dns_parse(buf, size, m, err, sizeof(err));
	check(m, rc, err, size);
	rc = pg_dns_parse_tcp(buf, size, m, err, sizeof(err));
	check(m, rc, err, size);
	free(m);
	free(buf);
	return 0;
}
