"""The pangolin command line: help, version, exit codes, `pangolin replay` end to end.

Unmarked: these need no root, kernel or broker, and also run against the ASan+UBSan build.
Golden files: tests/golden/<name>.input.ndjson + <name>.filter -> <name>.expected.ndjson
(PANGOLIN_UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing).
"""
import json
import os
import pathlib
import random
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import ROOT, run

SAMPLE = ROOT / "examples" / "sample.ndjson"
GOLDEN = ROOT / "tests" / "golden"
SUMMARY = re.compile(r"pangolin replay: (\d+) read, (\d+) passed, (\d+) filtered, "
                     r"(\d+) written, (\d+) skipped")


def summary(stderr):
    """(read, passed, filtered, written, skipped) from the summary line."""
    m = SUMMARY.search(stderr)
    assert m, f"no summary line in: {stderr!r}"
    return tuple(int(x) for x in m.groups())


def replay(pangolin, *args, **kw):
    return run([pangolin, "replay", *map(str, args)], **kw)


def line(**over):
    """A canonical fork event with some fields replaced."""
    ev = {"v": 1, "type": "fork", "ts": 1, "pid": 1, "tid": 1, "ppid": 0, "uid": 0, "gid": 0,
          "comm": "sh", "cgroup_id": 1, "start_ns": 1, "child_pid": 2, "child_start_ns": 3}
    ev.update(over)
    return json.dumps(ev, separators=(",", ":"))


# --- help, version, usage errors --------------------------------------------------------------

def test_help(pangolin):
    for args in (["--help"], ["-h"], ["help"]):
        r = run([pangolin, *args])
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("usage: pangolin COMMAND [options]")
        assert re.search(r"^  replay +replay an NDJSON recording", r.stdout, re.M)
        assert "docs/events.md" in r.stdout
        assert r.stderr == ""


def test_command_help(pangolin):
    for args in (["replay", "--help"], ["replay", "-h"], ["help", "replay"]):
        r = run([pangolin, *args])
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("usage: pangolin replay FILE|- [options]")
        for opt in ("--filter", "--output", "--format", "--rotate-size", "--skip-bad", "--quiet"):
            assert opt in r.stdout


def test_no_arguments(pangolin):
    r = run([pangolin])
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("usage: pangolin COMMAND")


def test_version(pangolin):
    for arg in ("--version", "version"):
        r = run([pangolin, arg])
        assert r.returncode == 0
        assert re.fullmatch(r"pangolin \S+ \(event schema v1\)\n", r.stdout), r.stdout


def test_unknown_command(pangolin):
    r = run([pangolin, "frobnicate"])
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr == "pangolin: unknown command 'frobnicate'; 'pangolin --help' lists them\n"


@pytest.mark.parametrize("args, message", [
    (["--bogus", "x"], "option '--bogus' is unknown or needs a value; see 'pangolin replay --help'"),
    (["-x", "f"], "option '-x' is unknown or needs a value"),
    (["f", "--filter"], "option '--filter' is unknown or needs a value"),
    (["f", "-o"], "option '-o' is unknown or needs a value"),
    ([], "which recording? give a FILE, or - for standard input"),
    (["a", "b"], "one recording at a time (got 'b' too)"),
    (["f", "--rotate-size", "lots"], "--rotate-size: 'lots' is not a size (e.g. 64M, 1G)"),
    (["f", "--rotate-size", "0"], "--rotate-size: '0' is not a size"),
    (["f", "--rotate-size", "1M"], "--rotate-size needs --output FILE"),
    (["f", "--format", "xml"], "unknown --format 'xml' (this build writes: ndjson (or json), compact, protobuf)"),
    (["f", "-o", "kafka://127.0.0.1:9/t", "--format", "compact"],
     "--format compact needs a stdout output or a file output (a kafka output writes ndjson or protobuf)"),
    (["f", "-o", "otlp://collector:4317"], "-o otlp://collector:4317: no output of the form 'otlp://' in this build"),
    (["f", "--fsync", "-o", "kafka://127.0.0.1:9/t"], "--fsync applies to file outputs; a kafka:// output is durable"),
    (["f", "--format", "protobuf"], "--format protobuf needs a kafka:// output"),
    (["f", "-X", "acks=all"], "-X applies to kafka:// outputs only"),
    (["f", "-X", "acks"], "-X 'acks': expected KEY=VALUE"),
    (["f", "--kafka-key", "rack"], "--kafka-key: 'rack' is not pod, container, node or none"),
])
def test_usage_errors(pangolin, args, message):
    r = replay(pangolin, *args)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert f"pangolin replay: {message}" in r.stderr


def test_bad_filter(pangolin):
    r = replay(pangolin, SAMPLE, "--filter", 'type == "open" && pid = 3')
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr == ("pangolin replay: --filter: column 23: '=' is not an operator: use '==' to compare\n"
                        '  type == "open" && pid = 3\n'
                        "                        ^\n")


def test_missing_input(pangolin, tmp_path):
    r = replay(pangolin, tmp_path / "nope.ndjson")
    assert r.returncode == 1
    assert r.stderr == f"pangolin replay: cannot open {tmp_path}/nope.ndjson: No such file or directory\n"


# --- replay ----------------------------------------------------------------------------------

def test_replay_file_is_canonical(pangolin):
    r = replay(pangolin, SAMPLE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == SAMPLE.read_text(encoding="utf-8")
    n = len(SAMPLE.read_bytes().splitlines())
    assert summary(r.stderr) == (n, n, 0, n, 0)
    assert re.search(r" in \d+\.\d\d s \(\d+ events/s\)\n$", r.stderr)


def test_replay_stdin(pangolin):
    data = SAMPLE.read_bytes()
    r = subprocess.run([pangolin, "replay", "-"], input=data, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data
    # a stream larger than a pipe holds, in small writes
    p = subprocess.Popen([pangolin, "replay", "-", "-q"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = data.splitlines(keepends=True) * 40
    out = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()))
    reader.start()
    for chunk in lines:
        p.stdin.write(chunk)
    p.stdin.close()
    reader.join(60)
    assert p.wait(60) == 0, p.stderr.read()
    assert out[0] == b"".join(lines)


def test_filter(pangolin):
    r = replay(pangolin, SAMPLE, "--filter", 'type == "open" && comm == "curl" && path startswith "/etc/"')
    assert r.returncode == 0
    got = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(got) == 6
    assert all(e["type"] == "open" and e["path"].startswith("/etc/") for e in got)
    n = len(SAMPLE.read_bytes().splitlines())
    assert summary(r.stderr) == (n, 6, n - 6, 6, 0)
    # -f is the same, and a filter matching nothing writes nothing
    r = replay(pangolin, SAMPLE, "-f", 'comm == "nobody"')
    assert r.returncode == 0 and r.stdout == ""
    assert summary(r.stderr) == (n, 0, n, 0, 0)


def test_filter_file(pangolin, tmp_path):
    """--filter-file: the same filter as -f, for filters longer than an argument may be."""
    flt = 'type == "open" &&\n comm == "curl" &&\n path startswith "/etc/"\n'
    (tmp_path / "f.txt").write_text(flt)
    a = replay(pangolin, SAMPLE, "--filter", flt)
    b = replay(pangolin, SAMPLE, "--filter-file", tmp_path / "f.txt")
    assert a.returncode == b.returncode == 0, b.stderr
    assert b.stdout == a.stdout and len(b.stdout.splitlines()) == 6
    # 10,000 conjuncts (over 128 KiB): the same as a replay through the first and last of them
    terms = [f'pid != {100000 + i}' for i in range(9999)] + ['comm == "curl"']
    (tmp_path / "long.txt").write_text(" && ".join(terms))
    assert (tmp_path / "long.txt").stat().st_size > 131072
    b = replay(pangolin, SAMPLE, "--filter-file", tmp_path / "long.txt")
    c = replay(pangolin, SAMPLE, "--filter", 'pid != 100000 && comm == "curl"')
    assert b.returncode == 0 and b.stdout == c.stdout and b.stdout


@pytest.mark.parametrize("setup, message", [
    (None, "--filter-file {d}/none.txt: No such file or directory"),
    (b'pid == 1\0 || pid == 2', "--filter-file {d}/f.txt: a NUL byte at offset 8: a filter is text"),
    ("both", "--filter and --filter-file: give the filter one way"),
])
def test_filter_file_errors(pangolin, tmp_path, setup, message):
    path = tmp_path / ("none.txt" if setup is None else "f.txt")
    extra = []
    if setup == "both":
        path.write_text("pid == 1")
        extra = ["-f", "pid == 2"]
    elif setup is not None:
        path.write_bytes(setup)
    r = replay(pangolin, SAMPLE, "--filter-file", path, *extra)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"pangolin replay: {message.format(d=tmp_path)}\n"


def test_error_in_a_long_filter(pangolin):
    """The part of a long filter around the error, with the caret under it."""
    flt = " && ".join(f'pid != {i}' for i in range(1000)) + " && pid = 3 && " + \
        " && ".join(f'pid != {i}' for i in range(1000))
    r = replay(pangolin, SAMPLE, "--filter", flt)
    assert r.returncode == 2
    msg, text, caret = r.stderr.splitlines()
    assert msg == f"pangolin replay: --filter: column {flt.index('pid = 3') + 5}: '=' is not an " \
        "operator: use '==' to compare"
    assert text.startswith("  ...") and text.endswith("...") and len(text) < 140
    assert text[caret.index("^"):].startswith("= 3 && ")


def test_output_file(pangolin, tmp_path):
    out = tmp_path / "out.ndjson"
    r = replay(pangolin, SAMPLE, "--output", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert out.read_bytes() == SAMPLE.read_bytes()
    # -o appends to what is there
    r = replay(pangolin, SAMPLE, "-o", out, "-q")
    assert r.returncode == 0 and r.stderr == ""
    assert out.read_bytes() == SAMPLE.read_bytes() * 2
    # - is standard output
    r = replay(pangolin, SAMPLE, "-o", "-", "--format", "json")
    assert r.stdout == SAMPLE.read_text(encoding="utf-8")


def test_output_rotation(pangolin, tmp_path):
    big = tmp_path / "big.ndjson"
    big.write_bytes(SAMPLE.read_bytes() * 50)  # ~780 KB
    out = tmp_path / "rot.ndjson"
    r = replay(pangolin, big, "-o", out, "--rotate-size", "64K")
    assert r.returncode == 0, r.stderr
    files = [out] + [pathlib.Path(f"{out}.{i}") for i in range(1, 6)]
    assert all(f.exists() for f in files)
    assert not pathlib.Path(f"{out}.6").exists()  # five kept by default
    kept = b"".join(f.read_bytes() for f in reversed(files))
    for f in files:
        b = f.read_bytes()
        assert 0 < len(b) <= 65536 and b.endswith(b"\n")
    assert big.read_bytes().endswith(kept)


def test_output_is_input(pangolin, tmp_path):
    f = tmp_path / "rec.ndjson"
    f.write_bytes(SAMPLE.read_bytes())
    (tmp_path / "link.ndjson").symlink_to(f)
    for out in (f, tmp_path / "link.ndjson"):
        r = replay(pangolin, f, "-o", out)
        assert r.returncode == 2
        assert f"--output {out} is the recording being read" in r.stderr
    assert f.read_bytes() == SAMPLE.read_bytes()


def test_output_errors(pangolin, tmp_path):
    r = replay(pangolin, SAMPLE, "-o", tmp_path / "no" / "such" / "dir.ndjson")
    assert r.returncode == 1
    assert "cannot open" in r.stderr and "No such file or directory" in r.stderr
    # a full disk: an error, and the events are counted as failed, not written
    r = replay(pangolin, SAMPLE, "-o", "/dev/full")
    assert r.returncode == 1
    assert "pangolin replay: /dev/full: write: No space left on device" in r.stderr
    n = len(SAMPLE.read_bytes().splitlines())
    assert summary(r.stderr)[3] == 0
    assert f", {n} failed, 0 undelivered" in r.stderr


def test_quiet(pangolin):
    r = replay(pangolin, SAMPLE, "-q")
    assert r.returncode == 0 and r.stderr == ""


def test_empty_input(pangolin, tmp_path):
    f = tmp_path / "empty.ndjson"
    f.write_bytes(b"")
    r = replay(pangolin, f)
    assert r.returncode == 0 and r.stdout == ""
    assert summary(r.stderr) == (0, 0, 0, 0, 0)


# --- bad input -------------------------------------------------------------------------------

def test_error_names_file_line_column(pangolin, tmp_path):
    f = tmp_path / "bad.ndjson"
    f.write_text(line(pid=1) + "\n\n" + line(pid=2) + "\n" + line(pid=-3) + "\n" + line(pid=4) + "\n")
    r = replay(pangolin, f)
    assert r.returncode == 1
    # the events before the bad line were written
    assert [json.loads(x)["pid"] for x in r.stdout.splitlines()] == [1, 2]
    col = line(pid=-3).index("-3") + 1
    assert (f"pangolin replay: {f}:4:{col}: field \"pid\": expected an unsigned integer, found -3\n"
            in r.stderr)
    assert "stopped; use --skip-bad to skip bad lines and count them" in r.stderr
    assert summary(r.stderr) == (2, 2, 0, 2, 0)


def test_error_on_stdin_is_named(pangolin):
    r = run([pangolin, "replay", "-"], input='{"v":1}\n')
    assert r.returncode == 1
    assert "pangolin replay: <stdin>:1:7: missing field \"type\"" in r.stderr


def test_schema_too_new(pangolin, tmp_path):
    f = tmp_path / "v2.ndjson"
    f.write_text(line().replace('"v":1', '"v":2').replace('"type":"fork"', '"type":"newtype"') + "\n")
    r = replay(pangolin, f)
    assert r.returncode == 1
    assert (f"{f}:1:6: field \"v\": schema version 2 is newer than this pangolin reads (1): "
            "upgrade pangolin") in r.stderr


def test_skip_bad(pangolin, tmp_path):
    f = tmp_path / "mixed.ndjson"
    rows = [line(pid=1), "{\"v\":1,\"type\":\"fork\"", line(pid=2), "not json", "", line(pid=3),
            line(pid=4).replace('"comm":"sh"', '"comm":"sh","comm":"sh"'), line(pid=5)]
    f.write_text("\n".join(rows))  # no final newline
    r = replay(pangolin, f, "--skip-bad")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["pid"] for x in r.stdout.splitlines()] == [1, 2, 3, 5]
    assert summary(r.stderr) == (4, 4, 0, 4, 3)
    assert f"pangolin replay: skipped {f}:2:21: expected ',' or '}}' after field \"type\", found end of line\n" in r.stderr
    assert f"pangolin replay: skipped {f}:4:1: expected a JSON object '{{', found an invalid literal\n" in r.stderr
    assert f"pangolin replay: skipped {f}:7:" in r.stderr and 'duplicate field "comm"' in r.stderr
    assert "stopped" not in r.stderr


def test_skip_bad_shows_ten(pangolin, tmp_path):
    f = tmp_path / "many.ndjson"
    f.write_text("".join(f"{line(pid=i)}\n{{bad {i}}}\n" for i in range(25)))
    r = replay(pangolin, f, "--skip-bad")
    assert r.returncode == 0
    assert r.stderr.count("pangolin replay: skipped ") == 10
    assert "pangolin replay: more lines skipped; the summary counts them" in r.stderr
    assert summary(r.stderr) == (25, 25, 0, 25, 25)


def test_huge_line(pangolin, tmp_path):
    f = tmp_path / "huge.ndjson"
    with open(f, "w") as out:
        out.write(line(pid=1) + "\n")
        out.write('{"comm":"' + "x" * (10 << 20) + '"}\n')
        out.write(line(pid=3) + "\n")
    r = replay(pangolin, f)
    assert r.returncode == 1
    assert f"{f}:2:1: line longer than 1048576 bytes (the limit)" in r.stderr
    r = replay(pangolin, f, "--skip-bad")
    assert r.returncode == 0
    assert [json.loads(x)["pid"] for x in r.stdout.splitlines()] == [1, 3]
    assert summary(r.stderr) == (2, 2, 0, 2, 1)


def test_binary_garbage(pangolin, tmp_path):
    rnd = random.Random(5)
    f = tmp_path / "garbage.bin"
    f.write_bytes(bytes(rnd.getrandbits(8) for _ in range(200000)))
    r = subprocess.run([pangolin, "replay", str(f)], capture_output=True, timeout=60)
    assert r.returncode == 1
    assert f"{f}:1:".encode() in r.stderr
    r = subprocess.run([pangolin, "replay", str(f), "--skip-bad"], capture_output=True, timeout=60)
    assert r.returncode == 0
    read, passed, filtered, written, skipped = summary(r.stderr.decode())
    assert read == 0 and skipped > 500
    # error messages stay printable whatever the input
    assert all(32 <= b < 127 or b == 10 for b in r.stderr)


def test_crlf_and_blank_lines(pangolin, tmp_path):
    f = tmp_path / "crlf.ndjson"
    f.write_bytes(b"\r\n".join([line(pid=1).encode(), b"", b"  \t", line(pid=2).encode(), b""]))
    r = replay(pangolin, f)
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["pid"] for x in r.stdout.splitlines()] == [1, 2]
    assert "\r" not in r.stdout
    assert summary(r.stderr) == (2, 2, 0, 2, 0)


def test_interrupt_while_waiting(pangolin):
    """SIGINT while replay blocks on an open, silent stdin stops it at once."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = subprocess.Popen([pangolin, "replay", "-"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write((line(pid=9) + "\n").encode())
        p.stdin.flush()
        time.sleep(0.5)
        p.send_signal(sig)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            pytest.fail(f"replay did not stop on {sig.name} while waiting for input")
        assert p.returncode == 1
        assert b"interrupted; stopping after the events read so far" in err
        assert json.loads(out)["pid"] == 9  # what was read is written
        assert summary(err.decode()) == (1, 1, 0, 1, 0)


# --- round trips -----------------------------------------------------------------------------

def random_events(n, seed):
    """Events with strings Python builds from arbitrary bytes (surrogateescape)."""
    rnd = random.Random(seed)
    alphabet = [b"a", b"/", b" ", b'"', b"\\", b"\n", b"\t", b"\x01", b"\x7f", "é".encode(),
                "日".encode(), "😀".encode(), b"\x80", b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80"]

    def s(maxlen):
        out = b""
        while len(out) < rnd.randint(0, maxlen):
            p = rnd.choice(alphabet)
            if len(out) + len(p) > maxlen:
                break
            out += p
        return out

    evs = []
    for i in range(n):
        raw = {"comm": s(15), "path": s(255), "argv": [s(20) for _ in range(rnd.randint(0, 5))]}
        t = rnd.choice(["exec", "open"])
        ev = {"v": 1, "type": t, "ts": rnd.randint(0, 2**64 - 1), "pid": rnd.randint(0, 2**32 - 1),
              "tid": 1, "ppid": 1, "uid": 0, "gid": 0, "comm": raw["comm"],
              "cgroup_id": rnd.randint(0, 2**64 - 1), "start_ns": 1}
        if t == "exec":
            ev.update(path=raw["path"], argv=raw["argv"])
        else:
            ev.update(dirfd=-100, flags=0, mode=0, ret=rnd.randint(-2**31, 2**31 - 1), path=raw["path"])
        evs.append((ev, raw))
    return evs


def test_round_trip_python_bytes(pangolin, tmp_path):
    """Bytes -> Python json (surrogateescape) -> pangolin -> canonical -> the same bytes back."""
    evs = random_events(2000, 11)
    src = tmp_path / "py.ndjson"
    with open(src, "w", encoding="ascii") as f:
        for ev, raw in evs:
            dec = {k: (v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else
                       [a.decode("utf-8", "surrogateescape") for a in v] if k == "argv" else v)
                   for k, v in ev.items()}
            f.write(json.dumps(dec) + "\n")  # ensure_ascii: lone surrogates as \udcXX
    a = tmp_path / "a.ndjson"
    b = tmp_path / "b.ndjson"
    assert replay(pangolin, src, "-o", a, "-q").returncode == 0
    assert replay(pangolin, a, "-o", b, "-q").returncode == 0
    assert a.read_bytes() == b.read_bytes()  # canonical input replays byte-identical
    got = a.read_bytes().splitlines()
    assert len(got) == len(evs)
    for raw_line, (ev, raw) in zip(got, evs):
        raw_line.decode("utf-8")  # the output is valid UTF-8
        back = json.loads(raw_line)
        assert back["comm"].encode("utf-8", "surrogateescape") == raw["comm"]
        assert back["path"].encode("utf-8", "surrogateescape") == raw["path"]
        if ev["type"] == "exec":
            assert [x.encode("utf-8", "surrogateescape") for x in back["argv"]] == raw["argv"]
        assert back["ts"] == ev["ts"] and back["cgroup_id"] == ev["cgroup_id"]
        try:
            raw["path"].decode("utf-8")
        except UnicodeDecodeError:  # bytes that are not UTF-8 are written as \udc80..\udcff
            assert re.search(rb"\\udc[89a-f][0-9a-f]", raw_line)


def test_record_replay_round_trip(pangolin, tmp_path):
    """What replay writes (the recording format) replays to the same bytes, through a filter too."""
    gen = ROOT / "bench" / "gen_events.py"
    raw = tmp_path / "gen.ndjson"
    with open(raw, "w") as f:
        subprocess.run(["python3", str(gen), "20000", "--seed", "3"], stdout=f, check=True, timeout=120)
    rec = tmp_path / "rec.ndjson"
    assert replay(pangolin, raw, "-o", rec, "-q").returncode == 0
    r = subprocess.run([pangolin, "replay", str(rec), "-q"], capture_output=True, timeout=120)
    assert r.returncode == 0
    assert r.stdout == rec.read_bytes()
    # the same events, field for field, as Python reads them
    for x, y in zip(raw.read_text().splitlines(), rec.read_text().splitlines()):
        want = json.loads(x)
        got = json.loads(y)
        got.pop("time")
        assert got == want
    f = 'type == "connect" && daddr == "10.0.0.0/8" && dport in [443, 9092]'
    r = replay(pangolin, rec, "-f", f)
    kept = [json.loads(x) for x in rec.read_text().splitlines()]
    want = [e for e in kept if e["type"] == "connect" and e["daddr"].startswith("10.")
            and e["dport"] in (443, 9092)]
    assert [json.loads(x) for x in r.stdout.splitlines()] == want
    assert summary(r.stderr)[1] == len(want) > 100


# --- golden files ----------------------------------------------------------------------------

GOLDENS = sorted(p.name[:-len(".filter")] for p in GOLDEN.glob("*.filter"))


def test_enough_goldens():
    assert len(GOLDENS) >= 6
    for name in GOLDENS:
        assert (GOLDEN / f"{name}.input.ndjson").exists(), name
        assert (GOLDEN / f"{name}.expected.compact").exists(), name


@pytest.mark.parametrize("name", GOLDENS)
def test_golden(pangolin, name):
    expr = (GOLDEN / f"{name}.filter").read_text().rstrip("\n")
    expected = GOLDEN / f"{name}.expected.ndjson"
    r = subprocess.run([pangolin, "replay", str(GOLDEN / f"{name}.input.ndjson"), "-f", expr],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    if os.environ.get("PANGOLIN_UPDATE_GOLDEN") == "1":
        expected.write_bytes(r.stdout)
    assert r.stdout == expected.read_bytes(), f"{name}: output differs from {expected}"
    read, passed, filtered, written, skipped = summary(r.stderr.decode())
    assert passed == written == len(r.stdout.splitlines())
    assert read == passed + filtered and skipped == 0


# --- the view for people (--format compact) ------------------------------------------------------

def replay_compact(pangolin, name, *args, env=None):
    expr = (GOLDEN / f"{name}.filter").read_text().rstrip("\n")
    return subprocess.run([pangolin, "replay", str(GOLDEN / f"{name}.input.ndjson"), "-f", expr,
                           "--format", "compact", *args], capture_output=True, timeout=60,
                          env={**os.environ, "TZ": "UTC", **(env or {})})


@pytest.mark.parametrize("name", GOLDENS)
def test_golden_compact(pangolin, name):
    """One line per event a person scans: the same events as the NDJSON golden, in order."""
    expected = GOLDEN / f"{name}.expected.compact"
    r = replay_compact(pangolin, name)
    assert r.returncode == 0, r.stderr.decode()
    if os.environ.get("PANGOLIN_UPDATE_GOLDEN") == "1":
        expected.write_bytes(r.stdout)
    assert r.stdout == expected.read_bytes(), f"{name}: output differs from {expected}"
    ndjson = (GOLDEN / f"{name}.expected.ndjson").read_bytes().splitlines()
    assert len(r.stdout.splitlines()) == len(ndjson)
    assert b"\x1b" not in r.stdout  # into a pipe: no colour


def on_a_terminal(argv, env):
    """Run argv with standard output on a pseudo-terminal; (status, bytes it wrote there)."""
    import pty
    import select
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=30), out.replace(b"\r\n", b"\n")


def test_compact_is_the_default_on_a_terminal_in_colour(pangolin):
    """Standard output a terminal: compact lines, in colour, unless NO_COLOR; a pipe: NDJSON."""
    argv = [pangolin, "replay", str(GOLDEN / "people.input.ndjson"), "-q"]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TZ"] = "UTC"
    rc, out = on_a_terminal(argv, env)
    assert rc == 0
    plain = (GOLDEN / "people.expected.compact").read_bytes()
    assert b"\x1b[" in out
    assert re.sub(rb"\x1b\[[0-9;]*m", b"", out) == plain
    assert b"\x1b[31mEACCES\x1b[0m" in out  # errors in red
    rc, out = on_a_terminal(argv, {**env, "NO_COLOR": "1"})
    assert rc == 0 and out == plain
    rc, out = on_a_terminal(argv + ["--format", "ndjson"], env)
    assert rc == 0 and out == (GOLDEN / "people.expected.ndjson").read_bytes()
    r = subprocess.run(argv, capture_output=True, timeout=60)
    assert r.stdout == (GOLDEN / "people.expected.ndjson").read_bytes()


def test_compact_into_a_file(pangolin, tmp_path):
    out = tmp_path / "events.txt"
    r = replay_compact(pangolin, "people", "-o", f"file:{out}")
    assert r.returncode == 0, r.stderr.decode()
    assert out.read_bytes() == (GOLDEN / "people.expected.compact").read_bytes()


def test_record_is_ndjson_only(pangolin, tmp_path):
    r = run([pangolin, "record", "-o", str(tmp_path / "r"), "--format", "compact"], timeout=30)
    assert r.returncode == 2
    assert "--format compact: a recording is NDJSON" in r.stderr
