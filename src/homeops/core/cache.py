"""The persistent cache of derived data (parses, builds, command answers) under the XDG cache dir.

Everything here can be recomputed from the repository, so the cache is best-effort: a missing,
truncated or garbled file is ignored (and rebuilt), a write that fails is dropped. Where it lives:
``$XDG_CACHE_HOME/homeops`` (default ``~/.cache/homeops``), beside the chart cache, one directory per
area (``parse/``, ``build/``, ``render/``, ``index/``, ``rules/``, ``replay/``), created ``0700`` and written
``0600``.

* **Packs** (:class:`Pack`): many small entries (key -> bytes) in one file, so a run opens one file per
  area instead of thousands. Every entry carries a checksum of its bytes; the file carries the
  fingerprint of the code that wrote it (:func:`code_fingerprint`), so a new homeops never reads an
  old one's entries. A run's new entries are appended to the pack's journal (``NAME.pack.log``: one
  ``write`` per run, ``O_APPEND``, each record with the code's fingerprint and a checksum), so a run
  that learnt a little writes a little, however large the pack. When the journal outgrows half the
  pack (or 1 MiB), the pack is rewritten whole with it, to a temporary file renamed over it
  (concurrent runs: the last rename wins, each file is always complete; the journal is renamed away
  first, so what others append meanwhile starts a new one), and the entries unused for the most runs
  go first when it outgrows its bound (LRU-ish: only that rewrite sees what a run used).
* **Bound**: the areas together stay under ``HOMEOPS_CACHE_MAX_MB`` (default 512 MB); the files used
  longest ago are removed first.
* **Off switch**: ``--no-cache`` on the rendering commands, or ``HOMEOPS_NO_CACHE=1``, and nothing is
  read from or written to it.

Nothing secret goes in: entries are derived from repository files only (homeops never decrypts SOPS),
and whatever involves ``--var`` values (which may come from the cluster's Secrets) is not stored.
This module imports only what the CLI's fast path can afford (no YAML, no library).
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up: replay loads this module)
if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

try:  # the BLAKE2 module alone: importing hashlib costs milliseconds (OpenSSL)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - every CPython build has it
    from hashlib import blake2b

ENV_DISABLE = "HOMEOPS_NO_CACHE"
ENV_MAX_MB = "HOMEOPS_CACHE_MAX_MB"
DEFAULT_MAX_MB = 512
AREAS = ("parse", "build", "render", "index", "rules", "replay")

FLUSH_BYTES = 64 * 1024 * 1024
"""New entries held in memory before a pack is written without waiting for the end of the process."""
_MAGIC = b"HOPACK1\n"
_HEADER_FORMAT = "<8s16sIQ"  # magic, code fingerprint, generation, index length
_RECORD_MAGIC = b"HOr1"
_RECORD_FORMAT = "<4s16sII8s"  # a journal record: magic, code fingerprint, key and value lengths, checksum
JOURNAL_MIN_BYTES = 1024 * 1024
"""A pack's journal is merged into it once larger than this and than half the pack."""
_disabled = False
_fingerprint: bytes | None = None


def digest(*parts: bytes) -> bytes:
    """A 16-byte BLAKE2b digest of the parts (each length-prefixed, so the split is part of the key)."""
    h = blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))  # struct's "<Q" (struct is not loaded for replays)
        h.update(part)
    return h.digest()


def disable() -> None:
    """Turn the cache off for this process (``--no-cache``)."""
    global _disabled
    _disabled = True


def enabled() -> bool:
    return not _disabled and os.environ.get(ENV_DISABLE, "").lower() not in ("1", "true", "yes")


def cache_dir() -> str:
    """``$XDG_CACHE_HOME/homeops``, or ``~/.cache/homeops``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "homeops")


def area(name: str) -> str:
    return os.path.join(cache_dir(), name)


def max_bytes() -> int:
    try:
        megabytes = float(os.environ.get(ENV_MAX_MB, DEFAULT_MAX_MB))
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return max(int(megabytes * 1024 * 1024), 0)


def code_fingerprint() -> bytes:
    """What the code that derives cached data is: every file of the installed package (name, size,
    modification time), the interpreter's version. Any change to homeops makes every entry stale."""
    global _fingerprint
    if _fingerprint is None:
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        lines = [sys.version]
        pending = [package]
        while pending:  # every replay pays this walk: the directory's own order (it is stable while
            directory = pending.pop()  # the directory is unchanged; a new order is only a miss)
            try:
                with os.scandir(directory) as it:
                    entries = list(it)
            except OSError:
                continue
            below = []
            for entry in entries:
                name = entry.name
                if entry.is_dir():
                    if name != "__pycache__":
                        below.append(entry.path)
                elif not name.endswith((".pyc", ".pyo")):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    lines.append(f"{directory[len(package) :]}/{name}:{st.st_size}:{st.st_mtime_ns}")
            pending.extend(below)
        _fingerprint = blake2b("\n".join(lines).encode("utf-8", "surrogateescape"), digest_size=16).digest()
    return _fingerprint


def write_atomic(path: str, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file renamed over it; False if it could not be."""
    import tempfile  # start-up: only when something is written

    try:
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        return False
    finally:
        if os.path.exists(tmp):
            try:  # noqa: SIM105 - contextlib costs start-up time on the fast path
                os.unlink(tmp)
            except OSError:
                pass


def read_file(path: str) -> bytes | None:
    """The bytes of a cache file, None when absent or unreadable; reading it marks it used (for LRU)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    touch(path)
    return data


def touch(path: str) -> None:
    try:  # noqa: SIM105 - contextlib costs start-up time on the fast path
        os.utime(path)
    except OSError:
        pass


def enforce_bound(limit: int | None = None) -> None:
    """Remove the least recently used files of the areas until they fit in ``limit`` bytes."""
    limit = max_bytes() if limit is None else limit
    files: list[tuple[float, int, str]] = []
    total = 0
    for name in AREAS:
        try:
            with os.scandir(area(name)) as it:
                for entry in it:
                    if entry.is_file(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        files.append((st.st_mtime, st.st_size, entry.path))
                        total += st.st_size
        except OSError:
            continue
    if total <= limit:
        return
    for _mtime, size, path in sorted(files):
        try:
            os.unlink(path)
        except OSError:
            continue
        total -= size
        if total <= limit:
            break


class Pack:
    """Entries ``key -> bytes`` in one file, read lazily, written whole (atomically) by :meth:`flush`.

    ``max_bytes`` bounds the file: when new entries would make it larger, the entries used the
    fewest runs ago are dropped first. ``get`` never fails: a damaged file or entry reads as missing.
    """

    def __init__(self, path: str, max_bytes: int = 128 * 1024 * 1024) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._loaded = False
        self._data: bytes | mmap.mmap = b""
        self._index: dict[bytes, tuple[int, int, bytes, int]] = {}
        self._journal: bytes = b""
        self._journal_index: dict[bytes, tuple[int, int, bytes, int]] = {}
        self._whole = False  # the pack read, and its journal read to the end: new entries may be appended
        self._generation = 0
        self._new: dict[bytes, bytes] = {}
        self._new_bytes = 0
        self._used: set[bytes] = set()
        self.hits = 0
        self.misses = 0

    @property
    def journal_path(self) -> str:
        return self.path + ".log"

    def _load(self) -> None:
        """Map the file (only the pages of entries asked for are read) and read its index, then read
        the journal's entries (they are newer)."""
        import mmap  # start-up: replays read no pack

        self._loaded = True
        self._data, self._index, self._generation, self._whole = b"", {}, 0, False
        try:
            with open(self.path, "rb") as handle:
                data: bytes | mmap.mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # absent, or empty (an empty file cannot be mapped)
            pass
        else:
            touch(self.path)
            parsed = _parse(data)
            if parsed is not None:
                self._data, self._generation, self._index = data, parsed[0], parsed[1]
                self._whole = True
        self._journal = read_file(self.journal_path) or b""
        self._journal_index, whole = _parse_journal(self._journal, self._generation + 1)
        self._whole = self._whole and whole

    def get(self, key: bytes) -> bytes | None:
        value = self._new.get(key)
        if value is not None:
            return value
        if not self._loaded:
            self._load()
        for index, data in ((self._journal_index, self._journal), (self._index, self._data)):
            where = index.get(key)
            if where is None:
                continue
            offset, length, check, _gen = where
            value = data[offset : offset + length]
            if len(value) != length or blake2b(value, digest_size=8).digest() != check:
                del index[key]  # damaged: rebuilt by the caller, rewritten at the next flush
                continue
            self._used.add(key)
            self.hits += 1
            return value
        self.misses += 1
        return None

    def put(self, key: bytes, value: bytes) -> None:
        self._new[key] = value
        self._new_bytes += len(value)
        self._used.add(key)
        if self._new_bytes > FLUSH_BYTES:  # a long-running process (serve) writes as it goes
            self.flush()

    def remembered(self, key: bytes, compute: Callable[[], T]) -> T:
        """``compute()``, kept under ``key`` across runs (pickled); a damaged entry is a miss and is
        written again. The one memo the parse, build and rule caches share."""
        import pickle  # start-up: replay reads packs but never unpickles

        blob = self.get(key)
        if blob is not None:
            try:
                kept: T = pickle.loads(blob)
                return kept
            except Exception:  # any unpickling error: a damaged entry
                pass
        value = compute()
        self.put(key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        return value

    @property
    def dirty(self) -> bool:
        return bool(self._new)

    def flush(self) -> bool:
        """Write the new entries: appended to the journal, or, when the journal has grown past its share
        (or the pack is absent, of other code, or would outgrow its bound), merged with the journal
        into the pack as it is now on disk (another run may have written it), evicting what does not
        fit, written atomically. Nothing happens without new entries."""
        if not self._new:
            return False
        if self._append():
            return True
        journal = self.journal_path
        merging = f"{journal}.{os.getpid()}"
        try:  # what others append from now on starts a new journal
            os.rename(journal, merging)
        except OSError:
            merging = ""
        try:
            return self._rewrite(read_file(merging) if merging else None)
        finally:
            if merging:
                try:  # noqa: SIM105 - contextlib costs start-up time on the fast path
                    os.unlink(merging)
                except OSError:
                    pass

    def _append(self) -> bool:
        """Append the new entries to the journal in one write; False when the pack must be rewritten."""
        import struct  # start-up: replays write no pack

        if not self._loaded:
            self._load()
        if not self._whole:  # absent, damaged or of other code, or a journal with a damaged record
            return False
        try:
            pack_size = os.stat(self.path).st_size
        except OSError:
            return False
        try:
            journal_size = os.stat(self.journal_path).st_size
        except OSError:
            journal_size = 0
        added = self._new_bytes + len(self._new) * (struct.calcsize(_RECORD_FORMAT) + 16)
        if journal_size + added > max(JOURNAL_MIN_BYTES, pack_size // 2):
            return False
        if pack_size + journal_size + added > self.max_bytes:
            return False
        record = struct.Struct(_RECORD_FORMAT)
        fingerprint = code_fingerprint()
        parts: list[bytes] = []
        for key, value in self._new.items():
            check = blake2b(value, digest_size=8).digest()
            parts += (record.pack(_RECORD_MAGIC, fingerprint, len(key), len(value), check), key, value)
        try:
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError:
            return False
        try:
            blob = b"".join(parts)
            written = os.write(fd, blob)
            while written < len(blob):  # a short write: the rest follows (a reader checks each record)
                written += os.write(fd, blob[written:])
        except OSError:
            return True  # the entries are dropped (the cache is best-effort), as a failed rewrite's
        finally:
            os.close(fd)
        self._new.clear()
        self._new_bytes = 0
        self._loaded = False
        return True

    def _rewrite(self, journal: bytes | None) -> bool:
        """Merge the pack on disk, ``journal`` (the journal taken for this) and the new entries into
        one file, evicting what does not fit; write it atomically."""
        current = read_file(self.path)
        parsed = _parse(current) if current is not None else None
        data, (generation, index) = (current or b""), (parsed or (0, {}))
        logged = _parse_journal(journal or b"", generation + 1)[0]
        generation = max(generation + 1, self._generation) + 1
        entries: list[tuple[int, bytes, bytes]] = []  # (generation, key, value)
        for in_pack, source, where in ((True, data, index), (False, journal or b"", logged)):
            for key, (offset, length, check, gen) in where.items():
                if key in self._new or (in_pack and key in logged):
                    continue
                value = bytes(source[offset : offset + length])
                if len(value) != length or blake2b(value, digest_size=8).digest() != check:
                    continue
                entries.append((generation if key in self._used else gen, key, value))
        entries.extend((generation, key, value) for key, value in self._new.items())
        entries.sort(key=lambda e: -e[0])  # newest first: what does not fit is the oldest
        kept: list[tuple[int, bytes, bytes]] = []
        size = 0
        for entry in entries:
            if size + len(entry[2]) > self.max_bytes and kept:
                break
            kept.append(entry)
            size += len(entry[2])
        blob = _serialise(generation, kept)
        self._new.clear()
        self._new_bytes = 0
        self._loaded = False
        return write_atomic(self.path, blob)


_open: dict[str, Pack] = {}
_registered = False


def pack(area_name: str, name: str, max_bytes: int = 128 * 1024 * 1024) -> Pack | None:
    """The pack ``name`` of an area, one object per process (None when the cache is off); written back
    by :func:`flush` (registered to run at exit)."""
    if not enabled():
        return None
    path = os.path.join(area(area_name), f"{name}.pack")
    found = _open.get(path)
    if found is None:
        global _registered
        if not _registered:
            import atexit  # first pack of the process: write the packs back when it ends

            atexit.register(flush)
            _registered = True
        found = _open[path] = Pack(path, max_bytes)
    return found


def reset() -> None:
    """Forget the packs this process opened (after :func:`flush`): the next use reads them afresh, as a
    new process would. Also turns the cache back on after :func:`disable`."""
    global _disabled
    _open.clear()
    _disabled = False


def flush() -> None:
    """Write every pack with new entries, then keep the areas within their bound."""
    wrote = False
    for opened in _open.values():
        wrote = opened.flush() or wrote
    if wrote:
        enforce_bound()


def _parse(data: bytes | mmap.mmap) -> tuple[int, dict[bytes, tuple[int, int, bytes, int]]] | None:
    """The generation and index of a pack file, None when it is damaged or from other code."""
    import struct  # start-up: replays read no pack

    try:
        header = struct.Struct(_HEADER_FORMAT)
        magic, stamp, generation, index_length = header.unpack_from(data, 0)
        if magic != _MAGIC or stamp != code_fingerprint():
            return None
        start = header.size
        index = marshal.loads(data[start : start + index_length])
        if not isinstance(index, dict):
            return None
        base = start + index_length
        entries = {key: (base + off, length, check, gen) for key, (off, length, check, gen) in index.items()}
        if any(off + length > len(data) for off, length, _check, _gen in entries.values()):
            return None  # cut short: rewritten whole by the next run that writes
        return generation, entries
    except (struct.error, ValueError, EOFError, TypeError):
        return None


def _parse_journal(data: bytes, generation: int) -> tuple[dict[bytes, tuple[int, int, bytes, int]], bool]:
    """The entries of a journal (offsets into ``data``; later records of a key win), all of
    ``generation``, and whether it was read to its end: records of other code are skipped, reading
    stops at the first damaged one (nothing after it can be trusted to line up)."""
    import struct  # start-up: replays read no pack

    record = struct.Struct(_RECORD_FORMAT)
    fingerprint = code_fingerprint()
    index: dict[bytes, tuple[int, int, bytes, int]] = {}
    offset, end = 0, len(data)
    while offset + record.size <= end:
        magic, stamp, key_length, value_length, check = record.unpack_from(data, offset)
        start = offset + record.size
        stop = start + key_length + value_length
        if magic != _RECORD_MAGIC or stop > end:
            return index, False
        if stamp == fingerprint:
            key = bytes(data[start : start + key_length])
            index[key] = (start + key_length, value_length, check, generation)
        offset = stop
    return index, offset == end


def _serialise(generation: int, entries: list[tuple[int, bytes, bytes]]) -> bytes:
    index: dict[bytes, tuple[int, int, bytes, int]] = {}
    offset = 0
    for gen, key, value in entries:
        index[key] = (offset, len(value), blake2b(value, digest_size=8).digest(), gen)
        offset += len(value)
    encoded = marshal.dumps(index)
    import struct  # start-up: replays write no pack

    header = struct.pack(_HEADER_FORMAT, _MAGIC, code_fingerprint(), generation, len(encoded))
    return b"".join([header, encoded, *(value for _gen, _key, value in entries)])
