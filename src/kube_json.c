// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the API server sends about pods, parsed with jansson: watch events, list pages, a Job's
 * owner. The bytes come off the network, so every field is checked for its type and size and
 * a message says which one was wrong; unknown fields are ignored (the API adds them freely).
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A string member of obj, or NULL when absent; -EINVAL (via *bad) when present but not one. */
static const char *get_str(const json_t *obj, const char *key, const char *where, bool *bad,
			   char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		if (!*bad)
			fail(err, errlen, "%s.%s is not a string", where, key);
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

static bool copy_bounded(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* The controller among ownerReferences: kind and name, or both NULL. */
static int controller_of(const json_t *meta, const char **kind, const char **name, char *err,
			 size_t errlen)
{
	json_t *refs = json_object_get(meta, "ownerReferences"), *ref;
	size_t i;
	bool bad = false;

	*kind = *name = NULL;
	if (!refs || json_is_null(refs))
		return 0;
	if (!json_is_array(refs))
		return fail(err, errlen, "metadata.ownerReferences is not an array");
	json_array_foreach(refs, i, ref) {
		json_t *ctl;

		if (!json_is_object(ref))
			return fail(err, errlen, "metadata.ownerReferences[%zu] is not an object", i);
		ctl = json_object_get(ref, "controller");
		if (ctl && !json_is_boolean(ctl) && !json_is_null(ctl))
			return fail(err, errlen, "metadata.ownerReferences[%zu].controller is not a boolean",
				    i);
		if (!json_is_true(ctl))
			continue;
		*kind = get_str(ref, "kind", "metadata.ownerReferences[]", &bad, err, errlen);
		*name = get_str(ref, "name", "metadata.ownerReferences[]", &bad, err, errlen);
		if (bad)
			return -EINVAL;
		if (!*kind || !*name || !**kind || !**name)
			return fail(err, errlen, "metadata.ownerReferences[%zu]: a controller without kind or name",
				    i);
		return 0;
	}
	return 0;
}

/*
 * The Deployment behind a ReplicaSet, by the Deployment controller's naming: the ReplicaSet is
 * "<deployment>-<pod-template-hash>" and its pods carry that hash as a label. Writes the
 * Deployment's name into out and returns true when the rule applies.
 */
static bool deployment_of(const char *rs, const json_t *labels, char *out, size_t outlen)
{
	const char *hash;
	size_t rl, hl;

	if (!labels)
		return false;
	hash = json_string_value(json_object_get(labels, "pod-template-hash"));
	if (!hash)
		return false;
	rl = strlen(rs);
	hl = strlen(hash);
	if (!hl || rl < hl + 2 || rs[rl - hl - 1] != '-' || strcmp(rs + rl - hl, hash) ||
	    rl - hl - 1 >= outlen)
		return false;
	memcpy(out, rs, rl - hl - 1);
	out[rl - hl - 1] = 0;
	return true;
}

/*
 * A static pod (a manifest file the kubelet runs) has a UID of its own, the hash of its
 * manifest, in its cgroup path; the API server only knows its mirror pod, whose UID differs,
 * and which carries that hash as the kubernetes.io/config.mirror annotation. Key the mirror pod
 * by the hash, so the static pod's events find it.
 */
static void mirror_uid(const json_t *meta, char uid[PG_POD_UID_LEN])
{
	const char *h = json_string_value(json_object_get(json_object_get(meta, "annotations"),
							  "kubernetes.io/config.mirror"));

	if (!h || strlen(h) != 32 || strspn(h, "0123456789abcdef") != 32)
		return;
	memcpy(uid, h, 33);
}

/* A Pod or a PartialObjectMetadata: its metadata is all pangolin reads. */
static int pod_from_json(const json_t *obj, struct pg_kube_pod *out, char *err, size_t errlen)
{
	const json_t *meta, *labels;
	const char *uid, *ns, *name, *rv, *wkind, *wname;
	struct pg_pod_fields f = { 0 };
	struct pg_label *lv = NULL;
	char deploy[PG_POD_NAME_MAX + 1];
	bool bad = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return fail(err, errlen, "the object is not a JSON object");
	meta = json_object_get(obj, "metadata");
	if (!json_is_object(meta))
		return fail(err, errlen, "the object has no metadata object");
	uid = get_str(meta, "uid", "metadata", &bad, err, errlen);
	ns = get_str(meta, "namespace", "metadata", &bad, err, errlen);
	name = get_str(meta, "name", "metadata", &bad, err, errlen);
	rv = get_str(meta, "resourceVersion", "metadata", &bad, err, errlen);
	if (bad)
		return -EINVAL;
	if (!uid || !copy_bounded(out->uid, sizeof(out->uid), uid))
		return fail(err, errlen, "metadata.uid is %s", uid ? "longer than a UID" : "missing");
	mirror_uid(meta, out->uid);
	if (!ns || !name)
		return fail(err, errlen, "metadata.%s is missing", ns ? "name" : "namespace");
	if (rv && !copy_bounded(out->resource_version, sizeof(out->resource_version), rv))
		return fail(err, errlen, "metadata.resourceVersion is longer than %d bytes",
			    PG_KUBE_RV_LEN - 1);
	labels = json_object_get(meta, "labels");
	if (labels && !json_is_null(labels)) {
		const char *k;
		json_t *v;
		size_t n = 0;

		if (!json_is_object(labels))
			return fail(err, errlen, "metadata.labels is not an object");
		lv = calloc(json_object_size(labels) + 1, sizeof(*lv));
		if (!lv)
			return -ENOMEM;
		json_object_foreach((json_t *)labels, k, v) {
			if (!json_is_string(v)) {
				free(lv);
				return fail(err, errlen, "metadata.labels: the value of a label is not a string");
			}
			lv[n].key = k;
			lv[n].value = json_string_value(v);
			n++;
		}
		f.labels = lv;
		f.nlabels = n;
	} else {
		labels = NULL;
	}
	rc = controller_of(meta, &wkind, &wname, err, errlen);
	if (rc) {
		free(lv);
		return rc;
	}
	if (wkind && !strcmp(wkind, "ReplicaSet") &&
	    deployment_of(wname, labels, deploy, sizeof(deploy))) {
		wkind = "Deployment";
		wname = deploy;
	}
	f.namespace = ns;
	f.name = name;
	f.workload_kind = wkind;
	f.workload = wname;
	out->meta = pg_pod_meta__pack(&f);
	free(lv);
	if (!out->meta) {
		if (errno == EINVAL)
			return fail(err, errlen, "metadata: an empty name or namespace, or a name longer than %d bytes",
				    PG_POD_NAME_MAX);
		return -ENOMEM;
	}
	return 0;
}

static const struct {
	const char *name;
	enum pg_kube_watch_type type;
} watch_types[] = {
	{ "ADDED", PG_KUBE_ADDED },	  { "MODIFIED", PG_KUBE_MODIFIED },
	{ "DELETED", PG_KUBE_DELETED }, { "BOOKMARK", PG_KUBE_BOOKMARK },
	{ "ERROR", PG_KUBE_ERROR },
};

static json_t *load(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	/* JSON_REJECT_DUPLICATES: an object saying two things about one field is malformed */
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	if (!root)
		fail(err, errlen, "not JSON (column %d: %s)", je.column, je.text);
	return root;
}

int pg_kube_watch_event_parse(const char *line, size_t len, struct pg_kube_watch_event *ev,
			      char *err, size_t errlen)
{
	json_t *root, *obj;
	const char *type;
	size_t i;
	bool bad = false;
	int rc = 0;

	memset(ev, 0, sizeof(*ev));
	root = load(line, len, err, errlen);
	if (!root)
		return -EINVAL;
	if (!json_is_object(root)) {
		rc = fail(err, errlen, "a watch event is a JSON object");
		goto out;
	}
	type = get_str(root, "type", "event", &bad, err, errlen);
	if (bad) {
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; type && i < sizeof(watch_types) / sizeof(watch_types[0]); i++)
		if (!strcmp(type, watch_types[i].name))
			break;
	if (!type || i == sizeof(watch_types) / sizeof(watch_types[0])) {
		rc = fail(err, errlen, "event type %s%.20s%s is not ADDED, MODIFIED, DELETED, BOOKMARK or ERROR",
			  type ? "\"" : "", type ? type : "missing", type ? "\"" : "");
		goto out;
	}
	ev->type = watch_types[i].type;
	obj = json_object_get(root, "object");
	if (!json_is_object(obj)) {
		rc = fail(err, errlen, "the %s event has no object", type);
		goto out;
	}
	switch (ev->type) {
	case PG_KUBE_ERROR: {
		/* a Status: {"kind":"Status","code":410,"reason":"Expired","message":"..."} */
		json_t *code = json_object_get(obj, "code");
		const char *msg = get_str(obj, "message", "object", &bad, err, errlen);

		if (bad || (code && !json_is_integer(code))) {
			rc = bad ? -EINVAL : fail(err, errlen, "the ERROR event's code is not an integer");
			goto out;
		}
		ev->code = code ? (int)json_integer_value(code) : 0;
		snprintf(ev->message, sizeof(ev->message), "%s", msg ? msg : "(no message)");
		break;
	}
	case PG_KUBE_BOOKMARK: {
		json_t *meta = json_object_get(obj, "metadata");
		const char *rv = json_is_object(meta) ?
			get_str(meta, "resourceVersion", "object.metadata", &bad, err, errlen) : NULL;

		if (bad) {
			rc = -EINVAL;
			goto out;
		}
		if (!rv || !*rv || !copy_bounded(ev->pod.resource_version, PG_KUBE_RV_LEN, rv)) {
			rc = fail(err, errlen, "the BOOKMARK event has no usable resourceVersion");
			goto out;
		}
		break;
	}
	default:
		rc = pod_from_json(obj, &ev->pod, err, errlen);
		break;
	}
out:
	json_decref(root);
	return rc;
}

int pg_kube_list_parse(const char *body, size_t len,
		       int (*fn)(void *ctx, struct pg_kube_pod *pod, const char *item_err), void *ctx, char *rv,
		       size_t rvlen, char *cont, size_t contlen, char *err, size_t errlen)
{
	json_t *root = load(body, len, err, errlen), *meta, *items, *item;
	const char *r, *c;
	bool bad = false;
	size_t i;
	int rc = 0;

	if (!root)
		return -EINVAL;
	meta = json_object_get(root, "metadata");
	items = json_object_get(root, "items");
	if (!json_is_object(root) || !json_is_object(meta)) {
		rc = fail(err, errlen, "a list is a JSON object with a metadata object");
		goto out;
	}
	if (items && !json_is_null(items) && !json_is_array(items)) {
		rc = fail(err, errlen, "the list's items is not an array");
		goto out;
	}
	r = get_str(meta, "resourceVersion", "metadata", &bad, err, errlen);
	c = get_str(meta, "continue", "metadata", &bad, err, errlen);
	if (bad) {
		rc = -EINVAL;
		goto out;
	}
	if (!r || !*r || !copy_bounded(rv, rvlen, r)) {
		rc = fail(err, errlen, "the list has no usable metadata.resourceVersion");
		goto out;
	}
	if (!copy_bounded(cont, contlen, c ? c : "")) {
		rc = fail(err, errlen, "the list's continue token is longer than %zu bytes", contlen - 1);
		goto out;
	}
	json_array_foreach(items, i, item) {
		struct pg_kube_pod pod;
		char e2[200];

		rc = pod_from_json(item, &pod, e2, sizeof(e2));
		if (rc == -ENOMEM)
			goto out;
		/* one bad item costs that pod's names, not the whole page */
		rc = fn(ctx, rc ? NULL : &pod, e2);
		if (rc)
			goto out;
	}
out:
	json_decref(root);
	return rc;
}

int pg_kube_job_owner_parse(const char *body, size_t len, char *name, size_t namelen, char *err,
			    size_t errlen)
{
	json_t *root = load(body, len, err, errlen), *meta;
	const char *kind, *owner;
	int rc;

	if (!root)
		return -EINVAL;
	name[0] = 0;
	meta = json_object_get(root, "metadata");
	if (!json_is_object(meta)) {
		rc = fail(err, errlen, "the Job has no metadata object");
		goto out;
	}
	rc = controller_of(meta, &kind, &owner, err, errlen);
	if (!rc && kind && !strcmp(kind, "CronJob") && !copy_bounded(name, namelen, owner))
		rc = fail(err, errlen, "the CronJob's name is longer than %zu bytes", namelen - 1);
out:
	json_decref(root);
	return rc;
}
