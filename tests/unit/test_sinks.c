// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The NDJSON sink on real files: what it writes and when, rotation by size (no line split
 * across files, path.1 .. path.N kept), and write errors: every event is written or counted as
 * failed, never silently lost (sent == written + failed + queued at every step).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "gen_event.h"
#include "json.h"
#include "pipeline.h"
#include "sink.h"

#define N 2000

static char tmpdir[] = "/tmp/pg-test-sinks-XXXXXX";
static struct pg_event evs[N];
static struct gen_meta metas[N];
static struct pg_buf expected; /* every event's line, concatenated */
static size_t line_end[N]; /* offset just past event i's newline in expected */

static int setup(void **state)
{
	struct rng r = { 2024 };

	if (!mkdtemp(tmpdir))
		return -1;
	signal(SIGPIPE, SIG_IGN); /* as main.c does: a closed pipe is an error we count */
	for (int i = 0; i < N; i++) {
		gen_event(&r, &evs[i], 0, &metas[i]);
		pg_json_encode(&evs[i], &expected);
		pg_buf__putc(&expected, '\n');
		line_end[i] = expected.len;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	pg_buf__free(&expected);
	return system(cmd);
}

static char *path_of(const char *name)
{
	static char p[8][256];
	static int k;
	char *s = p[k++ % 8];

	snprintf(s, 256, "%s/%s", tmpdir, name);
	return s;
}

/* Whole file in a malloc'd buffer (NUL-terminated); *n its size. NULL if it does not exist. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long sz;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 1);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	buf[sz] = 0;
	fclose(f);
	*n = (size_t)sz;
	return buf;
}

/* Every accepted event is written, failed or still queued: nothing vanishes. */
static void assert_accounted(struct pg_sink *s)
{
	struct pg_sink_stats st;

	pg_sink__stats(s, &st);
	if (st.sent != st.written + st.failed + st.queued)
		fail_msg("sent %llu != written %llu + failed %llu + queued %llu",
			 (unsigned long long)st.sent, (unsigned long long)st.written,
			 (unsigned long long)st.failed, (unsigned long long)st.queued);
}

static void test_file_contents(void **state)
{
	const char *path = path_of("out.ndjson");
	struct pg_ndjson_opts o = { .path = path, .fd = -1 };
	struct pg_sink *s = pg_sink_ndjson__new(&o);
	struct pg_sink_stats st;
	size_t n;
	char *got;

	assert_non_null(s);
	assert_string_equal(s->ops->name, "ndjson");
	for (int i = 0; i < 10; i++)
		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
	/* buffered: nothing on disk yet, ten events queued */
	got = slurp(path, &n);
	assert_int_equal(n, 0);
	free(got);
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, 10);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.written, 0);

	assert_int_equal(pg_sink__flush(s, 1000), 0);
	pg_sink__stats(s, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.written, 10);
	assert_int_equal(st.bytes, line_end[9]);
	got = slurp(path, &n);
	assert_int_equal(n, line_end[9]);
	assert_memory_equal(got, expected.data, n);
	free(got);

	/* the rest, through a buffer that fills many times */
	for (int i = 10; i < N; i++) {
		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
		assert_accounted(s);
	}
	assert_int_equal(pg_sink__flush(s, 1000), 0);
	assert_int_equal(pg_sink__flush(s, 1000), 0); /* nothing left: a no-op */
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, N);
	assert_int_equal(st.written, N);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.bytes, expected.len);
	got = slurp(path, &n);
	assert_int_equal(n, expected.len);
	assert_memory_equal(got, expected.data, n);
	free(got);
	pg_sink__free(s);

	/* an existing file is appended to, never truncated */
	s = pg_sink_ndjson__new(&o);
	assert_int_equal(pg_sink__send(s, &evs[0]), 0);
	assert_int_equal(pg_sink__flush(s, 0), 0);
	pg_sink__free(s);
	got = slurp(path, &n);
	assert_int_equal(n, expected.len + line_end[0]);
	assert_memory_equal(got + expected.len, expected.data, line_end[0]);
	free(got);
}

static void test_line_buffered_and_fd(void **state)
{
	const char *path = path_of("lb.ndjson");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct pg_ndjson_opts o = { .path = "ignored-name", .fd = fd, .line_buffered = true };
	struct pg_sink *s = pg_sink_ndjson__new(&o);
	size_t n;
	char *got;

	assert_true(fd >= 0);
	for (int i = 0; i < 3; i++) {
		struct pg_sink_stats st;

		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
		/* on disk at once, without a flush */
		got = slurp(path, &n);
		assert_int_equal(n, line_end[i]);
		free(got);
		pg_sink__stats(s, &st);
		assert_int_equal(st.written, (uint64_t)i + 1);
		assert_int_equal(st.queued, 0);
	}
	pg_sink__free(s);
	/* the sink does not close a descriptor it was given */
	assert_int_equal(write(fd, "", 0), 0);
	close(fd);

	/* a small buffer writes whenever it fills */
	o = (struct pg_ndjson_opts){ .path = path_of("small.ndjson"), .fd = -1, .buffer = 100 };
	s = pg_sink_ndjson__new(&o);
	assert_int_equal(pg_sink__send(s, &evs[0]), 0);
	got = slurp(o.path, &n);
	assert_int_equal(n, line_end[0]); /* every line is over 100 bytes */
	free(got);
	pg_sink__free(s);
}

/* Lines of the files path.K .. path.1, path, in order, must be a suffix of the stream. */
static void check_rotation(const char *path, unsigned int keep, uint64_t limit, size_t nevents)
{
	size_t total = 0, n, files = 0;
	char name[300];
	struct pg_buf all = { 0 };

	for (int k = (int)keep + 1; k >= 0; k--) {
		char *got;

		if (k)
			snprintf(name, sizeof(name), "%s.%d", path, k);
		else
			snprintf(name, sizeof(name), "%s", path);
		got = slurp(name, &n);
		if (k == (int)keep + 1) {
			if (got)
				fail_msg("%s exists: only %u rotated files are kept", name, keep);
			continue;
		}
		assert_non_null(got);
		files++;
		/* never a line split across files: each file is whole lines */
		assert_true(n > 0);
		assert_int_equal(got[n - 1], '\n');
		/* never over the limit, unless one line alone is longer */
		if (n > limit && memchr(got, '\n', n) != got + n - 1)
			fail_msg("%s has %zu bytes, over the limit %llu with more than one line", name, n,
				 (unsigned long long)limit);
		pg_buf__put(&all, got, n);
		total += n;
		free(got);
	}
	assert_int_equal(files, keep + 1);
	/* what is kept is exactly the end of the stream, in order, line for line */
	assert_true(total <= line_end[nevents - 1]);
	size_t from = line_end[nevents - 1] - total;

	assert_true(from == 0 || expected.data[from - 1] == '\n');
	assert_memory_equal(all.data, expected.data + from, total);
	pg_buf__free(&all);
}

static void test_rotation(void **state)
{
	const char *path = path_of("rot.ndjson");
	struct pg_ndjson_opts o = { .path = path, .fd = -1, .rotate_bytes = 20000, .rotate_keep = 3 };
	struct pg_sink *s = pg_sink_ndjson__new(&o);
	struct pg_sink_stats st;

	for (int i = 0; i < 300; i++) {
		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
		assert_accounted(s);
	}
	assert_int_equal(pg_sink__flush(s, 0), 0);
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, 300);
	assert_int_equal(st.written, 300);
	assert_int_equal(st.failed, 0);
	assert_true(line_end[299] > 5 * 20000); /* enough to rotate more than keep times */
	check_rotation(path, 3, 20000, 300);
	pg_sink__free(s);

	/* line-buffered, a limit smaller than most lines: one line per file */
	path = path_of("tiny.ndjson");
	o = (struct pg_ndjson_opts){ .path = path, .fd = -1, .rotate_bytes = 10, .rotate_keep = 2,
				     .line_buffered = true };
	s = pg_sink_ndjson__new(&o);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
	check_rotation(path, 2, 10, 5);
	pg_sink__free(s);

	/* default keep is 5 */
	path = path_of("keep5.ndjson");
	o = (struct pg_ndjson_opts){ .path = path, .fd = -1, .rotate_bytes = 4096 };
	s = pg_sink_ndjson__new(&o);
	for (int i = 0; i < 400; i++)
		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
	assert_int_equal(pg_sink__flush(s, 0), 0);
	check_rotation(path, 5, 4096, 400);
	pg_sink__free(s);

	/* an existing file counts towards the limit */
	path = path_of("existing.ndjson");
	FILE *f = fopen(path, "w");

	fwrite(expected.data, 1, line_end[0], f);
	fclose(f);
	o = (struct pg_ndjson_opts){ .path = path, .fd = -1, .rotate_bytes = line_end[0] + 1,
				     .rotate_keep = 1 };
	s = pg_sink_ndjson__new(&o);
	assert_int_equal(pg_sink__send(s, &evs[1]), 0);
	assert_int_equal(pg_sink__flush(s, 0), 0);
	size_t n;
	char *got = slurp(path_of("existing.ndjson.1"), &n);

	assert_non_null(got);
	assert_int_equal(n, line_end[0]);
	free(got);
	pg_sink__free(s);
}

static void test_write_errors_counted(void **state)
{
	struct pg_ndjson_opts o = { .path = "/dev/full", .fd = -1 };
	struct pg_sink *s = pg_sink_ndjson__new(&o);
	struct pg_sink_stats st;
	int rc = 0, i;

	assert_non_null(s);
	/* buffered: the error shows when the buffer is written; every buffered event is failed */
	for (i = 0; i < N && !rc; i++) {
		rc = pg_sink__send(s, &evs[i]);
		assert_accounted(s);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_string_equal(s->errmsg, "/dev/full: write: No space left on device");
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, (uint64_t)i);
	assert_int_equal(st.failed, (uint64_t)i);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.bytes, 0);

	/* and on flush */
	assert_int_equal(pg_sink__send(s, &evs[0]), 0);
	assert_int_equal(pg_sink__send(s, &evs[1]), 0);
	assert_int_equal(pg_sink__flush(s, 0), -ENOSPC);
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, (uint64_t)i + 2);
	assert_int_equal(st.failed, (uint64_t)i + 2);
	assert_int_equal(st.queued, 0);
	pg_sink__free(s);

	/* line-buffered: each send fails by itself */
	o.line_buffered = true;
	s = pg_sink_ndjson__new(&o);
	for (i = 0; i < 5; i++)
		assert_int_equal(pg_sink__send(s, &evs[i]), -ENOSPC);
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.failed, 5);
	pg_sink__free(s);

	/* a pipe whose reader went away */
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	o = (struct pg_ndjson_opts){ .fd = p[1], .line_buffered = true };
	s = pg_sink_ndjson__new(&o);
	assert_int_equal(pg_sink__send(s, &evs[0]), -EPIPE);
	assert_string_equal(s->errmsg, "<stdout>: write: Broken pipe");
	pg_sink__stats(s, &st);
	assert_int_equal(st.failed, 1);
	pg_sink__free(s);
	close(p[1]);
}

/* Rotation that cannot rename: the event is counted failed, and so is everything after. */
static void test_rotation_failure_counted(void **state)
{
	const char *path = path_of("norot.ndjson");
	char blocker[300];
	struct pg_ndjson_opts o = { .path = path, .fd = -1, .rotate_bytes = 1, .rotate_keep = 1,
				    .line_buffered = true };
	struct pg_sink *s;
	struct pg_sink_stats st;

	/* path.1 is a directory that is not empty: rename(path, path.1) fails */
	snprintf(blocker, sizeof(blocker), "%s.1/x", path);
	assert_int_equal(mkdir(path_of("norot.ndjson.1"), 0700), 0);
	assert_int_equal(mkdir(blocker, 0700), 0);
	s = pg_sink_ndjson__new(&o);
	assert_int_equal(pg_sink__send(s, &evs[0]), 0); /* the first line goes into the empty file */
	int rc = pg_sink__send(s, &evs[1]);

	assert_true(rc == -EISDIR || rc == -ENOTEMPTY);
	assert_non_null(strstr(s->errmsg, "rotate "));
	assert_accounted(s);
	for (int i = 2; i < 6; i++) {
		assert_true(pg_sink__send(s, &evs[i]) < 0);
		assert_accounted(s);
	}
	pg_sink__stats(s, &st);
	assert_int_equal(st.sent, 6);
	assert_int_equal(st.written, 1);
	assert_int_equal(st.failed, 5);
	assert_int_equal(st.queued, 0);
	pg_sink__free(s);
}

/* Sleep at least ms milliseconds (nanosleep may return early on a signal: sleep the rest). */
static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static size_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? 0 : (size_t)sb.st_size;
}

/*
 * flush_ms: at a tick, held lines are written when the last write is flush_ms old: at once
 * after a quiet moment, else at most flush_ms after the write before. The sink says when the
 * next tick is due; waiting that long is enough.
 */
static void test_timed_flush(void **state)
{
	const char *path = path_of("timed.ndjson");
	struct pg_ndjson_opts o = { .path = path, .fd = -1, .flush_ms = 40 };
	struct pg_sink *s = pg_sink_ndjson__new(&o);
	struct pg_sink_stats st;
	int due, first_due;
	size_t n;
	char *got;

	assert_non_null(s);
	assert_int_equal(pg_sink__tick(s), -1); /* nothing held, nothing due */
	/* the first line after a quiet moment: written at the first tick */
	assert_int_equal(pg_sink__send(s, &evs[0]), 0);
	assert_int_equal(file_size(path), 0);
	assert_int_equal(pg_sink__tick(s), -1);
	assert_int_equal(file_size(path), line_end[0]);
	/* the next ones wait for flush_ms after that write */
	assert_int_equal(pg_sink__send(s, &evs[1]), 0);
	first_due = pg_sink__tick(s);
	assert_true(first_due > 0 && first_due <= 40);
	assert_int_equal(file_size(path), line_end[0]);
	/* a later line does not push the deadline back */
	sleep_ms(first_due / 2 + 1);
	assert_int_equal(pg_sink__send(s, &evs[2]), 0);
	due = pg_sink__tick(s);
	assert_true(due >= 0 && due < first_due);
	pg_sink__stats(s, &st);
	assert_int_equal(st.queued, 2);
	assert_true(st.oldest_ms >= (uint64_t)first_due / 2);
	assert_int_equal(file_size(path), line_end[0]);
	sleep_ms(due);
	assert_int_equal(pg_sink__tick(s), -1); /* written: nothing held any more */
	got = slurp(path, &n);
	assert_int_equal(n, line_end[2]);
	assert_memory_equal(got, expected.data, n);
	free(got);
	pg_sink__stats(s, &st);
	assert_int_equal(st.written, 3);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.oldest_ms, 0);
	assert_accounted(s);
	pg_sink__free(s);

	/* flush_ms 0: no timer; lines wait for the buffer to fill or a flush */
	o = (struct pg_ndjson_opts){ .path = path_of("untimed.ndjson"), .fd = -1 };
	s = pg_sink_ndjson__new(&o);
	assert_int_equal(pg_sink__send(s, &evs[0]), 0);
	assert_int_equal(pg_sink__tick(s), -1);
	assert_int_equal(file_size(o.path), 0);
	pg_sink__free(s);
}

/* The pipeline asks to be ticked as soon as its soonest sink wants. */
static void test_pipeline_tick_is_the_soonest(void **state)
{
	struct pg_ndjson_opts slow = { .path = path_of("slow.ndjson"), .fd = -1, .flush_ms = 10000 };
	struct pg_ndjson_opts fast = { .path = path_of("fast.ndjson"), .fd = -1, .flush_ms = 30 };
	struct pg_event ev = evs[0];
	struct pg_pipeline pl;
	int due;

	pg_pipeline__init(&pl);
	assert_int_equal(pg_pipeline__add_sink(&pl, pg_sink_ndjson__new(&slow)), 0);
	assert_int_equal(pg_pipeline__tick(&pl), -1);
	assert_int_equal(pg_pipeline__add_sink(&pl, pg_sink_ndjson__new(&fast)), 0);
	assert_int_equal(pg_pipeline__push(&pl, &ev), 0);
	assert_int_equal(pg_pipeline__tick(&pl), -1); /* both wrote at once */
	assert_int_equal(pg_pipeline__push(&pl, &ev), 0);
	due = pg_pipeline__tick(&pl);
	assert_true(due > 0 && due <= 30);
	pg_pipeline__destroy(&pl);
}

/* A write that fails at a tick is counted there, and the owner hears of it on the next call. */
static void test_timed_flush_error(void **state)
{
	struct pg_ndjson_opts o = { .path = "/dev/full", .fd = -1, .flush_ms = 5 };
	struct pg_sink *s = pg_sink_ndjson__new(&o);
	struct pg_sink_stats st;
	int due;

	assert_non_null(s);
	assert_int_equal(pg_sink__send(s, &evs[0]), 0);
	assert_int_equal(pg_sink__send(s, &evs[1]), 0);
	while ((due = pg_sink__tick(s)) > 0)
		sleep_ms(due);
	pg_sink__stats(s, &st);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.queued, 0);
	/* the next event is refused with the error, and counted */
	assert_int_equal(pg_sink__send(s, &evs[2]), -ENOSPC);
	assert_string_equal(s->errmsg, "/dev/full: write: No space left on device");
	assert_accounted(s);
	pg_sink__stats(s, &st);
	assert_int_equal(st.failed, 3);
	assert_int_equal(pg_sink__send(s, &evs[3]), 0); /* told once */
	pg_sink__free(s);

	/* or on the flush, when no event comes */
	s = pg_sink_ndjson__new(&o);
	assert_int_equal(pg_sink__send(s, &evs[0]), 0);
	while ((due = pg_sink__tick(s)) > 0)
		sleep_ms(due);
	assert_int_equal(pg_sink__flush(s, 0), -ENOSPC);
	assert_int_equal(pg_sink__flush(s, 0), 0);
	assert_accounted(s);
	pg_sink__free(s);
}

/* --fsync: regular files only (a pipe has nothing to sync); a file is written as before. */
static void test_fsync(void **state)
{
	struct pg_ndjson_opts o = { .path = path_of("sync/out.ndjson"), .fd = -1, .fsync = true };
	struct pg_sink *s;
	int p[2];
	size_t n;
	char *got;

	assert_int_equal(mkdir(path_of("sync"), 0700), 0);
	s = pg_sink_ndjson__new(&o);
	assert_non_null(s);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pg_sink__send(s, &evs[i]), 0);
	assert_int_equal(pg_sink__flush(s, 0), 0);
	got = slurp(o.path, &n);
	assert_int_equal(n, line_end[4]);
	free(got);
	assert_accounted(s);
	pg_sink__free(s);

	assert_int_equal(pipe(p), 0);
	o = (struct pg_ndjson_opts){ .fd = p[1], .fsync = true };
	errno = 0;
	assert_null(pg_sink_ndjson__new(&o));
	assert_int_equal(errno, EINVAL);
	close(p[0]);
	close(p[1]);
}

static void test_open_errors(void **state)
{
	struct pg_ndjson_opts o = { .path = "/nonexistent-dir/out.ndjson", .fd = -1 };

	errno = 0;
	assert_null(pg_sink_ndjson__new(&o));
	assert_int_equal(errno, ENOENT);
	o.path = tmpdir;
	assert_null(pg_sink_ndjson__new(&o));
	assert_int_equal(errno, EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_contents),
		cmocka_unit_test(test_line_buffered_and_fd),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_write_errors_counted),
		cmocka_unit_test(test_rotation_failure_counted),
		cmocka_unit_test(test_timed_flush),
		cmocka_unit_test(test_timed_flush_error),
		cmocka_unit_test(test_pipeline_tick_is_the_soonest),
		cmocka_unit_test(test_fsync),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
