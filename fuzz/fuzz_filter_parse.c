// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the filter language (src/filter.c): --filter comes from users and,
 * through the kernel sensor, decides what is pushed into BPF maps.
 *
 * Any string: either an error with a column inside it (or just past it), formatted with its
 * caret, or a filter that evaluates against one event of every type, whose conjuncts format,
 * and whose format parses back to a filter that formats the same and matches the same. Its
 * split between the kernel and userspace decides what it decides, and the filter rebuilt from
 * its conjuncts is the same filter.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "json.h"
#include "kfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR(type, comm)                                                                       \
	"{\"v\":1,\"type\":\"" type "\",\"ts\":1764084477000000000,\"pid\":4321,\"tid\":4322," \
	"\"ppid\":1,\"uid\":1000,\"gid\":100,\"comm\":\"" comm "\",\"cgroup_id\":4242,\"start_ns\":5"

static const char *const lines[] = {
	HDR("open", "curl") ",\"node\":\"n1\",\"cgroup\":\"/k8s/pod\",\"dirfd\":-100,\"flags\":524288,"
			    "\"mode\":420,\"ret\":3,\"path\":\"/etc/ssl/c\\udcff.crt\",\"io_uring\":true}",
	HDR("exec", "bash") ",\"path\":\"/usr/bin/curl\",\"argv\":[\"curl\",\"-s\",\"\"],\"argv_truncated\":true,\"snapshot\":true,\"exe_unlinked\":true}",
	HDR("fork", "bash") ",\"child_pid\":4400,\"child_start_ns\":9}",
	HDR("exit", "curl") ",\"exit_code\":-1,\"signal\":9,\"lifetime_ns\":2500000000,\"core_dumped\":true}",
	HDR("connect", "curl") ",\"family\":\"inet\",\"daddr\":\"10.1.2.3\",\"dport\":443,\"fd\":5,\"ret\":-115}",
	HDR("connect", "curl") ",\"family\":\"inet6\",\"daddr\":\"2001:db8::1\",\"dport\":80,\"fd\":6,\"ret\":0}",
	HDR("dns", "curl") ",\"family\":\"inet\",\"daddr\":\"127.0.0.53\",\"dport\":53,\"transport\":\"udp\","
			   "\"dns_id\":4660,\"qname\":\"example.com\",\"qtype\":\"AAAA\",\"qclass\":1}",
	HDR("dns", "curl") ",\"family\":1,\"daddr\":\"\",\"dport\":53,\"transport\":\"tcp\",\"malformed\":true}",
	HDR("setid", "sudo") ",\"call\":\"setuid\",\"ret\":0,\"id_real\":0,\"id_effective\":0,\"id_saved\":4294967295}",
	HDR("open", "worker") ",\"exe\":\"/usr/bin/python3\",\"cmdline\":\"python3 -c x\","
			      "\"parent_exe\":\"/bin/sh\",\"parent_cmdline\":\"sh\",\"ancestors\":[\"/bin/sh\","
			      "\"/usr/sbin/sshd\"],\"dirfd\":-100,\"flags\":0,\"mode\":0,\"ret\":3,\"path\":\"/a\"}",
	HDR("connect", "curl") ",\"node\":\"n1\",\"pod_uid\":\"u1\",\"namespace\":\"shop\",\"pod\":\"web-1\","
			       "\"workload_kind\":\"Deployment\",\"workload\":\"web\",\"labels\":{\"app\":\"web\","
			       "\"team\":\"\"},\"family\":\"inet\",\"daddr\":\"10.1.2.3\",\"dport\":443,\"fd\":5,"
			       "\"ret\":0}",
};
#define NEV (sizeof(lines) / sizeof(lines[0]))

struct fixture {
	struct pg_json_decoder dec[NEV];
	struct pg_event ev[NEV];
};

static const struct fixture *fixture(void)
{
	static struct fixture *fx;

	if (!fx) {
		fx = calloc(1, sizeof(*fx));
		for (size_t i = 0; i < NEV; i++) {
			struct pg_json_error err;

			if (pg_json_decode(&fx->dec[i], lines[i], strlen(lines[i]), &fx->ev[i], &err)) {
				fprintf(stderr, "fixture %zu: %s\n", i, err.msg);
				abort();
			}
		}
	}
	return fx;
}

static size_t depth(const struct pg_filter_node *n)
{
	size_t d = 0;

	for (size_t i = 0; i < n->nsub; i++) {
		size_t s = depth(n->sub[i]);

		d = s > d ? s : d;
	}
	return 1 + d;
}

#define FMT_MAX (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fixture *fx = fixture();
	static char *buf, *again; /* allocated once: 1 MiB per run would dominate the run time */
	char *expr = malloc(size + 1);
	struct pg_filter_error err;
	struct pg_filter *f, *g;
	const struct pg_filter_node *conj[8];
	size_t len;

	if (!buf) {
		buf = malloc(FMT_MAX);
		again = malloc(FMT_MAX);
	}
	memcpy(expr, data, size);
	expr[size] = 0;
	len = strlen(expr);
	f = pg_filter__parse(expr, &err);
	if (!f) {
		assert(errno == EINVAL);
		assert(err.msg[0] && memchr(err.msg, 0, sizeof(err.msg)));
		assert(err.column >= 1 && err.column <= len + 1);
		pg_filter_error__format(expr, &err, buf, 4096);
		goto out;
	}
	bool m[NEV];

	for (size_t i = 0; i < NEV; i++)
		m[i] = pg_filter__match(f, &fx->ev[i]);
	size_t nc = pg_filter__conjuncts(f, conj, 8);

	for (size_t i = 0; i < nc && i < 8; i++) {
		pg_filter_node__format(conj[i], buf, 256);
		assert(pg_filter_node__match(conj[i], &fx->ev[0]) ||
		       !pg_filter_node__match(f->root, &fx->ev[0]));
	}
	{
		const struct pg_filter_node **all = calloc(nc + 1, sizeof(*all));
		struct pg_filter *rebuilt;
		struct pg_kfilter kf;

		pg_filter__conjuncts(f, all, nc);
		rebuilt = pg_filter__from_conjuncts(all, nc);
		assert(rebuilt && pg_kfilter__plan(f, &kf) == 0);
		for (size_t i = 0; i < NEV; i++) {
			bool kernel = pg_kfilter__match(&kf, &fx->ev[i]);
			bool user = !kf.residual || pg_filter__match(kf.residual, &fx->ev[i]);

			assert(pg_filter__match(rebuilt, &fx->ev[i]) == m[i]);
			assert((kernel && user) == m[i]);
			assert(kernel == (!kf.kernel || pg_filter__match(kf.kernel, &fx->ev[i])));
		}
		pg_kfilter__release(&kf);
		pg_filter__free(rebuilt);
		free(all);
	}
	if (f->root->op == PG_FOP_TRUE)
		goto out;
	pg_filter_node__format(f->root, buf, FMT_MAX);
	/* the nesting limit applies to what format prints too; skip trees near it */
	if (strlen(buf) >= FMT_MAX - 1 || depth(f->root) > 60)
		goto out;
	g = pg_filter__parse(buf, &err);
	if (!g) {
		fprintf(stderr, "format of '%s' is '%s', which does not parse: column %zu: %s\n", expr,
			buf, err.column, err.msg);
		abort();
	}
	pg_filter_node__format(g->root, again, FMT_MAX);
	if (strcmp(buf, again)) {
		fprintf(stderr, "'%s' formats as '%s', which formats as '%s'\n", expr, buf, again);
		abort();
	}
	for (size_t i = 0; i < NEV; i++)
		assert(pg_filter__match(g, &fx->ev[i]) == m[i]);
	pg_filter__free(g);
out:
	pg_filter__free(f);
	free(expr);
	return 0;
}
