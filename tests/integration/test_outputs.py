"""File and pipe outputs while they grow: what a reader (tail -f, a log shipper) or a crash sees.

The sensor writes its output in batches, never per event, but no line waits longer than the
flush interval (100 ms): a file or a pipe holds the events while pangolin runs, and a kill -9
leaves whole lines, every event up to the last write, in order. No test measures the interval:
each waits, with a generous deadline, for what must happen.
"""
import json
import os
import pathlib
import signal
import subprocess
import threading
import time
import uuid

import pytest

from conftest import run
import events

EXEC_FILTER = 'type == "exec" && comm == "true"'


def kernel(test):
    """Loads BPF programs: needs root and this machine's kernel."""
    return pytest.mark.kernel(pytest.mark.skipif(os.geteuid() != 0,
                                                 reason="loads BPF programs: needs root")(test))


def wait_for(cond, what, timeout=60, proc=None):
    """Poll cond() until it is true; fail after timeout, or when proc exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"pangolin exited {proc.returncode} while waiting for {what}")
        time.sleep(0.02)
    pytest.fail(f"no {what} after {timeout} s")


class Live:
    """`pangolin run` with events to `out` (a path, or None for a pipe on standard output)."""

    def __init__(self, pangolin, tmp_path, out, *args):
        self.err_path = tmp_path / "stderr.txt"
        self.err = open(self.err_path, "w")
        argv = [pangolin, "run", "--no-snapshot", "-f", EXEC_FILTER, *args]
        if out is not None:
            argv += ["-o", str(out)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE if out is None else
                                     subprocess.DEVNULL, stderr=self.err)
        wait_for(lambda: "watching:" in self.err_path.read_text(), "'watching:' line",
                 proc=self.proc)

    def stop(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=60)
        self.err.close()
        return rc


class Execs:
    """`/bin/true TOKEN-i` for i from `start`, one every 20 ms: `count` of them, or until
    stopped."""

    def __init__(self, token, start=0, count=None):
        end = f"i < {start + count}" if count is not None else ""
        self.proc = subprocess.Popen(
            ["bash", "-c",
             f"for ((i = {start}; {end}; i++)); do /bin/true {token}-$i; sleep 0.02; done"])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def read(path):
    """The file's bytes; nothing while it does not exist yet."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def token_numbers(lines, token):
    """The i of every exec of `TOKEN-i` among NDJSON lines (each must parse)."""
    out = []
    for line in lines:
        ev = json.loads(line)
        for a in ev.get("argv", []):
            if a.startswith(token + "-"):
                out.append(int(a[len(token) + 1:]))
    return out


def whole_lines(raw):
    """Every line of raw, which must end with a newline (no half-written line)."""
    assert raw == b"" or raw.endswith(b"\n"), f"the last line is cut: {raw[-200:]!r}"
    return raw.decode("utf-8", "surrogateescape").splitlines()


@kernel
def test_file_grows_while_the_sensor_runs(pangolin, tmp_path):
    out = tmp_path / "events.ndjson"
    token = f"pg-grow-{uuid.uuid4().hex[:12]}"
    live = Live(pangolin, tmp_path, out)
    try:
        subprocess.run(["/bin/true", f"{token}-0"], check=True)
        # on disk while pangolin keeps running: no exit, no flush at exit
        wait_for(lambda: token_numbers(whole_lines(read(out)), token) == [0],
                 "event in the file", proc=live.proc)
        assert live.proc.poll() is None
    finally:
        rc = live.stop()
    assert rc == 0
    assert token_numbers(whole_lines(read(out)), token) == [0]


@kernel
@pytest.mark.slow
def test_kill_9_leaves_whole_lines_and_every_event_before_the_last_write(pangolin, tmp_path):
    out = tmp_path / "events.ndjson"
    token = f"pg-kill-{uuid.uuid4().hex[:12]}"
    live = Live(pangolin, tmp_path, out)
    execs = Execs(token, 0, 30)
    try:
        # 30 events, then silence: far from filling a buffer, they are written all the same
        execs.proc.wait(timeout=60)
        wait_for(lambda: token_numbers(whole_lines(read(out)), token) == list(range(30)),
                 "30 events in the file", proc=live.proc)
        # then a steady stream, killed in the middle
        execs = Execs(token, 30)
        seen = wait_for(lambda: max(token_numbers(whole_lines(read(out)), token)) >= 60
                        and read(out), "60 events in the file", proc=live.proc)
        live.proc.kill()
        live.proc.wait()
    finally:
        execs.stop()
        live.stop()
    raw = out.read_bytes()
    assert raw.startswith(seen), "what was written stays written"
    nums = token_numbers(whole_lines(raw), token)
    # every event up to the last write, in order, once: no hole, no duplicate
    assert nums == list(range(len(nums))), nums
    assert len(nums) > 60


@kernel
def test_pipe_gets_events_while_the_sensor_runs(pangolin, tmp_path):
    token = f"pg-pipe-{uuid.uuid4().hex[:12]}"
    live = Live(pangolin, tmp_path, None)
    got = []

    def read():
        for line in live.proc.stdout:
            got.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        subprocess.run(["/bin/true", f"{token}-0"], check=True)
        wait_for(lambda: token_numbers(list(got), token) == [0], "event through the pipe",
                 proc=live.proc)
        assert live.proc.poll() is None
    finally:
        rc = live.stop()
        reader.join(timeout=30)
    assert rc == 0
    assert token_numbers(got, token) == [0]


# --- replay: the same outputs without a kernel ----------------------------------------------------

def test_replay_from_a_pipe_that_pauses(pangolin, tmp_path):
    """`tail -f rec | pangolin replay - -o out`: lines read before a pause are in the file
    during the pause, not when more input comes."""
    lines = open(events.write(tmp_path / "rec.ndjson", events.make(5))).readlines()
    out = tmp_path / "out.ndjson"
    p = subprocess.Popen([pangolin, "replay", "-", "-o", str(out), "-q"], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write("".join(lines[:3]).encode())
        p.stdin.flush()
        wait_for(lambda: read(out).count(b"\n") == 3, "3 lines in the file", proc=p)
        p.stdin.write("".join(lines[3:]).encode())
        p.stdin.close()
        assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert [json.loads(x)["ts"] for x in out.read_text().splitlines()] == \
        [json.loads(x)["ts"] for x in lines]


def syncs(pangolin, tmp_path, *args):
    """(files written, fdatasync calls, fsync calls) of one replay to a file, by strace."""
    rec = events.write(tmp_path / "rec.ndjson", events.make(2000))
    out = tmp_path / f"out-{uuid.uuid4().hex[:6]}.ndjson"
    trace = tmp_path / "trace.txt"
    # LeakSanitizer (the ASan build) cannot work under ptrace: leaks are checked elsewhere
    r = run(["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync", "-o", str(trace),
             pangolin, "replay", str(rec), "-o", str(out), "-q", *args],
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    assert r.returncode == 0, r.stderr
    files = [out] + [pathlib.Path(f"{out}.{i}") for i in range(1, 6)]
    assert sum(read(f).count(b"\n") for f in files) == 2000
    calls = [l for l in trace.read_text().splitlines() if "sync(" in l]
    return sum(f.exists() for f in files), sum("fdatasync(" in l for l in calls), sum(l.split()[1].startswith("fsync(")
                                                      for l in calls)


def test_fsync_syncs_every_write_and_the_directory(pangolin, tmp_path):
    files, datasync, dirsync = syncs(pangolin, tmp_path, "--fsync", "--rotate-size", "300K")
    # 2000 events are ~750 kB: rotated every 300 kB, each file's data synced at least once,
    # and its directory once, when the file was created
    assert files == 3
    assert datasync >= files and dirsync == files
    assert syncs(pangolin, tmp_path) == (1, 0, 0)


@pytest.mark.parametrize("args,needle", [
    (["-o", "kafka://127.0.0.1:9/t"], "--fsync applies to file outputs"),
    ([], "--fsync needs a file: standard output is a pipe"),
])
def test_fsync_refuses_what_it_cannot_sync(pangolin, tmp_path, args, needle):
    rec = events.write(tmp_path / "rec.ndjson", events.make(3))
    r = run([pangolin, "replay", str(rec), "--fsync", *args])
    assert r.returncode == 2
    assert needle in r.stderr and r.stdout == ""


def test_fsync_to_standard_output_redirected_to_a_file(pangolin, tmp_path):
    rec = events.write(tmp_path / "rec.ndjson", events.make(3))
    with open(tmp_path / "out.ndjson", "w") as f:
        r = subprocess.run([pangolin, "replay", str(rec), "--fsync", "-q"], stdout=f,
                           stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.ndjson").read_text().count("\n") == 3
