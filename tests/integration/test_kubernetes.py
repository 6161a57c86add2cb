"""Pod metadata from a real Kubernetes API server, and the DaemonSet's manifests.

The control plane is real (tests/integration/kube_cluster.py: etcd, kube-apiserver, kwok as
the kubelet, built from the Go module proxy). The pods are real API objects bound to a kwok
node; their containers are cgroups this test makes on this host in the kubelet's layout, under
a throwaway directory of the cgroup2 mount, with real processes moved in. The sensor watches
the node as its DaemonSet would: with the service account and RBAC of deploy/kubernetes/.

Nothing here waits for a fixed time: each step retries until what it waits for is there, under
a generous deadline.
"""
import json
import os
import pathlib
import pty
import queue
import select
import signal
import subprocess
import threading
import time
import tty
import uuid

import pytest

from conftest import ROOT

DEPLOY = ROOT / "deploy" / "kubernetes"


def cgroup2_mount():
    for line in open("/proc/self/mountinfo"):
        left, _, right = line.partition(" - ")
        if right.split()[0] == "cgroup2" and left.split()[3] == "/":
            return left.split()[4].replace("\\040", " ")
    return None


def apply_manifests(kube):
    """Server-side validation first (strict: an unknown field is an error), then for real.
    The namespace goes first: objects in it cannot be validated before it exists."""
    ns = DEPLOY / "00-namespace.yaml"
    kube.kubectl_ok("apply", "--dry-run=server", "--validate=strict", "-f", str(ns))
    kube.kubectl_ok("apply", "--validate=strict", "-f", str(ns))
    out = kube.kubectl_ok("apply", "--dry-run=server", "--validate=strict", "-f", str(DEPLOY))
    assert "daemonset.apps/pangolin" in out and "(server dry run)" in out
    kube.kubectl_ok("apply", "--validate=strict", "-f", str(DEPLOY))


def test_configmap_policy_and_rules_load_as_the_daemonset_reads_them(pangolin, tmp_path):
    """The ConfigMap's policies.yaml and rules.yaml, laid out as the DaemonSet mounts them
    (items: policies/, rules/) and given to the sensor with the DaemonSet's own options: they
    load, and the policy is in monitor mode (a fleet tries it before it stops anything)."""
    import yaml
    cm = yaml.safe_load((DEPLOY / "20-configmap.yaml").read_text())
    ds = yaml.safe_load((DEPLOY / "30-daemonset.yaml").read_text())
    c = ds["spec"]["template"]["spec"]["containers"][0]
    items = {i["key"]: i["path"] for v in ds["spec"]["template"]["spec"]["volumes"]
             if "configMap" in v for i in v["configMap"]["items"]}
    mount = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}["config"]
    for key, rel in items.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(cm["data"][key])
    assert yaml.safe_load(cm["data"]["policies.yaml"])["mode"] == "monitor"
    args = [a.replace(mount, str(tmp_path)) for a in c["args"][1:]
            if a != "$(PANGOLIN_FILTER)" and a != "--filter"]
    args = [a for i, a in enumerate(args) if not (a == ":9464" or (a == "--metrics"))]
    assert "--policy" in args and "--rules" in args, c["args"]
    p = subprocess.run([pangolin, "run", *args, "-f", 'type == "exec"', "-d", "1", "-o",
                        str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([pangolin, "rules", "check", str(tmp_path / "rules")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "77d14903" in p.stdout + p.stderr, p.stdout + p.stderr


@pytest.mark.kube
def test_manifests_are_accepted(kube):
    apply_manifests(kube)
    ds = json.loads(kube.kubectl_ok("get", "-n", "pangolin", "daemonset", "pangolin", "-o", "json"))
    spec = ds["spec"]["template"]["spec"]
    c = spec["containers"][0]
    sc = c["securityContext"]
    assert not sc.get("privileged")
    assert set(sc["capabilities"]["add"]) >= {"BPF", "PERFMON", "NET_ADMIN"}  # NET_ADMIN: --policy
    assert sc["capabilities"]["drop"] == ["ALL"]
    env = {e["name"]: e for e in c["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    for p in ("/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/bpf", "/sys/fs/cgroup"):
        assert mounts[p]["readOnly"], p
    svc = json.loads(kube.kubectl_ok("get", "-n", "pangolin", "service", "pangolin-metrics",
                                     "-o", "json"))
    assert svc["spec"]["ports"][0]["port"] == 9464
    # the role grants what the sensor does, and nothing more
    sa = "system:serviceaccount:pangolin:pangolin"
    for verb in ("list", "watch", "get"):
        assert kube.kubectl("auth", "can-i", verb, "pods", "--all-namespaces",
                            f"--as={sa}").stdout.strip() == "yes", verb
    assert kube.kubectl("auth", "can-i", "get", "jobs.batch", "-A", f"--as={sa}").stdout.strip() == "yes"
    for verb, what in (("get", "secrets"), ("delete", "pods"), ("create", "pods"),
                       ("list", "nodes"), ("list", "configmaps")):
        assert kube.kubectl("auth", "can-i", verb, what, "-A",
                            f"--as={sa}").stdout.strip() == "no", (verb, what)


class PodCgroups:
    """A cgroup per pod in the kubelet's layout (systemd driver, one container each)."""

    def __init__(self):
        self.mount = pathlib.Path(cgroup2_mount())
        self.base_rel = f"pangolin-k8s-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.made = []
        self.procs = []

    def _mkdir(self, path):
        if not path.exists():
            path.mkdir()
            self.made.append(path)

    def add(self, pod_uid):
        u = pod_uid.replace("-", "_")
        cid = uuid.uuid4().hex * 2
        path = self.mount / self.base_rel
        for part in ("kubepods.slice", "kubepods-besteffort.slice",
                     f"kubepods-besteffort-pod{u}.slice", f"cri-containerd-{cid}.scope"):
            self._mkdir(path)
            path = path / part
        self._mkdir(path)
        return path

    def exec_in(self, cg, token):
        """A shell that moves itself into cg, then execs /bin/true with the token."""
        p = subprocess.Popen(["sh", "-c", f'echo $$ > "{cg}/cgroup.procs" && exec /bin/true {token}'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(p)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, err

    def cleanup(self):
        for d in reversed(self.made):
            for _ in range(100):  # a reaped task leaves its cgroup asynchronously
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
def pod_cgroups():
    if os.geteuid() != 0:
        pytest.skip("creating cgroups needs root")
    if not cgroup2_mount():
        pytest.skip("no cgroup2 file system mounted")
    cg = PodCgroups()
    try:
        yield cg
    finally:
        cg.cleanup()


class Sensor:
    """pangolin run with stdout on a pseudo-terminal, so each event is written as it comes
    (into a pipe the sink batches until exit), read line by line on a thread."""

    def __init__(self, pangolin, args):
        master, slave = pty.openpty()
        tty.setraw(slave)  # no "\r\n" translation, no echo
        # NDJSON even though standard output is a terminal (where compact is the default)
        self.proc = subprocess.Popen([pangolin, "run", "--format", "ndjson", *args], stdout=slave,
                                     stderr=subprocess.PIPE, text=True)
        os.close(slave)
        self.master = master
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        buf = b""
        while True:
            try:
                r, _, _ = select.select([self.master], [], [], 1)
                if not r:
                    if self.proc.poll() is not None:
                        break
                    continue
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.lines.put(json.loads(line))

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any("watching:" in l for l in self.stderr):
                return
            assert self.proc.poll() is None, "".join(self.stderr)
            time.sleep(0.05)
        raise AssertionError("no 'watching:' line:\n" + "".join(self.stderr))

    def event(self, token, timeout=30):
        """The exec event whose argv carries token."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                e = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, "".join(self.stderr)
                continue
            if e.get("argv", [None, None])[1:2] == [token]:
                return e
        raise AssertionError(f"no event for {token}:\n" + "".join(self.stderr))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


def until(sensor, cgroups, cg, pred, what, timeout=90):
    """Exec in cg again and again until an event satisfies pred; that event."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        tok = f"pangolin-{uuid.uuid4().hex[:10]}"
        cgroups.exec_in(cg, tok)
        last = sensor.event(tok)
        if pred(last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: still not so after {timeout} s; last event: {last}\n"
                         + "".join(sensor.stderr))


def pod(name, ns, node, labels, owner=None):
    meta = {"name": name, "namespace": ns, "labels": labels}
    if owner:
        meta["ownerReferences"] = [dict(owner, apiVersion=owner.get("apiVersion", "apps/v1"),
                                        controller=True)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "pause"}]}}


def owner(kind, name, api="apps/v1", uid=None):
    return {"kind": kind, "name": name, "apiVersion": api, "uid": uid or str(uuid.uuid4())}


@pytest.mark.kube
@pytest.mark.kernel
def test_live_events_carry_pod_metadata(kube, pangolin, pod_cgroups, tmp_path):
    """Names, labels and workloads on live events; the watch follows new pods, deletions and
    an API server restart."""
    apply_manifests(kube)  # the sensor runs as the DaemonSet's service account
    node = f"pg-node-{uuid.uuid4().hex[:8]}"
    ns = f"pg-test-{uuid.uuid4().hex[:8]}"
    kube.apply([{"apiVersion": "v1", "kind": "Node",
                 "metadata": {"name": node, "annotations": {"kwok.x-k8s.io/node": "fake"}}},
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}])
    cron = owner("CronJob", "nightly", api="batch/v1")
    job = kube.apply({"apiVersion": "batch/v1", "kind": "Job",
                      "metadata": {"name": "nightly-29000000", "namespace": ns,
                                   "ownerReferences": [dict(cron, controller=True)]},
                      "spec": {"suspend": True, "template": {"spec": {
                          "restartPolicy": "Never",
                          "containers": [{"name": "c", "image": "pause"}]}}}})[0]
    many = {f"k{i:02d}": "v" * 40 for i in range(40)}  # past the bound of 32 labels
    pods = {
        "web": (pod("web-5d4f8b7c9-x2x4z", ns, node, {"app": "web", "pod-template-hash": "5d4f8b7c9"},
                    owner("ReplicaSet", "web-5d4f8b7c9")),
                ("Deployment", "web")),
        "agent": (pod("agent-8kq2p", ns, node, {"app": "agent"}, owner("DaemonSet", "agent")),
                  ("DaemonSet", "agent")),
        "db": (pod("db-0", ns, node, {"app": "db"}, owner("StatefulSet", "db")),
               ("StatefulSet", "db")),
        "batch": (pod("nightly-29000000-abcde", ns, node, {"job-name": "nightly-29000000"},
                      owner("Job", "nightly-29000000", api="batch/v1",
                            uid=job["metadata"]["uid"])),
                  ("CronJob", "nightly")),
        "bare": (pod("debug", ns, node, many), None),
    }
    made = {k: kube.apply(p)[0] for k, (p, _) in pods.items()}
    # an unrelated node's pod: the field selector keeps it out
    other = kube.apply(pod("elsewhere", ns, f"{node}-other", {"app": "x"}))[0]
    cgs = {k: pod_cgroups.add(m["metadata"]["uid"]) for k, m in made.items()}
    cgs["other"] = pod_cgroups.add(other["metadata"]["uid"])

    sa_config = kube.token_kubeconfig("pangolin", "pangolin", tmp_path / "sa.kubeconfig")
    s = Sensor(pangolin, ["--kubeconfig", str(sa_config), "--node", node, "--pod-grace", "1",
                          "--no-snapshot", "-f",
                          f'type == "exec" && path == "/bin/true"'])
    try:
        s.wait_ready()
        assert not any("no pod list" in l for l in s.stderr), "".join(s.stderr)

        # 1. the pods listed at start-up
        for k, (spec, workload) in pods.items():
            tok = f"pangolin-{k}-{uuid.uuid4().hex[:6]}"
            pod_cgroups.exec_in(cgs[k], tok)
            e = s.event(tok)
            m = made[k]["metadata"]
            assert e["pod_uid"] == m["uid"], k
            assert e["namespace"] == ns and e["pod"] == m["name"], (k, e)
            if workload:
                assert (e["workload_kind"], e["workload"]) == workload, (k, e)
            else:
                assert "workload_kind" not in e and "workload" not in e, e
            if k == "bare":
                assert e["labels_truncated"] is True
                assert list(e["labels"]) == sorted(many)[:32]
            else:
                assert e["labels"] == spec["metadata"]["labels"], (k, e)
                assert "labels_truncated" not in e
        tok = "pangolin-other-" + uuid.uuid4().hex[:6]
        pod_cgroups.exec_in(cgs["other"], tok)
        e = s.event(tok)
        assert e["pod_uid"] == other["metadata"]["uid"] and "pod" not in e, e

        # 2. a pod made while the sensor runs arrives through the watch
        late = kube.apply(pod("late", ns, node, {"app": "late"}))[0]
        cg_late = pod_cgroups.add(late["metadata"]["uid"])
        e = until(s, pod_cgroups, cg_late, lambda e: "pod" in e, "the new pod has names")
        assert (e["namespace"], e["pod"], e["labels"]) == (ns, "late", {"app": "late"})

        # 3. a label change (MODIFIED) is seen
        kube.kubectl_ok("label", "-n", ns, "pod", "late", "tier=gold")
        until(s, pod_cgroups, cg_late, lambda e: e.get("labels", {}).get("tier") == "gold",
              "the new label is on events")

        # 4. the API server goes away and comes back: the watch resumes
        kube.stop_apiserver()
        tok = "pangolin-during-" + uuid.uuid4().hex[:6]
        pod_cgroups.exec_in(cgs["web"], tok)
        e = s.event(tok)  # the cache outlives the connection
        assert e["pod"] == made["web"]["metadata"]["name"], e
        kube.start_apiserver()
        after = kube.apply(pod("after-restart", ns, node, {"app": "after"}))[0]
        cg_after = pod_cgroups.add(after["metadata"]["uid"])
        e = until(s, pod_cgroups, cg_after, lambda e: "pod" in e,
                  "a pod made after the restart has names")
        assert e["pod"] == "after-restart"
        assert any("trying again" in l for l in s.stderr), "the outage went unnoticed"

        # 5. a deleted pod leaves the cache after its grace period (1 s here)
        kube.kubectl_ok("delete", "pod", "-n", ns, "db-0", "--grace-period=0", "--force",
                        "--wait=true")
        e = until(s, pod_cgroups, cgs["db"], lambda e: "pod" not in e,
                  "the deleted pod's names are gone")
        assert e["pod_uid"] == made["db"]["metadata"]["uid"]
        tok = "pangolin-still-" + uuid.uuid4().hex[:6]
        pod_cgroups.exec_in(cgs["agent"], tok)
        assert s.event(tok)["pod"] == "agent-8kq2p"
    finally:
        rc = s.stop()
    assert rc == 0, "".join(s.stderr)


def test_kubeconfig_errors_are_clear(pangolin, tmp_path):
    cases = {
        "missing.yaml": (None, "cannot read kubeconfig"),
        "notyaml.yaml": ("a: [b\n", "not YAML"),
        "noctx.yaml": ("apiVersion: v1\nkind: Config\n", "no current-context"),
        "exec.yaml": ("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                      "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                      "users: [{name: u, user: {exec: {command: aws}}}]\n", "plugin"),
        "badca.yaml": ("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                       "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1', "
                       "certificate-authority-data: '!!!'}}]\n", "not base64"),
    }
    for name, (text, want) in cases.items():
        p = tmp_path / name
        if text is not None:
            p.write_text(text)
        r = subprocess.run([pangolin, "run", "--kubeconfig", str(p), "-d", "1"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0, name
        assert want in r.stderr and str(p) in r.stderr, (name, r.stderr)


@pytest.mark.kube
@pytest.mark.kernel
def test_pod_watch_counters(kube, pangolin, pod_cgroups, tmp_path):
    """--metrics shows the watch at work: synced, its requests, the pod cache's pods and
    lookups; an API server that goes away shows as request errors."""
    import re
    import urllib.request
    apply_manifests(kube)
    node = f"pg-node-{uuid.uuid4().hex[:8]}"
    ns = f"pg-test-{uuid.uuid4().hex[:8]}"
    kube.apply([{"apiVersion": "v1", "kind": "Node",
                 "metadata": {"name": node, "annotations": {"kwok.x-k8s.io/node": "fake"}}},
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}])
    made = kube.apply(pod("counted", ns, node, {"app": "counted"}))[0]
    cg = pod_cgroups.add(made["metadata"]["uid"])
    sa_config = kube.token_kubeconfig("pangolin", "pangolin", tmp_path / "sa.kubeconfig")
    s = Sensor(pangolin, ["--kubeconfig", str(sa_config), "--node", node, "--no-snapshot",
                          "--metrics", "127.0.0.1:0", "-f", 'type == "exec" && path == "/bin/true"'])

    def scrape():
        port = re.search(r"metrics on http://127.0.0.1:(\d+)/", "".join(s.stderr)).group(1)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        return {m.group(1): float(m.group(2)) for m in
                re.finditer(r"^(pangolin_(?:kube|pod_cache)\w*(?:\{[^}]*\})?) (\S+)$", text, re.M)}

    try:
        s.wait_ready()
        tok = f"pangolin-counted-{uuid.uuid4().hex[:6]}"
        pod_cgroups.exec_in(cg, tok)
        assert s.event(tok)["pod"] == "counted"
        m = scrape()
        assert m["pangolin_kube_synced"] == 1, m
        assert m['pangolin_kube_requests_total{request="list"}'] >= 1
        assert m['pangolin_kube_requests_total{request="watch"}'] >= 1
        assert m["pangolin_pod_cache_pods"] >= 1
        assert m['pangolin_pod_cache_lookups_total{result="hit"}'] >= 1
        errors = m["pangolin_kube_request_errors_total"]
        kube.stop_apiserver()
        try:
            deadline = time.monotonic() + 60
            while scrape()["pangolin_kube_request_errors_total"] == errors:
                assert time.monotonic() < deadline, "the outage is not counted"
                time.sleep(0.5)
        finally:
            kube.start_apiserver()
    finally:
        rc = s.stop()
    assert rc == 0, "".join(s.stderr)
