"""``ClusterRender.find`` answers through an index: the same answers as a scan of every object, in
render order, and objects added after the first question are found too."""

from __future__ import annotations

from pathlib import Path

from homeops.core.profile import DEFAULT
from homeops.flux.cluster import resolve_cluster
from homeops.flux.model import RenderedKustomization
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.resource import Resource

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "home-ops"


def _scan(
    render: ClusterRender, kind: str, name: str, namespace: str | None = None
) -> list[tuple[RenderedKustomization, Resource]]:
    return [
        (rk, r)
        for rk, r in render.objects()
        if r.kind == kind and r.name == name and (namespace is None or (r.namespace or "") == namespace)
    ]


def test_find_matches_a_scan_of_every_object() -> None:
    render = render_cluster(EXAMPLE, resolve_cluster(EXAMPLE, DEFAULT, "chongus"))
    objects = render.objects()
    assert len(objects) > 50
    asked = 0
    for _rk, res in objects:
        for namespace in (None, res.namespace or "", "elsewhere"):
            assert render.find(res.kind, res.name, namespace) == _scan(render, res.kind, res.name, namespace)
            asked += 1
    assert render.find("ConfigMap", "no-such-object") == []
    assert asked == 3 * len(objects)


def test_find_sees_objects_added_after_the_first_question() -> None:
    """Kustomizations rendered since are indexed at the next question; objects added to rendered
    ones once the adder says so (as the HelmRelease expansion does)."""
    render = render_cluster(EXAMPLE, resolve_cluster(EXAMPLE, DEFAULT, "chongus"))
    assert render.find("ConfigMap", "added-later") == []
    rk = next(iter(render.rendered.values()))
    rk.resources.append(
        Resource(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "added-later", "namespace": "x"}}
        )
    )
    render.objects_changed()
    found = render.find("ConfigMap", "added-later", "x")
    assert [(f[0].ks.key, f[1].name) for f in found] == [(rk.ks.key, "added-later")]


def test_find_sees_kustomizations_rendered_after_the_first_question() -> None:
    render = render_cluster(EXAMPLE, resolve_cluster(EXAMPLE, DEFAULT, "chongus"))
    assert render.find("Secret", "from-a-late-render") == []
    first = next(iter(render.rendered.values()))
    late = RenderedKustomization(
        first.ks,
        [Resource({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "from-a-late-render"}})],
    )
    render.rendered["late"] = late
    assert [r.name for _rk, r in render.find("Secret", "from-a-late-render")] == ["from-a-late-render"]
