// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin's cBPF VM against libpcap's own interpreter (bpf_filter(), through
 * pcap_offline_filter) on the same packets and the same programs, in one process.
 *
 *   cbpf_bench FILE.pcap ROUNDS PASSES FILTER...      (FILTER: a tcpdump expression, or "seed")
 *
 * Packets are loaded into memory first, and each side gets its per-packet context built once
 * (libpcap a struct pcap_pkthdr, pangolin a struct pg_cbpf_pkt), so only the interpreters are
 * timed. Each round runs every filter on both sides, in alternating order, PASSES times over
 * all packets. Reported: each side's median packets/s over the rounds, and the median of the
 * per-round ratios (both sides ran back to back in a round, so that pairing cancels most of a
 * shared machine's slow drift) with its lowest and highest value. Verdicts must agree, packet
 * by packet, or the benchmark stops.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbpf.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *in, *dead;
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t n = 0, cap = 1 << 16;
	struct pcap_pkthdr *hdrs;
	uint8_t **data;
	struct pg_cbpf_pkt *pk;
	int rounds, passes, nf;
	volatile uint64_t sink = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: cbpf_bench FILE.pcap ROUNDS PASSES FILTER...\n");
		return 2;
	}
	rounds = atoi(argv[2]);
	passes = atoi(argv[3]);
	nf = argc - 4;
	in = pcap_open_offline(argv[1], err);
	if (!in) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	hdrs = malloc(cap * sizeof(*hdrs));
	data = malloc(cap * sizeof(*data));
	while (pcap_next_ex(in, &h, &d) == 1) {
		if (n == cap) {
			cap *= 2;
			hdrs = realloc(hdrs, cap * sizeof(*hdrs));
			data = realloc(data, cap * sizeof(*data));
		}
		hdrs[n] = *h;
		data[n] = malloc(h->caplen);
		memcpy(data[n], d, h->caplen);
		n++;
	}
	pk = malloc(n * sizeof(*pk));
	for (size_t i = 0; i < n; i++)
		pg_cbpf_pkt_init(&pk[i], DLT_EN10MB, data[i], hdrs[i].caplen, hdrs[i].len, false, NULL);
	dead = pcap_open_dead(DLT_EN10MB, 262144);
	printf("%zu packets from %s; %d rounds of %d passes per filter and side\n\n", n, argv[1],
	       rounds, passes);
	printf("%-44s %5s %12s %13s %7s %13s\n", "filter", "insns", "libpcap Mpps", "pangolin Mpps",
	       "ratio", "(min..max)");
	for (int f = 0; f < nf; f++) {
		struct bpf_program bp;
		struct pg_cbpf_vm *vm;
		double *tl = malloc((size_t)rounds * sizeof(double));
		double *tp = malloc((size_t)rounds * sizeof(double));
		double *ratio = malloc((size_t)rounds * sizeof(double));
		double ml, mp, mr;
		size_t acc = 0;

		if (!strcmp(argv[4 + f], "seed")) {
			bp.bf_len = 6;
			bp.bf_insns = malloc(sizeof(pg_cbpf_seed_udp));
			memcpy(bp.bf_insns, pg_cbpf_seed_udp, sizeof(pg_cbpf_seed_udp));
		} else if (pcap_compile(dead, &bp, argv[4 + f], 1, PCAP_NETMASK_UNKNOWN)) {
			fprintf(stderr, "%s: %s\n", argv[4 + f], pcap_geterr(dead));
			return 1;
		}
		vm = pg_cbpf_vm__new((const struct sock_filter *)bp.bf_insns, bp.bf_len);
		if (!vm) {
			fprintf(stderr, "%s: the verifier refuses it\n", argv[4 + f]);
			return 1;
		}
		/* both sides must say the same thing about every packet */
		for (size_t i = 0; i < n; i++) {
			uint32_t a = (uint32_t)pcap_offline_filter(&bp, &hdrs[i], data[i]);
			uint32_t b = pg_cbpf_vm__run(vm, &pk[i]);

			if (a != b) {
				fprintf(stderr, "%s: packet %zu: libpcap %u, pangolin %u\n", argv[4 + f], i, a, b);
				return 1;
			}
			acc += a != 0;
		}
		for (int r = 0; r < rounds; r++) {
			for (int side = 0; side < 2; side++) {
				/* alternate which side goes first, round by round */
				int which = (side + r) % 2;
				double t0 = now();

				for (int p = 0; p < passes; p++) {
					if (which == 0)
						for (size_t i = 0; i < n; i++)
							sink += (uint32_t)pcap_offline_filter(&bp, &hdrs[i], data[i]);
					else
						for (size_t i = 0; i < n; i++)
							sink += pg_cbpf_vm__run(vm, &pk[i]);
				}
				(which == 0 ? tl : tp)[r] = now() - t0;
			}
		}
		for (int r = 0; r < rounds; r++)
			ratio[r] = tl[r] / tp[r];
		ml = (double)n * passes / median(tl, rounds) / 1e6;
		mp = (double)n * passes / median(tp, rounds) / 1e6;
		mr = median(ratio, rounds); /* sorts ratio */
		printf("%-44.44s %5u %12.1f %13.1f %6.2fx %5.2f..%-5.2f  %zu/%zu accepted\n",
		       argv[4 + f], bp.bf_len, ml, mp, mr, ratio[0], ratio[rounds - 1], acc, n);
		free(ratio);
		pg_cbpf_vm__free(vm);
		pcap_freecode(&bp);
		free(tl);
		free(tp);
	}
	(void)sink;
	return 0;
}
