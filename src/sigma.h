/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sigma rules, compiled (docs/detect.md). The loader (sigma_load.c) turns YAML into these
 * trees, the matcher (sigma_match.c) runs them over events, the detector (detect.c) keeps the
 * correlations' state. Internal to those three files and their tests: commands use detect.h.
 *
 * Every rule is its own tree over pangolin's events, not text in the filter language: Sigma's
 * semantics (case-insensitive by default, wildcards, modifiers, lists meaning OR) are not the
 * filter's, and translating one into the other would lose them.
 */
#ifndef PANGOLIN_SIGMA_H
#define PANGOLIN_SIGMA_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "event.h"

/* How a field is read from an event. */
enum sg_acc {
	SA_EXE, /* the process table's exe; an exec event's path without it */
	SA_CMDLINE, /* cmdline; an exec event's argv joined without it */
	SA_PARENT_EXE,
	SA_PARENT_CMDLINE,
	SA_ANCESTORS, /* several values: a value matches when one of them does */
	SA_PGFIELD, /* a field of the event (event.h's table), rendered as text */
	SA_TRUE, /* Initiated: connect(2) is always outbound, the field is always "true" */
	SA_LABELS, /* the pod's labels, each "key=value": several values, as the ancestors */
	SA_LABEL, /* labels.KEY: the value of the pod's label KEY */
};

/* A field as rules name it: one entry per distinct (accessor, field, key) in the rule set. */
struct sg_field {
	enum sg_acc acc;
	const struct pg_field *pf; /* SA_PGFIELD */
	const char *key; /* SA_LABEL: the label's key */
	bool numeric; /* compared as a number when the rule's value is one */
	bool addr; /* an address: cidr applies */
};

enum sg_op {
	SG_EQ, /* the whole value */
	SG_CONTAINS,
	SG_STARTSWITH,
	SG_ENDSWITH,
	SG_GLOB, /* '*' and '?' wildcards (any of the above with a wildcard in the value) */
	SG_RE, /* PCRE2 */
	SG_CIDR,
	SG_NUM_EQ, /* numeric fields, numeric values */
	SG_LT,
	SG_LTE,
	SG_GT,
	SG_GTE,
	SG_EXISTS, /* num: 1 exists, 0 does not */
	SG_NULL, /* the field is absent or empty */
};

struct sg_value {
	enum sg_op op;
	const char *s; /* the text to compare, lower case unless the condition is cased */
	size_t len;
	int64_t num;
	pcre2_code *re;
	unsigned int family, prefix; /* SG_CIDR */
	unsigned char addr[16];
};

/* One "Field|modifiers: value(s)" of a selection. */
struct sg_cond {
	unsigned int field; /* index in the rule set's fields */
	bool all; /* |all: every value must match (else one is enough) */
	bool cased; /* |cased: compare bytes as they are */
	size_t nvals;
	struct sg_value *vals;
};

/* A map: every condition must hold. */
struct sg_alt {
	size_t nconds;
	struct sg_cond *conds;
};

/* A named selection: a map, or a list of maps (one of them must hold). */
struct sg_selection {
	const char *name;
	size_t nalts;
	struct sg_alt *alts;
};

enum sg_node_kind { SN_SEL, SN_AND, SN_OR, SN_NOT, SN_ONE_OF, SN_ALL_OF };

struct sg_node {
	enum sg_node_kind kind;
	struct sg_node *l, *r; /* AND, OR; NOT uses l */
	unsigned int sel; /* SN_SEL */
	size_t nsels; /* SN_ONE_OF, SN_ALL_OF: the selections the pattern named */
	unsigned int *sels;
};

/* Which events a log source covers. */
enum sg_logsource {
	SL_PROCESS_CREATION, /* exec events, not the start-up snapshot */
	SL_PROCESS_TERMINATION, /* exit events (pangolin) */
	SL_FILE_EVENT, /* opens that succeeded with write intent: created or modified */
	SL_FILE_ACCESS, /* every open, successful or not */
	SL_NETWORK_CONNECTION, /* connects */
	SL_DNS_QUERY, /* DNS queries that parsed */
	SL_PTRACE, /* ptrace events (pangolin) */
	SL_SETID, /* setuid/setgid family (pangolin) */
	SL_COUNT
};

enum sg_corr_type { SC_NONE, SC_EVENT_COUNT, SC_VALUE_COUNT, SC_TEMPORAL, SC_TEMPORAL_ORDERED };

#define SG_CORR_RULES_MAX 16
#define SG_GROUP_MAX PG_ALERT_GROUP_MAX
#define SG_THRESHOLD_MAX 10000 /* events or values a correlation counts up to */

/* A correlation's group-by field as seen by one of its rules (aliases differ per rule). */
struct sg_group_field {
	const char *name; /* as the correlation names it: the key in an alert's group_by */
	unsigned int field[SG_CORR_RULES_MAX]; /* per referenced rule: index in the fields */
};

struct sg_rule {
	/* identity */
	const char *id; /* the id, else the name, else "FILE:LINE" */
	const char *name; /* Sigma's name (may be NULL) */
	const char *title;
	const char *file;
	unsigned int line;
	unsigned int level; /* enum pg_alert_level */
	size_t ntags;
	const char **tags;
	bool generate; /* raises alerts of its own (not only feeds a correlation) */

	/* a detection rule */
	enum sg_logsource logsource;
	size_t nsels;
	struct sg_selection *sels;
	struct sg_node *cond;

	/* a correlation rule */
	enum sg_corr_type corr;
	size_t nrefs;
	const char *ref_names[SG_CORR_RULES_MAX];
	unsigned int refs[SG_CORR_RULES_MAX]; /* rule indices, after pg_ruleset__finish */
	unsigned int ref_line[SG_CORR_RULES_MAX];
	size_t ngroup;
	struct sg_group_field group[SG_GROUP_MAX];
	const char *group_src[SG_GROUP_MAX]; /* names before aliases are applied */
	struct {
		const char *alias;
		const char *rule;
		const char *field;
	} *aliases;
	size_t naliases;
	const char *value_field_name; /* value_count */
	unsigned int value_field[SG_CORR_RULES_MAX];
	uint64_t timespan_ns;
	uint32_t threshold; /* fires when the count reaches it (gt N is N + 1) */
	bool corr_generate; /* the correlation's own generate: its rules alert too */
	unsigned int depth; /* correlations of correlations: how far from the events */
};

struct sg_arena;

struct pg_ruleset {
	struct sg_rule *rules;
	size_t nrules, cap;
	struct sg_field *fields;
	size_t nfields, fcap;
	struct sg_arena *arena; /* strings and arrays of every rule, freed at once */
	pcre2_code **res; /* every regex, to free */
	size_t nres, rescap;
	/* per event type, the detection rules that look at it (after finish) */
	unsigned int *by_type[PG_EV_TYPE_COUNT];
	size_t nby_type[PG_EV_TYPE_COUNT];
	/* per rule, the correlations that count it */
	unsigned int **feeds;
	size_t *nfeeds;
	bool finished;
	size_t ncorr;
};

void *sg_alloc(struct pg_ruleset *rs, size_t size);
char *sg_strndup(struct pg_ruleset *rs, const char *s, size_t n);
/* The index of a field in rs->fields, added when new; -ENOMEM. */
int sg_field_intern(struct pg_ruleset *rs, enum sg_acc acc, const struct pg_field *pf);
/* The same for labels.KEY (key of len bytes, copied). */
int sg_field_intern_label(struct pg_ruleset *rs, const char *key, size_t len);

/* Whether an event is one the log source covers. */
bool sg_logsource_covers(enum sg_logsource ls, const struct pg_event *ev);
/* The event type a log source is about. */
unsigned int sg_logsource_type(enum sg_logsource ls);

/* --- matching (sigma_match.c) ----------------------------------------------------------------- */

/* The most values a field has: the ancestors, or the pod's labels. */
#define SG_VALUES_MAX \
	(PG_POD_LABELS_MAX > PG_PROC_ANCESTORS ? PG_POD_LABELS_MAX : PG_PROC_ANCESTORS)

/* The value of a field in one event, rendered once and kept while that event is matched. */
struct sg_fval {
	uint32_t gen; /* == ctx gen when filled */
	bool present;
	bool isnum;
	int64_t num;
	unsigned int n; /* values: 1, or the ancestors, or the labels */
	const char *s[SG_VALUES_MAX];
	size_t len[SG_VALUES_MAX];
	const char *lower[SG_VALUES_MAX]; /* lower-case copies, made when first needed */
};

struct sg_ctx {
	const struct pg_ruleset *rs;
	const struct pg_event *ev;
	uint32_t gen;
	struct sg_fval *vals; /* one per field of the rule set */
	char *scratch; /* renderings and lower-case copies of this event's values */
	size_t scratch_len, scratch_cap;
	pcre2_match_data *md;
	/* selections of the rule being evaluated: computed (bit) and result */
	uint64_t sel_done, sel_true;
};

int sg_ctx_init(struct sg_ctx *c, const struct pg_ruleset *rs);
void sg_ctx_release(struct sg_ctx *c);
/* Start matching a new event. */
void sg_ctx_event(struct sg_ctx *c, const struct pg_event *ev);
/* Whether a detection rule matches the current event (its log source is checked too). */
bool sg_rule_matches(struct sg_ctx *c, const struct sg_rule *r);
/* A field's value as text for group-by and value_count ("" when absent): s, len. */
void sg_field_text(struct sg_ctx *c, unsigned int field, const char **s, size_t *len);

#endif /* PANGOLIN_SIGMA_H */
