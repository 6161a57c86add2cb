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

/* A positive number of seconds (fractions allowed, at most 1e7). false when it is not one. */
bool pg_parse_seconds(const char *s, double *out);

/* "64M", "1g", "4096" -> bytes. 0, or -EINVAL. */
int pg_parse_size(const char *s, uint64_t *out);

/* Output selection, shared by every command that writes events. */
#define PG_OUTPUT_MAX_PROPS 64

struct pg_output_opts {
	const char *spec; /* NULL or "-": stdout; a path; kafka://... */
	const char *format; /* "json" (default), or "protobuf" (kafka:// only) */
	uint64_t rotate_bytes;
	bool line_buffered;
	bool fsync; /* --fsync: files (and standard output into a file) only */
	/* kafka:// only (docs/kafka.md) */
	const char *props[PG_OUTPUT_MAX_PROPS]; /* -X KEY=VALUE, librdkafka properties */
	size_t nprops;
	const char *kafka_key; /* --kafka-key: pod (default), container, node, none */
	const char *kafka_spill; /* --kafka-spill FILE */
	int kafka_queue_wait_ms; /* the command's choice: -1 wait for queue room, 0 never */
	int kafka_timeout_ms; /* --kafka-timeout: start-up check; 0: 10 s */
	volatile sig_atomic_t *stop; /* the command's stop flag: lets waits give up */
	const char *cmd; /* "run", "replay"...: names the command in the output's notices */
	bool quiet; /* -q: no notices (a broker that does not answer, a long wait at exit) */
};

/*
 * The options above as every event-writing command spells them. A command puts
 * PG_OUTPUT_LONGOPTS in its struct option table, PG_OUTPUT_SHORTOPTS in its getopt string,
 * PG_OUTPUT_HELP in its help, and offers each getopt result to pg_output__option first.
 */
enum {
	PG_OPT_FORMAT = 0x1000,
	PG_OPT_KAFKA_KEY,
	PG_OPT_KAFKA_SPILL,
	PG_OPT_KAFKA_TIMEOUT,
	PG_OPT_KAFKA_QUEUE_WAIT,
	PG_OPT_FSYNC,
};

/*
 * How long a line may wait in a file or pipe output's buffer: a reader (tail -f, a log
 * shipper) sees events this late at most, and a kill -9 loses about this much. At most one
 * timed write per interval, never one per event: replaying 300,000 events to a file made the
 * same 442 writes with the timer as without (bench/README.md).
 */
#define PG_OUTPUT_FLUSH_MS 100

#define PG_OUTPUT_SHORTOPTS "X:"
#define PG_OUTPUT_LONGOPTS                                                      \
	{ "format", required_argument, NULL, PG_OPT_FORMAT },                   \
	{ "kafka-key", required_argument, NULL, PG_OPT_KAFKA_KEY },             \
	{ "kafka-spill", required_argument, NULL, PG_OPT_KAFKA_SPILL },         \
	{ "kafka-timeout", required_argument, NULL, PG_OPT_KAFKA_TIMEOUT },     \
	{ "kafka-queue-wait", required_argument, NULL, PG_OPT_KAFKA_QUEUE_WAIT }, \
	{ "fsync", no_argument, NULL, PG_OPT_FSYNC }

#define PG_OUTPUT_HELP                                                                    \
	"      --format FMT      json (default: NDJSON lines, or one JSON object per Kafka\n"   \
	"                        message) or protobuf (kafka:// only; proto/pangolin.proto)\n"  \
	"      --fsync           sync the output file to disk after every write (a few a\n"   \
	"                        second, or one per 256 KiB): a power cut then loses no more\n"\
	"                        than a kill -9, the last 100 ms of events (docs/sensor.md)\n" \
	"  Kafka (-o kafka://HOST:PORT[,HOST:PORT...]/TOPIC; see docs/kafka.md):\n"            \
	"  -X KEY=VALUE          a librdkafka property (TLS, SASL, batching...); repeatable\n"  \
	"      --kafka-key K     message key: pod (pod UID, else container id, else node;\n"   \
	"                        the default), container, node, or none\n"                    \
	"      --kafka-spill F   save events Kafka cannot take now to the NDJSON file F\n"     \
	"                        instead of dropping them; the next start re-sends F\n"        \
	"      --kafka-timeout S seconds to wait at start for a broker and the topic (10)\n"    \
	"      --kafka-queue-wait MS  when librdkafka's queue is full, wait up to MS for\n"     \
	"                        room before dropping or spilling (-1: as long as it takes)\n"

/*
 * Offer one getopt result to the output options. 1: it was one and is stored; 0: not an
 * output option; -1: a bad value, already reported (exit with PG_EXIT_USAGE).
 */
int pg_output__option(struct pg_output_opts *o, const char *cmd, int c, const char *arg);

/* Whether the options make sense together (format, Kafka-only options), before anything is
 * opened: 0, or -EINVAL with the reason in err (a usage error). */
int pg_output__check(const struct pg_output_opts *o, char *err, size_t errlen);

/* Build the sink for an output spec. NULL with a message in err on failure. */
struct pg_sink *pg_output__open(const struct pg_output_opts *o, char *err, size_t errlen);

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

/* Add --filter's stage when expr is not NULL. Prints the error (with a caret) and returns
 * -EINVAL for a bad filter. */
int pg_cli_add_filter(const char *cmd, struct pg_pipeline *pl, const char *expr);

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

double pg_now_seconds(void);

/* Is pid still running? False when it is gone or a zombie (exited, not yet reaped). */
bool pg_pid_running(int pid);

#endif /* PANGOLIN_CLI_H */
