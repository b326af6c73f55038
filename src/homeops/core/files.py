"""Reading a repository's files once: text and parsed YAML are cached by absolute path.

Parsed documents are shared: callers that change them must take a copy (``yamlio.deep_copy``).
A subclass may see each file's bytes as they are read (``_read_bytes``; see ``homeops.core.git.caches``). Every read is confined to the repository (:mod:`homeops.core.fs`): the
cache refuses a path that resolves outside it and anything that is not a regular file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from homeops.core import cache, fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.listing import Listing

T = TypeVar("T")


def clean(path: str | os.PathLike[str]) -> Path:
    """An absolute, normalised path without touching the disk (``..`` folded, no symlink lookup);
    the same ``Path`` object for the same path (memoised: a run asks for the same paths many times)."""
    return _clean(os.fspath(path))


@lru_cache(maxsize=65536)
def _clean(path: str) -> Path:
    return Path(_normal(path))


@lru_cache(maxsize=65536)
def _normal(path: str) -> str:
    """:func:`clean` as a string (no ``Path`` made: signatures are asked for hundreds of paths a run)."""
    return os.path.normpath(os.path.abspath(path))


def blob_id(data: bytes) -> str:
    """The id Git gives a blob with this content (``git hash-object``): the content digest of a file
    everywhere homeops keeps one, so ids Git already knows can stand for reading the file."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def parse_yaml(text: str, rel: str, store: cache.Pack | None) -> list[Any]:
    """``yamlio.load_all(text, rel)``, from the persistent parse cache when this text was parsed under
    this name before (the name is part of the key: it is the provenance of every mapping)."""
    if store is None:
        return yamlio.load_all(text, rel)
    key = cache.digest(b"yaml", rel.encode(), text.encode("utf-8", "surrogatepass"))
    return store.remembered(key, lambda: yamlio.load_all(text, rel))


def parse_store(scope: Path | str) -> cache.Pack | None:
    """The persistent parses of one repository (``scope``: its root, or the checkout it stands for)."""
    name = cache.digest(str(scope).encode()).hex()
    return cache.pack("parse", f"docs-{name}", 64 * 1024 * 1024)


class FileCache:
    """The files of one repository, read through its boundary (parses kept in the persistent cache of
    ``scope``: the repository, or the one a checkout of it stands for)."""

    def __init__(
        self, root: Path, *, scope: Path | str | None = None, known: dict[str, str] | None = None
    ) -> None:
        self.root = root.resolve()
        self.listing = Listing(str(self.root))
        """The run's one listing of the repository (every walker of the run reads its directories)."""
        self.boundary = fs.Boundary.at(self.root, reals=fs.RealPaths(self.listing.is_link))
        self.scope = scope if scope is not None else self.root
        self.parse_store = parse_store(self.scope)
        self._text: dict[Path, str] = {}
        self._docs: dict[Path, list[Any]] = {}
        self.known: dict[str, str] = dict(known or {})
        """Blob id of each file (repository-relative) as read, or as Git vouches for it unchanged."""
        self._signatures: dict[str, Signature] = {}  # by normalised absolute path
        self.recording: dict[str, Signature] | None = None
        self.derived: dict[object, Any] = {}
        """What upper layers derive from these reads and share for as long as this cache lives (the
        repository index every cluster's render uses), by a key of their choosing."""
        self.opened = time.time_ns()
        """When this cache was made: every content read through it was read after it."""

    def rel(self, path: Path) -> str:
        return _rel(str(clean(path)), str(self.root))

    def real(self, path: str | os.PathLike[str]) -> str:
        """``os.path.realpath`` of ``path``, its directories resolved once per run."""
        return self.boundary.reals(path)

    def allow(self, directory: Path) -> None:
        """Also read below ``directory``, a layout homeops made itself (materialised artifacts)."""
        self.boundary = self.boundary.allowing(directory)

    def read_text(self, path: str | os.PathLike[str], what: str | None = None) -> str:
        """The text of a file inside the repository (``what`` names the reference in a refusal)."""
        path = clean(path)
        if self.recording is not None:
            self.touch(path)
        text = self._text.get(path)
        if text is None:
            data = self.read_bytes(path, what)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise HomeopsError(
                    "file is not valid UTF-8", self.rel(path), None, "save it as UTF-8"
                ) from None
            self._text[path] = text
        return text

    def kept_text(self, path: str | os.PathLike[str]) -> str | None:
        """The text of a file this run has read already, else None (nothing is read)."""
        return self._text.get(clean(path))

    def read_bytes(self, path: Path, what: str | None = None) -> bytes:
        """The bytes of a file inside the repository, read through its boundary (not kept: the text
        of YAML files is, see :meth:`read_text`; generator files are read once per build)."""
        path = clean(path)
        if self.recording is not None:
            self.touch(path)
        target = self.boundary.checked(path, what or f"'{self.rel(path)}'")
        data = self._read_bytes(path, target)
        self.known[self.rel(path)] = blob_id(data)
        return data

    def _read_bytes(self, path: Path, target: str) -> bytes:
        """The bytes of ``path``, whose real path ``target`` is inside the boundary."""
        return fs.read_regular(target, self.rel(path))

    def load_all(self, path: Path, what: str | None = None) -> list[Any]:
        """Every YAML document of a file, parsed once; do not modify the result."""
        path = clean(path)
        if self.recording is not None:
            self.touch(path)
        docs = self._docs.get(path)
        if docs is None:
            docs = parse_yaml(self.read_text(path, what), self.rel(path), self.parse_store)
            self._docs[path] = docs
        return docs

    def load_one(self, path: Path) -> Any:
        docs = self.load_all(path)
        return docs[0] if docs else None

    # ------------------------------------------------------------------ what a computation depended on
    def touch(self, path: Path) -> None:
        """Note that the running computation looked at ``path`` (read it, listed it, tested whether it
        exists or what it is, resolved its links): while :attr:`recording`, its :meth:`signature` is
        kept under its repository-relative name, so a cached result can be checked against it later."""
        if self.recording is not None:
            rel = self.rel(path)
            if rel not in self.recording:
                self.recording[rel] = self.signature(path)

    def signature(self, path: str | os.PathLike[str]) -> Signature:
        """What any look at ``path`` can see, as of this run: whether it is a link, where its links lead
        (relative to the root), what is there, and its content (a file's blob id, read through the
        boundary unless Git vouched for it in :attr:`known`; a directory's names and kinds). Equal
        signatures, equal answers."""
        text = _normal(os.fspath(path))
        found = self._signatures.get(text)
        if found is not None:
            return found
        link = self.listing.is_link(text)
        real = self.real(text)
        where = _rel(real, str(self.root))
        if not self.boundary.contains(real):  # nothing outside is looked into, not even listed
            found = self._signatures[text] = (link, where, "x", None)
            return found
        what = self._what(real)
        if what == "d":
            try:
                content: Any = tuple((e.name, _kind(e)) for e in self._entries(real))
                kind = "d"
            except OSError as exc:
                kind, content = "!", exc.errno
        elif what == "f":
            kind = "f"
            rel = _rel(text, str(self.root))
            digest = None if link else self.known.get(rel)  # a link's target is read: Git knows links
            if digest is None:
                file = clean(text)
                try:
                    data = self.read_bytes_quietly(file)
                    digest = self.known.get(rel)
                    if file not in self._text:  # the build reads it next: once is enough
                        with contextlib.suppress(UnicodeDecodeError):
                            self._text[file] = data.decode("utf-8")
                except HomeopsError as exc:
                    kind, digest = "!", type(exc).__name__
            content = digest
        else:
            kind, content = what, None
        found = self._signatures[text] = (link, where, kind, content)
        return found

    def kind(self, path: str | os.PathLike[str]) -> str:
        """What ``path`` leads to, links followed: a directory (d), a regular file (f), something else
        (o), nothing (-); ``os.path.isdir``/``isfile`` from the run's listing, without a system call
        per question below the root."""
        return self._what(self.real(path))

    def _what(self, real: str) -> str:
        """What is at a real path: a directory (d), a regular file (f), something else (o), nothing (-);
        from the run's listing below the root, whose entries say what they are."""
        rel = self.listing.inside(real)
        if rel:
            try:
                entry = self.listing.entry(rel)
            except OSError:  # its directory cannot be listed: ask the system
                entry = None
            else:
                if entry is None:
                    return "-"
                if not entry.is_symlink():  # a real path's last component is no link, but for a race
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            return "d"
                        if entry.is_file(follow_symlinks=False):
                            return "f"
                    except OSError:
                        return "-"
                    return "o"
        if os.path.isdir(real):
            return "d"
        if os.path.isfile(real):
            return "f"
        return "-" if not os.path.lexists(real) else "o"

    def _entries(self, real: str) -> tuple[os.DirEntry[str], ...]:
        """The entries of a real directory, sorted by name (the listing's, below the root)."""
        rel = self.listing.inside(real)
        if rel is not None:
            return self.listing.entries(rel)
        with os.scandir(real) as it:
            return tuple(sorted(it, key=lambda e: e.name))

    def read_bytes_quietly(self, path: Path) -> bytes:
        """:meth:`read_bytes` without noting the read (computing a signature is not a look by the build)."""
        outer, self.recording = self.recording, None
        try:
            return self.read_bytes(path)
        finally:
            self.recording = outer

    def unchanged(self, facts: Iterable[tuple[str, Signature]]) -> bool:
        """Do these recorded signatures still hold (each path looked at is as it was)? Never for a
        :data:`VOLATILE` fact (what a URL served: nothing in the repository vouches for it)."""
        root = str(self.root)
        return all(
            not rel.startswith(VOLATILE) and self.signature(os.path.join(root, rel)) == sig
            for rel, sig in facts
        )

    def record(self, run: Callable[[], T]) -> tuple[T, Facts]:
        """``run()``, and every path it looked at with its signature (sorted): what a kept result of it
        depends on. A recording around this one depends on them too (:meth:`note`)."""
        outer, self.recording = self.recording, {}
        try:
            value = run()
            facts = tuple(sorted(self.recording.items()))
        finally:
            self.recording = outer
        self.note(facts)
        return value, facts

    def note(self, facts: Facts) -> None:
        """The running recording (if any) depends on these facts too: a kept result stands for looking."""
        outer = self.recording
        if outer is not None:
            for rel, sig in facts:
                outer.setdefault(rel, sig)


VOLATILE = "\x00"
"""The first character of a recorded fact that no signature vouches for (a fetched URL): a result
that depends on one is never taken back from a cache."""

Signature = tuple[bool, str, str, Any]
"""(is a link, its real path relative to the root, kind: d f - o !, content)."""

Facts = tuple[tuple[str, Signature], ...]
"""What a computation looked at: each path (repository-relative) with its :data:`Signature`."""


class KeptResults:
    """Results kept under a key while what they were computed from still holds: a few candidates per
    key (the newest first), each the facts recorded while computing it and its pickled value. In memory
    for the run and, with a ``store``, across runs; a damaged entry is no entry."""

    def __init__(self, store: cache.Pack | None, candidates: int = 3) -> None:
        self.store = store
        self.candidates = candidates
        self.memory: dict[bytes, list[tuple[Facts, bytes]]] = {}

    def matching(self, key: bytes, files: FileCache) -> Iterator[tuple[Facts, bytes]]:
        """The candidates of ``key`` whose facts hold in ``files`` (the caller unpickles the value and
        takes the next one when it is damaged)."""
        for facts, blob in self._candidates(key):
            if files.unchanged(facts):
                yield facts, blob

    def add(self, key: bytes, facts: Facts, blob: bytes) -> None:
        """Keep a result (first in line; one with the same facts is replaced)."""
        kept = [(facts, blob), *(c for c in self._candidates(key) if c[0] != facts)][: self.candidates]
        self.memory[key] = kept
        if self.store is not None:
            self.store.put(key, pickle.dumps(kept, pickle.HIGHEST_PROTOCOL))

    def _candidates(self, key: bytes) -> list[tuple[Facts, bytes]]:
        found = self.memory.get(key)
        if found is not None:
            return found
        found = []
        blob = self.store.get(key) if self.store is not None else None
        if blob is not None:
            try:
                found = list(pickle.loads(blob))
            except Exception:  # a damaged entry is no entry (any unpickling error)
                found = []
        self.memory[key] = found
        return found


def _kind(entry: os.DirEntry[str]) -> str:
    """A directory entry's kind as a look through it sees it: link or not, then what it leads to."""
    try:
        link = "l" if entry.is_symlink() else ""
        if entry.is_dir():
            return link + "d"
        if entry.is_file():
            return link + "f"
        return link + ("-" if link and not os.path.exists(entry.path) else "o")
    except OSError:
        return "!"


@lru_cache(maxsize=65536)
def _rel(path: str, root: str) -> str:
    """``path`` (normalised, absolute) relative to ``root``, with ``/``; a path below the root is cut,
    not computed (``relpath`` normalises both again)."""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if path.startswith(prefix) and len(path) > len(prefix):
        return path[len(prefix) :].replace(os.sep, "/")
    return os.path.relpath(path, root).replace(os.sep, "/")
