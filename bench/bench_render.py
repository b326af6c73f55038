#!/usr/bin/env python3
"""Whole-cluster render vs one ``kubectl kustomize`` per Flux Kustomization path, with peak memory.

Usage: python bench/bench_render.py [--rounds 3] [--sizes 100,300,1000] [--kubectl-max 300]

Cases: the corpus cluster ``chongus`` and synthetic repositories of N apps (bench/synthetic.py).
Each homeops measurement runs in a fresh process (cold: no parse cache), timing the render and
reading the process's peak RSS. The baseline is what flux-local did: one ``kubectl kustomize`` per
Flux Kustomization path that has a kustomization file (paths Flux generates one for are skipped, so
the baseline is, if anything, flattered). Medians side by side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402

_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
from pathlib import Path
from homeops.flux.cluster import resolve_cluster
from homeops.flux.render import render_cluster
from homeops.core.profile import DEFAULT
root = Path({root!r})
start = time.perf_counter()
result = render_cluster(root, resolve_cluster(root, DEFAULT, {cluster!r}))
elapsed = time.perf_counter() - start
objects = sum(len(rk.resources) for rk in result.rendered.values())
paths = sorted({{rk.ks.path for rk in result.rendered.values()}})
print(json.dumps({{"seconds": elapsed, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "kustomizations": len(result.rendered), "objects": objects, "paths": paths}}))
"""


def homeops_once(root: Path, cluster: str) -> dict[str, object]:
    code = _CHILD.format(src=str(ROOT / "src"), root=str(root), cluster=cluster)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def kubectl_once(root: Path, paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    count = 0
    for p in paths:
        d = root / p
        if any((d / n).is_file() for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")):
            subprocess.run(
                ["kubectl", "kustomize", "--load-restrictor=LoadRestrictionsNone", str(d)],
                capture_output=True,
                check=False,
            )
            count += 1
    return time.perf_counter() - start, count


def measure(label: str, root: Path, cluster: str, rounds: int, with_kubectl: bool) -> dict[str, object]:
    runs = [homeops_once(root, cluster) for _ in range(rounds)]
    seconds = statistics.median(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
    rss = max(float(r["rss_mb"]) for r in runs)  # type: ignore[arg-type]
    row: dict[str, object] = {
        "case": label,
        "ks": runs[0]["kustomizations"],
        "objects": runs[0]["objects"],
        "homeops_s": seconds,
        "rss_mb": rss,
    }
    if with_kubectl:
        times = []
        for _ in range(max(1, rounds if label.startswith("corpus") else 1)):
            t, count = kubectl_once(root, list(runs[0]["paths"]))  # type: ignore[call-overload]
            times.append(t)
        row["kubectl_s"] = statistics.median(times)
        row["kubectl_builds"] = count
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument(
        "--kubectl-max", type=int, default=1000, help="largest synthetic size to run kubectl on"
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "rtrox-home-ops")
    args = parser.parse_args()
    rows = []
    if args.corpus.is_dir():
        rows.append(measure("corpus chongus", args.corpus.resolve(), "chongus", args.rounds, True))
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",") if s):
            root = synthetic.generate(Path(tmp) / f"apps{size}", size)
            rows.append(
                measure(f"synthetic {size} apps", root, "bench", args.rounds, size <= args.kubectl_max)
            )
    print(f"whole-cluster render, median of {args.rounds} fresh processes; kubectl: one process per path")
    print(
        f"{'case':<22}{'ks':>6}{'objects':>9}{'homeops s':>11}{'peak MB':>9}{'kubectl s':>11}{'speedup':>9}"
        f"{'ms/app':>8}"
    )
    for r in rows:
        k = r.get("kubectl_s")
        speed = f"{float(k) / float(r['homeops_s']):.1f}x" if k else "-"  # type: ignore[arg-type]
        per_app = float(r["homeops_s"]) / max(int(r["ks"]), 1) * 1000  # type: ignore[call-overload,arg-type]
        ktext = f"{float(k):.2f}" if k else "-"  # type: ignore[arg-type]
        print(
            f"{r['case']:<22}{r['ks']:>6}{r['objects']:>9}{float(r['homeops_s']):>11.3f}"  # type: ignore[arg-type]
            f"{float(r['rss_mb']):>9.0f}{ktext:>11}{speed:>9}{per_app:>8.2f}"
        )  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
