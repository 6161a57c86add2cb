// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pod metadata without an API server: packing and its bounds, the pod cache (mailbox, grace
 * period, resync), what the API server's JSON says (watch events, list pages, a Job's owner),
 * kubeconfig files, base64, and the new fields through NDJSON and protobuf. The real API
 * server is in tests/integration/test_kubernetes.py.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "kube.h"
#include "pod.h"
#include "proto.h"

#define UID1 "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define UID2 "11111111-2222-3333-4444-555555555555"
#define S 1000000000ULL

static struct pg_pod_meta *mk(const char *ns, const char *name)
{
	struct pg_label l[] = { { "app", "web" } };
	struct pg_pod_fields f = { .namespace = ns, .name = name, .labels = l, .nlabels = 1 };
	struct pg_pod_meta *m = pg_pod_meta__pack(&f);

	assert_non_null(m);
	return m;
}

static void test_pack_sorts_and_bounds_labels(void **state)
{
	struct pg_label many[40];
	char keys[40][8];
	struct pg_pod_fields f = { .namespace = "ns", .name = "p", .workload_kind = "Deployment",
				   .workload = "web", .labels = many, .nlabels = 40 };
	struct pg_pod_meta *m, *d;
	char big[3000];

	for (int i = 0; i < 40; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%02d", 39 - i); /* reverse order */
		many[i] = (struct pg_label){ keys[i], "v" };
	}
	m = pg_pod_meta__pack(&f);
	assert_non_null(m);
	assert_int_equal(m->nlabels, PG_POD_LABELS_MAX);
	assert_true(m->labels_truncated);
	assert_string_equal(m->labels[0].key, "k00");
	assert_string_equal(m->labels[31].key, "k31");
	assert_string_equal(m->workload_kind, "Deployment");
	d = pg_pod_meta__dup(m);
	assert_true(pg_pod_meta__equal(m, d));
	free(d);
	free(m);

	/* the byte bound: the first labels by key that fit, then nothing more */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	many[0] = (struct pg_label){ "a", big };
	many[1] = (struct pg_label){ "b", big };
	many[2] = (struct pg_label){ "c", "short" };
	f.nlabels = 3;
	m = pg_pod_meta__pack(&f);
	assert_int_equal(m->nlabels, 1);
	assert_true(m->labels_truncated);
	free(m);

	/* within both bounds: nothing said */
	f.nlabels = 1;
	many[0] = (struct pg_label){ "app", "web" };
	m = pg_pod_meta__pack(&f);
	assert_int_equal(m->nlabels, 1);
	assert_false(m->labels_truncated);
	free(m);

	f = (struct pg_pod_fields){ .namespace = "ns" };
	assert_null(pg_pod_meta__pack(&f));
	assert_int_equal(errno, EINVAL);
	f = (struct pg_pod_fields){ .namespace = "ns", .name = "p", .workload = "w" };
	assert_null(pg_pod_meta__pack(&f)); /* workload without its kind */
}

static void test_cache_put_lookup_delete_grace(void **state)
{
	struct pg_pod_cache_opts o = { .grace_ns = 10 * S };
	struct pg_pod_cache *c = pg_pod_cache__new(&o);
	const struct pg_pod_meta *m;
	struct pg_pod_cache_stats st;

	assert_null(pg_pod_cache__lookup(c, UID1, 1 * S));
	assert_int_equal(pg_pod_cache__put(c, UID1, mk("ns", "a"), 1, NULL), 0);
	assert_int_equal(pg_pod_cache__put(c, "not-a-uid", mk("ns", "x"), 1, NULL), -EINVAL);
	m = pg_pod_cache__lookup(c, UID1, 2 * S);
	assert_non_null(m);
	assert_string_equal(m->name, "a");
	/* a replacement (MODIFIED) wins */
	pg_pod_cache__put(c, UID1, mk("ns", "a2"), 1, NULL);
	assert_string_equal(pg_pod_cache__lookup(c, UID1, 3 * S)->name, "a2");
	/* deleted: still there during the grace period, gone after it */
	pg_pod_cache__delete(c, UID1, NULL);
	assert_non_null(pg_pod_cache__lookup(c, UID1, 4 * S));
	assert_non_null(pg_pod_cache__lookup(c, UID1, 13 * S));
	assert_null(pg_pod_cache__lookup(c, UID1, 14 * S));
	pg_pod_cache__stats(c, &st);
	assert_int_equal(st.pods, 0);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.puts, 2);
	assert_int_equal(st.deletes, 1);
	pg_pod_cache__free(c);
}

static void test_cache_revive_and_resync(void **state)
{
	struct pg_pod_cache_opts o = { .grace_ns = 10 * S };
	struct pg_pod_cache *c = pg_pod_cache__new(&o);

	pg_pod_cache__put(c, UID1, mk("ns", "a"), 1, NULL);
	pg_pod_cache__put(c, UID2, mk("ns", "b"), 1, NULL);
	pg_pod_cache__apply(c, 1 * S);
	/* deleted, then put again before its grace ran out (a re-list saw it): it stays */
	pg_pod_cache__delete(c, UID1, NULL);
	pg_pod_cache__apply(c, 2 * S);
	pg_pod_cache__put(c, UID1, mk("ns", "a"), 2, NULL);
	assert_non_null(pg_pod_cache__lookup(c, UID1, 30 * S));
	/* a list of generation 2 that did not have UID2: it is deleted, then expires */
	pg_pod_cache__resync(c, 2, NULL);
	assert_non_null(pg_pod_cache__lookup(c, UID2, 31 * S));
	assert_null(pg_pod_cache__lookup(c, UID2, 42 * S));
	assert_non_null(pg_pod_cache__lookup(c, UID1, 42 * S));
	pg_pod_cache__free(c); /* with entries: no leak under ASan */
}

static void test_cache_many_pods(void **state)
{
	struct pg_pod_cache *c = pg_pod_cache__new(NULL);
	char uid[PG_POD_UID_LEN];

	for (int i = 0; i < 5000; i++) {
		snprintf(uid, sizeof(uid), "%08x-0000-0000-0000-000000000000", i);
		assert_int_equal(pg_pod_cache__put(c, uid, mk("ns", "p"), 1, NULL), 0);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(uid, sizeof(uid), "%08x-0000-0000-0000-000000000000", i);
		assert_non_null(pg_pod_cache__lookup(c, uid, 1));
	}
	snprintf(uid, sizeof(uid), "%08x-0000-0000-0000-000000000000", 5000);
	assert_null(pg_pod_cache__lookup(c, uid, 1));
	pg_pod_cache__free(c);
}

static void test_watch_event_pod(void **state)
{
	const char *line =
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"PartialObjectMetadata\",\"metadata\":{"
		"\"name\":\"web-5d4f8b7c9-x2x4z\",\"namespace\":\"shop\",\"uid\":\"" UID1 "\","
		"\"resourceVersion\":\"4711\",\"labels\":{\"pod-template-hash\":\"5d4f8b7c9\",\"app\":\"web\"},"
		"\"ownerReferences\":[{\"kind\":\"Node\",\"name\":\"n\"},{\"apiVersion\":\"apps/v1\","
		"\"kind\":\"ReplicaSet\",\"name\":\"web-5d4f8b7c9\",\"uid\":\"x\",\"controller\":true}]}}}";
	struct pg_kube_watch_event ev;
	char err[200];

	assert_int_equal(pg_kube_watch_event_parse(line, strlen(line), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PG_KUBE_ADDED);
	assert_string_equal(ev.pod.uid, UID1);
	assert_string_equal(ev.pod.resource_version, "4711");
	assert_string_equal(ev.pod.meta->namespace, "shop");
	assert_string_equal(ev.pod.meta->workload_kind, "Deployment");
	assert_string_equal(ev.pod.meta->workload, "web");
	assert_int_equal(ev.pod.meta->nlabels, 2);
	assert_string_equal(ev.pod.meta->labels[0].key, "app");
	free(ev.pod.meta);
}

static void test_watch_event_owners(void **state)
{
	static const struct {
		const char *owner, *labels, *kind, *name;
	} cases[] = {
		/* the hash does not match the name's suffix: a ReplicaSet of its own */
		{ "{\"kind\":\"ReplicaSet\",\"name\":\"web-abc\",\"controller\":true}",
		  "{\"pod-template-hash\":\"xyz\"}", "ReplicaSet", "web-abc" },
		{ "{\"kind\":\"ReplicaSet\",\"name\":\"web-abc\",\"controller\":true}", "{}",
		  "ReplicaSet", "web-abc" },
		{ "{\"kind\":\"DaemonSet\",\"name\":\"agent\",\"controller\":true}", "{}", "DaemonSet",
		  "agent" },
		{ "{\"kind\":\"Job\",\"name\":\"j\",\"controller\":true}", "{}", "Job", "j" },
		/* an owner that is not the controller does not count */
		{ "{\"kind\":\"StatefulSet\",\"name\":\"db\"}", "{}", NULL, NULL },
	};
	char line[1024], err[200];
	struct pg_kube_watch_event ev;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\","
			 "\"uid\":\"" UID1 "\",\"labels\":%s,\"ownerReferences\":[%s]}}}",
			 cases[i].labels, cases[i].owner);
		assert_int_equal(pg_kube_watch_event_parse(line, strlen(line), &ev, err, sizeof(err)), 0);
		if (cases[i].kind) {
			assert_string_equal(ev.pod.meta->workload_kind, cases[i].kind);
			assert_string_equal(ev.pod.meta->workload, cases[i].name);
		} else {
			assert_null(ev.pod.meta->workload_kind);
		}
		free(ev.pod.meta);
	}
}

static void test_watch_event_others(void **state)
{
	struct pg_kube_watch_event ev;
	char err[200];
	const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"99\"}}}";
	const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":\"too old resource version\"}}";
	/* a static pod's mirror: keyed by the hash its cgroup path carries */
	const char *mirror = "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"etcd-n\",\"namespace\":\"kube-system\",\"uid\":\"" UID2 "\",\"annotations\":{\"kubernetes.io/config.mirror\":\"0123456789abcdef0123456789abcdef\"}}}}";

	assert_int_equal(pg_kube_watch_event_parse(bm, strlen(bm), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PG_KUBE_BOOKMARK);
	assert_string_equal(ev.pod.resource_version, "99");
	assert_int_equal(pg_kube_watch_event_parse(gone, strlen(gone), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PG_KUBE_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.message, "too old resource version");
	assert_int_equal(pg_kube_watch_event_parse(mirror, strlen(mirror), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PG_KUBE_DELETED);
	assert_string_equal(ev.pod.uid, "0123456789abcdef0123456789abcdef");
	free(ev.pod.meta);
}

static void test_watch_event_malformed(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "", "not JSON" },
		{ "[1]", "a watch event is a JSON object" },
		{ "{\"type\":\"ADDED\"}", "has no object" },
		{ "{\"type\":\"EATEN\",\"object\":{}}", "is not ADDED" },
		{ "{\"type\":7,\"object\":{}}", "event.type is not a string" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"}}}", "metadata.uid is missing" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":\"" UID1 "\",\"name\":\"p\"}}}", "metadata.namespace is missing" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":\"" UID1 "\",\"name\":\"p\",\"namespace\":\"n\",\"labels\":[]}}}", "labels is not an object" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":\"" UID1 "\",\"name\":\"p\",\"namespace\":\"n\",\"labels\":{\"a\":1}}}}", "not a string" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":\"" UID1 "\",\"name\":\"p\",\"namespace\":\"n\",\"ownerReferences\":[{\"controller\":true}]}}}", "without kind or name" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":\"" UID1 "\",\"name\":\"\",\"namespace\":\"n\"}}}", "empty name" },
		{ "{\"type\":\"ADDED\",\"type\":\"ADDED\",\"object\":{}}", "not JSON" },
		{ "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}", "no usable resourceVersion" },
		{ "{\"type\":\"ERROR\",\"object\":{\"code\":\"410\"}}", "code is not an integer" },
	};
	struct pg_kube_watch_event ev;
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		assert_int_equal(pg_kube_watch_event_parse(cases[i].line, strlen(cases[i].line), &ev,
							   err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].line, err, cases[i].want);
		assert_null(ev.pod.meta);
	}
}

static int count_item(void *ctx, struct pg_kube_pod *pod, const char *item_err)
{
	int *n = ctx;

	if (!pod) {
		assert_non_null(strstr(item_err, "uid"));
		n[1]++;
		return 0;
	}
	n[0]++;
	free(pod->meta);
	return 0;
}

static void test_list_page(void **state)
{
	const char *page = "{\"kind\":\"PartialObjectMetadataList\",\"metadata\":{\"resourceVersion\":\"12\","
			   "\"continue\":\"tok==\"},\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"" UID1 "\"}},"
			   "{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\"}},"
			   "{\"metadata\":{\"name\":\"c\",\"namespace\":\"n\",\"uid\":\"" UID2 "\"}}]}";
	const char *last = "{\"metadata\":{\"resourceVersion\":\"13\"},\"items\":null}";
	char rv[PG_KUBE_RV_LEN], cont[64], err[200];
	int n[2] = { 0, 0 };

	assert_int_equal(pg_kube_list_parse(page, strlen(page), count_item, n, rv, sizeof(rv), cont,
					    sizeof(cont), err, sizeof(err)),
			 0);
	assert_int_equal(n[0], 2);
	assert_int_equal(n[1], 1); /* the bad item is reported, the others kept */
	assert_string_equal(rv, "12");
	assert_string_equal(cont, "tok==");
	assert_int_equal(pg_kube_list_parse(last, strlen(last), count_item, n, rv, sizeof(rv), cont,
					    sizeof(cont), err, sizeof(err)),
			 0);
	assert_string_equal(cont, "");
	assert_int_equal(pg_kube_list_parse("{\"items\":[]}", 12, count_item, n, rv, sizeof(rv), cont,
					    sizeof(cont), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "metadata"));
}

static void test_job_owner(void **state)
{
	const char *job = "{\"metadata\":{\"name\":\"nightly-1\",\"ownerReferences\":[{\"kind\":\"CronJob\",\"name\":\"nightly\",\"controller\":true}]}}";
	const char *plain = "{\"metadata\":{\"name\":\"j\"}}";
	char name[64], err[200];

	assert_int_equal(pg_kube_job_owner_parse(job, strlen(job), name, sizeof(name), err, sizeof(err)), 0);
	assert_string_equal(name, "nightly");
	assert_int_equal(pg_kube_job_owner_parse(plain, strlen(plain), name, sizeof(name), err, sizeof(err)), 0);
	assert_string_equal(name, "");
	assert_int_equal(pg_kube_job_owner_parse("nope", 4, name, sizeof(name), err, sizeof(err)), -EINVAL);
}

static void test_base64(void **state)
{
	unsigned char out[16];

	assert_int_equal(pg_base64_decode("aGVsbG8=", 8, out, sizeof(out)), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(pg_base64_decode("aGVs\nbG8", 8, out, sizeof(out)), 5);
	assert_int_equal(pg_base64_decode("aGVsbG8=x", 9, out, sizeof(out)), -EINVAL);
	assert_int_equal(pg_base64_decode("a", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(pg_base64_decode("a!==", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(pg_base64_decode("aGVsbG8=", 8, out, 4), -EINVAL); /* no room */
}

static const char KC[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: prod\n"
	"clusters:\n"
	"- name: dev\n"
	"  cluster: {server: 'https://dev:6443'}\n"
	"- name: prod\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: aGVsbG8=\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate: certs/admin.crt\n"
	"    client-key: /abs/admin.key\n"
	"- name: robot\n"
	"  user: {token: abc.def}\n"
	"contexts:\n"
	"- name: prod\n"
	"  context: {cluster: prod, user: admin}\n"
	"- name: ci\n"
	"  context: {cluster: dev, user: robot}\n";

static void test_kubeconfig(void **state)
{
	struct pg_kube_config c;
	char err[400];

	assert_int_equal(pg_kube_config__parse(&c, KC, strlen(KC), "kc", "/etc/kube", NULL, err,
					       sizeof(err)),
			 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_int_equal(c.ca_len, 5);
	assert_memory_equal(c.ca_data, "hello", 5);
	assert_string_equal(c.cert_file, "/etc/kube/certs/admin.crt");
	assert_string_equal(c.key_file, "/abs/admin.key");
	assert_null(c.token);
	pg_kube_config__release(&c);
	assert_int_equal(pg_kube_config__parse(&c, KC, strlen(KC), "kc", NULL, "ci", err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://dev:6443");
	assert_string_equal(c.token, "abc.def");
	assert_null(c.ca_file);
	pg_kube_config__release(&c);
}

static void test_kubeconfig_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "", "empty file" },
		{ "a: [", "not YAML" },
		{ "- a\n", "not a mapping" },
		{ "kind: Config\n", "no current-context" },
		{ "current-context: x\ncontexts: []\n", "no context named \"x\"" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: {}\n", "line 3: clusters is not a list" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: ftp://x}}]\n", "https://" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://x'}}]\nusers: [{name: u, user: {client-certificate: a}}]\n", "needs its key" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://x'}}]\nusers: [{name: u, user: {auth-provider: {name: gcp}}}]\n", "plugin" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://x', certificate-authority: a, certificate-authority-data: aGVsbG8=}}]\n", "keep one" },
		{ "current-context: [x]\n", "current-context is not a string" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://x', insecure-skip-tls-verify: maybe}}]\n", "not true or false" },
	};
	struct pg_kube_config c;
	char err[400];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		assert_int_equal(pg_kube_config__parse(&c, cases[i].text, strlen(cases[i].text),
						       "f.yaml", NULL, NULL, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].want) || strncmp(err, "f.yaml", 6))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].want);
		assert_null(c.server);
	}
}

static void test_in_cluster(void **state)
{
	struct pg_kube_config c;
	char err[400];

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(pg_kube_config__in_cluster(&c, "/nonexistent", err, sizeof(err)), -ENOENT);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(pg_kube_config__in_cluster(&c, "/nonexistent", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/token"));
	assert_int_equal(pg_kube_config__in_cluster(&c, "/proc/self", err, sizeof(err)), -ENOENT);
	setenv("KUBERNETES_SERVICE_HOST", "a/b", 1);
	assert_int_equal(pg_kube_config__in_cluster(&c, "/", err, sizeof(err)), -EINVAL);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

/* The pod fields through NDJSON and protobuf: encode, decode, equal; and the JSON's shape. */
static void test_encoders_round_trip(void **state)
{
	struct pg_label l[] = { { "tier", "gold" }, { "app", "web" } };
	struct pg_pod_fields f = { .namespace = "shop", .name = "web-1", .workload_kind = "Deployment",
				   .workload = "web", .labels = l, .nlabels = 2, .labels_truncated = true };
	struct pg_pod_meta *m = pg_pod_meta__pack(&f);
	struct pg_json_decoder *jd = calloc(1, sizeof(*jd));
	struct pg_proto_decoder *pd = calloc(1, sizeof(*pd));
	struct pg_json_error jerr;
	struct pg_event ev, back;
	struct pg_buf b = { 0 };
	char err[200];

	pg_event_init(&ev, PG_EV_EXIT);
	ev.meta.node = "n";
	ev.meta.pod_uid = UID1;
	ev.meta.pod = m;
	pg_json_encode(&ev, &b);
	pg_buf__putc(&b, 0);
	assert_non_null(strstr(b.data, ",\"pod_uid\":\"" UID1 "\",\"namespace\":\"shop\",\"pod\":\"web-1\","
				   "\"workload_kind\":\"Deployment\",\"workload\":\"web\","
				   "\"labels\":{\"app\":\"web\",\"tier\":\"gold\"},\"labels_truncated\":true,"));
	assert_int_equal(pg_json_decode(jd, b.data, b.len - 1, &back, &jerr), 0);
	assert_true(pg_pod_meta__equal(m, back.meta.pod));

	b.len = 0;
	pg_proto_encode(&ev, &b);
	assert_int_equal(pg_proto_decode(pd, b.data, b.len, &back, err, sizeof(err)), 0);
	assert_true(pg_pod_meta__equal(m, back.meta.pod));

	/* an event without pod fields stays without */
	ev.meta.pod = NULL;
	b.len = 0;
	pg_proto_encode(&ev, &b);
	assert_int_equal(pg_proto_decode(pd, b.data, b.len, &back, err, sizeof(err)), 0);
	assert_null(back.meta.pod);
	pg_buf__free(&b);
	free(m);
	free(jd);
	free(pd);
}

/*
 * One event with pod fields and process fields both: the NDJSON line has the pod fields, then
 * the process fields, after pod_uid (docs/events.md); NDJSON and protobuf each give back the
 * same event and, encoded again, the same bytes.
 */
static void test_pod_and_process_fields_round_trip(void **state)
{
	struct pg_label l[] = { { "app", "web" }, { "team", "caf\xc3\xa9" } };
	struct pg_pod_fields f = { .namespace = "shop", .name = "web-1", .workload_kind = "Deployment",
				   .workload = "web", .labels = l, .nlabels = 2 };
	struct pg_pod_meta *m = pg_pod_meta__pack(&f);
	struct pg_json_decoder *jd = calloc(1, sizeof(*jd));
	struct pg_proto_decoder *pd = calloc(1, sizeof(*pd));
	struct pg_json_error jerr;
	struct pg_event ev, back;
	struct pg_buf a = { 0 }, b = { 0 };
	char err[200];

	assert_non_null(m);
	pg_event_init(&ev, PG_EV_OPEN);
	ev.r.hdr.pid = 42;
	strcpy(ev.r.open.path, "/etc/shadow");
	ev.meta.node = "n";
	ev.meta.pod_uid = UID1;
	ev.meta.pod = m;
	ev.meta.proc.exe = "/usr/bin/python3";
	ev.meta.proc.cmdline = "python3 /srv/app.py";
	ev.meta.proc.parent_exe = "/usr/bin/bash";
	ev.meta.proc.parent_cmdline = "bash -c ./start";
	ev.meta.proc.ancestors[0] = "/usr/bin/bash";
	ev.meta.proc.ancestors[1] = "/usr/bin/containerd-shim";
	ev.meta.proc.nancestors = 2;

	pg_json_encode(&ev, &a);
	pg_buf__putc(&a, 0);
	assert_non_null(strstr(a.data, ",\"pod_uid\":\"" UID1 "\",\"namespace\":\"shop\",\"pod\":\"web-1\","
				   "\"workload_kind\":\"Deployment\",\"workload\":\"web\","
				   "\"labels\":{\"app\":\"web\",\"team\":\"caf\xc3\xa9\"},"
				   "\"exe\":\"/usr/bin/python3\",\"cmdline\":\"python3 /srv/app.py\","
				   "\"parent_exe\":\"/usr/bin/bash\",\"parent_cmdline\":\"bash -c ./start\","
				   "\"ancestors\":[\"/usr/bin/bash\",\"/usr/bin/containerd-shim\"],\"dirfd\":"));
	if (pg_json_decode(jd, a.data, a.len - 1, &back, &jerr))
		fail_msg("column %zu: %s", jerr.column, jerr.msg);
	assert_true(pg_pod_meta__equal(m, back.meta.pod));
	assert_string_equal(back.meta.proc.exe, "/usr/bin/python3");
	assert_int_equal(back.meta.proc.nancestors, 2);
	assert_string_equal(back.meta.proc.ancestors[1], "/usr/bin/containerd-shim");
	pg_json_encode(&back, &b);
	pg_buf__putc(&b, 0);
	assert_string_equal(b.data, a.data);

	a.len = b.len = 0;
	pg_proto_encode(&ev, &a);
	if (pg_proto_decode(pd, a.data, a.len, &back, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(pg_pod_meta__equal(m, back.meta.pod));
	assert_string_equal(back.meta.proc.parent_cmdline, "bash -c ./start");
	assert_int_equal(back.meta.proc.nancestors, 2);
	assert_string_equal(back.meta.proc.ancestors[0], "/usr/bin/bash");
	pg_proto_encode(&back, &b);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.data, a.data, a.len);
	pg_buf__free(&a);
	pg_buf__free(&b);
	free(m);
	free(jd);
	free(pd);
}

static void test_json_decode_pod_errors(void **state)
{
#define HDR "{\"v\":1,\"type\":\"fork\",\"ts\":1,\"pid\":1,\"tid\":1,\"ppid\":0,\"uid\":0,\"gid\":0,\"comm\":\"x\",\"cgroup_id\":0,\"start_ns\":1,"
#define TAIL "\"child_pid\":2,\"child_start_ns\":3}"
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ HDR "\"namespace\":\"n\"," TAIL, "missing field \"pod\"" },
		{ HDR "\"pod\":\"p\",\"labels\":{}," TAIL, "missing field \"namespace\"" },
		{ HDR "\"namespace\":\"n\",\"pod\":\"p\",\"workload\":\"w\"," TAIL, "missing field \"workload_kind\"" },
		{ HDR "\"namespace\":\"n\",\"pod\":\"p\",\"labels\":[]," TAIL, "expected an object" },
		{ HDR "\"namespace\":\"n\",\"pod\":\"p\",\"labels\":{\"a\":1}," TAIL, "is not a string" },
		{ HDR "\"namespace\":\"n\",\"pod\":\"p\",\"labels\":{\"a\":\"1\",\"a\":\"2\"}," TAIL, "duplicate label" },
		{ HDR "\"namespace\":\"\\udcff\",\"pod\":\"p\"," TAIL, "not UTF-8" },
		{ HDR "\"namespace\":\"\",\"pod\":\"p\"," TAIL, "empty" },
	};
	struct pg_json_decoder *d = calloc(1, sizeof(*d));
	struct pg_json_error err;
	struct pg_event ev;
	char labels[2048];
	char line[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pg_json_decode(d, cases[i].line, strlen(cases[i].line), &ev, &err), -EINVAL);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.msg, cases[i].want);
	}
	/* more labels than the bound */
	labels[0] = 0;
	for (int i = 0; i < PG_POD_LABELS_MAX + 1; i++)
		snprintf(labels + strlen(labels), sizeof(labels) - strlen(labels), "%s\"k%d\":\"v\"",
			 i ? "," : "", i);
	snprintf(line, sizeof(line), HDR "\"namespace\":\"n\",\"pod\":\"p\",\"labels\":{%s}," TAIL, labels);
	assert_int_equal(pg_json_decode(d, line, strlen(line), &ev, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "more than 32 labels"));
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_sorts_and_bounds_labels),
		cmocka_unit_test(test_cache_put_lookup_delete_grace),
		cmocka_unit_test(test_cache_revive_and_resync),
		cmocka_unit_test(test_cache_many_pods),
		cmocka_unit_test(test_watch_event_pod),
		cmocka_unit_test(test_watch_event_owners),
		cmocka_unit_test(test_watch_event_others),
		cmocka_unit_test(test_watch_event_malformed),
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_job_owner),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_kubeconfig_errors),
		cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_encoders_round_trip),
		cmocka_unit_test(test_pod_and_process_fields_round_trip),
		cmocka_unit_test(test_json_decode_pod_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
