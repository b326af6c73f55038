#!/usr/bin/env python3
"""Native kustomize engine vs ``kubectl kustomize`` over every corpus directory, and the YAML parse floor.

Usage: python bench/bench_kustomize.py [--rounds 5] [--root ../shared/corpus/rtrox-home-ops]

Each round builds every directory kubectl can build, once with each engine (alternating engines
between rounds so neither always runs on a warm page cache), and parses the files the native engine
read with the C loader alone (the floor: no engine can be faster than reading its input). Prints
medians side by side.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from homeops.core import yamlemit  # noqa: E402
from homeops.core.errors import HomeopsError  # noqa: E402
from homeops.core.files import FileCache  # noqa: E402
from homeops.kustomize.build import KUSTOMIZATION_FILES, Builder  # noqa: E402


def directories(root: Path) -> list[Path]:
    dirs = sorted({p.parent for name in KUSTOMIZATION_FILES for p in root.rglob(name)})
    ok = []
    for d in dirs:
        proc = subprocess.run(["kubectl", "kustomize", str(d)], capture_output=True, check=False)
        if proc.returncode == 0:
            ok.append(d)
    return ok


def native_round(root: Path, dirs: list[Path]) -> tuple[float, set[Path]]:
    """Every directory built by a fresh builder (no cache shared between directories, like kubectl)."""
    touched: set[Path] = set()
    start = time.perf_counter()
    for d in dirs:
        builder = Builder(root)
        try:
            resources = builder.build(d)
        except HomeopsError as exc:
            raise SystemExit(f"native engine failed on {d}: {exc}") from None
        yamlemit.dump_all(r.obj for r in resources)
        touched.update(builder.files._docs.keys())
    return time.perf_counter() - start, touched


def kubectl_round(dirs: list[Path]) -> float:
    start = time.perf_counter()
    for d in dirs:
        subprocess.run(["kubectl", "kustomize", str(d)], capture_output=True, check=True)
    return time.perf_counter() - start


def files_read(root: Path, dirs: list[Path]) -> list[list[Path]]:
    per_dir: list[list[Path]] = []
    for d in dirs:
        builder = Builder(root)
        builder.build(d)
        per_dir.append(list(builder.files._docs.keys()))
    return per_dir


class _CLoader(yaml.CSafeLoader):
    """The C loader, reading a bare ``=`` as a string (PyYAML alone refuses it)."""


_CLoader.add_constructor("tag:yaml.org,2002:value", yaml.SafeLoader.construct_yaml_str)


def parse_floor(per_dir: list[list[Path]]) -> float:
    """Parse, with PyYAML's C loader alone, every file each directory's build reads (per directory)."""
    start = time.perf_counter()
    for files in per_dir:
        for f in files:
            list(yaml.load_all(f.read_text(encoding="utf-8"), Loader=_CLoader))
    return time.perf_counter() - start


def parse_ours(root: Path, per_dir: list[list[Path]]) -> float:
    """The same files through our loader (C parser, our constructor with lines and YAML 1.2 rules)."""
    start = time.perf_counter()
    for files in per_dir:
        cache = FileCache(root)
        for f in files:
            cache.load_all(f)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", type=Path, default=HERE.parent.parent / "shared" / "corpus" / "rtrox-home-ops"
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = args.root.resolve()
    if not root.is_dir():
        raise SystemExit(f"no corpus at {root}")
    dirs = directories(root)
    per_dir = files_read(root, dirs)
    native, kube, floor, ours = [], [], [], []
    for i in range(args.rounds):
        if i % 2 == 0:
            native.append(native_round(root, dirs)[0])
            kube.append(kubectl_round(dirs))
        else:
            kube.append(kubectl_round(dirs))
            native.append(native_round(root, dirs)[0])
        floor.append(parse_floor(per_dir))
        ours.append(parse_ours(root, per_dir))
    n, k, f = statistics.median(native), statistics.median(kube), statistics.median(floor)
    o = statistics.median(ours)
    print(f"kustomize build of {len(dirs)} directories, median of {args.rounds} rounds")
    print(f"{'engine':<28}{'total s':>10}{'per dir ms':>12}{'vs native':>11}")
    print(f"{'kubectl kustomize':<28}{k:>10.3f}{k / len(dirs) * 1000:>12.2f}{k / n:>10.1f}x")
    print(f"{'homeops native':<28}{n:>10.3f}{n / len(dirs) * 1000:>12.2f}{1:>10.1f}x")
    print(f"{'parse, our loader':<28}{o:>10.3f}{o / len(dirs) * 1000:>12.2f}{o / n:>10.2f}x")
    print(f"{'parse floor (C loader)':<28}{f:>10.3f}{f / len(dirs) * 1000:>12.2f}{f / n:>10.2f}x")
    print(f"native is {k / n:.1f}x faster than kubectl and {n / f:.2f}x the parse floor")


if __name__ == "__main__":
    main()
