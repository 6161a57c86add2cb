"""A fleet's recording for the Kafka consumer tests and benchmark: many pods, each running the
rule pack's positive recordings (tests/rules/*.positive.ndjson) one after another, so every
pod raises every alert of the pack, the correlations (sequences, counts) included.

Each pod is on a node of its own (a correlation never mixes two nodes' events, docs/detect.md)
with its pod UID, container id and pod fields, so the Kafka output keys its events by pod:
one pod's events sit in one partition. A recording becomes a segment of a pod's life: its
processes' start times are moved so that no two segments share a process identity (pid,
start_ns); segments start `gap` seconds of event time apart, and each pod runs them in its own
rotation, so that at any moment some pods are in the middle of a sequence (a download, chmod
and exec over 40 s; a burst of DNS queries over 17 s; failed su then a root shell...): a
consumer that stops, or a rebalance, always lands inside some. Events of all pods are
interleaved by time.

    python3 tests/integration/fleet.py --pods 48 --out fleet.ndjson
"""
import argparse
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "tests" / "rules"
T0 = 1764064800_000_000_000
SEC = 1_000_000_000


def pod_identity(i):
    return {
        "node": f"fleet-node-{i:03d}",
        "pod_uid": "%08x-f1ee-4e00-8000-%012x" % (0xf1ee0000 + i, i),
        "container_id": "%064x" % (0xf1ee00000000 + i),
        "namespace": f"team-{i % 4}",
        "pod": f"web-{i:03d}",
        "workload_kind": "Deployment",
        "workload": f"web-{i % 4}",
        "labels": {"app": "web", "team": f"team-{i % 4}"},
    }


def segments(names=None):
    """The positive recordings (those of the rule files names, else all), each a list of
    events, in a fixed order."""
    return [[json.loads(line) for line in p.read_text().splitlines() if line]
            for p in sorted(RECORDINGS.glob("*.positive.ndjson"))
            if names is None or p.name.split(".")[0] in names]


def make(pods=48, gap=30, repeat=1, pod_stagger_ms=7, names=None, first_pod=0, t0=T0):
    """Every pod (numbered from first_pod) runs every segment (those of the rule files names,
    else all) `repeat` times, from event time t0. Returns the events sorted by time."""
    segs = segments(names)
    out = []
    slot = 0
    for _ in range(repeat):
        for k in range(len(segs)):
            for i in range(first_pod, first_pod + pods):
                seg = segs[(k + i) % len(segs)]
                t_first = seg[0]["ts"]
                ident = pod_identity(i)
                # a process identity of its own for each (pod, slot): start times move by
                # 10^13 ns per slot, far from any other's
                shift = (slot * pods + i + 1) * 10**13
                base = t0 + slot * gap * SEC + i * pod_stagger_ms * 1_000_000
                for e in seg:
                    e = dict(e)
                    e["ts"] = base + (e["ts"] - t_first)
                    e["start_ns"] += shift
                    if e["type"] == "fork":
                        e["child_start_ns"] += shift
                    e.pop("cgroup", None)
                    e.update(ident)
                    out.append(e)
            slot += 1
    out.sort(key=lambda e: (e["ts"], e["node"]))
    return out


def write(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=48)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    write(a.out, make(a.pods, repeat=a.repeat))
