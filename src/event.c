// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Event type names, record sizes and the field table shared by the filter and the encoders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event.h"

static const char *const type_names[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = "exec",	     [PG_EV_FORK] = "fork", [PG_EV_EXIT] = "exit",
	[PG_EV_OPEN] = "open",	     [PG_EV_CONNECT] = "connect", [PG_EV_DNS] = "dns",
	[PG_EV_SETID] = "setid",     [PG_EV_PACKET] = "packet",	  [PG_EV_PTRACE] = "ptrace",
	[PG_EV_ALERT] = "alert",
};

static const unsigned short record_sizes[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = sizeof(struct pg_exec_event),
	[PG_EV_FORK] = sizeof(struct pg_fork_event),
	[PG_EV_EXIT] = sizeof(struct pg_exit_event),
	[PG_EV_OPEN] = sizeof(struct pg_open_event),
	[PG_EV_CONNECT] = sizeof(struct pg_connect_event),
	[PG_EV_DNS] = sizeof(struct pg_dns_event),
	[PG_EV_SETID] = sizeof(struct pg_setid_event),
	[PG_EV_PACKET] = sizeof(struct pg_packet_event),
	[PG_EV_PTRACE] = sizeof(struct pg_ptrace_event),
	[PG_EV_ALERT] = sizeof(struct pg_alert_event),
};

const char *pg_event_type_name(unsigned int type)
{
	return type < PG_EV_TYPE_COUNT ? type_names[type] : NULL;
}

unsigned int pg_event_type_from_name(const char *name, size_t len)
{
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++)
		if (strlen(type_names[t]) == len && !memcmp(type_names[t], name, len))
			return t;
	return PG_EV_NONE;
}

size_t pg_event_record_size(unsigned int type)
{
	return type < PG_EV_TYPE_COUNT ? record_sizes[type] : 0;
}

void pg_event_init(struct pg_event *ev, unsigned int type)
{
	size_t sz = pg_event_record_size(type);

	memset(&ev->r, 0, sz ? sz : sizeof(ev->r.hdr));
	memset(&ev->meta, 0, sizeof(ev->meta));
	ev->r.hdr.type = type;
	ev->r.hdr.size = sz;
}

static const char *const setid_names[] = {
	[PG_SETID_SETUID] = "setuid",	  [PG_SETID_SETREUID] = "setreuid",
	[PG_SETID_SETRESUID] = "setresuid", [PG_SETID_SETFSUID] = "setfsuid",
	[PG_SETID_SETGID] = "setgid",	  [PG_SETID_SETREGID] = "setregid",
	[PG_SETID_SETRESGID] = "setresgid", [PG_SETID_SETFSGID] = "setfsgid",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *pg_setid_call_name(unsigned int call)
{
	return call < ARRAY_SIZE(setid_names) ? setid_names[call] : NULL;
}

unsigned int pg_setid_call_from_name(const char *name, size_t len)
{
	for (unsigned int c = 1; c < ARRAY_SIZE(setid_names); c++)
		if (strlen(setid_names[c]) == len && !memcmp(setid_names[c], name, len))
			return c;
	return 0;
}

static const char *const level_names[PG_LEVEL_COUNT] = {
	[PG_LEVEL_INFORMATIONAL] = "informational", [PG_LEVEL_LOW] = "low",
	[PG_LEVEL_MEDIUM] = "medium",		     [PG_LEVEL_HIGH] = "high",
	[PG_LEVEL_CRITICAL] = "critical",
};

const char *pg_alert_level_name(unsigned int level)
{
	return level < PG_LEVEL_COUNT ? level_names[level] : NULL;
}

unsigned int pg_alert_level_from_name(const char *name, size_t len)
{
	for (unsigned int l = 1; l < PG_LEVEL_COUNT; l++)
		if (strlen(level_names[l]) == len && !memcmp(level_names[l], name, len))
			return l;
	return PG_LEVEL_NONE;
}

static const char *const action_names[PG_ACT_COUNT] = {
	[PG_ACT_KILL] = "kill",		  [PG_ACT_DENY] = "deny",
	[PG_ACT_WOULD_KILL] = "would_kill", [PG_ACT_WOULD_DENY] = "would_deny",
	[PG_ACT_ALERT] = "alert",
};

const char *pg_action_name(unsigned int action)
{
	return action < PG_ACT_COUNT ? action_names[action] : NULL;
}

unsigned int pg_action_from_name(const char *s, size_t len)
{
	for (unsigned int a = 1; a < PG_ACT_COUNT; a++)
		if (strlen(action_names[a]) == len && !memcmp(action_names[a], s, len))
			return a;
	return PG_ACT_NONE;
}

static const struct {
	unsigned int request;
	const char *name;
} ptrace_requests[] = {
	{ PG_PTRACE_TRACEME, "traceme" },     { PG_PTRACE_POKETEXT, "poketext" },
	{ PG_PTRACE_POKEDATA, "pokedata" },   { PG_PTRACE_POKEUSER, "pokeuser" },
	{ PG_PTRACE_SETREGS, "setregs" },     { PG_PTRACE_SETFPREGS, "setfpregs" },
	{ PG_PTRACE_ATTACH, "attach" },	      { PG_PTRACE_SETREGSET, "setregset" },
	{ PG_PTRACE_SEIZE, "seize" },
};

const char *pg_ptrace_request_name(unsigned int request)
{
	for (size_t i = 0; i < ARRAY_SIZE(ptrace_requests); i++)
		if (ptrace_requests[i].request == request)
			return ptrace_requests[i].name;
	return NULL;
}

int pg_ptrace_request_from_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(ptrace_requests); i++)
		if (strlen(ptrace_requests[i].name) == len && !memcmp(ptrace_requests[i].name, name, len))
			return (int)ptrace_requests[i].request;
	return -1;
}

static const struct {
	unsigned short type;
	const char *name;
} dns_types[] = {
	{ 1, "A" },	  { 2, "NS" },	     { 5, "CNAME" }, { 6, "SOA" },	{ 12, "PTR" },
	{ 13, "HINFO" }, { 15, "MX" },	     { 16, "TXT" },   { 28, "AAAA" },	{ 33, "SRV" },
	{ 35, "NAPTR" }, { 39, "DNAME" },   { 41, "OPT" },   { 43, "DS" },	{ 46, "RRSIG" },
	{ 47, "NSEC" },	 { 48, "DNSKEY" },  { 52, "TLSA" },  { 64, "SVCB" },	{ 65, "HTTPS" },
	{ 99, "SPF" },	 { 251, "IXFR" },   { 252, "AXFR" }, { 255, "ANY" },	{ 257, "CAA" },
};

const char *pg_dns_type_name(unsigned int qtype)
{
	for (size_t i = 0; i < ARRAY_SIZE(dns_types); i++)
		if (dns_types[i].type == qtype)
			return dns_types[i].name;
	return NULL;
}

unsigned int pg_dns_type_from_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(dns_types); i++)
		if (strlen(dns_types[i].name) == len && !strncasecmp(dns_types[i].name, name, len))
			return dns_types[i].type;
	/* RFC 3597 generic form, what the encoder prints for types without a name. */
	if (len > 4 && len < 10 && !strncasecmp(name, "TYPE", 4)) {
		unsigned long v = 0;

		for (size_t i = 4; i < len; i++) {
			if (name[i] < '0' || name[i] > '9')
				return 0;
			v = v * 10 + (unsigned long)(name[i] - '0');
		}
		if (v >= 1 && v <= 65535)
			return (unsigned int)v;
	}
	return 0;
}

#define R(member) ((short)offsetof(union pg_record, member))
#define HDR(member, kind_)                                                  \
	.kind = kind_, .size = sizeof(((struct pg_event_hdr *)0)->member), \
	.common = (short)(offsetof(struct pg_event_hdr, member) + 1)
#define META(member) .kind = PG_FK_META, .meta_off = (short)offsetof(struct pg_event_meta, member)
#define SZ(member) .size = sizeof(((union pg_record *)0)->member)
#define POD(member) .kind = PG_FK_POD, .pod_off = (short)offsetof(struct pg_pod_meta, member)

const struct pg_field pg_fields[PG_FLD_COUNT] = {
	[PG_FLD_TYPE] = { "type", HDR(type, PG_FK_TYPE) },
	[PG_FLD_TS] = { "ts", HDR(ts_ns, PG_FK_UINT) },
	[PG_FLD_PID] = { "pid", HDR(pid, PG_FK_UINT) },
	[PG_FLD_TID] = { "tid", HDR(tid, PG_FK_UINT) },
	[PG_FLD_PPID] = { "ppid", HDR(ppid, PG_FK_UINT) },
	[PG_FLD_UID] = { "uid", HDR(uid, PG_FK_UINT) },
	[PG_FLD_GID] = { "gid", HDR(gid, PG_FK_UINT) },
	[PG_FLD_COMM] = { "comm", HDR(comm, PG_FK_STR) },
	[PG_FLD_CGROUP_ID] = { "cgroup_id", HDR(cgroup_id, PG_FK_UINT) },
	[PG_FLD_START_NS] = { "start_ns", HDR(start_ns, PG_FK_UINT) },
	[PG_FLD_NODE] = { "node", META(node) },
	[PG_FLD_CGROUP] = { "cgroup", META(cgroup) },
	[PG_FLD_CONTAINER_ID] = { "container_id", META(container_id) },
	[PG_FLD_POD_UID] = { "pod_uid", META(pod_uid) },
	/* the process table's (src/proctable.h): userspace only, like the metadata above */
	[PG_FLD_EXE] = { "exe", META(proc.exe) },
	[PG_FLD_CMDLINE] = { "cmdline", META(proc.cmdline) },
	[PG_FLD_PARENT_EXE] = { "parent_exe", META(proc.parent_exe) },
	[PG_FLD_PARENT_CMDLINE] = { "parent_cmdline", META(proc.parent_cmdline) },
	[PG_FLD_ANCESTORS] = { "ancestors", .kind = PG_FK_ANCESTORS },
	/* the pod's, from the API server (src/pod.h): userspace only, like the metadata above */
	[PG_FLD_NAMESPACE] = { "namespace", POD(namespace) },
	[PG_FLD_POD] = { "pod", POD(name) },
	[PG_FLD_WORKLOAD_KIND] = { "workload_kind", POD(workload_kind) },
	[PG_FLD_WORKLOAD] = { "workload", POD(workload) },
	[PG_FLD_LABELS] = { "labels", .kind = PG_FK_LABELS },
	[PG_FLD_PATH] = { "path", PG_FK_STR, SZ(open.path),
			  .off = { [PG_EV_EXEC] = R(exec.path), [PG_EV_OPEN] = R(open.path) } },
	[PG_FLD_ARGV] = { "argv", PG_FK_ARGV, SZ(exec.argv), .off = { [PG_EV_EXEC] = R(exec.argv) } },
	[PG_FLD_ARGC] = { "argc", PG_FK_UINT, SZ(exec.argc), .off = { [PG_EV_EXEC] = R(exec.argc) } },
	[PG_FLD_CHILD_PID] = { "child_pid", PG_FK_UINT, SZ(fork.child_pid),
			       .off = { [PG_EV_FORK] = R(fork.child_pid) } },
	[PG_FLD_CHILD_START_NS] = { "child_start_ns", PG_FK_UINT, SZ(fork.child_start_ns),
				    .off = { [PG_EV_FORK] = R(fork.child_start_ns) } },
	[PG_FLD_EXIT_CODE] = { "exit_code", PG_FK_INT, SZ(exit.exit_code),
			       .off = { [PG_EV_EXIT] = R(exit.exit_code) } },
	[PG_FLD_SIGNAL] = { "signal", PG_FK_UINT, SZ(exit.signal),
			    .off = { [PG_EV_EXIT] = R(exit.signal) } },
	[PG_FLD_LIFETIME_NS] = { "lifetime_ns", PG_FK_UINT, SZ(exit.lifetime_ns),
				 .off = { [PG_EV_EXIT] = R(exit.lifetime_ns) } },
	[PG_FLD_DIRFD] = { "dirfd", PG_FK_INT, SZ(open.dirfd), .off = { [PG_EV_OPEN] = R(open.dirfd) } },
	[PG_FLD_FLAGS] = { "flags", PG_FK_UINT, SZ(open.flags), .off = { [PG_EV_OPEN] = R(open.flags) } },
	[PG_FLD_MODE] = { "mode", PG_FK_UINT, SZ(open.mode), .off = { [PG_EV_OPEN] = R(open.mode) } },
	[PG_FLD_RET] = { "ret", PG_FK_INT, SZ(open.ret),
			 .off = { [PG_EV_OPEN] = R(open.ret), [PG_EV_CONNECT] = R(connect.ret),
				  [PG_EV_SETID] = R(setid.ret), [PG_EV_PTRACE] = R(ptrace.ret) } },
	[PG_FLD_FAMILY] = { "family", PG_FK_FAMILY, SZ(connect.family),
			    .off = { [PG_EV_CONNECT] = R(connect.family), [PG_EV_DNS] = R(dns.family),
				     [PG_EV_PACKET] = R(packet.family) } },
	[PG_FLD_DADDR] = { "daddr", PG_FK_ADDR, SZ(connect.daddr),
			   .off = { [PG_EV_CONNECT] = R(connect.daddr), [PG_EV_DNS] = R(dns.daddr),
				    [PG_EV_PACKET] = R(packet.daddr) } },
	[PG_FLD_DPORT] = { "dport", PG_FK_UINT, SZ(connect.dport),
			   .off = { [PG_EV_CONNECT] = R(connect.dport), [PG_EV_DNS] = R(dns.dport),
				    [PG_EV_PACKET] = R(packet.dport) } },
	[PG_FLD_FD] = { "fd", PG_FK_INT, SZ(connect.fd), .off = { [PG_EV_CONNECT] = R(connect.fd) } },
	[PG_FLD_QNAME] = { "qname", PG_FK_STR, SZ(dns.qname),
			   .off = { [PG_EV_DNS] = R(dns.qname), [PG_EV_PACKET] = R(packet.qname) } },
	[PG_FLD_QTYPE] = { "qtype", PG_FK_QTYPE, SZ(dns.qtype),
			   .off = { [PG_EV_DNS] = R(dns.qtype), [PG_EV_PACKET] = R(packet.qtype) } },
	[PG_FLD_DNS_ID] = { "dns_id", PG_FK_UINT, SZ(dns.id),
			    .off = { [PG_EV_DNS] = R(dns.id), [PG_EV_PACKET] = R(packet.dns_id) } },
	[PG_FLD_CALL] = { "call", PG_FK_SETID_CALL, SZ(setid.call),
			  .off = { [PG_EV_SETID] = R(setid.call) } },
	[PG_FLD_ID_REAL] = { "id_real", PG_FK_UINT, SZ(setid.id_real),
			     .off = { [PG_EV_SETID] = R(setid.id_real) } },
	[PG_FLD_ID_EFFECTIVE] = { "id_effective", PG_FK_UINT, SZ(setid.id_effective),
				  .off = { [PG_EV_SETID] = R(setid.id_effective) } },
	[PG_FLD_ID_SAVED] = { "id_saved", PG_FK_UINT, SZ(setid.id_saved),
			      .off = { [PG_EV_SETID] = R(setid.id_saved) } },
#define PKT(name_, kind_, member)                                   \
	{ name_, kind_, SZ(packet.member), .off = { [PG_EV_PACKET] = R(packet.member) } }
	[PG_FLD_IFINDEX] = PKT("ifindex", PG_FK_UINT, ifindex),
	[PG_FLD_IFNAME] = PKT("ifname", PG_FK_STR, ifname),
	[PG_FLD_DIRECTION] = PKT("direction", PG_FK_DIRECTION, direction),
	[PG_FLD_LEN] = PKT("len", PG_FK_UINT, wire_len),
	[PG_FLD_CAPLEN] = PKT("caplen", PG_FK_UINT, caplen),
	[PG_FLD_ETHERTYPE] = PKT("ethertype", PG_FK_UINT, ethertype),
	[PG_FLD_VLAN] = PKT("vlan", PG_FK_UINT, vlan),
	[PG_FLD_SADDR] = PKT("saddr", PG_FK_ADDR, saddr),
	[PG_FLD_SPORT] = PKT("sport", PG_FK_UINT, sport),
	[PG_FLD_IP_PROTO] = PKT("ip_proto", PG_FK_IP_PROTO, ip_proto),
	[PG_FLD_TCP_FLAGS] = PKT("tcp_flags", PG_FK_TCP_FLAGS, tcp_flags),
	[PG_FLD_QR] = PKT("qr", PG_FK_UINT, dns_qr),
	[PG_FLD_RCODE] = PKT("rcode", PG_FK_RCODE, dns_rcode),
	[PG_FLD_ANSWERS] = PKT("answers", PG_FK_DNS_ANSWERS, answers),
#undef PKT
	[PG_FLD_REQUEST] = { "request", PG_FK_PTRACE_REQUEST, SZ(ptrace.request),
			     .off = { [PG_EV_PTRACE] = R(ptrace.request) } },
	[PG_FLD_TARGET_PID] = { "target_pid", PG_FK_UINT, SZ(ptrace.target_pid),
				.off = { [PG_EV_PTRACE] = R(ptrace.target_pid) } },
	[PG_FLD_ADDR] = { "addr", PG_FK_UINT, SZ(ptrace.addr), .off = { [PG_EV_PTRACE] = R(ptrace.addr) } },
#define FLAG .kind = PG_FK_FLAG, .size = 4
	[PG_FLD_PATH_TRUNCATED] = { "path_truncated", FLAG, .mask = PG_TRUNC_PATH,
				    .off = { [PG_EV_EXEC] = R(exec.flags), [PG_EV_OPEN] = R(open.pflags) } },
	[PG_FLD_ARGV_TRUNCATED] = { "argv_truncated", FLAG, .mask = PG_TRUNC_ARGV,
				    .off = { [PG_EV_EXEC] = R(exec.flags) } },
	[PG_FLD_SNAPSHOT] = { "snapshot", FLAG, .mask = PG_SNAPSHOT, .off = { [PG_EV_EXEC] = R(exec.flags) } },
	[PG_FLD_EXE_UNLINKED] = { "exe_unlinked", FLAG, .mask = PG_EXE_UNLINKED,
				  .off = { [PG_EV_EXEC] = R(exec.flags) } },
	[PG_FLD_IO_URING] = { "io_uring", FLAG, .mask = PG_VIA_IO_URING,
			      .off = { [PG_EV_OPEN] = R(open.pflags), [PG_EV_CONNECT] = R(connect.flags),
				       [PG_EV_DNS] = R(dns.flags) } },
	[PG_FLD_CORE_DUMPED] = { "core_dumped", FLAG, .mask = 1, .off = { [PG_EV_EXIT] = R(exit.core_dumped) } },
#undef FLAG
	[PG_FLD_ACTION] = { "action", META(action) },
	[PG_FLD_POLICY] = { "policy", META(policy) },
	[PG_FLD_RULE] = { "rule", META(rule) },
};

size_t pg_label_text(const struct pg_label *l, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s=%s", l->key, l->value ? l->value : "");

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

const struct pg_field *pg_field_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < PG_FLD_COUNT; i++)
		if (strlen(pg_fields[i].name) == len && !memcmp(pg_fields[i].name, name, len))
			return &pg_fields[i];
	return NULL;
}

int64_t pg_field_int(const struct pg_event *ev, const struct pg_field *f, int off)
{
	const unsigned char *p = (const unsigned char *)&ev->r + off;

	if (f->kind == PG_FK_INT) {
		int32_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
	if (f->kind == PG_FK_FLAG) {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		return (v & f->mask) != 0;
	}
	switch (f->size) {
	case 1:
		return *p;
	case 2: {
		uint16_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
	default: {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		return (int64_t)v;
	}
	}
}
