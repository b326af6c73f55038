"""A diff's side rendered at a commit, kept across runs by that commit (cache area ``render``).

A commit fixes every file a side reads, so the side is decided by the commit and by what the run
adds to it: the directory below the repository's top, ``--cluster``, the head's clusters (rendered
at the base too when their directory is there), the remotes that make a source this repository, the
render settings and the limits in force. Under that key a side is rendered once: the next diff
against the same base (the working tree against ``HEAD`` after every edit, a pull request's review
against the commit of its target branch) neither checks the commit out nor renders it again.

Nothing is kept when values given on the command line are in play (``--var``, ``--vars-file``,
``--placeholders``: the cache never holds them), with ``--enable-helm`` (charts are fetched, their
expansion changes the objects), ``--remote`` (what a URL serves is no part of a commit) or
``--findings`` (the rules read the checkout itself), nor a side that mentions its temporary checkout
or that could not be checked out or rendered whole.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from pathlib import Path

from homeops.core import cache, limits
from homeops.diff.sides import Discovery, Side
from homeops.flux.cluster import Cluster
from homeops.flux.settings import RenderSettings

_MAX_BYTES = 16 * 1024 * 1024
"""A side of the user's repository is about 0.7 MB: the recent commits' sides (``HEAD``, a target
branch) fit, and the pack, rewritten whole when a side is added, stays quick to write."""


class SideMemo:
    """Sides by key, in the persistent cache of the repository ``scope`` (off: nothing is kept)."""

    def __init__(self, scope: Path | None, *, enabled: bool = True) -> None:
        self.store = None
        if enabled and scope is not None:
            name = f"sides-{cache.digest(str(scope).encode()).hex()}"
            self.store = cache.pack("render", name, _MAX_BYTES)
        self.hits = 0
        self.misses = 0

    def key(
        self,
        commit: str,
        prefix: str,
        cluster: str | None,
        also: Sequence[Cluster],
        urls: set[str],
        settings: RenderSettings,
    ) -> bytes | None:
        """What a side at ``commit`` is decided by besides the commit's files (None: not kept)."""
        if self.store is None:
            return None
        text = json.dumps(
            [
                commit,
                prefix,
                cluster,
                [[c.name, c.directory] for c in also],
                sorted(urls),
                settings.memo_key(),
                repr(limits.current()),
            ],
            sort_keys=True,
        )
        return cache.digest(b"diff-side", text.encode("utf-8", "surrogateescape"))

    def find(self, key: bytes | None) -> tuple[Discovery, Side] | None:
        """The side kept under ``key`` and the discovery it was rendered from (None: render it)."""
        if key is None or self.store is None:
            return None
        blob = self.store.get(key)
        if blob is not None:
            try:
                found: tuple[Discovery, Side] = pickle.loads(blob)
                self.hits += 1
                return found
            except Exception:  # a damaged entry is a miss (any unpickling error)
                pass
        self.misses += 1
        return None

    def keep(self, key: bytes | None, discovery: Discovery, side: Side, checkout: Path) -> bool:
        """Keep a side rendered whole from the temporary ``checkout``; whether it was kept."""
        if key is None or self.store is None or side.failed:
            return False
        blob = pickle.dumps((discovery, side), pickle.HIGHEST_PROTOCOL)
        if checkout.name.encode("utf-8", "surrogateescape") in blob:  # a unique temporary name
            return False  # it names the temporary directory: another run's checkout is elsewhere
        self.store.put(key, blob)
        return True
