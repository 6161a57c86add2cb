#!/usr/bin/env bash
# Sensor overhead on an open+close loop, side by side with opensnoop and bpftrace.
# ROUNDS and SECONDS override the defaults (5 rounds of 5 s per configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin build/tests/helpers >/dev/null
mkdir -p build/bench
python3 bench/sensor_bench.py --rounds "${ROUNDS:-5}" --seconds "${SECONDS_PER_RUN:-5}" \
	--out build/bench/sensor.json
