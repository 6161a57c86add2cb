/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Outputs by the form of -o, through one table of sink types (like redis's connection types):
 *
 *   -o -, or no -o          stdout   standard output
 *   -o PATH, -o file:PATH   file     a file (rotation, --fsync)
 *   -o kafka://HOST/TOPIC   kafka    a Kafka topic (librdkafka)
 *
 * A new sink is one file and one entry in output.c's table: the file defines its struct
 * pg_sink_type (how -o names it, the formats it writes, its options with their --help
 * section, a check and an open), and every command that writes events offers it, its
 * options and its help, with no other edit.
 */
#ifndef PANGOLIN_OUTPUT_H
#define PANGOLIN_OUTPUT_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sink.h"

/*
 * How long a line may wait in a file or pipe output's buffer: a reader (tail -f, a log
 * shipper) sees events this late at most, and a kill -9 loses about this much. At most one
 * timed write per interval, never one per event: replaying 300,000 events to a file made the
 * same 442 writes with the timer as without (bench/README.md).
 */
#define PG_OUTPUT_FLUSH_MS 100

#define PG_OUTPUT_MAX_GIVEN 96 /* sink options given on one command line (-X is repeatable) */

struct pg_sink_option;

/* What a command asks of its output: the -o spec, --format, and the sink types' options. */
struct pg_output_opts {
	const char *spec; /* NULL or "-": stdout; PATH or file:PATH; kafka://... */
	const char *format; /* --format; NULL: the sink type's default */
	uint64_t rotate_bytes; /* --rotate-size (files) */
	bool line_buffered; /* write every event at once (a person watches) */
	/* a bounded queue that is full (Kafka): wait this long for room before dropping (-1: as
	 * long as it takes). The command's choice: a replay waits, the live sensor must not. */
	int queue_wait_ms;
	volatile sig_atomic_t *stop; /* the command's stop flag: lets waits give up */
	const char *cmd; /* "run", "replay"...: names the command in the output's notices */
	bool quiet; /* -q: no notices (a broker that does not answer, a long wait at exit) */
	bool ndjson_only; /* a recording: NDJSON whatever the terminal (--format compact refused) */
	/* the sink types' options as given, in order (pg_output__option) */
	struct {
		const struct pg_sink_option *opt;
		const char *arg; /* NULL for a flag */
	} given[PG_OUTPUT_MAX_GIVEN];
	size_t ngiven;
};

/* One option of a sink type (-X KEY=VALUE, --kafka-key K, --fsync). */
struct pg_sink_option {
	const char *name; /* the long option without "--" */
	int short_name; /* its one-letter form ('X'), or 0 */
	bool has_arg;
	/* Check a value as given, before anything is opened (a refusal exits 2). 0, or -EINVAL
	 * with the whole message in err ("--kafka-key: 'rack' is not ..."). May be NULL. */
	int (*check)(const char *arg, char *err, size_t errlen);
	/* Said after the option's name when the output is another type's: "applies to kafka://
	 * outputs only". */
	const char *elsewhere;
};

struct pg_sink_type {
	const char *name; /* "file", "kafka": its counters' sink label and its --help section */
	const char *form; /* how -o names it, for --help: "kafka://HOST:PORT[,...]/TOPIC" */
	const char *about; /* its --help section's first line, after the form */
	/* Whether the -o spec is this type's (spec is never NULL here: no -o is "-"). */
	bool (*claims)(const char *spec);
	unsigned int formats; /* bit (1 << enum pg_value_format) per format it writes */
	/* The format when --format is not given. */
	enum pg_value_format (*default_format)(const struct pg_output_opts *o);
	/* Its options, ending with one whose name is NULL; NULL: none. */
	const struct pg_sink_option *options;
	/* Its options' --help lines ("  -X KEY=VALUE   a librdkafka property..."); may be NULL. */
	const char *help;
	/* Whether the options make sense together, before anything is opened: 0, or -EINVAL with
	 * the reason in err (a usage error). May be NULL. */
	int (*check)(const struct pg_output_opts *o, enum pg_value_format f, char *err,
		     size_t errlen);
	/* Open the sink: NULL with one line in err (what is wrong and what to do) and errno. */
	struct pg_sink *(*open)(const struct pg_output_opts *o, enum pg_value_format f, char *err,
				size_t errlen);
};

/* The sink types of this build (each defined in its sink's file), for output.c's table. */
extern const struct pg_sink_type pg_sink_type_stdout;
extern const struct pg_sink_type pg_sink_type_file;
extern const struct pg_sink_type pg_sink_type_kafka;

/* The formats: NDJSON lines, a line a person reads, protobuf messages. */
const char *pg_value_format_name(enum pg_value_format f);

/*
 * getopt tables for a command that writes events: its own long options followed by --format
 * and every sink type's options (out must have room for PG_OUTPUT_MAX_LONGOPTS more), and its
 * short options followed by the sink types'. 0, or -ENOSPC.
 */
#define PG_OUTPUT_MAX_LONGOPTS 32
int pg_output__longopts(struct option *out, size_t max, const struct option *cmd_opts);
int pg_output__shortopts(char *out, size_t max, const char *cmd_short);

/*
 * Offer one getopt result to the output options. 1: it was one and is stored; 0: not an
 * output option; -1: a bad value, already reported (exit with PG_EXIT_USAGE).
 */
int pg_output__option(struct pg_output_opts *o, const char *cmd, int c, const char *arg);

/* The type the spec names, or NULL with the reason in err (an unknown scheme). */
const struct pg_sink_type *pg_output__type(const struct pg_output_opts *o, char *err,
					   size_t errlen);

/* The file an output writes to, or NULL when it is not a file (stdout, Kafka). */
const char *pg_output__path(const struct pg_output_opts *o);

/* Whether the options make sense together (format, other types' options), before anything
 * is opened: 0, or -EINVAL with the reason in err (a usage error). */
int pg_output__check(const struct pg_output_opts *o, char *err, size_t errlen);

/* Build the sink for an output spec; its name is its type's. NULL with a message in err. */
struct pg_sink *pg_output__open(const struct pg_output_opts *o, char *err, size_t errlen);

/* --format, and every sink type's section: what `COMMAND --help` shows of outputs. */
void pg_output__help(FILE *out);

/*
 * The options of a second output of the same command (`run --alerts-output`: alerts to their
 * own destination): o's, with spec. When spec is of o's type, the type's options as given for
 * o (-X, --kafka-key...) apply to it too, but not a spill file (o's own: two outputs must not
 * append to one file); of another type, none. 0, or -EINVAL with the error printed.
 */
int pg_output__second(const struct pg_output_opts *o, const char *cmd, const char *spec,
		      struct pg_output_opts *out);

/* Open that second output for alerts; its counters' sink label is its type's name and
 * "-alerts" (kafka-alerts), apart from the events output's. NULL with a message in err. */
struct pg_sink *pg_output__open_alerts(const struct pg_output_opts *o, const char *cmd,
				       const char *spec, char *err, size_t errlen);

/* For a sink type's open(): the value of its option name (the last one given), or NULL. */
const char *pg_output__arg(const struct pg_output_opts *o, const char *name);

/* For a sink's running commentary (a silent broker, a long wait): one stderr line,
 * "pangolin CMD: msg", where ctx is the command's name. */
void pg_output__notice(void *ctx, const char *msg);

/* Where NO_COLOR is set (https://no-color.org) or out is not a terminal: no colour. */
bool pg_output__colour(int fd);

#endif /* PANGOLIN_OUTPUT_H */
