"""pangolin sniff end to end, inside network namespaces this test makes.

DNS: a resolver of the test's own on 127.0.0.1:53 in the namespace, queries from dig, the
capture's events and pcap checked against what was asked and answered, tshark reading the
pcap, and -r reading it back. Seed program: frames injected on a veth pair, captured with the
2004 filter in the kernel, compared with the VM.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

import pktlib

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(not pktlib.have_root(), reason="needs root for a network namespace")]

HERE = pathlib.Path(__file__).resolve().parent

# A tiny authoritative server: www.example.com -> CNAME edge.example.net -> A 192.0.2.80,
# v6.example.com AAAA 2001:db8::53, everything else NXDOMAIN.
RESOLVER = r"""
import socket, sys
import dns.message, dns.rrset, dns.rcode
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(4096)
    q = dns.message.from_wire(data)
    r = dns.message.make_response(q)
    name = q.question[0].name.to_text()
    if name == "www.example.com.":
        r.answer.append(dns.rrset.from_text("www.example.com.", 300, "IN", "CNAME", "edge.example.net."))
        r.answer.append(dns.rrset.from_text("edge.example.net.", 60, "IN", "A", "192.0.2.80"))
    elif name == "v6.example.com.":
        r.answer.append(dns.rrset.from_text("v6.example.com.", 30, "IN", "AAAA", "2001:db8::53"))
    else:
        r.set_rcode(dns.rcode.NXDOMAIN)
    s.sendto(r.to_wire(), peer)
"""


def start_sniff(ns, pangolin, args):
    p = ns.popen([pangolin, "sniff", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True)
    # the start line comes once the socket is bound, the filter attached
    line = p.stderr.readline()
    assert "listening on" in line, line + p.stderr.read()
    return p


def finish(p, timeout=20):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    return p.returncode, out, err


def events_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_dns_end_to_end(pangolin, tmp_path):
    with pktlib.netns() as ns:
        server = ns.popen([sys.executable, "-c", RESOLVER], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout.readline().strip() == "ready"
            ndjson, pcap = tmp_path / "events.ndjson", tmp_path / "dns.pcap"
            sniff = start_sniff(ns, pangolin, ["-i", "lo", "udp", "port", "53", "-c", "6",
                                               "-o", str(ndjson), "-w", str(pcap)])
            for name, qtype in (("www.example.com", "A"), ("v6.example.com", "AAAA"),
                                ("nx.example.org", "TXT")):
                r = ns.exec(["dig", "+tries=1", "+timeout=2", "+noedns", "@127.0.0.1", name, qtype])
                assert r.returncode == 0, r.stdout + r.stderr
            rc, _, err = finish(sniff)
            assert rc == 0, err
        finally:
            server.kill()
            server.wait()

        ev = events_of(ndjson.read_text())
        assert len(ev) == 6, ev
        assert all(e["type"] == "packet" and e["ifname"] == "lo" and e["direction"] == "in" for e in ev)
        queries = [e for e in ev if not e.get("qr")]
        answers = [e for e in ev if e.get("qr")]
        assert [(e["qname"], e["qtype"]) for e in queries] == [
            ("www.example.com", "A"), ("v6.example.com", "AAAA"), ("nx.example.org", "TXT")]
        assert all(e["dport"] == 53 and e["ip_proto"] == "udp" and e["daddr"] == "127.0.0.1" for e in queries)
        www, v6, nx = answers
        assert www["rcode"] == "NOERROR" and www["dns_id"] == queries[0]["dns_id"]
        assert [(a["name"], a["type"], a["ttl"], a["data"]) for a in www["answers"]] == [
            ("www.example.com", "CNAME", 300, "edge.example.net"),
            ("edge.example.net", "A", 60, "192.0.2.80")]
        assert [(a["type"], a["data"]) for a in v6["answers"]] == [("AAAA", "2001:db8::53")]
        assert nx["rcode"] == "NXDOMAIN" and nx["answers"] == [] and nx["qtype"] == "TXT"
        assert "1 packets" not in err and "6 packets captured; kernel: 6 passed the filter, 0 dropped" in err

        # tshark reads the capture: same packets, same names
        t = pktlib.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "dns.qry.name",
                        "-e", "dns.flags.response"])
        assert t.returncode == 0, t.stderr
        rows = [line.split("\t") for line in t.stdout.splitlines()]
        assert len(rows) == 6
        assert [r[0] for r in rows] == [e["qname"] for e in ev]
        assert [r[1] in ("1", "True") for r in rows] == [bool(e.get("qr")) for e in ev]

        # -r reads it back into the same events, less what only a live socket knows
        back = pktlib.run([pangolin, "sniff", "-r", str(pcap), "-q"])
        assert back.returncode == 0, back.stderr
        again = events_of(back.stdout)
        assert len(again) == 6
        for live, offline in zip(ev, again):
            assert offline["ifindex"] == 0 and offline["ifname"] == "" and offline["direction"] == ""
            for k in ("ifindex", "ifname", "direction"):
                live.pop(k), offline.pop(k)
            assert live == offline

        # the event filter after decoding; -w then keeps only what passed it
        only = tmp_path / "nx.pcap"
        f = pktlib.run([pangolin, "sniff", "-r", str(pcap), "-f", 'qr == 1 && rcode == "NXDOMAIN"',
                        "-o", "-", "-w", str(only)])
        assert f.returncode == 0, f.stderr
        assert [e["qname"] for e in events_of(f.stdout)] == ["nx.example.org"]
        assert len(pktlib.read_pcap(only)) == 1
        assert "1 events out, 5 filtered by --filter" in f.stderr
        c = pktlib.run([pangolin, "sniff", "-r", str(pcap), "-c", "2", "-q"])
        assert len(events_of(c.stdout)) == 2
        # a tcpdump expression on the file runs in the VM
        e = pktlib.run([pangolin, "sniff", "-r", str(pcap), "-q", "src", "port", "53"])
        assert len(events_of(e.stdout)) == 3


def test_seed_filter_live_matches_vm(pangolin, tmp_path):
    """The 2004 program in the kernel on a veth: exactly the frames the VM says, cut to 68."""
    with pktlib.netns(veth=True) as ns:
        frames = [f for _, f in pktlib.test_frames(ns.mac("veth1"))]
        pcap = tmp_path / "frames.pcap"
        pktlib.write_pcap(pcap, frames)
        vm = pktlib.run([pangolin, "cbpf", "run", "--udp", str(pcap), "--vlan-offload"])
        assert vm.returncode == 0, vm.stderr
        accepted = [int(line.split()[0]) for line in vm.stdout.splitlines() if " accept " in line]
        assert len(accepted) > 10  # UDP over IPv4, tagged ones included (Linux untags first)

        out = tmp_path / "seed.pcap"
        sniff = start_sniff(ns, pangolin, ["-i", "veth1", "--udp", "-c", str(len(accepted)),
                                           "-w", str(out), "-o", "/dev/null"])
        inject = ("import socket, sys; sys.path.insert(0, %r); import pktlib\n"
                  "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('veth0', 0))\n"
                  "for cap, wire, data in pktlib.read_pcap(%r):\n"
                  "    try: s.send(data)\n"
                  "    except OSError: pass\n") % (str(HERE), str(pcap))
        r = ns.exec([sys.executable, "-c", inject])
        assert r.returncode == 0, r.stderr
        rc, _, err = finish(sniff)
        assert rc == 0, err
        got = pktlib.read_pcap(out)
        assert len(got) == len(accepted), err
        for (cap, wire, data), idx in zip(got, accepted):
            frame = frames[idx - 1]
            tagged = frame[12:14] in (b"\x81\x00", b"\x88\xa8")
            # the kernel kept 68 bytes of the untagged frame; sniff put the tag back
            assert cap == min(68, len(frame) - (4 if tagged else 0)) + (4 if tagged else 0)
            assert wire == len(frame)
            assert data == frame[:cap]
        assert f"kernel: {len(accepted)} passed the filter, 0 dropped" in err


def test_every_packet_counted(pangolin, tmp_path):
    """Stopping early with -c: what was read, dropped and left queued adds up to what the
    kernel's filter passed (PACKET_STATISTICS)."""
    import re
    with pktlib.netns(veth=True) as ns:
        frames = [f for _, f in pktlib.test_frames(ns.mac("veth1"))] * 3
        pcap = tmp_path / "frames.pcap"
        pktlib.write_pcap(pcap, frames)
        sniff = start_sniff(ns, pangolin, ["-i", "veth1", "--udp", "-c", "2", "-o", "/dev/null"])
        inject = ("import socket, sys, time; sys.path.insert(0, %r); import pktlib\n"
                  "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('veth0', 0))\n"
                  "for cap, wire, data in pktlib.read_pcap(%r):\n"
                  "    try: s.send(data)\n"
                  "    except OSError: pass\n") % (str(HERE), str(pcap))
        r = ns.exec([sys.executable, "-c", inject])
        assert r.returncode == 0, r.stderr
        rc, _, err = finish(sniff)
        assert rc == 0, err
        m = re.search(r"(\d+) packets captured; kernel: (\d+) passed the filter, (\d+) dropped"
                      r"[^,;]*(?:, (\d+) queued but not read before stopping)?", err)
        assert m, err
        captured, passed, dropped = int(m[1]), int(m[2]), int(m[3])
        unread = int(m[4] or 0)
        assert captured == 2
        assert captured + dropped + unread == passed, err


def test_needs_cap_net_raw(pangolin):
    """Without CAP_NET_RAW the error says what is missing and how to get it."""
    for args in (["--udp"], ["-i", "lo", "--udp"], ["-i", "lo", "udp"]):
        r = pktlib.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "--inh-caps=-all", pangolin, "sniff", *args])
        assert r.returncode == 1, r.stderr
        assert "CAP_NET_RAW" in r.stderr, r.stderr


def test_dump_program(pangolin):
    """-d prints what Linux runs: the prologue for loopback, then the filter."""
    with pktlib.netns() as ns:
        r = ns.exec([pangolin, "sniff", "-i", "lo", "-d", "--udp"])
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "(000) ld       [type]"
        assert lines[3] == "(003) ld       #0x0"
        assert lines[4] == "(004) ldh      [12]"
        assert lines[-2] == "(008) ret      #68"
        r = ns.exec([pangolin, "sniff", "-ddd", "--udp"])
        assert r.stdout.splitlines()[0] == "13"  # all interfaces: 7-instruction prologue


def test_usage_errors(pangolin, tmp_path):
    assert pktlib.run([pangolin, "sniff", "-i", "lo", "-r", "x.pcap"]).returncode == 2
    assert pktlib.run([pangolin, "sniff", "--udp", "udp"]).returncode == 2
    bad = tmp_path / "bad.cbpf"
    bad.write_text("ldh [12]\njeq #1, nowhere\nret #0\n")
    r = pktlib.run([pangolin, "sniff", "--program", str(bad), "-r", "/dev/null"])
    assert r.returncode == 1
    pcap = tmp_path / "e.pcap"
    pktlib.write_pcap(pcap, [])
    r = pktlib.run([pangolin, "sniff", "--program", str(bad), "-r", str(pcap)])
    assert r.returncode == 1 and f"{bad}:2:" in r.stderr and "undefined label" in r.stderr
    r = pktlib.run([pangolin, "sniff", "-r", str(pcap), "udp and and"])
    assert r.returncode == 1 and "cannot compile" in r.stderr
    null = tmp_path / "null.pcap"
    pktlib.write_pcap(null, [b"\x02\x00\x00\x00" + b"x" * 20], linktype=0)
    r = pktlib.run([pangolin, "sniff", "-r", str(null)])
    assert r.returncode == 1 and "is not decoded" in r.stderr
    with pktlib.netns() as ns:
        r = ns.exec([pangolin, "sniff", "-i", "nosuch0", "--udp"])
        assert r.returncode == 1 and "no interface named 'nosuch0'" in r.stderr
