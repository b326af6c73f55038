"""The repository index: what a render needs to know about the whole repository before it starts.

The FluxInstance syncs (``spec.sync``, also as the flux-instance chart's ``instance.sync`` values),
where each Flux source and ArtifactGenerator is written, and the ``.sourceignore`` files. One walk of
the tree lists the YAML files; what their texts may hold is kept by content
(:mod:`homeops.flux.file_facts`), so only the files nothing vouches for are read.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from homeops.core import fs
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.listing import Listing
from homeops.core.shape import as_map
from homeops.flux.file_facts import GENERATOR_GROUP, TextFacts, quiet_text, scan
from homeops.flux.model import SOURCE_GROUP
from homeops.flux.sourceignore import IGNORE_FILE


@dataclass(frozen=True)
class Sync:
    """How Flux enters a cluster: a FluxInstance's ``spec.sync`` (the flux-operator generates a source
    and a Kustomization, both named after the instance's namespace, that apply ``path``)."""

    kind: str  # GitRepository, OCIRepository or Bucket
    url: str
    path: str  # the directory applied, relative to the repository root, normalised, no leading ./
    namespace: str
    name: str  # of the generated source and Kustomization: sync.name, else the namespace
    file: str
    line: int | None
    base: str = ""  # repository directory the source's artifact root is (an OCI artifact pushed from it)
    namespace_written: bool = True  # False: the document does not say where the instance is, and
    # "flux-system" is a guess (a kustomization or a Flux Kustomization may put it in another namespace)
    ref: str = ""  # the revision synced (``refs/heads/main``, a tag, a commit), as the instance writes it

    @property
    def artifact_path(self) -> str:
        """``path`` as the sync writes it: relative to the artifact root."""
        return (
            self.path[len(self.base) + 1 :]
            if self.base and self.path.startswith(self.base + "/")
            else ("" if self.path == self.base else self.path)
        )


@dataclass(frozen=True)
class SourceDef:
    """A Flux source object as written in the repository (before any render)."""

    kind: str
    name: str
    namespace: str | None  # None when the file does not say (a kustomization sets it)
    spec: dict[str, Any]
    file: str
    line: int | None


@dataclass(frozen=True)
class GeneratorDef:
    """An ArtifactGenerator as written in the repository."""

    namespace: str | None
    obj: dict[str, Any]
    file: str


SYNC_KINDS = frozenset({"GitRepository", "OCIRepository", "Bucket"})
_SKIP_DIRS = frozenset({".git", ".github", "node_modules", ".venv", "vendor"})


class RepoIndex:
    """What the render needs to know about the whole repository before it starts: the FluxInstance
    syncs, where each Flux source and ArtifactGenerator is defined, and the ``.sourceignore`` files.

    One walk lists the YAML files (and ``.sourceignore`` files); what their texts tell (which may hold
    what is asked) is kept across runs by content (:mod:`homeops.flux.file_facts`), so only the files
    nothing vouches for are read; a file is parsed only when it may hold what is asked: every file
    mentioning ``sync:`` for the syncs, the files that can hold a source once, at the first lookup.
    Texts go through the file cache (the builds reuse them); parsed documents are shared with it (do
    not modify them)."""

    def __init__(self, root: Path, files: FileCache | None = None) -> None:
        self.root = root.resolve()
        self.files = files or FileCache(self.root)
        self.ignore_files: list[tuple[Path, tuple[str, ...]]] = []  # (file, its directory's components)
        self._yaml_entries: list[os.DirEntry[str]] = []
        self._walk()
        self._scanned: list[tuple[str, TextFacts]] | None = None
        self.texts_read = 0
        """How many files were read to learn what they may hold (the others were vouched for)."""
        self._syncs: list[Sync] | None = None
        self._sources: dict[str, tuple[list[tuple[Path, str]], dict[str, list[SourceDef]]]] = {}  # by kind
        self._generators: list[GeneratorDef] | None = None
        self._values: dict[str, set[str]] = {}

    def _walk(self) -> None:
        """Directories depth first, entries by name (source-controller's order for ``.sourceignore``),
        read from the run's listing of the repository (its other walkers share the directories read)."""
        root = str(self.root)
        listing = self.files.listing if self.files.listing.root == root else Listing(root)
        for parts, entry in listing.below(_SKIP_DIRS):
            if entry.name.endswith((".yaml", ".yml")):
                self._yaml_entries.append(entry)
            elif entry.name == IGNORE_FILE:
                self.ignore_files.append((Path(entry.path), parts))

    def _facts(self) -> list[tuple[str, TextFacts]]:
        """Every readable YAML file (its absolute path) with what its text may hold, in walk order."""
        if self._scanned is None:
            if self.files.recording is not None:  # a look at every file, as reading every text is
                for entry in self._yaml_entries:
                    self.files.touch(Path(entry.path))
            found = scan(self.files, self._yaml_entries)
            self._scanned, self.texts_read = found.facts, found.read
        return self._scanned

    def _readable(self, path: Path) -> bool:
        return quiet_text(self.files, path) is not None

    def _documents(self, holds: Callable[[TextFacts], bool]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The mapping documents (with their file, relative) of the readable files whose text ``holds``
        what is looked for, in walk order."""
        for file, facts in self._facts():
            path = Path(file) if holds(facts) else None  # no Path for the many files that do not
            if path is not None and self._readable(path):
                rel = self.files.rel(path)
                for doc in self._docs(path):
                    yield rel, doc

    def _docs(self, path: Path) -> list[Any]:
        try:
            return [d for d in self.files.load_all(path) if isinstance(d, dict)]
        except HomeopsError:
            return []  # reported where the file is built

    @property
    def syncs(self) -> list[Sync]:
        if self._syncs is None:
            seen: set[tuple[str, str, str]] = set()
            out: list[Sync] = []
            for rel, doc in self._documents(lambda facts: facts.mentions_sync):
                for sync in _syncs_in(doc, rel, self.root, self._values_of):
                    key = (sync.kind, sync.path, sync.namespace)
                    if key not in seen:
                        seen.add(key)
                        out.append(sync)
            self._syncs = out
        return self._syncs

    def _values_of(self, name: str) -> set[str]:
        """The values the repository gives variable ``name`` (its ``NAME: value`` lines: a
        postBuild.substitute, a ConfigMap's data), looked for only when a sync path has ``${NAME}``."""
        if name not in self._values:
            line = re.compile(
                rf"^[ \t-]*{re.escape(name)}:[ \t]*[\"']?([A-Za-z0-9._/-]+)[\"']?[ \t]*(?:#.*)?$", re.M
            )
            found: set[str] = set()
            for file, _facts in self._facts():
                text = quiet_text(self.files, Path(file))
                if text is not None and name in text:
                    found.update(line.findall(text))
            self._values[name] = found
        return self._values[name]

    def _sources_named(self, kind: str, name: str) -> list[SourceDef]:
        found = self._sources.get(kind)
        if found is None:
            found = self._sources[kind] = self._source_defs(kind)
        candidates, by_name = found
        for path, text in candidates:
            if name in text:  # what a search by name looks at (a render that records it depends on it)
                self.files.touch(path)
        return by_name.get(name, [])

    def _source_defs(self, kind: str) -> tuple[list[tuple[Path, str]], dict[str, list[SourceDef]]]:
        """The files that can hold a source of ``kind`` (Git/OCI/Bucket, told apart by their text) and
        every source of that kind they write, by name: parsed once per kind, whatever the lookups."""
        candidates: list[tuple[Path, str]] = []
        by_name: dict[str, list[SourceDef]] = {}
        outer, self.files.recording = self.files.recording, None  # each lookup notes what it looks at
        try:
            for file, facts in self._facts():
                path = Path(file) if facts.may_hold(kind) else None
                text = quiet_text(self.files, path) if path is not None else None
                if path is not None and text is not None:
                    candidates.append((path, text))
                    self._parse_sources(path, kind, by_name)
        finally:
            self.files.recording = outer
        return candidates, by_name

    def _parse_sources(self, path: Path, kind: str, by_name: dict[str, list[SourceDef]]) -> None:
        rel = self.files.rel(path)
        for doc in self._docs(path):
            if _is_source_doc(doc) and doc.get("kind") == kind:
                meta = _mapping(doc.get("metadata"))
                spec = doc.get("spec")
                found = SourceDef(
                    str(doc.get("kind")),
                    str(meta.get("name") or ""),
                    str(meta["namespace"]) if meta.get("namespace") else None,
                    spec if isinstance(spec, dict) else {},
                    rel,
                    getattr(doc, "line", None),
                )
                by_name.setdefault(found.name, []).append(found)

    @property
    def generators(self) -> list[GeneratorDef]:
        if self._generators is None:
            out: list[GeneratorDef] = []
            for rel, doc in self._documents(lambda facts: facts.may_hold_generator):
                if doc.get("kind") == "ArtifactGenerator" and str(doc.get("apiVersion") or "").startswith(
                    GENERATOR_GROUP + "/"
                ):
                    meta = as_map(doc.get("metadata"))
                    out.append(
                        GeneratorDef(str(meta["namespace"]) if meta.get("namespace") else None, doc, rel)
                    )
            self._generators = out
        return self._generators

    def sync_for(self, directory: str) -> Sync | None:
        directory = _norm(directory)
        found = [s for s in self.syncs if s.path == directory]
        return next((s for s in found if s.namespace_written), found[0] if found else None)

    def source(self, kind: str, name: str, namespace: str, prefer: str | None = None) -> SourceDef | None:
        """The definition of a source: among those in that namespace (or with none written), the one
        below ``prefer`` (the cluster directory), else the only one; None when absent or ambiguous."""
        named = [s for s in self._sources_named(kind, name) if s.namespace in (namespace, None)]
        if prefer is not None:
            inside = [s for s in named if s.file.startswith(prefer.rstrip("/") + "/")]
            if len(inside) == 1:
                return inside[0]
            if inside:
                named = inside
        exact = [s for s in named if s.namespace == namespace]
        if len(exact) == 1:
            return exact[0]
        return named[0] if len(named) == 1 else None

    def defined(self, kind: str, name: str, namespace: str) -> tuple[str, dict[str, Any]] | None:
        """Where the repository writes a ConfigMap or Secret (file, document), whether or not a Flux
        Kustomization applies it: one applied at bootstrap still exists in the cluster."""
        needle = f"name: {name}"
        for file, facts in self._facts():
            if not facts.may_write(kind):
                continue
            path = Path(file)
            text = quiet_text(self.files, path)
            if text is None or needle not in text or f"kind: {kind}" not in text:
                continue
            for doc in self._docs(path):
                meta = _mapping(doc.get("metadata"))
                if (
                    doc.get("kind") == kind
                    and str(meta.get("name") or "") == name
                    and str(meta.get("namespace") or namespace) == namespace
                ):
                    return self.files.rel(path), doc
        return None


def _is_source_doc(doc: dict[str, Any]) -> bool:
    kind = doc.get("kind")
    return (
        str(doc.get("apiVersion") or "").startswith(SOURCE_GROUP + "/")
        and isinstance(kind, str)
        and kind in SYNC_KINDS
    )


def _norm(path: str) -> str:
    path = posixpath.normpath(path.strip().lstrip("/")) if path.strip() not in ("", ".", "./") else "."
    return "" if path == "." else path


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _syncs_in(doc: dict[str, Any], rel: str, root: Path, values: Callable[[str], set[str]]) -> list[Sync]:
    """FluxInstance ``spec.sync``, the flux-instance chart's ``instance.sync`` (HelmRelease values or a
    values file); only syncs whose path is a directory of this repository."""
    candidates: list[tuple[Any, str | None]] = []
    meta = _mapping(doc.get("metadata"))
    written = str(meta["namespace"]) if meta.get("namespace") else None
    kind = doc.get("kind")
    spec = _mapping(doc.get("spec"))
    if kind == "FluxInstance" and str(doc.get("apiVersion") or "").startswith("fluxcd.controlplane.io/"):
        candidates.append((spec.get("sync"), written))
    elif kind == "HelmRelease":  # the chart puts the instance in the release namespace
        release_ns = str(spec["targetNamespace"]) if spec.get("targetNamespace") else written
        candidates.append((_mapping(_mapping(spec.get("values")).get("instance")).get("sync"), release_ns))
    elif "kind" not in doc and isinstance(doc.get("instance"), dict):  # a values file of the chart
        candidates.append((doc["instance"].get("sync"), None))
    out = []
    for sync, ns in candidates:
        if not isinstance(sync, dict) or str(sync.get("kind") or "") not in SYNC_KINDS:
            continue
        path = str(sync.get("path") or "")
        if not path or "{{" in path:
            continue
        norm = _norm(path)
        if not norm.startswith(".."):
            for directory in _sync_paths(root, norm, values):
                out.extend(_sync_at(sync, directory, ns, rel, root))
    return out


_VARIABLE = re.compile(r"(\$\{[^}]*\})")
_VARIABLE_PARTS = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[=-]([^}]*))?\}")


def _sync_paths(root: Path, path: str, values: Callable[[str], set[str]]) -> list[str]:
    """The directories a sync path names. A path with ``${VAR}`` in it (the flux-instance chart's values,
    which the Flux Kustomization applying them substitutes: ``kubernetes/clusters/${CLUSTER}``) names
    the directories of the repository it matches, a variable standing for part of one segment, with a
    value the repository gives the variable (``values``, or its default); when it gives none, the one
    directory matching, if only one does. A path that is one variable names the directories among the
    values the repository gives it; any other path of variables only names none."""
    if "${" not in path:
        return [path]
    inside = fs.Boundary.at(root)
    whole = _VARIABLE_PARTS.fullmatch(path.strip().removeprefix("./").strip("/"))
    if whole is not None:  # path: ${FLUX_PATH}, each cluster's settings giving its directory
        given = values(whole.group(1)) | ({whole.group(2)} if whole.group(2) else set())
        named = {v.removeprefix("./").strip("/") for v in given}
        return sorted(d for d in named if d and "${" not in d and inside.is_dir(root / d))
    parts = path.split("/")
    if all(not _VARIABLE.sub("", part) for part in parts):
        return []
    found: list[tuple[Path, list[tuple[str, str]]]] = [(root, [])]
    for part in parts:
        if "${" not in part:
            found = [(d / part, taken) for d, taken in found if inside.is_dir(d / part)]
            continue
        pieces = _VARIABLE.split(part)
        pattern = re.compile("".join("([^/]+)" if _VARIABLE.fullmatch(p) else re.escape(p) for p in pieces))
        names = [p for p in pieces if _VARIABLE.fullmatch(p)]
        out = []
        for d, taken in found:
            for child in subdirectories(d, inside):
                m = None if child.name.startswith(".") else pattern.fullmatch(child.name)
                if m is not None:
                    out.append((child, taken + list(zip(names, m.groups(), strict=True))))
        found = out
    known = {}
    for _, taken in found:
        for written, _value in taken:
            m = _VARIABLE_PARTS.fullmatch(written)
            name, default = (m.group(1), m.group(2)) if m else (written, None)
            known[written] = values(name) | ({default} if default else set())
    if not any(known.values()):
        return [found[0][0].relative_to(root).as_posix()] if len(found) == 1 else []
    return [
        d.relative_to(root).as_posix()
        for d, taken in found
        if all(value in known[written] for written, value in taken)
    ]


def _sync_at(sync: dict[str, Any], norm: str, namespace: str | None, rel: str, root: Path) -> list[Sync]:
    """The sync of ``norm`` (a directory of this repository or of an artifact made from one of its
    directories), none when it is neither."""
    base = ""
    if not os.path.isdir(root / norm):
        if str(sync["kind"]) == "GitRepository":
            return []  # a Git source's artifact is the repository: the path is not in this one
        found = artifact_base(root, norm)
        if found is None:
            return []
        base = found
    line = sync.line_of("path") if hasattr(sync, "line_of") else getattr(sync, "line", None)
    full = posixpath.join(base, norm) if base and norm else (base or norm)
    return [
        Sync(
            str(sync["kind"]),
            str(sync.get("url") or ""),
            full,
            namespace or "flux-system",
            str(sync.get("name") or namespace or "flux-system"),
            rel,
            line,
            base,
            namespace is not None,
            str(sync.get("ref") or ""),
        )
    ]


def artifact_base(root: Path, path: str) -> str | None:
    """The directory an OCI artifact (or Bucket) was made from, when a path relative to the artifact
    does not exist at the repository root: the one directory (at most two levels down) below which it
    exists, as ``flux push artifact --path=./kubernetes`` makes it. None when none or several fit."""
    found: list[str] = []
    inside = fs.Boundary.at(root)
    for first in subdirectories(root, inside):
        if inside.is_dir(first / path):
            found.append(first.name)
        for second in subdirectories(first, inside):
            if inside.is_dir(second / path):
                found.append(f"{first.name}/{second.name}")
    return found[0] if len(found) == 1 else None


def repo_index(root: Path, files: FileCache) -> RepoIndex:
    """The one :class:`RepoIndex` of ``root`` read through ``files``: the renders of every cluster of a
    run share its walk and its scans (a new file cache, a new index)."""
    key = (RepoIndex, str(root.resolve()))
    index = files.derived.get(key)
    if index is None:
        index = files.derived[key] = RepoIndex(root, files)
    return cast(RepoIndex, index)


def find_syncs(root: Path, files: FileCache | None = None) -> list[Sync]:
    return (RepoIndex(root) if files is None else repo_index(root, files)).syncs


def subdirectories(directory: Path, inside: fs.Boundary, skip: frozenset[str] = _SKIP_DIRS) -> list[Path]:
    """The subdirectories of ``directory`` (links to directories inside the boundary included), by name;
    by default not those that never hold a cluster's Flux objects (``.git``, ``.github``, ``vendor``...)."""
    try:
        children = sorted(directory.iterdir())
    except OSError:
        return []
    return [p for p in children if p.name not in skip and inside.is_dir(p)]
