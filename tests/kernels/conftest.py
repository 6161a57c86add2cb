"""The kernel matrix, host side: what tests/kernels/run brought back from each kernel (a QEMU
guest's 9p share, or the host's own row) is read here, every test is run once per row, and the
outcome becomes a table kernel x feature (ok / missing by design / FAIL) printed at the end and
written to build/kernels/results/table.md."""
import json
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS = pathlib.Path(os.environ.get("PG_KERNEL_RESULTS", ROOT / "build" / "kernels" / "results"))


class Row:
    """One kernel's results directory (see tests/kernels/guest/suite.sh for what is in it)."""

    def __init__(self, name, kind):
        self.name, self.kind = name, kind
        self.dir = RESULTS / name
        self.facts = {}
        p = self.dir / "facts.txt"
        if p.exists():
            for line in p.read_text(errors="replace").splitlines():
                self.facts[line.split(" ", 1)[0]] = parse_fact(line)
        self._events = None

    def file(self, rel):
        return self.dir / rel

    def text(self, rel):
        p = self.dir / rel
        assert p.exists(), f"{self.name}: the suite wrote no {rel}{self.diagnosis()}"
        return p.read_text(errors="replace")

    def fact(self, name):
        assert name in self.facts, f"{self.name}: no fact '{name}' in facts.txt{self.diagnosis()}"
        return self.facts[name]

    def diagnosis(self):
        """The last lines of whatever says why something is missing (console, suite log)."""
        out = []
        for rel in ("boot.txt", "suite.log", "console.log"):
            p = self.dir / rel
            if p.exists():
                tail = p.read_text(errors="replace").splitlines()[-15:]
                out.append(f"--- {rel} (tail) ---\n" + "\n".join(tail))
        return ("\n" + "\n".join(out)) if out else f" ({self.dir} does not exist: never booted)"

    def require_finished(self):
        assert (self.dir / "suite.done").exists(), \
            f"{self.name}: the suite produced no results (did not finish){self.diagnosis()}"

    @property
    def events(self):
        if self._events is None:
            raw = self.text("sensor/events.ndjson")
            self._events = [json.loads(l) for l in raw.splitlines() if l.strip()]
        return self._events

    def of(self, **match):
        return [e for e in self.events if all(e.get(k) == v for k, v in match.items())]


def parse_fact(line):
    """'name k=v k=v reason=free text' -> {'k': v, ...}; numbers become ints."""
    name, _, rest = line.partition(" ")
    out = {}
    reason = None
    if " reason=" in " " + rest:
        idx = (" " + rest).index(" reason=")
        rest, reason = rest[:max(idx - 1, 0)], (" " + rest)[idx + len(" reason="):]
    for tok in rest.split():
        k, _, v = tok.partition("=")
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = v
    if reason is not None:
        out["reason"] = reason
    return out


def load_rows():
    p = RESULTS / "rows"
    if not p.exists():
        return []
    return [Row(*line.split()[:2]) for line in p.read_text().splitlines() if line.strip()]


ROWS = load_rows()


def pytest_generate_tests(metafunc):
    if "row" in metafunc.fixturenames:
        metafunc.parametrize("row", ROWS, ids=[r.name for r in ROWS])


# --- the table -------------------------------------------------------------------------------

_outcomes = {}  # (row, feature) -> "ok" | "FAIL" | ("missing", reason)


def pytest_runtest_logreport(report):
    m = re.match(r".*::test_(\w+)\[(.+)\]$", report.nodeid)
    if not m:
        return
    key = (m.group(2), m.group(1))
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _outcomes[key] = ("missing", reason.removeprefix("Skipped: "))
    elif report.failed:
        _outcomes[key] = "FAIL"
    elif report.when == "call" and key not in _outcomes:
        _outcomes[key] = "ok"


def hooks_of(row):
    """What doctor says this kernel has (kprobes, fentry/fexit, BPF LSM) and the active LSMs."""
    cols = {}
    doc = row.file("doctor.txt")
    text = doc.read_text(errors="replace") if doc.exists() else ""
    for label, pat in (("kprobes", r"^\s*kprobes\s+(\S+)"),
                       ("fentry", r"^\s*fentry/fexit \(tracing programs\)\s+(\S+)"),
                       ("BPF LSM", r"^\s*BPF LSM\s+(\S+)")):
        m = re.search(pat, text, re.M)
        cols[label] = ("yes" if m.group(1) == "ok" else "no") if m else "?"
    m = re.search(r"sensor object\s+ok\s+(tier \d+)", text)
    cols["tier"] = m.group(1) if m else "?"
    gone = re.findall(r"^\s*(\S+/\S+)\s+MISSING", text, re.M)
    cols["missing hooks"] = (", ".join(gone) or "none") if text else "?"
    t = row.file("transport.txt")
    cols["results via"] = ("9p" if "9p=yes" in t.read_text() else "serial console") if t.exists() \
        else ("native" if row.kind == "host" else "nothing")
    lsm = row.facts.get("lsm", {})
    cols["LSMs"] = lsm.get("list") or "(no securityfs)"
    kernel = row.facts.get("kernel", {}).get("release", "?")
    return kernel, cols


def render_table():
    if not ROWS:
        return "no rows: tests/kernels/run did not run (build/kernels/results/rows is missing)\n"
    features = []
    for (_, f) in _outcomes:
        if f not in features:
            features.append(f)
    notes = []
    lines = []
    hook_cols = ["kprobes", "fentry", "BPF LSM"]
    lines.append("| feature | " + " | ".join(
        f"{r.name if r.kind != 'host' else 'host ' + hooks_of(r)[0]}" for r in ROWS) + " |")
    lines.append("| --- |" + " --- |" * len(ROWS))
    for f in features:
        cells = []
        for r in ROWS:
            o = _outcomes.get((r.name, f), "not run")
            if isinstance(o, tuple):
                if o[1] not in notes:
                    notes.append(o[1])
                o = f"missing by design [{notes.index(o[1]) + 1}]"
            cells.append(o)
        lines.append(f"| {f.replace('_', ' ')} | " + " | ".join(cells) + " |")
    hooks = [hooks_of(r)[1] for r in ROWS]
    for h in hook_cols:
        lines.append(f"| *{h} (doctor)* | " + " | ".join(x[h] for x in hooks) + " |")
    lines.append("| *sensor object (doctor)* | " + " | ".join(x["tier"] for x in hooks) + " |")
    lines.append("| *sensor hooks doctor says are missing* | " +
                 " | ".join(x["missing hooks"] for x in hooks) + " |")
    lines.append("| *active LSMs* | " + " | ".join(x["LSMs"] for x in hooks) + " |")
    lines.append("| *results came back over* | " + " | ".join(x["results via"] for x in hooks) + " |")
    for i, n in enumerate(notes):
        lines.append(f"\n[{i + 1}] {n}")
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter):
    table = render_table()
    if RESULTS.exists():
        (RESULTS / "table.md").write_text(table)
    terminalreporter.section("kernel matrix")
    terminalreporter.write(table)
