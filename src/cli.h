/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Subcommands: one file per command (cmd_*.c), dispatched from the table in main.c. */
#ifndef PANGOLIN_CLI_H
#define PANGOLIN_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline.h"

/* What main.c hands every command. */
struct pg_cli {
	const char *prog; /* "pangolin" */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
};

struct pg_cmd {
	const char *name;
	const char *summary; /* one line for `pangolin --help` */
	/* argv[0] is the command name. Returns the process exit status. */
	int (*run)(const struct pg_cli *cli, int argc, char **argv);
	void (*help)(FILE *out);
};

/* Exit statuses shared by all commands. */
#define PG_EXIT_OK 0
#define PG_EXIT_FAIL 1 /* the job failed (bad input, I/O error, lost events) */
#define PG_EXIT_USAGE 2 /* bad command line */

/* "pangolin CMD: " + message, on stderr. */
__attribute__((format(printf, 2, 3))) void pg_cli_err(const char *cmd, const char *fmt, ...);
/* Report an unknown option or missing argument the way every command does. Returns 2. */
int pg_cli_usage_error(const char *cmd, int argc, char **argv);

/* "64M", "1g", "4096" -> bytes. 0, or -EINVAL. */
int pg_parse_size(const char *s, uint64_t *out);

/* Output selection, shared by every command that writes events. */
struct pg_output_opts {
	const char *spec; /* NULL or "-": stdout; a path; kafka://... */
	const char *format; /* "json" (default) */
	uint64_t rotate_bytes;
	bool line_buffered;
};

/* Build the sink for an output spec. NULL with a message in err on failure. */
struct pg_sink *pg_output__open(const struct pg_output_opts *o, char *err, size_t errlen);

/* Add --filter's stage when expr is not NULL. Prints the error (with a caret) and returns
 * -EINVAL for a bad filter. */
int pg_cli_add_filter(const char *cmd, struct pg_pipeline *pl, const char *expr);

/* Print the end-of-run summary line on stderr. */
void pg_cli_summary(const char *cmd, struct pg_source *src, struct pg_pipeline *pl,
		    double seconds);

double pg_now_seconds(void);

/* Is pid still running? False when it is gone or a zombie (exited, not yet reaped). */
bool pg_pid_running(int pid);

#endif /* PANGOLIN_CLI_H */
