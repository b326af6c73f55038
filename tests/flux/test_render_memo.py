"""Whole Flux Kustomization renders kept across runs (flux/render_memo.py): a kept render is used only
while its inputs (the memo key) are the same and everything it looked at is unchanged, so a render with
the cache is the render without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_build_cache import EDITS, KS, _cm, make_repo, xdg

from homeops.core import cache, yamlemit
from homeops.core.files import FileCache
from homeops.core.profile import DEFAULT
from homeops.core.variables import ClusterVars
from homeops.flux.cluster import resolve_cluster
from homeops.flux.render import ClusterRenderer

__all__ = ["xdg"]  # the fixture, shared with the build cache tests


def render(root: Path, **kwargs: object) -> tuple[list[str], tuple[int, int]]:
    """One run as a new process makes it: what it prints and (kept renders used, renders made)."""
    renderer = ClusterRenderer(root, resolve_cluster(root, DEFAULT, "c"), files=FileCache(root), **kwargs)  # type: ignore[arg-type]
    result = renderer.render()
    out = [
        f"{rk.ks.key} {res.file}:{res.line}\n{yamlemit.dump(res.obj)}"
        for rk in result.rendered.values()
        for res in rk.resources
    ]
    out += [f"{f.rule} {f.file}:{f.line} {f.message}" for f in result.findings]
    out += [f"{u.name} {u.file}:{u.line} {u.why}" for rk in result.rendered.values() for u in rk.unresolved]
    counts = (renderer.memo.hits, renderer.memo.misses)
    cache.flush()
    cache.reset()
    return out, counts


def uncached(root: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> list[str]:
    with monkeypatch.context() as m:
        m.setenv(cache.ENV_DISABLE, "1")
        out, counts = render(root, **kwargs)
    assert counts[0] == 0
    return out


def render_packs(xdg: Path) -> list[Path]:
    where = xdg / "homeops" / "render"
    return sorted(where.glob("*.pack")) if where.is_dir() else []


def test_a_warm_render_renders_nothing_and_prints_the_same(
    tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    cold, counts = render(root)
    assert counts == (0, 2)  # apps and gen
    assert render_packs(xdg)
    warm, counts = render(root)
    assert counts == (2, 0)
    assert warm == cold == uncached(root, monkeypatch)


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_what_a_render_read_changing_makes_it_miss(
    edit: Callable[[Path], None], tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    before, _ = render(root)
    render(root)
    edit(root)
    after, counts = render(root)
    assert after == uncached(root, monkeypatch)
    assert after != before
    assert counts[1] >= 1  # the render that read it ran again
    assert counts[0] >= 1  # the other one read nothing that changed


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


def test_a_damaged_render_pack_is_ignored_and_rebuilt(
    tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    expected, _ = render(root)
    for path in render_packs(xdg):
        data = path.read_bytes()
        for start in range(100, len(data) - 64, max(len(data) // 4, 1)):
            data = data[:start] + b"\xff" * 64 + data[start + 64 :]
        path.write_bytes(data)
    again, counts = render(root)
    assert again == expected
    assert counts[1] >= 1
    warm, counts = render(root)
    assert warm == expected and counts == (2, 0)
