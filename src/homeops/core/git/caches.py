"""File caches that share parses across revisions.

:class:`ContentFileCache` keys parsed YAML by (path, content hash) in a :class:`ParseCache` that
several caches share, so a file identical at both revisions is parsed once. Whether a render
result can be reused is decided by what it looked at (``FileCache.touch``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core.files import FileCache, blob_id, clean, parse_yaml


@dataclass
class ParseCache:
    """Parsed YAML keyed by (repository-relative path, blob id), and texts keyed by blob id, shared by
    several file caches."""

    docs: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0


class ContentFileCache(FileCache):
    """A :class:`FileCache` that shares parses through a ParseCache, keyed by each file's blob id."""

    def __init__(
        self,
        root: Path,
        parses: ParseCache | None = None,
        known_ids: dict[str, str] | None = None,
        *,
        scope: Path | str | None = None,
    ) -> None:
        super().__init__(root, scope=scope, known=known_ids)
        self.parses = parses if parses is not None else ParseCache()

    def read_text(self, path: str | os.PathLike[str], what: str | None = None) -> str:
        """The text of a file, not read again when Git vouches (:attr:`known`: the ids of a checkout
        homeops wrote, regular files only) that it is content another sharing cache has read."""
        path = clean(path)
        if path not in self._text:
            blob = self.known.get(self.rel(path))
            shared = self.parses.texts.get(blob) if blob is not None else None
            if shared is not None:
                self._text[path] = shared
        text = super().read_text(path, what)
        blob = self.known.get(self.rel(path))
        if blob is not None:
            self.parses.texts.setdefault(blob, text)
        return text

    def load_all(self, path: Path, what: str | None = None) -> list[Any]:
        """Every YAML document of a file, parsed once per content across every sharing cache."""
        path = path.resolve()
        if self.recording is not None:
            self.touch(path)
        docs = self._docs.get(path)
        if docs is not None:
            return docs
        text = self.read_text(path, what)
        rel = self.rel(path)
        key = (rel, self.known.get(rel) or blob_id(text.encode("utf-8")))
        docs = self.parses.docs.get(key)
        if docs is None:
            self.parses.misses += 1
            docs = parse_yaml(text, rel, self.parse_store)
            self.parses.docs[key] = docs
        else:
            self.parses.hits += 1
        self._docs[path] = docs
        return docs
