// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Canonical NDJSON encoder. Key order here is the schema's key order (docs/events.md). */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "dns.h"
#include "json.h"
#include "packet.h"

static const char hexdig[] = "0123456789abcdef";

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Does w have a zero byte? (the classic bit trick: exact for "any", not for which) */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

/*
 * Can all eight bytes of w go into a JSON string as they are: printable ASCII, not '"' nor
 * '\\'? A byte below 0x20 borrows in w - 0x20.., one at 0x80 or above has its high bit set;
 * a borrow can only make a plain word look unplain (then the byte loop decides), never the
 * reverse. Process fields made strings long (exe, command lines, ancestors): on a replay of
 * 550k open events carrying them this took pg_json_put_string from 10.6 % to 6.3 % of the
 * profile (user time 0.555 -> 0.50 s, medians of 4 interleaved runs).
 */
static inline bool word_is_plain(uint64_t w)
{
	return !((((w - 0x20 * ONES) | w) & HIGHS) | HAS_ZERO(w ^ ('"' * ONES)) |
		 HAS_ZERO(w ^ ('\\' * ONES)));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if the bytes there are not one. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

void pg_json_put_string(struct pg_buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;

	/* worst case: every byte becomes a 6-byte escape */
	if (pg_buf__reserve(out, n * 6 + 2))
		return;
	out->data[out->len++] = '"';
	while (i < n) {
		run = i;
		/* eight bytes at a time while none needs an escape (paths, command lines) */
		while (n - run >= 8) {
			uint64_t w;

			memcpy(&w, s + run, 8);
			if (!word_is_plain(w))
				break;
			run += 8;
		}
		while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			memcpy(out->data + out->len, s + i, run - i);
			out->len += run - i;
			i = run;
			if (i == n)
				break;
		}
		unsigned char c = s[i];
		char *d = out->data + out->len;

		if (c >= 0x80) {
			size_t l = utf8_seq_len(s + i, n - i);

			if (l) {
				memcpy(d, s + i, l);
				out->len += l;
				i += l;
				continue;
			}
			/* not UTF-8: one byte as a lone low surrogate, \udc80..\udcff */
			memcpy(d, "\\udc", 4);
			d[4] = hexdig[c >> 4];
			d[5] = hexdig[c & 15];
			out->len += 6;
			i++;
			continue;
		}
		d[0] = '\\';
		switch (c) {
		case '"': d[1] = '"'; out->len += 2; break;
		case '\\': d[1] = '\\'; out->len += 2; break;
		case '\n': d[1] = 'n'; out->len += 2; break;
		case '\t': d[1] = 't'; out->len += 2; break;
		case '\r': d[1] = 'r'; out->len += 2; break;
		case '\b': d[1] = 'b'; out->len += 2; break;
		case '\f': d[1] = 'f'; out->len += 2; break;
		default:
			memcpy(d + 1, "u00", 3);
			d[4] = hexdig[c >> 4];
			d[5] = hexdig[c & 15];
			out->len += 6;
		}
		i++;
	}
	out->data[out->len++] = '"';
}

static void put_cstr(struct pg_buf *out, const char *s, size_t max)
{
	pg_json_put_string(out, s, strnlen(s, max));
}

/* ts as RFC 3339 UTC with nanoseconds, computed without libc time zone machinery. */
static void put_time(struct pg_buf *out, unsigned long long ts)
{
	unsigned long long secs = ts / 1000000000ULL;
	unsigned int nsec = (unsigned int)(ts % 1000000000ULL);
	long long days = (long long)(secs / 86400);
	unsigned int sod = (unsigned int)(secs % 86400);
	/* civil_from_days (H. Hinnant), valid for every date after 1970 */
	long long z = days + 719468;
	long long era = z / 146097;
	unsigned int doe = (unsigned int)(z - era * 146097);
	unsigned int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long y = (long long)yoe + era * 400;
	unsigned int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned int mp = (5 * doy + 2) / 153;
	unsigned int d = doy - (153 * mp + 2) / 5 + 1;
	unsigned int m = mp < 10 ? mp + 3 : mp - 9;
	char tmp[32];
	unsigned int v[6] = { 0, m, d, sod / 3600, sod / 60 % 60, sod % 60 };
	char *p = tmp;

	y += m <= 2;
	if (y > 9999)
		y = 9999;
	*p++ = '"';
	*p++ = (char)('0' + y / 1000);
	*p++ = (char)('0' + y / 100 % 10);
	*p++ = (char)('0' + y / 10 % 10);
	*p++ = (char)('0' + y % 10);
	for (int i = 1; i < 6; i++) {
		*p++ = i == 1 || i == 2 ? '-' : i == 3 ? 'T' : ':';
		*p++ = (char)('0' + v[i] / 10);
		*p++ = (char)('0' + v[i] % 10);
	}
	*p++ = '.';
	for (int i = 8; i >= 0; i--) {
		p[i] = (char)('0' + nsec % 10);
		nsec /= 10;
	}
	p += 9;
	*p++ = 'Z';
	*p++ = '"';
	pg_buf__put(out, tmp, (size_t)(p - tmp));
}

static void put_addr(struct pg_buf *out, unsigned int family, const unsigned char *addr)
{
	char tmp[INET6_ADDRSTRLEN + 2];

	if (family == AF_INET || family == AF_INET6) {
		if (!inet_ntop((int)family, addr, tmp + 1, sizeof(tmp) - 2))
			tmp[1] = 0;
	} else {
		tmp[1] = 0;
	}
	tmp[0] = '"';
	size_t n = strlen(tmp);

	tmp[n] = '"';
	pg_buf__put(out, tmp, n + 1);
}

static void put_family(struct pg_buf *out, unsigned int family)
{
	if (family == AF_INET)
		pg_buf__lit(out, "\"inet\"");
	else if (family == AF_INET6)
		pg_buf__lit(out, "\"inet6\"");
	else
		pg_buf__u64(out, family);
}

#define KEY(k) pg_buf__lit(out, ",\"" k "\":")

/* What the API server says about the pod (docs/events.md, "Pod fields"). */
static void put_pod(struct pg_buf *out, const struct pg_pod_meta *p)
{
	KEY("namespace");
	pg_json_put_string(out, p->namespace, strlen(p->namespace));
	KEY("pod");
	pg_json_put_string(out, p->name, strlen(p->name));
	if (p->workload_kind && p->workload) {
		KEY("workload_kind");
		pg_json_put_string(out, p->workload_kind, strlen(p->workload_kind));
		KEY("workload");
		pg_json_put_string(out, p->workload, strlen(p->workload));
	}
	KEY("labels");
	pg_buf__putc(out, '{');
	for (unsigned int i = 0; i < p->nlabels; i++) {
		if (i)
			pg_buf__putc(out, ',');
		pg_json_put_string(out, p->labels[i].key, strlen(p->labels[i].key));
		pg_buf__putc(out, ':');
		pg_json_put_string(out, p->labels[i].value, strlen(p->labels[i].value));
	}
	pg_buf__putc(out, '}');
	if (p->labels_truncated)
		pg_buf__lit(out, ",\"labels_truncated\":true");
}

static void put_exec(struct pg_buf *out, const struct pg_exec_event *e)
{
	size_t len = e->argv_len < PG_ARGV_LEN ? e->argv_len : PG_ARGV_LEN;
	size_t i = 0;

	KEY("path");
	put_cstr(out, e->path, sizeof(e->path));
	KEY("argv");
	pg_buf__putc(out, '[');
	for (unsigned int a = 0; a < e->argc && i < len; a++) {
		size_t n = strnlen(e->argv + i, len - i);

		if (a)
			pg_buf__putc(out, ',');
		pg_json_put_string(out, e->argv + i, n);
		i += n + 1;
	}
	pg_buf__putc(out, ']');
	if (e->flags & PG_TRUNC_PATH)
		pg_buf__lit(out, ",\"path_truncated\":true");
	if (e->flags & PG_TRUNC_ARGV)
		pg_buf__lit(out, ",\"argv_truncated\":true");
	if (e->flags & PG_SNAPSHOT)
		pg_buf__lit(out, ",\"snapshot\":true");
	if (e->flags & PG_EXE_UNLINKED)
		pg_buf__lit(out, ",\"exe_unlinked\":true");
}

/* A value with a name ("setuid", "attach") by its name; one this build cannot name as its number. */
static void put_name_or_number(struct pg_buf *out, const char *name, unsigned long long num)
{
	if (name) {
		pg_buf__putc(out, '"');
		pg_buf__puts(out, name);
		pg_buf__putc(out, '"');
	} else {
		pg_buf__u64(out, num);
	}
}

static void put_dns(struct pg_buf *out, const struct pg_dns_event *e)
{
	const char *tn;

	KEY("family");
	put_family(out, e->family);
	KEY("daddr");
	put_addr(out, e->family, e->daddr);
	KEY("dport");
	pg_buf__u64(out, e->dport);
	KEY("transport");
	if (e->flags & PG_DNS_F_TCP)
		pg_buf__lit(out, "\"tcp\"");
	else
		pg_buf__lit(out, "\"udp\"");
	if (!(e->flags & PG_DNS_F_PARSED)) {
		pg_buf__lit(out, ",\"malformed\":true");
		goto via;
	}
	KEY("dns_id");
	pg_buf__u64(out, e->id);
	KEY("qname");
	put_cstr(out, e->qname, sizeof(e->qname));
	KEY("qtype");
	tn = pg_dns_type_name(e->qtype);
	if (tn) {
		pg_buf__putc(out, '"');
		pg_buf__puts(out, tn);
		pg_buf__putc(out, '"');
	} else {
		pg_buf__lit(out, "\"TYPE");
		pg_buf__u64(out, e->qtype);
		pg_buf__putc(out, '"');
	}
	KEY("qclass");
	pg_buf__u64(out, e->qclass);
via:
	if (e->flags & PG_VIA_IO_URING)
		pg_buf__lit(out, ",\"io_uring\":true");
}

static void put_name_or_num(struct pg_buf *out, const char *name, const char *prefix,
			    unsigned long long v)
{
	if (name) {
		pg_buf__putc(out, '"');
		pg_buf__puts(out, name);
		pg_buf__putc(out, '"');
	} else if (prefix) {
		pg_buf__putc(out, '"');
		pg_buf__puts(out, prefix);
		pg_buf__u64(out, v);
		pg_buf__putc(out, '"');
	} else {
		pg_buf__u64(out, v);
	}
}

static void put_packet(struct pg_buf *out, const struct pg_packet_event *p)
{
	KEY("ifindex");
	pg_buf__u64(out, p->ifindex);
	KEY("ifname");
	put_cstr(out, p->ifname, sizeof(p->ifname));
	KEY("direction");
	pg_buf__putc(out, '"');
	pg_buf__puts(out, pg_pkt_direction_name(p->direction));
	pg_buf__putc(out, '"');
	KEY("len");
	pg_buf__u64(out, p->wire_len);
	KEY("caplen");
	pg_buf__u64(out, p->caplen);
	KEY("ethertype");
	pg_buf__u64(out, p->ethertype);
	if (p->flags & PG_PKT_F_VLAN) {
		KEY("vlan");
		pg_buf__u64(out, p->vlan);
	}
	if (p->family) {
		KEY("family");
		put_family(out, p->family);
		KEY("saddr");
		put_addr(out, p->family, p->saddr);
		KEY("daddr");
		put_addr(out, p->family, p->daddr);
		KEY("ip_proto");
		put_name_or_num(out, pg_ip_proto_name(p->ip_proto), NULL, p->ip_proto);
		KEY("sport");
		pg_buf__u64(out, p->sport);
		KEY("dport");
		pg_buf__u64(out, p->dport);
		if (p->ip_proto == IPPROTO_TCP) {
			char fl[48];

			pg_tcp_flags_format(p->tcp_flags, fl, sizeof(fl));
			KEY("tcp_flags");
			pg_json_put_string(out, fl, strlen(fl));
		}
	}
	if (p->flags & PG_PKT_F_FRAGMENT)
		pg_buf__lit(out, ",\"fragment\":true");
	if (p->flags & PG_PKT_F_L4_TRUNC)
		pg_buf__lit(out, ",\"truncated\":true");
	if (!(p->flags & PG_PKT_F_DNS))
		return;
	if (!((p->flags & PG_PKT_F_DNS_ERROR) && p->dns_error == PG_DNS_E_SHORT)) {
		KEY("dns_id");
		pg_buf__u64(out, p->dns_id);
		if (p->dns_qr)
			pg_buf__lit(out, ",\"qr\":true");
		KEY("rcode");
		put_name_or_num(out, pg_dns_rcode_name(p->dns_rcode), "RCODE", p->dns_rcode);
		if (p->flags & PG_PKT_F_DNS_QUESTION) {
			KEY("qname");
			put_cstr(out, p->qname, sizeof(p->qname));
			KEY("qtype");
			put_name_or_num(out, pg_dns_type_name(p->qtype), "TYPE", p->qtype);
			KEY("qclass");
			pg_buf__u64(out, p->qclass);
		}
		KEY("answers");
		pg_buf__putc(out, '[');
		for (unsigned int i = 0; i < p->nanswers && i < PG_PKT_DNS_ANSWERS; i++) {
			const struct pg_dns_answer *a = &p->answers[i];

			if (i)
				pg_buf__putc(out, ',');
			pg_buf__lit(out, "{\"name\":");
			put_cstr(out, a->name, sizeof(a->name));
			pg_buf__lit(out, ",\"type\":");
			put_name_or_num(out, pg_dns_type_name(a->type), "TYPE", a->type);
			if (a->rclass != 1) {
				pg_buf__lit(out, ",\"class\":");
				pg_buf__u64(out, a->rclass);
			}
			pg_buf__lit(out, ",\"ttl\":");
			pg_buf__u64(out, a->ttl);
			pg_buf__lit(out, ",\"data\":");
			put_cstr(out, a->data, sizeof(a->data));
			if (a->flags & PG_DNS_ANS_DATA_TRUNC)
				pg_buf__lit(out, ",\"data_truncated\":true");
			pg_buf__putc(out, '}');
		}
		pg_buf__putc(out, ']');
		if (p->flags & PG_PKT_F_DNS_ANS_TRUNC)
			pg_buf__lit(out, ",\"answers_truncated\":true");
	}
	if (p->flags & PG_PKT_F_DNS_ERROR) {
		KEY("dns_error");
		pg_buf__putc(out, '"');
		pg_buf__puts(out, pg_dns_err_name((enum pg_dns_err)p->dns_error) ?: "unknown");
		pg_buf__putc(out, '"');
	}
}

static void put_proc_fields(struct pg_buf *out, const struct pg_event_proc *p)
{
	if (p->exe) {
		KEY("exe");
		pg_json_put_string(out, p->exe, strlen(p->exe));
	}
	if (p->cmdline) {
		KEY("cmdline");
		pg_json_put_string(out, p->cmdline, strlen(p->cmdline));
	}
	if (p->parent_exe) {
		KEY("parent_exe");
		pg_json_put_string(out, p->parent_exe, strlen(p->parent_exe));
	}
	if (p->parent_cmdline) {
		KEY("parent_cmdline");
		pg_json_put_string(out, p->parent_cmdline, strlen(p->parent_cmdline));
	}
	if (p->nancestors) {
		KEY("ancestors");
		pg_buf__putc(out, '[');
		for (unsigned int i = 0; i < p->nancestors && i < PG_PROC_ANCESTORS; i++) {
			if (i)
				pg_buf__putc(out, ',');
			pg_json_put_string(out, p->ancestors[i], strlen(p->ancestors[i]));
		}
		pg_buf__putc(out, ']');
	}
}

/*
 * The process table's fields (docs/events.md, "Process fields"): each only when known. Once
 * written for a process they are copied from its memo (event.h), when the table keeps one.
 */
static void put_proc(struct pg_buf *out, const struct pg_event_proc *p)
{
	size_t start = out->len;

	if (p->memo && p->memo->json) {
		pg_buf__put(out, p->memo->json, p->memo->len);
		return;
	}
	put_proc_fields(out, p);
	if (p->memo && !out->err && out->len > start &&
	    (p->memo->json = malloc(out->len - start))) {
		memcpy(p->memo->json, out->data + start, out->len - start);
		p->memo->len = (uint32_t)(out->len - start);
	}
}

/* n NUL-terminated strings packed in buf (len bytes) as a JSON array. */
static void put_packed(struct pg_buf *out, const char *buf, size_t len, unsigned int n)
{
	size_t i = 0;

	pg_buf__putc(out, '[');
	for (unsigned int k = 0; k < n && i < len; k++) {
		size_t l = strnlen(buf + i, len - i);

		if (k)
			pg_buf__putc(out, ',');
		pg_json_put_string(out, buf + i, l);
		i += l + 1;
	}
	pg_buf__putc(out, ']');
}

static void put_alert(struct pg_buf *out, const struct pg_alert_event *a)
{
	size_t glen = a->group_len < sizeof(a->group) ? a->group_len : sizeof(a->group), i = 0;

	KEY("rule_id");
	put_cstr(out, a->rule_id, sizeof(a->rule_id));
	KEY("title");
	put_cstr(out, a->title, sizeof(a->title));
	if (a->level) {
		KEY("level");
		put_name_or_number(out, pg_alert_level_name(a->level), a->level);
	}
	KEY("tags");
	put_packed(out, a->tags, a->tags_len < sizeof(a->tags) ? a->tags_len : sizeof(a->tags),
		   a->ntags);
	KEY("count");
	pg_buf__u64(out, a->count);
	KEY("events");
	pg_buf__putc(out, '[');
	for (unsigned int k = 0; k < a->nevents && k < PG_ALERT_EVENTS_MAX; k++) {
		const struct pg_alert_ref *e = &a->events[k];
		const char *tn = pg_event_type_name(e->type);

		if (k)
			pg_buf__putc(out, ',');
		pg_buf__lit(out, "{\"type\":");
		put_name_or_number(out, tn, e->type);
		pg_buf__lit(out, ",\"ts\":");
		pg_buf__u64(out, e->ts_ns);
		pg_buf__lit(out, ",\"pid\":");
		pg_buf__u64(out, e->pid);
		pg_buf__lit(out, ",\"start_ns\":");
		pg_buf__u64(out, e->start_ns);
		pg_buf__putc(out, '}');
	}
	pg_buf__putc(out, ']');
	if (!a->ngroup)
		return;
	KEY("group_by");
	pg_buf__putc(out, '{');
	for (unsigned int k = 0; k < a->ngroup && i < glen; k++) {
		size_t kl = strnlen(a->group + i, glen - i), vl;

		if (k)
			pg_buf__putc(out, ',');
		pg_json_put_string(out, a->group + i, kl);
		pg_buf__putc(out, ':');
		i += kl + 1;
		vl = i < glen ? strnlen(a->group + i, glen - i) : 0;
		pg_json_put_string(out, a->group + i, vl);
		i += vl + 1;
	}
	pg_buf__putc(out, '}');
}

void pg_json_encode(const struct pg_event *ev, struct pg_buf *out)
{
	const union pg_record *r = &ev->r;
	const struct pg_event_hdr *h = &r->hdr;
	const char *tname = pg_event_type_name(h->type);

	pg_buf__lit(out, "{\"v\":1,\"type\":");
	if (tname) {
		pg_buf__putc(out, '"');
		pg_buf__puts(out, tname);
		pg_buf__putc(out, '"');
	} else {
		pg_buf__u64(out, h->type); /* never produced by a source; kept visible */
	}
	KEY("time");
	put_time(out, h->ts_ns);
	KEY("ts");
	pg_buf__u64(out, h->ts_ns);
	KEY("pid");
	pg_buf__u64(out, h->pid);
	KEY("tid");
	pg_buf__u64(out, h->tid);
	KEY("ppid");
	pg_buf__u64(out, h->ppid);
	KEY("uid");
	pg_buf__u64(out, h->uid);
	KEY("gid");
	pg_buf__u64(out, h->gid);
	KEY("comm");
	put_cstr(out, h->comm, sizeof(h->comm));
	KEY("cgroup_id");
	pg_buf__u64(out, h->cgroup_id);
	KEY("start_ns");
	pg_buf__u64(out, h->start_ns);
	if (ev->meta.node) {
		KEY("node");
		pg_json_put_string(out, ev->meta.node, strlen(ev->meta.node));
	}
	if (ev->meta.cgroup) {
		KEY("cgroup");
		pg_json_put_string(out, ev->meta.cgroup, strlen(ev->meta.cgroup));
	}
	if (ev->meta.container_id) {
		KEY("container_id");
		pg_json_put_string(out, ev->meta.container_id, strlen(ev->meta.container_id));
	}
	if (ev->meta.pod_uid) {
		KEY("pod_uid");
		pg_json_put_string(out, ev->meta.pod_uid, strlen(ev->meta.pod_uid));
	}
	if (ev->meta.pod)
		put_pod(out, ev->meta.pod);
	put_proc(out, &ev->meta.proc);

	switch (h->type) {
	case PG_EV_EXEC:
		put_exec(out, &r->exec);
		break;
	case PG_EV_FORK:
		KEY("child_pid");
		pg_buf__u64(out, r->fork.child_pid);
		KEY("child_start_ns");
		pg_buf__u64(out, r->fork.child_start_ns);
		break;
	case PG_EV_EXIT:
		KEY("exit_code");
		pg_buf__i64(out, r->exit.exit_code);
		KEY("signal");
		pg_buf__u64(out, r->exit.signal);
		KEY("lifetime_ns");
		pg_buf__u64(out, r->exit.lifetime_ns);
		if (r->exit.core_dumped)
			pg_buf__lit(out, ",\"core_dumped\":true");
		break;
	case PG_EV_OPEN:
		KEY("dirfd");
		pg_buf__i64(out, r->open.dirfd);
		KEY("flags");
		pg_buf__u64(out, r->open.flags);
		KEY("mode");
		pg_buf__u64(out, r->open.mode);
		KEY("ret");
		pg_buf__i64(out, r->open.ret);
		KEY("path");
		put_cstr(out, r->open.path, sizeof(r->open.path));
		if (r->open.pflags & PG_TRUNC_PATH)
			pg_buf__lit(out, ",\"path_truncated\":true");
		if (r->open.pflags & PG_VIA_IO_URING)
			pg_buf__lit(out, ",\"io_uring\":true");
		break;
	case PG_EV_CONNECT:
		KEY("family");
		put_family(out, r->connect.family);
		KEY("daddr");
		put_addr(out, r->connect.family, r->connect.daddr);
		KEY("dport");
		pg_buf__u64(out, r->connect.dport);
		KEY("fd");
		pg_buf__i64(out, r->connect.fd);
		KEY("ret");
		pg_buf__i64(out, r->connect.ret);
		if (r->connect.flags & PG_VIA_IO_URING)
			pg_buf__lit(out, ",\"io_uring\":true");
		break;
	case PG_EV_DNS:
		put_dns(out, &r->dns);
		break;
	case PG_EV_PACKET:
		put_packet(out, &r->packet);
		break;
	case PG_EV_SETID:
		KEY("call");
		put_name_or_number(out, pg_setid_call_name(r->setid.call), r->setid.call);
		KEY("ret");
		pg_buf__i64(out, r->setid.ret);
		KEY("id_real");
		pg_buf__u64(out, r->setid.id_real);
		KEY("id_effective");
		pg_buf__u64(out, r->setid.id_effective);
		KEY("id_saved");
		pg_buf__u64(out, r->setid.id_saved);
		break;
	case PG_EV_PTRACE:
		KEY("request");
		put_name_or_number(out, pg_ptrace_request_name(r->ptrace.request), r->ptrace.request);
		KEY("ret");
		pg_buf__i64(out, r->ptrace.ret);
		KEY("target_pid");
		pg_buf__u64(out, r->ptrace.target_pid);
		KEY("addr");
		pg_buf__u64(out, r->ptrace.addr);
		break;
	case PG_EV_ALERT:
		put_alert(out, &r->alert);
		break;
	default:
		break;
	}
	if (ev->meta.action) {
		KEY("action");
		pg_buf__puts(out, "\"");
		pg_buf__puts(out, ev->meta.action);
		pg_buf__putc(out, '"');
		KEY("policy");
		put_cstr(out, ev->meta.policy ? ev->meta.policy : "", PG_JSON_NAME_LEN);
		KEY("rule");
		put_cstr(out, ev->meta.rule ? ev->meta.rule : "", PG_JSON_NAME_LEN);
	}
	pg_buf__putc(out, '}');
}
