"""Work spread over threads that never hold the process: registry requests in parallel.

``concurrent.futures`` joins its worker threads when the ``with`` block ends and again when the
interpreter exits, so a Ctrl-C while a registry does not answer waited for every request in flight
(up to the request limit, a minute) before the command ended. These threads are daemon threads and
the caller waits on them interruptibly: Ctrl-C ends the command at once, the requests in flight are
abandoned with the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(function: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``function`` of each item, in the items' order, on up to ``workers`` threads; the first item's
    exception (in the items' order) is raised once every item is done."""
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    results: list[R | None] = [None] * len(items)
    errors: list[BaseException | None] = [None] * len(items)
    indices = iter(range(len(items)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                index = next(indices, None)
            if index is None:
                return
            try:
                results[index] = function(items[index])
            except BaseException as exc:  # handed to the caller's thread
                errors[index] = exc

    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(workers, len(items)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # a Ctrl-C interrupts the wait (the threads are abandoned with the process)
    for error in errors:
        if error is not None:
            raise error
    return results  # type: ignore[return-value]  # every index was filled (no error was raised)
