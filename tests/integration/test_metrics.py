"""--metrics: Prometheus text, /healthz and /readyz, read by the real tools.

`promtool check metrics` lints what pangolin serves; a real Prometheus server started here
scrapes a live sensor every second and is asked, over its HTTP API, for the events and the
drops of a known workload; readiness follows a real Kafka broker going away and coming back.
"""
import os
import re
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import ROOT, run
from pgtest import PGWORK, Sensor
from prom import Prometheus, get

SAMPLE = ROOT / "examples" / "sample.ndjson"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")


def parse(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    want = set(labels.items())
    hits = [v for (n, ls), v in samples.items() if n == name and want <= set(ls)]
    assert hits, f"no {name}{labels}"
    return sum(hits)


def promtool(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout + p.stderr


def port_of(stderr_text):
    m = re.search(r"metrics on http://[^ ]*:(\d+)/metrics", stderr_text)
    assert m, stderr_text
    return int(m.group(1))


def scrape(port, path="/metrics"):
    return get(f"http://127.0.0.1:{port}{path}")


@pytest.mark.parametrize("cmd", ["run", "replay"])
@pytest.mark.parametrize("addr,msg", [
    ("9464", "expected HOST:PORT"),
    ("127.0.0.1:", "no port after the colon"),
    ("127.0.0.1:65536", "the port must be a number from 0 to 65535"),
    ("127.0.0.1:http", "the port must be a number from 0 to 65535"),
    ("metrics.example:9464", "'metrics.example' is not a numeric IPv4 address (a listen address is not looked up"),
    ("::1:9464", "an IPv6 address goes in brackets"),
    ("[::1:9464", "no ']' after the IPv6 address"),
    ("", "an empty address"),
])
def test_malformed_address_is_a_usage_error(pangolin, cmd, addr, msg):
    args = [pangolin, cmd, "--metrics", addr] + ([str(SAMPLE)] if cmd == "replay" else [])
    r = run(args, timeout=30)
    assert r.returncode == 2, r.stderr
    assert f"pangolin {cmd}: --metrics '{addr}': {msg}" in r.stderr
    assert r.stdout == ""


def test_taken_port_fails_clearly(pangolin, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run([pangolin, "replay", str(SAMPLE), "-o", str(tmp_path / "o"), "--metrics",
                 f"127.0.0.1:{port}"], timeout=30)
    assert r.returncode == 1
    assert f"--metrics 127.0.0.1:{port}: cannot listen there: Address already in use " \
           "(another program has the port: pick another)" in r.stderr
    assert not (tmp_path / "o").exists()  # nothing was started


def test_replay_serves_metrics(pangolin, tmp_path):
    """A replay from a pipe that pauses keeps serving: counters of what it read so far,
    health and readiness, text promtool accepts."""
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    err = tmp_path / "err"
    with open(err, "w") as ef:
        p = subprocess.Popen([pangolin, "replay", "-", "-o", str(tmp_path / "out"), "--metrics",
                              "127.0.0.1:0", "--stats", str(tmp_path / "stats.json")],
                             stdin=subprocess.PIPE, stderr=ef)
        try:
            deadline = time.monotonic() + 20
            while "metrics on" not in err.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            port = port_of(err.read_text())
            p.stdin.write(b"".join(lines[:5]))
            p.stdin.flush()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                status, text = scrape(port)
                if status == 200 and value(parse(text), "pangolin_events_total",
                                           hop="userspace", outcome="read") == 5:
                    break
                time.sleep(0.1)
            samples = parse(text)
            assert value(samples, "pangolin_events_total", hop="userspace", outcome="read") == 5
            assert value(samples, "pangolin_sink_events_total", sink="file", outcome="accepted") == 5
            assert not [k for k in samples if k[1] and dict(k[1]).get("hop") == "kernel"]
            assert value(samples, "pangolin_build_info") == 1
            promtool(text)
            assert scrape(port, "/healthz") == (200, "ok\n")
            assert scrape(port, "/readyz") == (200, "ready\n")
            p.stdin.write(b"".join(lines[5:]))
            p.stdin.close()
            assert p.wait(timeout=30) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    import json
    st = json.loads((tmp_path / "stats.json").read_text())
    assert st["read"] == st["written"] == len(lines)
    assert st["sinks"]["file"]["written"] == len(lines)


@pytest.mark.kernel
@needs_root
def test_live_sensor_metrics_are_what_stats_says(pangolin):
    """Every family promtool accepts; the kernel's counters by type, the sensor's tier and load
    time; at the end, --stats and the last scrape agree on what no longer moves."""
    with Sensor(pangolin, "--metrics", "127.0.0.1:0", "--filter", 'type == "exec"') as s:
        port = port_of(open(s.err_path).read())
        subprocess.run(["/bin/true"], check=True)
        time.sleep(0.5)
        status, text = scrape(port)
        assert status == 200
        promtool(text)
        samples = parse(text)
        assert scrape(port, "/readyz") == (200, "ready\n")
        assert scrape(port, "/healthz") == (200, "ok\n")
    assert s.returncode == 0, s.stderr
    for t in ("exec", "open", "connect", "dns", "setid", "ptrace"):
        for o in ("filtered", "emitted", "dropped"):
            value(samples, "pangolin_events_total", hop="kernel", outcome=o, type=t)
    assert value(samples, "pangolin_events_total", hop="kernel", outcome="emitted", type="exec") >= 1
    assert value(samples, "pangolin_bpf_tier") == s.stats["bpf_tier"]
    assert abs(value(samples, "pangolin_bpf_load_seconds") * 1000 - s.stats["load_ms"]) < 0.01
    assert value(samples, "pangolin_bpf_program_attached", program="handle_exec") == 1
    assert value(samples, "pangolin_events_total", hop="userspace", outcome="read") <= s.stats["read"]
    # the filter kept opens out in the kernel: their counters never moved
    assert value(samples, "pangolin_events_total", hop="kernel", outcome="emitted", type="open") == 0
    assert s.stats["kernel"]["open"]["emitted"] == 0


@pytest.mark.kernel
@pytest.mark.slow
@needs_root
def test_prometheus_scrapes_events_and_drops(pangolin, tmp_path):
    """A real Prometheus scrapes `pangolin run --metrics` every second. A burst of opens into
    a one-page ring buffer must drop; Prometheus's pangolin_events_total for them (emitted and
    dropped) must add up to the burst, and equal what pangolin counted at its end."""
    n = 20000
    with tempfile.TemporaryDirectory(prefix="pgmetrics-", dir="/tmp") as d:
        path = os.path.join(d, "f")
        open(path, "w").close()
        with Sensor(pangolin, "--metrics", "127.0.0.1:0", "--ringbuf-size", "4096",
                    "--wakeup-bytes", "4096",
                    "--filter", f'type == "open" && comm == "pgwork" && path startswith "{d}/"') as s:
            port = port_of(open(s.err_path).read())
            with Prometheus(tmp_path, [f"127.0.0.1:{port}"]) as prom:
                prom.wait_for('up{job="pangolin"}', lambda r: r and r[0][1] == 1)
                subprocess.run([str(PGWORK), "burst", str(n), path], check=True,
                               stdout=subprocess.DEVNULL, timeout=60)
                sel = 'pangolin_events_total{hop="kernel",type="open",outcome=~"emitted|dropped"}'
                res = prom.wait_for(f"sum({sel})", lambda r: r and r[0][1] == n)
                dropped = prom.query('pangolin_events_total{hop="kernel",type="open",outcome="dropped"}')
                emitted = prom.query('pangolin_events_total{hop="kernel",type="open",outcome="emitted"}')
                read = prom.wait_for('sum(pangolin_events_total{hop="userspace",type="open",outcome="read"})',
                                     lambda r: r and r[0][1] == emitted[0][1])
                written = prom.wait_for('pangolin_sink_events_total{sink="file",outcome="written"}',
                                        lambda r: r and r[0][1] == read[0][1], timeout=30)
                assert dict(dropped[0][0])["instance"] == f"127.0.0.1:{port}"
                build = prom.query("pangolin_build_info")
                assert build and build[0][1] == 1 and build[0][0]["version"]
    k = s.stats["kernel"]["open"]
    assert res[0][1] == n
    assert dropped[0][1] > 0, "the one-page ring buffer should overflow"
    assert dropped[0][1] == k["dropped"] == s.stats["lost_in_kernel"]
    assert emitted[0][1] == k["emitted"] == s.stats["read"] == written[0][1]


@pytest.mark.kernel
@pytest.mark.kafka
@pytest.mark.slow
@needs_root
def test_readyz_follows_the_broker(pangolin, kafka):
    """/readyz is 503 while Kafka does not acknowledge events (the broker is down and events
    wait longer than 5 s), and 200 again once it does; /healthz stays 200 all along."""
    topic = kafka.create_topic(partitions=1)
    token = f"pgready{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="pgready-") as d:
        err = os.path.join(d, "err")
        with open(err, "w") as ef:
            p = subprocess.Popen([pangolin, "run", "-o", kafka.url(topic), "--metrics", "127.0.0.1:0",
                                  "--filter", 'type == "exec" && comm == "true"'],
                                 stdout=subprocess.DEVNULL, stderr=ef)
        try:
            deadline = time.monotonic() + 60
            while "watching:" not in open(err).read() and time.monotonic() < deadline:
                assert p.poll() is None, open(err).read()
                time.sleep(0.05)
            port = port_of(open(err).read())
            assert scrape(port, "/readyz") == (200, "ready\n")
            kafka.stop()
            try:
                deadline = time.monotonic() + 60
                status = None
                while time.monotonic() < deadline:
                    subprocess.run(["/bin/true", token])
                    status, body = scrape(port, "/readyz")
                    if status == 503:
                        break
                    time.sleep(0.5)
                assert status == 503, body
                assert "output kafka does not accept events: kafka: " in body
                assert "has not acknowledged for" in body
                assert scrape(port, "/healthz")[0] == 200
            finally:
                kafka.start()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and scrape(port, "/readyz")[0] != 200:
                time.sleep(0.5)
            assert scrape(port, "/readyz") == (200, "ready\n")
        finally:
            p.send_signal(2)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_rule_counters(pangolin, tmp_path):
    """The detection stage reports through the same counters: per rule matches, alerts,
    in --stats and on /metrics (here from a replay with --rules)."""
    rules = ROOT / "rules"
    rec = ROOT / "tests" / "rules" / "shell_from_web_server.positive.ndjson"
    rule_id = re.search(r"^id: (\S+)$", (rules / "shell_from_web_server.yml").read_text(), re.M).group(1)
    err = tmp_path / "err"
    with open(err, "w") as ef:
        p = subprocess.Popen([pangolin, "replay", "-", "--rules", str(rules), "-o", str(tmp_path / "out"),
                              "--metrics", "127.0.0.1:0", "--stats", str(tmp_path / "stats.json")],
                             stdin=subprocess.PIPE, stderr=ef)
        try:
            deadline = time.monotonic() + 20
            while "metrics on" not in err.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            port = port_of(err.read_text())
            p.stdin.write(rec.read_bytes())
            p.stdin.flush()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                status, text = scrape(port)
                s = parse(text) if status == 200 else {}
                if s and value(s, "pangolin_rule_matches_total", rule=rule_id) >= 1:
                    break
                time.sleep(0.1)
            promtool(text)
            assert value(s, "pangolin_rule_matches_total", rule=rule_id) == 1
            assert value(s, "pangolin_detect_total", what="alerts") >= 1
            assert value(s, "pangolin_events_total", hop="userspace", outcome="generated",
                         type="alert") == value(s, "pangolin_detect_total", what="alerts")
            p.stdin.close()
            assert p.wait(timeout=30) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    import json
    st = json.loads((tmp_path / "stats.json").read_text())
    assert st["detect"]["alerts"] == st["generated"] >= 1
    assert st["userspace"]["alert"]["generated"] == st["detect"]["alerts"]
