// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel ring buffer records to events. The ring is the kernel's, but a reader still checks
 * every record it takes: a wrong size would read past the record, and a sensor of another
 * build could share the ring's layout only in part. Pure code, no BPF: unit-tested and fuzzed
 * (fuzz/fuzz_record.c).
 */
#include <stddef.h>
#include <string.h>

#include "dns.h"
#include "event.h"

size_t pg_event_record_accept(const struct pg_event_hdr *h, size_t avail)
{
	size_t full, min;

	if (avail < sizeof(*h) || (full = pg_event_record_size(h->type)) == 0)
		return 0;
	if (h->type == PG_EV_ALERT) /* made in userspace only: a ring record claiming it is bad */
		return 0;
	switch (h->type) {
	case PG_EV_OPEN:
		min = offsetof(struct pg_open_event, path) + 1; /* at least the NUL */
		break;
	case PG_EV_EXEC:
		min = offsetof(struct pg_exec_event, argv);
		break;
	default:
		min = full;
	}
	if (h->size < min || h->size > full || h->size > avail)
		return 0;
	return h->size;
}

/* Userspace half of an exec record: count arguments, enforce the argument cap. */
static void fix_exec(struct pg_exec_event *e)
{
	unsigned int len = e->argv_len < PG_ARGV_LEN ? e->argv_len : PG_ARGV_LEN, argc = 0, i;

	for (i = 0; i < len && argc < PG_ARGV_MAX; i++)
		if (e->argv[i] == 0)
			argc++;
	if (i < len) {
		/* more arguments than PG_ARGV_MAX: keep the first ones */
		e->flags |= PG_TRUNC_ARGV;
		len = i;
	} else if (len && e->argv[len - 1] != 0) {
		/* cut inside an argument: keep the partial one, terminated */
		if (len == PG_ARGV_LEN)
			len--;
		e->argv[len++] = 0;
		argc++;
		e->flags |= PG_TRUNC_ARGV;
	}
	e->argv_len = (unsigned short)len;
	e->argc = (unsigned short)argc;
}

/*
 * The message of a DNS record: after the 2-byte length of DNS over a stream, unless the length
 * went in a send of its own (PG_DNS_F_BARE). n is 0 when there is no message at all.
 */
static const uint8_t *dns_message(const struct pg_dns_event *e, size_t *n)
{
	const uint8_t *p = e->payload;

	*n = e->payload_len < PG_DNS_PAYLOAD_LEN ? e->payload_len : PG_DNS_PAYLOAD_LEN;
	if ((e->flags & PG_DNS_F_TCP) && !(e->flags & PG_DNS_F_BARE)) {
		if (*n < 2) {
			*n = 0;
			return p;
		}
		p += 2;
		*n -= 2;
	}
	return p;
}

enum pg_dns_unparsed pg_dns_record_parse(const struct pg_dns_event *e, struct pg_dns_msg *m)
{
	size_t n;
	const uint8_t *p = dns_message(e, &n);

	if (n == 0)
		return PG_DNS_UNPARSED_EMPTY;
	if (pg_dns_parse(p, n, m, NULL, 0)) {
		/* a message longer than what was copied parses as far as its question */
		if (!(e->flags & PG_DNS_F_CUT) || !m->has_question)
			return (enum pg_dns_unparsed)m->err;
	}
	if (m->qdcount == 0 || !m->has_question)
		return PG_DNS_UNPARSED_NO_QUESTION;
	return PG_DNS_UNPARSED_NONE;
}

const char *pg_dns_unparsed_name(enum pg_dns_unparsed why)
{
	if (why == PG_DNS_UNPARSED_EMPTY)
		return "empty";
	if (why == PG_DNS_UNPARSED_NO_QUESTION)
		return "no_question";
	return pg_dns_err_name((enum pg_dns_err)why);
}

/*
 * Userspace half of a DNS record: the kernel copied the message, here it is parsed. A message
 * that does not parse stays an event (it left the host) marked malformed; the source counts
 * why (pg_dns_record_parse).
 */
static void fix_dns(struct pg_dns_event *e)
{
	struct pg_dns_msg m;

	if (pg_dns_record_parse(e, &m) != PG_DNS_UNPARSED_NONE)
		return;
	e->id = m.id;
	e->qtype = m.qtype;
	e->qclass = m.qclass;
	memcpy(e->qname, m.qname, sizeof(e->qname));
	e->flags |= PG_DNS_F_PARSED;
}

int pg_event_from_record(struct pg_event *ev, const void *data, size_t size)
{
	const struct pg_event_hdr *h = data;
	size_t got = pg_event_record_accept(h, size), full;

	if (!got)
		return -1;
	full = pg_event_record_size(h->type);
	memcpy(&ev->r, data, got);
	memset((char *)&ev->r + got, 0, full - got); /* an open or exec record may end early */
	ev->r.hdr.size = (__u16)full;
	memset(&ev->meta, 0, sizeof(ev->meta));
	/* the kernel's strings always end in a NUL; make sure, so nothing reads past them */
	ev->r.hdr.comm[PG_COMM_LEN - 1] = 0;
	switch (h->type) {
	case PG_EV_OPEN:
		ev->r.open.path[PG_PATH_LEN - 1] = 0;
		break;
	case PG_EV_EXEC:
		ev->r.exec.path[PG_PATH_LEN - 1] = 0;
		fix_exec(&ev->r.exec);
		break;
	case PG_EV_DNS:
		fix_dns(&ev->r.dns);
		break;
	}
	return 0;
}
