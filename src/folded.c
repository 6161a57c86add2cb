// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Folded stacks: building, sorting and merging, reading and writing. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"

void pg_folded__init(struct pg_folded *f)
{
	memset(f, 0, sizeof(*f));
}

void pg_folded__destroy(struct pg_folded *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].stack);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int pg_folded__add(struct pg_folded *f, const char *stack, size_t len, uint64_t count)
{
	char *s;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct pg_folded_entry *v = realloc(f->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	s = strndup(stack, len);
	if (!s)
		return -ENOMEM;
	f->v[f->n].stack = s;
	f->v[f->n].count = count;
	f->n++;
	return 0;
}

/* ';' ranks below every byte but the end of the string: prefix < prefix;child < prefixX. */
static inline unsigned int rank(unsigned char c)
{
	return c == 0 ? 0 : c == ';' ? 1 : (unsigned int)c + 1;
}

int pg_folded_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return (int)rank(*x) - (int)rank(*y);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pg_folded_entry *x = a, *y = b;

	return pg_folded_cmp(x->stack, y->stack);
}

void pg_folded__merge(struct pg_folded *f)
{
	size_t out = 0;

	if (f->n < 2)
		return;
	qsort(f->v, f->n, sizeof(f->v[0]), entry_cmp);
	for (size_t i = 1; i < f->n; i++) {
		if (!strcmp(f->v[out].stack, f->v[i].stack)) {
			f->v[out].count += f->v[i].count;
			free(f->v[i].stack);
		} else {
			f->v[++out] = f->v[i];
		}
	}
	f->n = out + 1;
}

int pg_folded__write(const struct pg_folded *f, FILE *out)
{
	for (size_t i = 0; i < f->n; i++)
		if (fprintf(out, "%s %llu\n", f->v[i].stack, (unsigned long long)f->v[i].count) < 0)
			return -EIO;
	return 0;
}

int pg_folded__parse_line(struct pg_folded *f, const char *line, size_t len, char *err,
			  size_t errlen)
{
	size_t end = len, sp;
	uint64_t count = 0;

	while (end && (line[end - 1] == '\n' || line[end - 1] == '\r'))
		end--;
	if (!end)
		return 0;
	for (sp = end; sp && line[sp - 1] != ' '; sp--)
		;
	if (!sp) {
		snprintf(err, errlen, "no count: a line is 'frame;frame;... COUNT'");
		return -EINVAL;
	}
	if (sp == end) {
		snprintf(err, errlen, "empty count after the last space");
		return -EINVAL;
	}
	for (size_t i = sp; i < end; i++) {
		unsigned int d = (unsigned char)line[i] - '0';

		if (d > 9) {
			snprintf(err, errlen, "count '%.*s' is not a decimal number", (int)(end - sp),
				 line + sp);
			return -EINVAL;
		}
		if (count > (UINT64_MAX - d) / 10) {
			snprintf(err, errlen, "count overflows 64 bits");
			return -EINVAL;
		}
		count = count * 10 + d;
	}
	sp--; /* the space */
	if (!sp) {
		snprintf(err, errlen, "empty stack before the count");
		return -EINVAL;
	}
	if (memchr(line, '\0', sp)) {
		snprintf(err, errlen, "NUL byte in the stack");
		return -EINVAL;
	}
	for (size_t i = 0; i < sp; i++) {
		if (line[i] == ';' && (i == 0 || i + 1 == sp || line[i + 1] == ';')) {
			snprintf(err, errlen, "empty frame at byte %zu", i + 1);
			return -EINVAL;
		}
	}
	return pg_folded__add(f, line, sp, count) ? -ENOMEM : 0;
}

uint64_t pg_folded__total(const struct pg_folded *f)
{
	uint64_t t = 0;

	for (size_t i = 0; i < f->n; i++)
		t += f->v[i].count;
	return t;
}
