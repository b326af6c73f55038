"""What Git knows about the working tree: which files are the same as at a revision, and their ids.

``check --changed`` (and ``--changed-from REF``) renders and checks the working tree like ``check``,
but lets Git vouch for every file it says is unchanged since the revision: such a file's content id
is the blob id the revision's tree records, so the caches (``FileCache.known``) can tell that what
was read before still holds without reading it again. Only the files that changed are read. Where a
run before kept the working tree's file stats (``homeops.flux.file_facts``), those vouch instead, as for
a full check, and Git is asked only that the revision exists (:func:`revision`).

Git's word is taken only where it is exact: tracked regular files (not links, not submodules) that
``git diff REF`` does not list, in a repository with no content filters on checkout (``core.autocrlf``
or ``.gitattributes`` ``text``/``eol``/``filter``/``ident``/``working-tree-encoding``, which make
the working tree's bytes differ from the blob's). Anything else is read as usual.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homeops.core import git

_CONVERTING = re.compile(r"(?<![\w-])-?(text|eol|filter|ident|working-tree-encoding|crlf)\b")


@dataclass
class Unchanged:
    """Files of the working tree (relative to the root) Git says are as at ``revision``."""

    revision: str
    ids: dict[str, str] = field(default_factory=dict)  # path -> blob id
    changed: set[str] = field(default_factory=set)  # paths that differ (modified, added, deleted)
    why_not: str | None = None  # why Git's word cannot be taken (then ``ids`` is empty)


def revision(root: Path, ref: str) -> str:
    """The commit ``ref`` names in the repository holding ``root`` (Git's error when there is none)."""
    return git.locate(root, ref, "info/attributes")[1]


def unchanged_since(root: Path, ref: str) -> Unchanged:
    """The files below ``root`` that are the same in the working tree as at ``ref``, with their blob ids."""
    top, sha, info = git.locate(root, ref, "info/attributes")
    prefix = os.path.relpath(root.resolve(), top).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix
    # the questions that do not need each other's answers run side by side
    diffed = git.start_git(top, "diff", "--name-only", "-z", "--no-renames", sha, "--", prefix or ".")
    untracked = git.start_git(top, "ls-files", "-z", "--others", "--exclude-standard", "--", prefix or ".")
    autocrlf = git.start_git(top, "config", "--get", "core.autocrlf")
    entries = git.ls_tree(top, sha, prefix)
    out = Unchanged(sha)
    cut = len(prefix) + 1 if prefix else 0
    out.changed = {p.decode("utf-8", "surrogateescape")[cut:] for p in diffed().split(b"\0") if p}
    out.changed |= {p.decode("utf-8", "surrogateescape")[cut:] for p in untracked().split(b"\0") if p}
    out.why_not = _conversion(top, entries, autocrlf, info)
    if out.why_not is None and any(p.rsplit("/", 1)[-1] == ".gitattributes" for p in out.changed):
        out.why_not = "a .gitattributes file changed"
    if out.why_not is None:
        out.ids = {
            e.path: e.sha for e in entries if e.mode in ("100644", "100755") and e.path not in out.changed
        }
    return out


def _conversion(
    top: Path, entries: list[git.TreeEntry], asked_autocrlf: Callable[[], bytes], info: Path
) -> str | None:
    """Why the working tree's bytes may differ from the blobs' (None when they cannot): the revision's
    ``.gitattributes`` files and the repository's own ``info/attributes`` at ``info`` (``asked_autocrlf``:
    Git's answer about ``core.autocrlf``, asked already)."""
    try:
        autocrlf = asked_autocrlf().decode().strip().lower()
    except git.GitError:  # not set
        autocrlf = ""
    if autocrlf in ("true", "input"):
        return f"core.autocrlf is {autocrlf}"
    texts = [
        (e.path, git.run_git(top, "cat-file", "blob", e.sha).decode("utf-8", "replace"))
        for e in entries
        if e.path.rsplit("/", 1)[-1] == ".gitattributes"
    ]
    if info.is_file():
        texts.append(("info/attributes", info.read_text(encoding="utf-8", errors="replace")))
    for where, text in texts:
        lines = [line.split("#", 1)[0] for line in text.splitlines()]
        if any(_CONVERTING.search(" ".join(line.split()[1:])) for line in lines if line.strip()):
            return f"{where} sets checkout conversions"
    return None
