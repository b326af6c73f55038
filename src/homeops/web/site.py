"""``homeops report``: a static site of the repository as Flux applies it.

Pages (every one self-contained, nothing fetched, so the directory works offline and as a CI
artifact): ``index.html`` (the clusters and what they hold), ``cluster-<name>.html`` per cluster
(the Kustomization tree and the ``dependsOn`` graph drawn by :mod:`homeops.web.graph`, and every
Kustomization), ``apps.html`` (per app: namespace, chart and version, images, routes, secrets,
backups), ``findings.html`` (the rules' findings grouped by rule) and ``images.html`` (images by
registry with their pin status). All data comes from :class:`homeops.api.Workspace`.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from homeops.api import AppInfo, CheckResult, ClusterInfo, ImageInfo, KustomizationInfo, Workspace
from homeops.web.graph import dependency_svg, tree_svg
from homeops.web.page import document, esc

Nav = list[tuple[str, str, bool]]


@dataclass
class ClusterData:
    info: ClusterInfo
    kustomizations: list[KustomizationInfo]
    apps: list[AppInfo]
    objects: int
    releases: int


@dataclass
class Site:
    """The pages of the report, by file name, and how long gathering and drawing took."""

    pages: dict[str, str]
    stats: dict[str, float] = field(default_factory=dict)

    def write(self, directory: str | Path) -> list[Path]:
        """Write every page into ``directory`` (created if needed), each atomically."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in sorted(self.pages.items()):
            target = out / name
            temporary = out / f".{name}.{os.getpid()}.tmp"
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, target)
            written.append(target)
        return written


def cluster_page(name: str) -> str:
    return f"cluster-{name}.html"


def _nav(clusters: Sequence[ClusterData], current: str, extra: Sequence[tuple[str, str]]) -> Nav:
    links = [("Overview", "index.html")]
    links += [(f"cluster {c.info.name}", cluster_page(c.info.name)) for c in clusters]
    links += [("Apps", "apps.html"), ("Findings", "findings.html"), ("Images", "images.html"), *extra]
    return [(text, href, href == current) for text, href in links]


def _badge(text: str, cls: str) -> str:
    return f'<span class="badge {cls}">{esc(text)}</span>'


def _tiles(items: Sequence[tuple[str, object]]) -> str:
    return '<div class="tiles">' + "".join(
        f'<div class="tile"><b>{esc(value)}</b>{esc(label)}</div>' for label, value in items
    ) + "</div>"  # fmt: skip


def _table(
    table_id: str, headers: Sequence[str], rows: Sequence[str], *, filter_label: str | None = None
) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    tool = (
        f'<div class="toolbar"><input class="filter" type="search" data-filter="{esc(table_id)}" '
        f'placeholder="{esc(filter_label)} (/)" aria-label="{esc(filter_label)}">'
        f'<span class="muted" id="{esc(table_id)}-count"></span></div>'
        if filter_label
        else ""
    )
    return (
        f'{tool}<div class="scroll"><table class="grid" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _severity_counts(check: CheckResult, cluster: str | None = None) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in check.findings:
        if cluster is None or f.cluster == cluster:
            counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def _index(
    clusters: Sequence[ClusterData], check: CheckResult, images: Sequence[ImageInfo], root: Path
) -> str:
    counts = _severity_counts(check)
    apps = sum(len(c.apps) for c in clusters)
    unpinned = len({i.image for i in images if not i.pinned})
    body = [
        '<main class="site">',
        f"<h2>{esc(root.name)}</h2>",
        _tiles(
            [
                ("clusters", len(clusters)),
                ("Flux Kustomizations", sum(len(c.kustomizations) for c in clusters)),
                ("apps", apps),
                ("HelmReleases", sum(c.releases for c in clusters)),
                ("rendered objects", sum(c.objects for c in clusters)),
                ("distinct images", len({i.image for i in images})),
                ("unpinned images", unpinned),
                ("errors", counts["error"]),
                ("warnings", counts["warning"]),
            ]
        ),
    ]
    rows = []
    for c in clusters:
        cc = _severity_counts(check, c.info.name)
        failed = sum(1 for k in c.kustomizations if k.status == "error")
        suspended = sum(1 for k in c.kustomizations if k.suspend)
        rows.append(
            f'<tr class="cluster" data-cluster="{esc(c.info.name)}"><td><a href="{cluster_page(c.info.name)}">'
            f"{esc(c.info.name)}</a></td><td><code>{esc(c.info.directory)}</code></td>"
            f'<td class="num">{len(c.kustomizations)}</td><td class="num">{failed}</td><td class="num">{suspended}</td>'
            f'<td class="num">{len(c.apps)}</td><td class="num">{c.releases}</td><td class="num">{c.objects}</td>'
            f'<td class="num sev-error">{cc["error"]}</td><td class="num sev-warning">{cc["warning"]}</td></tr>'
        )
    body.append("<h2>Clusters</h2>")
    body.append(
        _table(
            "clusters",
            [
                "cluster",
                "directory",
                "Kustomizations",
                "failed",
                "suspended",
                "apps",
                "HelmReleases",
                "objects",
                "errors",
                "warnings",
            ],
            rows,
        )
    )
    body.append("</main>")
    return "".join(body)


def _cluster(c: ClusterData) -> str:
    kss = c.kustomizations
    label_ns = len({k.namespace for k in kss}) > 1
    edges = sum(len(k.depends_on) for k in kss)
    rows = []
    for k in kss:
        key = f"{k.namespace}/{k.name}"
        status = "suspended" if k.suspend else k.status
        cls = {"error": "sev-error", "suspended": "sev-warning", "external": "muted"}.get(status, "ok")
        deps = " ".join(f'<a class="pill" href="#ks-{esc(d)}">{esc(d)}</a>' for d in k.depends_on)
        rows.append(
            f'<tr id="ks-{esc(key)}" class="ks" data-ks="{esc(key)}"><td><code>{esc(key)}</code></td>'
            f"<td><code>{esc(k.path)}</code></td><td>{_badge(status, cls)}</td><td>{deps}</td>"
            f'<td class="num">{k.objects}</td><td><code>{esc(k.parent or "")}</code></td>'
            f"<td><code>{esc(k.source)}</code></td></tr>"
        )
    legend = (
        '<div class="legend"><span>arrows point from a Kustomization to the ones that wait for it '
        "(<code>dependsOn</code>)</span><span>red border: render error</span><span>dashed: suspended</span>"
        "<span>grey: external source</span></div>"
    )
    return "".join(
        [
            '<main class="site">',
            f"<h2>cluster {esc(c.info.name)} <span class=muted>(<code>{esc(c.info.directory)}</code>)</span></h2>",
            _tiles(
                [
                    ("Flux Kustomizations", len(kss)),
                    ("dependsOn edges", edges),
                    ("apps", len(c.apps)),
                    ("objects", c.objects),
                ]
            ),
            "<h2>dependsOn graph</h2>",
            legend,
            f'<div class="scroll" id="deps">{dependency_svg(kss, namespaces=label_ns)}</div>',
            "<h2>Kustomization tree</h2>",
            '<div class="legend"><span>each Kustomization under the one whose render applies it</span></div>',
            f'<div class="scroll" id="tree">{tree_svg(kss, namespaces=label_ns)}</div>',
            "<h2>Kustomizations</h2>",
            _table(
                "kustomizations",
                ["Kustomization", "path", "status", "dependsOn", "objects", "parent", "source"],
                rows,
                filter_label="filter Kustomizations",
            ),
            "</main>",
        ]
    )


def short_image(image: str) -> str:
    """``repo:tag@sha256:0123456789ab…``: a digest shortened for reading (the title holds it whole)."""
    name, at, digest = image.partition("@")
    return f"{name}@{digest[:19]}…" if at and len(digest) > 19 else image


def _list(items: Sequence[str]) -> str:
    return "".join(items) or '<span class="muted">—</span>'


def _app_row(app: AppInfo) -> str:
    charts = _list(
        [
            f"<div><code>{esc(chart or '?')}</code> <b>{esc(version or '?')}</b></div>"
            for _hr, chart, version in app.charts
        ]
    )
    images = _list(
        [
            f'<div class="pill" title="{esc(image)}"><code>{esc(short_image(image))}</code> '
            f"{_badge('pinned', 'ok') if pinned else _badge('unpinned', 'sev-warning')}</div>"
            for image, pinned in app.images
        ]
    )
    routes = _list(
        [
            f'<div><span class="exp-{esc(r.exposure)}">{esc(r.exposure)}</span> {esc(", ".join(r.hosts) or r.name)} '
            f'<span class="muted">via {esc(r.target or "?")}</span></div>'
            for r in app.routes
        ]
    )
    secrets = _list(
        [
            f'<div>{esc(s.kind)}: <code>{esc(s.name)}</code> <span class="muted">{esc(s.detail)}</span></div>'
            for s in app.secrets
        ]
    )
    backups = [
        f'<div>{esc(b.kind)}: <code>{esc(b.covers)}</code> <span class="muted">{esc(b.detail)}</span></div>'
        for b in app.backups
    ]
    backups += [f'<div class="sev-warning">no backup: <code>{esc(c)}</code></div>' for c in app.unprotected]
    key = f"{app.cluster}/{app.ks}"
    return (
        f'<tr id="app-{esc(key)}" class="app" data-cluster="{esc(app.cluster)}" data-ks="{esc(app.ks)}" '
        f'data-exposure="{esc(app.exposure)}"><td><a href="{cluster_page(app.cluster)}#ks-{esc(app.ks)}">'
        f"{esc(app.name)}</a>{' ' + _badge('suspended', 'sev-warning') if app.suspend else ''}"
        f'<div class="muted">{esc(app.cluster)}</div></td><td>{esc(app.namespace)}</td><td>{charts}</td>'
        f"<td>{images}</td><td>{routes}</td><td>{secrets}</td><td>{_list(backups)}</td></tr>"
    )


def _apps(clusters: Sequence[ClusterData]) -> str:
    rows = [_app_row(app) for c in clusters for app in c.apps]
    exposed = sum(1 for c in clusters for a in c.apps if a.exposure == "external")
    unprotected = sum(1 for c in clusters for a in c.apps if a.unprotected)
    return "".join(
        [
            '<main class="site"><h2>Apps</h2>',
            _tiles(
                [
                    ("apps", len(rows)),
                    ("reachable from outside", exposed),
                    ("with unprotected claims", unprotected),
                ]
            ),
            _table(
                "apps",
                ["app", "namespace", "chart and version", "images", "routes", "secrets", "backup"],
                rows,
                filter_label="filter apps",
            ),
            "</main>",
        ]
    )


def _findings(check: CheckResult, ws: Workspace) -> str:
    rules = ws.rules()
    by_rule: dict[str, list[str]] = defaultdict(list)
    severities: dict[str, str] = {}
    for f in check.findings:
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
        by_rule[f.rule].append(
            f'<li class="finding" data-rule="{esc(f.rule)}"><span class="badge sev-{esc(f.severity)}">{esc(f.severity)}</span> '
            f'<code>{esc(where)}</code> <span class="muted">{esc(f.cluster or "")}</span><div>{esc(f.message)}</div></li>'
        )
        severities.setdefault(f.rule, f.severity)
    rows = []
    for rule_id in sorted(by_rule, key=lambda r: ({"error": 0, "warning": 1}.get(severities[r], 2), r)):
        rule = rules.get(rule_id)
        title = rule.title if rule is not None else ""
        items = by_rule[rule_id]
        rows.append(
            f'<tr class="rule" id="rule-{esc(rule_id)}" data-rule="{esc(rule_id)}" data-count="{len(items)}"><td><b>{esc(rule_id)}</b></td>'
            f"<td>{esc(title)}</td><td>{_badge(severities[rule_id], 'sev-' + severities[rule_id])}</td>"
            f'<td class="num">{len(items)}</td><td><details><summary>{len(items)} finding{"s" if len(items) != 1 else ""}'
            f'</summary><ul class="plain">{"".join(items)}</ul></details></td></tr>'
        )
    counts = check.summary
    return "".join(
        [
            '<main class="site"><h2>Findings by rule</h2>',
            _tiles(
                [
                    ("findings", len(check.findings)),
                    ("rules", len(by_rule)),
                    ("errors", counts.get("error", 0)),
                    ("warnings", counts.get("warning", 0)),
                    ("info", counts.get("info", 0)),
                ]
            ),
            _table(
                "rules",
                ["rule", "title", "severity", "count", "findings"],
                rows,
                filter_label="filter findings",
            ),
            "</main>",
        ]
    )


def _images(images: Sequence[ImageInfo]) -> str:
    by_registry: dict[str, dict[str, list[ImageInfo]]] = defaultdict(lambda: defaultdict(list))
    for use in images:
        by_registry[use.registry][use.image].append(use)
    rows = []
    for registry in sorted(by_registry):
        refs = by_registry[registry]
        pinned = sum(1 for ref in refs if refs[ref][0].pinned)
        for ref in sorted(refs):
            uses = refs[ref]
            places = "".join(
                f'<div><code>{esc(u.source)}</code> <span class="muted">{esc(u.cluster)} {esc(u.kind)} '
                f"{esc(u.name)}{' (' + esc(u.origin) + ')' if u.origin != 'workload' else ''}</span></div>"
                for u in uses
            )
            badge = _badge("pinned", "ok") if uses[0].pinned else _badge("unpinned", "sev-warning")
            rows.append(
                f'<tr class="image" data-registry="{esc(registry)}" data-image="{esc(ref)}" '
                f'data-pinned="{str(uses[0].pinned).lower()}"><td><b>{esc(registry)}</b>'
                f'<div class="muted">{pinned}/{len(refs)} pinned</div></td>'
                f'<td title="{esc(ref)}"><code>{esc(short_image(ref))}</code></td>'
                f"<td>{badge}</td><td>{places}</td></tr>"
            )
    distinct = {i.image for i in images}
    return "".join(
        [
            '<main class="site"><h2>Images by registry</h2>',
            _tiles(
                [
                    ("registries", len(by_registry)),
                    ("distinct images", len(distinct)),
                    ("pinned", len({i.image for i in images if i.pinned})),
                    ("unpinned", len({i.image for i in images if not i.pinned})),
                ]
            ),
            _table("images", ["registry", "image", "pin", "used by"], rows, filter_label="filter images"),
            "</main>",
        ]
    )


def build_site(
    ws: Workspace, *, extra_nav: Sequence[tuple[str, str]] = (), head_extra: str = "", banner: str = ""
) -> Site:
    """Every page of the report of ``ws`` (``extra_nav``: more header links, e.g. the server's review)."""
    started = time.perf_counter()
    clusters = []
    for info in ws.clusters():
        rendering = ws.render(info.name)
        clusters.append(
            ClusterData(
                info,
                rendering.kustomizations,
                ws.apps(info.name),
                len(rendering.objects),
                len(ws.helmreleases(info.name)),
            )
        )
    check = ws.check()
    images = ws.images()
    gathered = time.perf_counter()
    name = ws.root.name

    def page(file: str, title: str, body: str) -> str:
        return document(
            f"homeops report: {name} — {title}",
            banner + body,
            styles=["site.css"],
            scripts=["site.js"],
            nav=_nav(clusters, file, extra_nav),
            body_class="site",
            head_extra=head_extra,
        )

    pages = {"index.html": page("index.html", "overview", _index(clusters, check, images, ws.root))}
    for c in clusters:
        file = cluster_page(c.info.name)
        pages[file] = page(file, f"cluster {c.info.name}", _cluster(c))
    pages["apps.html"] = page("apps.html", "apps", _apps(clusters))
    pages["findings.html"] = page("findings.html", "findings", _findings(check, ws))
    pages["images.html"] = page("images.html", "images", _images(images))
    done = time.perf_counter()
    return Site(
        pages, {"gather_seconds": round(gathered - started, 3), "draw_seconds": round(done - gathered, 3)}
    )
