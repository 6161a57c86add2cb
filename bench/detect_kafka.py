#!/usr/bin/env python3
"""Detection from Kafka: `pangolin detect` reading a fleet's topic in a consumer group, one
process and then two sharing it, with the broker on this same 2-core machine; next to the same
events read from a file to /dev/null (the recording -> null figure of bench/detect.sh).

A real single-node Apache Kafka (scripts/kafka-broker.sh, its own state in
build/kafka/bench-run) holds EVENTS events of 64 pods (bench/gen_fleet.py: processes with
lives, keyed by pod, with process fields as the sensor writes them) in a 6-partition topic,
produced once. Every run is a new consumer group, so it reads the topic from the start, with
the 100 rules of bench/detect.sh (bench/gen_rules.py), alerts to /dev/null. Configurations,
interleaved over ROUNDS rounds (the machine is shared and noisy; the report takes medians):

  file        pangolin detect -i EVENTS.ndjson -o /dev/null            (one process)
  kafka x1    pangolin detect -i kafka://.../T --group G -o /dev/null  (one process)
  kafka x2    two of them, same group: three partitions each

A run ends when the processes' counters (--metrics, scraped every 50 ms) add up to every
event read. Reported per process: events read, CPU seconds (user + system, from /proc at that
moment) and events per CPU second; per run: events per wall second over all processes (from
the start of the processes to the last event read: joining the group included; and from the
first event read, once the group has formed), and the broker's CPU seconds over the same time. Nothing is pinned: the point is what 1 and 2
processes get out of the 2 cores the broker also runs on.

usage: detect_kafka.py [--rounds N] [--events N] [--out FILE.json]
"""
import argparse
import json
import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
PANGOLIN = ROOT / "build" / "pangolin"
DATA = ROOT / "build" / "bench"
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from kafka_broker import Broker  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """user + system CPU seconds of a process, from /proc."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def prepare(n):
    DATA.mkdir(parents=True, exist_ok=True)
    raw = DATA / f"fleet-{n}.raw.ndjson"
    rec = DATA / f"fleet-{n}.ndjson"
    rules = DATA / "bench-rules"
    if not rec.exists():
        with open(raw, "w") as f:
            subprocess.run([sys.executable, str(ROOT / "bench" / "gen_fleet.py"), str(n)],
                           stdout=f, check=True)
        # with the process fields, as sensors write them to the topic
        subprocess.run([str(PANGOLIN), "replay", str(raw), "--process", "-q", "-o", str(rec)],
                       check=True)
        raw.unlink()
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_rules.py"), str(rules)], check=True)
    # the generator ends each pod's stream with its processes' exits: a few more than asked
    with open(rec) as f:
        n = sum(1 for _ in f)
    return rec, rules, n


class Consumer:
    def __init__(self, rules, url, group):
        self.err = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [str(PANGOLIN), "detect", "--rules", str(rules), "-i", url, "--group", group,
             "-o", "/dev/null", "--metrics", "127.0.0.1:0", "-X", "session.timeout.ms=6000"],
            stdout=subprocess.DEVNULL, stderr=self.err)
        self.port = None

    def messages(self):
        if self.port is None:
            self.err.seek(0)
            m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", self.err.read())
            if not m:
                return 0
            self.port = int(m[1])
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5).read()
        m = re.search(rb'pangolin_kafka_consumer_total\{what="messages"\} (\d+)', text)
        return int(m[1]) if m else 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.err.seek(0)
        return self.err.read()


def run_kafka(broker, broker_pid, topic, rules, n, procs):
    group = f"bench-{uuid.uuid4().hex[:8]}"
    b0 = cpu_seconds(broker_pid)
    t0 = time.monotonic()
    cs = [Consumer(rules, broker.url(topic), group) for _ in range(procs)]
    first = None
    try:
        while True:
            got = [c.messages() for c in cs]
            if first is None and sum(got):
                first = (time.monotonic(), sum(got))
            if sum(got) >= n:
                break
            if time.monotonic() - t0 > 600:
                raise RuntimeError(f"{sum(got)} of {n} events read after 600 s")
            for c in cs:
                if c.proc.poll() is not None:
                    c.err.seek(0)
                    raise RuntimeError(f"detect exited {c.proc.returncode}:\n{c.err.read()}")
            time.sleep(0.05)
        wall = time.monotonic() - t0
        cpu = [cpu_seconds(c.proc.pid) for c in cs]
        broker_cpu = cpu_seconds(broker_pid) - b0
    finally:
        for c in cs:
            if c.proc.poll() is None:
                c.stop()
    # once the group has formed and reading started: the steady rate
    steady = (n - first[1]) / (t0 + wall - first[0])
    return {"wall": wall, "events": got, "cpu": cpu, "broker_cpu": broker_cpu, "steady": steady}


def run_file(rec, rules, n):
    t0 = time.monotonic()
    p = subprocess.Popen([str(PANGOLIN), "detect", "--rules", str(rules), "-i", str(rec),
                          "-o", "/dev/null", "-q"])
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    assert status == 0
    return {"wall": wall, "events": [n], "cpu": [usage.ru_utime + usage.ru_stime],
            "broker_cpu": 0.0, "steady": n / wall}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--out", default=str(DATA / "detect-kafka.json"))
    a = ap.parse_args()
    rec, rules, n = prepare(a.events)
    broker = Broker(ROOT / "build" / "kafka" / "bench-run").start(fresh=True)
    broker_pid = int((ROOT / "build" / "kafka" / "bench-run" / "broker.pid").read_text())
    try:
        topic = broker.create_topic(partitions=6)
        subprocess.run([str(PANGOLIN), "replay", str(rec), "-q", "-o", broker.url(topic)],
                       check=True)
        assert broker.count(topic) == n
        results = {"file": [], "kafka x1": [], "kafka x2": []}
        for r in range(a.rounds):
            order = list(results)
            order = order[r % 3:] + order[:r % 3]
            for name in order:
                if name == "file":
                    res = run_file(rec, rules, n)
                else:
                    res = run_kafka(broker, broker_pid, topic, rules, n, int(name[-1]))
                results[name].append(res)
                print(f"round {r + 1} {name}: {sum(res['events']) / res['wall']:.0f} events/s, "
                      f"per process {[round(e / c) for e, c in zip(res['events'], res['cpu'])]} "
                      f"events/CPU s, broker {res['broker_cpu']:.1f} CPU s", flush=True)
    finally:
        broker.stop()
    pathlib.Path(a.out).write_text(json.dumps(results, indent=1))
    print()
    print(f"{'configuration':<12} {'events/s (all)':>15} {'after joining':>14} "
          f"{'per process: events/CPU s':>28} {'CPU s (each)':>14} {'broker CPU s':>13}")
    for name, runs in results.items():
        med = statistics.median
        rate = med(sum(x["events"]) / x["wall"] for x in runs)
        per = [med(x["events"][i] / x["cpu"][i] for x in runs) for i in range(len(runs[0]["cpu"]))]
        cpu = [med(x["cpu"][i] for x in runs) for i in range(len(runs[0]["cpu"]))]
        steady = med(x["steady"] for x in runs)
        print(f"{name:<12} {rate:>15,.0f} {steady:>14,.0f} {', '.join(f'{p:,.0f}' for p in per):>28} "
              f"{', '.join(f'{c:.2f}' for c in cpu):>14} {med(x['broker_cpu'] for x in runs):>13.2f}")


if __name__ == "__main__":
    main()
