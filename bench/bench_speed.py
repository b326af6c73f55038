#!/usr/bin/env python3
"""Whole ``homeops`` processes as users run them, cold and warm cache, against the baselines (issue 14).

Usage: python bench/bench_speed.py [--runs 7] [--apps 70] [--scale 250,500,1000,2000] [--only NAME]
                                   [--repo DIR --cluster NAME]

Repositories: the example (``examples/home-ops``, cluster ``chongus``), a synthetic one shaped like
the user's (``bench/synthetic.py``, ``--apps`` apps) and, with ``--repo``, any other (the user's), each
copied into a temporary Git repository.
Every figure is the median of ``--runs`` whole processes (the console entry point, interpreter
start-up included), the variants of one table taking turns so that a busy machine slows them alike.
"Cold" runs get an empty cache directory (``XDG_CACHE_HOME``) each time; "warm" ones the cache the
previous runs left. The package is byte-compiled first and ``PYTHONDONTWRITEBYTECODE`` dropped, as after
``pip install``. Beside each wall-clock median, the median CPU time (user + system) of the process and
its children: on a loaded machine it shows what the command costs when wall times wander. Printed side
by side with the baselines and the issue's targets:

* ``build ks --cluster`` cold >= 20x, warm >= 40x one ``kubectl kustomize`` per Flux Kustomization path;
* ``check`` warm <= 2x (``homeops --version`` + ``build ks`` warm);
* ``diff`` after a one-file change (cache from the run before the change) <= 0.35x a full cold ``diff``;
* ``check --changed`` with one staged file <= 0.3x a full ``check``;
* synthetic 250..2000 apps: cold render <= 4 s, peak RSS <= 600 MB, the cost per app flat (printed),
  and a whole `check` of each (its cost per app printed too: every rule linear in the apps).

Each repository's table ends with the same commands through a running ``homeops daemon`` (started in
the bench's own ``XDG_RUNTIME_DIR``; the runs without it say ``HOMEOPS_DAEMON=0``), against the same
baselines; their CPU column is the client process's alone (the daemon's worker is not its child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "home-ops"
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402
from bench_startup import installed_environment  # noqa: E402

EXE = shutil.which("homeops") or sys.exit("homeops is not on PATH: pip install -e . first")
KUBECTL = shutil.which("kubectl")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return out.stdout


BASE_ENV = installed_environment()
CPU: list[float] = []
"""CPU seconds (user + system, the process and its children) of each timed run, in order."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=False)
    seconds = time.perf_counter() - start
    CPU.append(_children_cpu() - cpu)
    return seconds


class Cache:
    """XDG cache directories: a fresh empty one per cold run, one kept for warm runs (another for runs
    through the start-up daemon, so each kind of run finds what the same kind left). The daemon's
    directory (``XDG_RUNTIME_DIR``) is the bench's own; runs without it say ``HOMEOPS_DAEMON=0``."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.count = 0
        self.runtime = base / "run"
        self.runtime.mkdir(parents=True, mode=0o700, exist_ok=True)

    def env(self, *, cold: bool, daemon: bool = False) -> dict[str, str]:
        if cold:
            self.count += 1
            where = self.base / f"cold-{self.count}"
        else:
            where = self.base / ("warm-daemon" if daemon else "warm")
        env = {k: v for k, v in BASE_ENV.items() if not k.startswith("HOMEOPS_")}
        env["XDG_CACHE_HOME"] = str(where)
        env["XDG_RUNTIME_DIR"] = str(self.runtime)
        if not daemon:
            env["HOMEOPS_DAEMON"] = "0"
        return env

    def start_daemon(self) -> None:
        env = self.env(cold=False, daemon=True)
        subprocess.run([EXE, "daemon", "start", "--idle", "20"], env=env, capture_output=True, check=True)

    def stop_daemon(self) -> None:
        subprocess.run([EXE, "daemon", "stop"], env=self.env(cold=False, daemon=True), capture_output=True)


CPU_MEDIANS: dict[str, float] = {}
"""Median CPU seconds of the last timed process of each variant, by variant name."""


def interleaved(variants: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, fn in variants.items():
            times[name].append(fn())
            cpu[name].append(CPU[-1])  # the measured run is each variant's last process
    CPU_MEDIANS.update({name: statistics.median(values) for name, values in cpu.items()})
    return {name: statistics.median(values) for name, values in times.items()}


def kustomization_paths(root: Path, cluster: str) -> list[Path]:
    out = subprocess.run(
        [EXE, "get", "ks", "--cluster", cluster, "--path", str(root), "-o", "json", "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
    )
    items = json.loads(out.stdout)["items"]
    dirs = sorted({(root / item["path"]).resolve() for item in items if item.get("path")})
    return [d for d in dirs if (d / "kustomization.yaml").is_file()]


def kubectl_once(paths: list[Path]) -> float:
    """One ``kubectl kustomize`` process per path, serially (as flux-local did)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    for d in paths:
        subprocess.run(
            [KUBECTL or "kubectl", "kustomize", "--load-restrictor=LoadRestrictionsNone", str(d)],
            capture_output=True,
            check=False,
        )
    seconds = time.perf_counter() - start
    CPU.append(_children_cpu() - cpu)
    return seconds


def row(label: str, seconds: float, versus: str = "", target: str = "", cpu: float | None = None) -> None:
    used = "" if cpu is None else f"{cpu * 1000:7.0f} ms"
    print(f"  {label:<52} {seconds * 1000:9.1f} ms {used:>10}  {versus:>14}  {target}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def repository(
    name: str, source: Path | None, apps: int, tmp: Path, cluster: str | None = None
) -> tuple[Path, str, str]:
    """A Git repository holding a copy of ``source`` (the example, or ``--repo``) or a synthetic one;
    (root, cluster, file to edit: the first HelmRelease with an ``interval:`` line)."""
    root = tmp / name
    if source is not None:
        shutil.copytree(source, root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        cluster = cluster or "chongus"
        edit = next(
            p.relative_to(root).as_posix()
            for p in sorted(root.rglob("helmrelease.yaml"))
            if f"/{cluster}/" in f"/{p.relative_to(root).as_posix()}" and "interval:" in p.read_text()
        )
    else:
        synthetic.generate(root, apps)
        cluster, edit = "bench", "cluster-apps/bench/ns000/app-0001/app/helmrelease.yaml"
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root, cluster, edit


def change(root: Path, rel: str, n: int) -> None:
    path = root / rel
    text = path.read_text()
    marker = "interval: 1h"
    if marker not in text and "interval:" not in text:
        raise SystemExit(f"cannot edit {rel}")
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip().startswith("interval:"):
            lines[i] = line.split("interval:")[0] + f"interval: {n + 2}m\n"
            break
    path.write_text("".join(lines))


def bench_repository(label: str, root: Path, cluster: str, edit: str, runs: int, tmp: Path) -> None:
    caches = Cache(tmp / f"xdg-{label}")
    try:
        caches.start_daemon()
        _bench_repository(caches, label, root, cluster, edit, runs, tmp)
    finally:
        caches.stop_daemon()


def _bench_repository(
    caches: Cache, label: str, root: Path, cluster: str, edit: str, runs: int, tmp: Path
) -> None:
    build = [EXE, "build", "ks", "--cluster", cluster, "--path", str(root)]
    check = [EXE, "check", "--path", str(root), "--format", "json"]
    print(f"\n{label}: {root.name}, cluster {cluster}")
    paths = kustomization_paths(root, cluster)
    for daemon in (False, True):  # the warm caches exist before the warm runs
        timed(build, caches.env(cold=False, daemon=daemon))
        timed(check, caches.env(cold=False, daemon=daemon))
    elsewhere = iter(range(1_000_000))

    def fresh_cwd() -> Path:
        """A new working directory: a kept answer is keyed by it, so the run uses the parse, build and
        findings caches but cannot replay its answer."""
        where = tmp / f"cwd-{label}-{next(elsewhere)}"
        where.mkdir(parents=True)
        return where

    figures = interleaved(
        {
            "floor": lambda: timed([sys.executable, "-c", "pass"], BASE_ENV),
            "version": lambda: timed([EXE, "--version"], BASE_ENV),
            "kubectl": lambda: kubectl_once(paths),
            "build cold": lambda: timed(build, caches.env(cold=True)),
            "build warm": lambda: timed(build, caches.env(cold=False)),
            "build warm, not kept": lambda: timed(build, caches.env(cold=False), cwd=fresh_cwd()),
            "check cold": lambda: timed(check, caches.env(cold=True)),
            "check warm": lambda: timed(check, caches.env(cold=False)),
            "check warm, not kept": lambda: timed(check, caches.env(cold=False), cwd=fresh_cwd()),
            "daemon build cold": lambda: timed(build, caches.env(cold=True, daemon=True)),
            "daemon build warm, not kept": lambda: timed(
                build, caches.env(cold=False, daemon=True), cwd=fresh_cwd()
            ),
            "daemon check warm, not kept": lambda: timed(
                check, caches.env(cold=False, daemon=True), cwd=fresh_cwd()
            ),
        },
        runs,
    )
    cpu = CPU_MEDIANS
    print(f"  {len(paths)} Flux Kustomization paths with a kustomization.yaml; medians of {runs} runs")
    print(f"  {'':<52} {'wall':>12} {'cpu':>10}")
    row("python -c pass (floor)", figures["floor"], cpu=cpu["floor"])
    row("homeops --version", figures["version"], f"{figures['version'] / figures['floor']:.1f}x floor",
        cpu=cpu["version"])  # fmt: skip
    kubectl = figures["kubectl"]
    row(f"kubectl kustomize per path ({len(paths)} processes)", kubectl, cpu=cpu["kubectl"])
    cold_x = kubectl / figures["build cold"]
    warm_x = kubectl / figures["build warm"]
    row("build ks --cluster, cold cache", figures["build cold"], f"{cold_x:.1f}x faster",
        f">= 20x {verdict(cold_x >= 20)}", cpu=cpu["build cold"])  # fmt: skip
    row("build ks --cluster, warm cache (kept answer)", figures["build warm"], f"{warm_x:.1f}x faster",
        f">= 40x {verdict(warm_x >= 40)}", cpu=cpu["build warm"])  # fmt: skip
    parts_x = kubectl / figures["build warm, not kept"]
    row("build ks --cluster, warm parse+build caches only", figures["build warm, not kept"],
        f"{parts_x:.1f}x faster", f">= 40x {verdict(parts_x >= 40)}", cpu=cpu["build warm, not kept"])  # fmt: skip
    row("check, cold cache", figures["check cold"], cpu=cpu["check cold"])
    budget = figures["version"] + figures["build warm"]
    row("check, warm cache (kept answer)", figures["check warm"],
        f"{figures['check warm'] / budget:.2f}x (v+bw)", f"<= 2x {verdict(figures['check warm'] <= 2 * budget)}",
        cpu=cpu["check warm"])  # fmt: skip
    budget = figures["version"] + figures["build warm, not kept"]
    row("check, warm caches only", figures["check warm, not kept"],
        f"{figures['check warm, not kept'] / budget:.2f}x (v+bw)",
        f"<= 2x {verdict(figures['check warm, not kept'] <= 2 * budget)}", cpu=cpu["check warm, not kept"])  # fmt: skip

    # one-file changes: the cache is what the run before the change left
    diff = [EXE, "diff", "--path", str(root), "--cluster", cluster]
    changed = [EXE, "check", "--path", str(root), "--format", "json", "--changed"]
    counter = iter(range(1_000_000))

    def diff_cold() -> float:
        git(root, "checkout", "-q", "--", ".")
        change(root, edit, next(counter))
        return timed(diff, caches.env(cold=True))

    def diff_warm(daemon: bool = False) -> float:
        git(root, "checkout", "-q", "--", ".")
        env = caches.env(cold=False, daemon=daemon)
        timed(diff, env)  # the run before the change
        change(root, edit, next(counter))
        return timed(diff, env)

    def staged_after(cmd: list[str], daemon: bool = False) -> float:
        """``cmd`` after one staged change, with the cache of its run before the change."""
        git(root, "reset", "-q", "--hard")
        env = caches.env(cold=False, daemon=daemon)
        timed(cmd, env)
        change(root, edit, next(counter))
        git(root, "add", edit)
        return timed(cmd, env)

    def check_full_cold() -> float:
        git(root, "reset", "-q", "--hard")
        change(root, edit, next(counter))
        git(root, "add", edit)
        return timed(check, caches.env(cold=True))

    changes = interleaved(
        {
            "diff cold": diff_cold,
            "diff warm": diff_warm,
            "check full cold": check_full_cold,
            "check full": lambda: staged_after(check),
            "check changed": lambda: staged_after(changed),
            "daemon diff warm": lambda: diff_warm(daemon=True),
            "daemon check full": lambda: staged_after(check, daemon=True),
            "daemon check changed": lambda: staged_after(changed, daemon=True),
        },
        runs,
    )
    git(root, "reset", "-q", "--hard")
    ratio = changes["diff warm"] / changes["diff cold"]
    row("diff (HEAD vs work tree), one file changed, cold cache", changes["diff cold"], cpu=cpu["diff cold"])
    row("diff, one file changed, cache of the run before", changes["diff warm"], f"{ratio:.2f}x cold",
        f"<= 0.35x {verdict(ratio <= 0.35)}", cpu=cpu["diff warm"])  # fmt: skip
    full_ratio = changes["check changed"] / changes["check full"]
    cold_ratio = changes["check changed"] / changes["check full cold"]
    row("check, one file staged, cold cache", changes["check full cold"], cpu=cpu["check full cold"])
    row("check, one file staged, cache of the run before", changes["check full"], cpu=cpu["check full"])
    row("check --changed, one file staged", changes["check changed"],
        f"{full_ratio:.2f}x full", f"<= 0.3x {verdict(full_ratio <= 0.3)}", cpu=cpu["check changed"])  # fmt: skip
    row("", 0.0, f"{cold_ratio:.2f}x cold", "")

    # the same commands through a running ``homeops daemon`` (its CPU is not a child's: client only)
    print("  with `homeops daemon` running (cpu: the client process only)")
    d = {**figures, **changes}
    x = kubectl / d["daemon build cold"]
    row("build ks --cluster, cold cache", d["daemon build cold"], f"{x:.1f}x faster",
        f">= 20x {verdict(x >= 20)}", cpu=cpu["daemon build cold"])  # fmt: skip
    x = kubectl / d["daemon build warm, not kept"]
    row("build ks --cluster, warm parse+build caches only", d["daemon build warm, not kept"],
        f"{x:.1f}x faster", f">= 40x {verdict(x >= 40)}", cpu=cpu["daemon build warm, not kept"])  # fmt: skip
    budget = figures["version"] + d["daemon build warm, not kept"]
    row("check, warm caches only", d["daemon check warm, not kept"],
        f"{d['daemon check warm, not kept'] / budget:.2f}x (v+bw)",
        f"<= 2x {verdict(d['daemon check warm, not kept'] <= 2 * budget)}",
        cpu=cpu["daemon check warm, not kept"])  # fmt: skip
    x = d["daemon diff warm"] / changes["diff cold"]
    row("diff, one file changed, cache of the run before", d["daemon diff warm"], f"{x:.2f}x cold",
        f"<= 0.35x {verdict(x <= 0.35)}", cpu=cpu["daemon diff warm"])  # fmt: skip
    row(
        "check, one file staged, cache of the run before",
        d["daemon check full"],
        cpu=cpu["daemon check full"],
    )
    x = d["daemon check changed"] / changes["check full"]
    row("check --changed, one file staged", d["daemon check changed"], f"{x:.2f}x full",
        f"<= 0.3x {verdict(x <= 0.3)}", cpu=cpu["daemon check changed"])  # fmt: skip
    row("", 0.0, f"{d['daemon check changed'] / changes['check full cold']:.2f}x cold", "")
    row("", 0.0, f"{d['daemon check changed'] / d['daemon check full']:.2f}x daemon", "")


_RENDER = """
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
from homeops.core.profile import DEFAULT
from homeops.flux.cluster import resolve_cluster
from homeops.flux.render import render_cluster
from homeops.core import cache
imported = time.perf_counter()
cpu = time.process_time()
root = Path(sys.argv[1])
result = render_cluster(root, resolve_cluster(root, DEFAULT, "bench"))
rendered = time.perf_counter()
cpu = time.process_time() - cpu
cache.flush()
print(json.dumps({"import": imported - start, "render": rendered - imported, "cpu": cpu,
                  "flush": time.perf_counter() - rendered, "ks": len(result.rendered),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_scale(sizes: list[int], runs: int, tmp: Path) -> None:
    print(f"\nsynthetic repositories, cold cache, fresh process each (median of {runs}); the last two"
          "\ncolumns: `check --changed` after one staged edit with the cache of the run before, and its"
          "\nshare of the whole cold check:")  # fmt: skip
    print(f"  {'apps':>6} {'render':>9} {'(cpu)':>8} {'+write cache':>13} {'whole build ks':>15} {'peak RSS':>9} "
          f"{'ms/app':>7} {'slope ms/app':>13} {'whole check':>12} {'ms/app':>7} {'--changed':>10} {'share':>6}")  # fmt: skip
    previous: tuple[int, float] | None = None
    caches = Cache(tmp / "xdg-scale")
    counter = iter(range(10_000, 100_000))
    for size in sizes:
        root = synthetic.generate(tmp / f"scale-{size}", size)
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        edit = "cluster-apps/bench/ns000/app-0001/app/helmrelease.yaml"
        changed_cmd = [EXE, "check", "--changed", "--path", str(root), "--format", "json"]
        samples = []
        whole = []
        checks = []  # the whole ``check`` (render and every rule): linear too
        changed = []  # one staged edit, the cache of the run before: what pre-commit pays at this size
        for _ in range(runs):
            env = caches.env(cold=True)
            out = subprocess.run(
                [sys.executable, "-c", _RENDER, str(root)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            samples.append(json.loads(out.stdout))
            whole.append(
                timed([EXE, "build", "ks", "--cluster", "bench", "--path", str(root)], caches.env(cold=True))
            )
            checks.append(
                timed([EXE, "check", "--path", str(root), "--format", "json"], caches.env(cold=True))
            )
            git(root, "reset", "-q", "--hard")
            warm = caches.env(cold=True)  # a cache of its own, filled by the run before the edit
            timed(changed_cmd, warm)
            change(root, edit, next(counter))
            git(root, "add", edit)
            changed.append(timed(changed_cmd, warm))
        render = statistics.median(s["render"] for s in samples)
        render_cpu = statistics.median(s["cpu"] for s in samples)
        flush = statistics.median(s["flush"] for s in samples)
        rss = max(s["rss_mb"] for s in samples)
        per_app = render / size * 1000
        slope = "" if previous is None else f"{(render - previous[1]) / (size - previous[0]) * 1000:.2f}"
        ok = render <= 4.0 and rss <= 600
        print(f"  {size:>6} {render:>8.3f}s {render_cpu:>7.3f}s {flush:>12.3f}s {statistics.median(whole):>14.3f}s "
              f"{rss:>7.0f}MB {per_app:>7.2f} {slope:>13} {statistics.median(checks):>11.3f}s "
              f"{statistics.median(checks) / size * 1000:>7.2f} {statistics.median(changed):>9.3f}s "
              f"{statistics.median(changed) / statistics.median(checks):>5.2f}x   {'' if size < 2000 else verdict(ok)}")  # fmt: skip
        previous = (size, render)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--apps", type=int, default=70, help="synthetic repository shaped like the user's")
    parser.add_argument("--scale", default="250,500,1000,2000")
    parser.add_argument("--only", choices=("example", "synthetic", "scale", "repo"))
    parser.add_argument("--repo", type=Path, help="also a copy of this repository (the user's, say)")
    parser.add_argument("--cluster", default="chongus", help="the cluster of --repo (default chongus)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="homeops-bench-") as name:
        tmp = Path(name)
        if args.only in (None, "example"):
            root, cluster, edit = repository("example", EXAMPLE, 0, tmp)
            bench_repository("example", root, cluster, edit, args.runs, tmp)
        if args.only in (None, "synthetic"):
            root, cluster, edit = repository(f"synthetic-{args.apps}", None, args.apps, tmp)
            bench_repository(f"synthetic {args.apps} apps", root, cluster, edit, args.runs, tmp)
        if args.repo is not None and args.only in (None, "repo"):
            root, cluster, edit = repository(args.repo.name, args.repo, 0, tmp, args.cluster)
            bench_repository(args.repo.name, root, cluster, edit, args.runs, tmp)
        if args.only in (None, "scale"):
            bench_scale([int(s) for s in args.scale.split(",") if s], max(1, args.runs // 2), tmp)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
