// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin rules check|test: load a directory of Sigma rules and say what is in it, or replay
 * each rule file's recordings (one where its rules must fire, one where they must not) and
 * say which did what they should.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "detect.h"
#include "proctable.h"

static void rules_help(FILE *out)
{
	fputs("usage: pangolin rules check DIR\n"
	      "       pangolin rules test DIR [--recordings RDIR]\n"
	      "\n"
	      "check: load every rule under DIR (*.yml, *.yaml) and list them; an unsupported\n"
	      "construct is an error naming the file, line, column and key.\n"
	      "\n"
	      "test: for each rule file NAME.yml, replay NAME.positive.ndjson (every rule of the\n"
	      "file that raises alerts must fire) and NAME.negative.ndjson (none may fire), from\n"
	      "RDIR or, without --recordings, from the rule file's own directory. All rules under\n"
	      "DIR are loaded for every replay, so correlations find the rules they count.\n"
	      "\n"
	      "options:\n"
	      "      --recordings RDIR  where the recordings are\n"
	      "  -v, --verbose          a line per recording, passed or not\n"
	      "  -h, --help             this help\n"
	      "\n"
	      "exit status: 0 all rules load (check) or every recording does what it should\n"
	      "(test), 1 otherwise, 2 bad command line\n",
	      out);
}

static struct pg_ruleset *load(const char *dir)
{
	struct pg_ruleset *rs = pg_ruleset__new();
	char err[1024];
	int rc;

	if (!rs) {
		pg_cli_err("rules", "out of memory");
		return NULL;
	}
	rc = pg_ruleset__load_dir(rs, dir, err, sizeof(err));
	if (rc >= 0 && !pg_ruleset__count(rs)) {
		snprintf(err, sizeof(err), "%s: no rules (*.yml, *.yaml) there", dir);
		rc = -ENOENT;
	}
	if (rc >= 0)
		rc = pg_ruleset__finish(rs, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pangolin rules: %s\n", err);
		pg_ruleset__free(rs);
		return NULL;
	}
	return rs;
}

static int rules_check(const char *dir)
{
	struct pg_ruleset *rs = load(dir);

	if (!rs)
		return PG_EXIT_FAIL;
	for (size_t i = 0; i < pg_ruleset__count(rs); i++) {
		struct pg_rule_info ri;

		pg_ruleset__info(rs, i, &ri);
		printf("%-38s %-11s %s%s  (%s:%u)\n", ri.id, ri.correlation ? "correlation" : "detection",
		       ri.title, ri.generates ? "" : " [counted only]", ri.file, ri.line);
	}
	fprintf(stderr, "pangolin rules: %zu rules (%zu correlations) load from %s\n",
		pg_ruleset__count(rs), pg_ruleset__correlations(rs), dir);
	pg_ruleset__free(rs);
	return PG_EXIT_OK;
}

struct replay_ctx {
	struct pg_proctable *pt;
	struct pg_detector *det;
};

static int no_alert_sink(void *ctx, struct pg_event *alert)
{
	return 0;
}

static int on_event(void *ctx, struct pg_event *ev)
{
	struct replay_ctx *r = ctx;
	int rc = pg_proctable__observe(r->pt, ev);

	if (rc)
		return rc;
	return pg_detector__process(r->det, ev, no_alert_sink, NULL);
}

/* Replay path through fresh state; *det gets the detector (the caller frees it). 0 or -errno. */
static int replay(const struct pg_ruleset *rs, const char *path, struct pg_detector **det,
		  char *err, size_t errlen)
{
	struct pg_replay_opts ro = { .fd = -1, .path = path };
	struct replay_ctx r = { 0 };
	struct pg_source *src;
	int rc;

	r.pt = pg_proctable__new(NULL);
	r.det = pg_detector__new(rs, NULL);
	src = pg_source_replay__new(&ro);
	if (!r.pt || !r.det || !src) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((rc = pg_source__poll(src, -1, on_event, &r)) >= 0 || rc == -EINTR)
		;
	if (rc == PG_SOURCE_EOF)
		rc = 0;
	else
		snprintf(err, errlen, "%s", src->errmsg[0] ? src->errmsg : strerror(-rc));
out:
	pg_source__free(src);
	pg_proctable__free(r.pt);
	if (rc)
		pg_detector__free(r.det);
	else
		*det = r.det;
	return rc;
}

/* NAME of RDIR/NAME.yml, and the recordings' directory. */
static void recording(const char *rule_file, const char *rdir, const char *kind, char *out,
		      size_t outlen)
{
	char copy[PATH_MAX], copy2[PATH_MAX], *base, *dot;

	snprintf(copy, sizeof(copy), "%s", rule_file);
	snprintf(copy2, sizeof(copy2), "%s", rule_file);
	base = basename(copy);
	dot = strrchr(base, '.');
	if (dot)
		*dot = 0;
	if (!rdir)
		rdir = dirname(copy2);
	snprintf(out, outlen, "%s%s%s.%s.ndjson", rdir, rdir[strlen(rdir) - 1] == '/' ? "" : "/", base,
		 kind);
}

static int rules_test(const char *dir, const char *rdir, bool verbose)
{
	struct pg_ruleset *rs = load(dir);
	size_t n, files = 0, failed = 0;
	const char **done;

	if (!rs)
		return PG_EXIT_FAIL;
	n = pg_ruleset__count(rs);
	done = calloc(n ? n : 1, sizeof(*done));
	if (!done) {
		pg_ruleset__free(rs);
		return PG_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		struct pg_rule_info ri;
		bool seen = false;

		pg_ruleset__info(rs, i, &ri);
		for (size_t k = 0; k < files; k++)
			seen |= !strcmp(done[k], ri.file);
		if (seen)
			continue;
		done[files++] = ri.file;
		for (int kind = 0; kind < 2; kind++) {
			const char *kname = kind ? "negative" : "positive";
			char path[PATH_MAX + 32], err[PATH_MAX + 1024], why[1024] = "";
			struct pg_detector *det = NULL;
			unsigned long long fired = 0;
			struct stat st;

			recording(ri.file, rdir, kname, path, sizeof(path));
			if (stat(path, &st)) {
				printf("FAIL %s: no %s recording (%s)\n", ri.file, kname, path);
				failed++;
				continue;
			}
			if (replay(rs, path, &det, err, sizeof(err))) {
				printf("FAIL %s: %s recording: %s\n", ri.file, kname, err);
				failed++;
				continue;
			}
			/* every rule of this file that raises alerts */
			for (size_t j = 0; j < n; j++) {
				struct pg_rule_info rj;
				uint64_t m;

				pg_ruleset__info(rs, j, &rj);
				if (strcmp(rj.file, ri.file) || !rj.generates)
					continue;
				m = pg_detector__rule_matches(det, j);
				fired += m;
				if (!kind && !m)
					snprintf(why + strlen(why), sizeof(why) - strlen(why), "%srule %s did not fire",
						 why[0] ? "; " : "", rj.id);
				if (kind && m)
					snprintf(why + strlen(why), sizeof(why) - strlen(why), "%srule %s fired %llu times",
						 why[0] ? "; " : "", rj.id, (unsigned long long)m);
			}
			pg_detector__free(det);
			if (why[0]) {
				printf("FAIL %s: %s: %s\n", ri.file, path, why);
				failed++;
			} else if (verbose) {
				printf("ok   %s: %s (%llu alerts)\n", ri.file, path, fired);
			}
		}
	}
	printf("%zu rule files, %zu recordings, %zu passed, %zu failed\n", files, files * 2,
	       files * 2 - failed, failed);
	free(done);
	pg_ruleset__free(rs);
	return failed ? PG_EXIT_FAIL : PG_EXIT_OK;
}

static int rules_run(const struct pg_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "recordings", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *rdir = NULL;
	bool verbose = false;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'R': rdir = optarg; break;
		case 'v': verbose = true; break;
		case 'h': rules_help(stdout); return PG_EXIT_OK;
		default: return pg_cli_usage_error("rules", argc, argv);
		}
	}
	if (argc - optind != 2 || (strcmp(argv[optind], "check") && strcmp(argv[optind], "test"))) {
		pg_cli_err("rules", "usage: pangolin rules check DIR, or pangolin rules test DIR [--recordings RDIR]");
		return PG_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "check"))
		return rules_check(argv[optind + 1]);
	return rules_test(argv[optind + 1], rdir, verbose);
}

const struct pg_cmd pg_cmd_rules = {
	.name = "rules",
	.summary = "check Sigma rules, or test them against their recordings",
	.run = rules_run,
	.help = rules_help,
};
