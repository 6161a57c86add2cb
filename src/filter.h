/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The filter language (docs/filter.md):
 *
 *   type == "open" && comm == "curl" && path startswith "/etc/"
 *   not (uid in [0, 1000]) or dport >= 1024
 *
 * The tree is public so the kernel source can find the conjuncts it can decide in BPF maps
 * (pg_filter_conjuncts) and leave the rest to pg_filter_match in userspace.
 */
#ifndef PANGOLIN_FILTER_H
#define PANGOLIN_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum pg_filter_op {
	PG_FOP_TRUE, /* matches everything (an empty filter) */
	PG_FOP_AND,
	PG_FOP_OR,
	PG_FOP_NOT,
	PG_FOP_CMP,
};

enum pg_cmp {
	PG_CMP_EQ,
	PG_CMP_NE,
	PG_CMP_LT,
	PG_CMP_LE,
	PG_CMP_GT,
	PG_CMP_GE,
	PG_CMP_IN,
	PG_CMP_STARTSWITH,
	PG_CMP_ENDSWITH,
	PG_CMP_CONTAINS,
	PG_CMP_GLOB,
};

/* One literal. Numbers in num; strings in str/len; addresses as family + addr + prefix. */
struct pg_filter_value {
	int64_t num;
	char *str;
	size_t len;
	unsigned int family; /* PG_FK_ADDR: AF_INET or AF_INET6 */
	unsigned int prefix; /* PG_FK_ADDR: CIDR prefix length (32/128 for a host) */
	unsigned char addr[16];
};

struct pg_filter_node {
	enum pg_filter_op op;
	struct pg_filter_node *left; /* AND, OR, NOT */
	struct pg_filter_node *right; /* AND, OR */
	/* PG_FOP_CMP */
	const struct pg_field *field;
	enum pg_cmp cmp;
	size_t nvals; /* 1, or the length of an "in" list */
	struct pg_filter_value *vals;
	size_t column; /* where the comparison starts in the source, 1-based */
};

struct pg_filter {
	struct pg_filter_node *root;
	char *source;
};

struct pg_filter_error {
	size_t column; /* 1-based */
	char msg[200];
};

/*
 * Parse expr. NULL or "" gives a filter that matches everything. Returns the filter, or NULL
 * with errno set (EINVAL: err says where and what; ENOMEM).
 */
struct pg_filter *pg_filter__parse(const char *expr, struct pg_filter_error *err);
void pg_filter__free(struct pg_filter *f);

/* true when the event satisfies the filter. */
bool pg_filter__match(const struct pg_filter *f, const struct pg_event *ev);
bool pg_filter_node__match(const struct pg_filter_node *n, const struct pg_event *ev);

/* Write "expr\n    ^ message" for err into buf, for error output. */
void pg_filter_error__format(const char *expr, const struct pg_filter_error *err, char *buf,
			     size_t size);

/*
 * The top-level conjuncts of the filter: for "a && (b || c) && d" that is a, (b || c), d.
 * Fills up to max node pointers and returns how many there are in all.
 */
size_t pg_filter__conjuncts(const struct pg_filter *f, const struct pg_filter_node **out,
			    size_t max);

/* Render a node back to the language (for diagnostics such as "kernel decides: ..."). */
void pg_filter_node__format(const struct pg_filter_node *n, char *buf, size_t size);

#endif /* PANGOLIN_FILTER_H */
