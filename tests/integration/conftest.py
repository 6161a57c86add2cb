"""Shared fixtures for pangolin's integration tests.

Markers:
  kernel - loads BPF programs (needs root and this machine's kernel)
  kafka  - needs the Kafka broker the harness starts (the `kafka` fixture)
  kube   - needs the Kubernetes API server the harness starts (the `kube` fixture; its
           programs build from the Go module proxy on first use, scripts/k8s-binaries.sh)
  slow   - takes more than a few seconds
Tests that are not marked run anywhere, as any user.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_configure(config):
    for m in ("kernel: loads BPF programs; needs root",
              "kafka: needs the Kafka broker the kafka fixture starts",
              "kube: needs the Kubernetes API server the kube fixture starts",
              "slow: takes more than a few seconds"):
        config.addinivalue_line("markers", m)


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def pangolin():
    """Path of the pangolin binary under test (PANGOLIN_BIN, else build/pangolin)."""
    p = os.environ.get("PANGOLIN_BIN", str(ROOT / "build" / "pangolin"))
    assert os.access(p, os.X_OK), f"{p} is not built: run make"
    return p


@pytest.fixture(scope="session")
def helpers_dir():
    """Directory of the compiled workload helpers (tests/helpers/*.c)."""
    return ROOT / "build" / "tests"


def run(cmd, **kw):
    """subprocess.run with text output captured and a timeout, for brevity in tests."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


@pytest.fixture(scope="session")
def kafka(request):
    """The real Kafka broker (tests/integration/kafka_broker.py), started fresh once per
    session on first use and stopped at the end. Tests may stop() and start() it (same port,
    same data) but must leave it running."""
    from kafka_broker import Broker

    b = Broker(ROOT / "build" / "kafka" / "test-run")
    request.addfinalizer(b.stop)
    b.start(fresh=True)
    return b


@pytest.fixture(scope="session")
def kube(request, tmp_path_factory):
    """A real Kubernetes control plane on loopback (tests/integration/kube_cluster.py), started
    once per session on first use and stopped at the end. Tests may stop_apiserver() and
    start_apiserver() (same port, same etcd) but must leave it running."""
    from kube_cluster import Cluster

    c = Cluster(tmp_path_factory.mktemp("kube"))
    request.addfinalizer(c.stop)
    return c.start()
