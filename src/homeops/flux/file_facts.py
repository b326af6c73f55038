"""What the repository index needs to know of each YAML file's text, kept across runs.

Before a render starts, :class:`homeops.flux.repo_index.RepoIndex` looks at every YAML file of the
repository for the few that can matter to it: those mentioning ``sync:`` and ``path:`` (a FluxInstance
sync), those that may hold a Git/OCI/Bucket source or an ArtifactGenerator, and those writing a given
kind (a ConfigMap or Secret applied at bootstrap). Those questions are answered by a file's text
alone, so their answers (:class:`TextFacts`) are kept in the persistent cache (area ``index``) under
the file's content id (Git's blob id), and a file is read again only when nothing vouches that its
content is the one they were derived from:

* Git's word: the blob ids a checkout of a revision was written from, or ``check --changed``'s
  unchanged files (``FileCache.known``);
* for the working tree, what ``lstat`` says of it (size, modification and change times, inode,
  device, mode), as Git compares its index with the work tree: the id is kept with that stat and
  taken back while the stat is the same. Like Git, times too recent are not trusted: a file changed
  within :data:`homeops.core.snapshot.RACY_NS` before its file cache was opened could change again
  without its times moving, so its stat is not kept (it is read at the next run). Links are always
  read (their target may change without the link changing).

A file the stat vouches for is also given to the file cache as known (``FileCache.known``), so what a
kept render's facts check (each file's signature) needs no read of it either. Files that matter are
read and parsed as before; a render records exactly what it recorded when every text was read.
With the cache off (``--no-cache``, ``HOMEOPS_NO_CACHE``) every file is read, as before.
"""

from __future__ import annotations

import marshal
import os
import re
import stat
from pathlib import Path
from typing import NamedTuple, TypeGuard

from homeops.core import cache, limits
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.snapshot import RACY_NS
from homeops.flux.model import SOURCE_GROUP

GENERATOR_GROUP = "source.extensions.fluxcd.io"
SOURCE_KIND = re.compile(r"^[ \t]*kind:[ \t]*[\"']?(GitRepository|OCIRepository|Bucket)\b", re.MULTILINE)
KIND_PREFIX = 64
"""How much of what follows each ``kind: `` is kept (a longer kind asked for reads the text)."""

_SYNC, _SOURCE, _GENERATOR, _COMPONENT = 1, 2, 4, 8
_SOURCE_OF = {"GitRepository": 16, "OCIRepository": 32, "Bucket": 64}  # which source kinds it may hold
_KIND = "kind: "


class TextFacts(NamedTuple):
    """What the index asks of a file's text: ``flags`` (mentions ``sync:`` and ``path:``; may hold a
    source; may hold an ArtifactGenerator; may be a kustomize Component) and what follows each
    ``kind: `` on its line (cut to :data:`KIND_PREFIX`)."""

    flags: int
    kinds: tuple[str, ...]

    @property
    def mentions_sync(self) -> bool:
        return bool(self.flags & _SYNC)

    @property
    def may_hold_source(self) -> bool:
        return bool(self.flags & _SOURCE)

    def may_hold(self, source_kind: str) -> bool:
        """Can the text hold a source of this kind (a render asks for its GitRepositories, and need not
        read the many files holding an app's OCIRepository)?"""
        return bool(self.flags & _SOURCE_OF.get(source_kind, _SOURCE))

    @property
    def may_hold_generator(self) -> bool:
        return bool(self.flags & _GENERATOR)

    @property
    def may_be_component(self) -> bool:
        """Can the text be a kustomize Component? (Not without the word, however its ``kind`` is written.)"""
        return bool(self.flags & _COMPONENT)

    def may_write(self, kind: str) -> bool:
        """Can ``kind: <kind>`` be in the text? (True may still be no: read the text to know.)"""
        if "\n" in kind:
            return True
        want = kind[:KIND_PREFIX]
        return any(after.startswith(want) for after in self.kinds)


def facts_of(text: str) -> TextFacts:
    flags = 0
    if "sync:" in text and "path:" in text:
        flags |= _SYNC
    if SOURCE_GROUP in text:
        for kind in SOURCE_KIND.findall(text):
            flags |= _SOURCE | _SOURCE_OF[kind]
    if "ArtifactGenerator" in text and GENERATOR_GROUP in text:
        flags |= _GENERATOR
    if "Component" in text:
        flags |= _COMPONENT
    kinds: set[str] = set()
    at = text.find(_KIND)
    while at >= 0:
        start = at + len(_KIND)
        end = text.find("\n", start, start + KIND_PREFIX)
        kinds.add(text[start : end if end >= 0 else start + KIND_PREFIX])
        at = text.find(_KIND, start)
    return TextFacts(flags, tuple(sorted(kinds)))


StatKey = tuple[int, int, int, int, int, int]
"""(size, modification time, change time, inode, device, mode) of a regular file, in nanoseconds."""


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode)


class FactStore:
    """The kept facts of one repository (``scope``, as the file cache names it): facts by blob id, and
    for each working tree below the scope, each file's stat with the blob id read under it. One per
    process and scope; written back to the pack after each scan that learnt something."""

    def __init__(self, pack: cache.Pack) -> None:
        self.pack = pack
        self.facts: dict[str, TextFacts] = {}
        loaded = _load(pack, _FACTS_KEY)
        for blob, value in loaded.items():
            if type(blob) is str and _valid_facts(value):
                self.facts[blob] = TextFacts(value[0], value[1])
        self.kept = len(self.facts)
        self.used: set[str] = set()
        self.stats: dict[str, dict[str, tuple[StatKey, str]]] = {}

    @classmethod
    def of(cls, scope: Path | str) -> FactStore | None:
        """The store of ``scope`` (None when the cache is off)."""
        pack = cache.pack("index", f"files-{cache.digest(str(scope).encode()).hex()}", 16 * 1024 * 1024)
        if pack is None:
            return None
        found = _STORES.get(pack.path)
        if found is None or found.pack is not pack:  # a new pack object: the cache was reset
            found = _STORES[pack.path] = cls(pack)
        return found

    def known_facts(self, files: FileCache, rel: str) -> TextFacts | None:
        """The facts kept for the content of the file ``rel`` of ``files`` when something vouched for
        that content in this run (Git's word, or its stat once the index scanned it), else None."""
        blob = files.known.get(rel)
        return self.facts.get(blob) if blob is not None else None

    def stat_ids(self, root: str) -> dict[str, tuple[StatKey, str]]:
        found = self.stats.get(root)
        if found is None:
            found = {}
            for rel, value in _load(self.pack, _stat_key_of(root)).items():
                if type(rel) is str and _valid_stat(value):
                    found[rel] = (value[:6], value[6])
            self.stats[root] = found
        return found

    def keep_stats(self, root: str, stats: dict[str, tuple[StatKey, str]]) -> None:
        if stats != self.stat_ids(root):
            self.stats[root] = stats
            value = {rel: (*key, blob) for rel, (key, blob) in stats.items()}
            self.pack.put(_stat_key_of(root), marshal.dumps(value))

    def keep_facts(self) -> None:
        """Write the facts back when some were learnt: those of this process's files, and the older
        ones while they are not many more."""
        if len(self.facts) == self.kept:
            return
        if len(self.facts) > 2 * len(self.used) + 512:
            self.facts = {blob: self.facts[blob] for blob in self.used}
        self.kept = len(self.facts)
        self.pack.put(_FACTS_KEY, marshal.dumps({blob: tuple(f) for blob, f in self.facts.items()}))


_STORES: dict[str, FactStore] = {}
_FACTS_KEY = cache.digest(b"index-facts")


def _stat_key_of(root: str) -> bytes:
    return cache.digest(b"index-stat", root.encode("utf-8", "surrogateescape"))


def _load(pack: cache.Pack, key: bytes) -> dict[object, object]:
    blob = pack.get(key)
    if blob is None:
        return {}
    try:
        value = marshal.loads(blob)
    except Exception:  # damaged: no entry (rewritten at the next change)
        return {}
    return value if isinstance(value, dict) else {}


def _valid_facts(value: object) -> TypeGuard[tuple[int, tuple[str, ...]]]:
    return (
        type(value) is tuple
        and len(value) == 2
        and type(value[0]) is int
        and type(value[1]) is tuple
        and all(type(k) is str for k in value[1])
    )


def _valid_stat(value: object) -> TypeGuard[tuple[int, int, int, int, int, int, str]]:
    return (
        type(value) is tuple
        and len(value) == 7
        and all(type(v) is int for v in value[:6])
        and type(value[6]) is str
    )


class Scan(NamedTuple):
    """Each YAML file (in walk order) with its facts; files that cannot be read are left out."""

    facts: list[tuple[str, TextFacts]]  # (absolute path, facts)
    read: int  # files whose text was read for their facts


def scan(files: FileCache, entries: list[os.DirEntry[str]]) -> Scan:
    """The facts of every YAML file (``entries``: as the walk found them), read only where neither Git
    nor the stat vouches for a content whose facts are kept. Reads are not looks of a running
    recording (the caller decides what the scan stands for)."""
    store = FactStore.of(files.scope)
    root = str(files.root)
    cut = len(root) + 1
    stats_here = store is not None and _below(root, str(files.scope))
    old = store.stat_ids(root) if store is not None and stats_here else {}
    new: dict[str, tuple[StatKey, str]] = {}
    trusted_before = files.opened - RACY_NS
    limit = limits.current().file_bytes
    known = files.known
    out: list[tuple[str, TextFacts]] = []
    read = 0
    for entry in entries:
        rel = entry.path[cut:].replace(os.sep, "/")
        link = entry.is_symlink()
        key = _regular_stat(entry) if stats_here and not link else None
        blob = known.get(rel) if not link else None  # Git's ids are of regular files only
        if blob is None and key is not None:
            seen = old.get(rel)
            if seen is not None and seen[0] == key:
                blob = seen[1]
                if key[0] <= limit:  # what reading it would find (a larger file is refused)
                    known[rel] = blob
        found = store.facts.get(blob) if store is not None and blob is not None else None
        if found is None:
            text = quiet_text(files, Path(entry.path))
            if text is None:
                continue
            read += 1
            found = facts_of(text)
            blob = known.get(rel) if not link else None
            if store is not None and blob is not None:
                store.facts[blob] = found
        if store is not None and blob is not None:
            store.used.add(blob)
            if key is not None and key[1] < trusted_before and key[2] < trusted_before:
                new[rel] = (key, blob)
        out.append((entry.path, found))
    if store is not None:
        if stats_here:
            store.keep_stats(root, new)
        store.keep_facts()
    return Scan(out, read)


def stats_kept(files: FileCache) -> bool:
    """Did a run before keep the stats of the files of ``files``' working tree (so that they vouch for
    the contents that did not change)?"""
    store = FactStore.of(files.scope)
    root = str(files.root)
    return store is not None and _below(root, str(files.scope)) and bool(store.stat_ids(root))


def _regular_stat(entry: os.DirEntry[str]) -> StatKey | None:
    """The stat of a regular file (None for anything else, or when it cannot be had)."""
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return None
    return stat_key(st) if stat.S_ISREG(st.st_mode) else None


def quiet_text(files: FileCache, path: Path) -> str | None:
    """The text of a file, not counted as a look by a running recording; None when it cannot be read
    (left out, as every file the index cannot read)."""
    outer, files.recording = files.recording, None
    try:
        return files.read_text(path)
    except HomeopsError:
        return None
    finally:
        files.recording = outer


def _below(root: str, scope: str) -> bool:
    """Is ``root`` the working tree of the repository the cache stands for (not a checkout elsewhere)?"""
    scope = os.path.realpath(scope)
    return root == scope or root.startswith(scope.rstrip(os.sep) + os.sep)
