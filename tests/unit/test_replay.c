// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The replay source over real files: every line is an event, a counted skip (skip_bad), or an
 * error that names file, line and column. Empty files, a missing final newline, a truncated
 * last line, a 10 MB line, binary garbage, CRLF, blank lines, lines that cross the read
 * buffer, stdin, pipes, read errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "gen_event.h"
#include "json.h"
#include "pipeline.h"

#define LINE(pid)                                                                                 \
	"{\"v\":1,\"type\":\"fork\",\"ts\":1,\"pid\":" #pid ",\"tid\":1,\"ppid\":1,\"uid\":0,\"gid\":0," \
	"\"comm\":\"sh\",\"cgroup_id\":1,\"start_ns\":1,\"child_pid\":2,\"child_start_ns\":3}"

static char tmpdir[] = "/tmp/pg-test-replay-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

/* Write n bytes to a new file in tmpdir; returns its path (static buffer). */
static const char *write_file(const char *name, const char *data, size_t n)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *write_str(const char *name, const char *data)
{
	return write_file(name, data, strlen(data));
}

/* Warnings, as the CLI would print them. */
struct warnings {
	int n;
	char first[512], last[512];
};

static void warn_cb(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	if (!w->n++)
		snprintf(w->first, sizeof(w->first), "%s", msg);
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

struct run {
	struct pg_source *src;
	struct pg_pipeline pl;
	struct pg_sink *rec;
	struct warnings w;
	struct pg_source_stats st;
	int rc; /* what the last poll returned: PG_SOURCE_EOF, or an error */
};

/* Replay path (or fd) to its end or its first error, into a record sink. */
static void replay(struct run *r, const char *path, int fd, bool skip_bad, size_t max_line)
{
	struct pg_replay_opts o = {
		.path = path, .fd = fd, .skip_bad = skip_bad, .max_line = max_line,
		.warn = warn_cb, .warn_ctx = &r->w,
	};

	memset(r, 0, sizeof(*r));
	r->src = pg_source_replay__new(&o);
	assert_non_null(r->src);
	assert_string_equal(r->src->ops->name, "replay");
	pg_pipeline__init(&r->pl);
	r->rec = pg_sink_record__new();
	pg_pipeline__add_sink(&r->pl, r->rec);
	do
		r->rc = pg_source__poll(r->src, -1, pg_pipeline__on_event, &r->pl);
	while (r->rc >= 0);
	pg_source__stats(r->src, &r->st);
}

static void done(struct run *r)
{
	pg_source__free(r->src);
	pg_pipeline__destroy(&r->pl);
}

static size_t count(struct run *r)
{
	return pg_sink_record__count(r->rec);
}

static uint32_t pid_at(struct run *r, size_t i)
{
	return pg_sink_record__get(r->rec, i)->r.hdr.pid;
}

/* errmsg begins with "<tmpdir>/<name>:<rest>" */
static void assert_errmsg(const char *msg, const char *name, const char *rest)
{
	char want[512];

	snprintf(want, sizeof(want), "%s/%s:%s", tmpdir, name, rest);
	if (strncmp(msg, want, strlen(want)))
		fail_msg("message '%s' does not start with '%s'", msg, want);
}

static void test_empty_file(void **state)
{
	struct run r;

	replay(&r, write_str("empty", ""), -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(r.st.read, 0);
	assert_int_equal(r.st.skipped, 0);
	assert_int_equal(count(&r), 0);
	assert_string_equal(r.src->errmsg, "");
	/* polling after the end keeps saying so */
	assert_int_equal(pg_source__poll(r.src, 0, pg_pipeline__on_event, &r.pl), PG_SOURCE_EOF);
	done(&r);

	/* only blank lines: nothing, and no complaint */
	replay(&r, write_str("blank", "\n\n   \n\t\n\r\n \t \r\n"), -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(r.st.read + r.st.skipped, 0);
	done(&r);
}

static void test_final_newline(void **state)
{
	struct run r;

	replay(&r, write_str("nonl", LINE(1) "\n" LINE(2)), -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 2);
	assert_int_equal(pid_at(&r, 1), 2);
	done(&r);

	replay(&r, write_str("nl", LINE(1) "\n" LINE(2) "\n"), -1, false, 0);
	assert_int_equal(count(&r), 2);
	done(&r);

	replay(&r, write_str("one", LINE(7)), -1, false, 0);
	assert_int_equal(count(&r), 1);
	assert_int_equal(pid_at(&r, 0), 7);
	done(&r);
}

static void test_truncated_last_line(void **state)
{
	struct run r;
	const char *data = LINE(1) "\n" LINE(2) "\n{\"v\":1,\"type\":\"fork\",\"ts\":1,\"pi";

	replay(&r, write_str("trunc", data), -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(count(&r), 2); /* everything before it arrived */
	assert_errmsg(r.src->errmsg, "trunc", "3:29: unterminated field name");
	done(&r);

	/* with skip_bad: counted and reported, not fatal */
	replay(&r, write_str("trunc", data), -1, true, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 2);
	assert_int_equal(r.st.read, 2);
	assert_int_equal(r.st.skipped, 1);
	assert_int_equal(r.w.n, 1);
	assert_errmsg(r.w.first, "trunc", "3:29: unterminated field name");
	done(&r);

	/* cut inside a value, with the newline: the same */
	replay(&r, write_str("trunc2", LINE(1) "\n{\"v\":1,\"type\":\"fo\n" LINE(3) "\n"), -1, true, 0);
	assert_int_equal(count(&r), 2);
	assert_int_equal(r.st.skipped, 1);
	assert_errmsg(r.w.first, "trunc2", "2:15: field \"type\": unterminated string");
	done(&r);
}

static void test_error_names_line_and_column(void **state)
{
	struct run r;
	const char *data = LINE(1) "\n\n" LINE(2) "\r\n  \n" LINE(3) "\n"
			   "{\"v\":1,\"type\":\"fork\",\"ts\":1,\"pid\":-4}\n" LINE(5) "\n";

	replay(&r, write_str("bad", data), -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(count(&r), 3);
	/* line 6: blank lines count as lines, column 35 is the '-' */
	assert_errmsg(r.src->errmsg, "bad", "6:35: field \"pid\": expected an unsigned integer, found -4");
	done(&r);

	replay(&r, write_str("bad", data), -1, true, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 4);
	assert_int_equal(pid_at(&r, 3), 5);
	assert_int_equal(r.st.skipped, 1);
	done(&r);
}

static void test_crlf(void **state)
{
	struct run r;

	replay(&r, write_str("crlf", LINE(1) "\r\n" LINE(2) "\r\n\r\n" LINE(3) "\r\n"), -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 3);
	done(&r);

	/* a lone CR in the middle of a line is not a line end */
	replay(&r, write_str("cr", LINE(1) "\r" LINE(2) "\n"), -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_errmsg(r.src->errmsg, "cr", "1:");
	assert_non_null(strstr(r.src->errmsg, "unexpected data after the JSON object"));
	done(&r);
}

/* A 10 MB line between good ones: an error, or with skip_bad one counted skip. */
static void test_huge_line(void **state)
{
	size_t big = 10u << 20, n = 0;
	char *data = malloc(big + 4096);
	struct run r;
	const char *path;

	n += (size_t)sprintf(data, "%s\n", LINE(1));
	data[n++] = '{';
	memset(data + n, 'x', big);
	n += big;
	n += (size_t)sprintf(data + n, "\n%s\n{\"bad\":1}\n%s\n", LINE(3), LINE(5));
	path = write_file("huge", data, n);

	replay(&r, path, -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(count(&r), 1);
	assert_errmsg(r.src->errmsg, "huge", "2:1: line longer than 1048576 bytes (the limit)");
	done(&r);

	replay(&r, path, -1, true, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 3);
	assert_int_equal(pid_at(&r, 1), 3);
	assert_int_equal(pid_at(&r, 2), 5);
	assert_int_equal(r.st.read, 3);
	assert_int_equal(r.st.skipped, 2);
	assert_errmsg(r.w.first, "huge", "2:1: line longer than 1048576 bytes");
	/* the line after the long one still has its right number */
	assert_errmsg(r.w.last, "huge", "4:2: unknown field \"bad\"");
	done(&r);

	/* the same line last in the file, without a newline */
	n = (size_t)sprintf(data, "%s\n", LINE(1));
	memset(data + n, 'y', big);
	path = write_file("huge-last", data, n + big);
	replay(&r, path, -1, true, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 1);
	assert_int_equal(r.st.skipped, 1);
	done(&r);
	free(data);
}

/* A smaller max_line: exactly the limit is fine, one byte more is not. */
static void test_max_line(void **state)
{
	char data[2048];
	size_t len = strlen(LINE(1));
	struct run r;

	snprintf(data, sizeof(data), "%s\n%s\n%s   \n%s", LINE(1), LINE(2), LINE(3), LINE(4));
	replay(&r, write_str("max", data), -1, true, len + 2);
	/* line 3 has 3 trailing spaces: len + 3 > max */
	assert_int_equal(count(&r), 3);
	assert_int_equal(r.st.skipped, 1);
	assert_errmsg(r.w.first, "max", "3:1: line longer than");
	done(&r);

	replay(&r, write_str("max", data), -1, true, len + 3);
	assert_int_equal(count(&r), 4);
	assert_int_equal(r.st.skipped, 0);
	done(&r);

	/* the last line without a newline and over the limit */
	snprintf(data, sizeof(data), "%s\n%s   ", LINE(1), LINE(2));
	replay(&r, write_str("max", data), -1, true, len + 2);
	assert_int_equal(count(&r), 1);
	assert_int_equal(r.st.skipped, 1);
	done(&r);
}

/*
 * The limit is on what the line holds: a CRLF line of exactly max_line bytes passes as its LF
 * twin does, at a small limit and at the default 1 MiB, also when the "\r" and the "\n"
 * arrive in different reads.
 */
static void test_crlf_at_the_limit(void **state)
{
	size_t len = strlen(LINE(1)), big = PG_REPLAY_MAX_LINE;
	char data[2048], *huge;
	struct run r;

	snprintf(data, sizeof(data), "%s\r\n%s  \r\n%s   \r\n%s  \r", LINE(1), LINE(2), LINE(3),
		 LINE(4));
	replay(&r, write_str("crlf-max", data), -1, true, len + 2);
	assert_int_equal(count(&r), 3); /* line 3 is one byte over */
	assert_int_equal(r.st.skipped, 1);
	assert_errmsg(r.w.first, "crlf-max", "3:1: line longer than");
	done(&r);

	huge = malloc(2 * big + 16);
	memset(huge, ' ', 2 * big + 16);
	memcpy(huge, LINE(1), len);
	memcpy(huge + big, "\r\n", 2);
	memcpy(huge + big + 2, LINE(2), len);
	memcpy(huge + 2 * big + 2, "\r\n", 2);
	replay(&r, write_file("crlf-1mib", huge, 2 * big + 4), -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 2);
	done(&r);

	/* one more byte is over, CRLF or not */
	huge[big] = ' ';
	memcpy(huge + big + 1, "\r\n", 2);
	replay(&r, write_file("crlf-1mib+1", huge, big + 3), -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_errmsg(r.src->errmsg, "crlf-1mib+1", "1:1: line longer than 1048576 bytes");
	done(&r);
	free(huge);
}

/*
 * A UTF-8 byte order mark at the start of a recording (Windows tools write one) is skipped;
 * error columns on that line still count its bytes. Anywhere else it is named.
 */
static void test_byte_order_mark(void **state)
{
	struct run r;

	replay(&r, write_str("bom", "\xef\xbb\xbf" LINE(1) "\n" LINE(2) "\n"), -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 2);
	done(&r);

	replay(&r, write_str("bom-only", "\xef\xbb\xbf\n" LINE(1) "\n"), -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 1);
	done(&r);

	replay(&r, write_str("bom-bad", "\xef\xbb\xbf{\"v\":x}\n"), -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_errmsg(r.src->errmsg, "bom-bad", "1:9: field \"v\"");
	done(&r);

	replay(&r, write_str("bom-2", LINE(1) "\n\xef\xbb\xbf" LINE(2) "\n"), -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_errmsg(r.src->errmsg, "bom-2", "2:1: expected a JSON object '{', found a UTF-8 byte "
					      "order mark (only the start of a recording may have one)");
	done(&r);
}

/* Random bytes: never a crash, every line accounted for. */
static void test_binary_garbage(void **state)
{
	struct rng g = { 7 };
	size_t n = 3u << 20;
	char *data = malloc(n);
	struct run r;
	const char *path;
	size_t lines = 0;

	for (size_t i = 0; i < n; i++) {
		data[i] = (char)rng_next(&g);
		lines += data[i] == '\n';
	}
	path = write_file("garbage", data, n);
	replay(&r, path, -1, false, 0);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(count(&r), 0);
	assert_errmsg(r.src->errmsg, "garbage", "1:");
	done(&r);

	replay(&r, path, -1, true, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(r.st.read, 0);
	/* every line but blank ones is a counted skip (the last has no newline) */
	assert_true(r.st.skipped > lines * 9 / 10);
	assert_true(r.st.skipped <= lines + 1);
	assert_int_equal(r.w.n, r.st.skipped);
	done(&r);

	/* an ELF header and NUL bytes */
	static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\n" LINE(2) "\n";

	path = write_file("elf", elf, sizeof(elf) - 1);
	replay(&r, path, -1, true, 0);
	assert_int_equal(count(&r), 1);
	assert_int_equal(r.st.skipped, 1);
	assert_errmsg(r.w.first, "elf", "1:1: expected a JSON object '{', found an invalid character");
	done(&r);
	free(data);
}

/* 20000 random events (lines crossing the 1 MiB read buffer many times) come back intact. */
static void test_big_recording(void **state)
{
	struct rng g = { 99 };
	struct pg_buf b = { 0 };
	struct pg_event *evs = calloc(20000, sizeof(*evs));
	struct gen_meta *m = calloc(20000, sizeof(*m));
	struct run r;
	const char *path;

	for (int i = 0; i < 20000; i++) {
		gen_event(&g, &evs[i], 0, &m[i]);
		pg_json_encode(&evs[i], &b);
		pg_buf__putc(&b, '\n');
	}
	assert_true(b.len > (3u << 20));
	path = write_file("big", b.data, b.len);
	replay(&r, path, -1, false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 20000);
	for (size_t i = 0; i < 20000; i++)
		if (!events_equal(pg_sink_record__get(r.rec, i), &evs[i]))
			fail_msg("event %zu differs after replay", i);
	done(&r);
	pg_buf__free(&b);
	free(evs);
	free(m);
}

/* A callback that stops the poll loses nothing: the next poll goes on after it. */
static int stop_every_3(void *ctx, struct pg_event *ev)
{
	int *n = ctx;

	return ++*n % 3 == 0 ? 42 : 0;
}

static void test_callback_stop(void **state)
{
	const char *path = write_str("stop", LINE(1) "\n" LINE(2) "\n" LINE(3) "\n" LINE(4) "\n" LINE(5) "\n");
	struct pg_replay_opts o = { .path = path, .fd = -1 };
	struct pg_source *src = pg_source_replay__new(&o);
	int n = 0;

	assert_int_equal(pg_source__poll(src, -1, stop_every_3, &n), 42);
	assert_int_equal(n, 3);
	assert_int_equal(pg_source__poll(src, -1, stop_every_3, &n), 2);
	assert_int_equal(n, 5);
	assert_int_equal(pg_source__poll(src, -1, stop_every_3, &n), PG_SOURCE_EOF);
	pg_source__free(src);
}

/* Standard input and a pipe written in small pieces by another process. */
static void test_stdin_and_pipe(void **state)
{
	struct run r;
	int saved = dup(STDIN_FILENO), fd, p[2];
	pid_t child;

	fd = open(write_str("stdin", LINE(1) "\n" LINE(2) "\n{}\n"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	replay(&r, "-", -1, false, 0);
	assert_int_equal(count(&r), 2);
	assert_string_equal(r.src->errmsg, "<stdin>:3:2: missing field \"v\" (the schema version)");
	done(&r);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);

	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		static const char data[] = LINE(1) "\n" LINE(2) "\n" LINE(3);

		close(p[0]);
		/* 7 bytes at a time, so lines arrive in many reads */
		for (size_t i = 0; i < sizeof(data) - 1; i += 7) {
			size_t k = sizeof(data) - 1 - i < 7 ? sizeof(data) - 1 - i : 7;

			if (write(p[1], data + i, k) != (ssize_t)k)
				_exit(1);
			usleep(100);
		}
		_exit(0);
	}
	close(p[1]);
	replay(&r, "pipe-name", p[0], false, 0);
	assert_int_equal(r.rc, PG_SOURCE_EOF);
	assert_int_equal(count(&r), 3);
	done(&r);
	/* the source does not close a descriptor it was given */
	assert_int_equal(fcntl(p[0], F_GETFD), 0);
	close(p[0]);
	int status;

	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_open_and_read_errors(void **state)
{
	char path[300];
	struct pg_replay_opts o = { .fd = -1 };
	struct run r;

	snprintf(path, sizeof(path), "%s/does-not-exist", tmpdir);
	o.path = path;
	errno = 0;
	assert_null(pg_source_replay__new(&o));
	assert_int_equal(errno, ENOENT);

	/* a directory opens, but reading it fails: an error with the name, not an empty file */
	replay(&r, tmpdir, -1, true, 0);
	assert_int_equal(r.rc, -EISDIR);
	snprintf(path, sizeof(path), "%s: read: Is a directory", tmpdir);
	assert_string_equal(r.src->errmsg, path);
	done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_final_newline),
		cmocka_unit_test(test_truncated_last_line),
		cmocka_unit_test(test_error_names_line_and_column),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_max_line),
		cmocka_unit_test(test_crlf_at_the_limit),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_binary_garbage),
		cmocka_unit_test(test_big_recording),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_stdin_and_pipe),
		cmocka_unit_test(test_open_and_read_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
