// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Pod metadata for a command: which API server (kubeconfig, in-cluster or none), cache, watcher. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kube.h"

int pg_kube__open(struct pg_kube *k, const char *kubeconfig, double grace_s, char *err,
		  size_t errlen)
{
	struct pg_pod_cache_opts co = { .grace_ns = (uint64_t)(grace_s * 1e9) };
	int rc;

	memset(k, 0, sizeof(*k));
	if (kubeconfig)
		rc = pg_kube_config__load(&k->cfg, kubeconfig, NULL, err, errlen);
	else
		rc = pg_kube_config__in_cluster(&k->cfg, NULL, err, errlen);
	if (rc == -ENOENT && !kubeconfig)
		return 0; /* not in a cluster and not asked to: as before */
	if (rc)
		return rc;
	k->cache = pg_pod_cache__new(&co);
	if (!k->cache) {
		rc = -errno;
		snprintf(err, errlen, "kubernetes: pod cache: %s", strerror(errno));
		pg_kube_config__release(&k->cfg);
		return rc;
	}
	return 0;
}

int pg_kube__start(struct pg_kube *k, const char *node, bool verbose, char *err, size_t errlen)
{
	struct pg_kube_watch_opts wo = {
		.cfg = &k->cfg,
		.node = node,
		.cache = k->cache,
		.verbose = verbose,
	};

	if (!k->cache)
		return 0;
	k->watch = pg_kube_watch__start(&wo, err, errlen);
	return k->watch ? 0 : -errno;
}

bool pg_kube__wait_synced(struct pg_kube *k, unsigned int timeout_ms,
			  const volatile sig_atomic_t *stop)
{
	struct pg_kube_watch_stats st;
	struct timespec nap = { 0, 20 * 1000000L };

	if (!k->watch)
		return false;
	for (unsigned int waited = 0;; waited += 20) {
		pg_kube_watch__stats(k->watch, &st);
		if (st.synced)
			return true;
		if (waited >= timeout_ms || (stop && *stop))
			return false;
		nanosleep(&nap, NULL);
	}
}

void pg_kube__close(struct pg_kube *k)
{
	pg_kube_watch__stop(k->watch);
	pg_pod_cache__free(k->cache);
	pg_kube_config__release(&k->cfg);
	memset(k, 0, sizeof(*k));
}
