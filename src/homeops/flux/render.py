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

Which sources are local and what their artifacts hold: :mod:`.render_sources`; one Flux
Kustomization's render: :mod:`.render_one`, reused while its inputs hold: :mod:`.render_memo`; the checks of the whole render: :mod:`.render_checks`;
the result: :mod:`.rendered`.
"""

from __future__ import annotations

import os
import shutil
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from homeops.core import codes, git, network
from homeops.core.collector import fewer_collections
from homeops.core.errors import HomeopsError, UnsupportedError
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.profile import DEFAULT, Profile
from homeops.core.shape import as_list, as_map
from homeops.core.variables import ClusterVars
from homeops.core.yamlio import YMap
from homeops.flux import unresolved
from homeops.flux.artifactgen import MappedArtifact, is_artifact_generator
from homeops.flux.buildcache import BuildCache
from homeops.flux.cluster import Cluster, defined_kustomizations, root_kustomizations
from homeops.flux.model import KS_GROUP, FluxKustomization, Ref, is_flux_kustomization, is_source
from homeops.flux.render_checks import check_duplicates, check_graph, check_resourceset_dependencies
from homeops.flux.render_memo import MemoizedRender, RenderMemo
from homeops.flux.rendered import ClusterRender, Progress
from homeops.flux.repo_index import RepoIndex, Sync
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings
from homeops.flux.sourceignore import Pattern, SourceArtifact
from homeops.flux.unresolved import ClusterOnly
from homeops.kustomize.build import Builder, BuildOptions
from homeops.kustomize.remote import RemoteFiles
from homeops.kustomize.resource import Resource


class ClusterRenderer(MemoizedRender):
    """Renders a cluster: the walk from its roots through every Flux Kustomization it applies (one
    Kustomization's render: :class:`KustomizationRender`, reused from ``memo`` when its inputs hold:
    :class:`MemoizedRender`; its sources: :class:`SourceResolution`). Without a ``memo``, renders are
    reused across runs through the persistent cache of the repository (``files.scope``)."""

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
        local_urls: set[str] | None = None,
        memo: RenderMemo | None = None,
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
        remote = RemoteFiles(offline=network.offline()) if settings.remote else None
        self.builder = Builder(self.root, self.files, BuildOptions(load_restrictor="none", remote=remote))
        self.builds = BuildCache(self.files, self.files.scope)
        self.memo = memo if memo is not None else RenderMemo(self.files.scope, share=False)
        self.keep_renders = not ClusterVars.of(cli_vars)  # values given may be the cluster's secrets
        self.facts = {}
        self.progress = progress
        self.strict = strict or settings.strict_substitution
        self.result = ClusterRender(cluster)
        # the remotes that make a GitRepository this repository (asked of Git unless the caller knows)
        self.local_urls = set(local_urls) if local_urls is not None else git.remote_urls(self.root)
        self.remote_urls = frozenset(self.local_urls)  # the working tree's remotes alone (for messages)
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
        self._root_keys: set[tuple[str, str, str]] = set()  # the sources of the root Kustomizations

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
        self._report_foreign_roots(roots)
        check_graph(self.result)
        check_resourceset_dependencies(self.result)
        check_duplicates(self.result)
        uses = [use for rk in self.result.rendered.values() for use in rk.unresolved]
        self.result.findings.extend(
            unresolved.report(uses, self.cluster.name, self.profile, self.given_vars, self.root)
        )
        return self.result

    def _report_foreign_roots(self, roots: list[FluxKustomization]) -> None:
        """HO116 when no root Kustomization applies this repository (every root source is a GitRepository
        whose URL is not one of the working tree's remotes): the render holds nothing of the tree."""
        foreign = [ks for ks in roots if self._is_foreign(ks.source_ref)]
        if not foreign or len(foreign) != len(roots):
            return
        ks = foreign[0]
        ref = ks.source_ref
        definition = self.index.source(ref.kind, ref.name, ref.namespace, self.cluster.directory)
        url = str((definition.spec if definition else {}).get("url") or "")
        remotes = ", ".join(sorted(self.remote_urls)) or "none"
        self.result.add_finding(
            codes.ROOT_SOURCE_FOREIGN,
            f"cluster {self.cluster.name}: its root Flux Kustomization {ks.key} applies {ref} ({url or 'no URL'}), "
            f"not this repository (its remotes: {remotes}): nothing of the working tree is rendered; for a fork "
            f"or a mirror pass --sources {ref.name}=. (or set the remote to the URL the cluster syncs)",
            ks,
            file=definition.file if definition else None,
            line=definition.line if definition else None,
        )

    def _is_foreign(self, ref: Ref) -> bool:
        """A root source the render took for another repository (not mapped to a directory)."""
        key = (ref.kind, ref.namespace, ref.name)
        return (
            ref.kind == "GitRepository"
            and key not in self.local_sources
            and self.settings.source_path(ref) is None
        )

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
        self._soften_missing_sources()

    def _soften_missing_sources(self) -> None:
        """A substituteFrom object missing from the render (HO108) is only a warning when a Kustomization
        homeops cannot render (a remote resource offline: Flux renders it) may apply it: one without a
        targetNamespace, or with the object's. The cluster has it then; the render cannot tell."""
        unrendered = [rk.ks for rk in self.result.rendered.values() if isinstance(rk.error, UnsupportedError)]
        if not unrendered:
            return
        softened = []
        for f in self.result.findings:
            missing = f.rule == codes.SUBSTITUTE_FROM_MISSING.id and f.severity != "warning"
            makers = (
                [ks.key for ks in unrendered if ks.target_namespace in (None, f.namespace)] if missing else []
            )
            if makers:
                more = f" and {len(makers) - 3} more" if len(makers) > 3 else ""
                why = f"; {', '.join(makers[:3])}{more}, which homeops cannot render, may make it"
                f = replace(
                    f, severity="warning", message=f.message + why
                )  # a copy: kept findings stay as kept
            softened.append(f)
        self.result.findings = softened

    def _walk(self, queue: deque[FluxKustomization]) -> None:
        deferred_rounds = 0
        seen = self._seen
        while queue:
            ks = queue.popleft()
            if ks.key in self.result.rendered:
                continue
            if ks.key in seen and seen[ks.key] is not ks and seen[ks.key].resource.file != ks.resource.file:
                self.result.add_finding(
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


def render_cluster(root: Path, cluster: Cluster, **kwargs: Any) -> ClusterRender:
    return ClusterRenderer(root, cluster, **kwargs).render()
