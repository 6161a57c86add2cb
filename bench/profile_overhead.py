#!/usr/bin/env python3
"""Profiler overhead at 99 Hz on a CPU-bound workload, side by side with perf and bpftrace.

Each round runs `stress-ng --cpu 2 --timeout T --metrics-brief` once alone and once under each
profiler (order shuffled per round, so slow drift of the shared machine hits every config
alike), and records stress-ng's bogo-ops/s (real time, and per CPU second: usr+sys, which is
less sensitive to other jobs taking CPUs away) and the profiler's peak RSS (the whole run, its
final symbolization/writing included). Prints medians and ratios to the unprofiled median.

On a shared, noisy machine a 1 % effect drowns in throughput noise, so the cost of the BPF
profilers is also measured directly: with kernel.bpf_stats_enabled=1 (set for the benchmark,
restored after) the kernel accounts the run time of every BPF program; the perf_event programs
that appear when a tool starts are its samplers. Reported separately: "bpf %", the samplers' kernel
run time / (seconds x CPUs), the steady-state cost of sampling; and "tool cpu-s", the tool's
own user+sys seconds over its whole life (start-up: bpftrace compiles its program with LLVM;
the final symbolization and writing), which do not recur per second of profiling. perf's
sampling runs in the kernel outside BPF, so for perf only its own CPU seconds are known.

usage: sudo bench/profile_overhead.py [--rounds N] [--seconds T]   (run from the repo root)
"""
import argparse
import json
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
    """(bogo-ops/s real time, bogo-ops/s per usr+sys second)"""
    out = subprocess.run(["stress-ng", "--cpu", "2", "--timeout", str(seconds), "--metrics-brief"],
                         capture_output=True, text=True).stderr
    for line in out.splitlines():
        m = re.search(r"\] cpu\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            fields = line.split("] cpu", 1)[1].split()
            return float(fields[4]), float(fields[5])
    raise RuntimeError("no metrics in stress-ng output:\n" + out)


def perf_progs():
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True).stdout
    return {p["id"]: p for p in json.loads(out or "[]") if p.get("type") == "perf_event"}


def one(cmd, seconds):
    if cmd is None:
        return stress(seconds) + (0, None)
    # /usr/bin/time reports the tool's own peak RSS (ru_maxrss of a fork of this Python
    # process would include Python's pages); the signal goes to the whole group, time itself
    # ignores SIGINT while it waits.
    rss_file = os.path.join(tempfile.gettempdir(), "pg-bench-rss-%d" % os.getpid())
    before = perf_progs()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file] + cmd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(3)  # loaded and attached (all three take well under 3 s here)
    mine = {i: p0 for i, p0 in perf_progs().items() if i not in before}
    t0 = time.monotonic()
    ops = stress(seconds)
    after = perf_progs()
    wall = time.monotonic() - t0
    bpf_ns = sum(after[i].get("run_time_ns", 0) - mine[i].get("run_time_ns", 0) for i in mine if i in after)
    runs = sum(after[i].get("run_cnt", 0) - mine[i].get("run_cnt", 0) for i in mine if i in after)
    os.killpg(p.pid, signal.SIGINT)
    p.wait()
    with open(rss_file) as f:
        rss, utime, stime = f.read().split()[-3:]
    os.unlink(rss_file)
    ncpu = os.cpu_count()
    # the tool's user+sys time covers its whole life (start-up, sampling, final writing)
    share = (bpf_ns / 1e9 + float(utime) + float(stime)) / ((wall + 3) * ncpu)
    return ops + (int(rss), {"bpf_ns_per_run": bpf_ns / runs if runs else None, "runs": runs,
                             "bpf_share": bpf_ns / 1e9 / (wall * ncpu), "share": share,
                             "tool_cpu": float(utime) + float(stime)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()
    res = {}
    stats_was = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            t = tools(tmp)
            for r in range(a.rounds):
                order = list(t)
                random.shuffle(order)
                for name in order:
                    ops, cpu_ops, rss, cost = one(t[name], a.seconds)
                    res.setdefault(name, []).append((ops, cpu_ops, rss, cost))
                    extra = ""
                    if cost:
                        extra = f"  bpf {100 * cost['bpf_share']:.4f}%"
                        extra += f" ({cost['bpf_ns_per_run']:.0f} ns/sample)" if cost["bpf_ns_per_run"] else ""
                        extra += f", tool {cost['tool_cpu']:.2f} cpu-s"
                    print(f"round {r + 1} {name:9s} {ops:9.2f} ops/s {cpu_ops:9.2f} ops/cpu-s"
                          f"  rss {rss / 1024:6.1f} MiB{extra}", flush=True)
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(stats_was)
    base = statistics.median(v[0] for v in res["none"])
    cbase = statistics.median(v[1] for v in res["none"])
    print(f"\n{'tool':10s} {'ops/s':>9s} {'ratio':>7s} {'ops/cpu-s':>10s} {'ratio':>7s} {'RSS MiB':>8s} {'bpf %':>8s} {'ns/sample':>9s} {'tool cpu-s':>10s}")
    for name, v in res.items():
        med = statistics.median(x[0] for x in v)
        cmed = statistics.median(x[1] for x in v)
        rss = max(x[2] for x in v) / 1024
        costs = [x[3] for x in v if x[3]]
        if costs:
            ns = [c["bpf_ns_per_run"] for c in costs if c["bpf_ns_per_run"]]
            sh = (f"{100 * statistics.median(c['bpf_share'] for c in costs):7.4f}% "
                  f"{statistics.median(ns) if ns else 0:9.0f} "
                  f"{statistics.median(c['tool_cpu'] for c in costs):10.2f}")
        else:
            sh = f"{'-':>8s} {'-':>9s} {'-':>10s}"
        print(f"{name:10s} {med:9.2f} {med / base:7.4f} {cmed:10.2f} {cmed / cbase:7.4f} {rss:8.1f} {sh}")


if __name__ == "__main__":
    main()
