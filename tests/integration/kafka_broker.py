"""The real Kafka broker the @pytest.mark.kafka tests run against, and an independent reader.

The broker is Apache Kafka from Maven Central started by scripts/kafka-broker.sh (KRaft,
single node, 127.0.0.1 only, auto.create.topics.enable=false) with its own state directory
(build/kafka/test-run), so a broker someone started by hand for a benchmark is left alone.
Messages are read back with the Python confluent-kafka client (Debian's
python3-confluent-kafka), which shares no code with pangolin but librdkafka.
"""
import os
import pathlib
import subprocess
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kafka-broker.sh"


class Broker:
    def __init__(self, run_dir):
        self.env = dict(os.environ, KAFKA_RUN=str(run_dir), KAFKA_AUTO_CREATE="false")
        self.bootstrap = None

    def _script(self, *args, timeout=300):
        r = subprocess.run(["bash", str(SCRIPT), *args], env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"kafka-broker.sh {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
        return r.stdout.strip()

    def start(self, fresh=False):
        """Start (or start again, same port and data); returns once it serves clients and
        every partition it holds has a leader again (after a restart that takes a moment)."""
        from confluent_kafka.admin import AdminClient

        self._script("start", *(["--fresh"] if fresh else []))
        self.bootstrap = self._script("bootstrap")
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        deadline = time.monotonic() + 60
        while True:
            try:
                md = admin.list_topics(timeout=10)
                if all(not t.error and all(p.leader >= 0 and not p.error
                                           for p in t.partitions.values())
                       for t in md.topics.values()):
                    return self
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("partitions have no leader 60 s after the broker started")
            time.sleep(0.2)

    def stop(self):
        self._script("stop", timeout=60)

    def url(self, topic):
        return f"kafka://{self.bootstrap}/{topic}"

    def create_topic(self, partitions=3, name=None):
        """A new topic with a unique name; returns the name once every partition has a leader."""
        from confluent_kafka.admin import AdminClient, NewTopic

        name = name or f"t-{uuid.uuid4().hex[:12]}"
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for f in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            md = admin.list_topics(name, timeout=10).topics.get(name)
            if md and not md.error and len(md.partitions) == partitions and \
                    all(p.leader >= 0 for p in md.partitions.values()):
                return name
            time.sleep(0.1)
        raise RuntimeError(f"topic {name} has no leaders after 30 s")

    def count(self, topic):
        """Messages in the topic: the sum of the partitions' high watermarks."""
        from confluent_kafka import Consumer, TopicPartition

        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "pangolin-count"})
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    md = c.list_topics(topic, timeout=10).topics[topic]
                    total = 0
                    for p in md.partitions:
                        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                        total += hi - lo
                    return total
                except Exception:
                    # a leader being elected after a restart: ask again, for a while
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            c.close()

    def committed(self, group, topic):
        """{partition: offset} a consumer group has committed for a topic (partitions without
        a commit are left out), as the Kafka tools' kafka-consumer-groups reports it: a Java
        client from the broker's own jars, sharing no code with pangolin."""
        r = subprocess.run(["java", "-cp", str(ROOT / "build" / "kafka" / "lib" / "*"),
                            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                            "--bootstrap-server", self.bootstrap, "--describe", "--group", group],
                           capture_output=True, text=True, timeout=120)
        out = {}
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 4 and f[0] == group and f[1] == topic and f[3] != "-":
                out[int(f[2])] = int(f[3])
        if r.returncode != 0 and "does not exist" not in r.stdout + r.stderr:
            raise RuntimeError(f"kafka-consumer-groups failed:\n{r.stdout}{r.stderr}")
        return out

    def consume(self, topic, expect, timeout=60, settle=1.0):
        """Every message of the topic from the beginning, as (key, partition, offset, value)
        in per-partition order. Reads until `expect` messages arrived and then `settle` more
        seconds (so duplicates beyond the expected count are seen), or until timeout."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        c = Consumer({"bootstrap.servers": self.bootstrap,
                      "group.id": f"pangolin-test-{uuid.uuid4().hex[:8]}",
                      "enable.auto.commit": False, "auto.offset.reset": "earliest",
                      "enable.partition.eof": False})
        try:
            md = c.list_topics(topic, timeout=10).topics[topic]
            c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in md.partitions])
            out = []
            deadline = time.monotonic() + timeout
            settle_until = None
            while time.monotonic() < deadline:
                if len(out) >= expect:
                    settle_until = settle_until or time.monotonic() + settle
                    if time.monotonic() >= settle_until:
                        break
                for m in c.consume(num_messages=10000, timeout=0.2):
                    if m.error():
                        raise RuntimeError(f"consumer: {m.error()}")
                    out.append((m.key(), m.partition(), m.offset(), m.value()))
            return out
        finally:
            c.close()
