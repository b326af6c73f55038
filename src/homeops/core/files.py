"""Reading a repository's files once: text and parsed YAML are cached by absolute path.

Parsed documents are shared: callers that change them must take a copy (``yamlio.deep_copy``).
A subclass may see each file's bytes as they are read (``_read_bytes``; see ``homeops.core.git``). Every read is confined to the repository (:mod:`homeops.core.fs`): the
cache refuses a path that resolves outside it and anything that is not a regular file.
"""

from __future__ import annotations

import os
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any

from homeops.core import cache, fs, yamlio
from homeops.core.errors import HomeopsError


def clean(path: Path) -> Path:
    """An absolute, normalised path without touching the disk (``..`` folded, no symlink lookup)."""
    return _clean(str(path))


@lru_cache(maxsize=65536)
def _clean(path: str) -> Path:
    return Path(os.path.normpath(os.path.abspath(path)))


def parse_yaml(text: str, rel: str, store: cache.Pack | None) -> list[Any]:
    """``yamlio.load_all(text, rel)``, from the persistent parse cache when this text was parsed under
    this name before (the name is part of the key: it is the provenance of every mapping)."""
    if store is None:
        return yamlio.load_all(text, rel)
    key = cache.digest(b"yaml", rel.encode(), text.encode("utf-8", "surrogatepass"))
    blob = store.get(key)
    if blob is not None:
        try:
            docs: list[Any] = pickle.loads(blob)
            return docs
        except Exception:  # a damaged entry is a miss (any unpickling error)
            pass
    docs = yamlio.load_all(text, rel)
    store.put(key, pickle.dumps(docs, pickle.HIGHEST_PROTOCOL))
    return docs


def parse_store(scope: Path | str) -> cache.Pack | None:
    """The persistent parses of one repository (``scope``: its root, or the checkout it stands for)."""
    name = cache.digest(str(scope).encode()).hex()
    return cache.pack("parse", f"docs-{name}", 64 * 1024 * 1024)


class FileCache:
    """The files of one repository, read through its boundary (parses kept in the persistent cache of
    ``scope``: the repository, or the one a checkout of it stands for)."""

    def __init__(self, root: Path, *, scope: Path | str | None = None) -> None:
        self.root = root.resolve()
        self.boundary = fs.Boundary.at(self.root)
        self.parse_store = parse_store(scope if scope is not None else self.root)
        self._text: dict[Path, str] = {}
        self._docs: dict[Path, list[Any]] = {}

    def rel(self, path: Path) -> str:
        return _rel(str(clean(path)), str(self.root))

    def allow(self, directory: Path) -> None:
        """Also read below ``directory``, a layout homeops made itself (materialised artifacts)."""
        self.boundary = self.boundary.allowing(directory)

    def read_text(self, path: Path, what: str | None = None) -> str:
        """The text of a file inside the repository (``what`` names the reference in a refusal)."""
        path = clean(path)
        text = self._text.get(path)
        if text is None:
            target = self.boundary.check(path, what or f"'{self.rel(path)}'")
            data = self._read_bytes(path, target)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise HomeopsError(
                    "file is not valid UTF-8", self.rel(path), None, "save it as UTF-8"
                ) from None
            self._text[path] = text
        return text

    def _read_bytes(self, path: Path, target: Path) -> bytes:
        """The bytes of ``path``, whose real path ``target`` is inside the boundary."""
        return fs.read_regular(target, self.rel(path))

    def load_all(self, path: Path, what: str | None = None) -> list[Any]:
        """Every YAML document of a file, parsed once; do not modify the result."""
        path = clean(path)
        docs = self._docs.get(path)
        if docs is None:
            docs = parse_yaml(self.read_text(path, what), self.rel(path), self.parse_store)
            self._docs[path] = docs
        return docs

    def load_one(self, path: Path) -> Any:
        docs = self.load_all(path)
        return docs[0] if docs else None


@lru_cache(maxsize=65536)
def _rel(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/")
