// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pod cache (pod.h): a map from pod UID to metadata owned by the reader (the pipeline
 * thread), fed through a mailbox by the writer (the API watcher). Only the mailbox is shared;
 * the reader takes it with trylock, so an event never waits for the watcher.
 *
 * Deleted pods are kept for a grace period in a FIFO (deletion order is expiry order, since the
 * grace is one constant), so expiring costs nothing per event while nothing is due.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich.h"
#include "pod.h"

enum msg_op { MSG_PUT, MSG_DELETE, MSG_RESYNC };

struct msg {
	struct msg *next;
	enum msg_op op;
	uint64_t gen;
	struct pg_pod_meta *meta;
	char uid[PG_POD_UID_LEN];
};

struct entry {
	struct entry *next; /* hash chain */
	struct entry *qnext; /* deleted FIFO */
	struct pg_pod_meta *meta;
	uint64_t gen;
	uint64_t deleted_ns; /* 0: alive */
	bool queued;
	char uid[PG_POD_UID_LEN];
};

struct pg_pod_cache {
	/* shared: the mailbox */
	pthread_mutex_t mu;
	pthread_cond_t room;
	struct msg *head, *tail;
	size_t pending, max_pending;

	/* the reader's */
	struct entry **buckets;
	size_t nbuckets, count;
	struct entry *dq_head, *dq_tail;
	uint64_t grace_ns;
	struct pg_pod_cache_stats st; /* written by the reader only (pending: under mu) */
};

#define STAT_INC(c, f) __atomic_store_n(&(c)->st.f, (c)->st.f + 1, __ATOMIC_RELAXED)

static uint64_t hash_uid(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* A UID as the kubelet writes it into cgroup paths: 36 characters of a UUID or 32 hex digits. */
static bool uid_ok(const char *uid)
{
	size_t n = strnlen(uid, PG_POD_UID_LEN);

	if (n != 36 && n != 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = uid[i];

		if (n == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (ch != '-')
				return false;
		} else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
			return false;
		}
	}
	return true;
}

struct pg_pod_cache *pg_pod_cache__new(const struct pg_pod_cache_opts *o)
{
	struct pg_pod_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nbuckets = 1024;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->room, NULL);
	c->grace_ns = o && o->grace_ns ? o->grace_ns : PG_POD_GRACE_DEFAULT_NS;
	c->max_pending = o && o->max_pending ? o->max_pending : PG_POD_PENDING_DEFAULT;
	return c;
}

void pg_pod_cache__free(struct pg_pod_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i], *n;

		for (; e; e = n) {
			n = e->next;
			free(e->meta);
			free(e);
		}
	}
	for (struct msg *m = c->head, *n; m; m = n) {
		n = m->next;
		free(m->meta);
		free(m);
	}
	free(c->buckets);
	pthread_cond_destroy(&c->room);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* --- writers -------------------------------------------------------------------------------- */

static int post(struct pg_pod_cache *c, struct msg *m, const volatile bool *stop)
{
	pthread_mutex_lock(&c->mu);
	/* bounded: when the reader sees no events for a long time, the watcher waits for it
	 * rather than growing the mailbox without limit */
	while (c->pending >= c->max_pending) {
		struct timespec ts;

		if (stop && *stop) {
			pthread_mutex_unlock(&c->mu);
			free(m->meta);
			free(m);
			return -ECANCELED;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->room, &c->mu, &ts);
	}
	if (c->tail)
		c->tail->next = m;
	else
		__atomic_store_n(&c->head, m, __ATOMIC_RELAXED); /* the reader peeks at it */
	c->tail = m;
	c->pending++;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static struct msg *msg_new(enum msg_op op, const char *uid, struct pg_pod_meta *meta,
			   uint64_t gen)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->op = op;
	m->gen = gen;
	m->meta = meta;
	if (uid)
		strcpy(m->uid, uid);
	return m;
}

int pg_pod_cache__put(struct pg_pod_cache *c, const char *uid, struct pg_pod_meta *meta,
		      uint64_t gen, const volatile bool *stop)
{
	struct msg *m;

	if (!uid_ok(uid)) {
		free(meta);
		return -EINVAL;
	}
	m = msg_new(MSG_PUT, uid, meta, gen);
	if (!m) {
		free(meta);
		return -ENOMEM;
	}
	return post(c, m, stop);
}

int pg_pod_cache__delete(struct pg_pod_cache *c, const char *uid, const volatile bool *stop)
{
	struct msg *m;

	if (!uid_ok(uid))
		return -EINVAL;
	m = msg_new(MSG_DELETE, uid, NULL, 0);
	return m ? post(c, m, stop) : -ENOMEM;
}

int pg_pod_cache__resync(struct pg_pod_cache *c, uint64_t gen, const volatile bool *stop)
{
	struct msg *m = msg_new(MSG_RESYNC, NULL, NULL, gen);

	return m ? post(c, m, stop) : -ENOMEM;
}

/* --- the reader ----------------------------------------------------------------------------- */

static struct entry **slot(struct pg_pod_cache *c, const char *uid)
{
	struct entry **pp = &c->buckets[hash_uid(uid) & (c->nbuckets - 1)];

	while (*pp && strcmp((*pp)->uid, uid))
		pp = &(*pp)->next;
	return pp;
}

static void grow(struct pg_pod_cache *c)
{
	size_t n = c->nbuckets * 2;
	struct entry **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i], *next;

		for (; e; e = next) {
			size_t b = hash_uid(e->uid) & (n - 1);

			next = e->next;
			e->next = nb[b];
			nb[b] = e;
		}
	}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

static void mark_deleted(struct pg_pod_cache *c, struct entry *e, uint64_t now_ns)
{
	if (e->deleted_ns)
		return;
	e->deleted_ns = now_ns ? now_ns : 1;
	if (e->queued)
		return; /* revived and deleted again before its old turn came: that turn will do */
	e->queued = true;
	e->qnext = NULL;
	if (c->dq_tail)
		c->dq_tail->qnext = e;
	else
		c->dq_head = e;
	c->dq_tail = e;
}

static void apply_put(struct pg_pod_cache *c, struct msg *m)
{
	struct entry **pp = slot(c, m->uid), *e = *pp;

	STAT_INC(c, puts);
	if (e) {
		free(e->meta);
		e->meta = m->meta;
		e->gen = m->gen;
		e->deleted_ns = 0; /* still queued, perhaps: the queue skips it */
		m->meta = NULL;
		return;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return; /* the pod stays unknown: its events lack names, nothing else breaks */
	strcpy(e->uid, m->uid);
	e->meta = m->meta;
	e->gen = m->gen;
	m->meta = NULL;
	*pp = e;
	c->count++;
	if (c->count > c->nbuckets)
		grow(c);
}

static void apply_resync(struct pg_pod_cache *c, uint64_t gen, uint64_t now_ns)
{
	STAT_INC(c, resyncs);
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct entry *e = c->buckets[i]; e; e = e->next)
			if (e->gen < gen)
				mark_deleted(c, e, now_ns);
}

static void expire(struct pg_pod_cache *c, uint64_t now_ns)
{
	while (c->dq_head) {
		struct entry *e = c->dq_head, **pp;

		if (e->deleted_ns && now_ns - e->deleted_ns < c->grace_ns)
			break;
		c->dq_head = e->qnext;
		if (!c->dq_head)
			c->dq_tail = NULL;
		e->queued = false;
		if (!e->deleted_ns)
			continue; /* put again after its deletion: alive */
		pp = slot(c, e->uid);
		*pp = e->next;
		c->count--;
		free(e->meta);
		free(e);
		STAT_INC(c, expired);
	}
}

void pg_pod_cache__apply(struct pg_pod_cache *c, uint64_t now_ns)
{
	struct msg *m, *next;

	/* a racy peek first: with an empty mailbox, not even trylock's atomic costs anything */
	if (__atomic_load_n(&c->head, __ATOMIC_RELAXED) && !pthread_mutex_trylock(&c->mu)) {
		m = c->head;
		__atomic_store_n(&c->head, NULL, __ATOMIC_RELAXED);
		c->tail = NULL;
		c->pending = 0;
		pthread_cond_broadcast(&c->room);
		pthread_mutex_unlock(&c->mu);
		for (; m; m = next) {
			next = m->next;
			switch (m->op) {
			case MSG_PUT:
				apply_put(c, m);
				break;
			case MSG_DELETE: {
				struct entry *e = *slot(c, m->uid);

				STAT_INC(c, deletes);
				if (e)
					mark_deleted(c, e, now_ns);
				break;
			}
			case MSG_RESYNC:
				apply_resync(c, m->gen, now_ns);
				break;
			}
			free(m->meta);
			free(m);
		}
		__atomic_store_n(&c->st.pods, c->count, __ATOMIC_RELAXED);
	}
	if (c->dq_head) {
		expire(c, now_ns);
		__atomic_store_n(&c->st.pods, c->count, __ATOMIC_RELAXED);
	}
}

const struct pg_pod_meta *pg_pod_cache__lookup(struct pg_pod_cache *c, const char *uid,
					       uint64_t now_ns)
{
	struct entry *e;

	pg_pod_cache__apply(c, now_ns);
	e = *slot(c, uid);
	if (!e) {
		STAT_INC(c, misses);
		return NULL;
	}
	STAT_INC(c, hits);
	return e->meta;
}

void pg_pod_cache__stats(struct pg_pod_cache *c, struct pg_pod_cache_stats *st)
{
	st->pods = __atomic_load_n(&c->st.pods, __ATOMIC_RELAXED);
	st->hits = __atomic_load_n(&c->st.hits, __ATOMIC_RELAXED);
	st->misses = __atomic_load_n(&c->st.misses, __ATOMIC_RELAXED);
	st->puts = __atomic_load_n(&c->st.puts, __ATOMIC_RELAXED);
	st->deletes = __atomic_load_n(&c->st.deletes, __ATOMIC_RELAXED);
	st->resyncs = __atomic_load_n(&c->st.resyncs, __ATOMIC_RELAXED);
	st->expired = __atomic_load_n(&c->st.expired, __ATOMIC_RELAXED);
	pthread_mutex_lock(&c->mu);
	st->pending = c->pending;
	pthread_mutex_unlock(&c->mu);
}
