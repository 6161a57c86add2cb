"""A real Prometheus server (Debian's `prometheus`) on loopback, for the metrics tests: it
scrapes the targets it is given every second and answers queries over its HTTP API."""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Prometheus:
    """with Prometheus(tmp_path, ["127.0.0.1:PORT"]) as p: p.query('up')"""

    def __init__(self, workdir, targets, job="pangolin"):
        self.dir = pathlib.Path(workdir) / "prometheus"
        self.targets = targets
        self.job = job
        self.proc = None

    def __enter__(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        cfg = self.dir / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            f"scrape_configs:\n  - job_name: {self.job}\n"
            f"    static_configs:\n      - targets: {json.dumps(self.targets)}\n")
        for attempt in range(3):  # another test may take the free port first
            self.port = free_port()
            self.log = open(self.dir / "log.txt", "w")
            self.proc = subprocess.Popen(
                [shutil.which("prometheus") or "/usr/bin/prometheus", f"--config.file={cfg}",
                 f"--storage.tsdb.path={self.dir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdout=self.log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if get(f"http://127.0.0.1:{self.port}/-/ready", timeout=1)[0] == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.2)
            self.stop()
        raise RuntimeError("prometheus did not start: " + (self.dir / "log.txt").read_text()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    def __exit__(self, *exc):
        self.stop()
        return False

    def query(self, expr):
        """The instant vector of expr: [(labels, value)]."""
        status, body = get(f"http://127.0.0.1:{self.port}/api/v1/query?" +
                           urllib.parse.urlencode({"query": expr}))
        assert status == 200, body
        data = json.loads(body)
        assert data["status"] == "success", data
        return [(r["metric"], float(r["value"][1])) for r in data["data"]["result"]]

    def wait_for(self, expr, pred, timeout=60):
        """Query until pred(result) holds; returns the result (bounded: fails after timeout)."""
        deadline = time.monotonic() + timeout
        res = None
        while time.monotonic() < deadline:
            res = self.query(expr)
            if pred(res):
                return res
            time.sleep(0.5)
        raise AssertionError(f"{expr}: still {res} after {timeout} s")
