"""Finding clusters and their root Flux Kustomizations.

A cluster is a directory holding its root Flux objects. By default every
``clusters/<name>/flux/cluster`` (or ``clusters/<name>/flux``) holding Flux Kustomizations is one;
``.homeops.yaml`` may declare them explicitly; ``--cluster`` also takes a directory. Elsewhere, the
directories a FluxInstance syncs (``spec.sync.path``, also as the flux-instance chart's
``instance.sync`` values) are clusters, and so are the conventional layouts ``kubernetes/flux/cluster``,
``kubernetes/<name>/flux`` and Flux bootstrap's ``<dir>/flux-system/gotk-sync.yaml``.

The roots are the Flux Kustomizations of that directory that no other Kustomization of it includes
(as flux-local did); when a FluxInstance syncs the directory, the renderer starts from the
Kustomization the operator generates for it instead (see ``render``).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from homeops.core import fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.fs import real as fs_real
from homeops.core.listing import Listing
from homeops.core.profile import PROFILE_FILE, Profile
from homeops.core.regex import lazy_pattern
from homeops.core.shape import as_list, as_map
from homeops.flux.file_facts import GENERATOR_GROUP, TextFacts, quiet_text, scan
from homeops.flux.model import SOURCE_GROUP, FluxKustomization, is_flux_kustomization
from homeops.flux.sourceignore import IGNORE_FILE
from homeops.kustomize.build import find_kustomization_file
from homeops.kustomize.resource import Resource


@dataclass(frozen=True)
class Cluster:
    name: str
    directory: str  # relative to the repository root


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
        self._sources: tuple[list[tuple[Path, str]], dict[str, list[SourceDef]]] | None = None
        self._generators: list[GeneratorDef] | None = None

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
            for file, facts in self._facts():
                path = Path(file) if facts.mentions_sync else None
                if path is None or not self._readable(path):
                    continue
                rel = self.files.rel(path)
                for doc in self._docs(path):
                    for sync in _syncs_in(doc, rel, self.root):
                        key = (sync.kind, sync.path, sync.namespace)
                        if key not in seen:
                            seen.add(key)
                            out.append(sync)
            self._syncs = out
        return self._syncs

    def _sources_named(self, name: str) -> list[SourceDef]:
        if self._sources is None:
            self._sources = self._source_defs()
        candidates, by_name = self._sources
        for path, text in candidates:
            if name in text:  # what a search by name looks at (a render that records it depends on it)
                self.files.touch(path)
        return by_name.get(name, [])

    def _source_defs(self) -> tuple[list[tuple[Path, str]], dict[str, list[SourceDef]]]:
        """The files that can hold a Git/OCI/Bucket source (told apart by their text) and every source
        they write, by name: parsed once, whatever the lookups."""
        candidates: list[tuple[Path, str]] = []
        by_name: dict[str, list[SourceDef]] = {}
        outer, self.files.recording = self.files.recording, None  # each lookup notes what it looks at
        try:
            for file, facts in self._facts():
                path = Path(file) if facts.may_hold_source else None
                text = quiet_text(self.files, path) if path is not None else None
                if path is not None and text is not None:
                    candidates.append((path, text))
                    self._parse_sources(path, by_name)
        finally:
            self.files.recording = outer
        return candidates, by_name

    def _parse_sources(self, path: Path, by_name: dict[str, list[SourceDef]]) -> None:
        rel = self.files.rel(path)
        for doc in self._docs(path):
            if _is_source_doc(doc):
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
            for file, facts in self._facts():
                path = Path(file) if facts.may_hold_generator else None
                if path is None or not self._readable(path):
                    continue
                rel = self.files.rel(path)
                for doc in self._docs(path):
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
        return next((s for s in self.syncs if s.path == directory), None)

    def source(self, kind: str, name: str, namespace: str, prefer: str | None = None) -> SourceDef | None:
        """The definition of a source: among those in that namespace (or with none written), the one
        below ``prefer`` (the cluster directory), else the only one; None when absent or ambiguous."""
        named = [s for s in self._sources_named(name) if s.kind == kind and s.namespace in (namespace, None)]
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


def _syncs_in(doc: dict[str, Any], rel: str, root: Path) -> list[Sync]:
    """FluxInstance ``spec.sync``, the flux-instance chart's ``instance.sync`` (HelmRelease values or a
    values file); only syncs whose path is a directory of this repository."""
    candidates: list[tuple[Any, str]] = []
    meta = _mapping(doc.get("metadata"))
    namespace = str(meta.get("namespace") or "flux-system")
    kind = doc.get("kind")
    spec = _mapping(doc.get("spec"))
    if kind == "FluxInstance" and str(doc.get("apiVersion") or "").startswith("fluxcd.controlplane.io/"):
        candidates.append((spec.get("sync"), namespace))
    elif kind == "HelmRelease":
        candidates.append((_mapping(_mapping(spec.get("values")).get("instance")).get("sync"), namespace))
    elif "kind" not in doc and isinstance(doc.get("instance"), dict):  # a values file of the chart
        candidates.append((doc["instance"].get("sync"), "flux-system"))
    out = []
    for sync, ns in candidates:
        if not isinstance(sync, dict) or str(sync.get("kind") or "") not in SYNC_KINDS:
            continue
        path = str(sync.get("path") or "")
        if not path or "${" in path or "{{" in path:
            continue
        norm = _norm(path)
        if norm.startswith(".."):
            continue
        base = ""
        if not os.path.isdir(root / norm):
            if str(sync["kind"]) == "GitRepository":
                continue  # a Git source's artifact is the repository: the path is not in this one
            found = artifact_base(root, norm)
            if found is None:
                continue
            base = found
        line = sync.line_of("path") if hasattr(sync, "line_of") else getattr(sync, "line", None)
        full = posixpath.join(base, norm) if base and norm else (base or norm)
        out.append(
            Sync(
                str(sync["kind"]),
                str(sync.get("url") or ""),
                full,
                ns,
                str(sync.get("name") or ns),
                rel,
                line,
                base,
            )
        )
    return out


def artifact_base(root: Path, path: str) -> str | None:
    """The directory an OCI artifact (or Bucket) was made from, when a path relative to the artifact
    does not exist at the repository root: the one directory (at most two levels down) below which it
    exists, as ``flux push artifact --path=./kubernetes`` makes it. None when none or several fit."""
    found: list[str] = []
    inside = fs.Boundary.at(root)
    for first in _subdirs(root, inside):
        if inside.is_dir(first / path):
            found.append(first.name)
        for second in _subdirs(first, inside):
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


def discover_clusters(root: Path, profile: Profile) -> list[Cluster]:
    inside = fs.Boundary.at(root)
    if profile.clusters:
        for name, directory in profile.clusters.items():
            inside.check(
                root / str(directory).lstrip("/"),
                f"clusters entry {name!r} ({directory})",
                file=PROFILE_FILE,
            )
        return [Cluster(name, str(directory).strip("/")) for name, directory in profile.clusters.items()]
    base = root / profile.clusters_dir
    found: list[Cluster] = []
    if inside.is_dir(base):
        for child in _subdirs(base, inside, skip=frozenset()):
            for sub in (*profile.cluster_root_dirs, ""):  # "": Flux bootstrap's clusters/<name>/ itself
                candidate = child / sub if sub else child
                if inside.is_dir(candidate) and _holds_flux_kustomizations(candidate, inside):
                    found.append(Cluster(child.name, candidate.relative_to(root).as_posix()))
                    break
    return found or _elsewhere(root, profile)


def _sync_clusters(root: Path) -> list[Cluster]:
    """A cluster per directory a FluxInstance syncs, named after it without a trailing flux/cluster."""
    out = []
    for sync in find_syncs(root):
        parts = sync.path.split("/") if sync.path else []
        if parts and parts[-1] == "cluster" and len(parts) > 1 and parts[-2] == "flux":
            parts = parts[:-2]
        elif parts and parts[-1] == "flux":
            parts = parts[:-1]
        out.append(Cluster(parts[-1] if parts else "default", sync.path or "."))
    return out


_SEARCH_DEPTH = 4


def _elsewhere(root: Path, profile: Profile) -> list[Cluster]:
    """Layouts without ``clusters/<name>/``: the directories FluxInstances sync; a ``flux/cluster`` (or
    ``flux``) directory anywhere near the top (``kubernetes/flux/cluster``, ``kubernetes/<name>/flux``);
    a directory whose ``flux-system/`` holds Flux bootstrap's ``gotk-sync.yaml``. A cluster is named
    after the directory above its root. A conventional directory inside, or holding, a synced one is
    the same cluster: the synced directory wins."""
    synced = _sync_clusters(root)
    conventional = _not_applied_by_another(root, _conventional(root, profile))
    clusters = list(synced)
    for c in conventional:
        if not any(_related(c.directory, s.directory) for s in synced):
            clusters.append(c)
    names: dict[str, int] = {}
    for c in clusters:
        names[c.name] = names.get(c.name, 0) + 1
    out = [
        c if names[c.name] == 1 else Cluster(c.directory.replace("/", "-") or c.name, c.directory)
        for c in clusters
    ]
    return sorted(out, key=lambda c: c.directory)


def _related(a: str, b: str) -> bool:
    a, b = a.strip("/"), b.strip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or not a or not b


def _conventional(root: Path, profile: Profile) -> list[Cluster]:
    found: dict[str, Cluster] = {}
    inside = fs.Boundary.at(root)

    def walk(directory: Path, depth: int) -> None:
        if depth > _SEARCH_DEPTH:
            return
        for child in _subdirs(directory, inside):
            if child.name.startswith("."):  # .archive, .taskfiles: kept copies and tooling, not clusters
                continue
            rel = child.relative_to(root).as_posix()
            if inside.is_file(child / "flux-system" / "gotk-sync.yaml"):
                found.setdefault(rel, Cluster(child.name, rel))
                continue
            matched = False
            for sub in profile.cluster_root_dirs:
                candidate = child / sub
                if (
                    inside.is_dir(candidate)
                    and _holds_flux_kustomizations(candidate, inside)
                    and not any(candidate.relative_to(root).as_posix().startswith(k + "/") for k in found)
                ):
                    owner = child.name if child != root else "default"
                    name = owner if owner not in {c.name for c in found.values()} else rel.replace("/", "-")
                    found.setdefault(
                        candidate.relative_to(root).as_posix(),
                        Cluster(name, candidate.relative_to(root).as_posix()),
                    )
                    matched = True
                    break
            if not matched:
                walk(child, depth + 1)

    if inside.is_file(root / "flux-system" / "gotk-sync.yaml"):  # bootstrapped at the repository root
        found["flux-system"] = Cluster("default", "flux-system")
    walk(root, 1)
    return sorted(found.values(), key=lambda c: c.directory)


def _not_applied_by_another(root: Path, candidates: list[Cluster]) -> list[Cluster]:
    """The candidates no other candidate's kustomization applies: a ``flux`` directory of shared
    sources or of Flux's install that a cluster root lists in its resources is part of that cluster."""
    inside = fs.Boundary.at(root)
    reach = _Reach(inside)
    out = []
    for c in candidates:
        own = [Path(os.path.realpath(p)) for p in _yaml_files(root / c.directory, inside)]
        applied = any(
            reach.lists(Path(os.path.realpath(root / other.directory)), f)
            for other in candidates
            if not _related(other.directory, c.directory)
            for f in own
        )
        if not applied:
            out.append(c)
    return out


def _subdirs(directory: Path, inside: fs.Boundary, skip: frozenset[str] = _SKIP_DIRS) -> list[Path]:
    """The subdirectories of ``directory`` (links to directories inside the boundary included), by name."""
    try:
        children = sorted(directory.iterdir())
    except OSError:
        return []
    return [p for p in children if p.name not in skip and inside.is_dir(p)]


def _yaml_files(directory: Path, inside: fs.Boundary) -> list[Path]:
    """The regular YAML files below ``directory`` (never through a link out of the boundary)."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in (".yaml", ".yml") and ".git" not in p.parts and inside.is_file(p)
    )


def _holds_flux_kustomizations(directory: Path, inside: fs.Boundary) -> bool:
    for path in _yaml_files(directory, inside):
        try:
            text = inside.read_bytes(path).decode("utf-8", errors="replace")
        except HomeopsError:
            continue
        if _FLUX_API_LINE().search(text) and _KUSTOMIZATION_KIND_LINE().search(text):
            return True
    return False


# lines that are not comments: a directory holding only commented-out examples is no cluster root
_FLUX_API_LINE = lazy_pattern(r"^[ \t-]*apiVersion:[ \t]*[\"']?kustomize\.toolkit\.fluxcd\.io/", re.M)
_KUSTOMIZATION_KIND_LINE = lazy_pattern(r"^[ \t-]*kind:[ \t]*[\"']?Kustomization\b", re.M)


def resolve_cluster(root: Path, profile: Profile, cluster: str | None) -> Cluster:
    """``--cluster``: a known cluster name, or a directory relative to the repository root."""
    clusters = discover_clusters(root, profile)
    if cluster is None:
        if len(clusters) == 1:
            return clusters[0]
        if not clusters:
            raise HomeopsError(
                "no cluster found (no clusters/<name>/flux directory holds Flux Kustomizations)",
                hint="pass --cluster DIR or declare clusters in .homeops.yaml",
            )
        names = ", ".join(c.name for c in clusters)
        raise HomeopsError(f"several clusters found ({names})", hint="pass --cluster NAME")
    for c in clusters:
        if c.name == cluster:
            return c
    directory = Path(fs_real(root / cluster))
    try:
        rel = directory.relative_to(root)
    except ValueError:
        raise HomeopsError(
            f"cluster directory '{cluster}' is outside the repository", hint="pass a directory inside --path"
        ) from None
    if os.path.isdir(directory):
        return Cluster(rel.as_posix().replace("/", "-") or "root", rel.as_posix())
    known = ", ".join(c.name for c in clusters) or "none"
    raise HomeopsError(
        f"unknown cluster '{cluster}' (known: {known})", hint="pass a cluster name or a directory"
    )


def defined_kustomizations(files: FileCache, root: Path, directory: str) -> list[FluxKustomization]:
    """The Flux Kustomizations written in the files under ``directory``."""
    defined: list[FluxKustomization] = []
    for path in _yaml_files(root / directory, files.boundary):
        rel = files.rel(path)
        try:
            docs = files.load_all(path)
        except HomeopsError:
            continue  # reported when the file is built
        for doc in docs:
            if isinstance(doc, dict) and is_flux_kustomization(doc):
                defined.append(FluxKustomization(Resource.from_obj(doc, rel)))
    return defined


def root_kustomizations(
    files: FileCache, root: Path, directory: str, defined: list[FluxKustomization] | None = None
) -> list[FluxKustomization]:
    """The Flux Kustomizations defined under ``directory`` that none of the others there includes.

    Kustomizations that include each other (two defined in one file, each syncing the directory that
    holds it from a different source) are roots together when nothing outside them includes them:
    whichever the cluster was bootstrapped with applies the others."""
    if defined is None:
        defined = defined_kustomizations(files, root, directory)
    # Each path and file is resolved once; a pair is only examined further when the file lies below
    # the other's path, so the cost stays close to linear in the number of Kustomizations.
    targets: list[tuple[int, str]] = []
    for i, other in enumerate(defined):
        if other.path and other.source_ref.kind == "GitRepository" and "${" not in other.path:
            targets.append((i, os.path.realpath(root / other.path)))  # another source's path says nothing
    reach = _Reach(files.boundary)
    found: dict[int, list[int]] = {}

    def includers(i: int) -> list[int]:
        """The indexes of the other Kustomizations whose path applies ``defined[i]``'s file."""
        if i not in found:
            ks = defined[i]
            f = os.path.realpath(root / (ks.resource.file or ""))
            found[i] = [
                j
                for j, target in targets
                if j != i
                and defined[j].key != ks.key
                and f.startswith(target + os.sep)
                and reach.includes(Path(target), Path(f))
            ]
        return found[i]

    def above(i: int) -> set[int]:
        """Every Kustomization that applies ``defined[i]``, directly or through others."""
        seen: set[int] = set()
        todo = list(includers(i))
        while todo:
            j = todo.pop()
            if j not in seen:
                seen.add(j)
                todo.extend(includers(j))
        return seen

    roots = []
    for i, ks in enumerate(defined):
        over = above(i) if includers(i) else set()
        if all(i in above(j) for j in over):  # nothing applies it, or only what it applies itself
            roots.append(ks)
    return roots


class _Reach:
    """Would a Flux Kustomization whose path is ``target`` apply ``file`` (below it)? Without a
    kustomization file there, yes; with one, when the file is reachable through its resources.
    Kustomization files are read once."""

    def __init__(self, inside: fs.Boundary) -> None:
        self.inside = inside
        self._entries: dict[Path, list[Path] | None] = {}

    def includes(self, target: Path, file: Path) -> bool:
        if self._listing(target) is None:
            return True
        return self._reachable(target, file, set())

    def lists(self, directory: Path, file: Path) -> bool:
        """Does the kustomization of ``directory`` reach ``file`` through its resources (no
        kustomization file: no)?"""
        return self._listing(directory) is not None and self._reachable(directory, file, set())

    def _listing(self, directory: Path) -> list[Path] | None:
        if directory in self._entries:
            return self._entries[directory]
        kfile = find_kustomization_file(directory)
        listing: list[Path] | None = None
        if kfile is not None:
            try:
                data = yamlio.load_one(self.inside.read_text(kfile), str(kfile)) or {}
            except HomeopsError:
                data = {}
            if not isinstance(data, dict):
                data = {}
            entries = [
                *as_list(data.get("resources")),
                *as_list(data.get("bases")),
                *as_list(data.get("components")),
            ]
            listing = [Path(os.path.realpath(directory / str(e))) for e in entries]
        self._entries[directory] = listing
        return listing

    def _reachable(self, directory: Path, file: Path, seen: set[Path]) -> bool:
        if directory in seen:
            return False
        seen.add(directory)
        listing = self._listing(directory)
        if listing is None:
            return file.parent == directory or directory in file.parents
        for p in listing:
            if p == file:
                return True
            if self.inside.is_dir(p) and self._reachable(p, file, seen):
                return True
        return False
