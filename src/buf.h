/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A growable byte buffer for encoders. Appends never fail silently: on ENOMEM the buffer
 * remembers it (err) and later appends are no-ops, so callers check once at the end. */
#ifndef PANGOLIN_BUF_H
#define PANGOLIN_BUF_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pg_buf {
	char *data;
	size_t len;
	size_t cap;
	int err; /* 0 or -ENOMEM, sticky */
};

static inline void pg_buf__free(struct pg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

/* Make room for n more bytes. 0 or -ENOMEM. */
int pg_buf__grow(struct pg_buf *b, size_t n);

static inline int pg_buf__reserve(struct pg_buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return 0;
	return pg_buf__grow(b, n);
}

static inline void pg_buf__put(struct pg_buf *b, const void *p, size_t n)
{
	if (pg_buf__reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void pg_buf__putc(struct pg_buf *b, char c)
{
	if (pg_buf__reserve(b, 1))
		return;
	b->data[b->len++] = c;
}

/* Append a string literal without strlen at run time. */
#define pg_buf__lit(b, s) pg_buf__put((b), (s), sizeof(s) - 1)

static inline void pg_buf__puts(struct pg_buf *b, const char *s)
{
	pg_buf__put(b, s, strlen(s));
}

/* Decimal integers. */
void pg_buf__u64(struct pg_buf *b, unsigned long long v);
void pg_buf__i64(struct pg_buf *b, long long v);

#endif /* PANGOLIN_BUF_H */
