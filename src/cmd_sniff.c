// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin sniff: packets through a classic BPF socket filter, decoded into events that go
 * through the same pipeline and sinks as every other event (docs/cbpf.md).
 *
 * The filter runs in the kernel (SO_ATTACH_FILTER) for a live capture and in pangolin's VM for
 * a file, so the same filter means the same thing both ways. Then --filter (the event filter
 * language) applies to the decoded packet, and what passes goes to the output and to -w.
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbpf.h"
#include "cli.h"
#include "pcap_io.h"
#include "sniff.h"

#define CMD "sniff"
#define STOP_COUNT (-ECANCELED) /* the callback's way to say -c was reached */

static void sniff_help(FILE *out)
{
	fputs("usage: pangolin sniff [-i IFACE | -r FILE.pcap] [FILTER] [options]\n"
	      "\n"
	      "Capture packets with a classic BPF filter attached to an AF_PACKET socket, so the\n"
	      "kernel drops what the filter rejects before it reaches pangolin; decode them\n"
	      "(Ethernet, VLAN, IPv4/IPv6, TCP/UDP ports, DNS queries and answers) into events.\n"
	      "\n"
	      "FILTER (one of; none captures everything):\n"
	      "  EXPR... | --filter-expr EXPR   a tcpdump expression, compiled by libpcap\n"
	      "  --udp                          the seed article's 2004 UDP filter (keeps 68 bytes)\n"
	      "  --program FILE                 a cBPF program (see 'pangolin cbpf --help')\n"
	      "\n"
	      "options:\n"
	      "  -i, --interface IFACE  capture on IFACE (default, or 'any': every Ethernet and\n"
	      "                         loopback interface); needs CAP_NET_RAW\n"
	      "  -r, --read FILE        read a capture file instead (the filter runs in pangolin's VM)\n"
	      "  -w, --write FILE       write the packets that pass to a pcap file (nanosecond\n"
	      "                         timestamps; '-' for standard output). With -w and no -o,\n"
	      "                         no events are printed, as with tcpdump -w\n"
	      "  -f, --filter EXPR      keep only events matching EXPR (docs/filter.md), e.g.\n"
	      "                         'qname endswith \".example.com\" && qtype == \"AAAA\"'\n"
	      "  -o, --output PATH      events to PATH ('-': standard output, the default)\n"
	      "      --format FMT       output format: json (default)\n"
	      "  -c, --count N          stop after N packets have passed to the outputs\n"
	      "  -s, --snaplen N        bytes a compiled expression keeps per packet (262144)\n"
	      "  -B, --buffer-size KIB  socket receive buffer in KiB (default 4096)\n"
	      "  -p, --no-promiscuous   do not put the interface in promiscuous mode\n"
	      "  -d                     print the program Linux would run (like tcpdump -d) and\n"
	      "                         exit; -dd as a C array, -ddd as decimal numbers\n"
	      "  -q, --quiet            no start line and no summary on standard error\n"
	      "  -h, --help             this help\n"
	      "\n"
	      "Stop with Ctrl-C: packets already queued are still written. The summary counts every\n"
	      "packet: captured, filtered, written, and dropped by the kernel for lack of buffer.\n"
	      "\n"
	      "exit status: 0 success, 1 failure or packets lost, 2 bad command line\n",
	      out);
}

struct run_state {
	struct pg_pipeline *pl;
	struct pg_source *src;
	struct pg_pcap_writer *w;
	uint64_t count; /* 0: no limit */
	uint64_t write_errors;
	int err;
};

/* Events go to the pipeline; those that pass its stages go to -w too. */
static int on_event(void *ctx, struct pg_event *ev)
{
	struct run_state *rs = ctx;
	uint64_t before = rs->pl->stats.passed;
	int rc = pg_pipeline__push(rs->pl, ev);

	if (rs->pl->stats.passed != before && rs->w) {
		struct pg_sniff_frame f;

		if (pg_sniff_frame(rs->src, &f) &&
		    pg_pcap_writer__write(rs->w, f.ts_ns, f.data, f.caplen, f.len)) {
			rs->write_errors++;
			if (!rs->err) {
				pg_cli_err(CMD, "%s", pg_pcap_writer__error(rs->w));
				rs->err = -EIO;
			}
			return -EIO;
		}
	}
	if (rc)
		return rc;
	if (rs->count && rs->pl->stats.passed >= rs->count)
		return STOP_COUNT;
	return 0;
}

static int read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	if (n > (16 << 20)) {
		fclose(f);
		return -EFBIG;
	}
	*data = malloc((size_t)n + 1);
	if (!*data || fread(*data, 1, (size_t)n, f) != (size_t)n) {
		free(*data);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static char *join_args(int argc, char **argv)
{
	size_t n = 0;
	char *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	s[0] = 0;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int sniff_run(const struct pg_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "filter", required_argument, NULL, 'f' },
		{ "filter-expr", required_argument, NULL, 'E' },
		{ "udp", no_argument, NULL, 'U' },
		{ "program", required_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ "count", required_argument, NULL, 'c' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "no-promiscuous", no_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *iface = NULL, *rpath = NULL, *wpath = NULL, *filter = NULL, *progfile = NULL;
	char *expr = NULL, *expr_alloc = NULL;
	bool udp = false, quiet = false, no_promisc = false;
	int dump = 0;
	uint64_t count = 0, bufkib = 0;
	uint32_t snaplen = 262144;
	struct pg_output_opts out = { 0 };
	bool out_given = false;
	struct pg_cbpf_prog prog = { 0 };
	struct pg_pipeline pl;
	struct pg_source *src = NULL;
	struct pg_pcap_writer *w = NULL;
	struct run_state rs = { 0 };
	struct pg_sniff_opts so = { 0 };
	char err[600];
	int c, rc, status = PG_EXIT_FAIL, linktype = DLT_EN10MB;
	double t0;

	opterr = 0;
	optind = 1;
	pg_pipeline__init(&pl);
	while ((c = getopt_long(argc, argv, "i:r:w:f:o:c:s:B:pdqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 'r': rpath = optarg; break;
		case 'w': wpath = optarg; break;
		case 'f': filter = optarg; break;
		case 'E': expr = optarg; break;
		case 'U': udp = true; break;
		case 'P': progfile = optarg; break;
		case 'o': out.spec = optarg; out_given = true; break;
		case 'F': out.format = optarg; break;
		case 'c':
			if (pg_parse_size(optarg, &count) || !count) {
				pg_cli_err(CMD, "-c: '%s' is not a positive count", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 's': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || v == 0 || v > 0x7fffffffUL) {
				pg_cli_err(CMD, "-s: '%s' is not a snapshot length", optarg);
				return PG_EXIT_USAGE;
			}
			snaplen = (uint32_t)v;
			break;
		}
		case 'B':
			if (pg_parse_size(optarg, &bufkib) || !bufkib || bufkib > (1u << 21)) {
				pg_cli_err(CMD, "-B: '%s' is not a size in KiB (1 to 2097152)", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'p': no_promisc = true; break;
		case 'd': dump++; break;
		case 'q': quiet = true; break;
		case 'h': sniff_help(stdout); return PG_EXIT_OK;
		default: return pg_cli_usage_error(CMD, argc, argv);
		}
	}
	if (iface && !strcmp(iface, "any"))
		iface = NULL; /* tcpdump's name for every interface */
	if (optind < argc) {
		if (expr) {
			pg_cli_err(CMD, "the filter expression is given twice (--filter-expr and '%s')",
				   argv[optind]);
			return PG_EXIT_USAGE;
		}
		expr = expr_alloc = join_args(argc - optind, argv + optind);
		if (!expr)
			return PG_EXIT_FAIL;
	}
	if ((expr != NULL) + udp + (progfile != NULL) > 1) {
		pg_cli_err(CMD, "give one filter: a tcpdump expression, --udp or --program");
		status = PG_EXIT_USAGE;
		goto out;
	}
	if (iface && rpath) {
		pg_cli_err(CMD, "-i captures live, -r reads a file: give one");
		status = PG_EXIT_USAGE;
		goto out;
	}
	if (dump > 3) {
		pg_cli_err(CMD, "-d, -dd or -ddd");
		status = PG_EXIT_USAGE;
		goto out;
	}

	/* the file's link type decides how an expression compiles */
	if (rpath) {
		struct pg_pcap_reader *peek;

		if (!strcmp(rpath, "-")) {
			pg_cli_err(CMD, "-r needs a file (the link type is read before the packets)");
			status = PG_EXIT_USAGE;
			goto out;
		}
		peek = pg_pcap_reader__open(rpath, err, sizeof(err));
		if (!peek) {
			pg_cli_err(CMD, "%s", err);
			goto out;
		}
		linktype = pg_pcap_reader__linktype(peek);
		pg_pcap_reader__free(peek);
	}

	/* the filter */
	if (udp) {
		rc = pg_cbpf_prog__set(&prog, pg_cbpf_seed_udp, 6);
	} else if (progfile) {
		struct pg_cbpf_diag diag;
		char *data = NULL;
		size_t len = 0;

		rc = read_file(progfile, &data, &len);
		if (rc) {
			pg_cli_err(CMD, "cannot read %s: %s", progfile, strerror(-rc));
			goto out;
		}
		rc = pg_cbpf_load(data, len, &prog, &diag);
		free(data);
		if (rc) {
			fprintf(stderr, "%s:%u:%u: %s\n", progfile, diag.line, diag.col, diag.msg);
			goto out;
		}
	} else if (expr) {
		/* live: compile as libpcap does for a live Linux socket (VLAN via ancillary loads) */
		const char *live = rpath ? NULL : iface ? iface : "lo";

		rc = pg_pcap_compile(expr, linktype, snaplen, live, &prog, err, sizeof(err));
		if (rc) {
			pg_cli_err(CMD, "cannot compile '%s': %s", expr, err);
			goto out;
		}
	} else {
		struct sock_filter all = BPF_STMT(BPF_RET | BPF_K, 0);

		all.k = snaplen;
		rc = pg_cbpf_prog__set(&prog, &all, 1);
	}
	if (rc) {
		pg_cli_err(CMD, "out of memory");
		goto out;
	}
	{
		struct pg_cbpf_vresult *res = malloc(sizeof(*res));

		if (!res)
			goto out;
		if (pg_cbpf_verify(prog.insns, prog.len, res)) {
			for (size_t i = 0; i < res->nerrors && i < 16; i++)
				pg_cli_err(CMD, "%s: %s", progfile ? progfile : "filter", res->errors[i].msg);
			pg_cli_err(CMD, "Linux would refuse this filter");
			free(res);
			goto out;
		}
		free(res);
	}

	if (dump) {
		struct pg_cbpf_prog kprog = { 0 };
		struct pg_buf b = { 0 };
		static const enum pg_cbpf_format fmts[] = { PG_CBPF_FMT_LISTING, PG_CBPF_FMT_C,
							    PG_CBPF_FMT_DDD };

		if (rpath) {
			rc = pg_cbpf_prog__set(&kprog, prog.insns, prog.len);
		} else {
			int ht = iface ? pg_iface_hatype(iface) : 0;

			if (ht < 0) {
				pg_cli_err(CMD, "%s: %s", iface, strerror(-ht));
				goto out;
			}
			rc = pg_sniff_program(prog.insns, prog.len, !iface, (unsigned int)ht, &kprog, err,
					      sizeof(err));
			if (rc) {
				pg_cli_err(CMD, "%s", err);
				goto out;
			}
		}
		pg_cbpf_write(kprog.insns, kprog.len, fmts[dump - 1], NULL, &b);
		fwrite(b.data, 1, b.len, stdout);
		pg_buf__free(&b);
		pg_cbpf_prog__free(&kprog);
		status = fflush(stdout) ? PG_EXIT_FAIL : PG_EXIT_OK;
		goto out;
	}

	/* outputs */
	if (pg_cli_add_filter(CMD, &pl, filter, false)) {
		status = PG_EXIT_USAGE;
		goto out;
	}
	if (!wpath || out_given) {
		struct pg_sink *sink;

		out.line_buffered = !out.spec || !strcmp(out.spec, "-") ? isatty(STDOUT_FILENO) : false;
		out.cmd = CMD;
		out.quiet = quiet;
		out.stop = cli->stop;
		if (wpath && !strcmp(wpath, "-") && (!out.spec || !strcmp(out.spec, "-"))) {
			pg_cli_err(CMD, "-w - and events both on standard output: send events elsewhere with -o");
			status = PG_EXIT_USAGE;
			goto out;
		}
		sink = pg_output__open(&out, err, sizeof(err));
		if (!sink) {
			pg_cli_err(CMD, "%s", err);
			goto out;
		}
		pg_pipeline__add_sink(&pl, sink);
	}

	/* the source */
	so.iface = iface;
	so.insns = prog.insns;
	so.len = prog.len;
	so.rcvbuf = (unsigned int)(bufkib * 1024);
	so.no_promisc = no_promisc;
	so.path = rpath;
	src = rpath ? pg_sniff_file__new(&so, err, sizeof(err)) : pg_sniff_live__new(&so, err, sizeof(err));
	if (!src) {
		pg_cli_err(CMD, "%s", err);
		goto out;
	}
	if (wpath) {
		w = pg_pcap_writer__open(wpath, rpath ? pg_sniff_file__linktype(src) : DLT_EN10MB,
					 snaplen > PG_SNIFF_BUFFER + 4 ? snaplen : PG_SNIFF_BUFFER + 4, err,
					 sizeof(err));
		if (!w) {
			pg_cli_err(CMD, "cannot write %s: %s", wpath, err);
			goto out;
		}
	}
	if (!quiet) {
		if (rpath)
			fprintf(stderr, "pangolin sniff: reading %s, filter of %zu instructions run by pangolin's VM\n",
				rpath, prog.len);
		else
			fprintf(stderr, "pangolin sniff: listening on %s, %zu instructions attached (%zu of the filter); Ctrl-C stops\n",
				pg_sniff_live__describe(src), pg_sniff_live__program(src)->len, prog.len);
	}

	rs.pl = &pl;
	rs.src = src;
	rs.w = w;
	rs.count = count;
	t0 = pg_now_seconds();
	status = PG_EXIT_OK;
	for (double last_stats = t0;;) {
		/* the kernel's counters are 32-bit and reset when read: read them often enough */
		if (!rpath && pg_now_seconds() - last_stats > 1.0) {
			struct pg_sniff_stats st;

			pg_sniff_stats(src, &st);
			last_stats = pg_now_seconds();
		}
		if (*cli->stop) {
			/* drain what the kernel already queued for us: it passed the filter */
			if (!rpath) {
				while ((rc = pg_source__poll(src, 0, on_event, &rs)) > 0)
					;
				if (rc < 0 && rc != STOP_COUNT)
					status = PG_EXIT_FAIL;
			}
			break;
		}
		rc = pg_source__poll(src, 200, on_event, &rs);
		if (rc == PG_SOURCE_EOF || rc == STOP_COUNT)
			break;
		if (rc < 0) {
			/* a -w failure was reported where it happened */
			if (!rs.err)
				pg_cli_err(CMD, "%s", src->errmsg[0] ? src->errmsg : strerror(-rc));
			status = PG_EXIT_FAIL;
			break;
		}
		if (rc > 0) {
			pg_pipeline__flush(&pl, 0);
			if (w)
				pg_pcap_writer__flush(w);
		}
	}
	if (pg_pipeline__flush(&pl, 5000))
		status = PG_EXIT_FAIL;
	if (w) {
		uint64_t written = pg_pcap_writer__count(w);

		rc = pg_pcap_writer__close(w);
		w = NULL;
		if (rc) {
			pg_cli_err(CMD, "cannot finish %s", wpath);
			status = PG_EXIT_FAIL;
		}
		if (!quiet)
			fprintf(stderr, "pangolin sniff: %llu packets written to %s\n",
				(unsigned long long)written, wpath);
	}
	{
		struct pg_sniff_stats st;
		double secs = pg_now_seconds() - t0;

		pg_sniff_stats(src, &st);
		if (!quiet) {
			if (rpath)
				fprintf(stderr, "pangolin sniff: %llu packets in %s: %llu passed the filter, %llu rejected",
					(unsigned long long)st.file_read, rpath,
					(unsigned long long)st.received, (unsigned long long)st.file_rejected);
			else
				fprintf(stderr, "pangolin sniff: %llu packets captured; kernel: %llu passed the filter, %llu dropped (receive buffer full)",
					(unsigned long long)st.received,
					(unsigned long long)st.kernel_passed,
					(unsigned long long)st.kernel_dropped);
			/* packets the kernel queued after the last read (-c, or during the stop) */
			if (!rpath && st.kernel_passed > st.received + st.kernel_dropped)
				fprintf(stderr, ", %llu queued but not read before stopping",
					(unsigned long long)(st.kernel_passed - st.received - st.kernel_dropped));
			fprintf(stderr, "; %llu events out, %llu filtered by --filter in %.2f s\n",
				(unsigned long long)pl.stats.passed, (unsigned long long)pl.stats.filtered,
				secs);
		}
		if (st.kernel_dropped) {
			pg_cli_err(CMD, "%llu packets were lost in the kernel: raise -B or filter more",
				   (unsigned long long)st.kernel_dropped);
			status = PG_EXIT_FAIL;
		}
		if (pl.stats.sink_errors || pl.stats.stage_errors)
			status = PG_EXIT_FAIL;
	}
out:
	if (w)
		pg_pcap_writer__close(w);
	pg_source__free(src);
	pg_pipeline__destroy(&pl);
	pg_cbpf_prog__free(&prog);
	free(expr_alloc);
	return status;
}

const struct pg_cmd pg_cmd_sniff = {
	.name = "sniff",
	.summary = "capture packets through a classic BPF filter into events",
	.run = sniff_run,
	.help = sniff_help,
};
