"""``homeops report -o DIR`` in a real browser, opened from disk: every page offline, the graph has one
node per Flux Kustomization and one edge per ``dependsOn`` of the render, the apps, findings and
images pages show what the API says."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_support import Guard, keep_screenshot

from homeops.api import Workspace
from homeops.web.graph import crossings, layout_dependencies, overlaps
from support import EXAMPLE, run_cli

Opener = Callable[..., tuple[Any, Guard]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site"
    proc = run_cli("report", "--path", str(EXAMPLE), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def _graph(page: Any) -> tuple[list[str], list[tuple[str, str]]]:
    nodes = page.eval_on_selector_all("#deps svg .node.ks", "els => els.map(g => g.dataset.ks)")
    edges = page.eval_on_selector_all(
        "#deps svg .edge", "els => els.map(e => [e.dataset.from, e.dataset.to])"
    )
    return nodes, [tuple(e) for e in edges]


def _expected(ws: Workspace, cluster: str) -> tuple[list[str], list[tuple[str, str]]]:
    kss = ws.kustomizations(cluster)
    return [f"{k.namespace}/{k.name}" for k in kss], [
        (d, f"{k.namespace}/{k.name}") for k in kss for d in k.depends_on
    ]


def test_every_page_opens_offline_and_links_work(site: Path, open_page: Opener) -> None:
    pages = sorted(p.name for p in site.glob("*.html"))
    assert pages == [
        "apps.html",
        "cluster-bitty.html",
        "cluster-chongus.html",
        "findings.html",
        "images.html",
        "index.html",
    ]
    page, guard = open_page((site / "index.html").as_uri())
    keep_screenshot(page, "report-index")
    for link in ["cluster chongus", "Apps", "Findings", "Images", "cluster bitty", "Overview"]:
        page.click(f"header nav a:text-is('{link}')")
        page.wait_for_selector("body[data-ready=true]")
        assert page.locator("header nav a.current").inner_text() == link
    guard.assert_offline()
    assert all(url.startswith(site.as_uri()) for url in guard.requests)


def test_graph_matches_the_render(site: Path, open_page: Opener) -> None:
    ws = Workspace(EXAMPLE)
    for cluster in ("chongus", "bitty"):
        page, guard = open_page((site / f"cluster-{cluster}.html").as_uri())
        nodes, edges = _graph(page)
        want_nodes, want_edges = _expected(ws, cluster)
        assert sorted(nodes) == sorted(want_nodes) and len(set(nodes)) == len(nodes)
        assert Counter(edges) == Counter(want_edges)
        tree = page.eval_on_selector_all("#tree svg .node.ks", "els => els.map(g => g.dataset.ks)")
        assert sorted(tree) == sorted(want_nodes)
        if cluster == "chongus":
            keep_screenshot(page, "report-cluster")
        # a node links to its row of the Kustomization table
        target = want_nodes[-1]
        page.click(f'#deps svg .node[data-ks="{target}"]')
        assert page.evaluate("decodeURIComponent(location.hash)") == f"#ks-{target}"
        guard.assert_offline()


def test_graph_of_the_corpus(corpus: Path, tmp_path: Path, open_page: Opener) -> None:
    out = tmp_path / "site"
    proc = run_cli("report", "--path", str(corpus), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    ws = Workspace(corpus)
    for cluster in [c.name for c in ws.clusters()]:
        page, guard = open_page((out / f"cluster-{cluster}.html").as_uri(), width=1600)
        nodes, edges = _graph(page)
        want_nodes, want_edges = _expected(ws, cluster)
        assert sorted(nodes) == sorted(want_nodes)
        assert Counter(edges) == Counter(want_edges)
        missing = page.eval_on_selector_all("#deps svg .node.missing", "els => els.map(g => g.dataset.ks)")
        assert sorted(missing) == sorted({b for a, b in [(t, s) for s, t in want_edges]} - set(want_nodes))
        boxes = page.eval_on_selector_all(
            "#deps svg .node rect",
            "els => els.map(r => { const b = r.getBBox(); return [b.x, b.y, b.width, b.height]; })",
        )
        for i, (x, y, w, h) in enumerate(boxes):  # no two nodes overlap as drawn
            for x2, y2, w2, h2 in boxes[i + 1 :]:
                assert not (x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h)
        guard.assert_offline()


def _synthetic(count: int) -> list[Any]:
    """``count`` Kustomizations in dependency layers, as home-ops repositories have them: a few bases,
    infrastructure that depends on them, apps that depend on one or two pieces of infrastructure."""
    from homeops.api import KustomizationInfo

    def ks(name: str, deps: tuple[str, ...]) -> KustomizationInfo:
        return KustomizationInfo("c", name, "flux-system", f"./{name}", None, tuple(f"flux-system/{d}" for d in deps),
                                 False, 1, "rendered", f"{name}.yaml:1", None)  # fmt: skip

    bases = [ks(f"base-{i}", ()) for i in range(4)]
    infra = [ks(f"infra-{i}", (f"base-{i % 4}",)) for i in range(12)]
    apps = [
        ks(f"app-{i:02d}", (f"infra-{i % 12}",) + ((f"infra-{(i * 5) % 12}",) if i % 3 == 0 else ()))
        for i in range(count - 16 - 6)
    ]
    lonely = [ks(f"alone-{i}", ()) for i in range(6)]
    return bases + infra + apps + lonely


def test_layout_is_readable_at_80_kustomizations() -> None:
    kss = _synthetic(80)
    assert len(kss) == 80
    layout = layout_dependencies(kss)
    assert len(layout.nodes) == 80 and len(layout.links) == sum(len(k.depends_on) for k in kss)
    assert overlaps(layout) == 0
    by_key = {n.key: n for n in layout.nodes}
    for link in layout.links:  # layered: every edge runs left to right, dependency first
        assert by_key[link.source].x + by_key[link.source].width <= by_key[link.target].x
    assert crossings(layout) <= len(layout.links) // 2, crossings(layout)
    columns = {round(n.x) for n in layout.nodes if n.key.startswith("flux-system/app-")}
    assert len(columns) == 1  # the apps form one column, not spaghetti across the page


def test_apps_findings_images_pages(site: Path, open_page: Opener) -> None:
    ws = Workspace(EXAMPLE)
    page, guard = open_page((site / "apps.html").as_uri())
    rows = page.eval_on_selector_all(
        "#apps tr.app", "els => els.map(tr => [tr.dataset.cluster, tr.dataset.ks])"
    )
    assert sorted(map(tuple, rows)) == sorted((a.cluster, a.ks) for a in ws.apps())
    linkding = page.locator('#apps tr.app[data-ks="default/linkding"]').inner_text()
    assert (
        "volsync" in linkding and "external-secret" in linkding and "ClusterSecretStore/doppler" in linkding
    )
    echo = page.locator('#apps tr.app[data-ks="network/echo-server"]')
    assert echo.get_attribute("data-exposure") in ("internal", "external")
    page.fill("input[data-filter=apps]", "linkding")
    assert page.locator("#apps tr.app:not(.hidden)").count() == 1
    keep_screenshot(page, "report-apps")
    guard.assert_offline()

    page, guard = open_page((site / "findings.html").as_uri())
    counts = dict(
        page.eval_on_selector_all(
            "#rules tr.rule", "els => els.map(tr => [tr.dataset.rule, Number(tr.dataset.count)])"
        )
    )
    assert counts == dict(Counter(f.rule for f in ws.check().findings))
    keep_screenshot(page, "report-findings")
    guard.assert_offline()

    page, guard = open_page((site / "images.html").as_uri())
    shown = page.eval_on_selector_all(
        "#images tr.image", "els => els.map(tr => [tr.dataset.image, tr.dataset.pinned])"
    )
    assert sorted(map(tuple, shown)) == sorted({(i.image, str(i.pinned).lower()) for i in ws.images()})
    assert page.locator("#images tr.image[data-pinned=false]").count() >= 1
    keep_screenshot(page, "report-images")
    guard.assert_offline()
