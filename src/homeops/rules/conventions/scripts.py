"""Where the repository keeps its shell scripts (HO005 allows those places; the document's default
allows none)."""

from __future__ import annotations

import posixpath

from homeops.core.files import FileCache
from homeops.rules.base import repo_files
from homeops.rules.conventions.model import Convention
from homeops.rules.scripts import repository_scripts, shell_scripts


def scripts(files: FileCache, paths: list[str]) -> list[Convention]:
    every = paths == repo_files(files)  # the rule looks for the same scripts: once per run
    scripts = repository_scripts(files) if every else shell_scripts(files, paths, ())
    if not scripts:
        return []
    dirs = sorted({posixpath.dirname(path) or "." for path, _why in scripts})
    kept = [d for d in dirs if not any(d != o and d.startswith(o + "/") for o in dirs if o != ".")]
    globs = ["*" if d == "." else f"{d}/**" for d in kept]
    return [
        Convention(
            "script_allowed_paths",
            globs,
            f"where the repository keeps its {len(scripts)} shell scripts (the document's default allows none)",
        )
    ]
