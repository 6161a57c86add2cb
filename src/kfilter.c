// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Decide which conjuncts of a filter the kernel takes; see kfilter.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kfilter.h"

#define ALL_TYPES (((1u << PG_EV_TYPE_COUNT) - 1) & ~1u)
#define PATH_TYPES ((1u << PG_EV_EXEC) | (1u << PG_EV_OPEN))
#define PORT_TYPES ((1u << PG_EV_CONNECT) | (1u << PG_EV_DNS))

/*
 * The comparisons of an || (or a single comparison). false if anything else is in it: the
 * tree keeps no || directly under an ||, so one level is all there is to look at.
 */
static bool or_leaves(const struct pg_filter_node *n, const struct pg_filter_node **out,
		      size_t *count, size_t max)
{
	if (n->op == PG_FOP_CMP) {
		out[(*count)++] = n;
		return true;
	}
	if (n->op != PG_FOP_OR || n->nsub > max)
		return false;
	for (size_t i = 0; i < n->nsub; i++) {
		if (n->sub[i]->op != PG_FOP_CMP)
			return false;
		out[(*count)++] = n->sub[i];
	}
	return true;
}

/* The key set a field maps to, or NULL when the kernel keeps no set for it. */
static struct pg_kf_set *set_for(struct pg_kfilter *kf, const struct pg_field *f)
{
	if (f == &pg_fields[PG_FLD_PID])
		return &kf->pids;
	if (f == &pg_fields[PG_FLD_COMM])
		return &kf->comms;
	if (f == &pg_fields[PG_FLD_UID])
		return &kf->uids;
	if (f == &pg_fields[PG_FLD_CGROUP_ID])
		return &kf->cgroups;
	if (f == &pg_fields[PG_FLD_DPORT])
		return &kf->ports;
	return NULL;
}

/* Can value v be a key of this field's kernel set exactly? */
static bool key_ok(const struct pg_field *f, const struct pg_filter_value *v)
{
	if (f->kind == PG_FK_STR) /* comm: the kernel compares 16 zero-padded bytes */
		return v->len < 16;
	if (f == &pg_fields[PG_FLD_DPORT])
		return v->num >= 0 && v->num <= 0xffff;
	if (f == &pg_fields[PG_FLD_CGROUP_ID])
		return v->num >= 0;
	return v->num >= 0 && v->num <= 0xffffffffLL;
}

static void set_add(struct pg_kf_set *s, const struct pg_field *f, const struct pg_filter_value *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (f->kind == PG_FK_STR ? !strncmp(s->comms[i], v->str, 16)
					 : s->keys[i] == (uint64_t)v->num)
			return;
	if (f->kind == PG_FK_STR) {
		memset(s->comms[s->n], 0, 16);
		memcpy(s->comms[s->n], v->str, v->len);
	} else {
		s->keys[s->n] = (uint64_t)v->num;
	}
	s->n++;
}

/*
 * Try to give one conjunct to the kernel. Returns true when the kernel decides it exactly
 * (and the plan now includes it), false to leave it to userspace.
 */
static bool take(struct pg_kfilter *kf, const struct pg_filter_node *n)
{
	const struct pg_filter_node *leaves[PG_KF_MAX_KEYS];
	size_t nl = 0, nvals = 0;
	bool negated = false;
	const struct pg_field *f;

	if (n->op == PG_FOP_NOT && n->sub[0]->op == PG_FOP_CMP) {
		negated = true;
		n = n->sub[0];
	}
	if (!or_leaves(n, leaves, &nl, PG_KF_MAX_KEYS) || !nl)
		return false;
	if (negated && nl != 1)
		return false;
	f = leaves[0]->field;
	for (size_t i = 0; i < nl; i++) {
		const struct pg_filter_node *l = leaves[i];

		if (l->field != f)
			return false;
		nvals += l->nvals;
		/* every leaf must be the same kind of test */
		bool eq = l->cmp == PG_CMP_EQ || l->cmp == PG_CMP_IN;
		bool ne = l->cmp == PG_CMP_NE;
		bool sw = l->cmp == PG_CMP_STARTSWITH;

		if (!(eq || ne || sw))
			return false;
		if ((leaves[0]->cmp == PG_CMP_NE) != ne || (leaves[0]->cmp == PG_CMP_STARTSWITH) != sw)
			return false;
		if (ne && (nl != 1 || negated))
			return false;
		if (sw && negated)
			return false;
	}
	bool deny = negated || leaves[0]->cmp == PG_CMP_NE;

	/* type: choose which programs run at all */
	if (f->kind == PG_FK_TYPE) {
		uint32_t mask = 0;

		for (size_t i = 0; i < nl; i++)
			for (size_t j = 0; j < leaves[i]->nvals; j++)
				mask |= 1u << leaves[i]->vals[j].num;
		kf->type_mask &= deny ? ~mask : mask;
		return true;
	}

	/* path startswith: prefixes, and only types that have a path */
	if (leaves[0]->cmp == PG_CMP_STARTSWITH) {
		if (f != &pg_fields[PG_FLD_PATH] || kf->n_prefixes || nvals > PG_MAX_PREFIXES)
			return false;
		for (size_t i = 0; i < nl; i++)
			if (leaves[i]->vals[0].len >= PG_PREFIX_LEN || leaves[i]->vals[0].len == 0)
				return false;
		for (size_t i = 0; i < nl; i++) {
			struct pg_prefix *p = &kf->prefixes[kf->n_prefixes++];

			memset(p, 0, sizeof(*p));
			p->len = (uint32_t)leaves[i]->vals[0].len;
			memcpy(p->s, leaves[i]->vals[0].str, p->len);
		}
		kf->type_mask &= PATH_TYPES;
		return true;
	}

	struct pg_kf_set *s = set_for(kf, f);

	if (!s || nvals > PG_KF_MAX_KEYS)
		return false;
	for (size_t i = 0; i < nl; i++)
		for (size_t j = 0; j < leaves[i]->nvals; j++)
			if (!key_ok(f, &leaves[i]->vals[j]))
				return false;
	/* one set per field: a second conjunct on it stays in userspace, unless both deny */
	if (s->mode != PG_FM_OFF && !(deny && s->mode == PG_FM_DENY))
		return false;
	if (s->n + nvals > PG_KF_MAX_KEYS)
		return false;
	if (s == &kf->ports && deny)
		return false; /* "dport != 53" also holds for events without a port: keep it exact */
	s->mode = deny ? PG_FM_DENY : PG_FM_ALLOW;
	for (size_t i = 0; i < nl; i++)
		for (size_t j = 0; j < leaves[i]->nvals; j++)
			set_add(s, f, &leaves[i]->vals[j]);
	if (s == &kf->ports)
		kf->type_mask &= PORT_TYPES;
	return true;
}

int pg_kfilter__plan(const struct pg_filter *f, struct pg_kfilter *kf)
{
	const struct pg_filter_node **conj, **kernel, **user;
	size_t n, nk = 0, nu = 0;
	int err = 0;

	memset(kf, 0, sizeof(*kf));
	kf->type_mask = ALL_TYPES;
	if (!f)
		return 0;
	n = pg_filter__conjuncts(f, NULL, 0);
	if (!n)
		return 0;
	conj = calloc(3 * n, sizeof(*conj)); /* all, then the kernel's, then userspace's */
	if (!conj)
		return -ENOMEM;
	kernel = conj + n;
	user = conj + 2 * n;
	pg_filter__conjuncts(f, conj, n);
	for (size_t i = 0; i < n; i++) {
		if (take(kf, conj[i]))
			kernel[nk++] = conj[i];
		else
			user[nu++] = conj[i];
	}
	if ((nk && !(kf->kernel = pg_filter__from_conjuncts(kernel, nk))) ||
	    (nu && !(kf->residual = pg_filter__from_conjuncts(user, nu))))
		err = -ENOMEM;
	free(conj);
	return err;
}

void pg_kfilter__release(struct pg_kfilter *kf)
{
	pg_filter__free(kf->kernel);
	pg_filter__free(kf->residual);
	kf->kernel = NULL;
	kf->residual = NULL;
}

static bool set_match(const struct pg_kf_set *s, uint64_t key, const char *comm16)
{
	bool hit = false;

	if (s->mode == PG_FM_OFF)
		return true;
	for (size_t i = 0; i < s->n && !hit; i++)
		hit = comm16 ? !memcmp(s->comms[i], comm16, 16) : s->keys[i] == key;
	return s->mode == PG_FM_ALLOW ? hit : !hit;
}

bool pg_kfilter__match(const struct pg_kfilter *kf, const struct pg_event *ev)
{
	const struct pg_event_hdr *h = &ev->r.hdr;
	unsigned int type = h->type;
	char comm[16] = { 0 };

	if (type >= 32 || !(kf->type_mask & (1u << type)))
		return false;
	memcpy(comm, h->comm, strnlen(h->comm, sizeof(comm))); /* zero padded, as the kernel's */
	if (!set_match(&kf->pids, h->pid, NULL) || !set_match(&kf->uids, h->uid, NULL) ||
	    !set_match(&kf->cgroups, h->cgroup_id, NULL) || !set_match(&kf->comms, 0, comm))
		return false;
	if ((1u << type) & PORT_TYPES) {
		unsigned int port = type == PG_EV_CONNECT ? ev->r.connect.dport : ev->r.dns.dport;

		if (!set_match(&kf->ports, port, NULL))
			return false;
	}
	if (kf->n_prefixes && ((1u << type) & PATH_TYPES)) {
		const char *path = type == PG_EV_EXEC ? ev->r.exec.path : ev->r.open.path;
		size_t plen = strnlen(path, PG_PATH_LEN);

		for (uint32_t i = 0; i < kf->n_prefixes; i++)
			if (kf->prefixes[i].len <= plen && !memcmp(path, kf->prefixes[i].s, kf->prefixes[i].len))
				return true;
		return false;
	}
	return true;
}
