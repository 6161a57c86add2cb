/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The filter language (docs/filter.md):
 *
 *   type == "open" && comm == "curl" && path startswith "/etc/"
 *   not (uid in [0, 1000]) or dport >= 1024
 *
 * The tree is public so the kernel source can find the conjuncts it can decide in BPF maps
 * (pg_filter__conjuncts) and leave the rest to pg_filter__match in userspace. Filters are
 * built from other filters' nodes (pg_filter__from_conjuncts), never by printing and parsing
 * text again.
 *
 * Stack: every function here that walks the tree recurses as deep as the tree, and no deeper.
 * The tree is as deep as the filter's nesting (parentheses and "not", at most
 * PG_FILTER_MAX_NESTING levels), not as long as it is: "a && b && ... && z" is one AND node of
 * 26 operands. tests/unit/test_filter.c measures the stack the deepest and the longest filters
 * take.
 */
#ifndef PANGOLIN_FILTER_H
#define PANGOLIN_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Parentheses and "not" nest at most this deep; a deeper filter is a parse error. */
#define PG_FILTER_MAX_NESTING 64

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
	/*
	 * AND, OR: the operands in order, at least two, none with the node's own op: "a && (b &&
	 * c)" is one AND of three (the parser and the builders below flatten). NOT: one operand.
	 */
	size_t nsub;
	struct pg_filter_node **sub;
	/* PG_FOP_CMP */
	const struct pg_field *field;
	enum pg_cmp cmp;
	size_t nvals; /* 1, or the length of an "in" list */
	struct pg_filter_value *vals;
	size_t column; /* where the comparison starts in the text it was parsed from, 1-based */
};

struct pg_filter {
	struct pg_filter_node *root;
	/* The text parsed, or NULL for a filter built from another's nodes (their columns are
	 * then columns of that one's source). */
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

/*
 * Write "column N: message\n  expr\n  ^" for err into buf, for error output. A long expr is
 * shown as the part around the column, so the caret stays on screen.
 */
void pg_filter_error__format(const char *expr, const struct pg_filter_error *err, char *buf,
			     size_t size);

/*
 * The top-level conjuncts of the filter: for "a && (b || c) && d" that is a, (b || c), d; none
 * for the empty filter. Fills up to max node pointers (they stay f's) and returns how many
 * there are in all: call with max 0 to learn how many to make room for.
 */
size_t pg_filter__conjuncts(const struct pg_filter *f, const struct pg_filter_node **out,
			    size_t max);

/*
 * A new filter, the conjunction of copies of conj[0..n-1] (which stay the caller's): the
 * empty filter for n == 0, a copy of conj[0] for n == 1; an AND among them is spliced in, an
 * empty filter's root (PG_FOP_TRUE) left out. Free with pg_filter__free. NULL with errno
 * ENOMEM.
 */
struct pg_filter *pg_filter__from_conjuncts(const struct pg_filter_node *const *conj, size_t n);

/* A deep copy of n (values included; fields are static). NULL with errno ENOMEM. */
struct pg_filter_node *pg_filter_node__clone(const struct pg_filter_node *n);
/* Free n and everything under it; NULL is a no-op. */
void pg_filter_node__free(struct pg_filter_node *n);

/* Whether a comparison anywhere in f is on a field for which pred is true. */
bool pg_filter__uses(const struct pg_filter *f, bool (*pred)(const struct pg_field *));

/*
 * Render a node back to the language (for diagnostics): AND and OR in parentheses, literals
 * escaped so that the text parses back to the same tree. Writes at most size bytes, always
 * terminated when size > 0, and returns the length of the whole text, as snprintf does.
 */
size_t pg_filter_node__format(const struct pg_filter_node *n, char *buf, size_t size);

/*
 * The whole filter as text, its conjuncts joined by " && " without parentheses around them
 * all ("" for the empty filter): it parses back to the same tree. malloc'd; NULL with errno
 * ENOMEM.
 */
char *pg_filter__to_text(const struct pg_filter *f);

#endif /* PANGOLIN_FILTER_H */
