"""Regular expressions compiled on first use.

A module-level ``re.compile`` runs in every process that imports the module, whether or not the run
ever matches with it; one with Unicode ranges takes milliseconds. :func:`lazy_pattern` defers the
compile to the first call (start-up), and every later call returns the same compiled pattern.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

_EVERY: list[Callable[[], re.Pattern[str]]] = []


def lazy_pattern(pattern: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """A function returning ``re.compile(pattern, flags)``, compiled by its first call."""
    compiled = functools.cache(functools.partial(re.compile, pattern, flags))
    _EVERY.append(compiled)
    return compiled


def compile_every_pattern() -> int:
    """Compile every lazy pattern of the modules imported so far (the start-up daemon does, once, so
    that no worker it forks compiles one again); how many."""
    for compiled in _EVERY:
        compiled()
    return len(_EVERY)
