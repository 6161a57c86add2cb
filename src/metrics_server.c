// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The --metrics HTTP endpoint (libmicrohttpd): /metrics, /healthz, /readyz. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "caps.h"
#include "metrics_server.h"

#define CONNECTION_LIMIT 16 /* probes and scrapes: a handful at a time */
#define CONNECTION_TIMEOUT_S 10

struct pg_metrics_server {
	struct MHD_Daemon *mhd;
	int fd;
	int port;
	pthread_t thread; /* ours, running MHD's loop: it holds no capability */
	bool thread_started;
	int wake; /* eventfd: tells the thread to stop */
	atomic_bool wanted; /* a scrape waits for a collection */
	atomic_llong last_beat_ns; /* CLOCK_MONOTONIC of the event loop's last round */
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t published;
	unsigned long long generation; /* collections published so far */
	char *text;
	size_t len, cap;
	bool ready;
	char why[256]; /* not ready: the reason */
	struct pg_buf render; /* the owner's: rendering happens outside the lock */
	uint64_t collections; /* the owner's: collections made for scrapes */
	double collect_s; /* the owner's: the time they took */
};

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --- the address ------------------------------------------------------------------------- */

static int parse_port(const char *p, in_port_t *port, char *err, size_t errlen, const char *s)
{
	unsigned long v = 0;

	if (!*p) {
		snprintf(err, errlen, "'%s': no port after the colon (e.g. 127.0.0.1:9464)", s);
		return -EINVAL;
	}
	for (const char *c = p; *c; c++) {
		if (*c < '0' || *c > '9' || v > 65535) {
			v = 65536;
			break;
		}
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > 65535 || strlen(p) > 5) {
		snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", s);
		return -EINVAL;
	}
	*port = htons((in_port_t)v);
	return 0;
}

int pg_listen_addr_parse(const char *s, struct sockaddr_storage *out, socklen_t *len, char *err,
			 size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port;
	size_t hlen;
	in_port_t nport;

	memset(out, 0, sizeof(*out));
	if (!s || !*s) {
		snprintf(err, errlen, "'': an empty address: give HOST:PORT, e.g. 127.0.0.1:9464");
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		if (!close) {
			snprintf(err, errlen, "'%s': no ']' after the IPv6 address (e.g. [::1]:9464)",
				 s);
			return -EINVAL;
		}
		if (close[1] != ':') {
			snprintf(err, errlen,
				 "'%s': expected a colon and a port after ']' (e.g. [::1]:9464)", s);
			return -EINVAL;
		}
		hlen = (size_t)(close - s - 1);
		if (hlen >= sizeof(host)) {
			snprintf(err, errlen, "'%s': not an IPv6 address", s);
			return -EINVAL;
		}
		memcpy(host, s + 1, hlen);
		host[hlen] = 0;
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not a numeric IPv6 address", s, host);
			return -EINVAL;
		}
		if (parse_port(close + 2, &nport, err, errlen, s))
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = nport;
		*len = sizeof(*a);
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon) {
		snprintf(err, errlen,
			 "'%s': expected HOST:PORT (e.g. 127.0.0.1:9464, or :9464 for every address)",
			 s);
		return -EINVAL;
	}
	if (strchr(s, ':') != colon) {
		snprintf(err, errlen, "'%s': an IPv6 address goes in brackets (e.g. [::1]:9464)",
			 s);
		return -EINVAL;
	}
	port = colon + 1;
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "'%s': '%.*s' is not a numeric IPv4 address", s, (int)hlen,
			 s);
		return -EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = 0;
	{
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		if (!hlen)
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (!strcmp(host, "localhost"))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
			snprintf(err, errlen,
				 "'%s': '%s' is not a numeric IPv4 address (a listen address is not "
				 "looked up: give 127.0.0.1, [::1], or nothing before the colon for "
				 "every address)",
				 s, host);
			return -EINVAL;
		}
		if (parse_port(port, &nport, err, errlen, s))
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = nport;
		*len = sizeof(*a);
	}
	return 0;
}

/* --- serving ------------------------------------------------------------------------------ */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int status, const char *type,
			       const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define TEXT "text/plain; charset=utf-8"

static enum MHD_Result serve_metrics(struct pg_metrics_server *srv, struct MHD_Connection *c)
{
	struct timespec deadline;
	unsigned long long gen;
	enum MHD_Result ret;
	char *copy = NULL;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += (PG_METRICS_FRESH_MS % 1000) * 1000000L;
	deadline.tv_sec += PG_METRICS_FRESH_MS / 1000 + deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&srv->lock);
	gen = srv->generation;
	atomic_store(&srv->wanted, true);
	while (srv->generation == gen)
		if (pthread_cond_timedwait(&srv->published, &srv->lock, &deadline) == ETIMEDOUT)
			break; /* the event loop is busy: its last collection will do */
	if (srv->text && (copy = malloc(srv->len ? srv->len : 1))) {
		memcpy(copy, srv->text, srv->len);
		len = srv->len;
	}
	pthread_mutex_unlock(&srv->lock);
	if (!copy) {
		static const char msg[] = "no counters collected yet: try again\n";

		return respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, msg, sizeof(msg) - 1);
	}
	ret = respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", copy, len);
	free(copy);
	return ret;
}

static enum MHD_Result serve_healthz(struct pg_metrics_server *srv, struct MHD_Connection *c)
{
	long long idle = mono_ns() - atomic_load(&srv->last_beat_ns);
	char msg[128];

	if (idle < PG_METRICS_STALL_S * 1000000000LL)
		return respond(c, MHD_HTTP_OK, TEXT, "ok\n", 3);
	snprintf(msg, sizeof(msg), "the event loop has not run for %.0f s\n", (double)idle / 1e9);
	return respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, msg, strlen(msg));
}

static enum MHD_Result serve_readyz(struct pg_metrics_server *srv, struct MHD_Connection *c)
{
	char msg[sizeof(srv->why) + 16];
	bool ready;

	pthread_mutex_lock(&srv->lock);
	ready = srv->ready;
	snprintf(msg, sizeof(msg), "%s\n", ready ? "ready" : srv->why);
	pthread_mutex_unlock(&srv->lock);
	return respond(c, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, msg,
		       strlen(msg));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	static const char not_found[] =
		"not found: this endpoint serves /metrics, /healthz, /readyz\n";
	struct pg_metrics_server *srv = cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		static const char msg[] = "only GET and HEAD\n";
		struct MHD_Response *r = MHD_create_response_from_buffer(
			sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strcmp(url, "/metrics"))
		return serve_metrics(srv, c);
	if (!strcmp(url, "/healthz"))
		return serve_healthz(srv, c);
	if (!strcmp(url, "/readyz"))
		return serve_readyz(srv, c);
	return respond(c, MHD_HTTP_NOT_FOUND, TEXT, not_found, sizeof(not_found) - 1);
}

/* Our own socket, so a taken port or a missing address is reported with its errno. */
static int listen_on(const struct sockaddr_storage *sa, socklen_t len, char *err, size_t errlen,
		     const char *addr)
{
	int one = 1, zero = 0;
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::]:PORT takes IPv4 too where the system allows it */
	if (sa->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (const struct sockaddr *)sa, len) || listen(fd, 64))
		goto fail;
	return fd;
fail:
	{
		int e = errno;

		snprintf(err, errlen, "--metrics %s: cannot listen there: %s%s", addr, strerror(e),
			 e == EADDRINUSE ? " (another program has the port: pick another)"
			 : e == EADDRNOTAVAIL ? " (no interface of this host has that address)"
			 : e == EACCES ? " (ports below 1024 need CAP_NET_BIND_SERVICE)" : "");
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
}

/*
 * The server's thread: MHD's event loop run here rather than in a thread MHD starts, so the
 * thread is ours from its first instruction: it drops every capability before it serves.
 */
static void *serve_loop(void *arg)
{
	struct pg_metrics_server *srv = arg;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd p[2] = {
		{ .fd = info ? info->epoll_fd : -1, .events = POLLIN },
		{ .fd = srv->wake, .events = POLLIN },
	};

	pg_caps__drop_thread();
	for (;;) {
		MHD_UNSIGNED_LONG_LONG to;
		int timeout = 1000;

		if (MHD_get_timeout(srv->mhd, &to) == MHD_YES && to < 1000)
			timeout = (int)to;
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		MHD_run(srv->mhd);
	}
	return NULL;
}

struct pg_metrics_server *pg_metrics_server__start(const char *addr, char *err, size_t errlen)
{
	struct pg_metrics_server *srv;
	struct sockaddr_storage sa, bound;
	socklen_t len, blen = sizeof(bound);
	pthread_condattr_t ca;
	sigset_t all, old;
	int fd, e;

	if (pg_listen_addr_parse(addr, &sa, &len, err, errlen)) {
		errno = EINVAL;
		return NULL;
	}
	fd = listen_on(&sa, len, err, errlen, addr);
	if (fd < 0)
		return NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	srv->fd = fd;
	srv->wake = -1;
	if (!getsockname(fd, (struct sockaddr *)&bound, &blen))
		srv->port = ntohs(bound.ss_family == AF_INET6
					  ? ((struct sockaddr_in6 *)&bound)->sin6_port
					  : ((struct sockaddr_in *)&bound)->sin_port);
	snprintf(srv->why, sizeof(srv->why), "starting");
	atomic_store(&srv->last_beat_ns, mono_ns());
	pthread_mutex_init(&srv->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->published, &ca);
	pthread_condattr_destroy(&ca);
	srv->mhd = MHD_start_daemon(
		MHD_USE_EPOLL, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	e = errno;
	if (srv->mhd)
		srv->fd = -1; /* the daemon's now: MHD_stop_daemon closes it */
	else if (fcntl(fd, F_GETFD) < 0)
		srv->fd = -1; /* closed by the failed start already */
	if (srv->mhd && (srv->wake = eventfd(0, EFD_CLOEXEC)) < 0)
		e = errno;
	if (srv->mhd && srv->wake >= 0) {
		/* the thread takes no signals: SIGINT and SIGTERM interrupt the event loop */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		e = pthread_create(&srv->thread, NULL, serve_loop, srv);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		srv->thread_started = !e;
	}
	if (!srv->thread_started) {
		snprintf(err, errlen, "--metrics %s: cannot start the HTTP server: %s", addr,
			 strerror(e ? e : ENOMEM));
		pg_metrics_server__stop(srv);
		errno = e ? e : ENOMEM;
		return NULL;
	}
	return srv;
}

int pg_metrics_server__port(const struct pg_metrics_server *srv)
{
	return srv->port;
}

bool pg_metrics_server__wanted(struct pg_metrics_server *srv)
{
	return atomic_load_explicit(&srv->wanted, memory_order_relaxed);
}

int pg_metrics_server__publish(struct pg_metrics_server *srv, const struct pg_metrics *m)
{
	int rc;

	atomic_store(&srv->wanted, false);
	srv->render.len = 0;
	srv->render.err = 0;
	rc = pg_metrics__prometheus(m, &srv->render);
	if (rc)
		return rc;
	pthread_mutex_lock(&srv->lock);
	if (srv->cap < srv->render.len) {
		char *t = realloc(srv->text, srv->render.len);

		if (!t) {
			pthread_mutex_unlock(&srv->lock);
			return -ENOMEM;
		}
		srv->text = t;
		srv->cap = srv->render.len;
	}
	memcpy(srv->text, srv->render.data, srv->render.len);
	srv->len = srv->render.len;
	srv->generation++;
	pthread_cond_broadcast(&srv->published);
	pthread_mutex_unlock(&srv->lock);
	return 0;
}

static const struct pg_metric_desc collections = {
	.name = "pangolin_metrics_collections_total",
	.help = "Collections of every counter the event loop made for scrapes.",
	.type = PG_METRIC_COUNTER,
};

static const struct pg_metric_desc collect_seconds = {
	.name = "pangolin_metrics_collection_seconds_total",
	.help = "CPU time the event loop spent on them (collecting, rendering, publishing): what "
		"serving metrics costs the event path.",
	.type = PG_METRIC_COUNTER,
};

void pg_metrics_server__metrics(struct pg_metrics_server *srv, struct pg_metrics *m)
{
	pg_metrics__add(m, &collections, (double)srv->collections);
	pg_metrics__add(m, &collect_seconds, srv->collect_s);
}

void pg_metrics_server__count(struct pg_metrics_server *srv, double dt)
{
	srv->collections++;
	srv->collect_s += dt;
}

void pg_metrics_server__beat(struct pg_metrics_server *srv)
{
	atomic_store_explicit(&srv->last_beat_ns, mono_ns(), memory_order_relaxed);
}

void pg_metrics_server__set_ready(struct pg_metrics_server *srv, bool ready, const char *why)
{
	pthread_mutex_lock(&srv->lock);
	srv->ready = ready;
	if (!ready)
		snprintf(srv->why, sizeof(srv->why), "%s", why ? why : "not ready");
	pthread_mutex_unlock(&srv->lock);
}

void pg_metrics_server__stop(struct pg_metrics_server *srv)
{
	if (!srv)
		return;
	if (srv->thread_started) {
		uint64_t one = 1;

		if (write(srv->wake, &one, sizeof(one)) == sizeof(one))
			pthread_join(srv->thread, NULL);
		else
			pthread_cancel(srv->thread); /* cannot wake it: nothing else to do */
	}
	if (srv->wake >= 0)
		close(srv->wake);
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	if (srv->fd >= 0)
		close(srv->fd);
	pthread_cond_destroy(&srv->published);
	pthread_mutex_destroy(&srv->lock);
	free(srv->text);
	pg_buf__free(&srv->render);
	free(srv);
}
