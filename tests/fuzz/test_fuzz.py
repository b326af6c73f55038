"""The fuzz test CI runs: mutations of the example repository through the real command line.

Bounded: ``HOMEOPS_FUZZ_EXAMPLES`` examples (default 400: one to two minutes on two cores, 0.15-0.3 s an
example); the long run is ``python tests/fuzz/fuzz_long.py --minutes 30``. What must hold is :func:`fuzzing.check_outcome`:
exit 0/1/2, one-line errors, no forged line, nothing read outside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fuzzing import Workspace, run_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("HOMEOPS_FUZZ_EXAMPLES", "400"))


class DrawSource:
    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(Path(tmp_path_factory.mktemp("fuzz")))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_mutated_repository_never_crashes_leaks_or_forges(workspace: Workspace, data: st.DataObject) -> None:
    mutation, results = run_example(DrawSource(data), workspace)
    for outcome, problems in results:
        assert not problems, f"{' '.join(outcome.argv[:3])} after [{mutation}]: {problems}"
