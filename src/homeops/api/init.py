"""``homeops init``: a new repository in the modern layout (or a cluster added to one) as the files to
write, with the generated sections of its context document filled in from a scratch copy of the
repository as it will be, so the new repository passes ``docs --check`` at once."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from homeops.api.edit_results import InitResult
from homeops.api.workspace import Workspace
from homeops.context import markers
from homeops.core.edits import FileEdit, apply_edits

if TYPE_CHECKING:  # annotations only: authoring loads when it runs (start-up)
    from homeops.author.init import InitOptions


def init_repository(directory: str | Path, options: InitOptions, *, write: bool = False) -> InitResult:
    """A new repository in the modern layout (or a cluster added to one): the files to write."""
    from homeops.author.init import plan_init  # start-up: authoring loads when it runs

    target = Path(directory)
    plan = plan_init(target, options)
    result = InitResult(
        _with_context_sections(target, plan.edits),
        kept=list(plan.kept),
        placeholders=list(plan.placeholders),
        adding_cluster=plan.adding_cluster,
    )
    if write:
        made = not target.exists()
        target.mkdir(parents=True, exist_ok=True)
        try:
            result.written = apply_edits(target.resolve(), result.edits)
        except BaseException:
            if made:  # nothing left behind: the directory this call made goes too (when empty)
                with suppress(OSError):
                    target.rmdir()
            raise
    return result


def _with_context_sections(target: Path, edits: list[FileEdit], file: str = "CLAUDE.md") -> list[FileEdit]:
    """``edits`` with the generated sections of the context document they write filled in, computed on
    a scratch copy of the repository as it will be (nothing of ``target`` is touched)."""
    document = next((e for e in edits if e.path == file and e.new is not None), None)
    if document is None or document.new is None or not markers.find_sections(document.new, file):
        return edits
    with tempfile.TemporaryDirectory(prefix="homeops-init-") as scratch_dir:
        scratch = Path(scratch_dir) / "repository"
        if target.is_dir():
            shutil.copytree(target, scratch, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        else:
            scratch.mkdir()
        apply_edits(scratch, edits)
        filled = Workspace(scratch).docs(file)
    if not filled.edits or filled.edits[0].new is None:
        return edits
    return [replace(e, new=filled.edits[0].new) if e is document else e for e in edits]
