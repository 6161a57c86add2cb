/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The reader of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF), in batches.
 *
 * libbpf's reader publishes its position to the kernel after every record and, while records
 * keep coming, goes on reading at the producer's heels. Both move cache lines between the
 * traced task's CPU and the reader's on every event: each reserve in the kernel reads the
 * consumer position the reader has just written, and the producer position the reader has
 * just read. This reader takes what was in the ring when a pass began, publishes its position
 * once at the end (or each quarter ring), and sleeps until the kernel wakes it or its timer
 * is due: the lines cross once per batch (bench/README.md, "The ring's reader").
 */
#ifndef PANGOLIN_RING_H
#define PANGOLIN_RING_H

#include <stddef.h>

/* Return 0 to go on; a negative value stops the pass and is returned by pg_ring__consume. */
typedef int (*pg_ring_fn)(void *ctx, void *data, size_t size);

struct pg_ring {
	int epfd;
	size_t page, mask; /* mask: data bytes - 1 */
	unsigned long *consumer_pos; /* ours to write: a page of its own, mapped read-write */
	const unsigned long *producer_pos; /* then, read-only, this page and the data twice */
	const unsigned char *data;
	size_t prod_len; /* bytes mapped from producer_pos on */
};

/* Map the ring of map_fd and watch it. 0, or -errno with err set. */
int pg_ring__open(struct pg_ring *r, int map_fd, char *err, size_t errlen);

/*
 * Sleep until the kernel wakes the reader (a submit with BPF_RB_FORCE_WAKEUP, or the default
 * wakeup) or timeout_ms passes (-1: no limit, 0: do not sleep). Edge-triggered: records
 * already waiting do not end the sleep; the caller's timer is what fetches those. 1 woken,
 * 0 timed out, -errno.
 */
int pg_ring__wait(struct pg_ring *r, int timeout_ms);

/*
 * Hand every record committed when the pass began to fn, in order; discarded ones are
 * skipped. Returns how many were handed over, or fn's negative value (the position then
 * stands after the record fn refused).
 */
long pg_ring__consume(struct pg_ring *r, pg_ring_fn fn, void *ctx);

/* Are there records (committed or still being written) that no pass has taken yet? */
int pg_ring__pending(const struct pg_ring *r);

void pg_ring__close(struct pg_ring *r);

#endif
