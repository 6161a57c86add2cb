"""`pangolin policy check`: policies loaded and planned as `run --policy` does, without a kernel.

Unmarked: these need no root, kernel or broker, and also run against the ASan+UBSan build.
"""
import json

import pytest
import yaml

from conftest import ROOT, run

HEADER = ["POLICY", "RULE", "ACTION", "DECIDED", "TYPES", "WHERE"]


def check(pangolin, *args):
    return run([pangolin, "policy", "check", *map(str, args)])


def rows(stdout):
    lines = stdout.splitlines()
    assert lines[0].split() == HEADER, stdout
    return [l.split() for l in lines[1:]]


def test_lists_every_rule_with_what_decides_it(pangolin, tmp_path):
    d = tmp_path / "policies"
    d.mkdir()
    (d / "a.yaml").write_text("""name: secrets
rules:
  - name: shadow
    match: type == "open" && path in ["/etc/shadow", "/etc/gshadow"] && uid != 0
    action: deny
  - name: nc
    match: type == "exec" && comm == "nc"
    action: alert
---
name: net
mode: monitor
rules:
  - name: meta
    match: type in ["connect", "dns"] && uid == 4242
    action: kill
    signal: 15
""")
    (d / "b.yaml").write_text("""name: scratch
rules:
  - name: from-tmp
    match: type == "exec" && path startswith "/tmp/"
    action: kill
""")
    (d / "notes.txt").write_text("not a policy: left alone\n")
    (d / ".b.yaml.swp").write_text("hidden: left alone\n")
    p = check(pangolin, d)
    assert p.returncode == 0, p.stderr
    assert rows(p.stdout) == [
        ["secrets", "shadow", "deny", "kernel", "open", f"{d}/a.yaml:3"],
        ["secrets", "nc", "alert", "userspace", "any", f"{d}/a.yaml:6"],
        ["net", "meta", "would_kill", "kernel", "connect,dns", f"{d}/a.yaml:13"],
        ["scratch", "from-tmp", "kill", "kernel", "exec", f"{d}/b.yaml:3"],
    ]
    assert p.stderr == "pangolin policy: 3 policies, 4 rules (3 decided in the kernel, 1 alert) load\n"


def test_the_shipped_configmap_policy_checks(pangolin, tmp_path):
    """What deploy/kubernetes ships to every node loads: checked here as an operator's CI would,
    before it goes to a fleet."""
    cm = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "20-configmap.yaml").read_text())
    (tmp_path / "policies.yaml").write_text(cm["data"]["policies.yaml"])
    p = check(pangolin, tmp_path / "policies.yaml", "--offline")
    assert p.returncode == 0, p.stderr
    assert [r[:5] for r in rows(p.stdout)] == [
        ["baseline", "exec-from-scratch", "would_kill", "kernel", "exec"],
        ["baseline", "shadow-read", "would_deny", "kernel", "open"],
    ]


def test_cgroups_must_exist_here_unless_offline(pangolin, tmp_path):
    """run refuses a rule for a cgroup the host does not have; --offline checks a policy
    written for other hosts by the form of its cgroups only, and still refuses a bad form."""
    f = tmp_path / "p.yaml"
    f.write_text("""name: pods
rules:
  - name: one
    match: type == "open" && path == "/etc/shadow" && cgroup == "/pangolin-test/no/such/cgroup"
    action: kill
""")
    here = check(pangolin, f)
    assert here.returncode == 1
    assert here.stderr.startswith(f"pangolin policy: {f}:4:55: rule one: ") and \
        "no cgroup /pangolin-test/no/such/cgroup here" in here.stderr, here.stderr
    assert here.stdout == ""
    offline = check(pangolin, f, "--offline")
    assert offline.returncode == 0, offline.stderr
    assert rows(offline.stdout) == [["pods", "one", "kill", "kernel", "open", f"{f}:3"]]
    assert "(cgroups checked for their form only)" in offline.stderr
    f.write_text(f.read_text().replace("/pangolin-test/no/such/cgroup", "/a//b"))
    bad = check(pangolin, f, "--offline")
    assert bad.returncode == 1 and f"{f}:4:55: rule one: " in bad.stderr, bad.stderr


@pytest.mark.parametrize("text,error", [
    ("name: x\nrules:\n  - name: r\n    match: type == \"open\" &&\n    action: kill\n",
     ":4:"),
    ("name: x\nrules:\n  - name: r\n    match: type == \"open\"\n    action: explode\n",
     ":5:13: "),
    ("name: x\nrules:\n  - name: r\n    match: type == \"open\" && pod_uid == \"u\"\n    action: kill\n",
     "cannot be decided in the kernel"),
    ("name: x\nrules:\n  - name: r\n    match: type == \"open\"\n    action: kill\n    colour: red\n",
     ":6:5: "),
    ("name: x\nrules: [\n", ":"),
    ("\x00\xff not yaml", ":"),
])
def test_a_bad_policy_is_an_error_naming_where(pangolin, tmp_path, text, error):
    f = tmp_path / "bad.yaml"
    f.write_bytes(text.encode("latin-1"))
    p = check(pangolin, f)
    assert p.returncode == 1, p
    assert p.stdout == ""
    assert p.stderr.startswith(f"pangolin policy: {f}") and error in p.stderr, p.stderr
    assert p.stderr.count("\n") == 1


def test_command_line_errors(pangolin, tmp_path):
    for args in ([], ["check"], ["lint", str(tmp_path)], ["check", str(tmp_path), "--nope"]):
        p = run([pangolin, "policy", *args])
        assert p.returncode == 2, (args, p)
        assert p.stderr.startswith("pangolin policy: ") and p.stdout == "", (args, p.stderr)
    missing = check(pangolin, tmp_path / "missing.yaml")
    assert missing.returncode == 1
    assert missing.stderr == f"pangolin policy: {tmp_path}/missing.yaml: No such file or directory\n"
    h = run([pangolin, "policy", "--help"])
    assert h.returncode == 0 and h.stdout.startswith("usage: pangolin policy check PATH...")


SAMPLE = ROOT / "examples" / "sample.ndjson"


def replay(pangolin, *args):
    p = run([pangolin, "replay", *map(str, args)])
    return p, [json.loads(l) for l in p.stdout.splitlines()]


def test_replay_says_what_a_policy_would_have_done(pangolin, tmp_path):
    """replay --policy: kill and deny rules decide as the kernel would (deny before kill,
    enforce mode before monitor mode, then as loaded), every action a would_ (nothing is
    enforced on a recording), alert rules after them; decided events pass --filter; --stats
    counts per rule."""
    f = tmp_path / "p.yaml"
    f.write_text("""name: first
mode: monitor
rules:
  - name: etc-monitor
    match: type == "open" && path startswith "/etc/"
    action: deny
---
name: second
rules:
  - name: curl-kill
    match: type == "open" && comm == "curl" && path startswith "/etc/"
    action: kill
  - name: nss-deny
    match: type == "open" && path == "/etc/nsswitch.conf"
    action: deny
  - name: connects
    match: type == "connect" && dport == 443
    action: kill
  - name: execs
    match: type == "exec"
    action: alert
""")
    stats = tmp_path / "stats.json"
    p, events = replay(pangolin, SAMPLE, "--policy", f, "--filter", 'type == "fork"', "--stats", stats)
    assert p.returncode == 0, p.stderr
    sample = [json.loads(l) for l in SAMPLE.read_text().splitlines()]
    want = []
    for e in sample:
        d = None
        if e["type"] == "open" and e["path"] == "/etc/nsswitch.conf":
            d = ("would_deny", "second", "nss-deny")
        elif e["type"] == "open" and e["comm"] == "curl" and e["path"].startswith("/etc/"):
            d = ("would_kill", "second", "curl-kill")
        elif e["type"] == "open" and e["path"].startswith("/etc/"):
            d = ("would_deny", "first", "etc-monitor")
        elif e["type"] == "connect" and e["dport"] == 443:
            d = ("would_kill", "second", "connects")
        elif e["type"] == "exec":
            d = ("alert", "second", "execs")
        if d or e["type"] == "fork":
            want.append((e["type"], e.get("path"), d))
    got = [(e["type"], e.get("path"), (e["action"], e["policy"], e["rule"]) if "action" in e else None)
           for e in events]
    assert got == want
    assert {d[2] for _, _, d in want if d} == {"nss-deny", "curl-kill", "etc-monitor", "connects", "execs"}
    counts = json.loads(stats.read_text())["policy"]
    assert counts["second"]["connects"] == {"would_kill": sum(1 for _, _, d in want if d and d[2] == "connects"),
                                            "would_deny": 0}
    assert counts["second"]["execs"] == {"alert": 5}


def test_replay_policy_replaces_the_recordings_decisions(pangolin, tmp_path):
    """An event recorded with another set's decision is decided by the set given, and keeps
    none when no rule of it decides."""
    line = SAMPLE.read_text().splitlines()[2]
    rec = tmp_path / "rec.ndjson"
    rec.write_text(line[:-1] + ',"action":"kill","policy":"old","rule":"gone"}\n')
    f = tmp_path / "p.yaml"
    f.write_text('name: new\nrules:\n  - name: nothing\n    match: type == "setid" && uid == 4242\n    action: kill\n')
    p, events = replay(pangolin, rec, "--policy", f)
    assert p.returncode == 0, p.stderr
    assert len(events) == 1 and "action" not in events[0] and "rule" not in events[0], events
    _, kept = replay(pangolin, rec)  # without --policy the recording's decision stays
    assert kept[0]["action"] == "kill" and kept[0]["rule"] == "gone"


def test_replay_policy_errors(pangolin, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: x\nrules:\n  - name: r\n    match: type == "open" && pod_uid == "u"\n    action: kill\n')
    p, events = replay(pangolin, SAMPLE, "--policy", bad)
    assert p.returncode == 2 and events == []
    assert p.stderr.startswith(f"pangolin replay: --policy: {bad}:4:") and \
        "cannot be decided in the kernel" in p.stderr, p.stderr
    p, _ = replay(pangolin, SAMPLE, "--policy", tmp_path / "missing.yaml")
    assert p.returncode == 2 and "missing.yaml: No such file or directory" in p.stderr
    many = []
    for i in range(65):
        many += ["--policy", bad]
    p, _ = replay(pangolin, SAMPLE, *many)
    assert p.returncode == 2 and "--policy: at most 64 paths" in p.stderr


@pytest.mark.parametrize("match", [
    'type == "open" && cgroup startswith "/user.slice/"',
    'type == "open" && cgroup == "/user.slice/user-1000.slice/session-3.scope" && path startswith "/etc/"',
    'type == "open" && cgroup_id == 8123 && path endswith ".conf"',
    'type in ["open", "connect"] && exe == "/usr/bin/curl"',
    'type == "exec" && exe startswith "/usr/bin/" && uid == 1000',
    'type == "connect" && daddr in ["203.0.113.0/24", "2001:db8::/32"] && dport == 443',
    'type == "dns" && qname endswith ".com"',
    'type == "open" && not (comm in ["curl", "bash"]) && cgroup startswith "/"',
])
def test_replay_policy_decides_what_the_filter_says(pangolin, tmp_path, match):
    """One rule, decided the kernel's way (its selector maps, with the events' cgroup paths and
    binaries as the kernel's facts), picks exactly the events the filter language picks with
    the same expression: two implementations, one answer."""
    f = tmp_path / "p.yaml"
    f.write_text(f"name: one\nrules:\n  - name: r\n    match: '{match}'\n    action: kill\n")
    p, decided = replay(pangolin, SAMPLE, "--process", "--policy", f)
    assert p.returncode == 0, p.stderr
    q, filtered = replay(pangolin, SAMPLE, "--process", "--filter", match)
    assert q.returncode == 0, q.stderr
    got = [(e["type"], e["ts"]) for e in decided if e.get("rule") == "r"]
    want = [(e["type"], e["ts"]) for e in filtered]
    assert want, "the sample has events for every expression here"
    assert got == want and all(e["action"] == "would_kill" for e in decided if "rule" in e)
