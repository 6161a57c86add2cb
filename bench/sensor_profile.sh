#!/usr/bin/env bash
# Where the sensor's cost goes, per kernel function, on the traced task's CPU.
#
# Runs the open+close loop pinned to one CPU, once alone and once under `pangolin run` (every
# event to a file, or the filter given as arguments), samples that CPU with perf both times,
# and prints for each symbol the extra nanoseconds per op (share of samples x ns/op, traced
# minus alone). The sum is the sensor's whole cost; the rows say which part is the hook
# (bpf_trace_run2, syscall_exit_work...), the program, the clock (read_tsc), the path copy
# (strncpy_from_user...) and the ring (bpf_ringbuf_*). Rows under ~10 ns are noise.
#
#   sudo bash bench/sensor_profile.sh                      every event
#   sudo bash bench/sensor_profile.sh --filter 'comm != "pgwork"'
# SECONDS_PER_RUN (default 4) sets the sampled time; PANGOLIN=/path/to/binary profiles another
# build (bench/lib.bash).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin build/tests/helpers >/dev/null
command -v perf >/dev/null || { echo "sensor_profile: needs perf (apt-get install linux-perf)" >&2; exit 1; }
secs=${SECONDS_PER_RUN:-4}
cpu=$(($(nproc) - 1))
. bench/lib.bash
pg_bench_init prof
echo x >"$tmp/target"

# sample: NAME -> $tmp/NAME.rep (percent, symbol) and $tmp/NAME.ops (ns per op)
sample() {
	taskset -c "$cpu" build/tests/pgwork loop $((secs + 2)) "$tmp/target" >"$tmp/$1.out" &
	local w=$!
	sleep 1
	perf record -q -C "$cpu" -o "$tmp/$1.data" -- sleep "$secs" >/dev/null 2>&1
	wait "$w"
	sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p' "$tmp/$1.out" >"$tmp/$1.ops"
	perf report -i "$tmp/$1.data" --no-children --sort sym --stdio 2>/dev/null |
		grep -E '^ +[0-9]' >"$tmp/$1.rep"
}

sample alone
pg_start "$@"
sample traced
pg_stop

python3 - "$tmp" <<'EOF'
import sys
tmp = sys.argv[1]
def ops(name):
    return float(open(f"{tmp}/{name}.ops").read())
def rep(name, nsop):
    d = {}
    for line in open(f"{tmp}/{name}.rep"):
        p = line.split()
        d[" ".join(p[2:])] = float(p[0].rstrip("%")) * nsop / 100
    return d
na, nt = ops("alone"), ops("traced")
a, t = rep("alone", na), rep("traced", nt)
rows = sorted(((t.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(t)), reverse=True)
print(f"alone {na:.0f} ns/op, traced {nt:.0f} ns/op: +{nt - na:.0f} ns/op ({nt / na:.3f}x)")
print("extra ns/op  symbol")
for d, k in rows[:25]:
    print(f"{d:11.1f}  {k}")
EOF
