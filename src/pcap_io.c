// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Capture files and tcpdump expressions through libpcap (pcap_io.h). */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_io.h"

struct pg_pcap_reader {
	pcap_t *p;
	char err[PCAP_ERRBUF_SIZE + 64];
	char name[256];
};

static struct pg_pcap_reader *reader_new(pcap_t *p, const char *name)
{
	struct pg_pcap_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		pcap_close(p);
		return NULL;
	}
	r->p = p;
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

struct pg_pcap_reader *pg_pcap_reader__open(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	struct pg_pcap_reader *r;

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		snprintf(err, errlen, "%s: %s", path, perr);
		return NULL;
	}
	r = reader_new(p, path);
	if (!r)
		snprintf(err, errlen, "out of memory");
	return r;
}

struct pg_pcap_reader *pg_pcap_reader__fopen(FILE *f, const char *name, char *err,
					     size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	struct pg_pcap_reader *r;

	p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		snprintf(err, errlen, "%s: %s", name, perr);
		fclose(f);
		return NULL;
	}
	r = reader_new(p, name);
	if (!r)
		snprintf(err, errlen, "out of memory");
	return r;
}

int pg_pcap_reader__next(struct pg_pcap_reader *r, struct pg_pcap_pkt *pkt)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(r->p, &h, &data);

	if (rc == 1) {
		/* nanosecond precision was asked for at open: tv_usec holds ns */
		pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
		pkt->caplen = h->caplen;
		pkt->len = h->len < h->caplen ? h->caplen : h->len;
		pkt->data = data;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(r->err, sizeof(r->err), "%s: %s", r->name, pcap_geterr(r->p));
	return -EINVAL;
}

const char *pg_pcap_reader__error(const struct pg_pcap_reader *r)
{
	return r->err;
}

int pg_pcap_reader__linktype(const struct pg_pcap_reader *r)
{
	return pcap_datalink(r->p);
}

uint32_t pg_pcap_reader__snaplen(const struct pg_pcap_reader *r)
{
	return (uint32_t)pcap_snapshot(r->p);
}

void pg_pcap_reader__free(struct pg_pcap_reader *r)
{
	if (!r)
		return;
	pcap_close(r->p);
	free(r);
}

struct pg_pcap_writer {
	pcap_t *dead;
	pcap_dumper_t *d;
	uint64_t count;
	char err[512];
	char name[256];
};

struct pg_pcap_writer *pg_pcap_writer__open(const char *path, int linktype, uint32_t snaplen,
					    char *err, size_t errlen)
{
	struct pg_pcap_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(w->name, sizeof(w->name), "%s", path);
	w->dead = pcap_open_dead_with_tstamp_precision(linktype, (int)snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (!w->dead) {
		snprintf(err, errlen, "out of memory");
		free(w);
		return NULL;
	}
	w->d = pcap_dump_open(w->dead, path);
	if (!w->d) {
		snprintf(err, errlen, "%s", pcap_geterr(w->dead));
		pcap_close(w->dead);
		free(w);
		return NULL;
	}
	return w;
}

int pg_pcap_writer__write(struct pg_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
			  uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h;
	FILE *f = pcap_dump_file(w->d);

	h.ts.tv_sec = (time_t)(ts_ns / 1000000000ULL);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000ULL); /* ns: the file is nanosecond pcap */
	h.caplen = caplen;
	h.len = len;
	pcap_dump((u_char *)w->d, &h, data);
	if (ferror(f)) {
		snprintf(w->err, sizeof(w->err), "%s: write failed: %s", w->name, strerror(errno));
		return -EIO;
	}
	w->count++;
	return 0;
}

int pg_pcap_writer__flush(struct pg_pcap_writer *w)
{
	if (pcap_dump_flush(w->d)) {
		snprintf(w->err, sizeof(w->err), "%s: write failed: %s", w->name, strerror(errno));
		return -EIO;
	}
	return 0;
}

const char *pg_pcap_writer__error(const struct pg_pcap_writer *w)
{
	return w->err;
}

uint64_t pg_pcap_writer__count(const struct pg_pcap_writer *w)
{
	return w->count;
}

int pg_pcap_writer__close(struct pg_pcap_writer *w)
{
	int rc;

	if (!w)
		return 0;
	rc = pg_pcap_writer__flush(w);
	pcap_dump_close(w->d);
	pcap_close(w->dead);
	free(w);
	return rc;
}

static int compile_on(pcap_t *p, const char *expr, struct pg_cbpf_prog *out, char *err,
		      size_t errlen)
{
	struct bpf_program bp;
	int rc;

	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		return -EINVAL;
	}
	/* struct bpf_insn and struct sock_filter have the same layout */
	_Static_assert(sizeof(struct bpf_insn) == sizeof(struct sock_filter), "bpf_insn layout");
	out->insns = NULL;
	out->len = 0;
	rc = pg_cbpf_prog__set(out, (const struct sock_filter *)bp.bf_insns, bp.bf_len);
	pcap_freecode(&bp);
	if (rc)
		snprintf(err, errlen, "out of memory");
	return rc;
}

int pg_pcap_compile(const char *expr, int linktype, uint32_t snaplen, const char *live_iface,
		    struct pg_cbpf_prog *out, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	int rc;

	if (!live_iface) {
		p = pcap_open_dead(linktype, (int)snaplen);
		if (!p) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		rc = compile_on(p, expr, out, err, errlen);
		pcap_close(p);
		return rc;
	}
	/*
	 * libpcap generates Linux's VLAN code (ld [vlanp], ld [vlan_tci]) only for an activated
	 * live handle, so make one, small, and close it once the code exists. Nothing is read.
	 */
	p = pcap_create(live_iface, perr);
	if (!p) {
		snprintf(err, errlen, "%s", perr);
		return -EINVAL;
	}
	pcap_set_snaplen(p, (int)snaplen);
	pcap_set_buffer_size(p, 64 * 1024);
	pcap_set_immediate_mode(p, 1);
	rc = pcap_activate(p);
	if (rc < 0) {
		const char *why = *pcap_geterr(p) ? pcap_geterr(p) : pcap_statustostr(rc);

		if (rc == PCAP_ERROR_PERM_DENIED)
			why = "permission denied (a live interface needs CAP_NET_RAW)";
		snprintf(err, errlen, "cannot open %s to compile for it: %s", live_iface, why);
		pcap_close(p);
		return rc == PCAP_ERROR_PERM_DENIED ? -EPERM : -EINVAL;
	}
	if (pcap_datalink(p) != linktype) {
		char a[64], b[64];

		pg_dlt_describe(pcap_datalink(p), a, sizeof(a));
		pg_dlt_describe(linktype, b, sizeof(b));
		snprintf(err, errlen, "%s has link type %s, not %s", live_iface, a, b);
		pcap_close(p);
		return -EINVAL;
	}
	rc = compile_on(p, expr, out, err, errlen);
	pcap_close(p);
	return rc;
}

void pg_dlt_describe(int linktype, char *buf, size_t size)
{
	const char *name = pcap_datalink_val_to_name(linktype);
	const char *desc = pcap_datalink_val_to_description(linktype);

	if (name)
		snprintf(buf, size, "%s (%s)", name, desc ? desc : "");
	else
		snprintf(buf, size, "DLT %d", linktype);
}

int pg_dlt_from_name(const char *name)
{
	char *end;
	long v = strtol(name, &end, 0);

	if (*name && !*end)
		return v >= 0 && v < 65536 ? (int)v : -1;
	return pcap_datalink_name_to_val(name);
}
