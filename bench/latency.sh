#!/usr/bin/env bash
# Syscall-latency tracing overhead: a getppid loop alone vs under pangolin latency syscall and
# libbpf-tools syscount -L (see bench/latency_overhead.py and bench/README.md). ~1 minute.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/latency_overhead.py "$@"
