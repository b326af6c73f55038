"""Shared by the differential test and the benchmark: run both engines on a directory and compare."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from homeops.core import yamlemit, yamlio
from homeops.core.errors import HomeopsError
from homeops.kustomize.build import KUSTOMIZATION_FILES, Builder

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CORPUS = SHARED / "corpus" / "rtrox-home-ops"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "home-ops"


def kustomization_dirs(root: Path) -> list[Path]:
    dirs = {p.parent for name in KUSTOMIZATION_FILES for p in root.rglob(name)}
    return sorted(d for d in dirs if ".git" not in d.parts)


def kubectl_build(directory: Path) -> tuple[list[Any] | None, str]:
    """kubectl's objects (None when it fails) and its error; :func:`kubectl_text` for its bytes."""
    text, error = kubectl_text(directory)
    return (None, error) if text is None else (yamlio.load_all(text), "")


def kubectl_text(directory: Path) -> tuple[str | None, str]:
    proc = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return None, proc.stderr.strip()
    return proc.stdout, ""


def native_build(builder: Builder, directory: Path) -> tuple[list[Any] | None, str]:
    """The native engine's objects, read back from what it prints (so the writer is covered too)."""
    text, error = native_text(builder, directory)
    return (None, error) if text is None else (yamlio.load_all(text), "")


def native_text(builder: Builder, directory: Path) -> tuple[str | None, str]:
    """What ``homeops kustomize DIR`` prints, or its one-line error."""
    try:
        resources = builder.build(directory)
    except HomeopsError as exc:
        return None, exc.one_line()
    return yamlemit.dump_all(r.obj for r in resources), ""


def have_kubectl() -> bool:
    return shutil.which("kubectl") is not None
