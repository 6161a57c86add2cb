// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The --metrics endpoint: listen addresses (good and malformed), and a real server on
 * loopback asked over a real socket: /metrics waits for the owner's collection, /readyz
 * follows the owner, unknown paths and methods are refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics_server.h"

static void good(const char *s, int family, const char *host, int port)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char err[256] = "", text[INET6_ADDRSTRLEN];
	const void *addr;

	if (pg_listen_addr_parse(s, &sa, &len, err, sizeof(err)))
		fail_msg("'%s' refused: %s", s, err);
	assert_int_equal(sa.ss_family, family);
	if (family == AF_INET) {
		addr = &((struct sockaddr_in *)&sa)->sin_addr;
		assert_int_equal(ntohs(((struct sockaddr_in *)&sa)->sin_port), port);
		assert_int_equal(len, sizeof(struct sockaddr_in));
	} else {
		addr = &((struct sockaddr_in6 *)&sa)->sin6_addr;
		assert_int_equal(ntohs(((struct sockaddr_in6 *)&sa)->sin6_port), port);
		assert_int_equal(len, sizeof(struct sockaddr_in6));
	}
	inet_ntop(family, addr, text, sizeof(text));
	assert_string_equal(text, host);
}

static void bad(const char *s, const char *why)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char err[256] = "";

	if (!pg_listen_addr_parse(s, &sa, &len, err, sizeof(err)))
		fail_msg("'%s' accepted", s);
	if (!strstr(err, why))
		fail_msg("'%s': '%s' does not say '%s'", s, err, why);
}

static void test_listen_addresses(void **state)
{
	good("127.0.0.1:9464", AF_INET, "127.0.0.1", 9464);
	good(":9464", AF_INET, "0.0.0.0", 9464);
	good("localhost:0", AF_INET, "127.0.0.1", 0);
	good("[::1]:65535", AF_INET6, "::1", 65535);
	good("[::]:1", AF_INET6, "::", 1);
	bad("", "an empty address");
	bad(NULL, "an empty address");
	bad("9464", "expected HOST:PORT");
	bad("127.0.0.1", "expected HOST:PORT");
	bad("127.0.0.1:", "no port");
	bad("127.0.0.1:65536", "0 to 65535");
	bad("127.0.0.1:-1", "0 to 65535");
	bad("127.0.0.1:+80", "0 to 65535");
	bad("127.0.0.1: 80", "0 to 65535");
	bad("127.0.0.1:80x", "0 to 65535");
	bad("127.0.0.1:000080", "0 to 65535");
	bad("127.0.0.1:99999999999999999999", "0 to 65535");
	bad("256.0.0.1:80", "not a numeric IPv4 address");
	bad("example.com:80", "not looked up");
	bad("::1:9464", "in brackets");
	bad("[::1]9464", "a colon and a port");
	bad("[::1:9464", "no ']'");
	bad("[127.0.0.1]:80", "not a numeric IPv6 address");
	bad("[fe80::1%eth0]:80", "not a numeric IPv6 address");
	bad("[::1]:", "no port");
}

/* One HTTP/1.0 request over a real socket; the response (status line, headers, body). */
static char *http(int port, const char *method, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[256], *buf = malloc(1 << 16);
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0 && buf);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf + len, (1 << 16) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fd);
	return buf;
}

static const char *body(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	return b ? b + 4 : "";
}

struct scrape {
	int port;
	char *resp;
};

static void *scraper(void *arg)
{
	struct scrape *s = arg;

	s->resp = http(s->port, "GET", "/metrics");
	return NULL;
}

static const struct pg_metric_desc fam = {
	.name = "pg_test_total",
	.help = "A test counter.",
	.type = PG_METRIC_COUNTER,
	.labels = { "k" },
};

static void test_server(void **state)
{
	struct pg_metrics_server *srv;
	struct pg_metrics m;
	struct scrape sc;
	pthread_t th;
	char err[256], *r;
	int waited = 0;

	srv = pg_metrics_server__start("127.0.0.1:0", err, sizeof(err));
	if (!srv)
		fail_msg("%s", err);
	sc.port = pg_metrics_server__port(srv);
	assert_true(sc.port > 0);

	/* nobody collects: after the wait, nothing to serve yet */
	r = http(sc.port, "GET", "/metrics");
	assert_non_null(strstr(r, " 503 "));
	free(r);

	/* a scrape asks; the owner sees it, collects and publishes; the scrape serves that */
	assert_int_equal(pthread_create(&th, NULL, scraper, &sc), 0);
	while (!pg_metrics_server__wanted(srv) && waited++ < 2000)
		usleep(1000);
	assert_true(pg_metrics_server__wanted(srv));
	pg_metrics__init(&m);
	pg_metrics__add(&m, &fam, 42, "a\"b");
	assert_int_equal(pg_metrics_server__publish(srv, &m), 0);
	assert_false(pg_metrics_server__wanted(srv));
	pthread_join(th, NULL);
	assert_non_null(strstr(sc.resp, " 200 "));
	assert_non_null(strstr(sc.resp, "text/plain; version=0.0.4"));
	assert_string_equal(body(sc.resp), "# HELP pg_test_total A test counter.\n"
					    "# TYPE pg_test_total counter\n"
					    "pg_test_total{k=\"a\\\"b\"} 42\n");
	free(sc.resp);

	/* readiness follows the owner, with its reason */
	r = http(sc.port, "GET", "/readyz");
	assert_non_null(strstr(r, " 503 "));
	assert_string_equal(body(r), "starting\n");
	free(r);
	pg_metrics_server__set_ready(srv, true, NULL);
	r = http(sc.port, "GET", "/readyz");
	assert_non_null(strstr(r, " 200 "));
	assert_string_equal(body(r), "ready\n");
	free(r);
	pg_metrics_server__set_ready(srv, false, "output file does not accept events: disk full");
	r = http(sc.port, "GET", "/readyz");
	assert_non_null(strstr(r, " 503 "));
	assert_string_equal(body(r), "output file does not accept events: disk full\n");
	free(r);

	pg_metrics_server__beat(srv);
	r = http(sc.port, "GET", "/healthz");
	assert_non_null(strstr(r, " 200 "));
	free(r);
	r = http(sc.port, "HEAD", "/healthz");
	assert_non_null(strstr(r, " 200 "));
	assert_string_equal(body(r), "");
	free(r);
	r = http(sc.port, "GET", "/nothing");
	assert_non_null(strstr(r, " 404 "));
	free(r);
	r = http(sc.port, "POST", "/metrics");
	assert_non_null(strstr(r, " 405 "));
	assert_non_null(strstr(r, "Allow: GET, HEAD"));
	free(r);
	pg_metrics__release(&m);
	pg_metrics_server__stop(srv);
	pg_metrics_server__stop(NULL);
}

/* A port already taken is said so, with what to do. */
static void test_port_taken(void **state)
{
	struct pg_metrics_server *a, *b;
	char err[256], addr[64];

	a = pg_metrics_server__start("127.0.0.1:0", err, sizeof(err));
	assert_non_null(a);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", pg_metrics_server__port(a));
	b = pg_metrics_server__start(addr, err, sizeof(err));
	assert_null(b);
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(err, "another program has the port"));
	pg_metrics_server__stop(a);
	b = pg_metrics_server__start("192.0.2.1:9464", err, sizeof(err)); /* TEST-NET-1 */
	assert_null(b);
	assert_non_null(strstr(err, "no interface of this host has that address"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_addresses),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_port_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
