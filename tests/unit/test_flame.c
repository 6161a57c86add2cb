// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Folded stacks (sorting, merging, parsing) and the flame graph's layout and SVG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flamegraph.h"
#include "folded.h"

static void add(struct pg_folded *f, const char *s, uint64_t c)
{
	assert_int_equal(pg_folded__add(f, s, strlen(s), c), 0);
}

static void test_cmp_frame_order(void **state)
{
	/* a stack sorts right after its prefix and before a sibling that extends the name */
	assert_true(pg_folded_cmp("a;b", "a;b;c") < 0);
	assert_true(pg_folded_cmp("a;b;c", "a;b!x") < 0); /* ';' below '!' */
	assert_true(pg_folded_cmp("a;b!x", "a;bc") < 0);
	assert_int_equal(pg_folded_cmp("a;b", "a;b"), 0);
}

static void test_merge(void **state)
{
	struct pg_folded f;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	pg_folded__init(&f);
	add(&f, "p;main;b", 2);
	add(&f, "p;main;a", 1);
	add(&f, "p;main;b", 3);
	add(&f, "p;main", 4);
	add(&f, "p;main;b!x", 1);
	pg_folded__merge(&f);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.v[0].stack, "p;main");
	assert_string_equal(f.v[1].stack, "p;main;a");
	assert_string_equal(f.v[2].stack, "p;main;b");
	assert_int_equal(f.v[2].count, 5);
	assert_string_equal(f.v[3].stack, "p;main;b!x");
	assert_int_equal(pg_folded__total(&f), 11);
	out = open_memstream(&buf, &len);
	assert_int_equal(pg_folded__write(&f, out), 0);
	fclose(out);
	assert_string_equal(buf, "p;main 4\np;main;a 1\np;main;b 5\np;main;b!x 1\n");
	free(buf);
	pg_folded__destroy(&f);
}

static void test_parse(void **state)
{
	struct pg_folded f;
	char err[128];

	pg_folded__init(&f);
	assert_int_equal(pg_folded__parse_line(&f, "a;b c;d 12\n", 11, err, sizeof(err)), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].stack, "a;b c;d"); /* spaces inside frames are allowed */
	assert_int_equal(f.v[0].count, 12);
	assert_int_equal(pg_folded__parse_line(&f, "\n", 1, err, sizeof(err)), 0);
	assert_int_equal(f.n, 1);

	static const char *const bad[] = {
		"nocount", "a;b ", "a;b x1", " 5", ";a 1", "a; 1", "a;;b 1", "a 99999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(pg_folded__parse_line(&f, bad[i], strlen(bad[i]), err, sizeof(err)),
				 -22);
		assert_true(err[0] != 0);
	}
	assert_int_equal(pg_folded__parse_line(&f, "a\0b 1", 5, err, sizeof(err)), -22);
	assert_int_equal(f.n, 1);
	pg_folded__destroy(&f);
}

static const struct pg_flame_frame *find(const struct pg_flame_frame *fr, size_t n,
					 const char *name, unsigned int depth)
{
	for (size_t i = 0; i < n; i++)
		if (fr[i].depth == depth && fr[i].len == strlen(name) &&
		    !memcmp(fr[i].name, name, fr[i].len))
			return &fr[i];
	return NULL;
}

static void test_layout(void **state)
{
	struct pg_folded f;
	struct pg_flame_frame *fr;
	const struct pg_flame_frame *x;
	size_t n;

	pg_folded__init(&f);
	add(&f, "p;main;c;d", 1);
	add(&f, "p;main;b", 3);
	add(&f, "p;main", 2);
	add(&f, "q;work_[k]", 4);
	pg_folded__merge(&f);
	assert_int_equal(pg_flame__layout(&f, &fr, &n), 0);
	/* all, p, main, b, c, d, q, work */
	assert_int_equal(n, 8);
	assert_string_equal(fr[0].name, "all");
	assert_int_equal(fr[0].value, 10);
	x = find(fr, n, "p", 1);
	assert_non_null(x);
	assert_int_equal(x->start, 0);
	assert_int_equal(x->value, 6);
	assert_int_equal(x->kind, PG_FRAME_PROCESS);
	x = find(fr, n, "main", 2);
	assert_int_equal(x->value, 6);
	/* main's own 2 samples come first (the stack that ends there), then b before c */
	x = find(fr, n, "b", 3);
	assert_int_equal(x->start, 2);
	assert_int_equal(x->value, 3);
	assert_int_equal(x->kind, PG_FRAME_USER);
	x = find(fr, n, "c", 3);
	assert_int_equal(x->start, 5);
	assert_int_equal(x->value, 1);
	x = find(fr, n, "d", 4);
	assert_int_equal(x->start, 5);
	x = find(fr, n, "q", 1);
	assert_int_equal(x->start, 6);
	assert_int_equal(x->value, 4);
	x = find(fr, n, "work_[k]", 2);
	assert_int_equal(x->kind, PG_FRAME_KERNEL);
	free(fr);
	pg_folded__destroy(&f);
}

static void test_kinds(void **state)
{
	assert_int_equal(pg_frame_kind_of("all", 3, 0), PG_FRAME_PROCESS);
	assert_int_equal(pg_frame_kind_of("bash", 4, 1), PG_FRAME_PROCESS);
	assert_int_equal(pg_frame_kind_of("vfs_read_[k]", 12, 3), PG_FRAME_KERNEL);
	assert_int_equal(pg_frame_kind_of("[unknown]", 9, 3), PG_FRAME_UNKNOWN);
	assert_int_equal(pg_frame_kind_of("[libc.so.6]", 11, 3), PG_FRAME_UNKNOWN);
	assert_int_equal(pg_frame_kind_of("main", 4, 2), PG_FRAME_USER);
}

static void test_svg(void **state)
{
	struct pg_folded f;
	struct pg_flame_opts o = { .title = "T <&>", .subtitle = "sub" };
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	pg_folded__init(&f);
	add(&f, "p;main;std::vector<int>::push_back", 3);
	add(&f, "p;main;sys_read_[k]", 1);
	add(&f, "p;main;bad\x01\xff\xc3", 1);
	add(&f, "p;main;[unknown]", 1);
	pg_folded__merge(&f);
	out = open_memstream(&buf, &len);
	assert_int_equal(pg_flamegraph__write(&f, &o, out), 0);
	fclose(out);
	assert_non_null(strstr(buf, "<?xml"));
	assert_non_null(strstr(buf, "T &lt;&amp;&gt;"));
	assert_non_null(strstr(buf, "<title>std::vector&lt;int&gt;::push_back (3 samples, 50.00%)</title>"));
	/* kernel frames: suffix dropped from the label, said in the title */
	assert_non_null(strstr(buf, "<title>sys_read (kernel, 1 samples, 16.67%)</title>"));
	/* invalid UTF-8 and control characters never reach the XML */
	assert_null(strstr(buf, "\x01"));
	assert_null(strstr(buf, "\xff"));
	assert_non_null(strstr(buf, "bad???"));
	/* colours by kind: orange kernel (blue 0), grey unknown (r == g == b) */
	assert_non_null(strstr(buf, "rgb("));
	assert_non_null(strstr(buf, "</svg>\n"));
	/* one <g> with a <title> per frame: all, p, main + 4 leaves */
	size_t titles = 0;
	for (const char *p = buf; (p = strstr(p, "<title>")); p++)
		titles++;
	assert_int_equal(titles, 7);
	free(buf);
	pg_folded__destroy(&f);
}

/* The lowest y of any frame's box (the tallest stack's top). */
static double top_of_frames(const char *svg)
{
	double top = 1e9, y;

	for (const char *p = svg; (p = strstr(p, "<rect x=\"")); p++)
		if (strstr(p, "data-x=") < strchr(p, '>') &&
		    sscanf(strstr(p, " y=\"") + 4, "%lf", &y) == 1 && y < top)
			top = y;
	return top;
}

/*
 * The subtitle (samples, losses) is on its own line: the tallest stack starts below its
 * descenders, with and without a subtitle, however tall the graph.
 */
static void test_svg_subtitle_clears_the_frames(void **state)
{
	struct pg_flame_opts o = { .title = "T", .subtitle = "1234 samples, 0 lost" };
	struct pg_folded f;
	char *buf = NULL, stack[512] = "p";
	size_t len = 0;
	double sub_y, title_y;
	FILE *out;

	for (int i = 0; i < 40; i++)
		strcat(stack, ";f");
	pg_folded__init(&f);
	add(&f, stack, 5);
	add(&f, "q;x", 1);
	pg_folded__merge(&f);
	out = open_memstream(&buf, &len);
	assert_int_equal(pg_flamegraph__write(&f, &o, out), 0);
	fclose(out);
	assert_int_equal(sscanf(strstr(buf, "<text id=\"subtitle\"") + 20, " x=\"%*u\" y=\"%lf\"",
				&sub_y),
			 1);
	/* 12px text: its descenders reach about 3px under the baseline */
	assert_true(top_of_frames(buf) >= sub_y + 4);
	free(buf);

	buf = NULL;
	out = open_memstream(&buf, &len);
	o.subtitle = NULL;
	assert_int_equal(pg_flamegraph__write(&f, &o, out), 0);
	fclose(out);
	assert_null(strstr(buf, "id=\"subtitle\""));
	assert_int_equal(sscanf(strstr(buf, "<text id=\"title\"") + 17, " x=\"%*u\" y=\"%lf\"",
				&title_y),
			 1);
	assert_true(top_of_frames(buf) >= title_y + 5);
	free(buf);
	pg_folded__destroy(&f);
}

/* Text is cut to the box and never in the middle of a UTF-8 sequence. */
static void test_svg_truncation(void **state)
{
	struct pg_folded f;
	char *buf = NULL, name[400];
	size_t len = 0;
	FILE *out;

	memset(name, 0, sizeof(name));
	strcpy(name, "p;");
	for (int i = 0; i < 120; i++)
		strcat(name, "\xc3\xa9"); /* é */
	pg_folded__init(&f);
	add(&f, name, 1);
	add(&f, "q;x", 30);
	pg_folded__merge(&f);
	out = open_memstream(&buf, &len);
	assert_int_equal(pg_flamegraph__write(&f, NULL, out), 0);
	fclose(out);
	assert_non_null(strstr(buf, ".."));
	assert_null(strstr(buf, "\xc3.."));
	free(buf);
	pg_folded__destroy(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmp_frame_order), cmocka_unit_test(test_merge),
		cmocka_unit_test(test_parse),		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_kinds),		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_svg_truncation),
		cmocka_unit_test(test_svg_subtitle_clears_the_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
