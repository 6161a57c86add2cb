/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Folded stacks, the format of Brendan Gregg's stackcollapse tools: one line per distinct
 * stack, frames root first separated by ';', a space, the count:
 *
 *     prof_target;main;alpha;beta;gamma 297
 *     stress-ng;[unknown];__x64_sys_getppid_[k] 3
 *
 * Kernel frames carry the "_[k]" suffix (flamegraph.pl's convention, which its palettes and
 * ours colour as kernel code); frames pangolin could not name are "[unknown]" or "[module]".
 */
#ifndef PANGOLIN_FOLDED_H
#define PANGOLIN_FOLDED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pg_folded_entry {
	char *stack; /* owned; frames root first, ';'-separated, no count */
	uint64_t count;
};

struct pg_folded {
	struct pg_folded_entry *v;
	size_t n, cap;
};

#define PG_KERNEL_SUFFIX "_[k]"

void pg_folded__init(struct pg_folded *f);
void pg_folded__destroy(struct pg_folded *f);

/* Append a copy of stack (len bytes) with count. 0 or -ENOMEM. */
int pg_folded__add(struct pg_folded *f, const char *stack, size_t len, uint64_t count);

/*
 * Sort by frames (a stack sorts right after its own prefix and before its siblings, so every
 * subtree is contiguous and children come in name order: the order flamegraph.pl draws) and
 * merge equal stacks by adding their counts.
 */
void pg_folded__merge(struct pg_folded *f);

/* Compare two stacks frame by frame (';' sorts before every other byte). */
int pg_folded_cmp(const char *a, const char *b);

/* Write one "stack count" line per entry. 0 or -EIO. */
int pg_folded__write(const struct pg_folded *f, FILE *out);

/*
 * Parse one line "frames count" (trailing '\n' optional) and append it. Blank lines are
 * ignored (0). -EINVAL with the reason in err for anything else malformed: no count, a count
 * that is not a decimal number or overflows, an empty stack or an empty frame.
 */
int pg_folded__parse_line(struct pg_folded *f, const char *line, size_t len, char *err,
			  size_t errlen);

/* Sum of counts. */
uint64_t pg_folded__total(const struct pg_folded *f);

#endif /* PANGOLIN_FOLDED_H */
