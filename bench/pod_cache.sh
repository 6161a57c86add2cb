#!/usr/bin/env bash
# The pod cache at 10,000 pods: resident memory and rates of bench/pod_cache_bench.c (a
# generated watch stream through the parser, the mailbox and the map), then the sensor itself
# against a real API server holding that many pods on its node. See bench/README.md.
#
#   bash bench/pod_cache.sh [PODS]        (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${1:-10000}
OUT=build/bench
mkdir -p "$OUT"
[ -f build/libpangolin.a ] || make -s build/libpangolin.a
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc bench/pod_cache_bench.c \
	build/libpangolin.a $(pkg-config --libs jansson yaml-0.1 libcurl) -lpthread \
	-o "$OUT/pod_cache_bench"
echo "== the cache alone (generated watch stream)"
"$OUT/pod_cache_bench" "$PODS"

echo "== pangolin run against a real API server with $PODS pods on its node"
/usr/bin/python3 bench/pod_cache_sensor.py "$PODS"
