// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Policy files: YAML (libyaml) into a pg_policy_set. See policy.h and docs/enforce.md.
 *
 * libyaml's event parser, not its document loader: the loader resolves aliases into shared
 * nodes, and a walk over a document of nested aliases costs exponential time (a "billion
 * laughs"). Here the schema is walked as the events come, anchors and aliases are refused where
 * they appear, and nothing of ours recurses: a value nested where the schema has none is an
 * error at its first event.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "policy.h"

/* --- the set ------------------------------------------------------------------------------- */

static void rule_release(struct pg_policy_rule *r)
{
	free(r->name);
	free(r->description);
	free(r->match_text);
	pg_filter__free(r->match);
}

static void policy_free(struct pg_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		rule_release(&p->rules[i]);
	free(p->rules);
	free(p->name);
	free(p->description);
	free(p->file);
	free(p);
}

struct pg_policy_set *pg_policy_set__new(void)
{
	return calloc(1, sizeof(struct pg_policy_set));
}

void pg_policy_set__free(struct pg_policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		policy_free(set->policies[i]);
	free(set->policies);
	free(set);
}

void pg_policy_rule__where(const struct pg_policy_rule *r, size_t col, char *buf, size_t len)
{
	const char *file = r->policy ? r->policy->file : "?";

	if (col == 0 || r->match_exact || col == 1)
		snprintf(buf, len, "%s:%u:%zu", file, r->match_line,
			 r->match_column + (col ? col - 1 : 0));
	else
		snprintf(buf, len, "%s:%u:%u (column %zu of the match)", file, r->match_line,
			 r->match_column, col);
}

/* --- the YAML walk ------------------------------------------------------------------------- */

struct yp {
	yaml_parser_t parser;
	yaml_event_t ev; /* the current event, when have */
	bool have;
	const char *file;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int yp_fail(struct yp *p, yaml_mark_t m,
							 const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->file, m.line + 1, m.column + 1);

	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *event_desc(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT: return "a value";
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_MAPPING_END_EVENT: return "the end of a mapping";
	case YAML_SEQUENCE_END_EVENT: return "the end of a list";
	case YAML_DOCUMENT_END_EVENT: return "the end of the document";
	default: return "something else";
	}
}

/* The next event, with anchors, aliases and tags refused where they appear. */
static int yp_next(struct yp *p)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (p->have)
		yaml_event_delete(&p->ev);
	p->have = false;
	if (!yaml_parser_parse(&p->parser, &p->ev)) {
		yaml_mark_t m = p->parser.problem_mark;

		if (p->parser.error == YAML_MEMORY_ERROR)
			return -ENOMEM;
		return yp_fail(p, m, "not valid YAML: %s%s%s",
			       p->parser.problem ? p->parser.problem : "syntax error",
			       p->parser.context ? " " : "",
			       p->parser.context ? p->parser.context : "");
	}
	p->have = true;
	switch (p->ev.type) {
	case YAML_ALIAS_EVENT:
		return yp_fail(p, p->ev.start_mark,
			       "aliases (*%s) are not supported in policies: write the value out",
			       (const char *)p->ev.data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = p->ev.data.scalar.anchor;
		tag = p->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = p->ev.data.sequence_start.anchor;
		tag = p->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = p->ev.data.mapping_start.anchor;
		tag = p->ev.data.mapping_start.tag;
		break;
	default: break;
	}
	if (anchor)
		return yp_fail(p, p->ev.start_mark,
			       "anchors (&%s) are not supported in policies: write the value out",
			       (const char *)anchor);
	if (tag)
		return yp_fail(p, p->ev.start_mark,
			       "tags (%s) are not supported in policies: write the value plainly",
			       (const char *)tag);
	return 0;
}

/* A plain scalar that YAML reads as null: "", "~", "null". */
static bool is_null(const yaml_event_t *e)
{
	const char *v = (const char *)e->data.scalar.value;

	if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* The next event as the string value of key: a copy in *out. */
static int yp_string(struct yp *p, const char *key, char **out)
{
	int err = yp_next(p);

	if (err)
		return err;
	if (p->ev.type != YAML_SCALAR_EVENT)
		return yp_fail(p, p->ev.start_mark, "%s: expected a value, found %s", key,
			       event_desc(p->ev.type));
	if (is_null(&p->ev))
		return yp_fail(p, p->ev.start_mark, "%s has no value", key);
	if (memchr(p->ev.data.scalar.value, 0, p->ev.data.scalar.length))
		return yp_fail(p, p->ev.start_mark, "%s holds a NUL byte", key);
	*out = strdup((const char *)p->ev.data.scalar.value);
	return *out ? 0 : -ENOMEM;
}

/* Names travel in every event they decide and in counters: keep them plain. */
static int check_name(struct yp *p, yaml_mark_t m, const char *what, const char *name)
{
	size_t n = strlen(name);

	if (n > PG_POLICY_NAME_MAX)
		return yp_fail(p, m, "%s name is %zu bytes long: at most %u", what, n,
			       PG_POLICY_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		/* no '.': --stats nests counters by policy and rule name */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == ':' || c == '/'))
			return yp_fail(p, m, "%s name '%s': use letters, digits and - _ : / only",
				       what, name);
	}
	return 0;
}

/* Keys of one mapping seen so far: a key given twice is an error, as YAML says it is. */
static int seen_key(struct yp *p, unsigned int *seen, unsigned int bit, const char *key)
{
	if (*seen & bit)
		return yp_fail(p, p->ev.start_mark, "key '%s' appears twice", key);
	*seen |= bit;
	return 0;
}

static int signal_from_name(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s && !*end)
		return v >= 1 && v <= SIGRTMAX ? (int)v : -1;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *name = sigabbrev_np(sig);

		if (name && !strcmp(name, s))
			return sig;
	}
	return -1;
}

/* Columns of a one-line scalar without escapes map one to one onto its text. */
static bool scalar_is_exact(const yaml_event_t *e)
{
	const unsigned char *v = e->data.scalar.value;
	size_t chars = e->data.scalar.length, quotes;

	if (e->start_mark.line != e->end_mark.line)
		return false;
	for (size_t i = 0; i < e->data.scalar.length; i++)
		if (v[i] >= 0x80)
			return false;
	switch (e->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE: quotes = 0; break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: quotes = 2; break;
	default: return false;
	}
	return e->end_mark.index - e->start_mark.index == chars + quotes;
}

static int parse_match(struct yp *p, struct pg_policy_rule *r)
{
	struct pg_filter_error ferr;
	yaml_mark_t m;
	int err = yp_string(p, "match", &r->match_text);

	if (err)
		return err;
	m = p->ev.start_mark;
	r->match_exact = scalar_is_exact(&p->ev);
	r->match_line = (unsigned int)m.line + 1;
	r->match_column = (unsigned int)m.column + 1 +
			  (p->ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			   p->ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	if (!r->match_text[strspn(r->match_text, " \t\r\n")])
		return yp_fail(p, m, "match is empty: a rule must say which events it is for");
	r->match = pg_filter__parse(r->match_text, &ferr);
	if (!r->match) {
		if (errno == ENOMEM)
			return -ENOMEM;
		if (r->match_exact) {
			m.column = r->match_column - 1 + ferr.column - 1;
			return yp_fail(p, m, "match: %s", ferr.msg);
		}
		return yp_fail(p, m, "match: %s (column %zu of the match)", ferr.msg, ferr.column);
	}
	return 0;
}

enum {
	RK_NAME = 1,
	RK_MATCH = 2,
	RK_ACTION = 4,
	RK_SIGNAL = 8,
	RK_DESC = 16
};

static int parse_rule(struct yp *p, struct pg_policy_rule *r)
{
	yaml_mark_t start = p->ev.start_mark, signal_at = start;
	unsigned int seen = 0;
	char *v = NULL;
	int err;

	r->line = (unsigned int)start.line + 1;
	r->column = (unsigned int)start.column + 1;
	r->signal = SIGKILL;
	r->slot = ~0u;
	for (;;) {
		const char *key;

		if ((err = yp_next(p)))
			return err;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (p->ev.type != YAML_SCALAR_EVENT)
			return yp_fail(p, p->ev.start_mark, "expected a key of the rule, found %s",
				       event_desc(p->ev.type));
		key = (const char *)p->ev.data.scalar.value;
		if (!strcmp(key, "name")) {
			if ((err = seen_key(p, &seen, RK_NAME, key)) ||
			    (err = yp_string(p, "name", &r->name)) ||
			    (err = check_name(p, p->ev.start_mark, "rule", r->name)))
				return err;
		} else if (!strcmp(key, "match")) {
			if ((err = seen_key(p, &seen, RK_MATCH, key)) || (err = parse_match(p, r)))
				return err;
		} else if (!strcmp(key, "action")) {
			if ((err = seen_key(p, &seen, RK_ACTION, key)) ||
			    (err = yp_string(p, "action", &v)))
				return err;
			if (!strcmp(v, "alert"))
				r->action = PG_RULE_ALERT;
			else if (!strcmp(v, "kill"))
				r->action = PG_RULE_KILL;
			else if (!strcmp(v, "deny"))
				r->action = PG_RULE_DENY;
			else
				err = yp_fail(p, p->ev.start_mark,
					      "action '%s' is not one of alert, kill, deny", v);
			free(v);
			v = NULL;
			if (err)
				return err;
		} else if (!strcmp(key, "signal")) {
			if ((err = seen_key(p, &seen, RK_SIGNAL, key)) ||
			    (err = yp_string(p, "signal", &v)))
				return err;
			signal_at = p->ev.start_mark;
			r->signal = signal_from_name(v);
			if (r->signal < 0)
				err = yp_fail(
					p, signal_at,
					"signal '%s' is not a signal (a number 1-%d, or a name: KILL, SIGTERM...)",
					v, SIGRTMAX);
			free(v);
			v = NULL;
			if (err)
				return err;
		} else if (!strcmp(key, "description")) {
			if ((err = seen_key(p, &seen, RK_DESC, key)) ||
			    (err = yp_string(p, "description", &r->description)))
				return err;
		} else {
			return yp_fail(
				p, p->ev.start_mark,
				"unknown key '%s' in a rule (name, match, action, signal, description)",
				key);
		}
	}
	if (!(seen & RK_NAME))
		return yp_fail(p, start, "a rule needs a name");
	if (!(seen & RK_MATCH))
		return yp_fail(p, start, "rule %s has no match", r->name);
	if (!(seen & RK_ACTION))
		return yp_fail(p, start, "rule %s has no action (alert, kill or deny)", r->name);
	if ((seen & RK_SIGNAL) && r->action != PG_RULE_KILL)
		return yp_fail(p, signal_at, "rule %s: signal is for kill rules only", r->name);
	return 0;
}

struct name_at {
	const char *name;
	size_t index;
};

static int cmp_name_at(const void *a, const void *b)
{
	const struct name_at *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The first rule (by position) whose name an earlier rule already has, or -1. */
static long duplicate_rule(const struct pg_policy *pol)
{
	struct name_at *v = malloc(pol->nrules * sizeof(*v) + 1);
	long dup = -1;

	if (!v)
		return -2;
	for (size_t i = 0; i < pol->nrules; i++)
		v[i] = (struct name_at){ pol->rules[i].name, i };
	qsort(v, pol->nrules, sizeof(*v), cmp_name_at);
	for (size_t i = 1; i < pol->nrules; i++)
		if (!strcmp(v[i].name, v[i - 1].name) && (dup < 0 || (long)v[i].index < dup))
			dup = (long)v[i].index;
	free(v);
	return dup;
}

enum {
	PK_NAME = 1,
	PK_MODE = 2,
	PK_RULES = 4,
	PK_DESC = 8
};

static int parse_rules(struct yp *p, struct pg_policy *pol, size_t budget)
{
	size_t cap = 0;
	int err;

	if ((err = yp_next(p)))
		return err;
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return yp_fail(p, p->ev.start_mark, "rules: expected a list of rules, found %s",
			       event_desc(p->ev.type));
	for (;;) {
		if ((err = yp_next(p)))
			return err;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (p->ev.type != YAML_MAPPING_START_EVENT)
			return yp_fail(
				p, p->ev.start_mark,
				"rules: each rule is a mapping (name, match, action), found %s",
				event_desc(p->ev.type));
		if (pol->nrules >= budget) {
			yp_fail(p, p->ev.start_mark,
				"more than %u rules in the policies loaded: split them between sensors",
				PG_POLICY_RULES_MAX);
			return -E2BIG;
		}
		if (pol->nrules == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct pg_policy_rule *nr = realloc(pol->rules, ncap * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			pol->rules = nr;
			cap = ncap;
		}
		memset(&pol->rules[pol->nrules], 0, sizeof(pol->rules[0]));
		pol->rules[pol->nrules].policy = pol;
		pol->nrules++;
		if ((err = parse_rule(p, &pol->rules[pol->nrules - 1])))
			return err;
	}
}

static int parse_policy(struct yp *p, struct pg_policy *pol, size_t budget)
{
	yaml_mark_t start = p->ev.start_mark;
	unsigned int seen = 0;
	char *v = NULL;
	long dup;
	int err;

	pol->line = (unsigned int)start.line + 1;
	pol->column = (unsigned int)start.column + 1;
	for (;;) {
		const char *key;

		if ((err = yp_next(p)))
			return err;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (p->ev.type != YAML_SCALAR_EVENT)
			return yp_fail(p, p->ev.start_mark,
				       "expected a key of the policy, found %s",
				       event_desc(p->ev.type));
		key = (const char *)p->ev.data.scalar.value;
		if (!strcmp(key, "name")) {
			if ((err = seen_key(p, &seen, PK_NAME, key)) ||
			    (err = yp_string(p, "name", &pol->name)) ||
			    (err = check_name(p, p->ev.start_mark, "policy", pol->name)))
				return err;
		} else if (!strcmp(key, "mode")) {
			if ((err = seen_key(p, &seen, PK_MODE, key)) ||
			    (err = yp_string(p, "mode", &v)))
				return err;
			if (!strcmp(v, "monitor"))
				pol->monitor = true;
			else if (strcmp(v, "enforce"))
				err = yp_fail(p, p->ev.start_mark,
					      "mode '%s' is not enforce or monitor", v);
			free(v);
			v = NULL;
			if (err)
				return err;
		} else if (!strcmp(key, "description")) {
			if ((err = seen_key(p, &seen, PK_DESC, key)) ||
			    (err = yp_string(p, "description", &pol->description)))
				return err;
		} else if (!strcmp(key, "rules")) {
			if ((err = seen_key(p, &seen, PK_RULES, key)) ||
			    (err = parse_rules(p, pol, budget)))
				return err;
		} else {
			return yp_fail(
				p, p->ev.start_mark,
				"unknown key '%s' in a policy (name, mode, description, rules)",
				key);
		}
	}
	if (!(seen & PK_NAME))
		return yp_fail(p, start, "a policy needs a name");
	if (!(seen & PK_RULES))
		return yp_fail(p, start, "policy %s has no rules", pol->name);
	dup = duplicate_rule(pol);
	if (dup == -2)
		return -ENOMEM;
	if (dup >= 0) {
		const struct pg_policy_rule *r = &pol->rules[dup];

		snprintf(p->err, p->errlen, "%s:%u:%u: policy %s has two rules named '%s'", p->file,
			 r->line, r->column, pol->name, r->name);
		return -EINVAL;
	}
	return 0;
}

/* The policies of one text, in order; the set untouched. */
static int parse_text(struct yp *p, struct pg_policy ***out, size_t *nout, size_t budget)
{
	struct pg_policy **v = NULL;
	size_t n = 0, rules = 0;
	int err;

	if ((err = yp_next(p)))
		goto err_out;
	if (p->ev.type != YAML_STREAM_START_EVENT) {
		err = yp_fail(p, p->ev.start_mark, "not a YAML stream");
		goto err_out;
	}
	for (;;) {
		struct pg_policy **nv, *pol;

		if ((err = yp_next(p)))
			goto err_out;
		if (p->ev.type == YAML_STREAM_END_EVENT)
			break;
		/* DOCUMENT_START: the one event a stream has here */
		if ((err = yp_next(p)))
			goto err_out;
		if (p->ev.type != YAML_MAPPING_START_EVENT) {
			err = yp_fail(p, p->ev.start_mark,
				      "a policy is a mapping (name, mode, rules), found %s",
				      p->ev.type == YAML_SCALAR_EVENT && is_null(&p->ev) ?
					      "an empty document" :
					      event_desc(p->ev.type));
			goto err_out;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		pol = calloc(1, sizeof(*pol));
		if (nv)
			v = nv;
		if (!nv || !pol || !(pol->file = strdup(p->file))) {
			policy_free(pol);
			err = -ENOMEM;
			goto err_out;
		}
		v[n++] = pol;
		if ((err = parse_policy(p, pol, budget - rules)))
			goto err_out;
		rules += pol->nrules;
		if ((err = yp_next(p)))
			goto err_out;
		if (p->ev.type != YAML_DOCUMENT_END_EVENT) {
			err = yp_fail(p, p->ev.start_mark,
				      "expected the end of the document, found %s",
				      event_desc(p->ev.type));
			goto err_out;
		}
	}
	if (!n) {
		snprintf(p->err, p->errlen, "%s:1:1: no policy in this file", p->file);
		err = -EINVAL;
		goto err_out;
	}
	*out = v;
	*nout = n;
	return 0;
err_out:
	for (size_t i = 0; i < n; i++)
		policy_free(v[i]);
	free(v);
	return err;
}

int pg_policy_set__parse(struct pg_policy_set *set, const char *file, const char *text, size_t len,
			 char *err, size_t errlen)
{
	struct yp p = { .file = file, .err = err, .errlen = errlen };
	struct pg_policy **v = NULL, **nv;
	size_t n = 0, nrules = 0;
	int rc;

	if (errlen)
		err[0] = 0;
	if (len > PG_POLICY_FILE_MAX) {
		snprintf(err, errlen, "%s: %zu bytes: a policy file may hold at most %u MiB", file,
			 len, PG_POLICY_FILE_MAX >> 20);
		return -E2BIG;
	}
	if (!yaml_parser_initialize(&p.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
	rc = parse_text(&p, &v, &n,
			set->nrules <= PG_POLICY_RULES_MAX ? PG_POLICY_RULES_MAX - set->nrules : 0);
	if (p.have)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.parser);
	if (rc)
		return rc;
	/* a policy name names one policy in the whole set */
	for (size_t i = 0; i < n && !rc; i++) {
		for (size_t j = 0; j < set->n + i && !rc; j++) {
			const struct pg_policy *o = j < set->n ? set->policies[j] : v[j - set->n];

			if (!strcmp(o->name, v[i]->name)) {
				snprintf(err, errlen,
					 "%s:%u:%u: policy '%s' is already defined at %s:%u:%u",
					 file, v[i]->line, v[i]->column, v[i]->name, o->file,
					 o->line, o->column);
				rc = -EINVAL;
			}
		}
		nrules += v[i]->nrules;
	}
	if (!rc && !(nv = realloc(set->policies, (set->n + n) * sizeof(*nv))))
		rc = -ENOMEM;
	if (rc) {
		for (size_t i = 0; i < n; i++)
			policy_free(v[i]);
		free(v);
		return rc;
	}
	memcpy(nv + set->n, v, n * sizeof(*v));
	set->policies = nv;
	set->n += n;
	set->nrules += nrules;
	free(v);
	return 0;
}

/* --- files and directories ----------------------------------------------------------------- */

static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a file or a directory of *.yaml files", path);
		goto out;
	}
	if ((uint64_t)st.st_size > PG_POLICY_FILE_MAX) {
		rc = -E2BIG;
		snprintf(err, errlen, "%s: %lld bytes: a policy file may hold at most %u MiB", path,
			 (long long)st.st_size, PG_POLICY_FILE_MAX >> 20);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	/* read what is there now: the file may be growing under an editor */
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			rc = -EAGAIN;
			snprintf(err, errlen, "%s: changed while it was read: try again", path);
			goto out;
		}
	}
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static int load_file(struct pg_policy_set *set, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len, err, errlen);

	if (rc)
		return rc;
	rc = pg_policy_set__parse(set, path, text, len, err, errlen);
	free(text);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool pg_policy_is_file_name(const char *name)
{
	size_t n = strlen(name);

	/* not hidden files: editors keep their locks and backups as .#name.yaml */
	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".yaml");
}

int pg_policy_set__load(struct pg_policy_set *set, const char *path, char *err, size_t errlen)
{
	struct stat st;
	struct dirent *d;
	char **names = NULL;
	size_t n = 0;
	DIR *dir;
	int rc = 0;

	if (stat(path, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(set, path, err, errlen);
	if (!(dir = opendir(path))) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot list it: %s", path, strerror(errno));
		return rc;
	}
	while ((d = readdir(dir))) {
		char **nn;

		if (!pg_policy_is_file_name(d->d_name))
			continue;
		if (!(nn = realloc(names, (n + 1) * sizeof(*nn))) ||
		    !(nn[n] = malloc(strlen(path) + strlen(d->d_name) + 2))) {
			if (nn)
				names = nn;
			rc = -ENOMEM;
			break;
		}
		names = nn;
		sprintf(names[n++], "%s/%s", path, d->d_name);
	}
	closedir(dir);
	if (!rc && n)
		qsort(names, n, sizeof(*names), cmp_str);
	/* all or nothing: a bad file leaves the set as it was */
	if (!rc) {
		size_t before = set->n;

		for (size_t i = 0; i < n && !rc; i++)
			rc = load_file(set, names[i], err, errlen);
		if (rc) {
			for (size_t i = before; i < set->n; i++) {
				set->nrules -= set->policies[i]->nrules;
				policy_free(set->policies[i]);
			}
			set->n = before;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

struct pg_policy_set *pg_policy_set__load_paths(const char *const *paths, size_t n, char *err,
						size_t errlen)
{
	struct pg_policy_set *set = pg_policy_set__new();
	int rc = set ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !rc; i++)
		rc = pg_policy_set__load(set, paths[i], err, errlen);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		pg_policy_set__free(set);
		errno = -rc;
		return NULL;
	}
	return set;
}
