// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The protobuf decoder reads what comes back from Kafka (the spill path) and anything a test
 * hands it. Any bytes in: a refusal with a reason, or an event that encodes back to a message
 * decoding to the same event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_proto_decoder dec, dec2;
	struct pg_event ev, back;
	struct pg_buf pb = { 0 }, j1 = { 0 }, j2 = { 0 };
	char err[256] = "";

	if (pg_proto_decode(&dec, data, size, &ev, err, sizeof(err))) {
		if (!err[0])
			abort();
		return 0;
	}
	pg_proto_encode(&ev, &pb);
	if (pb.err || pg_proto_decode(&dec2, pb.data, pb.len, &back, err, sizeof(err)))
		abort();
	pg_json_encode(&ev, &j1);
	pg_json_encode(&back, &j2);
	if (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len))
		abort();
	pg_buf__free(&pb);
	pg_buf__free(&j1);
	pg_buf__free(&j2);
	return 0;
}
