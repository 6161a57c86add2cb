"""pangolin latency on the real kernel: exact syscall counts, and run-queue / block I/O
histograms cross-checked against libbpf-tools runqlat / biolatency on the same load.

Tolerance of the cross-checks (both tools run at the same time over the same load):
  * Both hook the same kernel events with the same definition (runq: wakeup, or preempted
    while runnable -> switched in; block: issue -> complete of one request) and the same
    microsecond log2 buckets, so on identical event streams they would agree almost exactly
    (pangolin also times a task preempted between setting a sleeping state and calling
    schedule(), which stays queued; runqlat skips it: rare).
  * They differ only by (a) their windows: each starts and stops on its own, up to ~0.5 s
    apart out of 6 s, while the load runs inside both windows, and (b) the probe effect: each
    tool adds a few hundred ns to the events the other times, which moves values that sit near
    a bucket boundary into the next bucket.
  * The probe effect matters most where latencies are a few microseconds: when the machine
    has many 1-4 us run-queue waits (busy neighbours), a shift of well under a microsecond moves
    a large share of them across the 2 us and 4 us boundaries (we have seen 27 % of the mass
    move between the 0-1, 2-3 and 4-7 us buckets while every bucket above 8 us matched within
    a few events). A bucket-by-bucket distance cannot tell that from a real disagreement; the
    earth mover's distance in bucket units can: it is how far, in buckets, the mass had to move.
  * So we require: the median bucket within one bucket; earth mover's distance at most 0.5
    bucket (on average less than half a bucket apart); above 8 us, where a sub-microsecond
    shift cannot cross a boundary, total variation distance at most 0.1 of all events; and
    event totals within a factor of 1.5.
"""
import json
import math
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import run

BUCKET = re.compile(r"^\s*(\d+)\s*->\s*(\d+)\s*:\s*(\d+)\s*\|")


def slot_of(lo):
    return 0 if lo == 0 else int(math.log2(lo))


def parse_libbpf_hist(text):
    h = {}
    for line in text.splitlines():
        m = BUCKET.match(line)
        if m:
            h[slot_of(int(m.group(1)))] = h.get(slot_of(int(m.group(1))), 0) + int(m.group(3))
    return h


def parse_ours(js):
    h = {}
    for hist in js["histograms"]:
        for b in hist["buckets"]:
            h[slot_of(b["lo"])] = h.get(slot_of(b["lo"]), 0) + b["count"]
    return h


def median_slot(h):
    total = sum(h.values())
    acc = 0
    for k in sorted(h):
        acc += h[k]
        if acc * 2 >= total:
            return k
    return None


def tvd(a, b):
    ta, tb = sum(a.values()), sum(b.values())
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a.get(k, 0) / ta - b.get(k, 0) / tb) for k in keys)


def wait_line(stream, needle, timeout=30):
    end = time.time() + timeout
    seen = []
    while time.time() < end:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"never saw {needle!r}: {seen}")


def emd(a, b):
    """Earth mover's distance between two bucket distributions, in buckets."""
    ta, tb = sum(a.values()), sum(b.values())
    ca = cb = d = 0.0
    for k in range(0, max(list(a) + list(b)) + 1):
        ca += a.get(k, 0) / ta
        cb += b.get(k, 0) / tb
        d += abs(ca - cb)
    return d


def tvd_above(a, b, slot):
    ta, tb = sum(a.values()), sum(b.values())
    keys = [k for k in set(a) | set(b) if k >= slot]
    return 0.5 * sum(abs(a.get(k, 0) / ta - b.get(k, 0) / tb) for k in keys)


def compare(ours, peer, what):
    assert sum(ours.values()) > 50 and sum(peer.values()) > 50, (ours, peer)
    ratio = sum(ours.values()) / sum(peer.values())
    d, e, tail = tvd(ours, peer), emd(ours, peer), tvd_above(ours, peer, 3)
    m1, m2 = median_slot(ours), median_slot(peer)
    msg = (f"{what}: pangolin {sorted(ours.items())} vs peer {sorted(peer.items())}; "
           f"emd {e:.3f} buckets, tvd {d:.3f} (>= 8 us: {tail:.3f}), medians {m1}/{m2}, ratio {ratio:.2f}")
    print(msg)
    assert abs(m1 - m2) <= 1, msg
    assert e <= 0.5, msg
    assert tail <= 0.1, msg
    assert 1 / 1.5 <= ratio <= 1.5, msg


def cross_check(pangolin, mode, peer_cmd, peer_ready, load):
    """Start pangolin and the peer, wait until both trace, run load, collect both."""
    ours = subprocess.Popen([pangolin, "latency", mode, "-d", "6", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peer = subprocess.Popen(["stdbuf", "-oL"] + peer_cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_line(ours.stderr, "tracing")
        wait_line(peer.stdout, peer_ready)
        load()
        out, err = ours.communicate(timeout=60)
        pout, _ = peer.communicate(timeout=60)
    finally:
        ours.kill()
        peer.kill()
    assert ours.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), parse_libbpf_hist(pout)


@pytest.fixture
def loop(helpers_dir):
    p = subprocess.Popen([str(helpers_dir / "syscall_loop"), "20000", "wait"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("ready ")
    yield p
    p.kill()
    p.wait()


@pytest.mark.kernel
def test_syscall_count_is_at_least_the_calls_made(pangolin, loop):
    lat = subprocess.Popen([pangolin, "latency", "syscall", "-p", str(loop.pid), "--syscall", "getppid",
                            "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_line(lat.stderr, "tracing")
        loop.stdin.write("go\n")
        loop.stdin.flush()
        assert loop.stdout.readline().startswith("done 20000")
        out, err = lat.communicate(timeout=30)  # stops by itself when the process exits
    finally:
        lat.kill()
    assert lat.returncode == 0, err
    js = json.loads(out.strip().splitlines()[-1])
    assert js["mode"] == "syscall" and js["unit"] == "ns"
    assert [h["key"] for h in js["histograms"]] == ["getppid"]
    h = js["histograms"][0]
    assert 20000 <= h["count"] <= 20010, h["count"]
    assert sum(b["count"] for b in h["buckets"]) == h["count"]
    assert 0 < h["p50"] <= h["p90"] <= h["p99"] <= h["p99.9"] <= h["max"]
    assert js["dropped"] == {"start_map_full": 0, "hist_map_full": 0}


@pytest.mark.kernel
def test_syscall_comm_filter_and_table(pangolin, loop):
    lat = subprocess.Popen([pangolin, "latency", "syscall", "--comm", "syscall_loop", "--histograms"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_line(lat.stderr, "tracing")
        loop.stdin.write("go\n")
        loop.stdin.flush()
        assert loop.stdout.readline().startswith("done")
        loop.wait(timeout=10)
        time.sleep(0.3)
        lat.send_signal(2)
        out, err = lat.communicate(timeout=30)
    finally:
        lat.kill()
    assert lat.returncode == 0, err
    row = [ln for ln in out.splitlines() if ln.startswith("getppid ")]
    assert row, out
    assert int(row[0].split()[1]) >= 20000
    assert "syscall getppid" in out and "usecs" not in out and "nsecs" in out
    assert "p99.9" in out


@pytest.mark.kernel
@pytest.mark.slow
def test_runq_agrees_with_runqlat(pangolin):
    if not shutil.which("runqlat") or not shutil.which("stress-ng"):
        pytest.skip("runqlat (libbpf-tools) or stress-ng missing: scripts/install-deps.sh installs them")

    def load():
        # 4 CPU hogs on 2 CPUs: every task waits for a CPU in turn
        run(["stress-ng", "--cpu", "4", "--timeout", "3", "--quiet"], timeout=30)

    js, peer = cross_check(pangolin, "runq", ["runqlat", "6", "1"], "Tracing", load)
    assert js["unit"] == "us"
    compare(parse_ours(js), peer, "runq")


@pytest.mark.kernel
@pytest.mark.slow
def test_block_agrees_with_biolatency(pangolin, tmp_path):
    if not shutil.which("biolatency"):
        pytest.skip("biolatency (libbpf-tools) missing: scripts/install-deps.sh installs it")
    path = "/var/tmp/pangolin-biolat-%d" % os.getpid()

    def load():
        # O_DIRECT|O_SYNC: every 4 KiB write is a real request to the disk under /
        try:
            run(["dd", "if=/dev/zero", f"of={path}", "bs=4k", "count=1500", "oflag=direct,sync"],
                timeout=60)
        finally:
            if os.path.exists(path):
                os.unlink(path)

    js, peer = cross_check(pangolin, "block", ["biolatency", "6", "1"], "Tracing", load)
    if sum(peer.values()) == 0 and not js["histograms"]:
        pytest.skip("no block requests reached the block layer here (is / on a block device?)")
    compare(parse_ours(js), peer, "block")


def _latency_json(pangolin, args, during, ready="tracing"):
    """Run `pangolin latency ARGS --json`, call during() once it traces, return its last object."""
    lat = subprocess.Popen([pangolin, "latency", *args, "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        wait_line(lat.stderr, ready)
        during()
        out, err = lat.communicate(timeout=60)
    finally:
        lat.kill()
    assert lat.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.kernel
def test_untimed_counts_syscalls_that_began_before_attach(pangolin):
    """A read() blocked before pangolin attached returns while it traces: one latency missing
    from the histogram, and said so; the process's later syscalls are timed."""
    r, w = os.pipe()
    p = subprocess.Popen(["/usr/bin/python3", "-c", "import os; os.read(0, 1); os.getppid()"],
                         stdin=r)
    os.close(r)
    try:
        time.sleep(0.5)  # blocked in read

        def during():
            os.write(w, b"x")
            p.wait(timeout=10)

        js = _latency_json(pangolin, ["syscall", "-p", str(p.pid)], during)
    finally:
        os.close(w)
        p.kill()
        p.wait()
    assert js["untimed"] == 1, js
    assert "getppid" in [h["key"] for h in js["histograms"]]


@pytest.mark.kernel
def test_untimed_runq_is_only_the_wanted_task(pangolin, loop):
    """runq -p PID: a switch to the idle task or to another process is not an untimed wait;
    the task itself can have been runnable at attach once at most."""
    def during():
        loop.stdin.write("go\n")
        loop.stdin.flush()
        assert loop.stdout.readline().startswith("done")
        time.sleep(0.5)

    js = _latency_json(pangolin, ["runq", "-p", str(loop.pid), "-d", "3"], during)
    assert js["events"] > 0 and js["untimed"] <= 1, js


@pytest.mark.kernel
def test_untimed_block_is_not_the_flush_sequence(pangolin):
    """O_SYNC writes end with a second, empty completion of the request (its flush sequence):
    that is not a request that began before attach (it was once counted as one per write)."""
    path = "/var/tmp/pangolin-untimed-%d" % os.getpid()

    def during():
        try:
            run(["dd", "if=/dev/zero", f"of={path}", "bs=4k", "count=300", "oflag=direct,sync"],
                timeout=60)
        finally:
            if os.path.exists(path):
                os.unlink(path)

    js = _latency_json(pangolin, ["block", "-d", "4"], during)
    if not js["histograms"]:
        pytest.skip("no block requests reached the block layer here (is / on a block device?)")
    assert js["events"] >= 300, js
    # requests of other processes in flight at attach may count; 300 writes may not
    assert js["untimed"] < 30, js


def test_latency_cli_errors(pangolin):
    r = run([pangolin, "latency"])
    assert r.returncode == 2 and "syscall, runq or block" in r.stderr
    r = run([pangolin, "latency", "disk"])
    assert r.returncode == 2
    r = run([pangolin, "latency", "syscall", "--syscall", "nosuchcall"])
    assert r.returncode == 2 and "nosuchcall" in r.stderr
    r = run([pangolin, "latency", "runq", "--syscall", "read"])
    assert r.returncode == 2
    r = run([pangolin, "latency", "block", "-p", "1"])
    assert r.returncode == 2 and "interrupt" in r.stderr
    r = run([pangolin, "latency", "runq", "--unit", "s"])
    assert r.returncode == 2
    r = run([pangolin, "latency", "runq", "--comm", "x" * 20])
    assert r.returncode == 2
    r = run([pangolin, "latency", "--help"])
    assert r.returncode == 0 and "p99.9" in r.stdout
