"""``postBuild.substituteStrategy`` and the ``StrictPostBuildSubstitutions`` gate, behaviour by behaviour.

kustomize-controller (api/v1 ``PostBuild``, fluxcd/pkg ``kustomize.SubstituteVariables``):

* ``WithVariables`` (the default): substitution runs only when there is at least one variable (inline
  ``substitute`` or from ``substituteFrom``); with none, ``${VAR:=default}`` stays as written.
* ``Always``: substitution runs even with no variable at all, so defaults apply.
* Strict (``--strict-substitution``; on by default since kustomize-controller v1.9): a variable with
  neither a value nor a default fails the Kustomization's build; a default still applies; a value
  given with ``--var`` satisfies it. Without it, homeops keeps the ``${NAME}`` text (and reports it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render import cm, ks, objects, render, write

from homeops.flux.settings import RenderSettings
from support import run_cli

STRICT = RenderSettings(strict_substitution=True)


def _repo(tmp: Path, post_build: str, data: str) -> Path:
    extra = f"postBuild:\n{post_build}" if post_build else ""
    return write(tmp, {
        "clusters/c/flux/root.yaml": ks("app", "./app", extra=extra),
        "app/kustomization.yaml": "resources: [cm.yaml]\n",
        "app/cm.yaml": cm("settings", data),
    })  # fmt: skip


def _data(tmp: Path, **kwargs: object) -> dict[str, object]:
    return next(o for o in objects(render(tmp, **kwargs), "app") if o["kind"] == "ConfigMap")["data"]


def test_with_variables_is_the_default_and_needs_a_variable(tmp_path: Path) -> None:
    _repo(tmp_path, "  substituteStrategy: WithVariables\n  substitute: {}\n", "zone: ${ZONE:=UTC}\n")
    assert _data(tmp_path) == {"zone": "${ZONE:=UTC}"}  # no variable at all: not substituted


def test_default_strategy_without_any_variable_leaves_the_text(tmp_path: Path) -> None:
    _repo(tmp_path, "  substitute: {}\n", "zone: ${ZONE:=UTC}\n")
    assert _data(tmp_path) == {"zone": "${ZONE:=UTC}"}


def test_always_substitutes_with_no_variable(tmp_path: Path) -> None:
    _repo(tmp_path, "  substituteStrategy: Always\n", "zone: ${ZONE:=UTC}\nport: ${PORT:-8080}\n")
    assert _data(tmp_path) == {"zone": "UTC", "port": 8080}


def test_always_with_variables_is_like_with_variables(tmp_path: Path) -> None:
    _repo(
        tmp_path,
        "  substituteStrategy: Always\n  substitute:\n    ZONE: Europe/Oslo\n",
        "zone: ${ZONE:=UTC}\n",
    )
    assert _data(tmp_path) == {"zone": "Europe/Oslo"}


def test_with_variables_substitutes_when_one_is_given(tmp_path: Path) -> None:
    _repo(tmp_path, "  substitute:\n    APP: demo\n", "app: ${APP}\nzone: ${ZONE:=UTC}\n")
    assert _data(tmp_path) == {"app": "demo", "zone": "UTC"}


def test_without_strict_an_unset_variable_keeps_its_text_and_is_reported(tmp_path: Path) -> None:
    _repo(tmp_path, "  substitute:\n    APP: demo\n", "app: ${APP}\nhost: ${HOST}\n")
    result = render(tmp_path)
    assert next(o for o in objects(result, "app"))["data"] == {"app": "demo", "host": "${HOST}"}
    assert all(rk.error is None for rk in result.rendered.values())


def test_strict_fails_the_build_on_an_unset_variable(tmp_path: Path) -> None:
    _repo(tmp_path, "  substitute:\n    APP: demo\n", "app: ${APP}\nhost: ${HOST}\n")
    result = render(tmp_path, settings=STRICT)
    [rk] = [rk for rk in result.rendered.values() if rk.ks.name == "app"]
    assert rk.error is not None and "HOST" in str(rk.error)
    assert rk.resources == []  # Flux applies nothing of a failed build
    assert any(f.rule == "HO103" and "HOST" in f.message for f in result.findings)


def test_strict_still_applies_defaults(tmp_path: Path) -> None:
    _repo(tmp_path, "  substitute:\n    APP: demo\n", "app: ${APP}\nhost: ${HOST:=example.net}\n")
    assert _data(tmp_path, settings=STRICT) == {"app": "demo", "host": "example.net"}


def test_strict_with_always_and_no_variable_fails_on_an_unset_one(tmp_path: Path) -> None:
    _repo(tmp_path, "  substituteStrategy: Always\n", "host: ${HOST}\n")
    result = render(tmp_path, settings=STRICT)
    assert [rk.error is not None for rk in result.rendered.values() if rk.ks.name == "app"] == [True]


def test_strict_without_post_build_changes_nothing(tmp_path: Path) -> None:
    _repo(tmp_path, "", "host: ${HOST}\n")
    assert _data(tmp_path, settings=STRICT) == {"host": "${HOST}"}  # no postBuild: no substitution


@pytest.mark.parametrize(("extra", "built", "test_code"), [
    ((), "host: ${HOST}", 0),  # rendered, the text kept (and reported: HO103)
    (("--strict-substitution",), None, 1),  # the build fails
    (("--strict-substitution", "--var", "HOST=db.example.net"), "host: db.example.net", 0),
])  # fmt: skip
def test_cli_strict_substitution(
    tmp_path: Path, extra: tuple[str, ...], built: str | None, test_code: int
) -> None:
    _repo(tmp_path, "  substitute:\n    APP: demo\n", "app: ${APP}\nhost: ${HOST}\n")
    proc = run_cli("build", "ks", "app", "--path", str(tmp_path), "--cluster", "clusters/c/flux", *extra)
    if built is None:
        assert proc.returncode == 1 and "kind: ConfigMap" not in proc.stdout
        assert "HOST" in proc.stderr
    else:
        assert built in proc.stdout, proc.stderr
    test = run_cli("test", "--path", str(tmp_path), "--cluster", "clusters/c/flux", *extra)
    assert test.returncode == test_code, test.stdout
