// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where the API server is and how to prove who we are: in-cluster (the service account's token
 * and CA that the kubelet mounts, the API server's address from the environment) or a
 * kubeconfig (YAML, read with libyaml's document loader).
 *
 * A kubeconfig is untrusted input like any file a user hands over: every field is checked for
 * its type, and a message names the file, the line and the field.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "kube.h"

#define KUBECONFIG_MAX (4u << 20) /* a kubeconfig with many clusters is still a few KB */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void pg_kube_config__release(struct pg_kube_config *cfg)
{
	free(cfg->server);
	free(cfg->ca_file);
	free(cfg->ca_data);
	free(cfg->cert_file);
	free(cfg->cert_data);
	free(cfg->key_file);
	free(cfg->key_data);
	free(cfg->token);
	free(cfg->token_file);
	memset(cfg, 0, sizeof(*cfg));
}

/* --- base64 ---------------------------------------------------------------------------------- */

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long pg_base64_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
	unsigned int acc = 0, bits = 0, pad = 0;
	size_t n = 0, digits = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad) /* data after padding */
			return -EINVAL;
		v = b64val(c);
		if (v < 0)
			return -EINVAL;
		digits++;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outlen)
				return -EINVAL;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* a lone digit is never valid; padding, when present, completes the last quantum */
	if (digits % 4 == 1 || pad > 2 || (pad && (digits + pad) % 4) || acc)
		return -EINVAL;
	return (long)n;
}

/* --- small helpers --------------------------------------------------------------------------- */

static int dup_into(char **dst, const char *src, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return -ENOMEM;
	memcpy(s, src, n);
	s[n] = 0;
	free(*dst);
	*dst = s;
	return 0;
}

static int read_file(const char *path, char **out, size_t *len, size_t max)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int e;

	if (!f)
		return -errno;
	for (;;) {
		size_t r;

		if (n == cap) {
			char *nb;

			if (cap >= max) {
				e = -EFBIG;
				goto err_out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				e = -ENOMEM;
				goto err_out;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f)) {
				e = -EIO;
				goto err_out;
			}
			break;
		}
	}
	fclose(f);
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
err_out:
	fclose(f);
	free(buf);
	return e;
}

/* --- in-cluster ------------------------------------------------------------------------------ */

int pg_kube_config__in_cluster(struct pg_kube_config *cfg, const char *sa_dir, char *err,
			       size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[PATH_MAX], url[300];
	struct stat sb;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!host || !*host)
		return -ENOENT;
	if (!port || !*port)
		port = "443";
	if (strlen(host) > 255 || strlen(port) > 5 || strpbrk(host, "/@ ") || strpbrk(port, "/@ "))
		return fail(err, errlen, "KUBERNETES_SERVICE_HOST/PORT (%.64s:%.8s) is not a host and port",
			    host, port);
	sa_dir = sa_dir ? sa_dir : PG_KUBE_SA_DIR;
	/* an IPv6 service address needs brackets in a URL */
	snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		 port);
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	if (stat(path, &sb)) {
		rc = -errno;
		fail(err, errlen, "in a cluster (KUBERNETES_SERVICE_HOST is set) but %s: %s; mount the service account token (automountServiceAccountToken) or give --kubeconfig",
		     path, strerror(errno));
		return rc;
	}
	if (dup_into(&cfg->server, url, strlen(url)) ||
	    dup_into(&cfg->token_file, path, strlen(path)))
		goto nomem;
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	if (dup_into(&cfg->ca_file, path, strlen(path)))
		goto nomem;
	snprintf(cfg->source, sizeof(cfg->source), "in-cluster (%s)", url);
	return 0;
nomem:
	pg_kube_config__release(cfg);
	return -ENOMEM;
}

/* --- kubeconfig ------------------------------------------------------------------------------ */

struct kc {
	yaml_document_t doc;
	const char *name; /* the file, for messages */
	const char *dir;
	char *err;
	size_t errlen;
};

static int kfail(struct kc *k, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int kfail(struct kc *k, const yaml_node_t *at, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at)
		return fail(k->err, k->errlen, "%s, line %zu: %s", k->name,
			    (size_t)at->start_mark.line + 1, msg);
	return fail(k->err, k->errlen, "%s: %s", k->name, msg);
}

static yaml_node_t *node(struct kc *k, int id)
{
	return yaml_document_get_node(&k->doc, id);
}

/* The value under key in a mapping node, or NULL. */
static yaml_node_t *map_get(struct kc *k, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(k, p->key);

		if (kn && kn->type == YAML_SCALAR_NODE && kn->data.scalar.length == strlen(key) &&
		    !memcmp(kn->data.scalar.value, key, kn->data.scalar.length))
			return node(k, p->value);
	}
	return NULL;
}

/* A scalar's text (NUL-terminated by libyaml), or NULL with an error when n is not a scalar. */
static const char *scalar(struct kc *k, yaml_node_t *n, const char *what, int *rc)
{
	if (!n)
		return NULL;
	if (n->type != YAML_SCALAR_NODE) {
		*rc = kfail(k, n, "%s is not a string", what);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		*rc = kfail(k, n, "%s holds a NUL byte", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* The entry named name in a list of {name: ..., <field>: {...}}; its <field> mapping. */
static yaml_node_t *named(struct kc *k, const char *list, const char *field, const char *name,
			  int *rc)
{
	yaml_node_t *root = node(k, 1), *seq = map_get(k, root, list);
	yaml_node_item_t *it;

	if (!seq) {
		*rc = kfail(k, NULL, "no %s: the file names %s \"%s\"", list, field, name);
		return NULL;
	}
	if (seq->type != YAML_SEQUENCE_NODE) {
		*rc = kfail(k, seq, "%s is not a list", list);
		return NULL;
	}
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *e = node(k, *it), *v;
		const char *n = scalar(k, map_get(k, e, "name"), "name", rc);

		if (*rc)
			return NULL;
		if (!n || strcmp(n, name))
			continue;
		v = map_get(k, e, field);
		if (!v || v->type != YAML_MAPPING_NODE) {
			*rc = kfail(k, e, "%s \"%s\" has no %s mapping", field, name, field);
			return NULL;
		}
		return v;
	}
	*rc = kfail(k, seq, "no %s named \"%s\" in %s", field, name, list);
	return NULL;
}

/* A path from the file: relative ones are relative to the kubeconfig's directory. */
static int set_path(struct kc *k, char **dst, const char *p)
{
	char buf[PATH_MAX];

	if (p[0] == '/' || !k->dir)
		return dup_into(dst, p, strlen(p));
	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", k->dir, p) >= sizeof(buf))
		return -ENAMETOOLONG;
	return dup_into(dst, buf, strlen(buf));
}

/* file or base64 data for one credential; at most one of the two may be given */
static int file_or_data(struct kc *k, yaml_node_t *m, const char *fkey, const char *dkey,
			char **file, char **data, size_t *len)
{
	int rc = 0;
	yaml_node_t *fn = map_get(k, m, fkey), *dn = map_get(k, m, dkey);
	const char *f = scalar(k, fn, fkey, &rc), *d;

	if (rc)
		return rc;
	d = scalar(k, dn, dkey, &rc);
	if (rc)
		return rc;
	if (f && d)
		return kfail(k, fn, "both %s and %s are given: keep one", fkey, dkey);
	if (f)
		return set_path(k, file, f);
	if (d) {
		size_t dl = strlen(d);
		unsigned char *buf = malloc(dl / 4 * 3 + 4);
		long n;

		if (!buf)
			return -ENOMEM;
		n = pg_base64_decode(d, dl, buf, dl / 4 * 3 + 3);
		if (n <= 0) {
			free(buf);
			return kfail(k, dn, "%s is not base64 (what kubectl writes: the PEM file, base64-encoded)",
				     dkey);
		}
		buf[n] = 0;
		free(*data);
		*data = (char *)buf;
		*len = (size_t)n;
	}
	return 0;
}

static int parse_doc(struct pg_kube_config *cfg, struct kc *k, const char *context)
{
	yaml_node_t *root = node(k, 1), *ctx, *cl, *user, *n;
	const char *cur, *cluster_name, *user_name, *server, *s;
	int rc = 0;

	if (!root || root->type != YAML_MAPPING_NODE)
		return kfail(k, root, "not a kubeconfig (the document is not a mapping)");
	cur = context;
	if (!cur) {
		cur = scalar(k, map_get(k, root, "current-context"), "current-context", &rc);
		if (rc)
			return rc;
		if (!cur || !*cur)
			return kfail(k, NULL, "no current-context: set one (kubectl config use-context NAME)");
	}
	ctx = named(k, "contexts", "context", cur, &rc);
	if (!ctx)
		return rc;
	cluster_name = scalar(k, map_get(k, ctx, "cluster"), "context.cluster", &rc);
	user_name = scalar(k, map_get(k, ctx, "user"), "context.user", &rc);
	if (rc)
		return rc;
	if (!cluster_name)
		return kfail(k, ctx, "context \"%s\" names no cluster", cur);
	cl = named(k, "clusters", "cluster", cluster_name, &rc);
	if (!cl)
		return rc;
	server = scalar(k, map_get(k, cl, "server"), "cluster.server", &rc);
	if (rc)
		return rc;
	if (!server || (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)))
		return kfail(k, cl, "cluster \"%s\": server must be an https:// (or http://) URL",
			     cluster_name);
	rc = dup_into(&cfg->server, server, strlen(server));
	if (rc)
		return rc;
	while (strlen(cfg->server) > 8 && cfg->server[strlen(cfg->server) - 1] == '/')
		cfg->server[strlen(cfg->server) - 1] = 0;
	rc = file_or_data(k, cl, "certificate-authority", "certificate-authority-data",
			  &cfg->ca_file, &cfg->ca_data, &cfg->ca_len);
	if (rc)
		return rc;
	n = map_get(k, cl, "insecure-skip-tls-verify");
	s = scalar(k, n, "insecure-skip-tls-verify", &rc);
	if (rc)
		return rc;
	if (s) {
		if (!strcmp(s, "true"))
			cfg->insecure = true;
		else if (strcmp(s, "false"))
			return kfail(k, n, "insecure-skip-tls-verify is not true or false");
	}
	if (user_name) {
		user = named(k, "users", "user", user_name, &rc);
		if (!user)
			return rc;
		if (map_get(k, user, "exec") || map_get(k, user, "auth-provider"))
			return kfail(k, user, "user \"%s\" authenticates through a plugin (exec or auth-provider), which pangolin does not run: give it a client certificate or a token (e.g. kubectl create token)",
				     user_name);
		rc = file_or_data(k, user, "client-certificate", "client-certificate-data",
				  &cfg->cert_file, &cfg->cert_data, &cfg->cert_len);
		if (!rc)
			rc = file_or_data(k, user, "client-key", "client-key-data", &cfg->key_file,
					  &cfg->key_data, &cfg->key_len);
		if (rc)
			return rc;
		if (!(cfg->cert_file || cfg->cert_data) != !(cfg->key_file || cfg->key_data))
			return kfail(k, user, "user \"%s\": a client certificate needs its key, and a key its certificate",
				     user_name);
		s = scalar(k, map_get(k, user, "token"), "token", &rc);
		if (!rc && s)
			rc = dup_into(&cfg->token, s, strlen(s));
		if (rc)
			return rc;
		s = scalar(k, map_get(k, user, "tokenFile"), "tokenFile", &rc);
		if (!rc && s)
			rc = set_path(k, &cfg->token_file, s);
		if (rc)
			return rc;
		if (cfg->token && cfg->token_file)
			return kfail(k, user, "user \"%s\": both token and tokenFile are given: keep one",
				     user_name);
	}
	snprintf(cfg->source, sizeof(cfg->source), "kubeconfig %.200s (context %.64s)", k->name,
		 cur);
	return 0;
}

int pg_kube_config__parse(struct pg_kube_config *cfg, const char *text, size_t len,
			  const char *name, const char *dir, const char *context, char *err,
			  size_t errlen)
{
	yaml_parser_t parser;
	struct kc k = { .name = name, .dir = dir, .err = err, .errlen = errlen };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &k.doc)) {
		rc = fail(err, errlen, "%s, line %zu: not YAML: %s", name,
			  (size_t)parser.problem_mark.line + 1,
			  parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return rc;
	}
	yaml_parser_delete(&parser);
	if (!yaml_document_get_root_node(&k.doc))
		rc = fail(err, errlen, "%s: empty file, not a kubeconfig", name);
	else
		rc = parse_doc(cfg, &k, context);
	yaml_document_delete(&k.doc);
	if (rc) {
		if (rc == -ENOMEM)
			fail(err, errlen, "%s: out of memory", name);
		else if (rc == -ENAMETOOLONG)
			fail(err, errlen, "%s: a path in it is too long", name);
		pg_kube_config__release(cfg);
	}
	return rc;
}

int pg_kube_config__load(struct pg_kube_config *cfg, const char *path, const char *context,
			 char *err, size_t errlen)
{
	char *text = NULL, dir[PATH_MAX];
	size_t len = 0;
	int rc = read_file(path, &text, &len, KUBECONFIG_MAX);

	memset(cfg, 0, sizeof(*cfg));
	if (rc) {
		fail(err, errlen, "cannot read kubeconfig %s: %s", path,
		     rc == -EFBIG ? "larger than 4 MB" : strerror(-rc));
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	rc = pg_kube_config__parse(cfg, text, len, path, dirname(dir), context, err, errlen);
	free(text);
	return rc;
}
