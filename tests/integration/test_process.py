"""The process table on the live sensor: events carry their program (not the thread's name),
its command line, its parent's, and the programs up the tree, and keep that lineage when
the parent exits and the child is reparented."""
import os
import pathlib
import subprocess
import sys
import uuid

import pytest

from pgtest import Sensor

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")]

SELF_EXE = os.path.realpath(sys.executable)  # what /proc/PID/exe says for this test runner


def test_events_carry_the_program_and_its_lineage(pangolin, tmp_path):
    token = tmp_path / f"pg-proc-{uuid.uuid4().hex}"
    token.write_text("x")
    # a thread with its own name opens the file: comm is the thread's, exe the program's
    code = ("import ctypes, threading\n"
            "def f():\n"
            "    ctypes.CDLL(None).prctl(15, b'pg-worker-thr', 0, 0, 0)\n"
            f"    open({str(token)!r}).close()\n"
            "t = threading.Thread(target=f); t.start(); t.join()\n")
    with Sensor(pangolin) as s:
        # '; true' keeps sh from exec'ing python in its own place: python is sh's child
        subprocess.run(["/bin/sh", "-c", f"/usr/bin/python3 -c \"{code}\" x1 x2; true"], check=True)
    assert s.returncode == 0, s.stderr
    opens = s.of(type="open", path=str(token))
    assert len(opens) == 1, [e for e in s.events if e.get("path") == str(token)]
    e = opens[0]
    assert e["comm"] == "pg-worker-thr"
    assert e["exe"] == "/usr/bin/python3"
    assert e["cmdline"].startswith("/usr/bin/python3 -c import ctypes") and e["cmdline"].endswith(" x1 x2")
    assert e["parent_exe"] == "/bin/sh"
    assert e["parent_cmdline"].startswith("/bin/sh -c /usr/bin/python3")
    assert e["ancestors"][:2] == ["/bin/sh", SELF_EXE], e["ancestors"]


def test_lineage_survives_the_parent_exiting(pangolin, tmp_path):
    token = tmp_path / f"pg-orphan-{uuid.uuid4().hex}"
    token.write_text("x")
    with Sensor(pangolin) as s:
        # the subshell outlives its parent sh, is reparented, then runs cat
        p = subprocess.run(["/bin/sh", "-c", f"(sleep 0.5; cat {token} >/dev/null; true) & echo $!"],
                           capture_output=True, text=True, check=True)
        subshell = int(p.stdout)
        for _ in range(100):
            if not os.path.exists(f"/proc/{subshell}"):
                break
            subprocess.run(["sleep", "0.05"])
    opens = s.of(type="open", path=str(token))
    assert len(opens) == 1, s.stderr
    cat = opens[0]
    forks = s.of(type="fork", pid=subshell, child_pid=cat["pid"])
    assert len(forks) == 1
    parent_sh = [e for e in s.of(type="fork", child_pid=subshell)][0]["pid"]
    assert forks[0]["ppid"] != parent_sh  # reparented by the time it forked cat
    assert forks[0]["parent_exe"] == "/bin/sh"  # the subshell's parent: the sh that exited
    assert cat["exe"] == "/usr/bin/cat"
    assert cat["ancestors"][:3] == ["/bin/sh", "/bin/sh", SELF_EXE], cat["ancestors"]


def test_no_process_leaves_them_out(pangolin, tmp_path):
    token = tmp_path / f"pg-noproc-{uuid.uuid4().hex}"
    token.write_text("x")
    with Sensor(pangolin, "--no-process", "--filter", 'type == "open"') as s:
        subprocess.run(["cat", str(token)], check=True, capture_output=True)
    e = s.of(type="open", path=str(token))
    assert len(e) == 1 and "exe" not in e[0] and "ancestors" not in e[0]


def test_filter_on_lineage_sees_the_whole_tree(pangolin, tmp_path):
    """A filter on process fields runs wholly in userspace: with a kernel part, type == "open"
    would drop the forks and execs the table learns lineage from, and the open would not match."""
    d = tmp_path / f"pg-lineage-{uuid.uuid4().hex}"
    d.mkdir()
    shell = d / "sh"  # a shell of its own: only this test's processes have it as an ancestor
    shell.write_bytes(pathlib.Path("/bin/sh").read_bytes())
    shell.chmod(0o755)
    token = d / "token"
    token.write_text("x")
    flt = f'type == "open" && ancestors == "{shell}" && exe == "/usr/bin/cat"'
    with Sensor(pangolin, "--explain", "--filter", flt) as s:
        # cat is the grandchild of our shell ('; true' keeps each sh from exec'ing in place)
        subprocess.run([str(shell), "-c", f"/bin/sh -c '/usr/bin/cat {token} >/dev/null; true'; true"],
                       check=True)
        subprocess.run(["/usr/bin/cat", str(token)], check=True, capture_output=True)  # not below it
    assert s.returncode == 0, s.stderr
    assert "kernel decides: (nothing)" in s.stderr, s.stderr
    assert f'userspace decides: {flt}' in s.stderr, s.stderr
    assert s.events, s.stderr
    for e in s.events:  # the filter is whole: nothing else comes through
        assert e["type"] == "open" and str(shell) in e["ancestors"] and e["exe"] == "/usr/bin/cat", e
    opens = s.of(type="open", path=str(token))
    assert len(opens) == 1, s.events
    assert opens[0]["ancestors"][:2] == ["/bin/sh", str(shell)], opens[0]


def test_filter_on_process_fields_with_no_process_is_refused(pangolin):
    p = subprocess.run([pangolin, "run", "--no-process", "-f", 'ancestors contains "sshd"', "-d", "1"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert "--no-process" in p.stderr and "process fields" in p.stderr, p.stderr
