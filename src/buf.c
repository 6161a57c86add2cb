// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "buf.h"

int pg_buf__grow(struct pg_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->err)
		return b->err;
	while (cap < b->len + n) {
		if (cap > (size_t)-1 / 2) {
			b->err = -ENOMEM;
			return b->err;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void pg_buf__u64(struct pg_buf *b, unsigned long long v)
{
	char tmp[20];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	pg_buf__put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void pg_buf__i64(struct pg_buf *b, long long v)
{
	if (v < 0) {
		pg_buf__putc(b, '-');
		/* negate in unsigned arithmetic: LLONG_MIN has no positive counterpart */
		pg_buf__u64(b, 0ULL - (unsigned long long)v);
		return;
	}
	pg_buf__u64(b, (unsigned long long)v);
}
