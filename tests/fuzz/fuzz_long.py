"""The long fuzz run: mutate the example repository for N minutes, collect each distinct problem.

    python tests/fuzz/fuzz_long.py --minutes 30 [--seed 1] [--out fuzz-findings]

Unlike the bounded Hypothesis test, it does not stop at the first problem: each problem is keyed by
its signature (for an exit 70, the exception type and the innermost homeops frame, from a rerun
with ``--debug``), and the first example of each is saved under ``--out`` as ``<n>.patch`` (``git
apply`` it to a copy of the example) with the command line and the traceback in ``<n>.txt``.
A summary (examples, seconds, problems per signature) is printed at the end.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzzing import Outcome, Timeout, Workspace, run, run_example


class RandomSource:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


def signature(outcome: Outcome, problems: list[str], root: Path) -> tuple[str, str]:
    """(signature, detail): exit 70 by exception type and innermost homeops frame, else the problem kind."""
    if outcome.code == 70:
        try:
            debug = run([*outcome.argv, "--debug"], root)
        except Timeout:
            return "timeout", ""
        frames = re.findall(r'File "[^"]*/homeops/([^"]+)", line (\d+), in (\w+)', debug.stderr)
        last = debug.stderr.strip().splitlines()[-2] if debug.stderr.strip() else ""
        kind = re.search(r"internal error: (\w+)", outcome.stderr)
        where = f"{frames[-1][0]}:{frames[-1][2]}" if frames else "?"
        return f"exit70 {kind.group(1) if kind else '?'} at {where}", debug.stderr + "\n" + last
    first = problems[0]
    kind = re.sub(r"['\"].*", "", first)[:60]
    return kind, first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", default="fuzz-findings")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    found: dict[str, int] = {}
    counts: Counter[str] = Counter()
    runs = examples = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="homeops-fuzz-") as tmp:
        ws = Workspace(Path(tmp))
        while time.monotonic() - started < args.minutes * 60:
            mutation, results = run_example(RandomSource(rng), ws)
            examples += 1
            for outcome, problems in results:
                runs += 1
                if not problems:
                    continue
                key, detail = signature(outcome, problems, ws.root)
                counts[key] += 1
                if key in found:
                    continue
                n = found[key] = len(found) + 1
                subprocess.run(["git", "-C", str(ws.root), "add", "-A"], check=True)
                patch = subprocess.run(
                    ["git", "-C", str(ws.root), "diff", "--cached", "--binary"],
                    capture_output=True,
                    check=True,
                ).stdout
                subprocess.run(["git", "-C", str(ws.root), "reset", "-q"], check=True)
                (out / f"{n}.patch").write_bytes(patch)
                (out / f"{n}.txt").write_text(
                    f"{key}\nseed {seed}\nmutation: {mutation}\nargv: {outcome.argv}\nexit {outcome.code}\n"
                    f"problems: {problems}\n\n{detail}\n",
                    encoding="utf-8",
                )
                print(f"[{n}] {key}  ({mutation})"[:400], flush=True)
    seconds = time.monotonic() - started
    print(f"\nseed {seed}: {examples} examples, {runs} command runs in {seconds:.0f} s; "
          f"{sum(counts.values())} problem runs, {len(counts)} distinct")  # fmt: skip
    for key, n in counts.most_common():
        print(f"  {n:5}  {key}")
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())
