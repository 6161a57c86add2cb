#!/usr/bin/env python3
"""Regenerate the seed corpora of fuzz_cbpf_asm, fuzz_cbpf_verify_vm, fuzz_pcap and
fuzz_dns_parse from the test traffic (tests/integration/pktlib.py) and the example programs.

    /usr/bin/python3 tests/fuzz-corpus/gen_cbpf_corpora.py build/pangolin   (needs python3-dnspython)
"""
import os
import pathlib
import struct
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import pktlib  # noqa: E402

import dns.message  # noqa: E402
import dns.rrset  # noqa: E402

OUT = ROOT / "tests" / "fuzz-corpus"
EXPRS = ["udp", "tcp port 80 or tcp port 443", "vlan 100 and udp", "ip[6:2] & 0x1fff != 0",
         "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "ip6 and udp port 53", "len > 100"]


def put(name, fname, data):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / fname).write_bytes(data if isinstance(data, bytes) else data.encode())


def main(pangolin):
    frames = [f for _, f in pktlib.test_frames(pktlib.mac("02:02:02:02:02:02"))]
    # assembler: the examples, and every text form of some libpcap programs
    for p in sorted((ROOT / "examples" / "cbpf").glob("*.cbpf")):
        put("cbpf_asm", p.name, p.read_bytes())
    for i, e in enumerate(EXPRS):
        for fmt in ("listing", "asm", "c", "ddd", "fprog"):
            out = subprocess.run([pangolin, "cbpf", "dis", "-e", e, "-f", fmt], check=True,
                                 capture_output=True).stdout
            put("cbpf_asm", f"expr{i}.{fmt}", out)
    put("cbpf_asm", "stmt_jump.c", "BPF_STMT(BPF_LD|BPF_H|BPF_ABS, 12),\n"
        "BPF_JUMP(BPF_JMP+BPF_JEQ+BPF_K, ETHERTYPE_IPV6, 0, 1),\nBPF_STMT(BPF_RET|BPF_K, -1),\n"
        "BPF_STMT(BPF_RET|BPF_K, 0),\n")
    # VM: raw programs (flag 0) and structured ones (flag 1) on frames
    for i, e in enumerate(EXPRS + ["--udp"]):
        args = ["--udp"] if e == "--udp" else ["-e", e]
        raw = subprocess.run([pangolin, "cbpf", "asm", *args, "-f", "raw"], check=True,
                             capture_output=True).stdout
        n = len(raw) // 8
        if n > 64:
            continue
        for j, fr in enumerate(frames[::7]):
            put("cbpf_verify_vm", f"prog{i}_frame{j}", bytes([0, n - 1]) + raw + fr)
    put("cbpf_verify_vm", "structured", bytes([1, 15]) + bytes(range(128)) + frames[0])
    # pcap: the test traffic in microsecond pcap, nanosecond pcap and pcapng
    tmp = OUT / "pcap"
    tmp.mkdir(parents=True, exist_ok=True)
    pktlib.write_pcap(tmp / "frames.pcap", frames)
    subprocess.run([pangolin, "cbpf", "run", "-e", "udp or vlan", str(tmp / "frames.pcap"), "-q",
                    "-w", str(tmp / "frames_ns.pcap")], check=True, capture_output=True)
    subprocess.run(["editcap", "-F", "pcapng", str(tmp / "frames.pcap"), str(tmp / "frames.pcapng")],
                   check=True)
    # DNS: queries and responses with compression, several record types
    q = dns.message.make_query("www.example.com", "A")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("www.example.com.", 300, "IN", "CNAME", "edge.example.net."))
    r.answer.append(dns.rrset.from_text("edge.example.net.", 60, "IN", "A", "192.0.2.80", "192.0.2.81"))
    r.answer.append(dns.rrset.from_text("edge.example.net.", 60, "IN", "AAAA", "2001:db8::1"))
    r.answer.append(dns.rrset.from_text("example.com.", 60, "IN", "MX", "10 mail.example.com."))
    r.answer.append(dns.rrset.from_text("example.com.", 60, "IN", "TXT", '"v=spf1 -all" "x"'))
    r.answer.append(dns.rrset.from_text("_s._tcp.example.com.", 60, "IN", "SRV", "0 5 443 a.example.com."))
    r.answer.append(dns.rrset.from_text("example.com.", 60, "IN", "SOA",
                                        "ns.example.com. admin.example.com. 1 2 3 4 5"))
    put("dns_parse", "query_a", q.to_wire())
    put("dns_parse", "response_mixed", r.to_wire())
    nx = dns.message.make_response(dns.message.make_query("nx.example", "TXT"))
    nx.set_rcode(3)
    put("dns_parse", "nxdomain", nx.to_wire())
    wire = r.to_wire()
    put("dns_parse", "tcp_stream", struct.pack(">H", len(wire)) + wire)
    put("dns_parse", "truncated", wire[:40])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "pangolin"))
