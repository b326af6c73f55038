"""kustomize-controller emulation: render a whole cluster from its root Flux Kustomizations.

Each Flux Kustomization is built as the controller builds it (the generated or extended
kustomization, kustomize, postBuild substitution, owner labels, commonMetadata); Flux Kustomizations
found in its output are rendered next. Variables taken from ConfigMaps and Secrets wait until the
Kustomization that produces them has been rendered. One broken Kustomization does not stop the
others: its error becomes a finding.

Where the walk starts: when a FluxInstance syncs the cluster directory (``spec.sync.path``), or the
directory is a Flux bootstrap one (``flux-system/gotk-sync.yaml``) whose sync Kustomization is not
written in it, the walk starts from the Kustomization Flux itself makes for it (named after the
instance's namespace, ``flux-system``, and applying the whole directory as Flux would: its
kustomization.yaml or a generated one). Otherwise the roots are the directory's Kustomizations that no
other one of it includes (flux-local's semantics).

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
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import codes, git
from homeops.core.codes import Code
from homeops.core.collector import fewer_collections
from homeops.core.errors import HomeopsError, UnsupportedError
from homeops.core.files import FileCache, clean
from homeops.core.findings import Finding
from homeops.core.fs import Boundary, OutsideRootError, refusal_code
from homeops.core.fs import real as fs_real
from homeops.core.profile import DEFAULT, Profile
from homeops.core.shape import Problem, as_list, as_map
from homeops.core.variables import ClusterVars
from homeops.core.yamlio import YMap, key_line
from homeops.flux import postbuild, resourceset, unresolved, varsub
from homeops.flux.artifactgen import MappedArtifact, Unsupported, is_artifact_generator, map_artifact
from homeops.flux.buildcache import BuildCache
from homeops.flux.cluster import Cluster, RepoIndex, Sync, defined_kustomizations, root_kustomizations
from homeops.flux.generator import flux_kustomization
from homeops.flux.model import (
    KS_GROUP,
    OWNER_NAME_LABEL,
    OWNER_NAMESPACE_LABEL,
    FluxKustomization,
    Ref,
    RenderedKustomization,
    Unresolved,
    is_flux_kustomization,
    is_source,
)
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings
from homeops.flux.shapes import HINT, describe_problem, flux_object_problem
from homeops.flux.sourceignore import Pattern, SourceArtifact, load_sourceignore_files
from homeops.flux.unresolved import ClusterOnly
from homeops.kustomize.build import Builder, BuildOptions
from homeops.kustomize.resource import Resource

Progress = Callable[[str], None]


@dataclass
class ClusterRender:
    cluster: Cluster
    rendered: dict[str, RenderedKustomization] = field(default_factory=dict)  # render order
    findings: list[Finding] = field(default_factory=list)
    external_sources: list[Ref] = field(default_factory=list)

    def objects(self) -> list[tuple[RenderedKustomization, Resource]]:
        return [(rk, res) for rk in self.rendered.values() for res in rk.resources]

    def kustomizations(self) -> list[FluxKustomization]:
        return [rk.ks for rk in self.rendered.values()]

    def find(
        self, kind: str, name: str, namespace: str | None = None
    ) -> list[tuple[RenderedKustomization, Resource]]:
        return [
            (rk, r)
            for rk, r in self.objects()
            if r.kind == kind and r.name == name and (namespace is None or (r.namespace or "") == namespace)
        ]


FLUX_CRD_GROUPS = (".toolkit.fluxcd.io", ".fluxcd.controlplane.io")
"""API groups of Flux and the flux-operator: their CustomResourceDefinitions come with Flux itself."""


class ClusterRenderer:
    def __init__(
        self,
        root: Path,
        cluster: Cluster,
        *,
        profile: Profile = DEFAULT,
        cli_vars: Mapping[str, str] | ClusterVars | None = None,
        files: FileCache | None = None,
        progress: Progress | None = None,
        strict: bool = False,
        settings: RenderSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.root = root.resolve()
        self.settings = settings
        self.cluster = cluster
        self.profile = profile
        # values only the cluster has: the profile's vars, under those given (--vars-file, --var)
        self.given_vars = ClusterVars.of(cli_vars).over(ClusterVars((profile.vars,)))
        self.cli_vars = self.given_vars.for_cluster(cluster.name)
        self.placeholders = self.given_vars.placeholders
        self.files = files or FileCache(self.root)
        self.builder = Builder(self.root, self.files, BuildOptions(load_restrictor="none"))
        self.builds = BuildCache(self.files, self.files.scope)
        self.progress = progress
        self.strict = strict or settings.strict_substitution
        self.result = ClusterRender(cluster)
        self.local_urls = git.remote_urls(self.root)
        self.local_sources: set[tuple[str, str, str]] = {("GitRepository", "flux-system", "flux-system")}
        self.sources: dict[tuple[str, str, str], Resource] = {}
        self.pool: dict[tuple[str, str, str], Resource] = {}  # (kind, namespace, name) of ConfigMaps/Secrets
        self.cluster_only = ClusterOnly()  # Secrets made in the cluster (ExternalSecret targets)
        self._cluster_sync: Sync | None = None
        self._tmp: Path | None = None  # where ExternalArtifacts that cannot render in place are laid out
        self._provenance: dict[
            str, str
        ] = {}  # their files (as the file cache names them) -> repository files
        self.generators: dict[tuple[str, str], Resource] = {}  # ArtifactGenerators by (namespace, name)
        self._index_cache: RepoIndex | None = None
        self._repo_patterns: list[Pattern] | None = None
        self._artifacts: dict[tuple[str, str, str], SourceArtifact | MappedArtifact | None] = {}
        self._unsupported: dict[tuple[str, str, str], str] = {}

    @property
    def index(self) -> RepoIndex:
        """The repository's FluxInstance syncs and source definitions (one scan, on first use)."""
        if self._index_cache is None:
            self._index_cache = RepoIndex(self.root, self.files)
        return self._index_cache

    # ------------------------------------------------------------------ public
    def render(self) -> ClusterRender:
        with fewer_collections():
            return self._render()

    def _render(self) -> ClusterRender:
        for known in self.index.syncs:
            if known.url:
                self.local_urls.add(git.normalise_remote_url(known.url))
        defined = defined_kustomizations(self.files, self.root, self.cluster.directory)
        sync = self._sync()
        self._cluster_sync = sync
        if sync is not None and not any(self._covers(ks, self.cluster.directory) for ks in defined):
            roots = [self._sync_kustomization(sync)]
        else:
            roots = root_kustomizations(self.files, self.root, self.cluster.directory, defined)
        if not roots:
            raise HomeopsError(
                f"no root Flux Kustomization found in {self.cluster.directory}",
                self.cluster.directory,
                None,
                "pass the directory holding the cluster's Flux objects",
            )
        for ks in roots:
            self._root_source(ks.source_ref)
        try:
            self._render_from(roots)
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
        self._check_graph()
        self._check_resourceset_dependencies()
        self._check_duplicates()
        uses = [use for rk in self.result.rendered.values() for use in rk.unresolved]
        self.result.findings.extend(
            unresolved.report(uses, self.cluster.name, self.profile, self.given_vars, self.root)
        )
        return self.result

    def _render_from(self, roots: list[FluxKustomization]) -> None:
        queue: deque[FluxKustomization] = deque(roots)
        self._seen: dict[str, FluxKustomization] = {}
        self._own_findings: dict[str, list[Finding]] = {}
        self._walk(queue)
        # A substituteFrom source may come from a Kustomization rendered later (every app substitutes
        # from a Secret that one of them makes, e.g. with a ClusterExternalSecret): in the cluster it
        # exists from earlier reconciliations, so those Kustomizations are rendered again, once.
        retried: set[str] = set()
        while True:
            again = [
                key
                for key, rk in self.result.rendered.items()
                if key not in retried
                and rk.missing_sources
                and any(k in self.pool or k in self.cluster_only for k in rk.missing_sources)
            ]
            if not again:
                break
            for key in again:
                retried.add(key)
                old = self._own_findings.pop(key, [])
                drop = {id(f) for f in old}
                self.result.findings = [f for f in self.result.findings if id(f) not in drop]
                self._render_and_index(self.result.rendered[key].ks, queue)
            self._walk(queue)

    def _walk(self, queue: deque[FluxKustomization]) -> None:
        deferred_rounds = 0
        seen = self._seen
        while queue:
            ks = queue.popleft()
            if ks.key in self.result.rendered:
                continue
            if ks.key in seen and seen[ks.key] is not ks and seen[ks.key].resource.file != ks.resource.file:
                self._finding(
                    codes.KS_DUPLICATE,
                    f"Flux Kustomization {ks.key} is defined twice (also at {seen[ks.key].source})",
                    ks,
                )
                continue
            seen[ks.key] = ks
            if self._waits_for_variables(ks) and queue and deferred_rounds < len(queue) + 1:
                queue.append(ks)
                deferred_rounds += 1
                continue
            deferred_rounds = 0
            self._render_and_index(ks, queue)

    def _render_and_index(self, ks: FluxKustomization, queue: deque[FluxKustomization]) -> None:
        first = len(self.result.findings)
        rendered = self._render_one(ks)
        self._own_findings[ks.key] = self.result.findings[first:]
        self.result.rendered[ks.key] = rendered
        for res in rendered.resources:
            self._index(res)
            if is_flux_kustomization(res.obj):
                child = FluxKustomization(res, parent=ks.key)
                if child.key not in self.result.rendered:
                    queue.append(child)

    def _check_duplicates(self) -> None:
        """An object applied by two Flux Kustomizations: they overwrite each other and prune fights."""
        owners: dict[tuple[str, str, str, str], tuple[str, Resource]] = {}
        for key, rk in self.result.rendered.items():
            for res in rk.resources:
                ident = (
                    res.api_version.split("/")[0] if "/" in res.api_version else "",
                    res.kind,
                    res.namespace,
                    res.name,
                )
                first = owners.get(ident)
                if first is None:
                    owners[ident] = (key, res)
                    continue
                if first[0] == key:
                    continue
                self.result.findings.append(Finding(
                    rule=codes.APPLIED_TWICE.id, severity=codes.APPLIED_TWICE.severity,
                    message=f"{res.kind} {res.name} is applied by both {first[0]} and {key}",
                    file=res.file, line=res.line, kind=res.kind, name=res.name, namespace=res.namespace,
                    cluster=self.cluster.name, extra={"ks": key},
                ))  # fmt: skip

    # ------------------------------------------------------------------ where the walk starts
    def _sync(self) -> Sync | None:
        """How Flux enters the cluster directory when the directory does not say it itself: a FluxInstance
        syncing it, or Flux bootstrap's ``flux-system/gotk-sync.yaml`` below it."""
        sync = self.index.sync_for(self.cluster.directory)
        if sync is not None:
            return sync
        gotk = self.root / self.cluster.directory / "flux-system" / "gotk-sync.yaml"
        if os.path.isfile(gotk):
            path = self.cluster.directory.strip("/")
            return Sync("GitRepository", "", path, "flux-system", "flux-system", self.files.rel(gotk), None)
        return None

    def _root_source(self, ref: Ref) -> None:
        """Is the source of a root Kustomization this repository? Yes when Flux's own name for it is used
        (``flux-system``, what bootstrap and the operator create), when the repository does not define it
        (made at bootstrap), or for a GitRepository whose URL is not known to be another repository's.
        An OCIRepository or Bucket the repository defines under another name is an artifact from
        elsewhere (e.g. ``oci://ghcr.io/fluxcd/flux-manifests``)."""
        if ref.kind not in ("GitRepository", "OCIRepository"):
            return
        key = (ref.kind, ref.namespace, ref.name)
        definition = self.index.source(ref.kind, ref.name, ref.namespace, self.cluster.directory)
        url = str((definition.spec if definition else {}).get("url") or "")
        same_repo = ref.kind == "GitRepository" and (
            not url or not self.local_urls or git.normalise_remote_url(url) in self.local_urls
        )
        if ref.name == "flux-system" or definition is None or same_repo:
            self.local_sources.add(key)
        if key in self.local_sources and ref.kind == "GitRepository" and url:
            self.local_urls.add(git.normalise_remote_url(url))

    def _base(self, ref: Ref) -> str:
        """The repository directory a local source's artifact root is ("" for the repository root)."""
        mapped = self.settings.source_path(ref)
        if mapped is not None:
            return mapped
        sync = self._cluster_sync
        if sync is not None and (ref.kind, ref.namespace, ref.name) == (sync.kind, sync.namespace, sync.name):
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

    def _sync_kustomization(self, sync: Sync) -> FluxKustomization:
        """The Kustomization the flux-operator (or bootstrap) makes to apply the cluster directory."""
        spec = YMap(
            {
                "interval": "10m",
                "path": "./" + sync.artifact_path,
                "prune": True,
                "sourceRef": YMap({"kind": sync.kind, "name": sync.name}),
            }
        )
        obj = YMap(
            {
                "apiVersion": KS_GROUP + "/v1",
                "kind": "Kustomization",
                "metadata": YMap({"name": sync.name, "namespace": sync.namespace}),
                "spec": spec,
            }
        )
        obj.line = sync.line or 0
        res = Resource.from_obj(obj, sync.file)
        res.generated = True
        self.local_sources.add((sync.kind, sync.namespace, sync.name))
        return FluxKustomization(res)

    # ------------------------------------------------------------------ helpers
    def _index(self, res: Resource) -> None:
        key = (res.kind, res.namespace or "default", res.name)
        if res.kind in ("ConfigMap", "Secret"):
            self.pool[key] = res
        if res.kind == "ExternalSecret":
            self.cluster_only.add_external_secret(res)
        if res.kind == "ClusterExternalSecret":
            self.cluster_only.add_cluster_external_secret(res)
        if is_artifact_generator(res.obj):
            self.generators[(res.namespace or "default", res.name)] = res
        if is_source(res.obj):
            self.sources[(res.kind, res.namespace or "default", res.name)] = res
            url = str(as_map(res.obj.get("spec")).get("url") or "")
            if res.kind == "GitRepository" and url and git.normalise_remote_url(url) in self.local_urls:
                self.local_sources.add((res.kind, res.namespace or "default", res.name))

    def _waits_for_variables(self, ks: FluxKustomization) -> bool:
        pb = ks.post_build or {}
        for ref in as_list(pb.get("substituteFrom")):
            ref = as_map(ref)
            key = (str(ref.get("kind") or ""), ks.namespace, str(ref.get("name") or ""))
            if key not in self.pool and key not in self.cluster_only and not ref.get("optional"):
                return True
        return False

    def _finding(
        self,
        code: Code,
        message: str,
        ks: FluxKustomization | None,
        file: str | None = None,
        line: int | None = None,
        severity: str | None = None,
    ) -> None:
        self.result.findings.append(Finding(
            rule=code.id, severity=severity or code.severity, message=message,
            file=file if file is not None else (ks.resource.file if ks else None),
            line=line if line is not None else (ks.resource.line if ks else None),
            kind="Kustomization" if ks else None, name=ks.name if ks else None,
            namespace=ks.namespace if ks else None, cluster=self.cluster.name,
            extra={"ks": ks.key} if ks else {},
        ))  # fmt: skip

    def _is_local(self, ref: Ref) -> bool:
        key = (ref.kind, ref.namespace, ref.name)
        if key in self.local_sources or self.settings.source_path(ref) is not None:
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
                    self._finding(
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

    def _render_one(self, ks: FluxKustomization) -> RenderedKustomization:
        rk = RenderedKustomization(ks)
        if self.progress:
            self.progress(ks.key)
        found = flux_object_problem(ks.obj)
        if found is not None:  # a root (the others were checked in their parent's output)
            return self._invalid(ks, rk, ks.resource, found)
        ref = ks.source_ref
        if not self._is_local(ref):
            key = (ref.kind, ref.namespace, ref.name)
            known = (
                key in self.sources
                or self.index.source(ref.kind, ref.name, ref.namespace, self.cluster.directory) is not None
                or (
                    ref.kind == "ExternalArtifact"
                    and (
                        key in self._unsupported
                        or any(ns == ref.namespace for ns, _n in self.generators)
                        or self._generator_definitions(ref.namespace)
                    )
                )
            )
            if known:
                self.result.external_sources.append(ref)
                why = f" ({self._unsupported[key]})" if key in self._unsupported else ""
                rk.notes.append(f"source {ref} is external: not rendered{why}")
                return rk
            self._finding(
                codes.KS_SOURCE_UNKNOWN,
                f"unknown source {ref} for Flux Kustomization {ks.key}",
                ks,
                line=key_line(ks.obj, "spec", "sourceRef"),
            )
            rk.error = HomeopsError(f"unknown source {ref}")
            return rk
        artifact = self._artifact(ref)
        top = clean(artifact.top_dir()) if artifact is not None else self.root
        path = ks.path or "./"
        names = unresolved.path_variables(path)
        if names:
            self._path_unresolved(ks, rk, path, names)
            return rk
        directory = clean(top / path.lstrip("/"))
        where = "the repository" if top == self.root else f"the artifact of {ref}"
        try:
            directory.relative_to(top)
        except ValueError:
            self._finding(
                codes.KS_PATH_OUTSIDE,
                f"path '{path}' of {ks.key} leaves {where}",
                ks,
                line=key_line(ks.obj, "spec", "path"),
            )
            rk.error = HomeopsError("path outside repository")
            return rk
        boundary = self._boundary(top, where, artifact)
        try:  # through a symlinked directory, say
            boundary.check(directory, f"path '{path}' of {ks.key}")
        except OutsideRootError as exc:
            self._finding(codes.OUTSIDE_ROOT, exc.one_line(), ks, line=key_line(ks.obj, "spec", "path"))
            rk.error = exc
            return rk
        if not os.path.isdir(directory):
            self._finding(
                codes.KS_PATH_MISSING,
                f"path '{path}' of {ks.key} does not exist",
                ks,
                line=key_line(ks.obj, "spec", "path"),
            )
            rk.error = HomeopsError("path not found")
            return rk
        if artifact is not None and not artifact.contains_dir(directory):
            self._finding(
                codes.KS_PATH_MISSING,
                f"path '{path}' of {ks.key} is not in the artifact of {ref}: "
                f"{artifact.describe()} leave it out",
                ks,
                line=key_line(ks.obj, "spec", "path"),
            )
            rk.error = HomeopsError("path not found")
            return rk
        view = artifact if isinstance(artifact, SourceArtifact) else None
        try:
            build_id = self.builds.key(directory, ks.spec, artifact, boundary)

            def build() -> list[Resource]:
                kust, _generated = flux_kustomization(self.files, directory, ks.spec, artifact)
                return self.builder.build(directory, kustomization=kust, boundary=boundary)

            resources = self.builds.build(build_id, build)
        except HomeopsError as exc:
            file = self._provenance.get(exc.file, exc.file) if exc.file else None
            # what the native engine does not do (remote resources, ...) is ours, not the repository's:
            # the Kustomization is not rendered, and Flux would still apply it
            ours = isinstance(exc, UnsupportedError)
            self._finding(
                refusal_code(exc) or codes.KS_BUILD_FAILED,
                f"{ks.key}: {'homeops cannot render it: ' if ours else ''}{exc.what}"
                + (f" ({exc.hint})" if exc.hint else ""),
                ks,
                file=file or ks.resource.file,
                line=exc.line if file else ks.resource.line,
                severity="warning" if ours else None,
            )
            rk.error = exc
            return rk
        if self._provenance:
            for res in resources:
                if res.file in self._provenance:
                    res.file = self._provenance[res.file]
                _map_files(res.obj, self._provenance)
        if artifact is not None and (view is None or view.customised):
            missing = next(
                (r for r in resources if r.file and not r.generated and artifact.excludes(r.file)), None
            )
            if missing is not None:
                self._finding(
                    codes.KS_BUILD_FAILED,
                    f"{ks.key}: {missing.file} is not in the artifact of {ref} "
                    f"({artifact.describe()} leave it out), so kustomize-controller cannot read it",
                    ks,
                    file=missing.file,
                    line=missing.line or None,
                )
                rk.error = HomeopsError("file not in the source artifact")
                return rk
        if ks.post_build is not None:
            self._substitute(ks, resources, rk)
            if rk.error is not None:  # strict substitution: the whole build fails, as in Flux
                return rk
        for res in resources:
            found = flux_object_problem(res.obj)
            if found is not None:
                return self._invalid(ks, rk, res, found)
        for res in resources:
            self._owner_labels(res, ks)
        rk.resources = resources + self._resourcesets(ks, rk, resources)
        return rk

    def _check_resourceset_dependencies(self) -> None:
        """A ResourceSet's ``dependsOn`` names objects the operator waits for: each must be rendered.
        CustomResourceDefinitions are cluster-scoped and mostly not repository files: Flux's own
        (``*.toolkit.fluxcd.io``, ``*.fluxcd.controlplane.io``) exist wherever the operator runs, and
        another one missing from the render is a warning, since a chart's ``crds/`` may bring it."""
        present = {(res.kind, res.namespace or "", res.name) for _rk, res in self.result.objects()}
        for rk, res in self.result.objects():
            if not resourceset.is_resourceset(res.obj):
                continue
            for api, kind, namespace, name in resourceset.dependencies(res):
                crd = kind == "CustomResourceDefinition" and api.startswith("apiextensions.k8s.io/")
                if crd and name.endswith(FLUX_CRD_GROUPS):
                    continue
                if (kind, namespace, name) in present or (kind, "", name) in present:
                    continue
                self._finding(
                    codes.DEPENDENCY_MISSING,
                    f"ResourceSet {res.namespace}/{res.name} depends on CustomResourceDefinition {name}, "
                    "which no file of the repository defines (a chart's crds/ may install it: see that it does)"
                    if crd
                    else f"ResourceSet {res.namespace}/{res.name} depends on {kind} {namespace}/{name}, "
                    "which is not in the cluster",
                    rk.ks,
                    file=res.file,
                    line=res.line or None,
                    severity="warning" if crd else None,
                )

    def _resourcesets(
        self, ks: FluxKustomization, rk: RenderedKustomization, resources: list[Resource]
    ) -> list[Resource]:
        """What the flux-operator ResourceSets among ``resources`` generate (:mod:`.resourceset`)."""
        rsets = [r for r in resources if resourceset.is_resourceset(r.obj)]
        if not rsets:
            return []
        providers = [
            r for r in [*resources, *(res for _rk, res in self.result.objects())]
            if resourceset.is_input_provider(r.obj)
        ]  # fmt: skip
        out: list[Resource] = []
        for rset in rsets:
            try:
                expansion = resourceset.build(rset, providers, _helm_templates)
            except HomeopsError as exc:
                self._finding(
                    codes.RESOURCESET_FAILED,
                    exc.one_line(),
                    ks,
                    file=rset.file,
                    line=rset.line or None,
                )
                continue
            out.extend(expansion.objects)
            rk.notes.extend(expansion.notes)
        return out

    def _invalid(
        self, ks: FluxKustomization, rk: RenderedKustomization, res: Resource, found: Problem
    ) -> RenderedKustomization:
        """An object the API server would refuse: the dry-run of the whole Kustomization fails."""
        what = describe_problem(res.obj, found)
        self._finding(
            codes.KS_BUILD_FAILED,
            f"{ks.key}: {what} ({HINT})",
            ks,
            file=res.file,
            line=found.line or res.line or None,
        )
        rk.error = HomeopsError(what, res.file, found.line, HINT)
        return rk

    def _substitute(
        self, ks: FluxKustomization, resources: list[Resource], rk: RenderedKustomization
    ) -> None:
        # A Kustomization may apply the very ConfigMap/Secret it substitutes from (it exists in the
        # cluster from the previous reconciliation), so its own output counts as a source too.
        pool = dict(self.pool)
        for res in resources:
            if res.kind in ("ConfigMap", "Secret"):
                pool.setdefault((res.kind, res.namespace or "default", res.name), res)
        variables = postbuild.gather_variables(ks, pool, self.cli_vars, cluster_only=self.cluster_only)
        variables.sources = [self._outside(ks, s) for s in variables.sources]
        for ref in as_list((ks.post_build or {}).get("substituteFrom")):
            ref = as_map(ref)
            key = (str(ref.get("kind") or ""), ks.namespace, str(ref.get("name") or ""))
            if not ref.get("optional") and key not in pool and key not in self.cluster_only:
                rk.missing_sources.append(key)  # rendered again if a later Kustomization makes it
        for label in variables.missing_sources:
            self._finding(
                codes.SUBSTITUTE_FROM_MISSING,
                f"{ks.key}: substituteFrom {label} not found in the render "
                "(mark it optional or make sure a Kustomization produces it)",
                ks,
                line=key_line(ks.obj, "spec", "postBuild"),
            )
        for name in variables.values:
            if not varsub.validate_var_name(name):
                self._finding(
                    codes.VARIABLE_NAME_INVALID,
                    f"{ks.key}: '{name}' is not a valid variable name",
                    ks,
                    line=key_line(ks.obj, "spec", "postBuild"),
                )
        pb = ks.post_build or {}
        always = pb.get("substituteStrategy") == "Always"  # substitute even with no variable at all
        if not always and not variables.values and not pb.get("substituteFrom") and not pb.get("substitute"):
            return
        for res in resources:
            if postbuild.disabled(res):
                continue
            try:
                missing = postbuild.substitute_resource(
                    res, variables.values, strict=self.strict, placeholders=self.placeholders
                )
            except varsub.SubstitutionError as exc:
                self._finding(codes.VARIABLE_UNSET, f"{ks.key}: {exc}", ks, file=res.file, line=res.line)
                if self.strict and rk.error is None:  # kustomize-controller: "post build failed"
                    rk.error = HomeopsError(f"post build failed for {res.kind}/{res.name}: {exc}")
                continue
            for name in missing:
                file, line = _locate_variable(self.files, self.root, res, name)
                why, source, origin = unresolved.why_missing(name, variables)
                rk.unresolved.append(
                    Unresolved(
                        name, file or "", line or 0, ks.key, (res.kind, res.namespace, res.name),
                        why, source, origin,
                    )
                )  # fmt: skip

    def _path_unresolved(
        self, ks: FluxKustomization, rk: RenderedKustomization, path: str, names: list[str]
    ) -> None:
        """A path with a variable left in it: the Kustomization cannot render. The reason is the one its
        parent's substitution recorded for the same place, if any."""
        file, line = ks.resource.file or "", key_line(ks.obj, "spec", "path") or ks.resource.line or 0
        parent = self.result.rendered.get(ks.parent) if ks.parent else None
        for name in names:
            known = next(
                (u for u in (parent.unresolved if parent else []) if u.name == name and u.file == file), None
            )
            why, source, origin = (
                (known.why, known.source, known.origin) if known else (unresolved.NO_SOURCE, "", "")
            )
            rk.unresolved.append(
                Unresolved(
                    name,
                    file,
                    line,
                    ks.key,
                    ("Kustomization", ks.namespace, ks.name),
                    why,
                    source,
                    origin,
                    path,
                )
            )
        rk.error = HomeopsError(f"unresolved variable in path '{path}'")

    def _outside(self, ks: FluxKustomization, source: postbuild.Source) -> postbuild.Source:
        """A substituteFrom object no Kustomization renders but the repository writes (applied at
        bootstrap, outside Flux): the cluster has it. Its keys are known; its values are used only
        through ``vars`` (homeops never decrypts, and a bootstrap file may differ from the cluster)."""
        if source.state != postbuild.NOT_RENDERED or source.keys == frozenset():
            return source
        kind, _namespace, name = source.label.split("/", 2)
        found = self.index.defined(kind, name, ks.namespace)
        if found is None:
            return source
        file, doc = found
        keys = frozenset(str(k) for k in [*(doc.get("data") or {}), *(doc.get("stringData") or {})])
        return postbuild.Source(source.label, postbuild.OUTSIDE, keys, file)

    def _owner_labels(self, res: Resource, ks: FluxKustomization) -> None:
        meta = res.metadata
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = YMap()
            meta["labels"] = labels
        labels[OWNER_NAME_LABEL] = ks.name
        labels[OWNER_NAMESPACE_LABEL] = ks.namespace
        common = as_map(ks.spec.get("commonMetadata"))
        for key, value in as_map(common.get("labels")).items():
            labels[str(key)] = str(value)
        if as_map(common.get("annotations")):
            ann = meta.get("annotations")
            if not isinstance(ann, dict):
                ann = YMap()
                meta["annotations"] = ann
            for key, value in common["annotations"].items():
                ann[str(key)] = str(value)

    def _check_graph(self) -> None:
        keys = set(self.result.rendered)
        graph: dict[str, list[str]] = {}
        for key, rk in self.result.rendered.items():
            deps = []
            for dep in rk.ks.depends_on:
                dkey = f"{dep.namespace}/{dep.name}"
                if dkey not in keys:
                    self._finding(
                        codes.DEPENDENCY_MISSING,
                        f"{key} depends on {dkey}, which is not in the cluster",
                        rk.ks,
                        line=key_line(rk.ks.obj, "spec", "dependsOn"),
                    )
                else:
                    deps.append(dkey)
            graph[key] = deps
        state: dict[str, int] = {}
        stack: list[str] = []
        reported: set[frozenset[str]] = set()

        def visit(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for nxt in graph.get(node, []):
                if state.get(nxt) == 1:
                    cycle = [*stack[stack.index(nxt) :], nxt]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        rk = self.result.rendered[nxt]
                        self._finding(
                            codes.DEPENDENCY_CYCLE,
                            "dependency cycle: " + " -> ".join(cycle),
                            rk.ks,
                            line=key_line(rk.ks.obj, "spec", "dependsOn"),
                        )
                elif state.get(nxt) is None:
                    visit(nxt)
            stack.pop()
            state[node] = 2

        for node in graph:
            if state.get(node) is None:
                visit(node)


def _map_files(node: Any, provenance: Mapping[str, str]) -> None:
    """Every mapping of an object read from a laid-out artifact names its repository file (rules point
    at values by the mapping's own file)."""
    if isinstance(node, YMap) and node.file is not None and node.file in provenance:
        node.file = provenance[node.file]
    if isinstance(node, dict):
        for value in node.values():
            _map_files(value, provenance)
    elif isinstance(node, list):
        for value in node:
            _map_files(value, provenance)


def _locate_variable(files: FileCache, root: Path, res: Resource, name: str) -> tuple[str | None, int | None]:
    """The first line at or after the object's start in its source file that mentions the variable."""
    if not res.file:
        return None, None
    try:
        lines = files.read_text(root / res.file).splitlines()
    except HomeopsError:
        return res.file, res.line
    needle = re.compile(r"\$\{" + re.escape(name) + r"\b")
    start = max((res.line or 1) - 1, 0)
    for i in range(start, len(lines)):
        if needle.search(lines[i]):
            return res.file, i + 1
    for i in range(0, start):
        if needle.search(lines[i]):
            return res.file, i + 1
    return res.file, res.line


def render_cluster(root: Path, cluster: Cluster, **kwargs: Any) -> ClusterRender:
    return ClusterRenderer(root, cluster, **kwargs).render()


def _helm_templates(chart: Path, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Helm's Go template engine over a chart (ResourceSet templates run in it)."""
    from homeops.helm import render as helm_render  # lazy: only repositories with ResourceSets need Helm

    try:
        engine = helm_render.get_engine()
        docs = engine.render(
            chart, release_name="resourceset", namespace="default", values=values, kube_version="v1.33.0",
            api_versions=(), include_crds=False, skip_tests=True,
        )  # fmt: skip
    except helm_render.EngineMissingError as exc:
        raise HomeopsError(
            f"rendering ResourceSet templates needs Helm's template engine: {exc.hint}"
        ) from None
    return [(doc.source, doc.text) for doc in docs]
