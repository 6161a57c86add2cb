// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A Kafka message's value as `detect --input kafka://` reads it: any bytes, NDJSON or protobuf
 * told apart by content. Either a refusal with a reason and a message, or an event whose
 * NDJSON decodes back to the same event, and whose protobuf decodes back to an event of the
 * same identity (protobuf's "" is "unset": an empty string does not come back as one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source_kafka.h"

static void same_back(const struct pg_event *ev, enum pg_input_format f)
{
	static struct pg_kafka_decoder dec2;
	struct pg_buf enc = { 0 }, j1 = { 0 }, j2 = { 0 };
	enum pg_kafka_bad why;
	struct pg_event back;
	char err[256];

	if (f == PG_INPUT_JSON)
		pg_json_encode(ev, &enc);
	else
		pg_proto_encode(ev, &enc);
	if (enc.err ||
	    pg_kafka_value_decode(&dec2, PG_INPUT_AUTO, enc.data, enc.len, &back, &why, err,
				  sizeof(err)))
		abort();
	if (back.r.hdr.type != ev->r.hdr.type || back.r.hdr.ts_ns != ev->r.hdr.ts_ns ||
	    back.r.hdr.pid != ev->r.hdr.pid || back.r.hdr.start_ns != ev->r.hdr.start_ns)
		abort();
	pg_json_encode(ev, &j1);
	pg_json_encode(&back, &j2);
	if (f == PG_INPUT_JSON &&
	    (j1.err || j2.err || j1.len != j2.len || memcmp(j1.data, j2.data, j1.len)))
		abort();
	pg_buf__free(&enc);
	pg_buf__free(&j1);
	pg_buf__free(&j2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pg_kafka_decoder dec;
	enum pg_kafka_bad why = PG_KAFKA_BAD_REASONS;
	struct pg_event ev;
	char err[256] = "";

	if (pg_kafka_value_decode(&dec, PG_INPUT_AUTO, data, size, &ev, &why, err, sizeof(err))) {
		if (!err[0] || why >= PG_KAFKA_BAD_REASONS)
			abort();
		return 0;
	}
	same_back(&ev, PG_INPUT_JSON);
	same_back(&ev, PG_INPUT_PROTOBUF);
	return 0;
}
