"""The user's real repository: concrete facts about the rendered clusters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from homeops.core import yamlemit, yamlio
from homeops.core.profile import DEFAULT
from homeops.flux.cluster import resolve_cluster
from homeops.flux.model import OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, SUBSTITUTE_KEY, is_flux_kustomization
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender

_CACHE: dict[tuple[str, str], ClusterRender] = {}


def _render(corpus: Path, name: str, **kwargs: object) -> ClusterRender:
    key = (name, repr(sorted(kwargs.items())))
    if key not in _CACHE:
        _CACHE[key] = render_cluster(corpus, resolve_cluster(corpus, DEFAULT, name), **kwargs)  # type: ignore[arg-type]
    return _CACHE[key]


def _registered(corpus: Path) -> tuple[set[str], set[str]]:
    """Names of Flux Kustomizations listed (and commented out) in chongus namespace kustomizations."""
    listed: set[str] = set()
    commented: set[str] = set()
    for kfile in sorted((corpus / "cluster-apps" / "chongus").glob("*/kustomization.yaml")):
        for line in kfile.read_text().splitlines():
            m = re.match(r"^\s*(#\s*)?-\s+(\./\S+/ks\.yaml)\s*$", line)
            if not m:
                continue
            target = kfile.parent / m.group(2)
            names = set()
            if target.is_file():
                for doc in yamlio.load_all(target.read_text()):
                    if isinstance(doc, dict) and is_flux_kustomization(doc):
                        names.add(doc["metadata"]["name"])
            else:
                names.add(target.parent.name)
            (commented if m.group(1) else listed).update(names)
    return listed, commented


def test_every_registered_kustomization_is_rendered_and_commented_ones_are_not(corpus: Path) -> None:
    result = _render(corpus, "chongus")
    rendered = {rk.ks.name for rk in result.rendered.values()}
    listed, commented = _registered(corpus)
    assert len(listed) > 40
    assert listed <= rendered, sorted(listed - rendered)
    assert commented, "the corpus has commented-out registrations"
    assert not (commented - listed) & rendered
    assert all(rk.error is None for rk in result.rendered.values() if rk.ks.name in listed)


def test_helmreleases_land_in_target_namespace_with_flux_labels(corpus: Path) -> None:
    result = _render(corpus, "chongus")
    count = 0
    for rk in result.rendered.values():
        for res in rk.resources:
            if res.kind != "HelmRelease":
                continue
            count += 1
            if rk.ks.target_namespace:
                assert res.namespace == rk.ks.target_namespace, res.where()
            assert res.labels[OWNER_NAME_LABEL] == rk.ks.name
            assert res.labels[OWNER_NAMESPACE_LABEL] == rk.ks.namespace
            assert res.file and res.line > 0
    # 46 HelmRelease files under cluster-apps/, minus the commented-out bambustatus-streamer, plus the two of
    # flux-operator, which cluster-apps also applies itself (flux-system/ has no kustomization.yaml)
    assert count == 47


def test_substituted_variables_do_not_survive(corpus: Path) -> None:
    result = _render(corpus, "chongus")
    checked = 0
    for rk in result.rendered.values():
        subs = (rk.ks.post_build or {}).get("substitute") or {}
        for var in ("APP", "VOLSYNC_CAPACITY"):
            if var not in subs:
                continue
            for res in rk.resources:
                if (
                    res.annotations.get(SUBSTITUTE_KEY) == "disabled"
                    or res.labels.get(SUBSTITUTE_KEY) == "disabled"
                ):
                    continue
                checked += 1
                assert "${" + var not in yamlemit.dump(res.obj), f"{res.where()} keeps ${{{var}}}"
    assert checked > 100


def test_objects_with_substitution_disabled_keep_their_variables(corpus: Path) -> None:
    result = _render(corpus, "chongus")
    disabled = [
        res
        for rk in result.rendered.values()
        for res in rk.resources
        if res.annotations.get(SUBSTITUTE_KEY) == "disabled" or res.labels.get(SUBSTITUTE_KEY) == "disabled"
    ]
    assert disabled
    assert any("${" in yamlemit.dump(res.obj) for res in disabled)


def test_volsync_component_renders_for_every_app_that_uses_it(corpus: Path) -> None:
    result = _render(corpus, "chongus")
    apps = [
        rk
        for rk in result.rendered.values()
        if any(str(c).endswith("components/volsync") for c in rk.ks.spec.get("components") or [])
    ]
    assert len(apps) >= 5
    for rk in apps:
        kinds = {r.kind for r in rk.resources}
        assert {"PersistentVolumeClaim", "ReplicationSource"} <= kinds, rk.ks.key
        claim = next(r for r in rk.resources if r.kind == "PersistentVolumeClaim")
        assert claim.namespace == rk.ks.target_namespace
        assert claim.file and claim.file.startswith("cluster-apps/components/volsync/")


def test_legacy_bitty_renders_with_cluster_name(corpus: Path) -> None:
    result = _render(corpus, "bitty", cli_vars={"CLUSTER_NAME": "bitty"})
    paths = [rk.ks.path for rk in result.rendered.values()]
    assert sum(p.startswith("./cluster-cd/apps/bitty/") for p in paths) > 30
    assert not [f for f in result.findings if f.rule in ("HO101", "HO102", "HO106", "HO107")]
    # without the variable the child paths cannot resolve and say so
    bare = _render(corpus, "bitty")
    assert any(f.rule == "HO103" and "CLUSTER_NAME" in f.message for f in bare.findings)


@pytest.mark.parametrize("name", ["chongus", "bitty"])
def test_every_rendered_object_knows_its_source_line(corpus: Path, name: str) -> None:
    result = _render(corpus, name, cli_vars={"CLUSTER_NAME": name})
    for rk in result.rendered.values():
        for res in rk.resources:
            assert res.file, res.cur_id
            assert res.line >= 1 or res.generated, res.where()


def test_objects_applied_by_two_kustomizations_are_reported(corpus: Path) -> None:
    result = _render(corpus, "chongus")
    dupes = [f for f in result.findings if f.rule == "HO111"]
    assert {(f.kind, f.name) for f in dupes} >= {
        ("HelmRelease", "flux-operator"),
        ("HelmRelease", "flux-instance"),
    }
    flux = [f for f in dupes if f.name in ("flux-operator", "flux-instance") and f.kind == "HelmRelease"]
    assert all("flux-system/cluster-apps" in f.message for f in flux)
    # a copy-paste slip in the user's repository: two apps apply the same ExternalSecret
    assert any(
        f.kind == "ExternalSecret" and f.name == "minecraft-sf5" and "default/minecraft-cpw" in f.message
        for f in dupes
    )
