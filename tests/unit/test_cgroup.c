// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Enrichment without root: the cgroup path parser (every kubelet layout, and what must not
 * match), the mountinfo parser, the bounded LRU cache, and the id -> path walk over a real
 * directory tree (inode numbers of a temporary directory stand in for cgroup ids; the tests
 * under tests/integration/test_enrich.py use real cgroups).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "enrich.h"
#include "pipeline.h"

#define UID "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define UID_ "0a1b2c3d_4e5f_6789_abcd_ef0123456789"
#define CID "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"

struct pcase {
	const char *path;
	const char *pod; /* "" when none */
	const char *container;
	const char *runtime;
};

static void check(const struct pcase *c)
{
	struct pg_cgroup_ids ids;
	unsigned int got = pg_cgroup_path_parse(c->path, strlen(c->path), &ids);

	if (strcmp(ids.pod_uid, c->pod) || strcmp(ids.container_id, c->container))
		fail_msg("%s: got pod '%s' container '%s', want '%s' '%s'", c->path, ids.pod_uid,
			 ids.container_id, c->pod, c->container);
	assert_int_equal(!!(got & PG_CGROUP_HAS_POD), !!c->pod[0]);
	assert_int_equal(!!(got & PG_CGROUP_HAS_CONTAINER), !!c->container[0]);
	if (c->runtime)
		assert_string_equal(ids.runtime, c->runtime);
	else if (!c->container[0])
		assert_null(ids.runtime);
}

static void test_layouts(void **state)
{
	static const struct pcase cases[] = {
		/* systemd driver, each QoS class and runtime */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		  ".slice/cri-containerd-" CID ".scope", UID, CID, "containerd" },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		  ".slice/crio-" CID ".scope", UID, CID, "crio" },
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope", UID, CID,
		  "docker" },
		/* a sub-cgroup inside the container (systemd in a container, nested cgroups) */
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scope/init.scope",
		  UID, CID, "containerd" },
		/* the pod's own cgroup, and CRI-O's conmon beside the container: pod only */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice", UID,
		  "", NULL },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		  ".slice/crio-conmon-" CID ".scope", UID, "", NULL },
		/* cgroupfs driver */
		{ "/kubepods/burstable/pod" UID "/" CID, UID, CID, NULL },
		{ "/kubepods/besteffort/pod" UID "/" CID, UID, CID, NULL },
		{ "/kubepods/pod" UID "/" CID, UID, CID, NULL },
		{ "/kubepods/burstable/pod" UID "/crio-" CID, UID, CID, "crio" },
		{ "/kubepods/burstable/pod" UID, UID, "", NULL },
		/* kind: the node's own kubelet runs inside a container */
		{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
		  "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope",
		  UID, CID, "containerd" },
		{ "/docker/" CID "/kubepods/burstable/pod" UID "/" CID, UID, CID, NULL },
		/* static pod: the UID is a 32-digit hash */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
		  "7cd5a83cd6e2c91b3e5d8b7a2f0d16a3.slice/cri-containerd-" CID ".scope",
		  "7cd5a83cd6e2c91b3e5d8b7a2f0d16a3", CID, "containerd" },
		/* upper case is folded */
		{ "/kubepods/pod0A1B2C3D-4E5F-6789-ABCD-EF0123456789/" CID, UID, CID, NULL },
		/* Docker and Podman without Kubernetes */
		{ "/system.slice/docker-" CID ".scope", "", CID, "docker" },
		{ "/docker/" CID, "", CID, "docker" },
		{ "/machine.slice/libpod-" CID ".scope", "", CID, "podman" },
		/* no leading slash, doubled slashes, a trailing slash: still the same path */
		{ "kubepods//burstable/pod" UID "//" CID "/", UID, CID, NULL },
		/* nothing to find */
		{ "/", "", "", NULL },
		{ "", "", "", NULL },
		{ "/system.slice/sshd.service", "", "", NULL },
		{ "/user.slice/user-1000.slice/session-3.scope", "", "", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

static void test_malformed(void **state)
{
	static const struct pcase cases[] = {
		/* UID one digit short, one too long, a bad digit, dashes misplaced */
		{ "/kubepods/pod0a1b2c3d-4e5f-6789-abcd-ef012345678/" CID, "", "", NULL },
		{ "/kubepods/pod0a1b2c3d-4e5f-6789-abcd-ef01234567890/" CID, "", "", NULL },
		{ "/kubepods/pod0a1b2c3d-4e5f-6789-abcd-ef012345678g/" CID, "", "", NULL },
		{ "/kubepods/pod0a1b2c3d4-e5f-6789-abcd-ef0123456789/" CID, "", "", NULL },
		/* "pod..." outside kubepods is somebody's directory, not a pod */
		{ "/pod" UID "/" CID, "", "", NULL },
		{ "/system.slice/pod" UID, "", "", NULL },
		/* underscores are only the systemd driver's escaping */
		{ "/kubepods/pod" UID_ "/" CID, "", "", NULL },
		/* container ids: 63 and 65 digits, a non-hex digit, an empty id, no id */
		{ "/kubepods/pod" UID "/3f4e5d6c7b8a99887766554433221100ffeeddccbbaa0011223344556677889",
		  UID, "", NULL },
		{ "/kubepods/pod" UID "/" CID "0", UID, "", NULL },
		{ "/kubepods/pod" UID "/" "zf4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899",
		  UID, "", NULL },
		{ "/system.slice/docker-.scope", "", "", NULL },
		{ "/system.slice/docker.scope", "", "", NULL },
		{ "/system.slice/cri-containerd-" CID, "", CID, "containerd" },
		{ "/system.slice/cri-containerd-" CID ".scopes", "", "", NULL },
		/* slices cut short */
		{ "/kubepods.slice/kubepods-pod.slice", "", "", NULL },
		{ "/kubepods.slice/kubepods-pod", "", "", NULL },
		{ "/kubepods.slice/-pod" UID_ ".slice", "", "", NULL },
		{ "/kubepods.slice/kubepods-pod" UID_, "", "", NULL },
		{ ".slice", "", "", NULL },
		{ "-pod.slice", "", "", NULL },
		{ "kubepods-pod.slice", "", "", NULL },
		{ "kubepods.slice", "", "", NULL },
		{ "pod", "", "", NULL },
		{ "////", "", "", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* The parser reads len bytes and not one more: no NUL needed, none honoured. */
static void test_length_bounded(void **state)
{
	const char *p = "/kubepods/pod" UID "/" CID;
	size_t n = strlen(p);
	char *exact = malloc(n); /* no room for a NUL: ASan catches a read past it */
	struct pg_cgroup_ids ids;

	memcpy(exact, p, n);
	assert_int_equal(pg_cgroup_path_parse(exact, n, &ids), PG_CGROUP_HAS_POD | PG_CGROUP_HAS_CONTAINER);
	/* every prefix parses without reading beyond it */
	for (size_t k = 0; k < n; k++) {
		char *cut = malloc(k ? k : 1);

		memcpy(cut, p, k);
		pg_cgroup_path_parse(cut, k, &ids);
		assert_int_equal(ids.container_id[0], 0); /* the id is complete only at n */
		free(cut);
	}
	free(exact);
}

static void test_mountinfo(void **state)
{
	static const char hybrid[] =
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
	static const char pure[] =
		"25 30 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
	static const char escaped[] = "41 31 0:38 / /mnt/my\\040cgroups rw - cgroup2 none rw\n";
	/* a bind mount of a sub-tree comes first: the root mount still wins */
	static const char sub[] =
		"50 31 0:38 /kubepods /var/lib/x rw - cgroup2 cgroup2 rw\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw";
	static const char subonly[] = "50 31 0:38 /kubepods /var/lib/x rw - cgroup2 cgroup2 rw\n";
	char out[256];

	assert_int_equal(pg_mountinfo_cgroup2(hybrid, strlen(hybrid), out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(pg_mountinfo_cgroup2(pure, strlen(pure), out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(pg_mountinfo_cgroup2(escaped, strlen(escaped), out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroups");
	assert_int_equal(pg_mountinfo_cgroup2(sub, strlen(sub), out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(pg_mountinfo_cgroup2(subonly, strlen(subonly), out, sizeof(out)), 0);
	assert_string_equal(out, "/var/lib/x");
	assert_int_equal(pg_mountinfo_cgroup2(hybrid, strlen(hybrid), out, 10), -ENAMETOOLONG);
}

static void test_mountinfo_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n\n\n",
		"garbage",
		/* no separator, separator too early, nothing after it */
		"41 31 0:38 / /sys/fs/cgroup/unified rw cgroup2 cgroup2 rw\n",
		"41 - cgroup2 cgroup2 rw\n",
		"41 31 0:38 / /sys/fs/cgroup/unified rw -\n",
		"41 31 0:38 / /sys/fs/cgroup/unified rw - \n",
		/* cgroup v1 and look-alikes are not cgroup2 */
		"41 31 0:38 / /x rw - cgroup cgroup rw\n",
		"41 31 0:38 / /x rw - cgroup2x none rw\n",
		"41 31 0:38 / /x rw - cgroup none rw\n",
		/* an escape that would put a NUL in the path */
		"41 31 0:38 / /x\\000y rw - cgroup2 none rw\n",
	};
	char out[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pg_mountinfo_cgroup2(bad[i], strlen(bad[i]), out, sizeof(out)),
				 -ENOENT);
	/* a cut-off escape is taken literally */
	const char *cut = "41 31 0:38 / /x\\04 rw - cgroup2 none rw\n";

	assert_int_equal(pg_mountinfo_cgroup2(cut, strlen(cut), out, sizeof(out)), 0);
	assert_string_equal(out, "/x\\04");
}

static void test_this_machine(void **state)
{
	char out[4096];
	int rc = pg_cgroup2_mount(out, sizeof(out));

	/* any Linux this runs on has /proc; a cgroup2 mount is nearly universal but not required */
	assert_true(rc == 0 || rc == -ENOENT);
	if (rc == 0) {
		struct stat sb;

		assert_int_equal(stat(out, &sb), 0);
		assert_true(S_ISDIR(sb.st_mode));
	}
}

static void test_cache_lru(void **state)
{
	struct pg_cgroup_cache *c = pg_cgroup_cache__new(3);
	struct pg_cgroup_cache_stats st;
	struct pg_cgroup_ids ids = { .pod_uid = UID };
	const struct pg_cgroup_info *ci;
	char path[32];

	assert_non_null(c);
	for (uint64_t id = 1; id <= 3; id++) {
		snprintf(path, sizeof(path), "/cg%llu", (unsigned long long)id);
		assert_non_null(pg_cgroup_cache__put(c, id, path, &ids, 0));
	}
	/* touch 1: 2 is now the least recently used and goes first */
	assert_non_null(pg_cgroup_cache__get(c, 1));
	assert_non_null(pg_cgroup_cache__put(c, 4, "/cg4", NULL, 0));
	assert_null(pg_cgroup_cache__get(c, 2));
	ci = pg_cgroup_cache__get(c, 1);
	assert_non_null(ci);
	assert_string_equal(ci->path, "/cg1");
	assert_string_equal(ci->ids.pod_uid, UID);
	ci = pg_cgroup_cache__get(c, 4);
	assert_string_equal(ci->path, "/cg4");
	assert_string_equal(ci->ids.pod_uid, "");
	/* replacing keeps one entry per id */
	assert_non_null(pg_cgroup_cache__put(c, 4, NULL, NULL, 42));
	ci = pg_cgroup_cache__get(c, 4);
	assert_null(ci->path);
	assert_int_equal(ci->expires_ns, 42);
	pg_cgroup_cache__stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.capacity, 3);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.misses, 1);
	pg_cgroup_cache__free(c);
	assert_null(pg_cgroup_cache__new(0));
}

/* Many more ids than entries: the size stays at the bound and the newest are all there. */
static void test_cache_bounded(void **state)
{
	enum { CAP = 64, N = 100000 };
	struct pg_cgroup_cache *c = pg_cgroup_cache__new(CAP);
	struct pg_cgroup_cache_stats st;
	char path[32];

	for (uint64_t id = 1; id <= N; id++) {
		snprintf(path, sizeof(path), "/c/%llu", (unsigned long long)id);
		assert_non_null(pg_cgroup_cache__put(c, id * 4096, path, NULL, 0));
		if (id % 3 == 0) /* keep an old one hot: it must survive */
			assert_non_null(pg_cgroup_cache__get(c, 4096));
	}
	pg_cgroup_cache__stats(c, &st);
	assert_int_equal(st.entries, CAP);
	assert_int_equal(st.evictions, N - CAP);
	assert_non_null(pg_cgroup_cache__get(c, 4096));
	for (uint64_t id = N - CAP + 2; id <= N; id++) {
		const struct pg_cgroup_info *ci = pg_cgroup_cache__get(c, id * 4096);

		assert_non_null(ci);
		snprintf(path, sizeof(path), "/c/%llu", (unsigned long long)id);
		assert_string_equal(ci->path, path);
	}
	assert_null(pg_cgroup_cache__get(c, (N - CAP - 5) * 4096));
	pg_cgroup_cache__free(c);
}

static uint64_t ino_of(const char *p)
{
	struct stat sb;

	assert_int_equal(stat(p, &sb), 0);
	return sb.st_ino;
}

/* The walk over a real tree: a temporary directory laid out like a cgroup hierarchy. */
static void test_resolver_walk(void **state)
{
	char root[] = "/tmp/pg-cgroup-XXXXXX", p[512], out[PG_CGROUP_PATH_MAX];
	const char *dirs[] = {
		"/kubepods", "/kubepods/burstable", "/kubepods/burstable/pod" UID,
		"/kubepods/burstable/pod" UID "/" CID, "/system.slice",
	};
	struct pg_cgroup_resolver *r;
	uint64_t leaf;

	assert_non_null(mkdtemp(root));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/kubepods/burstable/pod" UID "/" CID, root);
	leaf = ino_of(p);
	r = pg_cgroup_resolver__new(root, false);
	assert_non_null(r);
	assert_int_equal(pg_cgroup_resolver__path(r, leaf, out, sizeof(out)), 0);
	assert_string_equal(out, "/kubepods/burstable/pod" UID "/" CID);
	assert_int_equal(pg_cgroup_resolver__path(r, ino_of(root), out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	snprintf(p, sizeof(p), "%s/system.slice", root);
	assert_int_equal(pg_cgroup_resolver__path(r, ino_of(p), out, sizeof(out)), 0);
	assert_string_equal(out, "/system.slice");
	assert_int_equal(pg_cgroup_resolver__path(r, 1ULL << 62, out, sizeof(out)), -ENOENT);
	assert_int_equal(pg_cgroup_resolver__path(r, leaf, out, 20), -ENOENT); /* cannot name it */

	/* the stage on top: a recorded event whose cgroup id is the leaf */
	struct pg_enrich_opts eo = { .node = "node-7", .cgroups = true, .cgroup_mount = root,
				     .no_handles = true, .cache_entries = 2 };
	char err[256];
	struct pg_stage *st = pg_stage_enrich__new(&eo, err, sizeof(err));
	struct pg_event ev;
	struct pg_enrich_stats es;

	assert_non_null(st);
	pg_event_init(&ev, PG_EV_FORK);
	ev.r.hdr.cgroup_id = leaf;
	assert_int_equal(pg_stage__process(st, NULL, &ev), PG_PASS);
	assert_string_equal(ev.meta.node, "node-7");
	assert_string_equal(ev.meta.pod_uid, UID);
	assert_string_equal(ev.meta.container_id, CID);
	assert_string_equal(ev.meta.cgroup, "/kubepods/burstable/pod" UID "/" CID);
	/* the second time from the cache */
	pg_event_init(&ev, PG_EV_FORK);
	ev.r.hdr.cgroup_id = leaf;
	assert_int_equal(pg_stage__process(st, NULL, &ev), PG_PASS);
	assert_string_equal(ev.meta.pod_uid, UID);
	/* an unknown id: node only, counted */
	pg_event_init(&ev, PG_EV_FORK);
	ev.r.hdr.cgroup_id = 1ULL << 62;
	assert_int_equal(pg_stage__process(st, NULL, &ev), PG_PASS);
	assert_null(ev.meta.pod_uid);
	assert_null(ev.meta.cgroup);
	assert_string_equal(ev.meta.node, "node-7");
	/* metadata a recording brought along is kept */
	pg_event_init(&ev, PG_EV_FORK);
	ev.r.hdr.cgroup_id = leaf;
	ev.meta.node = "elsewhere";
	ev.meta.cgroup = "/recorded";
	assert_int_equal(pg_stage__process(st, NULL, &ev), PG_PASS);
	assert_string_equal(ev.meta.node, "elsewhere");
	assert_null(ev.meta.pod_uid);
	pg_stage_enrich__stats(st, &es);
	assert_int_equal(es.resolved, 2);
	assert_int_equal(es.unresolved, 1);
	assert_int_equal(es.cache.hits, 1);
	assert_int_equal(es.cache.entries, 2);
	pg_stage__free(st);
	pg_cgroup_resolver__free(r);

	for (size_t i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		assert_int_equal(rmdir(p), 0);
	}
	assert_int_equal(rmdir(root), 0);
}

static void test_node_name(void **state)
{
	struct pg_enrich_opts eo = { 0 };
	char err[256];
	struct pg_stage *st;

	setenv("NODE_NAME", "from-env", 1);
	st = pg_stage_enrich__new(&eo, err, sizeof(err));
	assert_non_null(st);
	assert_string_equal(pg_stage_enrich__node(st), "from-env");
	pg_stage__free(st);

	eo.node = "from-flag";
	st = pg_stage_enrich__new(&eo, err, sizeof(err));
	assert_string_equal(pg_stage_enrich__node(st), "from-flag");
	pg_stage__free(st);

	unsetenv("NODE_NAME");
	eo.node = NULL;
	st = pg_stage_enrich__new(&eo, err, sizeof(err));
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	assert_string_equal(pg_stage_enrich__node(st), host);
	pg_stage__free(st);

	eo.node = "has space";
	assert_null(pg_stage_enrich__new(&eo, err, sizeof(err)));
	assert_non_null(strstr(err, "--node"));
	eo.node = "caf\xc3\xa9";
	assert_null(pg_stage_enrich__new(&eo, err, sizeof(err)));

	eo.node = "n";
	eo.cgroups = true;
	eo.cgroup_mount = "/nonexistent/cgroup";
	assert_null(pg_stage_enrich__new(&eo, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/cgroup"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_mountinfo_malformed),
		cmocka_unit_test(test_this_machine),
		cmocka_unit_test(test_cache_lru),
		cmocka_unit_test(test_cache_bounded),
		cmocka_unit_test(test_resolver_walk),
		cmocka_unit_test(test_node_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
