"""File edits: the one way homeops changes a repository.

Authoring, migration and ``check --fix`` are pure functions that return ``FileEdit`` values; this
module shows them as a unified diff or applies them atomically (temporary file + rename), so
nothing is ever half-written.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from homeops.core import fs
from homeops.core.errors import HomeopsError


@dataclass(frozen=True)
class FileEdit:
    """Set ``path`` (relative to the repository root) to ``new`` (None deletes it)."""

    path: str
    new: str | None
    old: str | None = None  # the text the edit was computed from (None: the file is new)

    @property
    def action(self) -> str:
        if self.new is None:
            return "delete"
        return "create" if self.old is None else "modify"


def edit_file(root: Path, path: str, new: str) -> FileEdit:
    """An edit of an existing or new file, remembering its current text."""
    target = root / path
    old = fs.read_text(root, target) if target.is_file() else None
    return FileEdit(path, new, old)


def unified_diff(edits: Iterable[FileEdit]) -> str:
    out: list[str] = []
    for edit in edits:
        old_lines = (edit.old or "").splitlines(keepends=True)
        new_lines = (edit.new or "").splitlines(keepends=True)
        a = "/dev/null" if edit.old is None else f"a/{edit.path}"
        b = "/dev/null" if edit.new is None else f"b/{edit.path}"
        for line in difflib.unified_diff(old_lines, new_lines, a, b):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def check_unchanged(root: Path, edits: Iterable[FileEdit]) -> None:
    """Refuse to write when a file changed since the edit was computed."""
    for edit in edits:
        target = root / edit.path
        current = fs.read_text(root, target) if target.is_file() else None
        if current != edit.old:
            raise HomeopsError(
                "file changed since the edit was computed", edit.path, None, "run the command again"
            )


def apply_edits(root: Path, edits: Iterable[FileEdit]) -> list[str]:
    """Write every edit atomically; return the paths written or deleted."""
    edits = list(edits)
    check_unchanged(root, edits)
    done: list[str] = []
    for edit in edits:
        target = root / edit.path
        resolved = target.resolve()
        try:
            resolved.relative_to(root.resolve())
        except ValueError:
            raise HomeopsError("refusing to write outside the repository", edit.path) from None
        if edit.new is None:
            if target.exists():
                target.unlink()
                _prune_empty_dirs(target.parent, root)
            done.append(edit.path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".homeops", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(edit.new)
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        done.append(edit.path)
    return done


def _prune_empty_dirs(directory: Path, root: Path) -> None:
    root = root.resolve()
    current = directory.resolve()
    while current != root and current.is_dir() and not any(current.iterdir()):
        current.rmdir()
        current = current.parent
