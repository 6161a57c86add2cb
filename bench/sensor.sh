#!/usr/bin/env bash
# Sensor overhead on an open+close loop, side by side with opensnoop and bpftrace.
# ROUNDS and SECONDS override the defaults (5 rounds of 5 s per configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin build/tests/helpers >/dev/null
mkdir -p build/bench
# the floor under any syscall sensor: a program that does nothing, on raw_syscalls:sys_exit
cc -std=gnu11 -O2 -Wall -Wextra -Werror bench/hook_floor.c -o build/bench/hook_floor
# the least an open reporter can do (bench/min_open.bpf.c), read with pangolin's ring reader
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -Ibuild/bpf -c bench/min_open.bpf.c \
	-o build/bench/min_open.bpf.o
cc -std=gnu11 -O2 -Wall -Wextra -Werror -Isrc bench/min_open.c src/ring.c -lbpf -o build/bench/min_open
python3 bench/sensor_bench.py --rounds "${ROUNDS:-5}" --seconds "${SECONDS_PER_RUN:-5}" \
	--out build/bench/sensor.json
