#!/usr/bin/env python3
"""The race that in-kernel enforcement removes: a process opens a secret and at once copies it
to its standard output; how many bytes get out, over N tries, when it is stopped

  in-kernel  by a pangolin policy (a kill rule on the open: the signal from the hook, at the
             open's sys_exit on a kernel without BPF LSM, before the process runs again)
  userspace  by a responder built on pangolin's own event stream, as a Falco-plus-responder
             setup is: `pangolin run --filter ... -o -` into a pipe, the responder reads each
             line, and kill(pid, SIGKILL) for an open of the secret. Its best case here:
             --wakeup-bytes 1 (the kernel wakes the reader for every event) and a responder
             that does nothing else

Both sensors run at once and the tries alternate (the machine is shared and noisy): each has
its own secret and its own copy of cat (its own comm), so neither sees the other's. Two sizes
of secret: 4 KiB (a key, /etc/shadow) and 8 MiB (a database dump).

Also the time from the open to the process's death, from kernel timestamps: the open event's
(taken at its sys_exit, where the in-kernel kill is sent) to the exit event's
(sched_process_exit) of the same pid, median and p99.

usage: enforce_race.py [--tries N] [--out FILE.json]
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
PANGOLIN = os.environ.get("PANGOLIN", str(ROOT / "build" / "pangolin"))
SIZES = (4096, 8 << 20)


def wait_watching(p, err, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError("pangolin exited: " + pathlib.Path(err).read_text())
        if "watching:" in pathlib.Path(err).read_text():
            return
        time.sleep(0.05)
    raise RuntimeError("pangolin never watched: " + pathlib.Path(err).read_text())


class Responder:
    """Reads pangolin's NDJSON from a pipe; kills the opener of a secret at once."""

    def __init__(self, tmp, secrets, comm):
        self.err = os.path.join(tmp, "responder.err")
        filt = " || ".join(f'(type == "open" && path == "{s}")' for s in secrets)
        filt = f'({filt}) || (type == "exit" && comm == "{comm}")'
        self.p = subprocess.Popen([PANGOLIN, "run", "--wakeup-bytes", "1", "--filter", filt,
                                   "-o", "-"], stdout=subprocess.PIPE,
                                  stderr=open(self.err, "w"))
        wait_watching(self.p, self.err)
        self.secrets = set(secrets)
        self.events = []
        self.kills = 0
        self.delivery_us = []  # the open's sys_exit to the responder holding its line
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        for line in self.p.stdout:
            e = json.loads(line)
            if e["type"] == "open" and e.get("path") in self.secrets:
                self.delivery_us.append((time.time_ns() - e["ts"]) / 1e3)
                try:
                    os.kill(e["pid"], signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass  # it finished before the event reached us
            self.events.append(e)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        self.p.wait(timeout=60)
        self.t.join(timeout=10)
        return self.events


def kernel_sensor(tmp, secrets, comm):
    pol = os.path.join(tmp, "race.yaml")
    rules = "".join(f"  - name: secret-{i}\n    match: type == \"open\" && path == \"{s}\"\n"
                    "    action: kill\n" for i, s in enumerate(secrets))
    pathlib.Path(pol).write_text("name: race\nrules:\n" + rules)
    out, err = os.path.join(tmp, "kernel.ndjson"), os.path.join(tmp, "kernel.err")
    p = subprocess.Popen([PANGOLIN, "run", "--policy", pol, "--filter",
                          f'type == "exit" && comm == "{comm}"', "-o", out],
                         stderr=open(err, "w"))
    wait_watching(p, err)
    return p, out


def one_try(cat, secret):
    """(bytes that got out, exit status, pid)"""
    p = subprocess.Popen([cat, secret], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    while True:
        b = p.stdout.read(1 << 16)
        if not b:
            break
        n += len(b)
    p.wait()
    return n, p.returncode, p.pid


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))] if xs else None


def latencies(events, pids):
    """open (sys_exit) to exit (sched_process_exit) of each pid, in microseconds"""
    opened, died = {}, {}
    for e in events:
        if e.get("pid") not in pids:
            continue
        if e["type"] == "open":
            opened.setdefault(e["pid"], e["ts"])
        elif e["type"] == "exit":
            died[e["pid"]] = e["ts"]
    return [(died[p] - opened[p]) / 1e3 for p in pids if p in opened and p in died]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tries", type=int, default=100)
    ap.add_argument("--out")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("enforce_race: needs root (it loads BPF programs)")
    token = os.urandom(4).hex()
    tmp = tempfile.mkdtemp(prefix="pgrace-")
    kcomm, ucomm = f"k{token}", f"u{token}"
    kcat, ucat = os.path.join(tmp, kcomm), os.path.join(tmp, ucomm)
    shutil.copy("/bin/cat", kcat)
    shutil.copy("/bin/cat", ucat)
    secrets = {}
    for size in SIZES:
        for who in ("k", "u"):
            f = os.path.join(tmp, f"secret-{who}-{size}")
            pathlib.Path(f).write_bytes(os.urandom(size))
            secrets[who, size] = f
    ksens = resp = None
    res = {("k", s): [] for s in SIZES} | {("u", s): [] for s in SIZES}
    try:
        ksens, kout = kernel_sensor(tmp, [secrets["k", s] for s in SIZES], kcomm)
        resp = Responder(tmp, [secrets["u", s] for s in SIZES], ucomm)
        for i in range(a.tries):
            for size in SIZES:
                for who, cat in (("k", kcat), ("u", ucat)):
                    res[who, size].append(one_try(cat, secrets[who, size]))
            time.sleep(0.01)
        time.sleep(1)  # the last events reach both outputs
        uev = resp.stop()
        delivery = resp.delivery_us
        resp = None
        ksens.send_signal(signal.SIGINT)
        ksens.wait(timeout=60)
        ksens = None
        kev = [json.loads(l) for l in pathlib.Path(kout).read_text().splitlines() if l.strip()]
    finally:
        for p in (ksens, resp.p if resp else None):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    rows = []
    for size in SIZES:
        for who, name, ev in (("k", "in-kernel kill", kev), ("u", "userspace responder", uev)):
            r = res[who, size]
            out = [x[0] for x in r]
            lat = latencies(ev, {x[2] for x in r})
            rows.append({
                "stopper": name, "secret_bytes": size, "tries": len(r),
                "killed": sum(1 for x in r if x[1] == -signal.SIGKILL),
                "tries_leaking": sum(1 for x in out if x),
                "bytes_out_total": sum(out), "bytes_out_median": statistics.median(out),
                "bytes_out_max": max(out),
                "death_us_median": round(statistics.median(lat), 1) if lat else None,
                "death_us_p99": round(pct(lat, 99), 1) if lat else None, "measured": len(lat),
            })
    print(f"\n{'stopper':22s} {'secret':>8s} {'tries':>6s} {'killed':>7s} {'leaked':>7s} "
          f"{'bytes out':>12s} {'median':>9s} {'max':>9s} {'death us p50':>13s} {'p99':>9s}")
    for r in rows:
        print(f"{r['stopper']:22s} {r['secret_bytes']:>8d} {r['tries']:>6d} {r['killed']:>7d} "
              f"{r['tries_leaking']:>7d} {r['bytes_out_total']:>12d} {r['bytes_out_median']:>9.0f} "
              f"{r['bytes_out_max']:>9d} {str(r['death_us_median']):>13s} {str(r['death_us_p99']):>9s}")
    dl = {"median_us": round(statistics.median(delivery), 1) if delivery else None,
          "p99_us": round(pct(delivery, 99), 1) if delivery else None, "n": len(delivery)}
    print(f"\nthe responder held each open's line {dl['median_us']} us after the open's sys_exit "
          f"(median; p99 {dl['p99_us']} us; {dl['n']} events; the kernel's timestamp against "
          f"the responder's clock). 'death' for a process not killed is its own exit.")
    if a.out:
        pathlib.Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(a.out).write_text(json.dumps({"tries": a.tries, "rows": rows,
                                                   "responder_delivery": dl}, indent=1))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
