"""Source resolution for the cluster render: which sources are local, and what their artifacts hold.

What is local (rendered from this working tree): the sources the roots and the sync use
(GitRepository/OCIRepository), any GitRepository whose URL is this repository's (its Git remotes, a
FluxInstance sync URL, the URL of a local GitRepository), and ExternalArtifacts an ArtifactGenerator
makes from local sources when the artifact is the repository seen from one directory (see
``artifactgen``). Each local source is seen through its artifact: files source-controller leaves out
(``.sourceignore``, ``spec.ignore``, its default exclusions; see ``sourceignore``) do not exist for
the Kustomizations using it. Any other source that the render or the repository defines is external
(listed, not rendered); one defined nowhere is an error (HO106). Other branches or tags of this
repository are rendered from the working tree too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from homeops.core import codes, git
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.fs import Boundary, OutsideRootError
from homeops.core.fs import real as fs_real
from homeops.core.shape import as_list, as_map
from homeops.flux.artifactgen import MappedArtifact, Unsupported, map_artifact
from homeops.flux.cluster import Cluster
from homeops.flux.model import FluxKustomization, Ref
from homeops.flux.rendered import ClusterRender
from homeops.flux.repo_index import RepoIndex, Sync, repo_index
from homeops.flux.settings import RenderSettings
from homeops.flux.sourceignore import Pattern, SourceArtifact, load_sourceignore_files
from homeops.kustomize.resource import Resource


class SourceResolution:
    """Which sources are local and what their artifacts hold. A base of :class:`ClusterRenderer`
    (:mod:`.render`), whose constructor sets the state declared here."""

    root: Path
    settings: RenderSettings
    cluster: Cluster
    files: FileCache
    result: ClusterRender
    local_urls: set[str]
    local_sources: set[tuple[str, str, str]]
    sources: dict[tuple[str, str, str], Resource]
    generators: dict[tuple[str, str], Resource]
    _cluster_sync: Sync | None
    _tmp: Path | None
    _provenance: dict[str, str]
    _index_cache: RepoIndex | None
    _repo_patterns: list[Pattern] | None
    _artifacts: dict[tuple[str, str, str], SourceArtifact | MappedArtifact | None]
    _unsupported: dict[tuple[str, str, str], str]
    _root_keys: set[tuple[str, str, str]]

    @property
    def index(self) -> RepoIndex:
        """The repository's FluxInstance syncs and source definitions (one scan, on first use)."""
        if self._index_cache is None:
            self._index_cache = repo_index(self.root, self.files)
        return self._index_cache

    def _root_source(self, ref: Ref) -> None:
        """Is the source of a root Kustomization this repository? Yes when Flux's own name for it is used
        (``flux-system``, what bootstrap and the operator create), when the repository does not define it
        (made at bootstrap), or for a GitRepository whose URL is not known to be another repository's.
        An OCIRepository or Bucket the repository defines under another name is an artifact from
        elsewhere (e.g. ``oci://ghcr.io/fluxcd/flux-manifests``)."""
        if ref.kind not in ("GitRepository", "OCIRepository"):
            return
        key = (ref.kind, ref.namespace, ref.name)
        self._root_keys.add(key)
        definition = self.index.source(ref.kind, ref.name, ref.namespace, self.cluster.directory)
        url = str((definition.spec if definition else {}).get("url") or "")
        same_repo = ref.kind == "GitRepository" and (
            not url or not self.local_urls or git.normalise_remote_url(url) in self.local_urls
        )
        if ref.name == "flux-system" or definition is None or same_repo:
            self.local_sources.add(key)
        if key in self.local_sources and ref.kind == "GitRepository" and url:
            self.local_urls.add(git.normalise_remote_url(url))

    def _is_sync_source(self, ref: Ref) -> bool:
        """Is ``ref`` the source the flux-operator makes for the cluster's sync? Its key, or, when the
        instance's namespace is not written where the sync is (a kustomization's ``namespace:`` or a
        Flux Kustomization's ``targetNamespace`` sets it), a source of the sync's kind named as the
        operator names it (after that namespace, or ``sync.name``) that the repository defines nowhere."""
        sync = self._cluster_sync
        if sync is None or ref.kind != sync.kind:
            return False
        if (ref.namespace, ref.name) == (sync.namespace, sync.name):
            return True
        return (
            not sync.namespace_written
            and ref.name in (ref.namespace, sync.name)
            and self.index.source(ref.kind, ref.name, ref.namespace, self.cluster.directory) is None
        )

    def _other_revision(self, ref: Ref) -> str | None:
        """Why a GitRepository of this repository (by its URL) is another revision than the working
        tree: its ``spec.ref`` names a branch, tag, semver range or commit that none of the root
        Kustomizations' own GitRepositories names (a tenant tracking its own branch), or, when the
        repository does not define those, other than the branch checked out (with no branch checked
        out, maybe another). None when it is the same. Asked only for a path the working tree does
        not have: a revision that has it is rendered from the working tree."""
        key = (ref.kind, ref.namespace, ref.name)
        if (
            ref.kind != "GitRepository"
            or key in self._root_keys
            or self.settings.source_path(ref) is not None
        ):
            return None
        wanted = _git_ref(self._source_spec(ref))
        if wanted is None:
            return None
        roots = [
            _git_ref(self._source_spec(Ref(kind, name, namespace)))
            for kind, namespace, name in self._root_keys
            if kind == "GitRepository"
        ]
        known = [r for r in roots if r is not None]
        sync = self._cluster_sync
        if not known and sync is not None and sync.kind == "GitRepository" and sync.ref:
            known = [_canonical("name", sync.ref)]  # the revision the flux-operator's source follows
        if not known:  # the root's source is made at bootstrap: the branch checked out stands for it
            branch = git.current_branch(self.root)
            if branch is None:  # a revision checked out for a diff, say: which one is not known
                return f"{ref} follows {wanted[0]} {wanted[1]!r} of this repository, maybe another revision"
            known = [("branch", branch)]
        if wanted in known:
            return None
        return (
            f"{ref} follows {wanted[0]} {wanted[1]!r} of this repository, not the revision the cluster syncs"
        )

    def _base(self, ref: Ref) -> str:
        """The repository directory a local source's artifact root is ("" for the repository root)."""
        mapped = self.settings.source_path(ref)
        if mapped is not None:
            return mapped
        sync = self._cluster_sync
        if sync is not None and self._is_sync_source(ref):
            return sync.base
        return ""

    def _covers(self, ks: FluxKustomization, directory: str) -> bool:
        """Does this Kustomization apply the directory (its path is it or above it)?"""
        ks_path = ks.path
        if not ks_path or "${" in ks_path:
            return False
        target = Path(fs_real(self.root / self._base(ks.source_ref) / ks_path.lstrip("/")))
        d = Path(fs_real(self.root / directory))
        return d == target or target in d.parents

    def _is_local(self, ref: Ref) -> bool:
        key = (ref.kind, ref.namespace, ref.name)
        if key in self.local_sources or self.settings.source_path(ref) is not None:
            return True
        if self._is_sync_source(ref):
            self.local_sources.add(key)
            return True
        if ref.kind == "GitRepository" and self.local_urls:
            definition = self.sources.get(key)
            spec = as_map(definition.obj.get("spec")) if definition is not None else None
            if spec is None:
                found = self.index.source(ref.kind, ref.name, ref.namespace, self.cluster.directory)
                spec = found.spec if found is not None else {}
            url = str(spec.get("url") or "")
            if url and git.normalise_remote_url(url) in self.local_urls:
                self.local_sources.add(key)
                return True
        if ref.kind == "ExternalArtifact":
            return self._artifact(ref) is not None
        return False

    def _artifact(self, ref: Ref) -> SourceArtifact | MappedArtifact | None:
        """What a local source's artifact holds (None: not renderable from this tree)."""
        key = (ref.kind, ref.namespace, ref.name)
        if key in self._artifacts:
            return self._artifacts[key]
        self._artifacts[key] = None  # a generator reading its own artifact must not loop
        view: SourceArtifact | MappedArtifact | None
        if ref.kind == "ExternalArtifact":
            view = self._external_artifact(ref)
        else:
            if self._repo_patterns is None:
                refused: list[HomeopsError] = []
                self._repo_patterns = load_sourceignore_files(
                    self.root, self.files, self.index.ignore_files, refused
                )
                for exc in refused:
                    code = codes.OUTSIDE_ROOT if isinstance(exc, OutsideRootError) else codes.INPUT_REFUSED
                    hint = f" ({exc.hint})" if exc.hint else ""
                    self.result.add_finding(
                        code, f"{exc.what}: its patterns are not applied{hint}", None, exc.file, exc.line
                    )
            spec = self._source_spec(ref)
            ignore = spec.get("ignore")
            view = SourceArtifact(
                self.root, self._repo_patterns, None if ignore is None else str(ignore), self._base(ref)
            )
        self._artifacts[key] = view
        return view

    def _source_spec(self, ref: Ref) -> dict[str, Any]:
        res = self.sources.get((ref.kind, ref.namespace, ref.name))
        if res is not None and isinstance(res.obj.get("spec"), dict):
            return res.obj["spec"]
        found = self.index.source(ref.kind, ref.name, ref.namespace, self.cluster.directory)
        return found.spec if found is not None else {}

    def _external_artifact(self, ref: Ref) -> MappedArtifact | None:
        generators = [r for (ns, _n), r in self.generators.items() if ns == ref.namespace]
        if not generators:
            generators = self._generator_definitions(ref.namespace)
        for gen in generators:
            names = [
                a.get("name")
                for a in as_list(as_map(gen.obj.get("spec")).get("artifacts"))
                if isinstance(a, dict)
            ]
            if ref.name not in names:
                continue

            def local_view(kind: str, namespace: str, name: str) -> SourceArtifact | None:
                source = Ref(kind, name, namespace)
                if kind == "ExternalArtifact" or not self._is_local(source):
                    return None
                view = self._artifact(source)
                return view if isinstance(view, SourceArtifact) else None

            try:
                mapped = map_artifact(self.root, gen.obj, ref.name, local_view)
            except Unsupported as exc:
                self._unsupported[(ref.kind, ref.namespace, ref.name)] = str(exc)
                return None
            if not mapped.in_place:
                if self._tmp is None:
                    shm = "/dev/shm"  # links are made much faster in memory than on some disks
                    where = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
                    import tempfile  # start-up: only when an artifact is generated

                    self._tmp = Path(tempfile.mkdtemp(prefix="homeops-artifacts-", dir=where))
                    self.files.allow(self._tmp)
                links = mapped.materialise(self._tmp / f"{ref.namespace}-{ref.name}")
                for link, repo in links.items():
                    self._provenance[self.files.rel(link)] = repo
            return mapped
        return None

    def _generator_definitions(self, namespace: str) -> list[Resource]:
        """ArtifactGenerators written in the repository (not rendered yet): those of the cluster
        directory first, then any other."""
        out: list[tuple[int, Resource]] = []
        for definition in self.index.generators:
            ns = definition.namespace or "flux-system"
            if ns != namespace:
                continue
            inside = definition.file.startswith(self.cluster.directory.rstrip("/") + "/")
            res = Resource.from_obj(definition.obj, definition.file)
            out.append((0 if inside else 1, res))
        return [r for _rank, r in sorted(out, key=lambda t: t[0])]

    def _boundary(self, top: Path, where: str, artifact: SourceArtifact | MappedArtifact | None) -> Boundary:
        """What a build may read: its source artifact's root, as kustomize-controller's filesystem is
        (a materialised artifact's links lead back into the repository)."""
        if top == self.root:
            return self.files.boundary
        if isinstance(artifact, MappedArtifact) and not artifact.in_place:
            return Boundary(fs_real(top), where, (str(self.root),))
        return self.files.boundary.narrowed(top, where)


def _git_ref(spec: dict[str, Any]) -> tuple[str, str] | None:
    """The revision a GitRepository follows, as (field, value): its ``spec.ref`` field that wins
    (commit, then name, semver, tag, branch, as source-controller picks), None when it names none."""
    ref = as_map(spec.get("ref"))
    for field in ("commit", "name", "semver", "tag", "branch"):
        value = ref.get(field)
        if value:
            return _canonical(field, str(value))
    return None


def _canonical(field: str, value: str) -> tuple[str, str]:
    """One spelling per revision: a reference name of a branch or a tag (``refs/heads/main``, as
    ``ref.name`` and a FluxInstance's ``sync.ref`` write it) is that branch or tag."""
    if field == "name":
        for prefix, kind in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
            if value.startswith(prefix):
                return kind, value[len(prefix) :]
    return field, value
