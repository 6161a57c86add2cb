// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Watching policy files for changes (inotify), for `run --policy`'s reload.
 *
 * What is watched, for each --policy path:
 *  - its parent directory, for the path's own name appearing, going or being renamed over:
 *    editors and configuration tools replace a file (write a new one, rename it over) rather
 *    than write into it;
 *  - a directory path itself, for *.yaml files appearing, going or being renamed;
 *  - each policy file (the path, or a *.yaml file of the directory), for a write in place.
 * In any watched directory a name starting with ".." counts too: the kubelet updates a
 * ConfigMap volume by renaming a symlink "..data" over to a new hidden directory and removing
 * the old one, so the files a path names change without the name changing at all.
 *
 * Directories are watched only for their own entries, never for what happens to the files in
 * them: a directory watched for opens, writes or closes of its files makes every open and close
 * of any file in it pay for a notification, 50-75 ns per open+close on this machine
 * (bench/README.md), a tenth of a syscall hook's whole cost; a policy kept in /etc would have
 * slowed every open in /etc.
 *
 * A change starts a short quiet period, so that a file written in several steps, or a
 * directory updated file by file, is loaded once, whole. Before each reload (this one, or
 * SIGHUP's) the watches are set up again from the paths, since a path may now lead to another
 * directory, or to files that were not there: a change after that is a new change.
 */
#include <dirent.h>
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
#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
#define FILE_MASK IN_CLOSE_WRITE

enum role {
	W_FILE, /* a policy file: written in place */
	W_DIR, /* a --policy directory: its *.yaml entries */
	W_PARENT, /* the directory a --policy path is in: the entry of that name */
};

struct watched {
	int wd;
	enum role role;
	char *name; /* W_PARENT: the --policy path's base name */
};

struct watches {
	struct watched *w;
	size_t n, cap;
};

struct pg_policy_watch {
	int fd;
	char **paths;
	size_t npaths;
	struct watches cur;
	double due; /* reload at this time; 0: nothing changed */
};

static void watches_free(struct watches *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		free(ws->w[i].name);
	free(ws->w);
	*ws = (struct watches){ 0 };
}

/* Watch path for mask, as role (name: W_PARENT's). 0, or -errno. */
static int watch(int fd, struct watches *ws, const char *path, uint32_t mask, enum role role,
		 const char *name)
{
	struct watched *w;
	int wd = inotify_add_watch(fd, path, mask);

	if (wd < 0)
		return -errno;
	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? 2 * ws->cap : 8;

		if (!(w = realloc(ws->w, cap * sizeof(*w))))
			return -ENOMEM;
		ws->w = w;
		ws->cap = cap;
	}
	w = &ws->w[ws->n];
	*w = (struct watched){ .wd = wd, .role = role };
	if (name && !(w->name = strdup(name)))
		return -ENOMEM;
	ws->n++;
	return 0;
}

/* The *.yaml files of directory path, each watched for writes in place. */
static int watch_files_in(int fd, struct watches *ws, const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *d;
	char file[PATH_MAX];
	int rc = 0;

	if (!dir)
		return -errno;
	while (!rc && (d = readdir(dir))) {
		if (!pg_policy_is_file_name(d->d_name))
			continue;
		if ((size_t)snprintf(file, sizeof(file), "%s/%s", path, d->d_name) >= sizeof(file))
			continue; /* the loader cannot open it either, and says so */
		rc = watch(fd, ws, file, FILE_MASK, W_FILE, NULL);
		if (rc == -ENOENT) /* gone since readdir: its directory's watch says so */
			rc = 0;
	}
	closedir(dir);
	return rc;
}

/* Everything one --policy path needs watched (see the top of the file). 0, or -errno. */
static int watch_path(int fd, struct watches *ws, const char *path)
{
	char parent[PATH_MAX], name[PATH_MAX];
	const char *slash, *base;
	size_t n = strlen(path);
	struct stat st;
	int rc;

	while (n > 1 && path[n - 1] == '/') /* dir/ is dir, in dir's parent */
		n--;
	snprintf(name, sizeof(name), "%.*s", (int)n, path);
	slash = strrchr(name, '/');
	base = slash && slash[1] ? slash + 1 : name;
	if (slash)
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - name) + (slash == name),
			 name);
	else
		snprintf(parent, sizeof(parent), ".");
	if ((rc = watch(fd, ws, parent, DIR_MASK, W_PARENT, base)))
		return rc;
	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return watch(fd, ws, path, FILE_MASK, W_FILE, NULL);
	if ((rc = watch(fd, ws, path, DIR_MASK, W_DIR, NULL)))
		return rc;
	return watch_files_in(fd, ws, path);
}

static bool has_wd(const struct watches *ws, int wd)
{
	for (size_t i = 0; i < ws->n; i++)
		if (ws->w[i].wd == wd)
			return true;
	return false;
}

/*
 * The watches set up again from the paths; the ones no path leads to any more are removed
 * (adding a watch on an inode already watched returns its wd: nothing is missed meanwhile).
 * strict: the first path that cannot be watched fails it, else what can be watched is.
 */
static int rewatch(struct pg_policy_watch *pw, bool strict)
{
	struct watches ws = { 0 };
	int rc = 0, r;

	for (size_t i = 0; i < pw->npaths; i++) {
		r = watch_path(pw->fd, &ws, pw->paths[i]);
		if (r && (strict || r == -ENOMEM)) {
			rc = r;
			break;
		}
	}
	if (rc) { /* the watches in force stay as they were */
		for (size_t i = 0; i < ws.n; i++)
			if (!has_wd(&pw->cur, ws.w[i].wd))
				inotify_rm_watch(pw->fd, ws.w[i].wd);
		watches_free(&ws);
		return rc;
	}
	for (size_t i = 0; i < pw->cur.n; i++)
		if (!has_wd(&ws, pw->cur.w[i].wd))
			inotify_rm_watch(pw->fd, pw->cur.w[i].wd); /* may be gone already */
	watches_free(&pw->cur);
	pw->cur = ws;
	return 0;
}

struct pg_policy_watch *pg_policy_watch__new(const char *const *paths, size_t n)
{
	struct pg_policy_watch *pw = calloc(1, sizeof(*pw));
	int rc = -ENOMEM;

	if (!pw)
		goto err_out;
	pw->fd = -1;
	if (!(pw->paths = calloc(n + 1, sizeof(*pw->paths))))
		goto err_out;
	for (; pw->npaths < n; pw->npaths++)
		if (!(pw->paths[pw->npaths] = strdup(paths[pw->npaths])))
			goto err_out;
	pw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pw->fd < 0) {
		rc = -errno;
		goto err_out;
	}
	if (!(rc = rewatch(pw, true)))
		return pw;
err_out:
	pg_policy_watch__free(pw);
	errno = -rc;
	return NULL;
}

void pg_policy_watch__free(struct pg_policy_watch *pw)
{
	if (!pw)
		return;
	if (pw->fd >= 0)
		close(pw->fd);
	watches_free(&pw->cur);
	for (size_t i = 0; i < pw->npaths; i++)
		free(pw->paths[i]);
	free(pw->paths);
	free(pw);
}

/* Does this event concern a policy? */
static bool relevant(const struct pg_policy_watch *pw, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return true; /* events were lost: any of them may have been one */
	if (ev->mask & IN_IGNORED)
		return false; /* a watch ended: what ended it was an event of its own */
	for (size_t i = 0; i < pw->cur.n; i++) {
		const struct watched *w = &pw->cur.w[i];

		if (w->wd != ev->wd)
			continue;
		if (w->role == W_FILE) {
			if (ev->mask & IN_CLOSE_WRITE)
				return true;
		} else if (ev->len) {
			if (!strncmp(ev->name, "..", 2))
				return true;
			if (w->role == W_DIR ? pg_policy_is_file_name(ev->name) :
					       !strcmp(ev->name, w->name))
				return true;
		}
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

			if (relevant(pw, ev))
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

void pg_policy_watch__refresh(struct pg_policy_watch *pw)
{
	rewatch(pw, false);
}
