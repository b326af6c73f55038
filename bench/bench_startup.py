#!/usr/bin/env python3
"""Start-up of the ``homeops`` command as users run it (whole processes), against ``python -c pass``.

Usage: python bench/bench_startup.py [--runs N]

Prints the median wall time of N runs (default 21) of each command, side by side with the floor of
any Python CLI (the same interpreter running ``pass``), and the ratio. Targets (issue 14):
``--version`` <= 4x the floor, ``--help`` <= 8x.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "home-ops"


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    exe = shutil.which("homeops")
    if exe is None:
        sys.exit("homeops is not on PATH: pip install -e . first")
    cases = [
        ("python -c pass (floor)", [sys.executable, "-c", "pass"], None),
        ("homeops --version", [exe, "--version"], 4.0),
        ("homeops --help", [exe, "--help"], 8.0),
        ("homeops rules", [exe, "rules"], None),
        ("homeops get clusters (example)", [exe, "get", "clusters", "--path", str(EXAMPLE)], None),
    ]
    floor = 0.0
    print(f"{'command':34} {'median':>9} {'x floor':>8} {'target':>7}")
    for label, cmd, target in cases:
        seconds = median_seconds(cmd, args.runs)
        floor = floor or seconds
        ratio = seconds / floor
        verdict = "" if target is None else (f"<= {target:.0f}x " + ("ok" if ratio <= target else "MISSED"))
        print(f"{label:34} {seconds * 1000:7.1f} ms {ratio:7.1f}x {verdict:>7}")


if __name__ == "__main__":
    main()
