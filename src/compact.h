/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --format compact: one line per event that a person scans on a terminal.
 *
 *   10:00:00.000150 curl[2345]              exec /usr/bin/curl -sS https://example.com/
 *   10:00:00.000900 cat[2350]               open /etc/shadow EACCES
 *   10:00:00.001200 curl[2345]              connect 93.184.216.34:443
 *
 * Local time (TZ), the process (comm and pid), what happened, the pod or container when
 * known. Every byte that comes from the watched system is shown safely: control characters,
 * terminal escapes and bytes that are not UTF-8 as \xNN, arguments with spaces quoted the
 * way a shell would. NDJSON stays the format for programs: compact lines are not parsed back
 * and leave fields out.
 */
#ifndef PANGOLIN_COMPACT_H
#define PANGOLIN_COMPACT_H

#include <stdbool.h>

#include "buf.h"
#include "event.h"

/* Append the line for ev, without the newline; colour: ANSI colours for a terminal. */
void pg_compact_encode(const struct pg_event *ev, struct pg_buf *out, bool colour);

#endif /* PANGOLIN_COMPACT_H */
