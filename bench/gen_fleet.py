#!/usr/bin/env python3
"""Write N synthetic events of a fleet: PODS pods, each on its node, each a tree of processes
with lives (bench/gen_lifecycle.py, a seed per pod), interleaved by time, with the pod fields
the enrich stage adds. Kafka keys them by pod, so they spread over a topic's partitions as a
fleet's do. Deterministic.

Usage: gen_fleet.py N [--pods PODS] [--live LIVE] > file.ndjson
"""
import argparse
import heapq
import json
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def pod(i):
    return {"node": f"node-{i:03d}", "container_id": "%064x" % (0xbe7c00000000 + i),
            "pod_uid": "%08x-be7c-4e00-8000-%012x" % (0xbe7c0000 + i, i),
            "namespace": f"team-{i % 8}", "pod": f"app-{i:03d}", "workload_kind": "Deployment",
            "workload": f"app-{i % 8}", "labels": {"app": f"app-{i % 8}", "tier": "web"}}


def stream(i, n, live):
    out = subprocess.run([sys.executable, str(HERE / "gen_lifecycle.py"), str(n), "--seed",
                          str(1000 + i), "--live", str(live)], capture_output=True, text=True,
                         check=True).stdout
    extra = pod(i)
    for line in out.splitlines():
        e = json.loads(line)
        e.update(extra)
        yield e["ts"], i, json.dumps(e, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--pods", type=int, default=64)
    ap.add_argument("--live", type=int, default=200)
    a = ap.parse_args()
    each = [a.n // a.pods + (1 if i < a.n % a.pods else 0) for i in range(a.pods)]
    for _, _, line in heapq.merge(*(stream(i, each[i], a.live) for i in range(a.pods))):
        sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
