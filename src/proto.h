/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Protobuf: the binary form of events for Kafka consumers (proto/pangolin.proto, message
 * pangolin.v1.Event), encoded and decoded with protobuf-c's generated code.
 *
 * The encoder is what `--format protobuf` writes. The decoder exists for the spill path (a
 * message librdkafka gave back undelivered becomes an NDJSON line again) and for the tests;
 * it is strict like the NDJSON decoder: a message that does not describe one valid event is
 * refused with a reason, never half-applied.
 */
#ifndef PANGOLIN_PROTO_H
#define PANGOLIN_PROTO_H

#include <stddef.h>

#include "buf.h"
#include "event.h"
#include "pod.h"

/* Append the encoded pangolin.v1.Event for ev to out (check out->err once at the end). */
void pg_proto_encode(const struct pg_event *ev, struct pg_buf *out);

#define PG_PROTO_META_LEN 256 /* node, container_id, pod_uid, NUL included */
#define PG_PROTO_CGROUP_LEN 1024
#define PG_PROTO_NAME_LEN 129 /* a policy or rule name, NUL included */

/* Decoder state: event metadata points into it after a decode. */
struct pg_proto_decoder {
	char node[PG_PROTO_META_LEN];
	char container_id[PG_PROTO_META_LEN];
	char pod_uid[PG_PROTO_META_LEN];
	char cgroup[PG_PROTO_CGROUP_LEN];
	/* the pod fields (ev->meta.pod points at pod) */
	char pod_namespace[PG_PROTO_META_LEN];
	char pod_name[PG_PROTO_META_LEN];
	char workload_kind[PG_PROTO_META_LEN];
	char workload[PG_PROTO_META_LEN];
	char label_bytes[PG_POD_LABELS_BYTES];
	struct pg_label labels[PG_POD_LABELS_MAX];
	struct pg_pod_meta pod;
	char exe[PG_PATH_LEN];
	char cmdline[PG_CMDLINE_LEN];
	char parent_exe[PG_PATH_LEN];
	char parent_cmdline[PG_CMDLINE_LEN];
	char ancestors[PG_PROC_ANCESTORS][PG_PATH_LEN];
	/* a policy's decision (ev->meta.policy and .rule point here) */
	char policy[PG_PROTO_NAME_LEN];
	char rule[PG_PROTO_NAME_LEN];
};

/*
 * Decode one message (len bytes) into ev. Metadata strings point into dec and stay valid
 * until the next decode with the same dec. 0 on success; -EINVAL with a message in err that
 * names the field and what was wrong; -ENOMEM.
 */
int pg_proto_decode(struct pg_proto_decoder *dec, const void *data, size_t len,
		    struct pg_event *ev, char *err, size_t errlen);

#endif /* PANGOLIN_PROTO_H */
