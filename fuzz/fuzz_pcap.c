// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A capture file is untrusted input. Arbitrary bytes go to libpcap's reader (through
 * fmemopen and pcap_fopen_offline, as pangolin sniff -r reads a file), and every frame it
 * yields through pangolin's decoders: the packet decoder (then the NDJSON encoder and the
 * strict decoder, which must round-trip exactly), the VM's packet model and payload offset.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf.h"
#include "json.h"
#include "packet.h"
#include "pcap_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	struct pg_pcap_reader *r;
	struct pg_pcap_pkt pp;
	char err[512];
	int n = 0;
	static struct pg_event ev, back;
	static struct pg_json_decoder dec;

	if (!f)
		return 0;
	r = pg_pcap_reader__fopen(f, "fuzz", err, sizeof(err));
	if (!r)
		return 0;
	while (n++ < 64 && pg_pcap_reader__next(r, &pp) == 1) {
		int lt = pg_pcap_reader__linktype(r);
		uint8_t *copy = malloc(pp.caplen ? pp.caplen : 1);
		uint8_t *scratch = malloc(pp.caplen ? pp.caplen : 1);
		struct pg_buf b = { 0 }, b2 = { 0 };
		struct pg_json_error jerr;
		struct pg_cbpf_pkt cp;

		memcpy(copy, pp.data, pp.caplen);
		if (!pg_packet_linktype_supported(lt))
			lt = DLT_EN10MB;
		pg_packet_decode(&ev, lt, copy, pp.caplen, pp.len, NULL);
		pg_json_encode(&ev, &b);
		if (pg_json_decode(&dec, b.data, b.len, &back, &jerr)) {
			fprintf(stderr, "decoder refuses the encoder's line: %s\n%.*s\n", jerr.msg,
				(int)b.len, b.data);
			abort();
		}
		pg_json_encode(&back, &b2);
		if (b.len != b2.len || memcmp(b.data, b2.data, b.len))
			abort();
		if (!pg_cbpf_pkt_init(&cp, lt, copy, pp.caplen, pp.len, lt == DLT_EN10MB, scratch))
			(void)pg_cbpf_payload_offset(&cp);
		pg_buf__free(&b);
		pg_buf__free(&b2);
		free(scratch);
		free(copy);
	}
	pg_pcap_reader__free(r);
	return 0;
}
