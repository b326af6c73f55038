"""ExternalArtifacts made by a source-watcher ArtifactGenerator from this repository.

An ``ArtifactGenerator`` (``source.extensions.fluxcd.io``) copies files of its sources into new
artifacts (``ExternalArtifact`` objects named after ``spec.artifacts[].name``), and Flux
Kustomizations may use those as ``sourceRef``. When every copy operation reads from a local source
and the artifact is the repository seen from one directory (every file lands at the same relative
place below some repository directory ``base``, as ``@repo/apps/base/**`` → ``@artifact/base/`` and
``@repo/apps/prod/**`` → ``@artifact/prod/`` do with ``base = apps``), the artifact renders like the
local tree: a Kustomization path ``P`` is ``base/P`` and only the copied files exist. Other layouts
(renamed files, the Merge and Extract strategies, remote sources) cannot be rendered from the working
tree and the artifact is treated as external.

Copy semantics follow source-watcher's builder: a literal directory is copied as a sub-directory of
the destination, a literal file into (``to`` ending in ``/``) or as the destination, a glob is
expanded one directory level like Go's ``fs.Glob`` (``**`` is ``*`` there) and ``dir/**`` drops the
``dir/`` prefix while other globs keep the matched path; ``exclude`` patterns (doublestar) match the
source-relative path, the path relative to the selection root, and, without a ``/``, the file name.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.flux.sourceignore import SourceArtifact

GENERATOR_GROUP = "source.extensions.fluxcd.io"


def is_artifact_generator(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "ArtifactGenerator" and str(obj.get("apiVersion") or "").startswith(GENERATOR_GROUP + "/")


class Unsupported(Exception):
    """The artifact cannot be rendered from the working tree (the message says why)."""


@dataclass
class MappedArtifact:
    """An ExternalArtifact that is the repository seen from ``base``, holding only ``files``."""

    root: Path
    base: str  # repository directory the artifact root corresponds to ("" for the root)
    files: frozenset[str]  # repository-relative paths of the files the artifact holds
    name: str

    def describe(self) -> str:
        return f"the copy operations of the ArtifactGenerator making {self.name}"

    def excludes(self, rel: str, is_dir: bool = False) -> bool:
        if not is_dir:
            return rel not in self.files
        return not self.has_dir(rel)

    def excludes_path(self, path: Path, is_dir: bool = False) -> bool:
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            return True
        return self.excludes(rel, is_dir)

    def has_dir(self, rel: str) -> bool:
        rel = rel.strip("/").removeprefix("./")
        if rel in ("", "."):
            return bool(self.files)
        prefix = rel + "/"
        return any(f.startswith(prefix) for f in self.files)


def _glob_re(pattern: str, *, doublestar: bool) -> re.Pattern[str]:
    """A path glob as a regex: ``*``/``?``/``[...]`` within a component; with ``doublestar``, a ``**``
    component spans any number of directories."""
    out: list[str] = []
    parts = pattern.split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if doublestar and part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        piece = ""
        j = 0
        while j < len(part):
            c = part[j]
            if c == "*":
                piece += "[^/]*"
            elif c == "?":
                piece += "[^/]"
            elif c == "[":
                end = part.find("]", j + 1)
                if end < 0:
                    piece += re.escape(c)
                else:
                    body = part[j + 1:end]
                    if body.startswith(("!", "^")):
                        body = "^" + body[1:]
                    piece += "[" + body.replace("\\", "\\\\") + "]"
                    j = end
            elif c == "\\" and j + 1 < len(part):
                j += 1
                piece += re.escape(part[j])
            else:
                piece += re.escape(c)
            j += 1
        out.append(piece + ("" if last else "/"))
    return re.compile("".join(out))


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
    return match(path[len(base) + 1:])


_GLOB_CHARS = re.compile(r"[*?\[\]]")


class _Source:
    """A local source's artifact as a listing of its files (repository-relative paths)."""

    def __init__(self, root: Path, view: SourceArtifact) -> None:
        self.root = root
        self.view = view
        self._files: list[str] | None = None

    def files(self) -> list[str]:
        if self._files is None:
            out = []
            for dirpath, dirnames, filenames in os.walk(self.root):
                dirnames[:] = sorted(d for d in dirnames if d != ".git")
                base = Path(dirpath).relative_to(self.root).as_posix()
                for name in sorted(filenames):
                    rel = name if base == "." else f"{base}/{name}"
                    if not os.path.islink(os.path.join(dirpath, name)) and not self.view.excludes(rel):
                        out.append(rel)
            self._files = out
        return self._files

    def is_dir(self, rel: str) -> bool:
        rel = rel.strip("/")
        if rel in ("", "."):
            return True
        prefix = rel + "/"
        return any(f.startswith(prefix) for f in self.files())

    def is_file(self, rel: str) -> bool:
        return rel in set(self.files())

    def under(self, rel: str) -> list[str]:
        rel = rel.strip("/")
        if rel in ("", "."):
            return list(self.files())
        prefix = rel + "/"
        return [f for f in self.files() if f.startswith(prefix)]

    def entries(self, directory: str) -> list[str]:
        """Direct children (files and directories) of a directory, as paths."""
        directory = directory.strip("/")
        prefix = "" if directory in ("", ".") else directory + "/"
        seen: dict[str, None] = {}
        for f in self.files():
            if f.startswith(prefix):
                head = f[len(prefix):].split("/", 1)[0]
                seen.setdefault(prefix + head, None)
        return sorted(seen)


def map_artifact(root: Path, generator: Mapping[str, Any], artifact_name: str,
                 source_view: Callable[[str, str, str], SourceArtifact | None]) -> MappedArtifact:
    """The artifact ``artifact_name`` of an ArtifactGenerator as a view of the repository.

    ``source_view(kind, namespace, name)`` is the artifact of a local source, None for others.
    Raises Unsupported when the artifact is not the repository seen from one directory.
    """
    meta = generator.get("metadata") or {}
    namespace = str(meta.get("namespace") or "flux-system")
    spec = generator.get("spec") or {}
    aliases: dict[str, _Source] = {}
    for src in spec.get("sources") or []:
        if not isinstance(src, dict):
            continue
        view = source_view(str(src.get("kind") or ""), str(src.get("namespace") or namespace), str(src.get("name") or ""))
        if view is not None:
            aliases[str(src.get("alias") or "")] = _Source(root, view)
    artifact = next((a for a in spec.get("artifacts") or [] if isinstance(a, dict) and a.get("name") == artifact_name),
                    None)
    if artifact is None:
        raise Unsupported(f"no artifact {artifact_name} in the ArtifactGenerator")
    mapping: dict[str, str] = {}  # artifact path -> repository path
    for op in artifact.get("copy") or []:
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
        excludes = [str(p) for p in op.get("exclude") or []]
        _apply(source, pattern, dest.removeprefix("@artifact/"), dest.endswith("/"), excludes, mapping)
    if not mapping:
        raise Unsupported("the copy operations select no file")
    base: str | None = None
    for art_path, repo_path in mapping.items():
        if repo_path == art_path:
            candidate = ""
        elif repo_path.endswith("/" + art_path):
            candidate = repo_path[: -len(art_path) - 1]
        else:
            raise Unsupported(f"{repo_path} is copied to {art_path}, another relative place")
        if base is None:
            base = candidate
        elif base != candidate:
            raise Unsupported(f"files come from different places ({base or '.'} and {candidate or '.'})")
    return MappedArtifact(root.resolve(), base or "", frozenset(mapping.values()), artifact_name)


def _join(*parts: str) -> str:
    joined = posixpath.normpath(posixpath.join(*[p for p in parts if p not in ("", ".")])) if any(
        p not in ("", ".") for p in parts) else ""
    return "" if joined == "." else joined


def _apply(source: _Source, pattern: str, dest: str, dest_is_dir: bool, excludes: list[str],
           mapping: dict[str, str]) -> None:
    if not _GLOB_CHARS.search(pattern):
        src = _join(pattern)
        if source.is_dir(src):
            target = _join(dest, posixpath.basename(src) if src else "")
            for f in source.under(src):
                rel = f[len(src) + 1:] if src else f
                if not _excluded(f, src or ".", excludes):
                    mapping[_join(target, rel)] = f
            return
        if not source.is_file(src):
            raise Unsupported(f"source path {pattern} does not exist")
        if _excluded(src, ".", excludes):
            return
        existing_dir = any(k.startswith(_join(dest) + "/") for k in mapping)
        target = _join(dest, posixpath.basename(src)) if dest_is_dir or existing_dir else _join(dest)
        mapping[target] = src
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
            dest_path = _join(dest, match[len(clean) - 2:])
        else:
            dest_path = _join(dest, match)
        if source.is_dir(match):
            for f in source.under(match):
                if not _excluded(f, selection_root, excludes):
                    mapping[_join(dest_path, f[len(match) + 1:])] = f
        else:
            mapping[dest_path] = match


def _selection_root(pattern: str) -> str:
    parts = []
    for part in pattern.split("/"):
        if _GLOB_CHARS.search(part):
            break
        parts.append(part)
    return "/".join(parts) or "."


def _entries_at_depth(source: _Source, depth: int) -> list[str]:
    level = source.entries("")
    for _ in range(depth):
        level = [e for d in level if source.is_dir(d) for e in source.entries(d)]
    return level
