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

/* Two digits per step from a table: the encoder writes ~10 integers per event, and the
 * one-digit loop was a tenth of replay's instructions (callgrind, bench/README.md). */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
				     "25262728293031323334353637383940414243444546474849"
				     "50515253545556575859606162636465666768697071727374"
				     "75767778798081828384858687888990919293949596979899";

void pg_buf__u64(struct pg_buf *b, unsigned long long v)
{
	char tmp[20];
	char *p = tmp + sizeof(tmp);

	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	pg_buf__put(b, p, (size_t)(tmp + sizeof(tmp) - p));
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
