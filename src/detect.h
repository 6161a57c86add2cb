/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Detection: Sigma rules over pangolin's events (docs/detect.md).
 *
 * A rule set is loaded from YAML files (detection rules and correlation rules), checked whole
 * (an unsupported construct is an error that names the file, line, column and key), then run
 * by a detector: every event is matched against the rules of its log source, matches feed the
 * correlations, and each rule that fires becomes an alert event (type "alert", event.h).
 *
 * Plain C over events, no I/O besides reading the rule files: the sensor, `detect` on a
 * recording or a Kafka topic, and the tests run the same code.
 */
#ifndef PANGOLIN_DETECT_H
#define PANGOLIN_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct pg_ruleset;

/* An empty rule set; NULL on ENOMEM. */
struct pg_ruleset *pg_ruleset__new(void);

/*
 * Load the rules in buf (len bytes of YAML, one rule per document), naming them by name in
 * messages. 0; -EINVAL with "NAME:LINE:COLUMN: key: why" in err; -ENOMEM. A file that fails
 * adds none of its rules.
 */
int pg_ruleset__load_buf(struct pg_ruleset *rs, const char *name, const char *buf, size_t len,
			 char *err, size_t errlen);
/* One file (at most PG_RULE_FILE_MAX bytes). As load_buf, or -errno when it cannot be read. */
int pg_ruleset__load_file(struct pg_ruleset *rs, const char *path, char *err, size_t errlen);
/*
 * Every *.yml and *.yaml file under dir, in sorted order, subdirectories included. A path that
 * is a file loads that file. Stops at the first error (in err). Returns the number of files
 * loaded, or a negative errno.
 */
int pg_ruleset__load_dir(struct pg_ruleset *rs, const char *dir, char *err, size_t errlen);
/*
 * After loading: resolve what correlations refer to, check their fields against those rules,
 * and index rules by event type. 0, or -EINVAL with the message in err.
 */
int pg_ruleset__finish(struct pg_ruleset *rs, char *err, size_t errlen);
void pg_ruleset__free(struct pg_ruleset *rs);

#define PG_RULE_FILE_MAX (1u << 20)

/* What a loaded rule is, for listings and `pangolin rules test`. */
struct pg_rule_info {
	const char *id;
	const char *title;
	const char *file;
	unsigned int line;
	bool correlation;
	bool generates; /* raises alerts of its own */
};

size_t pg_ruleset__count(const struct pg_ruleset *rs);
size_t pg_ruleset__correlations(const struct pg_ruleset *rs);
void pg_ruleset__info(const struct pg_ruleset *rs, size_t i, struct pg_rule_info *out);
/* The index of the rule with this id or name; -1 when there is none. */
long pg_ruleset__find(const struct pg_ruleset *rs, const char *id_or_name);
/*
 * How far back in event time the rules can look, in ns: the longest chain of correlation
 * timespans (a correlation of correlations adds up). 0 when there is no correlation: every
 * rule then decides on one event. What a Kafka consumer must re-read to rebuild the state
 * of a partition it takes over (docs/detect.md).
 */
uint64_t pg_ruleset__reach_ns(const struct pg_ruleset *rs);

/* --- the detector: the rules run over events ------------------------------------------------- */

struct pg_detector_opts {
	/* correlation state: groups (distinct group-by values) kept per correlation; beyond it the
	 * least recently updated leave first (counted). 0: PG_DETECT_GROUPS_DEFAULT */
	size_t max_groups;
};

#define PG_DETECT_GROUPS_DEFAULT 10000

struct pg_detector_stats {
	uint64_t events; /* events looked at */
	uint64_t matches; /* rule matches (detection rules, correlations) */
	uint64_t alerts; /* alerts handed on */
	uint64_t groups; /* correlation groups held now */
	uint64_t groups_evicted; /* groups dropped because a correlation had max_groups */
	uint64_t groups_expired; /* groups dropped because their window passed */
	uint64_t groups_dropped; /* groups dropped with their scope (a partition that left) */
};

struct pg_detector;

/* The rule set must be finished and outlive the detector. NULL with errno set. */
struct pg_detector *pg_detector__new(const struct pg_ruleset *rs, const struct pg_detector_opts *o);

/* Called once per alert; the alert is the detector's and valid during the call. Non-zero stops. */
typedef int (*pg_alert_fn)(void *ctx, struct pg_event *alert);

/*
 * Match one event. fn gets each alert it raises, in rule order, correlations after the rules
 * they count. 0, what fn returned, or -ENOMEM.
 */
int pg_detector__process(struct pg_detector *d, const struct pg_event *ev, pg_alert_fn fn,
			 void *ctx);
void pg_detector__stats(const struct pg_detector *d, struct pg_detector_stats *out);

/*
 * Scopes: separate correlation state for separate streams of events (a Kafka consumer's
 * partitions). Each has its own groups and its own time (the latest event it saw, which is
 * what expires its groups), so a stream read behind the others (a partition re-read after a
 * rebalance) is not expired by their time, and a stream's state can be dropped alone when the
 * stream goes elsewhere. A detector starts with one scope of its own, used when none is.
 */
struct pg_detect_scope;

/* An empty scope; NULL on ENOMEM. */
struct pg_detect_scope *pg_detector__scope_new(struct pg_detector *d);
/* Events from now on go to scope s (NULL: the detector's own). */
void pg_detector__scope_use(struct pg_detector *d, struct pg_detect_scope *s);
/* Drop a scope and its groups (counted as groups_dropped); NULL-safe. Never the detector's
 * own: pg_detector__free releases that one. */
void pg_detector__scope_free(struct pg_detector *d, struct pg_detect_scope *s);
/* How often rule i matched (a correlation: fired), alerts or not. */
uint64_t pg_detector__rule_matches(const struct pg_detector *d, size_t i);
void pg_detector__free(struct pg_detector *d);

/* --- the stage ------------------------------------------------------------------------------- */

struct pg_stage;

/*
 * Rules as a pipeline stage: alerts go through the stages after it and to the sinks, just
 * before the event that completed them. alerts_only drops the events themselves (`detect`).
 * Takes ownership of rs (freed on failure too). NULL with errno set.
 */
struct pg_stage *pg_stage_detect__new(struct pg_ruleset *rs, const struct pg_detector_opts *o,
				      bool alerts_only);
const struct pg_detector *pg_stage_detect__detector(const struct pg_stage *st);
const struct pg_ruleset *pg_stage_detect__rules(const struct pg_stage *st);
/*
 * Slots: one scope per slot number (a Kafka partition), made on first use. Events from now on
 * are matched in slot's scope. 0, or -ENOMEM.
 */
int pg_stage_detect__select(struct pg_stage *st, size_t slot);
/* Drop slot's correlation state (the partition was revoked); the next select starts anew. */
void pg_stage_detect__drop(struct pg_stage *st, size_t slot);

/* The stage's counter families (metrics.h), for summaries: pangolin_detect_total{what=
 * events|matches|alerts}, the correlation groups held and
 * dropped{reason=expired|evicted|partition};
 * per rule, pangolin_rule_matches_total{rule}. */
struct pg_metric_desc;
extern const struct pg_metric_desc pg_metric_detect;
extern const struct pg_metric_desc pg_metric_detect_groups;
extern const struct pg_metric_desc pg_metric_detect_groups_dropped;

#endif /* PANGOLIN_DETECT_H */
