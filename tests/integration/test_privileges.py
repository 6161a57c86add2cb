"""Least privilege: what each command needs, tried with exactly that set (setpriv), one
missing, and what is left after start-up (/proc/PID/status of every thread).

docs/operations.md has the table these tests hold to."""
import json
import os
import pathlib
import re
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import ROOT
from pgtest import Sensor

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(os.geteuid() != 0, reason="drops capabilities from root: needs root")]

CAP_SYS_PTRACE, CAP_BPF = 19, 39
SAMPLE = ROOT / "examples" / "sample.ndjson"


def with_caps(caps, argv, **kw):
    """argv as root with only caps (setpriv: the bounding set is all root gets on exec)."""
    bounding = "-all" + "".join(f",+{c}" for c in caps)
    return ["setpriv", f"--bounding-set={bounding}", "--inh-caps=-all"] + argv


def as_nobody(caps, argv):
    """argv as uid 65534 with caps as ambient capabilities (a non-root pod granted them)."""
    c = "-all" + "".join(f",+{x}" for x in caps)
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", f"--inh-caps={c}",
            f"--ambient-caps={c}"] + argv


def caps_of(pid):
    """{task id: {"CapEff": int, "CapPrm": ..., "NoNewPrivs": int}} of every thread."""
    out = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue
        out[task.name] = {k: int(v, 16) if k.startswith("Cap") else int(v)
                          for k, v in re.findall(r"^(Cap\w+|NoNewPrivs):\s+(\w+)$", text, re.M)}
    return out


def bpf_calls_need_cap():
    """Before Linux 6.5, with kernel.unprivileged_bpf_disabled set, every bpf() call takes
    CAP_BPF: the sensor keeps it to read its counters."""
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    disabled = int(pathlib.Path("/proc/sys/kernel/unprivileged_bpf_disabled").read_text())
    return (major, minor) < (6, 5) and disabled != 0


def sensor_runs(argv, token, tmp):
    """Run argv (a `pangolin run` for exec events) while /bin/true TOKEN runs; the events."""
    out = os.path.join(tmp, "events.ndjson")
    err = os.path.join(tmp, "err")
    with open(err, "w") as ef:
        p = subprocess.Popen(argv + ["-o", out, "--filter", 'type == "exec"'],
                             stdout=subprocess.DEVNULL, stderr=ef)
    try:
        deadline = time.monotonic() + 30
        while "watching:" not in open(err).read():
            assert p.poll() is None, open(err).read()
            assert time.monotonic() < deadline, open(err).read()
            time.sleep(0.05)
        subprocess.run(["/bin/true", token], check=True)
        time.sleep(0.3)
    finally:
        p.send_signal(2)
        rc = p.wait(timeout=60)
    events = [json.loads(l) for l in open(out, "rb").read().decode("utf-8", "surrogateescape").splitlines()]
    return rc, [e for e in events if token in e.get("argv", [])], open(err).read()


def test_run_as_root_with_exactly_bpf_and_perfmon(pangolin, tmp_path):
    token = f"pgcaps-{uuid.uuid4().hex}"
    rc, mine, err = sensor_runs(with_caps(["bpf", "perfmon"], [pangolin, "run"]), token, tmp_path)
    assert rc == 0, err
    assert len(mine) == 1 and mine[0]["path"] == "/bin/true", err
    assert "no CAP_SYS_PTRACE: processes of other users found at start-up are reported " \
           "without their executable" in err


@pytest.mark.parametrize("caps,missing", [
    (["bpf"], "CAP_PERFMON"),
    (["perfmon"], "CAP_BPF"),
    ([], "CAP_BPF CAP_PERFMON"),
])
def test_run_without_one_names_it(pangolin, caps, missing):
    p = subprocess.run(with_caps(caps, [pangolin, "run", "-o", "/dev/null"]), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1
    assert f"run as root, or grant CAP_BPF and CAP_PERFMON (missing: {missing})" in p.stderr


def test_policy_needs_net_admin_and_says_so(pangolin, tmp_path):
    """--policy attaches cgroup socket hooks (connect and DNS refusals): without CAP_NET_ADMIN
    the kernel refuses them with EPERM, which once read as a verifier's refusal of every tier.
    Now it is named; with it, the sensor starts and stops cleanly."""
    pol = tmp_path / "p.yaml"
    pol.write_text('name: p\nrules:\n  - name: r\n    match: type == "connect" && '
                   'daddr == "192.0.2.0/24"\n    action: deny\n')
    argv = [pangolin, "run", "--policy", str(pol), "-f", 'type == "exec"', "-o", "/dev/null",
            "-d", "1"]
    p = subprocess.run(with_caps(["bpf", "perfmon"], argv), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1, p.stderr
    assert "(missing: CAP_NET_ADMIN)" in p.stderr and "tier" not in p.stderr, p.stderr
    p = subprocess.run(with_caps(["bpf", "perfmon", "net_admin"], argv), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_run_as_another_user_needs_dac_read_search(pangolin, tmp_path):
    """A user other than root also searches tracefs (root's only, 0700): CAP_DAC_READ_SEARCH.
    With it the hooks attach and events come; without it pangolin says what to grant."""
    os.chmod(tmp_path, 0o777)
    token = f"pgcaps-{uuid.uuid4().hex}"
    caps = ["bpf", "perfmon", "dac_read_search"]
    rc, mine, err = sensor_runs(as_nobody(caps, [pangolin, "run"]), token, tmp_path)
    assert rc == 0, err
    assert "0 hooks attached" not in err and "has no tracepoint" not in err, err
    assert len(mine) == 1, err
    p = subprocess.run(as_nobody(["bpf", "perfmon"], [pangolin, "run", "-o", "/dev/null"]),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "cannot read tracefs at /sys/kernel/tracing (Permission denied): run as root, or " \
           "grant CAP_DAC_READ_SEARCH" in p.stderr


def wait_caps(pid, want_prm, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        caps = caps_of(pid)
        main = caps[str(pid)]
        if main["CapPrm"] == want_prm or time.monotonic() > deadline:
            return caps
        time.sleep(0.1)


def test_capabilities_are_dropped_after_start_up(pangolin):
    """As root with every capability: once the programs are attached and the processes found
    at start-up are out, no thread keeps any (CAP_BPF only where the kernel checks every bpf()
    call), no_new_privs is set, and the sensor still delivers events and reads its counters."""
    keep = 1 << CAP_BPF if bpf_calls_need_cap() else 0
    token = f"pgcaps-{uuid.uuid4().hex}"
    with Sensor(pangolin, "--metrics", "127.0.0.1:0", "-v", "--filter", 'type == "exec"') as s:
        caps = wait_caps(s.proc.pid, keep)
        subprocess.run(["/bin/true", token], check=True)
    assert s.returncode == 0, s.stderr
    assert len(caps) >= 2  # the event loop and the metrics server
    for tid, c in caps.items():
        want = keep if tid == str(s.proc.pid) else 0  # other threads never need one
        assert (c["CapEff"], c["CapPrm"], c["CapInh"], c["CapAmb"]) == (want, want, 0, 0), (tid, c)
        assert c["NoNewPrivs"] == 1, tid
    assert len([e for e in s.events if token in e["argv"]]) == 1
    assert s.stats["kernel"]["exec"]["emitted"] >= 1  # the counters, read after the drop
    # the processes found at start-up were completed from /proc before: CAP_SYS_PTRACE went too
    kept = "CAP_BPF" if keep else "none"
    assert f"capabilities kept after start-up: {kept}\n" in s.stderr, s.stderr


def test_sys_ptrace_is_kept_for_the_start_up_snapshot_only(pangolin):
    """Another user's process running at start-up: with CAP_SYS_PTRACE its executable is
    reported, and the capability goes once the sensor is attached; without it, no executable."""
    token = f"pgcaps-{uuid.uuid4().hex}"
    other = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              "/usr/bin/python3", "-c", "import time; time.sleep(60)", token])
    try:
        time.sleep(0.5)
        for caps, path in ((["bpf", "perfmon", "sys_ptrace"], os.path.realpath("/usr/bin/python3")),
                           (["bpf", "perfmon"], "")):
            with tempfile.TemporaryDirectory() as d:
                out, err = os.path.join(d, "e"), os.path.join(d, "err")
                with open(err, "w") as ef:
                    p = subprocess.Popen(with_caps(caps, [pangolin, "run", "-o", out, "--filter",
                                                          'type == "exec"']), stderr=ef)
                try:
                    deadline = time.monotonic() + 30
                    while "watching:" not in open(err).read() and time.monotonic() < deadline:
                        time.sleep(0.05)
                    c = wait_caps(p.pid, 0)[str(p.pid)]
                    assert c["CapPrm"] == 0 and c["CapEff"] == 0, (caps, c)
                finally:
                    p.send_signal(2)
                    assert p.wait(timeout=60) == 0, open(err).read()
                snap = [json.loads(l) for l in open(out) if token in l]
                assert len(snap) == 1 and snap[0]["snapshot"] is True, snap
                assert snap[0]["path"] == path, (caps, snap)
                assert snap[0]["argv"][-1] == token
    finally:
        other.kill()
        other.wait()


def test_replay_drops_every_capability(pangolin, tmp_path):
    p = subprocess.Popen([pangolin, "replay", "-", "-o", str(tmp_path / "out")],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(SAMPLE.read_bytes()[:2000].rsplit(b"\n", 1)[0] + b"\n")
        p.stdin.flush()
        caps = wait_caps(p.pid, 0)
        for tid, c in caps.items():
            assert c["CapEff"] == c["CapPrm"] == 0 and c["NoNewPrivs"] == 1, (tid, c)
        p.stdin.close()
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.mark.kafka
def test_kafka_threads_hold_no_capability(pangolin, kafka):
    """librdkafka's threads drop every capability as they start (its on_thread_start hook)."""
    topic = kafka.create_topic(partitions=1)
    keep = 1 << CAP_BPF if bpf_calls_need_cap() else 0
    with tempfile.TemporaryDirectory() as d:
        err = os.path.join(d, "err")
        with open(err, "w") as ef:
            p = subprocess.Popen([pangolin, "run", "-o", kafka.url(topic), "--filter", 'type == "exec"'],
                                 stdout=subprocess.DEVNULL, stderr=ef)
        try:
            deadline = time.monotonic() + 60
            while "watching:" not in open(err).read() and time.monotonic() < deadline:
                assert p.poll() is None, open(err).read()
                time.sleep(0.05)
            caps = wait_caps(p.pid, keep)
            names = {tid: pathlib.Path(f"/proc/{p.pid}/task/{tid}/comm").read_text().strip()
                     for tid in caps}
            assert any(n.startswith("rdk:") for n in names.values()), names
            for tid, c in caps.items():
                want = keep if tid == str(p.pid) else 0
                assert c["CapEff"] == c["CapPrm"] == want, (names[tid], c)
        finally:
            p.send_signal(2)
            p.wait(timeout=60)
