#!/usr/bin/env bash
# replay --policy (docs/enforce.md, "Trying a policy on a recording"): what deciding a recording
# costs with 0, 10 and 1,000 kill rules on opens (bench/sensor_bench.py's rules: exact paths,
# prefixes, comm and uid scopes, a quarter each, none matching), against the same replay
# without --policy, on one core, interleaved rounds, medians. The rules are decided one after
# another from their own filters, so the cost grows with the rules of an event's type.
#
#   bash bench/replay_policy.sh              N=1000000 ROUNDS=5 CPU=1
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.bash
pg_replay_defaults

mkdir -p "$DIR/replay-policy"
[ -x "$PG" ] || make
pg_bench_events "$N"

PG="$PG" EVENTS="$events" N="$N" ROUNDS="$ROUNDS" CPU="$CPU" PDIR="$DIR/replay-policy" python3 - <<'EOF'
import os, statistics, subprocess, sys, time

sys.path.insert(0, "bench")
from sensor_bench import policy_file

env = os.environ
n, rounds, cpu, events = int(env["N"]), int(env["ROUNDS"]), env["CPU"], env["EVENTS"]
configs = [("no --policy", [])] + [(f"{k} rules", ["--policy", policy_file(env["PDIR"], k)])
                                    for k in (0, 10, 1000)]
devnull = open(os.devnull, "w")
wall = {name: [] for name, _ in configs}
for r in range(rounds):
    for name, extra in configs[r % len(configs):] + configs[:r % len(configs)]:
        argv = ["taskset", "-c", cpu, env["PG"], "replay", events, "-o", "/dev/null", "-q"] + extra
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=devnull, check=True)
        wall[name].append(time.perf_counter() - t0)
base = statistics.median(wall["no --policy"])
print(f"{n} events (70 % opens), one core, {rounds} rounds interleaved, medians")
print(f"{'replay':14s} {'wall s':>8s} {'events/s':>10s} {'x no --policy':>14s}")
for name, _ in configs:
    m = statistics.median(wall[name])
    print(f"{name:14s} {m:8.2f} {n / m:10.0f} {m / base:14.2f}")
EOF
