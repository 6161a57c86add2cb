/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The userspace view of an event: the kernel record (pg_abi.h) plus what userspace learns
 * about it afterwards (node, cgroup path, container, pod). Sources fill one, stages read and
 * amend it, sinks encode it.
 */
#ifndef PANGOLIN_EVENT_H
#define PANGOLIN_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg_abi.h"

/*
 * An alert: a detection rule matched (src/detect.h). Userspace only, so it lives here and not
 * in pg_abi.h; the header is that of the event that completed the match (its process, its
 * time), so an alert sorts, keys and filters like the events it is about.
 */
#define PG_ALERT_ID_LEN 128 /* rule id (a Sigma UUID is 36 bytes), NUL included */
#define PG_ALERT_TITLE_LEN 256
#define PG_ALERT_TAGS_LEN 512 /* tags, each NUL-terminated */
#define PG_ALERT_TAGS_MAX 16
#define PG_ALERT_GROUP_LEN 1024 /* group-by pairs: "field\0value\0" ... */
#define PG_ALERT_GROUP_MAX 8
#define PG_ALERT_EVENTS_MAX 16 /* events named in an alert; count says how many matched */

enum pg_alert_level {
	PG_LEVEL_NONE = 0, /* not given */
	PG_LEVEL_INFORMATIONAL = 1,
	PG_LEVEL_LOW = 2,
	PG_LEVEL_MEDIUM = 3,
	PG_LEVEL_HIGH = 4,
	PG_LEVEL_CRITICAL = 5,
	PG_LEVEL_COUNT
};

/* An event by identity: its process (pid, start_ns), its time and type. */
struct pg_alert_ref {
	__u64 ts_ns;
	__u64 start_ns;
	__u32 pid;
	__u16 type;
	__u16 pad;
};

struct pg_alert_event {
	struct pg_event_hdr hdr; /* of the event that completed the match */
	__u32 count; /* events that made the match: 1 for a single-event rule */
	__u8 level; /* enum pg_alert_level */
	__u8 ntags;
	__u8 ngroup; /* group-by pairs in group */
	__u8 nevents; /* entries used in events: the last ones of the match, oldest first */
	__u16 tags_len; /* bytes used in tags */
	__u16 group_len; /* bytes used in group */
	__u32 pad;
	char rule_id[PG_ALERT_ID_LEN];
	char title[PG_ALERT_TITLE_LEN];
	char tags[PG_ALERT_TAGS_LEN];
	char group[PG_ALERT_GROUP_LEN];
	struct pg_alert_ref events[PG_ALERT_EVENTS_MAX];
};

/* Storage for any record; a source keeps one and reuses it. */
union pg_record {
	struct pg_event_hdr hdr;
	struct pg_exec_event exec;
	struct pg_fork_event fork;
	struct pg_exit_event exit;
	struct pg_open_event open;
	struct pg_connect_event connect;
	struct pg_dns_event dns;
	struct pg_setid_event setid;
	struct pg_packet_event packet;
	struct pg_ptrace_event ptrace;
	struct pg_alert_event alert;
};

/*
 * What the process table (src/proctable.h) knows of the event's process: its binary and
 * command line, its parent's, and the binaries up the tree. Userspace enrichment, like node
 * and pod: NULL (or nancestors 0) means unknown.
 */
#define PG_PROC_ANCESTORS 8 /* binaries kept up the tree: the parent, its parent, ... */
#define PG_CMDLINE_LEN PG_ARGV_LEN /* argv joined by spaces, NUL included */

/*
 * The process fields as the NDJSON encoder last wrote them for this process (",\"exe\":..."),
 * kept with the process table's entry so that each event of a process copies them instead of
 * escaping ~500 bytes of strings again (measured: pg_json_put_string and strlen took ~20 % of
 * the reader at 580 k events/s). The table forgets it whenever one of the fields changes.
 */
struct pg_proc_memo {
	char *json;
	uint32_t len;
};

struct pg_event_proc {
	const char *exe; /* the program: exec's path, or /proc/PID/exe for processes found running */
	const char *cmdline; /* its arguments joined by single spaces */
	const char *parent_exe;
	const char *parent_cmdline;
	const char *ancestors[PG_PROC_ANCESTORS]; /* [0] is the parent's exe, [1] its parent's ... */
	unsigned int nancestors;
	struct pg_proc_memo *memo; /* the table entry's, when these fields are its; else NULL */
};

/*
 * What the Kubernetes API server says about the event's pod (src/pod.h, docs/kubernetes.md).
 * Immutable once made; the strings live in the same allocation. Labels are sorted by key and
 * bounded: at most PG_POD_LABELS_MAX of them and PG_POD_LABELS_BYTES of keys and values (NULs
 * included); labels past either bound are left out (the first ones by key are kept) and
 * labels_truncated says so.
 */
#define PG_POD_LABELS_MAX 32
#define PG_POD_LABELS_BYTES 4096

struct pg_label {
	const char *key;
	const char *value;
};

struct pg_pod_meta {
	const char *namespace;
	const char *name;
	/* the controller that owns the pod, followed up to the workload a person manages (a
	 * Deployment rather than its ReplicaSet); both NULL for a pod nothing owns */
	const char *workload_kind; /* "Deployment", "DaemonSet", "StatefulSet", "Job", ... */
	const char *workload;
	const struct pg_label *labels;
	unsigned int nlabels;
	bool labels_truncated;
};

/*
 * Userspace-only facts about where the event came from. NULL means unknown. The strings are
 * borrowed: whoever set them (an enrich cache, the replay decoder) keeps them alive at least
 * until the source produces its next event. Stages may point them elsewhere; nobody frees them.
 */
struct pg_event_meta {
	const char *node;
	const char *cgroup; /* cgroup v2 path relative to the mount, e.g. "/system.slice/x.service" */
	const char *container_id;
	const char *pod_uid;
	const struct pg_pod_meta *pod; /* namespace, name, labels, workload; NULL: unknown */
	struct pg_event_proc proc;

	/* a policy's decision (src/policy.h, docs/enforce.md): "kill", "deny", "would_kill",
	 * "would_deny" or "alert", and the policy and rule that made it; NULL: none */
	const char *action;
	const char *policy;
	const char *rule;
};

struct pg_event {
	union pg_record r;
	struct pg_event_meta meta;
};

/* "exec", "open", ... for a type; NULL when the type is unknown. */
const char *pg_event_type_name(unsigned int type);
/* The type named by a string of length len; PG_EV_NONE when unknown. */
unsigned int pg_event_type_from_name(const char *name, size_t len);
/* sizeof the record struct of a type; 0 when unknown. */
size_t pg_event_record_size(unsigned int type);
/*
 * Records from the kernel's ring buffer (src/record.c): untrusted bytes, checked.
 *
 * pg_event_record_accept: the bytes of a record the reader must take: hdr.size when the type
 * is known and hdr.size lies between the type's shortest form (open and exec may end early,
 * see pg_abi.h) and its full size, and avail (the bytes the ring handed over) covers it; else 0.
 *
 * pg_event_from_record: the event a ring record stands for, completed in userspace (argc and
 * the argument cap of exec, the parsed question of dns), with hdr.size the full size and the
 * rest of a short record zeroed; ts_ns stays boot time. -1 when the record is malformed.
 */
size_t pg_event_record_accept(const struct pg_event_hdr *h, size_t avail);
int pg_event_from_record(struct pg_event *ev, const void *data, size_t size);
/* Start a record of a type: zero it and set hdr.type and hdr.size. */
void pg_event_init(struct pg_event *ev, unsigned int type);

/* "informational", "low", "medium", "high", "critical"; NULL for PG_LEVEL_NONE and unknown. */
const char *pg_alert_level_name(unsigned int level);
/* PG_LEVEL_NONE when the name is not a level. */
unsigned int pg_alert_level_from_name(const char *name, size_t len);

/* "kill", "deny", "would_kill", "would_deny", "alert" (enum pg_action); NULL for PG_ACT_NONE
 * and unknown. */
const char *pg_action_name(unsigned int action);
/* The enum pg_action named by s (length len); PG_ACT_NONE when none is. */
unsigned int pg_action_from_name(const char *s, size_t len);

/* Names of the ptrace requests reported ("attach", ...); NULL when not one of them. */
const char *pg_ptrace_request_name(unsigned int request);
int pg_ptrace_request_from_name(const char *name, size_t len); /* -1 when unknown */

/* Names of enum pg_setid_call values ("setuid", ...); NULL when unknown. */
const char *pg_setid_call_name(unsigned int call);
unsigned int pg_setid_call_from_name(const char *name, size_t len);

/* DNS record type names ("A", "AAAA", ...); NULL when pangolin has no name for it. */
const char *pg_dns_type_name(unsigned int qtype);
/* 0 when unknown; accepts "TYPE<n>" (RFC 3597) too. */
unsigned int pg_dns_type_from_name(const char *name, size_t len);

/*
 * Fields as the filter language and the encoders name them. Each field lives at a per-type
 * offset in the record (or in meta); types that lack it have offset -1.
 */
enum pg_field_kind {
	PG_FK_UINT, /* unsigned integer of size 1, 2, 4 or 8 */
	PG_FK_INT, /* signed integer of size 4 */
	PG_FK_STR, /* NUL-terminated char array of the given size */
	PG_FK_ADDR, /* 16-byte address; family at a sibling field */
	PG_FK_TYPE, /* the event type, compared by name */
	PG_FK_ARGV, /* argv joined by spaces */
	PG_FK_META, /* a string in struct pg_event_meta */
	PG_FK_QTYPE, /* a DNS type, compared by name or number */
	PG_FK_FAMILY, /* AF_INET/AF_INET6, compared as "inet"/"inet6" or a number */
	PG_FK_SETID_CALL, /* enum pg_setid_call, compared by name */
	PG_FK_IP_PROTO, /* IPPROTO_*, compared as "tcp", "udp", ... or a number */
	PG_FK_DIRECTION, /* PG_PKT_DIR_*, compared as "in" or "out" */
	PG_FK_RCODE, /* DNS RCODE, compared as "NXDOMAIN", ... or a number */
	PG_FK_TCP_FLAGS, /* TCP flags byte, compared as "SYN|ACK" or a number */
	PG_FK_DNS_ANSWERS, /* the data of every DNS answer, joined by spaces, as a string */
	PG_FK_FLAG, /* one bit (mask) of a u32 flags word: 1 when set, else 0 */
	PG_FK_PTRACE_REQUEST, /* a ptrace request, compared as "attach", ... or a number */
	PG_FK_ANCESTORS, /* meta.proc.ancestors: a comparison holds when it holds for one of them */
	PG_FK_POD, /* a string of meta.pod (namespace, pod, workload): pod_off in struct pg_pod_meta */
	PG_FK_LABELS, /* meta.pod's labels, each "key=value": as ancestors, one is enough */
};

enum pg_field_id {
	PG_FLD_TYPE,
	PG_FLD_TS,
	PG_FLD_PID,
	PG_FLD_TID,
	PG_FLD_PPID,
	PG_FLD_UID,
	PG_FLD_GID,
	PG_FLD_COMM,
	PG_FLD_CGROUP_ID,
	PG_FLD_START_NS,
	PG_FLD_NODE,
	PG_FLD_CGROUP,
	PG_FLD_CONTAINER_ID,
	PG_FLD_POD_UID,
	PG_FLD_EXE,
	PG_FLD_CMDLINE,
	PG_FLD_PARENT_EXE,
	PG_FLD_PARENT_CMDLINE,
	PG_FLD_ANCESTORS,
	PG_FLD_NAMESPACE,
	PG_FLD_POD,
	PG_FLD_WORKLOAD_KIND,
	PG_FLD_WORKLOAD,
	PG_FLD_LABELS,
	PG_FLD_PATH,
	PG_FLD_ARGV,
	PG_FLD_ARGC,
	PG_FLD_CHILD_PID,
	PG_FLD_CHILD_START_NS,
	PG_FLD_EXIT_CODE,
	PG_FLD_SIGNAL,
	PG_FLD_LIFETIME_NS,
	PG_FLD_DIRFD,
	PG_FLD_FLAGS,
	PG_FLD_MODE,
	PG_FLD_RET,
	PG_FLD_FAMILY,
	PG_FLD_DADDR,
	PG_FLD_DPORT,
	PG_FLD_FD,
	PG_FLD_QNAME,
	PG_FLD_QTYPE,
	PG_FLD_DNS_ID,
	PG_FLD_CALL,
	PG_FLD_ID_REAL,
	PG_FLD_ID_EFFECTIVE,
	PG_FLD_ID_SAVED,
	/* packet */
	PG_FLD_IFINDEX,
	PG_FLD_IFNAME,
	PG_FLD_DIRECTION,
	PG_FLD_LEN,
	PG_FLD_CAPLEN,
	PG_FLD_ETHERTYPE,
	PG_FLD_VLAN,
	PG_FLD_SADDR,
	PG_FLD_SPORT,
	PG_FLD_IP_PROTO,
	PG_FLD_TCP_FLAGS,
	PG_FLD_QR,
	PG_FLD_RCODE,
	PG_FLD_ANSWERS,
	PG_FLD_REQUEST,
	PG_FLD_TARGET_PID,
	PG_FLD_ADDR,
	/* flags: a bare name is a condition ("io_uring", "not snapshot") */
	PG_FLD_PATH_TRUNCATED,
	PG_FLD_ARGV_TRUNCATED,
	PG_FLD_SNAPSHOT,
	PG_FLD_EXE_UNLINKED,
	PG_FLD_IO_URING,
	PG_FLD_CORE_DUMPED,
	/* a policy's decision */
	PG_FLD_ACTION,
	PG_FLD_POLICY,
	PG_FLD_RULE,
	PG_FLD_COUNT
};

struct pg_field {
	const char *name;
	enum pg_field_kind kind;
	unsigned short size; /* bytes of the value in the record */
	short common; /* header fields: offset + 1 in every type; 0 for payload fields */
	short off[PG_EV_TYPE_COUNT]; /* payload fields: offset per type; 0 when the type lacks it */
	short meta_off; /* PG_FK_META: offset of a const char * in struct pg_event_meta */
	short pod_off; /* PG_FK_POD: offset of a const char * in struct pg_pod_meta */
	unsigned int mask; /* PG_FK_FLAG: the bit in the word at off */
};

extern const struct pg_field pg_fields[PG_FLD_COUNT];

/* The process table's fields (exe ... ancestors): they exist only where the table runs. */
static inline bool pg_field_is_process(const struct pg_field *f)
{
	return f >= &pg_fields[PG_FLD_EXE] && f <= &pg_fields[PG_FLD_ANCESTORS];
}

/* The pod's fields (namespace ... labels): userspace only, from the API server (pod.h). */
static inline bool pg_field_is_pod(const struct pg_field *f)
{
	return f >= &pg_fields[PG_FLD_NAMESPACE] && f <= &pg_fields[PG_FLD_LABELS];
}

/* A PG_FK_POD field's value; NULL when the event's pod, or that field of it, is unknown. */
static inline const char *pg_field_pod(const struct pg_event *ev, const struct pg_field *f)
{
	return ev->meta.pod ? *(const char *const *)((const char *)ev->meta.pod + f->pod_off) : NULL;
}

/* "key=value" of label i of the event's pod into buf (cap bytes); its length. */
size_t pg_label_text(const struct pg_label *l, char *buf, size_t cap);

/* The field named name (length len); NULL when there is none. */
const struct pg_field *pg_field_lookup(const char *name, size_t len);

/* Offset of field f in records of this event's type, or -1 if the type lacks it. */
static inline int pg_field_offset(const struct pg_field *f, unsigned int type)
{
	if (f->common)
		return f->common - 1;
	if (type >= PG_EV_TYPE_COUNT || !f->off[type])
		return -1;
	return f->off[type];
}

/* Read an integer field (UINT/INT/FAMILY/QTYPE/SETID_CALL kinds) of the event's record. */
int64_t pg_field_int(const struct pg_event *ev, const struct pg_field *f, int off);

#endif /* PANGOLIN_EVENT_H */
