"""tests/run, the script CI runs: a suite that reports nothing fails the run, it does not
count as "0 passed, 0 failed" (it once let a run pass with no integration test run).

Unmarked: no root, kernel or broker. The script runs here on a broken conftest, on a Python
without pytest and on unit "binaries" that print too little TAP; each run stops early."""
import os
import re
import subprocess

from conftest import ROOT


def _run_script(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(["bash", str(ROOT / "tests" / "run"), *args], capture_output=True,
                       text=True, env=e, timeout=timeout, cwd=ROOT)
    return r.returncode, r.stdout + r.stderr


def test_broken_conftest_fails_the_run(tmp_path):
    (tmp_path / "conftest.py").write_text('raise RuntimeError("a broken conftest")\n')
    rc, out = _run_script("integration", str(tmp_path))
    assert rc != 0, out
    assert "pytest wrote no results (exit status 4)" in out
    # every pytest suite of the run failed, and nothing passed
    suites = re.findall(r"^\S.*\s0 passed, 1 failed \(no results\)$", out, re.M)
    assert len(suites) >= 2, out
    assert out.rstrip().endswith(f"0 passed, {len(suites)} failed"), out


def test_missing_pytest_fails_the_run():
    # -S: no site-packages, so this Python has no pytest, as on a machine without it
    rc, out = _run_script("integration", "-k", "nothing", env={"PG_TEST_PY": "/usr/bin/python3 -S"})
    assert rc != 0, out
    assert "pytest wrote no results (exit status 1)" in out


def test_unit_binary_without_its_results_fails_the_run(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    silent = tests / "test_silent"
    silent.write_text('#!/bin/sh\necho "it ran, it says"\n')
    short = tests / "test_short"
    short.write_text('#!/bin/sh\necho 1..3\necho "ok 1 - one"\n')
    whole = tests / "test_whole"
    whole.write_text('#!/bin/sh\necho 1..2\necho "ok 1 - one"\necho "ok 2 - two"\n')
    for f in (silent, short, whole):
        f.chmod(0o755)
    rc, out = _run_script("unit", env={"PG_TEST_UNIT_DIRS": str(tmp_path)})
    assert rc != 0, out
    assert f"{silent} reported 0 results for a plan of none" in out
    assert f"{short} reported 1 results for a plan of 3" in out
    assert "test_whole reported" not in out
    assert out.rstrip().endswith("3 passed, 2 failed"), out
