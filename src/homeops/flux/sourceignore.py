"""Which files of the repository a local Flux source's artifact holds.

kustomize-controller never sees the working tree: it builds from the artifact source-controller
made of it, and source-controller leaves files out of that artifact:

- with no ignore rules at all, its default list (VCS files, images and archives, CI files,
  ``.sops.yaml``, ...);
- as soon as there is any rule, from a ``.sourceignore`` file anywhere in the repository (gitignore
  syntax, scoped to the directory holding it) or from the source's ``spec.ignore`` (scoped to the
  root, read last so it wins), the rules REPLACE the default list; only the VCS entries (``.git/``,
  ``.gitignore``, ...) stay.

Every file is judged on its own full path (source-controller's archive walk does not prune excluded
directories), so ``/*`` followed by ``!/apps/`` keeps everything under ``apps/``. Patterns match as
fluxcd/pkg's gitignore package (a go-git copy) matches them: a pattern without a slash matches any
path component (so it hides everything below a matching directory), a pattern with a slash matches
from its scope, ``**`` spans directories, the last matching pattern decides, and globs are Go's
``filepath.Match`` (``[^...]`` negates; a malformed pattern matches nothing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from homeops.core import fs
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.gocompat import pathmatch
from homeops.core.listing import Listing

IGNORE_FILE = ".sourceignore"
_VCS = ".git/,.gitignore,.gitmodules,.gitattributes"
_DEFAULTS = ",".join((
    "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip",
    ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,codeship-services.yml,"
    "codeship-steps.yml",
    "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml",
))  # fmt: skip

_NO_MATCH, _EXCLUDE, _INCLUDE = 0, 1, 2


class _BadPattern(Exception):
    pass


_MAGIC = re.compile(r"[*?\[\\]")


class _Component:
    """One ``/``-separated part of a pattern, matched like ``filepath.Match``."""

    __slots__ = ("bad", "literal", "regex")

    def __init__(self, text: str) -> None:
        self.literal: str | None = None if _MAGIC.search(text) else text
        self.regex = None if self.literal is not None else pathmatch.compile_match(text)
        self.bad = self.literal is None and self.regex is None

    def match(self, name: str) -> bool:
        """True/False; raises _BadPattern where Go's Match returns an error."""
        if self.literal is not None:
            return name == self.literal
        if self.regex is None:
            raise _BadPattern
        return self.regex.fullmatch(name) is not None


@dataclass(frozen=True)
class Pattern:
    """A gitignore pattern with the directory (as path components) it is scoped to."""

    text: str
    domain: tuple[str, ...]
    parts: tuple[str, ...]
    inclusion: bool
    dir_only: bool
    is_glob: bool

    @staticmethod
    def parse(line: str, domain: Sequence[str] = ()) -> Pattern:
        text = line
        inclusion = line.startswith("!")
        if inclusion:
            line = line[1:]
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        dir_only = line.endswith("/")
        if dir_only:
            line = line[:-1]
        return Pattern(text, tuple(domain), tuple(line.split("/")), inclusion, dir_only, "/" in line)

    def match(self, path: Sequence[str], is_dir: bool) -> int:
        if len(path) <= len(self.domain):
            return _NO_MATCH
        for i, part in enumerate(self.domain):
            if path[i] != part:
                return _NO_MATCH
        rest = path[len(self.domain) :]
        try:
            ok = self._glob_match(rest, is_dir) if self.is_glob else self._simple_match(rest, is_dir)
        except _BadPattern:
            ok = False
        if not ok:
            return _NO_MATCH
        return _INCLUDE if self.inclusion else _EXCLUDE

    def _simple_match(self, path: Sequence[str], is_dir: bool) -> bool:
        comp = _component(self.parts[0])
        for i, name in enumerate(path):
            if not comp.match(name):
                continue
            # a dir-only pattern does not match a file of that name
            return not (self.dir_only and not is_dir and i == len(path) - 1)
        return False

    def _glob_match(self, path: Sequence[str], is_dir: bool) -> bool:
        path = list(path)
        matched = False
        can_traverse = False
        for i, part in enumerate(self.parts):
            if part == "":
                can_traverse = False
                continue
            if part == "**":
                if i == len(self.parts) - 1:
                    break
                can_traverse = True
                continue
            if "**" in part:
                return False
            if not path:
                return False
            comp = _component(part)
            if can_traverse:
                can_traverse = False
                while path:
                    name = path.pop(0)
                    if comp.match(name):
                        matched = True
                        break
                    if not path:
                        matched = False
            else:
                if not comp.match(path[0]):
                    return False
                matched = True
                path.pop(0)
        if matched and self.dir_only and not is_dir and not path:
            matched = False
        return matched


_COMPONENTS: dict[str, _Component] = {}


def _component(text: str) -> _Component:
    comp = _COMPONENTS.get(text)
    if comp is None:
        comp = _COMPONENTS[text] = _Component(text)
    return comp


def read_patterns(text: str, domain: Sequence[str] = ()) -> list[Pattern]:
    """Patterns of a ``.sourceignore`` file or a ``spec.ignore`` block (``#`` comments, blank lines skipped)."""
    out = []
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.startswith("#") and line.strip():
            out.append(Pattern.parse(line, domain))
    return out


def _split(spec: str) -> list[Pattern]:
    return [Pattern.parse(p) for p in spec.split(",")]


VCS_PATTERNS = tuple(_split(_VCS))
DEFAULT_PATTERNS = tuple(_split(_DEFAULTS))


def load_sourceignore_files(
    root: Path,
    files: FileCache | None = None,
    found: Sequence[tuple[Path, Sequence[str]]] | None = None,
    refused: list[HomeopsError] | None = None,
) -> list[Pattern]:
    """The patterns of every ``.sourceignore`` in the repository, each scoped to its directory, in
    source-controller's order (a directory's own file, then its sub-directories by name). ``found``:
    the files (with their directory's components) when a walk already listed them in that order.
    A file the boundary refuses (a link out of the repository, a FIFO) adds no pattern; its refusal
    goes to ``refused``."""
    root = root.resolve()
    if found is None:  # as os.walk lists them (links to directories not followed), from the run's listing
        listing = (
            files.listing if files is not None and files.listing.root == str(root) else Listing(str(root))
        )
        found = [
            (Path(listing.path(rel), IGNORE_FILE), tuple(rel.split("/")) if rel else ())
            for rel, _dirs, others in listing.walk(skip=_git_dir)
            if any(e.name == IGNORE_FILE for e in others)
        ]
    patterns: list[Pattern] = []
    inside = files.boundary if files is not None else fs.Boundary.at(root)
    for path, domain in found:
        what = f"the {IGNORE_FILE} file"
        try:
            text = files.read_text(path, what) if files is not None else inside.read_text(path, what)
        except HomeopsError as exc:
            if refused is not None:
                if exc.file is None:
                    exc.file = os.path.relpath(path, root).replace(os.sep, "/")
                refused.append(exc)
            continue
        patterns.extend(read_patterns(text, tuple(domain)))
    return patterns


def _git_dir(_parent: str, name: str) -> bool:
    return name == ".git"


class _NameMatcher:
    """The same answers as the pattern list, faster, when every pattern is an exclusion matching a
    path component by name (``name``, ``*.ext``, ``dir/``, ``**/name``) with the root as its scope, as
    the default list and most ``.sourceignore`` files are: then a path is excluded when any pattern
    matches any component (a ``dir/`` pattern matches the last component only for a directory)."""

    def __init__(
        self,
        any_part: re.Pattern[str] | None,
        inner_dir: re.Pattern[str] | None,
        last_dir: re.Pattern[str] | None,
    ) -> None:
        self.any_part, self.inner_dir, self.last_dir = any_part, inner_dir, last_dir

    @staticmethod
    def build(patterns: Sequence[Pattern]) -> _NameMatcher | None:
        plain: list[str] = []
        dir_only: list[str] = []
        for p in patterns:
            if p.inclusion or p.domain:
                return None
            if p.is_glob and not (
                len(p.parts) == 2 and p.parts[0] == "**" and "**" not in p.parts[1] and p.parts[1]
            ):
                return None
            comp = _component(p.parts[-1])
            if comp.bad:
                continue  # matches nothing
            rx = re.escape(comp.literal) if comp.literal is not None else comp.regex.pattern  # type: ignore[union-attr]
            (dir_only if p.dir_only else plain).append(rx)

        def compile_(body: list[str], tail: str) -> re.Pattern[str] | None:
            return (
                re.compile(r"(?:^|/)(?:" + "|".join(f"(?:{b})" for b in body) + ")" + tail) if body else None
            )

        last = re.compile("(?:" + "|".join(f"(?:{b})" for b in dir_only) + ")") if dir_only else None
        return _NameMatcher(compile_(plain, "(?:/|$)"), compile_(dir_only, "/"), last)

    def excludes(self, parts: list[str], is_dir: bool) -> bool:
        joined = "/".join(parts)
        if self.any_part is not None and self.any_part.search(joined):
            return True
        if self.inner_dir is not None and self.inner_dir.search(joined):
            return True
        return bool(is_dir and self.last_dir is not None and self.last_dir.fullmatch(parts[-1]))


class ArtifactView(Protocol):
    """What a source's artifact holds, as the render asks it (``base``: the repository directory that
    is the artifact's root)."""

    base: str

    def excludes(self, rel: str, is_dir: bool = False) -> bool: ...

    def excludes_path(self, path: Path, is_dir: bool = False) -> bool: ...

    def contains_dir(self, path: Path) -> bool: ...

    def top_dir(self) -> Path: ...

    def describe(self) -> str: ...


class SourceArtifact:
    """The view of the repository a source's artifact gives: ``excludes(rel)`` says whether a file
    (or directory) is left out. Results are cached: one instance per source and render."""

    def __init__(
        self, root: Path, repo_patterns: Sequence[Pattern], ignore: str | None = None, base: str = ""
    ) -> None:
        self.root = root.resolve()
        self.base = base.strip("/")  # the repository directory the artifact was made from ("" for the root)
        scope = tuple(self.base.split("/")) if self.base else ()
        # only the .sourceignore files inside the artifact count; spec.ignore is scoped to its root
        inside = [p for p in repo_patterns if p.domain[: len(scope)] == scope]
        user = [*inside, *(read_patterns(ignore, scope) if ignore is not None else [])]
        # With no rule at all the default list applies; any rule replaces it (the VCS entries stay).
        self.patterns: tuple[Pattern, ...] = (
            (*VCS_PATTERNS, *user) if user else (*VCS_PATTERNS, *DEFAULT_PATTERNS)
        )
        self.customised = bool(user)
        self._cache: dict[tuple[str, bool], bool] = {}
        self._dirs: dict[str, bool] = {}
        self._fast = _NameMatcher.build(self.patterns)

    def describe(self) -> str:
        return (
            "the source's ignore rules (.sourceignore / spec.ignore)"
            if self.customised
            else ("source-controller's default exclusions")
        )

    def excludes(self, rel: str, is_dir: bool = False) -> bool:
        """Is ``rel`` (relative to the repository root, ``/``-separated) left out of the artifact?"""
        key = (rel, is_dir)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        parts = [p for p in rel.split("/") if p and p != "."]
        result = False
        if parts and self._fast is not None:
            result = self._fast.excludes(parts, is_dir)
        elif parts:
            for pattern in reversed(self.patterns):
                outcome = pattern.match(parts, is_dir)
                if outcome != _NO_MATCH:
                    result = outcome == _EXCLUDE
                    break
        self._cache[key] = result
        return result

    def excludes_path(self, path: Path, is_dir: bool = False) -> bool:
        """Like ``excludes`` for an absolute path; a symbolic link is never in the artifact
        (source-controller archives regular files and directories only)."""
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            return False
        return self.excludes(rel, is_dir) or path.is_symlink()

    def top_dir(self) -> Path:
        """The directory that is the artifact's root."""
        return self.root / self.base if self.base else self.root

    def contains_dir(self, path: Path) -> bool:
        try:
            return self.has_dir(path.relative_to(self.root).as_posix())
        except ValueError:
            return False

    def has_dir(self, rel: str) -> bool:
        """Does the artifact hold this directory (itself kept, or any file below it kept)?"""
        rel = rel.strip("/").removeprefix("./")
        if rel in ("", "."):
            return True
        hit = self._dirs.get(rel)
        if hit is not None:
            return hit
        result = not self.excludes(rel, True)
        if not result:
            for dirpath, dirnames, filenames in os.walk(self.root / rel):
                dirnames[:] = sorted(d for d in dirnames if d != ".git")
                base = Path(dirpath).relative_to(self.root).as_posix()
                if any(not self.excludes(f"{base}/{name}") for name in filenames):
                    result = True
                    break
        self._dirs[rel] = result
        return result
