#!/usr/bin/env python3
"""Start-up of the ``homeops`` command as users run it (whole processes), against ``python -c pass``.

Usage: python bench/bench_startup.py [--runs N]

Prints the median wall time of N runs (default 21) of each command, side by side with the floor of
any Python CLI (the same interpreter running ``pass``), and the ratio. Targets (issue 14):
``--version`` <= 4x the floor, ``--help`` <= 8x.

The package is byte-compiled first and the commands run without ``PYTHONDONTWRITEBYTECODE``, as after
``pip install`` (which compiles): a module without its ``.pyc`` is compiled again by every process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "home-ops"


def installed_environment() -> dict[str, str]:
    """The package's bytecode written (what ``pip install`` does), and an environment that lets Python
    use and write it (``PYTHONDONTWRITEBYTECODE`` dropped)."""
    import homeops

    package = Path(homeops.__file__).resolve().parent
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(package)], stdout=subprocess.DEVNULL, check=True
    )
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    exe = shutil.which("homeops")
    if exe is None:
        sys.exit("homeops is not on PATH: pip install -e . first")
    env = installed_environment()
    cases = [
        ("python -c pass (floor)", [sys.executable, "-c", "pass"], None),
        ("homeops --version", [exe, "--version"], 4.0),
        ("homeops --help", [exe, "--help"], 8.0),
        ("homeops rules", [exe, "rules"], None),
        (
            "homeops get clusters (example)",
            [exe, "get", "clusters", "--path", str(EXAMPLE), "--no-cache"],
            None,
        ),
    ]
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(args.runs):  # the commands take turns: a busy machine slows them alike
        for i, (_label, cmd, _target) in enumerate(cases):
            times[i].append(once(cmd, env))
    floor = statistics.median(times[0])
    print(
        f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); {args.runs} runs each, taking turns"
    )
    print(f"{'command':34} {'median':>9} {'x floor':>8} {'fastest':>9} {'target':>10}")
    for (label, _cmd, target), samples in zip(cases, times, strict=True):
        seconds = statistics.median(samples)
        ratio = seconds / floor
        verdict = "" if target is None else (f"<= {target:.0f}x " + ("ok" if ratio <= target else "MISSED"))
        print(
            f"{label:34} {seconds * 1000:7.1f} ms {ratio:7.1f}x {min(samples) * 1000:6.1f} ms {verdict:>10}"
        )


if __name__ == "__main__":
    main()
