"""`pangolin detect` across the fleet: a Kafka consumer group against a real broker (KRaft,
from Maven Central: kafka_broker.py).

The fleet's events come from a recording of many pods (fleet.py: every pod runs the rule
pack's positive recordings, sequences and counts included), produced by `pangolin replay` as a
sensor would (keyed by pod). What `pangolin detect` raises on the same recording read from a
file is the reference: every one of those alerts must appear at least once in the alert topic.
Duplicates are allowed only where the consumers' own logs show that the event behind the
alert was read more than once (a partition re-read from its committed offset after a
rebalance); they are counted and explained, never assumed.
"""
import collections
import json
import os
import pathlib
import re
import signal
import subprocess
import threading
import time
import urllib.request
import uuid

import pytest

import fleet
from conftest import ROOT, run

pytestmark = pytest.mark.kafka

RULES = ROOT / "rules"
# a dead consumer is noticed after session.timeout.ms: the broker's minimum, not 45 s
FAST_GROUP = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]


def ident(a):
    """An alert by what it is about: the rule and the event that completed it."""
    return (a["rule_id"], a["ts"], a["pid"], a["start_ns"])


def reference(pangolin, rec):
    r = run([pangolin, "detect", "--rules", str(RULES), "-i", str(rec), "-q"], timeout=300)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


class Detect:
    """`pangolin detect` reading a Kafka topic in a group; its standard error in a file."""

    def __init__(self, pangolin, tmp_path, name, *args):
        self.name = name
        self.err_path = tmp_path / f"{name}.err"
        self.errf = open(self.err_path, "w")
        rules = [] if "--rules" in args else ["--rules", str(RULES)]
        self.proc = subprocess.Popen([pangolin, "detect", *rules, *args],
                                     stdout=subprocess.DEVNULL, stderr=self.errf)

    def text(self):
        return self.err_path.read_text()

    def wait_for(self, pattern, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited {self.proc.returncode} before {pattern!r}:\n{self.text()}")
            time.sleep(0.05)
        pytest.fail(f"{self.name}: no {pattern!r} after {timeout} s:\n{self.text()}")

    def wait_count(self, needle, n, timeout=90):
        """Until needle is in the log n times."""
        deadline = time.monotonic() + timeout
        while self.text().count(needle) < n:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{self.name}: {needle!r} not {n} times:\n{self.text()}")
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=120):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        self.errf.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def read_intervals(logs):
    """From the consumers' logs: per partition, the offsets each consumer read, as
    [start, end) with end None when its reader died without saying (SIGKILL)."""
    iv = collections.defaultdict(list)
    for name, text in logs.items():
        open_ = {}
        for line in text.splitlines():
            m = re.search(r"kafka: partition (\d+): reading from offset (\d+)", line)
            if m:
                open_[int(m[1])] = int(m[2])
                continue
            m = re.search(r"kafka: partition (\d+) (?:given up|lost).*read to offset (-?\d+)", line)
            if m and int(m[1]) in open_:
                iv[int(m[1])].append((name, open_.pop(int(m[1])), int(m[2])))
        for p, s in open_.items():
            iv[p].append((name, s, None))
    return iv


class Feed:
    """`pangolin replay - --process -o kafka://...` fed a recording at a steady pace from a
    thread, as sensors produce: consumers read while it comes."""

    def __init__(self, pangolin, url, lines, per_second, tmp_path, hold_at=None):
        self.errf = open(tmp_path / "feed.err", "w")
        self.proc = subprocess.Popen([pangolin, "replay", "-", "--process", "-o", url],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=self.errf, text=True)
        self.lines, self.rate, self.sent = lines, per_second, 0
        self.hold_at, self.go = hold_at, threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        t0 = time.monotonic()
        batch = max(1, self.rate // 20)
        i = 0
        while i < len(self.lines):
            end = min(i + batch, len(self.lines))
            if self.hold_at is not None and i < self.hold_at < end:
                end = self.hold_at
            if i == self.hold_at:
                self.go.wait(timeout=300)
                t0 = time.monotonic() - self.sent / self.rate
            self.proc.stdin.write("".join(self.lines[i:end]))
            self.proc.stdin.flush()
            self.sent = i = end
            delay = t0 + self.sent / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.proc.stdin.close()

    def wait_sent(self, n, timeout=120):
        deadline = time.monotonic() + timeout
        while self.sent < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.sent >= n

    def finish(self, timeout=120):
        self.th.join(timeout=timeout)
        rc = self.proc.wait(timeout=timeout)
        self.errf.close()
        return rc


def open_sequences(events, ref, lo, hi):
    """The position in events (within [lo, hi)) where the most of the reference's multi-event
    alerts are half done (some of their events before it, some after), and how many."""
    pos = {(e["ts"], e["pid"], e["start_ns"]): i for i, e in enumerate(events)}
    spans = []
    for a in ref:
        idx = [pos[(r["ts"], r["pid"], r["start_ns"])] for r in a["events"]]
        if len(idx) > 1:
            spans.append((min(idx), max(idx)))
    at = max(range(lo, hi), key=lambda x: sum(1 for a, b in spans if a < x <= b))
    return at, sum(1 for a, b in spans if a < at <= b)


def consume_all(kafka, topic, timeout=30, raw=False):
    """Every message of the topic now, as (partition, offset, value decoded unless raw)."""
    return [(p, o, v if raw else json.loads(v)) for _, p, o, v in
            kafka.consume(topic, kafka.count(topic), timeout=timeout, settle=0.5)]


def wait_alerts(kafka, topic, want, timeout=180):
    """The alert topic's alerts once every identity in want is there (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        got = [v for _, _, v in consume_all(kafka, topic)]
        if want <= {ident(a) for a in got} or time.monotonic() > deadline:
            return got
        time.sleep(1)


@pytest.mark.slow
def test_three_consumers_one_killed_every_alert_at_least_once(pangolin, kafka, tmp_path):
    """Three detect processes in one group on a 6-partition topic fed from a recording of 48
    pods; one is killed (SIGKILL) mid-stream. Every alert of the reference is in the alert
    topic at least once, per-pod sequences included; every duplicate is of an event the
    consumers' logs show was read twice."""
    events = fleet.make(pods=48)
    rec = fleet.write(tmp_path / "fleet.ndjson", events)
    lines = open(rec).readlines()
    ref = reference(pangolin, rec)
    want = {ident(a) for a in ref}
    assert len(want) == len(ref) > 2000
    # the group rebalances where the most sequences are half done
    hold_at, straddling = open_sequences(events, ref, len(lines) * 6 // 10, len(lines) * 8 // 10)
    assert straddling >= 3
    src = kafka.create_topic(partitions=6)
    alerts = kafka.create_topic(partitions=3)
    group = f"fleet-{uuid.uuid4().hex[:8]}"
    args = ["-i", kafka.url(src), "--group", group, "-o", kafka.url(alerts),
            "--commit-interval", "0.5", *FAST_GROUP]
    ds = []
    feed = None
    try:
        for i in range(3):
            ds.append(Detect(pangolin, tmp_path, f"detect{i}", *args))
            ds[-1].wait_for(r"partitions assigned")
        # the feed stops until the group has rebalanced after the kill: the survivors give
        # their partitions up in the middle of the stream, pods in mid-sequence
        feed = Feed(pangolin, kafka.url(src), lines, 1500, tmp_path, hold_at=hold_at)
        victim = ds[1]
        # mid-stream: the victim holds partitions and has read from them
        feed.wait_sent(len(lines) * 2 // 5)
        victim.wait_for(r"partitions assigned: \d[^\n]*\n(.*\n)*.*reading from offset")
        assigned = [d.text().count("partitions assigned") for d in ds]
        victim.kill()
        killed_at = feed.sent
        for i in (0, 2):
            ds[i].wait_count("partitions assigned", assigned[i] + 1)
        rebalanced_at = feed.sent
        feed.go.set()
        assert feed.finish() == 0
        got = wait_alerts(kafka, alerts, want)
        for d in (ds[0], ds[2]):
            assert d.stop() == 0, d.text()
    finally:
        for d in ds:
            d.kill()
        if feed and feed.proc.poll() is None:
            feed.proc.kill()
    logs = {d.name: d.text() for d in ds}

    # none missing, per-pod sequences included
    counts = collections.Counter(ident(a) for a in got)
    missing = want - set(counts)
    assert not missing, f"{len(missing)} alerts missing, e.g. {sorted(missing)[:3]}"
    by_pod = collections.defaultdict(set)
    for a in got:
        if a["count"] > 1 or a.get("group_by"):
            by_pod[a["pod_uid"]].add(a["rule_id"])
    ref_seq = collections.defaultdict(set)
    for a in ref:
        if a["count"] > 1 or a.get("group_by"):
            ref_seq[a["pod_uid"]].add(a["rule_id"])
    assert len(ref_seq) == 48 and all(len(v) >= 4 for v in ref_seq.values())
    assert by_pod == ref_seq

    # every alert, duplicates included, is explained by what the consumers read: each
    # reading of a partition (its log says from which offset to which) is a detector of its
    # own, so the alerts it raises are those of `pangolin detect` over exactly those messages
    msgs = consume_all(kafka, src, raw=True)
    assert len(msgs) == len(lines)
    by_part = collections.defaultdict(dict)
    for p, o, v in msgs:
        by_part[p][o] = v
    iv = read_intervals(logs)
    assert any(e is None for p in iv for _, _, e in iv[p]), \
        f"the victim read nothing before it was killed:\n{logs['detect1']}"
    sure, maybe = collections.Counter(), collections.Counter()
    for p in iv:
        for k, (name, s, e) in enumerate(iv[p]):
            part = tmp_path / f"read-{p}-{k}.ndjson"
            part.write_bytes(b"".join(by_part[p][o] + b"\n" for o in sorted(by_part[p])
                                      if o >= s and (e is None or o < e)))
            for a in reference(pangolin, part):
                (maybe if e is None else sure)[ident(a)] += 1
    dups = 0
    for key, n in counts.items():
        assert sure[key] <= n <= sure[key] + maybe[key], (
            f"alert {key} delivered {n} times; the readings of its partition raise it "
            f"{sure[key]} times (+{maybe[key]} by the killed consumer): {dict(iv)}")
        dups += n - 1
    for key in sure:
        assert key in counts, f"alert {key} of a completed reading is missing"
    extra = set(counts) - want
    print(f"\n{len(got)} alerts, {len(want)} expected, none missing, {len(extra)} not "
          f"expected; {dups} duplicates, every one raised by a reading of a partition from its "
          f"committed offset after a rebalance; the victim was killed after {killed_at} of "
          f"{len(lines)} events were fed, the group rebalanced after {rebalanced_at} "
          f"({straddling} sequences half done there)")
    # the kill made someone re-read a partition the victim had been reading
    rereads = [(p, s) for p in iv for name, s, e in iv[p]
               if name != "detect1" and any(n2 == "detect1" and s2 <= s for n2, s2, _ in iv[p])]
    assert rereads, iv


# --- bad messages, formats ------------------------------------------------------------------

def single_event_rules(tmp_path, *names):
    """A rules directory of some of the pack's rule files (no correlation: nothing is held
    back when committing, so committed offsets reach the end of what was read)."""
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    for n in names:
        (d / f"{n}.yml").write_text((RULES / f"{n}.yml").read_text())
    return d


def produce_raw(kafka, topic, values, partition=0):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": kafka.bootstrap})
    for v in values:
        p.produce(topic, value=v, key=b"raw", partition=partition)
    assert p.flush(30) == 0


def wait_committed(kafka, group, topic, want, timeout=90):
    """Until the group's committed offsets are want ({partition: offset}); what they are."""
    deadline = time.monotonic() + timeout
    while True:
        got = kafka.committed(group, topic)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_bad_messages_counted_skipped_and_committed(pangolin, kafka, tmp_path):
    """NDJSON and protobuf events in one topic are told apart by content; messages that are
    neither (broken JSON, bytes that are no pangolin.v1.Event, an empty value) are each
    counted by reason, told, skipped, and committed like the rest: the events after them
    raise their alerts and the group's offset reaches the end."""
    rules = single_event_rules(tmp_path, "shell_from_web_server")
    src = kafka.create_topic(partitions=1)
    alerts = kafka.create_topic(partitions=1)
    json_evs = fleet.make(pods=3, names=["shell_from_web_server"])
    pb_evs = fleet.make(pods=3, names=["shell_from_web_server"], first_pod=3)
    after = fleet.make(pods=2, names=["shell_from_web_server"], first_pod=6)
    r = run([pangolin, "replay", str(fleet.write(tmp_path / "j.ndjson", json_evs)), "-q",
             "-o", kafka.url(src)])
    assert r.returncode == 0, r.stderr
    produce_raw(kafka, src, [b'{"v":1,"type":"exec","ts":', b"\x08\x01\x12\xff\xff", b"",
                             b'{"v":1,"type":"teleport","ts":1}'])
    r = run([pangolin, "replay", str(fleet.write(tmp_path / "p.ndjson", pb_evs)), "-q",
             "-o", kafka.url(src), "--format", "protobuf"])
    assert r.returncode == 0, r.stderr
    r = run([pangolin, "replay", str(fleet.write(tmp_path / "a.ndjson", after)), "-q",
             "-o", kafka.url(src)])
    assert r.returncode == 0, r.stderr
    # the last message is bad too: nothing after it moves the offset on for it
    produce_raw(kafka, src, [b"not an event"])
    total = len(json_evs) + 4 + len(pb_evs) + len(after) + 1
    group = f"bad-{uuid.uuid4().hex[:8]}"
    d = Detect(pangolin, tmp_path, "detect", "--rules", str(rules), "-i", kafka.url(src),
               "--group", group, "-o", kafka.url(alerts), "--commit-interval", "0.5",
               "--metrics", "127.0.0.1:0")
    try:
        assert wait_committed(kafka, group, src, {0: total}) == {0: total}
        # the same counters on the Prometheus endpoint, while it runs
        port = d.wait_for(r"metrics on http://127\.0\.0\.1:(\d+)/metrics")[1]
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        for needle in ['pangolin_source_skipped_records_total{source="kafka",reason="json"} 2',
                       'pangolin_source_skipped_records_total{source="kafka",reason="empty"} 1',
                       'pangolin_source_skipped_records_total{source="kafka",reason="protobuf"} 2',
                       f'pangolin_kafka_consumer_total{{what="messages"}} {total}',
                       'pangolin_kafka_consumer_partitions 1',
                       'pangolin_kafka_consumer_lag_messages{partition="0"} 0']:
            assert needle in text, (needle, text)
        assert d.stop() == 0, d.text()
    finally:
        d.kill()
    err = d.text()
    got = [v for _, _, v in consume_all(kafka, alerts)]
    assert sorted(a["pod"] for a in got) == [f"web-{i:03d}" for i in range(8)], err
    assert re.search(r"kafka input: %d messages, 5 skipped \(1 empty, 2 json, 2 protobuf\)" % total,
                     err), err
    n = len(json_evs)
    assert f"skipped partition 0 offset {n}: json: column " in err
    assert f"skipped partition 0 offset {n + 1}: protobuf: " in err
    assert f"skipped partition 0 offset {n + 2}: empty: no value" in err
    assert re.search(rf"skipped partition 0 offset {n + 3}: json: column \d+: .*teleport", err), err
    assert f"skipped partition 0 offset {total - 1}: protobuf: " in err
    assert f"partition 0 given up: read to offset {total}, committed {total}" in err


def test_input_format_forced(pangolin, kafka, tmp_path):
    """--input-format json reads protobuf messages as what they are not: each is counted and
    skipped as bad JSON; --input-format protobuf reads them."""
    rules = single_event_rules(tmp_path, "shell_from_web_server")
    src = kafka.create_topic(partitions=1)
    evs = fleet.make(pods=2, names=["shell_from_web_server"])
    r = run([pangolin, "replay", str(fleet.write(tmp_path / "p.ndjson", evs)), "-q",
             "-o", kafka.url(src), "--format", "protobuf"])
    assert r.returncode == 0, r.stderr
    for fmt, skipped, alerts in (("json", len(evs), 0), ("protobuf", 0, 2)):
        group = f"fmt-{uuid.uuid4().hex[:8]}"
        d = Detect(pangolin, tmp_path, f"detect-{fmt}", "--rules", str(rules), "-i",
                   kafka.url(src), "--group", group, "--input-format", fmt,
                   "-o", str(tmp_path / f"alerts-{fmt}.ndjson"), "--commit-interval", "0.5")
        try:
            assert wait_committed(kafka, group, src, {0: len(evs)}) == {0: len(evs)}
            assert d.stop() == 0, d.text()
        finally:
            d.kill()
        assert f"{skipped} skipped" in d.text(), d.text()
        out = (tmp_path / f"alerts-{fmt}.ndjson").read_text().splitlines()
        assert len(out) == alerts, d.text()


@pytest.mark.parametrize("args,needle", [
    (["-i", "kafka://127.0.0.1:9/t"], "needs a consumer group: give --group NAME"),
    (["-i", "-", "--group", "g"], "--group applies to a kafka:// input only"),
    (["-i", "-", "--input-format", "json"], "--input-format applies to a kafka:// input only"),
    (["-i", "-", "--commit-interval", "2"], "--commit-interval applies to a kafka:// input only"),
    (["-i", "-", "-X", "acks=all"], "-X applies to kafka:// inputs and outputs only"),
    (["-i", "kafka://127.0.0.1:9/t", "--group", "g", "--input-format", "xml"],
     "--input-format: 'xml' is not auto, json or protobuf"),
    (["-i", "kafka://127.0.0.1:9/t", "--group", "g", "--skip-bad"], "--skip-bad is for files"),
    (["-i", "-", "--alerts-output", "/dev/null"], "--alerts-output goes with --all"),
])
def test_usage_errors(pangolin, args, needle):
    r = run([pangolin, "detect", "--rules", str(RULES), *args], input="")
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


def test_start_up_errors(pangolin, kafka, tmp_path):
    """What is wrong with the input is said at once, in one line, exit status 1."""
    for url, group, extra, needle in (
            (kafka.url("no-such-topic"), "g", [], "topic 'no-such-topic' does not exist on"),
            ("kafka://127.0.0.1:1/t", "g", [], "no broker of 127.0.0.1:1 is reachable"),
            ("kafka://127.0.0.1:99999/t", "g", [], "bad input 'kafka://127.0.0.1:99999/t': port"),
            (kafka.url("t"), "g", ["-X", "enable.auto.commit=true"],
             "-X enable.auto.commit: offsets are committed only once the alerts are acknowledged"),
            (kafka.url("t"), "g", ["-X", "no.such=1"], 'No such configuration property')):
        r = run([pangolin, "detect", "--rules", str(RULES), "-i", url, "--group", group, "-q",
                 *extra], timeout=60)
        assert r.returncode == 1, (url, r.stderr)
        assert needle in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


# --- the alert output goes away ----------------------------------------------------------------

@pytest.fixture(scope="module")
def alert_broker(request):
    """A second broker, for the alert topic only: it can be stopped while the events' broker
    (and the group's coordinator) goes on."""
    from kafka_broker import Broker

    b = Broker(ROOT / "build" / "kafka" / "test-run-alerts")
    b.env["KAFKA_HEAP"] = "512m"
    request.addfinalizer(b.stop)
    return b.start(fresh=True)


@pytest.mark.slow
def test_output_outage_commits_nothing_past_unacknowledged_alerts(pangolin, kafka, alert_broker,
                                                                 tmp_path):
    """The alert topic's broker stops: detect pauses, and the group's committed offset (read
    with the Kafka tools' kafka-consumer-groups) stays before the first event whose alert is
    not acknowledged. detect is then killed (SIGKILL) during the outage, the broker comes back,
    and a new detect of the group re-reads from that offset: every alert arrives, exactly once."""
    rules = single_event_rules(tmp_path, "shell_from_web_server")
    src = kafka.create_topic(partitions=1)
    alerts = alert_broker.create_topic(partitions=1)
    group = f"outage-{uuid.uuid4().hex[:8]}"
    one = "shell_from_web_server"
    batch1 = fleet.make(pods=10, names=[one])
    batch2 = fleet.make(pods=10, names=[one], first_pod=10, t0=fleet.T0 + 600 * fleet.SEC)
    ref2 = reference(pangolin, fleet.write(tmp_path / "b2.ndjson", batch2))
    assert len(ref2) == 10
    n1, n2 = len(batch1), len(batch2)
    # where the first alert of batch 2 is completed: nothing from there on may be committed
    first_alerting = n1 + min(i for i, e in enumerate(batch2)
                              if (e["ts"], e["pid"]) in {(a["ts"], a["pid"]) for a in ref2})
    args = ["--rules", str(rules), "-i", kafka.url(src), "--group", group,
            "-o", alert_broker.url(alerts), "--commit-interval", "0.5", *FAST_GROUP]

    def feed(evs, name):
        r = run([pangolin, "replay", str(fleet.write(tmp_path / name, evs)), "-q",
                 "-o", kafka.url(src)])
        assert r.returncode == 0, r.stderr

    d = Detect(pangolin, tmp_path, "detect", *args)
    d2 = None
    try:
        feed(batch1, "b1.ndjson")
        assert wait_committed(kafka, group, src, {0: n1}) == {0: n1}, d.text()
        assert alert_broker.count(alerts) == 10
        alert_broker.stop()
        feed(batch2, "b2.ndjson")
        # the output says every few seconds that its broker does not answer; meanwhile
        # nothing past the unacknowledged alerts is committed, and reading pauses
        d.wait_for(r"kafka: waiting for 127\.0\.0\.1:\d+: \d+ events queued, the oldest for \d+ s")
        during = kafka.committed(group, src)
        assert n1 <= during[0] <= first_alerting, (during, n1, first_alerting, d.text())
        d.wait_for(r"the outputs have not acknowledged every alert")
        d.kill()
        alert_broker.start()
        d2 = Detect(pangolin, tmp_path, "detect2", *args)
        assert wait_committed(kafka, group, src, {0: n1 + n2}) == {0: n1 + n2}, d2.text()
        assert d2.stop() == 0, d2.text()
    finally:
        d.kill()
        if d2:
            d2.kill()
        alert_broker.start()
    got = [v for _, _, v in consume_all(alert_broker, alerts)]
    counts = collections.Counter(ident(a) for a in got)
    assert len(got) == 20 and set(counts.values()) == {1}, counts
    assert {ident(a) for a in ref2} <= set(counts)
    assert f"reading from offset {during[0]}" in d2.text(), d2.text()


# --- the sensor: alerts to a topic of their own --------------------------------------------------

@pytest.mark.kernel
@pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")
def test_run_alerts_to_their_own_topic(pangolin, kafka, tmp_path):
    """`run --rules --alerts-output kafka://...`: the alert goes to its topic and only there;
    the events (the shell's exec among them) go to --output, without the alert."""
    import shutil
    import sys

    from pgtest import Sensor

    topic = kafka.create_topic(partitions=1)
    fake = tmp_path / "nginx"
    shutil.copy(os.path.realpath(sys.executable), fake)
    token = f"pg-alerts-topic-{uuid.uuid4().hex}"
    with Sensor(pangolin, "--rules", str(RULES), "--alerts-output", kafka.url(topic)) as s:
        p = subprocess.run([str(fake), "-c", f"import os; os.system('echo {token} >/dev/null; true')"])
    assert p.returncode == 0
    assert s.returncode == 0, s.stderr
    assert not [e for e in s.events if e["type"] == "alert"]
    assert [e for e in s.events if e["type"] == "exec" and token in e.get("cmdline", "")]
    got = [v for _, _, v in consume_all(kafka, topic)]
    mine = [a for a in got if token in a.get("cmdline", "")]
    assert [a["title"] for a in mine] == ["Shell spawned by a web server"], got
    assert all(a["type"] == "alert" for a in got)
    assert re.search(r"; kafka-alerts: \d+ produced, \d+ delivered, 0 failed, 0 queued, 0 dropped",
                     s.stderr), s.stderr


def test_detect_all_alerts_to_their_own_output(pangolin, tmp_path):
    """detect --all --alerts-output: the events to --output, the alerts to their own file."""
    rec = ROOT / "tests" / "rules" / "shell_from_web_server.positive.ndjson"
    ev, al = tmp_path / "events.ndjson", tmp_path / "alerts.ndjson"
    r = run([pangolin, "detect", "--rules", str(RULES), "-i", str(rec), "--all", "-o", str(ev),
             "--alerts-output", str(al), "-q"])
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in ev.read_text().splitlines()]
    alerts = [json.loads(line) for line in al.read_text().splitlines()]
    assert len(events) == len(rec.read_text().splitlines())
    assert alerts and all(a["type"] == "alert" for a in alerts)
    assert not [e for e in events if e["type"] == "alert"]
