"""A real Kubernetes control plane on loopback, for the tests and benchmarks that need one.

etcd, kube-apiserver, kubectl and kwok come from the Go module proxy, built once by
scripts/k8s-binaries.sh into build/k8s/bin/ (about 6 minutes cold; a no-op afterwards).
Everything else is made here, fresh for each cluster, in its own directory:

  - a CA, the API server's serving certificate (127.0.0.1) and an admin client certificate
    (group system:masters), made with the openssl command line;
  - the service-account signing key pair, so `kubectl create token` works;
  - etcd (loopback, no fsync: the data is thrown away) and kube-apiserver (loopback only,
    RBAC authorization) with bounded start-up waits;
  - kwok, which plays the kubelet for nodes annotated kwok.x-k8s.io/node=fake: it marks them
    Ready and moves their pods to Running, and finishes graceful deletions.

No controller-manager or scheduler runs: tests create pods already bound to a node
(spec.nodeName), the way the sensor's field selector sees them.

Run as a script to keep one up by hand (for bench/pod_cache.sh):
  python3 tests/integration/kube_cluster.py DIR     # prints the admin kubeconfig; Ctrl-C stops
"""
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "scripts" / "k8s-binaries.sh"


def build_binaries():
    """build/k8s/bin with etcd, kube-apiserver, kubectl and kwok (built when missing)."""
    r = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"scripts/k8s-binaries.sh failed:\n{r.stdout}{r.stderr}")
    return pathlib.Path(r.stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr}")


def make_certs(d):
    """CA, serving cert for 127.0.0.1, admin client cert, service-account key pair."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=pangolin-test-ca", cwd=d)
    (d / "serving.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                   "extendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subj, ext in (("apiserver", "/CN=kube-apiserver", "serving.ext"),
                            ("admin", "/O=system:masters/CN=pangolin-test-admin", "client.ext")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", subj, cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", ext, cwd=d)
    openssl("genrsa", "-out", "sa.key", "2048", cwd=d)
    openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=d)


def kubeconfig(server, ca_file, user):
    """A kubeconfig as kubectl writes it: user is {"token": ...} or client-certificate paths."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": server,
                                                  "certificate-authority": str(ca_file)}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "u"}}],
    }, indent=1)  # JSON is YAML: kubectl and pangolin read it alike


class Cluster:
    def __init__(self, workdir):
        self.dir = pathlib.Path(workdir)
        self.procs = {}
        self.bin = None

    # --- start and stop --------------------------------------------------------------------
    def start(self):
        self.bin = build_binaries()
        self.dir.mkdir(parents=True, exist_ok=True)
        make_certs(self.dir)
        self.etcd_port, self.peer_port, self.api_port = free_port(), free_port(), free_port()
        self.server = f"https://127.0.0.1:{self.api_port}"
        self.admin = self.dir / "admin.kubeconfig"
        self.admin.write_text(kubeconfig(self.server, self.dir / "ca.crt", {
            "client-certificate": str(self.dir / "admin.crt"),
            "client-key": str(self.dir / "admin.key")}))
        self._start_etcd()
        self.start_apiserver()
        self._start_kwok()
        return self

    def _spawn(self, name, argv):
        log = open(self.dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def _log_tail(self, name, n=30):
        try:
            return "\n".join((self.dir / f"{name}.log").read_text(errors="replace")
                             .splitlines()[-n:])
        except OSError:
            return "(no log)"

    def _wait(self, name, ready, what, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.procs[name]
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode} while starting:\n"
                                   + self._log_tail(name))
            try:
                if ready():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name}: {what} not ready after {timeout} s:\n" + self._log_tail(name))

    def _start_etcd(self):
        c, p = f"http://127.0.0.1:{self.etcd_port}", f"http://127.0.0.1:{self.peer_port}"
        self._spawn("etcd", [str(self.bin / "etcd"), "--name=test",
                             f"--data-dir={self.dir / 'etcd'}", f"--listen-client-urls={c}",
                             f"--advertise-client-urls={c}", f"--listen-peer-urls={p}",
                             f"--initial-advertise-peer-urls={p}",
                             f"--initial-cluster=test={p}", "--unsafe-no-fsync",
                             "--log-level=warn"])
        self._wait("etcd", lambda: urllib.request.urlopen(f"{c}/health", timeout=2)
                   .read().find(b'"health":"true"') >= 0, "etcd /health")

    def start_apiserver(self):
        d = self.dir
        self._spawn("kube-apiserver", [
            str(self.bin / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.api_port}",
            f"--tls-cert-file={d / 'apiserver.crt'}", f"--tls-private-key-file={d / 'apiserver.key'}",
            f"--client-ca-file={d / 'ca.crt'}",
            f"--service-account-key-file={d / 'sa.pub'}",
            f"--service-account-signing-key-file={d / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--authorization-mode=RBAC",
            # addresses for ClusterIP allocation only: nothing here routes to them
            "--service-cluster-ip-range=10.96.0.0/16",
            # no kubelet registers the API server's own endpoints (127.0.0.1 is not allowed)
            "--endpoint-reconciler-type=none",
            # pods name no service account that a controller would have to make first
            "--disable-admission-plugins=ServiceAccount",
            "--profiling=false", f"--cert-dir={d / 'certs'}",
        ])
        ctx = ssl.create_default_context(cafile=str(d / "ca.crt"))
        ctx.load_cert_chain(str(d / "admin.crt"), str(d / "admin.key"))

        def ready():
            # /readyz covers the RBAC bootstrap (the default roles pangolin's binds to)
            return urllib.request.urlopen(f"{self.server}/readyz", context=ctx,
                                          timeout=5).read() == b"ok"
        self._wait("kube-apiserver", ready, "/readyz", timeout=120)
        # the default namespace is made by a loop inside the API server, shortly after ready
        deadline = time.monotonic() + 60
        while self.kubectl("get", "namespace", "default").returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("namespace default missing 60 s after the API server started")
            time.sleep(0.2)

    def stop_apiserver(self):
        self._stop("kube-apiserver")

    def _start_kwok(self):
        self._spawn("kwok", [str(self.bin / "kwok"), f"--kubeconfig={self.admin}",
                             f"--config={self.bin.parent / 'kwok-stages.yaml'}",
                             "--manage-all-nodes=false",
                             "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                             "--node-ip=127.0.0.1", "--node-port=0",
                             "--server-address=127.0.0.1:0"])
        time.sleep(0.5)
        p = self.procs["kwok"]
        if p.poll() is not None:
            raise RuntimeError(f"kwok exited with {p.returncode}:\n" + self._log_tail("kwok"))

    def _stop(self, name):
        p = self.procs.pop(name, None)
        if not p:
            return
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def stop(self):
        for name in ("kwok", "kube-apiserver", "etcd"):
            self._stop(name)

    # --- use -------------------------------------------------------------------------------
    def kubectl(self, *args, input=None, timeout=120):
        return subprocess.run([str(self.bin / "kubectl"), f"--kubeconfig={self.admin}", *args],
                              input=input, capture_output=True, text=True, timeout=timeout)

    def kubectl_ok(self, *args, input=None):
        r = self.kubectl(*args, input=input)
        if r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
        return r.stdout

    def apply(self, obj):
        """Create or update objects (a dict or a list of dicts); returns what the server kept."""
        items = obj if isinstance(obj, list) else [obj]
        out = self.kubectl_ok("apply", "-o", "json", "-f", "-",
                              input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                "items": items}))
        got = json.loads(out)
        return got.get("items", [got])

    def token_kubeconfig(self, namespace, account, path):
        """A kubeconfig that authenticates as a service account (kubectl create token)."""
        tok = self.kubectl_ok("create", "token", "-n", namespace, account,
                              "--duration=2h").strip()
        path.write_text(kubeconfig(self.server, self.dir / "ca.crt", {"token": tok}))
        return path


def main():
    c = Cluster(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "k8s" / "cluster")
    try:
        c.start()
        print(c.admin, flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        c.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
