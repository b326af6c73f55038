"""Whether this run may use the network for what a render fetches (charts, files named by URL)."""

from __future__ import annotations

import os

OFFLINE_ENV = "HOMEOPS_OFFLINE"
"""Set to 1 (true, yes) to keep every fetch to the cache, as ``--offline`` does."""


def offline(asked: bool = False) -> bool:
    """``asked`` (``--offline``, ``Workspace(offline=True)``) or :data:`OFFLINE_ENV` set."""
    return asked or os.environ.get(OFFLINE_ENV, "").lower() in ("1", "true", "yes")
