"""Render one side of a diff (a Git revision or the working tree), reusing work across sides.

Two levels of reuse, both keyed by content so they are safe across revisions:

* parses: every side's :class:`ContentFileCache` shares one :class:`ParseCache`;
* renders: a Flux Kustomization whose object and substitution inputs are the same as on an earlier
  side, and every path it looked at has the same signature (``FileCache.touch``), is not rendered
  again (:class:`RenderMemo`); below that, builds are kept across runs (``flux.buildcache``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core.codes import REVISION_UNRENDERABLE
from homeops.core.errors import HomeopsError
from homeops.core.files import Facts
from homeops.core.findings import Finding
from homeops.core.git.caches import ContentFileCache, ParseCache
from homeops.core.profile import DEFAULT, Profile, load_profile
from homeops.core.variables import ClusterVars
from homeops.flux.cluster import Cluster, discover_clusters, resolve_cluster
from homeops.flux.model import FluxKustomization, RenderedKustomization
from homeops.flux.render import ClusterRenderer
from homeops.flux.render_memo import RenderMemo
from homeops.flux.rendered import ClusterRender
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings

Progress = Callable[[str], None]


@dataclass
class Side:
    """The rendered clusters of one revision."""

    label: str
    renders: dict[str, ClusterRender] = field(default_factory=dict)  # by cluster name
    failed: dict[str, Finding] = field(default_factory=dict)  # cluster name -> why it did not render
    problems: list[Finding] = field(default_factory=list)  # side-wide (profile, path)
    reads: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    """(cluster, Kustomization key) -> the repository files its render read (for the blast radius)."""


class ReusingRenderer(ClusterRenderer):
    """A ClusterRenderer that also notes which repository files each Kustomization's render read (for
    the blast radius)."""

    def __init__(self, root: Path, cluster: Cluster, **kwargs: Any) -> None:
        super().__init__(root, cluster, **kwargs)
        self.reads: dict[str, frozenset[str]] = {}  # Kustomization key -> files its render read

    def _inputs(self, ks: FluxKustomization) -> set[str]:
        """Files that decide a Kustomization's output besides what its build reads: its own
        definition and the ConfigMaps/Secrets its postBuild substitutes from."""
        out = {ks.resource.file} if ks.resource.file else set()
        for ref in (ks.post_build or {}).get("substituteFrom") or []:
            if isinstance(ref, dict):
                res = self.pool.get((str(ref.get("kind") or ""), ks.namespace, str(ref.get("name") or "")))
                if res is not None and res.file:
                    out.add(res.file)
        return out

    def _render_one(self, ks: FluxKustomization) -> RenderedKustomization:
        rk = super()._render_one(ks)
        facts = self.facts.get(ks.key)
        if facts is not None:
            self.reads[ks.key] = _files_of(facts) | self._inputs(ks)
        return rk


def _files_of(facts: Facts) -> frozenset[str]:
    """The repository files among the paths a render looked at (a link and the file it leads to)."""
    out: set[str] = set()
    for rel, (_link, where, kind, _content) in facts:
        if kind == "f":
            out.add(rel)
            if not where.startswith("../"):
                out.add(where)
    return frozenset(out)


def _scrub(finding: Finding, root: Path) -> Finding:
    """Findings of a temporary checkout must not mention its directory."""
    prefix = str(root) + os.sep
    if prefix in finding.message:
        finding.message = finding.message.replace(prefix, "")
    return finding


def _failure(exc: HomeopsError, cluster: str | None, root: Path) -> Finding:
    message = exc.what + (f" ({exc.hint})" if exc.hint else "")
    return _scrub(REVISION_UNRENDERABLE.finding(message, file=exc.file, line=exc.line, cluster=cluster), root)


@dataclass
class Discovery:
    """The clusters found at one revision, and the profile they were found with."""

    profile: Profile
    clusters: list[Cluster]
    problems: list[Finding]


def discover(root: Path, cluster: str | None) -> Discovery:
    """``--cluster`` resolved at this revision, else every cluster of it; problems become findings."""
    root = root.resolve()
    problems: list[Finding] = []
    try:
        profile = load_profile(root)
    except HomeopsError as exc:
        problems.append(_failure(exc, None, root))
        profile = DEFAULT
    try:
        clusters = (
            discover_clusters(root, profile) if cluster is None else [resolve_cluster(root, profile, cluster)]
        )
    except HomeopsError as exc:
        problems.append(_failure(exc, cluster, root))
        clusters = []
    return Discovery(profile, clusters, problems)


def render_side(
    root: Path,
    label: str,
    discovery: Discovery,
    *,
    also: Sequence[Cluster] = (),
    cli_vars: Mapping[str, str] | ClusterVars | None = None,
    parses: ParseCache | None = None,
    memo: RenderMemo | None = None,
    known_ids: dict[str, str] | None = None,
    local_urls: set[str] | None = None,
    enable_helm: bool = False,
    progress: Progress | None = None,
    settings: RenderSettings = DEFAULT_SETTINGS,
    scope: Path | None = None,
) -> Side:
    """Render the clusters found at ``root`` (and those of ``also`` whose directory exists here).

    A cluster that fails to render is recorded in ``Side.failed``, never raised. With ``enable_helm``
    the memo must not share objects (Helm expansion changes rendered objects afterwards). ``scope`` is
    the repository a checkout stands for: its persistent parses, builds and renders are shared.
    """
    root = root.resolve()
    side = Side(label, problems=list(discovery.problems))
    files = ContentFileCache(root, parses, known_ids, scope=scope)
    names = {c.name for c in discovery.clusters}
    clusters = [
        *discovery.clusters,
        *(c for c in also if c.name not in names and os.path.isdir(root / c.directory)),
    ]
    for c in clusters:
        renderer = ReusingRenderer(
            root,
            c,
            memo=memo,
            files=files,
            local_urls=local_urls,
            profile=discovery.profile,
            cli_vars=cli_vars,
            progress=progress,
            settings=settings,
        )
        try:
            result = renderer.render()
        except HomeopsError as exc:
            side.failed[c.name] = _failure(exc, c.name, root)
            continue
        for finding in result.findings:
            _scrub(finding, root)
        side.reads.update(((c.name, key), files) for key, files in renderer.reads.items())
        if enable_helm:
            _expand_helm(root, result, side, settings)
        side.renders[c.name] = result
    return side


def _expand_helm(root: Path, result: ClusterRender, side: Side, settings: RenderSettings) -> None:
    try:  # lazy: Helm rendering is optional and only --enable-helm needs it
        from homeops.flux import helm_expand
    except ImportError:
        raise HomeopsError(
            "--enable-helm needs Helm rendering, which this installation lacks", hint="drop --enable-helm"
        ) from None
    try:
        helm_expand.expand(root, result, list(result.rendered.values()), settings=settings)
    except HomeopsError as exc:
        side.problems.append(_failure(exc, result.cluster.name, root))
