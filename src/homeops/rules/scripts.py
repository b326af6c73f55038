"""Automation belongs in Taskfiles, not in scattered shell scripts (HO005)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator

from homeops.core import codes
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.profile import matches_any
from homeops.rules.base import RuleContext, finding, rule

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
unless it matches the profile's `script_allowed_paths`.
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
    allowed = ctx.profile.script_allowed_paths
    for path in ctx.repo_files():
        if matches_any(path, allowed):
            continue
        full = os.path.join(ctx.root, path)
        if path.endswith(SHELL_SUFFIXES):
            yield finding(
                codes.SHELL_SCRIPT,
                "shell script: move this automation into a Taskfile task",
                file=path,
                line=1,
            )
            continue
        try:
            target = ctx.files.boundary.check(full, f"'{path}'")
            mode = os.stat(target).st_mode
            if not stat.S_ISREG(mode) or not mode & 0o111:
                continue
            with open(target, "rb") as handle:  # a regular file inside the repository: its first bytes
                head = handle.read(128)
        except (OSError, HomeopsError):
            continue
        if is_shell_shebang(head):
            yield finding(
                codes.SHELL_SCRIPT,
                "executable shell script: move this automation into a Taskfile task",
                file=path,
                line=1,
            )
