/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Enrichment: who an event belongs to beyond pid and uid. The kernel stamps each event with
 * its task's cgroup v2 id, read from the task (task->cgroups->dfl_cgrp->kn->id, the value
 * bpf_get_current_cgroup_id gives for the current task: the inode number of the cgroup's
 * directory); userspace turns that id into the cgroup path under the cgroup2 mount, and the
 * path into the container id and the Kubernetes pod UID, by the layouts the kubelet creates:
 *
 *   systemd driver   /kubepods.slice/kubepods-burstable.slice/
 *                      kubepods-burstable-pod<UID, '-' written '_'>.slice/
 *                        cri-containerd-<ID>.scope | crio-<ID>.scope | docker-<ID>.scope
 *                    (guaranteed pods sit directly in kubepods.slice: kubepods-pod<UID>.slice)
 *   cgroupfs driver  /kubepods/{burstable,besteffort}/pod<UID>/<ID>, /kubepods/pod<UID>/<ID>
 *   plain Docker     /system.slice/docker-<ID>.scope, /docker/<ID>
 *
 * A prefix before "kubepods" is allowed (kind and other nested set-ups). The node name comes
 * from --node, else NODE_NAME (what a DaemonSet passes from spec.nodeName), else the host name.
 */
#ifndef PANGOLIN_ENRICH_H
#define PANGOLIN_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stage.h"

struct pg_pod_cache;

#define PG_POD_UID_LEN 37 /* canonical UUID, NUL included (static pods: 32 hex digits) */
#define PG_CONTAINER_ID_LEN 65 /* 64 hex digits, NUL included */
#define PG_CGROUP_PATH_MAX 1024 /* longest cgroup path kept, NUL included (NDJSON's limit) */

/* What a cgroup path says; empty strings when it says nothing. */
struct pg_cgroup_ids {
	char pod_uid[PG_POD_UID_LEN]; /* lower case, with dashes */
	char container_id[PG_CONTAINER_ID_LEN]; /* lower case */
	const char *runtime; /* "containerd", "crio", "docker", "podman", or NULL */
};

/*
 * Parse a cgroup path (len bytes, no NUL needed) by the layouts above. Never fails: a path
 * that does not match (or is malformed) leaves ids empty. Returns a bitmask of what was found.
 */
#define PG_CGROUP_HAS_POD (1u << 0)
#define PG_CGROUP_HAS_CONTAINER (1u << 1)
unsigned int pg_cgroup_path_parse(const char *path, size_t len, struct pg_cgroup_ids *ids);

/*
 * Find the cgroup2 mount point in the text of /proc/self/mountinfo (len bytes). Prefers a
 * mount of the hierarchy's root. 0 with the path in out (octal escapes undone); -ENOENT when
 * there is no cgroup2 mount; -ENAMETOOLONG when it does not fit in outlen.
 */
int pg_mountinfo_cgroup2(const char *text, size_t len, char *out, size_t outlen);

/* The same for this process: reads /proc/self/mountinfo. 0 or -errno. */
int pg_cgroup2_mount(char *out, size_t outlen);

/* --- id -> path ----------------------------------------------------------------------------- */

struct pg_cgroup_resolver;

/*
 * Resolves ids under the directory mount (a cgroup2 mount). With use_handles the kernel is
 * asked directly (open_by_handle_at with the id as a kernfs file handle: exact, O(1), needs
 * CAP_DAC_READ_SEARCH); without, or when that is refused, the tree is walked comparing inode
 * numbers. NULL with errno set when mount cannot be opened.
 */
struct pg_cgroup_resolver *pg_cgroup_resolver__new(const char *mount, bool use_handles);
/*
 * The path of cgroup id relative to the mount ("/" for the root), in out. 0; -ENOENT when no
 * cgroup has that id (it was removed, or the id is from another machine); -ENAMETOOLONG;
 * -errno.
 */
int pg_cgroup_resolver__path(struct pg_cgroup_resolver *r, uint64_t id, char *out, size_t outlen);
void pg_cgroup_resolver__free(struct pg_cgroup_resolver *r);

/* --- a bounded cache of resolved ids ---------------------------------------------------------- */

struct pg_cgroup_info {
	uint64_t id;
	char *path; /* relative to the mount; NULL for a negative entry (id not found) */
	uint64_t expires_ns; /* CLOCK_MONOTONIC ns after which the entry is stale; 0: never */
	struct pg_cgroup_ids ids;
};

struct pg_cgroup_cache_stats {
	uint64_t hits, misses, evictions;
	size_t entries, capacity;
};

struct pg_cgroup_cache;

/* At most capacity entries (least recently used evicted first). NULL with errno set. */
struct pg_cgroup_cache *pg_cgroup_cache__new(size_t capacity);
/* The entry for id, made most recently used; NULL when absent. Valid until the next put. */
const struct pg_cgroup_info *pg_cgroup_cache__get(struct pg_cgroup_cache *c, uint64_t id);
/*
 * Insert or replace the entry for id, copying path (NULL: negative entry) and ids (NULL: none).
 * Evicts the least recently used entry when full. The stored entry, or NULL on ENOMEM.
 */
const struct pg_cgroup_info *pg_cgroup_cache__put(struct pg_cgroup_cache *c, uint64_t id,
						  const char *path, const struct pg_cgroup_ids *ids,
						  uint64_t expires_ns);
void pg_cgroup_cache__stats(const struct pg_cgroup_cache *c, struct pg_cgroup_cache_stats *st);
void pg_cgroup_cache__free(struct pg_cgroup_cache *c);

/* --- the stage ------------------------------------------------------------------------------ */

struct pg_enrich_opts {
	const char *node; /* NULL: $NODE_NAME, else the host name */
	bool cgroups; /* resolve cgroup ids on this host (live events, or a recording made here) */
	const char *cgroup_mount; /* NULL: found in /proc/self/mountinfo */
	size_t cache_entries; /* 0: PG_ENRICH_CACHE_DEFAULT */
	bool no_handles; /* never use open_by_handle_at (tests of the walk) */
	uint64_t negative_ttl_ns; /* how long "no such cgroup" is remembered; 0: 5 s */
	/* pod names, labels and workload by pod UID (pod.h); NULL: none. Not owned: it must
	 * outlive the stage. The stage is the cache's reader. */
	struct pg_pod_cache *pods;
};

#define PG_ENRICH_CACHE_DEFAULT 4096

struct pg_enrich_stats {
	uint64_t resolved; /* events given a cgroup path */
	uint64_t unresolved; /* events whose cgroup id matched no cgroup */
	struct pg_cgroup_cache_stats cache;
};

/*
 * Fills ev->meta where it is empty: node always, cgroup/container_id/pod_uid from the
 * cgroup id when opts->cgroups, pod (namespace, name, labels, workload) from opts->pods by the
 * pod UID. Metadata already present (a replayed recording) is kept.
 * NULL with a message in err (no cgroup2 mount, bad node name) and errno set.
 */
struct pg_stage *pg_stage_enrich__new(const struct pg_enrich_opts *opts, char *err, size_t errlen);
void pg_stage_enrich__stats(const struct pg_stage *st, struct pg_enrich_stats *out);
/* The node name the stage stamps on events. */
const char *pg_stage_enrich__node(const struct pg_stage *st);

#endif /* PANGOLIN_ENRICH_H */
