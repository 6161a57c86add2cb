// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Frame decoder for packet events (packet.h). Every read is bounds-checked against caplen. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "packet.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static const char *const tcp_flag_names[8] = { "FIN", "SYN", "RST", "PSH",
					       "ACK", "URG", "ECE", "CWR" };

void pg_tcp_flags_format(unsigned int flags, char *buf, size_t size)
{
	size_t n = 0;

	if (size)
		buf[0] = 0;
	for (int i = 0; i < 8; i++) {
		if (!(flags & (1u << i)))
			continue;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "|" : "",
				      tcp_flag_names[i]);
	}
}

int pg_tcp_flags_parse(const char *s, size_t len)
{
	unsigned int flags = 0;
	size_t i = 0;

	if (len && s[0] >= '0' && s[0] <= '9') {
		unsigned int v = 0;

		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9' || v > 255)
				return -1;
			v = v * 10 + (unsigned int)(s[i] - '0');
		}
		return v <= 255 ? (int)v : -1;
	}
	while (i < len) {
		size_t start = i;
		int f;

		while (i < len && s[i] != '|' && s[i] != ',')
			i++;
		for (f = 0; f < 8; f++)
			if (strlen(tcp_flag_names[f]) == i - start &&
			    !strncasecmp(tcp_flag_names[f], s + start, i - start))
				break;
		if (f == 8)
			return -1;
		flags |= 1u << f;
		if (i < len)
			i++;
	}
	return (int)flags;
}

static const struct {
	unsigned char proto;
	const char *name;
} ip_protos[] = {
	{ IPPROTO_ICMP, "icmp" }, { IPPROTO_IGMP, "igmp" },   { IPPROTO_IPIP, "ipip" },
	{ IPPROTO_TCP, "tcp" },	  { IPPROTO_UDP, "udp" },     { IPPROTO_IPV6, "ipv6" },
	{ IPPROTO_GRE, "gre" },	  { IPPROTO_ESP, "esp" },     { IPPROTO_AH, "ah" },
	{ IPPROTO_ICMPV6, "icmp6" }, { IPPROTO_SCTP, "sctp" }, { IPPROTO_UDPLITE, "udplite" },
	{ IPPROTO_DCCP, "dccp" }, { 89, "ospf" },	      { 112, "vrrp" },
};

const char *pg_ip_proto_name(unsigned int proto)
{
	for (size_t i = 0; i < sizeof(ip_protos) / sizeof(ip_protos[0]); i++)
		if (ip_protos[i].proto == proto)
			return ip_protos[i].name;
	return NULL;
}

int pg_ip_proto_from_name(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(ip_protos) / sizeof(ip_protos[0]); i++)
		if (strlen(ip_protos[i].name) == len && !strncasecmp(ip_protos[i].name, name, len))
			return ip_protos[i].proto;
	return -1;
}

const char *pg_pkt_direction_name(unsigned int dir)
{
	return dir == PG_PKT_DIR_IN ? "in" : dir == PG_PKT_DIR_OUT ? "out" : "";
}

int pg_pkt_direction_from_name(const char *name, size_t len)
{
	if (len == 2 && !memcmp(name, "in", 2))
		return PG_PKT_DIR_IN;
	if (len == 3 && !memcmp(name, "out", 3))
		return PG_PKT_DIR_OUT;
	if (len == 0)
		return PG_PKT_DIR_UNKNOWN;
	return -1;
}

bool pg_packet_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	}
	return false;
}

static bool is_dns_port(unsigned int port, bool tcp)
{
	return port == 53 || (!tcp && (port == 5353 || port == 5355));
}

static void decode_dns(struct pg_packet_event *p, const uint8_t *msg, size_t len, bool tcp)
{
	struct pg_dns_msg m;
	int rc = tcp ? pg_dns_parse_tcp(msg, len, &m, NULL, 0) : pg_dns_parse(msg, len, &m, NULL, 0);

	p->flags |= PG_PKT_F_DNS;
	if (rc) {
		p->flags |= PG_PKT_F_DNS_ERROR;
		p->dns_error = (uint8_t)m.err;
		if (m.err == PG_DNS_E_SHORT)
			return;
	}
	p->dns_id = m.id;
	p->dns_qr = m.response;
	p->dns_rcode = m.rcode;
	if (m.has_question) {
		p->flags |= PG_PKT_F_DNS_QUESTION;
		memcpy(p->qname, m.qname, sizeof(p->qname));
		p->qtype = m.qtype;
		p->qclass = m.qclass;
	}
	memcpy(p->answers, m.answers, m.nanswers * sizeof(m.answers[0]));
	p->nanswers = (uint16_t)m.nanswers;
	if (m.answers_truncated)
		p->flags |= PG_PKT_F_DNS_ANS_TRUNC;
}

/* Transport header at d[off, end). */
static void decode_l4(struct pg_packet_event *p, const uint8_t *d, size_t off, size_t end)
{
	size_t avail = end > off ? end - off : 0;

	switch (p->ip_proto) {
	case IPPROTO_TCP:
		if (avail < 14) {
			p->flags |= PG_PKT_F_L4_TRUNC;
			if (avail >= 4) {
				p->sport = rd16(d + off);
				p->dport = rd16(d + off + 2);
			}
			return;
		}
		p->sport = rd16(d + off);
		p->dport = rd16(d + off + 2);
		p->tcp_flags = d[off + 13];
		{
			size_t doff = (size_t)(d[off + 12] >> 4) * 4;

			if (doff < 20 || doff > avail) {
				if (doff > avail)
					p->flags |= PG_PKT_F_L4_TRUNC;
				return;
			}
			if ((is_dns_port(p->sport, true) || is_dns_port(p->dport, true)) && avail > doff)
				decode_dns(p, d + off + doff, avail - doff, true);
		}
		return;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		if (avail < 8) {
			p->flags |= PG_PKT_F_L4_TRUNC;
			if (avail >= 4) {
				p->sport = rd16(d + off);
				p->dport = rd16(d + off + 2);
			}
			return;
		}
		p->sport = rd16(d + off);
		p->dport = rd16(d + off + 2);
		if (p->ip_proto == IPPROTO_UDP && (is_dns_port(p->sport, false) || is_dns_port(p->dport, false))) {
			size_t ulen = rd16(d + off + 4), plen = avail - 8;

			/* the UDP length bounds the payload (Ethernet pads short frames) */
			if (ulen >= 8 && ulen - 8 < plen)
				plen = ulen - 8;
			decode_dns(p, d + off + 8, plen, false);
		}
		return;
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		if (avail < 4) {
			p->flags |= PG_PKT_F_L4_TRUNC;
			return;
		}
		p->sport = rd16(d + off);
		p->dport = rd16(d + off + 2);
		return;
	}
}

static void decode_ipv4(struct pg_packet_event *p, const uint8_t *d, size_t off, size_t caplen)
{
	size_t ihl, tot, end;
	unsigned int fo;

	p->family = AF_INET;
	if (off + 20 > caplen) {
		p->flags |= PG_PKT_F_L4_TRUNC;
		p->family = 0;
		return;
	}
	ihl = (size_t)(d[off] & 0xf) * 4;
	memcpy(p->saddr, d + off + 12, 4);
	memcpy(p->daddr, d + off + 16, 4);
	p->ip_proto = d[off + 9];
	fo = rd16(d + off + 6);
	tot = rd16(d + off + 2);
	end = off + tot < caplen ? off + tot : caplen;
	if (tot < ihl)
		end = caplen; /* a bogus total length (TSO frames say 0): trust the capture */
	if (fo & 0x3fff)
		p->flags |= PG_PKT_F_FRAGMENT;
	if (ihl < 20)
		return;
	if (off + ihl > caplen) {
		p->flags |= PG_PKT_F_L4_TRUNC;
		return;
	}
	if (fo & 0x1fff)
		return; /* a later fragment: no transport header */
	decode_l4(p, d, off + ihl, end);
}

static void decode_ipv6(struct pg_packet_event *p, const uint8_t *d, size_t off, size_t caplen)
{
	size_t end, plen;
	unsigned int nh;

	p->family = AF_INET6;
	if (off + 40 > caplen) {
		p->flags |= PG_PKT_F_L4_TRUNC;
		p->family = 0;
		return;
	}
	memcpy(p->saddr, d + off + 8, 16);
	memcpy(p->daddr, d + off + 24, 16);
	nh = d[off + 6];
	plen = rd16(d + off + 4);
	end = off + 40 + plen < caplen && plen ? off + 40 + plen : caplen;
	off += 40;
	for (int hdrs = 0; hdrs < 16; hdrs++) {
		switch (nh) {
		case 0: /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
		case 135: /* mobility */
			if (off + 2 > end)
				goto trunc;
			nh = d[off];
			off += ((size_t)d[off + 1] + 1) * 8;
			continue;
		case 51: /* AH: length in 4-byte units, minus 2 */
			if (off + 2 > end)
				goto trunc;
			nh = d[off];
			off += ((size_t)d[off + 1] + 2) * 4;
			continue;
		case 44: /* fragment */
			if (off + 8 > end)
				goto trunc;
			p->flags |= PG_PKT_F_FRAGMENT;
			p->ip_proto = d[off];
			if (rd16(d + off + 2) & 0xfff8)
				return; /* not the first fragment */
			nh = d[off];
			off += 8;
			continue;
		}
		break;
	}
	p->ip_proto = (uint8_t)nh;
	decode_l4(p, d, off, end);
	return;
trunc:
	p->ip_proto = (uint8_t)nh;
	p->flags |= PG_PKT_F_L4_TRUNC;
}

static void decode_l3(struct pg_packet_event *p, const uint8_t *d, size_t off, size_t caplen)
{
	switch (p->ethertype) {
	case ETH_P_IP:
		decode_ipv4(p, d, off, caplen);
		break;
	case ETH_P_IPV6:
		decode_ipv6(p, d, off, caplen);
		break;
	}
}

int pg_packet_decode(struct pg_event *ev, int linktype, const uint8_t *d, uint32_t caplen,
		     uint32_t wire_len, const struct pg_packet_meta *meta)
{
	struct pg_packet_event *p = &ev->r.packet;
	size_t off;

	pg_event_init(ev, PG_EV_PACKET);
	p->wire_len = wire_len;
	p->caplen = caplen;
	if (meta) {
		p->hdr.ts_ns = meta->ts_ns;
		p->ifindex = meta->ifindex;
		p->direction = meta->direction;
		if (meta->ifname)
			snprintf(p->ifname, sizeof(p->ifname), "%s", meta->ifname);
	}
	switch (linktype) {
	case DLT_EN10MB:
		if (caplen < 14) {
			p->flags |= PG_PKT_F_L4_TRUNC;
			return 0;
		}
		p->ethertype = rd16(d + 12);
		off = 14;
		/* 802.1Q, 802.1ad, and the pre-standard 0x9100 QinQ */
		while (p->ethertype == ETH_P_8021Q || p->ethertype == ETH_P_8021AD || p->ethertype == 0x9100) {
			if (off + 4 > caplen) {
				p->flags |= PG_PKT_F_L4_TRUNC;
				return 0;
			}
			if (!(p->flags & PG_PKT_F_VLAN)) {
				p->flags |= PG_PKT_F_VLAN;
				p->vlan = rd16(d + off) & 0xfff;
			}
			p->ethertype = rd16(d + off + 2);
			off += 4;
		}
		if (p->ethertype < ETH_P_802_3_MIN)
			p->ethertype = 0; /* an 802.3 length field, not a type */
		decode_l3(p, d, off, caplen);
		return 0;
	case DLT_LINUX_SLL:
		if (caplen < 16) {
			p->flags |= PG_PKT_F_L4_TRUNC;
			return 0;
		}
		if (!p->direction)
			p->direction = rd16(d) == PACKET_OUTGOING ? PG_PKT_DIR_OUT : PG_PKT_DIR_IN;
		p->ethertype = rd16(d + 14);
		decode_l3(p, d, 16, caplen);
		return 0;
	case DLT_LINUX_SLL2:
		if (caplen < 20) {
			p->flags |= PG_PKT_F_L4_TRUNC;
			return 0;
		}
		if (!p->direction)
			p->direction = d[10] == PACKET_OUTGOING ? PG_PKT_DIR_OUT : PG_PKT_DIR_IN;
		if (!p->ifindex)
			p->ifindex = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
		p->ethertype = rd16(d);
		decode_l3(p, d, 20, caplen);
		return 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (!caplen)
			return 0;
		p->ethertype = (d[0] >> 4) == 6 ? ETH_P_IPV6 : (d[0] >> 4) == 4 ? ETH_P_IP : 0;
		decode_l3(p, d, 0, caplen);
		return 0;
	}
	return -EPROTONOSUPPORT;
}
