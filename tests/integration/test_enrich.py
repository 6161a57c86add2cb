"""Enrichment against real cgroups: cgroup id -> cgroup path -> container id and pod UID.

The tests create cgroups in the kubelet's layouts (systemd and cgroupfs drivers; containerd,
CRI-O, Docker) under the cgroup2 mount, below a directory of their own (a prefix before
"kubepods" is what nested set-ups like kind look like, and it keeps the machine's own
hierarchy untouched), move real processes in through cgroup.procs, and remove everything
afterwards. The cgroup id is the directory's inode number, read with os.stat.
"""
import json
import os
import pathlib
import signal
import subprocess
import time
import uuid

import pytest

from conftest import run

UIDS = [str(uuid.UUID(int=(0x5eed << 100) + i)) for i in range(4)]
CIDS = ["%064x" % (0xfeedbeef00 + i) for i in range(4)]


def layouts(base):
    """(relative path below base, pod UID, container id) per layout the kubelet makes."""
    u = [x.replace("-", "_") for x in UIDS]
    return {
        "systemd-containerd": (f"kubepods.slice/kubepods-burstable.slice/"
                               f"kubepods-burstable-pod{u[0]}.slice/cri-containerd-{CIDS[0]}.scope",
                               UIDS[0], CIDS[0]),
        "systemd-crio": (f"kubepods.slice/kubepods-pod{u[1]}.slice/crio-{CIDS[1]}.scope",
                         UIDS[1], CIDS[1]),
        "systemd-docker": (f"kubepods.slice/kubepods-besteffort.slice/"
                           f"kubepods-besteffort-pod{u[2]}.slice/docker-{CIDS[2]}.scope",
                           UIDS[2], CIDS[2]),
        "cgroupfs": (f"kubepods/besteffort/pod{UIDS[3]}/{CIDS[3]}", UIDS[3], CIDS[3]),
    }


def cgroup2_mount():
    """Found independently of pangolin: the first cgroup2 line of /proc/self/mountinfo."""
    for line in open("/proc/self/mountinfo"):
        left, _, right = line.partition(" - ")
        if right.split()[0] == "cgroup2" and left.split()[3] == "/":
            return left.split()[4].replace("\\040", " ")
    return None


class Cgroups:
    def __init__(self):
        self.mount = cgroup2_mount()
        self.base_rel = f"pangolin-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.base = pathlib.Path(self.mount) / self.base_rel
        self.made = []
        self.procs = []
        self.layouts = {}

    def create(self):
        for name, (rel, pod, cid) in layouts(self.base).items():
            path = self.base
            for part in [None] + rel.split("/"):
                path = path / part if part else path
                if not path.exists():
                    path.mkdir()
                    self.made.append(path)
            self.layouts[name] = {"dir": path, "rel": f"/{self.base_rel}/{rel}", "pod": pod,
                                  "cid": cid, "id": os.stat(path).st_ino}
        return self

    def spawn_in(self, name, argv):
        """Start argv and move it into the layout's cgroup before it does anything."""
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        (self.layouts[name]["dir"] / "cgroup.procs").write_text(str(p.pid))
        return p

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for d in reversed(self.made):
            for _ in range(50):  # a just-reaped task leaves its cgroup asynchronously
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        left = [str(d) for d in self.made if d.exists()]
        assert not left, f"cgroups left behind: {left}"


@pytest.fixture
def cgroups():
    if os.geteuid() != 0:
        pytest.skip("creating cgroups needs root")
    if not cgroup2_mount():
        pytest.skip("no cgroup2 file system mounted")
    cg = Cgroups()
    try:
        yield cg.create()
    finally:
        cg.cleanup()


def test_replay_enrich_maps_real_cgroup_ids(pangolin, cgroups, tmp_path):
    evs = []
    for i, (name, lay) in enumerate(sorted(cgroups.layouts.items())):
        p = cgroups.spawn_in(name, ["sleep", "60"])
        # the kernel agrees the process is in there
        assert f"0::{lay['rel']}\n" in open(f"/proc/{p.pid}/cgroup").read()
        evs.append({"v": 1, "type": "fork", "ts": 1000 + i, "pid": p.pid, "tid": p.pid, "ppid": 1,
                    "uid": 0, "gid": 0, "comm": "sleep", "cgroup_id": lay["id"], "start_ns": 1,
                    "child_pid": 2, "child_start_ns": 3})
    base_id = os.stat(cgroups.base).st_ino
    evs.append(dict(evs[0], ts=2000, cgroup_id=base_id))
    evs.append(dict(evs[0], ts=2001, cgroup_id=(1 << 60) + 12345))  # no such cgroup
    rec = tmp_path / "rec.ndjson"
    rec.write_text("".join(json.dumps(e) + "\n" for e in evs))

    r = run([pangolin, "replay", str(rec), "--enrich", "--node", "node-7", "-q"])
    assert r.returncode == 0, r.stderr
    out = {e["ts"]: e for e in map(json.loads, r.stdout.splitlines())}
    assert len(out) == len(evs)
    for i, (name, lay) in enumerate(sorted(cgroups.layouts.items())):
        e = out[1000 + i]
        assert e["cgroup"] == lay["rel"], name
        assert e["pod_uid"] == lay["pod"], name
        assert e["container_id"] == lay["cid"], name
        assert e["node"] == "node-7"
    assert out[2000]["cgroup"] == f"/{cgroups.base_rel}"
    assert "pod_uid" not in out[2000] and "container_id" not in out[2000]
    assert "cgroup" not in out[2001] and "pod_uid" not in out[2001]
    assert out[2001]["node"] == "node-7"


def test_node_from_environment(pangolin, tmp_path):
    rec = tmp_path / "rec.ndjson"
    rec.write_text(json.dumps({"v": 1, "type": "fork", "ts": 1, "pid": 1, "tid": 1, "ppid": 0,
                               "uid": 0, "gid": 0, "comm": "x", "cgroup_id": 0, "start_ns": 1,
                               "child_pid": 2, "child_start_ns": 3}) + "\n")
    r = run([pangolin, "replay", str(rec), "--enrich", "-q"],
            env=dict(os.environ, NODE_NAME="from-daemonset"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["node"] == "from-daemonset"
    r = run([pangolin, "replay", str(rec), "--node", "bad name", "-q"])
    assert r.returncode == 1
    assert "node name from --node" in r.stderr


def live_in_pods(pangolin, cgroups, sensor_args, consume):
    """Run the sensor, make one process per layout exec inside its cgroup, stop the sensor.
    The kernel-side filter keeps only execs from these cgroup ids: if the ids userspace
    resolves were not the kernel's, nothing would come through at all. It keeps only the
    exec of /bin/true, too: the shells' own exec may land after the move into the cgroup
    (Popen returns once the exec is under way, before its tracepoint fires)."""
    ids = ", ".join(str(l["id"]) for l in cgroups.layouts.values())
    proc = subprocess.Popen([pangolin, "run", "--node", "node-live", "-f",
                             f'type == "exec" && path == "/bin/true" && cgroup_id in [{ids}]', *sensor_args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        ready = ""
        while "watching:" not in ready and time.monotonic() < deadline:
            ready += proc.stderr.readline()
            assert proc.poll() is None, ready + proc.stderr.read()
        # each shell waits for a line, then execs: the exec happens inside the cgroup
        shells = {name: cgroups.spawn_in(name, ["sh", "-c", "read x; exec /bin/true pangolin-" + name])
                  for name in cgroups.layouts}
        for sh in shells.values():
            sh.stdin.write(b"go\n")
            sh.stdin.close()
            sh.wait(timeout=10)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, ready + rest
    got = consume(out, len(shells))
    by_name = {}
    for key, e in got:
        assert e["type"] == "exec"
        by_name[e["argv"][1].removeprefix("pangolin-")] = (key, e)
    assert set(by_name) == set(cgroups.layouts)
    for name, lay in cgroups.layouts.items():
        key, e = by_name[name]
        assert e["pid"] == shells[name].pid
        assert e["cgroup_id"] == lay["id"]
        assert e["cgroup"] == lay["rel"]
        assert e["pod_uid"] == lay["pod"], name
        assert e["container_id"] == lay["cid"], name
        assert e["node"] == "node-live"
        if key is not None:
            assert key == lay["pod"].encode()
    return ready + rest


@pytest.mark.kernel
def test_live_sensor_tags_events_with_pod_and_container(pangolin, cgroups):
    live_in_pods(pangolin, cgroups, [],
                 lambda out, n: [(None, json.loads(l)) for l in out.splitlines()])


@pytest.mark.kernel
@pytest.mark.kafka
def test_live_sensor_to_kafka_keyed_by_pod(pangolin, cgroups, kafka):
    """End to end: kernel -> enrich -> Kafka, read back by an independent consumer."""
    topic = kafka.create_topic(partitions=3)

    def consume(out, n):
        assert out == ""
        return [(k, json.loads(v)) for k, _, _, v in kafka.consume(topic, n)]

    err = live_in_pods(pangolin, cgroups, ["-o", kafka.url(topic)], consume)
    assert "kafka: 4 produced, 4 delivered, 0 failed, 0 queued, 0 dropped" in err


@pytest.mark.kernel
@pytest.mark.kafka
def test_live_sensor_to_kafka_protobuf(pangolin, cgroups, kafka, tmp_path):
    from conftest import ROOT

    r = run(["protoc", f"--proto_path={ROOT / 'proto'}", f"--python_out={tmp_path}",
             "pangolin.proto"])
    assert r.returncode == 0, r.stderr
    import importlib
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        pb2 = importlib.import_module("pangolin_pb2")
    finally:
        sys.path.remove(str(tmp_path))
    topic = kafka.create_topic(partitions=3)

    def consume(out, n):
        got = []
        for k, _, _, v in kafka.consume(topic, n):
            m = pb2.Event()
            m.ParseFromString(v)
            assert m.WhichOneof("payload") == "exec"
            got.append((k, {"type": "exec", "pid": m.pid, "cgroup_id": m.cgroup_id,
                            "cgroup": m.cgroup.decode(), "pod_uid": m.pod_uid,
                            "container_id": m.container_id, "node": m.node,
                            "argv": [a.decode() for a in m.exec.argv]}))
        return got

    live_in_pods(pangolin, cgroups, ["-o", kafka.url(topic), "--format", "protobuf"], consume)
