// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The table of sink types, and what every event-writing command does with -o and --format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

/* Tried in order; the first that claims the spec is it. A path claims whatever is left. */
static const struct pg_sink_type *const sink_types[] = {
	&pg_sink_type_stdout, /* before file: "-" would be a path to it */
	&pg_sink_type_file, /* any spec without "://" */
	&pg_sink_type_kafka,
};

#define NTYPES (sizeof(sink_types) / sizeof(sink_types[0]))

static const struct {
	const char *name;
	enum pg_value_format format;
} formats[] = {
	{ "ndjson", PG_FORMAT_JSON },
	{ "json", PG_FORMAT_JSON }, /* its first name */
	{ "compact", PG_FORMAT_COMPACT },
	{ "protobuf", PG_FORMAT_PROTOBUF },
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

enum {
	OPT_FORMAT = 0x1000,
	OPT_SINK = 0x2000, /* + the option's index in all_options() order */
};

const char *pg_value_format_name(enum pg_value_format f)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].format == f)
			return formats[i].name;
	return "?";
}

/* The i-th option over every type, in table order; NULL past the last. */
static const struct pg_sink_option *nth_option(size_t i, const struct pg_sink_type **type)
{
	for (size_t t = 0; t < NTYPES; t++) {
		const struct pg_sink_option *o = sink_types[t]->options;

		for (; o && o->name; o++) {
			if (!i--) {
				if (type)
					*type = sink_types[t];
				return o;
			}
		}
	}
	return NULL;
}

/* Whether an option of the same name appeared earlier (types may share one: --fsync). */
static bool seen_before(size_t i)
{
	const struct pg_sink_option *o = nth_option(i, NULL);

	for (size_t j = 0; j < i; j++)
		if (!strcmp(nth_option(j, NULL)->name, o->name))
			return true;
	return false;
}

int pg_output__longopts(struct option *out, size_t max, const struct option *cmd_opts)
{
	size_t n = 0;

	for (; cmd_opts && cmd_opts->name; cmd_opts++) {
		if (n + 1 >= max)
			return -ENOSPC;
		out[n++] = *cmd_opts;
	}
	if (n + 1 >= max)
		return -ENOSPC;
	out[n++] = (struct option){ "format", required_argument, NULL, OPT_FORMAT };
	for (size_t i = 0; nth_option(i, NULL); i++) {
		const struct pg_sink_option *o = nth_option(i, NULL);

		if (seen_before(i))
			continue;
		if (n + 1 >= max)
			return -ENOSPC;
		out[n].name = o->name;
		out[n].has_arg = o->has_arg ? required_argument : no_argument;
		out[n].flag = NULL;
		out[n].val = o->short_name ? o->short_name : OPT_SINK + (int)i;
		n++;
	}
	out[n] = (struct option){ 0 };
	return 0;
}

int pg_output__shortopts(char *out, size_t max, const char *cmd_short)
{
	size_t n = strlen(cmd_short);

	if (n + 1 > max)
		return -ENOSPC;
	memcpy(out, cmd_short, n + 1);
	for (size_t i = 0; nth_option(i, NULL); i++) {
		const struct pg_sink_option *o = nth_option(i, NULL);

		if (!o->short_name || seen_before(i))
			continue;
		if (n + 3 > max)
			return -ENOSPC;
		out[n++] = (char)o->short_name;
		if (o->has_arg)
			out[n++] = ':';
		out[n] = 0;
	}
	return 0;
}

int pg_output__option(struct pg_output_opts *o, const char *cmd, int c, const char *arg)
{
	const struct pg_sink_option *opt = NULL;
	char err[512];

	if (c == OPT_FORMAT) {
		o->format = arg;
		return 1;
	}
	for (size_t i = 0; !opt && nth_option(i, NULL); i++) {
		const struct pg_sink_option *x = nth_option(i, NULL);

		if (x->short_name ? c == x->short_name : c == OPT_SINK + (int)i)
			opt = x;
	}
	if (!opt)
		return 0;
	if (opt->check && opt->check(arg, err, sizeof(err))) {
		pg_cli_err(cmd, "%s", err);
		return -1;
	}
	if (o->ngiven == PG_OUTPUT_MAX_GIVEN) {
		pg_cli_err(cmd, "more than %d output options", PG_OUTPUT_MAX_GIVEN);
		return -1;
	}
	o->given[o->ngiven].opt = opt;
	o->given[o->ngiven].arg = arg;
	o->ngiven++;
	return 1;
}

const char *pg_output__arg(const struct pg_output_opts *o, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < o->ngiven; i++)
		if (!strcmp(o->given[i].opt->name, name))
			v = o->given[i].arg ? o->given[i].arg : "";
	return v;
}

int pg_output__second(const struct pg_output_opts *o, const char *cmd, const char *spec,
		      struct pg_output_opts *out)
{
	char err[512];
	const struct pg_sink_type *t = pg_output__type(o, err, sizeof(err)), *t2;
	size_t n = 0;

	*out = *o;
	out->spec = spec;
	t2 = pg_output__type(out, err, sizeof(err));
	if (!t || !t2) {
		pg_cli_err(cmd, "%s", err);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->ngiven; i++)
		if (t2 == t && strcmp(o->given[i].opt->name, "kafka-spill"))
			out->given[n++] = o->given[i];
	out->ngiven = n;
	return 0;
}

struct pg_sink *pg_output__open_alerts(const struct pg_output_opts *o, const char *cmd,
				       const char *spec, char *err, size_t errlen)
{
	static const char *const names[][2] = {
		{ "stdout", "stdout-alerts" }, { "file", "file-alerts" }, { "kafka", "kafka-alerts" },
	};
	struct pg_output_opts ao;
	struct pg_sink *sink;

	if (pg_output__second(o, cmd, spec, &ao)) {
		snprintf(err, errlen, "cannot use %s", spec);
		return NULL;
	}
	ao.line_buffered = false;
	sink = pg_output__open(&ao, err, errlen);
	for (size_t i = 0; sink && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(sink->name, names[i][0]))
			sink->name = names[i][1];
	return sink;
}

const struct pg_sink_type *pg_output__type(const struct pg_output_opts *o, char *err,
					   size_t errlen)
{
	const char *spec = o->spec ? o->spec : "-";
	const char *sep = strstr(spec, "://");

	for (size_t t = 0; t < NTYPES; t++)
		if (sink_types[t]->claims(spec))
			return sink_types[t];
	snprintf(err, errlen,
		 "-o %s: no output of the form '%.*s://' in this build (it writes: a file PATH or "
		 "file:PATH, - for standard output, kafka://HOST:PORT/TOPIC)",
		 spec, sep ? (int)(sep - spec) : 0, spec);
	return NULL;
}

const char *pg_output__path(const struct pg_output_opts *o)
{
	char err[256];
	const struct pg_sink_type *t = pg_output__type(o, err, sizeof(err));

	if (t != &pg_sink_type_file)
		return NULL;
	return !strncmp(o->spec, "file:", 5) ? o->spec + 5 : o->spec;
}

/* Whether the type has an option of this name. */
static bool has_option(const struct pg_sink_type *t, const struct pg_sink_option *opt)
{
	for (const struct pg_sink_option *o = t->options; o && o->name; o++)
		if (!strcmp(o->name, opt->name))
			return true;
	return false;
}

static int pick_format(const struct pg_output_opts *o, const struct pg_sink_type *t,
		       enum pg_value_format *f, char *err, size_t errlen)
{
	size_t i;

	if (!o->format) {
		*f = t->default_format ? t->default_format(o) : PG_FORMAT_JSON;
		if (o->ndjson_only)
			*f = PG_FORMAT_JSON;
		return 0;
	}
	for (i = 0; i < NFORMATS && strcmp(formats[i].name, o->format); i++)
		;
	if (i == NFORMATS) {
		snprintf(err, errlen, "unknown --format '%s' (this build writes: ndjson (or json), "
			 "compact, protobuf)", o->format);
		return -EINVAL;
	}
	*f = formats[i].format;
	if (o->ndjson_only && *f != PG_FORMAT_JSON) {
		snprintf(err, errlen,
			 "--format %s: a recording is NDJSON ('pangolin replay' reads it; replay it "
			 "with --format %s to see it that way)",
			 o->format, o->format);
		return -EINVAL;
	}
	if (!(t->formats & (1u << *f))) {
		size_t n = (size_t)snprintf(err, errlen, "--format %s needs", o->format);

		for (size_t k = 0, any = 0; k < NTYPES && n < errlen; k++) {
			const char *form = sink_types[k]->form, *sep = strstr(form, "://");

			if (!(sink_types[k]->formats & (1u << *f)))
				continue;
			int shown = sep ? (int)(sep - form + 3) : (int)strlen(sink_types[k]->name);

			n += (size_t)snprintf(err + n, errlen - n, "%s a %.*s output",
					      any++ ? " or" : "", shown,
					      sep ? form : sink_types[k]->name);
		}
		if (n < errlen)
			snprintf(err + n, errlen - n, " (a %s output writes %s)", t->name,
				 t->formats & (1u << PG_FORMAT_COMPACT) ? "ndjson or compact"
									: "ndjson or protobuf");
		return -EINVAL;
	}
	return 0;
}

int pg_output__check(const struct pg_output_opts *o, char *err, size_t errlen)
{
	const struct pg_sink_type *t = pg_output__type(o, err, errlen);
	enum pg_value_format f;

	if (!t)
		return -EINVAL;
	if (pick_format(o, t, &f, err, errlen))
		return -EINVAL;
	for (size_t i = 0; i < o->ngiven; i++) {
		const struct pg_sink_option *opt = o->given[i].opt;

		if (has_option(t, opt))
			continue;
		snprintf(err, errlen, "%s%s %s", opt->short_name ? "-" : "--",
			 opt->short_name ? (char[]){ (char)opt->short_name, 0 } : opt->name,
			 opt->elsewhere);
		return -EINVAL;
	}
	return t->check ? t->check(o, f, err, errlen) : 0;
}

struct pg_sink *pg_output__open(const struct pg_output_opts *o, char *err, size_t errlen)
{
	const struct pg_sink_type *t;
	enum pg_value_format f;
	struct pg_sink *sink;

	if (pg_output__check(o, err, errlen))
		return NULL;
	t = pg_output__type(o, err, errlen);
	pick_format(o, t, &f, err, errlen);
	sink = t->open(o, f, err, errlen);
	if (sink)
		sink->name = t->name;
	return sink;
}

void pg_output__help(FILE *out)
{
	fputs("      --format FMT        ndjson (NDJSON lines, docs/events.md; the default into\n"
	      "                          files and pipes), compact (a line a person reads, in\n"
	      "                          colour; the default on a terminal), or protobuf\n"
	      "                          (proto/pangolin.proto)\n",
	      out);
	for (size_t t = 0; t < NTYPES; t++) {
		const struct pg_sink_type *st = sink_types[t];

		fprintf(out, "  Output %s: -o %s\n    %s\n", st->name, st->form, st->about);
		if (st->help)
			fputs(st->help, out);
	}
}

bool pg_output__colour(int fd)
{
	const char *no = getenv("NO_COLOR");

	return isatty(fd) && !(no && *no);
}

void pg_output__notice(void *ctx, const char *msg)
{
	pg_cli_err(ctx, "%s", msg);
}
