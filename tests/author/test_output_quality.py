"""What authoring generates is clean: yamllint with its own config, kubectl kustomize equal to the native
engine on every directory, and a clean check for any valid app (property test)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from authoring import VARIANTS, add_app, blocking_findings, copy_repo, init_repo, read_tree
from differential import kubectl_build, kustomization_dirs, native_build
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from homeops.author.new_app import AppOptions, plan_new_app
from homeops.author.templates import yaml_safe_name
from homeops.core.edits import apply_edits
from homeops.core.profile import load_profile
from homeops.core.yamlemit import scalar
from homeops.flux.cluster import resolve_cluster
from homeops.flux.render import render_cluster
from homeops.kustomize.build import Builder

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.fixture(scope="module")
def full_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two clusters and every new-app variant: all the generator can write."""
    root = init_repo(tmp_path_factory.mktemp("full") / "repo")
    init_repo(root, cluster="beta", domain=None, gateway_internal="10.1.0.1", gateway_external="10.1.0.2")
    for options in VARIANTS.values():
        add_app(root, AppOptions(**{**options.__dict__, "cluster": "alpha"}))
    return root


def _yamllint_config(root: Path) -> object:
    yamllint_config = pytest.importorskip(
        "yamllint.config", reason="yamllint is not installed (pip install yamllint): the lint check needs it"
    )
    return yamllint_config.YamlLintConfig(file=str(root / ".github/lint/.yamllint.yaml"))


def _lint(root: Path, config: object, paths: list[str]) -> list[str]:
    from yamllint import linter

    problems = []
    for rel in paths:
        if not rel.endswith((".yaml", ".yml")) or config.is_file_ignored(rel):  # type: ignore[attr-defined]
            continue
        text = (root / rel).read_text(encoding="utf-8")
        for problem in linter.run(text, config, rel):
            problems.append(f"{rel}:{problem.line}:{problem.column}: {problem.level}: {problem.message}")
    return problems


def test_yamllint_with_the_generated_config(full_repo: Path) -> None:
    config = _yamllint_config(full_repo)
    assert _lint(full_repo, config, sorted(read_tree(full_repo))) == []


def test_yamllint_cli_agrees(full_repo: Path) -> None:
    if shutil.which("yamllint") is None:
        pytest.skip("the yamllint command is not installed (pip install yamllint)")
    proc = subprocess.run(
        ["yamllint", "--strict", "-c", ".github/lint/.yamllint.yaml", "."],
        cwd=full_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_native_build_equals_kubectl_on_every_directory(full_repo: Path, kubectl: str) -> None:
    builder = Builder(full_repo)
    directories = kustomization_dirs(full_repo)
    assert len(directories) > 20
    for directory in directories:
        expected, kubectl_error = kubectl_build(directory)
        actual, native_error = native_build(builder, directory)
        rel = directory.relative_to(full_repo)
        if expected is None:  # only components, which kustomize builds as part of a kustomization
            assert "components/" in rel.as_posix(), f"kubectl failed on {rel}: {kubectl_error}"
            assert actual is None and native_error, (
                f"{rel}: kubectl refuses it but the native engine built it"
            )
            continue
        assert actual == expected, f"{rel}: native build differs from kubectl kustomize"


def test_app_with_its_components_builds_like_flux(full_repo: Path, kubectl: str, tmp_path: Path) -> None:
    """An overlay of a stateful app with the components its ks.yaml names, as Flux builds it."""
    overlay = full_repo / ".overlay-test"
    overlay.mkdir()
    try:
        (overlay / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: media\n"
            "resources:\n  - ../cluster-apps/alpha/media/paperless-ngx/app\n"
            "components:\n  - ../cluster-apps/components/volsync\n",
            encoding="utf-8",
        )
        expected, error = kubectl_build(overlay)
        assert expected is not None, error
        actual, native_error = native_build(Builder(full_repo), overlay)
        assert actual == expected, native_error
        kinds = sorted({o["kind"] for o in expected})
        assert {
            "PersistentVolumeClaim",
            "ReplicationSource",
            "ReplicationDestination",
            "ExternalSecret",
        } <= set(kinds)
    finally:
        shutil.rmtree(overlay)


def test_full_repo_is_clean(full_repo: Path) -> None:
    assert blocking_findings(full_repo) == []


# ----------------------------------------------------------------------------------------------
# Property: any valid app yields a clean check and a successful build


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_repo(tmp_path_factory.mktemp("prop") / "repo")


# Valid names: the conventions' patterns, minus words YAML reads as booleans or null ("no", "on", "y").
app_names = st.from_regex(r"\A[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,5}){0,3}\Z").filter(yaml_safe_name)
namespaces = st.one_of(
    st.sampled_from(["default", "media", "system", "network", "security"]),
    st.from_regex(r"\A[a-z][a-z0-9]{0,11}\Z").filter(yaml_safe_name),
)
options = st.fixed_dictionaries(
    {
        "namespace": namespaces,
        "app": app_names,
        "port": st.integers(min_value=1, max_value=65535),
        "route": st.sampled_from(["internal", "external", "none"]),
        "volsync": st.one_of(st.none(), st.sampled_from(["1Gi", "5Gi", "100Gi", "512Mi"])),
        "secret": st.one_of(st.none(), st.from_regex(r"\A[A-Z][A-Z0-9_]{0,15}\Z")),
        "probe_path": st.one_of(st.none(), st.sampled_from(["/", "/healthz", "/api/v1/health"])),
        "uid": st.integers(min_value=1, max_value=65534),
        "memory_limit": st.sampled_from(["128Mi", "512Mi", "2Gi"]),
        "own_chart": st.booleans(),
    }
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=options)
def test_any_valid_app_checks_clean(base_repo: Path, choice: dict[str, object]) -> None:
    own_chart = choice.pop("own_chart")
    app_options = AppOptions(
        image=f"ghcr.io/example/{choice['app']}:1.0.0@{DIGEST}",
        gid=choice["uid"],  # type: ignore[arg-type]
        chart="oci://ghcr.io/example/charts/thing" if own_chart else None,
        chart_version="1.2.3" if own_chart else None,
        **choice,
    )  # type: ignore[arg-type]
    assume(not (base_repo / f"cluster-apps/alpha/{app_options.namespace}/{app_options.app}").exists())
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_repo(base_repo, Path(tmp) / "repo")
        plan = plan_new_app(root, load_profile(root), app_options)
        written = apply_edits(root, plan.edits)
        builder = Builder(root)
        builder.build(root / plan.app_dir / "app")
        builder.build(root / Path(plan.app_dir).parent)
        render = render_cluster(root, resolve_cluster(root, load_profile(root), "alpha"))
        assert f"{app_options.namespace}/{app_options.app}" in render.rendered
        assert render.rendered[f"{app_options.namespace}/{app_options.app}"].resources
        assert blocking_findings(root) == []
        config = _yamllint_config(root)
        assert _lint(root, config, written) == []


@pytest.mark.parametrize("quote_unusual", [True, False])
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF, exclude_categories=("Cc", "Cs"))))
@example("@daily")
@example("0x_")  # YAML 1.1 readers fail on it as a number
@example("1:30")  # base 60 in YAML 1.1
@example("y")  # a boolean to goyaml.v2
@example("=")  # the value key of YAML 1.1, which PyYAML cannot construct
def test_template_scalars_read_back_as_written(quote_unusual: bool, value: str) -> None:
    """A value the templates write (a version, a substitution) reads back as the same string, and
    never fails to be written (``@daily`` once did)."""
    assert yaml.safe_load(f"key: {scalar(value, quote_unusual=quote_unusual)}\n") == {"key": value}


@pytest.mark.parametrize(
    ("value", "plain", "generated"),
    [
        ("v1.18.2", "v1.18.2", "v1.18.2"),
        ("a b", "a b", '"a b"'),
        ("${APP}", "${APP}", '"${APP}"'),
        ("1.0", '"1.0"', '"1.0"'),
        ("y", '"y"', '"y"'),
        ("1:30", '"1:30"', '"1:30"'),
    ],
)
def test_generated_files_quote_unusual_strings(value: str, plain: str, generated: str) -> None:
    assert (scalar(value), scalar(value, quote_unusual=True)) == (plain, generated)
