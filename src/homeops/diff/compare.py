"""The rendered difference between two revisions: objects paired by cluster/kind/namespace/name.

``diff_repository`` resolves the revisions, renders each side (:mod:`homeops.diff.sides`) and
compares them (:func:`compare`): added, removed and modified objects with a unified diff of their
YAML, changed images, danger notes, and the render problems only one side has. Objects of a Flux
Kustomization that failed to render on either side are not compared (they would all look removed
or added); that is reported instead.
"""

from __future__ import annotations

import difflib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from homeops.core import git, redact, yamlemit
from homeops.core.codes import CHART_RENDER_FAILED, CHART_SOURCE_UNAVAILABLE, REVISION_UNRENDERABLE
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.git.caches import ParseCache
from homeops.core.git.materialise import BackgroundCheckout, background_checkout, scratch
from homeops.core.profile import DEFAULT
from homeops.core.variables import ClusterVars
from homeops.core.yamlio import same
from homeops.diff.blast import BlastRadius, blast_radius
from homeops.diff.danger import Danger, find_dangers, ordered
from homeops.diff.imagediff import image_changes, images_of, object_label
from homeops.diff.lint import review_signals
from homeops.diff.model import Change, ImageChange, Key, NotCompared, Placed
from homeops.diff.sides import Discovery, RenderMemo, Side, discover, render_side
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings
from homeops.kustomize.resource import Resource

HR_NAME_LABEL = "helm.toolkit.fluxcd.io/name"
HR_NAMESPACE_LABEL = "helm.toolkit.fluxcd.io/namespace"

Progress = Callable[[str], None]
Inspect = Callable[[str, Path, Side], None]


@dataclass
class DiffOptions:
    base: str | None = None  # default HEAD
    head: str | None = None  # default: the working tree
    merge_base: bool = False
    cluster: str | None = None
    strip_attrs: list[str] = field(default_factory=list)
    cli_vars: Mapping[str, str] | ClusterVars = field(default_factory=dict)  # values only the cluster has
    enable_helm: bool = False
    reuse: bool = True  # reuse renders across sides (off: for measuring)
    in_place: bool = True  # render a head equal to the clean working tree in place (off: for measuring)
    show_secrets: bool = False  # True: Secret values and PEM blocks unredacted (local use only)
    inspect: Inspect | None = None
    """Called as ``inspect("base"|"head", directory, side)`` while ``directory`` holds that revision
    (the API runs the rules there for the findings a change introduces and fixes)."""
    settings: RenderSettings = DEFAULT_SETTINGS  # --strict-substitution, --sources, Helm options
    base_path: Path | None = None  # --path-orig: the base is this directory (a copy of the repository)


@dataclass
class DiffResult:
    base_label: str
    head_label: str
    changes: list[Change] = field(default_factory=list)
    images: list[ImageChange] = field(default_factory=list)
    dangers: list[Danger] = field(default_factory=list)
    render_errors: list[tuple[str, Finding]] = field(
        default_factory=list
    )  # (side, finding) only that side has
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    blast_radius: list[BlastRadius] = field(default_factory=list)  # per changed source file
    unattributed: list[str] = field(default_factory=list)  # changes no changed file explains
    findings_introduced: list[Finding] | None = None  # None: the rules were not run
    findings_fixed: list[Finding] | None = None
    base_images: frozenset[str] = frozenset()  # every image the compared objects of each side use
    head_images: frozenset[str] = frozenset()
    unrendered: list[NotCompared] = field(default_factory=list)  # what could not be compared, and why
    shared_errors: list[Finding] = field(default_factory=list)  # render errors both sides have
    kustomizations: frozenset[str] = frozenset()  # namespace/name of every Flux Kustomization, both sides
    helmreleases: frozenset[str] = frozenset()  # namespace/name of every HelmRelease, both sides

    @property
    def new_head_errors(self) -> list[Finding]:
        return [f for side, f in self.render_errors if side == "head"]

    def added_images(self, *, include_removed: bool = False) -> list[str]:
        """Images the head uses and the base does not (what a change makes the cluster pull), sorted;
        with ``include_removed`` also those only the base uses."""
        out = self.head_images - self.base_images
        if include_removed:
            out |= self.base_images - self.head_images
        return sorted(out)

    def summary(self) -> list[dict[str, Any]]:
        """Counts per cluster and kind."""
        counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"added": 0, "removed": 0, "modified": 0}
        )
        for c in self.changes:
            counts[(c.cluster, c.kind)][c.change] += 1
        return [{"cluster": cl, "kind": kind, **n} for (cl, kind), n in sorted(counts.items())]

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base_label,
            "head": self.head_label,
            "changes": [c.as_json() for c in self.changes],
            "images": [i.as_json() for i in self.images],
            "dangers": [d.as_json() for d in self.dangers],
            "summary": self.summary(),
            "render_errors": [{"side": side, **f.as_json()} for side, f in self.render_errors],
            "notes": self.notes,
            "blast_radius": {
                "files": [b.as_json() for b in self.blast_radius],
                "unattributed": list(self.unattributed),
            },
            "findings": None
            if self.findings_introduced is None
            else {
                "introduced": [f.as_json() for f in self.findings_introduced],
                "fixed": [f.as_json() for f in self.findings_fixed or []],
            },
            "unrendered": [u.as_json() for u in self.unrendered],
            "shared_errors": [f.as_json() for f in self.shared_errors],
        }


# ----------------------------------------------------------------------------------------------
# Stripping and printing objects


def strip_attrs(node: Any, attrs: frozenset[str]) -> Any:
    """A copy of ``node`` without any mapping key named in ``attrs`` (labels, annotations, anywhere)."""
    if isinstance(node, dict):
        return {k: strip_attrs(v, attrs) for k, v in node.items() if k not in attrs}
    if isinstance(node, list):
        return [strip_attrs(v, attrs) for v in node]
    return node


def unified(before: str | None, after: str | None, label: str) -> str:
    a = before.splitlines(keepends=True) if before is not None else []
    b = after.splitlines(keepends=True) if after is not None else []
    lines = difflib.unified_diff(
        a,
        b,
        fromfile=f"a/{label}" if before is not None else "/dev/null",
        tofile=f"b/{label}" if after is not None else "/dev/null",
        n=3,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def helmrelease_of(res: Resource) -> str | None:
    """``namespace/name`` of the HelmRelease an object is or came from."""
    if is_helmrelease(res.obj):
        return f"{res.namespace}/{res.name}" if res.namespace else res.name
    labels = res.labels
    name = labels.get(HR_NAME_LABEL)
    if name:
        namespace = labels.get(HR_NAMESPACE_LABEL) or res.namespace
        return f"{namespace}/{name}" if namespace else str(name)
    return None


# ----------------------------------------------------------------------------------------------
# Comparing two rendered sides


def _failed_kustomizations(side: Side) -> dict[str, set[str]]:
    return {
        name: {key for key, rk in render.rendered.items() if rk.error is not None}
        for name, render in side.renders.items()
    }


def index_side(
    side: Side,
    skip: Mapping[str, set[str]],
    clusters: Iterable[str],
    failed_charts: Mapping[str, set[str]] | None = None,
) -> dict[Key, list[Placed]]:
    """Every object of the given clusters, except those of skipped Kustomizations and those a chart
    that failed on either side renders (``failed_charts``: cluster -> HelmReleases)."""
    out: dict[Key, list[Placed]] = defaultdict(list)
    for cluster in clusters:
        render = side.renders.get(cluster)
        if render is None:
            continue
        skipped = skip.get(cluster, set())
        for key, rk in render.rendered.items():
            if key in skipped:
                continue
            charts = (failed_charts or {}).get(cluster)
            for res in rk.resources:
                if charts and not is_helmrelease(res.obj) and helmrelease_of(res) in charts:
                    continue
                placed = Placed(cluster, res, rk.ks)
                out[placed.key].append(placed)
    return out


def _why_unrendered(render: ClusterRender, key: str) -> str:
    """The error of a Kustomization that did not render, as its finding says it (else the exception)."""
    own = [f.message for f in render.findings if f.severity == "error" and f.extra.get("ks") == key]
    if own:
        return own[0]
    error = render.rendered[key].error
    return error.one_line() if isinstance(error, HomeopsError) else str(error)


_CHART_FAILURES = frozenset({CHART_SOURCE_UNAVAILABLE.id, CHART_RENDER_FAILED.id})


def _failed_releases(
    base: Side, head: Side, clusters: Iterable[str], result: DiffResult
) -> dict[str, set[str]]:
    """HelmReleases whose chart did not render on a side (``--enable-helm``): what their charts render
    is not compared (it would all look added or removed); said in notes and ``unrendered``."""
    out: dict[str, set[str]] = defaultdict(set)
    for cluster in clusters:
        reasons: dict[str, list[str]] = defaultdict(list)
        for label, side in (("base", base), ("head", head)):
            render = side.renders.get(cluster)
            for f in render.findings if render is not None else []:
                if f.rule in _CHART_FAILURES and f.kind == "HelmRelease" and f.name:
                    release = f"{f.namespace or 'default'}/{f.name}"
                    if not any(r.startswith(label + ": ") for r in reasons[release]):
                        reasons[release].append(f"{label}: {f.message}")
        for release, why in sorted(reasons.items()):
            out[cluster].add(release)
            sides = " and ".join(w.split(":", 1)[0] for w in why)
            result.notes.append(
                f"{cluster}: the chart of HelmRelease {release} did not render at {sides}: "
                "what it renders is not compared"
            )
            result.unrendered.append(NotCompared(cluster, "HelmRelease", release, sides, "; ".join(why)))
    return out


def _pair(base: list[Placed], head: list[Placed]) -> list[tuple[Placed | None, Placed | None]]:
    if len(base) <= 1 and len(head) <= 1:
        return [(base[0] if base else None, head[0] if head else None)]
    pairs: list[tuple[Placed | None, Placed | None]] = []
    rest = list(head)
    for b in base:
        match = next((h for h in rest if h.ks.key == b.ks.key), None) or (rest[0] if rest else None)
        if match is not None:
            rest.remove(match)
        pairs.append((b, match))
    pairs.extend((None, h) for h in rest)
    return pairs


def _finding_key(f: Finding) -> tuple[str, str, str, str]:
    return (f.cluster or "", f.rule, f.file or "", f.message)


def _side_errors(side: Side) -> list[Finding]:
    out = list(side.problems) + list(side.failed.values())
    for render in side.renders.values():
        out.extend(f for f in render.findings if f.severity == "error")
    return out


def compare(base: Side, head: Side, strip: Iterable[str] = (), *, show_secrets: bool = False) -> DiffResult:
    """Pair the objects of two rendered sides and describe what changed.

    Objects are compared as rendered; what a change shows (its diff, and the objects it carries for
    danger notes and API callers) is redacted (:mod:`homeops.core.redact`) unless ``show_secrets``.
    """
    result = DiffResult(base.label, head.label)
    attrs = frozenset(a.strip() for a in strip if a.strip())
    clusters = sorted(set(base.renders) | set(head.renders) | set(base.failed) | set(head.failed))
    compared = []
    for cluster in clusters:
        broken = [label for label, side in (("base", base), ("head", head)) if cluster in side.failed]
        if broken:
            why = "; ".join(
                f"{label}: {side.failed[cluster].message}"
                for label, side in (("base", base), ("head", head))
                if cluster in side.failed
            )
            result.notes.append(
                f"cluster {cluster} did not render at {' and '.join(broken)}: not compared ({why})"
            )
            result.unrendered.append(NotCompared(cluster, "cluster", "", " and ".join(broken), why))
        else:
            compared.append(cluster)
    skip: dict[str, set[str]] = defaultdict(set)
    for side_label, side in (("base", base), ("head", head)):
        for cluster, keys in _failed_kustomizations(side).items():
            for key in sorted(keys):
                if key not in skip[cluster]:
                    why = _why_unrendered(side.renders[cluster], key)
                    result.notes.append(
                        f"{cluster}: Flux Kustomization {key} did not render at {side_label}: "
                        f"its objects are not compared ({why})"
                    )
                    result.unrendered.append(NotCompared(cluster, "Kustomization", key, side_label, why))
                skip[cluster].add(key)
    failed_charts = _failed_releases(base, head, compared, result)
    b_index = index_side(base, skip, compared, failed_charts)
    h_index = index_side(head, skip, compared, failed_charts)
    for ident in sorted(set(b_index) | set(h_index)):
        for b, h in _pair(b_index.get(ident, []), h_index.get(ident, [])):
            change = _change(ident, b, h, attrs, show_secrets)
            if change is not None:
                result.changes.append(change)
    result.images = image_changes(result.changes)
    result.base_images = images_of(b_index)
    result.head_images = images_of(h_index)
    result.kustomizations = frozenset(k for s in (base, head) for r in s.renders.values() for k in r.rendered)
    result.helmreleases = frozenset(
        f"{p.res.namespace or 'default'}/{p.res.name}"
        for index in (b_index, h_index)
        for placed in index.values()
        for p in placed
        if is_helmrelease(p.res.obj)
    )
    result.dangers = ordered(find_dangers(result.changes, base, head) + review_signals(result.changes, head))
    base_errors = {_finding_key(f) for f in _side_errors(base)}
    head_errors = {_finding_key(f) for f in _side_errors(head)}
    result.render_errors = [("base", f) for f in _side_errors(base) if _finding_key(f) not in head_errors]
    result.render_errors += [("head", f) for f in _side_errors(head) if _finding_key(f) not in base_errors]
    result.shared_errors = [f for f in _side_errors(head) if _finding_key(f) in base_errors]
    return result


def _change(
    key: Key, b: Placed | None, h: Placed | None, attrs: frozenset[str], show_secrets: bool
) -> Change | None:
    cluster, kind, namespace, name = key
    if b is not None and h is not None and b.res.obj is h.res.obj:
        return None
    before = None if b is None else strip_attrs(b.res.obj, attrs) if attrs else b.res.obj
    after = None if h is None else strip_attrs(h.res.obj, attrs) if attrs else h.res.obj
    if before is not None and after is not None and same(before, after):
        return None
    if not show_secrets:
        shown_b, shown_h = redact.redact_pair(b.res.obj if b else None, h.res.obj if h else None)
        before, after = redact.redact_pair(before, after) if attrs else (shown_b, shown_h)
        b = _with_object(b, shown_b) if b is not None else None
        h = _with_object(h, shown_h) if h is not None else None
    before_text = None if before is None else yamlemit.dump(before)
    after_text = None if after is None else yamlemit.dump(after)
    text = unified(before_text, after_text, object_label(key))
    if not text:
        return None
    kind_of = (
        "modified"
        if before is not None and after is not None
        else "added"
        if after is not None
        else "removed"
    )
    now = h if h is not None else b
    assert now is not None
    return Change(
        cluster,
        kind,
        namespace,
        name,
        kind_of,
        now.ks.key,
        helmrelease_of(now.res),
        text,
        now.res.where(),
        base=b,
        head=h,
        base_yaml=before_text,
        head_yaml=after_text,
    )


def _with_object(placed: Placed, obj: dict[str, Any]) -> Placed:
    """``placed`` showing ``obj`` (a redacted copy) instead of the rendered object."""
    return Placed(placed.cluster, replace(placed.res, obj=obj), placed.ks)


# ----------------------------------------------------------------------------------------------
# Revisions


@dataclass
class Revisions:
    top: Path
    prefix: str
    base: str
    head: str | None  # None: the working tree
    base_label: str
    head_label: str
    current: str  # HEAD


def resolve_revisions(root: Path, options: DiffOptions) -> Revisions:
    """The repository, and the commits (or working tree) to compare; unknown revisions are errors."""
    top = git.toplevel(root)
    try:
        rel = root.resolve().relative_to(top).as_posix()
    except ValueError:
        raise HomeopsError(
            f"'{root}' is outside the Git repository {top}", hint="pass --path inside it"
        ) from None
    prefix = "" if rel == "." else rel
    base_ref = options.base or "HEAD"
    base, current, *rest = git.resolve_revisions(
        top, [base_ref, "HEAD", *([options.head] if options.head else [])]
    )
    head = rest[0] if rest else None
    if options.merge_base:
        base = git.merge_base(top, base, head or current)
        base_ref = f"merge-base({base_ref}, {options.head or 'HEAD'})"
    base_label = f"{base_ref} ({base[:7]})"
    head_label = f"{options.head} ({head[:7]})" if head and options.head else "working tree"
    return Revisions(top, prefix, base, head, base_label, head_label, current)


def diff_repository(root: Path, options: DiffOptions, progress: Progress | None = None) -> DiffResult:
    """Render both revisions of every cluster (or one) and compare them.

    The head is rendered in place when it is the working tree (or ``HEAD`` with a clean working tree),
    while the base is materialised in the background; the base then mostly reuses the head's renders.
    Otherwise both revisions share one temporary directory that switches between them.
    """
    started = time.perf_counter()
    if options.base_path is not None:
        return _diff_directories(root, options, progress, started)
    revs = resolve_revisions(root, options)
    if revs.head is not None and revs.head == revs.base:
        result = DiffResult(revs.base_label, revs.head_label)
        result.stats = {"seconds": round(time.perf_counter() - started, 3), "identical": True}
        return result
    parses = ParseCache()
    memo = RenderMemo() if options.reuse else None
    common = _side_options(options, parses, memo, git.remote_urls(revs.top), progress, revs.top)
    clean = (
        git.worktree_clean(revs.top, revs.prefix) if options.in_place and revs.head == revs.current else None
    )
    in_place = False
    if revs.head is None or clean is not None:
        with background_checkout(revs.top, revs.base, revs.prefix) as pending:  # started at once
            in_place = revs.head is None or (clean is not None and clean())
            if in_place:
                base, head = _diff_in_place(root, revs, options, common, pending)
    if not in_place:
        base, head = _diff_materialised(revs, options, common)
    result = compare(base, head, options.strip_attrs, show_secrets=options.show_secrets)
    result.blast_radius, result.unattributed = blast_radius(
        result.changes, base, head, git.changed_files(revs.top, revs.base, revs.head, revs.prefix)
    )
    result.stats = _stats(started, parses, memo, head_in_place=in_place)
    return result


def _diff_directories(
    root: Path, options: DiffOptions, progress: Progress | None, started: float
) -> DiffResult:
    """``--path-orig``: the base is another directory holding the repository (a second checkout, a
    worktree of the main branch), the head is ``root`` as it is; no Git revision is read."""
    assert options.base_path is not None
    base_root = options.base_path.resolve()
    if not base_root.is_dir():
        raise HomeopsError(
            f"--path-orig '{options.base_path}' is not a directory",
            hint="pass the directory of the other copy of the repository",
        )
    root = root.resolve()
    parses = ParseCache()
    memo = RenderMemo() if options.reuse else None
    urls = git.remote_urls(root) | git.remote_urls(base_root)
    common = _side_options(options, parses, memo, urls, progress)
    found_head = discover(root, options.cluster)
    found_base = discover(base_root, options.cluster)
    _check_clusters(options, found_base, found_head)
    head_label = f"{root.name} (--path)"
    base_label = f"{options.base_path} (--path-orig)"
    head = render_side(root, head_label, found_head, also=found_base.clusters, **common)
    base = render_side(base_root, base_label, found_base, also=found_head.clusters, **common)
    result = compare(base, head, options.strip_attrs, show_secrets=options.show_secrets)
    result.stats = _stats(started, parses, memo)
    return result


def _side_options(
    options: DiffOptions,
    parses: ParseCache,
    memo: RenderMemo | None,
    urls: set[str],
    progress: Progress | None,
    scope: Path | None = None,
) -> dict[str, Any]:
    """What :func:`render_side` takes for both sides of one diff (``scope``: the repository both
    stand for, whose persistent parses and builds they share)."""
    return {
        "cli_vars": options.cli_vars,
        "parses": parses,
        "memo": memo,
        "local_urls": urls,
        "enable_helm": options.enable_helm,
        "progress": progress,
        "settings": options.settings,
        "scope": scope,
    }


def _stats(started: float, parses: ParseCache, memo: RenderMemo | None, **more: Any) -> dict[str, Any]:
    return {
        "seconds": round(time.perf_counter() - started, 3),
        **more,
        "parses": {"hits": parses.hits, "misses": parses.misses},
        "renders": {"hits": memo.hits, "misses": memo.misses} if memo else None,
    }


def _diff_in_place(
    root: Path, revs: Revisions, options: DiffOptions, common: dict[str, Any], pending: BackgroundCheckout
) -> tuple[Side, Side]:
    """Head from the working tree, base from a background checkout."""
    root = root.resolve()
    found_head = discover(root, options.cluster)
    head = render_side(root, revs.head_label, found_head, **common)
    try:
        base_dir, base_ids = pending.wait()
    except git.GitError as exc:
        problem = REVISION_UNRENDERABLE.finding(exc.one_line())
        _check_clusters(options, Discovery(DEFAULT, [], [problem]), found_head)
        if options.inspect is not None:
            options.inspect("head", root, head)
        return Side(revs.base_label, problems=[problem]), head
    found_base = discover(base_dir, options.cluster)
    _check_clusters(options, found_base, found_head)
    base = render_side(
        base_dir, revs.base_label, found_base, also=found_head.clusters, known_ids=base_ids, **common
    )
    extra = [c for c in found_base.clusters if c.name not in head.renders and c.name not in head.failed]
    if extra:  # clusters only the base found: render them at head too when their directory is there
        more = render_side(root, revs.head_label, Discovery(found_head.profile, [], []), also=extra, **common)
        head.renders.update(more.renders)
        head.failed.update(more.failed)
        head.reads.update(more.reads)
    if options.inspect is not None:
        options.inspect("base", base_dir, base)
        options.inspect("head", root, head)
    return base, head


def _diff_materialised(revs: Revisions, options: DiffOptions, common: dict[str, Any]) -> tuple[Side, Side]:
    """Both sides from one temporary directory that switches from one revision to the other."""
    assert revs.head is not None
    with scratch(revs.top, revs.prefix, [revs.head, revs.base]) as work:

        def place(sha: str) -> tuple[dict[str, str] | None, Discovery]:
            try:
                ids = work.switch(sha)
            except git.GitError as exc:
                return None, Discovery(DEFAULT, [], [REVISION_UNRENDERABLE.finding(exc.one_line())])
            return ids, discover(work.directory, options.cluster)

        head_ids, found_head = place(revs.head)
        base_ids, found_base = place(revs.base)  # the directory now holds the base
        _check_clusters(options, found_base, found_head)
        base = (
            render_side(
                work.directory,
                revs.base_label,
                found_base,
                also=found_head.clusters,
                known_ids=base_ids,
                **common,
            )
            if base_ids is not None
            else Side(revs.base_label, problems=found_base.problems)
        )
        if options.inspect is not None and base_ids is not None:
            options.inspect("base", work.directory, base)
        if head_ids is not None:
            head_ids = work.switch(revs.head)
            head = render_side(
                work.directory,
                revs.head_label,
                found_head,
                also=found_base.clusters,
                known_ids=head_ids,
                **common,
            )
            if options.inspect is not None:
                options.inspect("head", work.directory, head)
        else:
            head = Side(revs.head_label, problems=found_head.problems)
    return base, head


def _check_clusters(options: DiffOptions, found_base: Discovery, found_head: Discovery) -> None:
    """A diff needs a cluster on at least one side."""
    if found_base.clusters or found_head.clusters:
        return
    if options.cluster is not None:
        why = next((f.message for f in found_head.problems + found_base.problems), "")
        raise HomeopsError(
            f"cluster '{options.cluster}' is at neither revision: {why}",
            hint="pass a cluster name or directory that exists",
        )
    if not (found_base.problems or found_head.problems):
        raise HomeopsError(
            "no cluster found at either revision (no clusters/<name>/flux directory holds "
            "Flux Kustomizations)",
            hint="pass --cluster DIR or --path to the repository",
        )
