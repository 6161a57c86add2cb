/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The process table: every live process, learned from exec/fork/exit events and the start-up
 * snapshot, keyed by (pid, start_ns), so each event can carry its process's program, command
 * line, its parent's, and the programs up the tree (struct pg_event_proc, docs/events.md).
 *
 * Plain C over events, no I/O: the live sensor, a replay and the tests run the same code.
 *
 * Lineage is copied when a process is forked (or first linked to its parent), not looked up
 * when an event comes: a parent that exits, a child reparented to init, a pid reused later
 * change nothing in what the child carries. Copies are cheap: strings are reference counted
 * and shared by every process that inherited them.
 *
 * Memory is bounded three ways: an exited process leaves after a grace period of event time
 * (late events of it still find it); the table has a cap, beyond which the longest-exited,
 * then the least recently seen, leave first (counted); and nothing else is kept.
 */
#ifndef PANGOLIN_PROCTABLE_H
#define PANGOLIN_PROCTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define PG_PROCTABLE_MAX_DEFAULT 65536
#define PG_PROCTABLE_GRACE_DEFAULT_NS 5000000000ULL /* 5 s of event time */

struct pg_proctable_opts {
	size_t max_entries; /* 0: PG_PROCTABLE_MAX_DEFAULT; at least 2 */
	uint64_t grace_ns; /* how long an exited process stays; 0: the default */
};

struct pg_proctable_stats {
	uint64_t entries; /* processes in the table now (live, and exited within the grace) */
	uint64_t peak; /* the most there have been */
	uint64_t added; /* processes added: fork, exec or snapshot, or first seen in an event */
	uint64_t expired; /* removed after exit and the grace period */
	uint64_t evicted; /* removed because the table was full (exits missed, a cap too small) */
	uint64_t enriched; /* events given process fields */
	uint64_t unknown; /* events of a process whose program the table does not know */
};

struct pg_proctable;

/* NULL with errno set (ENOMEM, EINVAL for a cap below 2). */
struct pg_proctable *pg_proctable__new(const struct pg_proctable_opts *opts);

/*
 * Learn from ev (exec, fork, exit: the table changes; any event: its process is remembered)
 * and fill ev->meta.proc from the table, unless the event carries process fields already
 * (a replayed recording). The strings stay valid until the next call. 0, or -ENOMEM (the
 * event is left without process fields; the table stays consistent).
 */
int pg_proctable__observe(struct pg_proctable *t, struct pg_event *ev);

void pg_proctable__stats(const struct pg_proctable *t, struct pg_proctable_stats *out);
void pg_proctable__free(struct pg_proctable *t);

/* --- the stage -------------------------------------------------------------------------------- */

struct pg_stage;

/* The table as a pipeline stage: every event passes. NULL with errno set. */
struct pg_stage *pg_stage_process__new(const struct pg_proctable_opts *opts);
void pg_stage_process__stats(const struct pg_stage *st, struct pg_proctable_stats *out);

#endif /* PANGOLIN_PROCTABLE_H */
