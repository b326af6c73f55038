"""The content-addressed cache of charts, manifests and layers.

Blobs live under ``blobs/sha256/<hex>`` and are written atomically once their digest is verified, so
a digest-pinned source never needs the network again. ``refs/`` remembers what tags, tag lists and
repository indexes last resolved to: only ``offline`` mode reads them, because tags move.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from homeops.core.errors import HomeopsError


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "homeops"


def _safe_name(text: str) -> str:
    """A file name for an arbitrary key: readable prefix plus a hash, never a path."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """A temporary path beside ``dest`` that is renamed onto it when the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(dest: Path, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


class Cache:
    """``$XDG_CACHE_HOME/homeops`` (default ``~/.cache/homeops``)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    # -- blobs ------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        if algorithm not in ("sha256", "sha512") or not re.fullmatch(r"[a-f0-9]{64,128}", hexdigest):
            raise HomeopsError(f"invalid digest {digest!r}")
        return self.root / "blobs" / algorithm / hexdigest

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str) -> bytes | None:
        path = self.blob_path(digest)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def put_blob(self, data: bytes, digest: str | None = None) -> str:
        """Store ``data``; when ``digest`` is given it must match, else nothing is stored."""
        algorithm = digest.split(":", 1)[0] if digest else "sha256"
        actual = f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
        if digest and actual != digest:
            raise HomeopsError(
                f"content hashes to {actual}, not {digest}", None, None, "the download is corrupt"
            )
        path = self.blob_path(actual)
        if not path.is_file():
            write_atomic(path, data)
        return actual

    def discard_blob(self, path: Path) -> None:
        """Forget a blob that was refused (too large, not a safe archive): nothing refused stays."""
        try:
            path.relative_to(self.root / "blobs")
        except ValueError:
            return  # not one of the cache's own files
        path.unlink(missing_ok=True)

    # -- derived directories (extracted archives) -------------------------------------------

    def extracted_dir(self, kind: str, digest: str) -> Path:
        return self.root / kind / digest.replace(":", "-")

    # -- references (what a moving name resolved to last time) ------------------------------

    def _ref_path(self, kind: str, key: str) -> Path:
        return self.root / "refs" / kind / f"{_safe_name(key)}.json"

    def get_ref(self, kind: str, key: str) -> Any:
        path = self._ref_path(kind, key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != key:
            return None
        return record.get("value")

    def put_ref(self, kind: str, key: str, value: Any) -> None:
        write_atomic(self._ref_path(kind, key), json.dumps({"key": key, "value": value}).encode())
