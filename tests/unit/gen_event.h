/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pseudo-random events for property tests: every type, every field, strings with the bytes
 * that break encoders (quotes, backslashes, control characters, multi-byte UTF-8, bytes that
 * are not UTF-8, empty and maximum-length strings) and argv at its caps.
 *
 * The generator produces only records the decoder could have produced (canonical records):
 * strings NUL-terminated and NUL-free, flags limited to the bits the NDJSON form carries,
 * IPv4 addresses in the first 4 bytes of daddr. Deterministic for a seed.
 */
#ifndef PANGOLIN_TEST_GEN_EVENT_H
#define PANGOLIN_TEST_GEN_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include "dns.h"
#include "event.h"
#include "pod.h"

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	/* xorshift64*: small, fast, good enough to pick test cases */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

/* 0 .. n-1 (n > 0) */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static inline bool rng_chance(struct rng *r, unsigned int percent)
{
	return rng_below(r, 100) < percent;
}

/* Integers that exercise the edges: 0, 1, the maximum, powers of two, anything. */
static inline uint64_t gen_u(struct rng *r, unsigned int bits)
{
	uint64_t max = bits == 64 ? ~0ULL : (1ULL << bits) - 1, v;

	switch (rng_below(r, 6)) {
	case 0: v = 0; break;
	case 1: v = max; break;
	case 2: v = 1ULL << rng_below(r, bits); break;
	case 3: v = rng_below(r, 1000); break;
	default: v = rng_next(r); break;
	}
	return v & max;
}

static inline int32_t gen_s32(struct rng *r)
{
	switch (rng_below(r, 6)) {
	case 0: return INT32_MIN;
	case 1: return INT32_MAX;
	case 2: return -(int32_t)rng_below(r, 200); /* -errno */
	case 3: return -100; /* AT_FDCWD */
	default: return (int32_t)(uint32_t)rng_next(r);
	}
}

/* Pieces strings are built from: each is a byte sequence, some valid UTF-8, some not. */
static const char *const gen_pieces[] = {
	"a", "Z", "0", "/", ".", " ", "-", "_", "~", "\"", "\\", "\\\\", "\"\"", "\n", "\t", "\r",
	"\b", "\f", "\x01", "\x1f", "\x7f", "é", "€", "😀", "日本", "\xc3\xa9", /* é again */
	"\x80", "\xff", "\xfe", "\xc0\xaf", /* overlong '/' */ "\xe2\x82", /* cut € */
	"\xed\xa0\x80", /* UTF-16 surrogate in UTF-8 */ "\xf4\x90\x80\x80", /* > U+10FFFF */
	"\xf0\x9f\x98", /* cut emoji */ "\xc3", "\xa9", "\\udc80", "\\u0000", "u00", "/etc/",
	"%s", "'", "`", "$(x)", "\xef\xbb\xbf", /* BOM */ "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80",
	"\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
};

/*
 * A string of at most max bytes (no NUL) into dst (max + 1 bytes). Returns its length.
 * Styles: empty, ASCII, random bytes, pieces, and exactly max bytes.
 */
static inline size_t gen_str(struct rng *r, char *dst, size_t max)
{
	size_t n = 0, target;
	unsigned int style = (unsigned int)rng_below(r, 6);

	if (style == 0 || max == 0) {
		dst[0] = 0;
		return 0;
	}
	target = style == 5 ? max : 1 + rng_below(r, max);
	while (n < target) {
		if (style == 1) {
			dst[n++] = (char)(0x20 + rng_below(r, 0x5f));
		} else if (style == 2) {
			dst[n++] = (char)(1 + rng_below(r, 255));
		} else {
			const char *p = gen_pieces[rng_below(r, sizeof(gen_pieces) / sizeof(gen_pieces[0]))];
			size_t l = strlen(p);

			if (n + l > target) {
				if (style == 5) { /* fill to exactly max */
					dst[n++] = 'x';
					continue;
				}
				break;
			}
			memcpy(dst + n, p, l);
			n += l;
		}
	}
	dst[n] = 0;
	return n;
}

/* argv: up to PG_ARGV_MAX arguments in PG_ARGV_LEN bytes, including at exactly the caps. */
static inline void gen_argv(struct rng *r, struct pg_exec_event *e)
{
	size_t used = 0;
	unsigned int argc = 0, want;
	char tmp[PG_ARGV_LEN];

	switch (rng_below(r, 5)) {
	case 0: /* 64 arguments of 15 bytes: both caps at once (64 * 16 = 1024) */
		for (argc = 0; argc < PG_ARGV_MAX; argc++) {
			memset(e->argv + used, 'a' + (int)(argc % 26), 15);
			used += 16;
		}
		break;
	case 1: /* one argument of 1023 bytes */
		used = gen_str(r, tmp, PG_ARGV_LEN - 1);
		memcpy(e->argv, tmp, used);
		if (used < PG_ARGV_LEN - 1) {
			memset(e->argv + used, 'q', PG_ARGV_LEN - 1 - used);
			used = PG_ARGV_LEN - 1;
		}
		used++;
		argc = 1;
		break;
	case 2: /* 64 empty arguments */
		argc = PG_ARGV_MAX;
		used = PG_ARGV_MAX;
		break;
	default:
		want = (unsigned int)rng_below(r, PG_ARGV_MAX + 1);
		while (argc < want && used < PG_ARGV_LEN) {
			size_t room = PG_ARGV_LEN - used - 1, n;

			n = gen_str(r, tmp, room < 40 ? room : 40);
			memcpy(e->argv + used, tmp, n);
			used += n + 1;
			argc++;
		}
		break;
	}
	e->argc = (unsigned short)argc;
	e->argv_len = (unsigned short)used;
}

static inline void gen_addr(struct rng *r, unsigned short *family, unsigned char *daddr)
{
	switch (rng_below(r, 5)) {
	case 0:
	case 1:
		*family = AF_INET;
		for (int i = 0; i < 4; i++)
			daddr[i] = (unsigned char)rng_next(r);
		break;
	case 2:
	case 3:
		*family = AF_INET6;
		for (int i = 0; i < 16; i++)
			daddr[i] = rng_chance(r, 50) ? 0 : (unsigned char)rng_next(r);
		break;
	default:
		/* some other family: carried as a number, address "" */
		*family = (unsigned short)(rng_chance(r, 50) ? 0 : rng_next(r));
		if (*family == AF_INET || *family == AF_INET6)
			*family = 1;
		break;
	}
}

/*
 * A canonical packet event: groups all there or all absent (IP fields, DNS fields, the
 * question), tcp_flags only on TCP, answer data an address for A/AAAA, a "short" DNS error
 * with no other DNS field.
 */
static inline void gen_packet(struct rng *r, struct pg_packet_event *p)
{
	p->ifindex = (uint32_t)gen_u(r, 32);
	gen_str(r, p->ifname, sizeof(p->ifname) - 1);
	p->direction = (uint8_t)rng_below(r, 3);
	p->wire_len = (uint32_t)gen_u(r, 32);
	p->caplen = (uint32_t)gen_u(r, 32);
	p->ethertype = (uint16_t)gen_u(r, 16);
	if (rng_chance(r, 30)) {
		p->flags |= PG_PKT_F_VLAN;
		p->vlan = (uint16_t)gen_u(r, 12);
	}
	if (rng_chance(r, 70)) {
		p->family = rng_chance(r, 50) ? AF_INET : AF_INET6;
		for (int i = 0; i < (p->family == AF_INET ? 4 : 16); i++) {
			p->saddr[i] = (uint8_t)rng_next(r);
			p->daddr[i] = rng_chance(r, 50) ? 0 : (uint8_t)rng_next(r);
		}
		p->ip_proto = (uint8_t)(rng_chance(r, 60) ? (rng_chance(r, 50) ? 6 : 17) : gen_u(r, 8));
		p->sport = (uint16_t)gen_u(r, 16);
		p->dport = (uint16_t)gen_u(r, 16);
		if (p->ip_proto == 6)
			p->tcp_flags = (uint8_t)gen_u(r, 8);
	}
	if (rng_chance(r, 20))
		p->flags |= PG_PKT_F_FRAGMENT;
	if (rng_chance(r, 20))
		p->flags |= PG_PKT_F_L4_TRUNC;
	if (!rng_chance(r, 60))
		return;
	p->flags |= PG_PKT_F_DNS;
	if (rng_chance(r, 10)) {
		p->flags |= PG_PKT_F_DNS_ERROR;
		p->dns_error = PG_DNS_E_SHORT;
		return;
	}
	p->dns_id = (uint16_t)gen_u(r, 16);
	p->dns_qr = rng_chance(r, 50);
	p->dns_rcode = (uint8_t)rng_below(r, 16);
	if (rng_chance(r, 70)) {
		p->flags |= PG_PKT_F_DNS_QUESTION;
		gen_str(r, p->qname, PG_QNAME_LEN - 1);
		p->qtype = (uint16_t)(rng_chance(r, 50) ? gen_u(r, 16) : (uint64_t)(rng_chance(r, 50) ? 1 : 28));
		p->qclass = (uint16_t)gen_u(r, 16);
	}
	p->nanswers = (uint16_t)rng_below(r, PG_PKT_DNS_ANSWERS + 1);
	for (unsigned int i = 0; i < p->nanswers; i++) {
		struct pg_dns_answer *a = &p->answers[i];
		static const uint16_t types[] = { 1, 28, 5, 16 };

		gen_str(r, a->name, PG_QNAME_LEN - 1);
		a->type = rng_chance(r, 70) ? types[rng_below(r, 4)] : (uint16_t)gen_u(r, 16);
		a->rclass = rng_chance(r, 70) ? 1 : (uint16_t)gen_u(r, 16);
		a->ttl = (uint32_t)gen_u(r, 32);
		if (a->type == 1 || a->type == 28) {
			for (int k = 0; k < (a->type == 1 ? 4 : 16); k++)
				a->addr[k] = rng_chance(r, 40) ? 0 : (uint8_t)rng_next(r);
			inet_ntop(a->type == 1 ? AF_INET : AF_INET6, a->addr, a->data, sizeof(a->data));
		} else {
			gen_str(r, a->data, PG_QNAME_LEN - 1);
		}
		if (rng_chance(r, 10))
			a->flags |= PG_DNS_ANS_DATA_TRUNC;
	}
	if (rng_chance(r, 10))
		p->flags |= PG_PKT_F_DNS_ANS_TRUNC;
	if (rng_chance(r, 15)) {
		p->flags |= PG_PKT_F_DNS_ERROR;
		p->dns_error = (uint8_t)(PG_DNS_E_TRUNCATED + rng_below(r, PG_DNS_E_COUNT - PG_DNS_E_TRUNCATED));
	}
}

/*
 * Storage for the metadata strings an event points at; one per generated event.
 */
struct gen_meta {
	char node[256], cgroup[1024], container_id[256], pod_uid[256];
	char exe[PG_PATH_LEN], cmdline[PG_CMDLINE_LEN], parent_exe[PG_PATH_LEN];
	char parent_cmdline[PG_CMDLINE_LEN], ancestors[PG_PROC_ANCESTORS][PG_PATH_LEN];
	char pod_namespace[PG_POD_NAME_MAX + 1], pod_name[PG_POD_NAME_MAX + 1];
	char workload_kind[PG_POD_KIND_MAX + 1], workload[PG_POD_NAME_MAX + 1];
	char label_bytes[PG_POD_LABELS_BYTES];
	struct pg_label labels[PG_POD_LABELS_MAX];
	struct pg_pod_meta pod;
	char policy[129], rule[129];
};

/* printable ASCII of at most max bytes (alert text must be UTF-8; pieces are covered above) */
static inline size_t gen_text(struct rng *r, char *dst, size_t max)
{
	size_t n = max ? (rng_chance(r, 20) ? max : rng_below(r, max + 1)) : 0;

	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(0x20 + rng_below(r, 0x5f));
	dst[n] = 0;
	return n;
}

/* Packed NUL-terminated strings into buf (cap bytes): at most maxn, each < each bytes. */
static inline unsigned int gen_packed(struct rng *r, char *buf, size_t cap, unsigned int maxn,
				      size_t each, unsigned int pairs, uint16_t *len)
{
	size_t used = 0;
	unsigned int n = (unsigned int)rng_below(r, maxn + 1), k;

	for (k = 0; k < n; k++) {
		size_t need = pairs ? 2 : 1, room = cap - used;

		if (room < need * 2)
			break;
		for (unsigned int j = 0; j < need; j++) {
			size_t max = (room - (need - j)) / (need - j) - 1;

			if (max > each - 1)
				max = each - 1;
			/* group values are bytes: any string; names, tags are text */
			used += (j == 1 ? gen_str(r, buf + used, max) : gen_text(r, buf + used, max)) + 1;
			room = cap - used;
		}
	}
	*len = (uint16_t)used;
	return k;
}

/* A path-like string: mostly text, sometimes any bytes (so jansson can check most events). */
static inline void gen_pathish(struct rng *r, char *dst, size_t max)
{
	if (rng_chance(r, 8))
		gen_str(r, dst, max);
	else
		gen_text(r, dst, rng_chance(r, 10) ? max : (max < 60 ? max : 60));
}

/* The process table's fields, each present or not; strings at their caps too. */
static inline void gen_proc(struct rng *r, struct pg_event_proc *p, struct gen_meta *m)
{
	if (rng_chance(r, 30)) {
		gen_pathish(r, m->exe, sizeof(m->exe) - 1);
		p->exe = m->exe;
	}
	if (rng_chance(r, 30)) {
		gen_pathish(r, m->cmdline, sizeof(m->cmdline) - 1);
		p->cmdline = m->cmdline;
	}
	if (rng_chance(r, 30)) {
		gen_pathish(r, m->parent_exe, sizeof(m->parent_exe) - 1);
		p->parent_exe = m->parent_exe;
	}
	if (rng_chance(r, 30)) {
		gen_pathish(r, m->parent_cmdline, sizeof(m->parent_cmdline) - 1);
		p->parent_cmdline = m->parent_cmdline;
	}
	if (rng_chance(r, 30)) {
		p->nancestors = 1 + (unsigned int)rng_below(r, PG_PROC_ANCESTORS);
		for (unsigned int i = 0; i < p->nancestors; i++) {
			gen_pathish(r, m->ancestors[i], sizeof(m->ancestors[i]) - 1);
			p->ancestors[i] = m->ancestors[i];
		}
	}
}

/* A non-empty printable string of at most max bytes (pod names: "" is not a name). */
static inline void gen_name(struct rng *r, char *dst, size_t max)
{
	if (!gen_text(r, dst, max)) {
		dst[0] = 'n';
		dst[1] = 0;
	}
}

/*
 * The pod fields, or none: what pg_pod_meta__pack makes of an API server's pod. Names and
 * labels are text (protobuf carries them as UTF-8 strings), names sometimes at their caps;
 * label keys unique and sorted (a "kNN-" prefix), keys and values within PG_POD_LABELS_BYTES.
 */
static inline void gen_pod(struct rng *r, struct pg_event_meta *meta, struct gen_meta *m)
{
	struct pg_pod_meta *p = &m->pod;
	unsigned int n;
	size_t used = 0;

	if (!rng_chance(r, 30))
		return;
	memset(p, 0, sizeof(*p));
	gen_name(r, m->pod_namespace, PG_POD_NAME_MAX);
	gen_name(r, m->pod_name, PG_POD_NAME_MAX);
	p->namespace = m->pod_namespace;
	p->name = m->pod_name;
	if (rng_chance(r, 50)) {
		gen_name(r, m->workload_kind, PG_POD_KIND_MAX);
		gen_name(r, m->workload, PG_POD_NAME_MAX);
		p->workload_kind = m->workload_kind;
		p->workload = m->workload;
	}
	n = (unsigned int)rng_below(r, PG_POD_LABELS_MAX + 1);
	for (unsigned int i = 0; i < n; i++) {
		char *key = m->label_bytes + used, *value;
		size_t kl;

		if (used + 6 + 63 + 1 + 63 + 1 > sizeof(m->label_bytes))
			break;
		kl = (size_t)snprintf(key, 6, "k%02u-", i);
		kl += gen_text(r, key + kl, 63 - kl);
		used += kl + 1;
		value = m->label_bytes + used;
		used += gen_text(r, value, 63) + 1;
		m->labels[i].key = key;
		m->labels[i].value = value;
		p->nlabels++;
	}
	p->labels = p->nlabels ? m->labels : NULL;
	p->labels_truncated = rng_chance(r, 20);
	meta->pod = p;
}

static inline void gen_alert(struct rng *r, struct pg_alert_event *a)
{
	static const uint16_t types[] = { PG_EV_EXEC, PG_EV_FORK,    PG_EV_EXIT,  PG_EV_OPEN,
					  PG_EV_CONNECT, PG_EV_DNS, PG_EV_SETID, PG_EV_PTRACE };

	gen_text(r, a->rule_id, 1 + rng_below(r, sizeof(a->rule_id) - 2));
	if (!a->rule_id[0])
		a->rule_id[0] = 'r';
	gen_text(r, a->title, sizeof(a->title) - 1);
	a->level = (uint8_t)rng_below(r, PG_LEVEL_COUNT);
	a->ntags = (uint8_t)gen_packed(r, a->tags, sizeof(a->tags), PG_ALERT_TAGS_MAX, 64, 0,
				       &a->tags_len);
	a->nevents = (uint8_t)rng_below(r, PG_ALERT_EVENTS_MAX + 1);
	for (unsigned int i = 0; i < a->nevents; i++) {
		a->events[i].type = types[rng_below(r, 8)];
		a->events[i].ts_ns = gen_u(r, 64);
		a->events[i].pid = (uint32_t)gen_u(r, 32);
		a->events[i].start_ns = gen_u(r, 64);
	}
	a->count = a->nevents + (uint32_t)gen_u(r, 31);
	if (!a->count)
		a->count = 1;
	a->ngroup = (uint8_t)gen_packed(r, a->group, sizeof(a->group), PG_ALERT_GROUP_MAX, 128, 1,
					&a->group_len);
}

/* A policy or rule name: 1-128 bytes of the characters policy files allow. */
static inline void gen_policy_name(struct rng *r, char *dst)
{
	static const char ok[] = "abcxyzABCXYZ0189-_:/";
	size_t n = rng_chance(r, 10) ? 128 : 1 + rng_below(r, 20);

	for (size_t i = 0; i < n; i++)
		dst[i] = ok[rng_below(r, sizeof(ok) - 1)];
	dst[n] = 0;
}

/* A random canonical event of the given type (0: any type). */
static inline void gen_event(struct rng *r, struct pg_event *ev, unsigned int type,
			     struct gen_meta *m)
{
	struct pg_event_hdr *h;

	if (!type)
		type = 1 + (unsigned int)rng_below(r, PG_EV_TYPE_COUNT - 1);
	pg_event_init(ev, type);
	h = &ev->r.hdr;
	h->ts_ns = gen_u(r, 64);
	h->start_ns = gen_u(r, 64);
	h->cgroup_id = gen_u(r, 64);
	h->pid = (uint32_t)gen_u(r, 32);
	h->tid = (uint32_t)gen_u(r, 32);
	h->ppid = (uint32_t)gen_u(r, 32);
	h->uid = (uint32_t)gen_u(r, 32);
	h->gid = (uint32_t)gen_u(r, 32);
	gen_str(r, h->comm, PG_COMM_LEN - 1);
	if (rng_chance(r, 30)) {
		gen_str(r, m->node, sizeof(m->node) - 1);
		ev->meta.node = m->node;
	}
	if (rng_chance(r, 30)) {
		gen_str(r, m->cgroup, sizeof(m->cgroup) - 1);
		ev->meta.cgroup = m->cgroup;
	}
	if (rng_chance(r, 30)) {
		gen_str(r, m->container_id, sizeof(m->container_id) - 1);
		ev->meta.container_id = m->container_id;
	}
	if (rng_chance(r, 30)) {
		gen_str(r, m->pod_uid, sizeof(m->pod_uid) - 1);
		ev->meta.pod_uid = m->pod_uid;
	}
	gen_pod(r, &ev->meta, m);
	gen_proc(r, &ev->meta.proc, m);
	if (rng_chance(r, 20)) {
		ev->meta.action = pg_action_name(1 + (unsigned int)rng_below(r, PG_ACT_COUNT - 1));
		gen_policy_name(r, m->policy);
		gen_policy_name(r, m->rule);
		ev->meta.policy = m->policy;
		ev->meta.rule = m->rule;
	}

	switch (type) {
	case PG_EV_EXEC: {
		struct pg_exec_event *e = &ev->r.exec;

		gen_str(r, e->path, PG_PATH_LEN - 1);
		gen_argv(r, e);
		e->flags = ((uint32_t)rng_below(r, 4) & (PG_TRUNC_PATH | PG_TRUNC_ARGV)) |
			   (rng_chance(r, 20) ? PG_SNAPSHOT : 0) | (rng_chance(r, 20) ? PG_EXE_UNLINKED : 0);
		break;
	}
	case PG_EV_FORK:
		ev->r.fork.child_pid = (uint32_t)gen_u(r, 32);
		ev->r.fork.child_start_ns = gen_u(r, 64);
		break;
	case PG_EV_EXIT:
		ev->r.exit.exit_code = gen_s32(r);
		ev->r.exit.signal = (uint32_t)gen_u(r, 32);
		ev->r.exit.lifetime_ns = gen_u(r, 64);
		ev->r.exit.core_dumped = rng_chance(r, 20);
		break;
	case PG_EV_OPEN: {
		struct pg_open_event *o = &ev->r.open;

		o->dirfd = gen_s32(r);
		o->flags = (uint32_t)gen_u(r, 32);
		o->mode = (uint32_t)gen_u(r, 32);
		o->ret = gen_s32(r);
		gen_str(r, o->path, PG_PATH_LEN - 1);
		o->pflags = (rng_chance(r, 20) ? PG_TRUNC_PATH : 0) |
			    (rng_chance(r, 20) ? PG_VIA_IO_URING : 0);
		break;
	}
	case PG_EV_CONNECT: {
		struct pg_connect_event *c = &ev->r.connect;

		gen_addr(r, &c->family, c->daddr);
		c->dport = (uint16_t)gen_u(r, 16);
		c->fd = gen_s32(r);
		c->ret = gen_s32(r);
		c->flags = rng_chance(r, 20) ? PG_VIA_IO_URING : 0;
		break;
	}
	case PG_EV_DNS: {
		struct pg_dns_event *d = &ev->r.dns;

		gen_addr(r, &d->family, d->daddr);
		d->dport = (uint16_t)gen_u(r, 16);
		if (rng_chance(r, 30))
			d->flags |= PG_DNS_F_TCP;
		if (rng_chance(r, 20))
			d->flags |= PG_VIA_IO_URING;
		if (rng_chance(r, 85)) {
			d->flags |= PG_DNS_F_PARSED;
			d->id = (uint16_t)gen_u(r, 16);
			d->qtype = (uint16_t)(rng_chance(r, 50) ? gen_u(r, 16)
								 : (uint64_t)(rng_chance(r, 50) ? 1 : 28));
			d->qclass = (uint16_t)gen_u(r, 16);
			gen_str(r, d->qname, PG_QNAME_LEN - 1);
		}
		break;
	}
	case PG_EV_SETID: {
		struct pg_setid_event *s = &ev->r.setid;

		s->call = 1 + (uint32_t)rng_below(r, 8);
		s->ret = gen_s32(r);
		s->id_real = (uint32_t)gen_u(r, 32);
		s->id_effective = (uint32_t)gen_u(r, 32);
		s->id_saved = (uint32_t)gen_u(r, 32);
		break;
	}
	case PG_EV_PACKET:
		gen_packet(r, &ev->r.packet);
		break;
	case PG_EV_PTRACE: {
		static const uint32_t reqs[] = { 0, 4, 5, 6, 13, 15, 16, 0x4205, 0x4206 };
		struct pg_ptrace_event *p = &ev->r.ptrace;

		/* the reported requests, sometimes another number (a newer sensor's) */
		p->request = rng_chance(r, 80) ? reqs[rng_below(r, 9)] : (uint32_t)gen_u(r, 32);
		p->ret = gen_s32(r);
		p->target_pid = (uint32_t)gen_u(r, 32);
		p->addr = gen_u(r, 64);
		break;
	}
	case PG_EV_ALERT:
		gen_alert(r, &ev->r.alert);
		break;
	}
}

static inline bool meta_str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Records equal byte for byte, metadata strings and pod fields equal. */
static inline bool events_equal(const struct pg_event *a, const struct pg_event *b)
{
	if (a->r.hdr.type != b->r.hdr.type || a->r.hdr.size != b->r.hdr.size)
		return false;
	if (memcmp(&a->r, &b->r, pg_event_record_size(a->r.hdr.type)))
		return false;
	if (a->meta.proc.nancestors != b->meta.proc.nancestors)
		return false;
	for (unsigned int i = 0; i < a->meta.proc.nancestors; i++)
		if (strcmp(a->meta.proc.ancestors[i], b->meta.proc.ancestors[i]))
			return false;
	if (!pg_pod_meta__equal(a->meta.pod, b->meta.pod))
		return false;
	return meta_str_equal(a->meta.node, b->meta.node) &&
	       meta_str_equal(a->meta.cgroup, b->meta.cgroup) &&
	       meta_str_equal(a->meta.container_id, b->meta.container_id) &&
	       meta_str_equal(a->meta.pod_uid, b->meta.pod_uid) &&
	       meta_str_equal(a->meta.proc.exe, b->meta.proc.exe) &&
	       meta_str_equal(a->meta.proc.cmdline, b->meta.proc.cmdline) &&
	       meta_str_equal(a->meta.proc.parent_exe, b->meta.proc.parent_exe) &&
	       meta_str_equal(a->meta.proc.parent_cmdline, b->meta.proc.parent_cmdline) &&
	       meta_str_equal(a->meta.action, b->meta.action) &&
	       meta_str_equal(a->meta.policy, b->meta.policy) &&
	       meta_str_equal(a->meta.rule, b->meta.rule);
}

#endif /* PANGOLIN_TEST_GEN_EVENT_H */
