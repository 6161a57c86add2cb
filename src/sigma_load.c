// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sigma rules from YAML (libyaml's document API: a tree of nodes that keep their line and
 * column) into the trees of sigma.h. Rule files are untrusted input (fuzz/fuzz_sigma.c): every
 * construct is checked, and anything pangolin cannot run as the rule means is an error naming
 * the file, line, column, the key and why, never a rule that silently matches something else.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "sigma.h"

/* --- the arena: every rule's strings and arrays, freed at once -------------------------------- */

struct sg_arena {
	struct sg_arena *next;
	size_t used, cap;
	unsigned char data[];
};

void *sg_alloc(struct pg_ruleset *rs, size_t size)
{
	struct sg_arena *a = rs->arena;

	size = (size + 15) & ~(size_t)15;
	if (!a || a->cap - a->used < size) {
		size_t cap = size > 65536 ? size : 65536;

		a = malloc(sizeof(*a) + cap);
		if (!a)
			return NULL;
		a->next = rs->arena;
		a->used = 0;
		a->cap = cap;
		rs->arena = a;
	}
	a->used += size;
	return memset(a->data + a->used - size, 0, size);
}

char *sg_strndup(struct pg_ruleset *rs, const char *s, size_t n)
{
	char *d = sg_alloc(rs, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

static int field_add(struct pg_ruleset *rs, enum sg_acc acc, const struct pg_field *pf,
		     const char *key)
{
	if (rs->nfields == rs->fcap) {
		size_t n = rs->fcap ? rs->fcap * 2 : 16;
		struct sg_field *f = realloc(rs->fields, n * sizeof(*f));

		if (!f)
			return -ENOMEM;
		rs->fields = f;
		rs->fcap = n;
	}
	rs->fields[rs->nfields] = (struct sg_field){
		.acc = acc,
		.pf = pf,
		.key = key,
		.numeric = pf && (pf->kind == PG_FK_UINT || pf->kind == PG_FK_INT),
		.addr = pf && pf->kind == PG_FK_ADDR,
	};
	return (int)rs->nfields++;
}

int sg_field_intern(struct pg_ruleset *rs, enum sg_acc acc, const struct pg_field *pf)
{
	for (size_t i = 0; i < rs->nfields; i++)
		if (rs->fields[i].acc == acc && rs->fields[i].pf == pf)
			return (int)i;
	return field_add(rs, acc, pf, NULL);
}

int sg_field_intern_label(struct pg_ruleset *rs, const char *key, size_t len)
{
	char *k;

	for (size_t i = 0; i < rs->nfields; i++)
		if (rs->fields[i].acc == SA_LABEL && strlen(rs->fields[i].key) == len &&
		    !memcmp(rs->fields[i].key, key, len))
			return (int)i;
	k = sg_strndup(rs, key, len);
	return k ? field_add(rs, SA_LABEL, NULL, k) : -ENOMEM;
}

/* --- log sources ------------------------------------------------------------------------------ */

static const struct {
	const char *name;
	unsigned int type;
} logsources[SL_COUNT] = {
	[SL_PROCESS_CREATION] = { "process_creation", PG_EV_EXEC },
	[SL_PROCESS_TERMINATION] = { "process_termination", PG_EV_EXIT },
	[SL_FILE_EVENT] = { "file_event", PG_EV_OPEN },
	[SL_FILE_ACCESS] = { "file_access", PG_EV_OPEN },
	[SL_NETWORK_CONNECTION] = { "network_connection", PG_EV_CONNECT },
	[SL_DNS_QUERY] = { "dns_query", PG_EV_DNS },
	[SL_PTRACE] = { "ptrace", PG_EV_PTRACE },
	[SL_SETID] = { "setid", PG_EV_SETID },
};

unsigned int sg_logsource_type(enum sg_logsource ls)
{
	return logsources[ls].type;
}

bool sg_logsource_covers(enum sg_logsource ls, const struct pg_event *ev)
{
	const union pg_record *r = &ev->r;

	if (r->hdr.type != logsources[ls].type)
		return false;
	switch (ls) {
	case SL_PROCESS_CREATION:
		return !(r->exec.flags & PG_SNAPSHOT); /* found running: not a creation */
	case SL_FILE_EVENT:
		return r->open.ret >= 0 && ((r->open.flags & O_ACCMODE) != O_RDONLY ||
					    (r->open.flags & (O_CREAT | O_TRUNC)));
	case SL_DNS_QUERY:
		return r->dns.flags & PG_DNS_F_PARSED;
	default:
		return true;
	}
}

/* --- errors ----------------------------------------------------------------------------------- */

struct loader {
	struct pg_ruleset *rs;
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	size_t visits; /* nodes looked at in this document: aliases can make a small file huge */
	struct sg_rule *rule; /* the rule being built */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_VISITS 100000
#define MAX_SELECTIONS 64 /* the matcher keeps a bit per selection */

/* Messages quote rule text: what is not printable ASCII becomes '?' (they go to terminals). */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

__attribute__((format(printf, 4, 5))) static int fail(struct loader *ld, const yaml_node_t *at,
						      const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ld->err, ld->errlen, "%s:%zu:%zu: ", ld->name, at ? at->start_mark.line + 1 : 1,
		     at ? at->start_mark.column + 1 : 1);
	if (key && n >= 0 && (size_t)n < ld->errlen)
		n += snprintf(ld->err + n, ld->errlen - (size_t)n, "%s: ", key);
	if (n >= 0 && (size_t)n < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	printable(ld->err);
	return -EINVAL;
}

/* A YAML string quoted for a message: printable ASCII, cut at 60 bytes. */
static const char *shown(const char *s, size_t n, char *buf, size_t size)
{
	size_t i, max = size - 4 < 60 ? size - 4 : 60;

	for (i = 0; i < n && i < max; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + i, n > max ? "..." : "");
	return buf;
}

/* --- nodes ------------------------------------------------------------------------------------ */

static yaml_node_t *node_at(struct loader *ld, int index)
{
	ld->visits++;
	return yaml_document_get_node(ld->doc, index);
}

/* Every key/value pair of a map node; the number of items of a list node. */
#define FOR_PAIRS(map, p)                                                      \
	for (yaml_node_pair_t *p = (map)->data.mapping.pairs.start;            \
	     p < (map)->data.mapping.pairs.top; p++)
#define NPAIRS(map) ((size_t)((map)->data.mapping.pairs.top - (map)->data.mapping.pairs.start))
#define NITEMS(list) ((size_t)((list)->data.sequence.items.top - (list)->data.sequence.items.start))
#define ITEM(ld, list, i) node_at(ld, (list)->data.sequence.items.start[i])

static bool is_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n)
{
	return n->data.scalar.length;
}

static bool seq(const yaml_node_t *n, const char *lit)
{
	return is_scalar(n) && slen(n) == strlen(lit) && !memcmp(sval(n), lit, slen(n));
}

/* YAML's null: an empty plain scalar, ~, null. */
static bool is_null(const yaml_node_t *n)
{
	if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !slen(n) || seq(n, "~") || seq(n, "null") || seq(n, "Null") || seq(n, "NULL");
}

static const char *type_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a map" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

/*
 * A map's keys: all scalars, none twice (YAML forbids it; libyaml keeps both). Returns 0 or
 * fails naming the second one.
 */
static int check_map(struct loader *ld, const yaml_node_t *map, const char *what)
{
	char sh[64];

	FOR_PAIRS(map, p) {
		yaml_node_t *k = node_at(ld, p->key);

		if (!is_scalar(k))
			return fail(ld, k, what, "keys must be plain strings, not %s", type_name(k));
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = node_at(ld, q->key);

			if (slen(k2) == slen(k) && !memcmp(sval(k2), sval(k), slen(k)))
				return fail(ld, k, what, "key '%s' appears twice",
					    shown(sval(k), slen(k), sh, sizeof(sh)));
		}
		if (ld->visits > MAX_VISITS)
			return fail(ld, map, what, "more than %d nodes (aliases?): too large for a rule", MAX_VISITS);
	}
	return 0;
}

static yaml_node_t *map_get(struct loader *ld, const yaml_node_t *map, const char *key)
{
	FOR_PAIRS(map, p)
		if (seq(node_at(ld, p->key), key))
			return node_at(ld, p->value);
	return NULL;
}

/* A string value: a scalar, copied into the arena. */
static int get_string(struct loader *ld, const yaml_node_t *n, const char *key, const char **out,
		      size_t max)
{
	if (!is_scalar(n))
		return fail(ld, n, key, "expected a string, found %s", type_name(n));
	if (slen(n) > max)
		return fail(ld, n, key, "longer than %zu bytes", max);
	if (memchr(sval(n), 0, slen(n)))
		return fail(ld, n, key, "contains a NUL byte");
	*out = sg_strndup(ld->rs, sval(n), slen(n));
	return *out ? 0 : -ENOMEM;
}

/* --- fields ----------------------------------------------------------------------------------- */

#define LS_ALL ((1u << SL_COUNT) - 1)
#define LS(x) (1u << (x))
#define LS_FILE (LS(SL_FILE_EVENT) | LS(SL_FILE_ACCESS))

/* Sigma's field names (the taxonomy's, as Sysmon for Linux spells them) and pangolin's. */
static const struct {
	const char *sigma;
	unsigned int ls; /* log sources where it exists */
	enum sg_acc acc;
	const char *pg; /* SA_PGFIELD: event.h's name */
} sigma_fields[] = {
	{ "Image", LS_ALL, SA_EXE, NULL },
	{ "CommandLine", LS_ALL, SA_CMDLINE, NULL },
	{ "ParentImage", LS_ALL, SA_PARENT_EXE, NULL },
	{ "ParentCommandLine", LS_ALL, SA_PARENT_CMDLINE, NULL },
	{ "User", LS_ALL, SA_PGFIELD, "uid" },
	{ "ProcessId", LS_ALL, SA_PGFIELD, "pid" },
	{ "ParentProcessId", LS_ALL, SA_PGFIELD, "ppid" },
	{ "TargetFilename", LS_FILE, SA_PGFIELD, "path" },
	{ "DestinationIp", LS(SL_NETWORK_CONNECTION), SA_PGFIELD, "daddr" },
	{ "DestinationPort", LS(SL_NETWORK_CONNECTION), SA_PGFIELD, "dport" },
	{ "QueryName", LS(SL_DNS_QUERY), SA_PGFIELD, "qname" },
	{ "QueryType", LS(SL_DNS_QUERY), SA_PGFIELD, "qtype" },
	/* pangolin's own names for what the process table adds */
	{ "exe", LS_ALL, SA_EXE, NULL },
	{ "cmdline", LS_ALL, SA_CMDLINE, NULL },
	{ "parent_exe", LS_ALL, SA_PARENT_EXE, NULL },
	{ "parent_cmdline", LS_ALL, SA_PARENT_CMDLINE, NULL },
	{ "ancestors", LS_ALL, SA_ANCESTORS, NULL },
	/* the pod's (docs/kubernetes.md): Sigma's taxonomy has no names for them */
	{ "labels", LS_ALL, SA_LABELS, NULL },
};

/* Sigma fields pangolin cannot see, and why: an error beats a rule that never matches. */
static const struct {
	const char *sigma;
	const char *why;
} unsupported_fields[] = {
	{ "CurrentDirectory", "pangolin does not see a process's working directory" },
	{ "OriginalFileName", "Linux binaries carry no PE version resource" },
	{ "Hashes", "pangolin does not hash executables" },
	{ "IntegrityLevel", "a Windows notion" },
	{ "LogonId", "pangolin has no login sessions; use User (a uid)" },
	{ "LogonGuid", "pangolin has no login sessions; use User (a uid)" },
	{ "ParentUser", "the process table keeps programs, not the parent's uid" },
	{ "Description", "Linux binaries carry no PE version resource" },
	{ "Product", "Linux binaries carry no PE version resource" },
	{ "Company", "Linux binaries carry no PE version resource" },
	{ "DestinationHostname", "a connect event has the address only; write a dns_query rule on QueryName" },
	{ "SourceIp", "connect events carry the destination only" },
	{ "SourcePort", "connect events carry the destination only" },
	{ "SourceHostname", "connect events carry the destination only" },
	{ "Protocol", "connect events do not say tcp or udp" },
	{ "QueryResults", "dns events are the query as it left; answers are not seen" },
	{ "QueryStatus", "dns events are the query as it left; answers are not seen" },
	{ "TargetObject", "a Windows registry notion" },
};

/* Resolve a field name for a log source into rs->fields. Returns the index or fails. */
static int resolve_field(struct loader *ld, enum sg_logsource ls, const char *name, size_t len,
			 const yaml_node_t *at, const char *key)
{
	unsigned int type = sg_logsource_type(ls);
	const struct pg_field *pf;
	char sh[64];
	int idx;

	if (len == 9 && !memcmp(name, "Initiated", 9)) {
		if (ls != SL_NETWORK_CONNECTION)
			return fail(ld, at, key, "field 'Initiated' belongs to network_connection rules");
		/* connect(2) is always outbound: the field exists and is "true" */
		return sg_field_intern(ld->rs, SA_TRUE, NULL);
	}
	for (size_t i = 0; i < sizeof(sigma_fields) / sizeof(sigma_fields[0]); i++) {
		const char *sname = sigma_fields[i].sigma, *pname = sigma_fields[i].pg;

		if (strlen(sname) != len || memcmp(sname, name, len))
			continue;
		if (!(sigma_fields[i].ls & LS(ls)))
			return fail(ld, at, key, "field '%s' is not in %s events (see docs/detect.md for the fields of each log source)",
				    sigma_fields[i].sigma, logsources[ls].name);
		pf = pname ? pg_field_lookup(pname, strlen(pname)) : NULL;
		idx = sg_field_intern(ld->rs, sigma_fields[i].acc, pf);
		return idx;
	}
	for (size_t i = 0; i < sizeof(unsupported_fields) / sizeof(unsupported_fields[0]); i++)
		if (strlen(unsupported_fields[i].sigma) == len &&
		    !memcmp(unsupported_fields[i].sigma, name, len))
			return fail(ld, at, key, "field '%s' is not supported: %s", unsupported_fields[i].sigma,
				    unsupported_fields[i].why);
	if (len > 7 && !memcmp(name, "labels.", 7))
		return sg_field_intern_label(ld->rs, name + 7, len - 7);
	pf = pg_field_lookup(name, len);
	/* where the event came from (node, pod...) is on every event, whatever its type */
	if (pf && (pf->kind == PG_FK_META || pf->kind == PG_FK_POD))
		return sg_field_intern(ld->rs, SA_PGFIELD, pf);
	if (pf && pf->kind != PG_FK_DNS_ANSWERS && pg_field_offset(pf, type) >= 0)
		return sg_field_intern(ld->rs, SA_PGFIELD, pf);
	if (pf)
		return fail(ld, at, key, "field '%s' is not in %s events (%s rules see %s events)",
			    pf->name, logsources[ls].name, logsources[ls].name,
			    pg_event_type_name(type));
	return fail(ld, at, key, "unknown field '%s' (Sigma names: Image, CommandLine, ParentImage, ParentCommandLine, User, TargetFilename, DestinationIp, DestinationPort, QueryName, ...; or pangolin's event fields: docs/detect.md)",
		    shown(name, len, sh, sizeof(sh)));
}

/* --- values ----------------------------------------------------------------------------------- */

enum mod {
	M_CONTAINS = 1 << 0,
	M_STARTSWITH = 1 << 1,
	M_ENDSWITH = 1 << 2,
	M_ALL = 1 << 3,
	M_RE = 1 << 4,
	M_CIDR = 1 << 5,
	M_WINDASH = 1 << 6,
	M_EXISTS = 1 << 7,
	M_CASED = 1 << 8,
	M_GT = 1 << 9,
	M_GTE = 1 << 10,
	M_LT = 1 << 11,
	M_LTE = 1 << 12,
	M_RE_I = 1 << 13,
	M_RE_M = 1 << 14,
	M_RE_S = 1 << 15,
};

#define M_KIND                                                                              \
	(M_CONTAINS | M_STARTSWITH | M_ENDSWITH | M_RE | M_CIDR | M_EXISTS | M_GT | M_GTE | M_LT | \
	 M_LTE)

static const struct {
	const char *name;
	unsigned int bit;
} modifiers[] = {
	{ "contains", M_CONTAINS }, { "startswith", M_STARTSWITH }, { "endswith", M_ENDSWITH },
	{ "all", M_ALL },	    { "re", M_RE },		    { "cidr", M_CIDR },
	{ "windash", M_WINDASH },   { "exists", M_EXISTS },	    { "cased", M_CASED },
	{ "gt", M_GT },		    { "gte", M_GTE },		    { "lt", M_LT },
	{ "lte", M_LTE },	    { "i", M_RE_I },		    { "m", M_RE_M },
	{ "s", M_RE_S },
};

static const struct {
	const char *name;
	const char *why;
} unsupported_mods[] = {
	{ "base64", "Linux command lines are not base64-encoded by the sensor; match the decoded text" },
	{ "base64offset", "Linux command lines are not base64-encoded by the sensor; match the decoded text" },
	{ "utf16le", "Linux strings are bytes (UTF-8), not UTF-16" },
	{ "utf16be", "Linux strings are bytes (UTF-8), not UTF-16" },
	{ "utf16", "Linux strings are bytes (UTF-8), not UTF-16" },
	{ "wide", "Linux strings are bytes (UTF-8), not UTF-16" },
	{ "expand", "placeholders need a pipeline that fills them; pangolin has none" },
	{ "fieldref", "comparing two fields of an event is not supported yet" },
};

/* Integer in decimal, optional '-'. */
static bool parse_int(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0;

	if (n && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n || n - i > 19)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/*
 * Sigma's string syntax into the matcher's: '*' and '?' are wildcards, "\*", "\?" and "\\"
 * their literal characters, any other backslash itself. out gets the text unescaped when
 * there is no wildcard (*glob false), else a pattern where '\' escapes the next byte.
 */
/* "\*", "\?" or "\\" at s[i]: an escaped character, not a wildcard */
static bool escaped_at(const char *s, size_t n, size_t i)
{
	return s[i] == '\\' && i + 1 < n &&
	       (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\');
}

static size_t sigma_unescape(const char *s, size_t n, char *out, bool *glob)
{
	size_t o = 0;

	*glob = false;
	for (size_t i = 0; i < n; i++) {
		if (escaped_at(s, n, i))
			i++;
		else if (s[i] == '*' || s[i] == '?')
			*glob = true;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (escaped_at(s, n, i)) {
			if (*glob) /* still a literal in the pattern: keep it escaped */
				out[o++] = '\\';
			out[o++] = s[++i];
			continue;
		}
		if (*glob && c == '\\') { /* a lone backslash is itself: escaped in the pattern */
			out[o++] = '\\';
			out[o++] = '\\';
			continue;
		}
		out[o++] = c;
	}
	return o;
}

static void lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] + 32);
}

static int compile_regex(struct loader *ld, const yaml_node_t *v, const char *key,
			 unsigned int mods, struct sg_value *out)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re;
	char msg[160];

	if (mods & M_RE_I)
		opts |= PCRE2_CASELESS;
	if (mods & M_RE_M)
		opts |= PCRE2_MULTILINE;
	if (mods & M_RE_S)
		opts |= PCRE2_DOTALL;
	re = pcre2_compile((PCRE2_SPTR)sval(v), slen(v), opts, &errcode, &erroff, NULL);
	if (!re) {
		pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg, sizeof(msg));
		return fail(ld, v, key, "regular expression: %s at offset %zu", msg, (size_t)erroff);
	}
	/* JIT when the machine allows it (a hardened kernel may refuse executable memory) */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	if (ld->rs->nres == ld->rs->rescap) {
		size_t n = ld->rs->rescap ? ld->rs->rescap * 2 : 16;
		pcre2_code **r = realloc(ld->rs->res, n * sizeof(*r));

		if (!r) {
			pcre2_code_free(re);
			return -ENOMEM;
		}
		ld->rs->res = r;
		ld->rs->rescap = n;
	}
	ld->rs->res[ld->rs->nres++] = re;
	out->op = SG_RE;
	out->re = re;
	return 0;
}

/* One value of a condition. */
static int compile_value(struct loader *ld, const yaml_node_t *v, const char *key,
			 const struct sg_field *f, unsigned int mods, struct sg_value *out)
{
	char sh[64];
	char *buf;
	size_t n;
	bool glob;
	int64_t num;

	if (!is_scalar(v))
		return fail(ld, v, key, "a value must be a string or a number, not %s", type_name(v));
	if (memchr(sval(v), 0, slen(v)))
		return fail(ld, v, key, "contains a NUL byte");
	if (is_null(v)) {
		if (mods)
			return fail(ld, v, key, "null with a modifier: null means the field is absent or empty");
		out->op = SG_NULL;
		return 0;
	}
	if (mods & M_EXISTS) {
		if (!seq(v, "true") && !seq(v, "false"))
			return fail(ld, v, key, "|exists takes true or false, not '%s'", shown(sval(v), slen(v), sh, sizeof(sh)));
		out->op = SG_EXISTS;
		out->num = seq(v, "true");
		return 0;
	}
	if (mods & M_RE)
		return compile_regex(ld, v, key, mods, out);
	if (mods & M_CIDR) {
		char tmp[64], *slash;
		long prefix;

		if (slen(v) >= sizeof(tmp))
			return fail(ld, v, key, "'%s' is not an address/prefix", shown(sval(v), slen(v), sh, sizeof(sh)));
		memcpy(tmp, sval(v), slen(v));
		tmp[slen(v)] = 0;
		slash = strchr(tmp, '/');
		if (slash)
			*slash++ = 0;
		out->family = strchr(tmp, ':') ? AF_INET6 : AF_INET;
		if (inet_pton((int)out->family, tmp, out->addr) != 1)
			return fail(ld, v, key, "'%s' is not an IPv4 or IPv6 address", shown(sval(v), slen(v), sh, sizeof(sh)));
		prefix = out->family == AF_INET ? 32 : 128;
		if (slash) {
			char *end;

			errno = 0;
			prefix = strtol(slash, &end, 10);
			if (end == slash || *end || prefix < 0 ||
			    prefix > (out->family == AF_INET ? 32 : 128))
				return fail(ld, v, key, "'%s': the prefix must be 0..%d", shown(sval(v), slen(v), sh, sizeof(sh)),
					    out->family == AF_INET ? 32 : 128);
		}
		out->prefix = (unsigned int)prefix;
		out->op = SG_CIDR;
		return 0;
	}
	if (mods & (M_GT | M_GTE | M_LT | M_LTE)) {
		if (!parse_int(sval(v), slen(v), &num))
			return fail(ld, v, key, "'%s' is not an integer (gt, gte, lt and lte compare numbers)",
				    shown(sval(v), slen(v), sh, sizeof(sh)));
		out->op = mods & M_GT  ? SG_GT :
			  mods & M_GTE ? SG_GTE :
			  mods & M_LT  ? SG_LT :
					 SG_LTE;
		out->num = num;
		return 0;
	}
	/* User: pangolin sees uids; the one name every system agrees on is root */
	if (f->pf && !strcmp(f->pf->name, "uid") && seq(v, "root") && !(mods & (M_CONTAINS | M_STARTSWITH | M_ENDSWITH))) {
		out->op = SG_NUM_EQ;
		out->num = 0;
		return 0;
	}
	if (f->numeric && !(mods & (M_CONTAINS | M_STARTSWITH | M_ENDSWITH)) &&
	    parse_int(sval(v), slen(v), &num)) {
		out->op = SG_NUM_EQ;
		out->num = num;
		return 0;
	}
	if (f->pf && !strcmp(f->pf->name, "uid") && !(mods & (M_CONTAINS | M_STARTSWITH | M_ENDSWITH)) &&
	    !memchr(sval(v), '*', slen(v)))
		return fail(ld, v, key, "'%s': User is a uid here (pangolin sees uids, not names; 'root' means 0)",
			    shown(sval(v), slen(v), sh, sizeof(sh)));
	/* text: room for the affixes of a pattern and every byte escaped */
	buf = sg_alloc(ld->rs, slen(v) * 2 + 3);
	if (!buf)
		return -ENOMEM;
	n = sigma_unescape(sval(v), slen(v), buf + 1, &glob);
	if (glob) {
		/* a wildcard turns every kind into one pattern */
		size_t start = 1;

		if (mods & (M_CONTAINS | M_ENDSWITH))
			buf[--start] = '*';
		if (mods & (M_CONTAINS | M_STARTSWITH))
			buf[1 + n++] = '*';
		out->op = SG_GLOB;
		out->s = buf + start;
		out->len = n + 1 - start;
	} else {
		out->op = mods & M_CONTAINS ? SG_CONTAINS : mods & M_STARTSWITH ? SG_STARTSWITH :
			  mods & M_ENDSWITH ? SG_ENDSWITH : SG_EQ;
		out->s = buf + 1;
		out->len = n;
	}
	if (!(mods & M_CASED))
		lower((char *)out->s, out->len);
	return 0;
}

/* windash: the variants of a value with each option dash written as the Windows ones. */
static const char *const dashes[] = { "-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95" };

/* A value with every dash that starts a word replaced by d. */
static yaml_node_t windash_variant(struct loader *ld, const yaml_node_t *v, const char *d,
				   char *buf)
{
	yaml_node_t copy = *v;
	size_t o = 0, dl = strlen(d);

	for (size_t i = 0; i < slen(v); i++) {
		char prev = i ? sval(v)[i - 1] : ' ';

		if (sval(v)[i] == '-' && (prev == ' ' || prev == '*')) {
			memcpy(buf + o, d, dl);
			o += dl;
		} else {
			buf[o++] = sval(v)[i];
		}
	}
	buf[o] = 0;
	copy.data.scalar.value = (yaml_char_t *)buf;
	copy.data.scalar.length = o;
	return copy;
}

static int parse_mods(struct loader *ld, const yaml_node_t *k, const char *key, const char *s,
		      size_t n, unsigned int *out)
{
	char sh[64];

	*out = 0;
	while (n) {
		const char *bar = memchr(s, '|', n);
		size_t l = bar ? (size_t)(bar - s) : n;
		size_t i;
		unsigned int bit = 0;

		for (i = 0; i < sizeof(modifiers) / sizeof(modifiers[0]); i++)
			if (strlen(modifiers[i].name) == l && !memcmp(modifiers[i].name, s, l))
				bit = modifiers[i].bit;
		if (!bit) {
			for (i = 0; i < ARRAY_SIZE(unsupported_mods); i++) {
				const char *un = unsupported_mods[i].name;

				if (strlen(un) == l && !memcmp(un, s, l))
					return fail(ld, k, key, "modifier '%s' is not supported: %s", un,
						    unsupported_mods[i].why);
			}
			return fail(ld, k, key, "unknown modifier '%s' (contains, startswith, endswith, all, re, cidr, windash, exists, cased, gt, gte, lt, lte)",
				    shown(s, l, sh, sizeof(sh)));
		}
		if (*out & bit)
			return fail(ld, k, key, "modifier '%s' given twice", shown(s, l, sh, sizeof(sh)));
		*out |= bit;
		s += l + (bar ? 1 : 0);
		n -= l + (bar ? 1 : 0);
		if (bar && !n)
			return fail(ld, k, key, "a modifier is missing after the last '|'");
	}
	if (__builtin_popcount(*out & M_KIND) > 1)
		return fail(ld, k, key, "modifiers contains, startswith, endswith, re, cidr, exists, gt, gte, lt and lte exclude each other");
	if ((*out & (M_RE_I | M_RE_M | M_RE_S)) && !(*out & M_RE))
		return fail(ld, k, key, "modifiers i, m and s go with re");
	if ((*out & M_CASED) && (*out & (M_RE | M_CIDR | M_EXISTS | M_GT | M_GTE | M_LT | M_LTE)))
		return fail(ld, k, key, "cased applies to text comparisons (a regex says case with |i)");
	return 0;
}

/* One "Field|mods: value(s)" into a condition. */
static int compile_cond(struct loader *ld, enum sg_logsource ls, const yaml_node_t *k,
			const yaml_node_t *v, struct sg_cond *c)
{
	const char *key = sval(k), *bar = memchr(key, '|', slen(k));
	size_t flen = bar ? (size_t)(bar - key) : slen(k);
	const struct sg_field *f;
	unsigned int mods;
	int idx, rc;
	size_t nv;
	char keybuf[128];

	snprintf(keybuf, sizeof(keybuf), "detection: %.*s", (int)(slen(k) < 90 ? slen(k) : 90), key);
	if (!flen)
		return fail(ld, k, keybuf, "a field name is needed before '|' (keyword searches are not supported: name the field)");
	if (bar && flen + 1 == slen(k))
		return fail(ld, k, keybuf, "a modifier is missing after the last '|'");
	rc = parse_mods(ld, k, keybuf, key + flen + (bar ? 1 : 0), bar ? slen(k) - flen - 1 : 0,
			&mods);
	if (rc)
		return rc;
	idx = resolve_field(ld, ls, key, flen, k, keybuf);
	if (idx < 0)
		return idx;
	f = &ld->rs->fields[idx];
	if ((mods & M_CIDR) && !f->addr)
		return fail(ld, k, keybuf, "cidr applies to addresses (DestinationIp, daddr)");
	if ((mods & (M_GT | M_GTE | M_LT | M_LTE)) && !f->numeric)
		return fail(ld, k, keybuf, "gt, gte, lt and lte apply to numeric fields");
	if ((mods & M_WINDASH) && f->acc != SA_CMDLINE && f->acc != SA_PARENT_CMDLINE)
		return fail(ld, k, keybuf, "windash applies to command lines only (CommandLine, ParentCommandLine)");
	if ((mods & M_WINDASH) && (mods & (M_RE | M_CIDR | M_EXISTS)))
		return fail(ld, k, keybuf, "windash goes with text comparisons");
	c->field = (unsigned int)idx;
	c->all = mods & M_ALL;
	c->cased = mods & M_CASED;
	if (v->type == YAML_MAPPING_NODE)
		return fail(ld, v, keybuf, "a value must be a string, a number or a list of them, not a map");
	nv = v->type == YAML_SEQUENCE_NODE ? NITEMS(v) : 1;
	if (!nv)
		return fail(ld, v, keybuf, "an empty list matches nothing: give at least one value");
	if ((mods & M_EXISTS) && (nv != 1 || v->type == YAML_SEQUENCE_NODE))
		return fail(ld, v, keybuf, "|exists takes one value, true or false");
	if (mods & M_WINDASH)
		nv *= sizeof(dashes) / sizeof(dashes[0]);
	if (nv > 4096)
		return fail(ld, v, keybuf, "more than 4096 values");
	c->vals = sg_alloc(ld->rs, nv * sizeof(*c->vals));
	if (!c->vals)
		return -ENOMEM;
	c->nvals = 0;
	for (size_t i = 0; i < (v->type == YAML_SEQUENCE_NODE ? NITEMS(v) : 1); i++) {
		const yaml_node_t *x = v->type == YAML_SEQUENCE_NODE ? ITEM(ld, v, i) : v;

		if (!(mods & M_WINDASH)) {
			rc = compile_value(ld, x, keybuf, f, mods, &c->vals[c->nvals++]);
			if (rc)
				return rc;
			continue;
		}
		if (!is_scalar(x))
			return fail(ld, x, keybuf, "a value must be a string, not %s", type_name(x));
		for (size_t d = 0; d < sizeof(dashes) / sizeof(dashes[0]); d++) {
			char *buf = sg_alloc(ld->rs, slen(x) * 3 + 1);
			yaml_node_t var;

			if (!buf)
				return -ENOMEM;
			var = windash_variant(ld, x, dashes[d], buf);
			rc = compile_value(ld, &var, keybuf, f, mods & ~M_WINDASH,
					   &c->vals[c->nvals++]);
			if (rc)
				return rc;
		}
	}
	if (c->all && (mods & M_WINDASH))
		return fail(ld, k, keybuf, "all and windash together are ambiguous (every variant would have to match)");
	return 0;
}

/* A map of conditions (AND). */
static int compile_alt(struct loader *ld, enum sg_logsource ls, const yaml_node_t *map,
		       struct sg_alt *a, const char *selname)
{
	size_t n = NPAIRS(map), i = 0;
	int rc = check_map(ld, map, selname);

	if (rc)
		return rc;
	if (!n)
		return fail(ld, map, selname, "an empty map matches everything: say what to match");
	a->conds = sg_alloc(ld->rs, n * sizeof(*a->conds));
	if (!a->conds)
		return -ENOMEM;
	FOR_PAIRS(map, p) {
		rc = compile_cond(ld, ls, node_at(ld, p->key), node_at(ld, p->value),
				  &a->conds[i++]);
		if (rc)
			return rc;
	}
	a->nconds = n;
	return 0;
}

static int compile_selection(struct loader *ld, enum sg_logsource ls, const yaml_node_t *k,
			     const yaml_node_t *v, struct sg_selection *s)
{
	char key[96];
	int rc;

	snprintf(key, sizeof(key), "detection: %.*s", (int)(slen(k) < 60 ? slen(k) : 60), sval(k));
	s->name = sg_strndup(ld->rs, sval(k), slen(k));
	if (!s->name)
		return -ENOMEM;
	if (v->type == YAML_MAPPING_NODE) {
		s->alts = sg_alloc(ld->rs, sizeof(*s->alts));
		if (!s->alts)
			return -ENOMEM;
		s->nalts = 1;
		return compile_alt(ld, ls, v, s->alts, key);
	}
	if (v->type == YAML_SEQUENCE_NODE) {
		size_t n = NITEMS(v);

		if (!n)
			return fail(ld, v, key, "an empty list: say what to match");
		s->alts = sg_alloc(ld->rs, n * sizeof(*s->alts));
		if (!s->alts)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *x = ITEM(ld, v, i);

			if (x->type != YAML_MAPPING_NODE)
				return fail(ld, x, key, "keyword searches (a list of plain values) are not supported: name the field (CommandLine|contains: ...)");
			rc = compile_alt(ld, ls, x, &s->alts[i], key);
			if (rc)
				return rc;
		}
		s->nalts = n;
		return 0;
	}
	return fail(ld, v, key, "a selection is a map of fields, or a list of maps; keyword searches are not supported: name the field");
}

/* --- conditions ------------------------------------------------------------------------------- */

struct cparse {
	struct loader *ld;
	const yaml_node_t *at;
	const char *s;
	size_t n, pos;
	size_t depth;
	struct sg_rule *r;
};

static int cfail(struct cparse *cp, size_t pos, const char *fmt, const char *word)
{
	char key[64], sh[64];
	yaml_node_t at = *cp->at;

	/* a plain one-line scalar: point at the word itself */
	if (cp->at->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !memchr(cp->s, '\n', cp->n))
		at.start_mark.column += pos;
	else if (!memchr(cp->s, '\n', cp->n)) /* quoted: past the quote */
		at.start_mark.column += pos + 1;
	snprintf(key, sizeof(key), "detection: condition");
	return fail(cp->ld, &at, key, fmt, word ? shown(word, strlen(word), sh, sizeof(sh)) : "");
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '*' || c == '-' || c == '.';
}

/* The next token: a word, '(' or ')'. Empty at the end. */
static size_t token(struct cparse *cp, char *out, size_t cap, size_t *at)
{
	size_t l = 0;

	while (cp->pos < cp->n && (cp->s[cp->pos] == ' ' || cp->s[cp->pos] == '\t' ||
				   cp->s[cp->pos] == '\n' || cp->s[cp->pos] == '\r'))
		cp->pos++;
	*at = cp->pos;
	if (cp->pos >= cp->n) {
		out[0] = 0;
		return 0;
	}
	if (cp->s[cp->pos] == '(' || cp->s[cp->pos] == ')' || !is_word_char(cp->s[cp->pos])) {
		out[0] = cp->s[cp->pos++];
		out[1] = 0;
		return 1;
	}
	while (cp->pos < cp->n && is_word_char(cp->s[cp->pos])) {
		if (l + 1 < cap)
			out[l++] = cp->s[cp->pos];
		cp->pos++;
	}
	out[l] = 0;
	return l;
}

static size_t peek(struct cparse *cp, char *out, size_t cap, size_t *at)
{
	size_t save = cp->pos, l = token(cp, out, cap, at);

	cp->pos = save;
	return l;
}

static struct sg_node *node_new(struct cparse *cp, enum sg_node_kind k)
{
	struct sg_node *n = sg_alloc(cp->ld->rs, sizeof(*n));

	if (n)
		n->kind = k;
	return n;
}

/* fnmatch-like on selection names: '*' any run; case-sensitive as Sigma identifiers are. */
static bool name_glob(const char *p, const char *s)
{
	const char *star = NULL, *ss = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			ss = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++ss;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

static int parse_or(struct cparse *cp, struct sg_node **out);

static int parse_atom(struct cparse *cp, struct sg_node **out)
{
	char w[128], w2[128];
	size_t at, at2;
	int rc;

	if (++cp->depth > 64)
		return cfail(cp, cp->pos, "nested more than 64 deep%s", NULL);
	token(cp, w, sizeof(w), &at);
	if (!w[0])
		return cfail(cp, at, "ends where a selection name, 'not' or '(' was expected%s", NULL);
	if (!strcmp(w, "(")) {
		rc = parse_or(cp, out);
		if (rc)
			return rc;
		token(cp, w, sizeof(w), &at);
		if (strcmp(w, ")"))
			return cfail(cp, at, "'(' is not closed: expected ')'%s", NULL);
		cp->depth--;
		return 0;
	}
	if (!strcasecmp(w, "not")) {
		struct sg_node *n = node_new(cp, SN_NOT);

		if (!n)
			return -ENOMEM;
		rc = parse_atom(cp, &n->l);
		*out = n;
		cp->depth--;
		return rc;
	}
	if (!strcmp(w, "|"))
		return cfail(cp, at, "'|' starts an aggregation (count() by ...), which Sigma replaced with correlation rules: write one (docs/detect.md)%s", NULL);
	if (!is_word_char(w[0]) || !strcmp(w, ")"))
		return cfail(cp, at, "unexpected '%s'", w);
	if (!strcasecmp(w, "and") || !strcasecmp(w, "or"))
		return cfail(cp, at, "'%s' needs a selection before it", w);
	peek(cp, w2, sizeof(w2), &at2);
	if (!strcasecmp(w2, "of")) {
		struct sg_node *n;
		bool them;
		size_t cnt = 0;

		if (strcmp(w, "1") && strcasecmp(w, "all") && strcasecmp(w, "any"))
			return cfail(cp, at, "'%s of': Sigma has '1 of' and 'all of'", w);
		token(cp, w2, sizeof(w2), &at2);
		token(cp, w2, sizeof(w2), &at2);
		if (!w2[0] || !is_word_char(w2[0]))
			return cfail(cp, at2, "'of' needs a selection pattern or 'them'%s", NULL);
		n = node_new(cp, strcasecmp(w, "all") ? SN_ONE_OF : SN_ALL_OF);
		if (!n)
			return -ENOMEM;
		them = !strcmp(w2, "them");
		n->sels = sg_alloc(cp->ld->rs, (cp->r->nsels + 1) * sizeof(*n->sels));
		if (!n->sels)
			return -ENOMEM;
		for (size_t i = 0; i < cp->r->nsels; i++) {
			const char *name = cp->r->sels[i].name;

			/* 'them' leaves out identifiers starting with '_' (Sigma 2) */
			if (them ? name[0] != '_' : name_glob(w2, name))
				n->sels[cnt++] = (unsigned int)i;
		}
		if (!cnt)
			return cfail(cp, at2, "'%s' names no selection", w2);
		n->nsels = cnt;
		*out = n;
		cp->depth--;
		return 0;
	}
	for (size_t i = 0; i < cp->r->nsels; i++) {
		if (!strcmp(cp->r->sels[i].name, w)) {
			struct sg_node *n = node_new(cp, SN_SEL);

			if (!n)
				return -ENOMEM;
			n->sel = (unsigned int)i;
			*out = n;
			cp->depth--;
			return 0;
		}
	}
	return cfail(cp, at, "'%s' is not a selection of this rule", w);
}

static int parse_and(struct cparse *cp, struct sg_node **out)
{
	char w[128];
	size_t at;
	int rc = parse_atom(cp, out);

	while (!rc) {
		peek(cp, w, sizeof(w), &at);
		if (strcasecmp(w, "and"))
			break;
		token(cp, w, sizeof(w), &at);
		struct sg_node *n = node_new(cp, SN_AND);

		if (!n)
			return -ENOMEM;
		n->l = *out;
		rc = parse_atom(cp, &n->r);
		*out = n;
	}
	return rc;
}

static int parse_or(struct cparse *cp, struct sg_node **out)
{
	char w[128];
	size_t at;
	int rc = parse_and(cp, out);

	while (!rc) {
		peek(cp, w, sizeof(w), &at);
		if (strcasecmp(w, "or"))
			break;
		token(cp, w, sizeof(w), &at);
		struct sg_node *n = node_new(cp, SN_OR);

		if (!n)
			return -ENOMEM;
		n->l = *out;
		rc = parse_and(cp, &n->r);
		*out = n;
	}
	return rc;
}

static int parse_condition(struct loader *ld, struct sg_rule *r, const yaml_node_t *c,
			   struct sg_node **out)
{
	struct cparse cp = { .ld = ld, .at = c, .r = r };
	char w[128];
	size_t at;
	int rc;

	if (!is_scalar(c))
		return fail(ld, c, "detection: condition", "expected a string, found %s", type_name(c));
	cp.s = sval(c);
	cp.n = slen(c);
	rc = parse_or(&cp, out);
	if (rc)
		return rc;
	token(&cp, w, sizeof(w), &at);
	if (!strcmp(w, "|"))
		return cfail(&cp, at, "'|' starts an aggregation (count() by ...), which Sigma replaced with correlation rules: write one (docs/detect.md)%s", NULL);
	if (w[0])
		return cfail(&cp, at, "unexpected '%s' (and, or, not, '(' and ')' join selections)", w);
	return 0;
}

/* --- rules ------------------------------------------------------------------------------------ */

static int parse_logsource(struct loader *ld, const yaml_node_t *ls, struct sg_rule *r)
{
	yaml_node_t *cat, *prod, *svc;
	char sh[64];
	int rc;

	if (!ls)
		return fail(ld, NULL, "logsource", "missing: a detection rule says which events it is about (category: process_creation, ...)");
	if (ls->type != YAML_MAPPING_NODE)
		return fail(ld, ls, "logsource", "expected a map, found %s", type_name(ls));
	rc = check_map(ld, ls, "logsource");
	if (rc)
		return rc;
	prod = map_get(ld, ls, "product");
	svc = map_get(ld, ls, "service");
	cat = map_get(ld, ls, "category");
	if (prod && !seq(prod, "linux"))
		return fail(ld, prod, "logsource: product", "'%s': pangolin watches Linux (product: linux)",
			    is_scalar(prod) ? shown(sval(prod), slen(prod), sh, sizeof(sh)) : "?");
	if (svc)
		return fail(ld, svc, "logsource: service", "'%s': pangolin's events are categories, not services (auditd, syslog, ...): use category",
			    is_scalar(svc) ? shown(sval(svc), slen(svc), sh, sizeof(sh)) : "?");
	if (!cat)
		return fail(ld, ls, "logsource", "no category (process_creation, process_termination, file_event, file_access, network_connection, dns_query, ptrace, setid)");
	for (int i = 0; i < SL_COUNT; i++) {
		if (seq(cat, logsources[i].name)) {
			r->logsource = (enum sg_logsource)i;
			return 0;
		}
	}
	return fail(ld, cat, "logsource: category", "'%s' is not one pangolin has (process_creation, process_termination, file_event, file_access, network_connection, dns_query, ptrace, setid)",
		    is_scalar(cat) ? shown(sval(cat), slen(cat), sh, sizeof(sh)) : "?");
}

static int parse_detection(struct loader *ld, const yaml_node_t *d, struct sg_rule *r)
{
	yaml_node_t *cond = NULL;
	size_t n = 0;
	int rc;

	if (d->type != YAML_MAPPING_NODE)
		return fail(ld, d, "detection", "expected a map, found %s", type_name(d));
	rc = check_map(ld, d, "detection");
	if (rc)
		return rc;
	FOR_PAIRS(d, p) {
		yaml_node_t *k = node_at(ld, p->key);

		if (seq(k, "condition"))
			cond = node_at(ld, p->value);
		else if (seq(k, "timeframe"))
			return fail(ld, k, "detection: timeframe", "the Sigma 1 aggregation window: write a correlation rule with timespan instead");
		else
			n++;
	}
	if (!cond)
		return fail(ld, d, "detection", "no condition (condition: selection)");
	if (!n)
		return fail(ld, d, "detection", "no selection to match");
	if (n > MAX_SELECTIONS)
		return fail(ld, d, "detection", "more than %d selections", MAX_SELECTIONS);
	r->sels = sg_alloc(ld->rs, n * sizeof(*r->sels));
	if (!r->sels)
		return -ENOMEM;
	FOR_PAIRS(d, p) {
		yaml_node_t *k = node_at(ld, p->key);

		if (seq(k, "condition"))
			continue;
		rc = compile_selection(ld, r->logsource, k, node_at(ld, p->value),
				       &r->sels[r->nsels]);
		if (rc)
			return rc;
		r->nsels++;
	}
	if (cond->type == YAML_SEQUENCE_NODE) {
		/* Sigma 1: a list of conditions, any of which matches */
		size_t nc = NITEMS(cond);

		if (!nc)
			return fail(ld, cond, "detection: condition", "an empty list");
		for (size_t i = 0; i < nc; i++) {
			struct sg_node *c, *o;

			rc = parse_condition(ld, r, ITEM(ld, cond, i), &c);
			if (rc)
				return rc;
			if (!r->cond) {
				r->cond = c;
				continue;
			}
			o = sg_alloc(ld->rs, sizeof(*o));
			if (!o)
				return -ENOMEM;
			o->kind = SN_OR;
			o->l = r->cond;
			o->r = c;
			r->cond = o;
		}
		return 0;
	}
	return parse_condition(ld, r, cond, &r->cond);
}

/* "10s", "5m", "1h", "2d" */
static int parse_timespan(struct loader *ld, const yaml_node_t *t, uint64_t *out)
{
	static const struct {
		char unit;
		uint64_t ns;
	} units[] = { { 's', 1000000000ULL }, { 'm', 60000000000ULL }, { 'h', 3600000000000ULL },
		      { 'd', 86400000000000ULL } };
	char sh[64];
	int64_t v;

	if (!is_scalar(t) || slen(t) < 2 || !parse_int(sval(t), slen(t) - 1, &v) || v <= 0 ||
	    v > 3650 * 24 * 3600)
		goto bad;
	for (size_t i = 0; i < 4; i++)
		if (sval(t)[slen(t) - 1] == units[i].unit) {
			*out = (uint64_t)v * units[i].ns;
			if (*out > 3650ULL * 86400000000000ULL)
				goto bad;
			return 0;
		}
bad:
	return fail(ld, t, "correlation: timespan", "'%s' is not a time span: a number and s, m, h or d (30s, 5m, 1h), up to 10 years",
		    is_scalar(t) ? shown(sval(t), slen(t), sh, sizeof(sh)) : type_name(t));
}

/* A list of strings, or one string, into the arena. */
static int string_list(struct loader *ld, const yaml_node_t *n, const char *key, size_t max,
		       const char **out, unsigned int *lines, size_t *count)
{
	size_t cnt = n->type == YAML_SEQUENCE_NODE ?
			     NITEMS(n) : 1;
	int rc;

	if (n->type == YAML_MAPPING_NODE)
		return fail(ld, n, key, "expected a list of strings, found a map");
	if (cnt > max)
		return fail(ld, n, key, "more than %zu entries", max);
	for (size_t i = 0; i < cnt; i++) {
		const yaml_node_t *x = n->type == YAML_SEQUENCE_NODE ? ITEM(ld, n, i) : n;

		rc = get_string(ld, x, key, &out[i], 255);
		if (rc)
			return rc;
		if (!out[i][0])
			return fail(ld, x, key, "an empty name");
		if (lines)
			lines[i] = (unsigned int)x->start_mark.line + 1;
	}
	*count = cnt;
	return 0;
}

static int parse_correlation(struct loader *ld, const yaml_node_t *c, struct sg_rule *r)
{
	yaml_node_t *type, *rules, *group, *ts, *cond, *aliases, *gen;
	bool temporal;
	char sh[64];
	int rc;

	if (c->type != YAML_MAPPING_NODE)
		return fail(ld, c, "correlation", "expected a map, found %s", type_name(c));
	rc = check_map(ld, c, "correlation");
	if (rc)
		return rc;
	type = map_get(ld, c, "type");
	if (!type)
		return fail(ld, c, "correlation", "no type (event_count, value_count, temporal, temporal_ordered)");
	if (seq(type, "event_count"))
		r->corr = SC_EVENT_COUNT;
	else if (seq(type, "value_count"))
		r->corr = SC_VALUE_COUNT;
	else if (seq(type, "temporal"))
		r->corr = SC_TEMPORAL;
	else if (seq(type, "temporal_ordered"))
		r->corr = SC_TEMPORAL_ORDERED;
	else if (seq(type, "value_sum") || seq(type, "value_avg") || seq(type, "value_percentile") || seq(type, "value_median"))
		return fail(ld, type, "correlation: type", "'%s' is not supported (event_count, value_count, temporal, temporal_ordered)", sval(type));
	else
		return fail(ld, type, "correlation: type", "'%s' is not a correlation type (event_count, value_count, temporal, temporal_ordered)",
			    is_scalar(type) ? shown(sval(type), slen(type), sh, sizeof(sh)) :
					      type_name(type));
	rules = map_get(ld, c, "rules");
	if (!rules)
		return fail(ld, c, "correlation", "no rules: which rules does it correlate?");
	rc = string_list(ld, rules, "correlation: rules", SG_CORR_RULES_MAX, r->ref_names, r->ref_line, &r->nrefs);
	if (rc)
		return rc;
	if (!r->nrefs)
		return fail(ld, rules, "correlation: rules", "an empty list");
	if ((r->corr == SC_TEMPORAL || r->corr == SC_TEMPORAL_ORDERED) && r->nrefs < 2)
		return fail(ld, rules, "correlation: rules", "a temporal correlation needs at least two rules");
	group = map_get(ld, c, "group-by");
	if (group) {
		rc = string_list(ld, group, "correlation: group-by", SG_GROUP_MAX, r->group_src, NULL, &r->ngroup);
		if (rc)
			return rc;
	}
	ts = map_get(ld, c, "timespan");
	if (!ts)
		return fail(ld, c, "correlation", "no timespan (10s, 5m, 1h, ...)");
	rc = parse_timespan(ld, ts, &r->timespan_ns);
	if (rc)
		return rc;
	cond = map_get(ld, c, "condition");
	temporal = r->corr == SC_TEMPORAL || r->corr == SC_TEMPORAL_ORDERED;
	r->threshold = (uint32_t)(temporal ? r->nrefs : 0);
	if (!cond && !temporal)
		return fail(ld, c, "correlation", "no condition (gte: N)");
	if (cond) {
		int64_t v = -1;

		if (cond->type != YAML_MAPPING_NODE)
			return fail(ld, cond, "correlation: condition", "expected a map (gte: 10), found %s", type_name(cond));
		rc = check_map(ld, cond, "correlation: condition");
		if (rc)
			return rc;
		FOR_PAIRS(cond, p) {
			yaml_node_t *k = node_at(ld, p->key), *x = node_at(ld, p->value);

			if (seq(k, "field")) {
				if (r->corr != SC_VALUE_COUNT)
					return fail(ld, k, "correlation: condition: field", "only value_count counts the values of a field");
				rc = get_string(ld, x, "correlation: condition: field", &r->value_field_name, 255);
				if (rc)
					return rc;
				continue;
			}
			if (seq(k, "lt") || seq(k, "lte") || seq(k, "eq"))
				return fail(ld, k, "correlation: condition", "'%s' can only be decided when a window closes; pangolin decides as events arrive: use gte or gt",
					    sval(k));
			if (!seq(k, "gte") && !seq(k, "gt"))
				return fail(ld, k, "correlation: condition", "'%s' is not a condition (gte, gt; field for value_count)",
					    shown(sval(k), slen(k), sh, sizeof(sh)));
			if (v >= 0)
				return fail(ld, k, "correlation: condition", "one of gte or gt");
			if (!is_scalar(x) || !parse_int(sval(x), slen(x), &v) || v < 0 ||
			    v + seq(k, "gt") > SG_THRESHOLD_MAX || v + seq(k, "gt") < 1)
				return fail(ld, x, "correlation: condition", "%s takes a count of 1..%d", sval(k), SG_THRESHOLD_MAX);
			v += seq(k, "gt");
		}
		if (r->corr == SC_VALUE_COUNT && !r->value_field_name)
			return fail(ld, cond, "correlation: condition", "value_count needs the field whose values it counts (field: DestinationPort)");
		if (v < 0 && !temporal)
			return fail(ld, cond, "correlation: condition", "no count (gte: N)");
		if (v >= 0) {
			if (temporal && (size_t)v > r->nrefs)
				return fail(ld, cond, "correlation: condition", "a temporal correlation counts its rules: at most %zu", r->nrefs);
			if (r->corr == SC_TEMPORAL_ORDERED && (size_t)v != r->nrefs)
				return fail(ld, cond, "correlation: condition", "temporal_ordered matches the whole sequence: leave the condition out");
			r->threshold = (uint32_t)v;
		}
	}
	aliases = map_get(ld, c, "aliases");
	if (aliases) {
		size_t n = 0;

		if (aliases->type != YAML_MAPPING_NODE)
			return fail(ld, aliases, "correlation: aliases", "expected a map, found %s", type_name(aliases));
		rc = check_map(ld, aliases, "correlation: aliases");
		if (rc)
			return rc;
		FOR_PAIRS(aliases, p) {
			yaml_node_t *m = node_at(ld, p->value);

			if (m->type != YAML_MAPPING_NODE)
				return fail(ld, m, "correlation: aliases", "each alias maps rule names to fields");
			rc = check_map(ld, m, "correlation: aliases");
			if (rc)
				return rc;
			n += NPAIRS(m);
		}
		if (n > 256)
			return fail(ld, aliases, "correlation: aliases", "more than 256 entries");
		r->aliases = sg_alloc(ld->rs, (n ? n : 1) * sizeof(*r->aliases));
		if (!r->aliases)
			return -ENOMEM;
		FOR_PAIRS(aliases, p) {
			yaml_node_t *m = node_at(ld, p->value);
			const char *alias;

			rc = get_string(ld, node_at(ld, p->key), "correlation: aliases", &alias, 255);
			if (rc)
				return rc;
			FOR_PAIRS(m, q) {
				r->aliases[r->naliases].alias = alias;
				rc = get_string(ld, node_at(ld, q->key), "correlation: aliases", &r->aliases[r->naliases].rule, 255);
				if (!rc)
					rc = get_string(ld, node_at(ld, q->value), "correlation: aliases", &r->aliases[r->naliases].field, 255);
				if (rc)
					return rc;
				r->naliases++;
			}
		}
	}
	gen = map_get(ld, c, "generate");
	if (gen) {
		if (!seq(gen, "true") && !seq(gen, "false"))
			return fail(ld, gen, "correlation: generate", "true or false");
		r->corr_generate = seq(gen, "true");
	}
	FOR_PAIRS(c, p) {
		yaml_node_t *k = node_at(ld, p->key);
		static const char *const known[] = { "type", "rules", "group-by", "timespan", "condition", "aliases", "generate" };
		bool ok = false;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= seq(k, known[i]);
		if (!ok)
			return fail(ld, k, "correlation", "unknown key '%s' (type, rules, group-by, timespan, condition, aliases)",
				    shown(sval(k), slen(k), sh, sizeof(sh)));
	}
	return 0;
}

static int add_rule(struct pg_ruleset *rs, struct sg_rule **out)
{
	if (rs->nrules == rs->cap) {
		size_t n = rs->cap ? rs->cap * 2 : 32;
		struct sg_rule *r = realloc(rs->rules, n * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rs->rules = r;
		rs->cap = n;
	}
	*out = &rs->rules[rs->nrules];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int parse_rule(struct loader *ld, const yaml_node_t *root)
{
	struct pg_ruleset *rs = ld->rs;
	yaml_node_t *title, *id, *name, *level, *tags, *det, *corr, *gen, *action;
	struct sg_rule *r;
	char sh[64];
	int rc;

	if (root->type != YAML_MAPPING_NODE)
		return fail(ld, root, NULL, "a rule is a map (title:, logsource:, detection:, ...), not %s", type_name(root));
	rc = check_map(ld, root, "rule");
	if (rc)
		return rc;
	action = map_get(ld, root, "action");
	if (action)
		return fail(ld, action, "action", "rule collections (action: global, reset, repeat) are not supported: write each rule whole");
	rc = add_rule(rs, &r);
	if (rc)
		return rc;
	ld->rule = r;
	r->file = sg_strndup(rs, ld->name, strlen(ld->name));
	r->line = (unsigned int)root->start_mark.line + 1;
	r->generate = true;
	title = map_get(ld, root, "title");
	if (!title)
		return fail(ld, root, NULL, "no title: every rule has one");
	rc = get_string(ld, title, "title", &r->title, PG_ALERT_TITLE_LEN - 1);
	if (rc)
		return rc;
	id = map_get(ld, root, "id");
	if (id) {
		rc = get_string(ld, id, "id", &r->id, PG_ALERT_ID_LEN - 1);
		if (rc)
			return rc;
		if (!r->id[0])
			return fail(ld, id, "id", "empty");
	}
	name = map_get(ld, root, "name");
	if (name) {
		rc = get_string(ld, name, "name", &r->name, PG_ALERT_ID_LEN - 1);
		if (rc)
			return rc;
	}
	if (!r->id) {
		char tmp[PG_ALERT_ID_LEN];

		if (r->name) {
			r->id = r->name;
		} else {
			snprintf(tmp, sizeof(tmp), "%s:%u", ld->name, r->line);
			r->id = sg_strndup(rs, tmp, strlen(tmp));
			if (!r->id)
				return -ENOMEM;
		}
	}
	level = map_get(ld, root, "level");
	if (level) {
		const char *what = type_name(level);

		if (is_scalar(level)) {
			r->level = pg_alert_level_from_name(sval(level), slen(level));
			what = shown(sval(level), slen(level), sh, sizeof(sh));
		}
		if (!r->level)
			return fail(ld, level, "level", "'%s' is not informational, low, medium, high or critical",
				    what);
	}
	tags = map_get(ld, root, "tags");
	if (tags) {
		size_t n = 0, bytes = 0;

		if (tags->type != YAML_SEQUENCE_NODE)
			return fail(ld, tags, "tags", "expected a list, found %s", type_name(tags));
		n = NITEMS(tags);
		if (n > PG_ALERT_TAGS_MAX)
			return fail(ld, tags, "tags", "more than %d tags", PG_ALERT_TAGS_MAX);
		r->tags = sg_alloc(rs, (n ? n : 1) * sizeof(*r->tags));
		if (!r->tags)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *t = ITEM(ld, tags, i);

			rc = get_string(ld, t, "tags", &r->tags[i], 128);
			if (rc)
				return rc;
			bytes += strlen(r->tags[i]) + 1;
		}
		if (bytes > PG_ALERT_TAGS_LEN)
			return fail(ld, tags, "tags", "more than %d bytes in all", PG_ALERT_TAGS_LEN);
		r->ntags = n;
	}
	det = map_get(ld, root, "detection");
	corr = map_get(ld, root, "correlation");
	if (det && corr)
		return fail(ld, corr, "correlation", "a rule has a detection or a correlation, not both");
	if (!det && !corr)
		return fail(ld, root, NULL, "no detection and no correlation: nothing to match");
	if (det) {
		rc = parse_logsource(ld, map_get(ld, root, "logsource"), r);
		if (!rc)
			rc = parse_detection(ld, det, r);
	} else {
		rc = parse_correlation(ld, corr, r);
		gen = map_get(ld, root, "generate");
		if (!rc && gen) {
			if (!seq(gen, "true") && !seq(gen, "false"))
				return fail(ld, gen, "generate", "true or false");
			r->corr_generate = seq(gen, "true");
		}
	}
	if (rc)
		return rc;
	rs->nrules++;
	return 0;
}

int pg_ruleset__load_buf(struct pg_ruleset *rs, const char *name, const char *buf, size_t len,
			 char *err, size_t errlen)
{
	struct loader ld = { .rs = rs, .name = name, .err = err, .errlen = errlen };
	size_t nrules0 = rs->nrules, nres0 = rs->nres;
	yaml_parser_t parser;
	int rc = 0;

	if (rs->finished) {
		snprintf(err, errlen, "%s: the rule set is finished: load rules before pg_ruleset__finish", name);
		return -EINVAL;
	}
	if (len > PG_RULE_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes: is this a rule file?", name, PG_RULE_FILE_MAX);
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(err, errlen, "%s:%zu:%zu: YAML: %s%s%s", name, parser.problem_mark.line + 1,
				 parser.problem_mark.column + 1, parser.problem ? parser.problem : "malformed",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			printable(err);
			rc = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) { /* the end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		ld.doc = &doc;
		ld.visits = 0;
		rc = parse_rule(&ld, root);
		yaml_document_delete(&doc);
		if (rc)
			break;
	}
	yaml_parser_delete(&parser);
	if (rc) {
		/* a file loads whole or not at all */
		rs->nrules = nrules0;
		while (rs->nres > nres0)
			pcre2_code_free(rs->res[--rs->nres]);
		if (rc == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", name);
	}
	return rc;
}

int pg_ruleset__load_file(struct pg_ruleset *rs, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > PG_RULE_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, !S_ISREG(st.st_mode) ? "not a regular file" :
			 "larger than 1 MiB: is this a rule file?");
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	rc = pg_ruleset__load_buf(rs, path, buf, got, err, errlen);
	free(buf);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rule_file(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' && ((l > 4 && !strcmp(n + l - 4, ".yml")) || (l > 5 && !strcmp(n + l - 5, ".yaml")));
}

static int load_dir(struct pg_ruleset *rs, const char *dir, char *err, size_t errlen, int depth)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, cap = 0;
	int loaded = 0, rc = 0;

	if (depth > 16) {
		snprintf(err, errlen, "%s: directories nested more than 16 deep", dir);
		return -ELOOP;
	}
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*nn));

			if (!nn) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (!rc && n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n && !rc; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		if (stat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = load_dir(rs, path, err, errlen, depth + 1);
			if (rc > 0) {
				loaded += rc;
				rc = 0;
			}
		} else if (S_ISREG(st.st_mode) && is_rule_file(names[i])) {
			rc = pg_ruleset__load_file(rs, path, err, errlen);
			if (!rc)
				loaded++;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc ? rc : loaded;
}

int pg_ruleset__load_dir(struct pg_ruleset *rs, const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (stat(dir, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = pg_ruleset__load_file(rs, dir, err, errlen);
		return rc ? rc : 1;
	}
	return load_dir(rs, dir, err, errlen, 0);
}

/* --- finishing: references between rules ------------------------------------------------------ */

long pg_ruleset__find(const struct pg_ruleset *rs, const char *key)
{
	for (size_t i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i].id, key) ||
		    (rs->rules[i].name && !strcmp(rs->rules[i].name, key)))
			return (long)i;
	return -1;
}

__attribute__((format(printf, 5, 6))) static int ffail(char *err, size_t errlen,
						       const struct sg_rule *r, unsigned int line,
						       const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%u: ", r->file, line ? line : r->line);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	printable(err);
	return -EINVAL;
}

/* The detection rules under a rule (itself, or a correlation's, recursively): log sources. */
static unsigned int leaf_logsources(const struct pg_ruleset *rs, const struct sg_rule *r,
				    unsigned int depth)
{
	unsigned int m = 0;

	if (!r->corr)
		return LS(r->logsource);
	if (depth > 32)
		return 0;
	for (size_t i = 0; i < r->nrefs; i++)
		m |= leaf_logsources(rs, &rs->rules[r->refs[i]], depth + 1);
	return m;
}

/* A field named in a correlation, for the rule it counts: resolved in each leaf's log source. */
static int corr_field(struct pg_ruleset *rs, const struct sg_rule *c, size_t ref, const char *gname,
		      char *err, size_t errlen, unsigned int *out)
{
	const struct sg_rule *target = &rs->rules[c->refs[ref]];
	const char *fname = gname;
	unsigned int mask = leaf_logsources(rs, target, 0);
	int idx = -1;
	char lerr[512];

	for (size_t a = 0; a < c->naliases; a++)
		if (!strcmp(c->aliases[a].alias, gname) &&
		    (!strcmp(c->aliases[a].rule, target->id) ||
		     (target->name && !strcmp(c->aliases[a].rule, target->name))))
			fname = c->aliases[a].field;
	for (int ls = 0; ls < SL_COUNT; ls++) {
		struct loader ld = { .rs = rs, .name = c->file, .err = lerr,
				     .errlen = sizeof(lerr) };
		int i;

		if (!(mask & LS(ls)))
			continue;
		i = resolve_field(&ld, (enum sg_logsource)ls, fname, strlen(fname), NULL, "group-by");
		if (i < 0) {
			/* the resolver's message, without its file:1:1: prefix */
			const char *m = strstr(lerr, "group-by: ");

			return ffail(err, errlen, c, 0, "correlation: '%s' in rule '%s': %s", gname, target->id,
				     m ? m + 10 : lerr);
		}
		if (idx >= 0 && i != idx)
			return ffail(err, errlen, c, 0, "correlation: '%s' means different things in the rules under '%s'",
				     gname, target->id);
		idx = i;
	}
	if (idx < 0)
		return ffail(err, errlen, c, 0, "correlation: '%s': rule '%s' has no events", gname, target->id);
	*out = (unsigned int)idx;
	return 0;
}

static int append_uint(unsigned int **arr, size_t *n, unsigned int v)
{
	unsigned int *a = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!a)
		return -ENOMEM;
	a[(*n)++] = v;
	*arr = a;
	return 0;
}

int pg_ruleset__finish(struct pg_ruleset *rs, char *err, size_t errlen)
{
	int rc;

	if (rs->finished)
		return 0;
	/* ids and names are what correlations and alerts refer to: unique */
	for (size_t i = 0; i < rs->nrules; i++)
		for (size_t j = 0; j < i; j++) {
			const struct sg_rule *a = &rs->rules[i], *b = &rs->rules[j];

			if (!strcmp(a->id, b->id))
				return ffail(err, errlen, a, 0, "id '%s' is also the id of the rule at %s:%u",
					     a->id, b->file, b->line);
			if (a->name && b->name && !strcmp(a->name, b->name))
				return ffail(err, errlen, a, 0, "name '%s' is also the name of the rule at %s:%u",
					     a->name, b->file, b->line);
		}
	for (size_t i = 0; i < rs->nrules; i++) {
		struct sg_rule *r = &rs->rules[i];

		for (size_t k = 0; k < r->nrefs; k++) {
			long t = pg_ruleset__find(rs, r->ref_names[k]);

			if (t < 0)
				return ffail(err, errlen, r, r->ref_line[k], "correlation: rules: no rule has the id or name '%s'",
					     r->ref_names[k]);
			if ((size_t)t == i)
				return ffail(err, errlen, r, r->ref_line[k], "correlation: rules: '%s' is this rule itself",
					     r->ref_names[k]);
			r->refs[k] = (unsigned int)t;
		}
	}
	/* depth: how many correlations stand between a correlation and events (a cycle never
	 * stops growing) */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < rs->nrules; i++) {
			struct sg_rule *r = &rs->rules[i];

			for (size_t k = 0; k < r->nrefs; k++) {
				unsigned int d = rs->rules[r->refs[k]].depth + 1;

				if (d > r->depth) {
					r->depth = d;
					changed = true;
				}
			}
			if (r->depth > rs->nrules)
				return ffail(err, errlen, r, 0, "correlation: rules: '%s' leads back to this rule (a cycle)",
					     r->ref_names[0]);
		}
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		struct sg_rule *r = &rs->rules[i];

		if (!r->corr)
			continue;
		for (size_t g = 0; g < r->ngroup; g++) {
			r->group[g].name = r->group_src[g];
			for (size_t k = 0; k < r->nrefs; k++) {
				rc = corr_field(rs, r, k, r->group_src[g], err, errlen,
						&r->group[g].field[k]);
				if (rc)
					return rc;
			}
		}
		if (r->corr == SC_VALUE_COUNT)
			for (size_t k = 0; k < r->nrefs; k++) {
				rc = corr_field(rs, r, k, r->value_field_name, err, errlen,
						&r->value_field[k]);
				if (rc)
					return rc;
			}
		/* the rules it counts raise no alerts of their own, unless it says generate */
		for (size_t k = 0; k < r->nrefs; k++)
			if (!r->corr_generate)
				rs->rules[r->refs[k]].generate = false;
	}
	/* a rule counted by one correlation that generates and one that does not: it alerts */
	for (size_t i = 0; i < rs->nrules; i++) {
		struct sg_rule *r = &rs->rules[i];

		for (size_t k = 0; k < r->nrefs; k++)
			if (r->corr_generate)
				rs->rules[r->refs[k]].generate = true;
	}
	rs->feeds = calloc(rs->nrules ? rs->nrules : 1, sizeof(*rs->feeds));
	rs->nfeeds = calloc(rs->nrules ? rs->nrules : 1, sizeof(*rs->nfeeds));
	if (!rs->feeds || !rs->nfeeds)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct sg_rule *r = &rs->rules[i];

		if (!r->corr) {
			unsigned int t = sg_logsource_type(r->logsource);

			if (append_uint(&rs->by_type[t], &rs->nby_type[t], (unsigned int)i))
				return -ENOMEM;
			continue;
		}
		rs->ncorr++;
		for (size_t k = 0; k < r->nrefs; k++) {
			/* a rule listed twice (temporal_ordered A, B, A) feeds once: the steps are
			 * the state's business */
			bool dup = false;

			for (size_t j = 0; j < rs->nfeeds[r->refs[k]]; j++)
				dup |= rs->feeds[r->refs[k]][j] == i;
			unsigned int t = r->refs[k];

			if (!dup && append_uint(&rs->feeds[t], &rs->nfeeds[t], (unsigned int)i))
				return -ENOMEM;
		}
	}
	rs->finished = true;
	return 0;
}

/* --- the rule set ----------------------------------------------------------------------------- */

struct pg_ruleset *pg_ruleset__new(void)
{
	return calloc(1, sizeof(struct pg_ruleset));
}

void pg_ruleset__free(struct pg_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nres; i++)
		pcre2_code_free(rs->res[i]);
	free(rs->res);
	while (rs->arena) {
		struct sg_arena *next = rs->arena->next;

		free(rs->arena);
		rs->arena = next;
	}
	for (unsigned int t = 0; t < PG_EV_TYPE_COUNT; t++)
		free(rs->by_type[t]);
	if (rs->feeds)
		for (size_t i = 0; i < rs->nrules; i++)
			free(rs->feeds[i]);
	free(rs->feeds);
	free(rs->nfeeds);
	free(rs->fields);
	free(rs->rules);
	free(rs);
}

size_t pg_ruleset__count(const struct pg_ruleset *rs)
{
	return rs->nrules;
}

size_t pg_ruleset__correlations(const struct pg_ruleset *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->nrules; i++)
		n += rs->rules[i].corr != SC_NONE;
	return n;
}

void pg_ruleset__info(const struct pg_ruleset *rs, size_t i, struct pg_rule_info *out)
{
	const struct sg_rule *r = &rs->rules[i];

	*out = (struct pg_rule_info){ .id = r->id,
				      .title = r->title,
				      .file = r->file,
				      .line = r->line,
				      .correlation = r->corr != SC_NONE,
				      .generates = r->generate };
}
