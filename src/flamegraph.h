/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Flame graphs rendered by pangolin itself: an SVG that opens in any browser, laid out the
 * way Brendan Gregg's flamegraph.pl does it (the x axis is the sample population sorted by
 * frame name, not time; the widest frames are where the CPU went). Every frame has a <title>
 * (shown on hover) with its samples and share; a small script zooms on click, resets, and
 * searches by regular expression. Colours say what a frame is: warm for user code, orange
 * for the kernel, grey for frames that could not be named, blue for the process (comm).
 */
#ifndef PANGOLIN_FLAMEGRAPH_H
#define PANGOLIN_FLAMEGRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "folded.h"

enum pg_frame_kind {
	PG_FRAME_USER = 0,
	PG_FRAME_KERNEL = 1,
	PG_FRAME_UNKNOWN = 2, /* "[unknown]", "[module]", "[lost ...]" */
	PG_FRAME_PROCESS = 3, /* the root "all" and the comm frames below every stack */
};

/* What a frame name in a folded stack is (depth 0 is "all", depth 1 the comm). */
enum pg_frame_kind pg_frame_kind_of(const char *name, size_t len, unsigned int depth);

/* One box of the graph, in samples: it spans [start, start + value) at this depth. */
struct pg_flame_frame {
	const char *name; /* borrowed from the folded stacks (or a literal for the root) */
	size_t len; /* bytes of name (frames are not NUL-terminated) */
	unsigned int depth; /* 0 = the root "all" */
	enum pg_frame_kind kind;
	uint64_t start;
	uint64_t value;
};

/*
 * Lay out merged (pg_folded__merge) stacks: *out gets every frame, the root first, then in
 * the order they close; the caller frees *out. Frames with equal names under the same parent
 * are one box; siblings sit left to right in name order. 0 or -ENOMEM.
 */
int pg_flame__layout(const struct pg_folded *f, struct pg_flame_frame **out, size_t *n);

struct pg_flame_opts {
	const char *title; /* default "Flame Graph" */
	const char *subtitle; /* NULL: none */
	const char *unit; /* what a count is: "samples" by default */
	unsigned int width; /* pixels, default 1200 */
};

/* Write the SVG of merged stacks f. 0 or -errno (-EIO on a write error). */
int pg_flamegraph__write(const struct pg_folded *f, const struct pg_flame_opts *o, FILE *out);

#endif /* PANGOLIN_FLAMEGRAPH_H */
