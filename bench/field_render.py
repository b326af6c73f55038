#!/usr/bin/env python3
"""Render every cluster of one or more repositories and summarise what came out.

Usage: python bench/field_render.py ROOT [ROOT...] [--verbose] [--json] [--var K=V ...]

For each repository: the clusters ``discover_clusters`` finds, and for each cluster the Flux
Kustomizations rendered / errored / external, the objects, the render findings by rule and the
time taken. ``--verbose`` prints every finding (file:line and message) and every crash with its
traceback; ``--json`` prints one JSON object per cluster instead of the table. A crash (an
exception the renderer did not turn into a finding) is a bug of ours, always shown.

Exit code: 0, or 1 when any cluster crashed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from homeops.core.profile import load_profile  # noqa: E402
from homeops.flux.cluster import Cluster, discover_clusters  # noqa: E402
from homeops.flux.render import ClusterRenderer  # noqa: E402


def render_one(root: Path, cluster: Cluster, cli_vars: dict[str, str]) -> dict[str, Any]:
    profile = load_profile(root)
    start = time.perf_counter()
    row: dict[str, Any] = {"repo": root.name, "cluster": cluster.name, "directory": cluster.directory}
    try:
        result = ClusterRenderer(root, cluster, profile=profile, cli_vars=cli_vars).render()
    except Exception as exc:
        row.update(
            seconds=time.perf_counter() - start,
            crash=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
        )
        return row
    elapsed = time.perf_counter() - start
    rendered = errored = external = 0
    for rk in result.rendered.values():
        if rk.error is not None:
            errored += 1
        elif rk.notes:
            external += 1
        else:
            rendered += 1
    row.update(
        seconds=elapsed,
        kustomizations=len(result.rendered),
        rendered=rendered,
        errored=errored,
        external=external,
        objects=sum(len(rk.resources) for rk in result.rendered.values()),
        by_rule=dict(sorted(Counter(f.rule for f in result.findings).items())),
        findings=[
            {
                "rule": f.rule,
                "severity": f.severity,
                "where": f"{f.file}:{f.line}" if f.file else "",
                "message": f.message,
            }
            for f in result.findings
        ],
        external_sources=sorted({str(r) for r in result.external_sources}),
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--var", action="append", default=[], metavar="K=V")
    args = parser.parse_args(argv)
    cli_vars = dict(v.split("=", 1) for v in args.var if "=" in v)
    crashed = False
    header = f"{'repo':<16} {'cluster':<22} {'ks':>4} {'ok':>4} {'err':>4} {'ext':>4} {'objects':>7} {'sec':>6}  findings"
    if not args.json:
        print(header)
    for root in args.roots:
        root = root.resolve()
        if not root.is_dir():
            continue
        try:
            clusters = discover_clusters(root, load_profile(root))
        except Exception as exc:
            print(f"{root.name:<16} discovery crashed: {type(exc).__name__}: {exc}")
            crashed = True
            continue
        if not clusters:
            print(f"{root.name:<16} (no cluster found)")
        for cluster in clusters:
            row = render_one(root, cluster, cli_vars)
            if args.json:
                print(json.dumps(row))
                crashed |= "crash" in row
                continue
            if "crash" in row:
                crashed = True
                print(f"{row['repo']:<16} {row['cluster']:<22} CRASH {row['crash']}  [{cluster.directory}]")
                if args.verbose:
                    print(row["traceback"])
                continue
            rules = " ".join(f"{k}={v}" for k, v in row["by_rule"].items()) or "-"
            print(
                f"{row['repo']:<16} {row['cluster']:<22} {row['kustomizations']:>4} {row['rendered']:>4} "
                f"{row['errored']:>4} {row['external']:>4} {row['objects']:>7} {row['seconds']:>6.2f}  {rules}"
                f"  [{cluster.directory}]"
            )
            if args.verbose:
                for f in row["findings"]:
                    print(f"    {f['rule']} {f['severity']:<7} {f['where']}: {f['message']}")
                for src in row["external_sources"]:
                    print(f"    external source: {src}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
