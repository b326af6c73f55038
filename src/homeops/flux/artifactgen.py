"""ExternalArtifacts made by a source-watcher ArtifactGenerator from this repository.

An ``ArtifactGenerator`` (``source.extensions.fluxcd.io``) copies files of its sources into new
artifacts (``ExternalArtifact`` objects named after ``spec.artifacts[].name``), and Flux
Kustomizations may use those as ``sourceRef``. When every copy operation reads from a local source,
the artifact is rendered from the working tree: in place when it is the repository seen from one
directory (every file lands at the same relative place below some repository directory ``base``, as
``@repo/apps/base/**`` → ``@artifact/base/`` and ``@repo/apps/prod/**`` → ``@artifact/prod/`` do with
``base = apps``), otherwise laid out in a temporary directory of links (see ``MappedArtifact``). The
Merge and Extract strategies and remote sources are not rendered: the artifact is external.

Copy semantics follow source-watcher's builder: a literal directory is copied as a sub-directory of
the destination, a literal file into (``to`` ending in ``/``) or as the destination, a glob is
expanded one directory level like Go's ``fs.Glob`` (``**`` is ``*`` there) and ``dir/**`` drops the
``dir/`` prefix while other globs keep the matched path; ``exclude`` patterns (doublestar) match the
source-relative path, the path relative to the selection root, and, without a ``/``, the file name.
"""

from __future__ import annotations

import bisect
import functools
import os
import posixpath
import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.core.gocompat import pathmatch
from homeops.core.regex import lazy_pattern
from homeops.core.shape import as_list, as_map
from homeops.flux.sourceignore import SourceArtifact

GENERATOR_GROUP = "source.extensions.fluxcd.io"


def is_artifact_generator(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "ArtifactGenerator" and str(obj.get("apiVersion") or "").startswith(
        GENERATOR_GROUP + "/"
    )


class Unsupported(Exception):
    """The artifact cannot be rendered from the working tree (the message says why)."""


@dataclass
class MappedArtifact:
    """An ExternalArtifact as a view of the repository.

    When every file sits at the same relative place below one repository directory (``base``), the
    artifact is that directory holding only the copied files and renders in place. Otherwise it is
    ``materialise``d: a directory outside the repository (``top``) holding a link per copied file, and
    what is built there is traced back to the repository files (``provenance``)."""

    root: Path
    name: str
    mapping: dict[str, str]  # path in the artifact -> path in the repository
    base: str = ""
    in_place: bool = True
    top: Path | None = None
    files: frozenset[str] = frozenset()  # repository paths the artifact holds

    def __post_init__(self) -> None:
        self.files = frozenset(self.mapping.values())

    def describe(self) -> str:
        return f"the copy operations of the ArtifactGenerator making {self.name}"

    def top_dir(self) -> Path:
        return self.top if self.top is not None else (self.root / self.base if self.base else self.root)

    def excludes(self, rel: str, is_dir: bool = False) -> bool:
        if not is_dir:
            return rel not in self.files
        prefix = rel.strip("/") + "/"
        return not any(f.startswith(prefix) for f in self.files)

    def excludes_path(self, path: Path, is_dir: bool = False) -> bool:
        if self.top is not None:
            try:
                rel = path.relative_to(self.top).as_posix()
            except ValueError:
                return True
            return rel not in self.mapping if not is_dir else not self._holds(rel, self.mapping)
        try:
            return self.excludes(path.relative_to(self.root).as_posix(), is_dir)
        except ValueError:
            return True

    def contains_dir(self, path: Path) -> bool:
        return not self.excludes_path(path, True) if path != self.top_dir() else bool(self.mapping)

    def has_dir(self, rel: str) -> bool:
        return not self.excludes(rel, True)

    @staticmethod
    def _holds(rel: str, keys: Mapping[str, str]) -> bool:
        prefix = rel.strip("/") + "/"
        return rel in ("", ".") or any(k.startswith(prefix) for k in keys)

    def materialise(self, directory: Path) -> dict[Path, str]:
        """Lay the artifact out in ``directory`` (links to the repository files); return the path of
        each link with the repository path it stands for."""
        self.top = directory
        self.in_place = False
        out: dict[Path, str] = {}
        made: set[str] = set()
        for art, repo in sorted(self.mapping.items()):
            link = os.path.join(directory, art)
            parent = os.path.dirname(link)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            os.symlink(os.path.join(self.root, repo), link)
            out[Path(link)] = repo
        return out


@functools.lru_cache(maxsize=1024)
def _glob_re(pattern: str, *, doublestar: bool) -> re.Pattern[str]:
    """A path glob as a regex, component by component as Go's ``fs.Glob`` (``path.Match``) matches it;
    with ``doublestar`` (bmatcuk/doublestar: ``[!...]`` also negates), a ``**`` component spans any
    number of directories. Raises Unsupported for a malformed pattern (Go's ErrBadPattern)."""
    out: list[str] = []
    parts = pattern.split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if doublestar and part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        piece = pathmatch.translate(part, bang_negates=doublestar)
        if piece is None:
            raise Unsupported(f"glob pattern {pattern!r} is malformed")
        out.append(piece + ("" if last else "/"))
    return re.compile("".join(out), re.DOTALL)


def _excluded(path: str, base: str, patterns: list[str]) -> bool:
    def match(p: str) -> bool:
        name = posixpath.basename(p)
        for pattern in patterns:
            if _glob_re(pattern, doublestar=True).fullmatch(p):
                return True
            if "/" not in pattern and _glob_re(pattern, doublestar=True).fullmatch(name):
                return True
        return False

    if not patterns:
        return False
    if match(path):
        return True
    if base in ("", "."):
        return False
    if path == base or not path.startswith(base + "/"):
        return False
    return match(path[len(base) + 1 :])


_GLOB_CHARS = lazy_pattern(r"[*?\[\]]")


class _Source:
    """A local source's artifact as a listing of its files, relative to the artifact root (the
    repository directory ``view.base``)."""

    def __init__(self, root: Path, view: SourceArtifact) -> None:
        self.base = view.base
        self.top = root / view.base if view.base else root
        self.view = view
        self._files: list[str] | None = None
        self._set: set[str] = set()

    def repo_path(self, rel: str) -> str:
        return f"{self.base}/{rel}" if self.base else rel

    def files(self) -> list[str]:
        if self._files is None:
            out = []
            for dirpath, dirnames, filenames in os.walk(self.top):
                dirnames[:] = sorted(d for d in dirnames if d != ".git")
                base = Path(dirpath).relative_to(self.top).as_posix()
                for name in sorted(filenames):
                    rel = name if base == "." else f"{base}/{name}"
                    if not os.path.islink(os.path.join(dirpath, name)) and not self.view.excludes(
                        self.repo_path(rel)
                    ):
                        out.append(rel)
            out.sort()
            self._files = out
            self._set = set(out)
        return self._files

    def is_dir(self, rel: str) -> bool:
        rel = rel.strip("/")
        if rel in ("", "."):
            return True
        return bool(self.under(rel))

    def is_file(self, rel: str) -> bool:
        self.files()
        return rel in self._set

    def under(self, rel: str) -> list[str]:
        rel = rel.strip("/")
        files = self.files()
        if rel in ("", "."):
            return list(files)
        prefix = rel + "/"
        start = bisect.bisect_left(files, prefix)
        end = bisect.bisect_left(files, prefix[:-1] + "0")  # "0" sorts right after "/"
        return files[start:end]

    def entries(self, directory: str) -> list[str]:
        """Direct children (files and directories) of a directory, as paths."""
        directory = directory.strip("/")
        prefix = "" if directory in ("", ".") else directory + "/"
        seen: dict[str, None] = {}
        for f in self.files():
            if f.startswith(prefix):
                head = f[len(prefix) :].split("/", 1)[0]
                seen.setdefault(prefix + head, None)
        return sorted(seen)


_LISTINGS: weakref.WeakKeyDictionary[SourceArtifact, _Source] = weakref.WeakKeyDictionary()
"""A source's file listing, shared by every artifact made from it (a generator may make dozens)."""


def map_artifact(
    root: Path,
    generator: Mapping[str, Any],
    artifact_name: str,
    source_view: Callable[[str, str, str], SourceArtifact | None],
) -> MappedArtifact:
    """The artifact ``artifact_name`` of an ArtifactGenerator as a view of the repository.

    ``source_view(kind, namespace, name)`` is the artifact of a local source, None for others.
    Raises Unsupported when the artifact is not the repository seen from one directory.
    """
    meta = as_map(generator.get("metadata"))
    namespace = str(meta.get("namespace") or "flux-system")
    spec = as_map(generator.get("spec"))
    aliases: dict[str, _Source] = {}
    for src in as_list(spec.get("sources")):
        if not isinstance(src, dict):
            continue
        view = source_view(
            str(src.get("kind") or ""), str(src.get("namespace") or namespace), str(src.get("name") or "")
        )
        if view is not None:
            listing = _LISTINGS.get(view)
            if listing is None:
                listing = _LISTINGS[view] = _Source(root, view)
            aliases[str(src.get("alias") or "")] = listing
    artifact = next(
        (a for a in as_list(spec.get("artifacts")) if isinstance(a, dict) and a.get("name") == artifact_name),
        None,
    )
    if artifact is None:
        raise Unsupported(f"no artifact {artifact_name} in the ArtifactGenerator")
    mapping: dict[str, str] = {}  # path in the artifact -> path in the repository
    for op in as_list(artifact.get("copy")):
        if not isinstance(op, dict):
            continue
        if str(op.get("strategy") or "Overwrite") != "Overwrite":
            raise Unsupported(f"copy strategy {op.get('strategy')} is not rendered offline")
        src_from, dest = str(op.get("from") or ""), str(op.get("to") or "")
        if not src_from.startswith("@") or "/" not in src_from or not dest.startswith("@artifact/"):
            raise Unsupported(f"copy operation {src_from} -> {dest} is malformed")
        alias, pattern = src_from[1:].split("/", 1)
        source = aliases.get(alias)
        if source is None:
            raise Unsupported(f"source @{alias} is not this repository")
        excludes = [str(p) for p in as_list(op.get("exclude"))]
        _apply(source, pattern, dest.removeprefix("@artifact/"), dest.endswith("/"), excludes, mapping)
    if not mapping:
        raise Unsupported("the copy operations select no file")
    return MappedArtifact(root.resolve(), artifact_name, mapping, **_subtree(mapping))


def _subtree(mapping: Mapping[str, str]) -> dict[str, Any]:
    """{base, in_place}: in place when every file keeps its relative place below one directory."""
    base: str | None = None
    for art_path, repo_path in mapping.items():
        if repo_path == art_path:
            candidate = ""
        elif repo_path.endswith("/" + art_path):
            candidate = repo_path[: -len(art_path) - 1]
        else:
            return {"base": "", "in_place": False}
        if base is None:
            base = candidate
        elif base != candidate:
            return {"base": "", "in_place": False}
    return {"base": base or "", "in_place": True}


def _join(*parts: str) -> str:
    joined = (
        posixpath.normpath(posixpath.join(*[p for p in parts if p not in ("", ".")]))
        if any(p not in ("", ".") for p in parts)
        else ""
    )
    return "" if joined == "." else joined


def _apply(
    source: _Source, pattern: str, dest: str, dest_is_dir: bool, excludes: list[str], mapping: dict[str, str]
) -> None:
    if not _GLOB_CHARS().search(pattern):
        src = _join(pattern)
        if source.is_dir(src):
            target = _join(dest, posixpath.basename(src) if src else "")
            for f in source.under(src):
                rel = f[len(src) + 1 :] if src else f
                if not _excluded(f, src or ".", excludes):
                    mapping[_join(target, rel)] = source.repo_path(f)
            return
        if not source.is_file(src):
            raise Unsupported(f"source path {pattern} does not exist")
        if _excluded(src, ".", excludes):
            return
        existing_dir = any(k.startswith(_join(dest) + "/") for k in mapping)
        target = _join(dest, posixpath.basename(src)) if dest_is_dir or existing_dir else _join(dest)
        mapping[target] = source.repo_path(src)
        return
    clean = _join(pattern)
    selection_root = _selection_root(clean)
    regex = _glob_re(clean, doublestar=False)
    depth = clean.count("/")
    matches = [e for e in _entries_at_depth(source, depth) if regex.fullmatch(e)]
    for match in matches:
        if _excluded(match, selection_root, excludes):
            continue
        if clean.endswith("/**") and match.startswith(clean[:-3]):
            dest_path = _join(dest, match[len(clean) - 2 :])
        else:
            dest_path = _join(dest, match)
        if source.is_dir(match):
            for f in source.under(match):
                if not _excluded(f, selection_root, excludes):
                    mapping[_join(dest_path, f[len(match) + 1 :])] = source.repo_path(f)
        else:
            mapping[dest_path] = source.repo_path(match)


def _selection_root(pattern: str) -> str:
    parts = []
    for part in pattern.split("/"):
        if _GLOB_CHARS().search(part):
            break
        parts.append(part)
    return "/".join(parts) or "."


def _entries_at_depth(source: _Source, depth: int) -> list[str]:
    level = source.entries("")
    for _ in range(depth):
        level = [e for d in level if source.is_dir(d) for e in source.entries(d)]
    return level
