#!/usr/bin/env python3
"""Native kustomize engine vs ``kubectl kustomize`` on every kustomization directory of any repositories.

Usage: python bench/field_kustomize.py ROOT [ROOT...] [--load-restrictor rootOnly|none]
                                     [--diff-lines 12] [--show 50] [--quiet]

For each ROOT (a checked-out repository), every directory holding a kustomization file is built by
``kubectl kustomize DIR`` and by the native engine (a fresh ``Builder(ROOT)`` per directory, so
neither engine keeps a cache between directories), both with kubectl's default ``rootOnly`` load
restrictor, or both with none (``--load-restrictor none``: how Flux builds, reaching files above
the kustomization, as home-ops repositories' shared components often do). The
outcomes are compared the way tests/kustomize/differential.py does (the objects, their order, and
the bytes printed) and counted per root:

  equal                both built the same objects in the same order (``bytes`` counts those of
                       them printed as the same bytes; a byte divergence is listed like the others)
  both-fail            both refused the directory
  only-kubectl-fails   kubectl refused it, the native engine built it
  only-native-fails    kubectl built it, the native engine refused it (``unsupported`` counts the
                       features the engine declines on purpose: helm charts, plugins, remote bases)
  differ               both built it, with different output

Then the first lines of every divergence, and the time each engine took over the directories both
could build. Exit status 1 when anything diverges (unsupported refusals excepted), else 0.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from homeops.core import yamlemit, yamlio  # noqa: E402
from homeops.core.errors import HomeopsError, UnsupportedError  # noqa: E402
from homeops.kustomize.build import KUSTOMIZATION_FILES, Builder, BuildOptions  # noqa: E402

OUTCOMES = ("equal", "both-fail", "only-kubectl-fails", "only-native-fails", "differ")
SKIP_DIRS = {".git", "node_modules", ".venv", "vendor"}


def kustomization_dirs(root: Path) -> list[Path]:
    dirs = {p.parent for name in KUSTOMIZATION_FILES for p in root.rglob(name) if p.is_file()}
    return sorted(d for d in dirs if not SKIP_DIRS.intersection(d.relative_to(root).parts))


@dataclass
class Outcome:
    directory: Path
    kind: str
    detail: list[str] = field(default_factory=list)
    unsupported: bool = False
    same_bytes: bool = False
    kubectl_s: float = 0.0
    native_s: float = 0.0


@dataclass
class Tally:
    root: Path
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)


KUBECTL_TIMEOUT = 120.0


def run_kubectl(directory: Path, restrictor: str = "rootOnly") -> tuple[str | None, str, float]:
    """kubectl's output (None when it fails), its error, and its time. A build that runs past
    KUBECTL_TIMEOUT counts as a failure: kustomize loops forever on some inputs (a replacement
    creating list items its own ``[key=regex]`` selector does not match)."""
    flag = "LoadRestrictionsRootOnly" if restrictor == "rootOnly" else "LoadRestrictionsNone"
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            ["kubectl", "kustomize", "--load-restrictor", flag, str(directory)],
            capture_output=True,
            text=True,
            check=False,
            timeout=KUBECTL_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return (
            None,
            f"kubectl kustomize did not finish in {KUBECTL_TIMEOUT:.0f}s",
            time.perf_counter() - start,
        )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        return None, proc.stderr.strip(), elapsed
    return proc.stdout, "", elapsed


def run_native(
    root: Path, directory: Path, restrictor: str = "rootOnly"
) -> tuple[str | None, str, bool, float]:
    """(printed text, error, unsupported, seconds); a crash is reported as a failure with its traceback's tail."""
    start = time.perf_counter()
    try:
        resources = Builder(root, options=BuildOptions(load_restrictor=restrictor)).build(directory)
        text = yamlemit.dump_all(r.obj for r in resources)
    except UnsupportedError as exc:
        return None, exc.one_line(), True, time.perf_counter() - start
    except HomeopsError as exc:
        return None, exc.one_line(), False, time.perf_counter() - start
    except Exception as exc:
        tail = traceback.format_exc().strip().splitlines()[-4:]
        return (
            None,
            f"CRASH {type(exc).__name__}: {exc} | " + " | ".join(s.strip() for s in tail),
            False,
            time.perf_counter() - start,
        )
    return text, "", False, time.perf_counter() - start


def _ident(obj: Any) -> str:
    if not isinstance(obj, dict):
        return repr(obj)[:60]
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{(ns + '/') if ns else ''}{meta.get('name')}"


def _dump(obj: Any) -> list[str]:
    return yamlemit.dump_all([obj]).splitlines()


def describe_difference(expected: list[Any], actual: list[Any], limit: int) -> list[str]:
    exp_ids, act_ids = [_ident(o) for o in expected], [_ident(o) for o in actual]
    if exp_ids != act_ids:
        lines = ["object order or identity differs (kubectl / native):"]
        lines += [
            f"  {line}"
            for line in difflib.unified_diff(exp_ids, act_ids, "kubectl", "native", lineterm="", n=1)
        ][2:]
        return lines[:limit]
    for exp, act in zip(expected, actual, strict=True):
        if exp != act:
            diff = difflib.unified_diff(_dump(exp), _dump(act), "kubectl", "native", lineterm="", n=2)
            return [f"{_ident(exp)} differs:", *(f"  {line}" for line in list(diff)[2:])][:limit]
    return ["outputs differ"]


def compare(root: Path, directory: Path, limit: int, restrictor: str = "rootOnly") -> Outcome:
    expected_text, kerr, kt = run_kubectl(directory, restrictor)
    actual_text, nerr, unsupported, nt = run_native(root, directory, restrictor)
    expected = None if expected_text is None else yamlio.load_all(expected_text)
    actual = None if actual_text is None else yamlio.load_all(actual_text)
    if expected is None and actual is None:
        out = Outcome(directory, "both-fail", [f"kubectl: {_first(kerr)}", f"native:  {_first(nerr)}"])
    elif expected is None:
        out = Outcome(directory, "only-kubectl-fails", [f"kubectl: {_first(kerr)}"])
    elif actual is None:
        out = Outcome(directory, "only-native-fails", [f"native: {_first(nerr)}"], unsupported=unsupported)
    elif expected == actual:
        out = Outcome(directory, "equal", same_bytes=expected_text == actual_text)
        if not out.same_bytes:
            assert expected_text is not None and actual_text is not None
            lines = difflib.unified_diff(
                expected_text.splitlines(), actual_text.splitlines(), "kubectl", "native", lineterm="", n=1
            )
            out.detail = ["same objects, different bytes:", *(f"  {line}" for line in list(lines)[2:])][
                :limit
            ]
    else:
        out = Outcome(directory, "differ", describe_difference(expected, actual, limit))
    out.kubectl_s, out.native_s = kt, nt
    return out


def _first(text: str) -> str:
    """One line of an error: kubectl's klog wrapper and its multi-line ``err=<...>`` block folded away."""
    text = re.sub(r'^E\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err=', "", text.strip())
    text = re.sub(r"^<\s*|\s*>$", "", text).strip().strip('"')
    return " ".join(line.strip() for line in text.splitlines() if line.strip())[:400]


def report(tallies: list[Tally], show: int, quiet: bool) -> int:
    diverged = 0
    if not quiet:
        for tally in tallies:
            bad = [
                o
                for o in tally.outcomes
                if not o.unsupported and o.kind != "both-fail" and not (o.kind == "equal" and o.same_bytes)
            ]
            unsupported = [o for o in tally.outcomes if o.unsupported]
            if not bad and not unsupported:
                continue
            print(f"== {tally.root}")
            for o in [*bad, *unsupported][:show]:
                tag = "unsupported" if o.unsupported else o.kind if o.kind != "equal" else "bytes-differ"
                print(f"-- {tag}: {o.directory.relative_to(tally.root) or '.'}")
                for line in o.detail:
                    print(f"   {line}")
            if len(bad) + len(unsupported) > show:
                print(f"   ... {len(bad) + len(unsupported) - show} more")
        print()
    width = max([len(t.root.name) for t in tallies] + [10])
    head = f"{'repository':<{width}} {'dirs':>5} " + " ".join(f"{k:>{max(len(k), 5)}}" for k in OUTCOMES)
    head += f" {'bytes':>5}"
    head += f" {'unsupported':>11} {'kubectl s':>10} {'native s':>9} {'speedup':>8}"
    print(head)
    totals = {k: 0 for k in OUTCOMES}
    total_bytes = 0
    total_unsupported = 0
    total_k = total_n = 0.0
    for tally in tallies:
        counts = {k: tally.count(k) for k in OUTCOMES}
        same_bytes = sum(1 for o in tally.outcomes if o.same_bytes)
        total_bytes += same_bytes
        uns = sum(1 for o in tally.outcomes if o.unsupported)
        built = [o for o in tally.outcomes if o.kind in ("equal", "differ")]
        ks, ns = sum(o.kubectl_s for o in built), sum(o.native_s for o in built)
        for k in OUTCOMES:
            totals[k] += counts[k]
        total_unsupported += uns
        total_k, total_n = total_k + ks, total_n + ns
        diverged += counts["only-kubectl-fails"] + counts["differ"] + counts["only-native-fails"] - uns
        diverged += counts["equal"] - same_bytes
        print(_row(tally.root.name, width, len(tally.outcomes), counts, same_bytes, uns, ks, ns))
    if len(tallies) > 1:
        print(
            _row(
                "TOTAL",
                width,
                sum(len(t.outcomes) for t in tallies),
                totals,
                total_bytes,
                total_unsupported,
                total_k,
                total_n,
            )
        )
    print("(bytes: of the equal directories, those printed as the same bytes; times: directories both")
    print(" engines built, kubectl including its process start)")
    return 1 if diverged else 0


def _row(
    name: str, width: int, dirs: int, counts: dict[str, int], same_bytes: int, uns: int, ks: float, ns: float
) -> str:
    cells = " ".join(f"{counts[k]:>{max(len(k), 5)}}" for k in OUTCOMES) + f" {same_bytes:>5}"
    speed = f"{ks / ns:>7.1f}x" if ns else f"{'-':>8}"
    return f"{name:<{width}} {dirs:>5} {cells} {uns:>11} {ks:>10.2f} {ns:>9.2f} {speed}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path, help="repository checkouts to compare")
    parser.add_argument(
        "--load-restrictor",
        choices=("rootOnly", "none"),
        default="rootOnly",
        help="rootOnly: kubectl's default; none: as Flux builds",
    )
    parser.add_argument("--diff-lines", type=int, default=12, help="lines shown per divergence")
    parser.add_argument("--show", type=int, default=50, help="divergences shown per repository")
    parser.add_argument("--quiet", action="store_true", help="print the table only")
    parser.add_argument(
        "--timeout",
        type=float,
        default=KUBECTL_TIMEOUT,
        help="seconds before a kubectl build counts as failed",
    )
    args = parser.parse_args(argv)
    globals()["KUBECTL_TIMEOUT"] = args.timeout
    if shutil.which("kubectl") is None:
        raise SystemExit("kubectl is not on PATH: nothing to compare against")
    tallies = []
    for root in args.roots:
        root = root.resolve()
        if not root.is_dir():
            raise SystemExit(f"not a directory: {root}")
        tally = Tally(root)
        for directory in kustomization_dirs(root):
            tally.outcomes.append(compare(root, directory, args.diff_lines, args.load_restrictor))
        tallies.append(tally)
    return report(tallies, args.show, args.quiet)


if __name__ == "__main__":
    raise SystemExit(main())
