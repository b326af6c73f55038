"""One Flux Kustomization's render, as kustomize-controller does it: its source's artifact, the
generated or extended kustomization built by kustomize (``generator``), postBuild substitution
(``postbuild``, ``varsub``), the dry-run's refusal of invalid objects, owner labels and
commonMetadata, then what the flux-operator ResourceSets among its objects generate. A Kustomization
that fails to build is not rendered; its error becomes a finding, as its Ready condition would say.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeops.core import codes
from homeops.core.errors import HomeopsError, UnsupportedError
from homeops.core.files import FileCache, clean
from homeops.core.fs import OutsideRootError, refusal_code
from homeops.core.shape import Problem, as_list, as_map
from homeops.core.yamlio import YMap, key_line
from homeops.flux import postbuild, resourceset, unresolved, varsub
from homeops.flux.buildcache import BuildCache
from homeops.flux.generator import flux_kustomization
from homeops.flux.model import (
    OWNER_NAME_LABEL,
    OWNER_NAMESPACE_LABEL,
    FluxKustomization,
    RenderedKustomization,
    Unresolved,
)
from homeops.flux.render_sources import SourceResolution
from homeops.flux.rendered import ClusterRender, Progress
from homeops.flux.shapes import HINT, describe_problem, flux_object_problem
from homeops.flux.sourceignore import SourceArtifact
from homeops.flux.unresolved import ClusterOnly
from homeops.kustomize.build import Builder
from homeops.kustomize.resource import Resource


class KustomizationRender(SourceResolution):
    """Renders one Flux Kustomization; its findings go to ``result``. A base of
    :class:`ClusterRenderer` (:mod:`.render`), whose constructor sets the state declared here."""

    builder: Builder
    builds: BuildCache
    cli_vars: dict[str, str]
    cluster_only: ClusterOnly
    placeholders: bool
    pool: dict[tuple[str, str, str], Resource]
    progress: Progress | None
    result: ClusterRender
    strict: bool

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
            self.result.add_finding(
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
            self.result.add_finding(
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
            self.result.add_finding(
                codes.OUTSIDE_ROOT, exc.one_line(), ks, line=key_line(ks.obj, "spec", "path")
            )
            rk.error = exc
            return rk
        if not os.path.isdir(directory):
            other = self._other_revision(ref)
            if other is not None:  # the path is in the revision the source follows, not in this tree
                self.result.external_sources.append(ref)
                rk.notes.append(f"path '{path}' is not in the working tree: {other}: not rendered")
                return rk
            self.result.add_finding(
                codes.KS_PATH_MISSING,
                f"path '{path}' of {ks.key} does not exist",
                ks,
                line=key_line(ks.obj, "spec", "path"),
            )
            rk.error = HomeopsError("path not found")
            return rk
        if artifact is not None and not artifact.contains_dir(directory):
            self.result.add_finding(
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
            self.result.add_finding(
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
                self.result.add_finding(
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
                self.result.add_finding(
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
        self.result.add_finding(
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
            self.result.add_finding(
                codes.SUBSTITUTE_FROM_MISSING,
                f"{ks.key}: substituteFrom {label} not found in the render "
                "(mark it optional or make sure a Kustomization produces it)",
                ks,
                line=key_line(ks.obj, "spec", "postBuild"),
            )
        for name in variables.values:
            if not varsub.validate_var_name(name):
                self.result.add_finding(
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
                self.result.add_finding(
                    codes.VARIABLE_UNSET, f"{ks.key}: {exc}", ks, file=res.file, line=res.line
                )
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
