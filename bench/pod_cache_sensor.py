"""pangolin run's resident memory with and without N pods on its node in a real API server.

Starts the test control plane (tests/integration/kube_cluster.py), creates a node and N pods
bound to it (no kwok on that node: they stay Pending, which the sensor does not care about),
then runs the sensor twice, without and with --kubeconfig, and reads VmRSS and VmHWM from
/proc once it is watching (and, with the API server, once its list is in the cache).
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from kube_cluster import Cluster  # noqa: E402

PANGOLIN = str(ROOT / "build" / "pangolin")


def status(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0]) / 1024
    return out


def measure(args, settle):
    p = subprocess.Popen([PANGOLIN, "run", "--no-snapshot", "-f", 'comm == "no-such-comm-x"', *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = ""
    while "watching:" not in err:
        line = p.stderr.readline()
        if not line:
            raise RuntimeError("pangolin run ended:\n" + err)
        err += line
    time.sleep(settle)  # let the cache apply its mailbox on the events that come
    s = status(p.pid)
    p.terminate()
    p.wait(timeout=60)
    return s, err


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    with tempfile.TemporaryDirectory() as d:
        c = Cluster(pathlib.Path(d) / "k")
        try:
            c.start()
            node = "bench-node"
            c.kubectl_ok("create", "-f", "-", input=json.dumps(
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}))
            t0 = time.monotonic()
            for start in range(0, n, 500):
                items = [{"apiVersion": "v1", "kind": "Pod", "metadata": {
                    "name": f"app-{i // 10:04d}-7f9c6d5b8-{i:05d}", "namespace": "default",
                    "labels": {"app.kubernetes.io/name": f"app-{i // 10:04d}", "team": f"team-{i % 50}",
                               "pod-template-hash": "7f9c6d5b8", "app.kubernetes.io/part-of": "shop"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                         "name": f"app-{i // 10:04d}-7f9c6d5b8", "controller": True,
                                         "uid": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"}]},
                    "spec": {"nodeName": node, "containers": [{"name": "app", "image": "app:1"}]}}
                    for i in range(start, min(n, start + 500))]
                c.kubectl_ok("create", "-f", "-", input=json.dumps(
                    {"apiVersion": "v1", "kind": "List", "items": items}))
            print(f"created {n} pods in {time.monotonic() - t0:.0f} s")
            base, _ = measure(["--node", node], 3)
            with_pods, err = measure(["--kubeconfig", str(c.admin), "--node", node], 10)
            print(f"without an API server: VmRSS {base['VmRSS']:.1f} MB, VmHWM {base['VmHWM']:.1f} MB")
            print(f"with {n} pods cached:  VmRSS {with_pods['VmRSS']:.1f} MB, "
                  f"VmHWM {with_pods['VmHWM']:.1f} MB")
            print(f"difference: {with_pods['VmRSS'] - base['VmRSS']:.1f} MB resident, "
                  f"{with_pods['VmHWM'] - base['VmHWM']:.1f} MB peak")
        finally:
            c.stop()


if __name__ == "__main__":
    main()
