/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --metrics ADDR: Prometheus text on /metrics, /healthz and /readyz for Kubernetes probes,
 * served by libmicrohttpd on a thread of its own.
 *
 * The HTTP thread never touches a source, stage or sink: their counters are plain fields
 * the event loop writes. It serves the text of the last collection the event loop published,
 * and asks for a fresh one: a scrape sets a flag, the event loop sees it after its next poll
 * (100 ms at most in `run`), collects, renders and publishes, and the scrape waits for that
 * up to PG_METRICS_FRESH_MS before it serves the last text it has. The event path pays for
 * one collection per scrape and one atomic load per loop; it never waits for the server.
 *
 * Health and readiness (docs/operations.md):
 *   /healthz  200 while the event loop runs: it has come round within PG_METRICS_STALL_S
 *             seconds (it does at least every 100 ms in `run`); else 503. A restart is the
 *             remedy for a loop that is stuck.
 *   /readyz   200 while the source is running (the sensor's programs loaded and attached and
 *             not yet stopping; a replay's recording open and not at its end) and every
 *             output accepts events (a file or stdout: its last write succeeded; Kafka: no
 *             fatal producer error and no event has waited more than 5 s for the broker's
 *             acknowledgement). Else 503 with the first reason in the body.
 */
#ifndef PANGOLIN_METRICS_SERVER_H
#define PANGOLIN_METRICS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "metrics.h"

#define PG_METRICS_FRESH_MS 500 /* how long a scrape waits for the event loop's collection */
#define PG_METRICS_STALL_S 30 /* /healthz fails when the event loop has not run this long */

/*
 * Parse a listen address: IPV4:PORT, [IPV6]:PORT, localhost:PORT, or :PORT (every IPv4
 * address; [::]:PORT for every address). Numeric only: a listen address is never resolved.
 * Port 0 picks a free port (pg_metrics_server__port says which). 0, or -EINVAL with the
 * reason in err.
 */
int pg_listen_addr_parse(const char *s, struct sockaddr_storage *out, socklen_t *len, char *err,
			 size_t errlen);

struct pg_metrics_server;

/* Listen on addr and serve. NULL with errno set and a message in err (bad address, the port
 * is taken, no such local address). */
struct pg_metrics_server *pg_metrics_server__start(const char *addr, char *err, size_t errlen);

/* The port it listens on. */
int pg_metrics_server__port(const struct pg_metrics_server *srv);

/* A scrape waits for a fresh collection: collect and publish. One atomic load. */
bool pg_metrics_server__wanted(struct pg_metrics_server *srv);

/* Render a collection and serve it from now on. 0 or -ENOMEM (the last text stays). */
int pg_metrics_server__publish(struct pg_metrics_server *srv, const struct pg_metrics *m);

/*
 * What serving costs the event loop: collections made for scrapes and the seconds they took
 * (collecting, rendering, publishing), added to m as pangolin_metrics_collections_total and
 * pangolin_metrics_collection_seconds_total; then count one more of dt seconds.
 */
void pg_metrics_server__metrics(struct pg_metrics_server *srv, struct pg_metrics *m);
void pg_metrics_server__count(struct pg_metrics_server *srv, double dt);

/* The event loop came round: what /healthz looks at. One atomic store. */
void pg_metrics_server__beat(struct pg_metrics_server *srv);

/* Ready, or not and why (copied). Cheap when nothing changed. */
void pg_metrics_server__set_ready(struct pg_metrics_server *srv, bool ready, const char *why);

/* Stop serving and free; NULL-safe. */
void pg_metrics_server__stop(struct pg_metrics_server *srv);

#endif /* PANGOLIN_METRICS_SERVER_H */
