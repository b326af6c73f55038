"""The app-template chart and version the repository deploys (what ``new app`` writes), whether it
gives each HelmRelease an OCIRepository of its own (when most share theirs, HO001 does not apply), and
whether those select the chart layer (when most do not, HO027 does not ask for it)."""

from __future__ import annotations

import re
from collections import Counter

from homeops.core import codes
from homeops.flux.model import is_helmrelease
from homeops.kustomize.resource import Resource
from homeops.rules.conventions.model import TEMPLATED, Convention
from homeops.rules.helpers import dig

APP_TEMPLATE = "app-template"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def chart_sources(objects: list[Resource]) -> list[Convention]:
    """Whether the repository gives each HelmRelease an OCIRepository of its own (the document's way):
    when most releases share theirs, HO001 does not apply."""
    users: Counter[tuple[str, str]] = Counter()
    for res in objects:
        ref = dig(res.obj, "spec", "chartRef") if is_helmrelease(res.obj) else None
        if isinstance(ref, dict) and ref.get("kind") == "OCIRepository":
            namespace = str(ref.get("namespace") or res.namespace or "default")
            users[(namespace, str(ref.get("name") or ""))] += 1
    total = sum(users.values())
    shared = sum(n for n in users.values() if n > 1)
    if not total or shared * 2 <= total:
        return []
    return [
        Convention(
            "rules",
            {codes.CHART_SOURCE.id: False},
            f"{shared} of {total} HelmReleases share their OCIRepository with others: the repository does not "
            "give each app its own",
        )
    ]


def layer_selectors(objects: list[Resource]) -> list[Convention]:
    """Whether the OCIRepositories HelmReleases take their chart from select the chart layer (the
    document's way): when most do not (source-controller then extracts the first layer, the chart for
    a chart pushed with ``helm push``), HO027 does not ask for it."""
    charts: set[tuple[str, str]] = set()
    for res in objects:
        ref = dig(res.obj, "spec", "chartRef") if is_helmrelease(res.obj) else None
        if isinstance(ref, dict) and ref.get("kind") == "OCIRepository":
            charts.add((str(ref.get("namespace") or res.namespace or "default"), str(ref.get("name") or "")))
    sources = [
        r for r in objects if r.kind == "OCIRepository" and (r.namespace or "default", r.name) in charts
    ]
    without = sum(1 for r in sources if not isinstance(dig(r.obj, "spec", "layerSelector"), dict))
    if not sources or without * 2 <= len(sources):
        return []
    return [
        Convention(
            "helm_layer_selector",
            False,
            f"{without} of {len(sources)} OCIRepositories of charts have no layerSelector: the repository "
            "does not select the chart layer",
        )
    ]


def app_template(objects: list[Resource]) -> list[Convention]:
    versions: Counter[str] = Counter()
    urls: Counter[str] = Counter()
    for res in objects:
        if res.kind == "OCIRepository" and str(dig(res.obj, "spec", "url") or "").endswith(
            "/" + APP_TEMPLATE
        ):
            tag = dig(res.obj, "spec", "ref", "tag")
            urls[str(dig(res.obj, "spec", "url"))] += 1
            if tag and not TEMPLATED.search(str(tag)):
                versions[str(tag)] += 1
        elif is_helmrelease(res.obj) and dig(res.obj, "spec", "chart", "spec", "chart") == APP_TEMPLATE:
            version = dig(res.obj, "spec", "chart", "spec", "version")
            if version and not TEMPLATED.search(str(version)):
                versions[str(version)] += 1
    out = []
    if urls:
        url, n = urls.most_common(1)[0]
        out.append(
            Convention("app_template_chart", url, f"{n} OCIRepositories serve app-template from {url}")
        )
    if versions:
        version = max(versions, key=lambda v: (versions[v], _version_key(v)))
        out.append(
            Convention(
                "app_template_version",
                version,
                f"{versions[version]} of {sum(versions.values())} app-template uses pin {version}",
            )
        )
    return out
