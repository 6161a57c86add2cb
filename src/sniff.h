/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Packet sources for pangolin sniff (docs/cbpf.md):
 *
 *  live  an AF_PACKET socket (SOCK_RAW, ETH_P_ALL) on one interface or all of them, with the
 *        classic BPF filter attached by SO_ATTACH_FILTER before the socket is bound, so no
 *        packet the filter rejects ever reaches userspace, not even in the first instant.
 *        The kernel's counters (PACKET_STATISTICS) say how many packets passed the filter
 *        and how many of those were dropped for lack of buffer: every packet is delivered
 *        or counted.
 *  file  a capture file through the same filter, run by pangolin's VM.
 *
 * Both hand packet events (PG_EV_PACKET) to the pipeline; while an event is being handled,
 * pg_sniff_frame() gives the frame it came from (for -w).
 */
#ifndef PANGOLIN_SNIFF_H
#define PANGOLIN_SNIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "cbpf.h"
#include "source.h"

#define PG_SNIFF_BUFFER (256u * 1024) /* largest frame read (GSO frames on lo reach 64 KiB+) */

struct pg_sniff_opts {
	const char *iface; /* NULL: every Ethernet and loopback interface */
	const struct sock_filter *insns; /* the filter; it must pass pg_cbpf_verify */
	size_t len;
	unsigned int rcvbuf; /* socket receive buffer in bytes; 0: 4 MiB */
	bool no_promisc; /* live: do not put the interface in promiscuous mode */
	const char *path; /* file: the capture to read */
};

struct pg_sniff_frame {
	const uint8_t *data; /* as on the wire: a tag Linux stripped is put back */
	uint32_t caplen;
	uint32_t len;
	uint64_t ts_ns;
	int linktype; /* DLT_* */
};

struct pg_sniff_stats {
	uint64_t received; /* packets handed out as events */
	uint64_t kernel_passed; /* live: packets the filter passed (PACKET_STATISTICS) */
	uint64_t kernel_dropped; /* live: of those, dropped with the receive buffer full */
	uint64_t file_read; /* file: packets in the file */
	uint64_t file_rejected; /* file: packets the filter rejected */
	uint64_t file_undelivered; /* file: never reach the filter (e.g. tag cut short) */
};

/*
 * The program Linux runs for a live capture: the filter, after a short prologue where
 * Ethernet offsets would be wrong or packets seen twice:
 *   all interfaces: drop packets of non-Ethernet devices (tun, wireguard...), and outgoing
 *                   copies on loopback (each loopback packet is seen going out and coming in)
 *   loopback:       drop the outgoing copies
 *   Ethernet:       nothing added
 * The prologue ends with ld #0, so the filter starts with A = 0 as it expects. hatype is
 * the interface's ARPHRD_* (ignored when all). 0 with out filled; -EINVAL with err.
 */
int pg_sniff_program(const struct sock_filter *insns, size_t len, bool all, unsigned int hatype,
		     struct pg_cbpf_prog *out, char *err, size_t errlen);

/*
 * Open a live capture. NULL with a message in err that says what to do (CAP_NET_RAW, an
 * unknown interface, a link type that is not Ethernet). errno is EPERM without privilege.
 */
struct pg_source *pg_sniff_live__new(const struct pg_sniff_opts *o, char *err, size_t errlen);
/* The program attached (prologue included). */
const struct pg_cbpf_prog *pg_sniff_live__program(const struct pg_source *src);
/* "veth1 (Ethernet)", "all interfaces" */
const char *pg_sniff_live__describe(const struct pg_source *src);

/* Read a capture file, filtering with the VM. NULL with a message in err. */
struct pg_source *pg_sniff_file__new(const struct pg_sniff_opts *o, char *err, size_t errlen);
int pg_sniff_file__linktype(const struct pg_source *src);

/* Counters of either kind of sniff source. */
void pg_sniff_stats(struct pg_source *src, struct pg_sniff_stats *st);

/* The frame of the event being handled; false outside a callback or for other sources. */
bool pg_sniff_frame(const struct pg_source *src, struct pg_sniff_frame *f);

/* ARPHRD_* of an interface, or -errno. */
int pg_iface_hatype(const char *iface);

#endif /* PANGOLIN_SNIFF_H */
