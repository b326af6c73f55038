#!/usr/bin/env python3
"""Two versions of homeops on the same repositories: is every answer byte for byte the same?

Usage: python bench/field_compare.py OLD_SRC NEW_SRC ROOT [ROOT...]

``OLD_SRC`` and ``NEW_SRC`` are ``src`` directories of two checkouts (say ``git archive <commit> src``
unpacked into a temporary directory, against this tree's ``src``). For each repository, each
cluster's ``build ks --cluster`` and the repository's ``check --format json`` run under both, with
the cache off (``HOMEOPS_NO_CACHE=1``) and no daemon; stdout, stderr and the exit code are compared.
A speed change (the emitter, a shared index, a cache) must leave every line alone: this is how it is
shown on the field, not only on the example and the corpus.

Exit code: 0 when every answer is the same, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_ENTRY = "import sys; from homeops.cli import main; sys.argv = ['homeops', *sys.argv[1:]]; main()"


def run(src: str, args: list[str], cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": src, "HOMEOPS_DAEMON": "0", "HOMEOPS_NO_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _ENTRY, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def clusters(src: str, root: Path) -> list[str]:
    code, out, _err = run(src, ["get", "clusters", "-o", "json"], root)
    if code != 0:
        return []
    return [str(item["name"]) for item in json.loads(out)["items"]]


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    old, new, roots = argv[0], argv[1], [Path(r) for r in argv[2:]]
    different = 0
    for root in roots:
        commands = [["build", "ks", "--cluster", name] for name in clusters(new, root)]
        commands.append(["check", "--format", "json"])
        for args in commands:
            before, after = run(old, args, root), run(new, args, root)
            same = before == after
            different += not same
            print(
                f"{root.name:<30} {' '.join(args):<40} {'same' if same else 'DIFFERENT'}"
                f"  ({len(after[1]):>9,} bytes, exit {after[0]})"
            )
    print(f"{different} different answer(s)")
    return 1 if different else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
