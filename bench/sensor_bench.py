#!/usr/bin/env python3
"""Overhead of tracing an open+close loop: pangolin side by side with opensnoop and bpftrace.

Configurations, interleaved over several rounds (this machine is shared and noisy, so each
round runs every configuration once and the report takes medians):
  alone            the workload with nothing attached
  pangolin-all     pangolin run, every event of every type written to a file
  pangolin-scraped pangolin-all with --metrics, and /metrics fetched every second while the
                   workload runs (what a Prometheus with a 1 s scrape interval costs)
  pangolin-noproc  the same without the process table (--no-process: no exe, cmdline, parent
                   and ancestors fields on each event)
  pangolin-kfilt   pangolin run --filter 'comm != "pgwork"': the workload's events are
                   refused in the kernel, before the ring buffer
  pangolin-typefilt pangolin run --filter 'type in ["exec", "fork", "exit"]': open events are
                   excluded by type, so the kernel never runs code for them (no syscall hook)
  pangolin-hook    pangolin run --filter 'type == "setid"': the syscall hook is attached but
                   open and close are not syscalls it wants: the cost of the hook itself
  pangolin-polN    pangolin-hook with a policy of N kill rules on opens, none matching the
                   workload (exact paths, prefixes, comm and uid scopes, a quarter each): every
                   open is decided in the kernel and nothing is emitted, so the difference to
                   pangolin-hook is what deciding costs (docs/enforce.md); pangolin-pol0 is
                   the policy machinery with no rule loaded, so polN / pol0 is what the N
                   rules themselves cost
  pangolin-polN-near pangolin-polN with the policy file in the directory of the file the
                   workload opens (the others keep it in a directory of its own): watching
                   the policy for a reload must cost the other files there nothing
  pangolin-all-polN pangolin-all with the same N rules
  empty-hook       bench/hook_floor: a BPF program that does nothing (r0 = 0; exit) on the
                   raw tracepoint sys_exit: the floor under any syscall sensor on this kernel
  min-open         bench/min_open: the least an open reporter can do in the kernel (timestamp,
                   pid, result and path, reserved in the ring at full size and committed
                   without a wakeup; read in batches, "PID PATH" written per open): what any
                   sensor that reports opens pays above the floor on this machine
  opensnoop        libbpf-tools opensnoop, output to a file
  bpftrace         a printf one-liner on sys_enter_openat, output to a file
  bpftrace-never   bpftrace with a predicate that never matches

For each: workload ops/s (one op = open + close), slowdown = alone / config, events of the
workload delivered, and events lost where the tool reports it. For pangolin also load+attach
time, the steady RSS, and the CPU time of the tool's own process per workload op.

--discard: pangolin writes to /dev/null. Storing ~1 GB/s to a file makes the machine reclaim
and compact memory (and the reader lose events) more on some rounds than others; comparing
two sensor configurations (a policy or not) is sharper without it.

--bpf-stats: the kernel accounts the run time of every BPF program (kernel.bpf_stats_enabled,
set for the run and restored after); each configuration then also reports the time its own
programs ran per workload op ("bpf ns/op"), a measure of the sensor's kernel side that the
machine's noise barely moves. The accounting itself costs two clock reads per program run, so
ops/s of such a run are not comparable with a run without it.

usage: sensor_bench.py [--rounds N] [--seconds S] [--configs A,B] [--bpf-stats] [--out FILE.json]
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
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
PANGOLIN = ROOT / "build" / "pangolin"
PGWORK = ROOT / "build" / "tests" / "pgwork"
HOOK_FLOOR = ROOT / "build" / "bench" / "hook_floor"
MIN_OPEN = ROOT / "build" / "bench" / "min_open"


def cpu_s(pid):
    """user + system CPU seconds process pid (its threads included) has used, None if gone"""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def workload(seconds, path):
    out = subprocess.run([str(PGWORK), "loop", str(seconds), path], capture_output=True, text=True,
                         check=True).stdout
    d = dict(t.split("=") for t in out.split())
    return int(d["pid"]), float(d["ops_per_s"]), int(d["n"])


def wait_ready(proc, errfile, outfile, marker, timeout=30):
    """Until the tracer says it attached (bpftrace says so on stdout, pangolin on stderr)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tracer exited early: {pathlib.Path(errfile).read_text()}")
        said = pathlib.Path(errfile).read_text() + pathlib.Path(outfile).read_bytes()[:4096].decode(errors="replace")
        if marker is None or marker(said):
            return
        time.sleep(0.05)
    raise RuntimeError("tracer never became ready: " + pathlib.Path(errfile).read_text())


class Scraper:
    """GET /metrics every second on a thread, as a Prometheus scraping at 1 s would."""

    def __init__(self, errfile):
        m = re.search(r"metrics on http://[^ ]*:(\d+)/metrics", pathlib.Path(errfile).read_text())
        self.url = f"http://127.0.0.1:{m.group(1)}/metrics"
        self.done = threading.Event()
        self.count = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.wait(1.0):
            with urllib.request.urlopen(self.url, timeout=5) as r:
                if b"pangolin_events_total" in r.read():
                    self.count += 1

    def stop(self):
        """(scrapes, microseconds the event loop spent per collection, by its own counters)"""
        self.done.set()
        self.thread.join()
        text = urllib.request.urlopen(self.url, timeout=5).read().decode()
        n = float(re.search(r"^pangolin_metrics_collections_total (\S+)$", text, re.M).group(1))
        s = float(re.search(r"^pangolin_metrics_collection_seconds_total (\S+)$", text, re.M).group(1))
        return self.count, round(s / n * 1e6, 1) if n else None


def policy_file(tmp, n, near=False):
    """N kill rules on opens, none of which the workload's open of tmp/target matches.

    In a directory of their own, unless near (next to tmp/target: pangolin-polN-near). Until
    2026-12-05 pangolin watched a policy file's directory for writes to any file in it, and such
    a watch makes every open and close of a file there pay for a notification: 50-75 ns per op
    here, a tenth of the hook's time, which the pol0/hook ratios of the sessions before had
    taken for the policy's own cost. Builds since watch only the directory's own entries;
    the policies stay apart so that an older build (--pangolin-b) is measured fairly, and -near
    shows the difference."""
    d = tmp if near else os.path.join(tmp, "policies")
    os.makedirs(d, exist_ok=True)
    f = os.path.join(d, f"policy-{n}.yaml")
    if os.path.exists(f):
        return f
    rules = []
    for i in range(n):
        m = ['path == "/nonexistent/pgbench/secret-%d"' % i,
             'path startswith "/nonexistent/pgbench/dir-%d/"' % i,
             'comm == "nope-%d" && path startswith "/etc/"' % i,
             'uid == %d && path startswith "/var/"' % (40000 + i)][i % 4]
        rules.append(f"  - name: r{i}\n    match: type == \"open\" && {m}\n    action: kill\n")
    # 0: the policy machinery on (every hook a rule could need), no rule loaded
    pathlib.Path(f).write_text(f"name: bench-{n}\nrules:" + ("\n" + "".join(rules) if rules else " []\n"))
    return f


def attached_links():
    """BPF links attached now, as "id type prog" lines: a benchmark with a program of some other
    tool (or a leftover of an earlier experiment) on a tracepoint measures that program too"""
    out = subprocess.run(["bpftool", "link", "show", "-j"], capture_output=True, text=True).stdout
    return [f"{l.get('id')} {l.get('type')} prog {l.get('prog_id')}" for l in json.loads(out or "[]")]


def bpf_progs():
    """{id: (name, run_time_ns, run_cnt)} of every BPF program loaded now"""
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True).stdout
    return {p["id"]: (p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out or "[]")}


def run_config(name, seconds, tmp, path, binary_b=None, bpf_stats=False, discard=False):
    out = os.path.join(tmp, f"{name}.out")
    err = os.path.join(tmp, f"{name}.err")
    stats = os.path.join(tmp, f"{name}.stats.json")
    res = {"config": name}
    if name == "alone":
        pid, ops, n = workload(seconds, path)
        res.update(ops=ops, n=n)
        return res
    if name.startswith("pangolin"):
        # "pangolin-B-...": the same configuration with the other build (--pangolin-b), for A/B
        binary = binary_b if "-B-" in name else str(PANGOLIN)
        name = name.replace("-B-", "-")
        argv = [binary, "run", "-o", "/dev/null" if discard else out, "--stats", stats]
        if name == "pangolin-scraped":
            argv += ["--metrics", "127.0.0.1:0"]
        if name == "pangolin-kfilt":
            argv += ["--filter", 'comm != "pgwork"']
        elif name == "pangolin-typefilt":
            argv += ["--filter", 'type in ["exec", "fork", "exit"]']
        elif name == "pangolin-hook" or re.match(r"pangolin-pol\d+(-near)?$", name):
            argv += ["--filter", 'type == "setid"']
        pol = re.search(r"-pol(\d+)(-near)?$", name)
        if pol:
            argv += ["--policy", policy_file(tmp, int(pol.group(1)), bool(pol.group(2)))]
        elif name == "pangolin-noproc":
            argv += ["--no-process"]  # every event, without the process table's fields
        ready = lambda t: "watching:" in t
    elif name == "empty-hook":
        argv = [str(HOOK_FLOOR)]
        ready = lambda t: "attached" in t
    elif name == "min-open":
        argv = [str(MIN_OPEN), str(MIN_OPEN) + ".bpf.o"]
        ready = lambda t: "attached" in t
    elif name == "opensnoop":
        argv = ["/usr/sbin/opensnoop"]
        ready = None
    elif name == "bpftrace":
        argv = ["bpftrace", "-e", 'tracepoint:syscalls:sys_enter_openat { printf("%d %s %s\\n", pid, comm, str(args->filename)); }']
        ready = lambda t: "Attaching" in t
    elif name == "bpftrace-never":
        argv = ["bpftrace", "-e", 'tracepoint:syscalls:sys_enter_openat /comm == "no-such-comm"/ { printf("%d %s\\n", pid, str(args->filename)); }']
        ready = lambda t: "Attaching" in t
    before = bpf_progs() if bpf_stats else {}
    with open(out, "wb") as fo, open(err, "w") as fe:
        p = subprocess.Popen(argv, stdout=fo, stderr=fe)
        try:
            wait_ready(p, err, out, ready)
            if ready is None:
                time.sleep(1.5)  # opensnoop prints its header only when it has attached
            scraper = Scraper(err) if name == "pangolin-scraped" else None
            if bpf_stats:  # the programs this tool loaded, their counts as the workload starts
                start = {i: v for i, v in bpf_progs().items() if i not in before}
            cpu0 = cpu_s(p.pid)
            pid, ops, n = workload(seconds, path)
            cpu1 = cpu_s(p.pid)
            if cpu0 is not None and cpu1 is not None and n:
                res["tool_cpu_ns_per_op"] = round((cpu1 - cpu0) / n * 1e9, 1)
            if bpf_stats:
                end = bpf_progs()
                progs = {}
                for i, (pname, t0, c0) in start.items():
                    if i in end:
                        t, c = progs.get(pname, (0, 0))
                        progs[pname] = (t + end[i][1] - t0, c + end[i][2] - c0)
                res["bpf_ns_per_op"] = sum(t for t, _ in progs.values()) / n if n else None
                res["bpf_progs"] = {k: {"ns_per_run": round(t / c, 1) if c else None, "runs": c}
                                    for k, (t, c) in progs.items() if c}
            if scraper:
                res["scrapes"], res["collect_us"] = scraper.stop()
            res["rss_kb"] = rss_kb(p.pid)
            time.sleep(0.3)
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a tracer stuck on exit: its output so far counts
                print(f"{name}: no exit 60 s after SIGINT: killed", file=sys.stderr)
                p.kill()
                p.wait()
        finally:
            if p.poll() is None:  # never leave a tracer behind: it would slow every later run
                p.kill()
                p.wait()
    res.update(ops=ops, n=n)
    text = pathlib.Path(err).read_text()
    data = pathlib.Path(out).read_bytes()
    # gone once counted: gigabytes of one configuration's output left in the page cache made
    # the next ones' writes wait for writeback, and their readers lose events (measured: 1-3 %
    # lost in pangolin-all after the other configurations, none when run alone)
    os.unlink(out)
    if name.startswith("pangolin"):
        st = json.loads(pathlib.Path(stats).read_text())
        # --discard: nothing to count; the kernel's own count of opens it sent stands in
        mine = (st["kernel"]["open"]["emitted"] if discard else
                sum(1 for l in data.splitlines() if b'"type":"open"' in l and b'"comm":"pgwork"' in l and path.encode() in l))
        res.update(delivered=mine, lost=st["lost_in_kernel"], load_ms=st["load_ms"],
                   attach_ms=st["attach_ms"], total_events=st["read"])
    elif name == "empty-hook":
        res.update(delivered=0, lost=0)
    elif name == "opensnoop":
        mine = sum(1 for l in data.splitlines() if l.split()[:1] == [str(pid).encode()] and path.encode() in l)
        lost = sum(int(x) for x in re.findall(r"[Ll]ost (\d+) events", text))
        res.update(delivered=mine, lost=lost)
    else:
        mine = sum(1 for l in data.splitlines() if l.startswith(f"{pid} ".encode()) and path.encode() in l)
        lost = sum(int(x) for x in re.findall(r"(?:Lost |lost=)(\d+)", text))
        res.update(delivered=mine, lost=lost)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--configs", default="alone,pangolin-all,pangolin-scraped,pangolin-kfilt,pangolin-typefilt,pangolin-hook,empty-hook,min-open,opensnoop,bpftrace,bpftrace-never")
    ap.add_argument("--out")
    ap.add_argument("--bpf-stats", action="store_true", help="also the run time of each tool's BPF "
                    "programs per workload op (kernel.bpf_stats_enabled during the run)")
    ap.add_argument("--discard", action="store_true", help="pangolin writes to /dev/null: what the "
                    "sensor costs without the cost of storing a gigabyte a second (delivered: "
                    "the kernel's count of opens sent, every process's)")
    ap.add_argument("--pangolin-b", help="a second pangolin build: every pangolin-* configuration "
                    "also runs with it, as pangolin-B-*, interleaved (an A/B in one run)")
    ap.add_argument("--allow-attached", action="store_true", help="run even with BPF links "
                    "attached before the benchmark starts (refused by default: they would run in "
                    "every configuration and shift every ratio)")
    a = ap.parse_args()
    links = attached_links()
    if links and not a.allow_attached:
        # measured: two leftovers on sys_exit took the floor from ~555 to 730-790 ns per op
        # and squeezed the policy's ratios from 1.10-1.20x to 1.01-1.03x (bench/README.md)
        sys.exit("sensor_bench: BPF links are attached already; they would run in every "
                 "configuration:\n  " + "\n  ".join(links) +
                 "\nstop what owns them (bpftool link show), or pass --allow-attached")
    if os.geteuid() != 0:
        sys.exit("sensor_bench: needs root (it loads BPF programs)")
    configs = a.configs.split(",")
    if a.pangolin_b:
        configs += [c.replace("pangolin-", "pangolin-B-") for c in configs if c.startswith("pangolin-")]
    results = {c: [] for c in configs}
    stats_file = pathlib.Path("/proc/sys/kernel/bpf_stats_enabled")
    stats_was = stats_file.read_text().strip()
    if a.bpf_stats:
        stats_file.write_text("1")
    try:
        with tempfile.TemporaryDirectory(prefix="pgbench-") as tmp:
            path = os.path.join(tmp, "target")
            pathlib.Path(path).write_text("x")
            for r in range(a.rounds):
                for c in configs:
                    res = run_config(c, a.seconds, tmp, path, a.pangolin_b, a.bpf_stats, a.discard)
                    results[c].append(res)
                    extra = (f"  bpf {res['bpf_ns_per_op']:.1f} ns/op {res['bpf_progs']}"
                             if res.get("bpf_ns_per_op") is not None else "")
                    print(f"round {r + 1}: {c:15s} {res['ops']:>10.0f} ops/s{extra}", file=sys.stderr)
    finally:
        stats_file.write_text(stats_was)
    base = statistics.median(x["ops"] for x in results["alone"]) if "alone" in results else None
    # the floor: an empty program on the same hook, same run (issue targets are ratios to it)
    floor = statistics.median(x["ops"] for x in results["empty-hook"]) if "empty-hook" in results else None
    rows = []
    for c in configs:
        rs = results[c]
        ops = statistics.median(x["ops"] for x in rs)
        row = {"config": c, "ops_per_s": round(ops), "ns_per_op": round(1e9 / ops, 1),
               "slowdown": round(base / ops, 3) if base else None,
               "vs_floor": round(floor / ops, 3) if floor else None}
        if c != "alone":
            n = sum(x["n"] for x in rs)
            row["delivered_pct"] = (round(100.0 * sum(x["delivered"] for x in rs) / n, 3)
                                    if "never" not in c and c.replace("-B-", "-") not in ("pangolin-hook", "pangolin-typefilt", "empty-hook")
                                    and not re.match(r"pangolin-(B-)?pol\d+(-near)?$", c) else None)
            row["lost"] = sum(x.get("lost", 0) for x in rs)
            rss = [x["rss_kb"] for x in rs if x.get("rss_kb")]
            row["rss_mb"] = round(statistics.median(rss) / 1024, 1) if rss else None
        if any("collect_us" in x for x in rs):
            row["collect_us"] = statistics.median(x["collect_us"] for x in rs if x.get("collect_us"))
        if any(x.get("bpf_ns_per_op") is not None for x in rs):
            row["bpf_ns_per_op"] = round(statistics.median(x["bpf_ns_per_op"] for x in rs
                                                           if x.get("bpf_ns_per_op") is not None), 1)
        cpu = [x["tool_cpu_ns_per_op"] for x in rs if x.get("tool_cpu_ns_per_op") is not None]
        if cpu:  # the tool's own process (its reader, encoder, writer), per workload op
            row["tool_cpu_ns_per_op"] = round(statistics.median(cpu), 1)
        if c.startswith("pangolin"):
            row["load_attach_ms"] = round(statistics.median(x["load_ms"] + x["attach_ms"] for x in rs), 1)
        rows.append(row)
    print(f"\n{'config':18s} {'ops/s':>10s} {'ns/op':>8s} {'slowdown':>9s} {'vs floor':>9s} {'delivered':>10s} {'lost':>8s} {'RSS MB':>7s} {'load+attach':>12s}")
    for r in rows:
        print(f"{r['config']:18s} {r['ops_per_s']:>10d} {r['ns_per_op']:>8.1f} {r['slowdown'] or 0:>9.3f} {r['vs_floor'] or 0:>9.3f}"
              f" {str(r.get('delivered_pct', '')) + ('%' if r.get('delivered_pct') is not None else ''):>10s}"
              f" {str(r.get('lost', '')):>8s} {str(r.get('rss_mb', '') or ''):>7s} {str(r.get('load_attach_ms', '')):>12s}"
              + (f" {r['bpf_ns_per_op']:>8.1f} bpf ns/op" if r.get("bpf_ns_per_op") is not None else "")
              + (f" {r['tool_cpu_ns_per_op']:>8.1f} tool cpu ns/op" if r.get("tool_cpu_ns_per_op") is not None else ""))
    if "pangolin-all" in results and "pangolin-scraped" in results:
        # the two ran next to each other in every round: their ratio per round cancels most
        # of what the shared machine does between rounds
        pairs = [sc["ops"] / al["ops"] for al, sc in zip(results["pangolin-all"], results["pangolin-scraped"])]
        us = [x["collect_us"] for x in results["pangolin-scraped"] if x.get("collect_us")]
        print(f"\nscraped / not scraped, per round: median {statistics.median(pairs):.3f} "
              f"(min {min(pairs):.3f}, max {max(pairs):.3f}); the event loop spent a median "
              f"{statistics.median(us) if us else 0:.0f} us per collection, once a second")
    pol = [c for c in configs if re.match(r"pangolin-(all-)?pol\d+(-near)?$", c)]
    for c in pol:
        # each against its own no-policy run, per round (they ran next to each other)
        base_c = "pangolin-all" if "-all-" in c else "pangolin-hook"
        if base_c not in results:
            continue
        bases = [base_c]
        zero = re.sub(r"pol\d+(-near)?$", "pol0", c)
        if zero != c and zero in results:
            bases.append(zero)  # the policy machinery on, no rule: what the rules themselves cost
        for b_c in bases:
            pairs = [b["ops"] / x["ops"] for b, x in zip(results[b_c], results[c])]
            print(f"{c} vs {b_c}, per round: median {statistics.median(pairs):.3f} "
                  f"(min {min(pairs):.3f}, max {max(pairs):.3f}) times the time per op")
    if a.out:
        pathlib.Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(a.out).write_text(json.dumps({"rounds": a.rounds, "seconds": a.seconds, "rows": rows,
                                                   "raw": results}, indent=1))


if __name__ == "__main__":
    main()
