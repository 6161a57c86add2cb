// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fixed-capacity LRU cache of cgroup id -> (path, pod, container). A node runs a few
 * hundred containers, each a handful of cgroups, but ids are never reused, so without a bound
 * the table would grow with every container ever started. Entries live in one array allocated
 * up front; a chained hash over array indices finds them and a doubly linked list over the
 * same indices orders them by use. Memory: capacity * (sizeof(entry) + the path's length).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"

#define NIL UINT32_MAX

struct entry {
	struct pg_cgroup_info info;
	uint32_t hnext; /* next entry in the same bucket */
	uint32_t prev, next; /* LRU list: head is the most recently used */
};

struct pg_cgroup_cache {
	struct entry *e;
	uint32_t *bucket;
	uint32_t nbuckets; /* power of two */
	uint32_t cap, used;
	uint32_t head, tail;
	struct pg_cgroup_cache_stats st;
};

static uint32_t hash(uint64_t id, uint32_t nbuckets)
{
	/* ids are sequential: multiply to spread them (Fibonacci hashing) */
	return (uint32_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (nbuckets - 1);
}

struct pg_cgroup_cache *pg_cgroup_cache__new(size_t capacity)
{
	struct pg_cgroup_cache *c;

	if (capacity == 0 || capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cap = (uint32_t)capacity;
	c->nbuckets = 1;
	while (c->nbuckets < c->cap * 2)
		c->nbuckets <<= 1;
	c->e = calloc(c->cap, sizeof(*c->e));
	c->bucket = malloc(c->nbuckets * sizeof(*c->bucket));
	if (!c->e || !c->bucket) {
		pg_cgroup_cache__free(c);
		errno = ENOMEM;
		return NULL;
	}
	memset(c->bucket, 0xff, c->nbuckets * sizeof(*c->bucket));
	c->head = c->tail = NIL;
	c->st.capacity = capacity;
	return c;
}

void pg_cgroup_cache__free(struct pg_cgroup_cache *c)
{
	if (!c)
		return;
	if (c->e)
		for (uint32_t i = 0; i < c->used; i++)
			free(c->e[i].info.path);
	free(c->e);
	free(c->bucket);
	free(c);
}

static void lru_unlink(struct pg_cgroup_cache *c, uint32_t i)
{
	struct entry *x = &c->e[i];

	if (x->prev != NIL)
		c->e[x->prev].next = x->next;
	else
		c->head = x->next;
	if (x->next != NIL)
		c->e[x->next].prev = x->prev;
	else
		c->tail = x->prev;
}

static void lru_push_front(struct pg_cgroup_cache *c, uint32_t i)
{
	struct entry *x = &c->e[i];

	x->prev = NIL;
	x->next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static uint32_t find(const struct pg_cgroup_cache *c, uint64_t id)
{
	for (uint32_t i = c->bucket[hash(id, c->nbuckets)]; i != NIL; i = c->e[i].hnext)
		if (c->e[i].info.id == id)
			return i;
	return NIL;
}

static void hash_remove(struct pg_cgroup_cache *c, uint32_t i)
{
	uint32_t *pp = &c->bucket[hash(c->e[i].info.id, c->nbuckets)];

	while (*pp != NIL && *pp != i)
		pp = &c->e[*pp].hnext;
	if (*pp == i)
		*pp = c->e[i].hnext;
}

const struct pg_cgroup_info *pg_cgroup_cache__get(struct pg_cgroup_cache *c, uint64_t id)
{
	uint32_t i = find(c, id);

	if (i == NIL) {
		c->st.misses++;
		return NULL;
	}
	c->st.hits++;
	if (c->head != i) {
		lru_unlink(c, i);
		lru_push_front(c, i);
	}
	return &c->e[i].info;
}

const struct pg_cgroup_info *pg_cgroup_cache__put(struct pg_cgroup_cache *c, uint64_t id,
						  const char *path, const struct pg_cgroup_ids *ids,
						  uint64_t expires_ns)
{
	char *copy = NULL;
	bool fresh = true;
	uint32_t i;

	if (path) {
		copy = strdup(path);
		if (!copy)
			return NULL;
	}
	i = find(c, id);
	if (i != NIL) {
		lru_unlink(c, i);
		fresh = false;
	} else if (c->used < c->cap) {
		i = c->used++;
	} else {
		/* full: the least recently used entry gives up its slot */
		i = c->tail;
		lru_unlink(c, i);
		hash_remove(c, i);
		c->st.evictions++;
	}
	if (fresh) {
		uint32_t b = hash(id, c->nbuckets);

		c->e[i].hnext = c->bucket[b];
		c->bucket[b] = i;
	}
	free(c->e[i].info.path);
	c->e[i].info.id = id;
	c->e[i].info.path = copy;
	c->e[i].info.expires_ns = expires_ns;
	if (ids)
		c->e[i].info.ids = *ids;
	else
		memset(&c->e[i].info.ids, 0, sizeof(c->e[i].info.ids));
	lru_push_front(c, i);
	return &c->e[i].info;
}

void pg_cgroup_cache__stats(const struct pg_cgroup_cache *c, struct pg_cgroup_cache_stats *st)
{
	*st = c->st;
	st->entries = c->used;
}
