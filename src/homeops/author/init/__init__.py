"""``homeops init``: a new repository (or a new cluster) in the modern layout.

The repository is generated as a list of file edits from the profile, so every convention a file
states comes from the same place ``check`` reads. Shared files (components, Taskfiles, CI, lint
and tool configuration) are written once; cluster files (``clusters/NAME/``,
``cluster-apps/NAME/``) once per cluster, so ``init . --cluster OTHER`` adds a cluster to an
existing repository without touching what is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from homeops.author.init.cluster import cluster_files
from homeops.author.init.defaults import PLACEHOLDER_MARK
from homeops.author.init.options import InitOptions, parse_node, validate
from homeops.author.init.profile import init_profile
from homeops.author.init.skeleton import shared_files
from homeops.core import fs
from homeops.core.edits import FileEdit
from homeops.core.errors import HomeopsError
from homeops.core.git import remote_url
from homeops.core.profile import PROFILE_FILE

__all__ = ["PLACEHOLDER_MARK", "InitOptions", "InitPlan", "detect_repo_url", "parse_node", "plan_init"]


@dataclass
class InitPlan:
    """What ``init`` writes, what it keeps as it is, and where the user must fill in placeholders."""

    edits: list[FileEdit] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    adding_cluster: bool = False


def detect_repo_url(root: Path) -> str | None:
    """The ``origin`` remote of an existing checkout, as an HTTPS URL Flux can read."""
    url = remote_url(root, "origin")
    if url is None:
        return None
    m = re.match(r"^git@([^:]+):(.+)$", url)
    if m:
        url = f"https://{m.group(1)}/{m.group(2)}"
    return url if url.startswith(("https://", "ssh://", "http://")) else None


# ----------------------------------------------------------------------------------------------
# The plan


def plan_init(root: Path, options: InitOptions) -> InitPlan:
    """Every file of the layout, checked against what ``root`` already holds."""
    validate(options)
    root = root.resolve()
    if root.exists() and not root.is_dir():
        raise HomeopsError(f"'{root}' is not a directory", hint="pass a new or existing directory")
    profile, overrides = init_profile(root, options)
    shared = shared_files(profile, options, overrides)
    if (root / PROFILE_FILE).is_file():
        del shared[PROFILE_FILE]  # the repository's own profile: what the files above were generated from
    cluster = cluster_files(profile, options, repo_url=options.repo_url or detect_repo_url(root))
    clusters_dir = root / profile.clusters_dir
    others = (
        sorted(p.name for p in clusters_dir.iterdir() if p.is_dir() and p.name != options.cluster)
        if clusters_dir.is_dir()
        else []
    )
    plan = InitPlan(adding_cluster=bool(others))
    conflicts: list[str] = []
    for path, text in sorted({**shared, **cluster}.items()):
        target = root / path
        if target.exists() and not target.is_file():
            conflicts.append(path)
            continue
        current = fs.read_text(root, target) if target.is_file() else None
        if current is None or options.force:
            if current != text:
                plan.edits.append(FileEdit(path, text, current))
            else:
                plan.kept.append(path)
        elif current == text or (path in shared and plan.adding_cluster):
            plan.kept.append(path)
        else:
            conflicts.append(path)
        if f"# {PLACEHOLDER_MARK}" in text and (path in cluster or not plan.adding_cluster):
            plan.placeholders.append(path)
    if conflicts:
        raise HomeopsError(
            "already exists",
            conflicts[0],
            None,
            f"{len(conflicts)} file(s) would be overwritten; pass --force to overwrite them",
        )
    return plan
