// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin.v1.Event -> pg_event, for the spill path and the tests. protobuf-c checks the wire
 * format; this file checks what the wire format cannot say: the payload matches the type,
 * strings fit the kernel's buffers and hold no NUL, addresses have the family's length.
 * Input is untrusted (fuzz/fuzz_proto_decode.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "dns.h"
#include "pangolin.pb-c.h"
#include "proto.h"

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Copy a bytes/string field into a NUL-terminated buffer of size cap. 0 or -EINVAL. */
static int copy_str(char *dst, size_t cap, const void *src, size_t len, const char *field,
		    char *err, size_t errlen)
{
	if (len >= cap)
		return fail(err, errlen, "field %s: %zu bytes, at most %zu fit", field, len, cap - 1);
	if (len && memchr(src, 0, len))
		return fail(err, errlen, "field %s: contains a NUL byte", field);
	if (len)
		memcpy(dst, src, len);
	dst[len] = 0;
	return 0;
}

#define COPY(dst, bd, field)                                                              \
	do {                                                                              \
		if (copy_str(dst, sizeof(dst), (bd).data, (bd).len, field, err, errlen)) \
			goto invalid;                                                     \
	} while (0)

/* A proto3 string: "" is unset. Returns the copy, or NULL when unset. */
static const char *meta_str(char *dst, size_t cap, const char *s, const char *field, int *bad,
			    char *err, size_t errlen)
{
	if (!s || !*s)
		return NULL;
	if (copy_str(dst, cap, s, strlen(s), field, err, errlen)) {
		*bad = 1;
		return NULL;
	}
	return dst;
}

/* Whether a proto3 string is UTF-8 (protobuf-c does not check what it unpacks). */
static bool is_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = *s;
		size_t l = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			   c >= 0xf0 && c <= 0xf4 ? 4 : 0;

		if (!l)
			return false;
		for (size_t i = 1; i < l; i++)
			if ((s[i] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
		    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return false;
		s += l;
	}
	return true;
}

/* A proto3 string field of the alert into a char array: fits, UTF-8. */
static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pg_label *)a)->key, ((const struct pg_label *)b)->key);
}

/*
 * The pod fields: namespace and pod together (or neither), workload_kind and workload
 * together, labels within the bounds the encoder keeps (event.h), all UTF-8 as Kubernetes
 * names are (and as the NDJSON decoder wants them). 0 or -EINVAL.
 */
static int decode_pod(struct pg_proto_decoder *dec, const Pangolin__V1__Event *m,
		      struct pg_event *ev, char *err, size_t errlen)
{
	struct pg_pod_meta *p = &dec->pod;
	size_t used = 0;
	int bad = 0;

	if (!(m->namespace_ && *m->namespace_) && !(m->pod && *m->pod)) {
		if ((m->workload_kind && *m->workload_kind) || (m->workload && *m->workload) ||
		    m->n_labels || m->labels_truncated)
			return fail(err, errlen, "fields workload, labels: given without namespace and pod");
		return 0;
	}
	memset(p, 0, sizeof(*p));
	p->namespace = meta_str(dec->pod_namespace, PG_POD_NAME_MAX + 1, m->namespace_, "namespace",
				&bad, err, errlen);
	p->name = meta_str(dec->pod_name, PG_POD_NAME_MAX + 1, m->pod, "pod", &bad, err, errlen);
	p->workload_kind = meta_str(dec->workload_kind, PG_POD_KIND_MAX + 1, m->workload_kind,
				    "workload_kind", &bad, err, errlen);
	p->workload = meta_str(dec->workload, PG_POD_NAME_MAX + 1, m->workload, "workload", &bad,
			       err, errlen);
	if (bad)
		return -EINVAL;
	{
		const struct {
			const char *v, *field;
		} names[] = { { p->namespace, "namespace" }, { p->name, "pod" },
			      { p->workload_kind, "workload_kind" }, { p->workload, "workload" } };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].v && !is_utf8(names[i].v))
				return fail(err, errlen, "field %s: not UTF-8 (Kubernetes names are)",
					    names[i].field);
	}
	if (!p->namespace || !p->name)
		return fail(err, errlen, "field %s: empty, but %s is given", p->name ? "namespace" : "pod",
			    p->name ? "pod" : "namespace");
	if (!p->workload_kind != !p->workload)
		return fail(err, errlen, "field %s: empty, but %s is given",
			    p->workload ? "workload_kind" : "workload",
			    p->workload ? "workload" : "workload_kind");
	if (m->n_labels > PG_POD_LABELS_MAX)
		return fail(err, errlen, "field labels: %zu labels, at most %d", m->n_labels,
			    PG_POD_LABELS_MAX);
	for (size_t i = 0; i < m->n_labels; i++) {
		const Pangolin__V1__Label *l = m->labels[i];
		size_t kl = l->key ? strlen(l->key) : 0, vl = l->value ? strlen(l->value) : 0;

		if (!kl)
			return fail(err, errlen, "field labels: label %zu has no key", i + 1);
		if (!is_utf8(l->key) || (vl && !is_utf8(l->value)))
			return fail(err, errlen, "field labels: label %zu is not UTF-8", i + 1);
		if (used + kl + vl + 2 > sizeof(dec->label_bytes))
			return fail(err, errlen, "field labels: more than %d bytes of keys and values",
				    PG_POD_LABELS_BYTES);
		dec->labels[i].key = memcpy(dec->label_bytes + used, l->key, kl + 1);
		used += kl + 1;
		dec->labels[i].value = memcpy(dec->label_bytes + used, vl ? l->value : "", vl + 1);
		used += vl + 1;
	}
	qsort(dec->labels, m->n_labels, sizeof(dec->labels[0]), label_cmp);
	for (size_t i = 1; i < m->n_labels; i++)
		if (!strcmp(dec->labels[i - 1].key, dec->labels[i].key))
			return fail(err, errlen, "field labels: duplicate key \"%.64s\"",
				    dec->labels[i].key);
	p->labels = m->n_labels ? dec->labels : NULL;
	p->nlabels = (unsigned int)m->n_labels;
	p->labels_truncated = m->labels_truncated;
	ev->meta.pod = p;
	return 0;
}

static int copy_addr(unsigned char *dst, unsigned int family, ProtobufCBinaryData a,
		     const char *field, char *err, size_t errlen)
{
	size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;

	if (a.len != want)
		return fail(err, errlen, "field %s: %zu bytes, address family %u has %zu", field,
			    a.len, family, want);
	if (want)
		memcpy(dst, a.data, want);
	return 0;
}

static const int payload_of[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = PANGOLIN__V1__EVENT__PAYLOAD_EXEC,
	[PG_EV_FORK] = PANGOLIN__V1__EVENT__PAYLOAD_FORK,
	[PG_EV_EXIT] = PANGOLIN__V1__EVENT__PAYLOAD_EXIT,
	[PG_EV_OPEN] = PANGOLIN__V1__EVENT__PAYLOAD_OPEN,
	[PG_EV_CONNECT] = PANGOLIN__V1__EVENT__PAYLOAD_CONNECT,
	[PG_EV_DNS] = PANGOLIN__V1__EVENT__PAYLOAD_DNS,
	[PG_EV_SETID] = PANGOLIN__V1__EVENT__PAYLOAD_SETID,
	[PG_EV_PACKET] = PANGOLIN__V1__EVENT__PAYLOAD_PACKET,
	[PG_EV_PTRACE] = PANGOLIN__V1__EVENT__PAYLOAD_PTRACE,
	[PG_EV_ALERT] = PANGOLIN__V1__EVENT__PAYLOAD_ALERT,
};

static int alert_str(char *dst, size_t cap, const char *s, const char *field, char *err,
		     size_t errlen)
{
	if (!is_utf8(s))
		return fail(err, errlen, "field %s: not UTF-8", field);
	return copy_str(dst, cap, s, strlen(s), field, err, errlen);
}

static int decode_alert(const Pangolin__V1__Alert *k, struct pg_alert_event *a, char *err,
			size_t errlen)
{
	size_t used = 0;

	if (alert_str(a->rule_id, sizeof(a->rule_id), k->rule_id, "alert.rule_id", err, errlen) ||
	    alert_str(a->title, sizeof(a->title), k->title, "alert.title", err, errlen))
		return -EINVAL;
	if (!a->rule_id[0])
		return fail(err, errlen, "field alert.rule_id: empty (an alert names its rule)");
	if ((int)k->level < 0 || (int)k->level >= PG_LEVEL_COUNT)
		return fail(err, errlen, "field alert.level: %d is not a level", k->level);
	a->level = (uint8_t)k->level;
	if (k->n_tags > PG_ALERT_TAGS_MAX)
		return fail(err, errlen, "field alert.tags: %zu tags, at most %d fit", k->n_tags,
			    PG_ALERT_TAGS_MAX);
	for (size_t i = 0; i < k->n_tags; i++) {
		if (used >= sizeof(a->tags))
			return fail(err, errlen, "field alert.tags: more than %zu bytes", sizeof(a->tags));
		if (alert_str(a->tags + used, sizeof(a->tags) - used, k->tags[i], "alert.tags", err,
			      errlen))
			return -EINVAL;
		used += strlen(a->tags + used) + 1;
	}
	a->ntags = (uint8_t)k->n_tags;
	a->tags_len = (uint16_t)used;
	if (k->n_events > PG_ALERT_EVENTS_MAX)
		return fail(err, errlen, "field alert.events: %zu events, at most %d fit", k->n_events,
			    PG_ALERT_EVENTS_MAX);
	if (!k->count || k->count < k->n_events)
		return fail(err, errlen, "field alert.count: %u, but an alert counts at least 1 and at least the %zu events it names",
			    k->count, k->n_events);
	a->count = k->count;
	for (size_t i = 0; i < k->n_events; i++) {
		const Pangolin__V1__EventRef *e = k->events[i];

		if ((int)e->type <= 0 || (int)e->type >= PG_EV_TYPE_COUNT || (int)e->type == PG_EV_ALERT)
			return fail(err, errlen, "field alert.events.type: %d is not an event type an alert names",
				    e->type);
		a->events[i] = (struct pg_alert_ref){ .ts_ns = e->ts_ns, .start_ns = e->start_ns,
						      .pid = e->pid, .type = (uint16_t)e->type };
	}
	a->nevents = (uint8_t)k->n_events;
	if (k->n_group_by > PG_ALERT_GROUP_MAX)
		return fail(err, errlen, "field alert.group_by: %zu fields, at most %d fit",
			    k->n_group_by, PG_ALERT_GROUP_MAX);
	used = 0;
	for (size_t i = 0; i < k->n_group_by; i++) {
		const Pangolin__V1__GroupValue *g = k->group_by[i];

		if (used >= sizeof(a->group))
			return fail(err, errlen, "field alert.group_by: more than %zu bytes", sizeof(a->group));
		if (alert_str(a->group + used, sizeof(a->group) - used, g->field, "alert.group_by.field",
			      err, errlen))
			return -EINVAL;
		used += strlen(a->group + used) + 1;
		if (used >= sizeof(a->group))
			return fail(err, errlen, "field alert.group_by: more than %zu bytes", sizeof(a->group));
		if (copy_str(a->group + used, sizeof(a->group) - used, g->value.data, g->value.len,
			     "alert.group_by.value", err, errlen))
			return -EINVAL;
		used += g->value.len + 1;
	}
	a->ngroup = (uint8_t)k->n_group_by;
	a->group_len = (uint16_t)used;
	return 0;
}

/* The process table's fields; empty is unset, as for the other enrichments. */
static int decode_proc(struct pg_proto_decoder *dec, const Pangolin__V1__Event *m,
		       struct pg_event_proc *p, char *err, size_t errlen)
{
#define PROC_STR(member, field)                                                                 \
	do {                                                                                    \
		if (m->member.len) {                                                            \
			if (copy_str(dec->member, sizeof(dec->member), m->member.data, m->member.len, \
				     field, err, errlen))                                       \
				return -EINVAL;                                                 \
			p->member = dec->member;                                                \
		}                                                                               \
	} while (0)
	PROC_STR(exe, "exe");
	PROC_STR(cmdline, "cmdline");
	PROC_STR(parent_exe, "parent_exe");
	PROC_STR(parent_cmdline, "parent_cmdline");
#undef PROC_STR
	if (m->n_ancestors > PG_PROC_ANCESTORS)
		return fail(err, errlen, "field ancestors: %zu, at most %d fit", m->n_ancestors,
			    PG_PROC_ANCESTORS);
	for (size_t i = 0; i < m->n_ancestors; i++) {
		if (copy_str(dec->ancestors[i], sizeof(dec->ancestors[i]), m->ancestors[i].data,
			     m->ancestors[i].len, "ancestors", err, errlen))
			return -EINVAL;
		p->ancestors[i] = dec->ancestors[i];
	}
	p->nancestors = (unsigned int)m->n_ancestors;
	return 0;
}

/* The packet payload, held to what the decoder of the wire could have produced. */
static int decode_packet(const Pangolin__V1__Packet *k, struct pg_packet_event *p, char *err,
			 size_t errlen)
{
	if (k->direction < 0 || k->direction > PG_PKT_DIR_OUT || k->ethertype > 0xffff ||
	    k->vlan > 0xfff || k->ip_proto > 0xff || k->sport > 0xffff || k->dport > 0xffff ||
	    k->tcp_flags > 0xff || k->dns_id > 0xffff || k->rcode > 15 || k->qtype > 0xffff ||
	    k->qclass > 0xffff)
		return fail(err, errlen, "field packet: a value out of its range (direction, ethertype, vlan, ip_proto, ports, tcp_flags, dns_id, rcode, qtype or qclass)");
	if (copy_str(p->ifname, sizeof(p->ifname), k->ifname.data, k->ifname.len, "packet.ifname",
		     err, errlen))
		return -EINVAL;
	p->ifindex = k->ifindex;
	p->direction = (uint8_t)k->direction;
	p->wire_len = k->len;
	p->caplen = k->caplen;
	p->ethertype = (uint16_t)k->ethertype;
	if (k->has_vlan) {
		p->flags |= PG_PKT_F_VLAN;
		p->vlan = (uint16_t)k->vlan;
	}
	if (k->family) {
		if (k->family != AF_INET && k->family != AF_INET6)
			return fail(err, errlen, "field packet.family: %d is not INET or INET6", k->family);
		p->family = (uint16_t)k->family;
		if (copy_addr(p->saddr, k->family, k->saddr, "packet.saddr", err, errlen) ||
		    copy_addr(p->daddr, k->family, k->daddr, "packet.daddr", err, errlen))
			return -EINVAL;
		p->ip_proto = (uint8_t)k->ip_proto;
		p->sport = (uint16_t)k->sport;
		p->dport = (uint16_t)k->dport;
		p->tcp_flags = (uint8_t)k->tcp_flags;
	}
	if (k->fragment)
		p->flags |= PG_PKT_F_FRAGMENT;
	if (k->truncated)
		p->flags |= PG_PKT_F_L4_TRUNC;
	if (!k->dns)
		return 0;
	p->flags |= PG_PKT_F_DNS;
	if (k->dns_error && *k->dns_error) {
		enum pg_dns_err e = pg_dns_err_from_name(k->dns_error, strlen(k->dns_error));

		if (e == PG_DNS_OK)
			return fail(err, errlen, "field packet.dns_error: \"%.40s\" is not an error this build knows",
				    k->dns_error);
		p->flags |= PG_PKT_F_DNS_ERROR;
		p->dns_error = (uint8_t)e;
	}
	p->dns_id = (uint16_t)k->dns_id;
	p->dns_qr = k->qr ? 1 : 0;
	p->dns_rcode = (uint8_t)k->rcode;
	if (k->has_question) {
		p->flags |= PG_PKT_F_DNS_QUESTION;
		if (copy_str(p->qname, sizeof(p->qname), k->qname.data, k->qname.len, "packet.qname",
			     err, errlen))
			return -EINVAL;
		p->qtype = (uint16_t)k->qtype;
		p->qclass = (uint16_t)k->qclass;
	}
	if (k->n_answers > PG_PKT_DNS_ANSWERS)
		return fail(err, errlen, "field packet.answers: %zu answers, at most %d fit", k->n_answers,
			    PG_PKT_DNS_ANSWERS);
	for (size_t i = 0; i < k->n_answers; i++) {
		const Pangolin__V1__DnsAnswer *a = k->answers[i];
		struct pg_dns_answer *d = &p->answers[i];
		size_t want;

		if (a->type > 0xffff || a->dns_class > 0xffff)
			return fail(err, errlen, "field packet.answers: type or class above 65535");
		d->type = (uint16_t)a->type;
		d->rclass = (uint16_t)a->dns_class;
		d->ttl = a->ttl;
		want = d->type == 1 ? 4 : d->type == 28 ? 16 : 0;
		if (a->addr.len != want)
			return fail(err, errlen, "field packet.answers.addr: %zu bytes, a type %u record has %zu",
				    a->addr.len, d->type, want);
		if (want)
			memcpy(d->addr, a->addr.data, want);
		if (copy_str(d->name, sizeof(d->name), a->name.data, a->name.len, "packet.answers.name",
			     err, errlen) ||
		    copy_str(d->data, sizeof(d->data), a->data.data, a->data.len, "packet.answers.data",
			     err, errlen))
			return -EINVAL;
		if (a->data_truncated)
			d->flags |= PG_DNS_ANS_DATA_TRUNC;
	}
	p->nanswers = (uint16_t)k->n_answers;
	if (k->answers_truncated)
		p->flags |= PG_PKT_F_DNS_ANS_TRUNC;
	return 0;
}

int pg_proto_decode(struct pg_proto_decoder *dec, const void *data, size_t len,
		    struct pg_event *ev, char *err, size_t errlen)
{
	Pangolin__V1__Event *m;
	union pg_record *r = &ev->r;
	unsigned int type;
	int bad = 0;

	m = pangolin__v1__event__unpack(NULL, len, data);
	if (!m)
		/* protobuf-c says no more than this; it also fails on ENOMEM, rarely */
		return fail(err, errlen, "not a pangolin.v1.Event message (%zu bytes)", len);
	if (m->schema_version != PG_SCHEMA_VERSION) {
		fail(err, errlen, "field schema_version: %u, this build reads %d", m->schema_version,
		     PG_SCHEMA_VERSION);
		goto invalid;
	}
	type = (unsigned int)m->type;
	if ((int)m->type <= 0 || type >= PG_EV_TYPE_COUNT) {
		fail(err, errlen, "field type: %d is not an event type this build knows", m->type);
		goto invalid;
	}
	if ((int)m->payload_case != payload_of[type]) {
		fail(err, errlen, "field type: %s, but the payload is %s", pg_event_type_name(type),
		     m->payload_case == PANGOLIN__V1__EVENT__PAYLOAD__NOT_SET ? "missing"
									     : "of another type");
		goto invalid;
	}

	pg_event_init(ev, type);
	r->hdr.ts_ns = m->ts_ns;
	r->hdr.pid = m->pid;
	r->hdr.tid = m->tid;
	r->hdr.ppid = m->ppid;
	r->hdr.uid = m->uid;
	r->hdr.gid = m->gid;
	r->hdr.cgroup_id = m->cgroup_id;
	r->hdr.start_ns = m->start_ns;
	COPY(r->hdr.comm, m->comm, "comm");
	ev->meta.node = meta_str(dec->node, sizeof(dec->node), m->node, "node", &bad, err, errlen);
	ev->meta.container_id = meta_str(dec->container_id, sizeof(dec->container_id),
					 m->container_id, "container_id", &bad, err, errlen);
	ev->meta.pod_uid = meta_str(dec->pod_uid, sizeof(dec->pod_uid), m->pod_uid, "pod_uid", &bad,
				    err, errlen);
	if (bad || decode_pod(dec, m, ev, err, errlen))
		goto invalid;
	if (m->cgroup.len) {
		COPY(dec->cgroup, m->cgroup, "cgroup");
		ev->meta.cgroup = dec->cgroup;
	}
	if (decode_proc(dec, m, &ev->meta.proc, err, errlen))
		goto invalid;
	if (m->decision) {
		unsigned int act = (unsigned int)m->decision->action;

		if (!pg_action_name(act)) {
			fail(err, errlen,
			     "field decision.action: %d is not an action this build knows",
			     (int)m->decision->action);
			goto invalid;
		}
		ev->meta.action = pg_action_name(act);
		ev->meta.policy = meta_str(dec->policy, sizeof(dec->policy), m->decision->policy,
					   "decision.policy", &bad, err, errlen);
		ev->meta.rule = meta_str(dec->rule, sizeof(dec->rule), m->decision->rule,
					 "decision.rule", &bad, err, errlen);
		if (bad)
			goto invalid;
		if (!ev->meta.policy)
			ev->meta.policy = "";
		if (!ev->meta.rule)
			ev->meta.rule = "";
	}

	switch (type) {
	case PG_EV_EXEC: {
		Pangolin__V1__Exec *e = m->exec;
		size_t used = 0;

		COPY(r->exec.path, e->path, "exec.path");
		if (e->n_argv > PG_ARGV_MAX) {
			fail(err, errlen, "field exec.argv: %zu arguments, at most %d fit", e->n_argv,
			     PG_ARGV_MAX);
			goto invalid;
		}
		for (size_t i = 0; i < e->n_argv; i++) {
			if (e->argv[i].len >= PG_ARGV_LEN - used) {
				fail(err, errlen, "field exec.argv: more than %d bytes", PG_ARGV_LEN);
				goto invalid;
			}
			if (copy_str(r->exec.argv + used, PG_ARGV_LEN - used, e->argv[i].data,
				     e->argv[i].len, "exec.argv", err, errlen))
				goto invalid;
			used += e->argv[i].len + 1;
		}
		r->exec.argc = (unsigned short)e->n_argv;
		r->exec.argv_len = (unsigned short)used;
		r->exec.flags = (e->path_truncated ? PG_TRUNC_PATH : 0) |
				(e->argv_truncated ? PG_TRUNC_ARGV : 0) | (e->snapshot ? PG_SNAPSHOT : 0) |
				(e->exe_unlinked ? PG_EXE_UNLINKED : 0);
		break;
	}
	case PG_EV_FORK:
		r->fork.child_pid = m->fork->child_pid;
		r->fork.child_start_ns = m->fork->child_start_ns;
		break;
	case PG_EV_EXIT:
		r->exit.exit_code = m->exit->exit_code;
		r->exit.signal = m->exit->signal;
		r->exit.lifetime_ns = m->exit->lifetime_ns;
		r->exit.core_dumped = m->exit->core_dumped ? 1 : 0;
		break;
	case PG_EV_OPEN:
		r->open.dirfd = m->open->dirfd;
		r->open.flags = m->open->flags;
		r->open.mode = m->open->mode;
		r->open.ret = m->open->ret;
		COPY(r->open.path, m->open->path, "open.path");
		r->open.pflags = (m->open->path_truncated ? PG_TRUNC_PATH : 0) |
				 (m->open->io_uring ? PG_VIA_IO_URING : 0);
		break;
	case PG_EV_CONNECT: {
		Pangolin__V1__Connect *c = m->connect;

		if ((unsigned int)c->family > 0xffff || c->dport > 0xffff) {
			fail(err, errlen, "field connect.%s: out of range",
			     c->dport > 0xffff ? "dport" : "family");
			goto invalid;
		}
		r->connect.family = (unsigned short)c->family;
		if (copy_addr(r->connect.daddr, c->family, c->daddr, "connect.daddr", err, errlen))
			goto invalid;
		r->connect.dport = (unsigned short)c->dport;
		r->connect.fd = c->fd;
		r->connect.ret = c->ret;
		r->connect.flags = c->io_uring ? PG_VIA_IO_URING : 0;
		break;
	}
	case PG_EV_DNS: {
		Pangolin__V1__Dns *d = m->dns;

		if ((unsigned int)d->family > 0xffff || d->dport > 0xffff || d->id > 0xffff ||
		    d->qtype > 0xffff || d->qclass > 0xffff) {
			fail(err, errlen, "field dns: family, dport, id, qtype or qclass above 65535");
			goto invalid;
		}
		r->dns.family = (unsigned short)d->family;
		if (copy_addr(r->dns.daddr, d->family, d->daddr, "dns.daddr", err, errlen))
			goto invalid;
		r->dns.dport = (unsigned short)d->dport;
		if (d->transport == PANGOLIN__V1__DNS__TRANSPORT__TRANSPORT_TCP)
			r->dns.flags |= PG_DNS_F_TCP;
		else if (d->transport != PANGOLIN__V1__DNS__TRANSPORT__TRANSPORT_UDP) {
			fail(err, errlen, "field dns.transport: %d is neither UDP nor TCP", d->transport);
			goto invalid;
		}
		if (d->io_uring)
			r->dns.flags |= PG_VIA_IO_URING;
		if (!d->malformed) {
			r->dns.flags |= PG_DNS_F_PARSED;
			r->dns.id = (unsigned short)d->id;
			r->dns.qtype = (unsigned short)d->qtype;
			r->dns.qclass = (unsigned short)d->qclass;
			COPY(r->dns.qname, d->qname, "dns.qname");
		}
		break;
	}
	case PG_EV_SETID:
		if (!pg_setid_call_name((unsigned int)m->setid->call)) {
			fail(err, errlen, "field setid.call: %d is not a call this build knows",
			     m->setid->call);
			goto invalid;
		}
		r->setid.call = (unsigned int)m->setid->call;
		r->setid.ret = m->setid->ret;
		r->setid.id_real = m->setid->id_real;
		r->setid.id_effective = m->setid->id_effective;
		r->setid.id_saved = m->setid->id_saved;
		break;
	case PG_EV_PTRACE:
		r->ptrace.request = m->ptrace->request;
		r->ptrace.ret = m->ptrace->ret;
		r->ptrace.target_pid = m->ptrace->target_pid;
		r->ptrace.addr = m->ptrace->addr;
		break;
	case PG_EV_PACKET:
		if (decode_packet(m->packet, &r->packet, err, errlen))
			goto invalid;
		break;
	case PG_EV_ALERT:
		if (decode_alert(m->alert, &r->alert, err, errlen))
			goto invalid;
		break;
	}
	pangolin__v1__event__free_unpacked(m, NULL);
	return 0;
invalid:
	pangolin__v1__event__free_unpacked(m, NULL);
	return -EINVAL;
}
