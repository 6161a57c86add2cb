#!/usr/bin/env bash
# Enforcement (docs/enforce.md): what deciding costs, and what deciding in the kernel buys.
#  1. the open+close loop (bench/sensor_bench.py, output to /dev/null) with no policy, and a
#     policy of 0, 10 and 1,000 kill rules on opens, none
#     matching, against the same sensor without a policy and the floor (an empty program on
#     sys_exit), interleaved rounds, medians; ROUNDS and SECONDS_PER_RUN override 7 x 4 s;
#     BPF_STATS=1 adds the kernel's account of each configuration's BPF time per op (a run of
#     its own: the accounting slows every program a little)
#  2. the race (bench/enforce_race.py): bytes of a secret that get out when the opener is
#     killed in the kernel vs by a responder on pangolin's event stream, TRIES (100) tries; and
#     the time from the open to the process's death, from kernel timestamps
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin build/tests/helpers >/dev/null
mkdir -p build/bench
cc -std=gnu11 -O2 -Wall -Wextra -Werror bench/hook_floor.c -o build/bench/hook_floor
python3 bench/sensor_bench.py --rounds "${ROUNDS:-7}" --seconds "${SECONDS_PER_RUN:-4}" \
	--configs alone,empty-hook,pangolin-hook,pangolin-pol0,pangolin-pol0-near,pangolin-pol10,pangolin-pol1000,pangolin-all,pangolin-all-pol0,pangolin-all-pol1000 \
	--discard ${BPF_STATS:+--bpf-stats} --out build/bench/enforce-cost.json
python3 bench/enforce_race.py --tries "${TRIES:-100}" --out build/bench/enforce-race.json
