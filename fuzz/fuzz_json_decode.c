// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the NDJSON decoder (src/json_decode.c): replay input is untrusted.
 *
 * Any bytes: the decoder either fails with a column inside the line (or just past it) and a
 * printable message, or succeeds; then the round-trip invariant must hold: the canonical
 * encoding decodes to the same record, and encoding that gives the same bytes.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const struct pg_json_error *err, size_t len)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));

	assert(n > 0 && n < sizeof(err->msg));
	assert(err->column >= 1 && err->column <= len + 1);
	for (size_t i = 0; i < n; i++)
		assert((unsigned char)err->msg[i] >= 0x20 && (unsigned char)err->msg[i] < 0x7f);
}

static bool same_meta(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_json_decoder *d1 = malloc(sizeof(*d1)), *d2 = malloc(sizeof(*d2));
	/* an exact-size copy, so any read past the end is an ASan report */
	char *line = malloc(size ? size : 1);
	struct pg_event ev, back;
	struct pg_json_error err;
	struct pg_buf a = { 0 }, b = { 0 };

	memcpy(line, data, size);
	if (pg_json_decode(d1, line, size, &ev, &err)) {
		check_message(&err, size);
		goto out;
	}
	pg_json_encode(&ev, &a);
	assert(!a.err && !memchr(a.data, '\n', a.len));
	if (pg_json_decode(d2, a.data, a.len, &back, &err)) {
		fprintf(stderr, "canonical line does not decode: column %zu: %s\n%.*s\n", err.column,
			err.msg, (int)a.len, a.data);
		abort();
	}
	assert(ev.r.hdr.type == back.r.hdr.type);
	assert(!memcmp(&ev.r, &back.r, pg_event_record_size(ev.r.hdr.type)));
	assert(same_meta(ev.meta.node, back.meta.node));
	assert(same_meta(ev.meta.cgroup, back.meta.cgroup));
	assert(same_meta(ev.meta.container_id, back.meta.container_id));
	assert(same_meta(ev.meta.pod_uid, back.meta.pod_uid));
	assert(pg_pod_meta__equal(ev.meta.pod, back.meta.pod));
	pg_json_encode(&back, &b);
	assert(a.len == b.len && !memcmp(a.data, b.data, a.len));
out:
	pg_buf__free(&a);
	pg_buf__free(&b);
	free(line);
	free(d1);
	free(d2);
	return 0;
}
