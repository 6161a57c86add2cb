"""pangolin cbpf: the command line, against tcpdump/libpcap and the running kernel.

These run as any user (SO_ATTACH_FILTER on a UDP socket needs no privilege), in both the
release and the sanitizer build.
"""
import itertools
import pathlib
import re
import subprocess

import pytest

import pktlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "cbpf" / "seed_udp.cbpf"

EXPRS = [
    "udp", "tcp", "icmp", "ip6", "arp", "port 53", "udp port 53", "tcp port 80 or tcp port 443",
    "host 10.0.0.1", "net 192.168.0.0/16", "src host 10.1.2.3 and dst port 22",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "ip[8] < 64", "len > 100", "greater 200",
    "less 60", "vlan", "vlan 100", "vlan and udp", "vlan 100 and tcp port 80", "ip6 and udp port 53",
    "icmp6", "ip proto 47", "ether host 02:00:00:00:00:01", "ether broadcast", "ether multicast",
    "ip multicast", "portrange 1000-2000", "udp portrange 5000-5100 or icmp",
    "tcp dst port 443 and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x16030100)", "ip[2:2] > 576",
    "ip and not tcp", "not arp and not ip6", "ip6 proto 58", "ip[6:2] & 0x1fff != 0",
    "udp[8:2] = 0x1234", "ether proto 0x88cc", "mpls", "pppoes", "ip[1] % 4 = 1",
    "ip[1] ^ 4 = 1", "ip[0] * 2 > 9 and ip[0] / 2 < 40 and ip[0] - 1 != 3",
    "ip[0] << 1 > 3 and ip[0] >> 1 > 1", "ip[0] | 1 = 69 and ip[0] & 0xf = 5",
    "mpls 100 and udp", "pppoes 1 and ip", "vlan and mpls", "icmp[icmptype] == icmp-echo",
    "tcp[13] & 7 != 0", "ip6[6] == 17", "ether src 02:00:00:00:00:01 or ether dst ff:ff:ff:ff:ff:ff",
]


def run(pangolin, *args, inp=None):
    return subprocess.run([pangolin, *args], input=inp, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def empty_pcap(tmp_path_factory):
    p = tmp_path_factory.mktemp("cbpf") / "empty.pcap"
    pktlib.write_pcap(p, [])
    return p


@pytest.fixture(scope="module")
def frames_pcap(tmp_path_factory):
    p = tmp_path_factory.mktemp("cbpf") / "frames.pcap"
    pktlib.write_pcap(p, [f for _, f in pktlib.test_frames(pktlib.mac("02:02:02:02:02:02"))])
    return p


def tcpdump(*args):
    return subprocess.run(["tcpdump", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("expr", EXPRS)
def test_dis_is_tcpdump_d(pangolin, empty_pcap, expr):
    """The listing is byte for byte what tcpdump -d prints for the same expression."""
    want = tcpdump("-r", str(empty_pcap), "-d", expr)
    assert want.returncode == 0, want.stderr
    got = run(pangolin, "cbpf", "dis", "-e", expr)
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout


@pytest.mark.parametrize("expr", EXPRS[::4])
def test_roundtrips(pangolin, empty_pcap, tmp_path, expr):
    """tcpdump -dd == asm(dis(...)) in every text format, and raw bytes come back unchanged."""
    want = tcpdump("-r", str(empty_pcap), "-dd", expr).stdout
    c = run(pangolin, "cbpf", "asm", "-e", expr, "-f", "c").stdout
    assert c == want
    for fmt in ("listing", "asm", "ddd", "fprog", "c"):
        text = run(pangolin, "cbpf", "dis", "-e", expr, "-f", fmt).stdout
        back = run(pangolin, "cbpf", "asm", "-", "-f", "c", inp=text)
        assert back.returncode == 0, f"{fmt}: {back.stderr}\n{text}"
        assert back.stdout == want, fmt
    ddd = tcpdump("-r", str(empty_pcap), "-ddd", expr).stdout
    assert run(pangolin, "cbpf", "asm", "-", "-f", "c", inp=ddd).stdout == want
    raw = tmp_path / "prog.bin"
    subprocess.run([pangolin, "cbpf", "asm", "-e", expr, "-f", "raw", "-o", str(raw)], check=True)
    assert raw.stat().st_size % 8 == 0
    assert run(pangolin, "cbpf", "dis", str(raw), "-f", "c").stdout == want


def test_seed_program(pangolin):
    """The article's 2004 program, #define table and all, assembles to its own bytecode."""
    a = run(pangolin, "cbpf", "asm", str(SEED))
    b = run(pangolin, "cbpf", "asm", "--udp")
    c = run(pangolin, "cbpf", "asm", str(ROOT / "examples" / "cbpf" / "seed_udp_labels.cbpf"))
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout == c.stdout
    assert a.stdout.splitlines() == [
        "{ 0x28, 0, 0, 0x0000000c },", "{ 0x15, 0, 3, 0x00000800 },",
        "{ 0x30, 0, 0, 0x00000017 },", "{ 0x15, 0, 1, 0x00000011 },",
        "{ 0x6, 0, 0, 0x00000044 },", "{ 0x6, 0, 0, 0x00000000 },"]
    v = run(pangolin, "cbpf", "verify", str(SEED), "--kernel")
    assert v.returncode == 0 and "this kernel accepts it" in v.stdout


# (what, program text, stable error name, words of the message)
BAD = [
    ("unknown opcode", "{ 0xf4, 0, 0, 0 }\nret #0\n", "bad-opcode", "not a classic BPF instruction"),
    ("eBPF jump", "{ 0x55, 0, 0, 1 }\nret #0\nret #1\n", "ebpf-opcode", "eBPF jump jne"),
    ("eBPF ALU", "{ 0xb4, 0, 0, 1 }\nret #0\n", "ebpf-opcode", "mov"),
    ("ldx from the packet", "{ 0x29, 0, 0, 12 }\nret #0\n", "ldx-packet", "ldx cannot load from the packet"),
    ("ret x", "ret x\n", "ret-x", "ret x is not allowed"),
    ("sized immediate", "{ 0x08, 0, 0, 1 }\nret #0\n", "bad-size", "32-bit"),
    ("division by 0", "ld #1\ndiv #0\nret a\n", "div-zero", "division by the constant 0"),
    ("modulo by 0", "ld #1\nmod #0\nret a\n", "mod-zero", "modulo by the constant 0"),
    ("shift by 32", "ld #1\nlsh #32\nret a\n", "shift-range", "shift by 32"),
    ("M[16]", "ld #1\nst M[16]\nret a\n", "mem-index", "M[16] does not exist"),
    ("ja past the end", "{ 0x05, 0, 0, 5 }\nret #0\n", "ja-range", "past the last instruction"),
    ("jt past the end", "{ 0x15, 9, 0, 1 }\nret #0\n", "jt-range", "true branch"),
    ("jf past the end", "{ 0x15, 0, 9, 1 }\nret #0\n", "jf-range", "false branch"),
    ("unknown ancillary", "ld [SKF_AD_OFF + 68]\nret a\n", "ancillary", "names no ancillary value"),
    ("no return at the end", "ret #0\nld #1\n", "no-ret", "must be a return"),
    ("M[] read before write", "ld M[3]\nret a\n", "mem-uninit", "M[3] is read"),
    ("M[] written on one path", "ldb [0]\njeq #1, s, l\ns: st M[0]\nl: ld M[0]\nret a\n",
     "mem-uninit", "some path reaches here"),
    ("too long", "ld #1\n" * 4096 + "ret a\n", "too-long", "at most 4096"),
]


@pytest.mark.parametrize("what,text,name,words", BAD, ids=[b[0] for b in BAD])
def test_verifier_rejects(pangolin, tmp_path, what, text, name, words):
    p = tmp_path / "bad.cbpf"
    p.write_text(text)
    r = run(pangolin, "cbpf", "verify", str(p), "--kernel")
    assert r.returncode == 1, r.stdout + r.stderr
    first = [line for line in r.stderr.splitlines() if ": error: " in line][0]
    assert f"[{name}]" in first and words in first, first
    # messages about one instruction name it
    if name not in ("too-long",):
        assert re.search(r"instruction \d+ \(", first), first
    assert "this kernel refuses it (EINVAL)" in r.stdout
    assert "disagree" not in r.stderr


def test_verifier_distinct_kinds():
    assert len({b[2] for b in BAD}) >= 15


def _more_exprs():
    """A few hundred expressions libpcap compiles: every protocol with ports, hosts, nets."""
    protos = ["", "tcp ", "udp ", "sctp "]
    dirs = ["", "src ", "dst "]
    out = [f"{p}{d}port {port}" for p, d, port in itertools.product(protos, dirs, [22, 53, 443, 65535])]
    out += [f"{d}host {h}" for d, h in itertools.product(dirs, ["10.0.0.1", "::1", "fe80::1"])]
    out += [f"{d}net {n}" for d, n in itertools.product(dirs, ["10.0.0.0/8", "2001:db8::/32"])]
    out += [f"ip6 and {p}" for p in ["tcp", "udp", "icmp6", "tcp port 80", "udp portrange 1-100"]]
    out += [f"vlan {v} and {p}" for v, p in itertools.product([1, 4094], ["ip", "ip6", "udp port 53"])]
    out += [f"{p} and {d}host 10.0.0.1 and not port 22" for p, d in itertools.product(["tcp", "udp", "icmp"], dirs)]
    out += [f"{w} {n}" for w, n in itertools.product(["less", "greater", "len <=", "len >="], [60, 1500])]
    out += ["ether proto \\arp", "ip proto \\tcp", "decnet", "stp", "llc", "ipx",
            "atalk", "netbeui", "iso", "isis", "ip6 multicast", "ip[0:4] = 0x45000054",
            "tcp[tcpflags] & tcp-rst != 0", "icmp6[icmp6type] == icmp6-echo", "geneve", "geneve and udp"]
    return out


def test_verifier_accepts_libpcap(pangolin):
    """Everything libpcap compiles passes, and the kernel agrees (protochain is the exception:
    libpcap makes a loop for it, and Linux refuses loops)."""
    exprs = EXPRS + _more_exprs()
    assert len(exprs) >= 150
    failed = []
    for e in exprs:
        r = run(pangolin, "cbpf", "verify", "-e", e, "--kernel")
        if r.returncode != 0 or "this kernel accepts it" not in r.stdout:
            failed.append(f"{e}: {r.stdout} {r.stderr}")
    assert not failed, "\n".join(failed[:10])
    r = run(pangolin, "cbpf", "verify", "-e", "ip6 protochain 17", "--kernel")
    assert r.returncode == 1 and "[ja-range]" in r.stderr and "refuses it" in r.stdout


@pytest.mark.parametrize("expr", EXPRS)
def test_run_matches_libpcap(pangolin, frames_pcap, tmp_path, expr):
    """The VM accepts exactly the packets libpcap's bpf_filter() accepts (tcpdump -r -w)."""
    kept = tmp_path / "kept.pcap"
    want = tcpdump("-r", str(frames_pcap), "-w", str(kept), expr)
    assert want.returncode == 0, want.stderr
    frames = [f for _, _, f in pktlib.read_pcap(frames_pcap)]
    want_idx = [frames.index(f) + 1 for _, _, f in pktlib.read_pcap(kept)]
    r = run(pangolin, "cbpf", "run", "-e", expr, str(frames_pcap))
    assert r.returncode == 0, r.stderr
    got_idx = [int(line.split()[0]) for line in r.stdout.splitlines() if " accept " in line]
    assert got_idx == want_idx


def test_run_explains(pangolin, tmp_path, frames_pcap):
    """run says which instruction ended a packet early, and -w keeps the accepted ones."""
    p = tmp_path / "p.cbpf"
    p.write_text("ld [60]\nret #1000\n")
    out = tmp_path / "out.pcap"
    r = run(pangolin, "cbpf", "run", str(p), str(frames_pcap), "-w", str(out))
    assert r.returncode == 0, r.stderr
    assert "instruction 0 loads past the end of the packet" in r.stdout
    m = re.search(r"(\d+) packets: (\d+) accepted, (\d+) rejected \((\d+) by a load past the end", r.stderr)
    assert m, r.stderr
    total, acc, rej, oob = map(int, m.groups())
    assert acc + rej == total and oob == rej and acc > 0
    written = pktlib.read_pcap(out)
    assert len(written) == acc
    assert all(cap == min(1000, wire) for cap, wire, _ in written)


def test_asm_errors_name_the_line(pangolin, tmp_path):
    p = tmp_path / "bad.cbpf"
    p.write_text("; a comment\n\tldh [12]\n\tjeq #0x800, ok, nowhere\nok:\tret #1\n")
    r = run(pangolin, "cbpf", "asm", str(p))
    assert r.returncode == 1
    assert f"{p}:3:" in r.stderr and "undefined label 'nowhere'" in r.stderr
    p.write_text("{ BPF_JEQ, 0, 1, 0x800 },\nret #0\nret #1\n")
    r = run(pangolin, "cbpf", "asm", str(p))
    assert r.returncode == 1 and "BPF_JMP|BPF_JEQ|BPF_K" in r.stderr
    r = run(pangolin, "cbpf", "asm", str(p), "--no-verify")
    assert r.returncode == 1  # still not assemblable: the message is an assembler error


def test_asm_refuses_unverifiable_unless_asked(pangolin, tmp_path):
    p = tmp_path / "bad.cbpf"
    p.write_text("ld #1\ndiv #0\nret a\n")
    r = run(pangolin, "cbpf", "asm", str(p))
    assert r.returncode == 1 and "div-zero" in r.stderr
    r = run(pangolin, "cbpf", "asm", str(p), "--no-verify", "-f", "ddd")
    assert r.returncode == 0 and r.stdout.splitlines()[2] == "52 0 0 0"


def test_consts(pangolin):
    r = run(pangolin, "cbpf", "consts")
    names = {line.split()[0]: int(line.split()[1], 16) for line in r.stdout.splitlines()}
    assert names["BPF_LD_H"] == 0x28 and names["ETHERTYPE_IPV4"] == 0x800
    assert names["PROTO_UDP"] == 17 and names["SKF_AD_OFF"] == 0xfffff000
    assert names["BPF_JEQ"] == 0x10  # linux/filter.h's meaning; the seed file #defines its own


def test_usage_errors(pangolin):
    assert run(pangolin, "cbpf").returncode == 2
    assert run(pangolin, "cbpf", "frobnicate").returncode == 2
    assert run(pangolin, "cbpf", "dis", "-e", "udp", "--udp").returncode == 2
    r = run(pangolin, "cbpf", "dis", "-e", "udp and and")
    assert r.returncode == 1 and "cannot compile" in r.stderr
    r = run(pangolin, "cbpf", "dis", "-f", "weird", "--udp")
    assert r.returncode == 2
