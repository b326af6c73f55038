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
