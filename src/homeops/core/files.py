"""Reading a repository's files once: text and parsed YAML are cached by absolute path.

Parsed documents are shared: callers that change them must take a copy (``yamlio.deep_copy``).
A cache can also be backed by a Git revision instead of the working tree (see ``homeops.core.git``),
through the ``reader`` hook.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from homeops.core import yamlio
from homeops.core.errors import HomeopsError

Reader = Callable[[Path], bytes]


def clean(path: Path) -> Path:
    """An absolute, normalised path without touching the disk (``..`` folded, no symlink lookup)."""
    return _clean(str(path))


@lru_cache(maxsize=65536)
def _clean(path: str) -> Path:
    return Path(os.path.normpath(os.path.abspath(path)))


class FileCache:
    def __init__(self, root: Path, reader: Reader | None = None) -> None:
        self.root = root.resolve()
        self._reader = reader
        self._text: dict[Path, str] = {}
        self._docs: dict[Path, list[Any]] = {}

    def rel(self, path: Path) -> str:
        return _rel(str(clean(path)), str(self.root))

    def read_text(self, path: Path) -> str:
        path = clean(path)
        text = self._text.get(path)
        if text is None:
            try:
                data = self._reader(path) if self._reader else path.read_bytes()
            except FileNotFoundError:
                raise HomeopsError("file does not exist", self.rel(path), None, "fix the path") from None
            except IsADirectoryError:
                raise HomeopsError("expected a file, found a directory", self.rel(path)) from None
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise HomeopsError(
                    "file is not valid UTF-8", self.rel(path), None, "save it as UTF-8"
                ) from None
            self._text[path] = text
        return text

    def load_all(self, path: Path) -> list[Any]:
        """Every YAML document of a file, parsed once; do not modify the result."""
        path = clean(path)
        docs = self._docs.get(path)
        if docs is None:
            docs = yamlio.load_all(self.read_text(path), self.rel(path))
            self._docs[path] = docs
        return docs

    def load_one(self, path: Path) -> Any:
        docs = self.load_all(path)
        return docs[0] if docs else None


@lru_cache(maxsize=65536)
def _rel(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/")
