"""Finding clusters and their root Flux Kustomizations.

A cluster is a directory holding its root Flux objects. By default every
``clusters/<name>/flux/cluster`` (or ``clusters/<name>/flux``) holding Flux Kustomizations is one;
``.homeops.yaml`` may declare them explicitly; ``--cluster`` also takes a directory. The roots are the
Flux Kustomizations of that directory that no other Kustomization of it includes (as flux-local did).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from homeops.errors import HomeopsError
from homeops.flux.model import FluxKustomization, is_flux_kustomization
from homeops.kustomize.build import find_kustomization_file
from homeops.kustomize.resource import Resource
from homeops.profile import Profile
from homeops.repo.files import FileCache


@dataclass(frozen=True)
class Cluster:
    name: str
    directory: str  # relative to the repository root


def discover_clusters(root: Path, profile: Profile) -> list[Cluster]:
    if profile.clusters:
        return [Cluster(name, str(directory).strip("/")) for name, directory in profile.clusters.items()]
    base = root / profile.clusters_dir
    found: list[Cluster] = []
    if base.is_dir():
        for child in sorted(p for p in base.iterdir() if p.is_dir()):
            for sub in (*profile.cluster_root_dirs, ""):  # "": Flux bootstrap's clusters/<name>/ itself
                candidate = child / sub if sub else child
                if candidate.is_dir() and _holds_flux_kustomizations(candidate):
                    found.append(Cluster(child.name, candidate.relative_to(root).as_posix()))
                    break
    return found or _elsewhere(root, profile)


_SEARCH_DEPTH = 4
_SKIP_DIRS = frozenset({".git", ".github", "node_modules", ".venv", "vendor"})


def _elsewhere(root: Path, profile: Profile) -> list[Cluster]:
    """Layouts without ``clusters/<name>/``: a ``flux/cluster`` (or ``flux``) directory anywhere near the
    top (``kubernetes/flux/cluster``, ``kubernetes/<name>/flux``), or a directory whose ``flux-system/``
    holds Flux bootstrap's ``gotk-sync.yaml``. A cluster is named after the directory above its root."""
    found: dict[str, Cluster] = {}

    def walk(directory: Path, depth: int) -> None:
        if depth > _SEARCH_DEPTH:
            return
        try:
            children = sorted(p for p in directory.iterdir() if p.is_dir() and p.name not in _SKIP_DIRS)
        except OSError:
            return
        for child in children:
            rel = child.relative_to(root).as_posix()
            if (child / "flux-system" / "gotk-sync.yaml").is_file():
                found.setdefault(rel, Cluster(child.name, rel))
                continue
            matched = False
            for sub in profile.cluster_root_dirs:
                candidate = child / sub
                if candidate.is_dir() and _holds_flux_kustomizations(candidate) and not any(
                        candidate.relative_to(root).as_posix().startswith(k + "/") for k in found):
                    owner = child.name if child != root else "default"
                    name = owner if owner not in {c.name for c in found.values()} else rel.replace("/", "-")
                    found.setdefault(candidate.relative_to(root).as_posix(), Cluster(name, candidate.relative_to(root).as_posix()))
                    matched = True
                    break
            if not matched:
                walk(child, depth + 1)

    walk(root, 1)
    return sorted(found.values(), key=lambda c: c.directory)


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and ".git" not in p.parts)


def _holds_flux_kustomizations(directory: Path) -> bool:
    for path in _yaml_files(directory):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "kustomize.toolkit.fluxcd.io/" in text and "Kustomization" in text:
            return True
    return False


def resolve_cluster(root: Path, profile: Profile, cluster: str | None) -> Cluster:
    """``--cluster``: a known cluster name, or a directory relative to the repository root."""
    clusters = discover_clusters(root, profile)
    if cluster is None:
        if len(clusters) == 1:
            return clusters[0]
        if not clusters:
            raise HomeopsError("no cluster found (no clusters/<name>/flux directory holds Flux Kustomizations)",
                               hint="pass --cluster DIR or declare clusters in .homeops.yaml")
        names = ", ".join(c.name for c in clusters)
        raise HomeopsError(f"several clusters found ({names})", hint="pass --cluster NAME")
    for c in clusters:
        if c.name == cluster:
            return c
    directory = (root / cluster).resolve()
    try:
        rel = directory.relative_to(root)
    except ValueError:
        raise HomeopsError(f"cluster directory '{cluster}' is outside the repository",
                           hint="pass a directory inside --path") from None
    if directory.is_dir():
        return Cluster(rel.as_posix().replace("/", "-") or "root", rel.as_posix())
    known = ", ".join(c.name for c in clusters) or "none"
    raise HomeopsError(f"unknown cluster '{cluster}' (known: {known})", hint="pass a cluster name or a directory")


def root_kustomizations(files: FileCache, root: Path, directory: str) -> list[FluxKustomization]:
    """The Flux Kustomizations defined under ``directory`` that none of the others there includes."""
    base = root / directory
    defined: list[FluxKustomization] = []
    for path in _yaml_files(base):
        rel = files.rel(path)
        try:
            docs = files.load_all(path)
        except HomeopsError:
            continue  # reported when the file is built
        for doc in docs:
            if isinstance(doc, dict) and is_flux_kustomization(doc):
                defined.append(FluxKustomization(Resource.from_obj(doc, rel)))
    roots = []
    for ks in defined:
        file = ks.resource.file or ""
        included_by_other = False
        for other in defined:
            if other is ks or not other.path or other.source_ref.kind != "GitRepository":
                continue  # another source's path says nothing about this repository's files
            if _path_includes(root, other.path, file) and other.key != ks.key:
                included_by_other = True
                break
        if not included_by_other:
            roots.append(ks)
    return roots


def _path_includes(root: Path, ks_path: str, file: str) -> bool:
    """Would a Flux Kustomization with ``ks_path`` apply ``file``? (below the path, not excluded by a
    kustomization file that does not list it; approximated by directory containment plus, when the
    path has a kustomization file, the file being reachable through its resources)."""
    target = (root / ks_path).resolve()
    f = (root / file).resolve()
    try:
        f.relative_to(target)
    except ValueError:
        return False
    kfile = find_kustomization_file(target)
    if kfile is None:
        return True
    return _reachable(target, f, set())


def _reachable(directory: Path, file: Path, seen: set[Path]) -> bool:
    if directory in seen:
        return False
    seen.add(directory)
    kfile = find_kustomization_file(directory)
    if kfile is None:
        return file.parent == directory or directory in file.parents
    import yaml

    try:
        data = yaml.safe_load(kfile.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, OSError):
        return False
    entries = [*(data.get("resources") or []), *(data.get("bases") or []), *(data.get("components") or [])]
    for entry in entries:
        p = (directory / str(entry)).resolve()
        if p == file:
            return True
        if p.is_dir() and _reachable(p, file, seen):
            return True
    return False
