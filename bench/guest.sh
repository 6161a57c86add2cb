#!/usr/bin/env bash
# The sensor's cost inside a QEMU guest of a Debian kernel (default: the newest 6.12), next to
# the floor, an empty BPF program on raw_syscalls:sys_exit (bench/hook_floor.c), in the same
# guest run: what the issue's targets are stated against (every event written ≤ 1.12 × the
# floor, filtered out in the kernel ≤ 1.02 ×). The guest runs under TCG on this machine, 10-50 ×
# slower than the host: only the ratios within one run are comparable, never the ops/s.
# Reuses the kernel matrix's guests (tests/kernels/run, docs/kernels.md).
#
#   bash bench/guest.sh                 6.12, 5 rounds of 3 s per configuration
#   SERIES="6.1 6.12" ROUNDS=7 SECONDS_PER_RUN=4 bash bench/guest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin build/tests/helpers >/dev/null
mkdir -p build/bench
cc -std=gnu11 -O2 -Wall -Wextra -Werror bench/hook_floor.c -o build/bench/hook_floor
out=build/bench/guest
rounds=${ROUNDS:-5}
secs=${SECONDS_PER_RUN:-3}
# the guest's time bound: every round loads the sensor twice (seconds under TCG)
PG_KERNEL_SERIES=${SERIES:-6.12} PG_KERNEL_HOST=0 PG_KERNEL_RESULTS=$PWD/$out \
	PG_GUEST_TIMEOUT=$((600 + rounds * 4 * (secs + 20))) \
	PG_GUEST_APPEND="PG_SUITE=bench PG_BENCH_ROUNDS=$rounds PG_BENCH_SECONDS=$secs" \
	bash tests/kernels/run
python3 bench/guest_report.py "$out"
