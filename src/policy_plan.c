// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kill and deny rules into the kernel's selector bitmaps (bpf/sensor.h explains the maps).
 *
 * For each event type the kernel can act on, a rule's match is simplified for that type
 * (`type == "open"` is a constant there, a field the type lacks compares false) and written in
 * disjunctive form: each disjunct, a conjunction of comparisons, becomes one kernel rule (a bit).
 * Every comparison must be one the kernel decides (a dimension of enum pg_pol_dim with ==, in,
 * !=, startswith or endswith as the dimension allows); anything else refuses the whole rule and
 * names the comparison, so a kill or a deny never waits for userspace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "policy.h"

#define MAX_CONJ 64 /* kernel rules one policy rule may become, per event type */
#define MAX_LITS 64 /* comparisons in one of them */
#define MAX_SELS 256 /* values one dimension of one kernel rule may list */

/* The event types a policy can act on, and the dimensions the kernel sees for each. */
#define D(x) (1u << PG_DIM_##x)
#define PROC_DIMS (D(UID) | D(CGROUP) | D(EXE) | D(PEXE))
static const uint32_t type_dims[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = PROC_DIMS | D(PATH) | D(SUFFIX) | D(UNLINKED),
	[PG_EV_OPEN] = PROC_DIMS | D(COMM) | D(PATH) | D(SUFFIX),
	[PG_EV_CONNECT] = PROC_DIMS | D(COMM) | D(DADDR) | D(DPORT),
	[PG_EV_DNS] = D(UID) | D(CGROUP) | D(DADDR) | D(DPORT) | D(QNAME),
	[PG_EV_SETID] = PROC_DIMS | D(COMM),
	[PG_EV_PTRACE] = PROC_DIMS | D(COMM),
};
#define KERNEL_TYPES                                                                           \
	((1u << PG_EV_EXEC) | (1u << PG_EV_OPEN) | (1u << PG_EV_CONNECT) | (1u << PG_EV_DNS) | \
	 (1u << PG_EV_SETID) | (1u << PG_EV_PTRACE))

static bool is_lpm_dim(unsigned int d)
{
	return d == PG_DIM_PATH || d == PG_DIM_SUFFIX || d == PG_DIM_DADDR || d == PG_DIM_EXE ||
	       d == PG_DIM_PEXE;
}

const char *pg_pol_mech_name(unsigned int mech)
{
	switch (mech) {
	case PG_MECH_SIGNAL: return "signal";
	case PG_MECH_LSM: return "lsm";
	case PG_MECH_CGROUP: return "cgroup";
	default: return "none";
	}
}

/* --- disjunctive form ---------------------------------------------------------------------- */

struct lit {
	const struct pg_filter_node *n; /* a comparison */
	bool neg; /* under a "not" */
};

struct conj {
	struct lit l[MAX_LITS];
	size_t n;
};

struct dnf {
	struct conj *c;
	size_t n;
};

struct ctx {
	const struct pg_policy_env *env;
	const struct pg_policy_rule *rule;
	unsigned int type;
	char *err;
	size_t errlen;
};

/* "FILE:LINE:COLUMN: rule NAME: " then the message, for the comparison n (or the rule). */
__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const struct pg_filter_node *n,
						      const char *fmt, ...)
{
	char where[PATH_MAX + 64];
	va_list ap;
	int len;

	if (n)
		pg_policy_rule__where(c->rule, n->column, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "%s:%u:%u",
			 c->rule->policy ? c->rule->policy->file : "?", c->rule->line,
			 c->rule->column);
	len = snprintf(c->err, c->errlen, "%s: rule %s: ", where, c->rule->name);
	if (len >= 0 && (size_t)len < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + len, c->errlen - (size_t)len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void dnf_free(struct dnf *d)
{
	free(d->c);
	d->c = NULL;
	d->n = 0;
}

static int dnf_true(struct dnf *d)
{
	d->c = calloc(1, sizeof(*d->c));
	d->n = 1;
	return d->c ? 0 : -ENOMEM;
}

/*
 * A comparison's value when the event type alone decides it: 1 true, 0 false, -1 when the
 * event must be looked at. type compares against the type; a field the type lacks compares
 * false, whatever the operator (the filter language's rule: docs/filter.md).
 */
static int lit_const(const struct pg_filter_node *n, unsigned int type)
{
	const struct pg_field *f = n->field;
	bool any = false;

	if (f->kind == PG_FK_TYPE) {
		for (size_t i = 0; i < n->nvals; i++)
			any |= (unsigned int)n->vals[i].num == type;
		return n->cmp == PG_CMP_NE ? !any : any;
	}
	/* userspace's fields (node, exe, ancestors...) belong to every type */
	if (f->kind != PG_FK_META && f->kind != PG_FK_ANCESTORS && pg_field_offset(f, type) < 0)
		return 0;
	return -1;
}

static int dnf_of(struct ctx *c, const struct pg_filter_node *n, bool neg, struct dnf *out);

/* The conjunctions of a and b pairwise, into out. */
static int dnf_product(struct ctx *c, const struct pg_filter_node *at, const struct dnf *a,
		       const struct dnf *b, struct dnf *out)
{
	if (a->n * b->n > MAX_CONJ)
		return fail(
			c, at,
			"the match becomes more than %d kernel rules for %s events: simplify it or split it into several rules",
			MAX_CONJ, pg_event_type_name(c->type));
	out->n = 0;
	out->c = calloc(a->n * b->n + 1, sizeof(*out->c));
	if (!out->c)
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++) {
		for (size_t j = 0; j < b->n; j++) {
			struct conj *r = &out->c[out->n++];

			if (a->c[i].n + b->c[j].n > MAX_LITS) {
				dnf_free(out);
				return fail(c, at, "more than %d comparisons in one kernel rule",
					    MAX_LITS);
			}
			memcpy(r->l, a->c[i].l, a->c[i].n * sizeof(r->l[0]));
			memcpy(r->l + a->c[i].n, b->c[j].l, b->c[j].n * sizeof(r->l[0]));
			r->n = a->c[i].n + b->c[j].n;
		}
	}
	return 0;
}

static int dnf_of(struct ctx *c, const struct pg_filter_node *n, bool neg, struct dnf *out)
{
	bool conjunctive;
	int v, err;

	out->c = NULL;
	out->n = 0;
	switch (n->op) {
	case PG_FOP_TRUE: return neg ? 0 : dnf_true(out);
	case PG_FOP_NOT: return dnf_of(c, n->sub[0], !neg, out);
	case PG_FOP_CMP:
		v = lit_const(n, c->type);
		if (v >= 0)
			return (v ^ neg) ? dnf_true(out) : 0;
		if ((err = dnf_true(out)))
			return err;
		out->c[0].l[0] = (struct lit){ n, neg };
		out->c[0].n = 1;
		return 0;
	case PG_FOP_AND:
	case PG_FOP_OR: break;
	}
	conjunctive = (n->op == PG_FOP_AND) != neg;
	if (conjunctive && (err = dnf_true(out)))
		return err;
	for (size_t i = 0; i < n->nsub; i++) {
		struct dnf kid, prod;

		if ((err = dnf_of(c, n->sub[i], neg, &kid))) {
			dnf_free(out);
			return err;
		}
		if (conjunctive) {
			err = dnf_product(c, n, out, &kid, &prod);
			dnf_free(out);
			dnf_free(&kid);
			if (err)
				return err;
			*out = prod;
			if (!out->n)
				return 0; /* false: the rest cannot make it true */
		} else if (kid.n) {
			struct conj *nc;

			if (out->n + kid.n > MAX_CONJ) {
				dnf_free(out);
				dnf_free(&kid);
				return fail(
					c, n,
					"the match becomes more than %d kernel rules for %s events: simplify it or split it into several rules",
					MAX_CONJ, pg_event_type_name(c->type));
			}
			nc = realloc(out->c, (out->n + kid.n) * sizeof(*nc));
			if (!nc) {
				dnf_free(out);
				dnf_free(&kid);
				return -ENOMEM;
			}
			memcpy(nc + out->n, kid.c, kid.n * sizeof(*nc));
			out->c = nc;
			out->n += kid.n;
			dnf_free(&kid);
		} else {
			dnf_free(&kid); /* false: nothing to add, but its array was made */
		}
	}
	return 0;
}

/* --- selectors: a comparison as values of one dimension ----------------------------------- */

struct sel {
	unsigned char dim;
	unsigned char kind; /* PG_POL_EXACT or PG_POL_UNDER */
	unsigned char level; /* cgroup, UNDER: the depth of the cgroup named */
	bool has_path; /* cgroup: s is its path (a cgroup_id comparison has none) */
	uint64_t v[2]; /* hash dimensions */
	unsigned int bits; /* LPM dimensions: bits of data that count */
	unsigned char data[PG_POL_PATH_BYTES];
	const char *s; /* cgroup and qname: the value as written (its length in len) */
	size_t len;
};

/* One comparison: positive (the value must be in sels) or not, on dimension dim. */
struct csel {
	unsigned int dim;
	bool positive;
	struct sel *sels;
	size_t n;
};

static const char *const dim_what =
	"the kernel decides type, uid, comm, cgroup, cgroup_id, path, exe, parent_exe, daddr, dport, "
	"qname and exe_unlinked (docs/enforce.md)";

static int unsupported(struct ctx *c, const struct pg_filter_node *n, const char *why)
{
	char text[256];

	pg_filter_node__format(n, text, sizeof(text));
	return fail(c, n, "'%s' cannot be decided in the kernel: %s", text, why);
}

static int not_for_type(struct ctx *c, const struct pg_filter_node *n, const char *why)
{
	char text[256], msg[384];

	pg_filter_node__format(n, text, sizeof(text));
	snprintf(msg, sizeof(msg), "'%s' cannot be decided in the kernel for %s events: %s", text,
		 pg_event_type_name(c->type), why);
	return fail(c, n, "%s", msg);
}

/* Why a field is not one the kernel decides, in words an operator can act on. */
static const char *field_why(const struct pg_field *f)
{
	if (f == &pg_fields[PG_FLD_POD_UID] || f == &pg_fields[PG_FLD_CONTAINER_ID])
		return "pods and containers are named in userspace, after the kernel has decided; scope the rule by the pod's cgroup instead (cgroup startswith \"/kubepods.slice/.../\")";
	if (f == &pg_fields[PG_FLD_RET])
		return "the result is known only after the call, and a deny decides before it";
	if (f == &pg_fields[PG_FLD_PID] || f == &pg_fields[PG_FLD_TID] ||
	    f == &pg_fields[PG_FLD_PPID])
		return "pids are reused; scope the rule by cgroup, uid, comm or path";
	if (f == &pg_fields[PG_FLD_ANCESTORS] || f == &pg_fields[PG_FLD_CMDLINE] ||
	    f == &pg_fields[PG_FLD_PARENT_CMDLINE])
		return "the kernel keeps each process's program and its parent's, no more: match exe or parent_exe";
	return NULL;
}

static int lpm_bytes(struct ctx *c, const struct pg_filter_node *n, struct sel *s, const void *p,
		     size_t len, bool nul)
{
	if (len + nul > PG_POL_PATH_BYTES || (!nul && !len))
		return unsupported(c, n,
				   len ? "the kernel compares paths of at most 251 bytes" :
					 "an empty prefix is every path: leave the comparison out");
	memcpy(s->data, p, len);
	if (nul)
		s->data[len++] = 0;
	s->bits = (unsigned int)len * 8;
	return 0;
}

/* cgroup == "/a/b" (exact) or startswith "/a/b/" (under): the cgroup by its path. */
static int cgroup_sel(struct ctx *c, const struct pg_filter_node *n,
		      const struct pg_filter_value *v, bool under, struct sel *s)
{
	char path[4096];
	unsigned int level = 0;
	size_t len = v->len;
	int err;

	if (!v->len || v->str[0] != '/')
		return unsupported(
			c, n,
			"a cgroup is a path below the cgroup2 mount, e.g. \"/system.slice/nginx.service\"");
	if (under) {
		if (v->str[len - 1] != '/')
			return unsupported(
				c, n,
				"the kernel matches whole cgroups: write 'cgroup == \"/a/b\"' for the cgroup itself and 'cgroup startswith \"/a/b/\"' for those below it");
		if (len > 1)
			len--;
	}
	if (len >= sizeof(path) || !c->env->cgroup)
		return unsupported(c, n, "no cgroup2 file system to look the cgroup up in");
	memcpy(path, v->str, len);
	path[len] = 0;
	err = c->env->cgroup(c->env->ctx, path, &s->v[0], &level);
	if (err) {
		char text[256];

		pg_filter_node__format(n, text, sizeof(text));
		return fail(c, n, "'%s': no cgroup %s here (%s): create it first, or leave it out",
			    text, path, strerror(-err));
	}
	if (under && level >= 255)
		return unsupported(c, n, "that cgroup is nested too deep");
	s->kind = under ? PG_POL_UNDER : PG_POL_EXACT;
	s->level = (unsigned char)level;
	s->has_path = true;
	s->s = v->str;
	s->len = v->len;
	return 0;
}

/*
 * The hash of a dotted name (len bytes) as the kernel makes it (bpf/sensor.h), and, when
 * suffixes is not NULL, of each of its suffixes at a label boundary (the whole name not among
 * them), shortest first, at most max of them; returns the whole name's, *n the suffixes'.
 */
static uint64_t qname_hash_n(const char *name, size_t len, uint64_t *suffixes, size_t max,
			     size_t *n)
{
	uint64_t s = PG_POL_FNV_OFFSET;
	size_t end = len, k = 0;

	for (size_t i = len; i-- > 0;) {
		if (name[i] != '.' && i > 0)
			continue;
		{
			size_t start = name[i] == '.' ? i + 1 : i;
			uint64_t h = PG_POL_FNV_OFFSET;

			for (size_t j = start; j < end; j++)
				h = pg_pol_label_step(h, (unsigned char)name[j]);
			s = pg_pol_fold(s, h);
			if (i > 0 && suffixes && k < max)
				suffixes[k++] = s;
			end = i;
		}
	}
	if (n)
		*n = k;
	return s;
}

static uint64_t qname_hash(const char *name, size_t len, uint64_t *suffixes, size_t max)
{
	return qname_hash_n(name, len, suffixes, max, NULL);
}

/* One value of a comparison as a selector of dimension dim. */
static int value_sel(struct ctx *c, const struct pg_filter_node *n, const struct pg_filter_value *v,
		     unsigned int dim, struct sel *s)
{
	const struct pg_field *f = n->field;

	memset(s, 0, offsetof(struct sel, data));
	s->dim = (unsigned char)dim;
	switch (dim) {
	case PG_DIM_UID:
		if (v->num < 0 || v->num > 0xffffffffLL)
			return unsupported(c, n, "a uid is a number from 0 to 4294967295");
		s->v[0] = (uint64_t)v->num;
		return 0;
	case PG_DIM_DPORT:
		if (v->num < 0 || v->num > 0xffff)
			return unsupported(c, n, "a port is a number from 0 to 65535");
		s->v[0] = (uint64_t)v->num;
		return 0;
	case PG_DIM_COMM:
		if (v->len > 15)
			return unsupported(c, n, "a comm holds 15 bytes at most");
		memcpy(s->v, v->str, v->len);
		return 0;
	case PG_DIM_CGROUP:
		if (f == &pg_fields[PG_FLD_CGROUP_ID]) {
			if (v->num < 0)
				return unsupported(c, n, "a cgroup id is a positive number");
			s->v[0] = (uint64_t)v->num;
			return 0;
		}
		return cgroup_sel(c, n, v, n->cmp == PG_CMP_STARTSWITH, s);
	case PG_DIM_PATH:
	case PG_DIM_EXE:
	case PG_DIM_PEXE: return lpm_bytes(c, n, s, v->str, v->len, n->cmp != PG_CMP_STARTSWITH);
	case PG_DIM_SUFFIX: {
		unsigned char rev[PG_POL_PATH_BYTES];

		if (v->len > PG_POL_PATH_BYTES || !v->len)
			return lpm_bytes(c, n, s, v->str, v->len, false);
		for (size_t i = 0; i < v->len; i++)
			rev[i] = (unsigned char)v->str[v->len - 1 - i];
		return lpm_bytes(c, n, s, rev, v->len, false);
	}
	case PG_DIM_DADDR:
		/* the family first: an IPv6 prefix never covers an IPv4 address */
		s->data[0] = v->family == AF_INET ? 4 : 6;
		memcpy(s->data + 1, v->addr, v->family == AF_INET ? 4 : 16);
		s->bits = 8 + v->prefix;
		return 0;
	case PG_DIM_QNAME: {
		const char *name = v->str;
		size_t len = v->len;
		if (n->cmp == PG_CMP_ENDSWITH) {
			if (len < 2 || name[0] != '.')
				return unsupported(
					c, n,
					"the kernel matches whole labels: write 'qname endswith \".example.com\"' for the names below example.com, and 'qname == \"example.com\"' for the name itself");
			name++;
			len--;
			s->kind = PG_POL_UNDER;
		}
		if (!len || name[len - 1] == '.' || name[0] == '.' || strstr(name, ".."))
			return unsupported(
				c, n,
				"write a DNS name as pangolin reports it: labels joined by dots, without the final dot");
		if (len > PG_QNAME_LEN - 1)
			return unsupported(c, n, "a DNS name has at most 253 characters");
		for (size_t i = 0; i < len; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				return unsupported(
					c, n,
					"write DNS names in lowercase: the kernel compares them ignoring case");
		s->v[0] = qname_hash(name, len, NULL, 0);
		s->s = name;
		s->len = len;
		return 0;
	}
	case PG_DIM_UNLINKED: s->v[0] = 1; return 0;
	}
	return unsupported(c, n, dim_what);
}

/* Which dimension a comparison is on for this type, and whether it is positive. */
static int lit_dim(struct ctx *c, const struct lit *l, unsigned int *dim, bool *positive)
{
	const struct pg_filter_node *n = l->n;
	const struct pg_field *f = n->field;
	enum pg_cmp cmp = n->cmp;
	bool eq = cmp == PG_CMP_EQ || cmp == PG_CMP_IN || cmp == PG_CMP_NE;
	const char *why = field_why(f);

	*positive = (cmp != PG_CMP_NE) != l->neg;
	if (why)
		return unsupported(c, n, why);
	if (f == &pg_fields[PG_FLD_COMM])
		*dim = PG_DIM_COMM;
	else if (f == &pg_fields[PG_FLD_UID])
		*dim = PG_DIM_UID;
	else if (f == &pg_fields[PG_FLD_CGROUP_ID] || f == &pg_fields[PG_FLD_CGROUP])
		*dim = PG_DIM_CGROUP;
	else if (f == &pg_fields[PG_FLD_PATH])
		*dim = cmp == PG_CMP_ENDSWITH ? PG_DIM_SUFFIX : PG_DIM_PATH;
	else if (f == &pg_fields[PG_FLD_DADDR])
		*dim = PG_DIM_DADDR;
	else if (f == &pg_fields[PG_FLD_DPORT])
		*dim = PG_DIM_DPORT;
	else if (f == &pg_fields[PG_FLD_QNAME])
		*dim = PG_DIM_QNAME;
	else if (f == &pg_fields[PG_FLD_EXE_UNLINKED])
		*dim = PG_DIM_UNLINKED;
	else if (f == &pg_fields[PG_FLD_EXE])
		/* an exec's exe is the program it starts: its path */
		*dim = c->type == PG_EV_EXEC ? (cmp == PG_CMP_ENDSWITH ? PG_DIM_SUFFIX : PG_DIM_PATH)
					     : PG_DIM_EXE;
	else if (f == &pg_fields[PG_FLD_PARENT_EXE])
		*dim = PG_DIM_PEXE;
	else
		return unsupported(c, n, dim_what);

	if (!(type_dims[c->type] & (1u << *dim))) {
		if (*dim == PG_DIM_COMM && c->type == PG_EV_EXEC)
			return not_for_type(
				c, n,
				"an exec's comm is the new program's, known once the exec is done: match its path");
		if (c->type == PG_EV_DNS)
			return not_for_type(
				c, n,
				"a DNS query is decided on its packet, which knows its socket's uid and cgroup, not its process");
		return not_for_type(c, n, dim_what);
	}
	switch (*dim) {
	case PG_DIM_PATH:
	case PG_DIM_EXE:
	case PG_DIM_PEXE:
		if (eq || cmp == PG_CMP_STARTSWITH)
			return 0;
		break;
	case PG_DIM_SUFFIX: return 0;
	case PG_DIM_CGROUP:
		if (eq || (cmp == PG_CMP_STARTSWITH && f == &pg_fields[PG_FLD_CGROUP]))
			return 0;
		break;
	case PG_DIM_QNAME:
		if (eq || cmp == PG_CMP_ENDSWITH)
			return 0;
		break;
	case PG_DIM_UNLINKED:
		/* exe_unlinked == 0 is "not unlinked" */
		if (n->vals[0].num == 0)
			*positive = !*positive;
		return 0;
	default:
		if (eq)
			return 0;
	}
	return unsupported(
		c, n,
		"there the kernel compares it with ==, != and in (paths: also startswith, endswith; cgroup: startswith \"/a/b/\"; qname: endswith \".a.b\")");
}

static int lit_sels(struct ctx *c, const struct lit *l, struct csel *out)
{
	const struct pg_filter_node *n = l->n;
	int err;

	if ((err = lit_dim(c, l, &out->dim, &out->positive)))
		return err;
	if (n->nvals > MAX_SELS / 2)
		return unsupported(c, n, "more than 128 values in one list");
	out->sels = calloc(2 * n->nvals, sizeof(*out->sels));
	if (!out->sels)
		return -ENOMEM;
	for (size_t i = 0; i < n->nvals; i++) {
		struct sel *s = &out->sels[out->n++];

		if ((err = value_sel(c, n, &n->vals[i], out->dim, s)))
			return err;
		/* 'cgroup startswith "/"' is every cgroup: the root itself too */
		if (s->dim == PG_DIM_CGROUP && s->kind == PG_POL_UNDER && s->level == 0) {
			out->sels[out->n] = *s;
			out->sels[out->n++].kind = PG_POL_EXACT;
		}
	}
	return 0;
}

/* Is LPM selector a a prefix (bitwise) of b? */
static bool lpm_covers(const struct sel *a, const struct sel *b)
{
	unsigned int full = a->bits / 8, rest = a->bits % 8;

	if (a->bits > b->bits || memcmp(a->data, b->data, full))
		return false;
	return !rest || ((a->data[full] ^ b->data[full]) & (0xff00u >> rest) & 0xff) == 0;
}

/* Does cgroup or qname selector a contain b (the same, or b below it)? */
static bool str_covers(const struct sel *a, const struct sel *b)
{
	if (a->dim == PG_DIM_CGROUP) {
		if (!a->has_path || !b->has_path)
			return a->kind == b->kind && a->v[0] == b->v[0];
		if (a->kind == PG_POL_EXACT)
			return b->kind == PG_POL_EXACT && a->v[0] == b->v[0];
		/* a: "/x/" -> everything whose path starts with it */
		return b->len >= a->len && !memcmp(a->s, b->s, a->len) &&
		       (b->kind == PG_POL_UNDER || b->len > a->len);
	}
	/* qname: exact names, or UNDER suffixes ("x" covers "a.x" exact and ".a.x" under) */
	if (a->kind == PG_POL_EXACT)
		return b->kind == PG_POL_EXACT && a->len == b->len &&
		       !strncasecmp(a->s, b->s, a->len);
	return b->len > a->len && b->s[b->len - a->len - 1] == '.' &&
	       !strncasecmp(b->s + b->len - a->len, a->s, a->len);
}

/* The values in both sets (selectors as sets of keys they match). */
static size_t intersect(struct sel *a, size_t na, const struct sel *b, size_t nb, struct sel *out)
{
	size_t n = 0;

	for (size_t i = 0; i < na; i++) {
		for (size_t j = 0; j < nb && n < MAX_SELS; j++) {
			const struct sel *x = &a[i], *y = &b[j], *keep = NULL;

			if (is_lpm_dim(x->dim))
				keep = lpm_covers(x, y) ? y : lpm_covers(y, x) ? x : NULL;
			else if (x->dim == PG_DIM_CGROUP || x->dim == PG_DIM_QNAME)
				keep = str_covers(x, y) ? y : str_covers(y, x) ? x : NULL;
			else if (x->kind == y->kind && x->v[0] == y->v[0] && x->v[1] == y->v[1])
				keep = x;
			if (keep)
				out[n++] = *keep;
		}
	}
	return n;
}

/* --- the plan ------------------------------------------------------------------------------ */

/* One kernel rule: per dimension, the values required (pos) and refused (neg). */
struct krule {
	const struct pg_policy_rule *rule;
	unsigned char action, signal;
	unsigned int cls; /* priority class: deny, kill, would_deny, would_kill */
	struct {
		bool haspos;
		struct sel *pos, *neg;
		size_t npos, nneg;
	} d[PG_DIM_COUNT];
};

static void krule_release(struct krule *k)
{
	for (unsigned int d = 0; d < PG_DIM_COUNT; d++) {
		free(k->d[d].pos);
		free(k->d[d].neg);
	}
}

/* A conjunction into a kernel rule; *empty when no event can satisfy it. */
static int conj_krule(struct ctx *c, const struct conj *cj, struct krule *k, bool *empty)
{
	int err = 0;

	*empty = false;
	for (size_t i = 0; i < cj->n && !err && !*empty; i++) {
		struct csel cs = { 0 };

		if ((err = lit_sels(c, &cj->l[i], &cs))) {
			free(cs.sels);
			break;
		}
		if (!cs.positive) {
			struct sel *nn =
				realloc(k->d[cs.dim].neg, (k->d[cs.dim].nneg + cs.n) * sizeof(*nn));

			if (!nn) {
				err = -ENOMEM;
			} else {
				memcpy(nn + k->d[cs.dim].nneg, cs.sels, cs.n * sizeof(*nn));
				k->d[cs.dim].neg = nn;
				k->d[cs.dim].nneg += cs.n;
			}
			free(cs.sels);
		} else if (!k->d[cs.dim].haspos) {
			k->d[cs.dim].haspos = true;
			k->d[cs.dim].pos = cs.sels;
			k->d[cs.dim].npos = cs.n;
		} else {
			struct sel *both = calloc(MAX_SELS, sizeof(*both));

			if (!both) {
				err = -ENOMEM;
			} else {
				size_t n = intersect(k->d[cs.dim].pos, k->d[cs.dim].npos, cs.sels,
						     cs.n, both);

				free(k->d[cs.dim].pos);
				k->d[cs.dim].pos = both;
				k->d[cs.dim].npos = n;
				*empty = n == 0;
			}
			free(cs.sels);
		}
	}
	return err;
}

/* The kernel rules of one policy rule for one type, appended to *v. */
static int rule_krules(struct ctx *c, struct krule **v, size_t *n, size_t *cap)
{
	const struct pg_policy_rule *r = c->rule;
	unsigned char mech = c->env->mech[c->type];
	struct dnf d;
	int err;

	if ((err = dnf_of(c, r->match->root, false, &d)))
		return err;
	if (d.n && mech == PG_MECH_NONE) {
		dnf_free(&d);
		return fail(c, NULL, "this kernel has no way to act on %s events (pangolin doctor)",
			    pg_event_type_name(c->type));
	}
	for (size_t i = 0; i < d.n && !err; i++) {
		struct krule k = { .rule = r, .signal = (unsigned char)r->signal };
		bool deny = r->action == PG_RULE_DENY && mech != PG_MECH_SIGNAL;
		bool empty;

		if ((err = conj_krule(c, &d.c[i], &k, &empty)) || empty) {
			krule_release(&k);
			continue;
		}
		if (r->action == PG_RULE_DENY && !deny)
			k.signal = 9; /* deny without a way to deny: kill (SIGKILL) */
		k.action = r->policy->monitor ? (deny ? PG_ACT_WOULD_DENY : PG_ACT_WOULD_KILL) :
						(deny ? PG_ACT_DENY : PG_ACT_KILL);
		k.cls = (r->policy->monitor ? 2 : 0) + !deny;
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 16;
			struct krule *nv = realloc(*v, nc * sizeof(*nv));

			if (!nv) {
				krule_release(&k);
				err = -ENOMEM;
				break;
			}
			*v = nv;
			*cap = nc;
		}
		(*v)[(*n)++] = k;
	}
	dnf_free(&d);
	return err;
}

static bool mentions_type(const struct pg_filter_node *n)
{
	if (n->op == PG_FOP_CMP)
		return n->field->kind == PG_FK_TYPE;
	for (size_t i = 0; i < n->nsub; i++)
		if (mentions_type(n->sub[i]))
			return true;
	return false;
}

/* Entries by key: open addressing over the plan's arrays (index + 1, 0 empty). */
struct index {
	uint32_t *slot;
	size_t cap;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = PG_POL_FNV_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * PG_POL_FNV_PRIME;
	return h;
}

/* The entry with this key (h or l), created empty when new. NULL on ENOMEM. */
static struct pg_pol_bits *entry(struct pg_policy_plan *pl, struct index *ix, bool lpm,
				 const void *key)
{
	size_t ksz = lpm ? sizeof(struct pg_pol_lpm_key) : sizeof(struct pg_pol_key);
	size_t n = lpm ? pl->nl : pl->nh, i;

	if (2 * (n + 1) > ix->cap) {
		size_t ncap = ix->cap ? 2 * ix->cap : 256;
		uint32_t *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return NULL;
		for (size_t e = 0; e < n; e++) {
			const void *k = lpm ? (const void *)&pl->l[e].key :
					      (const void *)&pl->h[e].key;

			for (i = hash_bytes(k, ksz) & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1))
				;
			ns[i] = (uint32_t)e + 1;
		}
		free(ix->slot);
		ix->slot = ns;
		ix->cap = ncap;
	}
	for (i = hash_bytes(key, ksz) & (ix->cap - 1); ix->slot[i]; i = (i + 1) & (ix->cap - 1)) {
		size_t e = ix->slot[i] - 1;

		if (lpm ? !memcmp(&pl->l[e].key, key, ksz) : !memcmp(&pl->h[e].key, key, ksz))
			return lpm ? &pl->l[e].bits : &pl->h[e].bits;
	}
	if (lpm && pl->nl == pl->capl) {
		size_t nc = pl->capl ? 2 * pl->capl : 64;
		struct pg_pol_lentry *nv = realloc(pl->l, nc * sizeof(*nv));

		if (!nv)
			return NULL;
		pl->l = nv;
		pl->capl = nc;
	} else if (!lpm && pl->nh == pl->caph) {
		size_t nc = pl->caph ? 2 * pl->caph : 64;
		struct pg_pol_hentry *nv = realloc(pl->h, nc * sizeof(*nv));

		if (!nv)
			return NULL;
		pl->h = nv;
		pl->caph = nc;
	}
	ix->slot[i] = (uint32_t)n + 1;
	if (lpm) {
		memset(&pl->l[n], 0, sizeof(pl->l[n]));
		memcpy(&pl->l[n].key, key, ksz);
		return &pl->l[pl->nl++].bits;
	}
	memset(&pl->h[n], 0, sizeof(pl->h[n]));
	memcpy(&pl->h[n].key, key, ksz);
	return &pl->h[pl->nh++].bits;
}

static struct pg_pol_bits *sel_entry(struct pg_policy_plan *pl, struct index *ix, unsigned int type,
				     const struct sel *s)
{
	if (is_lpm_dim(s->dim)) {
		struct pg_pol_lpm_key k;

		memset(&k, 0, sizeof(k));
		k.type = (__u8)type;
		k.dim = s->dim;
		k.prefixlen = 32 + s->bits;
		memcpy(k.data, s->data, (s->bits + 7) / 8);
		return entry(pl, ix + 1, true, &k);
	}
	struct pg_pol_key k;

	memset(&k, 0, sizeof(k));
	k.type = (__u8)type;
	k.dim = s->dim;
	k.kind = s->kind;
	k.v[0] = s->v[0];
	k.v[1] = s->v[1];
	return entry(pl, ix, false, &k);
}

/* An LPM lookup finds one entry, the longest: it carries the bits of every shorter one that
 * covers it, so that one lookup answers for all the prefixes a value has. */
static void lpm_inherit(struct pg_policy_plan *pl)
{
	for (size_t i = 0; i < pl->nl; i++) {
		struct pg_pol_lentry *e = &pl->l[i];

		for (size_t j = 0; j < pl->nl; j++) {
			const struct pg_pol_lentry *f = &pl->l[j];
			struct sel a, b;

			if (i == j || f->key.type != e->key.type || f->key.dim != e->key.dim ||
			    f->key.prefixlen >= e->key.prefixlen)
				continue;
			a.bits = f->key.prefixlen - 32;
			b.bits = e->key.prefixlen - 32;
			memcpy(a.data, f->key.data, sizeof(a.data));
			memcpy(b.data, e->key.data, sizeof(b.data));
			if (!lpm_covers(&a, &b))
				continue;
			for (unsigned int w = 0; w < PG_POL_WORDS; w++) {
				e->bits.pos[w] |= f->bits.pos[w];
				e->bits.neg[w] |= f->bits.neg[w];
			}
		}
	}
}

/* The type's kernel rules into bits (in priority order), entries and its configuration. */
static int place(struct pg_policy_plan *pl, struct index *ix, unsigned int t, struct krule *k,
		 size_t n, char *err, size_t errlen)
{
	struct pg_pol_cfg *cfg = &pl->cfg[t];
	uint64_t haspos[PG_DIM_COUNT][PG_POL_WORDS] = { { 0 } };
	size_t b = 0;

	if (n > PG_POL_RULES) {
		snprintf(
			err, errlen,
			"the kill and deny rules loaded become %zu kernel rules for %s events: at most %d fit",
			n, pg_event_type_name(t), PG_POL_RULES);
		return -E2BIG;
	}
	pl->rules[t] = calloc(n, sizeof(*pl->rules[t]));
	pl->owner[t] = calloc(n, sizeof(*pl->owner[t]));
	if (!pl->rules[t] || !pl->owner[t])
		return -ENOMEM;
	for (unsigned int cls = 0; cls < 4; cls++) {
		for (size_t i = 0; i < n; i++) {
			const struct krule *r = &k[i];
			uint64_t bit;
			unsigned int w;

			if (r->cls != cls)
				continue;
			w = (unsigned int)(b / 64);
			bit = 1ull << (b % 64);
			pl->owner[t][b] = r->rule;
			pl->rules[t][b] = (struct pg_pol_rule){
				.verdict = PG_VERDICT(r->rule->slot, r->action),
				.action = r->action,
				.signal = r->signal,
			};
			cfg->live[w] |= bit;
			for (unsigned int d = 0; d < PG_DIM_COUNT; d++) {
				if (r->d[d].haspos || r->d[d].nneg)
					cfg->dims |= 1u << d;
				if (r->d[d].haspos)
					haspos[d][w] |= bit;
				for (size_t s = 0; s < r->d[d].npos + r->d[d].nneg; s++) {
					bool pos = s < r->d[d].npos;
					const struct sel *sl = pos ? &r->d[d].pos[s] :
								     &r->d[d].neg[s - r->d[d].npos];
					struct pg_pol_bits *e = sel_entry(pl, ix, t, sl);

					if (!e)
						return -ENOMEM;
					(pos ? e->pos : e->neg)[w] |= bit;
					if (d == PG_DIM_CGROUP && sl->kind == PG_POL_UNDER) {
						unsigned int l = 0;

						while (l < cfg->nlevels &&
						       cfg->levels[l] != sl->level)
							l++;
						if (l == PG_POL_LEVELS) {
							snprintf(
								err, errlen,
								"cgroup rules for %s events name cgroups at more than %d depths",
								pg_event_type_name(t),
								PG_POL_LEVELS);
							return -E2BIG;
						}
						if (l == cfg->nlevels)
							cfg->levels[cfg->nlevels++] = sl->level;
					}
				}
			}
			b++;
		}
	}
	pl->nbits[t] = n;
	cfg->nwords = (__u32)((n + 63) / 64);
	for (unsigned int d = 0; d < PG_DIM_COUNT; d++) {
		bool none = true;

		for (unsigned int w = 0; w < PG_POL_WORDS; w++) {
			cfg->nopos[d][w] = cfg->live[w] & ~haspos[d][w];
			none &= !cfg->nopos[d][w];
		}
		if (none && (cfg->dims & (1u << d)))
			cfg->required |= 1u << d;
	}
	pl->types |= 1u << t;
	return 0;
}

/* Is the gate's bit of these first 4 bytes set? (sensor.h, path_gate) */
static bool gate_has(const struct pg_pol_cfg *cfg, const unsigned char *data)
{
	uint32_t head, bit;

	memcpy(&head, data, 4);
	bit = pg_pol_gate_bit(head);
	return cfg->path_gate[bit / 64] >> (bit % 64) & 1;
}

/*
 * The path gate of each type whose rules all need a path: the first 4 bytes of every path
 * entry. An entry shorter than that (path startswith "/e") turns the gate off: a path that
 * starts with it may start with anything after.
 */
static void path_gates(struct pg_policy_plan *pl)
{
	for (unsigned int t = 0; t < PG_POL_NTYPES; t++)
		pl->cfg[t].path_gate_on = pl->cfg[t].nwords &&
					  (pl->cfg[t].required & (1u << PG_DIM_PATH));
	for (size_t i = 0; i < pl->nl; i++) {
		const struct pg_pol_lpm_key *k = &pl->l[i].key;
		struct pg_pol_cfg *cfg;
		uint32_t head, bit;

		if (k->dim != PG_DIM_PATH || k->type >= PG_POL_NTYPES)
			continue;
		cfg = &pl->cfg[k->type];
		if (k->prefixlen - 32 < 32) {
			cfg->path_gate_on = 0;
			continue;
		}
		memcpy(&head, k->data, 4);
		bit = pg_pol_gate_bit(head);
		cfg->path_gate[bit / 64] |= 1ULL << (bit % 64);
	}
}

int pg_policy_plan__build(struct pg_policy_plan *pl, const struct pg_policy_set *set,
			  const struct pg_policy_env *env, char *err, size_t errlen)
{
	struct index ix[2] = { { 0 } };
	int rc = 0;

	memset(pl, 0, sizeof(*pl));
	if (errlen)
		err[0] = 0;
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT && !rc; t++) {
		struct krule *k = NULL;
		size_t n = 0, cap = 0;

		if (!(KERNEL_TYPES & (1u << t)))
			continue;
		for (size_t p = 0; p < set->n && !rc; p++) {
			const struct pg_policy *pol = set->policies[p];

			for (size_t i = 0; i < pol->nrules && !rc; i++) {
				struct ctx c = { env, &pol->rules[i], t, err, errlen };

				if (pol->rules[i].action != PG_RULE_ALERT)
					rc = rule_krules(&c, &k, &n, &cap);
			}
		}
		if (!rc && n)
			rc = place(pl, ix, t, k, n, err, errlen);
		for (size_t i = 0; i < n; i++)
			krule_release(&k[i]);
		free(k);
	}
	/* every kill and deny rule must say what it is for, and be for something */
	for (size_t p = 0; p < set->n && !rc; p++) {
		const struct pg_policy *pol = set->policies[p];

		for (size_t i = 0; i < pol->nrules && !rc; i++) {
			const struct pg_policy_rule *r = &pol->rules[i];
			struct ctx c = { env, r, 0, err, errlen };
			bool used = false;

			if (r->action == PG_RULE_ALERT)
				continue;
			for (unsigned int t = 0; t < PG_POL_NTYPES && !used; t++)
				for (size_t b = 0; b < pl->nbits[t] && !used; b++)
					used = pl->owner[t][b] == r;
			if (!mentions_type(r->match->root))
				rc = fail(
					&c, NULL,
					"a %s rule must say which events it is for (type == \"open\", type in [\"exec\", \"open\"]...)",
					r->action == PG_RULE_KILL ? "kill" : "deny");
			else if (!used)
				rc = fail(
					&c, NULL,
					"matches no event the kernel acts on (exec, open, connect, dns, setid, ptrace)");
		}
	}
	if (!rc) {
		lpm_inherit(pl);
		path_gates(pl);
	}
	free(ix[0].slot);
	free(ix[1].slot);
	return rc;
}

void pg_policy_plan__release(struct pg_policy_plan *pl)
{
	for (unsigned int t = 0; t < PG_POL_NTYPES; t++) {
		free(pl->rules[t]);
		free(pl->owner[t]);
	}
	free(pl->h);
	free(pl->l);
	memset(pl, 0, sizeof(*pl));
}

/* --- the decision in C, as the kernel makes it --------------------------------------------- */

static const struct pg_pol_bits *find_h(const struct pg_policy_plan *pl, unsigned int t,
					unsigned int dim, unsigned int kind, uint64_t v0,
					uint64_t v1)
{
	for (size_t i = 0; i < pl->nh; i++) {
		const struct pg_pol_key *k = &pl->h[i].key;

		if (k->type == t && k->dim == dim && k->kind == kind && k->v[0] == v0 &&
		    k->v[1] == v1)
			return &pl->h[i].bits;
	}
	return NULL;
}

static const struct pg_pol_bits *find_l(const struct pg_policy_plan *pl, unsigned int t,
					unsigned int dim, const unsigned char *data,
					unsigned int bits)
{
	const struct pg_pol_lentry *best = NULL;
	struct sel key;

	key.bits = bits;
	memcpy(key.data, data, (bits + 7) / 8);
	for (size_t i = 0; i < pl->nl; i++) {
		const struct pg_pol_lentry *e = &pl->l[i];
		struct sel a;

		if (e->key.type != t || e->key.dim != dim || e->key.prefixlen - 32 > bits)
			continue;
		a.bits = e->key.prefixlen - 32;
		memcpy(a.data, e->key.data, (a.bits + 7) / 8);
		if (lpm_covers(&a, &key) && (!best || e->key.prefixlen > best->key.prefixlen))
			best = e;
	}
	return best ? &best->bits : NULL;
}

/* acc &= (pos | nopos) & ~neg over the lookups' union; a miss leaves nopos. */
static bool apply(uint64_t *acc, const struct pg_pol_cfg *cfg, unsigned int d,
		  const struct pg_pol_bits *const *hits, size_t nhits)
{
	bool any = false;

	for (unsigned int w = 0; w < PG_POL_WORDS; w++) {
		uint64_t pos = cfg->nopos[d][w], neg = 0;

		for (size_t i = 0; i < nhits; i++) {
			if (!hits[i])
				continue;
			pos |= hits[i]->pos[w];
			neg |= hits[i]->neg[w];
		}
		acc[w] &= pos & ~neg;
		any |= acc[w] != 0;
	}
	return any;
}

static unsigned int path_key(const char *path, unsigned char *data, bool reverse)
{
	size_t len = strnlen(path, PG_PATH_LEN - 1);

	if (reverse) {
		size_t n = len < PG_POL_PATH_BYTES ? len : PG_POL_PATH_BYTES;

		for (size_t i = 0; i < n; i++)
			data[i] = (unsigned char)path[len - 1 - i];
		return (unsigned int)n * 8;
	}
	if (len + 1 > PG_POL_PATH_BYTES) {
		memcpy(data, path, PG_POL_PATH_BYTES);
		return PG_POL_PATH_BYTES * 8;
	}
	memcpy(data, path, len + 1);
	return (unsigned int)(len + 1) * 8;
}

uint32_t pg_policy_plan__decide(const struct pg_policy_plan *pl, const struct pg_event *ev,
				const struct pg_pol_facts *facts)
{
	unsigned int t = ev->r.hdr.type;
	const struct pg_pol_cfg *cfg;
	uint64_t acc[PG_POL_WORDS];
	unsigned char data[PG_POL_PATH_BYTES];

	if (t >= PG_POL_NTYPES || !pl->cfg[t].nwords)
		return 0;
	cfg = &pl->cfg[t];
	memcpy(acc, cfg->live, sizeof(acc));
	for (unsigned int d = 0; d < PG_DIM_COUNT; d++) {
		const struct pg_pol_bits *hits[PG_POL_QNAME_LABELS + PG_POL_LEVELS + 2] = { NULL };
		size_t nh = 0;

		if (!(cfg->dims & (1u << d)))
			continue;
		switch (d) {
		case PG_DIM_UNLINKED:
			if (ev->r.exec.flags & PG_EXE_UNLINKED)
				hits[nh++] = find_h(pl, t, d, 0, 1, 0);
			break;
		case PG_DIM_UID: hits[nh++] = find_h(pl, t, d, 0, ev->r.hdr.uid, 0); break;
		case PG_DIM_COMM: {
			uint64_t c[2] = { 0, 0 };

			memcpy(c, ev->r.hdr.comm, strnlen(ev->r.hdr.comm, 15));
			hits[nh++] = find_h(pl, t, d, 0, c[0], c[1]);
			break;
		}
		case PG_DIM_DPORT:
			hits[nh++] = find_h(pl, t, d, 0,
					    t == PG_EV_DNS ? ev->r.dns.dport : ev->r.connect.dport,
					    0);
			break;
		case PG_DIM_PATH:
		case PG_DIM_SUFFIX: {
			const char *path = t == PG_EV_EXEC ? ev->r.exec.path : ev->r.open.path;
			unsigned int bits = path_key(path, data, d == PG_DIM_SUFFIX);

			/* as the kernel does: a path the gate turns away is not looked up (a
			 * path under 4 bytes is, where the kernel hashes what lies after it) */
			if (d == PG_DIM_PATH && cfg->path_gate_on && bits >= 32 &&
			    !gate_has(cfg, data))
				break;
			hits[nh++] = find_l(pl, t, d, data, bits);
			break;
		}
		case PG_DIM_EXE:
		case PG_DIM_PEXE: {
			const char *p = facts ? (d == PG_DIM_EXE ? facts->exe : facts->pexe) : NULL;

			if (p)
				hits[nh++] = find_l(pl, t, d, data, path_key(p, data, false));
			break;
		}
		case PG_DIM_DADDR: {
			unsigned int fam = t == PG_EV_DNS ? ev->r.dns.family : ev->r.connect.family;
			const unsigned char *a = t == PG_EV_DNS ? ev->r.dns.daddr :
								  ev->r.connect.daddr;
			static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

			/* an IPv4-mapped IPv6 address is the IPv4 address it carries */
			if (fam == AF_INET || (fam == AF_INET6 && !memcmp(a, mapped, 12))) {
				data[0] = 4;
				memcpy(data + 1, fam == AF_INET ? a : a + 12, 4);
				hits[nh++] = find_l(pl, t, d, data, 40);
			} else if (fam == AF_INET6) {
				data[0] = 6;
				memcpy(data + 1, a, 16);
				hits[nh++] = find_l(pl, t, d, data, 136);
			}
			break;
		}
		case PG_DIM_QNAME: {
			const char *q = ev->r.dns.qname;
			size_t len = strnlen(q, PG_QNAME_LEN - 1), ns;
			uint64_t suf[PG_POL_QNAME_LABELS], whole;

			if (!(ev->r.dns.flags & PG_DNS_F_PARSED) || !len)
				break;
			whole = qname_hash_n(q, len, suf, PG_POL_QNAME_LABELS, &ns);
			hits[nh++] = find_h(pl, t, d, PG_POL_EXACT, whole, 0);
			for (size_t i = 0; i < ns; i++)
				hits[nh++] = find_h(pl, t, d, PG_POL_UNDER, suf[i], 0);
			break;
		}
		case PG_DIM_CGROUP:
			hits[nh++] = find_h(pl, t, d, PG_POL_EXACT, ev->r.hdr.cgroup_id, 0);
			if (facts && facts->cgroup_alias)
				hits[nh++] = find_h(pl, t, d, PG_POL_EXACT, facts->cgroup_alias, 0);
			for (unsigned int l = 0; facts && l < cfg->nlevels; l++)
				if (cfg->levels[l] + 1u < facts->ncgroup)
					hits[nh++] = find_h(pl, t, d, PG_POL_UNDER,
							    facts->cgroup_ids[cfg->levels[l]], 0);
			break;
		}
		if (!apply(acc, cfg, d, hits, nh))
			return 0;
	}
	for (unsigned int w = 0; w < cfg->nwords && w < PG_POL_WORDS; w++)
		if (acc[w])
			return pl->rules[t][w * 64 + (unsigned int)__builtin_ctzll(acc[w])].verdict;
	return 0;
}
