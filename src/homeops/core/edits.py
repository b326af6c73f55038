"""File edits: the one way homeops changes a repository.

Authoring, migration and ``check --fix`` are pure functions that return ``FileEdit`` values; this
module shows them as a unified diff or applies them: each file in one rename, all the files of a
command or none of them (see :mod:`homeops.core.journal`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from homeops.core import fs, journal
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
    """Write every edit, all or none (:mod:`homeops.core.journal`); return the paths written or deleted.

    Inside an open :func:`journal.transaction` of the same repository the edits join it (and are
    undone with it); otherwise they are one transaction of their own.
    """
    edits = list(edits)
    real_root = root.resolve()
    with journal.transaction(real_root) as txn:
        check_unchanged(root, edits)
        done: list[str] = []
        for edit in edits:
            rel = os.path.normpath(edit.path).replace(os.sep, "/")
            target = real_root / rel
            if not fs.Boundary.at(real_root).contains(target):
                raise HomeopsError("refusing to write outside the repository", edit.path)
            if edit.new is None:
                if os.path.lexists(target):
                    txn.apply(rel, None)
                    _prune_empty_dirs(target.parent, real_root)
            else:
                txn.apply(rel, edit.new.encode("utf-8"))
            done.append(edit.path)
        return done


def _prune_empty_dirs(directory: Path, root: Path) -> None:
    current = directory
    while current != root and current.is_dir() and not any(current.iterdir()):
        current.rmdir()
        current = current.parent
