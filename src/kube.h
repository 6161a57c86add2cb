/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Talking to the Kubernetes API server: where it is and how to authenticate (in-cluster or a
 * kubeconfig), what its pod lists and watch events say, and the watcher thread that keeps a
 * pod cache (pod.h) filled with the pods of this node. docs/kubernetes.md tells the whole
 * story; this header is the contract.
 */
#ifndef PANGOLIN_KUBE_H
#define PANGOLIN_KUBE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enrich.h"
#include "pod.h"

/* --- where the API server is ---------------------------------------------------------------- */

/*
 * Credentials and trust, each either a file or bytes: *_file is a path, *_data the PEM bytes
 * (decoded from a kubeconfig's *-data base64). All strings are owned by the config.
 */
struct pg_kube_config {
	char *server; /* https://HOST:PORT, no trailing slash */
	char *ca_file, *ca_data;
	size_t ca_len;
	char *cert_file, *cert_data;
	size_t cert_len;
	char *key_file, *key_data;
	size_t key_len;
	char *token; /* bearer token, read once (a kubeconfig's token) */
	char *token_file; /* bearer token read before every request (in-cluster: it rotates) */
	bool insecure; /* insecure-skip-tls-verify: the server's certificate is not checked */
	char source[320]; /* "in-cluster" or "kubeconfig FILE (context NAME)", for messages */
};

#define PG_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * In-cluster configuration: KUBERNETES_SERVICE_HOST and _PORT from the environment, token
 * and CA from sa_dir (NULL: PG_KUBE_SA_DIR). 0; -ENOENT when not in a cluster (no
 * KUBERNETES_SERVICE_HOST), with nothing in err; -errno with a message in err otherwise.
 */
int pg_kube_config__in_cluster(struct pg_kube_config *cfg, const char *sa_dir, char *err,
			       size_t errlen);

/*
 * A kubeconfig file's current context (or context, when not NULL): cluster server and CA,
 * user client certificate and key or token. Relative paths are taken relative to the file's
 * directory, as kubectl does. 0, or -errno with a message in err naming the file, the line
 * and what is wrong (exec and auth-provider plugins are refused: pangolin runs no programs).
 */
int pg_kube_config__load(struct pg_kube_config *cfg, const char *path, const char *context,
			 char *err, size_t errlen);
/* The same from bytes in memory (dir: where relative paths point; NULL: the working dir). */
int pg_kube_config__parse(struct pg_kube_config *cfg, const char *text, size_t len,
			  const char *name, const char *dir, const char *context, char *err,
			  size_t errlen);
void pg_kube_config__release(struct pg_kube_config *cfg);

/* Standard base64 (RFC 4648 with padding; whitespace skipped). Decoded length, or -EINVAL. */
long pg_base64_decode(const char *in, size_t len, unsigned char *out, size_t outlen);

/* --- what the API server says --------------------------------------------------------------- */

#define PG_KUBE_RV_LEN 64 /* resourceVersion, NUL included (etcd revisions are decimal) */
#define PG_KUBE_CONTINUE_LEN 4096

/* A pod as the cache wants it. meta is packed (pod.h) and the caller's to free. */
struct pg_kube_pod {
	char uid[PG_POD_UID_LEN];
	char resource_version[PG_KUBE_RV_LEN];
	struct pg_pod_meta *meta;
};

enum pg_kube_watch_type {
	PG_KUBE_ADDED = 1,
	PG_KUBE_MODIFIED,
	PG_KUBE_DELETED,
	PG_KUBE_BOOKMARK, /* only resource_version is set */
	PG_KUBE_ERROR, /* code and message are set (410: the resourceVersion is too old) */
};

struct pg_kube_watch_event {
	enum pg_kube_watch_type type;
	struct pg_kube_pod pod;
	int code;
	char message[256];
};

/*
 * One line of a watch stream ({"type": ..., "object": ...}). Pods may come whole (a Pod) or
 * as metadata only (a PartialObjectMetadata, what pangolin asks for). 0 with ev filled (free
 * ev->pod.meta); -EINVAL with a message in err for anything else; -ENOMEM.
 *
 * The workload: the pod's controller (the ownerReference with controller: true). A
 * ReplicaSet whose name is "<name>-<the pod's pod-template-hash label>" was made by the
 * Deployment <name> (that is how the Deployment controller names them), and the Deployment
 * is reported; other kinds as they are (Job pods: the Job; kube_watch.c asks the API server
 * whether a CronJob owns it).
 */
int pg_kube_watch_event_parse(const char *line, size_t len, struct pg_kube_watch_event *ev,
			      char *err, size_t errlen);

/*
 * A page of a pod list (PodList or PartialObjectMetadataList): fn is called for each item
 * (it owns pod->meta from then on; a non-zero return stops the walk and is returned); for an
 * item that does not parse, pod is NULL and item_err says why. rv and cont get the list's
 * resourceVersion and continue token ("" when it is the last page). 0, fn's return, -EINVAL
 * with a message in err (the page itself is malformed), -ENOMEM.
 */
int pg_kube_list_parse(const char *body, size_t len,
		       int (*fn)(void *ctx, struct pg_kube_pod *pod, const char *item_err),
		       void *ctx, char *rv,
		       size_t rvlen, char *cont, size_t contlen, char *err, size_t errlen);

/*
 * A Job object (GET .../jobs/NAME): the CronJob that owns it, into name (empty when none).
 * 0 or -EINVAL with a message in err.
 */
int pg_kube_job_owner_parse(const char *body, size_t len, char *name, size_t namelen,
			    char *err, size_t errlen);

/* --- the watcher ---------------------------------------------------------------------------- */

struct pg_kube_watch;

struct pg_kube_watch_opts {
	const struct pg_kube_config *cfg; /* copied */
	const char *node; /* the node whose pods are watched (spec.nodeName) */
	struct pg_pod_cache *cache; /* fed; must outlive the watcher */
	unsigned int page_size; /* pods per list request; 0: 500 */
	unsigned int backoff_max_ms; /* 0: 30000 */
	bool verbose; /* say every (re)connection on standard error, not only failures */
};

struct pg_kube_watch_stats {
	uint64_t lists; /* full lists done (1 at start-up, then one per 410 Gone) */
	uint64_t watches; /* watch requests made */
	uint64_t errors; /* failed requests: connection, HTTP status, bad body */
	uint64_t gone; /* 410 Gone: the resourceVersion was too old, a new list followed */
	uint64_t events; /* watch events applied */
	uint64_t malformed; /* items or events that did not parse, skipped */
	uint64_t owner_lookups; /* Job owner requests */
	bool synced; /* the first list is in the cache */
};

/*
 * Start the thread: list the node's pods, then watch from the list's resourceVersion;
 * on errors back off (0.5 s doubling to backoff_max_ms) and watch again, and list again on
 * 410 Gone. NULL with a message in err (bad options, no thread).
 */
struct pg_kube_watch *pg_kube_watch__start(const struct pg_kube_watch_opts *o, char *err,
					   size_t errlen);
void pg_kube_watch__stats(struct pg_kube_watch *w, struct pg_kube_watch_stats *st);
/* Stop the thread (an open request is aborted within a second) and free. NULL is a no-op. */
void pg_kube_watch__stop(struct pg_kube_watch *w);

/* --- what a command runs ------------------------------------------------------------------- */

/* The cache and its watcher, for a command that enriches live events (pangolin run). */
struct pg_kube {
	struct pg_kube_config cfg;
	struct pg_pod_cache *cache; /* NULL: no API server configured */
	struct pg_kube_watch *watch;
};

/*
 * Decide where pod metadata comes from: the kubeconfig when given, else in-cluster when
 * KUBERNETES_SERVICE_HOST is set, else nowhere (0 with k->cache NULL: events carry the pod UID
 * only, as without this code). grace_s: how long deleted pods stay (0: the default). 0, or
 * -errno with a message in err.
 */
int pg_kube__open(struct pg_kube *k, const char *kubeconfig, double grace_s, char *err,
		  size_t errlen);
/* Start watching node's pods (after pg_kube__open set up a cache). 0 or -errno with err. */
int pg_kube__start(struct pg_kube *k, const char *node, bool verbose, char *err, size_t errlen);
/*
 * Wait up to timeout_ms for the first list to be in the cache, so the first events already
 * carry names. true when it is; false on timeout (the watcher goes on trying).
 */
bool pg_kube__wait_synced(struct pg_kube *k, unsigned int timeout_ms,
			  const volatile sig_atomic_t *stop);
/* Stop the watcher and free the cache. No stage may use the cache afterwards. */
void pg_kube__close(struct pg_kube *k);

struct pg_metrics;

/* The watch's counters (kube_metrics.c); ctx is the struct pg_kube: a pipeline's
 * more_metrics. Nothing when no watch runs. */
void pg_kube__metrics(void *ctx, struct pg_metrics *m);

#endif /* PANGOLIN_KUBE_H */
