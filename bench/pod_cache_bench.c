// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pod cache at scale: a generated watch stream of N pods (ADDED events shaped like the
 * API server's PartialObjectMetadata: labels, annotations, ownerReferences, managedFields),
 * parsed and put through the mailbox exactly as src/kube_watch.c does, applied as the enrich
 * stage does, then looked up. Prints the resident memory before and after, and the rates.
 *
 *   pod_cache_bench [PODS]      (default 10000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube.h"

static long rss_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = atol(line + strlen(field) + 1);
	if (f)
		fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One watch line for pod i: about 2.5 KB, what a Deployment's pod's metadata weighs. */
static int pod_line(char *buf, size_t len, int i)
{
	int app = i / 10;

	return snprintf(buf, len,
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
		"\"metadata\":{\"name\":\"app-%04d-7f9c6d5b8-%05d\",\"generateName\":\"app-%04d-7f9c6d5b8-\","
		"\"namespace\":\"team-%02d\",\"uid\":\"%08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b\",\"resourceVersion\":\"%d\","
		"\"creationTimestamp\":\"2026-12-01T10:00:00Z\","
		"\"labels\":{\"app.kubernetes.io/name\":\"app-%04d\",\"app.kubernetes.io/instance\":\"app-%04d-prod\","
		"\"app.kubernetes.io/version\":\"1.%d.0\",\"app.kubernetes.io/component\":\"backend\","
		"\"app.kubernetes.io/part-of\":\"shop\",\"app.kubernetes.io/managed-by\":\"helm\",\"team\":\"team-%02d\","
		"\"pod-template-hash\":\"7f9c6d5b8\",\"security.istio.io/tlsMode\":\"istio\"},"
		"\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-12-01T09:59:00Z\","
		"\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"9090\","
		"\"sidecar.istio.io/status\":\"{\\\"initContainers\\\":[\\\"istio-init\\\"],\\\"containers\\\":[\\\"istio-proxy\\\"],"
		"\\\"volumes\\\":[\\\"istio-envoy\\\",\\\"istio-data\\\",\\\"istio-podinfo\\\",\\\"istio-token\\\"]}\"},"
		"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"app-%04d-7f9c6d5b8\","
		"\"uid\":\"5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9\",\"controller\":true,\"blockOwnerDeletion\":true}],"
		"\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
		"\"time\":\"2026-12-01T10:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:generateName\":{},"
		"\"f:labels\":{\".\":{},\"f:app.kubernetes.io/name\":{},\"f:pod-template-hash\":{}},\"f:ownerReferences\":{\".\":{},"
		"\"k:{\\\"uid\\\":\\\"5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9\\\"}\":{}}},\"f:spec\":{\"f:containers\":{"
		"\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},\"f:image\":{},\"f:imagePullPolicy\":{},\"f:name\":{},"
		"\"f:resources\":{},\"f:terminationMessagePath\":{},\"f:terminationMessagePolicy\":{}}},\"f:dnsPolicy\":{},"
		"\"f:enableServiceLinks\":{},\"f:restartPolicy\":{},\"f:schedulerName\":{},\"f:securityContext\":{},"
		"\"f:terminationGracePeriodSeconds\":{}}}},{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
		"\"time\":\"2026-12-01T10:00:05Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{},"
		"\"f:containerStatuses\":{},\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},\"f:startTime\":{}}},"
		"\"subresource\":\"status\"}]}}}",
		app, i, app, app % 50, i, 1000 + i, app, app, app % 7, app % 50, app);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	long rss0 = rss_kb("VmRSS:"), rss1, rss2;
	struct pg_pod_cache *c = pg_pod_cache__new(NULL);
	struct pg_kube_watch_event ev;
	struct pg_pod_cache_stats st;
	char line[8192], err[300], uid[PG_POD_UID_LEN];
	size_t bytes = 0, found = 0;
	double t0, t1, t2;

	t0 = now();
	for (int i = 0; i < n; i++) {
		int len = pod_line(line, sizeof(line), i);

		bytes += (size_t)len + 1;
		if (pg_kube_watch_event_parse(line, (size_t)len, &ev, err, sizeof(err))) {
			fprintf(stderr, "pod %d: %s\n", i, err);
			return 1;
		}
		if (pg_pod_cache__put(c, ev.pod.uid, ev.pod.meta, 1, NULL))
			return 1;
		if (i % 256 == 255) /* the enrich stage drains as events come */
			pg_pod_cache__apply(c, 1);
	}
	pg_pod_cache__apply(c, 1);
	t1 = now();
	rss1 = rss_kb("VmRSS:");
	for (int r = 0; r < 100; r++)
		for (int i = 0; i < n; i++) {
			snprintf(uid, sizeof(uid), "%08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b", i);
			found += pg_pod_cache__lookup(c, uid, 2) != NULL;
		}
	t2 = now();
	rss2 = rss_kb("VmHWM:");
	pg_pod_cache__stats(c, &st);
	printf("pods %d  stream %.1f MB  parse+put %.0f pods/s  lookups %.1f M/s (%zu found)\n", n,
	       (double)bytes / 1e6, n / (t1 - t0), (double)n * 100 / (t2 - t1) / 1e6, found);
	printf("rss before %.1f MB  after %.1f MB  (cache %.1f MB, %.0f bytes/pod)  peak %.1f MB  pods in cache %llu\n",
	       rss0 / 1024.0, rss1 / 1024.0, (rss1 - rss0) / 1024.0,
	       (double)(rss1 - rss0) * 1024 / n, rss2 / 1024.0, (unsigned long long)st.pods);
	pg_pod_cache__free(c);
	return found == (size_t)n * 100 ? 0 : 1;
}
