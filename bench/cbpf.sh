#!/usr/bin/env bash
# pangolin's cBPF VM against libpcap's bpf_filter() (pcap_offline_filter), same pcap, same
# filters, one process, interleaved rounds, medians and ratios. See bench/README.md.
#
#   bash bench/cbpf.sh [PACKETS] [ROUNDS] [PASSES]      (defaults 100000 31 3)
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${1:-100000}
ROUNDS=${2:-31}
PASSES=${3:-3}
OUT=build/bench
mkdir -p "$OUT"
[ -f build/libpangolin.a ] || make -s build/libpangolin.a
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc bench/cbpf_bench.c \
	build/libpangolin.a -lpcap -o "$OUT/cbpf_bench"

# The traffic: the integration tests' crafted frames (UDP/DNS, TCP, ICMP, IPv6, VLAN, QinQ,
# fragments, truncated frames, tunnels), repeated with varied addresses and ports.
/usr/bin/python3 - "$OUT/cbpf_bench.pcap" "$PACKETS" <<'PY'
import random, struct, sys
sys.path.insert(0, "tests/integration")
import pktlib
path, n = sys.argv[1], int(sys.argv[2])
base = [f for _, f in pktlib.test_frames(pktlib.mac("02:02:02:02:02:02"))]
rng = random.Random(4)
out = []
for i in range(n):
    f = bytearray(rng.choice(base))
    # vary IPv4 addresses and ports where the frame has them (offsets of an untagged frame)
    if len(f) >= 38 and f[12:14] == b"\x08\x00" and f[14] == 0x45:
        f[29] = rng.randrange(256); f[33] = rng.randrange(4)
        if f[23] in (6, 17) and len(f) >= 38:
            f[34:36] = struct.pack(">H", rng.choice([53, 80, 443, 1500, rng.randrange(1024, 65536)]))
    out.append(bytes(f))
pktlib.write_pcap(path, out)
PY

exec "$OUT/cbpf_bench" "$OUT/cbpf_bench.pcap" "$ROUNDS" "$PASSES" \
	"seed" \
	"udp" \
	"udp port 53" \
	"tcp port 80 or tcp port 443" \
	"host 10.0.0.1 and tcp" \
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn" \
	"vlan 100 and udp" \
	"ip6 and udp port 53" \
	"portrange 1000-2000 or icmp or arp" \
	"not (port 22 or port 53 or port 80 or port 443) and ip[2:2] > 40"
