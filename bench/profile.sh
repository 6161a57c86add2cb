#!/usr/bin/env bash
# Profiler overhead at 99 Hz: stress-ng --cpu 2 alone vs under pangolin profile, perf record
# and bpftrace (see bench/profile_overhead.py and bench/README.md). ~5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/profile_overhead.py "$@"
