// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --format compact: the line a person reads. One table entry per event type says its verb,
 * its colour and how it tells what happened; the header (time, process) and the trailer (pod
 * or container) are the same for all.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "compact.h"
#include "dns.h"
#include "packet.h"

/* ANSI SGR sequences; empty without colour */
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define BLUE "\033[34m"
#define MAGENTA "\033[35m"
#define CYAN "\033[36m"
#define BOLD_RED "\033[1;31m"
#define RESET "\033[0m"

#define PROCESS_WIDTH 24 /* "comm[pid]": 15 + 2 + 7 */
#define ARGS_MAX 200 /* bytes of arguments shown; the rest is "…" (NDJSON has them all) */

struct line {
	struct pg_buf *out;
	bool colour;
};

static void sgr(struct line *l, const char *code)
{
	if (l->colour)
		pg_buf__puts(l->out, code);
}

static void lit(struct line *l, const char *s)
{
	pg_buf__puts(l->out, s);
}

/* Length of the printable UTF-8 sequence at s (n bytes left), or 0: control characters
 * (C0, DEL, C1: a terminal may act on them) and bytes that are not UTF-8 are not. */
static size_t printable_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf && n >= 2 && (s[1] & 0xc0) == 0x80)
		return c == 0xc2 && s[1] < 0xa0 ? 0 : 2; /* U+0080..U+009F are C1 controls */
	if (c >= 0xe0 && c <= 0xef && n >= 3 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    !(c == 0xe0 && s[1] < 0xa0) && !(c == 0xed && s[1] >= 0xa0))
		return 3;
	if (c >= 0xf0 && c <= 0xf4 && n >= 4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    (s[3] & 0xc0) == 0x80 && !(c == 0xf0 && s[1] < 0x90) && !(c == 0xf4 && s[1] >= 0x90))
		return 4;
	return 0;
}

/* Bytes from the watched system, safe for a terminal: what is not printable as \xNN. */
static void put_safe(struct line *l, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n;) {
		size_t k = printable_len(s + i, n - i);

		if (k && s[i] != '\\') {
			pg_buf__put(l->out, s + i, k);
			i += k;
			continue;
		}
		if (s[i] == '\\') {
			lit(l, "\\\\");
		} else {
			char esc[4] = { '\\', 'x', hex[s[i] >> 4], hex[s[i] & 15] };

			pg_buf__put(l->out, esc, 4);
		}
		i++;
	}
}

/* A word as a shell would need it: bare when it is all safe characters, else in single
 * quotes ('' for the empty word, '\'' for a quote inside). */
static void put_word(struct line *l, const char *s, size_t n)
{
	size_t safe = 0;

	while (safe < n && (strchr("@%+=:,./_-", s[safe]) || isalnum((unsigned char)s[safe]) ||
			    (unsigned char)s[safe] >= 0x80))
		safe++;
	if (n && safe == n) {
		put_safe(l, s, n);
		return;
	}
	pg_buf__putc(l->out, '\'');
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j < n && s[j] != '\'')
			j++;
		put_safe(l, s + i, j - i);
		if (j < n)
			lit(l, "'\\''");
		i = j;
	}
	pg_buf__putc(l->out, '\'');
}

static void put_cword(struct line *l, const char *s, size_t max)
{
	put_word(l, s, strnlen(s, max));
}

/* " EACCES" in red for a -errno; nothing for a success. */
static void put_errno(struct line *l, long long ret)
{
	const char *name;

	if (ret >= 0)
		return;
	name = strerrorname_np((int)-ret);
	pg_buf__putc(l->out, ' ');
	sgr(l, RED);
	if (name) {
		lit(l, name);
	} else {
		lit(l, "error ");
		pg_buf__i64(l->out, -ret);
	}
	sgr(l, RESET);
}

static void put_endpoint(struct line *l, unsigned int family, const unsigned char *addr,
			 unsigned int port)
{
	char a[INET6_ADDRSTRLEN];

	if ((family != AF_INET && family != AF_INET6) ||
	    !inet_ntop((int)family, addr, a, sizeof(a))) {
		lit(l, "(address family ");
		pg_buf__u64(l->out, family);
		pg_buf__putc(l->out, ')');
		return;
	} else if (family == AF_INET6) {
		pg_buf__putc(l->out, '[');
		lit(l, a);
		pg_buf__putc(l->out, ']');
	} else {
		lit(l, a);
	}
	pg_buf__putc(l->out, ':');
	pg_buf__u64(l->out, port);
}

static void put_via(struct line *l, unsigned int flags)
{
	if (flags & PG_VIA_IO_URING) {
		sgr(l, DIM);
		lit(l, " via io_uring");
		sgr(l, RESET);
	}
}

static void put_cut(struct line *l, bool cut)
{
	if (cut)
		lit(l, "\xe2\x80\xa6"); /* … */
}

/* --- what happened, per type --------------------------------------------------------------- */

static void what_exec(struct line *l, const struct pg_event *ev)
{
	const struct pg_exec_event *e = &ev->r.exec;
	size_t len = e->argv_len < PG_ARGV_LEN ? e->argv_len : PG_ARGV_LEN, i = 0, shown = 0;
	bool cut = e->flags & PG_TRUNC_ARGV;

	lit(l, " ");
	put_cword(l, e->path, sizeof(e->path));
	put_cut(l, e->flags & PG_TRUNC_PATH);
	/* argv[0] is the name the program was started under: the path says more */
	for (unsigned int a = 0; a < e->argc && i < len; a++) {
		size_t n = strnlen(e->argv + i, len - i);

		if (a) {
			if (shown + n > ARGS_MAX) {
				cut = true;
				break;
			}
			pg_buf__putc(l->out, ' ');
			put_word(l, e->argv + i, n);
			shown += n + 1;
		}
		i += n + 1;
	}
	if (cut)
		lit(l, " \xe2\x80\xa6"); /* more arguments than shown */
	if (e->flags & PG_EXE_UNLINKED) {
		sgr(l, RED);
		lit(l, " (no file: deleted or memfd)");
		sgr(l, RESET);
	}
}

static void what_fork(struct line *l, const struct pg_event *ev)
{
	lit(l, " child ");
	pg_buf__u64(l->out, ev->r.fork.child_pid);
}

static void what_exit(struct line *l, const struct pg_event *ev)
{
	const struct pg_exit_event *e = &ev->r.exit;
	const char *sig = e->signal ? sigabbrev_np((int)e->signal) : NULL;
	double s = (double)e->lifetime_ns / 1e9;
	char life[48];

	pg_buf__putc(l->out, ' ');
	if (e->signal || e->exit_code)
		sgr(l, RED);
	if (e->signal && sig) {
		lit(l, "SIG");
		lit(l, sig);
	} else if (e->signal) {
		lit(l, "signal ");
		pg_buf__u64(l->out, e->signal);
	} else {
		pg_buf__i64(l->out, e->exit_code);
	}
	if (e->core_dumped)
		lit(l, " (core dumped)");
	if (e->signal || e->exit_code)
		sgr(l, RESET);
	if (s < 1)
		snprintf(life, sizeof(life), " after %.0f ms", s * 1e3);
	else if (s < 600)
		snprintf(life, sizeof(life), " after %.1f s", s);
	else
		snprintf(life, sizeof(life), " after %.0f min", s / 60);
	sgr(l, DIM);
	lit(l, life);
	sgr(l, RESET);
}

static void what_open(struct line *l, const struct pg_event *ev)
{
	const struct pg_open_event *e = &ev->r.open;
	unsigned int acc = e->flags & O_ACCMODE;

	lit(l, " ");
	put_cword(l, e->path, sizeof(e->path));
	put_cut(l, e->pflags & PG_TRUNC_PATH);
	if (acc == O_WRONLY || acc == O_RDWR || e->flags & (O_CREAT | O_TRUNC)) {
		sgr(l, DIM);
		lit(l, acc == O_RDWR ? " read-write" : acc == O_WRONLY ? " write" : "");
		if (e->flags & O_CREAT)
			lit(l, " create");
		if (e->flags & O_TRUNC)
			lit(l, " truncate");
		sgr(l, RESET);
	}
	put_errno(l, e->ret);
	put_via(l, e->pflags);
}

static void what_connect(struct line *l, const struct pg_event *ev)
{
	const struct pg_connect_event *e = &ev->r.connect;

	lit(l, " ");
	put_endpoint(l, e->family, e->daddr, e->dport);
	put_errno(l, e->ret);
	put_via(l, e->flags);
}

static void put_qtype(struct line *l, unsigned int qtype)
{
	const char *tn = pg_dns_type_name(qtype);

	if (tn) {
		lit(l, tn);
	} else {
		lit(l, "TYPE");
		pg_buf__u64(l->out, qtype);
	}
}

static void what_dns(struct line *l, const struct pg_event *ev)
{
	const struct pg_dns_event *e = &ev->r.dns;

	lit(l, " ");
	if (e->flags & PG_DNS_F_PARSED) {
		put_cword(l, e->qname[0] ? e->qname : ".", sizeof(e->qname));
		pg_buf__putc(l->out, ' ');
		put_qtype(l, e->qtype);
	} else {
		sgr(l, RED);
		lit(l, "(a message that does not parse)");
		sgr(l, RESET);
	}
	sgr(l, DIM);
	lit(l, " @");
	put_endpoint(l, e->family, e->daddr, e->dport);
	if (e->flags & PG_DNS_F_TCP)
		lit(l, " tcp");
	sgr(l, RESET);
	put_via(l, e->flags);
}

static void put_id(struct line *l, uint32_t id)
{
	pg_buf__putc(l->out, ' ');
	if (id == 0xffffffffu)
		lit(l, "-1");
	else
		pg_buf__u64(l->out, id);
}

static void what_setid(struct line *l, const struct pg_event *ev)
{
	const struct pg_setid_event *e = &ev->r.setid;
	const char *call = pg_setid_call_name(e->call);

	/* the verb is the call itself: "setuid 0", "setresgid 0 0 0" */
	sgr(l, YELLOW);
	lit(l, call ? call : "setid");
	sgr(l, RESET);
	switch (e->call) {
	case PG_SETID_SETUID:
	case PG_SETID_SETGID:
		put_id(l, e->id_real);
		break;
	case PG_SETID_SETREUID:
	case PG_SETID_SETREGID:
		put_id(l, e->id_real);
		put_id(l, e->id_effective);
		break;
	case PG_SETID_SETFSUID:
	case PG_SETID_SETFSGID:
		put_id(l, e->id_effective);
		return; /* ret is the previous id, not an error */
	default:
		put_id(l, e->id_real);
		put_id(l, e->id_effective);
		put_id(l, e->id_saved);
	}
	put_errno(l, e->ret);
}

static void what_ptrace(struct line *l, const struct pg_event *ev)
{
	const struct pg_ptrace_event *e = &ev->r.ptrace;
	const char *req = pg_ptrace_request_name(e->request);
	char addr[32];

	pg_buf__putc(l->out, ' ');
	if (req)
		lit(l, req);
	else
		pg_buf__u64(l->out, e->request);
	if (e->request != PG_PTRACE_TRACEME) {
		pg_buf__putc(l->out, ' ');
		pg_buf__u64(l->out, e->target_pid);
	}
	if (e->addr) {
		snprintf(addr, sizeof(addr), " at 0x%llx", (unsigned long long)e->addr);
		lit(l, addr);
	}
	put_errno(l, e->ret);
}

static void what_packet(struct line *l, const struct pg_event *ev)
{
	const struct pg_packet_event *p = &ev->r.packet;
	const char *proto = pg_ip_proto_name(p->ip_proto);

	lit(l, " ");
	put_cword(l, p->ifname, sizeof(p->ifname));
	pg_buf__putc(l->out, ' ');
	lit(l, pg_pkt_direction_name(p->direction));
	if (p->family) {
		pg_buf__putc(l->out, ' ');
		put_endpoint(l, p->family, p->saddr, p->sport);
		lit(l, " > ");
		put_endpoint(l, p->family, p->daddr, p->dport);
		pg_buf__putc(l->out, ' ');
		if (proto) {
			lit(l, proto);
		} else {
			lit(l, "proto ");
			pg_buf__u64(l->out, p->ip_proto);
		}
	}
	sgr(l, DIM);
	lit(l, " ");
	pg_buf__u64(l->out, p->wire_len);
	lit(l, " bytes");
	sgr(l, RESET);
	if ((p->flags & PG_PKT_F_DNS) && (p->flags & PG_PKT_F_DNS_QUESTION)) {
		lit(l, p->dns_qr ? " dns answer " : " dns ");
		put_cword(l, p->qname[0] ? p->qname : ".", sizeof(p->qname));
		pg_buf__putc(l->out, ' ');
		put_qtype(l, p->qtype);
	}
}

static void what_alert(struct line *l, const struct pg_event *ev)
{
	const struct pg_alert_event *a = &ev->r.alert;
	const char *level = pg_alert_level_name(a->level);

	pg_buf__putc(l->out, ' ');
	if (level) {
		sgr(l, a->level >= PG_LEVEL_HIGH ? BOLD_RED : YELLOW);
		lit(l, level);
		sgr(l, RESET);
		pg_buf__putc(l->out, ' ');
	}
	put_safe(l, a->title, strnlen(a->title, sizeof(a->title)));
	if (a->count > 1) {
		lit(l, " (");
		pg_buf__u64(l->out, a->count);
		lit(l, " events)");
	}
	sgr(l, DIM);
	lit(l, " rule ");
	put_safe(l, a->rule_id, strnlen(a->rule_id, sizeof(a->rule_id)));
	sgr(l, RESET);
}

/* Per event type: the verb, its colour, and what happened. */
static const struct {
	const char *verb;
	const char *colour;
	void (*what)(struct line *l, const struct pg_event *ev);
} types[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = { "exec", GREEN, what_exec },
	[PG_EV_FORK] = { "fork", DIM, what_fork },
	[PG_EV_EXIT] = { "exit", DIM, what_exit },
	[PG_EV_OPEN] = { "open", BLUE, what_open },
	[PG_EV_CONNECT] = { "connect", CYAN, what_connect },
	[PG_EV_DNS] = { "dns", MAGENTA, what_dns },
	[PG_EV_SETID] = { NULL, NULL, what_setid }, /* says its call: setuid, setresgid... */
	[PG_EV_PACKET] = { "packet", "", what_packet },
	[PG_EV_PTRACE] = { "ptrace", BOLD_RED, what_ptrace },
	[PG_EV_ALERT] = { "ALERT", BOLD_RED, what_alert }, /* a rule matched (detect.h) */
};

/* --- the line ------------------------------------------------------------------------------- */

static void put_time(struct line *l, unsigned long long ts_ns)
{
	time_t secs = (time_t)(ts_ns / 1000000000ULL);
	struct tm tm;
	char tmp[32];

	if (!localtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(tmp, sizeof(tmp), "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(ts_ns / 1000000ULL % 1000));
	sgr(l, DIM);
	lit(l, tmp);
	sgr(l, RESET);
}

static void put_process(struct line *l, const struct pg_event_hdr *h)
{
	size_t start = l->out->len, width;

	pg_buf__putc(l->out, ' ');
	if (!h->pid && !h->comm[0]) { /* no process: a packet off the wire */
		pg_buf__putc(l->out, '-');
		width = 2;
		goto pad;
	}
	sgr(l, BOLD);
	put_safe(l, h->comm, strnlen(h->comm, sizeof(h->comm)));
	sgr(l, RESET);
	pg_buf__putc(l->out, '[');
	pg_buf__u64(l->out, h->pid);
	pg_buf__putc(l->out, ']');
	width = l->out->len - start - (l->colour ? strlen(BOLD) + strlen(RESET) : 0);
pad:
	while (width++ <= PROCESS_WIDTH)
		pg_buf__putc(l->out, ' ');
}

/* Where the process runs, when known: its pod by name (namespace/name, as kubectl says it),
 * else by UID, else its container (short ids, as docker and crictl show them). */
static void put_place(struct line *l, const struct pg_event_meta *m)
{
	const char *id = m->pod_uid && *m->pod_uid ? m->pod_uid : m->container_id;

	if (m->pod && m->pod->name && *m->pod->name) {
		sgr(l, DIM);
		lit(l, "  pod=");
		if (m->pod->namespace && *m->pod->namespace) {
			put_safe(l, m->pod->namespace, strlen(m->pod->namespace));
			pg_buf__putc(l->out, '/');
		}
		put_safe(l, m->pod->name, strlen(m->pod->name));
		sgr(l, RESET);
		return;
	}
	if (!id || !*id)
		return;
	sgr(l, DIM);
	lit(l, id == m->pod_uid ? "  pod=" : "  container=");
	put_safe(l, id, strnlen(id, id == m->pod_uid ? 8 : 12));
	sgr(l, RESET);
}

void pg_compact_encode(const struct pg_event *ev, struct pg_buf *out, bool colour)
{
	struct line l = { out, colour };
	unsigned int type = ev->r.hdr.type;

	put_time(&l, ev->r.hdr.ts_ns);
	put_process(&l, &ev->r.hdr);
	if (type >= PG_EV_TYPE_COUNT || !types[type].what) {
		lit(&l, "type ");
		pg_buf__u64(out, type);
		return;
	}
	if (types[type].verb) {
		sgr(&l, types[type].colour);
		if (type == PG_EV_EXEC && (ev->r.exec.flags & PG_SNAPSHOT))
			lit(&l, "running"); /* found at start-up, not started now */
		else
			lit(&l, types[type].verb);
		sgr(&l, RESET);
	}
	types[type].what(&l, ev);
	put_place(&l, &ev->meta);
}
