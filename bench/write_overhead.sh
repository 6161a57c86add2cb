#!/usr/bin/env bash
# What watching write(2) for DNS costs: 64-byte blocks through dd (a read and a write per
# block, both small enough to be a DNS query, so every write is checked: is the fd a socket
# to port 53?). Alone, under `pangolin run` with every event, and with DNS excluded (no write
# is looked at). Interleaved rounds, medians; ns per block = 1e9 / blocks per second.
#   sudo bash bench/write_overhead.sh        ROUNDS=5 BLOCKS=3000000
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin >/dev/null
rounds=${ROUNDS:-5}
blocks=${BLOCKS:-3000000}
. bench/lib.bash
pg_bench_init write

# one dd run: prints ns per block
dd_ns() {
	local t0 t1
	t0=$(date +%s%N)
	dd if=/dev/zero of=/dev/null bs=64 count="$blocks" status=none
	t1=$(date +%s%N)
	echo $(((t1 - t0) / blocks))
}

under() { # $@: pangolin run arguments
	pg_start "$@"
	dd_ns
	pg_stop
}

for r in $(seq "$rounds"); do
	echo "alone $(dd_ns)" >>"$tmp/res"
	echo "all $(under)" >>"$tmp/res"
	echo "no-dns $(under --filter 'type != "dns"')" >>"$tmp/res"
done
python3 - "$tmp/res" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    rows.setdefault(k, []).append(int(v))
base = statistics.median(rows["alone"])
print(f"{'config':8s} {'ns/block':>9s} {'slowdown':>9s}   (dd bs=64: one read + one write per block)")
for k in ("alone", "all", "no-dns"):
    m = statistics.median(rows[k])
    print(f"{k:8s} {m:>9.0f} {m / base:>9.3f}")
print(f"checking writes for DNS: {statistics.median(rows['all']) - statistics.median(rows['no-dns']):.0f} ns per write")
PY
