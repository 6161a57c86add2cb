"""The live kernel sensor against real workloads on this machine's kernel.

Each test starts `pangolin run`, makes something happen with known facts (a unique path, a
pid, an exit code, a port), stops the sensor with SIGINT and checks the events and the
kernel's counters."""
import errno
import os
import signal
import socket
import subprocess
import time
import uuid

import pytest

from pgtest import PGWORK, Sensor, pgwork

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")]


def test_open_success_and_enoent(pangolin, tmp_path):
    path = tmp_path / f"pg-open-{uuid.uuid4().hex}"
    path.write_text("x")
    missing = tmp_path / f"pg-missing-{uuid.uuid4().hex}"
    with Sensor(pangolin, "--filter", 'type == "open" && comm == "pgwork"') as s:
        ok = pgwork("open", path)
        bad = pgwork("open", missing)
    assert s.returncode == 0, s.stderr
    e = s.of(pid=ok["pid"], path=str(path))
    assert len(e) == 1, s.events
    assert e[0]["ret"] == ok["ret"] >= 0
    assert e[0]["type"] == "open" and e[0]["comm"] == "pgwork"
    assert e[0]["tid"] == ok["pid"] and e[0]["ppid"] == os.getpid()
    assert e[0]["flags"] & os.O_CLOEXEC and e[0]["dirfd"] == -100
    assert e[0]["uid"] == os.getuid() and e[0]["start_ns"] > 0 and e[0]["cgroup_id"] > 0
    assert "io_uring" not in e[0]
    f = s.of(pid=bad["pid"], path=str(missing))
    assert len(f) == 1 and f[0]["ret"] == -errno.ENOENT == bad["ret"]


def test_exec_argv(pangolin):
    token = f"pg-exec-{uuid.uuid4().hex}"
    argv = ["/bin/echo", token, "two words", "", "\u00e9t\u00e9"]
    with Sensor(pangolin, "--filter", 'type == "exec"') as s:
        p = subprocess.run(argv, capture_output=True)
    e = [x for x in s.events if token in x["argv"]]
    assert len(e) == 1, s.events
    assert e[0]["path"] == "/bin/echo"
    assert e[0]["argv"] == argv
    assert e[0]["comm"] == "echo"
    assert "argv_truncated" not in e[0]
    assert p.returncode == 0


_EXECVEAT = r"""
import ctypes, os, sys
mode, token = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
argv = (ctypes.c_char_p * 3)(b"true", token.encode(), None)
envp = (ctypes.c_char_p * 1)(None)
if mode == "dirfd":       # execveat(dirfd, "true"): relative to a directory descriptor
    fd = os.open("/usr/bin", os.O_RDONLY | os.O_DIRECTORY)
    name, flags = b"true", 0
elif mode == "empty":     # fexecve: execveat(fd, "", AT_EMPTY_PATH)
    fd = os.open("/usr/bin/true", os.O_RDONLY)
    name, flags = b"", 0x1000
else:                     # execve("./true") from /usr/bin: relative to the working directory
    os.chdir("/usr/bin")
    fd, name, flags = -100, b"./true", 0
print(fd, flush=True)
libc.syscall(322, fd, name, argv, envp, flags)  # SYS_execveat (x86_64)
sys.exit("execveat: errno %d" % ctypes.get_errno())
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the helper calls execveat by number")
def test_exec_path_is_the_kernels_filename(pangolin):
    """`path` is the file name the kernel executed (docs/events.md): as passed when it is
    absolute or relative to the working directory, /dev/fd/N/NAME for execveat(N, NAME), and
    /dev/fd/N for an exec of a descriptor (fexecve)."""
    token = f"pg-execveat-{uuid.uuid4().hex}"
    got = {}
    with Sensor(pangolin, "--filter", 'type == "exec" && comm == "true"') as s:
        for mode in ("dirfd", "empty", "cwd"):
            p = subprocess.run(["/usr/bin/python3", "-c", _EXECVEAT, mode, token],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
            got[mode] = int(p.stdout.split()[0])
    paths = {}
    for e in s.events:
        if e["argv"] == ["true", token]:
            paths.setdefault(e["pid"], e["path"])
    assert sorted(paths.values()) == sorted([f"/dev/fd/{got['dirfd']}/true",
                                             f"/dev/fd/{got['empty']}", "./true"]), s.events


def _exec_from_memfd(program, argv, wait=True):
    """Run program's bytes from a memfd_create file (never on disk): fileless execution."""
    code = ("import os, sys\n"
            "fd = os.memfd_create('pgfileless', 0)\n"
            f"os.write(fd, open({program!r}, 'rb').read())\n"
            f"os.execv(f'/proc/self/fd/{{fd}}', {argv!r})\n")
    p = subprocess.Popen(["/usr/bin/python3", "-c", code])
    if wait:
        p.wait()
    return p


def test_exec_from_memfd_is_flagged(pangolin):
    """An exec whose file has no link in any directory (memfd_create) says exe_unlinked, live
    and in the start-up snapshot; an ordinary exec does not."""
    token = f"pg-fileless-{uuid.uuid4().hex}"
    sleeper = ["pg-sleeper", "-c", "import time; time.sleep(30)", token]
    running = _exec_from_memfd(os.path.realpath("/usr/bin/python3"), sleeper, wait=False)
    try:
        time.sleep(0.5)  # until it has exec'd
        with Sensor(pangolin, "--filter", 'type == "exec"') as s:
            _exec_from_memfd("/bin/true", ["pg-true", token])
            subprocess.run(["/bin/true", token], check=True)
    finally:
        running.kill()
        running.wait()
    mine = [e for e in s.events if token in e["argv"]]
    live = [e for e in mine if not e.get("snapshot")]
    assert len(live) == 2, mine
    fileless = [e for e in live if e["argv"][0] == "pg-true"]
    assert len(fileless) == 1 and fileless[0]["exe_unlinked"] is True
    assert fileless[0]["path"].startswith("/proc/self/fd/")
    assert "exe_unlinked" not in [e for e in live if e["argv"][0] == "/bin/true"][0]
    snap = [e for e in mine if e.get("snapshot")]
    assert len(snap) == 1 and snap[0]["pid"] == running.pid, mine
    assert snap[0]["exe_unlinked"] is True and snap[0]["path"] == "/memfd:pgfileless (deleted)"
    assert snap[0]["argv"] == sleeper


def test_exec_long_argv_is_truncated_and_says_so(pangolin):
    token = f"pg-long-{uuid.uuid4().hex}"
    argv = ["/bin/true", token] + ["a" * 50] * 40  # 2000+ bytes: over the 1024-byte cap
    with Sensor(pangolin, "--filter", 'type == "exec" && comm == "true"') as s:
        subprocess.run(argv, check=True)
    e = [x for x in s.events if token in x["argv"]]
    assert len(e) == 1
    assert e[0]["argv_truncated"] is True
    assert e[0]["argv"][:2] == ["/bin/true", token]
    assert sum(len(a.encode()) + 1 for a in e[0]["argv"]) <= 1024


SLEEPER = ["/usr/bin/python3", "-c", "import time; time.sleep(30)"]  # argv gets a token


def test_processes_running_at_start_are_reported(pangolin):
    """A process started before the sensor is an exec event flagged snapshot, with the
    identity its later events carry: its exit joins it on (pid, start_ns)."""
    token = f"pg-snap-{uuid.uuid4().hex}"
    p = subprocess.Popen(SLEEPER + [token])
    try:
        with Sensor(pangolin, "--filter", 'type in ["exec", "exit"] && comm == "python3"') as s:
            p.kill()
            p.wait()
    finally:
        p.kill()
    assert "processes already running" in s.stderr
    snap = [e for e in s.of(type="exec", pid=p.pid)]
    assert len(snap) == 1, s.events
    e = snap[0]
    assert e["snapshot"] is True
    assert e["path"] == os.path.realpath(SLEEPER[0]) and e["argv"] == SLEEPER + [token]
    assert e["comm"] == "python3" and e["ppid"] == os.getpid() and e["uid"] == os.getuid()
    exits = s.of(type="exit", pid=p.pid)
    assert len(exits) == 1 and exits[0]["signal"] == signal.SIGKILL
    assert exits[0]["start_ns"] == e["start_ns"] and exits[0]["cgroup_id"] == e["cgroup_id"]
    # the snapshot comes before any live event
    assert s.events.index(e) < s.events.index(exits[0])


def test_snapshot_lists_every_process(pangolin):
    """200 processes (13 KB of records, more than one read of the iterator): every one."""
    procs = [subprocess.Popen(["/bin/sleep", "30"]) for _ in range(200)]
    try:
        with Sensor(pangolin, "--filter", 'type == "exec" && snapshot && comm == "sleep"') as s:
            pass
    finally:
        for p in procs:
            p.kill()
            p.wait()
    ours = {p.pid for p in procs}
    mine = [e for e in s.events if e["pid"] in ours]  # other sleeps may run on the machine
    assert {e["pid"] for e in mine} == ours and len(mine) == len(ours)
    bad = [e for e in mine
           if e["path"] != os.path.realpath("/bin/sleep") or e["argv"] != ["/bin/sleep", "30"]]
    assert not bad, bad[:3]


def test_snapshot_meets_the_whole_filter(pangolin):
    """Kernel part (comm), userspace part (argv) and --no-snapshot all apply to it."""
    token = f"pg-snap-{uuid.uuid4().hex}"
    p = subprocess.Popen(SLEEPER + [token])
    try:
        with Sensor(pangolin, "--filter", 'type == "exec" && comm != "python3"') as kernel_no, \
             Sensor(pangolin, "--filter", f'type == "exec" && argv contains "{token}"') as user_yes, \
             Sensor(pangolin, "--filter", 'type == "exec" && argv contains "not-this"') as user_no, \
             Sensor(pangolin, "--no-snapshot", "--filter", 'type == "exec"') as off, \
             Sensor(pangolin, "--filter", 'type == "open"') as no_exec:
            pass
    finally:
        p.kill()
        p.wait()
    assert not kernel_no.of(pid=p.pid) and not user_no.of(pid=p.pid)
    assert not [e for e in off.events if e.get("snapshot")]
    assert len(user_yes.of(pid=p.pid)) == 1 and len(user_yes.events) == 1
    assert "already running" not in off.stderr and "already running" not in no_exec.stderr
    assert not [e for e in no_exec.events if e["type"] == "exec"]


def test_fork_exit_code_and_lifetime(pangolin):
    with Sensor(pangolin, "--filter", 'type in ["fork", "exit"]') as s:
        r = pgwork("fork-exit", 42)
    forks = s.of(type="fork", pid=r["pid"], child_pid=r["child"])
    assert len(forks) == 1, s.events
    exits = s.of(type="exit", pid=r["child"])
    assert len(exits) == 1
    x = exits[0]
    assert x["exit_code"] == 42 and x["signal"] == 0
    assert x["lifetime_ns"] >= 20_000_000  # the child sleeps 20 ms
    # identity: the child's start time in the fork event is the one its own events carry
    assert forks[0]["child_start_ns"] == x["start_ns"]
    assert x["ppid"] == r["pid"]
    parent_exit = s.of(type="exit", pid=r["pid"])
    assert len(parent_exit) == 1 and parent_exit[0]["exit_code"] == 0


def test_exit_by_signal(pangolin):
    with Sensor(pangolin, "--filter", 'type == "exit"') as s:
        r = pgwork("fork-kill", signal.SIGKILL)
    x = s.of(type="exit", pid=r["child"])
    assert len(x) == 1
    assert x[0]["signal"] == signal.SIGKILL and x[0]["exit_code"] == 0


def test_threads_are_not_processes(pangolin):
    """A thread's creation and exit are not fork/exit events: only the process's are."""
    code = ("import threading\n"
            "t=[threading.Thread(target=lambda: None) for _ in range(5)]\n"
            "[x.start() for x in t]; [x.join() for x in t]\n")
    with Sensor(pangolin, "--filter", 'type in ["fork", "exit"]') as s:
        p = subprocess.Popen(["/usr/bin/python3", "-c", code])
        p.wait()
    assert len(s.of(type="fork", child_pid=p.pid)) == 1
    assert len(s.of(type="exit", pid=p.pid)) == 1
    assert not s.of(type="fork", pid=p.pid)  # its threads


def closed_port(family):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("family,addr", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_connect_refused(pangolin, family, addr):
    port = closed_port(family)
    with Sensor(pangolin, "--filter", f'type == "connect" && dport == {port}') as s:
        r = pgwork("connect", addr, port)
    assert r["ret"] == -errno.ECONNREFUSED
    e = s.of(pid=r["pid"])
    assert len(e) == 1, s.events
    assert e[0]["family"] == ("inet6" if family == socket.AF_INET6 else "inet")
    assert e[0]["daddr"] == addr and e[0]["dport"] == port
    assert e[0]["ret"] == -errno.ECONNREFUSED and e[0]["fd"] == r["fd"]


def test_setresuid(pangolin):
    with Sensor(pangolin, "--filter", 'type == "setid"') as s:
        r = pgwork("setresuid", 65534, 65534, 65534)
    e = s.of(pid=r["pid"])
    assert len(e) == 1, s.events
    assert e[0]["call"] == "setresuid" and e[0]["ret"] == 0
    assert (e[0]["id_real"], e[0]["id_effective"], e[0]["id_saved"]) == (65534, 65534, 65534)
    # the header is read at syscall exit: the credentials are already the new ones
    assert e[0]["uid"] == 65534


def test_kernel_filter_keeps_events_out_of_the_ring_buffer(pangolin, tmp_path):
    """Events the kernel filters out are counted as filtered there and never emitted."""
    path = tmp_path / "f"
    path.write_text("x")
    with Sensor(pangolin, "--explain", "--filter", 'type == "open" && comm == "pgwork" && path startswith "/nonexistent/"') as s:
        pgwork("burst", 500, path)
    assert "kernel decides: type ==" in s.stderr and "userspace decides: (nothing)" in s.stderr
    k = s.stats["kernel"]
    assert k["open"]["filtered"] >= 500          # pgwork's opens, refused by the path prefix
    assert k["open"]["emitted"] == 0 and k["open"]["dropped"] == 0
    for t in ("exec", "fork", "exit", "connect", "dns", "setid"):
        assert k[t] == {"filtered": 0, "emitted": 0, "dropped": 0}, t  # programs not loaded
    assert s.events == [] and s.stats["read"] == 0


def test_kernel_and_userspace_split_agree(pangolin, tmp_path):
    """A filter with a part only userspace can decide gives exactly what the full filter
    gives applied afterwards to everything (the same filter on a replay)."""
    path = tmp_path / "agree"
    path.write_text("x")
    flt = 'type == "open" && comm == "pgwork" && (ret < 0 || path endswith "agree")'
    rec = tmp_path / "all.ndjson"
    with Sensor(pangolin, "--filter", 'comm == "pgwork"', cmd="record", output=str(rec)) as everything, \
         Sensor(pangolin, "--filter", flt, "--explain") as split:
        pgwork("open", path)
        pgwork("open", tmp_path / "nope")
        pgwork("burst", 20, "/etc/hostname")
    everything.stop()
    assert "userspace decides: (ret < 0 || path endswith \"agree\")" in split.stderr
    replayed = subprocess.run([pangolin, "replay", str(rec), "-q", "--filter", flt],
                              capture_output=True, check=True).stdout.decode().splitlines()
    assert len(split.events) == 2
    live = sorted((e["pid"], e["path"], e["ret"]) for e in split.events)
    import json
    rep = sorted((e["pid"], e["path"], e["ret"]) for e in map(json.loads, replayed))
    assert live == rep


@pytest.mark.parametrize("terms", [40, 10000])
def test_long_filters_split_and_agree(pangolin, tmp_path, terms):
    """40 `path != ...` conjuncts (2 kB: the split once failed on it) on the command line, and
    10,000 (over 400 kB: more than one argument may hold, so from --filter-file). The sensor
    starts, and gives what the same filter gives on a replay of everything."""
    excluded = [tmp_path / f"excluded-{i:05d}" for i in range(terms)]
    kept = [tmp_path / f"kept-{i}" for i in range(3)]
    for p in excluded[:: max(1, terms // 4)] + excluded[-1:] + kept:
        p.write_text("x")
    # the path prefix keeps other tests' and benchmarks' pgwork opens out (millions of them
    # once filled this test's memory)
    mine_only = f'path startswith "{tmp_path}/"'
    flt = " && ".join(['type == "open"', 'comm == "pgwork"', mine_only] +
                      [f'path != "{p}"' for p in excluded])
    assert len(flt) > (2000 if terms == 40 else 131072)
    if terms == 40:
        given = ["--filter", flt]
    else:
        (tmp_path / "filter.txt").write_text(flt)
        given = ["--filter-file", str(tmp_path / "filter.txt")]
    rec = tmp_path / "all.ndjson"
    with Sensor(pangolin, "--filter", f'comm == "pgwork" && {mine_only}', cmd="record",
                output=str(rec)) as everything, \
         Sensor(pangolin, *given, "--explain") as split:
        for p in excluded[:: max(1, terms // 4)] + excluded[-1:] + kept:
            pgwork("open", p)
    everything.stop()
    assert split.returncode == 0, split.stderr
    assert f'kernel decides: type == "open" && comm == "pgwork" && {mine_only}\n' in split.stderr, \
        split.stderr
    assert f'userspace decides: path != "{excluded[0]}" && ' in split.stderr
    assert f' && path != "{excluded[-1]}"\n' in split.stderr
    # pgwork's own opens (the loader's) pass too; other tests' pgwork runs may: look at ours
    mine = lambda events: sorted((e["pid"], e["path"]) for e in events
                                 if e["type"] == "open" and e["path"].startswith(str(tmp_path) + "/"))
    live = mine(split.events)
    assert [p for _, p in live] == sorted(str(p) for p in kept), split.events
    replayed = subprocess.run([pangolin, "replay", str(rec), "-q", *given],
                              capture_output=True, check=True).stdout.decode().splitlines()
    import json
    assert mine(map(json.loads, replayed)) == live
    assert len(mine(everything.events)) == len(live) + len(excluded[:: max(1, terms // 4)]) + 1


@pytest.mark.parametrize("writers", [1, 2])
def test_drops_are_counted_exactly(pangolin, writers):
    """A one-page ring buffer and a burst (from one process, or from two at once on both CPUs,
    racing for the ring): every open is delivered or counted as dropped."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="pgdrop-", dir="/tmp") as d:
        path = os.path.join(d, "d")
        open(path, "w").close()
        n = 20000
        # the path prefix makes the burst's opens the only ones that pass: generated == n
        with Sensor(pangolin, "--ringbuf-size", "4096", "--wakeup-bytes", "4096",
                    "--filter", f'type == "open" && comm == "pgwork" && path startswith "{d}/"') as s:
            procs = [subprocess.Popen([str(PGWORK), "burst", str(n // writers), path],
                                      stdout=subprocess.DEVNULL) for _ in range(writers)]
            assert all(p.wait(timeout=60) == 0 for p in procs)
    k = s.stats["kernel"]["open"]
    delivered = len(s.of(path=path))
    assert k["dropped"] > 0, "the tiny ring buffer should overflow"
    assert delivered == k["emitted"] == s.stats["read"] == len(s.events)
    assert delivered + k["dropped"] == n
    assert s.stats["lost_in_kernel"] == k["dropped"]
    assert f"{k['dropped']} lost in the kernel" in s.stderr


def test_record_then_replay_is_identical(pangolin, tmp_path):
    rec = tmp_path / "rec.ndjson"
    with Sensor(pangolin, cmd="record", output=str(rec)) as s:  # processes running: snapshot
        pgwork("fork-exit", 3)
        pgwork("open", "/etc/hostname")
        pgwork("uring-open", "/etc/hostname")
        subprocess.run(["/bin/true", "\udcff".encode("utf-8", "surrogateescape")])
    assert s.returncode == 0
    out = subprocess.run([pangolin, "replay", str(rec), "-q"], capture_output=True, check=True).stdout
    assert out == rec.read_bytes()
    assert len(out.splitlines()) >= 4
    assert b'"snapshot":true' in out and b'"io_uring":true' in out


def test_sigterm_drains_and_exits_zero(pangolin):
    s = Sensor(pangolin, "--filter", 'comm == "pgwork"')
    with s:
        r = pgwork("fork-exit", 0)
        s.stop(sig=signal.SIGTERM)
    assert s.returncode == 0
    assert s.of(type="exit", pid=r["child"])
    assert "read" in s.stderr and "written" in s.stderr


def test_pangolin_never_traces_itself(pangolin):
    with Sensor(pangolin) as s:
        pgwork("open", "/etc/hostname")
    pid = s.proc.pid
    assert not [e for e in s.events if e["pid"] == pid]
    assert s.of(comm="pgwork")


@pytest.mark.parametrize("args,msg", [
    (["--ringbuf-size", "1000"], "ring buffer size 1000 is invalid: use a power of two"),
    (["--ringbuf-size", "12k"], "power of two"),
    (["--filter", "type == "], "column"),
    (["--bogus"], "unknown or needs a value"),
])
def test_bad_options_fail_clearly(pangolin, args, msg):
    p = subprocess.run([pangolin, "run"] + args, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert msg in p.stderr
    assert len(p.stderr.strip().splitlines()) <= 3


def test_unprivileged_is_told_what_to_do(pangolin):
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", pangolin, "run"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "run as root, or grant CAP_BPF and CAP_PERFMON" in p.stderr


def test_doctor(pangolin):
    p = subprocess.run([pangolin, "doctor"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    import re
    assert re.search(r"sensor programs load\s+ok", p.stdout)
    assert re.search(r"raw_syscalls/sys_exit\s+ok\s+open, connect, dns, setid, ptrace events", p.stdout)
    assert re.search(r"io_uring/io_uring_submit_req\s+ok\s+open, connect, dns events through io_uring", p.stdout)
    m = re.search(r"task iterator \(start-up snapshot\)\s+ok\s+(\d+) processes running now", p.stdout)
    assert m and int(m.group(1)) >= 2  # pytest and its parents at least
    assert re.search(r"kprobes\s+MISSING\s+\(not used by pangolin\)", p.stdout)


@pytest.fixture
def dns_server():
    """Our resolver on 127.0.0.77:53 (never the machine's configured one)."""
    import pathlib
    srv = subprocess.Popen(["/usr/bin/python3", str(pathlib.Path(__file__).with_name("dnsserver.py")),
                            "127.0.0.77", "53"], stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline().strip() == "ready"
    yield "127.0.0.77"
    srv.kill()
    srv.wait()


def test_dns_query_from_dig(pangolin, dns_server):
    name = f"q{uuid.uuid4().hex[:12]}.pangolin.test"
    with Sensor(pangolin, "--filter", 'type == "dns"') as s:
        p = subprocess.run(["dig", "+tries=1", "+time=2", f"@{dns_server}", name, "AAAA"],
                           capture_output=True, text=True, timeout=30)
    assert "2001:db8::1" in p.stdout
    e = [x for x in s.events if x.get("qname") == name]
    assert len(e) == 1, s.events
    assert e[0]["qtype"] == "AAAA" and e[0]["qclass"] == 1
    assert e[0]["daddr"] == dns_server and e[0]["dport"] == 53 and e[0]["transport"] == "udp"
    assert e[0]["family"] == "inet" and "malformed" not in e[0]


@pytest.mark.skipif(bool(os.environ.get("PANGOLIN_BPF_TIER")), reason="about the tier chosen by default")
def test_loads_the_best_tier_without_refusals(pangolin):
    """The object loaded is the best this kernel offers (doctor's probe), with no program
    refused: a tier-2 object that silently fell back to tier 1 once went unnoticed."""
    import re
    d = subprocess.run([pangolin, "doctor"], capture_output=True, text=True, timeout=120).stdout
    best = 2 if re.search(r"bpf_rdonly_cast \(kfunc\)\s+ok", d) else \
        1 if re.search(r"bpf_get_current_task_btf\s+ok", d) else 0
    with Sensor(pangolin) as s:
        pass
    assert s.stats["bpf_tier"] == best, s.stderr
    assert "refused" not in s.stderr and "warning" not in s.stderr, s.stderr
    assert f"(tier {best}, loaded in" in s.stderr


@pytest.fixture(params=["udp"])
def netns_resolver(request):
    """A network namespace whose resolv.conf names our resolver inside it, so glibc's own
    resolver (connect + sendmmsg on a connected socket; with use-vc, TCP and one writev for
    both questions) is what sends the query."""
    import pathlib
    ns = f"pgdns{uuid.uuid4().hex[:6]}"
    etc = pathlib.Path("/etc/netns") / ns
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        etc.mkdir(parents=True)
        opts = "timeout:2 attempts:1" + (" use-vc" if request.param == "tcp" else "")
        (etc / "resolv.conf").write_text(f"nameserver 127.0.0.1\noptions {opts}\n")
        srv = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3",
                                str(pathlib.Path(__file__).with_name("dnsserver.py")), "127.0.0.1", "53"],
                               stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "ready"
        yield ns
        srv.kill()
        srv.wait()
    finally:
        import shutil
        shutil.rmtree(etc, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ns])


@pytest.mark.parametrize("netns_resolver", ["udp", "tcp"], indirect=True)
def test_dns_query_from_glibc_resolver(pangolin, netns_resolver, request):
    """glibc's resolver asks for A and AAAA together: with sendmmsg over UDP, and with
    `options use-vc` in one writev of four pieces over TCP ([length, A, length, AAAA]): both
    questions are events either way."""
    transport = request.node.callspec.params["netns_resolver"]
    name = f"g{uuid.uuid4().hex[:12]}.pangolin.test"
    with Sensor(pangolin, "--filter", 'type == "dns" && comm == "getent"') as s:
        p = subprocess.run(["ip", "netns", "exec", netns_resolver, "getent", "ahosts", name],
                           capture_output=True, text=True, timeout=30)
    assert "192.0.2.1" in p.stdout, p.stdout + p.stderr
    e = [x for x in s.events if x.get("qname") == name]
    types = sorted(x["qtype"] for x in e)
    assert types == ["A", "AAAA"], s.events
    for x in e:
        assert x["daddr"] == "127.0.0.1" and x["dport"] == 53 and x["comm"] == "getent"
        assert x["transport"] == transport
    # the cgroup and namespace do not hide it: same host, same sensor
    assert all(x["cgroup_id"] > 0 for x in e)


def test_dns_filter_by_port_in_kernel(pangolin, dns_server):
    """dport is decided in the kernel: a filter on another port emits nothing."""
    with Sensor(pangolin, "--filter", 'type == "dns" && dport == 5353') as s:
        subprocess.run(["dig", "+tries=1", "+time=1", f"@{dns_server}", "x.pangolin.test"],
                       capture_output=True, timeout=30)
    assert s.stats["kernel"]["dns"]["filtered"] >= 1
    assert s.stats["kernel"]["dns"]["emitted"] == 0


def test_status_line_on_a_terminal(pangolin):
    """On a terminal, a status line every few seconds says the rate and quiet vs dropping;
    --quiet silences it and the summary."""
    p = subprocess.run(["script", "-qec", f"{pangolin} run --duration 5 -o /dev/null", "/dev/null"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout
    assert "events/s" in p.stdout and "quiet: nothing lost" in p.stdout
    assert "read," in p.stdout  # the summary
    q = subprocess.run(["script", "-qec", f"{pangolin} run --quiet --duration 3 -o /dev/null", "/dev/null"],
                       capture_output=True, text=True, timeout=60)
    assert q.returncode == 0 and "events/s" not in q.stdout and "read," not in q.stdout


def _own_cgroup_id():
    """The inode number of this process's cgroup v2 directory: what the kernel stamps."""
    rel = [l.split("::", 1)[1].strip() for l in open("/proc/self/cgroup") if l.startswith("0::")][0]
    for line in open("/proc/self/mountinfo"):
        left, _, right = line.partition(" - ")
        if right.split()[0] == "cgroup2":
            return os.stat(left.split()[4] + rel).st_ino
    pytest.skip("no cgroup2 mount")


def _own_comm():
    return open("/proc/self/comm").read().strip()


@pytest.mark.parametrize("field", ["pid", "uid", "cgroup_id", "comm"])
@pytest.mark.parametrize("form", ["inline", "hash"])
@pytest.mark.parametrize("mode", ["allow", "deny"])
def test_key_sets_in_both_forms(pangolin, tmp_path, field, form, mode):
    """pid/uid/cgroup/comm sets of up to 4 values are compared in place in the kernel, larger
    ones looked up in a hash map: both forms must allow and deny exactly the same events."""
    own = {"pid": os.getpid(), "uid": os.getuid(), "cgroup_id": _own_cgroup_id(), "comm": _own_comm()}[field]
    ndecoys = 3 if form == "inline" else 7  # 4 values is the largest inline set
    if field == "comm":
        values = [own] + [f"nosuchcomm{i}" for i in range(ndecoys)]
        lit = ", ".join(f'"{v}"' for v in values)
    else:
        values = [own] + [(1 << 40 if field == "cgroup_id" else 4000000) + i for i in range(ndecoys)]
        lit = ", ".join(str(v) for v in values)
    cond = f"{field} in [{lit}]" if mode == "allow" else f"not ({field} in [{lit}])"
    marker = tmp_path / f"marker-{field}-{form}-{mode}"
    with Sensor(pangolin, "--explain", "--filter", f'type == "open" && {cond}') as s:
        for _ in range(5):
            with open(marker, "w"):
                pass
    assert "userspace decides: (nothing)" in s.stderr
    mine = [e for e in s.events if e["path"] == str(marker)]
    k = s.stats["kernel"]["open"]
    if mode == "allow":
        assert len(mine) == 5 and all(e["pid"] == os.getpid() for e in mine)
        assert all(e[field] in values for e in s.events)
    else:
        assert mine == [] and k["filtered"] >= 5
        assert all(e[field] not in values for e in s.events)


@pytest.mark.parametrize("length", [1, 200, 255, 256, 400])
def test_open_path_lengths(pangolin, length):
    """Open records end where the path ends: every length up to the 255 bytes a record holds
    arrives whole, a longer one arrives cut to 255 bytes and marked path_truncated."""
    tag = uuid.uuid4().hex[:8]
    path = ("/nonexistent-" + tag + "/" + "p" * 400)[:length] if length > 1 else "/"
    with Sensor(pangolin, "--filter", 'type == "open" && comm == "pgwork"') as s:
        pgwork("open", path)
    e = [x for x in s.events if x["path"] == path[:255]]
    assert len(e) == 1, [x["path"] for x in s.events]
    assert e[0].get("path_truncated", False) == (length > 255)


def _dns_query(name, qtype="A"):
    """One question, recursion desired: the bytes any stub resolver sends."""
    import struct
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + \
        struct.pack(">HH", {"A": 1, "AAAA": 28}[qtype], 1)


@pytest.mark.parametrize("how", ["write", "writev", "send", "write-tcp", "writev-tcp-split",
                                 "sendmsg-tcp-split"])
def test_dns_on_connected_sockets(pangolin, how):
    """DNS sent on a connected socket without an address: write (Go's resolver), writev, and
    DNS over TCP, whose 2-byte length prefix glibc sends as a piece of its own."""
    name = f"w{uuid.uuid4().hex[:12]}.pangolin.test"
    q = _dns_query(name, "AAAA")
    tcp = "tcp" in how
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.79", 53))
    if tcp:
        srv.listen(1)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    try:
        c.connect(("127.0.0.79", 53))
        prefix = len(q).to_bytes(2, "big")
        with Sensor(pangolin, "--filter", f'type == "dns" && pid == {os.getpid()}') as s:
            if how == "write":
                os.write(c.fileno(), q)
            elif how == "writev":
                os.writev(c.fileno(), [q])
            elif how == "send":
                c.send(q)
            elif how == "write-tcp":
                os.write(c.fileno(), prefix + q)
            elif how == "writev-tcp-split":
                os.writev(c.fileno(), [prefix, q])
            else:
                c.sendmsg([prefix, q])
            # not DNS, to the DNS port: reported as what it is, a malformed message (and
            # counted by why it did not parse), never silently skipped
            os.write(c.fileno(), (b"\xff\xff" if tcp else b"") + b"x" * 600)
    finally:
        c.close()
        srv.close()
    e = [x for x in s.events if x.get("qname") == name]
    assert len(e) == 1, s.events
    assert e[0]["qtype"] == "AAAA" and e[0]["daddr"] == "127.0.0.79" and e[0]["dport"] == 53
    assert e[0]["transport"] == ("tcp" if tcp else "udp")
    assert "malformed" not in e[0]
    bad = [x for x in s.events if x.get("malformed")]
    assert len(s.events) == 2 and len(bad) == 1, s.events
    assert sum(s.stats["dns"]["unparsed"].values()) == 1, s.stats["dns"]
    assert s.stats["dns"]["skipped"]["cut"] == 1  # 600 bytes: only the first 512 copied


def _edns_padded_query(name, pad):
    """A query with an EDNS(0) OPT record carrying a padding option of pad bytes (RFC 7830):
    dig and stub resolvers send such long queries; the question is still at the start."""
    import struct
    q = bytearray(_dns_query(name, "A"))
    q[11] = 1  # ARCOUNT = 1
    opt = struct.pack(">HHH", 12, pad, 0) + bytes(pad)  # option PADDING
    return bytes(q) + b"\0" + struct.pack(">HHIH", 41, 4096, 0, len(opt)) + opt


@pytest.fixture
def tcp_dns_peer():
    """A TCP listener on 127.0.0.80:53 and a client connected to it (bytes are never read)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.80", 53))
    srv.listen(1)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.80", 53))
    yield c
    c.close()
    srv.close()


@pytest.mark.parametrize("how", ["write-tcp", "writev-tcp-split", "send-udp"])
def test_dns_long_query_reports_its_question(pangolin, how):
    """A query longer than the 512 bytes the kernel copies (a long EDNS option, as dig sends
    when it switches to TCP) is an event with its question, counted as cut; once it was
    neither an event nor a count."""
    name = f"l{uuid.uuid4().hex[:12]}." + "a" * 60 + ".pangolin.test"
    q = _edns_padded_query(name, 700)
    assert len(q) > 514
    tcp = "tcp" in how
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.81", 53))
    if tcp:
        srv.listen(1)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    try:
        c.connect(("127.0.0.81", 53))
        prefix = len(q).to_bytes(2, "big")
        with Sensor(pangolin, "--filter", f'type == "dns" && pid == {os.getpid()}') as s:
            if how == "write-tcp":
                os.write(c.fileno(), prefix + q)
            elif how == "writev-tcp-split":
                os.writev(c.fileno(), [prefix, q])
            else:
                c.send(q)
    finally:
        c.close()
        srv.close()
    assert len(s.events) == 1, s.events
    assert s.events[0].get("qname") == name and s.events[0]["qtype"] == "A"
    assert "malformed" not in s.events[0]
    assert s.stats["dns"]["skipped"]["cut"] == 1


def test_dns_tcp_length_sent_alone(pangolin, tcp_dns_peer):
    """The 2-byte length in a send of its own, the message in the next: one event, parsed
    (it used to be two malformed ones)."""
    name = f"s{uuid.uuid4().hex[:12]}.pangolin.test"
    q = _dns_query(name, "A")
    with Sensor(pangolin, "--filter", f'type == "dns" && pid == {os.getpid()}') as s:
        tcp_dns_peer.send(len(q).to_bytes(2, "big"))
        tcp_dns_peer.send(q)
    assert len(s.events) == 1, s.events
    assert s.events[0].get("qname") == name and "malformed" not in s.events[0]
    assert s.events[0]["transport"] == "tcp"
    assert s.stats["dns"]["skipped"]["length_alone"] == 1


@pytest.mark.parametrize("how", ["send", "writev"])
def test_dns_tcp_two_queries_in_one_send(pangolin, tcp_dns_peer, how):
    """Two messages in one send, each behind its length (pipelining, RFC 7766), or glibc's
    four-piece writev: two events."""
    n1, n2 = (f"t{uuid.uuid4().hex[:12]}.pangolin.test" for _ in range(2))
    q1, q2 = _dns_query(n1, "A"), _dns_query(n2, "AAAA")
    p1, p2 = len(q1).to_bytes(2, "big"), len(q2).to_bytes(2, "big")
    with Sensor(pangolin, "--filter", f'type == "dns" && pid == {os.getpid()}') as s:
        if how == "send":
            tcp_dns_peer.send(p1 + q1 + p2 + q2)
        else:
            os.writev(tcp_dns_peer.fileno(), [p1, q1, p2, q2])
    got = sorted((x.get("qname"), x.get("qtype")) for x in s.events)
    assert got == sorted([(n1, "A"), (n2, "AAAA")]), s.events


def test_dns_more_messages_than_looked_at_are_counted(pangolin, tcp_dns_peer):
    """Past the four messages of one send that the kernel looks at, the rest are counted."""
    qs = [_dns_query(f"m{i}{uuid.uuid4().hex[:8]}.pangolin.test") for i in range(6)]
    with Sensor(pangolin, "--filter", f'type == "dns" && pid == {os.getpid()}') as s:
        tcp_dns_peer.send(b"".join(len(q).to_bytes(2, "big") + q for q in qs))
    assert len(s.events) == 4, s.events
    assert s.stats["dns"]["skipped"]["not_looked_at"] == 1


def test_writes_to_files_are_not_dns(pangolin, tmp_path):
    """write(2) is looked at only for sockets to the DNS port: plain files never are."""
    with Sensor(pangolin, "--filter", f'type == "dns" && pid == {os.getpid()}') as s:
        with open(tmp_path / "f", "wb", buffering=0) as f:
            for _ in range(100):
                f.write(_dns_query("file.pangolin.test"))
    assert s.events == []
    assert s.stats["kernel"]["dns"]["emitted"] == 0


# --- io_uring: opens and connects that never make the open/connect syscall -------------------

@pytest.mark.parametrize("how", ["uring-open", "uring-open2", "uring-open-async", "uring-open-sqpoll"])
def test_io_uring_open(pangolin, tmp_path, how):
    """Inline, openat2, by an io-wq worker, submitted by the SQPOLL thread: each one is an open
    event with the completion's result and the submitter's process."""
    path = tmp_path / f"pg-uring-{uuid.uuid4().hex}"
    path.write_text("x")
    missing = tmp_path / f"pg-uring-missing-{uuid.uuid4().hex}"
    with Sensor(pangolin, "--filter", f'type == "open" && path startswith "{tmp_path}/"') as s:
        ok = pgwork(how, path)
        bad = pgwork(how, missing)
    assert ok["ret"] >= 0 and bad["ret"] == -errno.ENOENT
    e = s.of(pid=ok["pid"], path=str(path))
    assert len(e) == 1, s.events
    assert e[0]["io_uring"] is True and e[0]["ret"] == ok["ret"]
    assert e[0]["dirfd"] == -100 and e[0]["flags"] & os.O_CLOEXEC
    assert e[0]["ppid"] == os.getpid() and e[0]["start_ns"] > 0
    if how == "uring-open-sqpoll":  # the kernel thread that submitted it, of the same process
        assert e[0]["tid"] != ok["pid"] and e[0]["comm"].startswith("iou-sqp")
    else:
        assert e[0]["tid"] == ok["pid"] and e[0]["comm"] == "pgwork"
    f = s.of(pid=bad["pid"], path=str(missing))
    assert len(f) == 1 and f[0]["ret"] == -errno.ENOENT and f[0]["io_uring"] is True


def test_io_uring_open_without_completion(pangolin, tmp_path):
    """IOSQE_CQE_SKIP_SUCCESS: io_uring posts nothing when the open succeeds, so the event
    leaves at submission, ret 0."""
    path = tmp_path / "skipped"
    path.write_text("x")
    with Sensor(pangolin, "--filter", f'type == "open" && path == "{path}"') as s:
        r = pgwork("uring-open-skip", path)
    assert r["ret"] == "skipped"
    e = s.of(pid=r["pid"])
    assert len(e) == 1 and e[0]["ret"] == 0 and e[0]["io_uring"] is True


def test_io_uring_completion_queue_overflow_loses_nothing(pangolin, tmp_path):
    """1000 opens into an 8-entry completion queue nobody reaps until the end: most results
    go to io_uring's overflow list, and every open is still reported with its fd."""
    path = tmp_path / "burst"
    path.write_text("x")
    with Sensor(pangolin, "--filter", f'type == "open" && path == "{path}"') as s:
        r = pgwork("uring-burst", 1000, path)
    assert r["ok"] == 1000
    e = s.of(pid=r["pid"])
    assert len(e) == 1000
    assert all(x["io_uring"] is True and x["ret"] >= 0 for x in e)
    assert s.stats["kernel"]["open"]["dropped"] == 0


@pytest.mark.parametrize("family,addr", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_io_uring_connect(pangolin, family, addr):
    port = closed_port(family)
    lsn = socket.socket(family, socket.SOCK_STREAM)
    lsn.bind((addr, 0))
    lsn.listen()
    open_port = lsn.getsockname()[1]
    with Sensor(pangolin, "--filter", f'type == "connect" && dport in [{port}, {open_port}]') as s:
        refused = pgwork("uring-connect", addr, port)
        accepted = pgwork("uring-connect", addr, open_port)
    lsn.close()
    assert refused["ret"] == -errno.ECONNREFUSED and accepted["ret"] == 0
    for r, p in ((refused, port), (accepted, open_port)):
        e = s.of(pid=r["pid"])
        assert len(e) == 1, s.events
        assert e[0]["io_uring"] is True and e[0]["ret"] == r["ret"] and e[0]["fd"] == r["fd"]
        assert e[0]["daddr"] == addr and e[0]["dport"] == p
        assert e[0]["family"] == ("inet6" if family == socket.AF_INET6 else "inet")


def test_io_uring_requests_meet_the_kernel_filters(pangolin, tmp_path):
    """The kernel's comm, path-prefix and port filters refuse io_uring requests at submission:
    counted as filtered, never in the ring buffer."""
    path = tmp_path / "f"
    path.write_text("x")
    port = closed_port(socket.AF_INET)
    with Sensor(pangolin, "--explain", "--filter", 'type == "open" && comm == "pgwork" && path startswith "/nonexistent/"') as s:
        for _ in range(20):
            pgwork("uring-open", path)
    assert "userspace decides: (nothing)" in s.stderr
    assert s.stats["kernel"]["open"]["filtered"] >= 20 and s.stats["kernel"]["open"]["emitted"] == 0
    with Sensor(pangolin, "--explain", "--filter", f'type == "connect" && dport == {port + 1 if port < 65535 else 1}') as s:
        pgwork("uring-connect", "127.0.0.1", port)
    assert "userspace decides: (nothing)" in s.stderr
    assert s.stats["kernel"]["connect"]["filtered"] >= 1
    assert not s.of(comm="pgwork")


def test_io_uring_flag_filters(pangolin, tmp_path):
    """`io_uring` is a filter condition: the same file opened both ways, only one kept."""
    path = tmp_path / "both"
    path.write_text("x")
    with Sensor(pangolin, "--explain", "--filter", f'type == "open" && path == "{path}" && io_uring') as s:
        sys_open = pgwork("open", path)
        ring_open = pgwork("uring-open", path)
    assert "userspace decides: path == " in s.stderr and " && io_uring\n" in s.stderr
    assert not s.of(pid=sys_open["pid"])
    assert len(s.of(pid=ring_open["pid"])) == 1 and len(s.events) == 1


@pytest.mark.parametrize("how", ["send", "sendmsg"])
def test_dns_through_io_uring(pangolin, how):
    """A DNS query sent with IORING_OP_SEND on a connected socket, or IORING_OP_SENDMSG with
    the server in msg_name: a dns event flagged io_uring, with the sender's identity."""
    name = f"u{uuid.uuid4().hex[:12]}.pangolin.test"
    q = _dns_query(name, "A")
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.80", 53))
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        c.connect(("127.0.0.80", 53))
        with Sensor(pangolin, "--filter", 'type == "dns" && comm == "pgwork"') as s:
            if how == "send":
                r = subprocess.run([str(PGWORK), "uring-send", str(c.fileno()), q.hex()],
                                   pass_fds=[c.fileno()], capture_output=True, text=True, check=True)
                r = dict(t.split("=") for t in r.stdout.split())
            else:
                r = pgwork("uring-sendmsg", "127.0.0.80", 53, q.hex())
            got = srv.recv(512)
    finally:
        c.close()
        srv.close()
    assert got == q and int(r["ret"]) == len(q)
    e = s.of(pid=int(r["pid"]))
    assert len(e) == 1, s.events
    assert e[0]["qname"] == name and e[0]["qtype"] == "A" and e[0]["io_uring"] is True
    assert e[0]["daddr"] == "127.0.0.80" and e[0]["dport"] == 53 and e[0]["transport"] == "udp"


def test_ptrace_attach_and_poke(pangolin):
    """A process attaching to another and writing into it: two ptrace events (attach,
    pokedata with the address); its reads (PEEKDATA) and DETACH are not events."""
    with Sensor(pangolin, "--filter", 'type == "ptrace" && comm == "pgwork"') as s:
        r = pgwork("ptrace-poke")
    assert r["attach"] == 0 and r["poke"] == 0
    e = s.of(pid=r["pid"])
    assert [x["request"] for x in e] == ["attach", "pokedata"], e
    assert all(x["target_pid"] == r["child"] and x["ret"] == 0 for x in e)
    assert e[0]["addr"] == 0 and e[1]["addr"] == r["addr"]
    assert e[0]["ppid"] == os.getpid() and e[0]["start_ns"] > 0


def test_ptrace_request_filter(pangolin):
    with Sensor(pangolin, "--filter", 'type == "ptrace" && request == "pokedata"') as s:
        r = pgwork("ptrace-poke")
    e = s.of(pid=r["pid"])
    assert len(e) == 1 and e[0]["request"] == "pokedata"
