#!/usr/bin/env bash
# What watching io_uring costs the processes that use it. One request at a time through a
# ring (pgwork uring-loop): NOPs (any io_uring request: read, write, send... passes the same
# two tracepoints and is turned away on its opcode) and opens (each one an event). Alone,
# under `pangolin run` with every event to a file, and with open/connect excluded (the
# io_uring programs are not loaded); and, for reference, a bpftrace one-liner printing the
# io_uring opens at submission (no path, no result: what one could do without pangolin).
# Interleaved rounds, medians.
#   sudo bash bench/uring_overhead.sh        ROUNDS=5 SECONDS_PER_RUN=3
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin build/tests/helpers >/dev/null
rounds=${ROUNDS:-5}
secs=${SECONDS_PER_RUN:-3}
. bench/lib.bash
pg_bench_init uring
echo x >"$tmp/target"

loop_ns() { # op: prints ns per request
	build/tests/pgwork uring-loop "$secs" "$1" "$tmp/target" | sed 's/.*ns_per_op=//'
}

under() { # op, then pangolin run arguments
	local op=$1
	shift
	pg_start "$@"
	loop_ns "$op"
	pg_stop
}

under_bpftrace() { # op
	bpftrace -e 'tracepoint:io_uring:io_uring_submit_req /args->opcode == 18/ { printf("%d %s\n", pid, comm); }' \
		>"$tmp/bpftrace.out" 2>&1 &
	local bt=$!
	for _ in $(seq 200); do
		grep -q Attaching "$tmp/bpftrace.out" && break
		sleep 0.05
	done
	loop_ns "$1"
	kill -INT "$bt"
	wait "$bt" || true
}

for r in $(seq "$rounds"); do
	for op in nop open; do
		echo "$op alone $(loop_ns $op)" >>"$tmp/res"
		echo "$op all $(under $op)" >>"$tmp/res"
		echo "$op no-open-connect $(under $op --filter 'type != "open" && type != "connect"')" >>"$tmp/res"
		echo "$op bpftrace $(under_bpftrace $op)" >>"$tmp/res"
	done
done
python3 - "$tmp/res" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    op, k, v = line.split()
    rows.setdefault((op, k), []).append(float(v))
print(f"{'request':8s} {'config':16s} {'ns/op':>8s} {'slowdown':>9s} {'extra ns':>9s}")
for op in ("nop", "open"):
    base = statistics.median(rows[(op, "alone")])
    for k in ("alone", "all", "no-open-connect", "bpftrace"):
        m = statistics.median(rows[(op, k)])
        print(f"{op:8s} {k:16s} {m:>8.0f} {m / base:>9.3f} {m - base:>9.0f}")
PY
