// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the replay source (src/source_replay.c): a recording split into lines
 * (LF, CRLF, blank lines, long lines, no final newline, a byte order mark) through a real file
 * descriptor.
 *
 * With skip_bad every line that is not blank is either an event or a counted skip: the sum is
 * checked against an independent count of the lines (a line over the limit is a counted skip,
 * blank or not). The first byte picks the line limit, so
 * the over-long-line paths run with small inputs.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(void *ctx, struct pg_event *ev)
{
	struct pg_buf *b = ctx;

	b->len = 0;
	pg_json_encode(ev, b); /* every delivered event encodes */
	return 0;
}

static bool blank(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_replay_opts o = { .path = "fuzz", .skip_bad = true };
	struct pg_source_stats st;
	struct pg_source *src;
	struct pg_buf b = { 0 };
	uint64_t lines = 0;
	size_t start = 0;
	int fd, rc;

	if (!size)
		return 0;
	o.max_line = data[0] < 128 ? 16 + data[0] : 0; /* 16..143 bytes, or the default */
	data++;
	size--;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			/* a final line without a newline is a line; nothing after a final newline is not */
			size_t len = i - start, from = start;

			/* what the line holds: without its "\r", and without the byte order mark
			 * that may start the input */
			if (len && data[i - 1] == '\r')
				len--;
			if (!start && len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
				from += 3;
				len -= 3;
			}
			/* over the limit is a counted skip even when blank */
			if ((i < size || i > start) &&
			    ((o.max_line && len > o.max_line) || !blank(data + from, len)))
				lines++;
			start = i + 1;
		}
	}
	fd = memfd_create("fuzz_replay", MFD_CLOEXEC);
	assert(fd >= 0);
	assert(write(fd, data, size) == (ssize_t)size);
	assert(lseek(fd, 0, SEEK_SET) == 0);
	o.fd = fd;
	src = pg_source_replay__new(&o);
	assert(src);
	do
		rc = pg_source__poll(src, -1, on_event, &b);
	while (rc >= 0);
	assert(rc == PG_SOURCE_EOF);
	pg_source__stats(src, &st);
	if (st.read + st.skipped != lines) {
		fprintf(stderr, "%llu lines, %llu read + %llu skipped\n", (unsigned long long)lines,
			(unsigned long long)st.read, (unsigned long long)st.skipped);
		abort();
	}
	pg_source__free(src);
	pg_buf__free(&b);
	close(fd);
	return 0;
}
