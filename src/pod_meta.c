// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Packing pod metadata into one allocation: the cache holds thousands of pods (10,000 in the
 * benchmark, bench/README.md), so one malloc per pod, not one per string, keeps both the
 * allocator's overhead and the number of pointers to chase small.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod.h"

static int label_cmp(const void *a, const void *b)
{
	const struct pg_label *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

static size_t opt_len(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static char *put_str(char **p, const char *s)
{
	size_t n;
	char *d = *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	memcpy(d, s, n);
	*p += n;
	return d;
}

struct pg_pod_meta *pg_pod_meta__pack(const struct pg_pod_fields *f)
{
	struct pg_label *sorted = NULL, *labels;
	struct pg_pod_meta *m;
	size_t keep = 0, lbytes = 0, size;
	bool truncated = f->labels_truncated;
	char *blk, *p;

	if (!f->namespace || !f->name || !*f->namespace || !*f->name ||
	    strlen(f->namespace) > PG_POD_NAME_MAX || strlen(f->name) > PG_POD_NAME_MAX ||
	    (f->workload_kind && strlen(f->workload_kind) > PG_POD_KIND_MAX) ||
	    (f->workload && strlen(f->workload) > PG_POD_NAME_MAX) ||
	    !f->workload_kind != !f->workload) {
		errno = EINVAL;
		return NULL;
	}
	if (f->nlabels) {
		sorted = malloc(f->nlabels * sizeof(*sorted));
		if (!sorted)
			return NULL;
		memcpy(sorted, f->labels, f->nlabels * sizeof(*sorted));
		qsort(sorted, f->nlabels, sizeof(*sorted), label_cmp);
	}
	/* the first labels by key that fit both bounds; a later, shorter one is not squeezed in,
	 * so which labels are kept does not depend on the lengths of the others */
	for (size_t i = 0; i < f->nlabels; i++) {
		size_t n = strlen(sorted[i].key) + strlen(sorted[i].value) + 2;

		if (keep == PG_POD_LABELS_MAX || lbytes + n > PG_POD_LABELS_BYTES) {
			truncated = true;
			break;
		}
		lbytes += n;
		keep++;
	}
	size = sizeof(*m) + keep * sizeof(struct pg_label) + opt_len(f->namespace) +
	       opt_len(f->name) + opt_len(f->workload_kind) + opt_len(f->workload) + lbytes;
	blk = calloc(1, size);
	if (!blk) {
		free(sorted);
		return NULL;
	}
	m = (struct pg_pod_meta *)blk;
	labels = (struct pg_label *)(m + 1);
	p = (char *)(labels + keep);
	m->namespace = put_str(&p, f->namespace);
	m->name = put_str(&p, f->name);
	m->workload_kind = put_str(&p, f->workload_kind);
	m->workload = put_str(&p, f->workload);
	for (size_t i = 0; i < keep; i++) {
		labels[i].key = put_str(&p, sorted[i].key);
		labels[i].value = put_str(&p, sorted[i].value);
	}
	m->labels = keep ? labels : NULL;
	m->nlabels = (unsigned int)keep;
	m->labels_truncated = truncated;
	free(sorted);
	return m;
}

struct pg_pod_meta *pg_pod_meta__dup(const struct pg_pod_meta *m)
{
	struct pg_pod_fields f = {
		.namespace = m->namespace,
		.name = m->name,
		.workload_kind = m->workload_kind,
		.workload = m->workload,
		.labels = m->labels,
		.nlabels = m->nlabels,
		.labels_truncated = m->labels_truncated,
	};

	return pg_pod_meta__pack(&f);
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool pg_pod_meta__equal(const struct pg_pod_meta *a, const struct pg_pod_meta *b)
{
	if (!a || !b)
		return a == b;
	if (!str_eq(a->namespace, b->namespace) || !str_eq(a->name, b->name) ||
	    !str_eq(a->workload_kind, b->workload_kind) || !str_eq(a->workload, b->workload) ||
	    a->nlabels != b->nlabels || a->labels_truncated != b->labels_truncated)
		return false;
	for (unsigned int i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i].key, b->labels[i].key) ||
		    strcmp(a->labels[i].value, b->labels[i].value))
			return false;
	return true;
}
