#!/usr/bin/env bash
# The process table under a long synthetic fork storm: RSS every tenth of the way (it must stay
# flat) and the table's cost per event. See bench/README.md.
#
#   bash bench/proctable.sh [FORKS] [FORKS_PER_SECOND]     (defaults 10000000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/bench
mkdir -p "$OUT"
[ -f build/libpangolin.a ] || make -s build/libpangolin.a
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc bench/proctable_bench.c \
	build/libpangolin.a -o "$OUT/proctable_bench"
"$OUT/proctable_bench" "${1:-10000000}" "${2:-10000}"
