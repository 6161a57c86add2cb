// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for what the API server sends (src/kube_json.c): watch lines and list
 * pages come off the network. The first byte picks the parser. Any bytes: a parser fails with
 * a message, or succeeds with metadata that holds the bounds pod.h promises.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_meta(const struct pg_pod_meta *m)
{
	size_t bytes = 0;

	assert(m && m->namespace && m->name && *m->namespace && *m->name);
	assert(strlen(m->namespace) <= PG_POD_NAME_MAX && strlen(m->name) <= PG_POD_NAME_MAX);
	assert(!m->workload_kind == !m->workload);
	assert(m->nlabels <= PG_POD_LABELS_MAX);
	for (unsigned int i = 0; i < m->nlabels; i++) {
		bytes += strlen(m->labels[i].key) + strlen(m->labels[i].value) + 2;
		if (i)
			assert(strcmp(m->labels[i - 1].key, m->labels[i].key) <= 0);
	}
	assert(bytes <= PG_POD_LABELS_BYTES);
}

static void check_err(const char *err, int rc)
{
	assert(rc == -EINVAL || rc == -ENOMEM);
	assert(rc == -ENOMEM || (strlen(err) > 0 && strlen(err) < 300));
}

static int item(void *ctx, struct pg_kube_pod *pod, const char *item_err)
{
	if (pod) {
		check_meta(pod->meta);
		assert(strlen(pod->uid) < PG_POD_UID_LEN);
		free(pod->meta);
	} else {
		assert(*item_err);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[300] = "", rv[PG_KUBE_RV_LEN], cont[PG_KUBE_CONTINUE_LEN], name[64];
	struct pg_kube_watch_event ev;
	char *copy;
	int rc;

	if (!size)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1); /* exact size: a read past the end is reported */
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		rc = pg_kube_watch_event_parse(copy, size - 1, &ev, err, sizeof(err));
		if (rc) {
			check_err(err, rc);
			assert(!ev.pod.meta);
		} else if (ev.type == PG_KUBE_ADDED || ev.type == PG_KUBE_MODIFIED ||
			   ev.type == PG_KUBE_DELETED) {
			check_meta(ev.pod.meta);
			free(ev.pod.meta);
		} else {
			assert(!ev.pod.meta);
		}
		break;
	case 1:
		rc = pg_kube_list_parse(copy, size - 1, item, NULL, rv, sizeof(rv), cont, sizeof(cont),
					err, sizeof(err));
		if (rc)
			check_err(err, rc);
		break;
	default:
		rc = pg_kube_job_owner_parse(copy, size - 1, name, sizeof(name), err, sizeof(err));
		if (rc)
			check_err(err, rc);
		else
			assert(strlen(name) < sizeof(name));
		break;
	}
	free(copy);
	return 0;
}
