#!/usr/bin/env bash
# Detection from Kafka, 1 and 2 consumers of one group on this machine's 2 cores, next to the
# same events from a file; see bench/detect_kafka.py and bench/README.md.
# ROUNDS (default 3) and EVENTS (default 1000000) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/pangolin >/dev/null
bash scripts/kafka-broker.sh fetch
mkdir -p build/bench
/usr/bin/python3 bench/detect_kafka.py --rounds "${ROUNDS:-3}" --events "${EVENTS:-1000000}" \
	--out build/bench/detect-kafka.json
