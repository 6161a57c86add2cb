// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The --metrics listen address parser: any string in, either a refusal that says why, or an
 * IPv4/IPv6 socket address that, written back as text, parses to the same address again.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage sa, again;
	socklen_t len, len2;
	char *s = malloc(size + 1), err[512], text[INET6_ADDRSTRLEN + 16], host[INET6_ADDRSTRLEN];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	err[0] = 0;
	if (pg_listen_addr_parse(s, &sa, &len, err, sizeof(err))) {
		if (!err[0])
			abort(); /* a refusal always says why */
		free(s);
		return 0;
	}
	if (sa.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&sa;

		if (len != sizeof(*a) || !inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host)))
			abort();
		snprintf(text, sizeof(text), "%s:%u", host, ntohs(a->sin_port));
	} else if (sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sa;

		if (len != sizeof(*a) || !inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host)))
			abort();
		snprintf(text, sizeof(text), "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		abort();
	}
	if (pg_listen_addr_parse(text, &again, &len2, err, sizeof(err)) || len2 != len ||
	    memcmp(&again, &sa, len))
		abort();
	free(s);
	return 0;
}
