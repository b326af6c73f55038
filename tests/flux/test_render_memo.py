"""Whole Flux Kustomization renders kept across runs (flux/render_memo.py): a kept render is used only
while its inputs (the memo key) are the same and everything it looked at is unchanged, so a render with
the cache is the render without it. The edits of what a render reads are those of the build cache's
tests (test_build_cache.py, layer ``render``); here, what the key holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_build_cache import KS, _cm, make_repo, xdg
from test_build_cache import render as render_layer
from test_build_cache import uncached as uncached_layer

from homeops.core.variables import ClusterVars
from homeops.helm import render as helm_render

__all__ = ["xdg"]  # the fixture, shared with the build cache tests


def render(root: Path, **kwargs: Any) -> tuple[list[str], tuple[int, int]]:
    """One run as a new process makes it: what it prints and (kept renders used, renders made)."""
    return render_layer(root, "render", **kwargs)


def uncached(root: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> list[str]:
    return uncached_layer(root, monkeypatch, "render", **kwargs)


def render_packs(xdg: Path) -> list[Path]:
    where = xdg / "homeops" / "render"
    return sorted(where.glob("*.pack")) if where.is_dir() else []


def _substituting(root: Path, value: str, line_shift: int = 0) -> None:
    """``apps`` substitutes from a ConfigMap that ``vars`` applies (written ``line_shift`` lines lower)."""
    (root / "clusters/c/flux/apps.yaml").write_text(
        KS.format(name="vars", path="vars")
        + KS.format(name="apps", path="apps")
        + "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n"
    )
    (root / "vars").mkdir(exist_ok=True)
    (root / "vars/vars.yaml").write_text(
        "# shifted\n"
        * line_shift
        + f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n  namespace: flux-system\n"
        f"data:\n  LEVEL: {value}\n"
    )
    (root / "apps/a.yaml").write_text(_cm("a", "${LEVEL}") + "  other: ${UNSET_ONE}\n")


@pytest.mark.parametrize("change", ["value", "where the source is written"])
def test_a_substitution_source_changing_makes_it_miss(
    change: str, tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap another Kustomization renders is an input of the key: its values and its place."""
    root = make_repo(tmp_path / "repo")
    _substituting(root, "one")
    before, _ = render(root)
    render(root)
    if change == "value":
        _substituting(root, "two")
    else:
        _substituting(root, "one", line_shift=2)
    after, counts = render(root)
    assert after == uncached(root, monkeypatch)
    assert after != before
    assert counts[1] >= 2  # vars (its file changed) and apps (its source did)


def test_the_definition_moving_in_its_file_makes_it_miss(
    tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Findings point at a Kustomization's definition: its lines are part of the key."""
    root = make_repo(tmp_path / "repo")
    flux = root / "clusters/c/flux/apps.yaml"
    flux.write_text(flux.read_text() + "  postBuild:\n    substitute:\n      bad-name: x\n")
    before, _ = render(root)
    assert any(":27 " in text and "bad-name" in text for text in before)
    text = flux.read_text()
    second = text.index("---", 1)
    flux.write_text(text[:second] + "# a comment between\n" + text[second:])  # gen moves, apps does not
    after, counts = render(root)
    assert after == uncached(root, monkeypatch)
    assert any(":28 " in text and "bad-name" in text for text in after)
    assert counts == (1, 1)


def test_given_values_are_never_kept(tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --var values (or --placeholders) nothing is written to the render cache; renders still match."""
    root = make_repo(tmp_path / "repo")
    _substituting(root, "one")
    given: list[dict[str, object]] = [
        {"cli_vars": {"UNSET_ONE": "s3cr3t"}},
        {"cli_vars": {"c": {"UNSET_ONE": "s3cr3t"}}},
        {"cli_vars": ClusterVars.of({"c": {"UNSET_ONE": "s3cr3t"}}).with_placeholders()},
    ]
    for values in given:
        out, counts = render(root, **values)
        assert counts == (0, 2)  # vars, apps
        assert not render_packs(xdg)
        assert any("s3cr3t" in text for text in out)
        assert out == uncached(root, monkeypatch, **values)
    out, counts = render(root, cli_vars=ClusterVars().with_placeholders())
    assert counts == (0, 2) and not render_packs(xdg)
    assert any("..PLACEHOLDER_UNSET_ONE.." in text for text in out)


def test_a_render_waiting_for_a_later_source_is_rendered_again_as_without_the_cache(
    tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Kustomizations each substituting from the ConfigMap the other applies: the first renders
    without its source, then again once the other made it. A kept first render says what it missed."""
    root = make_repo(tmp_path / "repo")
    substitute = "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: {name}\n"
    (root / "clusters/c/flux/apps.yaml").write_text(
        KS.format(name="one", path="one")
        + substitute.format(name="from-two")
        + KS.format(name="two", path="two")
        + substitute.format(name="from-one")
    )
    for name, other in (("one", "two"), ("two", "one")):
        (root / name).mkdir()
        (root / name / "cm.yaml").write_text(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-{name}\n  namespace: flux-system\n"
            f"data:\n  FROM_{name.upper()}: made-by-{name}\n  sees: '${{FROM_{other.upper()}:=unset}}'\n"
        )
    cold, counts = render(root)
    assert counts[1] == 3  # one is rendered twice
    assert any("sees: made-by-two" in text for text in cold)
    warm, counts = render(root)
    assert warm == cold == uncached(root, monkeypatch)
    assert counts == (3, 0)


def test_a_resourceset_reading_another_kustomizations_provider_is_not_kept(
    tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ResourceSet's inputs come from providers anywhere in the render: its Kustomization's render
    depends on more than it read, so it is rendered every time (the provider's change shows)."""
    try:
        helm_render.get_engine()
    except helm_render.EngineMissingError as exc:
        pytest.skip(f"ResourceSet templates run in Helm's engine, which is missing: {exc.hint}")
    root = make_repo(tmp_path / "repo")
    (root / "clusters/c/flux/apps.yaml").write_text(
        KS.format(name="providers", path="providers") + KS.format(name="sets", path="sets")
    )
    provider = (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSetInputProvider\nmetadata:\n  name: envs\n"
        "  namespace: flux-system\nspec:\n  type: Static\n  defaultValues: {{env: {env}}}\n"
    )
    (root / "providers").mkdir()
    (root / "providers/rsip.yaml").write_text(provider.format(env="dev"))
    (root / "sets").mkdir()
    (root / "sets/rset.yaml").write_text(
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: apps\n"
        "  namespace: flux-system\nspec:\n  inputsFrom:\n    - kind: ResourceSetInputProvider\n"
        "      name: envs\n  resources:\n    - apiVersion: v1\n      kind: ConfigMap\n      metadata:\n"
        "        name: app-<< inputs.env >>\n        namespace: flux-system\n"
    )
    before, _ = render(root)
    assert any("name: app-dev" in text for text in before)
    (root / "providers/rsip.yaml").write_text(provider.format(env="prod"))
    after, counts = render(root)
    assert after == uncached(root, monkeypatch)
    assert any("name: app-prod" in text for text in after)
    assert counts == (0, 2)  # providers read the changed file; sets was not kept
