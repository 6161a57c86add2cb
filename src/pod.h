/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pods: the Kubernetes metadata events carry (struct pg_pod_meta in event.h) and the cache
 * that holds it for the pods of this node, keyed by pod UID.
 *
 * The cache has two sides. Any thread may write (the API watcher, src/kube_watch.c): puts,
 * deletes and resyncs go into a mailbox under a mutex held for one list append. One thread
 * reads (the pipeline's, through the enrich stage): it owns the map, applies the mailbox when
 * it can take the mutex without waiting (pthread_mutex_trylock: never blocks the event path;
 * a busy mailbox is applied on a later event) and looks pods up with no lock at all. A pod
 * that is deleted stays findable for a grace period, so the events of its last processes
 * (exits, the kubelet's clean-up) still carry its names.
 */
#ifndef PANGOLIN_POD_H
#define PANGOLIN_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define PG_POD_NAME_MAX 253 /* namespace, pod, workload names: DNS subdomains at most */
#define PG_POD_KIND_MAX 63

/* What a pod's metadata is made of, before packing; labels in any order. */
struct pg_pod_fields {
	const char *namespace;
	const char *name;
	const char *workload_kind; /* NULL: none */
	const char *workload;
	const struct pg_label *labels;
	size_t nlabels;
	bool labels_truncated; /* the source already left labels out */
};

/*
 * One allocation holding the metadata and its strings, labels sorted by key and bounded as
 * event.h says (labels_truncated set when some were left out). NULL with errno ENOMEM, or
 * EINVAL when namespace or name is missing or empty, a string is longer than PG_POD_NAME_MAX
 * (PG_POD_KIND_MAX for the kind), or only one of workload_kind and workload is given.
 * free() it.
 */
struct pg_pod_meta *pg_pod_meta__pack(const struct pg_pod_fields *f);
/* A packed copy of m (for sinks that keep events). NULL with errno set. free() it. */
struct pg_pod_meta *pg_pod_meta__dup(const struct pg_pod_meta *m);

/* Same namespace, name, workload, labels and labels_truncated (both NULL: equal too). */
bool pg_pod_meta__equal(const struct pg_pod_meta *a, const struct pg_pod_meta *b);

/* --- the cache ------------------------------------------------------------------------------ */

struct pg_pod_cache;

struct pg_pod_cache_opts {
	uint64_t grace_ns; /* how long a deleted pod stays findable; 0: PG_POD_GRACE_DEFAULT_NS */
	size_t max_pending; /* mailbox bound (writers wait above it); 0: PG_POD_PENDING_DEFAULT */
};

#define PG_POD_GRACE_DEFAULT_NS (30ULL * 1000000000ULL)
#define PG_POD_PENDING_DEFAULT 65536

struct pg_pod_cache_stats {
	uint64_t pods; /* entries in the map, deleted ones in their grace period included */
	uint64_t hits, misses; /* lookups that found a pod / found none */
	uint64_t puts, deletes, resyncs; /* mailbox messages applied */
	uint64_t expired; /* deleted pods that left after their grace period */
	uint64_t pending; /* messages waiting in the mailbox */
};

/* NULL with errno set. */
struct pg_pod_cache *pg_pod_cache__new(const struct pg_pod_cache_opts *o);
/* Frees everything, pending messages too. No writer may be running. */
void pg_pod_cache__free(struct pg_pod_cache *c);

/*
 * Writers. put takes uid (a pod UID: 36 characters, or 32 for a static pod's hash) and a
 * packed meta (pg_pod_meta__pack) whose ownership passes to the cache, even on failure.
 * gen is the writer's list generation (see resync). Each returns 0, -EINVAL (bad uid),
 * -ENOMEM, or -ECANCELED when *stop became true while waiting for room in the mailbox.
 */
int pg_pod_cache__put(struct pg_pod_cache *c, const char *uid, struct pg_pod_meta *meta,
		      uint64_t gen, const volatile bool *stop);
int pg_pod_cache__delete(struct pg_pod_cache *c, const char *uid, const volatile bool *stop);
/*
 * After a full list: every pod not put with generation gen or later is treated as deleted
 * (it disappeared while nobody was watching).
 */
int pg_pod_cache__resync(struct pg_pod_cache *c, uint64_t gen, const volatile bool *stop);

/*
 * The reader (one thread). Applies what waits in the mailbox if the mutex is free, drops the
 * deleted pods whose grace period is over, then finds uid. now_ns is CLOCK_MONOTONIC. The
 * result stays valid until the next call of lookup or apply on this cache.
 */
const struct pg_pod_meta *pg_pod_cache__lookup(struct pg_pod_cache *c, const char *uid,
					       uint64_t now_ns);
/* Apply the mailbox and expire, without a lookup (reader thread only). */
void pg_pod_cache__apply(struct pg_pod_cache *c, uint64_t now_ns);
/* Counters; safe from any thread (pods and lookups are the reader's, read without a lock). */
void pg_pod_cache__stats(struct pg_pod_cache *c, struct pg_pod_cache_stats *st);

#endif /* PANGOLIN_POD_H */
