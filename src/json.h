/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * NDJSON: the stable text form of events (docs/events.md).
 *
 * The encoder writes the canonical form: fixed key order, no spaces, integers in decimal,
 * false booleans and unknown metadata omitted. Bytes that are not valid UTF-8 are written as
 * the lone low surrogates \udc80..\udcff (Python's "surrogateescape"), so every path and
 * argument survives a round trip byte for byte.
 *
 * The decoder is a strict, schema-aware parser written for this format: it rejects anything
 * that is not one JSON object of known fields with the right types, and says where and why.
 * A general JSON library (jansson) parsed these lines at 0.31 M lines/s on this machine, a
 * third of the replay target; see bench/README.md.
 */
#ifndef PANGOLIN_JSON_H
#define PANGOLIN_JSON_H

#include "buf.h"
#include "event.h"
#include "pod.h"

/* Append the canonical JSON object for ev, without the newline. */
void pg_json_encode(const struct pg_event *ev, struct pg_buf *out);

/* Append s (n bytes) as a JSON string literal, quotes included, with the escaping above. */
void pg_json_put_string(struct pg_buf *out, const char *s, size_t n);

#define PG_JSON_META_LEN 256 /* node, container_id, pod_uid */
#define PG_JSON_CGROUP_LEN 1024
#define PG_JSON_NAME_LEN 129 /* a policy or rule name (PG_POLICY_NAME_MAX), NUL included */

/* Decoder state: the strings that event metadata points at after a decode live here. */
struct pg_json_decoder {
	char node[PG_JSON_META_LEN];
	char container_id[PG_JSON_META_LEN];
	char pod_uid[PG_JSON_META_LEN];
	char cgroup[PG_JSON_CGROUP_LEN];
	/* the pod fields (ev->meta.pod points at pod) */
	char pod_namespace[PG_JSON_META_LEN];
	char pod_name[PG_JSON_META_LEN];
	char workload_kind[PG_JSON_META_LEN];
	char workload[PG_JSON_META_LEN];
	char label_bytes[PG_POD_LABELS_BYTES];
	struct pg_label labels[PG_POD_LABELS_MAX];
	struct pg_pod_meta pod;
	/* scratch for strings whose destination depends on the type */
	char path[PG_PATH_LEN];
	char argv[PG_ARGV_LEN];
	char qname[PG_QNAME_LEN];
	/* the process table's fields */
	char exe[PG_PATH_LEN];
	char cmdline[PG_CMDLINE_LEN];
	char parent_exe[PG_PATH_LEN];
	char parent_cmdline[PG_CMDLINE_LEN];
	char ancestors[PG_PROC_ANCESTORS * PG_PATH_LEN]; /* packed, each NUL-terminated */
	/* a policy's decision (ev->meta.policy and .rule point here) */
	char policy[PG_JSON_NAME_LEN];
	char rule[PG_JSON_NAME_LEN];
};

struct pg_json_error {
	size_t column; /* 1-based byte column in the line */
	char msg[200];
};

/*
 * Decode one line (len bytes, without the newline) into ev. Metadata strings point into dec
 * and stay valid until the next decode with the same dec. 0 on success; -EINVAL with err
 * filled (column and a message naming the field and what was expected).
 */
int pg_json_decode(struct pg_json_decoder *dec, const char *line, size_t len,
		   struct pg_event *ev, struct pg_json_error *err);

#endif /* PANGOLIN_JSON_H */
