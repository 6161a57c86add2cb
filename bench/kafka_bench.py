#!/usr/bin/env python3
"""Replay -> Kafka throughput, acks=all, with the broker on this same machine.

A real single-node Apache Kafka (scripts/kafka-broker.sh, its own state in
build/kafka/bench-run) takes 1,000,000 events per run, into a fresh 3-partition topic.
Configurations, interleaved over several rounds (the machine is shared and noisy; the report
takes medians):

  pangolin-json      pangolin replay EVENTS -o kafka://.../T              (NDJSON values)
  pangolin-protobuf  pangolin replay EVENTS -o kafka://.../T --format protobuf
  kcat-json          kcat -P: the very messages pangolin-json sends (same values, same keys,
                     same producer settings), read pre-encoded from a file: librdkafka's cost
                     without pangolin's decode, enrich and encode
  kcat-100B          kcat -P: 1,000,000 unkeyed 100-byte messages, the size of librdkafka's
                     published figure (~710 k msg/s on 4 cores, one broker)
  java-perf-100B     Kafka's own ProducerPerformance, 100-byte records, the same settings

Every producer: idempotent, acks=all, lz4, linger.ms=5. After each run the topic's high
watermarks must add up to exactly 1,000,000 (zero loss); the run is marked otherwise.
events/s and MB/s (message values, before compression) are over the wall time of the whole
command: start-up, connecting, producing, and waiting for the last acknowledgement.

usage: kafka_bench.py [--rounds N] [--events N] [--out FILE.json]
"""
import argparse
import json
import os
import pathlib
import random
import re
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
PANGOLIN = ROOT / "build" / "pangolin"
DATA = ROOT / "build" / "bench"
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from kafka_broker import Broker  # noqa: E402

PRODUCER = {"enable.idempotence": "true", "acks": "all", "compression.codec": "lz4",
            "linger.ms": "5", "partitioner": "murmur2_random"}


def prepare(n):
    """The recording, its canonical NDJSON (what pangolin-json sends), kcat's inputs."""
    DATA.mkdir(parents=True, exist_ok=True)
    raw = DATA / f"kafka-events-{n}.ndjson"
    canon = DATA / f"kafka-events-{n}.canonical"
    keyed = DATA / f"kafka-events-{n}.kcat"
    small = DATA / f"kafka-100B-{n}.txt"
    if not raw.exists():
        with open(raw, "w") as f:
            subprocess.run([sys.executable, str(ROOT / "bench" / "gen_events.py"), str(n),
                            "--k8s", "100"], stdout=f, check=True)
    if not canon.exists():
        with open(canon, "w") as f:
            subprocess.run([str(PANGOLIN), "replay", str(raw), "-q"], stdout=f, check=True)
    if not keyed.exists():
        with open(canon) as src, open(keyed, "w") as dst:
            for line in src:
                ev = json.loads(line)
                key = ev.get("pod_uid") or ev.get("container_id") or ev.get("node")
                dst.write(f"{key}\t{line}")
    if not small.exists():
        rnd = random.Random(1)
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        with open(small, "w") as f:
            for _ in range(n):
                f.write("".join(rnd.choice(letters) for _ in range(100)) + "\n")
    return raw, canon, keyed, small


def kcat_cmd(bootstrap, topic, path, keyed):
    cmd = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-l", str(path)]
    if keyed:
        cmd += ["-K", "\t"]
    for k, v in PRODUCER.items():
        cmd += ["-X", f"{k}={v}"]
    return cmd


def java_cmd(bootstrap, topic, n):
    lib = ROOT / "build" / "kafka" / "lib"
    props = [f"bootstrap.servers={bootstrap}", "acks=all", "enable.idempotence=true",
             "compression.type=lz4", "linger.ms=5"]
    return ["java", "-Xmx1g", "-cp", f"{lib}/*", "-Dlog4j.configuration=file:/dev/null",
            "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
            "--num-records", str(n), "--record-size", "100", "--throughput", "-1",
            "--producer-props", *props]


def value_bytes(bootstrap, topic):
    """Sum of the message value sizes in the topic, read back with kcat."""
    r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e",
                        "-q", "-f", "%S\n"], capture_output=True, text=True, check=True)
    sizes = [int(x) for x in r.stdout.split()]
    return len(sizes), sum(sizes)


def delete_topic(bootstrap, topic):
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})  # outlives its futures
    for f in admin.delete_topics([topic]).values():
        f.result(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--out", default=str(DATA / "kafka.json"))
    a = ap.parse_args()
    n = a.events
    raw, canon, keyed, small = prepare(n)
    json_bytes = canon.stat().st_size - n  # values are the lines without their newline

    broker = Broker(ROOT / "build" / "kafka" / "bench-run")
    broker.start(fresh=True)
    configs = {
        "pangolin-json": lambda t: [str(PANGOLIN), "replay", str(raw), "-o", broker.url(t)],
        "pangolin-protobuf": lambda t: [str(PANGOLIN), "replay", str(raw), "-o", broker.url(t),
                                        "--format", "protobuf"],
        "kcat-json": lambda t: kcat_cmd(broker.bootstrap, t, keyed, True),
        "kcat-100B": lambda t: kcat_cmd(broker.bootstrap, t, small, False),
        "java-perf-100B": lambda t: java_cmd(broker.bootstrap, t, n),
    }
    sizes = {"pangolin-json": json_bytes, "kcat-json": json_bytes, "kcat-100B": 100 * n,
             "java-perf-100B": 100 * n}
    runs = {c: [] for c in configs}
    try:
        for rnd in range(a.rounds):
            for name, cmd in configs.items():
                topic = broker.create_topic(partitions=3, name=f"bench-{name}-{rnd}")
                argv = cmd(topic)
                t0 = time.monotonic()
                r = subprocess.run(argv, capture_output=True, text=True)
                wall = time.monotonic() - t0
                count = broker.count(topic)
                if name not in sizes:
                    got, sizes[name] = value_bytes(broker.bootstrap, topic)
                extra = ""
                if name.startswith("java"):
                    m = re.search(r"(\d+) records sent, ([\d.]+) records/sec", r.stdout)
                    extra = m.group(2) if m else ""
                runs[name].append({"wall_s": wall, "count": count, "rc": r.returncode,
                                   "own_rate": extra,
                                   "stderr": r.stderr.strip().splitlines()[-1:] if r.stderr else []})
                print(f"round {rnd + 1} {name:18s} {wall:6.2f} s  {n / wall / 1e3:7.1f} k ev/s  "
                      f"{sizes[name] / wall / 1e6:6.1f} MB/s  in topic: {count}"
                      f"{'' if r.returncode == 0 else f'  EXIT {r.returncode}'}"
                      f"{f'  (own: {float(extra) / 1e3:.1f} k/s)' if extra else ''}", flush=True)
                delete_topic(broker.bootstrap, topic)
    finally:
        broker.stop()

    rows = {}
    for name, rs in runs.items():
        walls = [x["wall_s"] for x in rs]
        med = statistics.median(walls)
        rows[name] = {"median_wall_s": med, "events_per_s": n / med,
                      "mb_per_s": sizes[name] / med / 1e6, "value_bytes": sizes[name],
                      "runs": len(rs), "all_exact": all(x["count"] == n and x["rc"] == 0 for x in rs),
                      "walls": walls, "own_rates": [x["own_rate"] for x in rs]}
    # ratios per round (each configuration against kcat-json of the same round), then medians:
    # a busy moment slows a whole round, and the ratio cancels most of it
    base_walls = rows["kcat-json"]["walls"]
    for name, row in rows.items():
        row["vs_kcat_json"] = statistics.median(b / w for b, w in zip(base_walls, row["walls"]))
    print()
    print(f"{n} events per run, {a.rounds} rounds, medians; broker and producer share "
          f"{os.cpu_count()} cores")
    print(f"| configuration | events/s | MB/s (values) | vs kcat-json (per-round ratio) | "
          f"exactly {n:,} in topic |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, row in rows.items():
        print(f"| {name} | {row['events_per_s'] / 1e3:.0f} k | {row['mb_per_s']:.1f} | "
              f"{row['vs_kcat_json']:.2f} | {'yes, every run' if row['all_exact'] else 'NO'} |")
    pathlib.Path(a.out).write_text(json.dumps({"events": n, "rounds": a.rounds, "rows": rows},
                                              indent=1))


if __name__ == "__main__":
    main()
