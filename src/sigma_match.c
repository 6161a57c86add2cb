// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Compiled Sigma rules over one event. A field's value is rendered at most once per event and
 * lower-cased at most once (Sigma compares case-insensitively unless |cased): a hundred rules
 * that all look at CommandLine cost one lower-case copy, not a hundred. A selection's result is
 * kept while its rule's condition is evaluated, so "1 of selection_*" and a later "not
 * selection_x" do not match it twice.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sigma.h"

/* per field: a rendering and a lower-case copy; the ancestors are the widest (the labels,
 * "key=value" each, take at most 2 * PG_POD_LABELS_BYTES) */
#define SCRATCH_PER_FIELD (2 * PG_CMDLINE_LEN + 2 * PG_PROC_ANCESTORS * PG_PATH_LEN)

int sg_ctx_init(struct sg_ctx *c, const struct pg_ruleset *rs)
{
	memset(c, 0, sizeof(*c));
	c->rs = rs;
	c->vals = calloc(rs->nfields ? rs->nfields : 1, sizeof(*c->vals));
	c->scratch_cap = (rs->nfields ? rs->nfields : 1) * SCRATCH_PER_FIELD;
	c->scratch = malloc(c->scratch_cap);
	c->md = pcre2_match_data_create(16, NULL);
	if (!c->vals || !c->scratch || !c->md) {
		sg_ctx_release(c);
		return -ENOMEM;
	}
	return 0;
}

void sg_ctx_release(struct sg_ctx *c)
{
	free(c->vals);
	free(c->scratch);
	pcre2_match_data_free(c->md);
	memset(c, 0, sizeof(*c));
}

void sg_ctx_event(struct sg_ctx *c, const struct pg_event *ev)
{
	c->ev = ev;
	c->scratch_len = 0;
	if (!++c->gen) { /* wrapped: forget every old mark */
		for (size_t i = 0; i < c->rs->nfields; i++)
			c->vals[i].gen = 0;
		c->gen = 1;
	}
}

static char *scratch(struct sg_ctx *c, size_t n)
{
	char *p;

	if (c->scratch_cap - c->scratch_len < n)
		return NULL; /* cannot happen: SCRATCH_PER_FIELD bounds every field */
	p = c->scratch + c->scratch_len;
	c->scratch_len += n;
	return p;
}

static void set1(struct sg_fval *v, const char *s, size_t len)
{
	v->present = true;
	v->n = 1;
	v->s[0] = s;
	v->len[0] = len;
	v->lower[0] = NULL;
}

/* argv joined by spaces, into scratch */
static void join_argv(struct sg_ctx *c, const struct pg_exec_event *e, struct sg_fval *v)
{
	size_t len = e->argv_len < PG_ARGV_LEN ? e->argv_len : PG_ARGV_LEN, i = 0, n = 0;
	char *buf = scratch(c, PG_CMDLINE_LEN);

	if (!buf)
		return;
	for (unsigned int a = 0; a < e->argc && i < len; a++) {
		size_t l = strnlen(e->argv + i, len - i);

		if (a && n < PG_CMDLINE_LEN - 1)
			buf[n++] = ' ';
		if (l > PG_CMDLINE_LEN - 1 - n)
			l = PG_CMDLINE_LEN - 1 - n;
		memcpy(buf + n, e->argv + i, l);
		n += l;
		i += strnlen(e->argv + i, len - i) + 1;
	}
	buf[n] = 0;
	set1(v, buf, n);
}

/* A number as text (snprintf was a tenth of a rule-heavy run's time). */
static void set_num(struct sg_ctx *c, struct sg_fval *v, int64_t num)
{
	char tmp[24], *buf = scratch(c, 24);
	uint64_t u = num < 0 ? 0 - (uint64_t)num : (uint64_t)num;
	size_t n = 0, i = 0;

	if (!buf)
		return;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (num < 0)
		buf[i++] = '-';
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = 0;
	set1(v, buf, i);
	v->isnum = true;
	v->num = num;
}

static void set_name(struct sg_fval *v, const char *name)
{
	if (name)
		set1(v, name, strlen(name));
}

/* An event field rendered the way docs/events.md writes it. */
static void render_pgfield(struct sg_ctx *c, const struct pg_field *f, struct sg_fval *v)
{
	const struct pg_event *ev = c->ev;
	unsigned int type = ev->r.hdr.type;
	const char *base = (const char *)&ev->r;
	int off;

	if (f->kind == PG_FK_META || f->kind == PG_FK_POD) {
		const char *s = f->kind == PG_FK_POD
					? pg_field_pod(ev, f)
					: *(const char *const *)((const char *)&ev->meta + f->meta_off);

		if (s)
			set1(v, s, strlen(s));
		return;
	}
	off = pg_field_offset(f, type);
	if (off < 0)
		return;
	switch (f->kind) {
	case PG_FK_UINT:
	case PG_FK_INT:
		set_num(c, v, pg_field_int(ev, f, off));
		return;
	case PG_FK_FLAG:
		set_name(v, pg_field_int(ev, f, off) ? "true" : "false");
		v->isnum = true;
		v->num = pg_field_int(ev, f, off);
		return;
	case PG_FK_STR:
		set1(v, base + off, strnlen(base + off, f->size));
		return;
	case PG_FK_TYPE:
		set_name(v, pg_event_type_name(type));
		return;
	case PG_FK_ARGV:
		if (type == PG_EV_EXEC)
			join_argv(c, &ev->r.exec, v);
		return;
	case PG_FK_ADDR: {
		int foff = pg_field_offset(&pg_fields[PG_FLD_FAMILY], type);
		uint16_t fam;
		char *buf = scratch(c, INET6_ADDRSTRLEN);

		if (foff < 0 || !buf)
			return;
		memcpy(&fam, base + foff, sizeof(fam));
		if ((fam != AF_INET && fam != AF_INET6) ||
		    !inet_ntop(fam, base + off, buf, INET6_ADDRSTRLEN))
			buf[0] = 0;
		set1(v, buf, strlen(buf));
		return;
	}
	case PG_FK_FAMILY: {
		int64_t fam = pg_field_int(ev, f, off);

		if (fam == AF_INET || fam == AF_INET6)
			set_name(v, fam == AF_INET ? "inet" : "inet6");
		else
			set_num(c, v, fam);
		return;
	}
	case PG_FK_QTYPE: {
		int64_t t = pg_field_int(ev, f, off);
		const char *n = pg_dns_type_name((unsigned int)t);
		char *buf;

		if (n) {
			set_name(v, n);
			return;
		}
		buf = scratch(c, 16);
		if (buf) {
			snprintf(buf, 16, "TYPE%lld", (long long)t);
			set1(v, buf, strlen(buf));
		}
		return;
	}
	case PG_FK_SETID_CALL:
		set_name(v, pg_setid_call_name((unsigned int)pg_field_int(ev, f, off)));
		return;
	case PG_FK_PTRACE_REQUEST: {
		int64_t rq = pg_field_int(ev, f, off);
		const char *n = pg_ptrace_request_name((unsigned int)rq);

		if (n)
			set_name(v, n);
		else
			set_num(c, v, rq);
		return;
	}
	default: /* packet-only kinds: no log source has packets */
		return;
	}
}

/* The pod's labels, each rendered "key=value": a value matches when one of them does. */
static void labels(struct sg_ctx *c, struct sg_fval *v)
{
	const struct pg_pod_meta *pod = c->ev->meta.pod;

	for (unsigned int i = 0; pod && i < pod->nlabels && v->n < SG_VALUES_MAX; i++) {
		const struct pg_label *l = &pod->labels[i];
		size_t cap = strlen(l->key) + (l->value ? strlen(l->value) : 0) + 2;
		char *d = scratch(c, cap);

		if (!d)
			break;
		v->s[v->n] = d;
		v->len[v->n] = pg_label_text(l, d, cap);
		v->lower[v->n] = NULL;
		v->n++;
	}
	v->present = v->n > 0;
}

static const struct sg_fval *fetch(struct sg_ctx *c, unsigned int field)
{
	struct sg_fval *v = &c->vals[field];
	const struct sg_field *f = &c->rs->fields[field];
	const struct pg_event *ev = c->ev;
	const struct pg_event_proc *p = &ev->meta.proc;

	if (v->gen == c->gen)
		return v;
	v->gen = c->gen;
	v->present = false;
	v->isnum = false;
	v->n = 0;
	switch (f->acc) {
	case SA_EXE:
		if (p->exe)
			set1(v, p->exe, strlen(p->exe));
		else if (ev->r.hdr.type == PG_EV_EXEC) /* no process table: the exec's own path */
			set1(v, ev->r.exec.path, strnlen(ev->r.exec.path, sizeof(ev->r.exec.path)));
		break;
	case SA_CMDLINE:
		if (p->cmdline)
			set1(v, p->cmdline, strlen(p->cmdline));
		else if (ev->r.hdr.type == PG_EV_EXEC)
			join_argv(c, &ev->r.exec, v);
		break;
	case SA_PARENT_EXE:
		if (p->parent_exe)
			set1(v, p->parent_exe, strlen(p->parent_exe));
		break;
	case SA_PARENT_CMDLINE:
		if (p->parent_cmdline)
			set1(v, p->parent_cmdline, strlen(p->parent_cmdline));
		break;
	case SA_ANCESTORS:
		for (unsigned int i = 0; i < p->nancestors && i < PG_PROC_ANCESTORS; i++) {
			v->s[i] = p->ancestors[i];
			v->len[i] = strlen(p->ancestors[i]);
			v->lower[i] = NULL;
		}
		v->n = p->nancestors < PG_PROC_ANCESTORS ? p->nancestors : PG_PROC_ANCESTORS;
		v->present = v->n > 0;
		break;
	case SA_TRUE:
		set_name(v, "true");
		break;
	case SA_LABELS:
		labels(c, v);
		break;
	case SA_LABEL:
		for (unsigned int i = 0; ev->meta.pod && i < ev->meta.pod->nlabels; i++) {
			const struct pg_label *l = &ev->meta.pod->labels[i];

			if (!strcmp(l->key, f->key)) {
				set1(v, l->value ? l->value : "", l->value ? strlen(l->value) : 0);
				break;
			}
		}
		break;
	case SA_PGFIELD:
		render_pgfield(c, f->pf, v);
		break;
	}
	return v;
}

static const char *lower_of(struct sg_ctx *c, struct sg_fval *v, unsigned int i)
{
	char *d;

	if (v->lower[i])
		return v->lower[i];
	d = scratch(c, v->len[i] + 1);
	if (!d)
		return v->s[i];
	for (size_t k = 0; k < v->len[i]; k++) {
		char ch = v->s[i][k];

		d[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	d[v->len[i]] = 0;
	v->lower[i] = d;
	return d;
}

/*
 * Wildcards over bytes: '*' any run, '?' one byte, '\' makes the next byte literal. Greedy
 * with one backtrack point, linear in practice (O(n*m) at worst, n and m at most ~1 KiB).
 */
static bool glob_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
			continue;
		}
		if (pi < pn) {
			bool esc = p[pi] == '\\' && pi + 1 < pn;
			char pc = esc ? p[pi + 1] : p[pi];

			if ((!esc && pc == '?') || pc == s[si]) {
				pi += esc ? 2 : 1;
				si++;
				continue;
			}
		}
		if (star == (size_t)-1)
			return false;
		pi = star + 1;
		si = ++mark;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static bool cidr_match(const struct sg_ctx *c, const struct sg_field *f, const struct sg_value *val)
{
	const struct pg_event *ev = c->ev;
	unsigned int type = ev->r.hdr.type;
	int off = pg_field_offset(f->pf, type);
	int foff = pg_field_offset(&pg_fields[PG_FLD_FAMILY], type);
	const unsigned char *a;
	uint16_t fam;
	unsigned int bytes, bits;

	if (off < 0 || foff < 0)
		return false;
	memcpy(&fam, (const char *)&ev->r + foff, sizeof(fam));
	if (fam != val->family)
		return false;
	a = (const unsigned char *)&ev->r + off;
	bytes = val->prefix / 8;
	bits = val->prefix % 8;
	if (memcmp(a, val->addr, bytes))
		return false;
	return !bits || ((a[bytes] ^ val->addr[bytes]) & (0xff << (8 - bits)) & 0xff) == 0;
}

static bool text_match(const struct sg_value *val, const char *s, size_t n)
{
	switch (val->op) {
	case SG_EQ:
		return n == val->len && !memcmp(s, val->s, n);
	case SG_CONTAINS:
		return val->len <= n && memmem(s, n, val->s, val->len);
	case SG_STARTSWITH:
		return val->len <= n && !memcmp(s, val->s, val->len);
	case SG_ENDSWITH:
		return val->len <= n && !memcmp(s + n - val->len, val->s, val->len);
	case SG_GLOB:
		return glob_match(val->s, val->len, s, n);
	default:
		return false;
	}
}

static bool value_match(struct sg_ctx *c, const struct sg_cond *cond, const struct sg_value *val)
{
	struct sg_fval *v = (struct sg_fval *)fetch(c, cond->field);

	switch (val->op) {
	case SG_NULL:
		return !v->present || (v->n == 1 && !v->len[0]);
	case SG_EXISTS:
		return v->present == (val->num != 0);
	default:
		break;
	}
	if (!v->present)
		return false;
	switch (val->op) {
	case SG_NUM_EQ:
		return v->isnum && v->num == val->num;
	case SG_LT:
		return v->isnum && v->num < val->num;
	case SG_LTE:
		return v->isnum && v->num <= val->num;
	case SG_GT:
		return v->isnum && v->num > val->num;
	case SG_GTE:
		return v->isnum && v->num >= val->num;
	case SG_CIDR:
		return cidr_match(c, &c->rs->fields[cond->field], val);
	case SG_RE:
		for (unsigned int i = 0; i < v->n; i++)
			if (pcre2_match(val->re, (PCRE2_SPTR)v->s[i], v->len[i], 0, 0, c->md,
					NULL) >= 0)
				return true;
		return false;
	default:
		for (unsigned int i = 0; i < v->n; i++)
			if (text_match(val, cond->cased ? v->s[i] : lower_of(c, v, i), v->len[i]))
				return true;
		return false;
	}
}

static bool cond_match(struct sg_ctx *c, const struct sg_cond *cond)
{
	for (size_t i = 0; i < cond->nvals; i++) {
		bool m = value_match(c, cond, &cond->vals[i]);

		if (cond->all && !m)
			return false;
		if (!cond->all && m)
			return true;
	}
	return cond->all;
}

static bool selection_match(struct sg_ctx *c, const struct sg_rule *r, unsigned int s)
{
	const struct sg_selection *sel = &r->sels[s];
	uint64_t bit = 1ULL << s;
	bool m = false;

	if (c->sel_done & bit)
		return c->sel_true & bit;
	for (size_t a = 0; a < sel->nalts && !m; a++) {
		const struct sg_alt *alt = &sel->alts[a];

		m = true;
		for (size_t k = 0; k < alt->nconds && m; k++)
			m = cond_match(c, &alt->conds[k]);
	}
	c->sel_done |= bit;
	if (m)
		c->sel_true |= bit;
	return m;
}

static bool eval(struct sg_ctx *c, const struct sg_rule *r, const struct sg_node *n)
{
	switch (n->kind) {
	case SN_SEL:
		return selection_match(c, r, n->sel);
	case SN_AND:
		return eval(c, r, n->l) && eval(c, r, n->r);
	case SN_OR:
		return eval(c, r, n->l) || eval(c, r, n->r);
	case SN_NOT:
		return !eval(c, r, n->l);
	case SN_ONE_OF:
		for (size_t i = 0; i < n->nsels; i++)
			if (selection_match(c, r, n->sels[i]))
				return true;
		return false;
	case SN_ALL_OF:
		for (size_t i = 0; i < n->nsels; i++)
			if (!selection_match(c, r, n->sels[i]))
				return false;
		return true;
	}
	return false;
}

bool sg_rule_matches(struct sg_ctx *c, const struct sg_rule *r)
{
	if (r->corr || !sg_logsource_covers(r->logsource, c->ev))
		return false;
	c->sel_done = c->sel_true = 0;
	return eval(c, r, r->cond);
}

void sg_field_text(struct sg_ctx *c, unsigned int field, const char **s, size_t *len)
{
	const struct sg_fval *v = fetch(c, field);

	if (v->present && v->n) {
		*s = v->s[0];
		*len = v->len[0];
	} else {
		*s = "";
		*len = 0;
	}
}
