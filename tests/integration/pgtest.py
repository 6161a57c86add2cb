"""Helpers for driving the live sensor in tests: start it, wait until it watches, stop it with
SIGINT, and hand back its events, counters and stderr."""
import json
import os
import pathlib
import signal
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
PGWORK = ROOT / "build" / "tests" / "pgwork"


class Sensor:
    """`pangolin run` (or record) as a context manager.

    with Sensor(pangolin, "--filter", 'type == "open"') as s:
        ...workload...
    s.events   # list of dicts, parsed NDJSON
    s.stats    # the --stats JSON
    s.stderr   # everything it printed on stderr
    """

    def __init__(self, binary, *args, cmd="run", output=None, ready_timeout=30):
        self.binary = binary
        self.args = list(args)
        self.cmd = cmd
        self.tmp = tempfile.TemporaryDirectory(prefix="pg-sensor-")
        self.out_path = output or os.path.join(self.tmp.name, "events.ndjson")
        self.stats_path = os.path.join(self.tmp.name, "stats.json")
        self.err_path = os.path.join(self.tmp.name, "stderr.txt")
        self.ready_timeout = ready_timeout
        self.proc = None
        self.events = []
        self.stats = None
        self.stderr = ""
        self.returncode = None

    def __enter__(self):
        self.err_f = open(self.err_path, "w")
        argv = [self.binary, self.cmd, "-o", self.out_path, "--stats", self.stats_path] + self.args
        # PANGOLIN_BPF_TIER runs the sensor tests against one kernel tier's object (tests/run
        # does, for the tiers below the host's best: docs/kernels.md)
        if os.environ.get("PANGOLIN_BPF_TIER"):
            argv += ["--bpf-tier", os.environ["PANGOLIN_BPF_TIER"]]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.err_f)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            text = pathlib.Path(self.err_path).read_text()
            if "watching:" in text:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"pangolin exited {self.proc.returncode} before watching:\n{text}")
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError("pangolin did not start watching in time:\n" + pathlib.Path(self.err_path).read_text())

    def stop(self, sig=signal.SIGINT, timeout=60):
        if self.proc is None or self.returncode is not None:
            return
        # events submitted without a wakeup are read on the reader's 100 ms timer
        time.sleep(0.3)
        self.proc.send_signal(sig)
        self.returncode = self.proc.wait(timeout=timeout)
        self.err_f.close()
        self.stderr = pathlib.Path(self.err_path).read_text()
        with open(self.out_path, "rb") as f:
            self.raw = f.read()
        self.events = [json.loads(l) for l in self.raw.decode("utf-8", "surrogateescape").splitlines() if l]
        if os.path.exists(self.stats_path):
            self.stats = json.loads(pathlib.Path(self.stats_path).read_text())

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return False

    def of(self, **match):
        """Events whose fields equal every given value."""
        return [e for e in self.events if all(e.get(k) == v for k, v in match.items())]


def pgwork(*args, **kw):
    """Run the workload helper; returns its key=value output as a dict of ints/strings."""
    out = subprocess.run([str(PGWORK)] + [str(a) for a in args], capture_output=True, text=True,
                         check=True, timeout=kw.get("timeout", 60)).stdout
    res = {}
    for tok in out.split():
        k, _, v = tok.partition("=")
        try:
            res[k] = int(v)
        except ValueError:
            try:
                res[k] = float(v)
            except ValueError:
                res[k] = v
    return res
