// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's verdicts on classic BPF programs, for tests/integration/test_cbpf_kernel.py.
 *
 *   cbpf_kverdict CAPTURE_IF INJECT_IF FRAMES.pcap PROGRAMS.ddd
 *
 * For every program (tcpdump -ddd blocks, one after the other): attach it with
 * SO_ATTACH_FILTER to an AF_PACKET socket bound to CAPTURE_IF, inject the frames of the pcap
 * one by one on INJECT_IF (the other end of a veth pair, in a namespace the test made), and
 * print what the kernel delivered:
 *
 *   prog N: INDEX:CAPLEN INDEX:CAPLEN ...   (frames numbered from 1; or "prog N: attach-error E")
 *
 * Each frame is followed by a sync frame of a length no test frame has (SYNC_LEN); an
 * unfiltered socket waits for it, and once it has arrived the filter has seen the frame
 * (taps run in order). What the filtered socket holds then is the frame's verdict; the sync
 * frame itself is recognised by its original length (PACKET_AUXDATA), however short the
 * filter cut it. Run as root inside the test's namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXF 4096

struct frame {
	uint8_t *data;
	uint32_t len;
};

static struct frame frames[MAXF];
static size_t nframes;

static uint32_t rd32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* A minimal pcap reader: the test writes plain little- or big-endian pcap. */
static int load_pcap(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t gh[24], rh[16];
	int swap;

	if (!f || fread(gh, 1, 24, f) != 24)
		return -1;
	if (rd32(gh, 0) == 0xa1b2c3d4 || rd32(gh, 0) == 0xa1b23c4d)
		swap = 0;
	else if (rd32(gh, 1) == 0xa1b2c3d4 || rd32(gh, 1) == 0xa1b23c4d)
		swap = 1;
	else
		return -1;
	while (fread(rh, 1, 16, f) == 16 && nframes < MAXF) {
		uint32_t cap = rd32(rh + 8, swap);

		if (cap > 65536)
			return -1;
		frames[nframes].data = malloc(cap ? cap : 1);
		frames[nframes].len = cap;
		if (fread(frames[nframes].data, 1, cap, f) != cap)
			return -1;
		nframes++;
	}
	fclose(f);
	return nframes ? 0 : -1;
}

static int open_bound(int ifindex, int proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons((uint16_t)proto),
				   .sll_ifindex = ifindex };
	int fd = socket(AF_PACKET, SOCK_RAW, 0), big = 16 << 20;

	if (fd < 0) {
		perror("socket(AF_PACKET)");
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (proto && bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("bind");
		exit(2);
	}
	return fd;
}

static void bind_all(int fd, int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = ifindex };

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("bind");
		exit(2);
	}
}

#define SYNC_LEN 1337
#define SYNC_TYPE 0x88b5 /* IEEE local experimental EtherType */

/* Wait until the sync frame has come through the unfiltered socket. */
static void wait_sync(int ctl)
{
	static uint8_t buf[70000];

	for (;;) {
		struct pollfd p = { .fd = ctl, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 3000) != 1) {
			fprintf(stderr, "cbpf_kverdict: the sync frame never arrived\n");
			exit(3);
		}
		n = recv(ctl, buf, sizeof(buf), 0);
		if (n == SYNC_LEN && buf[12] == (SYNC_TYPE >> 8) && buf[13] == (SYNC_TYPE & 0xff))
			return;
	}
}

/* A received packet and its original length (before the filter cut it). */
static ssize_t recv_aux(int fd, uint8_t *buf, size_t size, uint32_t *orig)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.b,
			      .msg_controllen = sizeof(cbuf.b) };
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	*orig = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA) {
			struct tpacket_auxdata aux;

			memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
			*orig = aux.tp_len;
		}
	}
	return n;
}

static int read_program(FILE *f, struct sock_filter *p, size_t *n)
{
	unsigned long count;

	if (fscanf(f, "%lu", &count) != 1)
		return 0;
	if (count > 65535)
		return -1;
	for (size_t i = 0; i < count; i++) {
		unsigned int code, jt, jf, k;

		if (fscanf(f, "%u %u %u %u", &code, &jt, &jf, &k) != 4)
			return -1;
		p[i] = (struct sock_filter){ (uint16_t)code, (uint8_t)jt, (uint8_t)jf, k };
	}
	*n = count;
	return 1;
}

int main(int argc, char **argv)
{
	static struct sock_filter prog[65536];
	static uint8_t buf[70000], sync[SYNC_LEN];
	int cap_if, inj_if, inj, ctl, rc, one = 1;
	FILE *pf;
	size_t n;
	unsigned int pno = 0;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };

	if (argc != 5) {
		fprintf(stderr, "usage: cbpf_kverdict CAPTURE_IF INJECT_IF FRAMES.pcap PROGRAMS.ddd\n");
		return 2;
	}
	cap_if = (int)if_nametoindex(argv[1]);
	inj_if = (int)if_nametoindex(argv[2]);
	if (!cap_if || !inj_if) {
		fprintf(stderr, "cbpf_kverdict: no such interface\n");
		return 2;
	}
	if (load_pcap(argv[3])) {
		fprintf(stderr, "cbpf_kverdict: cannot read %s\n", argv[3]);
		return 2;
	}
	for (size_t i = 0; i < nframes; i++)
		if (frames[i].len == SYNC_LEN || frames[i].len == SYNC_LEN + 4) {
			fprintf(stderr, "cbpf_kverdict: frame %zu has the sync frame's length %d\n", i + 1,
				SYNC_LEN);
			return 2;
		}
	memset(sync, 0xff, 6);
	memcpy(sync + 6, "\x02\x00\xff\xff\xff\xff", 6);
	sync[12] = SYNC_TYPE >> 8;
	sync[13] = SYNC_TYPE & 0xff;
	pf = fopen(argv[4], "r");
	if (!pf) {
		perror(argv[4]);
		return 2;
	}
	inj = open_bound(inj_if, 0);
	ctl = open_bound(cap_if, ETH_P_ALL);
	to.sll_ifindex = inj_if;
	while ((rc = read_program(pf, prog, &n)) == 1) {
		struct sock_fprog fp = { .len = (unsigned short)n, .filter = prog };
		int fd = socket(AF_PACKET, SOCK_RAW, 0), big = 16 << 20;

		pno++;
		if (fd < 0) {
			perror("socket");
			return 2;
		}
		/* the filter first, then bind: no packet reaches the socket unfiltered */
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp))) {
			printf("prog %u: attach-error %d\n", pno, errno);
			close(fd);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
		bind_all(fd, cap_if);
		printf("prog %u:", pno);
		for (size_t i = 0; i < nframes; i++) {
			uint32_t orig;
			ssize_t got;
			int seen = 0;

			memcpy(to.sll_addr, frames[i].data, frames[i].len >= 6 ? 6 : frames[i].len);
			if (sendto(inj, frames[i].data, frames[i].len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
				fprintf(stderr, "cbpf_kverdict: frame %zu not sent: %s\n", i + 1, strerror(errno));
			memcpy(to.sll_addr, sync, 6);
			if (sendto(inj, sync, sizeof(sync), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
				perror("sendto (sync)");
				return 2;
			}
			wait_sync(ctl);
			while ((got = recv_aux(fd, buf, sizeof(buf), &orig)) >= 0) {
				if (orig == SYNC_LEN)
					continue;
				if (seen++) {
					fprintf(stderr, "cbpf_kverdict: two packets for frame %zu\n", i + 1);
					return 3;
				}
				printf(" %zu:%zd", i + 1, got);
			}
		}
		printf("\n");
		fflush(stdout);
		close(fd);
	}
	if (rc < 0) {
		fprintf(stderr, "cbpf_kverdict: bad program file after program %u\n", pno);
		return 2;
	}
	return 0;
}
