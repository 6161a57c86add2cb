// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pangolin cbpf: classic BPF made readable, checkable and testable anywhere (docs/cbpf.md).
 *
 *   asm     text -> bytecode (C array like tcpdump -dd, -ddd, raw, struct sock_fprog)
 *   dis     bytecode -> listing like tcpdump -d, or labelled assembly
 *   verify  the kernel's rules, each rejection with its instruction; --kernel asks Linux too
 *   run     the VM over every packet of a capture file, one verdict per packet
 *   consts  the named constants the assembler knows
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cbpf.h"
#include "cli.h"
#include "pcap_io.h"

#define CMD "cbpf"

static void cbpf_help(FILE *out)
{
	fputs("usage: pangolin cbpf asm    [PROGRAM] [-f FORMAT] [-o FILE] [--no-verify]\n"
	      "       pangolin cbpf dis    [PROGRAM] [-f FORMAT] [-o FILE]\n"
	      "       pangolin cbpf verify [PROGRAM] [--kernel] [-q]\n"
	      "       pangolin cbpf run    [PROGRAM] CAPTURE.pcap [--vlan-offload] [-w OUT.pcap] [-q]\n"
	      "       pangolin cbpf consts\n"
	      "\n"
	      "Classic BPF, the socket-filter bytecode tcpdump and SO_ATTACH_FILTER use.\n"
	      "\n"
	      "PROGRAM is one of:\n"
	      "  FILE | -               a program: assembly with labels and #define constants,\n"
	      "                        a tcpdump -d listing, C initialisers ({ code, jt, jf, k },\n"
	      "                        BPF_STMT, BPF_JUMP), tcpdump -ddd output, or raw bytes\n"
	      "  -e, --expr EXPR       a tcpdump expression, compiled by libpcap\n"
	      "      --udp             the seed article's 2004 UDP filter (6 instructions)\n"
	      "\n"
	      "options:\n"
	      "  -f, --format FMT      asm: c (default, like tcpdump -dd), ddd, raw, fprog,\n"
	      "                        listing, asm; dis: listing (default, like tcpdump -d), asm,\n"
	      "                        c, ddd, raw, fprog\n"
	      "  -n, --name NAME       array name for -f fprog (default: filter)\n"
	      "  -o, --output FILE     write there instead of standard output\n"
	      "      --no-verify       asm: write the bytecode even if Linux would refuse it\n"
	      "      --linktype DLT    link type to compile -e for (default EN10MB; run: the file's)\n"
	      "      --live IFACE      compile -e as for a live capture on IFACE (Linux VLAN code);\n"
	      "                        needs CAP_NET_RAW\n"
	      "      --snaplen N       what the compiled program returns on a match (262144)\n"
	      "      --kernel          verify: also attach the program to a socket and report\n"
	      "                        whether this kernel accepts it\n"
	      "      --vlan-offload    run: remove the outer VLAN tag before filtering and show it\n"
	      "                        through ld [vlan_tci]/[vlanp]/[vlan_tpid], as Linux does\n"
	      "                        for filters on live sockets\n"
	      "  -w, --write FILE      run: write the accepted packets (cut to the verdict) to a pcap\n"
	      "      --seed N          run: seed of ld [random] (default 1)\n"
	      "      --ifindex N       run: what ld [ifidx] loads (default 0: a file has no interface)\n"
	      "  -q, --quiet           run: only the summary; verify: only the exit status\n"
	      "  -h, --help            this help\n"
	      "\n"
	      "exit status: 0 success (verify: accepted), 1 failure (verify: rejected),\n"
	      "2 bad command line\n",
	      out);
}

struct opts {
	const char *sub;
	const char *expr;
	bool udp;
	const char *format;
	const char *name;
	const char *output;
	bool no_verify;
	const char *linktype;
	const char *live;
	uint32_t snaplen;
	bool kernel;
	bool vlan_offload;
	const char *write;
	uint32_t seed;
	uint32_t ifindex;
	bool quiet;
	char **args;
	int nargs;
};

static int read_all(const char *path, char **data, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096, n = 0, got;
	char *buf;

	if (!f)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		goto nomem;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *nb;

			if (cap >= (64u << 20)) {
				free(buf);
				if (f != stdin)
					fclose(f);
				return -EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb)
				goto nomem;
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		int e = -errno;

		free(buf);
		if (f != stdin)
			fclose(f);
		return e ? e : -EIO;
	}
	if (f != stdin)
		fclose(f);
	*data = buf;
	*len = n;
	return 0;
nomem:
	free(buf);
	if (f != stdin)
		fclose(f);
	return -ENOMEM;
}

/* The program from -e, --udp or a file (or stdin). linktype applies to -e. */
static int load_program(const struct opts *o, const char *path, int linktype,
			struct pg_cbpf_prog *prog)
{
	char err[512];

	if (o->udp)
		return pg_cbpf_prog__set(prog, pg_cbpf_seed_udp, 6) ? PG_EXIT_FAIL : 0;
	if (o->expr) {
		if (pg_pcap_compile(o->expr, linktype, o->snaplen, o->live, prog, err, sizeof(err))) {
			pg_cli_err(CMD, "cannot compile '%s': %s", o->expr, err);
			return PG_EXIT_FAIL;
		}
		return 0;
	}
	{
		struct pg_cbpf_diag diag;
		char *data = NULL;
		size_t len = 0;
		int rc = read_all(path, &data, &len);

		if (rc) {
			pg_cli_err(CMD, "cannot read %s: %s", path, strerror(-rc));
			return PG_EXIT_FAIL;
		}
		rc = pg_cbpf_load(data, len, prog, &diag);
		free(data);
		if (rc) {
			if (diag.line && diag.col)
				fprintf(stderr, "%s:%u:%u: %s\n", path, diag.line, diag.col, diag.msg);
			else if (diag.line)
				fprintf(stderr, "%s:%u: %s\n", path, diag.line, diag.msg);
			else
				fprintf(stderr, "%s: %s\n", path, diag.msg);
			return PG_EXIT_FAIL;
		}
	}
	return 0;
}

static int write_out(const struct opts *o, const struct pg_buf *b)
{
	FILE *f = o->output && strcmp(o->output, "-") ? fopen(o->output, "wb") : stdout;

	if (!f) {
		pg_cli_err(CMD, "cannot open %s for writing: %s", o->output, strerror(errno));
		return PG_EXIT_FAIL;
	}
	if (b->err || fwrite(b->data, 1, b->len, f) != b->len || fflush(f)) {
		pg_cli_err(CMD, "write failed: %s", b->err ? strerror(-b->err) : strerror(errno));
		if (f != stdout)
			fclose(f);
		return PG_EXIT_FAIL;
	}
	if (f != stdout && fclose(f)) {
		pg_cli_err(CMD, "write failed: %s", strerror(errno));
		return PG_EXIT_FAIL;
	}
	return PG_EXIT_OK;
}

static void print_verdict(const char *source, const struct pg_cbpf_vresult *res, bool ok)
{
	for (size_t i = 0; i < res->nerrors && i < sizeof(res->errors) / sizeof(res->errors[0]); i++)
		fprintf(stderr, "%s: error: %s [%s]\n", source, res->errors[i].msg,
			pg_cbpf_verr_name(res->errors[i].code));
	if (res->nerrors > sizeof(res->errors) / sizeof(res->errors[0]))
		fprintf(stderr, "%s: ... %zu errors in all\n", source, res->nerrors);
	for (size_t i = 0; i < res->nwarnings; i++)
		fprintf(stderr, "%s: warning: %s\n", source, res->warnings[i].msg);
	(void)ok;
}

static const char *source_name(const struct opts *o, const char *path)
{
	return o->udp ? "--udp" : o->expr ? "-e" : path;
}

static int linktype_of(const struct opts *o)
{
	int lt = o->linktype ? pg_dlt_from_name(o->linktype) : DLT_EN10MB;

	if (lt < 0)
		pg_cli_err(CMD, "--linktype: unknown link type '%s' (e.g. EN10MB, LINUX_SLL, RAW)",
			   o->linktype);
	return lt;
}

static int do_asm_dis(const struct opts *o, bool is_asm)
{
	const char *path = o->nargs ? o->args[0] : "-";
	struct pg_cbpf_prog prog = { 0 };
	struct pg_cbpf_vresult res;
	struct pg_buf out = { 0 };
	int fmt, lt, rc;

	if (o->nargs > 1) {
		pg_cli_err(CMD, "%s takes one program (got '%s' too)", o->sub, o->args[1]);
		return PG_EXIT_USAGE;
	}
	fmt = pg_cbpf_format_from_name(o->format ? o->format : is_asm ? "c" : "listing");
	if (fmt < 0) {
		pg_cli_err(CMD, "-f: unknown format '%s' (listing, asm, c, ddd, raw, fprog)", o->format);
		return PG_EXIT_USAGE;
	}
	if ((lt = linktype_of(o)) < 0)
		return PG_EXIT_USAGE;
	if ((rc = load_program(o, path, lt, &prog)))
		return rc;
	if (is_asm && !o->no_verify && pg_cbpf_verify(prog.insns, prog.len, &res)) {
		print_verdict(source_name(o, path), &res, false);
		pg_cli_err(CMD, "Linux would refuse this program; --no-verify writes it anyway");
		pg_cbpf_prog__free(&prog);
		return PG_EXIT_FAIL;
	}
	pg_cbpf_write(prog.insns, prog.len, (enum pg_cbpf_format)fmt, o->name, &out);
	rc = write_out(o, &out);
	pg_buf__free(&out);
	pg_cbpf_prog__free(&prog);
	return rc;
}

/* Ask the running kernel: attach to a UDP socket (no privilege needed). 0 or -errno. */
static int kernel_accepts(const struct pg_cbpf_prog *prog)
{
	struct sock_fprog fp = { .len = (unsigned short)prog->len, .filter = prog->insns };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	if (prog->len > 0xffff)
		rc = -EINVAL; /* sock_fprog.len is 16 bits: such a program cannot even be passed */
	else if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)))
		rc = -errno;
	close(fd);
	return rc;
}

static int do_verify(const struct opts *o)
{
	const char *path = o->nargs ? o->args[0] : "-";
	struct pg_cbpf_prog prog = { 0 };
	struct pg_cbpf_vresult res;
	int lt, rc, status;

	if (o->nargs > 1) {
		pg_cli_err(CMD, "verify takes one program (got '%s' too)", o->args[1]);
		return PG_EXIT_USAGE;
	}
	if ((lt = linktype_of(o)) < 0)
		return PG_EXIT_USAGE;
	if ((rc = load_program(o, path, lt, &prog)))
		return rc;
	rc = pg_cbpf_verify(prog.insns, prog.len, &res);
	status = rc ? PG_EXIT_FAIL : PG_EXIT_OK;
	if (!o->quiet) {
		print_verdict(source_name(o, path), &res, !rc);
		if (!rc)
			printf("%s: ok: %zu instruction%s, accepted by Linux's classic BPF rules\n",
			       source_name(o, path), prog.len, prog.len == 1 ? "" : "s");
		else
			printf("%s: rejected: %zu error%s\n", source_name(o, path), res.nerrors,
			       res.nerrors == 1 ? "" : "s");
	}
	if (o->kernel) {
		int k = kernel_accepts(&prog);

		if (!o->quiet)
			printf("%s: this kernel %s\n", source_name(o, path),
			       k == 0 ? "accepts it" : k == -EINVAL ? "refuses it (EINVAL)" : strerror(-k));
		if ((k == 0) != (rc == 0) && (k == 0 || k == -EINVAL)) {
			pg_cli_err(CMD, "pangolin's verifier and this kernel disagree: please report it with the program");
			status = PG_EXIT_FAIL;
		}
	}
	pg_cbpf_prog__free(&prog);
	return status;
}

static int do_run(const struct opts *o, volatile sig_atomic_t *stop)
{
	const char *path, *capture;
	struct pg_cbpf_prog prog = { 0 };
	struct pg_cbpf_vresult res;
	struct pg_pcap_reader *r = NULL;
	struct pg_pcap_writer *w = NULL;
	struct pg_cbpf_vm *vm = NULL;
	struct pg_pcap_pkt pp;
	uint8_t *scratch = NULL;
	unsigned long long npk = 0, acc = 0, oob = 0, dz = 0, undelivered = 0;
	uint32_t rand_state = o->seed;
	char err[512];
	int rc, status = PG_EXIT_FAIL;

	if ((o->udp || o->expr) ? o->nargs != 1 : o->nargs != 2) {
		pg_cli_err(CMD, "run needs a program and a capture file: cbpf run [PROGRAM] FILE.pcap");
		return PG_EXIT_USAGE;
	}
	path = (o->udp || o->expr) ? NULL : o->args[0];
	capture = o->args[o->nargs - 1];
	r = pg_pcap_reader__open(capture, err, sizeof(err));
	if (!r) {
		pg_cli_err(CMD, "%s", err);
		return PG_EXIT_FAIL;
	}
	if ((rc = load_program(o, path, pg_pcap_reader__linktype(r), &prog))) {
		status = rc;
		goto out;
	}
	if (pg_cbpf_verify(prog.insns, prog.len, &res)) {
		print_verdict(source_name(o, path), &res, false);
		pg_cli_err(CMD, "Linux would refuse this program, so it has no verdicts to compute");
		goto out;
	}
	vm = pg_cbpf_vm__new(prog.insns, prog.len);
	scratch = malloc(pg_pcap_reader__snaplen(r) + 65536);
	if (!vm || !scratch) {
		pg_cli_err(CMD, "out of memory");
		goto out;
	}
	if (o->vlan_offload && pg_pcap_reader__linktype(r) != DLT_EN10MB) {
		pg_cli_err(CMD, "--vlan-offload models Ethernet receive; %s is not an Ethernet capture",
			   capture);
		status = PG_EXIT_USAGE;
		goto out;
	}
	if (o->write) {
		w = pg_pcap_writer__open(o->write, pg_pcap_reader__linktype(r),
					 pg_pcap_reader__snaplen(r), err, sizeof(err));
		if (!w) {
			pg_cli_err(CMD, "cannot write %s: %s", o->write, err);
			goto out;
		}
	}
	while ((rc = pg_pcap_reader__next(r, &pp)) == 1) {
		struct pg_cbpf_pkt pkt;
		enum pg_cbpf_exit why;
		size_t pc;
		uint32_t ret, keep;

		if (*stop)
			break;
		npk++;
		if (pp.caplen > pg_pcap_reader__snaplen(r) + 65536u) {
			pg_cli_err(CMD, "%s: packet %llu has %u bytes, more than the file's snapshot length",
				   capture, npk, pp.caplen);
			goto out;
		}
		if (pg_cbpf_pkt_init(&pkt, pg_pcap_reader__linktype(r), pp.data, pp.caplen, pp.len,
				     o->vlan_offload, scratch)) {
			undelivered++;
			if (!o->quiet)
				printf("%6llu  -       (Linux drops this frame before filters: VLAN tag cut short)\n",
				       npk);
			continue;
		}
		pkt.rand_state = &rand_state;
		pkt.anc.ifindex = o->ifindex;
		ret = pg_cbpf_vm__run_ex(vm, &pkt, &why, &pc);
		keep = ret < pkt.caplen ? ret : pkt.caplen;
		if (ret)
			acc++;
		if (why == PG_CBPF_X_OOB)
			oob++;
		if (why == PG_CBPF_X_DIV_X_ZERO)
			dz++;
		if (!o->quiet) {
			printf("%6llu  %-6s  ret %-10u  %u/%u bytes", npk, ret ? "accept" : "reject", ret,
			       keep, pkt.len);
			if (why == PG_CBPF_X_OOB)
				printf("  (instruction %zu loads past the end of the packet)", pc);
			else if (why == PG_CBPF_X_DIV_X_ZERO)
				printf("  (instruction %zu divides by X = 0)", pc);
			putchar('\n');
		}
		if (w && ret && pg_pcap_writer__write(w, pp.ts_ns, pkt.data, keep, pkt.len)) {
			pg_cli_err(CMD, "%s", pg_pcap_writer__error(w));
			goto out;
		}
	}
	if (rc < 0) {
		pg_cli_err(CMD, "%s (after %llu packets)", pg_pcap_reader__error(r), npk);
		goto out;
	}
	fprintf(stderr, "pangolin cbpf: %llu packets: %llu accepted, %llu rejected", npk, acc,
		npk - acc - undelivered);
	if (oob || dz)
		fprintf(stderr, " (%llu by a load past the end, %llu by division by zero)", oob, dz);
	if (undelivered)
		fprintf(stderr, ", %llu never reach a filter on Linux", undelivered);
	fputc('\n', stderr);
	status = *stop ? PG_EXIT_FAIL : PG_EXIT_OK;
out:
	if (w && pg_pcap_writer__close(w)) {
		pg_cli_err(CMD, "cannot write %s", o->write);
		status = PG_EXIT_FAIL;
	}
	free(scratch);
	pg_cbpf_vm__free(vm);
	pg_cbpf_prog__free(&prog);
	pg_pcap_reader__free(r);
	return status;
}

static int do_consts(void)
{
	for (size_t i = 0; i < pg_cbpf_nconsts; i++)
		printf("%-26s 0x%08x  %s\n", pg_cbpf_consts[i].name, pg_cbpf_consts[i].value,
		       pg_cbpf_consts[i].doc);
	return PG_EXIT_OK;
}

static int cbpf_run(const struct pg_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "expr", required_argument, NULL, 'e' },
		{ "udp", no_argument, NULL, 'U' },
		{ "format", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-verify", no_argument, NULL, 'N' },
		{ "linktype", required_argument, NULL, 'L' },
		{ "live", required_argument, NULL, 'I' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "kernel", no_argument, NULL, 'K' },
		{ "vlan-offload", no_argument, NULL, 'V' },
		{ "write", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 'S' },
		{ "ifindex", required_argument, NULL, 'X' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .snaplen = 262144, .seed = 1 };
	int c;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cbpf_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? PG_EXIT_USAGE : PG_EXIT_OK;
	}
	o.sub = argv[1];
	opterr = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "e:f:n:o:s:w:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.expr = optarg; break;
		case 'U': o.udp = true; break;
		case 'f': o.format = optarg; break;
		case 'n': o.name = optarg; break;
		case 'o': o.output = optarg; break;
		case 'N': o.no_verify = true; break;
		case 'L': o.linktype = optarg; break;
		case 'I': o.live = optarg; break;
		case 's': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 0);

			if (*end || !*optarg || v == 0 || v > 0xffffffffUL) {
				pg_cli_err(CMD, "--snaplen: '%s' is not a length from 1 to 4294967295", optarg);
				return PG_EXIT_USAGE;
			}
			o.snaplen = (uint32_t)v;
			break;
		}
		case 'K': o.kernel = true; break;
		case 'V': o.vlan_offload = true; break;
		case 'w': o.write = optarg; break;
		case 'S': o.seed = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'X': o.ifindex = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': o.quiet = true; break;
		case 'h': cbpf_help(stdout); return PG_EXIT_OK;
		default: return pg_cli_usage_error(CMD, argc, argv);
		}
	}
	if (o.expr && o.udp) {
		pg_cli_err(CMD, "-e and --udp both name a program: give one");
		return PG_EXIT_USAGE;
	}
	o.args = argv + optind;
	o.nargs = argc - optind;
	if ((o.expr || o.udp) && strcmp(o.sub, "run") && o.nargs) {
		pg_cli_err(CMD, "the program is given by %s; '%s' is one too many", o.udp ? "--udp" : "-e",
			   o.args[0]);
		return PG_EXIT_USAGE;
	}
	if (!strcmp(o.sub, "asm"))
		return do_asm_dis(&o, true);
	if (!strcmp(o.sub, "dis"))
		return do_asm_dis(&o, false);
	if (!strcmp(o.sub, "verify"))
		return do_verify(&o);
	if (!strcmp(o.sub, "run"))
		return do_run(&o, cli->stop);
	if (!strcmp(o.sub, "consts"))
		return do_consts();
	pg_cli_err(CMD, "unknown subcommand '%s' (asm, dis, verify, run, consts)", o.sub);
	return PG_EXIT_USAGE;
}

const struct pg_cmd pg_cmd_cbpf = {
	.name = "cbpf",
	.summary = "classic BPF: assemble, disassemble, verify, run over a pcap",
	.run = cbpf_run,
	.help = cbpf_help,
};
