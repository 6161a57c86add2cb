#!/usr/bin/env bash
# Replay -> filter -> NDJSON over N generated events (default 1,000,000), on one core, next to
# the same work done by jq and by a jansson-based reader, in one run. The commands run in
# interleaved rounds (the machine is shared and noisy); the table reports medians, events/s and
# MB/s, both per wall-clock second and per CPU second, and the ratios. See bench/README.md.
#
#   bash bench/replay.sh                  N=1000000 ROUNDS=5 CPU=1
#   N=200000 ROUNDS=3 bash bench/replay.sh
#
# Files go to BENCH_DIR (default build/bench); the event file is kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.bash
pg_replay_defaults
FILTER='type == "open" && comm == "curl" && path startswith "/etc/"'
JQ_FILTER='select(.type == "open" and .comm == "curl" and (.path | startswith("/etc/")))'

mkdir -p "$DIR"
[ -x "$PG" ] || make
cc -std=gnu11 -O2 -Wall -Wextra -Werror bench/jansson_parse.c -ljansson -o "$DIR/jansson_parse"

pg_bench_events "$N"

# The same answer from every tool first: a benchmark of different work is no benchmark.
want=$("$PG" replay "$events" -f "$FILTER" -q | wc -l)
got_jq=$(jq -c "$JQ_FILTER" "$events" | wc -l)
got_jansson=$("$DIR/jansson_parse" "$events" --filter | awk '{print $3}')
if [ "$want" != "$got_jq" ] || [ "$want" != "$got_jansson" ]; then
	echo "the tools disagree: pangolin $want, jq $got_jq, jansson $got_jansson events match" >&2
	exit 1
fi

PG="$PG" EVENTS="$events" N="$N" ROUNDS="$ROUNDS" CPU="$CPU" FILTER="$FILTER" \
	JQ_FILTER="$JQ_FILTER" JANSSON="$DIR/jansson_parse" MATCHED="$want" python3 - <<'EOF'
import os, platform, statistics, subprocess, time

env = os.environ
cpu, n, rounds = env["CPU"], int(env["N"]), int(env["ROUNDS"])
events = env["EVENTS"]
size = os.path.getsize(events)
cmds = [
    ("pangolin replay -o /dev/null", [env["PG"], "replay", events, "-o", "/dev/null", "-q"]),
    ("pangolin replay --filter -o /dev/null", [env["PG"], "replay", events, "-f", env["FILTER"], "-o", "/dev/null", "-q"]),
    ("jq -c 'select(...)' > /dev/null", ["jq", "-c", env["JQ_FILTER"], events]),
    ("jansson json_loadb per line", [env["JANSSON"], events]),
    ("jansson json_loadb + the filter", [env["JANSSON"], events, "--filter"]),
]
wall = {name: [] for name, _ in cmds}
cpu_s = {name: [] for name, _ in cmds}
devnull = open(os.devnull, "w")


def measure(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(["taskset", "-c", cpu] + argv, stdout=devnull)
    _, status, ru = os.wait4(p.pid, 0)
    t = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed")
    return t, ru.ru_utime + ru.ru_stime


print(f"{n} events, {size / 1e6:.1f} MB ({size / n:.0f} bytes/event), {env['MATCHED']} match the filter")
print(f"{platform.node()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at start, "
      f"one core (taskset -c {cpu}), {rounds} rounds interleaved")
for r in range(rounds):
    order = cmds[r % len(cmds):] + cmds[:r % len(cmds)]  # a different command goes first each round
    for name, argv in order:
        t, c = measure(argv)
        wall[name].append(t)
        cpu_s[name].append(c)
    print(f"  round {r + 1}/{rounds} done, load {os.getloadavg()[0]:.2f}", flush=True)

med = {name: (statistics.median(wall[name]), statistics.median(cpu_s[name])) for name, _ in cmds}
print()
print("| command | median wall s | events/s | MB/s | median CPU s | events/s per CPU s |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for name, _ in cmds:
    w, c = med[name]
    print(f"| `{name}` | {w:.2f} | {n / w / 1e6:.2f} M | {size / w / 1e6:.0f} | {c:.2f} | {n / c / 1e6:.2f} M |")
pf, jq = med["pangolin replay --filter -o /dev/null"], med["jq -c 'select(...)' > /dev/null"]
pr, jp = med["pangolin replay -o /dev/null"], med["jansson json_loadb per line"]
jf = med["jansson json_loadb + the filter"]
print()
print(f"pangolin --filter / jq:              {jq[0] / pf[0]:.1f}x faster (wall), {jq[1] / pf[1]:.1f}x (CPU)")
print(f"pangolin --filter / jansson+filter:  {jf[0] / pf[0]:.1f}x faster (wall), {jf[1] / pf[1]:.1f}x (CPU)")
print(f"pangolin replay (decode+encode+write) / jansson parse only: {jp[0] / pr[0]:.1f}x (wall)")
print(f"all wall times (s): " + "; ".join(f"{name}: " + " ".join(f"{x:.2f}" for x in wall[name]) for name, _ in cmds))
EOF
