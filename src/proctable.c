// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process table (proctable.h). One hash table keyed by pid (a chain holds the processes
 * that had that pid: a reused pid is a second entry with another start_ns), two intrusive
 * lists: every entry by when it was last seen, and the exited ones by when they exited.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "proctable.h"

/* A shared, reference-counted string: a program or command line many processes carry. */
struct rstr {
	uint32_t ref;
	uint32_t len;
	char s[];
};

struct proc {
	struct proc *hnext; /* hash chain */
	struct proc *lru_prev, *lru_next; /* every entry, oldest first: the clock's ring */
	struct proc *dead_prev, *dead_next; /* exited entries, earliest exit first */
	uint64_t start_ns;
	uint64_t exit_ts; /* event time of the exit; valid when exited */
	uint32_t pid;
	uint32_t ppid;
	bool exited;
	bool seen; /* an event since the clock hand last passed (second chance) */
	bool complete; /* the lineage is final: copied from a parent whose own lineage was */
	uint8_t nanc;
	uint8_t link_tries; /* links that left the lineage incomplete: the next waits longer */
	uint64_t link_after; /* event time before which linking is not tried again */
	struct rstr *exe, *cmdline, *pcmdline;
	struct rstr *anc[PG_PROC_ANCESTORS]; /* anc[0]: the parent's exe */
	struct pg_proc_memo memo; /* the fields as an encoder wrote them (event.h) */
};

struct list {
	struct proc *head, *tail;
};

struct pg_proctable {
	struct proc **buckets;
	size_t nbuckets; /* a power of two */
	size_t max;
	uint64_t grace_ns;
	uint64_t now; /* the latest event time seen */
	struct list lru, dead;
	struct pg_proctable_stats st;
};

/* --- strings ---------------------------------------------------------------------------------- */

static struct rstr *rstr_new(const char *s, size_t len)
{
	struct rstr *r = malloc(sizeof(*r) + len + 1);

	if (!r)
		return NULL;
	r->ref = 1;
	r->len = (uint32_t)len;
	memcpy(r->s, s, len);
	r->s[len] = 0;
	return r;
}

static struct rstr *rstr_get(struct rstr *r)
{
	if (r)
		r->ref++;
	return r;
}

static void rstr_put(struct rstr *r)
{
	if (r && !--r->ref)
		free(r);
}

/* Replace *slot with r (a new reference the slot takes over). */
static void rstr_set(struct rstr **slot, struct rstr *r)
{
	rstr_put(*slot);
	*slot = r;
}

/* --- lists ------------------------------------------------------------------------------------ */

#define LIST_UNLINK(l, p, prev, next)                   \
	do {                                            \
		if ((p)->prev)                          \
			(p)->prev->next = (p)->next;    \
		else                                    \
			(l)->head = (p)->next;          \
		if ((p)->next)                          \
			(p)->next->prev = (p)->prev;    \
		else                                    \
			(l)->tail = (p)->prev;          \
		(p)->prev = (p)->next = NULL;           \
	} while (0)

#define LIST_APPEND(l, p, prev, next)                   \
	do {                                            \
		(p)->prev = (l)->tail;                  \
		(p)->next = NULL;                       \
		if ((l)->tail)                          \
			(l)->tail->next = (p);          \
		else                                    \
			(l)->head = (p);                \
		(l)->tail = (p);                        \
	} while (0)

/* --- the hash table --------------------------------------------------------------------------- */

#define HASH_MUL 0x9e3779b97f4a7c15ULL

static size_t bucket_of(const struct pg_proctable *t, uint32_t pid)
{
	/* Fibonacci hashing: pids are dense and sequential, the multiply spreads them */
	return (size_t)(((uint64_t)pid * HASH_MUL) >> 32) & (t->nbuckets - 1);
}

static struct proc *find(const struct pg_proctable *t, uint32_t pid, uint64_t start_ns)
{
	for (struct proc *p = t->buckets[bucket_of(t, pid)]; p; p = p->hnext)
		if (p->pid == pid && p->start_ns == start_ns)
			return p;
	return NULL;
}

/*
 * The parent of a process we did not see forked: a process with its ppid that started no
 * later than it did (a later one reused the pid). Among several, the latest: the earlier ones
 * had exited before the pid was handed out again.
 */
static struct proc *find_parent(const struct pg_proctable *t, const struct proc *c)
{
	struct proc *best = NULL;

	for (struct proc *p = t->buckets[bucket_of(t, c->ppid)]; p; p = p->hnext)
		if (p->pid == c->ppid && p != c && p->start_ns <= c->start_ns &&
		    (!best || p->start_ns > best->start_ns))
			best = p;
	return best;
}

static int grow(struct pg_proctable *t)
{
	size_t n = t->nbuckets * 2;
	struct proc **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct proc *p = t->buckets[i], *next;

		for (; p; p = next) {
			size_t k = (size_t)(((uint64_t)p->pid * HASH_MUL) >> 32) & (n - 1);

			next = p->hnext;
			p->hnext = b[k];
			b[k] = p;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	return 0;
}

static void release(struct proc *p)
{
	rstr_put(p->exe);
	rstr_put(p->cmdline);
	rstr_put(p->pcmdline);
	for (unsigned int i = 0; i < p->nanc; i++)
		rstr_put(p->anc[i]);
	free(p->memo.json);
	free(p);
}

static void remove_entry(struct pg_proctable *t, struct proc *p)
{
	struct proc **pp = &t->buckets[bucket_of(t, p->pid)];

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	LIST_UNLINK(&t->lru, p, lru_prev, lru_next);
	if (p->exited)
		LIST_UNLINK(&t->dead, p, dead_prev, dead_next);
	t->st.entries--;
	release(p);
}

/*
 * Make room for one more: the longest-exited first, else one not seen recently (not keep).
 * Recency is the clock algorithm's: an event sets `seen`, the hand clears it once and takes
 * the first entry it finds clear. Keeping an exact least-recently-seen order moved an entry
 * on every event and cost two cache misses on its neighbours (bench/detect.sh's random pids).
 */
static void evict_one(struct pg_proctable *t, const struct proc *keep)
{
	struct proc *victim = t->dead.head;

	if (!victim || victim == keep) {
		for (size_t n = 0; n <= 2 * t->st.entries && t->lru.head; n++) {
			struct proc *h = t->lru.head;

			LIST_UNLINK(&t->lru, h, lru_prev, lru_next);
			LIST_APPEND(&t->lru, h, lru_prev, lru_next);
			if (h == keep)
				continue;
			if (!h->seen) {
				victim = h;
				break;
			}
			h->seen = false;
		}
	}
	if (!victim || victim == keep)
		return;
	remove_entry(t, victim);
	t->st.evicted++;
}

/* A new entry, or NULL on ENOMEM. Nothing known about it yet. */
static struct proc *add(struct pg_proctable *t, uint32_t pid, uint64_t start_ns, uint32_t ppid,
			const struct proc *keep)
{
	struct proc *p;
	size_t b;

	if (t->st.entries >= t->max)
		evict_one(t, keep);
	if (t->st.entries >= t->nbuckets && t->nbuckets < t->max && grow(t))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->start_ns = start_ns;
	p->ppid = ppid;
	p->seen = true;
	b = bucket_of(t, pid);
	p->hnext = t->buckets[b];
	t->buckets[b] = p;
	LIST_APPEND(&t->lru, p, lru_prev, lru_next);
	t->st.added++;
	if (++t->st.entries > t->st.peak)
		t->st.peak = t->st.entries;
	return p;
}

static void touch(struct pg_proctable *t, struct proc *p)
{
	p->seen = true;
}

/* The event's process, added when it is new. NULL on ENOMEM. */
static struct proc *process_of(struct pg_proctable *t, const struct pg_event_hdr *h)
{
	struct proc *p = find(t, h->pid, h->start_ns);

	if (!p)
		return add(t, h->pid, h->start_ns, h->ppid, NULL);
	touch(t, p);
	/* reparented: matters only to a process whose lineage is not yet known */
	p->ppid = h->ppid;
	return p;
}

/* --- lineage ---------------------------------------------------------------------------------- */

/* One of the entry's fields changes: what an encoder made of them no longer holds. */
static void forget(struct proc *p)
{
	free(p->memo.json);
	p->memo.json = NULL;
	p->memo.len = 0;
}

#define LINK_RETRY_NS 1000000ULL /* 1 ms of event time before the first retry, then doubling */
#define LINK_TRIES 6 /* 2 ms .. 32 ms: then the lineage stays as it is */

/* The child's lineage from its parent: the parent's program, then the parent's ancestors. */
static void inherit_lineage(struct proc *c, const struct proc *p)
{
	unsigned int n = 0;

	forget(c);
	for (unsigned int i = 0; i < c->nanc; i++)
		rstr_put(c->anc[i]);
	if (p->exe) {
		c->anc[n++] = rstr_get(p->exe);
		for (unsigned int i = 0; i < p->nanc && n < PG_PROC_ANCESTORS; i++)
			c->anc[n++] = rstr_get(p->anc[i]);
	}
	c->nanc = (uint8_t)n;
	rstr_set(&c->pcmdline, rstr_get(p->cmdline));
	c->complete = n == PG_PROC_ANCESTORS || (p->complete && p->exe);
}

/*
 * Link a process to its parent when its lineage is not final yet: the start-up snapshot lists
 * processes in pid order, a child may come before its parent, and the parent's own lineage
 * may be waiting for its parent. depth bounds the walk up.
 */
static void link_parent(struct pg_proctable *t, struct proc *c, unsigned int depth)
{
	struct proc *p;

	if (c->complete || c->link_after > t->now)
		return;
	if (!c->ppid) { /* init and kthreadd: the top of the tree */
		c->complete = true;
		return;
	}
	p = find_parent(t, c);
	if (p) {
		if (!p->complete && depth < PG_PROC_ANCESTORS)
			link_parent(t, p, depth + 1);
		inherit_lineage(c, p);
	}
	if (c->complete)
		return;
	/*
	 * A parent that is not there yet (or whose own lineage is not): try again later, and
	 * later each time, and a few times only: the start-up snapshot settles within its first
	 * milliseconds, and a process whose parent never shows up (forked before a recording
	 * began) would otherwise cost a walk up the tree on every one of its events (measured:
	 * 750 ns an event on bench/gen_events.py's random pids and parents).
	 */
	if (++c->link_tries >= LINK_TRIES) {
		c->complete = true; /* what it has is all it will get */
		return;
	}
	c->link_after = t->now + (LINK_RETRY_NS << c->link_tries);
}

/* --- events ----------------------------------------------------------------------------------- */

/* argv joined by single spaces, as rules see a command line. */
static struct rstr *join_argv(const struct pg_exec_event *e)
{
	size_t len = e->argv_len < PG_ARGV_LEN ? e->argv_len : PG_ARGV_LEN, i = 0, n = 0;
	char buf[PG_CMDLINE_LEN];

	for (unsigned int a = 0; a < e->argc && i < len; a++) {
		size_t l = strnlen(e->argv + i, len - i);

		if (a && n < sizeof(buf) - 1)
			buf[n++] = ' ';
		if (l > sizeof(buf) - 1 - n)
			l = sizeof(buf) - 1 - n;
		memcpy(buf + n, e->argv + i, l);
		n += l;
		i += strnlen(e->argv + i, len - i) + 1;
	}
	return rstr_new(buf, n);
}

static int on_exec(struct proc *p, const struct pg_exec_event *e)
{
	size_t plen = strnlen(e->path, sizeof(e->path));
	struct rstr *exe = NULL, *cmd;

	/* a process found running whose executable could not be read: keep what we know */
	if (plen) {
		exe = rstr_new(e->path, plen);
		if (!exe)
			return -ENOMEM;
	}
	if (!e->argc && (e->flags & PG_SNAPSHOT)) {
		cmd = NULL;
	} else {
		cmd = join_argv(e);
		if (!cmd) {
			rstr_put(exe);
			return -ENOMEM;
		}
	}
	forget(p);
	if (exe)
		rstr_set(&p->exe, exe);
	if (cmd)
		rstr_set(&p->cmdline, cmd);
	return 0;
}

static int on_fork(struct pg_proctable *t, struct proc *parent, const struct pg_fork_event *f)
{
	struct proc *c = find(t, f->child_pid, f->child_start_ns);

	if (!c) {
		c = add(t, f->child_pid, f->child_start_ns, parent->pid, parent);
		if (!c)
			return -ENOMEM;
	} else if (c->exe) {
		/* the child was seen first (and exec'd): only its lineage comes from here */
		c->ppid = parent->pid;
		inherit_lineage(c, parent);
		return 0;
	}
	c->ppid = parent->pid;
	/* fork copies the image: the child runs its parent's program until it execs */
	rstr_set(&c->exe, rstr_get(parent->exe));
	rstr_set(&c->cmdline, rstr_get(parent->cmdline));
	inherit_lineage(c, parent);
	return 0;
}

static void on_exit_(struct pg_proctable *t, struct proc *p, uint64_t ts)
{
	if (p->exited)
		return;
	p->exited = true;
	p->exit_ts = ts;
	LIST_APPEND(&t->dead, p, dead_prev, dead_next);
}

/* Drop the processes that exited more than the grace period ago (event time). */
static void expire(struct pg_proctable *t)
{
	while (t->dead.head && t->dead.head->exit_ts + t->grace_ns <= t->now) {
		remove_entry(t, t->dead.head);
		t->st.expired++;
	}
}

static bool has_proc_fields(const struct pg_event_proc *p)
{
	return p->exe || p->cmdline || p->parent_exe || p->parent_cmdline || p->nancestors;
}

static void enrich(struct pg_proctable *t, struct proc *p, struct pg_event *ev)
{
	struct pg_event_proc *m = &ev->meta.proc;

	if (has_proc_fields(m))
		return;
	m->exe = p->exe ? p->exe->s : NULL;
	m->cmdline = p->cmdline ? p->cmdline->s : NULL;
	m->parent_exe = p->nanc ? p->anc[0]->s : NULL;
	m->parent_cmdline = p->pcmdline ? p->pcmdline->s : NULL;
	for (unsigned int i = 0; i < p->nanc; i++)
		m->ancestors[i] = p->anc[i]->s;
	m->nancestors = p->nanc;
	m->memo = &p->memo; /* the entry's: encoders may fill it */
	if (p->exe)
		t->st.enriched++;
	else
		t->st.unknown++;
}

int pg_proctable__observe(struct pg_proctable *t, struct pg_event *ev)
{
	const struct pg_event_hdr *h = &ev->r.hdr;
	struct proc *p;
	int rc = 0;

	/* packets have no process; alerts carry their event's already */
	if (h->type == PG_EV_PACKET || h->type == PG_EV_ALERT || !h->pid)
		return 0;
	if (h->ts_ns > t->now)
		t->now = h->ts_ns;
	expire(t);
	if (h->type == PG_EV_EXIT) {
		p = find(t, h->pid, h->start_ns);
		if (!p)
			return 0; /* a process we never knew: nothing to remember it by */
		link_parent(t, p, 0);
		enrich(t, p, ev);
		on_exit_(t, p, h->ts_ns);
		return 0;
	}
	p = process_of(t, h);
	if (!p)
		return -ENOMEM;
	if (h->type == PG_EV_EXEC)
		rc = on_exec(p, &ev->r.exec);
	link_parent(t, p, 0);
	if (h->type == PG_EV_FORK && !rc)
		rc = on_fork(t, p, &ev->r.fork);
	enrich(t, p, ev);
	return rc;
}

struct pg_proctable *pg_proctable__new(const struct pg_proctable_opts *o)
{
	struct pg_proctable *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = o && o->max_entries ? o->max_entries : PG_PROCTABLE_MAX_DEFAULT;
	t->grace_ns = o && o->grace_ns ? o->grace_ns : PG_PROCTABLE_GRACE_DEFAULT_NS;
	if (t->max < 2) {
		free(t);
		errno = EINVAL;
		return NULL;
	}
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void pg_proctable__stats(const struct pg_proctable *t, struct pg_proctable_stats *out)
{
	*out = t->st;
}

void pg_proctable__free(struct pg_proctable *t)
{
	if (!t)
		return;
	while (t->lru.head)
		remove_entry(t, t->lru.head);
	free(t->buckets);
	free(t);
}

/* --- the stage -------------------------------------------------------------------------------- */

struct stage_process {
	struct pg_stage base;
	struct pg_proctable *table;
};

static int process_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	int rc = pg_proctable__observe(((struct stage_process *)st)->table, ev);

	/* out of memory: the event goes on without process fields rather than being lost */
	return rc == -ENOMEM ? PG_PASS : rc;
}

static void process_free(struct pg_stage *st)
{
	struct stage_process *s = (struct stage_process *)st;

	pg_proctable__free(s->table);
	free(s);
}

static const struct pg_stage_ops process_ops = {
	.name = "process",
	.process = process_process,
	.free = process_free,
};

struct pg_stage *pg_stage_process__new(const struct pg_proctable_opts *opts)
{
	struct stage_process *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &process_ops;
	s->table = pg_proctable__new(opts);
	if (!s->table) {
		free(s);
		return NULL;
	}
	return &s->base;
}

void pg_stage_process__stats(const struct pg_stage *st, struct pg_proctable_stats *out)
{
	pg_proctable__stats(((const struct stage_process *)st)->table, out);
}
