"""The rendered difference between two revisions: objects paired by cluster/kind/namespace/name.

:func:`compare` compares two rendered sides (:mod:`homeops.diff.sides`; which revisions and how they
are rendered: :mod:`homeops.diff.revisions`): added, removed and modified objects with a unified diff
of their YAML, changed images, danger notes, and the render problems only one side has. Objects of
a Flux Kustomization that failed to render on either side are not compared (they would all look
removed or added); that is reported instead.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from homeops.core import redact, yamlemit
from homeops.core.codes import CHART_RENDER_FAILED, CHART_SOURCE_UNAVAILABLE
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.yamlio import same
from homeops.diff.blast import BlastRadius
from homeops.diff.danger import Danger, find_dangers, ordered
from homeops.diff.imagediff import image_changes, images_of, object_label
from homeops.diff.lint import review_signals
from homeops.diff.model import Change, ImageChange, Key, NotCompared, Placed
from homeops.diff.sides import Side
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.resource import Resource

HR_NAME_LABEL = "helm.toolkit.fluxcd.io/name"
HR_NAMESPACE_LABEL = "helm.toolkit.fluxcd.io/namespace"


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
