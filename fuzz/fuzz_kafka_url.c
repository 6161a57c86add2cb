// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kafka:// URL parser: any string in, either a refusal or a broker list librdkafka can
 * take (HOST:PORT entries, ports in range) and a legal topic name.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), brokers[256], topic[PG_KAFKA_TOPIC_MAX + 1], err[256];

	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = 0;
	if (pg_kafka_url_parse(url, brokers, sizeof(brokers), topic, sizeof(topic), err,
			       sizeof(err)) == 0) {
		size_t tl = strlen(topic);

		if (!tl || tl > PG_KAFKA_TOPIC_MAX || strspn(topic, "abcdefghijklmnopqrstuvwxyz"
						     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != tl)
			abort();
		/* every broker ends in :PORT with 1..65535 */
		for (char *save = NULL, *b = strtok_r(brokers, ",", &save); b;
		     b = strtok_r(NULL, ",", &save)) {
			char *c = strrchr(b, ':');
			long port;

			if (!c || c == b)
				abort();
			port = strtol(c + 1, NULL, 10);
			if (port < 1 || port > 65535)
				abort();
		}
	} else if (!err[0]) {
		abort(); /* a refusal always says why */
	}
	free(url);
	return 0;
}
