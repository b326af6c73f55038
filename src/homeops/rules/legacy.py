"""Legacy layout and legacy tools: the ``cluster-cd/`` tree (HO008) and Velero (HO012).

This module also holds the small helpers the other rule families of this series share (path globs,
exact source locations, one memo per check run), so each rule stays a short loop over the render.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from homeops.core import codes
from homeops.core.codes import Code
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.yamlio import YMap
from homeops.flux.model import HELM_GROUP, is_helmrelease
from homeops.flux.render import ClusterRender
from homeops.kustomize.resource import Resource, split_api_version
from homeops.rules.base import RuleContext, finding, rule

T = TypeVar("T")

# ------------------------------------------------------------------ shared helpers


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``**`` crosses directories (and ``dir/**`` matches the directory's whole tree); ``*`` and ``?``
    stay within one path segment."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(path: str, pattern: str) -> bool:
    """Whether a repository-relative path matches a profile glob (``clusters/*/bootstrap/**``)."""
    return _glob_regex(pattern.strip("/").removeprefix("./")).match(path) is not None


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    return any(glob_match(path, p) for p in patterns)


def under(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or inside it (both repository-relative)."""
    directory = directory.strip("/").removeprefix("./")
    path = path.removeprefix("./")
    return path == directory or path.startswith(directory + "/")


def is_legacy_path(ctx: RuleContext, path: str | None) -> bool:
    return bool(path) and any(under(str(path), p) for p in ctx.profile.legacy_paths)


_memo_ctx: RuleContext | None = None
_memo: dict[str, Any] = {}


def memo(ctx: RuleContext, key: str, compute: Callable[[], T]) -> T:
    """Compute something once per check run (several rules need the same index of the render)."""
    global _memo_ctx
    if _memo_ctx is not ctx:
        _memo_ctx = ctx
        _memo.clear()
    if key not in _memo:
        _memo[key] = compute()
    value: T = _memo[key]
    return value


def at(res: Resource, node: Any, key: str | None = None) -> tuple[str | None, int | None]:
    """The file and line of ``node[key]`` (or of ``node``): a patch keeps the file it came from."""
    if isinstance(node, YMap) and node.line and node.file:
        return node.file, node.line_of(key) if key is not None else node.line
    return res.file, res.line or None  # generated, or parsed from text that is no file (chart output)


def key_path_line(res: Resource, *path: str) -> tuple[str | None, int | None]:
    """Location of the deepest existing key of ``path`` in the object."""
    node: Any = res.obj
    where = at(res, node)
    for key in path:
        if not isinstance(node, dict) or key not in node:
            break
        where = at(res, node, key)
        node = node[key]
    return where


def place(
    code: Code, message: str, res: Resource, where: tuple[str | None, int | None], cluster: str | None
) -> Finding:
    file, line = where
    return finding(code, message, res=res, file=file, line=line, cluster=cluster)


def unique(findings: Iterable[Finding]) -> Iterator[Finding]:
    """One finding per place and message: an object shared by several clusters is reported once."""
    seen: set[tuple[Any, ...]] = set()
    for f in findings:
        key = (f.file, f.line, f.message)
        if key not in seen:
            seen.add(key)
            yield f


HELM_ORIGIN_NAME = f"{HELM_GROUP}/name"
HELM_ORIGIN_NAMESPACE = f"{HELM_GROUP}/namespace"


def chart_output(res: Resource) -> tuple[str, str] | None:
    """(namespace, name) of the HelmRelease whose chart rendered ``res`` (``check --enable-helm`` adds
    chart objects, located at the HelmRelease, with helm-controller's origin labels), else None."""
    name = res.labels.get(HELM_ORIGIN_NAME)
    if not name or is_helmrelease(res.obj):
        return None
    return str(res.labels.get(HELM_ORIGIN_NAMESPACE) or "default"), str(name)


def release_key(res: Resource) -> tuple[str, str]:
    return res.namespace or "default", res.name


def spec_of(res: Resource) -> dict[str, Any]:
    spec = res.obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def chart_name(res: Resource) -> str:
    """The chart of a HelmRelease given through ``spec.chart.spec.chart`` ("" with ``chartRef``)."""
    spec = res.obj.get("spec")
    chart = spec.get("chart") if isinstance(spec, dict) else None
    chart_spec = chart.get("spec") if isinstance(chart, dict) else None
    return str(chart_spec.get("chart") or "") if isinstance(chart_spec, dict) else ""


def chart_ref(res: Resource) -> dict[str, Any] | None:
    spec = res.obj.get("spec")
    ref = spec.get("chartRef") if isinstance(spec, dict) else None
    return ref if isinstance(ref, dict) else None


def _configmaps(ctx: RuleContext, render: ClusterRender) -> dict[tuple[str, str], Resource]:
    def compute() -> dict[tuple[str, str], Resource]:
        return {(res.namespace, res.name): res for _rk, res in render.objects() if res.kind == "ConfigMap"}

    return memo(ctx, f"configmaps:{id(render)}", compute)


def _generated_file(ctx: RuleContext, cm: Resource, data_key: str) -> str | None:
    """The repository file a ``configMapGenerator`` read ``data_key`` from (``files: [key=path]``)."""
    if not cm.generated or not cm.file:
        return None
    try:
        kust = ctx.files.load_one(ctx.root / cm.file)
    except HomeopsError:
        return None
    if not isinstance(kust, dict):
        return None
    for args in kust.get("configMapGenerator") or []:
        if not isinstance(args, YMap) or args.line != cm.line:
            continue
        for source in args.get("files") or []:
            key, sep, path = str(source).partition("=")
            if not sep:
                key, path = posixpath.basename(source), source
            if key.strip() == data_key:
                return posixpath.normpath(posixpath.join(posixpath.dirname(cm.file), path.strip()))
    return None


def chart_values(ctx: RuleContext, render: ClusterRender, res: Resource) -> list[Resource]:
    """A HelmRelease's values, each as a view of the HelmRelease whose ``spec.values`` is one source:
    its inline ``spec.values``, and every ``valuesFrom`` ConfigMap a ``configMapGenerator`` built from a
    repository file (read from that file, so lines point into it). Computed once per HelmRelease."""

    def compute() -> list[Resource]:
        out: list[Resource] = []
        spec = spec_of(res)
        if isinstance(spec.get("values"), dict):
            out.append(res)
        for ref in spec.get("valuesFrom") or []:
            if not isinstance(ref, dict) or ref.get("kind") != "ConfigMap":
                continue
            cm = _configmaps(ctx, render).get((res.namespace, str(ref.get("name") or "")))
            path = _generated_file(ctx, cm, str(ref.get("valuesKey") or "values.yaml")) if cm else None
            if path is None or path.startswith("../"):
                continue
            try:
                doc = ctx.files.load_one(ctx.root / path)
            except HomeopsError:
                continue
            if not isinstance(doc, dict):
                continue
            target = ref.get("targetPath")
            if target:  # the whole document is one value, not a values tree
                continue
            view = YMap(res.obj)
            view["spec"] = {"values": doc}
            out.append(Resource(obj=view, file=path, line=getattr(doc, "line", 0)))
        return out

    return memo(ctx, f"values:{id(res)}", compute)


# ------------------------------------------------------------------ HO008


@rule(
    codes.LEGACY_TREE,
    rationale="""
Anti-Patterns #8: "cluster-cd/ directory - Use cluster-apps/ instead"; Repository Structure marks
`cluster-cd/` as "Legacy structure (DO NOT USE)". The profile's `legacy_paths` lists such trees.
To keep the report readable, a legacy tree is reported once (with the number of files it still holds)
instead of once per file, plus once for each Flux Kustomization defined outside the tree whose
`spec.path` points into it (those are what wire the tree into a cluster; Kustomizations inside the
tree go away with it).
""",
    bad="""
# clusters/chongus/flux/apps.yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  path: ./cluster-cd/apps/chongus
""",
    good="""
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  path: ./cluster-apps/chongus
""",
)
def check_legacy_tree(ctx: RuleContext) -> Iterator[Finding]:
    """The legacy trees still present, and the Flux paths that still deploy them."""
    counts: dict[str, int] = {}
    for path in ctx.repo_files():
        for legacy in ctx.profile.legacy_paths:
            if under(path, legacy):
                counts[legacy] = counts.get(legacy, 0) + 1
    for legacy in ctx.profile.legacy_paths:
        if counts.get(legacy):
            n = counts[legacy]
            yield finding(
                codes.LEGACY_TREE,
                f"legacy tree {legacy.strip('/')}/ still holds {n} file{'s' * (n != 1)} "
                f"(move its apps to {ctx.profile.apps_dir}/ and delete it)",
                file=legacy.strip("/"),
                line=None,
            )
    out = []
    for render in ctx.renders:
        for rk in render.rendered.values():
            ks = rk.ks
            if not ks.path or is_legacy_path(ctx, ks.resource.file):
                continue
            if is_legacy_path(ctx, ks.path.removeprefix("./")):
                out.append(
                    place(
                        codes.LEGACY_TREE,
                        f"Flux Kustomization {ks.key} deploys the legacy path {ks.path}",
                        ks.resource,
                        key_path_line(ks.resource, "spec", "path"),
                        render.cluster.name,
                    )
                )
    yield from unique(out)


# ------------------------------------------------------------------ HO012

VELERO = "velero"


@rule(
    codes.VELERO,
    rationale="""
Anti-Patterns #12: "Velero for backups - Use Volsync instead (Velero is legacy/deprecated)";
Backup and Disaster Recovery: Volsync (B2 daily + MinIO hourly) is the primary mechanism for all
stateful workloads. Any object of the `velero.io` API group, or a HelmRelease whose chart (chart name
or OCIRepository URL) is Velero, is reported.
""",
    bad="""
apiVersion: velero.io/v1
kind: Schedule
metadata:
  name: daily
spec:
  schedule: "0 3 * * *"
""",
    good="""
# ks.yaml: the app's Flux Kustomization takes the Volsync component
spec:
  components:
    - ../../../../components/volsync
  postBuild:
    substitute:
      APP: app-name
      VOLSYNC_CAPACITY: 10Gi
""",
)
def check_velero(ctx: RuleContext) -> Iterator[Finding]:
    """Velero API objects and HelmReleases of the Velero chart."""
    out = []
    for render in ctx.renders:
        oci_urls = {
            (res.namespace, res.name): str(spec_of(res).get("url") or "")
            for _rk, res in render.objects()
            if res.kind == "OCIRepository"
        }
        velero_releases: set[tuple[str, str]] = set()
        for _rk, res in render.objects():
            if not is_helmrelease(res.obj):
                continue
            ref = chart_ref(res)
            if VELERO in chart_name(res).lower():
                velero_releases.add(release_key(res))
                out.append(
                    place(
                        codes.VELERO,
                        f"HelmRelease {res.name} deploys the Velero chart (use Volsync)",
                        res,
                        key_path_line(res, "spec", "chart"),
                        render.cluster.name,
                    )
                )
            elif ref is not None:
                key = (str(ref.get("namespace") or res.namespace), str(ref.get("name") or ""))
                url = oci_urls.get(key, "")
                if VELERO in url.lower() or (not url and VELERO in key[1].lower()):
                    velero_releases.add(release_key(res))
                    out.append(
                        place(
                            codes.VELERO,
                            f"HelmRelease {res.name} deploys the Velero chart {url or key[1]} (use Volsync)",
                            res,
                            key_path_line(res, "spec", "chartRef"),
                            render.cluster.name,
                        )
                    )
        for _rk, res in render.objects():
            group, _version = split_api_version(res.api_version)
            if (group == "velero.io" or group.endswith(".velero.io")) and chart_output(
                res
            ) not in velero_releases:
                out.append(
                    finding(
                        codes.VELERO,
                        f"{res.kind} {res.name} is a Velero object (use Volsync)",
                        res=res,
                        cluster=render.cluster.name,
                    )
                )
    yield from unique(out)
