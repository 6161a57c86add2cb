// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector: detection rules over each event, the correlations they feed, alerts out.
 *
 * Correlation state lives in groups: one per correlation and distinct group-by values (and
 * node: pids, uids and paths name things on one machine, so a correlation never mixes two
 * nodes' events). A group holds only what its condition needs: the last N timestamps for
 * event_count >= N, at most N value hashes for value_count >= N, one timestamp per rule for
 * temporal, one partial sequence per step for temporal_ordered. Groups leave when their window
 * has passed (event time), and a correlation holds at most max_groups (least recently updated
 * leave first, counted). A group that fires starts over: one alert per burst, not one per
 * event after the threshold.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "sigma.h"

#define REFS_MAX PG_ALERT_EVENTS_MAX

/*
 * One group of one correlation, in one allocation sized for that correlation: what it needs
 * and nothing more (a fixed layout for the largest case was 7 KiB a group).
 */
struct group {
	struct group *hnext;
	struct group *prev, *next; /* least recently updated first */
	uint64_t hash;
	uint64_t last_ts;
	uint32_t keylen;
	uint32_t n, head; /* event_count: the ring of timestamps */
	uint32_t nrefs, refhead; /* event_count, value_count: the ring of events */
	/* event_count: timestamps [threshold]; value_count: value hashes and last times
	 * [2 * threshold]; temporal, temporal_ordered: per step, the last match (temporal) or the
	 * start of the partial sequence that reached it (temporal_ordered), 0 none [nrefs + 1] */
	uint64_t *u64;
	/* event_count, value_count: the last events [rcap]; temporal: one per rule [nrefs];
	 * temporal_ordered: per step k, the k events of its partial sequence
	 * [(nrefs + 1) * nrefs] */
	struct pg_alert_ref *refs;
	char *key; /* node, then each group-by value, NUL-separated; after the arrays */
};

/* The shape of a correlation's groups. */
struct layout {
	uint32_t n_u64, n_refs, rcap;
	size_t bytes; /* without the key */
};

struct corr_state {
	struct group **buckets;
	size_t nbuckets, n;
	struct group *head, *tail;
	struct layout lay;
	size_t max; /* groups kept: max_groups, or fewer when they are large */
};

/* The correlation state of one stream of events, and that stream's time. */
struct pg_detect_scope {
	struct corr_state *corr; /* per rule; used by correlations */
	uint64_t now; /* the latest event time seen: what expires groups */
	uint64_t groups; /* held in this scope */
};

struct pg_detector {
	const struct pg_ruleset *rs;
	struct sg_ctx ctx;
	struct pg_detect_scope *scope; /* the one events go to now */
	struct pg_detect_scope *base; /* the scope of a detector used without scopes */
	uint64_t *matches; /* per rule */
	size_t max_groups;
	struct pg_detector_stats st;
	struct pg_event alert;
	pg_alert_fn fn;
	void *fn_ctx;
	char keybuf[PG_ALERT_GROUP_LEN + 256];
};

/* --- groups ----------------------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void group_free(struct group *g)
{
	free(g);
}

static void unlink_lru(struct corr_state *cs, struct group *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else
		cs->head = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		cs->tail = g->prev;
	g->prev = g->next = NULL;
}

static void append_lru(struct corr_state *cs, struct group *g)
{
	g->prev = cs->tail;
	g->next = NULL;
	if (cs->tail)
		cs->tail->next = g;
	else
		cs->head = g;
	cs->tail = g;
}

static void group_remove(struct pg_detector *d, struct corr_state *cs, struct group *g)
{
	struct group **pp = &cs->buckets[g->hash & (cs->nbuckets - 1)];

	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	unlink_lru(cs, g);
	cs->n--;
	d->st.groups--;
	d->scope->groups--;
	group_free(g);
}

/* Groups whose window has passed: nothing in them can still count. */
static void expire_groups(struct pg_detector *d, struct corr_state *cs, uint64_t timespan)
{
	while (cs->head && cs->head->last_ts + timespan < d->scope->now) {
		group_remove(d, cs, cs->head);
		d->st.groups_expired++;
	}
}

static int grow(struct corr_state *cs)
{
	size_t n = cs->nbuckets ? cs->nbuckets * 2 : 64;
	struct group **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < cs->nbuckets; i++) {
		struct group *g = cs->buckets[i], *next;

		for (; g; g = next) {
			next = g->hnext;
			g->hnext = b[g->hash & (n - 1)];
			b[g->hash & (n - 1)] = g;
		}
	}
	free(cs->buckets);
	cs->buckets = b;
	cs->nbuckets = n;
	return 0;
}

static struct group *group_get(struct pg_detector *d, struct corr_state *cs, const char *key,
			       size_t keylen)
{
	uint64_t h = fnv1a(key, keylen);
	struct group *g;

	for (g = cs->nbuckets ? cs->buckets[h & (cs->nbuckets - 1)] : NULL; g; g = g->hnext)
		if (g->hash == h && g->keylen == keylen && !memcmp(g->key, key, keylen)) {
			unlink_lru(cs, g);
			append_lru(cs, g);
			return g;
		}
	if (cs->n >= cs->max) {
		group_remove(d, cs, cs->head);
		d->st.groups_evicted++;
	}
	if (cs->n >= cs->nbuckets && grow(cs))
		return NULL;
	/* the state arrays first (8-byte aligned), the key last */
	g = calloc(1, sizeof(*g) + cs->lay.bytes + keylen);
	if (!g)
		return NULL;
	g->u64 = (uint64_t *)((char *)g + sizeof(*g));
	g->refs = (struct pg_alert_ref *)(g->u64 + cs->lay.n_u64);
	g->key = (char *)(g->refs + cs->lay.n_refs);
	memcpy(g->key, key, keylen);
	g->keylen = (uint32_t)keylen;
	g->hash = h;
	g->hnext = cs->buckets[h & (cs->nbuckets - 1)];
	cs->buckets[h & (cs->nbuckets - 1)] = g;
	append_lru(cs, g);
	cs->n++;
	d->st.groups++;
	d->scope->groups++;
	return g;
}

static struct pg_alert_ref ref_of(const struct pg_event *ev)
{
	return (struct pg_alert_ref){ .ts_ns = ev->r.hdr.ts_ns,
				      .start_ns = ev->r.hdr.start_ns,
				      .pid = ev->r.hdr.pid,
				      .type = ev->r.hdr.type };
}

/* The ring of the last rcap events (event_count, value_count). */
static void push_ref(struct group *g, uint32_t rcap, const struct pg_event *ev)
{
	g->refs[(g->refhead + g->nrefs) % rcap] = ref_of(ev);
	if (g->nrefs < rcap)
		g->nrefs++;
	else
		g->refhead = (g->refhead + 1) % rcap;
}

/* --- alerts ----------------------------------------------------------------------------------- */

/* What a firing passes on: its count, the events behind it, the group's values. */
struct firing {
	uint32_t count;
	unsigned int nrefs;
	struct pg_alert_ref refs[REFS_MAX];
	const struct sg_rule *corr; /* NULL for a detection rule */
	unsigned int ref_index; /* which of corr's rules the event matched (its group fields) */
};

static void put_packed(char *dst, size_t cap, uint16_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > cap)
		return;
	memcpy(dst + *len, s, n);
	dst[*len + n] = 0;
	*len = (uint16_t)(*len + n + 1);
}

static int raise_alert(struct pg_detector *d, const struct sg_rule *r, const struct firing *f)
{
	struct pg_event *a = &d->alert;
	struct pg_alert_event *al = &a->r.alert;
	const struct pg_event *ev = d->ctx.ev;

	pg_event_init(a, PG_EV_ALERT);
	al->hdr = ev->r.hdr;
	al->hdr.type = PG_EV_ALERT;
	al->hdr.size = sizeof(*al);
	a->meta = ev->meta; /* the process, node and pod of the event that completed the match */
	strncpy(al->rule_id, r->id, sizeof(al->rule_id) - 1);
	strncpy(al->title, r->title, sizeof(al->title) - 1);
	al->level = (uint8_t)r->level;
	for (size_t i = 0; i < r->ntags; i++)
		put_packed(al->tags, sizeof(al->tags), &al->tags_len, r->tags[i],
			   strlen(r->tags[i]));
	al->ntags = (uint8_t)r->ntags;
	al->count = f->count;
	memcpy(al->events, f->refs, f->nrefs * sizeof(f->refs[0]));
	al->nevents = (uint8_t)f->nrefs;
	if (f->corr) {
		for (size_t g = 0; g < f->corr->ngroup; g++) {
			const char *s;
			size_t n;

			sg_field_text(&d->ctx, f->corr->group[g].field[f->ref_index], &s, &n);
			const char *name = f->corr->group[g].name;

			put_packed(al->group, sizeof(al->group), &al->group_len, name,
				   strlen(name));
			put_packed(al->group, sizeof(al->group), &al->group_len, s, n);
		}
		al->ngroup = (uint8_t)f->corr->ngroup;
	}
	d->st.alerts++;
	return d->fn(d->fn_ctx, a);
}

static int rule_fired(struct pg_detector *d, unsigned int ri, const struct firing *f);

/* --- correlations ----------------------------------------------------------------------------- */

/* The group key of the current event for correlation c, seen through its rule k. */
static size_t group_key(struct pg_detector *d, const struct sg_rule *c, unsigned int k)
{
	const char *node = d->ctx.ev->meta.node ? d->ctx.ev->meta.node : "";
	size_t n = strlen(node) + 1;

	if (n > 256)
		n = 256;
	memcpy(d->keybuf, node, n - 1);
	d->keybuf[n - 1] = 0;
	for (size_t g = 0; g < c->ngroup; g++) {
		const char *s;
		size_t l;

		sg_field_text(&d->ctx, c->group[g].field[k], &s, &l);
		if (n + l + 1 > sizeof(d->keybuf))
			l = sizeof(d->keybuf) - n - 1;
		memcpy(d->keybuf + n, s, l);
		d->keybuf[n + l] = 0;
		n += l + 1;
	}
	return n;
}

/* The group's events that are in the window ending at t: at most the last max of them. */
static void fill_refs(struct firing *f, const struct group *g, uint32_t rcap, uint64_t t,
		      uint64_t span)
{
	f->nrefs = 0;
	for (unsigned int i = 0; i < g->nrefs; i++) {
		const struct pg_alert_ref *r = &g->refs[(g->refhead + i) % rcap];

		if (r->ts_ns >= t || t - r->ts_ns <= span)
			f->refs[f->nrefs++] = *r;
	}
}

static bool same_event(const struct pg_alert_ref *a, const struct pg_alert_ref *b)
{
	return a->ts_ns == b->ts_ns && a->pid == b->pid && a->start_ns == b->start_ns &&
	       a->type == b->type;
}

static void group_reset(const struct layout *lay, struct group *g)
{
	g->n = g->head = 0;
	g->nrefs = g->refhead = 0;
	memset(g->u64, 0, lay->n_u64 * sizeof(*g->u64));
}

/* event_count: fires when the last `threshold` events fit in the timespan. */
static bool count_event(struct pg_detector *d, const struct sg_rule *c, struct group *g, uint64_t t)
{
	if (g->n < c->threshold) {
		g->u64[(g->head + g->n++) % c->threshold] = t;
	} else {
		g->u64[g->head] = t;
		g->head = (g->head + 1) % c->threshold;
	}
	/* the oldest of the last `threshold` is at head; events a little out of order count as
	 * simultaneous */
	return g->n == c->threshold &&
	       (t <= g->u64[g->head] || t - g->u64[g->head] <= c->timespan_ns);
}

/* value_count: fires when `threshold` distinct values were seen within the timespan. */
static bool count_value(const struct sg_rule *c, struct group *g, uint64_t t, uint64_t vh)
{
	uint32_t live = 0, free_slot = UINT32_MAX;
	bool seen = false;

	for (uint32_t i = 0; i < c->threshold; i++) {
		uint64_t *slot = &g->u64[2 * i];

		if (slot[1] && t > slot[1] && t - slot[1] > c->timespan_ns)
			slot[1] = 0; /* out of the window */
		if (slot[1] && slot[0] == vh) {
			slot[1] = t;
			seen = true;
		}
		if (slot[1])
			live++;
		else if (free_slot == UINT32_MAX)
			free_slot = i;
	}
	if (!seen && free_slot != UINT32_MAX) {
		g->u64[2 * free_slot] = vh;
		g->u64[2 * free_slot + 1] = t ? t : 1;
		live++;
	}
	return live >= c->threshold;
}

/* temporal: fires when `threshold` of its rules matched within the timespan. */
static bool count_temporal(const struct sg_rule *c, struct group *g, uint64_t t, unsigned int k,
			   const struct pg_event *ev, struct firing *f)
{
	uint32_t live = 0;

	g->u64[k] = t ? t : 1;
	g->refs[k] = ref_of(ev);
	f->nrefs = 0;
	for (size_t i = 0; i < c->nrefs; i++) {
		if (!g->u64[i] || (t > g->u64[i] && t - g->u64[i] > c->timespan_ns))
			continue;
		live++;
		f->refs[f->nrefs++] = g->refs[i];
	}
	return live >= c->threshold;
}

/*
 * temporal_ordered: step_ts[j] is the start of the partial sequence that matched rules 0..j-1
 * (the latest such start: it has the most time left). An event that matches rule k extends the
 * partial at k; one that matches rule 0 starts a new one.
 */
static bool count_ordered(const struct sg_rule *c, struct group *g, uint64_t t, unsigned int k,
			  const struct pg_event *ev, struct firing *f)
{
	uint64_t *step_ts = g->u64;
#define STEP(j) (g->refs + (size_t)(j) * c->nrefs) /* the events of the partial at step j */

	if (k == 0) {
		step_ts[1] = t ? t : 1;
		STEP(1)[0] = ref_of(ev);
	} else if (step_ts[k] && (t < step_ts[k] || t - step_ts[k] <= c->timespan_ns)) {
		struct pg_alert_ref me = ref_of(ev);

		/* one event matching two rules is not two steps of a sequence */
		if (same_event(&STEP(k)[k - 1], &me))
			return false;
		step_ts[k + 1] = step_ts[k];
		memcpy(STEP(k + 1), STEP(k), k * sizeof(*g->refs));
		STEP(k + 1)[k] = me;
	} else {
		return false;
	}
	if (k + 1 < c->nrefs)
		return false;
	f->nrefs = (unsigned int)c->nrefs;
	memcpy(f->refs, STEP(c->nrefs), c->nrefs * sizeof(f->refs[0]));
	return true;
#undef STEP
}

/* The current event matched rule `src`; correlation ci counts it (maybe at several steps). */
static int correlate(struct pg_detector *d, unsigned int ci, unsigned int src)
{
	const struct sg_rule *c = &d->rs->rules[ci];
	struct corr_state *cs = &d->scope->corr[ci];
	const struct pg_event *ev = d->ctx.ev;
	uint64_t t = ev->r.hdr.ts_ns;

	expire_groups(d, cs, c->timespan_ns);
	/* steps in reverse: an event that is both step k and step k+1 must not be counted twice */
	for (size_t kk = c->nrefs; kk-- > 0;) {
		unsigned int k = (unsigned int)kk;
		struct firing f;
		struct group *g;
		size_t keylen;
		bool fire = false;

		if (c->refs[k] != src)
			continue;
		f.corr = c;
		f.ref_index = k;
		f.nrefs = 0;
		keylen = group_key(d, c, k);
		g = group_get(d, cs, d->keybuf, keylen);
		if (!g)
			return -ENOMEM;
		g->last_ts = t > g->last_ts ? t : g->last_ts;
		switch (c->corr) {
		case SC_EVENT_COUNT:
			push_ref(g, cs->lay.rcap, ev);
			fire = count_event(d, c, g, t);
			f.count = c->threshold;
			fill_refs(&f, g, cs->lay.rcap, t, c->timespan_ns);
			break;
		case SC_VALUE_COUNT: {
			const char *s;
			size_t n;

			sg_field_text(&d->ctx, c->value_field[k], &s, &n);
			push_ref(g, cs->lay.rcap, ev);
			fire = count_value(c, g, t, fnv1a(s, n) | 1);
			f.count = c->threshold;
			fill_refs(&f, g, cs->lay.rcap, t, c->timespan_ns);
			break;
		}
		case SC_TEMPORAL:
			fire = count_temporal(c, g, t, k, ev, &f);
			f.count = f.nrefs;
			break;
		case SC_TEMPORAL_ORDERED:
			fire = count_ordered(c, g, t, k, ev, &f);
			f.count = f.nrefs;
			break;
		case SC_NONE:
			break;
		}
		if (!fire)
			continue;
		group_reset(&cs->lay, g);
		int rc = rule_fired(d, ci, &f);

		if (rc)
			return rc;
	}
	return 0;
}

/* A rule (detection or correlation) matched the current event: alert, then what it feeds. */
static int rule_fired(struct pg_detector *d, unsigned int ri, const struct firing *f)
{
	const struct sg_rule *r = &d->rs->rules[ri];
	int rc;

	d->matches[ri]++;
	d->st.matches++;
	if (r->generate) {
		rc = raise_alert(d, r, f);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < d->rs->nfeeds[ri]; i++) {
		rc = correlate(d, d->rs->feeds[ri][i], ri);
		if (rc)
			return rc;
	}
	return 0;
}

int pg_detector__process(struct pg_detector *d, const struct pg_event *ev, pg_alert_fn fn,
			 void *ctx)
{
	unsigned int type = ev->r.hdr.type;

	d->st.events++;
	if (type >= PG_EV_TYPE_COUNT || type == PG_EV_ALERT)
		return 0;
	d->fn = fn;
	d->fn_ctx = ctx;
	if (ev->r.hdr.ts_ns > d->scope->now)
		d->scope->now = ev->r.hdr.ts_ns;
	sg_ctx_event(&d->ctx, ev);
	for (size_t i = 0; i < d->rs->nby_type[type]; i++) {
		unsigned int ri = d->rs->by_type[type][i];
		struct firing f;
		int rc;

		if (!sg_rule_matches(&d->ctx, &d->rs->rules[ri]))
			continue;
		/* set here, not above: zeroing 400 bytes per rule looked at was a tenth of the
		 * time (bench/detect.sh) */
		f.count = 1;
		f.nrefs = 1;
		f.corr = NULL;
		f.ref_index = 0;
		f.refs[0] = ref_of(ev);
		rc = rule_fired(d, ri, &f);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The size of a correlation's groups, and how many it keeps: max_groups, or fewer when its
 * groups are large (a count of 10000 keeps 10000 timestamps a group), so that no correlation
 * holds more than GROUP_BYTES_MAX.
 */
#define GROUP_BYTES_MAX (64u << 20)

static void plan_groups(const struct sg_rule *c, size_t max_groups, struct corr_state *cs)
{
	struct layout *l = &cs->lay;
	size_t per;

	switch (c->corr) {
	case SC_EVENT_COUNT:
		l->n_u64 = c->threshold;
		l->rcap = c->threshold < REFS_MAX ? c->threshold : REFS_MAX;
		l->n_refs = l->rcap;
		break;
	case SC_VALUE_COUNT:
		l->n_u64 = 2 * c->threshold;
		l->rcap = REFS_MAX;
		l->n_refs = l->rcap;
		break;
	case SC_TEMPORAL:
		l->n_u64 = (uint32_t)c->nrefs + 1;
		l->n_refs = (uint32_t)c->nrefs;
		break;
	case SC_TEMPORAL_ORDERED:
		l->n_u64 = (uint32_t)c->nrefs + 1;
		l->n_refs = (uint32_t)((c->nrefs + 1) * c->nrefs);
		break;
	case SC_NONE:
		break;
	}
	l->bytes = l->n_u64 * sizeof(uint64_t) + l->n_refs * sizeof(struct pg_alert_ref);
	per = sizeof(struct group) + l->bytes + 64; /* and a typical key */
	cs->max = max_groups;
	if (cs->max > GROUP_BYTES_MAX / per)
		cs->max = GROUP_BYTES_MAX / per;
	if (!cs->max)
		cs->max = 1;
}

struct pg_detect_scope *pg_detector__scope_new(struct pg_detector *d)
{
	const struct pg_ruleset *rs = d->rs;
	struct pg_detect_scope *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->corr = calloc(rs->nrules ? rs->nrules : 1, sizeof(*s->corr));
	if (!s->corr) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < rs->nrules; i++)
		plan_groups(&rs->rules[i], d->max_groups, &s->corr[i]);
	return s;
}

void pg_detector__scope_use(struct pg_detector *d, struct pg_detect_scope *s)
{
	d->scope = s ? s : d->base;
}

void pg_detector__scope_free(struct pg_detector *d, struct pg_detect_scope *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < d->rs->nrules; i++) {
		struct corr_state *cs = &s->corr[i];

		while (cs->head) {
			struct group *g = cs->head;

			cs->head = g->next;
			group_free(g);
		}
		free(cs->buckets);
	}
	d->st.groups -= s->groups;
	d->st.groups_dropped += s->groups;
	if (d->scope == s)
		d->scope = d->base;
	free(s->corr);
	free(s);
}

struct pg_detector *pg_detector__new(const struct pg_ruleset *rs, const struct pg_detector_opts *o)
{
	struct pg_detector *d;

	if (!rs->finished) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->rs = rs;
	d->max_groups = o && o->max_groups ? o->max_groups : PG_DETECT_GROUPS_DEFAULT;
	d->matches = calloc(rs->nrules ? rs->nrules : 1, sizeof(*d->matches));
	d->base = d->matches ? pg_detector__scope_new(d) : NULL;
	d->scope = d->base;
	if (!d->base || sg_ctx_init(&d->ctx, rs)) {
		pg_detector__free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void pg_detector__stats(const struct pg_detector *d, struct pg_detector_stats *out)
{
	*out = d->st;
}

uint64_t pg_detector__rule_matches(const struct pg_detector *d, size_t i)
{
	return i < d->rs->nrules ? d->matches[i] : 0;
}

void pg_detector__free(struct pg_detector *d)
{
	if (!d)
		return;
	pg_detector__scope_free(d, d->base);
	free(d->matches);
	sg_ctx_release(&d->ctx);
	free(d);
}

/* How far back in event time a correlation may reach: its timespan, plus the reach of the
 * correlations it counts (their firings stand for events up to their own timespan earlier). */
static uint64_t reach(const struct pg_ruleset *rs, unsigned int ri, unsigned int depth)
{
	const struct sg_rule *r = &rs->rules[ri];
	uint64_t inner = 0;

	if (r->corr == SC_NONE || depth > 64)
		return 0;
	for (size_t i = 0; i < r->nrefs; i++) {
		uint64_t v = reach(rs, r->refs[i], depth + 1);

		inner = v > inner ? v : inner;
	}
	return r->timespan_ns + inner;
}

uint64_t pg_ruleset__reach_ns(const struct pg_ruleset *rs)
{
	uint64_t most = 0;

	for (size_t i = 0; rs->finished && i < rs->nrules; i++) {
		uint64_t v = reach(rs, (unsigned int)i, 0);

		most = v > most ? v : most;
	}
	return most;
}

/* --- the stage -------------------------------------------------------------------------------- */

struct stage_detect {
	struct pg_stage base;
	struct pg_ruleset *rs;
	struct pg_detector *det;
	bool alerts_only;
	struct pg_pipeline *pl; /* during process() */
	struct pg_detect_scope **slots; /* per slot (a Kafka partition), made on first use */
	size_t nslots;
};

static int emit_alert(void *ctx, struct pg_event *alert)
{
	struct stage_detect *s = ctx;

	/* a sink's failure is counted by the pipeline; detection goes on */
	pg_pipeline__emit(s->pl, &s->base, alert);
	return 0;
}

static int detect_process(struct pg_stage *st, struct pg_pipeline *pl, struct pg_event *ev)
{
	struct stage_detect *s = (struct stage_detect *)st;
	int rc;

	s->pl = pl;
	rc = pg_detector__process(s->det, ev, emit_alert, s);
	if (rc < 0)
		return rc;
	/* alerts read back from a recording are alerts: they pass even when events do not */
	return s->alerts_only && ev->r.hdr.type != PG_EV_ALERT ? PG_DROP : PG_PASS;
}

static void detect_free(struct pg_stage *st)
{
	struct stage_detect *s = (struct stage_detect *)st;

	for (size_t i = 0; i < s->nslots; i++)
		pg_detector__scope_free(s->det, s->slots[i]);
	free(s->slots);
	pg_detector__free(s->det);
	pg_ruleset__free(s->rs);
	free(s);
}

static const struct pg_metric_desc rule_matches = {
	.name = "pangolin_rule_matches_total",
	.help = "How often each detection rule matched (a correlation: fired), alerts or not.",
	.type = PG_METRIC_COUNTER,
	.labels = { "rule" },
};

const struct pg_metric_desc pg_metric_detect = {
	.name = "pangolin_detect_total",
	.help = "The detection stage: events looked at, rule matches, alerts handed on.",
	.type = PG_METRIC_COUNTER,
	.labels = { "what" },
	.stats = "detect.{what}",
};

const struct pg_metric_desc pg_metric_detect_groups = {
	.name = "pangolin_detect_correlation_groups",
	.help = "Correlation groups held now (bounded per correlation by --max-groups).",
	.type = PG_METRIC_GAUGE,
	.stats = "detect.groups",
};

const struct pg_metric_desc pg_metric_detect_groups_dropped = {
	.name = "pangolin_detect_correlation_groups_dropped_total",
	.help = "Correlation groups dropped: their window passed (expired), a correlation held "
		"its maximum (evicted), or their Kafka partition went to another consumer "
		"(partition).",
	.type = PG_METRIC_COUNTER,
	.labels = { "reason" },
	.stats = "detect.groups_{reason}",
};

/* The stage's counters (metrics.h): per rule, and the detector's. */
static void detect_metrics(struct pg_stage *st, struct pg_metrics *m)
{
	struct stage_detect *s = (struct stage_detect *)st;
	struct pg_detector_stats ds;

	pg_detector__stats(s->det, &ds);
	pg_metrics__add(m, &pg_metric_detect, (double)ds.events, "events");
	pg_metrics__add(m, &pg_metric_detect, (double)ds.matches, "matches");
	pg_metrics__add(m, &pg_metric_detect, (double)ds.alerts, "alerts");
	pg_metrics__add(m, &pg_metric_detect_groups, (double)ds.groups);
	pg_metrics__add(m, &pg_metric_detect_groups_dropped, (double)ds.groups_expired, "expired");
	pg_metrics__add(m, &pg_metric_detect_groups_dropped, (double)ds.groups_evicted, "evicted");
	pg_metrics__add(m, &pg_metric_detect_groups_dropped, (double)ds.groups_dropped, "partition");
	for (size_t i = 0; i < pg_ruleset__count(s->rs); i++) {
		struct pg_rule_info ri;

		pg_ruleset__info(s->rs, i, &ri);
		pg_metrics__add(m, &rule_matches, (double)pg_detector__rule_matches(s->det, i),
				ri.id && *ri.id ? ri.id : ri.title);
	}
}

static const struct pg_stage_ops detect_ops = {
	.name = "detect",
	.process = detect_process,
	.free = detect_free,
	.metrics = detect_metrics,
};

struct pg_stage *pg_stage_detect__new(struct pg_ruleset *rs, const struct pg_detector_opts *o,
				      bool alerts_only)
{
	struct stage_detect *s = calloc(1, sizeof(*s));
	int e;

	if (!s) {
		pg_ruleset__free(rs);
		return NULL;
	}
	s->base.ops = &detect_ops;
	s->rs = rs;
	s->alerts_only = alerts_only;
	s->det = pg_detector__new(rs, o);
	if (!s->det) {
		e = errno;
		detect_free(&s->base);
		errno = e;
		return NULL;
	}
	return &s->base;
}

const struct pg_detector *pg_stage_detect__detector(const struct pg_stage *st)
{
	return ((const struct stage_detect *)st)->det;
}

const struct pg_ruleset *pg_stage_detect__rules(const struct pg_stage *st)
{
	return ((const struct stage_detect *)st)->rs;
}

int pg_stage_detect__select(struct pg_stage *st, size_t slot)
{
	struct stage_detect *s = (struct stage_detect *)st;

	if (slot >= s->nslots) {
		size_t n = slot + 1 > 2 * s->nslots ? slot + 1 : 2 * s->nslots;
		struct pg_detect_scope **grown = realloc(s->slots, n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + s->nslots, 0, (n - s->nslots) * sizeof(*grown));
		s->slots = grown;
		s->nslots = n;
	}
	if (!s->slots[slot] && !(s->slots[slot] = pg_detector__scope_new(s->det)))
		return -ENOMEM;
	pg_detector__scope_use(s->det, s->slots[slot]);
	return 0;
}

void pg_stage_detect__drop(struct pg_stage *st, size_t slot)
{
	struct stage_detect *s = (struct stage_detect *)st;

	if (slot >= s->nslots)
		return;
	pg_detector__scope_free(s->det, s->slots[slot]);
	s->slots[slot] = NULL;
}
