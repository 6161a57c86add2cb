// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Strict NDJSON decoder for pangolin events.
 *
 * One pass over the line: each key is matched (first against the key the canonical order
 * predicts, then against the whole table), its value parsed straight into typed storage, and
 * only when the object closes is the record assembled, because JSON does not promise that
 * "type" comes before the fields that depend on it. Nothing recurses, so deep nesting costs
 * nothing but an error at the first unexpected '[' or '{'.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns.h"
#include "json.h"
#include "packet.h"

enum key {
	K_V, K_TYPE, K_TIME, K_TS, K_PID, K_TID, K_PPID, K_UID, K_GID, K_COMM, K_CGROUP_ID,
	K_START_NS, K_NODE, K_CGROUP, K_CONTAINER_ID, K_POD_UID,
	K_NAMESPACE, K_POD, K_WORKLOAD_KIND, K_WORKLOAD, K_LABELS, K_LABELS_TRUNCATED,
	K_PATH, K_ARGV, K_PATH_TRUNCATED, K_ARGV_TRUNCATED,
	K_CHILD_PID, K_CHILD_START_NS,
	K_EXIT_CODE, K_SIGNAL, K_LIFETIME_NS, K_CORE_DUMPED,
	K_DIRFD, K_FLAGS, K_MODE, K_RET,
	K_FAMILY, K_DADDR, K_DPORT, K_FD,
	K_TRANSPORT, K_MALFORMED, K_DNS_ID, K_QNAME, K_QTYPE, K_QCLASS,
	K_CALL, K_ID_REAL, K_ID_EFFECTIVE, K_ID_SAVED,
	K_IFINDEX, K_IFNAME, K_DIRECTION, K_LEN, K_CAPLEN, K_ETHERTYPE, K_VLAN, K_SADDR,
	K_IP_PROTO, K_SPORT, K_TCP_FLAGS, K_FRAGMENT, K_TRUNCATED, K_QR, K_RCODE, K_ANSWERS,
	K_ANSWERS_TRUNCATED, K_DNS_ERROR, K_IO_URING, K_SNAPSHOT, K_EXE_UNLINKED,
	K_REQUEST, K_TARGET_PID, K_ADDR,
	K_EXE, K_CMDLINE, K_PARENT_EXE, K_PARENT_CMDLINE, K_ANCESTORS,
	K_RULE_ID, K_TITLE, K_LEVEL, K_TAGS, K_MATCH_COUNT, K_EVENTS, K_GROUP_BY,
	K_ACTION, K_POLICY, K_RULE,
	K_COUNT
};

/* A set of keys: one bit per key, in a 128-bit word (gcc and clang on 64-bit targets). */
typedef unsigned __int128 keyset;
_Static_assert(K_COUNT <= 128, "json_decode: more keys than bits in a keyset");

/* The lowest key in a non-empty set. */
static inline int keyset_first(keyset s)
{
	unsigned long long lo = (unsigned long long)s;

	return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((unsigned long long)(s >> 64));
}

/* V_NAME_OR_NUM: a name (a string, looked up per key) or a plain number: family, ip_proto, request */
/* V_STRLIST: an array of strings (ancestors, tags); V_EVENTS, V_GROUP: an alert's parts;
 * V_LABELS: an object of strings (a pod's labels) */
enum vkind { V_UINT, V_INT, V_STR, V_BOOL, V_ARGV, V_NAME_OR_NUM, V_ANSWERS, V_LABELS,
	     V_STRLIST, V_EVENTS, V_GROUP };

struct keydef {
	const char *name;
	unsigned char len;
	unsigned char kind;
	unsigned short strmax; /* V_STR: buffer size, NUL included */
	unsigned long long max; /* V_UINT: largest value; V_INT: s32 */
};

/* String sizes match pg_abi.h and struct pg_json_decoder. */
static const struct keydef keydefs[K_COUNT] = {
	[K_V] = { "v", 1, V_UINT, 0, 0xffff },
	[K_TYPE] = { "type", 4, V_STR, 16, 0 },
	[K_TIME] = { "time", 4, V_STR, 64, 0 },
	[K_TS] = { "ts", 2, V_UINT, 0, ~0ULL },
	[K_PID] = { "pid", 3, V_UINT, 0, 0xffffffffULL },
	[K_TID] = { "tid", 3, V_UINT, 0, 0xffffffffULL },
	[K_PPID] = { "ppid", 4, V_UINT, 0, 0xffffffffULL },
	[K_UID] = { "uid", 3, V_UINT, 0, 0xffffffffULL },
	[K_GID] = { "gid", 3, V_UINT, 0, 0xffffffffULL },
	[K_COMM] = { "comm", 4, V_STR, PG_COMM_LEN, 0 },
	[K_CGROUP_ID] = { "cgroup_id", 9, V_UINT, 0, ~0ULL },
	[K_START_NS] = { "start_ns", 8, V_UINT, 0, ~0ULL },
	[K_NODE] = { "node", 4, V_STR, PG_JSON_META_LEN, 0 },
	[K_CGROUP] = { "cgroup", 6, V_STR, PG_JSON_CGROUP_LEN, 0 },
	[K_CONTAINER_ID] = { "container_id", 12, V_STR, PG_JSON_META_LEN, 0 },
	[K_POD_UID] = { "pod_uid", 7, V_STR, PG_JSON_META_LEN, 0 },
	[K_NAMESPACE] = { "namespace", 9, V_STR, PG_POD_NAME_MAX + 1, 0 },
	[K_POD] = { "pod", 3, V_STR, PG_POD_NAME_MAX + 1, 0 },
	[K_WORKLOAD_KIND] = { "workload_kind", 13, V_STR, PG_POD_KIND_MAX + 1, 0 },
	[K_WORKLOAD] = { "workload", 8, V_STR, PG_POD_NAME_MAX + 1, 0 },
	[K_LABELS] = { "labels", 6, V_LABELS, 0, 0 },
	[K_LABELS_TRUNCATED] = { "labels_truncated", 16, V_BOOL, 0, 0 },
	[K_PATH] = { "path", 4, V_STR, PG_PATH_LEN, 0 },
	[K_ARGV] = { "argv", 4, V_ARGV, PG_ARGV_LEN, 0 },
	[K_PATH_TRUNCATED] = { "path_truncated", 14, V_BOOL, 0, 0 },
	[K_ARGV_TRUNCATED] = { "argv_truncated", 14, V_BOOL, 0, 0 },
	[K_CHILD_PID] = { "child_pid", 9, V_UINT, 0, 0xffffffffULL },
	[K_CHILD_START_NS] = { "child_start_ns", 14, V_UINT, 0, ~0ULL },
	[K_EXIT_CODE] = { "exit_code", 9, V_INT, 0, 0 },
	[K_SIGNAL] = { "signal", 6, V_UINT, 0, 0xffffffffULL },
	[K_LIFETIME_NS] = { "lifetime_ns", 11, V_UINT, 0, ~0ULL },
	[K_CORE_DUMPED] = { "core_dumped", 11, V_BOOL, 0, 0 },
	[K_DIRFD] = { "dirfd", 5, V_INT, 0, 0 },
	[K_FLAGS] = { "flags", 5, V_UINT, 0, 0xffffffffULL },
	[K_MODE] = { "mode", 4, V_UINT, 0, 0xffffffffULL },
	[K_RET] = { "ret", 3, V_INT, 0, 0 },
	[K_FAMILY] = { "family", 6, V_NAME_OR_NUM, 8, 0xffff },
	[K_DADDR] = { "daddr", 5, V_STR, 48, 0 },
	[K_DPORT] = { "dport", 5, V_UINT, 0, 0xffff },
	[K_FD] = { "fd", 2, V_INT, 0, 0 },
	[K_TRANSPORT] = { "transport", 9, V_STR, 8, 0 },
	[K_MALFORMED] = { "malformed", 9, V_BOOL, 0, 0 },
	[K_DNS_ID] = { "dns_id", 6, V_UINT, 0, 0xffff },
	[K_QNAME] = { "qname", 5, V_STR, PG_QNAME_LEN, 0 },
	[K_QTYPE] = { "qtype", 5, V_STR, 16, 0 },
	[K_QCLASS] = { "qclass", 6, V_UINT, 0, 0xffff },
	[K_CALL] = { "call", 4, V_STR, 16, 0 },
	[K_ID_REAL] = { "id_real", 7, V_UINT, 0, 0xffffffffULL },
	[K_ID_EFFECTIVE] = { "id_effective", 12, V_UINT, 0, 0xffffffffULL },
	[K_ID_SAVED] = { "id_saved", 8, V_UINT, 0, 0xffffffffULL },
	[K_IFINDEX] = { "ifindex", 7, V_UINT, 0, 0xffffffffULL },
	[K_IFNAME] = { "ifname", 6, V_STR, 16, 0 },
	[K_DIRECTION] = { "direction", 9, V_STR, 8, 0 },
	[K_LEN] = { "len", 3, V_UINT, 0, 0xffffffffULL },
	[K_CAPLEN] = { "caplen", 6, V_UINT, 0, 0xffffffffULL },
	[K_ETHERTYPE] = { "ethertype", 9, V_UINT, 0, 0xffff },
	[K_VLAN] = { "vlan", 4, V_UINT, 0, 0xfff },
	[K_SADDR] = { "saddr", 5, V_STR, 48, 0 },
	[K_IP_PROTO] = { "ip_proto", 8, V_NAME_OR_NUM, 16, 0xff },
	[K_SPORT] = { "sport", 5, V_UINT, 0, 0xffff },
	[K_TCP_FLAGS] = { "tcp_flags", 9, V_STR, 48, 0 },
	[K_FRAGMENT] = { "fragment", 8, V_BOOL, 0, 0 },
	[K_TRUNCATED] = { "truncated", 9, V_BOOL, 0, 0 },
	[K_QR] = { "qr", 2, V_BOOL, 0, 0 },
	[K_RCODE] = { "rcode", 5, V_STR, 16, 0 },
	[K_ANSWERS] = { "answers", 7, V_ANSWERS, 0, 0 },
	[K_ANSWERS_TRUNCATED] = { "answers_truncated", 17, V_BOOL, 0, 0 },
	[K_DNS_ERROR] = { "dns_error", 9, V_STR, 24, 0 },
	[K_IO_URING] = { "io_uring", 8, V_BOOL, 0, 0 },
	[K_SNAPSHOT] = { "snapshot", 8, V_BOOL, 0, 0 },
	[K_EXE_UNLINKED] = { "exe_unlinked", 12, V_BOOL, 0, 0 },
	[K_REQUEST] = { "request", 7, V_NAME_OR_NUM, 16, 0xffffffffULL },
	[K_TARGET_PID] = { "target_pid", 10, V_UINT, 0, 0xffffffffULL },
	[K_ADDR] = { "addr", 4, V_UINT, 0, ~0ULL },
	[K_EXE] = { "exe", 3, V_STR, PG_PATH_LEN, 0 },
	[K_CMDLINE] = { "cmdline", 7, V_STR, PG_CMDLINE_LEN, 0 },
	[K_PARENT_EXE] = { "parent_exe", 10, V_STR, PG_PATH_LEN, 0 },
	[K_PARENT_CMDLINE] = { "parent_cmdline", 14, V_STR, PG_CMDLINE_LEN, 0 },
	/* V_STRLIST: strmax bytes per string, max strings */
	[K_ANCESTORS] = { "ancestors", 9, V_STRLIST, PG_PATH_LEN, PG_PROC_ANCESTORS },
	[K_RULE_ID] = { "rule_id", 7, V_STR, PG_ALERT_ID_LEN, 0 },
	[K_TITLE] = { "title", 5, V_STR, PG_ALERT_TITLE_LEN, 0 },
	[K_LEVEL] = { "level", 5, V_STR, 16, 0 },
	[K_TAGS] = { "tags", 4, V_STRLIST, PG_ALERT_TAGS_LEN, PG_ALERT_TAGS_MAX },
	[K_MATCH_COUNT] = { "count", 5, V_UINT, 0, 0xffffffffULL },
	[K_EVENTS] = { "events", 6, V_EVENTS, 0, PG_ALERT_EVENTS_MAX },
	[K_GROUP_BY] = { "group_by", 8, V_GROUP, PG_ALERT_GROUP_LEN, PG_ALERT_GROUP_MAX },
	[K_ACTION] = { "action", 6, V_STR, 16, 0 },
	[K_POLICY] = { "policy", 6, V_STR, PG_JSON_NAME_LEN, 0 },
	[K_RULE] = { "rule", 4, V_STR, PG_JSON_NAME_LEN, 0 },
};

#define BIT(k) ((keyset)1 << (k))
#define COMMON_REQUIRED                                                                      \
	(BIT(K_V) | BIT(K_TYPE) | BIT(K_TS) | BIT(K_PID) | BIT(K_TID) | BIT(K_PPID) |        \
	 BIT(K_UID) | BIT(K_GID) | BIT(K_COMM) | BIT(K_CGROUP_ID) | BIT(K_START_NS))
#define POD_KEYS                                                                              \
	(BIT(K_NAMESPACE) | BIT(K_POD) | BIT(K_WORKLOAD_KIND) | BIT(K_WORKLOAD) | BIT(K_LABELS) | \
	 BIT(K_LABELS_TRUNCATED))
#define PROC_KEYS                                                                            \
	(BIT(K_EXE) | BIT(K_CMDLINE) | BIT(K_PARENT_EXE) | BIT(K_PARENT_CMDLINE) | BIT(K_ANCESTORS))
/* a policy's decision: the three together or none */
#define ACTION_KEYS (BIT(K_ACTION) | BIT(K_POLICY) | BIT(K_RULE))
#define COMMON_OPTIONAL                                                                      \
	(BIT(K_TIME) | BIT(K_NODE) | BIT(K_CGROUP) | BIT(K_CONTAINER_ID) | BIT(K_POD_UID) |    \
	 POD_KEYS | PROC_KEYS | ACTION_KEYS)

/* Packet keys that come as a group: all or none. */
#define PKT_IP_KEYS                                                                          \
	(BIT(K_FAMILY) | BIT(K_SADDR) | BIT(K_DADDR) | BIT(K_IP_PROTO) | BIT(K_SPORT) |        \
	 BIT(K_DPORT))
#define PKT_DNS_KEYS (BIT(K_DNS_ID) | BIT(K_RCODE) | BIT(K_ANSWERS))
#define PKT_QUESTION_KEYS (BIT(K_QNAME) | BIT(K_QTYPE) | BIT(K_QCLASS))

/* Payload keys per type: required, then optional (absent means false). */
static const keyset type_required[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = BIT(K_PATH) | BIT(K_ARGV),
	[PG_EV_FORK] = BIT(K_CHILD_PID) | BIT(K_CHILD_START_NS),
	[PG_EV_EXIT] = BIT(K_EXIT_CODE) | BIT(K_SIGNAL) | BIT(K_LIFETIME_NS),
	[PG_EV_OPEN] = BIT(K_DIRFD) | BIT(K_FLAGS) | BIT(K_MODE) | BIT(K_RET) | BIT(K_PATH),
	[PG_EV_CONNECT] = BIT(K_FAMILY) | BIT(K_DADDR) | BIT(K_DPORT) | BIT(K_FD) | BIT(K_RET),
	[PG_EV_DNS] = BIT(K_FAMILY) | BIT(K_DADDR) | BIT(K_DPORT) | BIT(K_TRANSPORT),
	[PG_EV_SETID] = BIT(K_CALL) | BIT(K_RET) | BIT(K_ID_REAL) | BIT(K_ID_EFFECTIVE) |
			BIT(K_ID_SAVED),
	[PG_EV_PACKET] = BIT(K_IFINDEX) | BIT(K_IFNAME) | BIT(K_DIRECTION) | BIT(K_LEN) |
			 BIT(K_CAPLEN) | BIT(K_ETHERTYPE),
	[PG_EV_PTRACE] = BIT(K_REQUEST) | BIT(K_RET) | BIT(K_TARGET_PID) | BIT(K_ADDR),
	[PG_EV_ALERT] = BIT(K_RULE_ID) | BIT(K_TITLE) | BIT(K_TAGS) | BIT(K_MATCH_COUNT) |
			BIT(K_EVENTS),
};
static const keyset type_optional[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = BIT(K_PATH_TRUNCATED) | BIT(K_ARGV_TRUNCATED) | BIT(K_SNAPSHOT) |
		       BIT(K_EXE_UNLINKED),
	[PG_EV_EXIT] = BIT(K_CORE_DUMPED),
	[PG_EV_OPEN] = BIT(K_PATH_TRUNCATED) | BIT(K_IO_URING),
	[PG_EV_CONNECT] = BIT(K_IO_URING),
	[PG_EV_DNS] = BIT(K_MALFORMED) | BIT(K_DNS_ID) | BIT(K_QNAME) | BIT(K_QTYPE) |
		      BIT(K_QCLASS) | BIT(K_IO_URING),
	[PG_EV_PACKET] = PKT_IP_KEYS | BIT(K_TCP_FLAGS) | BIT(K_VLAN) | BIT(K_FRAGMENT) |
			 BIT(K_TRUNCATED) | PKT_DNS_KEYS | PKT_QUESTION_KEYS | BIT(K_QR) |
			 BIT(K_ANSWERS_TRUNCATED) | BIT(K_DNS_ERROR),
	[PG_EV_ALERT] = BIT(K_LEVEL) | BIT(K_GROUP_BY),
};
/* Keys the canonical form may leave out: prediction looks past them. */
#define PREDICT_SKIPPABLE                                                                    \
	(COMMON_OPTIONAL | BIT(K_PATH_TRUNCATED) | BIT(K_ARGV_TRUNCATED) | BIT(K_CORE_DUMPED) | \
	 BIT(K_MALFORMED) | BIT(K_IO_URING) | BIT(K_SNAPSHOT) | BIT(K_EXE_UNLINKED) |          \
	 type_optional[PG_EV_PACKET] | type_optional[PG_EV_ALERT])
#define DNS_PARSED_KEYS (BIT(K_DNS_ID) | BIT(K_QNAME) | BIT(K_QTYPE) | BIT(K_QCLASS))

/* Canonical key order, to predict the next key: common keys, then each type's payload. */
static const unsigned char order_common[] = { K_V, K_TYPE, K_TIME, K_TS, K_PID, K_TID, K_PPID,
					      K_UID, K_GID, K_COMM, K_CGROUP_ID, K_START_NS,
					      K_NODE, K_CGROUP, K_CONTAINER_ID, K_POD_UID,
					      K_NAMESPACE, K_POD, K_WORKLOAD_KIND, K_WORKLOAD,
					      K_LABELS, K_LABELS_TRUNCATED, K_EXE, K_CMDLINE,
					      K_PARENT_EXE, K_PARENT_CMDLINE, K_ANCESTORS };

struct state {
	const char *line;
	size_t len;
	size_t pos;
	struct pg_json_error *err;
	struct pg_json_decoder *dec;
	keyset seen;
	long long num[K_COUNT];
	unsigned char b[K_COUNT]; /* booleans */
	size_t slen[K_COUNT];
	char small[K_COUNT][64]; /* short strings (type, time, daddr, family, ...) */
	char comm[PG_COMM_LEN];
	/* where each key and its value start, so errors found after the object closed (unknown
	 * type, bad address, a field the type lacks) still point at the field they are about */
	size_t kpos[K_COUNT], vpos[K_COUNT];
	bool family_num; /* "family" was given as a number, not "inet"/"inet6" */
	unsigned int argc;
	size_t argv_len;
	struct pg_dns_answer answers[PG_PKT_DNS_ANSWERS];
	unsigned int nanswers;
	unsigned int nlabels;
	/* V_STRLIST values: packed strings (ancestors in dec->ancestors, tags here) */
	unsigned int nlist[K_COUNT];
	size_t listlen[K_COUNT];
	char tags[PG_ALERT_TAGS_LEN];
	char title[PG_ALERT_TITLE_LEN];
	char rule_id[PG_ALERT_ID_LEN];
	char group[PG_ALERT_GROUP_LEN];
	size_t group_len;
	unsigned int ngroup;
	struct pg_alert_ref events[PG_ALERT_EVENTS_MAX];
	unsigned int nevents;
};

__attribute__((format(printf, 3, 4))) static int fail(struct state *st, size_t pos,
							  const char *fmt, ...)
{
	va_list ap;

	st->err->column = pos + 1;
	va_start(ap, fmt);
	vsnprintf(st->err->msg, sizeof(st->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static inline void skip_ws(struct state *st)
{
	while (st->pos < st->len) {
		char c = st->line[st->pos];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
		st->pos++;
	}
}

static bool literal_at(const struct state *st, size_t pos, const char *lit, size_t n)
{
	return st->len - pos >= n && !memcmp(st->line + pos, lit, n);
}

/* What the parser found at pos, for "expected X, found Y" messages. */
static const char *found_what(const struct state *st, size_t pos)
{
	if (pos >= st->len)
		return "end of line";
	switch (st->line[pos]) {
	case '{': return "an object";
	case '[': return "an array";
	case '"': return "a string";
	case '}': return "'}'";
	case ']': return "']'";
	case ',': return "','";
	case ':': return "':'";
	case 't':
	case 'f':
		if (literal_at(st, pos, "true", 4) || literal_at(st, pos, "false", 5))
			return "a boolean";
		return "an invalid literal";
	case 'n': return literal_at(st, pos, "null", 4) ? "null" : "an invalid literal";
	case '-':
		if (pos + 1 < st->len && st->line[pos + 1] >= '0' && st->line[pos + 1] <= '9')
			return "a number";
		return "an invalid character";
	case '0' ... '9': return "a number";
	case '\xef':
		if (literal_at(st, pos, "\xef\xbb\xbf", 3))
			return "a UTF-8 byte order mark (only the start of a recording may have one)";
		return "an invalid character";
	default: return "an invalid character";
	}
}

/*
 * A string from the input, made safe to quote in an error message: bytes that are not
 * printable ASCII become '?', and long ones are cut with "...".
 */
static const char *shown(const char *s, size_t n, char *buf, size_t size)
{
	size_t i, max = size - 4;

	for (i = 0; i < n && i < max; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + i, n > max ? "..." : "");
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_u16hex(struct state *st, const char *field, size_t at, unsigned int *out)
{
	unsigned int v = 0;

	if (at + 4 > st->len)
		return fail(st, at, "field \"%s\": truncated \\u escape", field);
	for (int i = 0; i < 4; i++) {
		int h = hexval(st->line[at + i]);

		if (h < 0)
			return fail(st, at + i, "field \"%s\": invalid hex digit in \\u escape", field);
		v = v * 16 + (unsigned int)h;
	}
	*out = v;
	return 0;
}

/* Length of a valid UTF-8 sequence at p, 0 if invalid (same rules as the encoder). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Parse a JSON string at pos (which holds '"') into dst (cap bytes, NUL added). \udc80..\udcff
 * alone become the raw bytes 0x80..0xff. NUL bytes are refused: every string is a C string.
 * 0; -E2BIG when it does not fit in cap (the message says so; a caller whose cap is what is
 * left of a larger budget says it better); -EINVAL.
 */
static int parse_string(struct state *st, const char *field, char *dst, size_t cap, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)st->line;
	size_t start = st->pos, i = st->pos + 1, n = 0;

	for (;;) {
		size_t run = i;

		while (run < st->len && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		if (run > i) {
			if (n + (run - i) >= cap)
				goto too_long;
			memcpy(dst + n, s + i, run - i);
			n += run - i;
			i = run;
		}
		if (i >= st->len)
			return fail(st, start, "field \"%s\": unterminated string", field);
		unsigned char c = s[i];

		if (c == '"')
			break;
		if (c < 0x20)
			return fail(st, i, "field \"%s\": control character 0x%02x in a string must be escaped",
				    field, c);
		if (c >= 0x80) {
			size_t l = utf8_len(s + i, st->len - i);

			if (!l)
				return fail(st, i, "field \"%s\": invalid UTF-8 byte 0x%02x (write bytes that are not UTF-8 as \\udc80..\\udcff)",
					    field, c);
			if (n + l >= cap)
				goto too_long;
			memcpy(dst + n, s + i, l);
			n += l;
			i += l;
			continue;
		}
		/* backslash */
		if (i + 1 >= st->len)
			return fail(st, i, "field \"%s\": unterminated escape", field);
		char e = (char)s[i + 1];
		unsigned int cp, lo;
		char tmp[4];
		size_t tl = 1;

		switch (e) {
		case '"': tmp[0] = '"'; break;
		case '\\': tmp[0] = '\\'; break;
		case '/': tmp[0] = '/'; break;
		case 'b': tmp[0] = '\b'; break;
		case 'f': tmp[0] = '\f'; break;
		case 'n': tmp[0] = '\n'; break;
		case 'r': tmp[0] = '\r'; break;
		case 't': tmp[0] = '\t'; break;
		case 'u':
			if (read_u16hex(st, field, i + 2, &cp))
				return -EINVAL;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 12 > st->len || s[i + 6] != '\\' || s[i + 7] != 'u')
					return fail(st, i, "field \"%s\": high surrogate \\u%04x without its low half",
						    field, cp);
				if (read_u16hex(st, field, i + 8, &lo))
					return -EINVAL;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(st, i + 6, "field \"%s\": \\u%04x is not a low surrogate",
						    field, lo);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				if (cp < 0xdc80 || cp > 0xdcff)
					return fail(st, i, "field \"%s\": lone surrogate \\u%04x (only \\udc80..\\udcff, raw bytes, may stand alone)",
						    field, cp);
				tmp[0] = (char)(cp - 0xdc00);
				i += 6;
				goto put;
			}
			if (cp == 0)
				return fail(st, i, "field \"%s\": \\u0000 is not allowed (strings are C strings)",
					    field);
			if (cp < 0x80) {
				tmp[0] = (char)cp;
			} else if (cp < 0x800) {
				tmp[0] = (char)(0xc0 | (cp >> 6));
				tmp[1] = (char)(0x80 | (cp & 0x3f));
				tl = 2;
			} else if (cp < 0x10000) {
				tmp[0] = (char)(0xe0 | (cp >> 12));
				tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				tmp[2] = (char)(0x80 | (cp & 0x3f));
				tl = 3;
			} else {
				tmp[0] = (char)(0xf0 | (cp >> 18));
				tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
				tmp[3] = (char)(0x80 | (cp & 0x3f));
				tl = 4;
			}
			i += 4;
			break;
		default:
			return fail(st, i, "field \"%s\": invalid escape \\%c", field,
				    e >= 0x20 && e < 0x7f ? e : '?');
		}
		i += 2;
put:
		if (n + tl >= cap)
			goto too_long;
		memcpy(dst + n, tmp, tl);
		n += tl;
	}
	dst[n] = 0;
	*outlen = n;
	st->pos = i + 1;
	return 0;
too_long:
	fail(st, start, "field \"%s\": string longer than %zu bytes", field, cap - 1);
	return -E2BIG;
}

/*
 * A field name at pos (which holds '"'), with any JSON escape as in values ("p\u0069d" is
 * "pid"): *name points into the line, or into buf when there were escapes, and pos moves past
 * the closing quote. 0; -E2BIG when the decoded name does not fit in buf (no field's name is
 * that long: *name is then the text as written, to show); -EINVAL with the error set.
 */
static int read_key(struct state *st, char *buf, size_t size, const char **name, size_t *len)
{
	const char *s = st->line + st->pos + 1;
	const char *q = memchr(s, '"', st->len - st->pos - 1);
	int rc;

	if (!q)
		return fail(st, st->pos, "unterminated field name");
	*name = s;
	*len = (size_t)(q - s);
	if (!memchr(s, '\\', *len)) {
		st->pos += *len + 2;
		return 0;
	}
	rc = parse_string(st, "(a field name)", buf, size, len);
	if (!rc)
		*name = buf;
	return rc;
}

/* A JSON integer; fractions and exponents are refused (no field holds one). */
static int parse_int(struct state *st, const struct keydef *kd, long long *out)
{
	const char *s = st->line;
	size_t start = st->pos, i = st->pos;
	bool neg = false;
	unsigned long long v = 0;

	if (i < st->len && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= st->len || s[i] < '0' || s[i] > '9')
		return fail(st, start, "field \"%s\": expected %s integer, found %s", kd->name,
			    kd->kind == V_INT ? "an" : "an unsigned", found_what(st, start));
	if (s[i] == '0' && i + 1 < st->len && s[i + 1] >= '0' && s[i + 1] <= '9')
		return fail(st, i, "field \"%s\": leading zeros are not allowed", kd->name);
	while (i < st->len && s[i] >= '0' && s[i] <= '9') {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (v > (~0ULL - d) / 10)
			return fail(st, start, "field \"%s\": number does not fit in 64 bits", kd->name);
		v = v * 10 + d;
		i++;
	}
	if (i < st->len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
		return fail(st, start, "field \"%s\": expected an integer, found a fraction or exponent",
			    kd->name);
	if (kd->kind == V_INT) {
		if ((!neg && v > 0x7fffffffULL) || (neg && v > 0x80000000ULL))
			return fail(st, start, "field \"%s\": %s%llu is out of range for a 32-bit signed integer",
				    kd->name, neg ? "-" : "", v);
		*out = neg ? -(long long)v : (long long)v;
	} else {
		if (neg && v)
			return fail(st, start, "field \"%s\": expected an unsigned integer, found -%llu",
				    kd->name, v);
		if (v > kd->max)
			return fail(st, start, "field \"%s\": %llu is out of range (at most %llu)",
				    kd->name, v, kd->max);
		*out = (long long)v;
	}
	st->pos = i;
	return 0;
}

static int parse_bool(struct state *st, const struct keydef *kd, unsigned char *out)
{
	const char *s = st->line + st->pos;
	size_t left = st->len - st->pos;

	if (left >= 4 && !memcmp(s, "true", 4)) {
		*out = 1;
		st->pos += 4;
		return 0;
	}
	if (left >= 5 && !memcmp(s, "false", 5)) {
		*out = 0;
		st->pos += 5;
		return 0;
	}
	return fail(st, st->pos, "field \"%s\": expected true or false, found %s", kd->name,
		    found_what(st, st->pos));
}

static int parse_argv(struct state *st, const struct keydef *kd)
{
	char *dst = st->dec->argv;
	size_t used = 0, n;

	st->argc = 0;
	if (st->pos >= st->len || st->line[st->pos] != '[')
		return fail(st, st->pos, "field \"argv\": expected an array of strings, found %s",
			    found_what(st, st->pos));
	st->pos++;
	skip_ws(st);
	if (st->pos < st->len && st->line[st->pos] == ']') {
		st->pos++;
		goto done;
	}
	for (;;) {
		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != '"')
			return fail(st, st->pos, "field \"argv\": expected a string, found %s",
				    found_what(st, st->pos));
		if (st->argc == PG_ARGV_MAX)
			return fail(st, st->pos, "field \"argv\": more than %d arguments", PG_ARGV_MAX);
		size_t at = st->pos;
		int rc = used < PG_ARGV_LEN ? parse_string(st, kd->name, dst + used,
							   PG_ARGV_LEN - used, &n)
					    : -E2BIG;

		/* the rule, not what happened to be left of it ("longer than 10 bytes") */
		if (rc == -E2BIG)
			return fail(st, at, "field \"argv\": more than %d bytes in all (each argument's bytes and a NUL)",
				    PG_ARGV_LEN);
		if (rc)
			return -EINVAL;
		used += n + 1;
		st->argc++;
		skip_ws(st);
		if (st->pos < st->len && st->line[st->pos] == ',') {
			st->pos++;
			continue;
		}
		if (st->pos < st->len && st->line[st->pos] == ']') {
			st->pos++;
			break;
		}
		return fail(st, st->pos, "field \"argv\": expected ',' or ']', found %s",
			    found_what(st, st->pos));
	}
done:
	st->argv_len = used;
	return 0;
}

/* A DNS type as the encoder writes it; "TYPE0" too (reserved, but it occurs on the wire). */
static int dns_type_of(const char *s, size_t len)
{
	unsigned int t = pg_dns_type_from_name(s, len);

	if (t)
		return (int)t;
	return len == 5 && !strncasecmp(s, "TYPE0", 5) ? 0 : -1;
}

/*
 * "answers": [{"name": "...", "type": "A", "class": 1, "ttl": 60, "data": "..."}, ...]. One
 * fixed level of nesting, parsed in place; class may be left out (1, IN).
 */
static int parse_answers(struct state *st)
{
	enum { A_NAME, A_TYPE, A_CLASS, A_TTL, A_DATA, A_DATA_TRUNC, A_N };
	static const struct keydef akeys[A_N] = {
		[A_NAME] = { "answers[].name", 4, V_STR, PG_QNAME_LEN, 0 },
		[A_TYPE] = { "answers[].type", 4, V_STR, 16, 0 },
		[A_CLASS] = { "answers[].class", 5, V_UINT, 0, 0xffff },
		[A_TTL] = { "answers[].ttl", 3, V_UINT, 0, 0xffffffffULL },
		[A_DATA] = { "answers[].data", 4, V_STR, PG_QNAME_LEN, 0 },
		[A_DATA_TRUNC] = { "answers[].data_truncated", 14, V_BOOL, 0, 0 },
	};
	static const char *const short_names[A_N] = { "name", "type", "class", "ttl", "data",
						      "data_truncated" };

	st->nanswers = 0;
	if (st->pos >= st->len || st->line[st->pos] != '[')
		return fail(st, st->pos, "field \"answers\": expected an array of objects, found %s",
			    found_what(st, st->pos));
	st->pos++;
	skip_ws(st);
	if (st->pos < st->len && st->line[st->pos] == ']') {
		st->pos++;
		return 0;
	}
	for (;;) {
		struct pg_dns_answer *a;
		unsigned int seen = 0;
		char tname[16], sh[48];
		size_t tlen = 0, n;
		size_t start;

		skip_ws(st);
		start = st->pos;
		if (st->pos >= st->len || st->line[st->pos] != '{')
			return fail(st, st->pos, "field \"answers\": expected an object, found %s",
				    found_what(st, st->pos));
		if (st->nanswers == PG_PKT_DNS_ANSWERS)
			return fail(st, st->pos, "field \"answers\": more than %d answers (the rest is what answers_truncated says)",
				    PG_PKT_DNS_ANSWERS);
		a = &st->answers[st->nanswers];
		memset(a, 0, sizeof(*a));
		a->rclass = 1;
		st->pos++;
		for (;;) {
			const char *kname;
			char kbuf[16];
			size_t klen, kstart;
			int k, rc;
			long long v;
			unsigned char b;

			skip_ws(st);
			if (st->pos >= st->len || st->line[st->pos] != '"')
				return fail(st, st->pos, "field \"answers\": expected a field name in quotes, found %s",
					    found_what(st, st->pos));
			kstart = st->pos;
			rc = read_key(st, kbuf, sizeof(kbuf), &kname, &klen);
			if (rc && rc != -E2BIG)
				return rc;
			for (k = 0; k < A_N && !rc; k++)
				if (strlen(short_names[k]) == klen && !memcmp(short_names[k], kname, klen))
					break;
			/* shown: raw bytes would put control bytes in the message */
			if (rc || k == A_N)
				return fail(st, kstart, "field \"answers\": unknown field \"%s\" in an answer (name, type, class, ttl, data, data_truncated)",
					    shown(kname, klen, sh, sizeof(sh)));
			if (seen & (1u << k))
				return fail(st, st->pos, "field \"answers\": duplicate \"%s\" in an answer",
					    short_names[k]);
			seen |= 1u << k;
			skip_ws(st);
			if (st->pos >= st->len || st->line[st->pos] != ':')
				return fail(st, st->pos, "expected ':' after \"%s\"", short_names[k]);
			st->pos++;
			skip_ws(st);
			switch (k) {
			case A_NAME:
			case A_DATA:
			case A_TYPE:
				if (st->pos >= st->len || st->line[st->pos] != '"')
					return fail(st, st->pos, "field \"%s\": expected a string, found %s",
						    akeys[k].name, found_what(st, st->pos));
				if (parse_string(st, akeys[k].name,
						 k == A_NAME ? a->name : k == A_DATA ? a->data : tname,
						 k == A_TYPE ? sizeof(tname) : PG_QNAME_LEN,
						 k == A_TYPE ? &tlen : &n))
					return -EINVAL;
				break;
			case A_CLASS:
			case A_TTL:
				if (parse_int(st, &akeys[k], &v))
					return -EINVAL;
				if (k == A_CLASS)
					a->rclass = (uint16_t)v;
				else
					a->ttl = (uint32_t)v;
				break;
			case A_DATA_TRUNC:
				if (parse_bool(st, &akeys[k], &b))
					return -EINVAL;
				if (b)
					a->flags |= PG_DNS_ANS_DATA_TRUNC;
				break;
			}
			skip_ws(st);
			if (st->pos < st->len && st->line[st->pos] == ',') {
				st->pos++;
				continue;
			}
			if (st->pos < st->len && st->line[st->pos] == '}') {
				st->pos++;
				break;
			}
			return fail(st, st->pos, "field \"answers\": expected ',' or '}' in an answer, found %s",
				    found_what(st, st->pos));
		}
		for (int k = 0; k < A_N; k++)
			if (k != A_CLASS && k != A_DATA_TRUNC && !(seen & (1u << k)))
				return fail(st, start, "field \"answers\": answer %u has no \"%s\"",
					    st->nanswers + 1, short_names[k]);
		n = (size_t)dns_type_of(tname, tlen);
		if (n == (size_t)-1)
			return fail(st, start, "field \"answers\": unknown DNS type \"%s\" in answer %u (use a name like \"AAAA\" or \"TYPE<n>\")",
				    shown(tname, tlen, sh, sizeof(sh)), st->nanswers + 1);
		a->type = (uint16_t)n;
		if ((a->type == 1 || a->type == 28) &&
		    inet_pton(a->type == 1 ? AF_INET : AF_INET6, a->data, a->addr) != 1)
			return fail(st, start, "field \"answers\": answer %u: \"%s\" is not an %s address (type %s)",
				    st->nanswers + 1, shown(a->data, strlen(a->data), sh, sizeof(sh)),
				    a->type == 1 ? "IPv4" : "IPv6", a->type == 1 ? "A" : "AAAA");
		st->nanswers++;
		skip_ws(st);
		if (st->pos < st->len && st->line[st->pos] == ',') {
			st->pos++;
			continue;
		}
		if (st->pos < st->len && st->line[st->pos] == ']') {
			st->pos++;
			return 0;
		}
		return fail(st, st->pos, "field \"answers\": expected ',' or ']', found %s",
			    found_what(st, st->pos));
	}
}

/*
 * "labels": {"key": "value", ...}, a pod's labels (docs/events.md): at most PG_POD_LABELS_MAX
 * and PG_POD_LABELS_BYTES, the bounds the encoder keeps (it says labels_truncated beyond them).
 * Any key order; assemble() sorts them.
 */
static int parse_labels(struct state *st)
{
	struct pg_json_decoder *dec = st->dec;
	size_t used = 0, n;
	char sh[48];

	st->nlabels = 0;
	if (st->pos >= st->len || st->line[st->pos] != '{')
		return fail(st, st->pos, "field \"labels\": expected an object of strings, found %s",
			    found_what(st, st->pos));
	st->pos++;
	skip_ws(st);
	if (st->pos < st->len && st->line[st->pos] == '}') {
		st->pos++;
		return 0;
	}
	for (;;) {
		struct pg_label *l;

		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != '"')
			return fail(st, st->pos, "field \"labels\": expected a label name in quotes, found %s",
				    found_what(st, st->pos));
		if (st->nlabels == PG_POD_LABELS_MAX)
			return fail(st, st->pos, "field \"labels\": more than %d labels (pangolin keeps at most that many and says labels_truncated)",
				    PG_POD_LABELS_MAX);
		l = &dec->labels[st->nlabels];
		if (used >= sizeof(dec->label_bytes))
			goto too_long;
		if (parse_string(st, "labels", dec->label_bytes + used,
				 sizeof(dec->label_bytes) - used, &n))
			return -EINVAL;
		l->key = dec->label_bytes + used;
		used += n + 1;
		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != ':')
			return fail(st, st->pos, "field \"labels\": expected ':' after the label \"%s\"",
				    shown(l->key, n, sh, sizeof(sh)));
		st->pos++;
		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != '"')
			return fail(st, st->pos, "field \"labels\": the value of label \"%s\" is not a string (found %s)",
				    shown(l->key, strlen(l->key), sh, sizeof(sh)), found_what(st, st->pos));
		if (used >= sizeof(dec->label_bytes))
			goto too_long;
		if (parse_string(st, "labels", dec->label_bytes + used,
				 sizeof(dec->label_bytes) - used, &n))
			return -EINVAL;
		l->value = dec->label_bytes + used;
		used += n + 1;
		st->nlabels++;
		skip_ws(st);
		if (st->pos < st->len && st->line[st->pos] == ',') {
			st->pos++;
			continue;
		}
		if (st->pos < st->len && st->line[st->pos] == '}') {
			st->pos++;
			return 0;
		}
		return fail(st, st->pos, "field \"labels\": expected ',' or '}', found %s",
			    found_what(st, st->pos));
	}
too_long:
	return fail(st, st->pos, "field \"labels\": more than %d bytes of names and values",
		    PG_POD_LABELS_BYTES);
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pg_label *)a)->key, ((const struct pg_label *)b)->key);
}

/*
 * Whether n bytes are UTF-8: the protobuf form carries pod fields and an alert's texts as
 * proto3 strings, which must be UTF-8.
 */
static bool is_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t l = u[i] < 0x80 ? 1 : utf8_len(u + i, n - i);

		if (!l)
			return false;
		i += l;
	}
	return true;
}

static char *str_dest(struct state *st, enum key k);

/* The pod fields: namespace and pod together, workload_kind and workload together. */
static int assemble_pod(struct state *st, size_t endpos, struct pg_event *ev)
{
	struct pg_json_decoder *dec = st->dec;
	struct pg_pod_meta *m = &dec->pod;
	keyset seen = st->seen & POD_KEYS;
	static const enum key strs[] = { K_NAMESPACE, K_POD, K_WORKLOAD_KIND, K_WORKLOAD };
	char sh[48];

	if (!seen)
		return 0;
	if (!(seen & BIT(K_NAMESPACE)) || !(seen & BIT(K_POD)))
		return fail(st, endpos, "missing field \"%s\" (the pod fields come with namespace and pod)",
			    seen & BIT(K_NAMESPACE) ? "pod" : "namespace");
	if (!(seen & BIT(K_WORKLOAD_KIND)) != !(seen & BIT(K_WORKLOAD)))
		return fail(st, endpos, "missing field \"%s\" (workload_kind and workload come together)",
			    seen & BIT(K_WORKLOAD) ? "workload_kind" : "workload");
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *v = str_dest(st, strs[i]);

		if (!(seen & BIT(strs[i])))
			continue;
		if (!st->slen[strs[i]])
			return fail(st, st->vpos[strs[i]], "field \"%s\": empty", keydefs[strs[i]].name);
		if (!is_utf8(v, strlen(v)))
			return fail(st, st->vpos[strs[i]], "field \"%s\": not UTF-8 (Kubernetes names are)",
				    keydefs[strs[i]].name);
	}
	for (unsigned int i = 0; i < st->nlabels; i++) {
		if (!is_utf8(dec->labels[i].key, strlen(dec->labels[i].key)) ||
		    !is_utf8(dec->labels[i].value, strlen(dec->labels[i].value)))
			return fail(st, st->vpos[K_LABELS], "field \"labels\": label %u is not UTF-8", i + 1);
	}
	qsort(dec->labels, st->nlabels, sizeof(dec->labels[0]), label_cmp);
	for (unsigned int i = 1; i < st->nlabels; i++)
		if (!strcmp(dec->labels[i - 1].key, dec->labels[i].key))
			return fail(st, st->vpos[K_LABELS], "field \"labels\": duplicate label \"%s\"",
				    shown(dec->labels[i].key, strlen(dec->labels[i].key), sh, sizeof(sh)));
	memset(m, 0, sizeof(*m));
	m->namespace = dec->pod_namespace;
	m->name = dec->pod_name;
	if (seen & BIT(K_WORKLOAD)) {
		m->workload_kind = dec->workload_kind;
		m->workload = dec->workload;
	}
	m->labels = st->nlabels ? dec->labels : NULL;
	m->nlabels = st->nlabels;
	m->labels_truncated = st->b[K_LABELS_TRUNCATED];
	ev->meta.pod = m;
	return 0;
}

/*
 * An array of at most kd->max strings, each shorter than kd->strmax bytes, packed into dst
 * (cap bytes) NUL-terminated: "ancestors", "tags".
 */
static int parse_strlist(struct state *st, const struct keydef *kd, char *dst, size_t cap,
			 enum key k)
{
	size_t used = 0, n;
	unsigned int cnt = 0;

	if (st->pos >= st->len || st->line[st->pos] != '[')
		return fail(st, st->pos, "field \"%s\": expected an array of strings, found %s",
			    kd->name, found_what(st, st->pos));
	st->pos++;
	skip_ws(st);
	if (st->pos < st->len && st->line[st->pos] == ']') {
		st->pos++;
		goto done;
	}
	for (;;) {
		size_t room;

		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != '"')
			return fail(st, st->pos, "field \"%s\": expected a string, found %s", kd->name,
				    found_what(st, st->pos));
		if (cnt == kd->max)
			return fail(st, st->pos, "field \"%s\": more than %llu strings", kd->name,
				    kd->max);
		room = cap - used < kd->strmax ? cap - used : kd->strmax;
		if (room < 1)
			return fail(st, st->pos, "field \"%s\": more than %zu bytes in all", kd->name, cap);
		if (parse_string(st, kd->name, dst + used, room, &n))
			return -EINVAL;
		used += n + 1;
		cnt++;
		skip_ws(st);
		if (st->pos < st->len && st->line[st->pos] == ',') {
			st->pos++;
			continue;
		}
		if (st->pos < st->len && st->line[st->pos] == ']') {
			st->pos++;
			break;
		}
		return fail(st, st->pos, "field \"%s\": expected ',' or ']', found %s", kd->name,
			    found_what(st, st->pos));
	}
done:
	st->nlist[k] = cnt;
	st->listlen[k] = used;
	return 0;
}

/* A field name inside one of the alert's objects; returns its index in names, or fails. */
static int inner_key(struct state *st, const char *field, const char *const *names, int n,
		     unsigned int *seen)
{
	const char *q, *kname;
	size_t klen;
	char sh[48];
	int k;

	skip_ws(st);
	if (st->pos >= st->len || st->line[st->pos] != '"')
		return fail(st, st->pos, "field \"%s\": expected a field name in quotes, found %s",
			    field, found_what(st, st->pos));
	kname = st->line + st->pos + 1;
	q = memchr(kname, '"', st->len - st->pos - 1);
	if (!q)
		return fail(st, st->pos, "unterminated field name");
	klen = (size_t)(q - kname);
	for (k = 0; k < n; k++)
		if (strlen(names[k]) == klen && !memcmp(names[k], kname, klen))
			break;
	if (k == n)
		return fail(st, st->pos, "field \"%s\": unknown field \"%s\" (type, ts, pid, start_ns)",
			    field, shown(kname, klen, sh, sizeof(sh)));
	if (*seen & (1u << k))
		return fail(st, st->pos, "field \"%s\": duplicate \"%s\"", field, names[k]);
	*seen |= 1u << k;
	st->pos = (size_t)(q - st->line) + 1;
	skip_ws(st);
	if (st->pos >= st->len || st->line[st->pos] != ':')
		return fail(st, st->pos, "expected ':' after \"%s\"", names[k]);
	st->pos++;
	skip_ws(st);
	return k;
}

/* ',' then more, or the closing character: 1 for more, 0 at the end, -EINVAL. */
static int list_next(struct state *st, const char *field, char close)
{
	skip_ws(st);
	if (st->pos < st->len && st->line[st->pos] == ',') {
		st->pos++;
		return 1;
	}
	if (st->pos < st->len && st->line[st->pos] == close) {
		st->pos++;
		return 0;
	}
	return fail(st, st->pos, "field \"%s\": expected ',' or '%c', found %s", field, close,
		    found_what(st, st->pos));
}

/* "events": [{"type": "exec", "ts": N, "pid": N, "start_ns": N}, ...]: every key required. */
static int parse_events(struct state *st, const struct keydef *kd)
{
	static const char *const names[] = { "type", "ts", "pid", "start_ns" };
	static const struct keydef ikeys[] = {
		{ "events[].ts", 0, V_UINT, 0, ~0ULL },
		{ "events[].pid", 0, V_UINT, 0, 0xffffffffULL },
		{ "events[].start_ns", 0, V_UINT, 0, ~0ULL },
	};
	int more;

	st->nevents = 0;
	if (st->pos >= st->len || st->line[st->pos] != '[')
		return fail(st, st->pos, "field \"events\": expected an array of objects, found %s",
			    found_what(st, st->pos));
	st->pos++;
	skip_ws(st);
	if (st->pos < st->len && st->line[st->pos] == ']') {
		st->pos++;
		return 0;
	}
	do {
		struct pg_alert_ref *e;
		unsigned int seen = 0;
		size_t start;

		skip_ws(st);
		start = st->pos;
		if (st->pos >= st->len || st->line[st->pos] != '{')
			return fail(st, st->pos, "field \"events\": expected an object, found %s",
				    found_what(st, st->pos));
		if (st->nevents == kd->max)
			return fail(st, st->pos, "field \"events\": more than %llu events (count says how many matched)",
				    kd->max);
		e = &st->events[st->nevents];
		memset(e, 0, sizeof(*e));
		st->pos++;
		do {
			int k = inner_key(st, "events", names, 4, &seen);
			long long v;

			if (k < 0)
				return -EINVAL;
			if (k == 0) {
				char tn[16], sh[48];
				size_t tl;
				unsigned int t;

				if (st->pos >= st->len || st->line[st->pos] != '"')
					return fail(st, st->pos, "field \"events[].type\": expected a string, found %s",
						    found_what(st, st->pos));
				if (parse_string(st, "events[].type", tn, sizeof(tn), &tl))
					return -EINVAL;
				t = pg_event_type_from_name(tn, tl);
				if (t == PG_EV_NONE || t == PG_EV_ALERT)
					return fail(st, start, "field \"events[].type\": \"%s\" is not an event type an alert names",
						    shown(tn, tl, sh, sizeof(sh)));
				e->type = (uint16_t)t;
				continue;
			}
			if (parse_int(st, &ikeys[k - 1], &v))
				return -EINVAL;
			if (k == 1)
				e->ts_ns = (uint64_t)v;
			else if (k == 2)
				e->pid = (uint32_t)v;
			else
				e->start_ns = (uint64_t)v;
		} while ((more = list_next(st, "events", '}')) > 0);
		if (more < 0)
			return -EINVAL;
		for (int k = 0; k < 4; k++)
			if (!(seen & (1u << k)))
				return fail(st, start, "field \"events\": event %u has no \"%s\"",
					    st->nevents + 1, names[k]);
		st->nevents++;
	} while ((more = list_next(st, "events", ']')) > 0);
	return more;
}

/* "group_by": {"Field": "value", ...}: at most kd->max pairs, packed "field\0value\0". */
static int parse_group(struct state *st, const struct keydef *kd)
{
	size_t used = 0, n;
	int more;

	st->ngroup = 0;
	if (st->pos >= st->len || st->line[st->pos] != '{')
		return fail(st, st->pos, "field \"group_by\": expected an object, found %s",
			    found_what(st, st->pos));
	st->pos++;
	skip_ws(st);
	if (st->pos < st->len && st->line[st->pos] == '}') {
		st->pos++;
		goto done;
	}
	do {
		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != '"')
			return fail(st, st->pos, "field \"group_by\": expected a field name in quotes, found %s",
				    found_what(st, st->pos));
		if (st->ngroup == kd->max)
			return fail(st, st->pos, "field \"group_by\": more than %llu fields", kd->max);
		if (used >= sizeof(st->group))
			return fail(st, st->pos, "field \"group_by\": more than %zu bytes in all",
				    sizeof(st->group));
		if (parse_string(st, "group_by", st->group + used, sizeof(st->group) - used, &n))
			return -EINVAL;
		used += n + 1;
		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != ':')
			return fail(st, st->pos, "field \"group_by\": expected ':' after a field name");
		st->pos++;
		skip_ws(st);
		if (st->pos >= st->len || st->line[st->pos] != '"')
			return fail(st, st->pos, "field \"group_by\": expected a string value, found %s",
				    found_what(st, st->pos));
		if (used >= sizeof(st->group))
			return fail(st, st->pos, "field \"group_by\": more than %zu bytes in all",
				    sizeof(st->group));
		if (parse_string(st, "group_by", st->group + used, sizeof(st->group) - used, &n))
			return -EINVAL;
		used += n + 1;
		st->ngroup++;
	} while ((more = list_next(st, "group_by", '}')) > 0);
	if (more < 0)
		return -EINVAL;
done:
	st->group_len = used;
	return 0;
}

/* Where each string key's value goes. */
static char *str_dest(struct state *st, enum key k)
{
	switch (k) {
	case K_COMM: return st->comm;
	case K_NODE: return st->dec->node;
	case K_CGROUP: return st->dec->cgroup;
	case K_CONTAINER_ID: return st->dec->container_id;
	case K_POD_UID: return st->dec->pod_uid;
	case K_NAMESPACE: return st->dec->pod_namespace;
	case K_POD: return st->dec->pod_name;
	case K_WORKLOAD_KIND: return st->dec->workload_kind;
	case K_WORKLOAD: return st->dec->workload;
	case K_PATH: return st->dec->path;
	case K_QNAME: return st->dec->qname;
	case K_EXE: return st->dec->exe;
	case K_CMDLINE: return st->dec->cmdline;
	case K_PARENT_EXE: return st->dec->parent_exe;
	case K_PARENT_CMDLINE: return st->dec->parent_cmdline;
	case K_RULE_ID: return st->rule_id;
	case K_TITLE: return st->title;
	case K_POLICY: return st->dec->policy;
	case K_RULE: return st->dec->rule;
	default: return st->small[k];
	}
}

static int parse_value(struct state *st, enum key k)
{
	const struct keydef *kd = &keydefs[k];

	switch (kd->kind) {
	case V_UINT:
	case V_INT:
		return parse_int(st, kd, &st->num[k]);
	case V_BOOL:
		return parse_bool(st, kd, &st->b[k]);
	case V_ARGV:
		return parse_argv(st, kd);
	case V_ANSWERS:
		return parse_answers(st);
	case V_LABELS:
		return parse_labels(st);
	case V_STRLIST:
		return k == K_ANCESTORS ? parse_strlist(st, kd, st->dec->ancestors, sizeof(st->dec->ancestors), k)
					: parse_strlist(st, kd, st->tags, sizeof(st->tags), k);
	case V_EVENTS:
		return parse_events(st, kd);
	case V_GROUP:
		return parse_group(st, kd);
	case V_NAME_OR_NUM:
		if (st->pos < st->len && st->line[st->pos] != '"') {
			st->slen[k] = 0;
			st->family_num = k == K_FAMILY;
			return parse_int(st, &(struct keydef){ .name = kd->name, .kind = V_UINT,
							       .max = kd->max },
					 &st->num[k]);
		}
		/* fallthrough */
	case V_STR:
		if (st->pos >= st->len || st->line[st->pos] != '"')
			return fail(st, st->pos, "field \"%s\": expected a string, found %s", kd->name,
				    found_what(st, st->pos));
		return parse_string(st, kd->name, str_dest(st, k),
				    kd->strmax ? kd->strmax : sizeof(st->small[0]), &st->slen[k]);
	}
	return -EINVAL;
}

static int lookup_key(const char *s, size_t n)
{
	for (int k = 0; k < K_COUNT; k++)
		if (keydefs[k].len == n && !memcmp(keydefs[k].name, s, n))
			return k;
	return -1;
}

static bool streq(const char *a, size_t alen, const char *lit)
{
	return strlen(lit) == alen && !memcmp(a, lit, alen);
}

/* The payload of a packet event; keys come in groups that are all there or all absent. */
static int assemble_packet(struct state *st, size_t endpos, struct pg_event *ev)
{
	struct pg_packet_event *p = &ev->r.packet;
	keyset seen = st->seen, grp;
	char sh[48];
	int d;

	p->ifindex = (uint32_t)st->num[K_IFINDEX];
	memcpy(p->ifname, st->small[K_IFNAME], st->slen[K_IFNAME]);
	d = pg_pkt_direction_from_name(st->small[K_DIRECTION], st->slen[K_DIRECTION]);
	if (d < 0)
		return fail(st, st->vpos[K_DIRECTION], "field \"direction\": \"%s\" is not \"in\", \"out\" or \"\"",
			    shown(st->small[K_DIRECTION], st->slen[K_DIRECTION], sh, sizeof(sh)));
	p->direction = (uint8_t)d;
	p->wire_len = (uint32_t)st->num[K_LEN];
	p->caplen = (uint32_t)st->num[K_CAPLEN];
	p->ethertype = (uint16_t)st->num[K_ETHERTYPE];
	if (seen & BIT(K_VLAN)) {
		p->flags |= PG_PKT_F_VLAN;
		p->vlan = (uint16_t)st->num[K_VLAN];
	}
	if (st->b[K_FRAGMENT])
		p->flags |= PG_PKT_F_FRAGMENT;
	if (st->b[K_TRUNCATED])
		p->flags |= PG_PKT_F_L4_TRUNC;

	grp = seen & PKT_IP_KEYS;
	if (grp && grp != PKT_IP_KEYS)
		return fail(st, endpos, "missing field \"%s\" (family, saddr, daddr, ip_proto, sport and dport come together)",
			    keydefs[keyset_first(PKT_IP_KEYS & ~grp)].name);
	if (grp) {
		const char *fs = st->small[K_FAMILY];
		size_t fl = st->slen[K_FAMILY];
		int pr;

		if (streq(fs, fl, "inet"))
			p->family = AF_INET;
		else if (streq(fs, fl, "inet6"))
			p->family = AF_INET6;
		else
			return fail(st, st->vpos[K_FAMILY], "field \"family\": a packet's family is \"inet\" or \"inet6\"");
		if (inet_pton(p->family, st->small[K_SADDR], p->saddr) != 1)
			return fail(st, st->vpos[K_SADDR], "field \"saddr\": \"%s\" is not an %s address",
				    shown(st->small[K_SADDR], st->slen[K_SADDR], sh, sizeof(sh)), p->family == AF_INET ? "IPv4" : "IPv6");
		if (inet_pton(p->family, st->small[K_DADDR], p->daddr) != 1)
			return fail(st, st->vpos[K_DADDR], "field \"daddr\": \"%s\" is not an %s address",
				    shown(st->small[K_DADDR], st->slen[K_DADDR], sh, sizeof(sh)), p->family == AF_INET ? "IPv4" : "IPv6");
		if (st->slen[K_IP_PROTO] == 0) {
			pr = (int)st->num[K_IP_PROTO];
		} else {
			pr = pg_ip_proto_from_name(st->small[K_IP_PROTO], st->slen[K_IP_PROTO]);
			if (pr < 0)
				return fail(st, st->vpos[K_IP_PROTO], "field \"ip_proto\": unknown protocol \"%s\" (a name like \"udp\", or a number)",
					    shown(st->small[K_IP_PROTO], st->slen[K_IP_PROTO], sh, sizeof(sh)));
		}
		p->ip_proto = (uint8_t)pr;
		p->sport = (uint16_t)st->num[K_SPORT];
		p->dport = (uint16_t)st->num[K_DPORT];
		if (p->ip_proto == IPPROTO_TCP) {
			int fl2;

			if (!(seen & BIT(K_TCP_FLAGS)))
				return fail(st, endpos, "missing field \"tcp_flags\" (required in TCP packets)");
			fl2 = pg_tcp_flags_parse(st->small[K_TCP_FLAGS], st->slen[K_TCP_FLAGS]);
			if (fl2 < 0)
				return fail(st, st->vpos[K_TCP_FLAGS], "field \"tcp_flags\": \"%s\" is not flags like \"SYN|ACK\"",
					    shown(st->small[K_TCP_FLAGS], st->slen[K_TCP_FLAGS], sh, sizeof(sh)));
			p->tcp_flags = (uint8_t)fl2;
		}
	}
	if ((seen & BIT(K_TCP_FLAGS)) && !(grp && p->ip_proto == IPPROTO_TCP))
		return fail(st, st->kpos[K_TCP_FLAGS], "field \"tcp_flags\" belongs only in TCP packets");

	if (seen & BIT(K_DNS_ERROR)) {
		enum pg_dns_err e = pg_dns_err_from_name(st->small[K_DNS_ERROR], st->slen[K_DNS_ERROR]);

		if (e == PG_DNS_OK)
			return fail(st, st->vpos[K_DNS_ERROR], "field \"dns_error\": unknown error \"%s\"",
				    shown(st->small[K_DNS_ERROR], st->slen[K_DNS_ERROR], sh, sizeof(sh)));
		p->flags |= PG_PKT_F_DNS | PG_PKT_F_DNS_ERROR;
		p->dns_error = (uint8_t)e;
	}
	grp = seen & (PKT_DNS_KEYS | PKT_QUESTION_KEYS | BIT(K_QR) | BIT(K_ANSWERS_TRUNCATED));
	if (p->dns_error == PG_DNS_E_SHORT && (p->flags & PG_PKT_F_DNS_ERROR)) {
		if (grp)
			return fail(st, endpos, "field \"%s\": a message too short for a DNS header has no DNS fields",
				    keydefs[keyset_first(grp)].name);
		return 0;
	}
	if (!grp && !(p->flags & PG_PKT_F_DNS))
		return 0;
	if ((seen & PKT_DNS_KEYS) != PKT_DNS_KEYS)
		return fail(st, endpos, "missing field \"%s\" (DNS packets have dns_id, rcode and answers)",
			    keydefs[keyset_first(PKT_DNS_KEYS & ~seen)].name);
	p->flags |= PG_PKT_F_DNS;
	p->dns_id = (uint16_t)st->num[K_DNS_ID];
	p->dns_qr = st->b[K_QR];
	{
		int rc = pg_dns_rcode_from_name(st->small[K_RCODE], st->slen[K_RCODE]);

		if (rc < 0)
			return fail(st, st->vpos[K_RCODE], "field \"rcode\": unknown rcode \"%s\" (NOERROR, NXDOMAIN, ... or RCODE<n>)",
				    shown(st->small[K_RCODE], st->slen[K_RCODE], sh, sizeof(sh)));
		p->dns_rcode = (uint8_t)rc;
	}
	grp = seen & PKT_QUESTION_KEYS;
	if (grp && grp != PKT_QUESTION_KEYS)
		return fail(st, endpos, "missing field \"%s\" (qname, qtype and qclass come together)",
			    keydefs[keyset_first(PKT_QUESTION_KEYS & ~grp)].name);
	if (grp) {
		p->flags |= PG_PKT_F_DNS_QUESTION;
		memcpy(p->qname, st->dec->qname, st->slen[K_QNAME]);
		int qt = dns_type_of(st->small[K_QTYPE], st->slen[K_QTYPE]);

		if (qt < 0)
			return fail(st, st->vpos[K_QTYPE], "field \"qtype\": unknown DNS type \"%s\" (use a name like \"AAAA\" or \"TYPE<n>\")",
				    shown(st->small[K_QTYPE], st->slen[K_QTYPE], sh, sizeof(sh)));
		p->qtype = (uint16_t)qt;
		p->qclass = (uint16_t)st->num[K_QCLASS];
	}
	memcpy(p->answers, st->answers, st->nanswers * sizeof(st->answers[0]));
	p->nanswers = (uint16_t)st->nanswers;
	if (st->b[K_ANSWERS_TRUNCATED])
		p->flags |= PG_PKT_F_DNS_ANS_TRUNC;
	return 0;
}

static void assemble_proc(struct state *st, struct pg_event *ev)
{
	struct pg_event_proc *p = &ev->meta.proc;
	keyset seen = st->seen;

	if (seen & BIT(K_EXE))
		p->exe = st->dec->exe;
	if (seen & BIT(K_CMDLINE))
		p->cmdline = st->dec->cmdline;
	if (seen & BIT(K_PARENT_EXE))
		p->parent_exe = st->dec->parent_exe;
	if (seen & BIT(K_PARENT_CMDLINE))
		p->parent_cmdline = st->dec->parent_cmdline;
	if (seen & BIT(K_ANCESTORS)) {
		const char *a = st->dec->ancestors;

		for (unsigned int i = 0; i < st->nlist[K_ANCESTORS]; i++) {
			p->ancestors[i] = a;
			a += strlen(a) + 1;
		}
		p->nancestors = st->nlist[K_ANCESTORS];
	}
}

static int assemble_alert(struct state *st, struct pg_event *ev)
{
	struct pg_alert_event *a = &ev->r.alert;
	char sh[48];

	if (!st->slen[K_RULE_ID])
		return fail(st, st->vpos[K_RULE_ID], "field \"rule_id\": empty (an alert names its rule)");
	if (!is_utf8(st->rule_id, st->slen[K_RULE_ID]) || !is_utf8(st->title, st->slen[K_TITLE]) ||
	    !is_utf8(st->tags, st->listlen[K_TAGS]))
		return fail(st, st->vpos[K_RULE_ID], "an alert's rule_id, title and tags are text: \\udcXX (bytes that are not UTF-8) cannot be in them");
	memcpy(a->rule_id, st->rule_id, st->slen[K_RULE_ID]);
	memcpy(a->title, st->title, st->slen[K_TITLE]);
	if (st->seen & BIT(K_LEVEL)) {
		a->level = (uint8_t)pg_alert_level_from_name(st->small[K_LEVEL], st->slen[K_LEVEL]);
		if (!a->level)
			return fail(st, st->vpos[K_LEVEL], "field \"level\": \"%s\" is not informational, low, medium, high or critical",
				    shown(st->small[K_LEVEL], st->slen[K_LEVEL], sh, sizeof(sh)));
	}
	memcpy(a->tags, st->tags, st->listlen[K_TAGS]);
	a->tags_len = (uint16_t)st->listlen[K_TAGS];
	a->ntags = (uint8_t)st->nlist[K_TAGS];
	a->count = (uint32_t)st->num[K_MATCH_COUNT];
	if (a->count < st->nevents || !a->count)
		return fail(st, st->vpos[K_MATCH_COUNT], "field \"count\": %u, but an alert counts at least 1 and at least the %u events it names",
			    a->count, st->nevents);
	memcpy(a->events, st->events, st->nevents * sizeof(st->events[0]));
	a->nevents = (uint8_t)st->nevents;
	if (st->seen & BIT(K_GROUP_BY)) {
		for (size_t i = 0; i < st->group_len;) { /* field names are text, values any bytes */
			size_t n = strlen(st->group + i);

			if (!is_utf8(st->group + i, n))
				return fail(st, st->vpos[K_GROUP_BY], "field \"group_by\": a field name is text: \\udcXX (bytes that are not UTF-8) cannot be in it");
			i += n + 1;
			i += strlen(st->group + i) + 1;
		}
		memcpy(a->group, st->group, st->group_len);
		a->group_len = (uint16_t)st->group_len;
		a->ngroup = (uint8_t)st->ngroup;
	}
	return 0;
}

/* Turn the parsed values into the record. */
static int assemble(struct state *st, size_t endpos, struct pg_event *ev)
{
	keyset seen = st->seen, missing, extra;
	unsigned int type;
	union pg_record *r = &ev->r;
	char sh[48];
	int k;

	/* the version first: a newer schema may well have types this pangolin does not know */
	if (!(seen & BIT(K_V)))
		return fail(st, endpos, "missing field \"v\" (the schema version)");
	if (st->num[K_V] != PG_SCHEMA_VERSION)
		return fail(st, st->vpos[K_V], "field \"v\": unknown schema version %lld (this pangolin reads %d)",
			    st->num[K_V], PG_SCHEMA_VERSION);
	if (!(seen & BIT(K_TYPE)))
		return fail(st, endpos, "missing field \"type\"");
	type = pg_event_type_from_name(st->small[K_TYPE], st->slen[K_TYPE]);
	if (type == PG_EV_NONE)
		return fail(st, st->vpos[K_TYPE], "field \"type\": unknown event type \"%s\" (known: exec, fork, exit, open, connect, dns, setid, packet, ptrace, alert)",
			    shown(st->small[K_TYPE], st->slen[K_TYPE], sh, sizeof(sh)));

	missing = (COMMON_REQUIRED | type_required[type]) & ~seen;
	extra = seen & ~(COMMON_REQUIRED | COMMON_OPTIONAL | type_required[type] | type_optional[type]);
	if (type == PG_EV_DNS) {
		bool malformed = (seen & BIT(K_MALFORMED)) && st->b[K_MALFORMED];

		if (malformed)
			extra |= seen & DNS_PARSED_KEYS;
		else
			missing |= DNS_PARSED_KEYS & ~seen;
	}
	if (missing) {
		k = keyset_first(missing);
		return fail(st, endpos, "missing field \"%s\" (required in %s events)", keydefs[k].name,
			    pg_event_type_name(type));
	}
	if (extra) {
		k = keyset_first(extra);
		return fail(st, st->kpos[k], "field \"%s\" does not belong in %s events", keydefs[k].name,
			    pg_event_type_name(type));
	}

	pg_event_init(ev, type);
	r->hdr.ts_ns = (unsigned long long)st->num[K_TS];
	r->hdr.pid = (unsigned int)st->num[K_PID];
	r->hdr.tid = (unsigned int)st->num[K_TID];
	r->hdr.ppid = (unsigned int)st->num[K_PPID];
	r->hdr.uid = (unsigned int)st->num[K_UID];
	r->hdr.gid = (unsigned int)st->num[K_GID];
	r->hdr.cgroup_id = (unsigned long long)st->num[K_CGROUP_ID];
	r->hdr.start_ns = (unsigned long long)st->num[K_START_NS];
	memcpy(r->hdr.comm, st->comm, st->slen[K_COMM]);
	if (seen & BIT(K_NODE))
		ev->meta.node = st->dec->node;
	if (seen & BIT(K_CGROUP))
		ev->meta.cgroup = st->dec->cgroup;
	if (seen & BIT(K_CONTAINER_ID))
		ev->meta.container_id = st->dec->container_id;
	if (seen & BIT(K_POD_UID))
		ev->meta.pod_uid = st->dec->pod_uid;
	if (assemble_pod(st, endpos, ev))
		return -EINVAL;
	if (seen & PROC_KEYS)
		assemble_proc(st, ev);
	if (seen & ACTION_KEYS) {
		unsigned int act;

		if ((seen & ACTION_KEYS) != ACTION_KEYS)
			return fail(st, endpos, "missing field \"%s\" (action, policy and rule come together)",
				    keydefs[keyset_first(ACTION_KEYS & ~seen)].name);
		act = pg_action_from_name(st->small[K_ACTION], st->slen[K_ACTION]);
		if (act == PG_ACT_NONE)
			return fail(st, st->vpos[K_ACTION], "field \"action\": \"%s\" is not kill, deny, would_kill, would_deny or alert",
				    shown(st->small[K_ACTION], st->slen[K_ACTION], sh, sizeof(sh)));
		ev->meta.action = pg_action_name(act);
		ev->meta.policy = st->dec->policy;
		ev->meta.rule = st->dec->rule;
	}

	switch (type) {
	case PG_EV_EXEC:
		memcpy(r->exec.path, st->dec->path, st->slen[K_PATH]);
		memcpy(r->exec.argv, st->dec->argv, st->argv_len);
		r->exec.argc = (unsigned short)st->argc;
		r->exec.argv_len = (unsigned short)st->argv_len;
		if (st->b[K_PATH_TRUNCATED])
			r->exec.flags |= PG_TRUNC_PATH;
		if (st->b[K_ARGV_TRUNCATED])
			r->exec.flags |= PG_TRUNC_ARGV;
		if (st->b[K_SNAPSHOT])
			r->exec.flags |= PG_SNAPSHOT;
		if (st->b[K_EXE_UNLINKED])
			r->exec.flags |= PG_EXE_UNLINKED;
		break;
	case PG_EV_FORK:
		r->fork.child_pid = (unsigned int)st->num[K_CHILD_PID];
		r->fork.child_start_ns = (unsigned long long)st->num[K_CHILD_START_NS];
		break;
	case PG_EV_EXIT:
		r->exit.exit_code = (int)st->num[K_EXIT_CODE];
		r->exit.signal = (unsigned int)st->num[K_SIGNAL];
		r->exit.lifetime_ns = (unsigned long long)st->num[K_LIFETIME_NS];
		r->exit.core_dumped = st->b[K_CORE_DUMPED];
		break;
	case PG_EV_OPEN:
		r->open.dirfd = (int)st->num[K_DIRFD];
		r->open.flags = (unsigned int)st->num[K_FLAGS];
		r->open.mode = (unsigned int)st->num[K_MODE];
		r->open.ret = (int)st->num[K_RET];
		memcpy(r->open.path, st->dec->path, st->slen[K_PATH]);
		if (st->b[K_PATH_TRUNCATED])
			r->open.pflags |= PG_TRUNC_PATH;
		if (st->b[K_IO_URING])
			r->open.pflags |= PG_VIA_IO_URING;
		break;
	case PG_EV_CONNECT:
	case PG_EV_DNS: {
		unsigned int family;
		unsigned char *daddr = type == PG_EV_DNS ? r->dns.daddr : r->connect.daddr;
		const char *fs = st->small[K_FAMILY], *as = st->small[K_DADDR];
		size_t fl = st->slen[K_FAMILY];

		if (st->family_num)
			family = (unsigned int)st->num[K_FAMILY];
		else if (streq(fs, fl, "inet"))
			family = AF_INET;
		else if (streq(fs, fl, "inet6"))
			family = AF_INET6;
		else
			return fail(st, st->vpos[K_FAMILY], "field \"family\": \"%s\" is not \"inet\", \"inet6\" or a number",
				    shown(fs, fl, sh, sizeof(sh)));
		if (family == AF_INET || family == AF_INET6) {
			if (inet_pton((int)family, as, daddr) != 1)
				return fail(st, st->vpos[K_DADDR], "field \"daddr\": \"%s\" is not an %s address",
					    shown(as, st->slen[K_DADDR], sh, sizeof(sh)),
					    family == AF_INET ? "IPv4" : "IPv6");
		} else if (st->slen[K_DADDR]) {
			return fail(st, st->vpos[K_DADDR], "field \"daddr\": must be \"\" for address family %u",
				    family);
		}
		if (type == PG_EV_CONNECT) {
			r->connect.family = (unsigned short)family;
			r->connect.dport = (unsigned short)st->num[K_DPORT];
			r->connect.fd = (int)st->num[K_FD];
			r->connect.ret = (int)st->num[K_RET];
			if (st->b[K_IO_URING])
				r->connect.flags |= PG_VIA_IO_URING;
			break;
		}
		r->dns.family = (unsigned short)family;
		r->dns.dport = (unsigned short)st->num[K_DPORT];
		if (streq(st->small[K_TRANSPORT], st->slen[K_TRANSPORT], "tcp"))
			r->dns.flags |= PG_DNS_F_TCP;
		else if (!streq(st->small[K_TRANSPORT], st->slen[K_TRANSPORT], "udp"))
			return fail(st, st->vpos[K_TRANSPORT], "field \"transport\": \"%s\" is not \"udp\" or \"tcp\"",
				    shown(st->small[K_TRANSPORT], st->slen[K_TRANSPORT], sh, sizeof(sh)));
		if (st->b[K_IO_URING])
			r->dns.flags |= PG_VIA_IO_URING;
		if (st->b[K_MALFORMED])
			break;
		r->dns.flags |= PG_DNS_F_PARSED;
		r->dns.id = (unsigned short)st->num[K_DNS_ID];
		r->dns.qclass = (unsigned short)st->num[K_QCLASS];
		r->dns.qtype = (unsigned short)pg_dns_type_from_name(st->small[K_QTYPE],
								      st->slen[K_QTYPE]);
		/* type 0 is reserved, but a query can carry it and the encoder writes "TYPE0" */
		if (!r->dns.qtype && !(st->slen[K_QTYPE] == 5 &&
					!strncasecmp(st->small[K_QTYPE], "TYPE0", 5)))
			return fail(st, st->vpos[K_QTYPE], "field \"qtype\": unknown DNS type \"%s\" (use a name like \"AAAA\" or \"TYPE<n>\")",
				    shown(st->small[K_QTYPE], st->slen[K_QTYPE], sh, sizeof(sh)));
		memcpy(r->dns.qname, st->dec->qname, st->slen[K_QNAME]);
		break;
	}
	case PG_EV_PACKET:
		return assemble_packet(st, endpos, ev);
	case PG_EV_ALERT:
		return assemble_alert(st, ev);
	case PG_EV_SETID:
		r->setid.call = pg_setid_call_from_name(st->small[K_CALL], st->slen[K_CALL]);
		if (!r->setid.call)
			return fail(st, st->vpos[K_CALL], "field \"call\": unknown call \"%s\" (setuid, setreuid, setresuid, setfsuid, setgid, setregid, setresgid, setfsgid)",
				    shown(st->small[K_CALL], st->slen[K_CALL], sh, sizeof(sh)));
		r->setid.ret = (int)st->num[K_RET];
		r->setid.id_real = (unsigned int)st->num[K_ID_REAL];
		r->setid.id_effective = (unsigned int)st->num[K_ID_EFFECTIVE];
		r->setid.id_saved = (unsigned int)st->num[K_ID_SAVED];
		break;
	case PG_EV_PTRACE: {
		int rq = (int)st->num[K_REQUEST];

		if (st->slen[K_REQUEST]) { /* by name; a number is any request */
			rq = pg_ptrace_request_from_name(st->small[K_REQUEST], st->slen[K_REQUEST]);
			if (rq < 0)
				return fail(st, st->vpos[K_REQUEST], "field \"request\": unknown request \"%s\" (traceme, attach, seize, poketext, pokedata, pokeuser, setregs, setfpregs, setregset, or a number)",
					    shown(st->small[K_REQUEST], st->slen[K_REQUEST], sh, sizeof(sh)));
		}
		r->ptrace.request = (unsigned int)rq;
		r->ptrace.ret = (int)st->num[K_RET];
		r->ptrace.target_pid = (unsigned int)st->num[K_TARGET_PID];
		r->ptrace.addr = (unsigned long long)st->num[K_ADDR];
		break;
	}
	}
	return 0;
}

/* The payload key order of each type, for prediction (mirrors json_encode.c). */
static const unsigned char *order_payload(unsigned int type, size_t *n)
{
#define M K_NODE, K_CGROUP, K_CONTAINER_ID, K_POD_UID, K_NAMESPACE, K_POD, K_WORKLOAD_KIND, \
	  K_WORKLOAD, K_LABELS, K_LABELS_TRUNCATED, K_EXE, K_CMDLINE, K_PARENT_EXE, \
	  K_PARENT_CMDLINE, K_ANCESTORS
#define A K_ACTION, K_POLICY, K_RULE
	static const unsigned char exec_o[] = { M, K_PATH, K_ARGV, K_PATH_TRUNCATED, K_ARGV_TRUNCATED,
						K_SNAPSHOT, K_EXE_UNLINKED, A };
	static const unsigned char fork_o[] = { M, K_CHILD_PID, K_CHILD_START_NS, A };
	static const unsigned char exit_o[] = { M, K_EXIT_CODE, K_SIGNAL, K_LIFETIME_NS, K_CORE_DUMPED, A };
	static const unsigned char open_o[] = { M, K_DIRFD, K_FLAGS, K_MODE, K_RET, K_PATH,
						K_PATH_TRUNCATED, K_IO_URING, A };
	static const unsigned char conn_o[] = { M, K_FAMILY, K_DADDR, K_DPORT, K_FD, K_RET, K_IO_URING, A };
	static const unsigned char dns_o[] = { M, K_FAMILY, K_DADDR, K_DPORT, K_TRANSPORT, K_MALFORMED, K_DNS_ID,
					       K_QNAME, K_QTYPE, K_QCLASS, K_IO_URING, A };
	static const unsigned char setid_o[] = { M, K_CALL, K_RET, K_ID_REAL, K_ID_EFFECTIVE, K_ID_SAVED, A };
	static const unsigned char ptrace_o[] = { M, K_REQUEST, K_RET, K_TARGET_PID, K_ADDR, A };
	static const unsigned char alert_o[] = { M, K_RULE_ID, K_TITLE, K_LEVEL, K_TAGS,
						 K_MATCH_COUNT, K_EVENTS, K_GROUP_BY, A };
	static const unsigned char packet_o[] = {
		M, K_IFINDEX, K_IFNAME, K_DIRECTION, K_LEN, K_CAPLEN, K_ETHERTYPE, K_VLAN, K_FAMILY,
		K_SADDR, K_DADDR, K_IP_PROTO, K_SPORT, K_DPORT, K_TCP_FLAGS, K_FRAGMENT, K_TRUNCATED,
		K_DNS_ID, K_QR, K_RCODE, K_QNAME, K_QTYPE, K_QCLASS, K_ANSWERS, K_ANSWERS_TRUNCATED,
		K_DNS_ERROR, A
	};
#undef A
#define O(a)                      \
	do {                      \
		*n = sizeof(a);   \
		return a;         \
	} while (0)
	switch (type) {
	case PG_EV_EXEC: O(exec_o);
	case PG_EV_FORK: O(fork_o);
	case PG_EV_EXIT: O(exit_o);
	case PG_EV_OPEN: O(open_o);
	case PG_EV_CONNECT: O(conn_o);
	case PG_EV_DNS: O(dns_o);
	case PG_EV_SETID: O(setid_o);
	case PG_EV_PTRACE: O(ptrace_o);
	case PG_EV_PACKET: O(packet_o);
	case PG_EV_ALERT: O(alert_o);
	}
#undef O
#undef M
	*n = 0;
	return NULL;
}

int pg_json_decode(struct pg_json_decoder *dec, const char *line, size_t len,
		   struct pg_event *ev, struct pg_json_error *err)
{
	struct state st;
	const unsigned char *order = order_common;
	size_t order_n = sizeof(order_common), oi = 0;
	bool first = true;

	st.line = line;
	st.len = len;
	st.pos = 0;
	st.err = err;
	st.dec = dec;
	st.seen = 0;
	st.argc = 0;
	st.argv_len = 0;
	memset(st.b, 0, sizeof(st.b));
	st.slen[K_FAMILY] = 0;
	st.slen[K_IP_PROTO] = 0;
	st.slen[K_REQUEST] = 0;
	st.nanswers = 0;
	st.nlabels = 0;
	st.family_num = false;
	err->column = 0;
	err->msg[0] = 0;

	skip_ws(&st);
	if (st.pos >= len)
		return fail(&st, st.pos, "empty line: expected a JSON object");
	if (line[st.pos] != '{')
		return fail(&st, st.pos, "expected a JSON object '{', found %s", found_what(&st, st.pos));
	st.pos++;
	for (;;) {
		size_t kstart, klen, kend;
		const char *kname;
		char kbuf[64], kshown[40];
		int rc;
		int k = -1;

		skip_ws(&st);
		if (st.pos < len && line[st.pos] == '}' && first) {
			st.pos++;
			break;
		}
		if (st.pos >= len || line[st.pos] != '"')
			return fail(&st, st.pos, "expected a field name in quotes, found %s",
				    found_what(&st, st.pos));
		kstart = st.pos + 1;
		rc = read_key(&st, kbuf, sizeof(kbuf), &kname, &klen);
		if (rc == -E2BIG)
			return fail(&st, kstart - 1, "unknown field \"%s\"",
				    shown(kname, klen, kshown, sizeof(kshown)));
		if (rc)
			return -EINVAL;
		kend = st.pos;
		/* predicted key first: canonical lines hit here every time */
		for (size_t j = oi; j < order_n; j++) {
			const struct keydef *kd = &keydefs[order[j]];

			if (kd->len == klen && !memcmp(kd->name, kname, klen)) {
				k = order[j];
				oi = j + 1;
				break;
			}
			if (!(BIT(order[j]) & PREDICT_SKIPPABLE))
				break;
		}
		if (k < 0)
			k = lookup_key(kname, klen);
		if (k < 0) {
			char shown[40];
			size_t sl = klen < sizeof(shown) - 4 ? klen : sizeof(shown) - 4;

			memcpy(shown, kname, sl);
			strcpy(shown + sl, klen > sl ? "..." : "");
			for (size_t i = 0; i < sl; i++)
				if ((unsigned char)shown[i] < 0x20 || (unsigned char)shown[i] >= 0x7f)
					shown[i] = '?';
			return fail(&st, kstart - 1, "unknown field \"%s\"", shown);
		}
		if (st.seen & BIT(k))
			return fail(&st, kstart - 1, "duplicate field \"%s\"", keydefs[k].name);
		st.seen |= BIT(k);
		st.kpos[k] = kstart - 1;
		st.pos = kend;
		skip_ws(&st);
		if (st.pos >= len || line[st.pos] != ':')
			return fail(&st, st.pos, "expected ':' after field name \"%s\"", keydefs[k].name);
		st.pos++;
		skip_ws(&st);
		st.vpos[k] = st.pos;
		if (parse_value(&st, (enum key)k))
			return -EINVAL;
		if (k == K_V && st.num[K_V] > PG_SCHEMA_VERSION)
			/* say so before a field this version does not know gets the blame */
			return fail(&st, st.vpos[K_V], "field \"v\": schema version %lld is newer than this pangolin reads (%d): upgrade pangolin",
				    st.num[K_V], PG_SCHEMA_VERSION);
		if (k == K_START_NS && order == order_common && (st.seen & BIT(K_TYPE))) {
			/* switch prediction to this type's payload after the common keys */
			unsigned int t = pg_event_type_from_name(st.small[K_TYPE], st.slen[K_TYPE]);
			const unsigned char *po;
			size_t pn;

			po = order_payload(t, &pn);
			if (po) {
				order = po;
				order_n = pn;
				oi = 0;
			}
		}
		first = false;
		skip_ws(&st);
		if (st.pos < len && line[st.pos] == ',') {
			st.pos++;
			continue;
		}
		if (st.pos < len && line[st.pos] == '}') {
			st.pos++;
			break;
		}
		return fail(&st, st.pos, "expected ',' or '}' after field \"%s\", found %s",
			    keydefs[k].name, found_what(&st, st.pos));
	}
	skip_ws(&st);
	if (st.pos < len)
		return fail(&st, st.pos, "unexpected data after the JSON object");
	return assemble(&st, st.pos ? st.pos - 1 : 0, ev);
}
