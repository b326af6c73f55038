"""helm-controller emulation: expand HelmReleases of a rendered cluster into the objects they install.

For each HelmRelease the chart is resolved as source-controller would (``chartRef`` to an
OCIRepository or HelmChart, ``chart.spec`` with a HelmRepository or a GitRepository of this
repository), values are composed as helm-controller composes them (``valuesFrom`` in order, then
``spec.values``; Helm coalesces chart defaults), the chart is rendered with Helm's own engine, and
the post-renderers run in helm-controller's order: each ``postRenderers[].kustomize``, then
``commonMetadata``, then the origin labels. Rendered objects are located at the HelmRelease's line,
so a rule finding on chart output points at the object the user can change.

A release that cannot be expanded never stops the run: a missing or unreachable chart is a finding
``HO120``, a chart (or its values, or a post-renderer) that fails is ``HO121``. Network is used only
when this module is called, which the CLI does for ``--enable-helm``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from homeops.core import fs, git, network, yamlio
from homeops.core.codes import CHART_RENDER_FAILED, CHART_SOURCE_UNAVAILABLE, VALUES_IN_CLUSTER, Code
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.fs import refusal_code
from homeops.core.profile import Profile, load_profile
from homeops.core.shape import as_list, as_map
from homeops.core.yamlio import YMap, key_line
from homeops.flux.helm_release import metadata_of, release_name, release_namespace, spec_of
from homeops.flux.model import HELM_GROUP, RenderedKustomization, is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings
from homeops.helm.dependencies import with_dependencies
from homeops.helm.render import Engine, render_chart
from homeops.helm.sources import ResolvedChart, SourceError, SourceResolver
from homeops.helm.values import ValuesError, deep_merge, merge_values, values_from
from homeops.kustomize import images, patches
from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.fieldspec import TransformerConfig
from homeops.kustomize.loader import Loader
from homeops.kustomize.resource import CLUSTER_SCOPED, Resource
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import CredentialStore, default_credential_paths
from homeops.registry.oci.errors import RegistryError

NAME_LABEL = f"{HELM_GROUP}/name"
NAMESPACE_LABEL = f"{HELM_GROUP}/namespace"


_EXPANDED_ATTR = "_homeops_helm_expanded"


# ----------------------------------------------------------------------------------------------
# Results


@dataclass
class ReleaseRender:
    """One HelmRelease's expansion: its chart, values and objects, or why it failed."""

    release: Resource
    rk: RenderedKustomization
    name: str
    namespace: str
    chart: ResolvedChart | None = None
    values: dict[str, Any] = field(default_factory=dict)
    objects: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def _plain(value: Any) -> Any:
    """A copy without provenance: chart output has no lines in this repository.

    Rules locate a finding at a mapping's own line when it has one, else at the resource's line;
    clearing the lines the chart templates (and inline patches) carried makes every finding on a
    rendered object land on the HelmRelease.
    """
    if isinstance(value, Mapping):
        out = YMap()
        for key, item in value.items():
            out[str(key)] = _plain(item)
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------------------------


class Expander:
    """Expands HelmReleases of one rendered cluster; sources and values come from that render."""

    def __init__(
        self,
        root: Path,
        result: ClusterRender,
        *,
        offline: bool = False,
        engine: str | Engine | None = None,
        profile: Profile | None = None,
        resolver: SourceResolver | None = None,
        settings: RenderSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.root = root.resolve()
        self.result = result
        self.profile = profile if profile is not None else load_profile(self.root)
        self.offline = network.offline(offline)
        self.engine = engine
        self.settings = settings
        self.resolver = resolver if resolver is not None else self._resolver()
        self.sources: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        self.pool: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        self.cluster_only: set[tuple[str, str, str]] = set()
        self.api_versions: set[str] = set()
        self.cluster_kinds: set[str] = set()
        for _rk, res in result.objects():
            self._index(res)
        self._local_git = self._local_git_sources()
        self._files: FileCache | None = None  # the post-renderers' patch files, read once

    def _resolver(self) -> SourceResolver:
        """Chart sources resolved with the profile's insecure registries and, when given, the
        ``--registry-config`` credentials ahead of Docker's default files."""
        client = None
        if self.settings.registry_config is not None:
            paths = [self.settings.registry_config, *default_credential_paths()]
            client = RegistryClient(
                insecure_registries=self.profile.insecure_registries, credentials=CredentialStore(paths)
            )
        return SourceResolver(offline=self.offline, profile=self.profile, client=client)

    # -- indexes ----------------------------------------------------------------------------

    def _index(self, res: Resource) -> None:
        ns = res.namespace or "default"
        key = (res.kind, ns, res.name)
        if res.api_version.startswith("source.toolkit.fluxcd.io/"):
            self.sources.setdefault(key, res.obj)
        if res.kind in ("ConfigMap", "Secret") and res.api_version == "v1":
            self.pool.setdefault(key, res.obj)
            if res.kind == "Secret" and "sops" in res.obj:
                self.cluster_only.add(key)
        if res.kind == "ExternalSecret":
            target = spec_of(res.obj).get("target")
            target_name = target.get("name") if isinstance(target, Mapping) else None
            self.cluster_only.add(("Secret", ns, str(target_name or res.name)))
        if res.kind == "CustomResourceDefinition":
            self._index_crd(res.obj)

    def _index_crd(self, obj: Mapping[str, Any]) -> None:
        """CRDs in the render are what ``.Capabilities.APIVersions.Has`` sees in the cluster."""
        spec = spec_of(obj)
        group = str(spec.get("group") or "")
        names = spec.get("names")
        kind = str(names.get("kind") or "") if isinstance(names, Mapping) else ""
        if not group:
            return
        if spec.get("scope") == "Cluster" and kind:
            self.cluster_kinds.add(kind)
        for version in as_list(spec.get("versions")):
            if isinstance(version, Mapping) and version.get("name") and version.get("served", True):
                self.api_versions.add(f"{group}/{version['name']}")
                if kind:
                    self.api_versions.add(f"{group}/{version['name']}/{kind}")

    def _local_git_sources(self) -> set[tuple[str, str]]:
        """GitRepositories that are this repository: flux-system, the remotes, or a rendered Kustomization's source."""
        local = {("flux-system", "flux-system")}
        urls: set[str] | None = None
        for (kind, ns, name), obj in self.sources.items():
            if kind != "GitRepository":
                continue
            if urls is None:
                urls = git.remote_urls(self.root)
            url = str(spec_of(obj).get("url") or "")
            if url and git.normalise_remote_url(url) in urls:
                local.add((ns, name))
        for rk in self.result.rendered.values():
            ref = rk.ks.source_ref
            if ref.kind == "GitRepository" and rk.error is None and not rk.notes:
                local.add((ref.namespace, ref.name))
        return local

    # -- one release --------------------------------------------------------------------------

    def _finding(self, code: Code, message: str, res: Resource, line: int | None = None) -> Finding:
        return code.finding(
            message,
            file=res.file,
            line=line or res.line or None,
            kind=res.kind,
            name=res.name,
            namespace=res.namespace,
            cluster=self.result.cluster.name,
        )

    def _chart_ref_release(self, release: Resource) -> Mapping[str, Any]:
        """A ``chartRef`` to a HelmChart becomes the ``chart.spec`` it stands for (source-controller)."""
        spec = spec_of(release.obj)
        ref = spec.get("chartRef")
        if not isinstance(ref, Mapping) or ref.get("kind") != "HelmChart":
            return release.obj
        ns = str(ref.get("namespace") or release.namespace or "default")
        chart = self.sources.get(("HelmChart", ns, str(ref.get("name") or "")))
        if chart is None:
            raise SourceError(
                f"chartRef HelmChart {ns}/{ref.get('name')} not found",
                release.file,
                release.line,
                "add the HelmChart object",
            )
        synthetic = YMap(
            apiVersion=release.api_version,
            kind="HelmRelease",
            metadata={"name": release.name, "namespace": ns},
            spec={"chart": {"spec": dict(spec_of(chart))}},
        )
        synthetic.file, synthetic.line = release.file, release.line
        return synthetic

    def _check_git_source(self, release: Resource, chart_release: Mapping[str, Any]) -> None:
        chart_spec = as_map(as_map(spec_of(chart_release).get("chart")).get("spec"))
        source = chart_spec.get("sourceRef") if isinstance(chart_spec, Mapping) else None
        if not isinstance(source, Mapping):
            return
        kind = str(source.get("kind") or "")
        ns = str(source.get("namespace") or metadata_of(chart_release).get("namespace") or "default")
        name = str(source.get("name") or "")
        if kind == "GitRepository" and (ns, name) not in self._local_git:
            raise SourceError(
                f"chart source GitRepository {ns}/{name} is another repository",
                release.file,
                release.line,
                "homeops reads Git charts from this repository only",
            )
        if kind not in ("GitRepository", "HelmRepository"):
            raise SourceError(
                f"chart sourceRef kind {kind or '(none)'} is not supported",
                release.file,
                release.line,
                "use a HelmRepository, an OCIRepository chartRef or this repository's GitRepository",
            )

    def _values_files(
        self, chart_release: Mapping[str, Any], chart_dir: Path, release: Resource
    ) -> dict[str, Any]:
        """``chart.spec.valuesFiles``: source-controller merges them in order over the chart's defaults."""
        chart_spec = as_map(as_map(spec_of(chart_release).get("chart")).get("spec"))
        files = chart_spec.get("valuesFiles") if isinstance(chart_spec, Mapping) else None
        ignore_missing = (
            bool(chart_spec.get("ignoreMissingValuesFiles")) if isinstance(chart_spec, Mapping) else False
        )
        merged: dict[str, Any] = {}
        chart = fs.Boundary.at(chart_dir, "the chart")
        for entry in files or []:
            path = chart_dir / str(entry)
            if not chart.is_file(path):
                if ignore_missing:
                    continue
                raise ValuesError(f"values file {entry} is not in the chart", release.file, release.line)
            try:
                text = chart.read_text(path, f"values file {entry}")
            except HomeopsError as exc:
                exc.file, exc.line = release.file, release.line
                raise
            loaded = yamlio.load_one(text, str(entry))
            if isinstance(loaded, Mapping):
                merged = deep_merge(merged, loaded)
        return merged

    def _values_from(self, release: Resource) -> tuple[dict[str, Any], list[str]]:
        """``valuesFrom`` against the render; references that only the cluster holds are skipped."""
        spec = spec_of(release.obj)
        refs = as_list(spec.get("valuesFrom"))
        if not isinstance(refs, list):
            raise ValuesError("spec.valuesFrom must be a list", release.file, release.line)
        ns = release.namespace or "default"
        usable: list[Mapping[str, Any]] = []
        skipped: list[str] = []
        for ref in refs:
            if not isinstance(ref, Mapping):
                raise ValuesError("valuesFrom entries must be mappings", release.file, release.line)
            key = (str(ref.get("kind") or ""), ns, str(ref.get("name") or ""))
            if key in self.cluster_only:
                skipped.append(f"{key[0]} {ns}/{key[2]}")
                continue
            usable.append(ref)
        return values_from(usable, self.pool, namespace=ns, file=release.file, line=release.line), skipped

    def render_release(self, rk: RenderedKustomization, release: Resource) -> ReleaseRender:
        """Resolve, compose values, render and post-render one HelmRelease; failures become findings."""
        out = ReleaseRender(release, rk, release_name(release.obj), release_namespace(release.obj))
        label = f"HelmRelease {release.namespace or 'default'}/{release.name}"
        try:
            chart_release = self._chart_ref_release(release)
            self._check_git_source(release, chart_release)
            out.chart = self.resolver.chart_for_release(chart_release, self.sources, repo_root=self.root)
            if (
                out.chart.artifact is None
            ):  # a chart of this repository: source-controller builds its dependencies
                file, line = release.file, release.line or None
                path = with_dependencies(
                    self.resolver, out.chart.path, what=label, file=file, line=line, root=self.root
                )
                out.chart = replace(out.chart, path=path)
        except (SourceError, RegistryError) as exc:
            out.findings.append(
                self._finding(
                    refusal_code(exc) or CHART_SOURCE_UNAVAILABLE,
                    f"{label}: chart source unavailable: {_why(exc, release)}",
                    release,
                )
            )
            return out
        except HomeopsError as exc:  # archive limits, path traversal, malformed chart archives
            out.findings.append(
                self._finding(
                    refusal_code(exc) or CHART_SOURCE_UNAVAILABLE,
                    f"{label}: chart source unusable: {_why(exc, release)}",
                    release,
                )
            )
            return out
        try:
            base = self._values_files(chart_release, out.chart.path, release)
            from_refs, skipped = self._values_from(release)
            spec_values = spec_of(release.obj).get("values")
            out.values = merge_values(
                None, base, from_refs, spec_values if isinstance(spec_values, Mapping) else None
            )
            for what in skipped:
                out.findings.append(
                    self._finding(
                        VALUES_IN_CLUSTER,
                        f"{label}: valuesFrom {what} only exists in the cluster; rendered without it",
                        release,
                        key_line(release.obj, "spec", "valuesFrom"),
                    )
                )
            install = spec_of(release.obj).get("install")
            crds = str(install.get("crds") or "Create") if isinstance(install, Mapping) else "Create"
            rendered = render_chart(
                out.chart.path,
                release_name=out.name,
                namespace=out.namespace,
                values=out.values,
                kube_version=self.settings.kube_version or self.profile.kubernetes_version,
                api_versions=sorted(self.api_versions | set(self.settings.api_versions)),
                include_crds=crds != "Skip",
                engine=self.engine,
            )
            objects = self._post_render(release, rendered)
        except HomeopsError as exc:  # RenderError, ValuesError, EngineMissingError, post-renderer errors
            out.findings.append(
                self._finding(
                    refusal_code(exc) or CHART_RENDER_FAILED,
                    f"{label}: chart {out.chart.name} failed to render: {_why(exc, release)}",
                    release,
                    exc.line if exc.file == release.file else None,
                )
            )
            return out
        for obj in objects:
            res = Resource(obj=obj, file=release.file, line=release.line)
            if obj.get("kind") == "CustomResourceDefinition":
                self._index_crd(obj)
            out.objects.append(res)
        return out

    # -- post-rendering -----------------------------------------------------------------------

    def _loader(self, release: Resource) -> Loader:
        """Post-renderer patches read files as Flux's kustomize does: from the root, unrestricted."""
        if self._files is None:
            self._files = FileCache(self.root.resolve())
        return Loader(self._files, self.root, release.file or "HelmRelease", root_only=False)

    def _post_render(self, release: Resource, rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """helm-controller's post-renderers, in its order; then the release namespace on namespaced objects."""
        spec = spec_of(release.obj)
        objs = [_plain(o) for o in rendered]
        for entry in as_list(spec.get("postRenderers")):
            kustomize = entry.get("kustomize") if isinstance(entry, Mapping) else None
            if not isinstance(kustomize, Mapping):
                continue
            acc = Accumulator(resources=[Resource(obj=o, file=release.file, line=release.line) for o in objs])
            entries: list[Any] = []
            for smp in as_list(kustomize.get("patchesStrategicMerge")):
                entries.append(_entry({"patch": json.dumps(smp)}, smp))
            for patch in as_list(kustomize.get("patches")):
                if isinstance(patch, Mapping) and patch.get("path"):
                    raise HomeopsError(
                        "postRenderers patches cannot use path:",
                        release.file,
                        key_line(release.obj, "spec", "postRenderers"),
                        "inline the patch",
                    )
                entries.append(patch)
            for legacy in as_list(kustomize.get("patchesJson6902")):
                if isinstance(legacy, Mapping):
                    entries.append(
                        _entry(
                            {
                                "target": legacy.get("target"),
                                "patch": json.dumps(as_list(legacy.get("patch"))),
                            },
                            legacy,
                        )
                    )
            if entries:
                patches.apply_patches(entries, self._loader(release), acc)
            image_entries = [e for e in as_list(kustomize.get("images")) if isinstance(e, Mapping)]
            if image_entries:
                images.set_images(
                    acc.resources, [dict(e) for e in image_entries], TransformerConfig.default().images
                )
            objs = [_plain(r.obj) for r in acc.resources]
        common = spec.get("commonMetadata")
        common_labels = common.get("labels") if isinstance(common, Mapping) else None
        common_annotations = common.get("annotations") if isinstance(common, Mapping) else None
        origin = {NAME_LABEL: release.name, NAMESPACE_LABEL: release.namespace or "default"}
        namespace = release_namespace(release.obj)
        for obj in objs:
            meta = obj.get("metadata")
            if not isinstance(meta, dict):
                meta = YMap()
                obj["metadata"] = meta
            if isinstance(common_labels, Mapping):
                _add(meta, "labels", common_labels)
            if isinstance(common_annotations, Mapping):
                _add(meta, "annotations", common_annotations)
            _add(meta, "labels", origin)
            if not meta.get("namespace") and self._namespaced(obj):
                meta["namespace"] = namespace
        return objs

    def _namespaced(self, obj: Mapping[str, Any]) -> bool:
        kind = str(obj.get("kind") or "")
        return (
            str(obj.get("apiVersion") or ""),
            kind,
        ) not in CLUSTER_SCOPED and kind not in self.cluster_kinds

    # -- many releases ------------------------------------------------------------------------

    def expand(self, selected: Iterable[RenderedKustomization] | None = None) -> list[ReleaseRender]:
        """Expand every HelmRelease of ``selected`` (default: all), in render order, in place."""
        done: set[int] = getattr(self.result, _EXPANDED_ATTR, set())
        renders: list[ReleaseRender] = []
        wanted = list(selected) if selected is not None else list(self.result.rendered.values())
        for rk in wanted:
            index = 0
            while index < len(rk.resources):
                res = rk.resources[index]
                index += 1
                if not is_helmrelease(res.obj) or id(res) in done:
                    continue
                done.add(id(res))
                try:
                    out = self.render_release(rk, res)
                except Exception as exc:  # a bug or an engine crash must not stop the other releases
                    out = ReleaseRender(res, rk, release_name(res.obj), release_namespace(res.obj))
                    out.findings.append(
                        self._finding(
                            CHART_RENDER_FAILED,
                            f"HelmRelease {res.namespace or 'default'}/{res.name}: "
                            f"internal error while rendering: {type(exc).__name__}: {exc} (rerun with --debug and "
                            "report it)",
                            res,
                        )
                    )
                renders.append(out)
                self.result.findings.extend(out.findings)
                rk.resources[index:index] = out.objects
                index += len(out.objects)
        setattr(self.result, _EXPANDED_ATTR, done)
        self.result.objects_changed()
        return renders


def _why(exc: HomeopsError, release: Resource) -> str:
    """The error without the release's own name (the finding says it), with where it arose when elsewhere."""
    what = exc.what
    for prefix in (f"HelmRelease {release.namespace}/{release.name}: ", f"HelmRelease {release.name}: "):
        what = what.removeprefix(prefix)
    if exc.file and exc.file != release.file and not os.path.isabs(exc.file):  # a repository file
        what += f" [{exc.location().rstrip(': ')}]"
    return what + (f" ({exc.hint})" if exc.hint else "")


def _entry(values: dict[str, Any], origin: Any) -> YMap:
    entry = YMap({k: v for k, v in values.items() if v is not None})
    entry.line = getattr(origin, "line", 0) or 0
    entry.file = getattr(origin, "file", None)
    return entry


def _add(meta: dict[str, Any], key: str, values: Mapping[str, Any]) -> None:
    current = meta.get(key)
    if not isinstance(current, dict):
        current = YMap()
        meta[key] = current
    for k, v in values.items():
        current[str(k)] = str(v)


def expand(
    root: Path,
    result: ClusterRender,
    selected: list[RenderedKustomization] | None = None,
    *,
    offline: bool = False,
    engine: str | Engine | None = None,
    profile: Profile | None = None,
    resolver: SourceResolver | None = None,
    settings: RenderSettings = DEFAULT_SETTINGS,
) -> list[ReleaseRender]:
    """Expand the HelmReleases of ``selected`` Kustomizations of ``result`` in place.

    Rendered objects are inserted after their HelmRelease (which stays); failures are appended to
    ``result.findings`` as HO120/HO121 at the HelmRelease's line. Calling it twice is harmless.
    """
    expander = Expander(
        root, result, offline=offline, engine=engine, profile=profile, resolver=resolver, settings=settings
    )
    return expander.expand(selected)


def find_release(
    result: ClusterRender, name: str, namespace: str | None = None
) -> list[tuple[RenderedKustomization, Resource]]:
    """HelmReleases named ``name`` (in ``namespace`` when given) of a rendered cluster."""
    return [
        (rk, res)
        for rk, res in result.objects()
        if is_helmrelease(res.obj)
        and res.name == name
        and (namespace is None or (res.namespace or "default") == namespace)
    ]
