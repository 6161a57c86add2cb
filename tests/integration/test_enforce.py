"""Policies enforced by the live sensor on this machine's kernel (docs/enforce.md).

Real processes are killed or refused here, on a machine others use at the same time: every rule
is scoped to what the test makes (a path with a unique token, a cgroup the test creates), never
to a binary or a user other work could share.

On this host (no BPF LSM) open, exec, setid and ptrace rules kill from the sensor's own hooks:
the process never runs another instruction of its own, so what it asked for is never used."""
import errno
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from pgtest import PGWORK, Sensor

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")]

SIGKILL = -signal.SIGKILL


def cgroup2_mount():
    for line in open("/proc/self/mountinfo"):
        left, _, right = line.partition(" - ")
        if right.split()[0] == "cgroup2" and left.split()[3] == "/":
            return left.split()[4].replace("\\040", " ")
    return None


@pytest.fixture
def cgroup():
    """A factory of cgroups below the cgroup2 mount: make(name) -> (path as the sensor names
    it, directory). Everything left in them is killed and they are removed afterwards."""
    mount = cgroup2_mount()
    if not mount:
        pytest.skip("no cgroup2 file system mounted")
    base_rel = f"/pangolin-enforce-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    base = pathlib.Path(mount + base_rel)
    base.mkdir()
    made = []

    def make(name):
        d = base / name
        d.mkdir()
        made.append(d)
        return f"{base_rel}/{name}", d

    yield make
    for d in reversed(made + [base]):
        for _ in range(50):
            pids = (d / "cgroup.procs").read_text().split() if (d / "cgroup.procs").exists() else []
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                d.rmdir()
                break
            except OSError:
                time.sleep(0.05)


def in_cgroup(cgdir, argv):
    """argv run inside the cgroup: the shell moves itself in, then becomes argv (same pid)."""
    return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgdir)] + [str(a) for a in argv]


def policy(tmp_path, text, name="p.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def decided(s, action=None):
    return [e for e in s.events if "action" in e and (action is None or e["action"] == action)]


def rule_stats(s, policy_name, rule):
    """The rule's decisions by action in --stats: {"kill": N, "deny": N} for a kill rule."""
    return s.stats["policy"][policy_name][rule]


def test_secret_reader_is_killed_before_a_byte_gets_out(pangolin, tmp_path, cgroup):
    """cat opens the secret and would copy it to stdout: it is killed at the open's sys_exit
    and nothing reaches its stdout. The same binary in another cgroup reads the file. The kill
    is reported although --filter wants only exec events."""
    token = uuid.uuid4().hex[:10]
    secret = tmp_path / f"secret-{token}"
    secret.write_bytes(b"TOPSECRET\n" * 10000)
    locked, locked_dir = cgroup("locked")
    _, free_dir = cgroup("free")
    pol = policy(tmp_path, f"""name: secrets-{token}
rules:
  - name: no-reading
    match: type == "open" && path == "{secret}" && cgroup == "{locked}"
    action: kill
""")
    with Sensor(pangolin, "--policy", pol, "--filter", 'type == "exec"') as s:
        killed = subprocess.run(in_cgroup(locked_dir, ["/bin/cat", secret]), capture_output=True,
                                timeout=30)
        free = subprocess.run(in_cgroup(free_dir, ["/bin/cat", secret]), capture_output=True,
                              timeout=30)
    assert s.returncode == 0, s.stderr
    assert killed.returncode == SIGKILL and killed.stdout == b"", killed
    assert free.returncode == 0 and free.stdout == secret.read_bytes()
    k = decided(s)
    assert len(k) == 1, k
    e = k[0]
    assert e["type"] == "open" and e["path"] == str(secret) and e["ret"] >= 0
    assert e["action"] == "kill" and e["policy"] == f"secrets-{token}" and e["rule"] == "no-reading"
    assert e["comm"] == "cat" and e["cgroup"] == locked
    assert rule_stats(s, f"secrets-{token}", "no-reading") == {"kill": 1, "deny": 0}
    assert s.stats["policy_rules"] == 1


def test_rules_scoped_below_a_cgroup(pangolin, tmp_path, cgroup):
    """cgroup startswith "/T/": every cgroup below T (a depth the kernel reads from the task's
    own cgroup in tracing programs, and through a helper in the connect hook), not T itself
    nor a sibling."""
    token = uuid.uuid4().hex[:10]
    secret = tmp_path / f"secret-{token}"
    secret.write_bytes(b"TOPSECRET\n")
    tree, tree_dir = cgroup("tree")
    _, inner_dir = cgroup("tree/inner")
    _, deeper_dir = cgroup("tree/inner/deeper")
    _, free_dir = cgroup("free")
    pol = policy(tmp_path, f"""name: below-{token}
rules:
  - name: open
    match: type == "open" && path == "{secret}" && cgroup startswith "{tree}/"
    action: kill
  - name: net
    match: type == "connect" && daddr == "127.0.0.1" && dport == 9 && cgroup startswith "{tree}/"
    action: deny
""")
    cat, conn = {}, {}
    with Sensor(pangolin, "--policy", pol, "--filter", 'type == "exec"') as s:
        for name, d in (("tree", tree_dir), ("inner", inner_dir), ("deeper", deeper_dir),
                        ("free", free_dir)):
            cat[name] = subprocess.run(in_cgroup(d, ["/bin/cat", secret]), capture_output=True,
                                       timeout=30)
            conn[name] = subprocess.run(in_cgroup(d, [PGWORK, "connect", "127.0.0.1", "9"]),
                                        capture_output=True, text=True, timeout=30)
    assert s.returncode == 0, s.stderr
    for name in ("inner", "deeper"):
        assert cat[name].returncode == SIGKILL and cat[name].stdout == b"", (name, cat[name])
        assert conn[name].returncode == 0 and f"ret=-{errno.EPERM}" in conn[name].stdout, conn[name]
    for name in ("tree", "free"):
        assert cat[name].returncode == 0 and cat[name].stdout == secret.read_bytes(), cat[name]
        assert f"ret=-{errno.ECONNREFUSED}" in conn[name].stdout, (name, conn[name])
    d = decided(s)
    assert sorted((e["rule"], e["cgroup"].rsplit("/", 1)[1]) for e in d) == [
        ("net", "deeper"), ("net", "inner"), ("open", "deeper"), ("open", "inner")], d


def test_exec_from_tmp_or_memfd_is_killed(pangolin, tmp_path, cgroup):
    """An exec of a file under a /tmp directory, and of a memfd (fileless), is killed at
    sched_process_exec, before the new image runs; an ordinary exec in the same cgroup runs."""
    token = uuid.uuid4().hex[:10]
    d = pathlib.Path(f"/tmp/pgexec-{token}")
    d.mkdir()
    try:
        shutil.copy("/bin/true", d / "true")
        cg, cgdir = cgroup("exec")
        pol = policy(tmp_path, f"""name: exec-{token}
rules:
  - name: from-tmp
    match: type == "exec" && path startswith "{d}/"
    action: kill
  - name: fileless
    match: type == "exec" && exe_unlinked && cgroup == "{cg}"
    action: kill
""")
        memfd = ("import os\n"
                 "fd = os.memfd_create('pgfileless', 0)\n"
                 "os.write(fd, open('/bin/true', 'rb').read())\n"
                 "os.execv(f'/proc/self/fd/{fd}', ['pg-true'])\n")
        with Sensor(pangolin, "--policy", pol, "--filter", 'type == "exit"') as s:
            tmp_exec = subprocess.run(in_cgroup(cgdir, [d / "true"]), timeout=30)
            fileless = subprocess.run(in_cgroup(cgdir, ["/usr/bin/python3", "-c", memfd]), timeout=30)
            ordinary = subprocess.run(in_cgroup(cgdir, ["/bin/true"]), timeout=30)
    finally:
        shutil.rmtree(d)
    assert tmp_exec.returncode == SIGKILL
    assert fileless.returncode == SIGKILL
    assert ordinary.returncode == 0
    k = {e["rule"]: e for e in decided(s, "kill")}
    assert set(k) == {"from-tmp", "fileless"}, decided(s)
    assert k["from-tmp"]["type"] == "exec" and k["from-tmp"]["path"] == str(d / "true")
    assert k["fileless"]["exe_unlinked"] is True and k["fileless"]["path"].startswith("/proc/self/fd/")
    assert k["fileless"]["argv"] == ["pg-true"]


def test_monitor_mode_kills_nothing_and_reports_every_decision(pangolin, tmp_path, cgroup):
    token = uuid.uuid4().hex[:10]
    secret = tmp_path / f"secret-{token}"
    secret.write_bytes(b"visible\n")
    cg, cgdir = cgroup("watched")
    pol = policy(tmp_path, f"""name: trial-{token}
mode: monitor
rules:
  - name: reads
    match: type == "open" && path == "{secret}" && cgroup == "{cg}"
    action: kill
  - name: setids
    match: type == "setid" && cgroup == "{cg}"
    action: deny
""")
    with Sensor(pangolin, "--policy", pol, "--filter", 'type == "fork"') as s:
        runs = [subprocess.run(in_cgroup(cgdir, ["/bin/cat", secret]), capture_output=True,
                               timeout=30) for _ in range(3)]
        setid = subprocess.run(in_cgroup(cgdir, [PGWORK, "setresuid", 65534, 65534, 65534]),
                               capture_output=True, text=True, timeout=30)
    assert all(r.returncode == 0 and r.stdout == b"visible\n" for r in runs)
    assert setid.returncode == 0 and "ret=0" in setid.stdout, setid
    reads = [e for e in decided(s) if e["rule"] == "reads"]
    assert len(reads) == 3 and all(e["action"] == "would_kill" for e in reads), decided(s)
    ids = [e for e in decided(s) if e["rule"] == "setids"]
    # deny has no mechanism for setid on this kernel: it would be a kill
    assert len(ids) == 1 and ids[0]["action"] == "would_kill" and ids[0]["ret"] == 0, ids
    assert rule_stats(s, f"trial-{token}", "reads")["would_kill"] == 3
    assert rule_stats(s, f"trial-{token}", "setids")["would_kill"] == 1


def test_setid_and_ptrace_rules_kill(pangolin, tmp_path, cgroup):
    """deny on a kernel that cannot deny these calls is a kill, and the event says kill."""
    token = uuid.uuid4().hex[:10]
    cg, cgdir = cgroup("creds")
    pol = policy(tmp_path, f"""name: creds-{token}
rules:
  - name: no-setid
    match: type == "setid" && cgroup == "{cg}"
    action: deny
  - name: no-ptrace
    match: type == "ptrace" && cgroup == "{cg}"
    action: kill
    signal: KILL
""")
    with Sensor(pangolin, "--policy", pol, "--filter", 'type == "fork"') as s:
        setid = subprocess.run(in_cgroup(cgdir, [PGWORK, "setresuid", 65534, 65534, 65534]),
                               capture_output=True, text=True, timeout=30)
        # the child it attaches to outlives it (the cgroup's clean-up kills it): no pipes
        ptrace = subprocess.run(in_cgroup(cgdir, [PGWORK, "ptrace-poke"]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    assert setid.returncode == SIGKILL and setid.stdout == ""
    assert ptrace.returncode == SIGKILL
    k = {e["rule"]: e for e in decided(s)}
    assert k["no-setid"]["action"] == "kill" and k["no-setid"]["type"] == "setid"
    assert k["no-ptrace"]["action"] == "kill" and k["no-ptrace"]["type"] == "ptrace"


def test_alert_rules_tag_events_in_userspace(pangolin, tmp_path):
    """alert rules may use any field (argv here); they tag events, they stop nothing, and their
    events pass --filter like every decision."""
    token = uuid.uuid4().hex[:10]
    pol = policy(tmp_path, f"""name: watch-{token}
rules:
  - name: echo-token
    match: type == "exec" && argv contains "{token}"
    action: alert
""")
    with Sensor(pangolin, "--policy", pol, "--filter", 'type == "fork"') as s:
        p = subprocess.run(["/bin/echo", token], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == token
    a = [e for e in decided(s) if e["rule"] == "echo-token"]
    assert len(a) == 1 and a[0]["action"] == "alert" and a[0]["argv"] == ["/bin/echo", token]
    assert rule_stats(s, f"watch-{token}", "echo-token")["alert"] == 1


@pytest.mark.parametrize("text, err", [
    ("name: p\nrules:\n  - name: r\n    match: type == \"open\" && pod_uid == \"x\"\n    action: kill\n",
     ":4:30: rule r: 'pod_uid == \"x\"' cannot be decided in the kernel"),
    ("name: p\nrules:\n  - name: r\n    match: type == \"open\"\n    action: kil\n",
     ":5:13: action 'kil' is not one of alert, kill, deny"),
    ("name: p\nrules:\n  - name: r\n    match: type == \"open\" &&\n    action: kill\n",
     ":4:29: match: expected a field name"),
])
def test_bad_policy_is_refused_before_anything_runs(pangolin, tmp_path, text, err):
    pol = policy(tmp_path, text)
    p = subprocess.run([pangolin, "run", "--policy", pol], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert f"pangolin run: --policy: {pol}{err}" in p.stderr, p.stderr
    assert "watching" not in p.stderr


def test_rules_on_the_program_and_its_parent(pangolin, tmp_path):
    """exe and parent_exe are decided in the kernel from the processes' binaries, kept from
    their exec and fork: a copy of cat is killed reading the secret where /bin/cat is not, and
    cat started by a copy of sh is killed where cat started by /bin/sh is not."""
    token = uuid.uuid4().hex[:10]
    d = pathlib.Path(f"/tmp/pgbin-{token}")
    d.mkdir()
    secret = tmp_path / f"secret-{token}"
    secret.write_bytes(b"x" * 100)
    try:
        shutil.copy("/bin/cat", d / "cat")
        shutil.copy("/bin/sh", d / "sh")
        pol = policy(tmp_path, f"""name: bins-{token}
rules:
  - name: copied-cat
    match: type == "open" && path == "{secret}" && exe == "{d}/cat"
    action: kill
  - name: under-copied-sh
    match: type == "open" && path == "{secret}" && parent_exe startswith "{d}/"
    action: kill
""")
        # the process table (exe, parent_exe on events) learns from exec, fork and exit events
        with Sensor(pangolin, "--policy", pol, "--filter", 'type in ["exec", "fork", "exit"]') as s:
            copy = subprocess.run([d / "cat", secret], capture_output=True, timeout=30)
            orig = subprocess.run(["/bin/cat", secret], capture_output=True, timeout=30)
            # "; true": the shell forks for cat instead of becoming it
            under = subprocess.run([d / "sh", "-c", f"/bin/cat {secret}; true"],
                                   capture_output=True, timeout=30)
            plain = subprocess.run(["/bin/sh", "-c", f"/bin/cat {secret}; true"],
                                   capture_output=True, timeout=30)
    finally:
        shutil.rmtree(d)
    assert copy.returncode == SIGKILL and copy.stdout == b""
    assert orig.returncode == 0 and orig.stdout == b"x" * 100
    assert under.returncode == 0 and under.stdout == b""  # cat died, the shell went on
    assert plain.returncode == 0 and plain.stdout == b"x" * 100
    k = {e["rule"]: e for e in decided(s, "kill")}
    assert set(k) == {"copied-cat", "under-copied-sh"}, decided(s)
    assert k["copied-cat"]["exe"] == f"{d}/cat"
    assert k["under-copied-sh"]["parent_exe"] == f"{d}/sh" and k["under-copied-sh"]["exe"] == "/bin/cat"


@pytest.fixture
def veth():
    """A network namespace behind a veth pair, on 198.18.N.0/24 (RFC 2544's benchmarking
    range): the host side .1, the namespace .2 and .3 with a TCP listener on port 80 of both.
    Yields (host interface, network prefix)."""
    tag = uuid.uuid4().hex[:8]
    ns, host, peer = f"pgns{tag}", f"pgh{tag}", f"pgn{tag}"
    net = f"198.18.{int(tag[:2], 16)}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    listener = None
    try:
        for cmd in (["ip", "link", "add", host, "type", "veth", "peer", "name", peer],
                    ["ip", "link", "set", peer, "netns", ns],
                    ["ip", "addr", "add", f"{net}.1/24", "dev", host],
                    ["ip", "link", "set", host, "up"],
                    ["ip", "-n", ns, "addr", "add", f"{net}.2/24", "dev", peer],
                    ["ip", "-n", ns, "addr", "add", f"{net}.3/24", "dev", peer],
                    ["ip", "-n", ns, "link", "set", peer, "up"],
                    ["ip", "-n", ns, "link", "set", "lo", "up"]):
            subprocess.run(cmd, check=True)
        listener = subprocess.Popen(
            ["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
             "import socket,time\ns=socket.socket()\ns.bind(('0.0.0.0',80))\ns.listen(64)\n"
             "print('ready',flush=True)\nwhile True:\n c,_=s.accept()\n c.close()"],
            stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "ready"
        yield host, net
    finally:
        if listener:
            listener.kill()
            listener.wait()
        subprocess.run(["ip", "link", "del", host], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", ns])


def test_denied_connect_fails_with_eperm_and_no_syn_leaves(pangolin, tmp_path, cgroup, veth):
    """The cgroup connect hook refuses the connect before the kernel builds a packet: the
    process gets EPERM and tcpdump on the interface sees no SYN to the denied address, while
    one to the allowed address goes out and connects. IPv4 and a CIDR; kill also refuses."""
    host, net = veth
    token = uuid.uuid4().hex[:10]
    cg, cgdir = cgroup("net")
    pol = policy(tmp_path, f"""name: egress-{token}
rules:
  - name: no-dot-two
    match: type == "connect" && daddr == "{net}.2/32" && cgroup == "{cg}"
    action: deny
  - name: kill-port-81
    match: type == "connect" && daddr == "{net}.0/24" && dport == 81 && cgroup == "{cg}"
    action: kill
""")
    pcap = tmp_path / "syn.pcap"
    dump = subprocess.Popen(["tcpdump", "-i", host, "-n", "-U", "-w", str(pcap),
                             "tcp[tcpflags] & tcp-syn != 0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on" in dump.stderr.readline()
        with Sensor(pangolin, "--policy", pol, "--filter", 'type == "exec"') as s:
            denied = subprocess.run(in_cgroup(cgdir, [PGWORK, "connect", f"{net}.2", 80]),
                                    capture_output=True, text=True, timeout=30)
            allowed = subprocess.run(in_cgroup(cgdir, [PGWORK, "connect", f"{net}.3", 80]),
                                     capture_output=True, text=True, timeout=30)
            killed = subprocess.run(in_cgroup(cgdir, [PGWORK, "connect", f"{net}.3", 81]),
                                    capture_output=True, text=True, timeout=30)
            time.sleep(0.5)
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=30)
    assert denied.returncode == 0 and denied.stdout.split()[-1] == f"ret=-{errno.EPERM}", denied
    assert allowed.stdout.split()[-1] == "ret=0", allowed
    assert killed.returncode == SIGKILL and killed.stdout == ""
    syns = subprocess.run(["tcpdump", "-n", "-r", str(pcap)], capture_output=True, text=True).stdout
    assert f"> {net}.3.80:" in syns, syns
    assert f"> {net}.2." not in syns and f"> {net}.3.81:" not in syns, syns
    k = {e["rule"]: e for e in decided(s)}
    assert k["no-dot-two"]["action"] == "deny" and k["no-dot-two"]["ret"] == -errno.EPERM
    assert k["no-dot-two"]["daddr"] == f"{net}.2" and k["no-dot-two"]["dport"] == 80
    assert k["kill-port-81"]["action"] == "kill" and k["kill-port-81"]["ret"] == -errno.EPERM


@pytest.fixture
def netns_resolver():
    """A network namespace whose resolv.conf names the tests' own resolver inside it
    (dnsserver.py: one line per query it answers), so glibc's resolver is what sends."""
    ns = f"pgdns{uuid.uuid4().hex[:6]}"
    etc = pathlib.Path("/etc/netns") / ns
    subprocess.run(["ip", "netns", "add", ns], check=True)
    srv = None
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        etc.mkdir(parents=True)
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        log = open(pathlib.Path(tempfile_dir()) / f"{ns}.log", "w+")
        srv = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3",
                                str(pathlib.Path(__file__).with_name("dnsserver.py")), "127.0.0.1", "53"],
                               stdout=log, text=True)
        for _ in range(200):
            log.seek(0)
            if "ready" in log.read():
                break
            time.sleep(0.05)
        yield ns, log
    finally:
        if srv:
            srv.kill()
            srv.wait()
        shutil.rmtree(etc, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ns])


def tempfile_dir():
    import tempfile
    return tempfile.gettempdir()


def test_denied_dns_name_never_reaches_the_resolver(pangolin, tmp_path, cgroup, netns_resolver):
    """The egress hook drops a query for a denied name (and for the names below it): the
    resolver the test runs never logs it, the lookup fails, and a name outside the rule still
    resolves. Case does not matter."""
    ns, log = netns_resolver
    token = uuid.uuid4().hex[:10]
    cg, cgdir = cgroup("dns")
    bad, good = f"evil-{token}.pangolin.test", f"good-{token}.pangolin.test"
    pol = policy(tmp_path, f"""name: dns-{token}
rules:
  - name: no-evil
    match: type == "dns" && (qname == "{bad}" || qname endswith ".{bad}") && cgroup == "{cg}"
    action: deny
""")

    def lookup(name):
        # into the cgroup first: ip netns exec mounts a /sys of its own
        return subprocess.run(in_cgroup(cgdir, ["ip", "netns", "exec", ns, "getent", "ahosts", name]),
                              capture_output=True, text=True, timeout=30)

    with Sensor(pangolin, "--policy", pol, "--filter", 'type == "exec"') as s:
        r_bad = lookup(bad)
        r_sub = lookup(f"WWW.{bad.upper()}")
        r_good = lookup(good)
    log.seek(0)
    answered = log.read()
    assert "192.0.2.1" in r_good.stdout, r_good
    assert good in answered
    assert r_bad.returncode != 0 and "192.0.2.1" not in r_bad.stdout, r_bad
    assert r_sub.returncode != 0 and "192.0.2.1" not in r_sub.stdout, r_sub
    assert bad.lower() not in answered.lower(), answered
    d = decided(s)
    assert d and all(e["type"] == "dns" and e["action"] == "deny" and e["rule"] == "no-evil" for e in d), d
    assert {e["qname"].lower() for e in d} == {bad, f"www.{bad}"}, d


def wait_stderr(s, text, count=1, timeout=30):
    """Until the sensor has said text count times on stderr."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pathlib.Path(s.err_path).read_text().count(text) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the sensor never said {text!r} {count} times:\n" +
                         pathlib.Path(s.err_path).read_text())


@pytest.mark.slow
def test_reload_under_load_decides_every_event_once(pangolin, tmp_path, cgroup):
    """A process opens one file about every 100 us while SIGHUP reloads the policy again and
    again, its rule for that file renamed each time (a new rule, a new slot): every open is
    decided by exactly one set, the old or the new, whole. Decided events == opens == the
    kernel's counts."""
    token = uuid.uuid4().hex[:10]
    target = tmp_path / f"target-{token}"
    target.write_text("x")
    cg, cgdir = cgroup("load")
    pol = tmp_path / "p.yaml"

    def write(gen):
        pol.write_text(f"""name: load-{token}
mode: monitor
rules:
  - name: gen-{gen}
    match: type == "open" && path == "{target}" && cgroup == "{cg}"
    action: kill
  - name: other-{gen}
    match: type == "setid" && cgroup == "{cg}" && uid == {gen}
    action: kill
""")

    opener = ("import os, sys, time\n"
              "n, end = 0, time.monotonic() + float(sys.argv[2])\n"
              "while time.monotonic() < end:\n"
              "    os.close(os.open(sys.argv[1], os.O_RDONLY))\n"
              "    n += 1\n"
              "    time.sleep(0.0001)\n"
              "print(n)\n")
    write(0)
    reloads = 0
    with Sensor(pangolin, "--policy", str(pol), "--filter", 'type == "fork"') as s:
        load = subprocess.Popen(in_cgroup(cgdir, ["/usr/bin/python3", "-c", opener, target, 4]),
                                stdout=subprocess.PIPE, text=True)
        while load.poll() is None:
            reloads += 1
            write(reloads)
            s.proc.send_signal(signal.SIGHUP)
            wait_stderr(s, "--policy: reloaded", reloads)
        opens = int(load.stdout.read())
    assert load.returncode == 0 and reloads > 20 and opens > 1000, (reloads, opens)
    assert s.returncode == 0, s.stderr
    assert s.stats["lost_in_kernel"] == 0, s.stats  # a lost event would be a lost decision
    mine = [e for e in decided(s) if e["path"] == str(target)]
    assert all(e["action"] == "would_kill" and e["rule"].startswith("gen-") for e in mine)
    assert len({e["rule"] for e in mine}) > 10  # the reloads landed while the opens went on
    assert len(mine) == opens, (len(mine), opens)
    counted = sum(v.get("would_kill", 0) for k, v in s.stats["policy"][f"load-{token}"].items()
                  if k.startswith("gen-"))
    assert counted == opens, s.stats["policy"]
    # each write is seen by inotify too: as many reloads or more
    assert s.stats["policy_reloads"]["done"] >= reloads and s.stats["policy_reloads"]["refused"] == 0


def test_bad_reload_is_refused_and_the_policy_in_force_stays(pangolin, tmp_path, cgroup):
    """A directory of policies: a broken file added to it (inotify) is refused with its
    file:line:column, and the rules in force still kill; a good file added later is in force
    without any signal."""
    token = uuid.uuid4().hex[:10]
    secret = tmp_path / f"secret-{token}"
    secret.write_text("secret\n")
    other = tmp_path / f"other-{token}"
    other.write_text("other\n")
    cg, cgdir = cgroup("reload")
    d = tmp_path / "policies"
    d.mkdir()
    (d / "a.yaml").write_text(f"""name: a-{token}
rules:
  - name: secret
    match: type == "open" && path == "{secret}" && cgroup == "{cg}"
    action: kill
""")
    with Sensor(pangolin, "--policy", str(d), "--filter", 'type == "fork"') as s:
        (d / "b.yaml").write_text(f"""name: b-{token}
rules:
  - name: other
    match: type == "open" && path == "{other}" && pod_uid == "x"
    action: kill
""")
        wait_stderr(s, "reload refused")
        after_bad = subprocess.run(in_cgroup(cgdir, ["/bin/cat", secret]), capture_output=True,
                                   timeout=30)
        other_before = subprocess.run(in_cgroup(cgdir, ["/bin/cat", other]), capture_output=True,
                                      timeout=30)
        (d / "b.yaml").write_text(f"""name: b-{token}
rules:
  - name: other
    match: type == "open" && path == "{other}" && cgroup == "{cg}"
    action: kill
""")
        wait_stderr(s, "--policy: reloaded")
        other_after = subprocess.run(in_cgroup(cgdir, ["/bin/cat", other]), capture_output=True,
                                     timeout=30)
    bad_line = f'    match: type == "open" && path == "{other}" && pod_uid == "x"'
    assert f"reload refused, the policies in force stay: {d}/b.yaml:4:{bad_line.index('pod_uid') + 1}: " \
           "rule other: 'pod_uid == \"x\"' cannot be decided in the kernel" in s.stderr, s.stderr
    assert after_bad.returncode == SIGKILL and after_bad.stdout == b""
    assert other_before.returncode == 0 and other_before.stdout == b"other\n"
    assert other_after.returncode == SIGKILL and other_after.stdout == b""
    assert {e["rule"] for e in decided(s, "kill")} == {"secret", "other"}
    assert s.stats["policy_reloads"] == {"done": 1, "refused": 1}


def inotify_watches(pid):
    """The inotify watches of process pid: [(inode, mask)], from /proc/PID/fdinfo."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:inotify":
                continue
            text = pathlib.Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("inotify "):
                f = dict(t.split(":", 1) for t in line.split()[1:])
                out.append((int(f["ino"], 16), int(f["mask"], 16)))
    return out


def test_policy_watch_costs_other_files_nothing(pangolin, tmp_path):
    """A policy file's directory is watched for what replaces the file (create, rename,
    delete), never for what happens to the other files in it: a watch on a directory for
    opens, writes or closes of its files makes every open and close of any file there pay for a
    notification (50-75 ns per open+close here, bench/README.md). The file itself is watched
    for writes in place."""
    IN_CHILD = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20  # access, modify, attrib, close, open
    IN_CLOSE_WRITE = 0x8
    d = tmp_path / "conf"
    d.mkdir()
    pol = policy(d, "name: quiet\nrules: []\n")
    pdir = tmp_path / "pdir"
    pdir.mkdir()
    (pdir / "a.yaml").write_text("name: a\nrules: []\n")
    with Sensor(pangolin, "--policy", pol, "--policy", str(pdir), "--filter", 'type == "fork"') as s:
        w = dict(inotify_watches(s.proc.pid))
    assert s.returncode == 0, s.stderr
    for dirpath in (d, pdir, tmp_path):
        ino = dirpath.stat().st_ino
        assert ino in w, (dirpath, w)
        assert w[ino] & IN_CHILD == 0, (dirpath, hex(w[ino]))
    for f in (pathlib.Path(pol), pdir / "a.yaml"):
        assert w.get(f.stat().st_ino, 0) & IN_CLOSE_WRITE, (f, w)


def atomic_write(root, files, gen):
    """What the kubelet does to a ConfigMap volume (its AtomicWriter): the files go into a new
    hidden directory, a symlink ..data is renamed over to point at it, and the old directory is
    removed. The names users see (root/NAME -> ..data/NAME) never change."""
    new = root / f"..gen_{gen}"
    for rel, text in files.items():
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        (new / rel).write_text(text)
    old = os.readlink(root / "..data") if (root / "..data").is_symlink() else None
    os.symlink(new.name, root / "..data_tmp")
    os.rename(root / "..data_tmp", root / "..data")
    for top in {pathlib.Path(rel).parts[0] for rel in files}:
        if not (root / top).is_symlink():
            os.symlink(f"..data/{top}", root / top)
    if old:
        shutil.rmtree(root / old)


@pytest.mark.parametrize("key", ["policies/policies.yaml", "policies.yaml"])
def test_reload_follows_a_configmap_volume_update_after_update(pangolin, tmp_path, cgroup, key):
    """The DaemonSet (deploy/kubernetes) reads its policies from a ConfigMap volume, which the
    kubelet updates by swapping a symlink and deleting the directory the old files were in:
    each update is in force without a signal, the third as well as the first. --policy names
    the directory the volume's items put the file in (as the DaemonSet does), or the file at
    the volume's top (a symlink into ..data)."""
    token = uuid.uuid4().hex[:10]
    secret = tmp_path / f"secret-{token}"
    secret.write_text("secret\n")
    cg, cgdir = cgroup("configmap")
    root = tmp_path / "volume"
    root.mkdir()

    def rules(gen):
        return {key: f"""name: cm-{token}
rules:
  - name: gen-{gen}
    match: type == "open" && path == "{secret}" && cgroup == "{cg}"
    action: kill
"""}

    atomic_write(root, rules(0), 0)
    with Sensor(pangolin, "--policy", str(root / key.split("/")[0]), "--filter", 'type == "fork"') as s:
        for gen in range(1, 4):
            atomic_write(root, rules(gen), gen)
            wait_stderr(s, "--policy: reloaded", gen)
            r = subprocess.run(in_cgroup(cgdir, ["/bin/cat", secret]), capture_output=True,
                               timeout=30)
            assert r.returncode == SIGKILL and r.stdout == b"", (gen, r)
    assert s.returncode == 0, s.stderr
    assert [e["rule"] for e in decided(s, "kill")] == ["gen-1", "gen-2", "gen-3"]
    assert s.stats["policy_reloads"]["refused"] == 0


def test_reload_sees_each_way_a_policy_changes(pangolin, tmp_path, cgroup):
    """A file renamed over the policy (what editors and sed -i do), the policy written in place,
    and a file of a directory still being written when the quiet period ends (read half done and
    refused, then read again once closed): each is in force without a signal."""
    token = uuid.uuid4().hex[:10]
    secrets = {k: tmp_path / f"{k}-{token}" for k in ("renamed", "inplace", "slow")}
    for f in secrets.values():
        f.write_text("secret\n")
    cg, cgdir = cgroup("ways")
    conf = tmp_path / "conf"
    conf.mkdir()
    pol = conf / "p.yaml"
    pdir = tmp_path / "pdir"
    pdir.mkdir()

    def text(name, kind):
        return f"""name: {name}-{token}
rules:
  - name: {kind}
    match: type == "open" && path == "{secrets[kind]}" && cgroup == "{cg}"
    action: kill
"""

    def cat(kind):
        return subprocess.run(in_cgroup(cgdir, ["/bin/cat", secrets[kind]]), capture_output=True,
                              timeout=30)

    pol.write_text("name: empty\nrules: []\n")
    with Sensor(pangolin, "--policy", str(pol), "--policy", str(pdir), "--filter", 'type == "fork"') as s:
        tmp = conf / ".p.yaml.swp"
        tmp.write_text(text("p", "renamed"))
        os.rename(tmp, pol)
        wait_stderr(s, "--policy: reloaded", 1)
        renamed = cat("renamed")
        with open(pol, "w") as f:  # in place: the same inode
            f.write(text("p", "inplace"))
        wait_stderr(s, "--policy: reloaded", 2)
        inplace = cat("inplace")
        whole = text("q", "slow")
        with open(pdir / "q.yaml", "w") as f:
            f.write(whole[:whole.index("rules:")])
            f.flush()
            wait_stderr(s, "reload refused")  # the half it could read: a policy of no rule
            f.write(whole[whole.index("rules:"):])
        wait_stderr(s, "--policy: reloaded", 3)
        slow = cat("slow")
    assert s.returncode == 0, s.stderr
    for kind, r in (("renamed", renamed), ("inplace", inplace), ("slow", slow)):
        assert r.returncode == SIGKILL and r.stdout == b"", (kind, r)
    assert [e["rule"] for e in decided(s, "kill")] == ["renamed", "inplace", "slow"]
    assert s.stats["policy_reloads"] == {"done": 3, "refused": 1}


def test_replay_decides_as_the_kernel_did(pangolin, tmp_path, cgroup):
    """What `replay --policy` says a policy would have done is what the kernel decided: the
    live sensor's output (monitor mode) replayed with the same policy gets the same action,
    policy and rule on every event, decided or not, kernel rules and alert rules alike."""
    token = uuid.uuid4().hex[:10]
    secret = tmp_path / f"s-{token}"
    secret.write_text("secret\n")
    cg, cgdir = cgroup("twin")
    pol = policy(tmp_path, f"""name: twin-{token}
mode: monitor
rules:
  - name: secret
    match: type == "open" && path startswith "{tmp_path}/s-" && cgroup == "{cg}"
    action: kill
  - name: hostname
    match: type == "open" && comm == "cat" && path == "/etc/hostname" && cgroup == "{cg}"
    action: kill
  - name: root-true
    match: type == "exec" && uid == 0 && path == "/bin/true" && cgroup == "{cg}"
    action: kill
  - name: not-root
    match: type == "open" && uid != 0 && cgroup == "{cg}"
    action: kill
  - name: execs
    match: type == "exec" && cgroup == "{cg}"
    action: alert
""")
    live = tmp_path / "live.ndjson"
    with Sensor(pangolin, "--policy", pol, "--filter", f'cgroup == "{cg}"', output=str(live)) as s:
        for argv in (["/bin/cat", secret], ["/bin/cat", "/etc/hostname"], ["/bin/true"]):
            subprocess.run(in_cgroup(cgdir, argv), capture_output=True, timeout=30, check=True)
    assert s.returncode == 0, s.stderr
    # the recording without its decisions: replay makes its own
    bare = tmp_path / "bare.ndjson"
    bare.write_text("".join(json.dumps({k: v for k, v in e.items() if k not in ("action", "policy", "rule")},
                                       separators=(",", ":")) + "\n" for e in s.events))
    out = tmp_path / "replayed.ndjson"
    r = subprocess.run([pangolin, "replay", bare, "--policy", pol, "-o", out], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    replayed = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(replayed) == len(s.events)

    def decision(e):
        return (e.get("action"), e.get("policy"), e.get("rule"))

    assert [decision(e) for e in replayed] == [decision(e) for e in s.events]
    rules = [e["rule"] for e in s.events if "rule" in e]
    for rule in ("secret", "hostname", "root-true", "execs"):
        assert rule in rules, rules
    assert "not-root" not in rules
    assert sum(1 for e in s.events if "action" not in e) > 0  # undecided events stay undecided


def test_doctor_says_which_mechanism_each_type_gets(pangolin):
    """doctor's enforcement section, on this kernel: where BPF LSM runs, deny of exec, open,
    setid and ptrace is refused by it; where it does not (this host), they are killed instead;
    connect and DNS are refused by the cgroup hooks either way. The same as the sensor does
    (test_setid_and_ptrace_rules_kill: a deny here says kill)."""
    import re
    p = subprocess.run([pangolin, "doctor"], capture_output=True, text=True, timeout=120)
    out = p.stdout
    assert "\nenforcement (run --policy: docs/enforce.md)\n" in out, out
    lsm = re.search(r"^\s*BPF LSM\s+ok\b", out, re.M) is not None
    deny = dict(re.findall(r"^  (\w+)\s+deny: (.*)$", out, re.M))
    assert set(deny) == {"exec", "open", "connect", "dns", "setid", "ptrace"}, out
    for t in ("exec", "open", "setid", "ptrace"):
        want = "refused by BPF LSM" if lsm else "killed instead: nothing here refuses it"
        assert deny[t].startswith(want), (t, deny[t], out)
    for t in ("connect", "dns"):
        assert deny[t].startswith("refused by the cgroup hook (EPERM: no packet leaves)"), out
    if not lsm:
        # the reason BPF LSM is not used, under each type it would have decided
        assert out.count("(no BPF LSM program type)") + out.count("is not an active LSM") == 4, out
        assert "the signal at sched_process_exec (before the program runs)" in out
