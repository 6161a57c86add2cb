"""Crafted frames, pcap files and throwaway network namespaces for the cBPF and sniff tests.

Frames are built byte by byte (no checksums: nothing on the paths under test looks at them).
Namespaces are named pgcbpf-<pid>-<n>, deleted on exit, and hold only the veth pair or
loopback the test asks for: no traffic leaves them.
"""
import contextlib
import itertools
import json
import os
import socket
import struct
import subprocess

_ns_counter = itertools.count()


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


BCAST = mac("ff:ff:ff:ff:ff:ff")


def eth(dst, src_id, etype, payload=b""):
    return dst + b"\x02\x00" + struct.pack(">I", src_id) + struct.pack(">H", etype) + payload


def vlan(tci, etype, payload=b""):
    """A tag's TCI and the EtherType after it (the TPID is the EtherType before)."""
    return struct.pack(">HH", tci, etype) + payload


def ipv4(proto, src, dst, payload=b"", opts=b"", frag=0, ttl=64, total=None):
    ihl = 5 + len(opts) // 4
    tot = total if total is not None else 20 + len(opts) + len(payload)
    hdr = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 1, frag, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr + opts + payload


def ipv6(nh, src, dst, payload=b""):
    return (struct.pack(">IHBB", 0x60000000, len(payload), nh, 64) +
            socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
            payload)


def udp(sport, dport, payload=b""):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


TCP_FLAGS = {"FIN": 1, "SYN": 2, "RST": 4, "PSH": 8, "ACK": 16, "URG": 32}


def tcp(sport, dport, flags="SYN", payload=b"", opts=b""):
    f = sum(TCP_FLAGS[x] for x in flags.split("|")) if flags else 0
    doff = 5 + len(opts) // 4
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, doff << 4, f, 65535, 0, 0) + opts + payload


def icmp(t=8, code=0, payload=b"ping"):
    return struct.pack(">BBHHH", t, code, 0, 1, 1) + payload


def dns_name(name):
    out = b""
    for label in name.split(".") if name else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def dns_query(name, qtype=1, ident=0x1234):
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(">HH", qtype, 1)


def write_pcap(path, frames, linktype=1, snaplen=262144):
    """Little-endian microsecond pcap, one frame per record, 1 ms apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    """[(caplen, wirelen, bytes)] of a pcap file (micro- or nanosecond, either byte order)."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    out, pos = [], 24
    while pos + 16 <= len(data):
        _, _, cap, wire = struct.unpack(end + "IIII", data[pos:pos + 16])
        out.append((cap, wire, data[pos + 16:pos + 16 + cap]))
        pos += 16 + cap
    return out


def have_root():
    return os.geteuid() == 0


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


class Netns:
    """A network namespace with lo up and, optionally, a veth pair veth0 <-> veth1."""

    def __init__(self, veth=False):
        self.name = f"pgcbpf-{os.getpid()}-{next(_ns_counter)}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.ip("link", "set", "lo", "up")
            if veth:
                self.ip("link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
                for dev in ("veth0", "veth1"):
                    # no IPv6: no router solicitations or MLD reports on the wire
                    self.exec(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"])
                    self.ip("link", "set", dev, "up")
        except Exception:
            self.delete()
            raise

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True)

    def exec(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.name, *cmd], **kw)

    def popen(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name, *cmd], **kw)

    def mac(self, dev):
        out = run(["ip", "-n", self.name, "-j", "link", "show", dev], check=True).stdout
        return mac(json.loads(out)[0]["address"])

    def ifindex(self, dev):
        out = run(["ip", "-n", self.name, "-j", "link", "show", dev], check=True).stdout
        return json.loads(out)[0]["ifindex"]

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@contextlib.contextmanager
def netns(veth=False):
    ns = Netns(veth)
    try:
        yield ns
    finally:
        ns.delete()


def test_frames(dst):
    """The crafted traffic: [(label, frame)]; frame i+1 carries i+1 in its source MAC.

    dst is the receiving interface's MAC, so unicast frames are PACKET_HOST to the kernel.
    """
    A, B = "10.0.0.2", "10.0.0.1"
    A6, B6 = "2001:db8::2", "2001:db8::1"
    hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])  # hop-by-hop, next UDP, PadN
    frag6 = bytes([17, 0, 0, 1, 0, 0, 0, 7])  # fragment header: first fragment, more follow
    mcast4, mcast6 = mac("01:00:5e:00:00:fb"), mac("33:33:00:00:00:fb")
    tls = b"\x16\x03\x01\x00" + b"x" * 20
    arp = (bytes.fromhex("0001080006040001") + b"\x02" * 6 + socket.inet_aton(A) + b"\0" * 6 +
           socket.inet_aton(B))
    spec = [
        ("udp dns query", dst, 0x0800, ipv4(17, A, B, udp(40000, 53, dns_query("example.com")))),
        ("udp dns response", dst, 0x0800, ipv4(17, "8.8.8.8", A, udp(53, 40001, dns_query("a.example", 28)))),
        ("udp 1234", dst, 0x0800, ipv4(17, A, B, udp(5555, 1234, b"\x12\x34" + b"q" * 30))),
        ("tcp syn 80", dst, 0x0800, ipv4(6, A, B, tcp(40000, 80, "SYN"))),
        ("tcp synack 443", dst, 0x0800, ipv4(6, B, A, tcp(443, 40000, "SYN|ACK"))),
        ("tcp tls with options", dst, 0x0800,
         ipv4(6, A, B, tcp(40002, 443, "PSH|ACK", tls, opts=b"\x01\x01\x08\x0a" + b"\0" * 8))),
        ("ipv4 options udp 53", dst, 0x0800,
         ipv4(17, A, B, udp(40003, 53, dns_query("opt.example")), opts=b"\x94\x04\x00\x00")),
        ("icmp echo", dst, 0x0800, ipv4(1, A, B, icmp())),
        ("ipv4 first fragment", dst, 0x0800, ipv4(17, A, B, udp(40004, 53, b"z" * 40), frag=0x2000)),
        ("ipv4 later fragment", dst, 0x0800, ipv4(17, A, B, b"\x00\x35\x00\x35" + b"z" * 40, frag=185)),
        ("ipv4 ttl 10", dst, 0x0800, ipv4(17, A, B, udp(1, 2), ttl=10)),
        ("gre", dst, 0x0800, ipv4(47, A, B, b"\x00\x00\x08\x00" + ipv4(17, "1.1.1.1", "2.2.2.2", udp(1, 53)))),
        ("ipv6 udp 53", dst, 0x86dd, ipv6(17, A6, B6, udp(40005, 53, dns_query("six.example", 28)))),
        ("ipv6 tcp syn 443", dst, 0x86dd, ipv6(6, A6, B6, tcp(40006, 443, "SYN"))),
        ("icmpv6 echo", dst, 0x86dd, ipv6(58, A6, B6, b"\x80\x00\x00\x00\x00\x01\x00\x01")),
        ("ipv6 hop-by-hop udp 53", dst, 0x86dd, ipv6(0, A6, B6, hbh + udp(40007, 53, dns_query("hbh.example")))),
        ("ipv6 fragment udp", dst, 0x86dd, ipv6(44, A6, B6, frag6 + udp(40008, 53, b"f" * 16))),
        ("vlan 100 udp 53", dst, 0x8100, vlan(100, 0x0800, ipv4(17, A, B, udp(40009, 53, dns_query("vlan.example"))))),
        ("vlan 100 pcp 1 tcp 80", dst, 0x8100, vlan(0x2064, 0x0800, ipv4(6, A, B, tcp(40010, 80, "SYN")))),
        ("vlan 200 ipv6 udp", dst, 0x8100, vlan(200, 0x86dd, ipv6(17, A6, B6, udp(40011, 9999, b"v6")))),
        ("vlan 0 priority icmp", dst, 0x8100, vlan(0xa000, 0x0800, ipv4(1, A, B, icmp()))),
        ("qinq 10/20 tcp 80", dst, 0x88a8, vlan(10, 0x8100, vlan(20, 0x0800, ipv4(6, A, B, tcp(40012, 80, "SYN"))))),
        ("vlan cut at 18 bytes", dst, 0x8100, b"\x00\x64\x08\x00"),
        ("vlan then 2 bytes", dst, 0x8100, vlan(100, 0x0800)),
        ("arp broadcast", BCAST, 0x0806, arp),
        ("802.3 llc", dst, 0x0026, b"\xaa\xaa\x03" + b"\0" * 35),
        ("ethernet only", dst, 0x0800, b""),
        ("ipv4 header cut", dst, 0x0800, ipv4(6, A, B, tcp(1, 80))[:10]),
        ("tcp cut after ports", dst, 0x0800, ipv4(6, A, B, tcp(40013, 80))[:24]),
        ("udp header cut", dst, 0x0800, ipv4(17, A, B, udp(40014, 53))[:26]),
        ("ipv6 header cut", dst, 0x86dd, ipv6(17, A6, B6, udp(1, 53))[:30]),
        ("broadcast udp 67", BCAST, 0x0800, ipv4(17, "0.0.0.0", "255.255.255.255", udp(68, 67, b"d" * 20))),
        ("mdns v4", mcast4, 0x0800, ipv4(17, A, "224.0.0.251", udp(5353, 5353, dns_query("host.local", 255)))),
        ("mdns v6", mcast6, 0x86dd, ipv6(17, "fe80::2", "ff02::fb", udp(5353, 5353, dns_query("host.local", 28)))),
        ("large udp 1500", dst, 0x0800, ipv4(17, A, B, udp(40015, 1500, b"L" * 1200))),
        ("lldp", mac("01:80:c2:00:00:0e"), 0x88cc, b"\x02\x07\x04" + b"\0" * 40),
        ("ipv4 total longer than frame", dst, 0x0800, ipv4(17, A, B, udp(1, 53, b"t" * 10), total=1000)),
        ("tcp 22 to 192.168.1.1", dst, 0x0800, ipv4(6, B, "192.168.1.1", tcp(40016, 22, "ACK"))),
        ("pppoe session", dst, 0x8864, b"\x11\x00\x00\x01\x00\x20\x00\x21" + ipv4(17, A, B, udp(1, 53))),
        ("mpls udp", dst, 0x8847, b"\x00\x01\x01\x40" + ipv4(17, A, B, udp(40017, 53, b"m" * 8))),
        ("gre key+seq teb tcp", dst, 0x0800,
         ipv4(47, A, B, b"\x30\x00\x65\x58" + b"\0\0\0\7" + b"\0\0\0\1" +
              eth(dst, 0, 0x0800, ipv4(6, "1.1.1.1", "2.2.2.2", tcp(1, 2, "SYN"))))),
        ("gre checksum ipv6", dst, 0x0800,
         ipv4(47, A, B, b"\x80\x00\x86\xdd" + b"\0" * 4 + ipv6(17, A6, B6, udp(1, 2)))),
        ("ipip", dst, 0x0800, ipv4(4, A, B, ipv4(6, "1.1.1.1", "2.2.2.2", tcp(1, 2, "ACK")))),
        ("ipv6 in ipv4", dst, 0x0800, ipv4(41, A, B, ipv6(58, A6, B6, b"\x80\0\0\0\0\1\0\1"))),
        ("pppoe ipv6", dst, 0x8864, b"\x11\x00\x00\x01\x00\x30\x00\x57" + ipv6(17, A6, B6, udp(1, 53))),
        ("pppoe lcp", dst, 0x8864, b"\x11\x00\x00\x01\x00\x08\xc0\x21" + b"\x01\x01\x00\x04" + b"\0" * 20),
        ("mpls two labels", dst, 0x8847, b"\x00\x01\x00\x40\x00\x02\x01\x40" + ipv4(17, A, B, udp(1, 53))),
        ("rarp", BCAST, 0x8035, arp),
        ("tipc", dst, 0x88ca, b"\x50" + b"\0" * 40),
        ("fcoe", dst, 0x8906, b"\0" * 60),
        ("ipv6 dest opts + tcp", dst, 0x86dd, ipv6(60, A6, B6, bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp(5, 443, "SYN"))),
        ("ipv6 later fragment", dst, 0x86dd, ipv6(44, A6, B6, bytes([17, 0, 0, 0x40, 0, 0, 0, 9]) + b"y" * 20)),
    ]
    return [(label, eth(d, i + 1, et, payload)) for i, (label, d, et, payload) in enumerate(spec)]
