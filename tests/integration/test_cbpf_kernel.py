"""The cBPF VM's verdicts equal the kernel's.

Inside a namespace this test makes (a veth pair, nothing else), tests/helpers/cbpf_kverdict
attaches each program with SO_ATTACH_FILTER to an AF_PACKET socket on veth1 and injects the
crafted frames on veth0 (UDP, TCP, ICMP, IPv6 with extension headers, VLAN and QinQ tags,
truncated frames, ARP, 802.3, ...); `pangolin cbpf run --vlan-offload` runs the same programs
over the same frames. For every program and frame the two must agree on whether the packet
is delivered and on how many bytes are kept.
"""
import os
import pathlib
import random

import pytest

import pktlib

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(not pktlib.have_root(), reason="needs root for a network namespace")]

# tcpdump expressions, compiled by libpcap as tcpdump does offline (VLAN tags read inline)...
OFFLINE_EXPRS = [
    "udp", "tcp", "icmp", "ip6", "arp", "port 53", "udp port 53", "tcp port 80 or tcp port 443",
    "host 10.0.0.1", "net 10.0.0.0/8", "src host 10.0.0.2 and dst port 53",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "ip[8] < 64", "len > 100", "less 60",
    "ip6 and udp port 53", "icmp6", "ip proto 47", "ether broadcast", "ether multicast",
    "portrange 1000-2000", "ip[6:2] & 0x1fff != 0", "udp[8:2] = 0x1234", "vlan", "mpls",
    "pppoes", "ip multicast", "ether proto 0x88cc", "greater 200",
    "tcp dst port 443 and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x16030100)",
    "ip[0] & 0xf != 5", "not arp and not ip6", "ip6 proto 58 or icmp",
]
# ...and as for a live Linux socket (VLAN through ld [vlanp] / ld [vlan_tci]), like tcpdump -i.
LIVE_EXPRS = ["vlan", "vlan 100", "vlan and udp", "vlan 100 and tcp port 80", "vlan 20",
              "udp port 53 or vlan", "not vlan and ip"]

# Hand-written programs probing ancillary data and the kernel's corner cases: the return value
# is the number of bytes kept, so it shows the value loaded.
PROBES = {
    "proto": "ld [proto]\nand #0xff\nadd #20\nret a\n",
    "type": "ld [type]\nadd #20\nret a\n",
    "hatype": "ld [hatype]\nadd #20\nret a\n",
    "vlan_tci": "ld [vlan_tci]\nand #0xfff\nadd #1\nret a\n",
    "vlanp": "ld [vlanp]\nadd #30\nret a\n",
    "vlan_tpid": "ld [vlan_tpid]\nand #0xff\nadd #16\nret a\n",
    "poff": "ld [poff]\nret a\n",
    "mark": "ld [mark]\nadd #15\nret a\n",
    "net_off": "ldb [SKF_NET_OFF]\nret a\n",
    "ll_off": "ldh [SKF_LL_OFF + 12]\nand #0xff\nadd #10\nret a\n",
    "ind_negative": "ldx #0xfffffff0\nldb [x + 30]\nret a\n",
    "ind_net": "ldx #SKF_NET_OFF\nldh [x + 2]\nret a\n",
    "msh": "ldxb 4*([14]&0xf)\ntxa\nadd #10\nret a\n",
    "len": "ld #len\nret a\n",
    "shift_x": "ld #1\nldx #33\nlsh x\nadd #20\nret a\n",
    "div_x_zero": "ld #100\nldx #0\ndiv x\nret #99\n",
    "nla": "ld #14\nldx #0\nld [nla]\nadd #1\nret a\n",
    "nlan": "ld #14\nldx #1\nld [nlan]\nadd #1\nret a\n",
    "ret_small": "ret #3\n",
    "ret_huge": "ret #0xffffffff\n",
}

SAFE_ANC = ["proto", "type", "ifidx", "mark", "hatype", "xor_x", "vlan_tci", "vlanp",
            "vlan_tpid", "poff", "nla", "nlan"]


def random_program(rng, n):
    """A program the verifier accepts, by construction; jumps only forward."""
    lines = []
    mem = rng.sample(range(16), rng.randint(0, 4))
    for m in mem:
        lines.append(f"ld #{rng.randint(0, 200)}")
        lines.append(f"st M[{m}]")
    body = []
    for i in range(n):
        r = rng.random()
        if r < 0.25:
            sz = rng.choice(["ld", "ldh", "ldb"])
            k = rng.choice([rng.randint(0, 80), rng.randint(0, 1600), 0xfff00000 + rng.randint(0, 60),
                            0xffe00000 + rng.randint(0, 40), rng.randint(0x80000000, 0xffefffff)])
            body.append(f"{sz} [{k}]")
        elif r < 0.35:
            body.append(f"{rng.choice(['ld', 'ldh', 'ldb'])} [x + {rng.randint(-40, 60)}]")
        elif r < 0.40:
            body.append(f"ldxb 4*([{rng.randint(0, 40)}]&0xf)")
        elif r < 0.47:
            body.append(f"{rng.choice(['ld', 'ldh', 'ldb'])} [{rng.choice(SAFE_ANC)}]")
        elif r < 0.52:
            body.append(rng.choice(["ld #len", "ldx #len", "tax", "txa", "neg"]))
        elif r < 0.60 and mem:
            m = rng.choice(mem)
            body.append(rng.choice([f"ld M[{m}]", f"ldx M[{m}]", f"st M[{m}]", f"stx M[{m}]"]))
        elif r < 0.75:
            op = rng.choice(["add", "sub", "mul", "div", "mod", "and", "or", "xor", "lsh", "rsh"])
            if rng.random() < 0.4:
                body.append(f"{op} x")
            elif op in ("lsh", "rsh"):
                body.append(f"{op} #{rng.randint(0, 31)}")
            elif op in ("div", "mod"):
                body.append(f"{op} #{rng.randint(1, 9)}")
            else:
                body.append(f"{op} #{rng.choice([rng.randint(0, 300), rng.randint(0, 0xffffffff)])}")
        elif r < 0.80:
            body.append(f"ldx #{rng.choice([rng.randint(0, 60), rng.randint(0, 0xffffffff)])}")
        else:
            body.append(None)  # a jump, placed below
    total = len(lines) + len(body) + 2  # two returns at the end
    out = list(lines)
    for i, b in enumerate(body):
        pc = len(out)
        if b is None:
            def tgt():
                return f"L{rng.randint(pc + 1, total - 1)}"
            if rng.random() < 0.15:
                b = f"ja {tgt()}"
            else:
                op = rng.choice(["jeq", "jgt", "jge", "jset"])
                src = "x" if rng.random() < 0.3 else f"#{rng.choice([rng.randint(0, 100), 0x800, 0x86dd, 17, 6, rng.randint(0, 0xffffffff)])}"
                b = f"{op} {src}, {tgt()}, {tgt()}"
        out.append(b)
    out.append("ret a")
    out.append(f"ret #{rng.choice([0, 1, 13, 40, 65535, 262144])}")
    return "".join(f"L{i}: {ins}\n" for i, ins in enumerate(out))


def test_vm_matches_kernel(pangolin, helpers_dir, tmp_path):
    helper = helpers_dir / "cbpf_kverdict"
    assert helper.exists(), "make builds tests/helpers/cbpf_kverdict"
    rng = random.Random(1993)  # McCanne & Jacobson
    with pktlib.netns(veth=True) as ns:
        dst = ns.mac("veth1")
        ifindex = ns.ifindex("veth1")
        frames = pktlib.test_frames(dst)
        labels = [label for label, _ in frames]
        pcap = tmp_path / "frames.pcap"
        pktlib.write_pcap(pcap, [f for _, f in frames])

        # the programs, as source files and as tcpdump -ddd for the helper
        progs = []  # (name, path)
        seed = tmp_path / "seed.ddd"
        seed.write_text(pktlib.run([pangolin, "cbpf", "dis", "--udp", "-f", "ddd"], check=True).stdout)
        progs.append(("seed UDP program (2004)", seed))
        root = pathlib.Path(__file__).resolve().parents[2]
        progs.append(("examples/cbpf/dns_any.cbpf", root / "examples" / "cbpf" / "dns_any.cbpf"))
        for i, e in enumerate(OFFLINE_EXPRS):
            p = tmp_path / f"off{i}.ddd"
            r = pktlib.run([pangolin, "cbpf", "dis", "-e", e, "-f", "ddd"])
            assert r.returncode == 0, r.stderr
            p.write_text(r.stdout)
            progs.append((f"tcpdump '{e}'", p))
        for i, e in enumerate(LIVE_EXPRS):
            p = tmp_path / f"live{i}.ddd"
            r = ns.exec([pangolin, "cbpf", "dis", "--live", "lo", "-e", e, "-f", "ddd"])
            assert r.returncode == 0, r.stderr
            p.write_text(r.stdout)
            progs.append((f"tcpdump -i '{e}' (live code)", p))
        for name, text in PROBES.items():
            p = tmp_path / f"probe_{name}.cbpf"
            p.write_text(text)
            progs.append((f"probe {name}", p))
        for i in range(150):
            p = tmp_path / f"rand{i}.cbpf"
            p.write_text(random_program(rng, rng.randint(3, 40)))
            progs.append((f"random program {i}", p))
        assert len(OFFLINE_EXPRS) + len(LIVE_EXPRS) >= 20

        all_ddd = tmp_path / "all.ddd"
        with open(all_ddd, "w") as f:
            for name, p in progs:
                r = pktlib.run([pangolin, "cbpf", "asm", str(p), "-f", "ddd"])
                assert r.returncode == 0, f"{name}: {r.stderr}"
                f.write(r.stdout)

        r = ns.exec([str(helper), "veth1", "veth0", str(pcap), str(all_ddd)], timeout=600)
        assert r.returncode == 0, r.stderr
        kernel_lines = r.stdout.splitlines()
        assert len(kernel_lines) == len(progs)

        mismatches, accepted, rejected = [], 0, 0
        for (name, p), kline in zip(progs, kernel_lines):
            assert "attach-error" not in kline, f"{name}: the kernel refused it: {kline}"
            kernel = {}
            for tok in kline.split(":", 1)[1].split():
                idx, n = tok.split(":")
                kernel[int(idx)] = int(n)
            r = pktlib.run([pangolin, "cbpf", "run", str(p), str(pcap), "--vlan-offload",
                            "--ifindex", str(ifindex)])
            assert r.returncode == 0, f"{name}: {r.stderr}"
            vm = {}
            for line in r.stdout.splitlines():
                parts = line.split()
                if len(parts) >= 4 and parts[1] == "accept":
                    vm[int(parts[0])] = int(parts[4].split("/")[0])
            for idx in range(1, len(frames) + 1):
                if kernel.get(idx) != vm.get(idx):
                    mismatches.append(f"{name}: frame {idx} ({labels[idx - 1]}): kernel "
                                      f"{kernel.get(idx, 'dropped')}, VM {vm.get(idx, 'dropped')}")
            accepted += len(kernel)
            rejected += len(frames) - len(kernel)
        assert not mismatches, "\n".join(mismatches[:40])
        # the comparison must have had something to compare on both sides
        assert accepted > 500 and rejected > 500, (accepted, rejected)
