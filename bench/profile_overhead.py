#!/usr/bin/env python3
"""Profiler overhead at 99 Hz on a CPU-bound workload, side by side with perf and bpftrace.

Each round runs `stress-ng --cpu 2 --timeout T --metrics-brief` once alone and once under each
profiler (order shuffled per round, so slow drift of the shared machine hits every config
alike), and records stress-ng's bogo-ops/s (real time) and the profiler's peak RSS (ru_maxrss
of the whole profiler run, its final symbolization/writing included). Prints medians and the
ratio to the unprofiled median.

usage: sudo bench/profile_overhead.py [--rounds N] [--seconds T]   (run from the repo root)
"""
import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PANGOLIN = os.environ.get("PANGOLIN_BIN", os.path.join(ROOT, "build", "pangolin"))


def tools(tmp):
    return {
        "none": None,
        "pangolin": [PANGOLIN, "profile", "-F", "99", "-o", os.path.join(tmp, "p.folded")],
        "perf": ["perf", "record", "-F", "99", "-a", "-g", "-q", "-o", os.path.join(tmp, "perf.data")],
        "bpftrace": ["bpftrace", "-q", "-e", "profile:hz:99 { @[kstack, ustack] = count(); }"],
    }


def stress(seconds):
    out = subprocess.run(["stress-ng", "--cpu", "2", "--timeout", str(seconds), "--metrics-brief"],
                         capture_output=True, text=True).stderr
    for line in out.splitlines():
        m = re.search(r"\] cpu\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            return float(m.group(5))
    raise RuntimeError("no metrics in stress-ng output:\n" + out)


def one(cmd, seconds):
    if cmd is None:
        return stress(seconds), 0
    # /usr/bin/time reports the tool's own peak RSS (ru_maxrss of a fork of this Python
    # process would include Python's pages); the signal goes to the whole group, time itself
    # ignores SIGINT while it waits.
    rss_file = os.path.join(tempfile.gettempdir(), "pg-bench-rss-%d" % os.getpid())
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(3)  # loaded and attached (all three take well under 3 s here)
    ops = stress(seconds)
    os.killpg(p.pid, signal.SIGINT)
    p.wait()
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    os.unlink(rss_file)
    return ops, rss  # KiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = tools(tmp)
        for r in range(a.rounds):
            order = list(t)
            random.shuffle(order)
            for name in order:
                ops, rss = one(t[name], a.seconds)
                res.setdefault(name, []).append((ops, rss))
                print(f"round {r + 1} {name:9s} {ops:10.2f} bogo-ops/s  rss {rss / 1024:7.1f} MiB", flush=True)
    base = statistics.median(o for o, _ in res["none"])
    print(f"\n{'tool':10s} {'median ops/s':>13s} {'vs none':>8s} {'slowdown':>9s} {'max RSS MiB':>12s}")
    for name, v in res.items():
        med = statistics.median(o for o, _ in v)
        rss = max(r for _, r in v) / 1024
        print(f"{name:10s} {med:13.2f} {med / base:8.4f} {100 * (1 - med / base):8.2f}% {rss:12.1f}")


if __name__ == "__main__":
    main()
