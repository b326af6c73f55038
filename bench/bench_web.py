"""Benchmark the pages: ``homeops diff --format html`` and ``homeops report`` on the example and the
corpus, as command lines (a fresh process each: interpreter start-up, render, rules, page) and, in
process, what the page itself costs once the data is there.

For the review a copy of each repository becomes a Git repository with two commits; the second bumps
one app's image tag and one line of a shared component (the example) or of the app (the corpus).

Run: ``python bench/bench_web.py [--runs 5] [--corpus DIR]``.
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

from homeops.api import Workspace
from homeops.web.review import review_page
from homeops.web.site import build_site

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "home-ops"
CORPUS = ROOT.parent / "shared" / "corpus" / "rtrox-home-ops"
CHANGES = {
    "example": [
        ("cluster-apps/chongus/network/echo-server/app/helmrelease.yaml", "tag: v0.3.7@", "tag: v0.3.8@"),
        ("cluster-apps/components/flux/alerts/alert.yaml", "eventSeverity: error", "eventSeverity: info"),
    ],
    "corpus": [("cluster-apps/chongus/default/echo-server/app/helmrelease.yaml", "tag: 37", "tag: 38")],
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.com",
         "-c", "commit.gpgsign=false", *args],
        check=True, capture_output=True,
    )  # fmt: skip


def two_commits(source: Path, target: Path, changes: list[tuple[str, str, str]]) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"))
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "base")
    for rel, old, new in changes:
        path = target / rel
        text = path.read_text()
        if old not in text:
            raise SystemExit(f"{old!r} not in {rel}")
        path.write_text(text.replace(old, new, 1))
    git(target, "commit", "-qam", "change")
    return target


def median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)


def measure(name: str, repo: Path, tmp: Path, runs: int) -> str:
    """One table row: the two commands, and the pages alone."""
    html = tmp / f"{name}.html"
    site = tmp / f"{name}-site"
    diff_args = (
        "diff",
        "--path",
        str(repo),
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--format",
        "html",
        "-o",
        str(html),
    )
    diff_cli = median(lambda: cli(*diff_args), runs)
    report_cli = median(lambda: cli("report", "--path", str(repo), "-o", str(site)), runs)
    ws = Workspace(repo)
    result = ws.diff("HEAD~1", "HEAD", findings=True)
    page = median(lambda: review_page(result, root=ws.root, page_path=html), runs)
    built = build_site(ws)
    pages = median(lambda: build_site(ws), runs)  # the workspace keeps its renders: drawing only
    return (
        f"| {name} ({len(result.changes)} changed objects) | {diff_cli:.2f} s | {page * 1000:.0f} ms "
        f"| {report_cli:.2f} s | {pages * 1000:.0f} ms | {len(built.pages)} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    repos = {"example": EXAMPLE, "corpus": args.corpus}
    print(
        "| repository | `diff --format html` | of which the page | `report -o DIR` | of which the pages | pages |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="homeops-bench-web-") as tmp:
        for name, source in repos.items():
            if not source.is_dir():
                print(f"| {name} | (absent: {source}) | | | | |")
                continue
            print(measure(name, two_commits(source, Path(tmp) / name, CHANGES[name]), Path(tmp), args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
