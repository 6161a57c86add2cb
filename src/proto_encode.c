// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pg_event -> pangolin.v1.Event. Every message lives on the stack and points into the event
 * (protobuf-c packs from borrowed pointers), so an encode costs no allocation beyond the
 * output buffer's growth.
 */
#include <sys/socket.h>

#include "dns.h"
#include "pangolin.pb-c.h"
#include "proto.h"

/* The schema's enums reuse the ABI's numbers, so encoding them is a cast. */
_Static_assert((int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_EXEC == PG_EV_EXEC &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_FORK == PG_EV_FORK &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_EXIT == PG_EV_EXIT &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_OPEN == PG_EV_OPEN &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_CONNECT == PG_EV_CONNECT &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_DNS == PG_EV_DNS &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_SETID == PG_EV_SETID &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_PACKET == PG_EV_PACKET &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_PTRACE == PG_EV_PTRACE &&
		       (int)PANGOLIN__V1__EVENT_TYPE__EVENT_TYPE_ALERT == PG_EV_ALERT &&
		       PG_EV_TYPE_COUNT == 11,
	       "proto/pangolin.proto EventType and enum pg_event_type disagree");
_Static_assert((int)PANGOLIN__V1__SETID__CALL__CALL_SETUID == PG_SETID_SETUID &&
		       (int)PANGOLIN__V1__SETID__CALL__CALL_SETFSGID == PG_SETID_SETFSGID,
	       "proto/pangolin.proto Setid.Call and enum pg_setid_call disagree");
_Static_assert((int)PANGOLIN__V1__ALERT__LEVEL__LEVEL_INFORMATIONAL == PG_LEVEL_INFORMATIONAL &&
		       (int)PANGOLIN__V1__ALERT__LEVEL__LEVEL_CRITICAL == PG_LEVEL_CRITICAL,
	       "proto/pangolin.proto Alert.Level and enum pg_alert_level disagree");
_Static_assert(PANGOLIN__V1__ADDRESS_FAMILY__ADDRESS_FAMILY_INET == AF_INET &&
		       PANGOLIN__V1__ADDRESS_FAMILY__ADDRESS_FAMILY_INET6 == AF_INET6,
	       "proto/pangolin.proto AddressFamily is not Linux's");

static ProtobufCBinaryData bin(const char *s, size_t max)
{
	return (ProtobufCBinaryData){ .len = strnlen(s, max), .data = (uint8_t *)s };
}

static Pangolin__V1__AddressFamily family(unsigned int f)
{
	/* the enum's values are the Linux numbers; anything else is passed on as it is */
	return (Pangolin__V1__AddressFamily)f;
}

static ProtobufCBinaryData addr(unsigned int f, const unsigned char *a)
{
	size_t n = f == AF_INET ? 4 : f == AF_INET6 ? 16 : 0;

	return (ProtobufCBinaryData){ .len = n, .data = (uint8_t *)a };
}

/* Storage for an alert's repeated parts while it is packed. */
struct alert_parts {
	Pangolin__V1__Alert alert;
	char *tags[PG_ALERT_TAGS_MAX];
	Pangolin__V1__EventRef refs[PG_ALERT_EVENTS_MAX], *refp[PG_ALERT_EVENTS_MAX];
	Pangolin__V1__GroupValue groups[PG_ALERT_GROUP_MAX], *groupp[PG_ALERT_GROUP_MAX];
	char group[PG_ALERT_GROUP_LEN + 1]; /* a copy: a cut last string gets its NUL here */
	char tagbuf[PG_ALERT_TAGS_LEN + 1];
	char rule_id[PG_ALERT_ID_LEN + 1];
	char title[PG_ALERT_TITLE_LEN + 1];
};

/* A copy of a char array that may fill its size with no NUL. */
static char *cstr_copy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size);

	memcpy(dst, src, n);
	dst[n] = 0;
	return dst;
}

static void alert_message(const struct pg_alert_event *a, struct alert_parts *p)
{
	size_t tl = a->tags_len < sizeof(a->tags) ? a->tags_len : sizeof(a->tags);
	size_t gl = a->group_len < sizeof(a->group) ? a->group_len : sizeof(a->group), i = 0;
	Pangolin__V1__Alert *m = &p->alert;

	pangolin__v1__alert__init(m);
	/* protobuf-c packs strings with strlen: the record's arrays may be full, copy them */
	m->rule_id = cstr_copy(p->rule_id, a->rule_id, sizeof(a->rule_id));
	m->title = cstr_copy(p->title, a->title, sizeof(a->title));
	m->level = (Pangolin__V1__Alert__Level)a->level;
	memcpy(p->tagbuf, a->tags, tl);
	p->tagbuf[tl] = 0;
	for (unsigned int k = 0; k < a->ntags && k < PG_ALERT_TAGS_MAX && i < tl; k++) {
		p->tags[k] = p->tagbuf + i;
		i += strlen(p->tagbuf + i) + 1;
		m->n_tags = k + 1;
	}
	m->tags = p->tags;
	m->count = a->count;
	for (unsigned int k = 0; k < a->nevents && k < PG_ALERT_EVENTS_MAX; k++) {
		pangolin__v1__event_ref__init(&p->refs[k]);
		p->refs[k].type = (Pangolin__V1__EventType)a->events[k].type;
		p->refs[k].ts_ns = a->events[k].ts_ns;
		p->refs[k].pid = a->events[k].pid;
		p->refs[k].start_ns = a->events[k].start_ns;
		p->refp[k] = &p->refs[k];
		m->n_events = k + 1;
	}
	m->events = p->refp;
	memcpy(p->group, a->group, gl);
	p->group[gl] = 0;
	i = 0;
	for (unsigned int k = 0; k < a->ngroup && k < PG_ALERT_GROUP_MAX && i < gl; k++) {
		Pangolin__V1__GroupValue *g = &p->groups[k];

		pangolin__v1__group_value__init(g);
		g->field = p->group + i;
		i += strlen(p->group + i) + 1;
		g->value = bin(i < gl ? p->group + i : "", i < gl ? gl - i : 0);
		i += g->value.len + 1;
		p->groupp[k] = g;
		m->n_group_by = k + 1;
	}
	m->group_by = p->groupp;
}

void pg_proto_encode(const struct pg_event *ev, struct pg_buf *out)
{
	const union pg_record *r = &ev->r;
	const struct pg_event_hdr *h = &r->hdr;
	Pangolin__V1__Event m = PANGOLIN__V1__EVENT__INIT;
	Pangolin__V1__Exec exec = PANGOLIN__V1__EXEC__INIT;
	Pangolin__V1__Fork fork = PANGOLIN__V1__FORK__INIT;
	Pangolin__V1__Exit exit_ = PANGOLIN__V1__EXIT__INIT;
	Pangolin__V1__Open open_ = PANGOLIN__V1__OPEN__INIT;
	Pangolin__V1__Connect conn = PANGOLIN__V1__CONNECT__INIT;
	Pangolin__V1__Dns dns = PANGOLIN__V1__DNS__INIT;
	Pangolin__V1__Setid setid = PANGOLIN__V1__SETID__INIT;
	Pangolin__V1__Ptrace ptrace = PANGOLIN__V1__PTRACE__INIT;
	Pangolin__V1__Packet pkt = PANGOLIN__V1__PACKET__INIT;
	Pangolin__V1__DnsAnswer ans[PG_PKT_DNS_ANSWERS], *ansp[PG_PKT_DNS_ANSWERS];
	Pangolin__V1__Label lab[PG_POD_LABELS_MAX], *labp[PG_POD_LABELS_MAX];
	ProtobufCBinaryData argv[PG_ARGV_MAX], anc[PG_PROC_ANCESTORS];
	const struct pg_event_proc *proc = &ev->meta.proc;
	struct alert_parts ap;
	Pangolin__V1__Decision decision = PANGOLIN__V1__DECISION__INIT;
	size_t need;

	m.schema_version = PG_SCHEMA_VERSION;
	m.type = (Pangolin__V1__EventType)h->type;
	m.ts_ns = h->ts_ns;
	m.pid = h->pid;
	m.tid = h->tid;
	m.ppid = h->ppid;
	m.uid = h->uid;
	m.gid = h->gid;
	m.comm = bin(h->comm, sizeof(h->comm));
	m.cgroup_id = h->cgroup_id;
	m.start_ns = h->start_ns;
	/* empty strings are proto3's "unset": they cost nothing on the wire */
	if (ev->meta.node)
		m.node = (char *)ev->meta.node;
	if (ev->meta.cgroup)
		m.cgroup = bin(ev->meta.cgroup, PG_PROTO_CGROUP_LEN - 1);
	if (ev->meta.container_id)
		m.container_id = (char *)ev->meta.container_id;
	if (ev->meta.pod_uid)
		m.pod_uid = (char *)ev->meta.pod_uid;
	if (ev->meta.pod) {
		const struct pg_pod_meta *p = ev->meta.pod;
		unsigned int n = p->nlabels < PG_POD_LABELS_MAX ? p->nlabels : PG_POD_LABELS_MAX;

		m.namespace_ = (char *)p->namespace;
		m.pod = (char *)p->name;
		if (p->workload_kind && p->workload) {
			m.workload_kind = (char *)p->workload_kind;
			m.workload = (char *)p->workload;
		}
		for (unsigned int i = 0; i < n; i++) {
			lab[i] = (Pangolin__V1__Label)PANGOLIN__V1__LABEL__INIT;
			lab[i].key = (char *)p->labels[i].key;
			lab[i].value = (char *)p->labels[i].value;
			labp[i] = &lab[i];
		}
		m.n_labels = n;
		m.labels = labp;
		m.labels_truncated = p->labels_truncated;
	}
	if (proc->exe)
		m.exe = bin(proc->exe, PG_PATH_LEN - 1);
	if (proc->cmdline)
		m.cmdline = bin(proc->cmdline, PG_CMDLINE_LEN - 1);
	if (proc->parent_exe)
		m.parent_exe = bin(proc->parent_exe, PG_PATH_LEN - 1);
	if (proc->parent_cmdline)
		m.parent_cmdline = bin(proc->parent_cmdline, PG_CMDLINE_LEN - 1);
	for (unsigned int i = 0; i < proc->nancestors && i < PG_PROC_ANCESTORS; i++)
		anc[i] = bin(proc->ancestors[i], PG_PATH_LEN - 1);
	m.n_ancestors = proc->nancestors < PG_PROC_ANCESTORS ? proc->nancestors : PG_PROC_ANCESTORS;
	m.ancestors = anc;
	if (ev->meta.action) {
		decision.action = (Pangolin__V1__Decision__Action)pg_action_from_name(
			ev->meta.action, strlen(ev->meta.action));
		decision.policy = (char *)(ev->meta.policy ? ev->meta.policy : "");
		decision.rule = (char *)(ev->meta.rule ? ev->meta.rule : "");
		m.decision = &decision;
	}

	switch (h->type) {
	case PG_EV_EXEC: {
		const struct pg_exec_event *e = &r->exec;
		size_t len = e->argv_len < PG_ARGV_LEN ? e->argv_len : PG_ARGV_LEN, i = 0, n = 0;

		exec.path = bin(e->path, sizeof(e->path));
		while (n < e->argc && n < PG_ARGV_MAX && i < len) {
			argv[n] = bin(e->argv + i, len - i);
			i += argv[n].len + 1;
			n++;
		}
		exec.n_argv = n;
		exec.argv = argv;
		exec.path_truncated = !!(e->flags & PG_TRUNC_PATH);
		exec.argv_truncated = !!(e->flags & PG_TRUNC_ARGV);
		exec.snapshot = !!(e->flags & PG_SNAPSHOT);
		exec.exe_unlinked = !!(e->flags & PG_EXE_UNLINKED);
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_EXEC;
		m.exec = &exec;
		break;
	}
	case PG_EV_FORK:
		fork.child_pid = r->fork.child_pid;
		fork.child_start_ns = r->fork.child_start_ns;
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_FORK;
		m.fork = &fork;
		break;
	case PG_EV_EXIT:
		exit_.exit_code = r->exit.exit_code;
		exit_.signal = r->exit.signal;
		exit_.lifetime_ns = r->exit.lifetime_ns;
		exit_.core_dumped = !!r->exit.core_dumped;
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_EXIT;
		m.exit = &exit_;
		break;
	case PG_EV_OPEN:
		open_.dirfd = r->open.dirfd;
		open_.flags = r->open.flags;
		open_.mode = r->open.mode;
		open_.ret = r->open.ret;
		open_.path = bin(r->open.path, sizeof(r->open.path));
		open_.path_truncated = !!(r->open.pflags & PG_TRUNC_PATH);
		open_.io_uring = !!(r->open.pflags & PG_VIA_IO_URING);
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_OPEN;
		m.open = &open_;
		break;
	case PG_EV_CONNECT:
		conn.family = family(r->connect.family);
		conn.daddr = addr(r->connect.family, r->connect.daddr);
		conn.dport = r->connect.dport;
		conn.fd = r->connect.fd;
		conn.ret = r->connect.ret;
		conn.io_uring = !!(r->connect.flags & PG_VIA_IO_URING);
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_CONNECT;
		m.connect = &conn;
		break;
	case PG_EV_DNS: {
		const struct pg_dns_event *d = &r->dns;

		dns.family = family(d->family);
		dns.daddr = addr(d->family, d->daddr);
		dns.dport = d->dport;
		dns.transport = d->flags & PG_DNS_F_TCP ? PANGOLIN__V1__DNS__TRANSPORT__TRANSPORT_TCP
							: PANGOLIN__V1__DNS__TRANSPORT__TRANSPORT_UDP;
		if (d->flags & PG_DNS_F_PARSED) {
			dns.id = d->id;
			dns.qname = bin(d->qname, sizeof(d->qname));
			dns.qtype = d->qtype;
			dns.qclass = d->qclass;
		} else {
			dns.malformed = 1;
		}
		dns.io_uring = !!(d->flags & PG_VIA_IO_URING);
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_DNS;
		m.dns = &dns;
		break;
	}
	case PG_EV_SETID:
		setid.call = (Pangolin__V1__Setid__Call)r->setid.call;
		setid.ret = r->setid.ret;
		setid.id_real = r->setid.id_real;
		setid.id_effective = r->setid.id_effective;
		setid.id_saved = r->setid.id_saved;
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_SETID;
		m.setid = &setid;
		break;
	case PG_EV_PTRACE:
		ptrace.request = r->ptrace.request;
		ptrace.ret = r->ptrace.ret;
		ptrace.target_pid = r->ptrace.target_pid;
		ptrace.addr = r->ptrace.addr;
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_PTRACE;
		m.ptrace = &ptrace;
		break;
	case PG_EV_PACKET: {
		const struct pg_packet_event *p = &r->packet;

		pkt.ifindex = p->ifindex;
		pkt.ifname = bin(p->ifname, sizeof(p->ifname));
		pkt.direction = (Pangolin__V1__Packet__Direction)p->direction;
		pkt.len = p->wire_len;
		pkt.caplen = p->caplen;
		pkt.ethertype = p->ethertype;
		pkt.has_vlan = !!(p->flags & PG_PKT_F_VLAN);
		pkt.vlan = p->vlan;
		pkt.family = family(p->family);
		pkt.saddr = addr(p->family, p->saddr);
		pkt.daddr = addr(p->family, p->daddr);
		pkt.ip_proto = p->ip_proto;
		pkt.sport = p->sport;
		pkt.dport = p->dport;
		pkt.tcp_flags = p->tcp_flags;
		pkt.fragment = !!(p->flags & PG_PKT_F_FRAGMENT);
		pkt.truncated = !!(p->flags & PG_PKT_F_L4_TRUNC);
		pkt.dns = !!(p->flags & PG_PKT_F_DNS);
		if (p->flags & PG_PKT_F_DNS_ERROR)
			pkt.dns_error = (char *)(pg_dns_err_name((enum pg_dns_err)p->dns_error) ?: "");
		pkt.dns_id = p->dns_id;
		pkt.qr = p->dns_qr;
		pkt.rcode = p->dns_rcode;
		pkt.has_question = !!(p->flags & PG_PKT_F_DNS_QUESTION);
		pkt.qname = bin(p->qname, sizeof(p->qname));
		pkt.qtype = p->qtype;
		pkt.qclass = p->qclass;
		for (size_t i = 0; i < p->nanswers && i < PG_PKT_DNS_ANSWERS; i++) {
			const struct pg_dns_answer *a = &p->answers[i];

			pangolin__v1__dns_answer__init(&ans[i]);
			ans[i].name = bin(a->name, sizeof(a->name));
			ans[i].type = a->type;
			ans[i].dns_class = a->rclass;
			ans[i].ttl = a->ttl;
			ans[i].data = bin(a->data, sizeof(a->data));
			ans[i].addr = (ProtobufCBinaryData){
				.len = a->type == 1 ? 4 : a->type == 28 ? 16 : 0,
				.data = (uint8_t *)a->addr,
			};
			ans[i].data_truncated = !!(a->flags & PG_DNS_ANS_DATA_TRUNC);
			ansp[i] = &ans[i];
			pkt.n_answers = i + 1;
		}
		pkt.answers = ansp;
		pkt.answers_truncated = !!(p->flags & PG_PKT_F_DNS_ANS_TRUNC);
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_PACKET;
		m.packet = &pkt;
		break;
	}
	case PG_EV_ALERT:
		alert_message(&r->alert, &ap);
		m.payload_case = PANGOLIN__V1__EVENT__PAYLOAD_ALERT;
		m.alert = &ap.alert;
		break;
	default:
		break; /* header only: consumers see the type number and no payload */
	}

	need = pangolin__v1__event__get_packed_size(&m);
	if (pg_buf__reserve(out, need))
		return;
	out->len += pangolin__v1__event__pack(&m, (uint8_t *)out->data + out->len);
}
