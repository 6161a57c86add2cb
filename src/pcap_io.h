/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture files and tcpdump expressions, through libpcap: reading any pcap/pcapng file
 * libpcap reads (with nanosecond timestamps), writing nanosecond pcap files that
 * tcpdump/tshark/Wireshark open, and compiling tcpdump filter expressions to cBPF.
 *
 * A capture file is untrusted input: libpcap parses the container, and every frame is then
 * handed to decoders that check each byte they read (fuzz/fuzz_pcap.c feeds arbitrary bytes
 * through both).
 */
#ifndef PANGOLIN_PCAP_IO_H
#define PANGOLIN_PCAP_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cbpf.h"

struct pg_pcap_pkt {
	uint64_t ts_ns; /* ns since the Unix epoch */
	uint32_t caplen; /* bytes at data */
	uint32_t len; /* bytes on the wire */
	const uint8_t *data; /* valid until the next read */
};

struct pg_pcap_reader;

/* Open a capture file ("-": standard input). NULL with a message in err. */
struct pg_pcap_reader *pg_pcap_reader__open(const char *path, char *err, size_t errlen);
/* The same over an open stream, which the reader then owns (closed by __free). */
struct pg_pcap_reader *pg_pcap_reader__fopen(FILE *f, const char *name, char *err,
					     size_t errlen);
/* 1 with pkt filled, 0 at the end, -EINVAL when the file is damaged (message in __error). */
int pg_pcap_reader__next(struct pg_pcap_reader *r, struct pg_pcap_pkt *pkt);
const char *pg_pcap_reader__error(const struct pg_pcap_reader *r);
int pg_pcap_reader__linktype(const struct pg_pcap_reader *r);
uint32_t pg_pcap_reader__snaplen(const struct pg_pcap_reader *r);
void pg_pcap_reader__free(struct pg_pcap_reader *r);

struct pg_pcap_writer;

/* A nanosecond pcap file ("-": standard output). NULL with a message in err. */
struct pg_pcap_writer *pg_pcap_writer__open(const char *path, int linktype, uint32_t snaplen,
					    char *err, size_t errlen);
/* 0, or -EIO with a message in __error (disk full: the packet is counted as not written). */
int pg_pcap_writer__write(struct pg_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
			  uint32_t caplen, uint32_t len);
int pg_pcap_writer__flush(struct pg_pcap_writer *w);
const char *pg_pcap_writer__error(const struct pg_pcap_writer *w);
uint64_t pg_pcap_writer__count(const struct pg_pcap_writer *w);
/* Flush and close; 0 or -EIO. */
int pg_pcap_writer__close(struct pg_pcap_writer *w);

/*
 * Compile a tcpdump expression for a link type (DLT_EN10MB ...) as `tcpdump -d` would:
 * offline code, that reads VLAN tags in the frame, unless live_iface names an interface, in
 * which case libpcap compiles for a live Linux socket on it (VLAN tags through ancillary loads,
 * because Linux strips the outer tag before socket filters run); that needs CAP_NET_RAW.
 * 0 with out filled; -EINVAL with libpcap's message in err.
 */
int pg_pcap_compile(const char *expr, int linktype, uint32_t snaplen, const char *live_iface,
		    struct pg_cbpf_prog *out, char *err, size_t errlen);

/* "EN10MB (Ethernet)" for a link type; "DLT 123" when libpcap has no name. */
void pg_dlt_describe(int linktype, char *buf, size_t size);

/* The link type named "EN10MB", "LINUX_SLL", ... or a number; -1 when unknown. */
int pg_dlt_from_name(const char *name);

#endif /* PANGOLIN_PCAP_IO_H */
