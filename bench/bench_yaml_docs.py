#!/usr/bin/env python3
"""Benchmark: parsing one YAML file of many documents (the issue's 100k / 200k / 1M).

Each file holds N small ConfigMaps. The parse must be linear in N (an alias scan of the whole text
per document once made it quadratic: 100k documents took 21 s). The document limit is raised to the
ceiling for the measurement; by default a file of more than 100,000 documents is refused.

Usage: python bench/bench_yaml_docs.py [--sizes 100000,200000,1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from homeops.core import limits, yamlio  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,200000,1000000")
    args = parser.parse_args()
    limits.configure(limits.Limits(yaml_documents=limits.CEILING.yaml_documents))
    print(f"{'documents':>10}  {'MB':>6}  {'parse s':>8}  {'us/doc':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        text = "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n" for i in range(size)
        )
        started = time.perf_counter()
        docs = yamlio.load_all(text, "many.yaml")
        took = time.perf_counter() - started
        assert len(docs) == size
        print(f"{size:>10}  {len(text) / 1e6:>6.1f}  {took:>8.2f}  {took / size * 1e6:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
