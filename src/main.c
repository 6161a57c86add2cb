// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin: an eBPF runtime sensor. This file holds the only global state (the stop flag set
 * by signals) and the command table; each command lives in its own cmd_*.c.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const struct pg_cmd pg_cmd_run;
extern const struct pg_cmd pg_cmd_record;
extern const struct pg_cmd pg_cmd_replay;
extern const struct pg_cmd pg_cmd_profile;
extern const struct pg_cmd pg_cmd_latency;
extern const struct pg_cmd pg_cmd_doctor;
extern const struct pg_cmd pg_cmd_cbpf;
extern const struct pg_cmd pg_cmd_sniff;
extern const struct pg_cmd pg_cmd_detect;
extern const struct pg_cmd pg_cmd_rules;
extern const struct pg_cmd pg_cmd_policy;

/* clang-format off */
static const struct pg_cmd *const commands[] = {
	&pg_cmd_run,
	&pg_cmd_record,
	&pg_cmd_replay,
	&pg_cmd_profile,
	&pg_cmd_latency,
	&pg_cmd_doctor,
	&pg_cmd_cbpf,
	&pg_cmd_sniff,
	&pg_cmd_detect,
	&pg_cmd_rules,
	&pg_cmd_policy,
};
/* clang-format on */

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void usage(FILE *out)
{
	fputs("usage: pangolin COMMAND [options]\n"
	      "       pangolin COMMAND --help\n"
	      "       pangolin --version\n"
	      "\n"
	      "pangolin watches a Linux host from inside the kernel and ships what matters as\n"
	      "NDJSON events.\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\ndocs: README.md, docs/events.md, docs/filter.md, docs/sensor.md, docs/kernels.md,\n"
	      "      docs/kafka.md, docs/detect.md, docs/operations.md, docs/kubernetes.md,\n"
	      "      docs/profile.md, docs/latency.md, docs/cbpf.md, docs/build.md\n",
	      out);
}

int main(int argc, char **argv)
{
	struct pg_cli cli = { .prog = "pangolin", .stop = &stop_requested,
			      .reload = &reload_requested };
	struct sigaction sa;

	if (argc < 2) {
		usage(stderr);
		return PG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (size_t i = 0; i < NCOMMANDS; i++)
				if (!strcmp(argv[2], commands[i]->name)) {
					commands[i]->help(stdout);
					return PG_EXIT_OK;
				}
		}
		usage(stdout);
		return PG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("pangolin %s (event schema v%d)\n", PG_VERSION, PG_SCHEMA_VERSION);
		return PG_EXIT_OK;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error we report, not a kill */

	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i]->name))
			continue;
		/* SIGHUP reloads what a command can reload; the others keep its default (exit) */
		if (commands[i]->reloads)
			sigaction(SIGHUP, &sa, NULL);
		return commands[i]->run(&cli, argc - 1, argv + 1);
	}

	fprintf(stderr, "pangolin: unknown command '%s'; 'pangolin --help' lists them\n", argv[1]);
	return PG_EXIT_USAGE;
}
