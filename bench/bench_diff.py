"""Benchmark ``homeops diff`` against a single render of the same cluster.

A copy of the corpus (``../shared/corpus/rtrox-home-ops``) becomes a Git repository with two commits;
the second changes one app (an image tag and a value). Measured, in process, median of N runs:

* ``single render``: one render of the cluster from the working tree (what ``homeops build ks`` does);
* ``diff HEAD~1..HEAD``: as in CI (the head is checked out and clean: rendered in place while the
  base is materialised from Git objects in the background; the base reuses the head's renders);
* ``head materialised``: the same with both revisions materialised (a head that is not checked out);
* ``no render reuse``: the same as the first without reusing renders (parses are still shared);
* ``diff HEAD..working tree``: ``HEAD`` against an uncommitted change (the default mode);
* the same as command lines (``homeops build ks`` vs ``homeops diff``, interpreter start-up included).

Run: ``python bench/bench_diff.py [--runs 7] [--cluster chongus] [--corpus DIR]``. Target: diff ≤ 2× render.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from homeops.core.profile import load_profile
from homeops.diff.revisions import DiffOptions, diff_repository
from homeops.flux.cluster import resolve_cluster
from homeops.flux.render import render_cluster

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "rtrox-home-ops"
APP = "cluster-apps/chongus/default/echo-server/app/helmrelease.yaml"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        check=True,
        capture_output=True,
    )


def change_one_app(repo: Path) -> None:
    """Bump the echo-server image tag and one value of its HelmRelease."""
    path = repo / APP
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip().startswith("tag:"):
            lines[i] = line.split("tag:")[0] + "tag: 9.9.9\n"
            break
    else:
        raise SystemExit(f"no image tag in {APP}")
    path.write_text("".join(lines).replace("replicas: 1", "replicas: 2", 1))


def interleaved(variants: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median seconds of each variant, the variants taking turns (fair under a busy machine)."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def cli(repo: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args, "--path", str(repo)],
        capture_output=True,
        check=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cluster", default="chongus")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="homeops-bench-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(args.corpus, repo, ignore=shutil.ignore_patterns(".git"))
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "base")
        git(repo, "gc", "-q")
        change_one_app(repo)
        git(repo, "commit", "-qam", "change one app")

        profile = load_profile(repo)
        cluster = resolve_cluster(repo, profile, args.cluster)
        render_cluster(repo, cluster, profile=profile)  # warm imports and the OS cache
        c = args.cluster
        result = diff_repository(repo, DiffOptions(base="HEAD~1", head="HEAD", cluster=c))
        committed = interleaved(
            {
                "single render": lambda: render_cluster(repo, cluster, profile=profile),
                "diff HEAD~1..HEAD": lambda: diff_repository(
                    repo, DiffOptions(base="HEAD~1", head="HEAD", cluster=c)
                ),
                "  head materialised": lambda: diff_repository(
                    repo, DiffOptions(base="HEAD~1", head="HEAD", cluster=c, in_place=False)
                ),
                "  no render reuse": lambda: diff_repository(
                    repo, DiffOptions(base="HEAD~1", head="HEAD", cluster=c, reuse=False)
                ),
            },
            args.runs,
        )
        commands = interleaved(
            {
                "CLI homeops build ks": lambda: cli(repo, "build", "ks", "--cluster", c),
                "CLI homeops diff": lambda: cli(
                    repo, "diff", "--base", "HEAD~1", "--head", "HEAD", "--cluster", c, "--format", "json"
                ),
            },
            max(3, args.runs // 2),
        )
        (repo / APP).write_text((repo / APP).read_text().replace("tag: 9.9.9", "tag: 9.9.10"))
        worktree = interleaved(
            {
                "single render": lambda: render_cluster(repo, cluster, profile=profile),
                "diff HEAD..working tree": lambda: diff_repository(repo, DiffOptions(cluster=c)),
            },
            args.runs,
        )

    print(f"corpus: {args.corpus} cluster {args.cluster}; medians of interleaved runs ({args.runs})")
    for table, base in (
        (committed, "single render"),
        (commands, "CLI homeops build ks"),
        (worktree, "single render"),
    ):
        for label, value in table.items():
            if table is worktree and label == base:
                continue
            print(f"{label:<28}{value * 1000:9.1f} ms {value / table[base]:6.2f}x")
    print(f"changes: {len(result.changes)}, images: {len(result.images)}, stats: {result.stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
