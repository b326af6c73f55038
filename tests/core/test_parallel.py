"""core.parallel: results in order, errors raised in the caller, daemon threads."""

from __future__ import annotations

import threading
import time

import pytest

from homeops.core.parallel import parallel_map


def test_results_come_in_the_items_order_whatever_finishes_first() -> None:
    def slow_for_small(n: int) -> int:
        time.sleep(0.01 * (5 - n))
        return n * n

    assert parallel_map(slow_for_small, [0, 1, 2, 3, 4], 4) == [0, 1, 4, 9, 16]


def test_the_first_items_error_is_raised_after_every_item_ran() -> None:
    ran: list[int] = []

    def check(n: int) -> int:
        ran.append(n)
        if n in (1, 3):
            raise ValueError(f"bad {n}")
        return n

    with pytest.raises(ValueError, match="bad 1"):
        parallel_map(check, [0, 1, 2, 3], 2)
    assert sorted(ran) == [0, 1, 2, 3]


def test_work_runs_on_daemon_threads_that_cannot_hold_the_process() -> None:
    seen: list[bool] = []

    def where(_n: int) -> None:
        seen.append(threading.current_thread().daemon)

    parallel_map(where, [1, 2, 3], 3)
    assert seen == [True, True, True]


def test_one_worker_or_one_item_runs_in_the_callers_thread() -> None:
    caller = threading.get_ident()
    assert parallel_map(lambda _n: threading.get_ident(), [1, 2], 1) == [caller, caller]
    assert parallel_map(lambda _n: threading.get_ident(), [1], 8) == [caller]
