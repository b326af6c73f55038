"""core/collector.py: the collector's young-generation threshold is raised while renders run and put
back as it was after the outermost one, also when a render fails."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from homeops.core.collector import YOUNG_THRESHOLD, fewer_collections


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_raised_inside_and_restored_after_nested_uses() -> None:
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10), "the outer block still runs"
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("render failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_or_collection_off_is_left_alone() -> None:
    for threshold in ((YOUNG_THRESHOLD * 2, 10, 10), (0, 10, 10)):
        gc.set_threshold(*threshold)
        with fewer_collections():
            assert gc.get_threshold() == threshold
        assert gc.get_threshold() == threshold


def test_the_api_collects_less_while_it_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Workspace.check`` called from a script (not the CLI) runs its rules collecting less, and the
    thresholds are as before once it returns."""
    from pathlib import Path

    from homeops.api import Workspace
    from homeops.rules import engine

    seen: list[tuple[int, int, int]] = []
    run_checks = engine.run_checks

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return run_checks(*args, **kwargs)

    monkeypatch.setattr(engine, "run_checks", recording)
    example = Path(__file__).resolve().parents[2] / "examples" / "home-ops"
    result = Workspace(example).check(cluster="chongus")
    assert result.findings is not None
    assert seen == [(YOUNG_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)
