#!/usr/bin/env python3
"""What the commands that render pay before they work: whole processes, imports included (issue 14).

Usage: python bench/bench_imports.py [--runs 15] [--against SRC]

In a temporary Git copy of the example repository (``chongus``, one HelmRelease changed and staged),
each case runs ``--runs`` times as its own process, the cases taking turns: ``python -c pass``, a few
``import`` statements of the package, and ``--version``, ``build ks --cluster``, ``check``,
``check --changed``, ``diff`` and ``get ks`` through the console entry point with ``--no-cache`` (a
command that renders, not a kept answer) and no start-up daemon. Printed: the median wall time, the
median CPU time (user + system) and how many modules the process had loaded when it exited. With
``--against SRC`` (the ``src`` directory of another checkout, e.g. ``git worktree add /tmp/old
main~5``) every case also runs on that code, side by side, and the difference is printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "home-ops"
sys.path.insert(0, str(HERE))

from bench_startup import installed_environment  # noqa: E402

ENTRY = "import sys; from homeops.cli import main; sys.argv[0] = 'homeops'; main()"
COUNT_MODULES = (
    "import atexit, os, sys\n"
    "atexit.register(lambda: os.write(2, ('\\x00modules ' + str(len(sys.modules))).encode()))\n"
)
IMPORTS = {
    "python -c pass": "pass",
    "import yaml": "import yaml",
    "import homeops.core.yamlio": "import homeops.core.yamlio",
    "import homeops.flux.render": "import homeops.flux.render",
    "import diff's modules": "import homeops.diff.blast, homeops.cli.diff_cmd, homeops.api.diffing, "
    "homeops.diff.verify, homeops.api.builds",
}
COMMANDS = {
    "homeops --version": ["--version"],
    "build ks --cluster": ["build", "ks", "--cluster", "chongus", "--no-cache"],
    "check": ["check", "--no-cache"],
    "check --changed": ["check", "--changed", "--no-cache"],
    "diff": ["diff", "--cluster", "chongus", "--no-cache"],
    "get ks": ["get", "ks", "--no-cache"],
}


def repository(tmp: Path) -> Path:
    """The example as a Git repository, one value changed and staged (what diff and --changed see)."""
    root = tmp / "repo"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    git = ["git", "-C", str(root), "-c", "user.email=b@example.org", "-c", "user.name=b"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "-c", "commit.gpgsign=false", "commit", "-qm", "base"], check=True)
    release = root / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
    release.write_text(release.read_text().replace("replicas: 2", "replicas: 3"))
    subprocess.run([*git, "add", "-A"], check=True)
    return root


def once(code: str, args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, modules loaded) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", COUNT_MODULES + code, *args],
        capture_output=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    modules = int(proc.stderr.rpartition(b"\x00modules ")[2].split()[0] or 0)
    return wall, cpu, modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--against", type=Path, help="the src directory of another checkout")
    args = parser.parse_args()
    env = installed_environment()
    env = {k: v for k, v in env.items() if not k.startswith("HOMEOPS_")} | {"HOMEOPS_DAEMON": "0"}
    trees = {"this": env}
    if args.against is not None:
        src = args.against.resolve()
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(src)], stdout=subprocess.DEVNULL, check=True
        )
        trees = {"other": {**env, "PYTHONPATH": str(src)}, "this": env}
    cases = {label: (code, []) for label, code in IMPORTS.items()}
    cases |= {label: (ENTRY, argv) for label, argv in COMMANDS.items()}
    with tempfile.TemporaryDirectory(prefix="homeops-bench-imports-") as tmp:
        root = repository(Path(tmp))
        for tree_env in trees.values():
            tree_env["XDG_CACHE_HOME"] = str(Path(tmp) / "xdg")
        samples: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
        for _ in range(args.runs):  # the cases (and the trees) take turns: a busy machine slows them alike
            for label, (code, argv) in cases.items():
                for tree, tree_env in trees.items():
                    samples.setdefault((label, tree), []).append(once(code, argv, tree_env, root))
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); medians of {args.runs} runs")
    head = "".join(f" | {tree:>5} wall   cpu  modules" for tree in trees)
    print(f"{'':28}{head}" + (" | saved wall   cpu" if len(trees) == 2 else ""))
    for label in cases:
        row, medians = f"{label:28}", []
        for tree in trees:
            runs = samples[(label, tree)]
            wall, cpu = (statistics.median(r[i] for r in runs) * 1000 for i in (0, 1))
            medians.append((wall, cpu))
            row += f" | {wall:7.1f} ms {cpu:5.1f} {runs[-1][2]:8d}"
        if len(medians) == 2:
            row += f" | {medians[0][0] - medians[1][0]:7.1f} ms {medians[0][1] - medians[1][1]:5.1f}"
        print(row)


if __name__ == "__main__":
    main()
