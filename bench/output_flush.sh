#!/usr/bin/env bash
# What the file output's timer and --fsync cost: `pangolin replay` of N generated events
# (default 300,000) into a file on this machine's disk, as is, and with --fsync; with BASE=
# /path/to/an/older/pangolin the same replay by that build too (before/after a change).
# Interleaved rounds, medians of wall, user and system seconds, and the write(2) and
# fdatasync(2) calls of one extra run of each under strace -c.
#   bash bench/output_flush.sh            N=300000 ROUNDS=5
#   BASE=/tmp/pangolin.old bash bench/output_flush.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin >/dev/null
N=${N:-300000}
ROUNDS=${ROUNDS:-5}
PG=${PANGOLIN:-build/pangolin}
DIR=${BENCH_DIR:-build/bench}
mkdir -p "$DIR"
events=$DIR/flush-events-$N.ndjson
[ -s "$events" ] || python3 bench/gen_events.py "$N" --k8s 20 >"$events"
out=$DIR/flush-out.ndjson
res=$(mktemp)
trap 'rm -f "$res" "$out"' EXIT

modes=(now fsync)
[ -n "${BASE:-}" ] && modes=(base "${modes[@]}")
cmd() { # mode
	case $1 in
	base) echo "$BASE replay $events -o $out -q" ;;
	now) echo "$PG replay $events -o $out -q" ;;
	fsync) echo "$PG replay $events -o $out -q --fsync" ;;
	esac
}
for r in $(seq "$ROUNDS"); do
	for m in "${modes[@]}"; do
		rm -f "$out"
		/usr/bin/time -f "$m %e %U %S" -a -o "$res" $(cmd "$m")
	done
done
for m in "${modes[@]}"; do
	rm -f "$out"
	strace -f -c -e trace=write,fdatasync -o "$res.strace" $(cmd "$m") >/dev/null
	echo "$m calls $(awk '$NF == "write" {w = $4} $NF == "fdatasync" {s = $4} END {print w + 0, s + 0}' "$res.strace")" >>"$res"
	rm -f "$res.strace"
done
python3 - "$res" "$N" "$(stat -c %s "$events")" <<'PY'
import statistics, sys
runs, calls = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[1] == "calls":
        calls[f[0]] = (int(f[2]), int(f[3]))
    else:
        runs.setdefault(f[0], []).append([float(x) for x in f[1:]])
n, size = int(sys.argv[2]), int(sys.argv[3])
label = {"base": "BASE build", "now": "this build", "fsync": "this build, --fsync"}
print(f"replay of {n} events ({size / 1e6:.0f} MB) to a file, medians of {len(runs['now'])} rounds")
print("| build | wall s | user s | sys s | events/s (wall) | write(2) | fdatasync(2) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for m, rs in runs.items():
    wall, user, sys_ = (statistics.median(c) for c in zip(*rs))
    w, s = calls.get(m, (0, 0))
    print(f"| {label[m]} | {wall:.2f} | {user:.2f} | {sys_:.2f} | {n / wall / 1e6:.2f} M | {w} | {s} |")
PY
