// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for kernel ring buffer records (src/record.c): the bytes one ring record
 * holds, as bpf_poll hands them to pg_event_from_record.
 *
 * Either the record is refused, or the event it becomes is whole: hdr.size is the type's full
 * size, exec's argv is a run of NUL-terminated arguments within the caps, and the event encodes
 * to one NDJSON line that decodes to an event encoding to the same line.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so any read past the record is an ASan report */
	uint8_t *rec = malloc(size ? size : 1);
	struct pg_event *ev = malloc(sizeof(*ev)), *back = malloc(sizeof(*back));
	struct pg_json_decoder *d = malloc(sizeof(*d));
	struct pg_json_error err;
	struct pg_buf out = { 0 }, again = { 0 };

	memcpy(rec, data, size);
	if (pg_event_from_record(ev, rec, size))
		goto done;
	assert(ev->r.hdr.size == pg_event_record_size(ev->r.hdr.type));
	if (ev->r.hdr.type == PG_EV_EXEC) {
		const struct pg_exec_event *e = &ev->r.exec;

		assert(e->argv_len <= PG_ARGV_LEN && e->argc <= PG_ARGV_MAX);
		assert(e->argv_len == 0 || e->argv[e->argv_len - 1] == 0);
	}
	pg_json_encode(ev, &out);
	assert(!out.err && out.len > 0 && !memchr(out.data, '\n', out.len));
	if (pg_json_decode(d, out.data, out.len, back, &err)) {
		/* every event the reader makes must survive a replay */
		fprintf(stderr, "line does not decode: column %zu: %s\n%.*s\n", err.column, err.msg,
			(int)out.len, out.data);
		abort();
	}
	assert(back->r.hdr.type == ev->r.hdr.type);
	pg_json_encode(back, &again); /* and it is the same line: nothing lost on the way */
	assert(!again.err && again.len == out.len && !memcmp(again.data, out.data, out.len));
	pg_buf__free(&out);
	pg_buf__free(&again);
done:
	free(rec);
	free(ev);
	free(back);
	free(d);
	return 0;
}
