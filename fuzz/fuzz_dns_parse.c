// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The DNS parser on arbitrary bytes, as a UDP payload and as a TCP stream. The input is
 * copied to a buffer of exactly its size so ASan sees any read past it; every string the
 * parser fills must be terminated inside its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static void check(const struct pg_dns_msg *m)
{
	if (!memchr(m->qname, 0, sizeof(m->qname)) || m->nanswers > PG_DNS_MAX_ANSWERS)
		abort();
	for (unsigned int i = 0; i < m->nanswers; i++)
		if (!memchr(m->answers[i].name, 0, sizeof(m->answers[i].name)) ||
		    !memchr(m->answers[i].data, 0, sizeof(m->answers[i].data)))
			abort();
	if (m->err >= PG_DNS_E_COUNT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct pg_dns_msg *m = malloc(sizeof(*m));

	memcpy(buf, data, size);
	if (pg_dns_parse(buf, size, m) == 0 && m->err)
		abort();
	check(m);
	(void)pg_dns_parse_tcp(buf, size, m);
	check(m);
	if (size > 12) {
		char name[PG_DNS_NAME_LEN];
		size_t next;
		enum pg_dns_err err;

		(void)pg_dns_read_name(buf, size, 12, name, sizeof(name), &next, &err);
		if (!memchr(name, 0, sizeof(name)))
			abort();
	}
	free(m);
	free(buf);
	return 0;
}
