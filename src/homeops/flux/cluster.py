"""Finding clusters and their root Flux Kustomizations.

A cluster is a directory holding its root Flux objects. By default every
``clusters/<name>/flux/cluster`` (or ``clusters/<name>/flux``) holding Flux Kustomizations is one;
``.homeops.yaml`` may declare them explicitly; ``--cluster`` also takes a directory. Elsewhere, the
directories a FluxInstance syncs (``spec.sync.path``, also as the flux-instance chart's
``instance.sync`` values) are clusters, and so are the conventional layouts ``kubernetes/flux/cluster``,
``kubernetes/<name>/flux``, ``kubernetes/<name>/cluster``, a ``clusters`` directory beside such a
``flux`` directory (``kubernetes/clusters/<name>``, read as ``clusters/<name>`` at the top) and Flux
bootstrap's ``<dir>/flux-system/gotk-sync.yaml``. A ``clusters`` directory further down with nothing
beside it is one only when nothing else is found (beside a live layout it is often the trial of
another, its paths not there yet).

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

from homeops.core import fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.fs import real as fs_real
from homeops.core.profile import PROFILE_FILE, Profile
from homeops.core.regex import lazy_pattern
from homeops.core.shape import as_list
from homeops.flux.model import FluxKustomization, is_flux_kustomization
from homeops.flux.repo_index import find_syncs, subdirectories
from homeops.kustomize.build import find_kustomization_file
from homeops.kustomize.resource import Resource


@dataclass(frozen=True)
class Cluster:
    name: str
    directory: str  # relative to the repository root


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
    found = _clusters_in(base, root, inside, profile) if inside.is_dir(base) else []
    return found or _elsewhere(root, profile)


def _clusters_in(base: Path, root: Path, inside: fs.Boundary, profile: Profile) -> list[Cluster]:
    """A ``clusters`` directory: each of its subdirectories holding Flux Kustomizations, in one of the
    cluster root directories or itself, is a cluster named after it (a hidden one is a kept copy)."""
    found: list[Cluster] = []
    for child in subdirectories(base, inside, skip=frozenset()):
        if child.name.startswith("."):
            continue
        for sub in (*profile.cluster_root_dirs, ""):  # "": Flux bootstrap's clusters/<name>/ itself
            candidate = child / sub if sub else child
            if inside.is_dir(candidate) and _holds_flux_kustomizations(candidate, inside):
                found.append(Cluster(child.name, candidate.relative_to(root).as_posix()))
                break
    return found


def _sync_clusters(root: Path) -> list[Cluster]:
    """A cluster per directory a FluxInstance syncs, named after it (:func:`_cluster_name`)."""
    return [Cluster(_cluster_name(sync.path), sync.path or ".") for sync in find_syncs(root)]


_PLACE_NAMES = frozenset({"flux", "cluster", "flux-system", "gotk", "bootstrap"})
"""Directory names that say where Flux's objects are, not which cluster: a name skips them."""


def _cluster_name(directory: str) -> str:
    """The cluster a directory of Flux objects stands for: its path without the trailing directories
    that only say where Flux's objects are (``k8s/clusters/mgmt/gotk/flux-system`` is ``mgmt``,
    ``kubernetes/flux/cluster`` is ``kubernetes``), ``default`` when nothing else is left."""
    parts = [p for p in directory.strip("/").split("/") if p not in ("", ".")]
    while parts and parts[-1] in _PLACE_NAMES:
        parts.pop()
    return parts[-1] if parts else "default"


_SEARCH_DEPTH = 4
_RETIRED = frozenset({"archive", "archived", "attic"})
"""Directory names for what a repository keeps but no longer applies (as ``.archive``, dot-directories
are skipped too): no cluster is looked for below them."""


def _elsewhere(root: Path, profile: Profile) -> list[Cluster]:
    """Layouts without ``clusters/<name>/``: the directories FluxInstances sync; a ``flux/cluster`` (or
    ``flux``) directory anywhere near the top (``kubernetes/flux/cluster``, ``kubernetes/<name>/flux``);
    a directory whose ``flux-system/`` holds Flux bootstrap's ``gotk-sync.yaml``. A cluster is named
    after the directory above its root. A conventional directory inside, or holding, a synced one is
    the same cluster: the synced directory wins."""
    synced = _not_synced_by_another(root, _sync_clusters(root))
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
    clusters_name = Path(profile.clusters_dir).name or "clusters"
    deeper: dict[str, Cluster] = {}  # clusters directories further down, with nothing beside them

    def walk(directory: Path, depth: int) -> None:
        if depth > _SEARCH_DEPTH:
            return
        for child in subdirectories(directory, inside):
            if child.name.startswith(".") or child.name.lower() in _RETIRED:  # kept copies, tooling
                continue
            rel = child.relative_to(root).as_posix()
            inner = _clusters_in(child, root, inside, profile) if child.name == clusters_name else []
            for c in inner:  # k8s/clusters/<name>: as a clusters directory at the top, if nothing else is
                deeper.setdefault(c.directory, c)
            if inside.is_file(child / "flux-system" / "gotk-sync.yaml"):
                found.setdefault(rel, Cluster(_cluster_name(rel), rel))
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
            nested = child / clusters_name
            if matched and inside.is_dir(nested):  # kubernetes/flux beside kubernetes/clusters/<name>
                for c in _clusters_in(nested, root, inside, profile):
                    found.setdefault(c.directory, c)
            if not matched:
                walk(child, depth + 1)

    if inside.is_file(root / "flux-system" / "gotk-sync.yaml"):  # bootstrapped at the repository root
        found["flux-system"] = Cluster("default", "flux-system")
    walk(root, 1)
    return sorted((found or deeper).values(), key=lambda c: c.directory)


def _not_applied_by_another(root: Path, candidates: list[Cluster]) -> list[Cluster]:
    """The candidates no other candidate applies: a ``flux`` directory of shared sources or of Flux's
    install that a cluster root lists in its resources is part of that cluster, and so is a directory
    that only looks like a root (an app's ``<app>/cluster`` holding its ``ks.yaml``) which one of the
    other root's Flux Kustomizations applies, directly or through others (:class:`_FluxReach`)."""
    inside = fs.Boundary.at(root)
    reach = _Reach(inside)
    own = {
        c.directory: {Path(os.path.realpath(p)) for p in _yaml_files(root / c.directory, inside)}
        for c in candidates
    }
    flux = _FluxReach(root, inside, reach) if len(candidates) > 1 else None

    def applies(other: Cluster, c: Cluster) -> bool:
        if reach_lists(other, c):
            return True
        return (  # following Flux paths costs a walk of the other's tree: only for the layout in doubt
            flux is not None
            and _only_looks_like_a_root(root, c)
            and not own[c.directory].isdisjoint(flux.applied(other.directory))
        )

    def reach_lists(other: Cluster, c: Cluster) -> bool:
        return any(reach.lists(Path(os.path.realpath(root / other.directory)), f) for f in own[c.directory])

    out = []
    for c in candidates:
        applied = any(
            applies(other, c)
            and not (flux is not None and applies(c, other))  # each applying the other: both
            for other in candidates
            if not _related(other.directory, c.directory)
        )
        if not applied:
            out.append(c)
    return out


def _only_looks_like_a_root(root: Path, cluster: Cluster) -> bool:
    """A candidate of the ``<name>/cluster`` layout holding an app's ``ks.yaml``: maybe an app's
    ``cluster`` part, which another root applies through its Flux Kustomizations (a real root there,
    ``kubernetes/<name>/cluster``, holds none, and costs no walk of the other roots' trees)."""
    directory = cluster.directory.rstrip("/")
    return directory.rsplit("/", 1)[-1] == "cluster" and (root / directory / "ks.yaml").is_file()


class _FluxReach:
    """The YAML files a cluster root's Flux objects apply: those its directory applies (all below it
    without a kustomization file, else what its kustomizations list), and, for each Flux Kustomization
    there of a GitRepository with a plain ``spec.path`` and no ``spec.kubeConfig`` (that one applies to
    another cluster), what its path applies, and so on. Discovery reads no more than ``limit``
    directories per root (the render follows every path anyway)."""

    def __init__(self, root: Path, inside: fs.Boundary, reach: _Reach, limit: int = 400) -> None:
        self.root = root
        self.inside = inside
        self.reach = reach
        self.limit = limit
        self._applied: dict[str, set[Path]] = {}

    def applied(self, directory: str) -> set[Path]:
        if directory in self._applied:
            return self._applied[directory]
        files: set[Path] = set()
        seen: set[Path] = set()
        todo = [Path(os.path.realpath(self.root / directory))]
        while todo and len(seen) < self.limit:
            target = todo.pop()
            if target in seen or not self.inside.is_dir(target):
                continue
            seen.add(target)
            for f in self._files(target):
                if f in files:
                    continue
                files.add(f)
                todo.extend(self._paths_in(f))
        self._applied[directory] = files
        return files

    def _files(self, target: Path) -> list[Path]:
        found = self.reach.gathered(target)
        if found is None:
            return [Path(os.path.realpath(p)) for p in _yaml_files(target, self.inside)]
        listed, open_dirs = found
        out = [p for p in listed if p.suffix in (".yaml", ".yml")]
        for d in open_dirs:
            out.extend(Path(os.path.realpath(p)) for p in _yaml_files(d, self.inside))
        return out

    def _paths_in(self, file: Path) -> list[Path]:
        try:
            text = self.inside.read_bytes(file).decode("utf-8", errors="replace")
        except HomeopsError:
            return []
        if not (_FLUX_API_LINE().search(text) and _KUSTOMIZATION_KIND_LINE().search(text)):
            return []
        try:
            docs = yamlio.load_all(text, str(file))
        except HomeopsError:
            return []
        out = []
        for doc in docs:
            if not (isinstance(doc, dict) and is_flux_kustomization(doc)):
                continue
            spec = doc.get("spec")
            if not isinstance(spec, dict) or spec.get("kubeConfig"):
                continue
            source = spec.get("sourceRef")
            path = spec.get("path")
            if not isinstance(source, dict) or source.get("kind") != "GitRepository":
                continue
            if not isinstance(path, str) or "${" in path or posixpath.normpath(path.strip("/") or ".") == ".":
                continue  # the whole repository says nothing of which root applies which
            out.append(Path(os.path.realpath(self.root / path.lstrip("/"))))
        return out


def _not_synced_by_another(root: Path, synced: list[Cluster]) -> list[Cluster]:
    """The synced directories no other sync applies: a directory below another synced one that Flux
    applies with it (no kustomization file on the way, or one listing it) is part of that cluster, as
    when a repository keeps two FluxInstances, one syncing ``kubernetes/flux``, one its ``cluster``."""
    inside = fs.Boundary.at(root)
    reach = _Reach(inside)
    out = []
    for c in synced:
        outer = [
            Path(os.path.realpath(root / o.directory)) for o in synced if _below(c.directory, o.directory)
        ]
        if outer:  # its files are listed only then (a sync of the repository's root would list them all)
            own = [Path(os.path.realpath(p)) for p in _yaml_files(root / c.directory, inside)]
            if any(reach.includes(o, f) for o in outer for f in own):
                continue
        out.append(c)
    return out


def _below(inner: str, outer: str) -> bool:
    """Is directory ``inner`` strictly below ``outer`` (both relative to the repository root)?"""
    inner, outer = (posixpath.normpath(d.strip("/") or ".") for d in (inner, outer))
    return inner != outer and (outer == "." or inner.startswith(outer + "/"))


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

    closures: dict[int, set[int]] = {}

    def above(i: int) -> set[int]:
        """Every Kustomization that applies ``defined[i]``, directly or through others (once each)."""
        if i not in closures:
            seen: set[int] = set()
            todo = list(includers(i))
            while todo:
                j = todo.pop()
                if j not in seen:
                    seen.add(j)
                    todo.extend(includers(j))
            closures[i] = seen
        return closures[i]

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
        self._reached: dict[Path, tuple[set[Path], list[Path]]] = {}

    def includes(self, target: Path, file: Path) -> bool:
        if self._listing(target) is None:
            return True
        return self._reachable(target, file, set())

    def lists(self, directory: Path, file: Path) -> bool:
        """Does the kustomization of ``directory`` reach ``file`` through its resources (no
        kustomization file: no)?"""
        found = self.gathered(directory)
        if found is None:
            return False
        files, open_dirs = found
        return file in files or any(d == file.parent or d in file.parents for d in open_dirs)

    def gathered(self, directory: Path) -> tuple[set[Path], list[Path]] | None:
        """What the kustomization of ``directory`` reaches: the files it lists through its bases, and
        the directories without a kustomization file it reaches; gathered once per directory (None
        without a kustomization file)."""
        if self._listing(directory) is None:
            return None
        found = self._reached.get(directory)
        if found is None:
            found = self._reached[directory] = self._gather(directory, set(), set(), [])
        return found

    def _gather(
        self, directory: Path, seen: set[Path], files: set[Path], open_dirs: list[Path]
    ) -> tuple[set[Path], list[Path]]:
        """The files a kustomization lists, through its bases, and the directories without a
        kustomization file it reaches (everything below those is applied)."""
        if directory not in seen:
            seen.add(directory)
            listing = self._listing(directory)
            if listing is None:
                open_dirs.append(directory)
            else:
                for p in listing:
                    if self.inside.is_dir(p):
                        self._gather(p, seen, files, open_dirs)
                    else:
                        files.add(p)
        return files, open_dirs

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
