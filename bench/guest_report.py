#!/usr/bin/env python3
"""Medians and ratios of a guest benchmark run (bench/guest.sh): for each kernel, each
configuration's median ops/s of the open+close loop, its cost relative to the loop alone and
to the floor (the empty program on sys_exit), and for pangolin what it delivered and lost.

usage: guest_report.py RESULTS_DIR     (one subdirectory per kernel, each with bench.txt)
"""
import pathlib
import statistics
import sys


def parse(path):
    rows = []
    for line in path.read_text().splitlines():
        d = dict(t.split("=", 1) for t in line.split() if "=" in t)
        rows.append(d)
    return rows


def report(kdir):
    bench = kdir / "bench.txt"
    boot = (kdir / "boot.txt").read_text().strip() if (kdir / "boot.txt").exists() else "?"
    print(f"\n== {kdir.name} ({boot})")
    if not bench.exists() or not (kdir / "suite.done").exists():
        print(f"no finished benchmark: see {kdir}/console.log")
        return False
    rows = parse(bench)
    errors = [r for r in rows if "error" in r]
    configs = list(dict.fromkeys(r["config"] for r in rows))
    ops = {c: [float(r["ops_per_s"]) for r in rows if r["config"] == c and "ops_per_s" in r]
           for c in configs}
    med = {c: statistics.median(v) for c, v in ops.items() if v}
    alone, floor = med.get("alone"), med.get("empty-hook")
    # TCG on a shared machine drifts from round to round (2x seen): each configuration is also
    # compared with the floor of its own round, and the median of those ratios reported
    floor_of = {r["round"]: float(r["ops_per_s"]) for r in rows
                if r["config"] == "empty-hook" and "ops_per_s" in r}
    print(f"{'config':16s} {'rounds':>6s} {'ops/s':>9s} {'ns/op':>9s} {'vs alone':>9s} {'vs floor':>9s}"
          f" {'per-round vs floor (min-max)':>29s} {'delivered':>10s} {'lost':>6s} {'tier':>5s}")
    for c in configs:
        if c not in med:
            continue
        rs = [r for r in rows if r["config"] == c and "ops_per_s" in r]
        n = sum(int(r["n"]) for r in rs)
        got = sum(int(r["delivered"]) for r in rs if "delivered" in r)
        lost = sum(int(r["lost"]) for r in rs if r.get("lost"))
        tiers = sorted({r["tier"] for r in rs if r.get("tier")})
        dlv = f"{100.0 * got / n:.2f}%" if c == "pangolin-all" else ""
        if c == "pangolin-all" and got + lost != n:
            dlv += f" (delivered + lost = {got + lost}, loop made {n}!)"
        per = [floor_of[r["round"]] / float(r["ops_per_s"]) for r in rs if r["round"] in floor_of]
        per_s = f"{statistics.median(per):.3f} ({min(per):.2f}-{max(per):.2f})" if per else ""
        print(f"{c:16s} {len(rs):>6d} {med[c]:>9.0f} {1e9 / med[c]:>9.0f}"
              f" {alone / med[c] if alone else 0:>9.3f} {floor / med[c] if floor else 0:>9.3f}"
              f" {per_s:>29s} {dlv:>10s} {str(lost) if c.startswith('pangolin') else '':>6s}"
              f" {','.join(tiers):>5s}")
    if errors:
        print(f"{len(errors)} runs never started: see {kdir}/bench-errors.txt")
    return True


def main():
    res = pathlib.Path(sys.argv[1])
    ok = [report(d) for d in sorted(p for p in res.iterdir() if p.is_dir())]
    sys.exit(0 if ok and all(ok) else 1)


if __name__ == "__main__":
    main()
