// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Live AF_PACKET capture and capture-file sources for pangolin sniff (sniff.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/dlt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bpf_util.h"
#include "packet.h"
#include "pcap_io.h"
#include "sniff.h"

#define CAP_NET_RAW_BIT 13
#define BATCH 256 /* packets per poll() before the pipeline gets a word in */
#define IFCACHE 64

/* Fields both sources share, first in each, so pg_sniff_frame works on either. */
struct sniff_common {
	struct pg_source base;
	struct pg_sniff_frame frame;
	bool in_callback;
	struct pg_sniff_stats st;
	struct pg_event ev;
};

struct sniff_live {
	struct sniff_common c;
	int fd;
	bool all;
	unsigned int hatype;
	char desc[64];
	struct pg_cbpf_prog prog;
	uint8_t *buf; /* PG_SNIFF_BUFFER + 4: room to put a stripped VLAN tag back */
	struct {
		int ifindex;
		char name[IF_NAMESIZE];
	} ifcache[IFCACHE];
	unsigned int ifnext;
};

struct sniff_file {
	struct sniff_common c;
	struct pg_pcap_reader *r;
	struct pg_cbpf_vm *vm;
	uint8_t *scratch;
	int linktype;
	uint32_t rand_state;
	bool done;
};

static const struct pg_source_ops live_ops, file_ops;

static bool is_sniff(const struct pg_source *src)
{
	return src && (src->ops == &live_ops || src->ops == &file_ops);
}

bool pg_sniff_frame(const struct pg_source *src, struct pg_sniff_frame *f)
{
	const struct sniff_common *c = (const struct sniff_common *)src;

	if (!is_sniff(src) || !c->in_callback)
		return false;
	*f = c->frame;
	return true;
}

void pg_sniff_stats(struct pg_source *src, struct pg_sniff_stats *st)
{
	struct sniff_common *c = (struct sniff_common *)src;

	memset(st, 0, sizeof(*st));
	if (!is_sniff(src))
		return;
	if (src->ops == &live_ops) {
		struct sniff_live *l = (struct sniff_live *)src;
		struct tpacket_stats ks;
		socklen_t kl = sizeof(ks);

		/* the kernel resets its counters on every read: accumulate */
		if (!getsockopt(l->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &kl)) {
			c->st.kernel_passed += ks.tp_packets;
			c->st.kernel_dropped += ks.tp_drops;
		}
	}
	*st = c->st;
}

/* --- the program Linux runs ------------------------------------------------------------ */

int pg_sniff_program(const struct sock_filter *insns, size_t len, bool all, unsigned int hatype,
		     struct pg_cbpf_prog *out, char *err, size_t errlen)
{
	static const struct sock_filter pro_all[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_HATYPE),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARPHRD_ETHER, 4, 0), /* -> 6 */
		/* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARPHRD_LOOPBACK, 0, 2), /* -> 3 : 5 */
		/* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1), /* -> 5 : 6 */
		/* 5 */ BPF_STMT(BPF_RET | BPF_K, 0),
		/* 6 */ BPF_STMT(BPF_LD | BPF_IMM, 0),
	};
	static const struct sock_filter pro_lo[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_LD | BPF_IMM, 0),
	};
	const struct sock_filter *pro = NULL;
	size_t plen = 0;
	struct pg_cbpf_vresult *res;
	int rc = 0;

	if (all) {
		pro = pro_all;
		plen = sizeof(pro_all) / sizeof(pro_all[0]);
	} else if (hatype == ARPHRD_LOOPBACK) {
		pro = pro_lo;
		plen = sizeof(pro_lo) / sizeof(pro_lo[0]);
	} else if (hatype != ARPHRD_ETHER) {
		snprintf(err, errlen, "the interface's link type (ARPHRD %u) is not Ethernet: pangolin sniff captures Ethernet and loopback interfaces, whose frames the filter's offsets assume",
			 hatype);
		return -EINVAL;
	}
	if (len + plen > PG_CBPF_MAXINSNS) {
		snprintf(err, errlen, "the filter has %zu instructions; with the %zu-instruction prologue it passes Linux's limit of %d",
			 len, plen, PG_CBPF_MAXINSNS);
		return -EINVAL;
	}
	out->insns = malloc((len + plen) * sizeof(*out->insns));
	if (!out->insns)
		return -ENOMEM;
	if (plen)
		memcpy(out->insns, pro, plen * sizeof(*pro));
	memcpy(out->insns + plen, insns, len * sizeof(*insns));
	out->len = len + plen;
	res = malloc(sizeof(*res));
	if (!res) {
		pg_cbpf_prog__free(out);
		return -ENOMEM;
	}
	if (pg_cbpf_verify(out->insns, out->len, res)) {
		snprintf(err, errlen, "%s", res->errors[0].msg);
		pg_cbpf_prog__free(out);
		rc = -EINVAL;
	}
	free(res);
	return rc;
}

/* --- live ------------------------------------------------------------------------------ */

int pg_iface_hatype(const char *iface)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : ifr.ifr_hwaddr.sa_family;
	close(fd);
	return rc;
}

static const char *ifname_of(struct sniff_live *l, int ifindex)
{
	for (unsigned int i = 0; i < IFCACHE; i++)
		if (l->ifcache[i].ifindex == ifindex)
			return l->ifcache[i].name;
	/* a miss: ask once and remember (interfaces come and go; names seldom change) */
	{
		unsigned int slot = l->ifnext++ % IFCACHE;

		l->ifcache[slot].ifindex = ifindex;
		if (!if_indextoname((unsigned int)ifindex, l->ifcache[slot].name))
			l->ifcache[slot].name[0] = 0;
		return l->ifcache[slot].name;
	}
}

/* Read one packet into the event. 1: got one, 0: nothing waiting, -errno. */
static int live_read_one(struct sniff_live *l)
{
	struct sniff_common *c = &l->c;
	struct sockaddr_ll sll;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + CMSG_SPACE(sizeof(struct timespec))];
	} cbuf;
	struct iovec iov = { .iov_base = l->buf + 4, .iov_len = PG_SNIFF_BUFFER };
	struct msghdr msg = {
		.msg_name = &sll,
		.msg_namelen = sizeof(sll),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf),
	};
	struct tpacket_auxdata aux;
	bool have_aux = false;
	struct timespec ts = { 0, 0 };
	struct pg_packet_meta meta;
	uint8_t *frame = l->buf + 4;
	uint32_t caplen, len;
	ssize_t n;

	n = recvmsg(l->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		snprintf(c->base.errmsg, sizeof(c->base.errmsg), "reading the packet socket: %s",
			 strerror(errno));
		return -errno;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(aux))) {
			memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
			have_aux = true;
		} else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		}
	}
	caplen = (uint32_t)n < PG_SNIFF_BUFFER ? (uint32_t)n : PG_SNIFF_BUFFER;
	len = have_aux && aux.tp_len > caplen ? aux.tp_len : (uint32_t)n;
	/*
	 * Linux took the VLAN tag out before the filter ran (it is in the auxdata); put it back
	 * so the event and the pcap show the frame as it was on the wire, as libpcap does.
	 */
	if (have_aux && (aux.tp_status & TP_STATUS_VLAN_VALID) && caplen >= 12) {
		uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid
									    : ETH_P_8021Q;

		memmove(l->buf, l->buf + 4, 12);
		frame = l->buf;
		frame[12] = (uint8_t)(tpid >> 8);
		frame[13] = (uint8_t)tpid;
		frame[14] = (uint8_t)(aux.tp_vlan_tci >> 8);
		frame[15] = (uint8_t)aux.tp_vlan_tci;
		caplen += 4;
		len += 4;
	}
	if (!ts.tv_sec && !ts.tv_nsec)
		clock_gettime(CLOCK_REALTIME, &ts);
	meta.ts_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	meta.ifindex = (uint32_t)sll.sll_ifindex;
	meta.ifname = ifname_of(l, sll.sll_ifindex);
	meta.direction = sll.sll_pkttype == PACKET_OUTGOING ? PG_PKT_DIR_OUT : PG_PKT_DIR_IN;
	pg_packet_decode(&c->ev, DLT_EN10MB, frame, caplen, len, &meta);
	c->frame = (struct pg_sniff_frame){ .data = frame, .caplen = caplen, .len = len,
					    .ts_ns = meta.ts_ns, .linktype = DLT_EN10MB };
	return 1;
}

static int live_poll(struct pg_source *src, int timeout_ms, pg_event_fn fn, void *ctx)
{
	struct sniff_live *l = (struct sniff_live *)src;
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	int delivered = 0, rc;

	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	if (pfd.revents & (POLLERR | POLLNVAL)) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr == ENETDOWN) {
			snprintf(src->errmsg, sizeof(src->errmsg), "%s went down", l->desc);
			return -ENETDOWN;
		}
	}
	while (delivered < BATCH) {
		int err;

		rc = live_read_one(l);
		if (rc <= 0)
			return rc < 0 ? rc : delivered;
		l->c.st.received++;
		delivered++;
		l->c.in_callback = true;
		err = fn(ctx, &l->c.ev);
		l->c.in_callback = false;
		if (err)
			return err;
	}
	return delivered;
}

static void live_stats(struct pg_source *src, struct pg_source_stats *st)
{
	struct pg_sniff_stats s;

	pg_sniff_stats(src, &s);
	st->read = s.received;
	st->skipped = 0;
	st->lost = s.kernel_dropped;
}

static void live_free(struct pg_source *src)
{
	struct sniff_live *l = (struct sniff_live *)src;

	if (l->fd >= 0)
		close(l->fd); /* also leaves promiscuous mode */
	pg_cbpf_prog__free(&l->prog);
	free(l->buf);
	free(l);
}

static const struct pg_source_ops live_ops = {
	.name = "sniff",
	.poll = live_poll,
	.stats = live_stats,
	.free = live_free,
};

struct pg_source *pg_sniff_live__new(const struct pg_sniff_opts *o, char *err, size_t errlen)
{
	struct sniff_live *l = calloc(1, sizeof(*l));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct sock_fprog fp;
	int one = 1, e, ifindex = 0;
	unsigned int rcvbuf = o->rcvbuf ? o->rcvbuf : 4u << 20;
	char emsg[400];

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->c.base.ops = &live_ops;
	l->fd = -1;
	l->all = !o->iface;
	if (o->iface) {
		int ht;

		ifindex = (int)if_nametoindex(o->iface);
		if (!ifindex) {
			snprintf(err, errlen, "no interface named '%s' (ip link lists them)", o->iface);
			errno = ENODEV;
			goto err_out;
		}
		ht = pg_iface_hatype(o->iface);
		if (ht < 0) {
			snprintf(err, errlen, "%s: cannot read its link type: %s", o->iface, strerror(-ht));
			errno = -ht;
			goto err_out;
		}
		l->hatype = (unsigned int)ht;
		snprintf(l->desc, sizeof(l->desc), "%s (%s)", o->iface,
			 ht == ARPHRD_LOOPBACK ? "loopback" : ht == ARPHRD_ETHER ? "Ethernet" : "other");
	} else {
		snprintf(l->desc, sizeof(l->desc), "all Ethernet and loopback interfaces");
	}
	if (pg_sniff_program(o->insns, o->len, l->all, l->hatype, &l->prog, emsg, sizeof(emsg))) {
		snprintf(err, errlen, "%s", emsg);
		errno = EINVAL;
		goto err_out;
	}
	l->buf = malloc(PG_SNIFF_BUFFER + 4);
	if (!l->buf) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		goto err_out;
	}
	/* protocol 0: the socket receives nothing until bind() names one, after the filter */
	l->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		e = errno;
		if (e == EPERM || e == EACCES)
			snprintf(err, errlen, "capturing packets needs CAP_NET_RAW (%s): run as root, or grant it with 'setcap cap_net_raw+ep %s'",
				 pg_cap_effective() & (1ULL << CAP_NET_RAW_BIT) ? "held, but refused" : "not held",
				 "$(command -v pangolin)");
		else
			snprintf(err, errlen, "cannot open a packet socket: %s", strerror(e));
		errno = e;
		goto err_out;
	}
	fp.len = (unsigned short)l->prog.len;
	fp.filter = l->prog.insns;
	if (setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp))) {
		e = errno;
		snprintf(err, errlen, "the kernel refused the filter (SO_ATTACH_FILTER: %s) although pangolin's verifier accepted it: please report this with the program",
			 strerror(e));
		errno = e;
		goto err_out;
	}
	if (setsockopt(l->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    setsockopt(l->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one))) {
		e = errno;
		snprintf(err, errlen, "cannot set up the packet socket: %s", strerror(e));
		errno = e;
		goto err_out;
	}
	/* past net.core.rmem_max with CAP_NET_ADMIN, else as much as allowed */
	if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sll.sll_ifindex = ifindex;
	if (bind(l->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		e = errno;
		snprintf(err, errlen, "cannot bind the packet socket to %s: %s", l->desc, strerror(e));
		errno = e;
		goto err_out;
	}
	if (o->iface && !o->no_promisc) {
		struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC };

		/* undone by the kernel when the socket closes, however pangolin exits */
		if (setsockopt(l->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
			e = errno;
			snprintf(err, errlen, "cannot put %s in promiscuous mode: %s (-p captures without it)",
				 o->iface, strerror(e));
			errno = e;
			goto err_out;
		}
	}
	return &l->c.base;
err_out:
	e = errno;
	live_free(&l->c.base);
	errno = e;
	return NULL;
}

const struct pg_cbpf_prog *pg_sniff_live__program(const struct pg_source *src)
{
	return src->ops == &live_ops ? &((const struct sniff_live *)src)->prog : NULL;
}

const char *pg_sniff_live__describe(const struct pg_source *src)
{
	return src->ops == &live_ops ? ((const struct sniff_live *)src)->desc : "";
}

/* --- file ------------------------------------------------------------------------------ */

static int file_poll(struct pg_source *src, int timeout_ms, pg_event_fn fn, void *ctx)
{
	struct sniff_file *f = (struct sniff_file *)src;
	int delivered = 0;

	(void)timeout_ms;
	if (f->done)
		return PG_SOURCE_EOF;
	while (delivered < BATCH) {
		struct pg_pcap_pkt pp;
		struct pg_cbpf_pkt pkt;
		struct pg_packet_meta meta = { 0 };
		uint32_t ret, keep;
		int rc = pg_pcap_reader__next(f->r, &pp), err;

		if (rc == 0) {
			f->done = true;
			return delivered ? delivered : PG_SOURCE_EOF;
		}
		if (rc < 0) {
			snprintf(src->errmsg, sizeof(src->errmsg), "%s (after %llu packets)",
				 pg_pcap_reader__error(f->r), (unsigned long long)f->c.st.file_read);
			return rc;
		}
		f->c.st.file_read++;
		if (pg_cbpf_pkt_init(&pkt, f->linktype, pp.data, pp.caplen, pp.len, false, f->scratch)) {
			f->c.st.file_undelivered++;
			continue;
		}
		pkt.rand_state = &f->rand_state;
		ret = pg_cbpf_vm__run(f->vm, &pkt);
		if (!ret) {
			f->c.st.file_rejected++;
			continue;
		}
		/* the verdict is how many bytes to keep, as in the kernel */
		keep = ret < pp.caplen ? ret : pp.caplen;
		meta.ts_ns = pp.ts_ns;
		pg_packet_decode(&f->c.ev, f->linktype, pp.data, keep, pp.len, &meta);
		f->c.frame = (struct pg_sniff_frame){ .data = pp.data, .caplen = keep, .len = pp.len,
						      .ts_ns = pp.ts_ns, .linktype = f->linktype };
		f->c.st.received++;
		delivered++;
		f->c.in_callback = true;
		err = fn(ctx, &f->c.ev);
		f->c.in_callback = false;
		if (err)
			return err;
	}
	return delivered;
}

static void file_stats(struct pg_source *src, struct pg_source_stats *st)
{
	struct sniff_file *f = (struct sniff_file *)src;

	st->read = f->c.st.received;
	st->skipped = 0;
	st->lost = 0;
}

static void file_free(struct pg_source *src)
{
	struct sniff_file *f = (struct sniff_file *)src;

	pg_pcap_reader__free(f->r);
	pg_cbpf_vm__free(f->vm);
	free(f->scratch);
	free(f);
}

static const struct pg_source_ops file_ops = {
	.name = "sniff-file",
	.poll = file_poll,
	.stats = file_stats,
	.free = file_free,
};

struct pg_source *pg_sniff_file__new(const struct pg_sniff_opts *o, char *err, size_t errlen)
{
	struct sniff_file *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->c.base.ops = &file_ops;
	f->rand_state = 1;
	f->r = pg_pcap_reader__open(o->path, err, errlen);
	if (!f->r)
		goto err_out;
	f->linktype = pg_pcap_reader__linktype(f->r);
	if (!pg_packet_linktype_supported(f->linktype)) {
		char d[96];

		pg_dlt_describe(f->linktype, d, sizeof(d));
		snprintf(err, errlen, "%s: link type %s is not decoded: pangolin sniff reads Ethernet (EN10MB), Linux cooked (LINUX_SLL, LINUX_SLL2) and raw IP (RAW) captures; 'pangolin cbpf run' filters any link type",
			 o->path, d);
		goto err_out;
	}
	f->vm = pg_cbpf_vm__new(o->insns, o->len);
	f->scratch = malloc(PG_SNIFF_BUFFER);
	if (!f->vm || !f->scratch) {
		snprintf(err, errlen, f->vm ? "out of memory" : "the filter does not pass the verifier");
		goto err_out;
	}
	return &f->c.base;
err_out:
	file_free(&f->c.base);
	return NULL;
}

int pg_sniff_file__linktype(const struct pg_source *src)
{
	return src->ops == &file_ops ? ((const struct sniff_file *)src)->linktype : -1;
}
