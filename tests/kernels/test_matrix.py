"""The kernel matrix: every check runs once per kernel (row) on what that kernel's run of
tests/kernels/guest/suite.sh wrote. A row that produced nothing fails every check, it never
counts as zero tests. Facts (pids, fds, results) come from the workload itself, so each event
is matched against what really happened, field by field."""
import errno
import json
import os
import re

import pytest

from conftest import ROWS, RESULTS

O_CLOEXEC = 0o2000000
CHAIN = ["prof_target_alpha", "prof_target_beta", "prof_target_gamma"]


def test_rows_listed():
    """The runner listed its rows: without them nothing below would run (and nothing fail)."""
    assert ROWS, f"{RESULTS}/rows is missing: tests/kernels/run did not run or failed early"


# --- the run itself ---------------------------------------------------------------------------

def test_suite_finished(row):
    row.require_finished()
    steps = row.text("steps.txt")
    for step in ("facts", "doctor", "sensor", "record", "profile", "runq", "syscall", "sniff",
                 "enforce", "enforce_dns"):
        assert f"step {step} " in steps, f"{row.name}: step {step} never ran\n{steps}"


def missing_hooks(row):
    """The hooks pangolin itself says it runs without here, each with its warning: a
    tracepoint the kernel does not have ("this kernel has no tracepoint X") or a program the
    kernel's verifier refused ("this kernel refused handle_x (REASON)"); doctor marks each
    MISSING, with the same reason. Returns {hook: warning}, and doctor's MISSING hooks."""
    out = row.text("doctor.txt")
    warned = {h: f"no tracepoint {h}" for h in re.findall(r"this kernel has no tracepoint (\S+):", out)}
    refusals = set(re.findall(r"this kernel refused handle_\w+ (\(.*?\)):", out))
    doctor = set()
    for m in re.finditer(r"^\s*(\S+/\S+)\s+MISSING\s+(.*)$", out, re.M):
        doctor.add(m.group(1))
        r = re.search(r"refused by this kernel (\(.*?\))\s+->", m.group(2))
        if r and r.group(1) in refusals:
            warned[m.group(1)] = f"refused by the verifier {r.group(1)}"
    return warned, doctor


def release_tuple(row):
    m = re.match(r"(\d+)\.(\d+)", row.fact("kernel")["release"])
    return int(m.group(1)), int(m.group(2))


def test_doctor(row):
    """Doctor loads the sensor, and everything it marks MISSING is explained: not used by
    pangolin, a capability newer than this kernel (doctor names the version, e.g. "(6.2+)",
    and a lower tier of the sensor stands in for it), or a hook the sensor itself warns about,
    by name, and carries on without."""
    row.require_finished()
    out = row.text("doctor.txt")
    assert re.search(r"sensor programs load\s+ok", out), out
    warned, doctor = missing_hooks(row)
    assert set(warned) == doctor, (warned, doctor, out)
    missing = [l for l in out.splitlines() if re.search(r"\sMISSING\s", l)
               and "not used by pangolin" not in l and "(optional: " not in l]
    unexplained, hooks = [], []
    for line in missing:
        if line.split()[0] in warned:
            hooks.append(line)
            continue
        m = re.search(r"\((\d+)\.(\d+)\+\)", line)
        if m and release_tuple(row) < (int(m.group(1)), int(m.group(2))):
            continue  # a lower tier stands in: not a missing piece
        unexplained.append(line)
    assert not unexplained, unexplained
    # events not seen are "missing pieces" (exit 1); an older kernel's lower tier is not
    if hooks:
        assert row.fact("doctor")["rc"] == 1 and "some pieces are missing" in out, out
    else:
        assert row.fact("doctor")["rc"] == 0 and "everything pangolin uses is here" in out, out


def test_sensor_tier(row):
    """The sensor loaded the best object this kernel can run (docs/sensor.md, Kernels): tier 2
    with bpf_rdonly_cast, 1 with bpf_get_current_task_btf, else 0; doctor agrees."""
    sensor(row)
    out = row.text("doctor.txt")

    def has(cap):
        m = re.search(r"^\s*" + re.escape(cap) + r"\s+(ok|MISSING)", out, re.M)
        assert m, f"doctor does not list {cap}"
        return m.group(1) == "ok"

    best = 2 if has("bpf_rdonly_cast (kfunc)") else 1 if has("bpf_get_current_task_btf") else 0
    stats = json.loads(row.text("sensor/stats.json"))
    assert stats["bpf_tier"] == best, (stats["bpf_tier"], best)
    assert re.search(rf"sensor object\s+ok\s+tier {best},", out), out
    assert f"(tier {best}," in row.text("sensor/stderr.txt")


# --- the live sensor --------------------------------------------------------------------------

def sensor(row):
    row.require_finished()
    assert "sensor_not_watching" not in row.facts, \
        row.text("sensor/stderr.txt")[-3000:]
    return row


def test_sensor_runs(row):
    sensor(row)
    err = row.text("sensor/stderr.txt")
    assert row.fact("sensor")["rc"] == 0, err
    assert "watching:" in err and "lost in the kernel" not in err, err
    assert row.fact("workload_done")["rc"] == 0
    # the kernel filter (cgroup_id) let through the suite's processes and nothing else
    cg = row.fact("cgroup")["id"]
    assert row.events, err
    assert {e["cgroup_id"] for e in row.events} == {cg}
    assert all(e["v"] == 1 for e in row.events)


def test_exec(row):
    sensor(row)
    f = row.fact("exec_argv")
    pid = row.fact("exec")["pid"]
    e = row.of(type="exec", pid=pid, path="/bin/echo")
    assert len(e) == 1, row.of(pid=pid)
    e = e[0]
    assert e["argv"] == ["/bin/echo", f["token"], "two words", ""]
    assert e["comm"] == "echo" and e["tid"] == pid
    assert e["ppid"] == row.fact("workload")["pid"]
    assert e["uid"] == 0 and e["start_ns"] > 0 and "snapshot" not in e
    assert "argv_truncated" not in e and "exe_unlinked" not in e


def test_snapshot(row):
    """A process running before the sensor started is reported as a snapshot exec, and its
    exit (SIGTERM from the workload) carries the same identity."""
    sensor(row)
    pid = row.fact("snapshot")["pid"]
    snap = row.of(type="exec", pid=pid)
    assert len(snap) == 1, row.of(pid=pid)
    assert snap[0]["snapshot"] is True and snap[0]["argv"] == ["sleep", "1000"]
    assert snap[0]["comm"] == "sleep"
    assert os.path.basename(snap[0]["path"]) == "busybox"
    x = row.of(type="exit", pid=pid)
    assert len(x) == 1 and x[0]["signal"] == 15 and x[0]["exit_code"] == 0
    assert x[0]["start_ns"] == snap[0]["start_ns"]
    assert row.events.index(snap[0]) < row.events.index(x[0])


def test_fork(row):
    sensor(row)
    f = row.fact("fork_exit")
    forks = row.of(type="fork", pid=f["pid"], child_pid=f["child"])
    assert len(forks) == 1, row.of(pid=f["pid"])
    assert forks[0]["comm"] == "pgwork" and forks[0]["ppid"] == row.fact("workload")["pid"]
    child_exit = row.of(type="exit", pid=f["child"])
    assert len(child_exit) == 1
    # identity: the child's start time in the fork event is the one its own events carry
    assert forks[0]["child_start_ns"] == child_exit[0]["start_ns"]
    assert not row.of(type="fork", pid=f["child"])


def test_exit_code(row):
    sensor(row)
    f = row.fact("fork_exit")
    assert f["status"] == 42
    x = row.of(type="exit", pid=f["child"])
    assert len(x) == 1, row.of(pid=f["child"])
    x = x[0]
    assert x["exit_code"] == 42 and x["signal"] == 0
    assert x["ppid"] == f["pid"] and x["comm"] == "pgwork"
    assert x["lifetime_ns"] >= 20_000_000  # the child sleeps 20 ms first
    parent = row.of(type="exit", pid=f["pid"])
    assert len(parent) == 1 and parent[0]["exit_code"] == 0 and parent[0]["signal"] == 0


def test_exit_signal(row):
    sensor(row)
    f = row.fact("fork_kill")
    assert f["signal"] == 9
    x = row.of(type="exit", pid=f["child"])
    assert len(x) == 1, row.of(pid=f["child"])
    assert x[0]["signal"] == 9 and x[0]["exit_code"] == 0 and x[0]["ppid"] == f["pid"]


def test_open(row):
    sensor(row)
    ok, bad = row.fact("open_ok"), row.fact("open_enoent")
    e = row.of(type="open", pid=ok["pid"], path=ok["path"])
    assert len(e) == 1, row.of(type="open", pid=ok["pid"])
    e = e[0]
    assert e["ret"] == ok["ret"] >= 0
    assert e["comm"] == "pgwork" and e["tid"] == ok["pid"]
    assert e["ppid"] == row.fact("workload")["pid"]
    assert e["flags"] & O_CLOEXEC and e["dirfd"] == -100
    assert e["uid"] == 0 and e["gid"] == 0 and e["start_ns"] > 0
    assert "io_uring" not in e and "path_truncated" not in e
    f = row.of(type="open", pid=bad["pid"], path=bad["path"])
    assert len(f) == 1 and f[0]["ret"] == bad["ret"] == -errno.ENOENT


def _connect(row, name, family, addr):
    f = row.fact(name)
    e = row.of(type="connect", pid=f["pid"])
    assert len(e) == 1, e
    e = e[0]
    assert e["family"] == family and e["daddr"] == addr and e["dport"] == f["port"]
    assert e["fd"] == f["fd"] and e["ret"] == f["ret"] and e["comm"] == "pgwork"
    return e


def test_connect_v4(row):
    sensor(row)
    assert _connect(row, "connect_v4", "inet", "127.0.0.1")["ret"] == 0
    assert _connect(row, "connect_refused", "inet", "127.0.0.1")["ret"] == -errno.ECONNREFUSED


def test_connect_v6(row):
    sensor(row)
    assert _connect(row, "connect_v6", "inet6", "::1")["ret"] == 0


def test_dns(row):
    """glibc's resolver (getent ahosts) against the suite's own resolver on loopback: one A and
    one AAAA question, as the resolver itself logged them."""
    sensor(row)
    f = row.fact("dns")
    out = row.text("sensor/getent.txt")
    assert row.fact("dns_result")["rc"] == 0 and "192.0.2.1" in out and "2001:db8::1" in out, out
    log = row.text("dnsmasq.log")
    for t in ("A", "AAAA"):
        assert f"query[{t}] {f['name']} from 127.0.0.1" in log, log
    e = row.of(type="dns", pid=f["pid"])
    assert sorted(x["qtype"] for x in e) == ["A", "AAAA"], e
    for x in e:
        assert x["qname"] == f["name"] and x["qclass"] == 1 and x["comm"] == "getent"
        assert x["family"] == "inet" and x["daddr"] == "127.0.0.1" and x["dport"] == 53
        assert x["transport"] == "udp" and "malformed" not in x and "io_uring" not in x
        assert x["ppid"] == row.fact("workload")["pid"]
    assert len({x["dns_id"] for x in e}) == 2


def test_setid(row):
    sensor(row)
    f = row.fact("setid")
    assert f["ret"] == 0
    e = row.of(type="setid", pid=f["pid"])
    assert len(e) == 1, e
    e = e[0]
    assert e["call"] == "setresuid" and e["ret"] == 0
    assert (e["id_real"], e["id_effective"], e["id_saved"]) == (65534, 65534, 65534)
    assert e["uid"] == 65534  # the header is read at syscall exit: the new credentials


def test_ptrace(row):
    sensor(row)
    f = row.fact("ptrace")
    assert f["attach"] == 0 and f["poke"] == 0
    e = row.of(type="ptrace", pid=f["pid"])
    assert [x["request"] for x in e] == ["attach", "pokedata"], e
    assert all(x["target_pid"] == f["child"] and x["ret"] == 0 for x in e)
    assert e[0]["addr"] == 0 and e[1]["addr"] == f["addr"]
    assert e[0]["comm"] == "pgwork" and e[0]["ppid"] == row.fact("workload")["pid"]


def test_io_uring_open(row):
    sensor(row)
    if "uring_missing" in row.facts:
        pytest.skip("io_uring unavailable on this kernel: " + row.facts["uring_missing"]["reason"])
    gone = {h: w for h, w in missing_hooks(row)[0].items() if h.startswith("io_uring/")}
    if any(h.startswith("io_uring/io_uring_submit_") for h in gone):  # no request is seen
        assert not row.of(io_uring=True)
        pytest.skip("pangolin runs without io_uring events here (it warns): " +
                    "; ".join(f"{h}: {w}" for h, w in sorted(gone.items())))
    for name in ("uring_ok", "uring_enoent"):
        f = row.fact(name)
        e = row.of(type="open", pid=f["pid"], path=f["path"])
        assert len(e) == 1, row.of(type="open", pid=f["pid"])
        e = e[0]
        assert e["io_uring"] is True and e["comm"] == "pgwork" and e["tid"] == f["pid"]
        assert e["dirfd"] == -100 and e["flags"] & O_CLOEXEC
        # the completion's result, as the workload saw it
        assert e["ret"] == f["ret"], f"{name}: event ret {e['ret']}, completion said {f['ret']}"
    assert row.fact("uring_ok")["ret"] >= 0 and row.fact("uring_enoent")["ret"] == -errno.ENOENT


def test_stats(row):
    """read + dropped == matched, exactly; with nothing dropped and no userspace filter every
    event the kernel emitted is in the file, type by type."""
    sensor(row)
    s = json.loads(row.text("sensor/stats.json"))
    k = s["kernel"]
    emitted = sum(v["emitted"] for v in k.values())
    dropped = sum(v["dropped"] for v in k.values())
    # the start-up snapshot is read too, but made in userspace: no kernel counter has it
    snap = len([e for e in row.events if e.get("snapshot")])
    assert snap == 1
    assert s["read"] == emitted + snap
    assert s["read"] + dropped == sum(v["emitted"] + v["dropped"] for v in k.values()) + snap
    assert s["lost_in_kernel"] == dropped == 0
    assert s["malformed"] == 0 and s["filtered_in_userspace"] == 0
    # glibc's queries went out whole, one per message, and parsed
    assert not any(s["dns"]["skipped"].values()) and not any(s["dns"]["unparsed"].values()), s["dns"]
    assert s["read"] == s["passed"] == s["written"] == len(row.events)
    for t, v in k.items():
        assert v["emitted"] == len(row.of(type=t)) - len([e for e in row.of(type=t) if e.get("snapshot")]), t
    # every type the workload makes, at least once
    for t in ("exec", "fork", "exit", "open", "connect", "dns", "setid", "ptrace"):
        assert k[t]["emitted"] >= 1, t


# --- record, replay ---------------------------------------------------------------------------

def test_record_replay(row):
    row.require_finished()
    assert row.fact("record")["rc"] == 0, row.text("record/stderr.txt")
    assert row.fact("replay")["rc"] == 0, row.text("record/replay.err")
    rec = row.file("record/rec.ndjson").read_bytes()
    assert row.file("record/replay.ndjson").read_bytes() == rec
    ev = [json.loads(l) for l in rec.splitlines()]
    token = row.fact("exec_argv")["token"] if "exec_argv" in row.facts else None
    assert [e for e in ev if e["type"] == "exec" and e.get("argv", [None])[-1] == f"rec-{token}"]
    assert [e for e in ev if e["type"] == "exit" and e["exit_code"] == 3]


# --- profile ----------------------------------------------------------------------------------

def test_profile(row):
    row.require_finished()
    assert row.fact("profile")["rc"] == 0, row.text("profile/stderr.txt")
    stacks = []
    for line in row.text("profile/profile.folded").splitlines():
        if line.strip():
            stack, n = line.rsplit(" ", 1)
            stacks.append((stack.split(";"), int(n)))
    assert stacks, "no samples"
    frames, count = max(stacks, key=lambda s: s[1])
    assert frames[0] == "prof_target", frames
    idx = [frames.index(f) for f in CHAIN]
    assert idx == sorted(idx) and idx[0] > 0, frames
    assert sum(n for _, n in stacks) >= 10
    assert "nothing lost" in row.text("profile/stderr.txt")


# --- latency ----------------------------------------------------------------------------------

def _hist_json(row, rel):
    text = row.text(rel)
    assert text.strip(), f"{rel} is empty"
    return json.loads(text.strip().splitlines()[-1])


def _check_hist(h):
    assert h["count"] > 0 and sum(b["count"] for b in h["buckets"]) == h["count"]
    assert all(b["lo"] < b["hi"] for b in h["buckets"])
    assert 0 <= h["p50"] <= h["p90"] <= h["p99"] <= h["p99.9"] <= h["max"]


def test_latency_runq(row):
    row.require_finished()
    assert row.fact("runq")["rc"] == 0, row.text("latency/runq.err")
    js = _hist_json(row, "latency/runq.json")
    assert js["mode"] == "runq" and js["unit"] == "us"
    assert js["histograms"], js
    for h in js["histograms"]:
        _check_hist(h)
    assert js["dropped"] == {"start_map_full": 0, "hist_map_full": 0}


def test_latency_syscall(row):
    row.require_finished()
    assert row.fact("syscall")["rc"] == 0, row.text("latency/syscall.err")
    js = _hist_json(row, "latency/syscall.json")
    assert js["mode"] == "syscall" and js["unit"] == "ns"
    assert [h["key"] for h in js["histograms"]] == ["getppid"], js
    h = js["histograms"][0]
    _check_hist(h)
    assert 2000 <= h["count"] <= 2010, h["count"]  # syscall_loop made 2000 getppid calls
    assert js["dropped"] == {"start_map_full": 0, "hist_map_full": 0}


# --- sniff ------------------------------------------------------------------------------------

def test_sniff(row):
    """The seed's 2004 UDP filter in the kernel on loopback: the 5 IPv4 datagrams, not the 3
    IPv6 ones nor the TCP handshake sent during the capture."""
    row.require_finished()
    err = row.text("sniff/stderr.txt")
    assert row.fact("sniff")["rc"] == 0, err
    u4 = row.fact("sniff_udp4")
    assert u4["sent"] == 5 and row.fact("sniff_udp6")["sent"] == 3
    assert row.fact("sniff_tcp")["ret"] == 0
    ev = [json.loads(l) for l in row.text("sniff/packets.ndjson").splitlines() if l.strip()]
    assert len(ev) == 5, ev
    for e in ev:
        assert e["type"] == "packet" and e["ifname"] == "lo" and e["direction"] == "in"
        assert e["family"] == "inet" and e["ip_proto"] == "udp"
        assert e["daddr"] == "127.0.0.1" and e["dport"] == u4["port"]
        assert e["caplen"] == min(e["len"], 68)  # the seed keeps 68 bytes
    assert len({e["sport"] for e in ev}) == 1  # one socket sent them all
    assert "5 packets captured; kernel: 5 passed the filter, 0 dropped" in err, err


# --- enforcement ------------------------------------------------------------------------------

def enforcement(row):
    """Doctor's enforcement section: {type: (mechanism of deny, why)}, the mechanism one of
    lsm, cgroup, signal, none (docs/enforce.md, Mechanisms)."""
    out = row.text("doctor.txt")
    sec = out.split("\nenforcement (", 1)
    assert len(sec) == 2, f"{row.name}: doctor has no enforcement section\n{out}"
    mech = {}
    lines = sec[1].splitlines()[1:]
    for i, line in enumerate(lines):
        m = re.match(r"^  (\w+)\s+deny: (.*)$", line)
        if not m:
            continue
        text = m.group(2)
        kind = ("lsm" if text.startswith("refused by BPF LSM") else
                "cgroup" if text.startswith("refused by the cgroup hook") else
                "signal" if text.startswith("killed instead") else
                "none" if text.startswith("cannot be enforced") else None)
        assert kind, line
        why = ""
        if i + 2 < len(lines) and re.match(r"^\s+\(.*\)$", lines[i + 2]):
            why = lines[i + 2].strip()[1:-1]
        mech[m.group(1)] = (kind, why)
    assert set(mech) == {"exec", "open", "connect", "dns", "setid", "ptrace"}, mech
    return mech


def bpf_lsm_runs(row):
    """doctor: the BPF LSM program type is there and 'bpf' is an active LSM."""
    return re.search(r"^\s*BPF LSM\s+ok\b", row.text("doctor.txt"), re.M) is not None


def enforced(row):
    """The enforce step's sensor ran, and its decided events (those with an action)."""
    row.require_finished()
    err = row.text("enforce/stderr.txt")
    assert row.fact("enforce_sensor")["rc"] == 0, err
    assert row.fact("enforce_done")["rc"] == 0, err
    assert "lost in the kernel" not in err, err
    ev = [json.loads(l) for l in row.text("enforce/events.ndjson").splitlines() if l.strip()]
    return [e for e in ev if "action" in e]


def _mechanism(row, t):
    """How deny works for type t here: where BPF LSM runs, exec, open, setid and ptrace are
    refused by it. pangolin would carry on, killing instead, if this kernel refused one of its
    LSM programs (with a warning, and doctor's reason): here that is a failure, not a fallback
    (6.12 refused them all once, for their return values)."""
    kind, why = enforcement(row)[t]
    if bpf_lsm_runs(row):
        assert kind == "lsm", (t, kind, why, row.text("doctor.txt"))
    else:
        assert kind == "signal", (t, kind, why)
    return kind


def _decided(row, t, rule, comm=None):
    d = [e for e in enforced(row) if e["rule"] == rule and comm in (None, e["comm"])]
    assert len(d) == 1, (rule, comm, enforced(row))
    e = d[0]
    assert e["type"] == t and e["policy"] == "suite", e
    assert e["cgroup_id"] == row.fact("cgroup")["id"]
    return e


def test_enforce_open(row):
    """deny of one file: refused (EPERM, not a byte read) by BPF LSM where it runs, else the
    opener killed at sys_exit (the open happened; the process never read). cat: zero bytes out."""
    kind = _mechanism(row, "open")
    f, cat = row.fact("enforce_open"), row.fact("enforce_cat")
    assert cat["bytes"] == 0, cat
    e, c = _decided(row, "open", "secret", "pgwork"), _decided(row, "open", "secret", "cat")
    assert e["path"].split("/")[-1].startswith("secret-") and c["path"] == e["path"], (e, c)
    if kind == "lsm":
        assert f["rc"] == 0 and f["ret"] == -errno.EPERM and e["pid"] == f["pid"], f
        assert cat["rc"] == 1, cat  # cat: Operation not permitted
        for x in (e, c):
            assert x["action"] == "deny" and x["ret"] == -errno.EPERM, x
    else:
        assert f["rc"] == 137 and "ret" not in f, f
        assert cat["rc"] == 137, cat
        for x in (e, c):
            assert x["action"] == "kill" and x["ret"] >= 0, x


def test_enforce_kill(row):
    """kill of one file's reader: where BPF LSM runs the open is refused (EPERM) and the
    signal sent from the same hook; elsewhere the signal comes at sys_exit, the open done.
    Either way cat dies (137) and writes nothing."""
    kind = _mechanism(row, "open")
    f = row.fact("enforce_kill")
    assert f["rc"] == 137 and f["bytes"] == 0, f
    e = _decided(row, "open", "kill-secret", "cat")
    assert e["action"] == "kill" and e["path"].split("/")[-1].startswith("secret2-"), e
    if kind == "lsm":
        assert e["ret"] == -errno.EPERM, e
    else:
        assert e["ret"] >= 0, e


def test_enforce_exec(row):
    """deny of a program under a directory: with BPF LSM the exec fails (EPERM, the program
    never loads; the event has no argv); else the new image is killed before it runs."""
    kind = _mechanism(row, "exec")
    f = row.fact("enforce_exec")
    e = _decided(row, "exec", "tmp-exec")
    assert e["path"].endswith("/true") and "/bin-" in e["path"], e
    if kind == "lsm":
        assert f["rc"] == 126, f  # busybox sh: cannot execute
        assert "Operation not permitted" in row.text("enforce/enforce_exec.err")
        assert e["action"] == "deny" and not e.get("argv"), e
    else:
        assert f["rc"] == 137, f
        assert e["action"] == "kill" and e["argv"] == [e["path"]], e


def test_enforce_memfd_exec(row):
    """deny of a fileless exec (a memfd, exe_unlinked): with BPF LSM the execv fails with EPERM
    and pgwork says so; else the new image is killed before it runs."""
    kind = _mechanism(row, "exec")
    f = row.fact("enforce_memfd")
    e = _decided(row, "exec", "fileless")
    assert e["exe_unlinked"] is True and e["path"].startswith("/proc/self/fd/"), e
    if kind == "lsm":
        assert f["rc"] == 0 and f["ret"] == -errno.EPERM, f
        assert e["action"] == "deny" and not e.get("argv"), e
    else:
        assert f["rc"] == 137 and "ret" not in f, f
        assert e["action"] == "kill" and e["argv"] == ["true"], e


def test_enforce_monitor(row):
    """mode: monitor: the same deny rules decided in the same hooks, nothing refused or killed
    (cat copies the secret, the program from the denied directory runs); each event says what
    would have happened: would_deny where BPF LSM refuses, would_kill where deny is a kill."""
    row.require_finished()
    kind = _mechanism(row, "open")
    err = row.text("enforce_monitor/stderr.txt")
    assert row.fact("monitor_sensor")["rc"] == 0 and row.fact("monitor_done")["rc"] == 0, err
    cat, ex = row.fact("monitor_cat"), row.fact("monitor_exec")
    assert cat["rc"] == 0 and cat["bytes"] == len("TOPSECRET\n"), cat
    assert ex["rc"] == 0, ex
    ev = [json.loads(l) for l in row.text("enforce_monitor/events.ndjson").splitlines()
          if l.strip()]
    d = sorted(((e["rule"], e["type"], e["action"]) for e in ev if "action" in e))
    would = "would_deny" if kind == "lsm" else "would_kill"
    assert d == [("secret", "open", would), ("tmp-exec", "exec", would)], d
    st = json.loads(row.text("enforce_monitor/stats.json"))
    assert st["lost_in_kernel"] == 0, st
    pol = st["policy"]["suite-monitor"]
    assert pol["secret"].get(would) == 1 and pol["tmp-exec"].get(would) == 1, pol


def test_enforce_connect(row):
    """deny of one address: refused in cgroup/connect4 on every kernel of the matrix."""
    assert enforcement(row)["connect"][0] == "cgroup", enforcement(row)
    f = row.fact("enforce_connect")
    assert f["rc"] == 0 and f["ret"] == -errno.EPERM, f
    e = _decided(row, "connect", "net")
    assert e["action"] == "deny" and e["daddr"] == "127.0.0.3" and e["ret"] == -errno.EPERM, e


def test_enforce_setid(row):
    kind = _mechanism(row, "setid")
    f = row.fact("enforce_setid")
    e = _decided(row, "setid", "creds")
    if kind == "lsm":
        assert f["rc"] == 0 and f["ret"] == -errno.EPERM, f
        assert e["action"] == "deny" and e["ret"] == -errno.EPERM, e
    else:
        assert f["rc"] == 137, f
        assert e["action"] == "kill" and e["ret"] == 0, e


def test_enforce_ptrace(row):
    kind = _mechanism(row, "ptrace")
    f = row.fact("enforce_ptrace")
    e = _decided(row, "ptrace", "trace")
    assert e["request"] == "attach", e
    if kind == "lsm":
        assert f["rc"] == 0 and f["attach"] == -errno.EPERM and f["poke"] == -errno.ESRCH, f
        assert e["action"] == "deny" and e["ret"] == -errno.EPERM, e
    else:
        assert f["rc"] == 137, f
        assert e["action"] == "kill" and e["ret"] == 0, e


def test_enforce_uring_open(row):
    """The secret opened through io_uring: the LSM hook refuses it too (the completion's result
    is -EPERM). Where the signal is the mechanism it is not decided at all: no sys_exit sees an
    io_uring open (docs/enforce.md says so); the check holds that down, so a change shows."""
    kind = _mechanism(row, "open")
    f = row.fact("enforce_uring")
    if "ret" not in f:
        pytest.skip("io_uring unavailable here: " + row.text("enforce/enforce_uring.err").strip())
    assert f["rc"] == 0, f
    if kind == "lsm":
        assert f["ret"] == -errno.EPERM, f
    else:
        assert f["ret"] >= 0, f
    assert not [e for e in enforced(row) if e.get("io_uring")], enforced(row)


def test_enforce_dns(row):
    """deny of the names below a domain: the query never reaches the suite's resolver (its log
    has no trace of the name), a name outside resolves. A kernel without the egress hook refuses
    DNS rules at load, with the reason doctor gives: missing by design."""
    row.require_finished()
    kind, why = enforcement(row)["dns"]
    err = row.text("enforce_dns/stderr.txt")
    if kind == "none":
        assert row.fact("enforce_dns_sensor")["rc"] != 0 and "watching:" not in err, err
        assert "dns" in err, err
        pytest.skip("DNS rules are refused here (pangolin says why at load): " + why)
    assert kind == "cgroup", (kind, why)
    assert row.fact("enforce_dns_sensor")["rc"] == 0, err
    denied, allowed = row.fact("enforce_dns_denied"), row.fact("enforce_dns_allowed")
    log = row.text("dnsmasq.log")
    assert denied["rc"] != 0 and denied["name"] not in log, row.text("enforce_dns/denied.txt")
    assert allowed["rc"] == 0 and f"query[A] {allowed['name']} from 127.0.0.1" in log, log
    ev = [json.loads(l) for l in row.text("enforce_dns/events.ndjson").splitlines() if l.strip()]
    d = [e for e in ev if "action" in e]
    assert d and all(e["type"] == "dns" and e["action"] == "deny" and e["rule"] == "no-evil"
                     and e["qname"] == denied["name"] for e in d), d
