// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup paths: the kubelet-layout parser, the cgroup2 mount finder and the id -> path
 * resolver. The two parsers read untrusted text (cgroup names are chosen by whoever creates
 * the cgroup; fuzz/fuzz_cgroup_path.c, fuzz/fuzz_mountinfo.c) and never read past len.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich.h"

/* --- the path parser ---------------------------------------------------------------------- */

struct comp {
	const char *s;
	size_t n;
};

static bool has_prefix(struct comp c, const char *p)
{
	size_t n = strlen(p);

	return c.n >= n && !memcmp(c.s, p, n);
}

static bool has_suffix(struct comp c, const char *p)
{
	size_t n = strlen(p);

	return c.n >= n && !memcmp(c.s + c.n - n, p, n);
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
}

/*
 * A pod UID: a canonical UUID (8-4-4-4-12 hex digits) whose dashes may be written sep (the
 * systemd driver escapes '-' as '_'), or the 32 hex digits of a static pod's config hash.
 * Written lower case with dashes into out, which is left alone when s is not one.
 */
static bool parse_uid(const char *s, size_t n, char sep, char out[PG_POD_UID_LEN])
{
	char tmp[PG_POD_UID_LEN];

	if (n != 32 && n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (n == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != sep && s[i] != '-')
				return false;
			tmp[i] = '-';
		} else {
			if (!is_hex(s[i]))
				return false;
			tmp[i] = lower(s[i]);
		}
	}
	tmp[n] = 0;
	memcpy(out, tmp, n + 1);
	return true;
}

/* 64 hex digits, written lower case into out, which is left alone when s is not one. */
static bool parse_container_id(const char *s, size_t n, char out[PG_CONTAINER_ID_LEN])
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	for (size_t i = 0; i < n; i++)
		out[i] = lower(s[i]);
	out[64] = 0;
	return true;
}

/* Slices and directories the kubelet creates above the pods. */
static bool is_kubepods(struct comp c)
{
	if (c.n == 8 && !memcmp(c.s, "kubepods", 8))
		return true;
	/* kubepods.slice, kubepods-besteffort.slice, kubelet-kubepods-burstable.slice (kind) */
	return (has_prefix(c, "kubepods") || has_prefix(c, "kubelet-kubepods")) &&
	       has_suffix(c, ".slice");
}

/* kubepods[-QOS]-pod<UID>.slice (systemd driver). */
static bool systemd_pod(struct comp c, char out[PG_POD_UID_LEN])
{
	size_t k;

	if (!has_suffix(c, ".slice") ||
	    !(has_prefix(c, "kubepods") || has_prefix(c, "kubelet-kubepods")))
		return false;
	/* the UID holds no "-pod", so the last one starts it; k is where the UID begins */
	for (k = c.n - 6; k >= 4; k--)
		if (!memcmp(c.s + k - 4, "-pod", 4))
			return parse_uid(c.s + k, c.n - 6 - k, '_', out);
	return false;
}

static const struct {
	const char *prefix;
	const char *runtime;
} scopes[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-", "crio" },
	{ "docker-", "docker" },
	{ "libpod-", "podman" },
};

/* <runtime>-<ID>.scope (systemd driver), or <runtime>-<ID> under cgroupfs. */
static const char *runtime_scope(struct comp c, char out[PG_CONTAINER_ID_LEN])
{
	size_t n = has_suffix(c, ".scope") ? c.n - 6 : c.n;

	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t pl = strlen(scopes[i].prefix);

		if (has_prefix(c, scopes[i].prefix) && n >= pl &&
		    parse_container_id(c.s + pl, n - pl, out))
			return scopes[i].runtime;
	}
	return NULL;
}

unsigned int pg_cgroup_path_parse(const char *path, size_t len, struct pg_cgroup_ids *ids)
{
	struct comp prev = { NULL, 0 };
	bool kubepods = false, pod = false;
	size_t i = 0;

	memset(ids, 0, sizeof(*ids));
	while (i < len) {
		struct comp c;
		const char *rt;

		while (i < len && path[i] == '/')
			i++;
		c.s = path + i;
		while (i < len && path[i] != '/')
			i++;
		c.n = (size_t)(path + i - c.s);
		if (!c.n)
			break;

		if (!pod) {
			if (systemd_pod(c, ids->pod_uid) ||
			    (kubepods && has_prefix(c, "pod") &&
			     parse_uid(c.s + 3, c.n - 3, '-', ids->pod_uid))) {
				/* a container seen above the pod is the one the kubelet runs in (kind) */
				pod = true;
				ids->container_id[0] = 0;
				ids->runtime = NULL;
				goto next;
			}
			if (is_kubepods(c)) {
				kubepods = true;
				goto next;
			}
		}
		/* the first container wins: cgroups below it are the container's own */
		if (ids->container_id[0])
			goto next;
		rt = runtime_scope(c, ids->container_id);
		if (rt) {
			ids->runtime = rt;
			goto next;
		}
		/* cgroupfs: the container is a bare id right below the pod, or below /docker */
		if ((pod && prev.s && has_prefix(prev, "pod")) ||
		    (prev.n == 6 && !memcmp(prev.s, "docker", 6))) {
			if (parse_container_id(c.s, c.n, ids->container_id))
				ids->runtime = pod ? NULL : "docker";
		}
next:
		prev = c;
	}
	return (ids->pod_uid[0] ? PG_CGROUP_HAS_POD : 0) |
	       (ids->container_id[0] ? PG_CGROUP_HAS_CONTAINER : 0);
}

/* --- /proc/self/mountinfo ----------------------------------------------------------------- */

/* Undo mountinfo's octal escapes (\040 for space, ...) of field f into out. */
static int unescape(struct comp f, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < f.n; i++) {
		char ch = f.s[i];

		if (ch == '\\' && i + 3 < f.n && f.s[i + 1] >= '0' &&
		    f.s[i + 1] <= '3' && f.s[i + 2] >= '0' && f.s[i + 2] <= '7' && f.s[i + 3] >= '0' &&
		    f.s[i + 3] <= '7') {
			ch = (char)((f.s[i + 1] - '0') * 64 + (f.s[i + 2] - '0') * 8 + (f.s[i + 3] - '0'));
			i += 3;
		}
		if (!ch)
			return -EINVAL;
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = ch;
	}
	out[o] = 0;
	return 0;
}

int pg_mountinfo_cgroup2(const char *text, size_t len, char *out, size_t outlen)
{
	const char *line = text, *end = text + len;
	int found = -ENOENT;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		struct comp f[12];
		size_t nf = 0, dash = 0;
		const char *p = line;

		/* fields: id parent maj:min root mountpoint options [optional...] - fstype src opts */
		while (p < le && nf < 12) {
			const char *s = p;

			while (p < le && *p != ' ')
				p++;
			f[nf].s = s;
			f[nf].n = (size_t)(p - s);
			if (f[nf].n == 1 && *s == '-' && nf >= 6 && !dash)
				dash = nf;
			nf++;
			if (p < le)
				p++;
		}
		line = nl ? nl + 1 : end;
		if (!dash || dash + 1 >= nf)
			continue; /* not a mountinfo line: skip it */
		if (f[dash + 1].n != 7 || memcmp(f[dash + 1].s, "cgroup2", 7))
			continue;
		bool root = f[3].n == 1 && f[3].s[0] == '/';

		/* the first mount of the hierarchy's root wins; any cgroup2 mount is a fallback */
		if (root || found == -ENOENT) {
			int err = unescape(f[4], out, outlen);

			if (err == -EINVAL)
				continue;
			found = err;
			if (root && !err)
				return 0;
		}
	}
	return found;
}

int pg_cgroup2_mount(char *out, size_t outlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, err;

	fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 16384);

			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 16384;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	err = pg_mountinfo_cgroup2(buf, len, out, outlen);
out:
	close(fd);
	free(buf);
	return err;
}

/* --- id -> path --------------------------------------------------------------------------- */

#ifndef FILEID_KERNFS
#define FILEID_KERNFS 0xfe /* include/linux/exportfs.h: a kernfs node id as a file handle */
#endif

#define WALK_MAX_DEPTH 64

struct pg_cgroup_resolver {
	int mount_fd;
	bool use_handles;
	char *mount; /* as given, without a trailing '/' */
	size_t mount_len;
};

struct pg_cgroup_resolver *pg_cgroup_resolver__new(const char *mount, bool use_handles)
{
	struct pg_cgroup_resolver *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->use_handles = use_handles;
	r->mount = strdup(mount);
	if (!r->mount) {
		err = ENOMEM;
		goto err_out;
	}
	r->mount_len = strlen(r->mount);
	while (r->mount_len > 1 && r->mount[r->mount_len - 1] == '/')
		r->mount[--r->mount_len] = 0;
	r->mount_fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->mount_fd < 0) {
		err = errno;
		goto err_out;
	}
	return r;
err_out:
	free(r->mount);
	free(r);
	errno = err;
	return NULL;
}

void pg_cgroup_resolver__free(struct pg_cgroup_resolver *r)
{
	if (!r)
		return;
	close(r->mount_fd);
	free(r->mount);
	free(r);
}

/* Ask the kernel: the id is a kernfs file handle. 0, -ENOENT, or another -errno to fall back. */
static int by_handle(struct pg_cgroup_resolver *r, uint64_t id, char *out, size_t outlen)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char link[64], *buf;
	ssize_t n;
	int fd, err = 0;

	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = FILEID_KERNFS;
	h.id = id;
	fd = open_by_handle_at(r->mount_fd, &h.fh, O_RDONLY | O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE ? -ENOENT : -errno;
	buf = malloc(PATH_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, PATH_MAX - 1);
	close(fd);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	buf[n] = 0;
	/* the link names the directory as this mount namespace sees it: strip the mount point */
	const char *rel = buf;

	if (r->mount_len == 1) {
		/* mounted at "/": the link is the path already */
	} else if ((size_t)n >= r->mount_len && !memcmp(buf, r->mount, r->mount_len) &&
		   (buf[r->mount_len] == '/' || !buf[r->mount_len])) {
		rel = buf + r->mount_len;
	} else {
		err = -EXDEV; /* reached through another mount: let the walk answer */
		goto out;
	}
	if (!*rel)
		rel = "/";
	if (strlen(rel) >= outlen) {
		err = -ENAMETOOLONG;
		goto out;
	}
	strcpy(out, rel);
out:
	free(buf);
	return err;
}

/* Depth-first search for a directory whose inode number is id. 1 found, 0 not, -errno. */
static int walk(int dirfd, uint64_t id, char *out, size_t outlen, size_t used, int depth)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (depth > WALK_MAX_DEPTH)
		return 0;
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return 0; /* vanished or unreadable: not here */
	}
	while ((de = readdir(d))) {
		size_t nl;
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_UNKNOWN) {
			struct stat sb;

			if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(sb.st_mode))
				continue;
		} else if (de->d_type != DT_DIR) {
			continue;
		}
		nl = strlen(de->d_name);
		if (used + 1 + nl >= outlen)
			continue; /* too deep to name: cannot be reported anyway */
		out[used] = '/';
		memcpy(out + used + 1, de->d_name, nl + 1);
		if (de->d_ino == id) {
			rc = 1;
			break;
		}
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		rc = walk(sub, id, out, outlen, used + 1 + nl, depth + 1);
		if (rc)
			break;
	}
	if (rc <= 0)
		out[used] = 0;
	closedir(d);
	return rc;
}

int pg_cgroup_resolver__path(struct pg_cgroup_resolver *r, uint64_t id, char *out, size_t outlen)
{
	struct stat sb;
	int fd, rc;

	if (outlen < 2)
		return -ENAMETOOLONG;
	if (r->use_handles) {
		rc = by_handle(r, id, out, outlen);
		if (rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG)
			return rc;
		/* EPERM (no CAP_DAC_READ_SEARCH), EOPNOTSUPP, EXDEV: walk instead, from now on */
		if (rc == -EPERM || rc == -EOPNOTSUPP || rc == -EINVAL)
			r->use_handles = false;
	}
	if (fstat(r->mount_fd, &sb) == 0 && sb.st_ino == id) {
		strcpy(out, "/");
		return 0;
	}
	fd = openat(r->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	out[0] = 0;
	rc = walk(fd, id, out, outlen, 0, 0);
	if (rc < 0)
		return rc;
	return rc ? 0 : -ENOENT;
}
