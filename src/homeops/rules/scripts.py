"""Automation belongs in Taskfiles, not in scattered shell scripts (HO005)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator

from homeops.core import codes
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.profile import matches_any
from homeops.rules.base import RuleContext, finding, repo_files, rule

SHELL_SUFFIXES = (".sh",)
_SHELL_SHEBANG = re.compile(rb"^#!\s*(?:/usr)?/bin/(?:env\s+(?:-\S+\s+)*)?(?:ba|z|k|da|a|mk|)sh\b")


def is_shell_shebang(head: bytes) -> bool:
    return _SHELL_SHEBANG.match(head) is not None


@rule(
    codes.SHELL_SCRIPT,
    rationale="""
Anti-Patterns #5: "Shell scripts for automation - Use Taskfiles instead"; Technology Stack / Task
Automation: "Taskfiles in .taskfiles/ directory", "No scattered shell scripts". A `*.sh` file, or an
executable file starting with a shell shebang (`#!/bin/bash`, `#!/usr/bin/env sh`, ...), is reported
unless it matches the profile's `script_allowed_paths`. The document's profile allows none (an
allowance is the user's choice in `.homeops.yaml`); without `.homeops.yaml`, the directories where the
repository keeps its scripts are allowed.
""",
    bad="""
# scripts-old/bootstrap.sh
#!/usr/bin/env bash
flux bootstrap github --owner=me --repository=home-ops
""",
    good="""
# .taskfiles/k8s-bootstrap/Taskfile.yaml
version: "3"
tasks:
  flux:
    cmds:
      - flux bootstrap github --owner=me --repository=home-ops
""",
)
def check_shell_scripts(ctx: RuleContext) -> Iterator[Finding]:
    """Shell scripts by name, or executables by shebang, outside the allowed paths."""
    allowed = tuple(ctx.profile.script_allowed_paths)
    for path, message in repository_scripts(ctx.files):
        if not (allowed and matches_any(path, allowed)):
            yield finding(codes.SHELL_SCRIPT, message, file=path, line=1)


def repository_scripts(files: FileCache) -> list[tuple[str, str]]:
    """:func:`shell_scripts` among every file of the repository, none allowed: looked for once per run
    (the rule and the inference of the conventions both ask)."""
    found = files.derived.get(_SCRIPTS)
    if found is None:
        found = files.derived[_SCRIPTS] = shell_scripts(files, repo_files(files), ())
    return list(found)


_SCRIPTS = "rules:scripts"


def shell_scripts(files: FileCache, paths: Iterable[str], allowed: Iterable[str]) -> list[tuple[str, str]]:
    """(path, what it is) of the shell scripts among ``paths`` that no ``allowed`` glob matches."""
    allowed = tuple(allowed)
    out: list[tuple[str, str]] = []
    for path in paths:
        if allowed and matches_any(path, allowed):
            continue
        if path.endswith(SHELL_SUFFIXES):
            out.append((path, "shell script: move this automation into a Taskfile task"))
            continue
        try:
            joined = os.path.join(files.root, path)
            target = files.boundary.checked(joined, f"'{path}'")
            mode = _mode(files, path) if target == joined else os.stat(target).st_mode
            if not stat.S_ISREG(mode) or not mode & 0o111:
                continue
            with open(target, "rb") as handle:  # a regular file inside the repository: its first bytes
                head = handle.read(128)
        except (OSError, HomeopsError):
            continue
        if is_shell_shebang(head):
            out.append((path, "executable shell script: move this automation into a Taskfile task"))
    return out


def _mode(files: FileCache, path: str) -> int:
    """The mode of a file that is no link and lies below no link: from the run's listing (taken once)."""
    entry = files.listing.entry(path)
    if entry is None:
        raise FileNotFoundError(path)
    return entry.stat(follow_symlinks=False).st_mode
