/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Frames to packet events (PG_EV_PACKET): Ethernet with 802.1Q/802.1ad tags, Linux cooked
 * captures (SLL, SLL2) and raw IP; IPv4 with options and fragments, IPv6 with extension
 * headers; TCP, UDP, UDP-Lite, SCTP and DCCP ports; DNS over UDP (ports 53, 5353, 5355) and
 * TCP (port 53). Malformed or truncated frames never fail: what can be read is filled in and
 * flags say where decoding stopped.
 */
#ifndef PANGOLIN_PACKET_H
#define PANGOLIN_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

/* What the capture knows besides the bytes. */
struct pg_packet_meta {
	uint64_t ts_ns;
	uint32_t ifindex;
	const char *ifname; /* NULL when unknown */
	uint8_t direction; /* PG_PKT_DIR_* */
};

/* Does the decoder understand this link type (DLT_*)? */
bool pg_packet_linktype_supported(int linktype);

/*
 * Fill ev with the decoded frame (pg_event_init is done here). 0, or -EPROTONOSUPPORT for a
 * link type the decoder does not know (ev is then a packet event with lengths only).
 */
int pg_packet_decode(struct pg_event *ev, int linktype, const uint8_t *data, uint32_t caplen,
		     uint32_t wire_len, const struct pg_packet_meta *meta);

/* "FIN|SYN|ACK" for TCP flags (empty string for 0); buf of at least 40 bytes. */
void pg_tcp_flags_format(unsigned int flags, char *buf, size_t size);
/* The inverse; accepts names in any order, '|' or ',' separated, or a number. -1 on error. */
int pg_tcp_flags_parse(const char *s, size_t len);

/* "tcp", "udp", "icmp", ...; NULL when unnamed. */
const char *pg_ip_proto_name(unsigned int proto);
/* 0..255, or -1. */
int pg_ip_proto_from_name(const char *name, size_t len);

/* "in", "out", "" (unknown). */
const char *pg_pkt_direction_name(unsigned int dir);
int pg_pkt_direction_from_name(const char *name, size_t len);

#endif /* PANGOLIN_PACKET_H */
