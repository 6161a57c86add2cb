// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reader of a BPF ring buffer, in batches: ring.h says why. */
#include "ring.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

int pg_ring__open(struct pg_ring *r, int map_fd, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int rc;

	memset(r, 0, sizeof(*r));
	r->epfd = -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &ilen)) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the ring buffer's size: %s", strerror(errno));
		return rc;
	}
	if (info.type != BPF_MAP_TYPE_RINGBUF || page <= 0) {
		snprintf(err, errlen, "not a ring buffer (map type %u)", info.type);
		return -EINVAL;
	}
	r->page = (size_t)page;
	r->mask = (size_t)info.max_entries - 1;
	/* the consumer position, ours to write; then, read-only, the producer position and the
	 * data twice in a row, so that a record crossing the end reads as one piece */
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto map_failed;
	r->consumer_pos = p;
	r->prod_len = r->page + 2 * (size_t)info.max_entries;
	p = mmap(NULL, r->prod_len, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (p == MAP_FAILED)
		goto map_failed;
	r->producer_pos = p;
	r->data = (const unsigned char *)p + r->page;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev)) {
		rc = -errno;
		snprintf(err, errlen, "cannot watch the ring buffer: %s", strerror(errno));
		pg_ring__close(r);
		return rc;
	}
	return 0;
map_failed:
	rc = -errno;
	snprintf(err, errlen, "cannot map the ring buffer: %s", strerror(errno));
	pg_ring__close(r);
	return rc;
}

int pg_ring__wait(struct pg_ring *r, int timeout_ms)
{
	struct epoll_event ev;
	int n = epoll_wait(r->epfd, &ev, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n > 0;
}

int pg_ring__pending(const struct pg_ring *r)
{
	return __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
}

#define RECORD_FLAGS ((uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT))

long pg_ring__consume(struct pg_ring *r, pg_ring_fn fn, void *ctx)
{
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	unsigned long published = cons;
	size_t quarter = (r->mask + 1) / 4;
	long n = 0;
	int rc = 0;

	while (cons < prod) {
		const uint32_t *hdr = (const uint32_t *)(r->data + (cons & r->mask));
		uint32_t word = __atomic_load_n(hdr, __ATOMIC_ACQUIRE), len = word & ~RECORD_FLAGS;

		if (word & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved and not committed yet: the next pass takes it */
		cons += ((size_t)len + BPF_RINGBUF_HDR_SZ + 7) & ~(size_t)7;
		if (!(word & BPF_RINGBUF_DISCARD_BIT)) {
			rc = fn(ctx, (void *)(hdr + 2), len);
			if (rc < 0)
				break;
			n++;
		}
		/* a long pass gives the space back as it goes, so the kernel does not drop */
		if (cons - published >= quarter) {
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
			published = cons;
		}
	}
	if (cons != published)
		__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	return rc < 0 ? rc : n;
}

void pg_ring__close(struct pg_ring *r)
{
	if (!r->consumer_pos)
		return; /* never opened (zeroed), or nothing else was made */
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->producer_pos)
		munmap((void *)r->producer_pos, r->prod_len);
	munmap(r->consumer_pos, r->page);
	r->epfd = -1;
	r->producer_pos = NULL;
	r->consumer_pos = NULL;
}
