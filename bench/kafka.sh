#!/usr/bin/env bash
# Replay -> Kafka throughput (acks=all, JSON and protobuf) against a real broker on this
# machine, side by side with kcat and Kafka's ProducerPerformance; see bench/kafka_bench.py.
# ROUNDS (default 3) and EVENTS (default 1000000) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin >/dev/null
bash scripts/kafka-broker.sh fetch
mkdir -p build/bench
/usr/bin/python3 bench/kafka_bench.py --rounds "${ROUNDS:-3}" --events "${EVENTS:-1000000}" \
	--out build/bench/kafka.json
