#!/usr/bin/env python3
"""Syscall-latency tracing overhead on a syscall-heavy loop: pangolin vs libbpf-tools syscount -L.

The workload is tests/helpers/syscall_loop (N getppid(2) calls through syscall(2)); it reports
its own elapsed time, so we get ns per syscall. Each round runs the loop alone, under
`pangolin latency syscall` and under `syscount -L` (both system-wide, histogram/latency per
syscall), in shuffled order. Prints medians, the added ns per syscall and peak RSS.

usage: sudo bench/latency_overhead.py [--rounds N] [--calls N]   (run from the repo root)
"""
import argparse
import os
import random
import signal
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PANGOLIN = os.environ.get("PANGOLIN_BIN", os.path.join(ROOT, "build", "pangolin"))
LOOP = os.path.join(ROOT, "build", "tests", "syscall_loop")

TOOLS = {
    "none": None,
    "pangolin": [PANGOLIN, "latency", "syscall"],
    "syscount-L": ["syscount", "-L"],
}


def loop(calls):
    out = subprocess.run([LOOP, str(calls)], capture_output=True, text=True).stdout
    done = [ln for ln in out.splitlines() if ln.startswith("done ")][0].split()
    return float(done[2]) / calls * 1e9  # ns per call


def one(cmd, calls):
    if cmd is None:
        return loop(calls), 0
    # /usr/bin/time reports the tool's own peak RSS (ru_maxrss of a fork of this Python
    # process would include Python's pages); the signal goes to the whole group, time itself
    # ignores SIGINT while it waits.
    rss_file = os.path.join(tempfile.gettempdir(), "pg-bench-rss-%d" % os.getpid())
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(2)
    ns = loop(calls)
    os.killpg(p.pid, signal.SIGINT)
    p.wait()
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    os.unlink(rss_file)
    return ns, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=2000000)
    a = ap.parse_args()
    res = {}
    for r in range(a.rounds):
        order = list(TOOLS)
        random.shuffle(order)
        for name in order:
            ns, rss = one(TOOLS[name], a.calls)
            res.setdefault(name, []).append((ns, rss))
            print(f"round {r + 1} {name:11s} {ns:8.1f} ns/call  rss {rss / 1024:6.1f} MiB", flush=True)
    base = statistics.median(n for n, _ in res["none"])
    print(f"\n{'tool':11s} {'median ns/call':>15s} {'added ns':>9s} {'ratio':>7s} {'max RSS MiB':>12s}")
    for name, v in res.items():
        med = statistics.median(n for n, _ in v)
        print(f"{name:11s} {med:15.1f} {med - base:9.1f} {med / base:7.2f} {max(r for _, r in v) / 1024:12.1f}")


if __name__ == "__main__":
    main()
