"""Rendering with Helm's own engine (in-process helm-python-sdk, or a helm binary on PATH)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from helm_support import CHART_DIR, PushedCharts, oci_repository

from homeops.core import yamlio
from homeops.helm import render
from homeops.helm.render import EngineMissingError, RenderError, merge_values, render_chart, values_from
from homeops.helm.sources import SourceResolver


def _engine_or_skip(name: str | None = None) -> render.Engine:
    try:
        return render.get_engine(name)
    except EngineMissingError as exc:
        pytest.skip(f"no Helm engine: {exc.hint}")


@pytest.fixture
def engine() -> render.Engine:
    return _engine_or_skip()


def _by_kind(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objs}


def test_render_defaults(engine: render.Engine) -> None:
    objs = render_chart(CHART_DIR, release_name="demo", namespace="apps", values={}, engine=engine)
    assert [o["kind"] for o in objs] == [
        "Service",
        "Deployment",
    ]  # Helm's install order; no NOTES, no test hook
    deploy = _by_kind(objs)["Deployment"]
    assert deploy["metadata"]["name"] == "demo-testchart"
    assert deploy["metadata"]["labels"]["helm.sh/chart"] == "testchart-1.2.0"
    assert deploy["metadata"]["annotations"]["homeops.io/kube-version"] == "v1.33.0"
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/example/app:v1.0.0"
    assert container["resources"] == {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"memory": "128Mi"},
    }
    assert deploy.file and deploy.file.endswith("templates/deployment.yaml")  # provenance of the template


def test_render_with_merged_values_and_capabilities(engine: render.Engine) -> None:
    defaults = yamlio.load_one((CHART_DIR / "values.yaml").read_text())
    values = merge_values(
        defaults,
        {"image": {"repository": "ghcr.io/org/other", "tag": "v2.3.4@sha256:" + "a" * 64}},
        {"service": {"enabled": False}, "monitoring": {"enabled": True}, "podAnnotations": {"a": "b"}},
    )
    plain = render_chart(CHART_DIR, release_name="x", namespace="apps", values=values, engine=engine)
    assert [o["kind"] for o in plain] == ["Deployment"]  # no ServiceMonitor CRD known to Helm
    objs = render_chart(
        CHART_DIR,
        release_name="x",
        namespace="apps",
        values=values,
        kube_version="1.30.2",
        api_versions=["monitoring.coreos.com/v1"],
        engine=engine,
    )
    kinds = _by_kind(objs)
    assert set(kinds) == {"Deployment", "ServiceMonitor"}
    deploy = kinds["Deployment"]
    assert deploy["metadata"]["annotations"]["homeops.io/kube-version"] == "v1.30.2"
    assert deploy["spec"]["template"]["metadata"]["annotations"] == {"a": "b"}
    assert (
        deploy["spec"]["template"]["spec"]["containers"][0]["image"]
        == "ghcr.io/org/other:v2.3.4@sha256:" + "a" * 64
    )


def test_test_hooks_only_when_asked(engine: render.Engine) -> None:
    objs = render_chart(
        CHART_DIR, release_name="demo", namespace="apps", values={}, skip_tests=False, engine=engine
    )
    assert [o["kind"] for o in objs][-1] == "Pod"
    assert objs[-1]["metadata"]["annotations"]["helm.sh/hook"] == "test"


def test_template_error_is_a_render_error(engine: render.Engine, tmp_path: Path) -> None:
    chart = tmp_path / "broken"
    shutil.copytree(CHART_DIR, chart)
    (chart / "templates" / "bad.yaml").write_text("value: {{ .Values.missing.deeper }}\n")
    with pytest.raises(RenderError) as info:
        render_chart(chart, release_name="demo", namespace="apps", values={}, engine=engine)
    assert "bad.yaml" in str(info.value) and "\n" not in str(info.value)


def test_changed_chart_is_reloaded(engine: render.Engine, tmp_path: Path) -> None:
    chart = tmp_path / "testchart"
    shutil.copytree(CHART_DIR, chart)
    first = render_chart(chart, release_name="r", namespace="n", values={}, engine=engine)
    (chart / "values.yaml").write_text(
        (chart / "values.yaml").read_text().replace("replicaCount: 1", "replicaCount: 4")
    )
    second = render_chart(chart, release_name="r", namespace="n", values={}, engine=engine)
    assert _by_kind(first)["Deployment"]["spec"]["replicas"] == 1
    assert _by_kind(second)["Deployment"]["spec"]["replicas"] == 4


def test_invalid_kube_version(engine: render.Engine) -> None:
    with pytest.raises(RenderError, match="Kubernetes version"):
        render_chart(
            CHART_DIR, release_name="r", namespace="n", values={}, kube_version="latest", engine=engine
        )


def test_render_from_registry_with_values_from(
    engine: render.Engine, charts: PushedCharts, resolver: SourceResolver
) -> None:
    """The whole path: OCIRepository from the registry, valuesFrom a ConfigMap, spec.values, render."""
    chart = resolver.chart_dir(resolver.oci_repository(oci_repository(charts.url, 'semver: ">=1.0.0 <2"')))
    configmap = {
        "kind": "ConfigMap",
        "metadata": {"name": "values", "namespace": "apps"},
        "data": {"values.yaml": "replicaCount: 2\n", "tag": "v9.9.9"},
    }
    layer = values_from(
        [
            {"kind": "ConfigMap", "name": "values"},
            {"kind": "ConfigMap", "name": "values", "valuesKey": "tag", "targetPath": "image.tag"},
        ],
        {("ConfigMap", "apps", "values"): configmap},
        namespace="apps",
    )
    objs = render_chart(
        chart,
        release_name="demo",
        namespace="apps",
        values=merge_values(None, layer, {"env": {"B": "2"}}),
        engine=engine,
    )
    deploy = _by_kind(objs)["Deployment"]
    assert deploy["metadata"]["labels"]["helm.sh/chart"] == "testchart-1.10.0"
    assert deploy["spec"]["replicas"] == 2
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/example/app:v9.9.9"
    assert container["env"] == [{"name": "B", "value": "2"}, {"name": "TZ", "value": "UTC"}]


def test_render_archive_directly(engine: render.Engine, charts: PushedCharts, tmp_path: Path) -> None:
    archive = tmp_path / "testchart-1.0.0.tgz"
    archive.write_bytes(charts.archives["1.0.0"])
    objs = render_chart(archive, release_name="demo", namespace="apps", values={}, engine=engine)
    assert _by_kind(objs)["Deployment"]["metadata"]["labels"]["helm.sh/chart"] == "testchart-1.0.0"


def test_engines_agree_when_both_present() -> None:
    sdk = _engine_or_skip("sdk")
    binary = _engine_or_skip("binary")
    values = {"monitoring": {"enabled": True}, "args": ["--x"]}
    kwargs: dict[str, Any] = {
        "release_name": "demo",
        "namespace": "apps",
        "values": values,
        "api_versions": ["monitoring.coreos.com/v1"],
    }
    assert render_chart(CHART_DIR, engine=sdk, **kwargs) == render_chart(CHART_DIR, engine=binary, **kwargs)


def test_missing_engine_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_ENGINES", {})
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(render.HELM_BINARY_ENV, raising=False)
    with pytest.raises(EngineMissingError) as info:
        render.get_engine("binary")
    assert "helm binary" in str(info.value)
    with pytest.raises(EngineMissingError, match="unknown Helm engine"):
        render.get_engine("magic")


def test_no_engine_at_all_is_an_error_not_a_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_sdk(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("helm_python"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(render, "_ENGINES", {})
    monkeypatch.setattr(builtins, "__import__", no_sdk)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(render.HELM_BINARY_ENV, raising=False)
    monkeypatch.delenv(render.ENGINE_ENV, raising=False)
    with pytest.raises(EngineMissingError) as info:
        render_chart(CHART_DIR, release_name="r", namespace="n", values={})
    assert "pip install helm-python-sdk" in str(info.value) and "helm binary" in str(info.value)
