"""Shared by the security tests: the smallest repository homeops renders, written into a directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

FLUX_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
"""The one root Flux Kustomization (format ``path``), applying a directory of this repository."""


def write(root: Path, files: dict[str, str]) -> Path:
    """Write each file (text dedented) below ``root``; returns ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root
