/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Subcommands: one file per command (cmd_*.c), dispatched from the table in main.c. */
#ifndef PANGOLIN_CLI_H
#define PANGOLIN_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"
#include "pipeline.h"

/* What main.c hands every command. */
struct pg_cli {
	const char *prog; /* "pangolin" */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
	volatile sig_atomic_t *reload; /* set by SIGHUP, for commands that reload (pg_cmd.reloads) */
};

struct pg_cmd {
	const char *name;
	const char *summary; /* one line for `pangolin --help` */
	/* argv[0] is the command name. Returns the process exit status. */
	int (*run)(const struct pg_cli *cli, int argc, char **argv);
	void (*help)(FILE *out);
	bool reloads; /* SIGHUP sets pg_cli.reload instead of ending the process */
};

/* Exit statuses shared by all commands. */
#define PG_EXIT_OK 0
#define PG_EXIT_FAIL 1 /* the job failed (bad input, I/O error, lost events) */
#define PG_EXIT_USAGE 2 /* bad command line */

/* "pangolin CMD: " + message, on stderr. */
__attribute__((format(printf, 2, 3))) void pg_cli_err(const char *cmd, const char *fmt, ...);
/* Report an unknown option or missing argument the way every command does. Returns 2. */
int pg_cli_usage_error(const char *cmd, int argc, char **argv);

/* A positive number of seconds (fractions allowed, at most 1e7). false when it is not one. */
bool pg_parse_seconds(const char *s, double *out);

/* "64M", "1g", "4096" -> bytes. 0, or -EINVAL. */
int pg_parse_size(const char *s, uint64_t *out);

struct pg_enrich_opts;

/* Add the enrich stage (node name; cgroup, container and pod when o->cgroups). Prints the
 * error and returns -errno on failure. */
int pg_cli_add_enrich(const char *cmd, struct pg_pipeline *pl, const struct pg_enrich_opts *o);

/* Add the process table (proctable.h): exe, cmdline, parent and ancestors on every event.
 * Prints the error and returns -errno on failure. */
int pg_cli_add_process(const char *cmd, struct pg_pipeline *pl);

/*
 * Load the Sigma rules under dir (docs/detect.md) and add the detection stage; alerts_only
 * drops the events themselves. Prints the error (file:line:column: key: why) and returns
 * -errno on failure; *out (may be NULL) gets the stage, for its counters.
 */
struct pg_detector_opts;
int pg_cli_add_rules(const char *cmd, struct pg_pipeline *pl, const char *dir,
		     const struct pg_detector_opts *dopts, bool alerts_only, bool quiet,
		     struct pg_stage **out);

/* Add --filter's stage when expr is not NULL; keep_decided: an event a policy rule decided
 * passes whatever the filter says. Prints the error (with a caret) and returns -EINVAL for a
 * bad filter. */
int pg_cli_add_filter(const char *cmd, struct pg_pipeline *pl, const char *expr, bool keep_decided);

/* A filter file larger than this is refused: no useful filter comes near it. */
#define PG_FILTER_FILE_MAX (16u << 20)

/*
 * The text of --filter-file PATH, malloc'd: the way to give a filter
 * longer than one argument may be (the kernel's limit is 128 KiB). NULL with the error
 * printed (cannot read it, larger than PG_FILTER_FILE_MAX, a NUL byte in it).
 */
char *pg_cli_read_filter_file(const char *cmd, const char *path);
/*
 * One collection of every counter (src/metrics.h): the build and the process, the source
 * (NULL: none), the pipeline with its stages and sinks, and the run's duration (--stats'
 * "seconds"). The status line, the summary, --stats and --metrics all read one.
 */
void pg_cli_collect(struct pg_metrics *m, struct pg_source *src, struct pg_pipeline *pl,
		    double seconds);

/* "; NAME: N produced, N delivered, ..." for every acknowledged sink (seconds > 0 adds MB/s). */
void pg_cli_sink_counters(FILE *out, const struct pg_metrics *m, const struct pg_pipeline *pl,
			  double seconds);

/* Print the end-of-run summary line on stderr. */
void pg_cli_summary(const char *cmd, const struct pg_metrics *m, const struct pg_pipeline *pl,
		    double seconds);

/* --stats FILE: the collection's counters as one JSON object. 0 or -errno. */
int pg_cli_write_stats(const char *path, const struct pg_metrics *m);

/* --metrics ADDR as given on the command line: 0, or -EINVAL with the error printed. */
int pg_cli_metrics_option(const char *cmd, const char *addr);

struct pg_metrics_server;

/* Start the --metrics server when addr is not NULL (and say where, unless quiet). NULL when
 * addr is NULL, or on failure with the error printed: tell them apart by addr. */
struct pg_metrics_server *pg_cli_metrics_start(const char *cmd, const char *addr, bool quiet);

/*
 * The event loop's part of --metrics, after every poll of the source: the heartbeat that
 * /healthz reads, readiness (not_ready: why the source is not running, e.g. "stopping";
 * NULL when it runs, then every output must accept events), and a collection when a
 * scrape asks for one. Does nothing when srv is NULL.
 */
void pg_cli_metrics_round(struct pg_metrics_server *srv, struct pg_metrics *m,
			  struct pg_source *src, struct pg_pipeline *pl, double seconds,
			  const char *not_ready);

/* How often an event loop comes round while --metrics is on (a blocking read would starve
 * the server's collections and the heartbeat). */
#define PG_METRICS_ROUND_MS 100

double pg_now_seconds(void);

/* Is pid still running? False when it is gone or a zombie (exited, not yet reaped). */
bool pg_pid_running(int pid);

#endif /* PANGOLIN_CLI_H */
