// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The NDJSON codec (src/json_*.c, docs/events.md).
 *
 * Property: for thousands of pseudo-random canonical events of every type, encode -> decode
 * gives the same record, and encoding that again gives the same bytes. jansson, an independent
 * parser, reads what we write and finds the same values. Then the documented escaping, exact
 * canonical lines, and malformed input: each case asserts the exact column and a message that
 * names the field.
 *
 * PG_TEST_SEED=N in the environment changes the seed (printed on failure).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "gen_event.h"
#include "json.h"
#include "packet.h"

#define ROUNDS 30000

static uint64_t test_seed(void)
{
	const char *s = getenv("PG_TEST_SEED");

	return s ? strtoull(s, NULL, 0) | 1 : 0x9e3779b97f4a7c15ULL;
}

/* Independent check that the output is what JSON requires: UTF-8, no raw control bytes. */
static bool valid_json_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l;
		uint32_t cp;

		if (c < 0x20)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			l = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			l = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			l = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + l > n)
			return false;
		for (size_t k = 1; k < l; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((l == 2 && cp < 0x80) || (l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += l;
	}
	return true;
}

static void hexdump_line(const char *what, const char *p, size_t n)
{
	fprintf(stderr, "%s (%zu bytes): ", what, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			fputc(c, stderr);
		else
			fprintf(stderr, "<%02x>", c);
	}
	fputc('\n', stderr);
}

/* --- jansson as the reference ------------------------------------------------------------ */

static json_t *jstr(const char *s, size_t n)
{
	return json_stringn(s, n);
}

static json_t *jcstr(const char *s, size_t max)
{
	return json_stringn(s, strnlen(s, max));
}

static json_t *jfamily(unsigned int family)
{
	if (family == AF_INET)
		return json_string("inet");
	if (family == AF_INET6)
		return json_string("inet6");
	return json_integer(family);
}

static json_t *jaddr(unsigned int family, const unsigned char *a)
{
	char tmp[INET6_ADDRSTRLEN];

	if (family != AF_INET && family != AF_INET6)
		return json_string("");
	assert_non_null(inet_ntop((int)family, a, tmp, sizeof(tmp)));
	return json_string(tmp);
}

static json_t *jtime(uint64_t ts)
{
	time_t secs = (time_t)(ts / 1000000000ULL);
	struct tm tm;
	char tmp[64];

	assert_non_null(gmtime_r(&secs, &tm));
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(ts % 1000000000ULL));
	return json_string(tmp);
}

static json_t *jtype_name(unsigned int type, const char *name, const char *prefix)
{
	char tmp[24];

	if (name)
		return json_string(name);
	snprintf(tmp, sizeof(tmp), "%s%u", prefix, type);
	return json_string(tmp);
}

/* The packet event's keys, in docs/events.md's order and with its presence rules. */
static void reference_packet(json_t *o, const struct pg_packet_event *p)
{
	static const char *const flag_names[8] = { "FIN", "SYN", "RST", "PSH",
						   "ACK", "URG", "ECE", "CWR" };
	static const char *const dirs[3] = { "", "in", "out" };

#define SET(k, v) assert_int_equal(json_object_set_new(o, k, v), 0)
	SET("ifindex", json_integer(p->ifindex));
	SET("ifname", jcstr(p->ifname, sizeof(p->ifname)));
	SET("direction", json_string(dirs[p->direction]));
	SET("len", json_integer(p->wire_len));
	SET("caplen", json_integer(p->caplen));
	SET("ethertype", json_integer(p->ethertype));
	if (p->flags & PG_PKT_F_VLAN)
		SET("vlan", json_integer(p->vlan));
	if (p->family) {
		const char *pn = pg_ip_proto_name(p->ip_proto);

		SET("family", jfamily(p->family));
		SET("saddr", jaddr(p->family, p->saddr));
		SET("daddr", jaddr(p->family, p->daddr));
		SET("ip_proto", pn ? json_string(pn) : json_integer(p->ip_proto));
		SET("sport", json_integer(p->sport));
		SET("dport", json_integer(p->dport));
		if (p->ip_proto == 6) {
			char fl[64] = "";

			for (int i = 0; i < 8; i++)
				if (p->tcp_flags & (1u << i)) {
					if (fl[0])
						strcat(fl, "|");
					strcat(fl, flag_names[i]);
				}
			SET("tcp_flags", json_string(fl));
		}
	}
	if (p->flags & PG_PKT_F_FRAGMENT)
		SET("fragment", json_true());
	if (p->flags & PG_PKT_F_L4_TRUNC)
		SET("truncated", json_true());
	if (!(p->flags & PG_PKT_F_DNS))
		return;
	if (!((p->flags & PG_PKT_F_DNS_ERROR) && p->dns_error == PG_DNS_E_SHORT)) {
		json_t *ans = json_array();

		SET("dns_id", json_integer(p->dns_id));
		if (p->dns_qr)
			SET("qr", json_true());
		SET("rcode", jtype_name(p->dns_rcode, pg_dns_rcode_name(p->dns_rcode), "RCODE"));
		if (p->flags & PG_PKT_F_DNS_QUESTION) {
			SET("qname", jcstr(p->qname, sizeof(p->qname)));
			SET("qtype", jtype_name(p->qtype, pg_dns_type_name(p->qtype), "TYPE"));
			SET("qclass", json_integer(p->qclass));
		}
		for (unsigned int i = 0; i < p->nanswers; i++) {
			const struct pg_dns_answer *a = &p->answers[i];
			json_t *x = json_object();

			json_object_set_new(x, "name", jcstr(a->name, sizeof(a->name)));
			json_object_set_new(x, "type", jtype_name(a->type, pg_dns_type_name(a->type), "TYPE"));
			if (a->rclass != 1)
				json_object_set_new(x, "class", json_integer(a->rclass));
			json_object_set_new(x, "ttl", json_integer(a->ttl));
			json_object_set_new(x, "data", jcstr(a->data, sizeof(a->data)));
			if (a->flags & PG_DNS_ANS_DATA_TRUNC)
				json_object_set_new(x, "data_truncated", json_true());
			json_array_append_new(ans, x);
		}
		SET("answers", ans);
		if (p->flags & PG_PKT_F_DNS_ANS_TRUNC)
			SET("answers_truncated", json_true());
	}
	if (p->flags & PG_PKT_F_DNS_ERROR)
		SET("dns_error", json_string(pg_dns_err_name((enum pg_dns_err)p->dns_error)));
#undef SET
}

/*
 * The object docs/events.md describes, built from the record with jansson alone (no code of
 * the encoder), in the documented key order.
 */
static json_t *reference_object(const struct pg_event *ev)
{
	const union pg_record *r = &ev->r;
	const struct pg_event_hdr *h = &r->hdr;
	json_t *o = json_object();

#define SET(k, v) assert_int_equal(json_object_set_new(o, k, v), 0)
	SET("v", json_integer(1));
	SET("type", json_string(pg_event_type_name(h->type)));
	SET("time", jtime(h->ts_ns));
	SET("ts", json_integer((json_int_t)h->ts_ns));
	SET("pid", json_integer(h->pid));
	SET("tid", json_integer(h->tid));
	SET("ppid", json_integer(h->ppid));
	SET("uid", json_integer(h->uid));
	SET("gid", json_integer(h->gid));
	SET("comm", jcstr(h->comm, sizeof(h->comm)));
	SET("cgroup_id", json_integer((json_int_t)h->cgroup_id));
	SET("start_ns", json_integer((json_int_t)h->start_ns));
	if (ev->meta.node)
		SET("node", json_string(ev->meta.node));
	if (ev->meta.cgroup)
		SET("cgroup", json_string(ev->meta.cgroup));
	if (ev->meta.container_id)
		SET("container_id", json_string(ev->meta.container_id));
	if (ev->meta.pod_uid)
		SET("pod_uid", json_string(ev->meta.pod_uid));
	if (ev->meta.pod) {
		const struct pg_pod_meta *p = ev->meta.pod;
		json_t *l = json_object();

		SET("namespace", json_string(p->namespace));
		SET("pod", json_string(p->name));
		if (p->workload_kind) {
			SET("workload_kind", json_string(p->workload_kind));
			SET("workload", json_string(p->workload));
		}
		for (unsigned int i = 0; i < p->nlabels; i++)
			json_object_set_new(l, p->labels[i].key, json_string(p->labels[i].value));
		SET("labels", l);
		if (p->labels_truncated)
			SET("labels_truncated", json_true());
	}
	if (ev->meta.proc.exe)
		SET("exe", json_string(ev->meta.proc.exe));
	if (ev->meta.proc.cmdline)
		SET("cmdline", json_string(ev->meta.proc.cmdline));
	if (ev->meta.proc.parent_exe)
		SET("parent_exe", json_string(ev->meta.proc.parent_exe));
	if (ev->meta.proc.parent_cmdline)
		SET("parent_cmdline", json_string(ev->meta.proc.parent_cmdline));
	if (ev->meta.proc.nancestors) {
		json_t *a = json_array();

		for (unsigned int i = 0; i < ev->meta.proc.nancestors; i++)
			json_array_append_new(a, json_string(ev->meta.proc.ancestors[i]));
		SET("ancestors", a);
	}
	switch (h->type) {
	case PG_EV_EXEC: {
		json_t *a = json_array();
		size_t i = 0;

		SET("path", jcstr(r->exec.path, sizeof(r->exec.path)));
		for (unsigned int k = 0; k < r->exec.argc; k++) {
			size_t n = strnlen(r->exec.argv + i, r->exec.argv_len - i);

			json_array_append_new(a, jstr(r->exec.argv + i, n));
			i += n + 1;
		}
		SET("argv", a);
		if (r->exec.flags & PG_TRUNC_PATH)
			SET("path_truncated", json_true());
		if (r->exec.flags & PG_TRUNC_ARGV)
			SET("argv_truncated", json_true());
		if (r->exec.flags & PG_SNAPSHOT)
			SET("snapshot", json_true());
		if (r->exec.flags & PG_EXE_UNLINKED)
			SET("exe_unlinked", json_true());
		break;
	}
	case PG_EV_FORK:
		SET("child_pid", json_integer(r->fork.child_pid));
		SET("child_start_ns", json_integer((json_int_t)r->fork.child_start_ns));
		break;
	case PG_EV_EXIT:
		SET("exit_code", json_integer(r->exit.exit_code));
		SET("signal", json_integer(r->exit.signal));
		SET("lifetime_ns", json_integer((json_int_t)r->exit.lifetime_ns));
		if (r->exit.core_dumped)
			SET("core_dumped", json_true());
		break;
	case PG_EV_OPEN:
		SET("dirfd", json_integer(r->open.dirfd));
		SET("flags", json_integer(r->open.flags));
		SET("mode", json_integer(r->open.mode));
		SET("ret", json_integer(r->open.ret));
		SET("path", jcstr(r->open.path, sizeof(r->open.path)));
		if (r->open.pflags & PG_TRUNC_PATH)
			SET("path_truncated", json_true());
		if (r->open.pflags & PG_VIA_IO_URING)
			SET("io_uring", json_true());
		break;
	case PG_EV_CONNECT:
		SET("family", jfamily(r->connect.family));
		SET("daddr", jaddr(r->connect.family, r->connect.daddr));
		SET("dport", json_integer(r->connect.dport));
		SET("fd", json_integer(r->connect.fd));
		SET("ret", json_integer(r->connect.ret));
		if (r->connect.flags & PG_VIA_IO_URING)
			SET("io_uring", json_true());
		break;
	case PG_EV_DNS: {
		char tn[16];
		const char *name = pg_dns_type_name(r->dns.qtype);

		SET("family", jfamily(r->dns.family));
		SET("daddr", jaddr(r->dns.family, r->dns.daddr));
		SET("dport", json_integer(r->dns.dport));
		SET("transport", json_string(r->dns.flags & PG_DNS_F_TCP ? "tcp" : "udp"));
		if (!(r->dns.flags & PG_DNS_F_PARSED)) {
			SET("malformed", json_true());
			if (r->dns.flags & PG_VIA_IO_URING)
				SET("io_uring", json_true());
			break;
		}
		SET("dns_id", json_integer(r->dns.id));
		SET("qname", jcstr(r->dns.qname, sizeof(r->dns.qname)));
		if (!name) {
			snprintf(tn, sizeof(tn), "TYPE%u", r->dns.qtype);
			name = tn;
		}
		SET("qtype", json_string(name));
		SET("qclass", json_integer(r->dns.qclass));
		if (r->dns.flags & PG_VIA_IO_URING)
			SET("io_uring", json_true());
		break;
	}
	case PG_EV_PACKET:
		reference_packet(o, &r->packet);
		break;
	case PG_EV_SETID:
		SET("call", json_string(pg_setid_call_name(r->setid.call)));
		SET("ret", json_integer(r->setid.ret));
		SET("id_real", json_integer(r->setid.id_real));
		SET("id_effective", json_integer(r->setid.id_effective));
		SET("id_saved", json_integer(r->setid.id_saved));
		break;
	case PG_EV_PTRACE: {
		const char *rn = pg_ptrace_request_name(r->ptrace.request);

		SET("request", rn ? json_string(rn) : json_integer(r->ptrace.request));
		SET("ret", json_integer(r->ptrace.ret));
		SET("target_pid", json_integer(r->ptrace.target_pid));
		SET("addr", json_integer((json_int_t)r->ptrace.addr));
		break;
	}
	case PG_EV_ALERT: {
		const struct pg_alert_event *al = &r->alert;
		json_t *tags = json_array(), *evs = json_array(), *grp = json_object();
		size_t i = 0;

		SET("rule_id", json_string(al->rule_id));
		SET("title", json_string(al->title));
		if (al->level)
			SET("level", json_string(pg_alert_level_name(al->level)));
		for (unsigned int k = 0; k < al->ntags; k++) {
			json_array_append_new(tags, json_string(al->tags + i));
			i += strlen(al->tags + i) + 1;
		}
		SET("tags", tags);
		SET("count", json_integer(al->count));
		for (unsigned int k = 0; k < al->nevents; k++) {
			json_t *x = json_object();

			json_object_set_new(x, "type", json_string(pg_event_type_name(al->events[k].type)));
			json_object_set_new(x, "ts", json_integer((json_int_t)al->events[k].ts_ns));
			json_object_set_new(x, "pid", json_integer(al->events[k].pid));
			json_object_set_new(x, "start_ns", json_integer((json_int_t)al->events[k].start_ns));
			json_array_append_new(evs, x);
		}
		SET("events", evs);
		i = 0;
		for (unsigned int k = 0; k < al->ngroup; k++) {
			const char *name = al->group + i;

			i += strlen(name) + 1;
			json_object_set_new(grp, name, json_string(al->group + i));
			i += strlen(al->group + i) + 1;
		}
		if (al->ngroup)
			SET("group_by", grp);
		else
			json_decref(grp);
		break;
	}
	}
	if (ev->meta.action) {
		SET("action", json_string(ev->meta.action));
		SET("policy", json_string(ev->meta.policy));
		SET("rule", json_string(ev->meta.rule));
	}
#undef SET
	return o;
}

/* Can jansson represent this event? It refuses lone surrogates and integers above 2^63-1. */
static bool jansson_can_read(const struct pg_event *ev, const char *line)
{
	const struct pg_event_hdr *h = &ev->r.hdr;

	if (strstr(line, "\\udc"))
		return false;
	if (h->ts_ns > INT64_MAX || h->start_ns > INT64_MAX || h->cgroup_id > INT64_MAX)
		return false;
	if (h->type == PG_EV_FORK && ev->r.fork.child_start_ns > INT64_MAX)
		return false;
	if (h->type == PG_EV_PTRACE && ev->r.ptrace.addr > INT64_MAX)
		return false;
	if (h->type == PG_EV_EXIT && ev->r.exit.lifetime_ns > INT64_MAX)
		return false;
	if (h->type == PG_EV_ALERT) {
		const struct pg_alert_event *a = &ev->r.alert;
		size_t i = 0;

		for (unsigned int k = 0; k < a->nevents; k++)
			if (a->events[k].ts_ns > INT64_MAX || a->events[k].start_ns > INT64_MAX)
				return false;
		/* a repeated group-by field name is two keys to us, one to an object */
		for (unsigned int k = 0; k < a->ngroup; k++) {
			size_t j = 0;
			const char *name = a->group + i;

			for (unsigned int q = 0; q < k; q++) {
				if (!strcmp(a->group + j, name))
					return false;
				j += strlen(a->group + j) + 1;
				j += strlen(a->group + j) + 1;
			}
			i += strlen(name) + 1;
			i += strlen(a->group + i) + 1;
		}
	}
	return true;
}

/* --- the property ------------------------------------------------------------------------ */

static void test_roundtrip_property(void **state)
{
	struct rng r = { test_seed() };
	struct pg_json_decoder *dec = calloc(1, sizeof(*dec));
	struct gen_meta *m = calloc(1, sizeof(*m));
	struct pg_event ev, back;
	struct pg_buf a = { 0 }, b = { 0 };
	unsigned int per_type[PG_EV_TYPE_COUNT] = { 0 }, checked_by_jansson = 0, identical = 0;
	unsigned int escaped = 0, at_caps = 0, pod_and_proc = 0;

	assert_non_null(dec);
	assert_non_null(m);
	for (unsigned int i = 0; i < ROUNDS; i++) {
		struct pg_json_error err;
		unsigned int type = 1 + i % (PG_EV_TYPE_COUNT - 1);

		gen_event(&r, &ev, type, m);
		a.len = b.len = 0;
		pg_json_encode(&ev, &a);
		assert_int_equal(a.err, 0);
		if (memchr(a.data, '\n', a.len) || !valid_json_text((unsigned char *)a.data, a.len)) {
			hexdump_line("encoded", a.data, a.len);
			fail_msg("round %u (seed %#llx): output is not one line of UTF-8 JSON text", i,
				 (unsigned long long)test_seed());
		}
		if (pg_json_decode(dec, a.data, a.len, &back, &err)) {
			hexdump_line("encoded", a.data, a.len);
			fail_msg("round %u (seed %#llx): our own line does not decode: column %zu: %s", i,
				 (unsigned long long)test_seed(), err.column, err.msg);
		}
		if (!events_equal(&ev, &back)) {
			hexdump_line("encoded", a.data, a.len);
			fail_msg("round %u (seed %#llx): decoded record differs from the original", i,
				 (unsigned long long)test_seed());
		}
		pg_json_encode(&back, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len)) {
			hexdump_line("first ", a.data, a.len);
			hexdump_line("second", b.data, b.len);
			fail_msg("round %u (seed %#llx): encode(decode(line)) != line", i,
				 (unsigned long long)test_seed());
		}
		per_type[type]++;
		if (memmem(a.data, a.len, "\\udc", 4))
			escaped++;
		if (ev.meta.pod && ev.meta.proc.nancestors)
			pod_and_proc++;
		if (type == PG_EV_EXEC && (ev.r.exec.argc == PG_ARGV_MAX || ev.r.exec.argv_len == PG_ARGV_LEN))
			at_caps++;

		/* jansson reads the same values */
		pg_buf__putc(&a, 0);
		if (jansson_can_read(&ev, a.data)) {
			json_error_t jerr;
			json_t *got = json_loadb(a.data, a.len - 1, JSON_REJECT_DUPLICATES, &jerr);
			json_t *want = reference_object(&ev);

			if (!got) {
				hexdump_line("encoded", a.data, a.len - 1);
				fail_msg("round %u: jansson refuses our line: %s at column %d", i, jerr.text,
					 jerr.column);
			}
			if (!json_equal(got, want)) {
				char *w = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);

				hexdump_line("ours     ", a.data, a.len - 1);
				hexdump_line("reference", w, strlen(w));
				fail_msg("round %u (seed %#llx): jansson's values differ from the record", i,
					 (unsigned long long)test_seed());
			}
			/*
			 * Where jansson and we escape alike (no \u escapes: jansson writes their hex in
			 * upper case), its compact dump in the documented key order is our line.
			 */
			if (!strstr(a.data, "\\u")) {
				char *w = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);

				if (strcmp(w, a.data)) {
					hexdump_line("ours     ", a.data, a.len - 1);
					hexdump_line("reference", w, strlen(w));
					fail_msg("round %u: canonical form differs from the documented one", i);
				}
				identical++;
				free(w);
			}
			checked_by_jansson++;
			json_decref(got);
			json_decref(want);
		}
	}
	/* the generator really produced what the property is about */
	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++)
		assert_true(per_type[t] >= ROUNDS / PG_EV_TYPE_COUNT);
	assert_true(escaped > ROUNDS / 10);
	assert_true(at_caps > 100);
	assert_true(checked_by_jansson > 800); /* ~900: process fields add strings that may be non-UTF-8 */
	assert_true(identical > 300);
	assert_true(pod_and_proc > ROUNDS / 20); /* pod fields and process fields in one event */
	print_message("%u events, %u with non-UTF-8 bytes, %u argv at a cap, %u checked by jansson (%u byte-identical to its dump), %u with pod and process fields\n",
		      ROUNDS, escaped, at_caps, checked_by_jansson, identical, pod_and_proc);
	pg_buf__free(&a);
	pg_buf__free(&b);
	free(dec);
	free(m);
}

/* --- fixed lines ------------------------------------------------------------------------- */

static struct pg_json_decoder g_dec;

static char *encode(const struct pg_event *ev)
{
	struct pg_buf b = { 0 };

	pg_json_encode(ev, &b);
	pg_buf__putc(&b, 0);
	assert_int_equal(b.err, 0);
	return b.data;
}

static void test_canonical_lines(void **state)
{
	struct pg_event ev;
	char *s;

	pg_event_init(&ev, PG_EV_OPEN);
	ev.r.hdr.ts_ns = 1764084477123456789ULL;
	ev.r.hdr.start_ns = 5;
	ev.r.hdr.cgroup_id = 4242;
	ev.r.hdr.pid = 4321;
	ev.r.hdr.tid = 4322;
	ev.r.hdr.ppid = 1;
	ev.r.hdr.uid = 1000;
	ev.r.hdr.gid = 100;
	strcpy(ev.r.hdr.comm, "curl");
	ev.r.open.dirfd = -100;
	ev.r.open.flags = 524288;
	ev.r.open.mode = 0;
	ev.r.open.ret = -2;
	strcpy(ev.r.open.path, "/etc/ssl/openssl.cnf");
	s = encode(&ev);
	assert_string_equal(s, "{\"v\":1,\"type\":\"open\",\"time\":\"2025-11-25T15:27:57.123456789Z\","
			       "\"ts\":1764084477123456789,\"pid\":4321,\"tid\":4322,\"ppid\":1,"
			       "\"uid\":1000,\"gid\":100,\"comm\":\"curl\",\"cgroup_id\":4242,"
			       "\"start_ns\":5,\"dirfd\":-100,\"flags\":524288,\"mode\":0,\"ret\":-2,"
			       "\"path\":\"/etc/ssl/openssl.cnf\"}");
	free(s);

	ev.r.open.pflags = PG_TRUNC_PATH;
	ev.meta.node = "node-1";
	ev.meta.pod_uid = "a\"b";
	s = encode(&ev);
	assert_non_null(strstr(s, ",\"start_ns\":5,\"node\":\"node-1\",\"pod_uid\":\"a\\\"b\",\"dirfd\":"));
	assert_non_null(strstr(s, "\"path\":\"/etc/ssl/openssl.cnf\",\"path_truncated\":true}"));
	free(s);

	/* time: the epoch, a leap day, and the largest ts */
	struct {
		uint64_t ts;
		const char *time;
	} times[] = {
		{ 0, "1970-01-01T00:00:00.000000000Z" },
		{ 951782400123456789ULL, "2000-02-29T00:00:00.123456789Z" },
		{ 4107542399999999999ULL, "2100-02-28T23:59:59.999999999Z" },
		{ ~0ULL, "2554-07-21T23:34:33.709551615Z" },
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char want[64];

		ev.r.hdr.ts_ns = times[i].ts;
		s = encode(&ev);
		snprintf(want, sizeof(want), "\"time\":\"%s\"", times[i].time);
		if (!strstr(s, want))
			fail_msg("ts %llu: %s not in %s", (unsigned long long)times[i].ts, want, s);
		free(s);
	}

	/* every type, in the documented key order */
	struct pg_event e2;

	pg_event_init(&e2, PG_EV_EXEC);
	strcpy(e2.r.hdr.comm, "bash");
	strcpy(e2.r.exec.path, "/usr/bin/curl");
	memcpy(e2.r.exec.argv, "curl\0-s\0\0", 9);
	e2.r.exec.argc = 3;
	e2.r.exec.argv_len = 9;
	e2.r.exec.flags = PG_TRUNC_ARGV;
	s = encode(&e2);
	assert_non_null(strstr(s, "\"start_ns\":0,\"path\":\"/usr/bin/curl\",\"argv\":[\"curl\",\"-s\",\"\"],\"argv_truncated\":true}"));
	free(s);

	pg_event_init(&e2, PG_EV_DNS);
	e2.r.dns.family = AF_INET6;
	e2.r.dns.daddr[15] = 1;
	e2.r.dns.dport = 53;
	e2.r.dns.flags = PG_DNS_F_TCP;
	s = encode(&e2);
	assert_non_null(strstr(s, "\"family\":\"inet6\",\"daddr\":\"::1\",\"dport\":53,\"transport\":\"tcp\",\"malformed\":true}"));
	free(s);
	e2.r.dns.flags = PG_DNS_F_PARSED;
	e2.r.dns.qtype = 0; /* reserved, but a query can carry it */
	e2.r.dns.id = 7;
	e2.r.dns.qclass = 1;
	s = encode(&e2);
	assert_non_null(strstr(s, "\"transport\":\"udp\",\"dns_id\":7,\"qname\":\"\",\"qtype\":\"TYPE0\",\"qclass\":1}"));
	{
		struct pg_event back;
		struct pg_json_error err;

		assert_int_equal(pg_json_decode(&g_dec, s, strlen(s), &back, &err), 0);
		assert_true(events_equal(&e2, &back));
	}
	free(s);

	pg_event_init(&e2, PG_EV_CONNECT);
	e2.r.connect.family = 1; /* AF_UNIX: not an address we print */
	e2.r.connect.fd = 3;
	s = encode(&e2);
	assert_non_null(strstr(s, "\"family\":1,\"daddr\":\"\",\"dport\":0,\"fd\":3,\"ret\":0}"));
	free(s);

	pg_event_init(&e2, PG_EV_EXIT);
	e2.r.exit.exit_code = -1;
	e2.r.exit.signal = 11;
	e2.r.exit.core_dumped = 1;
	s = encode(&e2);
	assert_non_null(strstr(s, "\"exit_code\":-1,\"signal\":11,\"lifetime_ns\":0,\"core_dumped\":true}"));
	free(s);

	pg_event_init(&e2, PG_EV_SETID);
	e2.r.setid.call = PG_SETID_SETRESGID;
	e2.r.setid.id_saved = 0xffffffff;
	s = encode(&e2);
	assert_non_null(strstr(s, "\"call\":\"setresgid\",\"ret\":0,\"id_real\":0,\"id_effective\":0,\"id_saved\":4294967295}"));
	free(s);

	pg_event_init(&e2, PG_EV_FORK);
	e2.r.fork.child_pid = 9;
	e2.r.fork.child_start_ns = ~0ULL;
	s = encode(&e2);
	assert_non_null(strstr(s, "\"child_pid\":9,\"child_start_ns\":18446744073709551615}"));
	free(s);
}

/* The escaping docs/events.md promises, in both directions. */
static void test_escaping(void **state)
{
	static const struct {
		const char *raw; /* bytes in the record */
		const char *json; /* the string literal in the line, quotes included */
	} cases[] = {
		{ "", "\"\"" },
		{ "plain/ascii path", "\"plain/ascii path\"" },
		{ "q\"b\\s", "\"q\\\"b\\\\s\"" },
		{ "\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"" },
		{ "é€😀", "\"é€😀\"" },
		{ "\xff", "\"\\udcff\"" },
		{ "a\x80z", "\"a\\udc80z\"" },
		{ "\xc3", "\"\\udcc3\"" }, /* a lead byte without its continuation */
		{ "\xe2\x82", "\"\\udce2\\udc82\"" }, /* € cut short */
		{ "\xc0\xaf", "\"\\udcc0\\udcaf\"" }, /* overlong '/' */
		{ "\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"" }, /* a UTF-16 surrogate in UTF-8 */
		{ "\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\"" }, /* beyond U+10FFFF */
		{ "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"" }, /* U+10FFFF itself is fine */
		{ "é\xe9", "\"é\\udce9\"" }, /* Latin-1 é next to UTF-8 é */
	};
	struct pg_buf b = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pg_event ev, back;
		struct pg_json_error err;

		b.len = 0;
		pg_json_put_string(&b, cases[i].raw, strlen(cases[i].raw));
		pg_buf__putc(&b, 0);
		if (strcmp(b.data, cases[i].json))
			fail_msg("case %zu: encoded as %s, documented as %s", i, b.data, cases[i].json);

		/* and back, through a whole line */
		pg_event_init(&ev, PG_EV_OPEN);
		strcpy(ev.r.open.path, cases[i].raw);
		char *line = encode(&ev);

		assert_non_null(strstr(line, cases[i].json));
		assert_int_equal(pg_json_decode(&g_dec, line, strlen(line), &back, &err), 0);
		assert_string_equal(back.r.open.path, cases[i].raw);
		free(line);
	}
	pg_buf__free(&b);
}

/* Escapes the decoder accepts that the encoder never writes: they decode to the same bytes. */
static void test_decode_other_escapes(void **state)
{
	static const struct {
		const char *json;
		const char *raw;
	} cases[] = {
		{ "\\/etc\\/hosts", "/etc/hosts" },
		{ "\\u00e9", "é" },
		{ "\\u00E9", "é" },
		{ "\\u20ac", "€" },
		{ "\\ud83d\\ude00", "😀" },
		{ "\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf" },
		{ "\\u0041\\u0001", "A\x01" },
		{ "\\udcc3\\udca9", "é" }, /* raw bytes that happen to be UTF-8 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[512];
		struct pg_event ev;
		struct pg_json_error err;

		snprintf(line, sizeof(line),
			 "{\"v\":1,\"type\":\"open\",\"ts\":1,\"pid\":1,\"tid\":1,\"ppid\":1,\"uid\":0,"
			 "\"gid\":0,\"comm\":\"x\",\"cgroup_id\":1,\"start_ns\":1,\"dirfd\":-100,"
			 "\"flags\":0,\"mode\":0,\"ret\":3,\"path\":\"%s\"}",
			 cases[i].json);
		if (pg_json_decode(&g_dec, line, strlen(line), &ev, &err))
			fail_msg("case %zu (%s): column %zu: %s", i, cases[i].json, err.column, err.msg);
		assert_string_equal(ev.r.open.path, cases[i].raw);
	}
}

/* Whitespace, any key order, no "time": still the same event; re-encoding is canonical. */
static void test_noncanonical_input(void **state)
{
	const char *canon =
		"{\"v\":1,\"type\":\"fork\",\"time\":\"1970-01-01T00:00:01.000000002Z\",\"ts\":1000000002,"
		"\"pid\":42,\"tid\":43,\"ppid\":1,\"uid\":1000,\"gid\":1000,\"comm\":\"bash\","
		"\"cgroup_id\":4242,\"start_ns\":77,\"node\":\"n1\",\"child_pid\":44,\"child_start_ns\":99}";
	const char *other[] = {
		" { \"child_start_ns\" : 99 , \"child_pid\":44,\"node\":\"n1\",\"start_ns\":77,"
		"\"cgroup_id\":4242,\"comm\":\"bash\",\"gid\":1000,\"uid\":1000,\"ppid\":1,\"tid\":43,"
		"\"pid\":42,\"ts\":1000000002,\"type\":\"fork\",\"v\":1 }\t\r",
		"{\"type\":\"fork\",\"v\":1,\"ts\":1000000002,\"pid\":42,\"tid\":43,\"ppid\":1,"
		"\"uid\":1000,\"gid\":1000,\"comm\":\"\\u0062ash\",\"cgroup_id\":4242,\"start_ns\":77,"
		"\"child_pid\":44,\"node\":\"n1\",\"child_start_ns\":99}",
		/* any JSON escape in field names too (docs/events.md) */
		"{\"\\u0076\":1,\"typ\\u0065\":\"fork\",\"ts\":1000000002,\"p\\u0069d\":42,\"tid\":43,"
		"\"ppid\":1,\"uid\":1000,\"gid\":1000,\"comm\":\"bash\",\"cgroup\\u005fid\":4242,"
		"\"start_ns\":77,\"child_pid\":44,\"\\u006e\\u006f\\u0064\\u0065\":\"n1\",\"child\\u005fstart_ns\":99}",
	};
	struct pg_event a, b;
	struct pg_json_error err;
	char *s;

	assert_int_equal(pg_json_decode(&g_dec, canon, strlen(canon), &a, &err), 0);
	s = encode(&a);
	assert_string_equal(s, canon);
	free(s);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		struct pg_json_decoder d2 = { 0 };

		if (pg_json_decode(&d2, other[i], strlen(other[i]), &b, &err))
			fail_msg("case %zu: column %zu: %s", i, err.column, err.msg);
		assert_true(events_equal(&a, &b));
		s = encode(&b);
		assert_string_equal(s, canon);
		free(s);
	}
}

/* --- malformed input --------------------------------------------------------------------- */

/* Canonical lines of every type the malformed cases start from. */
#define COMMON(t)                                                                               \
	"{\"v\":1,\"type\":\"" t "\",\"time\":\"1970-01-01T00:00:01.000000002Z\",\"ts\":1000000002," \
	"\"pid\":42,\"tid\":43,\"ppid\":1,\"uid\":1000,\"gid\":1000,\"comm\":\"curl\","           \
	"\"cgroup_id\":4242,\"start_ns\":77"
static const char *const base_lines[PG_EV_TYPE_COUNT] = {
	[PG_EV_EXEC] = COMMON("exec") ",\"path\":\"/usr/bin/curl\",\"argv\":[\"curl\",\"-s\",\"https://example.com/\"]}",
	[PG_EV_FORK] = COMMON("fork") ",\"child_pid\":44,\"child_start_ns\":99}",
	[PG_EV_EXIT] = COMMON("exit") ",\"exit_code\":0,\"signal\":0,\"lifetime_ns\":123456}",
	[PG_EV_OPEN] = COMMON("open") ",\"dirfd\":-100,\"flags\":524288,\"mode\":0,\"ret\":3,\"path\":\"/etc/hosts\"}",
	[PG_EV_CONNECT] = COMMON("connect") ",\"family\":\"inet\",\"daddr\":\"127.0.0.1\",\"dport\":443,\"fd\":5,\"ret\":0}",
	[PG_EV_DNS] = COMMON("dns") ",\"family\":\"inet\",\"daddr\":\"127.0.0.53\",\"dport\":53,\"transport\":\"udp\",\"dns_id\":4660,\"qname\":\"example.com\",\"qtype\":\"A\",\"qclass\":1}",
	[PG_EV_SETID] = COMMON("setid") ",\"call\":\"setuid\",\"ret\":0,\"id_real\":0,\"id_effective\":0,\"id_saved\":0}",
	/* the required keys only: a frame that is not IP */
	[PG_EV_PACKET] = COMMON("packet") ",\"ifindex\":2,\"ifname\":\"eth0\",\"direction\":\"in\",\"len\":60,\"caplen\":60,\"ethertype\":2054}",
	[PG_EV_PTRACE] = COMMON("ptrace") ",\"request\":\"attach\",\"ret\":0,\"target_pid\":4321,\"addr\":0}",
	/* the required keys only: no level, no group_by */
	[PG_EV_ALERT] = COMMON("alert") ",\"rule_id\":\"r1\",\"title\":\"T\",\"tags\":[\"attack.execution\"],\"count\":1,\"events\":[{\"type\":\"exec\",\"ts\":1,\"pid\":42,\"start_ns\":77}]}",
};

/* base with the first occurrence of from replaced by to (a new string). */
static char *subst(const char *base, const char *from, const char *to)
{
	const char *at = strstr(base, from);
	size_t bl = strlen(base), fl = strlen(from), tl = strlen(to);
	char *s;

	if (!at)
		fail_msg("test bug: '%s' is not in '%s'", from, base);
	s = malloc(bl - fl + tl + 1);
	assert_non_null(s);
	memcpy(s, base, (size_t)(at - base));
	memcpy(s + (at - base), to, tl);
	strcpy(s + (at - base) + tl, at + fl);
	return s;
}

/*
 * Decode line (len bytes) and expect failure at column col with every word of msg (a '|'
 * separated list of fragments) in the message.
 */
static void expect_error_n(const char *what, const char *line, size_t len, size_t col,
			   const char *msg)
{
	struct pg_event ev;
	struct pg_json_error err;
	char frags[256], *save = NULL;

	memset(&err, 0x55, sizeof(err));
	if (pg_json_decode(&g_dec, line, len, &ev, &err) != -EINVAL) {
		hexdump_line("line", line, len > 300 ? 300 : len);
		fail_msg("%s: decoded, expected an error at column %zu (%s)", what, col, msg);
	}
	if (!memchr(err.msg, 0, sizeof(err.msg)))
		fail_msg("%s: message not terminated", what);
	if (err.column != col) {
		hexdump_line("line", line, len > 300 ? 300 : len);
		fail_msg("%s: column %zu, expected %zu (message: %s)", what, err.column, col, err.msg);
	}
	snprintf(frags, sizeof(frags), "%s", msg);
	for (char *f = strtok_r(frags, "|", &save); f; f = strtok_r(NULL, "|", &save))
		if (!strstr(err.msg, f))
			fail_msg("%s: message '%s' lacks '%s'", what, err.msg, f);
	for (const char *p = err.msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("%s: message has a raw byte 0x%02x: %s", what, (unsigned char)*p, err.msg);
}

static void expect_error(const char *what, const char *line, size_t col, const char *msg)
{
	expect_error_n(what, line, strlen(line), col, msg);
}

/* Column of the first occurrence of marker in line (1-based). */
static size_t col_of(const char *line, const char *marker)
{
	const char *p = strstr(line, marker);

	if (!p)
		fail_msg("test bug: marker '%s' not in '%s'", marker, line);
	return (size_t)(p - line) + 1;
}

struct mcase {
	unsigned int type; /* base line to start from */
	const char *from, *to; /* substitution */
	const char *at; /* marker in the result: the column; NULL: the closing brace */
	const char *msg;
};

static const struct mcase mcases[] = {
	/* wrong types */
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":\"42\"", "\"42\"", "field \"pid\"|expected an unsigned integer, found a string" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":true", "true", "field \"pid\"|found a boolean" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":null", "null", "field \"pid\"|found null" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":[42]", "[42]", "field \"pid\"|found an array" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":{}", "{}", "field \"pid\"|found an object" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":\"3\"", "\"3\"", "field \"ret\"|expected an integer, found a string" },
	{ PG_EV_OPEN, "\"comm\":\"curl\"", "\"comm\":7", "7,", "field \"comm\"|expected a string, found a number" },
	{ PG_EV_OPEN, "\"comm\":\"curl\"", "\"comm\":nul", "nul", "field \"comm\"|found an invalid literal" },
	{ PG_EV_OPEN, "\"path\":\"/etc/hosts\"", "\"path\":[\"/etc/hosts\"]", "[\"/etc", "field \"path\"|expected a string, found an array" },
	{ PG_EV_OPEN, "\"type\":\"open\"", "\"type\":4", "4,", "field \"type\"|expected a string" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"path_truncated\":1", "1,\"path\"", "field \"path_truncated\"|expected true or false, found a number" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"path_truncated\":tru", "tru,", "field \"path_truncated\"|expected true or false, found an invalid literal" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"path_truncated\":\"true\"", "\"true\"", "field \"path_truncated\"|found a string" },
	{ PG_EV_EXEC, "\"argv\":[", "\"argv\":\"curl\",\"x\":[", "\"curl\",\"x\"", "field \"argv\"|expected an array of strings, found a string" },
	{ PG_EV_EXEC, "\"-s\"", "-1", "-1", "field \"argv\"|expected a string, found a number" },
	{ PG_EV_EXEC, "\"-s\",", "\"-s\" ", "\"https", "field \"argv\"|expected ',' or ']', found a string" },
	{ PG_EV_EXEC, "\"argv\":[\"curl\",", "\"argv\":[\"curl\",]", "]\"-s", "field \"argv\"|expected a string, found ']'" },
	{ PG_EV_CONNECT, "\"family\":\"inet\"", "\"family\":true", "true", "field \"family\"|expected an unsigned integer, found a boolean" },
	{ PG_EV_CONNECT, "\"daddr\":\"127.0.0.1\"", "\"daddr\":2130706433", "2130706433", "field \"daddr\"|expected a string, found a number" },
	{ PG_EV_DNS, "\"qtype\":\"A\"", "\"qtype\":1", "1,\"qclass", "field \"qtype\"|expected a string, found a number" },
	{ PG_EV_SETID, "\"call\":\"setuid\"", "\"call\":105", "105", "field \"call\"|expected a string, found a number" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"node\":{\"name\":\"x\"}", "{\"name", "field \"node\"|expected a string, found an object" },

	/* out of range, leading zeros, fractions */
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":4294967296", "4294967296", "field \"pid\"|4294967296 is out of range (at most 4294967295)" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":-1", "-1", "field \"pid\"|expected an unsigned integer, found -1" },
	{ PG_EV_OPEN, "\"ts\":1000000002", "\"ts\":18446744073709551616", "18446744073709551616", "field \"ts\"|does not fit in 64 bits" },
	{ PG_EV_OPEN, "\"ts\":1000000002", "\"ts\":99999999999999999999999", "99999", "field \"ts\"|does not fit in 64 bits" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":2147483648", "2147483648", "field \"ret\"|2147483648 is out of range for a 32-bit signed integer" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":-2147483649", "-2147483649", "field \"ret\"|-2147483649 is out of range" },
	{ PG_EV_OPEN, "\"dirfd\":-100", "\"dirfd\":-", "-,", "field \"dirfd\"|expected an integer, found an invalid character" },
	{ PG_EV_CONNECT, "\"dport\":443", "\"dport\":65536", "65536", "field \"dport\"|65536 is out of range (at most 65535)" },
	{ PG_EV_DNS, "\"qclass\":1", "\"qclass\":70000", "70000", "field \"qclass\"|out of range" },
	{ PG_EV_CONNECT, "\"family\":\"inet\"", "\"family\":65536", "65536", "field \"family\"|out of range" },
	{ PG_EV_OPEN, "\"v\":1", "\"v\":65536", "65536", "field \"v\"|out of range" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":042", "042", "field \"pid\"|leading zeros" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":00", "00,\"tid", "field \"pid\"|leading zeros" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":-03", "03", "field \"ret\"|leading zeros" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42.0", "42.0", "field \"pid\"|fraction or exponent" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":4e2", "4e2", "field \"pid\"|fraction or exponent" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42E0", "42E0", "field \"pid\"|fraction or exponent" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":-3.5", "-3.5", "field \"ret\"|fraction or exponent" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":+42", "+42", "field \"pid\"|found an invalid character" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":0x2a", "x2a", "after field \"pid\"|found an invalid character" },

	/* unknown event type, unknown field, duplicate keys, fields of another type */
	{ PG_EV_OPEN, "\"type\":\"open\"", "\"type\":\"opne\"", "\"opne\"", "field \"type\"|unknown event type \"opne\"|exec, fork" },
	{ PG_EV_OPEN, "\"type\":\"open\"", "\"type\":\"\"", "\"\",", "field \"type\"|unknown event type \"\"" },
	{ PG_EV_OPEN, "\"type\":\"open\"", "\"type\":\"OPEN\"", "\"OPEN\"", "unknown event type \"OPEN\"" },
	{ PG_EV_OPEN, "\"type\":\"open\"", "\"type\":\"o\\npen\"", "\"o\\n", "unknown event type \"o?pen\"" },
	{ PG_EV_OPEN, "\"type\":\"open\"", "\"type\":\"averyveryverylongtype\"", "\"avery", "field \"type\"|string longer than 15 bytes" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"foo\":1", "\"foo\"", "unknown field \"foo\"" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"Pid\":1", "\"Pid\"", "unknown field \"Pid\"" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"\":1", "\"\":1", "unknown field \"\"" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"a\xff\":1", "\"a\xff", "unknown field \"a?\"" },
	/* a name with escapes is the name it decodes to */
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"p\\u0069d\":1", "\"p\\u", "duplicate field \"pid\"" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"p\\u0069x\":1", "\"p\\u", "unknown field \"pix\"" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"p\\q\":1", "\\q", "field \"(a field name)\": invalid escape \\q" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"\\u0000\":1", "\\u0000", "\\u0000 is not allowed" },
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\":42,\"\\u0061aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1",
	  "\"\\u0061aaa", "unknown field \"\\u0061aaaaaaaa" },
	{ PG_EV_OPEN, "\"uid\":1000", "\"uid\":1000,\"pid\":1", "\"pid\":1,", "duplicate field \"pid\"" },
	{ PG_EV_OPEN, "\"start_ns\":77", "\"start_ns\":77,\"type\":\"open\"", "\"type\":\"open\",\"dirfd", "duplicate field \"type\"" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"ret\":3", "\"ret\":3,\"path", "duplicate field \"ret\"" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"path\":\"/a\"", "\"path\":\"/etc", "duplicate field \"path\"" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"child_pid\":1", "\"child_pid\"", "field \"child_pid\" does not belong in open events" },
	{ PG_EV_FORK, "\"child_pid\":44", "\"path\":\"/x\",\"child_pid\":44", "\"path\"", "field \"path\" does not belong in fork events" },
	{ PG_EV_EXIT, "\"signal\":0", "\"signal\":0,\"path_truncated\":true", "\"path_truncated\"", "field \"path_truncated\" does not belong in exit events" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"snapshot\":true", "\"snapshot\"", "field \"snapshot\" does not belong in open events" },
	{ PG_EV_EXIT, "\"signal\":0", "\"signal\":0,\"io_uring\":true", "\"io_uring\"", "field \"io_uring\" does not belong in exit events" },
	{ PG_EV_OPEN, "\"ret\":3", "\"ret\":3,\"io_uring\":1", "1,\"path\"", "field \"io_uring\"|expected true or false, found a number" },
	{ PG_EV_DNS, "\"transport\":\"udp\"", "\"transport\":\"udp\",\"malformed\":true", "\"dns_id\"", "field \"dns_id\" does not belong in dns events" },

	/* missing fields that only some events need */
	{ PG_EV_DNS, ",\"qname\":\"example.com\"", "", NULL, "missing field \"qname\" (required in dns events)" },
	{ PG_EV_DNS, ",\"transport\":\"udp\"", ",\"malformed\":false", NULL, "missing field \"transport\"" },

	/* values the schema does not know */
	{ PG_EV_CONNECT, "\"family\":\"inet\"", "\"family\":\"inet7\"", "\"inet7\"", "field \"family\"|\"inet7\" is not \"inet\", \"inet6\" or a number" },
	{ PG_EV_CONNECT, "\"family\":\"inet\"", "\"family\":\"\"", "\"\",\"daddr", "field \"family\"|\"\" is not" },
	{ PG_EV_CONNECT, "\"127.0.0.1\"", "\"127.0.0\"", "\"127.0.0\"", "field \"daddr\"|\"127.0.0\" is not an IPv4 address" },
	{ PG_EV_CONNECT, "\"127.0.0.1\"", "\"::1\"", "\"::1\"", "field \"daddr\"|not an IPv4 address" },
	{ PG_EV_CONNECT, "\"family\":\"inet\",\"daddr\":\"127.0.0.1\"", "\"family\":\"inet6\",\"daddr\":\"1.2.3.4\"", "\"1.2.3.4\"", "field \"daddr\"|not an IPv6 address" },
	{ PG_EV_CONNECT, "\"family\":\"inet\"", "\"family\":1", "\"127.0.0.1\"", "field \"daddr\"|must be \"\" for address family 1" },
	{ PG_EV_CONNECT, "\"127.0.0.1\"", "\"127.0.0.1\\u0000\"", "\\u0000", "field \"daddr\"|\\u0000 is not allowed" },
	{ PG_EV_DNS, "\"transport\":\"udp\"", "\"transport\":\"sctp\"", "\"sctp\"", "field \"transport\"|\"sctp\" is not \"udp\" or \"tcp\"" },
	{ PG_EV_DNS, "\"qtype\":\"A\"", "\"qtype\":\"BOGUS\"", "\"BOGUS\"", "field \"qtype\"|unknown DNS type \"BOGUS\"" },
	{ PG_EV_DNS, "\"qtype\":\"A\"", "\"qtype\":\"TYPE65536\"", "\"TYPE65536\"", "field \"qtype\"|unknown DNS type" },
	{ PG_EV_SETID, "\"call\":\"setuid\"", "\"call\":\"setfoo\"", "\"setfoo\"", "field \"call\"|unknown call \"setfoo\"" },
	{ PG_EV_PTRACE, "\"request\":\"attach\"", "\"request\":\"peek\"", "\"peek\"", "field \"request\"|unknown request \"peek\"" },
	{ PG_EV_PTRACE, "\"request\":\"attach\"", "\"request\":true", "true", "field \"request\"" },

	/* strings */
	{ PG_EV_OPEN, "\"comm\":\"curl\"", "\"comm\":\"0123456789abcdef\"", "\"0123", "field \"comm\"|longer than 15 bytes" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\xffhosts", "\xff", "field \"path\"|invalid UTF-8 byte 0xff|\\udc80..\\udcff" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\xc0\xafhosts", "\xc0", "field \"path\"|invalid UTF-8 byte 0xc0" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\xed\xa0\x80hosts", "\xed", "field \"path\"|invalid UTF-8 byte 0xed" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/hosts\xe2\x82", "\xe2", "field \"path\"|invalid UTF-8 byte 0xe2" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/hosts\xf4\x90\x80\x80", "\xf4", "field \"path\"|invalid UTF-8 byte 0xf4" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\x80", "\x80", "field \"path\"|invalid UTF-8 byte 0x80" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\thosts", "\t", "field \"path\"|control character 0x09" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\x1fhosts", "\x1f", "field \"path\"|control character 0x1f" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\qhosts", "\\q", "field \"path\"|invalid escape \\q" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\xffhosts", "\\x", "field \"path\"|invalid escape \\x" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\'hosts", "\\'", "field \"path\"|invalid escape \\'" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\u12G4hosts", "G4", "field \"path\"|invalid hex digit in \\u escape" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\u00\"", "\"\"}", "field \"path\"|invalid hex digit" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\u0000hosts", "\\u0000", "field \"path\"|\\u0000 is not allowed" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\ud800hosts", "\\ud800", "field \"path\"|high surrogate \\ud800 without its low half" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\udbff\\u0041hosts", "\\u0041", "field \"path\"|\\u0041 is not a low surrogate" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\ud800\\ud800hosts", "\\ud800hosts", "field \"path\"|\\ud800 is not a low surrogate" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\udc00hosts", "\\udc00", "field \"path\"|lone surrogate \\udc00" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\udc7fhosts", "\\udc7f", "field \"path\"|lone surrogate \\udc7f" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\udd00hosts", "\\udd00", "field \"path\"|lone surrogate \\udd00" },
	{ PG_EV_OPEN, "/etc/hosts", "/etc/\\udfffhosts", "\\udfff", "field \"path\"|lone surrogate \\udfff" },
	{ PG_EV_OPEN, "\"comm\":\"curl\"", "\"comm\":\"cu\\u0000rl\"", "\\u0000", "field \"comm\"|\\u0000 is not allowed" },

	/* structure */
	{ PG_EV_OPEN, "\"pid\":42", "\"pid\" 42", "42,\"tid", "expected ':' after field name \"pid\"" },
	{ PG_EV_OPEN, "\"pid\":42,", "\"pid\":42 ", "\"tid\"", "expected ',' or '}' after field \"pid\", found a string" },
	{ PG_EV_OPEN, "\"pid\":42,", "\"pid\":42,,", ",\"tid", "expected a field name in quotes, found ','" },
	{ PG_EV_OPEN, "\"pid\":42", "pid:42", "pid:", "expected a field name in quotes, found an invalid character" },
	{ PG_EV_OPEN, "\"pid\":42", "'pid':42", "'pid'", "expected a field name in quotes" },
	{ PG_EV_OPEN, "\"path\":\"/etc/hosts\"}", "\"path\":\"/etc/hosts\",}", "}", "expected a field name in quotes, found '}'" },
	{ PG_EV_OPEN, "\"/etc/hosts\"}", "\"/etc/hosts\"]", "]", "expected ',' or '}' after field \"path\", found ']'" },
	{ PG_EV_OPEN, "\"/etc/hosts\"}", "\"/etc/hosts\"} junk", "junk", "unexpected data after the JSON object" },

	/* schema version */
	{ PG_EV_OPEN, "\"v\":1", "\"v\":2", "2", "field \"v\"|schema version 2 is newer than this pangolin reads (1)|upgrade pangolin" },
	{ PG_EV_OPEN, "\"v\":1", "\"v\":65535", "65535", "schema version 65535 is newer" },
	{ PG_EV_OPEN, "\"v\":1", "\"v\":0", "0,", "field \"v\"|unknown schema version 0" },
	{ PG_EV_OPEN, "\"v\":1,\"type\":\"open\"", "\"v\":2,\"type\":\"newtype\",\"newfield\":1", "2,", "schema version 2 is newer" },
	{ PG_EV_OPEN, "\"v\":1,\"type\":\"open\"", "\"type\":\"open\",\"v\":2", "2,\"time", "schema version 2 is newer" },
	{ PG_EV_OPEN, "\"v\":1", "\"v\":\"1\"", "\"1\"", "field \"v\"|expected an unsigned integer, found a string" },

	/* process fields */
	{ PG_EV_OPEN, "\"start_ns\":77", "\"start_ns\":77,\"exe\":1", "1,\"dirfd", "field \"exe\"|expected a string, found a number" },
	{ PG_EV_OPEN, "\"start_ns\":77", "\"start_ns\":77,\"ancestors\":\"/bin/sh\"", "\"/bin/sh\"", "field \"ancestors\"|expected an array of strings, found a string" },
	{ PG_EV_OPEN, "\"start_ns\":77", "\"start_ns\":77,\"ancestors\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]", "\"i\"", "field \"ancestors\"|more than 8 strings" },
	{ PG_EV_OPEN, "\"start_ns\":77", "\"start_ns\":77,\"ancestors\":[\"a\" \"b\"]", "\"b\"", "field \"ancestors\"|expected ',' or ']', found a string" },
	{ PG_EV_OPEN, "\"start_ns\":77", "\"start_ns\":77,\"ancestors\":[1]", "1]", "field \"ancestors\"|expected a string, found a number" },
	{ PG_EV_OPEN, "\"start_ns\":77", "\"start_ns\":77,\"cmdline\":\"a\",\"cmdline\":\"b\"", "\"cmdline\":\"b", "duplicate field \"cmdline\"" },

	/* alerts */
	{ PG_EV_ALERT, "\"rule_id\":\"r1\"", "\"rule_id\":\"\"", "\"\"", "field \"rule_id\": empty" },
	{ PG_EV_ALERT, "\"title\":\"T\"", "\"title\":\"T\\udcff\"", "\"r1\"", "rule_id, title and tags are text" },
	{ PG_EV_ALERT, "\"title\":\"T\"", "\"title\":\"T\",\"level\":\"severe\"", "\"severe\"", "field \"level\"|\"severe\" is not informational, low, medium, high or critical" },
	{ PG_EV_ALERT, "\"count\":1", "\"count\":0", "0,\"events", "field \"count\"|at least 1" },
	{ PG_EV_ALERT, "\"count\":1", "\"count\":-1", "-1,\"events", "field \"count\"|expected an unsigned integer" },
	{ PG_EV_ALERT, "\"type\":\"exec\",\"ts\":1", "\"type\":\"alert\",\"ts\":1", "{\"type\":\"alert", "field \"events[].type\"|\"alert\" is not an event type an alert names" },
	{ PG_EV_ALERT, ",\"ts\":1,\"pid\":42", ",\"pid\":42", "{\"type\":\"exec", "field \"events\"|event 1 has no \"ts\"" },
	{ PG_EV_ALERT, "\"ts\":1,\"pid\":42", "\"ts\":1,\"ts\":2,\"pid\":42", "\"ts\":2", "field \"events\"|duplicate \"ts\"" },
	{ PG_EV_ALERT, "\"ts\":1,\"pid\":42", "\"ts\":1,\"tid\":2,\"pid\":42", "\"tid\":2", "field \"events\"|unknown field \"tid\"" },
	{ PG_EV_ALERT, "\"events\":[", "\"events\":{", "{{\"type", "field \"events\"|expected an array of objects, found an object" },
	{ PG_EV_ALERT, "\"start_ns\":77}]", "\"start_ns\":77}],\"group_by\":[]", "[]", "field \"group_by\"|expected an object, found an array" },
	{ PG_EV_ALERT, "\"start_ns\":77}]", "\"start_ns\":77}],\"group_by\":{\"User\":0}", "0}", "field \"group_by\"|expected a string value, found a number" },
	{ PG_EV_ALERT, "\"start_ns\":77}]", "\"start_ns\":77}],\"group_by\":{\"\\udcffx\":\"0\"}", "{\"\\udc", "field \"group_by\"|a field name is text" },
	{ PG_EV_ALERT, "\"start_ns\":77}]", "\"start_ns\":77}],\"group_by\":{\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\",\"h\":\"1\",\"i\":\"1\"}", "\"i\"", "field \"group_by\"|more than 8 fields" },
	{ PG_EV_ALERT, "\"tags\":[\"attack.execution\"]", "\"tags\":[\"attack.execution\"],\"path\":\"/x\"", "\"path\"", "field \"path\" does not belong in alert events" },
};

static void test_malformed_table(void **state)
{
	for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		const struct mcase *c = &mcases[i];
		char *line = subst(base_lines[c->type], c->from, c->to);
		char what[64];
		size_t col = c->at ? col_of(line, c->at) : strlen(line);

		snprintf(what, sizeof(what), "case %zu (%s)", i, c->to);
		expect_error(what, line, col, c->msg);
		free(line);
	}
}

/* Each required field, left out of a line of each type, is named at the closing brace. */
static void test_missing_fields(void **state)
{
	unsigned int cases = 0;

	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++) {
		const char *base = base_lines[t];
		const char *p = base + 1;

		while (*p) {
			/* one "key":value member at p, up to the next top-level ',' or the final '}' */
			const char *kend = strchr(p + 1, '"');
			const char *q = kend;
			int depth = 0;
			bool in_str = false;
			char key[32], msg[96], what[64];

			for (q = kend + 2; *q; q++) {
				if (in_str) {
					if (*q == '\\')
						q++;
					else if (*q == '"')
						in_str = false;
					continue;
				}
				if (*q == '"')
					in_str = true;
				else if (*q == '[' || *q == '{')
					depth++;
				else if ((*q == ']' || *q == '}') && depth)
					depth--;
				else if ((*q == ',' || *q == '}') && !depth)
					break;
			}
			snprintf(key, sizeof(key), "%.*s", (int)(kend - p - 1), p + 1);

			/* the line without this member */
			size_t pre = (size_t)(p - base), memb = (size_t)(q - p) + (*q == ',');
			char *line = malloc(strlen(base) + 1);

			memcpy(line, base, pre);
			strcpy(line + pre, p + memb);
			if (line[pre - 1] == ',' && line[pre] == '}') /* the last member: drop the comma */
				memmove(line + pre - 1, line + pre, strlen(line + pre) + 1);
			snprintf(what, sizeof(what), "%s without %s", pg_event_type_name(t), key);
			if (!strcmp(key, "time")) {
				struct pg_event ev;
				struct pg_json_error err;

				/* the one optional common field */
				if (pg_json_decode(&g_dec, line, strlen(line), &ev, &err))
					fail_msg("%s: %s", what, err.msg);
			} else {
				snprintf(msg, sizeof(msg), "missing field \"%s\"", key);
				if (strcmp(key, "v") && strcmp(key, "type"))
					snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
						 " (required in %s events)", pg_event_type_name(t));
				expect_error(what, line, strlen(line), msg);
				cases++;
			}
			free(line);
			p = q + 1;
		}
	}
	/* 11 common required fields per type plus every payload field */
	assert_int_equal(cases, 10 * 11 + 2 + 2 + 3 + 5 + 5 + 8 + 5 + 6 + 4 + 5);
}

static void test_not_an_object(void **state)
{
	expect_error("empty", "", 1, "empty line: expected a JSON object");
	expect_error("blank", "   \t", 5, "empty line");
	expect_error("array", "[1,2]", 1, "expected a JSON object '{', found an array");
	expect_error("string", "\"open\"", 1, "found a string");
	expect_error("number", "  42", 3, "found a number");
	expect_error("null", "null", 1, "found null");
	expect_error("garbage", "\x7f" "ELF\x02\x01\x01", 1, "found an invalid character");
	expect_error_n("NUL", "\0{}", 3, 1, "found an invalid character");
	/* found by fuzz_json_decode: the unknown key of an answer went raw into the message */
	expect_error("answer key with control bytes", "{\"answers\":[{\"a\x01\x7f\xac\"", 14,
		     "unknown field \"a???\" in an answer");
	expect_error("brace only", "{", 2, "expected a field name in quotes, found end of line");
	expect_error("empty object", "{}", 2, "missing field \"v\"");
	expect_error("object without type", "{\"v\":1}", 7, "missing field \"type\"");
	expect_error("two objects", "{}{}", 3, "unexpected data after the JSON object");
	/* the decoder sees lines: only the replay source knows a line is the first */
	expect_error("BOM", "\xef\xbb\xbf{}", 1, "expected a JSON object '{', found a UTF-8 byte order mark");
	expect_error("NDJSON array", "[{\"v\":1}]", 1, "found an array");
}

static void test_deep_nesting(void **state)
{
	size_t depth = 200000, n;
	char *line = malloc(2 * depth + 64);

	/* [[[[... at the top */
	memset(line, '[', depth);
	memset(line + depth, ']', depth);
	expect_error_n("top-level arrays", line, 2 * depth, 1, "expected a JSON object '{', found an array");

	/* {"v":[[[[...]]]]} */
	n = (size_t)sprintf(line, "{\"v\":");
	memset(line + n, '[', depth);
	memset(line + n + depth, ']', depth);
	line[n + 2 * depth] = '}';
	expect_error_n("arrays in v", line, n + 2 * depth + 1, 6,
		       "field \"v\": expected an unsigned integer, found an array");

	/* {"a":{"a":{"a":... */
	n = 0;
	for (size_t i = 0; i < 20000; i++)
		n += (size_t)sprintf(line + n, "{\"a\":");
	memset(line + n, '}', 20000);
	expect_error_n("nested objects", line, n + 20000, 2, "unknown field \"a\"");

	/* {"node":{"b":{"b":... */
	n = (size_t)sprintf(line, "{\"v\":1,\"node\":");
	for (size_t i = 0; i < 20000; i++)
		n += (size_t)sprintf(line + n, "{\"b\":");
	expect_error_n("objects in node", line, n, 15, "field \"node\": expected a string, found an object");
	free(line);

	/* "argv":[[[[...]]]] in an exec line */
	char *deep = malloc(2 * depth + 3);

	deep[0] = '[';
	memset(deep + 1, '[', depth);
	memset(deep + 1 + depth, ']', depth);
	deep[2 * depth + 1] = ']';
	deep[2 * depth + 2] = 0;
	line = subst(base_lines[PG_EV_EXEC], "[\"curl\",\"-s\",\"https://example.com/\"]", deep);
	expect_error("arrays in argv", line, col_of(line, "[[") + 1, "field \"argv\": expected a string, found an array");
	free(line);
	free(deep);
}

/* Every proper prefix of a valid line is an error, pointing no further than its end + 1. */
static void test_truncated_lines(void **state)
{
	unsigned int n = 0;

	for (unsigned int t = 1; t < PG_EV_TYPE_COUNT; t++) {
		const char *line = base_lines[t];
		size_t len = strlen(line);
		struct pg_event ev;
		struct pg_json_error err;

		assert_int_equal(pg_json_decode(&g_dec, line, len, &ev, &err), 0);
		for (size_t cut = 0; cut < len; cut++) {
			/* a copy of exactly cut bytes, so ASan sees any read past the end */
			char *p = malloc(cut ? cut : 1);

			memcpy(p, line, cut);
			if (pg_json_decode(&g_dec, p, cut, &ev, &err) != -EINVAL)
				fail_msg("%s line cut at %zu decoded", pg_event_type_name(t), cut);
			if (err.column < 1 || err.column > cut + 1)
				fail_msg("%s line cut at %zu: column %zu: %s", pg_event_type_name(t), cut,
					 err.column, err.msg);
			free(p);
			n++;
		}
	}
	/* specific cuts and their messages */
	const char *open = base_lines[PG_EV_OPEN];
	size_t at = (size_t)(strstr(open, "/etc/hosts") - open);

	expect_error_n("cut in a string", open, at + 4, at, "field \"path\": unterminated string");
	at = (size_t)(strstr(open, "\"pid\":") - open) + 6;
	expect_error_n("cut after ':'", open, at, at + 1, "field \"pid\": expected an unsigned integer, found end of line");
	expect_error_n("cut before '}'", open, strlen(open) - 1, strlen(open),
		       "expected ',' or '}' after field \"path\", found end of line");
	at = (size_t)(strstr(open, "\"time\"") - open) + 3;
	expect_error_n("cut in a key", open, at, at - 2, "unterminated field name");
	expect_error("cut in an escape", "{\"v\":1,\"comm\":\"a\\", 17, "field \"comm\": unterminated escape");
	expect_error("cut in \\u", "{\"v\":1,\"comm\":\"a\\u00", 19, "field \"comm\": truncated \\u escape");
	expect_error("cut in a surrogate pair", "{\"v\":1,\"comm\":\"a\\ud83d\\ude0", 17,
		       "field \"comm\": high surrogate \\ud83d without its low half");
	expect_error("cut in true", "{\"v\":1,\"core_dumped\":tr", 22,
		       "field \"core_dumped\": expected true or false, found an invalid literal");
	assert_true(n > 1000);
}

/* Lines near and at the limits of every string and of argv. */
static void test_limits(void **state)
{
	char big[2048], *line, *val;
	struct pg_event ev;
	struct pg_json_error err;

	/* path: 255 bytes is the most */
	memset(big, 'p', 255);
	big[255] = 0;
	line = subst(base_lines[PG_EV_OPEN], "/etc/hosts", big);
	assert_int_equal(pg_json_decode(&g_dec, line, strlen(line), &ev, &err), 0);
	assert_int_equal(strlen(ev.r.open.path), 255);
	free(line);
	strcat(big, "p");
	line = subst(base_lines[PG_EV_OPEN], "/etc/hosts", big);
	expect_error("path 256", line, col_of(line, "\"pppp"), "field \"path\": string longer than 255 bytes");
	free(line);
	/* 255 bytes written as escapes still fit: the limit is on the decoded bytes */
	big[0] = 0;
	for (int i = 0; i < 255; i++)
		strcat(big, "\\udcff");
	line = subst(base_lines[PG_EV_OPEN], "/etc/hosts", big);
	assert_int_equal(pg_json_decode(&g_dec, line, strlen(line), &ev, &err), 0);
	assert_int_equal(strlen(ev.r.open.path), 255);
	free(line);

	/* comm: 15 */
	line = subst(base_lines[PG_EV_OPEN], "\"curl\"", "\"0123456789abcde\"");
	assert_int_equal(pg_json_decode(&g_dec, line, strlen(line), &ev, &err), 0);
	free(line);
	line = subst(base_lines[PG_EV_OPEN], "\"curl\"", "\"é234567890123é\"");
	expect_error("comm 16 bytes, 14 characters", line, col_of(line, "\"é"), "field \"comm\": string longer than 15 bytes");
	free(line);

	/* qname 255, node 255, cgroup 1023 */
	memset(big, 'q', 256);
	big[256] = 0;
	line = subst(base_lines[PG_EV_DNS], "example.com", big);
	expect_error("qname 256", line, col_of(line, "\"qqq"), "field \"qname\": string longer than 255 bytes");
	free(line);
	memset(big, 'c', 1024);
	big[1024] = 0;
	val = malloc(2200);
	snprintf(val, 2200, "\"start_ns\":77,\"cgroup\":\"%s\"", big);
	line = subst(base_lines[PG_EV_OPEN], "\"start_ns\":77", val);
	expect_error("cgroup 1024", line, col_of(line, "\"ccc"), "field \"cgroup\": string longer than 1023 bytes");
	free(line);
	big[1023] = 0;
	snprintf(val, 2200, "\"start_ns\":77,\"cgroup\":\"%s\"", big);
	line = subst(base_lines[PG_EV_OPEN], "\"start_ns\":77", val);
	assert_int_equal(pg_json_decode(&g_dec, line, strlen(line), &ev, &err), 0);
	assert_int_equal(strlen(ev.meta.cgroup), 1023);
	free(line);

	/* argv: 64 arguments, 1024 bytes with their NULs */
	strcpy(val, "[");
	for (int i = 0; i < 64; i++)
		strcat(val, i ? ",\"\"" : "\"\"");
	strcat(val, "]");
	line = subst(base_lines[PG_EV_EXEC], "[\"curl\",\"-s\",\"https://example.com/\"]", val);
	assert_int_equal(pg_json_decode(&g_dec, line, strlen(line), &ev, &err), 0);
	assert_int_equal(ev.r.exec.argc, 64);
	free(line);
	strcpy(val + strlen(val) - 1, ",\"x\"]");
	line = subst(base_lines[PG_EV_EXEC], "[\"curl\",\"-s\",\"https://example.com/\"]", val);
	expect_error("65 arguments", line, col_of(line, "\"x\"]"), "field \"argv\": more than 64 arguments");
	free(line);

	memset(big, 'a', 1023);
	big[1023] = 0;
	snprintf(val, 2200, "[\"%s\"]", big);
	line = subst(base_lines[PG_EV_EXEC], "[\"curl\",\"-s\",\"https://example.com/\"]", val);
	assert_int_equal(pg_json_decode(&g_dec, line, strlen(line), &ev, &err), 0);
	assert_int_equal(ev.r.exec.argv_len, 1024);
	free(line);
	snprintf(val, 2200, "[\"%s\",\"\"]", big);
	line = subst(base_lines[PG_EV_EXEC], "[\"curl\",\"-s\",\"https://example.com/\"]", val);
	expect_error("1025 bytes", line, col_of(line, "\"\"]"), "field \"argv\": more than 1024 bytes in all");
	free(line);
	big[1023] = 'a';
	big[1024] = 0;
	snprintf(val, 2200, "[\"%s\"]", big);
	line = subst(base_lines[PG_EV_EXEC], "[\"curl\",\"-s\",\"https://example.com/\"]", val);
	expect_error("one argument of 1024", line, col_of(line, "\"aaa"), "field \"argv\": more than 1024 bytes in all");
	free(line);
	/* the rule, not what was left of it: an argument that does not fit the 10 bytes left */
	big[1013] = 0;
	snprintf(val, 2200, "[\"%s\",\"0123456789ab\"]", big);
	line = subst(base_lines[PG_EV_EXEC], "[\"curl\",\"-s\",\"https://example.com/\"]", val);
	expect_error("1014 + 13 bytes", line, col_of(line, "\"0123"),
		     "field \"argv\": more than 1024 bytes in all (each argument's bytes and a NUL)");
	free(line);
	free(val);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_property),
		cmocka_unit_test(test_canonical_lines),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_decode_other_escapes),
		cmocka_unit_test(test_noncanonical_input),
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_truncated_lines),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
