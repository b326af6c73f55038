#!/usr/bin/env python3
"""``homeops check`` on the corpus: render of every cluster plus all rules, no Helm.

Usage: python bench/bench_check.py [--rounds 5] [--root ../shared/corpus/rtrox-home-ops]

Each round runs in a fresh process (nothing cached): the time of ``run_checks`` (render + rules), the
time of the rules alone, and the whole command as a user runs it (``homeops check --format json``,
interpreter start-up included). Target: 1.5 s on the corpus. Prints medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = """
import json, sys, time
sys.path.insert(0, {src!r})
from pathlib import Path
from homeops.core.profile import load_profile
from homeops.rules import engine
root = Path({root!r})
profile = load_profile(root)
start = time.perf_counter()
renders = engine.render_all(root, profile, None, {{}}, engine.FileCache(root))
rendered = time.perf_counter()
findings, _ = engine.run_checks(root, profile, renders=renders)
done = time.perf_counter()
print(json.dumps({{"render": rendered - start, "rules": done - rendered, "total": done - start,
                  "findings": len(findings)}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT.parent / "shared" / "corpus" / "rtrox-home-ops")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = args.root.resolve()
    if not root.is_dir():
        raise SystemExit(f"no repository at {root}")
    library, command = [], []
    for _ in range(args.rounds):
        code = _CHILD.format(src=str(ROOT / "src"), root=str(root))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        library.append(json.loads(out.stdout))
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", "check", str(root), "--format", "json"],
            capture_output=True,
            check=False,
            cwd=ROOT,
        )
        command.append(time.perf_counter() - start)
    med = {k: statistics.median(float(r[k]) for r in library) for k in ("render", "rules", "total")}
    print(
        f"homeops check on {root.name}: {library[0]['findings']} findings, median of {args.rounds} fresh processes"
    )
    print(f"{'render (all clusters)':<34}{med['render']:>8.3f} s")
    print(f"{'rules':<34}{med['rules']:>8.3f} s")
    print(f"{'render + rules (run_checks)':<34}{med['total']:>8.3f} s   target 1.5 s")
    print(f"{'whole command (with start-up)':<34}{statistics.median(command):>8.3f} s")


if __name__ == "__main__":
    main()
