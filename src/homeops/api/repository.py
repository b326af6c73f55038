"""Which repository a path means: the directory given, else the Git top level of the current
directory (as ``flux``/``git`` commands find it), else the current directory; and the repository no
read of ``kustomize build DIR`` may leave."""

from __future__ import annotations

from pathlib import Path

from homeops.core import git
from homeops.core.errors import HomeopsError


def find_root(path: str | Path | None = None) -> Path:
    """``path`` if given, else the Git top level of the current directory, else the current directory."""
    if path is not None:
        root = Path(path)
        if not root.is_dir():
            raise HomeopsError(f"repository path '{path}' is not a directory", hint="pass an existing --path")
        return root.resolve()
    try:
        return git.toplevel(Path.cwd())
    except HomeopsError:
        return Path.cwd().resolve()


def repository_of(directory: Path, root: Path) -> Path:
    """The repository no read of ``kustomize DIR`` may leave: the workspace when it holds DIR, else the
    Git repository holding DIR, else DIR itself (even ``--load-restrictor none`` stays inside it)."""
    real = directory.resolve()
    if real == root or root in real.parents:
        return root
    try:
        return git.toplevel(real)
    except HomeopsError:
        return real
