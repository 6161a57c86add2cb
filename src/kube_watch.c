// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pod watcher: one thread that keeps the pod cache (pod.h) in step with the API server's
 * view of this node's pods, with libcurl.
 *
 *   list   GET /api/v1/pods?fieldSelector=spec.nodeName=NODE&limit=N (pages: continue=...)
 *          every pod is put with a new generation; then a resync drops those not listed
 *   watch  GET ...&watch=1&resourceVersion=RV&allowWatchBookmarks=true&timeoutSeconds=300
 *          one JSON event per line; RV follows every event and bookmark
 *
 * Both ask for PartialObjectMetadata (metadata only: no spec, no status; a fraction of a
 * Pod's bytes) and take a full Pod when the server cannot (the Accept header lists both).
 * A broken connection or a restarted API server means: back off, watch again from the last RV.
 * 410 Gone (the RV fell out of etcd's history) means: list again. Nothing here waits for the
 * event path, and the event path never waits for this (pod.h).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "caps.h"
#include "kube.h"

#define LIST_BODY_MAX (256u << 20) /* one page of 500 pods is a few MB at most */
#define WATCH_LINE_MAX (16u << 20) /* etcd refuses objects above 1.5 MB */
#define WATCH_TIMEOUT_S 300 /* the server ends a watch after this; we then watch again */
#define JOB_CACHE_MAX 1024 /* Job -> CronJob answers kept (cleared when full) */

#ifndef PG_VERSION
#define PG_VERSION "dev"
#endif

struct job_owner {
	char *key; /* "namespace/job" */
	char *cronjob; /* "" when no CronJob owns it */
};

struct pg_kube_watch {
	struct pg_kube_config cfg;
	char node[PG_POD_NAME_MAX + 1];
	struct pg_pod_cache *cache;
	unsigned int page_size, backoff_max_ms;
	bool verbose;

	pthread_t thread;
	bool started;
	volatile bool stop;
	pthread_mutex_t mu; /* stop's wake-up and the stats */
	pthread_cond_t cv;
	struct pg_kube_watch_stats st;

	CURL *http; /* list and watch */
	CURL *lookup; /* Job owners, asked in the middle of a watch */
	char rv[PG_KUBE_RV_LEN];
	uint64_t gen;

	/* the response being read */
	char *buf;
	size_t len, cap, max;
	bool watching, gone, failed;
	char why[300];

	struct job_owner jobs[JOB_CACHE_MAX];
	size_t njobs;
};

static void stat_add(struct pg_kube_watch *w, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&w->mu);
	*field += n;
	pthread_mutex_unlock(&w->mu);
}

__attribute__((format(printf, 2, 3))) static void say(struct pg_kube_watch *w, const char *fmt,
						      ...)
{
	va_list ap;

	(void)w;
	fputs("pangolin: kubernetes: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Sleep up to ms, waking at once on stop. */
static void nap(struct pg_kube_watch *w, unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&w->mu);
}

/* --- HTTP ------------------------------------------------------------------------------------ */

static int progress_cb(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const struct pg_kube_watch *w = ctx;

	return w->stop; /* non-zero aborts the transfer: how stop reaches a quiet watch */
}

static size_t body_cb(char *data, size_t size, size_t nmemb, void *ctx);

/* The bearer token: the config's, or the file's as it is now (service account tokens rotate). */
static int token_header(struct pg_kube_watch *w, char *hdr, size_t hdrlen)
{
	const char *t = w->cfg.token;
	char tok[8192];
	size_t n = 0;

	hdr[0] = 0;
	if (w->cfg.token_file) {
		FILE *f = fopen(w->cfg.token_file, "re");

		if (!f) {
			snprintf(w->why, sizeof(w->why), "cannot read the token %s: %s",
				 w->cfg.token_file, strerror(errno));
			return -errno;
		}
		n = fread(tok, 1, sizeof(tok) - 1, f);
		fclose(f);
		while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
			n--;
		tok[n] = 0;
		t = tok;
	}
	if (t && *t)
		snprintf(hdr, hdrlen, "Authorization: Bearer %s", t);
	return 0;
}

static void blob(CURL *h, CURLoption opt, const char *data, size_t len)
{
	struct curl_blob b = { .data = (void *)data, .len = len, .flags = CURL_BLOB_COPY };

	curl_easy_setopt(h, opt, &b);
}

/*
 * GET path (below the server URL) with the credentials of the config. The body goes to
 * body_cb (watch lines or a growing buffer, by w->watching). The HTTP status in *status.
 * 0, or -EIO with the reason in w->why.
 */
static int get(struct pg_kube_watch *w, CURL *h, const char *path, const char *accept,
	       long timeout_s, long *status)
{
	struct curl_slist *hdrs = NULL;
	char url[4096 + 512], auth[8300], acc[300];
	CURLcode cc;
	int rc = 0;

	*status = 0;
	if (token_header(w, auth, sizeof(auth)))
		return -EIO;
	snprintf(url, sizeof(url), "%s%s", w->cfg.server, path);
	snprintf(acc, sizeof(acc), "Accept: %s", accept);
	hdrs = curl_slist_append(hdrs, acc);
	if (auth[0])
		hdrs = curl_slist_append(hdrs, auth);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pangolin/" PG_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	/* a node that vanished without a FIN is found by keepalive, not by the watch timeout */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	if (w->cfg.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, w->cfg.ca_file);
	else if (w->cfg.ca_data)
		blob(h, CURLOPT_CAINFO_BLOB, w->cfg.ca_data, w->cfg.ca_len);
	if (w->cfg.cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, w->cfg.cert_file);
	else if (w->cfg.cert_data)
		blob(h, CURLOPT_SSLCERT_BLOB, w->cfg.cert_data, w->cfg.cert_len);
	if (w->cfg.key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, w->cfg.key_file);
	else if (w->cfg.key_data)
		blob(h, CURLOPT_SSLKEY_BLOB, w->cfg.key_data, w->cfg.key_len);
	if (w->cfg.insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (cc != CURLE_OK && !w->gone) {
		if (!w->why[0])
			snprintf(w->why, sizeof(w->why), "%s", curl_easy_strerror(cc));
		rc = -EIO;
	}
	curl_slist_free_all(hdrs);
	return rc;
}

static void body_reset(struct pg_kube_watch *w, bool watching, size_t max)
{
	w->len = 0;
	if (w->buf)
		w->buf[0] = 0;
	w->watching = watching;
	w->max = max;
	w->why[0] = 0;
}

static int buf_append(struct pg_kube_watch *w, const char *data, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		size_t ncap = w->cap ? w->cap : 65536;
		char *nb;

		while (ncap < w->len + n + 1)
			ncap *= 2;
		if (ncap > w->max + 1)
			ncap = w->max + 1;
		if (w->len + n + 1 > ncap)
			return -EFBIG;
		nb = realloc(w->buf, ncap);
		if (!nb)
			return -ENOMEM;
		w->buf = nb;
		w->cap = ncap;
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	w->buf[w->len] = 0;
	return 0;
}

/* --- Job owners ------------------------------------------------------------------------------ */

static char *escape(CURL *h, const char *s)
{
	return curl_easy_escape(h, s, (int)strlen(s));
}

/*
 * The CronJob that owns a Job, asked of the API server once per Job ("" when none, or when the
 * answer could not be had: RBAC without "get jobs" leaves such pods with workload Job).
 */
static const char *cronjob_of(struct pg_kube_watch *w, const char *ns, const char *job)
{
	char key[2 * PG_POD_NAME_MAX + 2], path[1024], err[200], name[PG_POD_NAME_MAX + 1] = "";
	char *ens, *ejob, *saved_buf;
	size_t saved_len, saved_cap, saved_max, i;
	bool saved_watching;
	long status = 0;

	snprintf(key, sizeof(key), "%s/%s", ns, job);
	for (i = 0; i < w->njobs; i++)
		if (!strcmp(w->jobs[i].key, key))
			return w->jobs[i].cronjob;
	if (w->njobs == JOB_CACHE_MAX) {
		for (i = 0; i < w->njobs; i++) {
			free(w->jobs[i].key);
			free(w->jobs[i].cronjob);
		}
		w->njobs = 0;
	}
	ens = escape(w->lookup, ns);
	ejob = escape(w->lookup, job);
	if (!ens || !ejob) {
		curl_free(ens);
		curl_free(ejob);
		return "";
	}
	snprintf(path, sizeof(path), "/apis/batch/v1/namespaces/%s/jobs/%s", ens, ejob);
	curl_free(ens);
	curl_free(ejob);
	/* the lookup has its own body: park the watch's partial line meanwhile */
	saved_buf = w->buf;
	saved_len = w->len;
	saved_cap = w->cap;
	saved_max = w->max;
	saved_watching = w->watching;
	w->buf = NULL;
	w->cap = 0;
	body_reset(w, false, 1u << 20);
	stat_add(w, &w->st.owner_lookups, 1);
	if (!get(w, w->lookup, path, "application/json", 5, &status) && status == 200 &&
	    pg_kube_job_owner_parse(w->buf, w->len, name, sizeof(name), err, sizeof(err)))
		name[0] = 0;
	w->why[0] = 0;
	free(w->buf);
	w->buf = saved_buf;
	w->len = saved_len;
	w->cap = saved_cap;
	w->max = saved_max;
	w->watching = saved_watching;
	w->jobs[w->njobs].key = strdup(key);
	w->jobs[w->njobs].cronjob = strdup(name);
	if (!w->jobs[w->njobs].key || !w->jobs[w->njobs].cronjob) {
		free(w->jobs[w->njobs].key);
		free(w->jobs[w->njobs].cronjob);
		return "";
	}
	return w->jobs[w->njobs++].cronjob;
}

/* Pods of Jobs: report the CronJob when one made the Job. */
static struct pg_pod_meta *with_cronjob(struct pg_kube_watch *w, struct pg_pod_meta *m)
{
	const char *cj;
	struct pg_pod_fields f;
	struct pg_pod_meta *n;

	if (!m->workload_kind || strcmp(m->workload_kind, "Job"))
		return m;
	cj = cronjob_of(w, m->namespace, m->workload);
	if (!*cj)
		return m;
	f = (struct pg_pod_fields){
		.namespace = m->namespace,
		.name = m->name,
		.workload_kind = "CronJob",
		.workload = cj,
		.labels = m->labels,
		.nlabels = m->nlabels,
		.labels_truncated = m->labels_truncated,
	};
	n = pg_pod_meta__pack(&f);
	if (!n)
		return m;
	free(m);
	return n;
}

/* --- list ------------------------------------------------------------------------------------ */

static int put_pod(struct pg_kube_watch *w, struct pg_kube_pod *pod)
{
	int rc;

	pod->meta = with_cronjob(w, pod->meta);
	rc = pg_pod_cache__put(w->cache, pod->uid, pod->meta, w->gen, &w->stop);
	pod->meta = NULL;
	if (rc == -EINVAL) { /* a UID that no cgroup path could hold: nothing would find it */
		stat_add(w, &w->st.malformed, 1);
		return 0;
	}
	return rc;
}

static int list_item(void *ctx, struct pg_kube_pod *pod, const char *item_err)
{
	struct pg_kube_watch *w = ctx;

	if (!pod) {
		stat_add(w, &w->st.malformed, 1);
		say(w, "a pod in the list was skipped: %s", item_err);
		return 0;
	}
	return put_pod(w, pod);
}

static const char *const ACCEPT_LIST =
	"application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
static const char *const ACCEPT_WATCH =
	"application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

/* What the server said when the status is not 200, from the Status body. */
static void status_reason(struct pg_kube_watch *w, long status, const char *what)
{
	const char *hint = status == 401 ? " (the credentials were refused)" :
			   status == 403 ? " (RBAC: the account needs get, list and watch on pods; deploy/kubernetes/rbac.yaml)" :
					   "";
	const char *msg = w->buf ? strstr(w->buf, "\"message\":\"") : NULL;

	snprintf(w->why, sizeof(w->why), "%s: HTTP %ld%s%s%.*s", what, status, hint,
		 msg ? ": " : "", msg ? (int)strcspn(msg + 11, "\"") : 0, msg ? msg + 11 : "");
}

static int list_pods(struct pg_kube_watch *w)
{
	char cont[PG_KUBE_CONTINUE_LEN] = "", path[PG_KUBE_CONTINUE_LEN * 3 + 1024], err[240];
	char *enode = escape(w->http, w->node);
	unsigned int pages = 0;
	int rc = 0;

	if (!enode)
		return -ENOMEM;
	w->gen++;
	do {
		char *econt = escape(w->http, cont);
		long status;

		if (!econt) {
			rc = -ENOMEM;
			break;
		}
		snprintf(path, sizeof(path),
			 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&limit=%u%s%s", enode,
			 w->page_size, cont[0] ? "&continue=" : "", econt);
		curl_free(econt);
		body_reset(w, false, LIST_BODY_MAX);
		rc = get(w, w->http, path, ACCEPT_LIST, 120, &status);
		if (rc)
			break;
		if (status == 410 && cont[0]) {
			/* the continue token expired between pages: start over */
			cont[0] = 0;
			w->gen++;
			continue;
		}
		if (status != 200) {
			status_reason(w, status, "list pods");
			rc = -EIO;
			break;
		}
		rc = pg_kube_list_parse(w->buf ? w->buf : "", w->len, list_item, w, w->rv,
					sizeof(w->rv), cont, sizeof(cont), err, sizeof(err));
		if (rc) {
			snprintf(w->why, sizeof(w->why), "list pods: %s",
				 rc == -EINVAL ? err : strerror(-rc));
			break;
		}
		pages++;
	} while (cont[0] && !w->stop);
	curl_free(enode);
	if (!rc && !w->stop)
		rc = pg_pod_cache__resync(w->cache, w->gen, &w->stop);
	return rc;
}

/* --- watch ----------------------------------------------------------------------------------- */

/* One line of the watch stream. 0 to go on, -1 to end the watch (410 or an ERROR event). */
static int watch_line(struct pg_kube_watch *w, const char *line, size_t len)
{
	struct pg_kube_watch_event ev;
	char err[300];
	int rc;

	if (!len)
		return 0;
	rc = pg_kube_watch_event_parse(line, len, &ev, err, sizeof(err));
	if (rc) {
		stat_add(w, &w->st.malformed, 1);
		say(w, "a watch event was skipped: %s", rc == -EINVAL ? err : strerror(-rc));
		return 0;
	}
	stat_add(w, &w->st.events, 1);
	switch (ev.type) {
	case PG_KUBE_ERROR:
		if (ev.code == 410) {
			w->gone = true;
		} else {
			snprintf(w->why, sizeof(w->why), "watch: the server sent an error (%d: %s)",
				 ev.code, ev.message);
			w->failed = true;
		}
		return -1;
	case PG_KUBE_BOOKMARK:
		break;
	case PG_KUBE_DELETED:
		free(ev.pod.meta);
		rc = pg_pod_cache__delete(w->cache, ev.pod.uid, &w->stop);
		if (rc == -EINVAL)
			stat_add(w, &w->st.malformed, 1);
		else if (rc)
			return -1;
		break;
	default:
		rc = put_pod(w, &ev.pod);
		if (rc)
			return -1;
		break;
	}
	if (ev.pod.resource_version[0])
		memcpy(w->rv, ev.pod.resource_version, sizeof(w->rv));
	return 0;
}

static size_t body_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct pg_kube_watch *w = ctx;
	size_t n = size * nmemb, start = 0;
	long status = 0;

	if (!w->watching) {
		if (buf_append(w, data, n)) {
			snprintf(w->why, sizeof(w->why), "the response is larger than %zu MB",
				 w->max >> 20);
			return 0;
		}
		return n;
	}
	curl_easy_getinfo(w->http, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) { /* an error body: keep it for the message */
		if (w->len < 4096)
			buf_append(w, data, n < 4096 ? n : 4096);
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		if (data[i] != '\n')
			continue;
		if (w->len) {
			if (buf_append(w, data + start, i - start))
				goto too_long;
			if (watch_line(w, w->buf, w->len))
				return 0; /* ends the transfer */
			w->len = 0;
		} else if (watch_line(w, data + start, i - start)) {
			return 0;
		}
		start = i + 1;
	}
	if (start < n && buf_append(w, data + start, n - start))
		goto too_long;
	return n;
too_long:
	snprintf(w->why, sizeof(w->why), "a watch event is larger than %u MB", WATCH_LINE_MAX >> 20);
	return 0;
}

enum watch_end { WATCH_DONE, WATCH_GONE, WATCH_ERROR };

static enum watch_end watch_pods(struct pg_kube_watch *w)
{
	char path[1024], *enode = escape(w->http, w->node), *erv = escape(w->http, w->rv);
	long status;
	int rc;

	if (!enode || !erv) {
		curl_free(enode);
		curl_free(erv);
		snprintf(w->why, sizeof(w->why), "out of memory");
		return WATCH_ERROR;
	}
	snprintf(path, sizeof(path),
		 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&watch=1&resourceVersion=%s"
		 "&allowWatchBookmarks=true&timeoutSeconds=%d",
		 enode, erv, WATCH_TIMEOUT_S);
	curl_free(enode);
	curl_free(erv);
	body_reset(w, true, WATCH_LINE_MAX);
	w->gone = w->failed = false;
	stat_add(w, &w->st.watches, 1);
	rc = get(w, w->http, path, ACCEPT_WATCH, WATCH_TIMEOUT_S + 30, &status);
	w->watching = false;
	if (w->gone || status == 410)
		return WATCH_GONE;
	if (rc || w->failed)
		return WATCH_ERROR;
	if (status != 200) {
		status_reason(w, status, "watch pods");
		return WATCH_ERROR;
	}
	return WATCH_DONE; /* the server's timeout ended it: watch again */
}

/* --- the thread ------------------------------------------------------------------------------ */

static void *watch_main(void *arg)
{
	struct pg_kube_watch *w = arg;
	unsigned int backoff = 0;
	bool need_list = true, failing = false;

	/* it talks HTTPS and nothing else: no capability (caps.h); libcurl's resolver threads
	 * start from here and hold none either */
	pg_caps__drop_thread();
	while (!w->stop) {
		bool ok;

		if (need_list) {
			int rc = list_pods(w);

			if (w->stop)
				break;
			pthread_mutex_lock(&w->mu);
			w->st.lists += !rc;
			w->st.errors += !!rc;
			if (!rc)
				w->st.synced = true;
			pthread_mutex_unlock(&w->mu);
			ok = !rc;
			if (ok) {
				need_list = false;
				if (failing || w->verbose)
					say(w, "listed the pods of node %s from %s (resourceVersion %s)",
					    w->node, w->cfg.server, w->rv);
			}
		} else {
			enum watch_end end = watch_pods(w);

			if (w->stop)
				break;
			if (end == WATCH_GONE) {
				stat_add(w, &w->st.gone, 1);
				if (w->verbose)
					say(w, "resourceVersion %s is too old (410 Gone): listing again",
					    w->rv);
				need_list = true;
				continue;
			}
			ok = end == WATCH_DONE;
			if (!ok)
				stat_add(w, &w->st.errors, 1);
		}
		if (ok) {
			backoff = 0;
			failing = false;
			continue;
		}
		backoff = backoff ? backoff * 2 : 500;
		if (backoff > w->backoff_max_ms)
			backoff = w->backoff_max_ms;
		say(w, "%s; trying again in %.1f s", w->why[0] ? w->why : "request failed",
		    backoff / 1000.0);
		failing = true;
		nap(w, backoff);
	}
	return NULL;
}

static int copy_cfg(struct pg_kube_config *d, const struct pg_kube_config *s)
{
	memset(d, 0, sizeof(*d));
#define DUP(f)                                   \
	do {                                     \
		if (s->f && !(d->f = strdup(s->f))) \
			goto nomem;              \
	} while (0)
#define DUPN(f, n)                                   \
	do {                                         \
		if (s->f) {                          \
			d->f = malloc(s->n + 1);     \
			if (!d->f)                   \
				goto nomem;          \
			memcpy(d->f, s->f, s->n + 1); \
			d->n = s->n;                 \
		}                                    \
	} while (0)
	DUP(server);
	DUP(ca_file);
	DUP(cert_file);
	DUP(key_file);
	DUP(token);
	DUP(token_file);
	DUPN(ca_data, ca_len);
	DUPN(cert_data, cert_len);
	DUPN(key_data, key_len);
#undef DUP
#undef DUPN
	d->insecure = s->insecure;
	memcpy(d->source, s->source, sizeof(d->source));
	return 0;
nomem:
	pg_kube_config__release(d);
	return -ENOMEM;
}

static void watch_free(struct pg_kube_watch *w)
{
	if (w->http)
		curl_easy_cleanup(w->http);
	if (w->lookup)
		curl_easy_cleanup(w->lookup);
	for (size_t i = 0; i < w->njobs; i++) {
		free(w->jobs[i].key);
		free(w->jobs[i].cronjob);
	}
	pg_kube_config__release(&w->cfg);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->buf);
	free(w);
}

struct pg_kube_watch *pg_kube_watch__start(const struct pg_kube_watch_opts *o, char *err,
					   size_t errlen)
{
	struct pg_kube_watch *w;
	int rc;

	if (!o->cfg || !o->cfg->server || !o->node || !*o->node || !o->cache ||
	    strlen(o->node) > PG_POD_NAME_MAX) {
		snprintf(err, errlen, "kubernetes: no server, node or cache");
		errno = EINVAL;
		return NULL;
	}
	/* thread-safe since curl 7.84 (Debian 12 has 7.88); reference counted */
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "kubernetes: libcurl failed to initialize");
		errno = ENOMEM;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		curl_global_cleanup();
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	strcpy(w->node, o->node);
	w->cache = o->cache;
	w->page_size = o->page_size ? o->page_size : 500;
	w->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : 30000;
	w->verbose = o->verbose;
	w->http = curl_easy_init();
	w->lookup = curl_easy_init();
	if (!w->http || !w->lookup || copy_cfg(&w->cfg, o->cfg)) {
		snprintf(err, errlen, "kubernetes: out of memory");
		goto err_out;
	}
	rc = pthread_create(&w->thread, NULL, watch_main, w);
	if (rc) {
		snprintf(err, errlen, "kubernetes: cannot start the watch thread: %s", strerror(rc));
		goto err_out;
	}
	w->started = true;
	return w;
err_out:
	watch_free(w);
	curl_global_cleanup();
	errno = ENOMEM;
	return NULL;
}

void pg_kube_watch__stats(struct pg_kube_watch *w, struct pg_kube_watch_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	pthread_mutex_unlock(&w->mu);
}

void pg_kube_watch__stop(struct pg_kube_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);
	watch_free(w);
	curl_global_cleanup();
}
