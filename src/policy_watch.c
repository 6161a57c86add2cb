// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Watching policy files for changes (inotify), for `run --policy`'s reload. A directory is
 * watched for its *.yaml files; a file through its directory, because editors and
 * configuration tools replace a file (write a new one, rename it over) rather than write into
 * it. A change starts a short quiet period, so that a file written in several steps, or a
 * directory updated file by file, is loaded once, whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define QUIET_S 0.25 /* seconds without a change before the reload */

struct watched {
	int wd;
	char *name; /* a file's base name; NULL: every *.yaml of the directory */
};

struct pg_policy_watch {
	int fd;
	struct watched *w;
	size_t n;
	double due; /* reload at this time; 0: nothing changed */
};

static bool is_yaml(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".yaml");
}

struct pg_policy_watch *pg_policy_watch__new(const char *const *paths, size_t n)
{
	struct pg_policy_watch *pw = calloc(1, sizeof(*pw));
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE;

	if (!pw || !(pw->w = calloc(n + 1, sizeof(*pw->w)))) {
		free(pw);
		errno = ENOMEM;
		return NULL;
	}
	pw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pw->fd < 0)
		goto err_out;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char dir[PATH_MAX];
		const char *slash;
		struct watched *w = &pw->w[pw->n];

		if (stat(paths[i], &st))
			goto err_out;
		if (S_ISDIR(st.st_mode)) {
			w->wd = inotify_add_watch(pw->fd, paths[i], mask);
		} else {
			slash = strrchr(paths[i], '/');
			if (slash)
				snprintf(dir, sizeof(dir), "%.*s",
					 (int)(slash - paths[i]) + !!(slash == paths[i]), paths[i]);
			else
				snprintf(dir, sizeof(dir), ".");
			w->name = strdup(slash ? slash + 1 : paths[i]);
			if (!w->name) {
				errno = ENOMEM;
				goto err_out;
			}
			w->wd = inotify_add_watch(pw->fd, dir, mask);
		}
		if (w->wd < 0)
			goto err_out;
		pw->n++;
	}
	return pw;
err_out : {
	int e = errno;

	pg_policy_watch__free(pw);
	errno = e;
	return NULL;
}
}

void pg_policy_watch__free(struct pg_policy_watch *pw)
{
	if (!pw)
		return;
	if (pw->fd >= 0)
		close(pw->fd);
	for (size_t i = 0; i < pw->n; i++)
		free(pw->w[i].name);
	free(pw->w);
	free(pw);
}

/* Does an event on watch wd, for file name, concern a policy? */
static bool relevant(const struct pg_policy_watch *pw, int wd, const char *name)
{
	for (size_t i = 0; i < pw->n; i++) {
		if (pw->w[i].wd != wd)
			continue;
		if (pw->w[i].name ? !strcmp(pw->w[i].name, name) : is_yaml(name))
			return true;
	}
	return false;
}

bool pg_policy_watch__due(struct pg_policy_watch *pw, double now)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	while ((len = read(pw->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->len && relevant(pw, ev->wd, ev->name))
				pw->due = now +
					  QUIET_S; /* each change starts the quiet period again */
			p += sizeof(*ev) + ev->len;
		}
	}
	if (!pw->due || now < pw->due)
		return false;
	pw->due = 0;
	return true;
}
