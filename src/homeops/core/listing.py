"""One listing of a repository per run: each directory is read once (``os.scandir``), and what the
walkers of the run ask of it is answered from there.

A check used to walk the repository several times (every file for the rules, the shell scripts, the
``.sourceignore`` files, the YAML files of a directory...), and to ``stat`` each file again where it
looked at it. A :class:`Listing` reads a directory the first time one of them asks for it and keeps its
entries, sorted by name: the kind of an entry comes with the directory itself (no system call), its
``lstat`` and ``stat`` are taken at most once (``os.DirEntry`` keeps them). Each walker keeps its own
rules, applied here on the kept entries: what it skips, and how it treats links. :meth:`walk` follows
``os.walk`` (top down, links to directories listed among the directories and not followed), so a walker
written for ``os.walk`` gives the same answer.

A listing stands for the tree as the run found it, like the file cache's texts: a file added, removed
or renamed is seen by the next run (the next :class:`~homeops.core.files.FileCache`), not by this one.
A directory that cannot be read lists nothing, as ``os.walk`` does (:meth:`entries` raises its error).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

Entry = os.DirEntry[str]
SkipDir = Callable[[str, str], bool]
"""``skip(parent, name)``: is the directory ``name`` below ``parent`` (both relative) left out?"""


class Listing:
    """The entries of the directories below ``root`` (an absolute path), each directory read once."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._entries: dict[str, tuple[Entry, ...] | OSError] = {}
        self._names: dict[str, dict[str, Entry]] = {}

    def path(self, rel: str) -> str:
        """The absolute path of ``rel`` (relative to the root, ``/`` separators; ``""`` the root)."""
        return os.path.join(self.root, rel) if rel else self.root

    def inside(self, path: str) -> str | None:
        """The name of ``path`` (absolute, normalised) relative to the root, ``/`` separators, when it
        lies below the root (``""`` for the root itself); None otherwise."""
        root = self.root
        if path == root:
            return ""
        if path.startswith(root) and path[len(root) : len(root) + 1] == os.sep:
            return path[len(root) + 1 :].replace(os.sep, "/")
        return None

    def entries(self, rel: str = "") -> tuple[Entry, ...]:
        """The entries of the directory ``rel``, sorted by name; ``OSError`` when it cannot be read."""
        found = self._entries.get(rel)
        if found is None:
            try:
                with os.scandir(self.path(rel)) as it:
                    found = tuple(sorted(it, key=_name))
            except OSError as exc:
                found = exc
            self._entries[rel] = found
        if isinstance(found, OSError):
            raise found
        return found

    def entry(self, rel: str) -> Entry | None:
        """The entry of ``rel`` in its directory, or None when it is not there; ``OSError`` when its
        directory cannot be read."""
        parent, _, name = rel.rpartition("/")
        names = self._names.get(parent)
        if names is None:
            names = self._names[parent] = {e.name: e for e in self.entries(parent)}
        return names.get(name)

    def is_file(self, rel: str) -> bool:
        """``os.path.isfile`` of ``rel`` (relative to the root, normalised), from the listing."""
        try:
            found = self.entry(rel)
            return found is not None and found.is_file()
        except OSError:  # its directory cannot be listed, or the entry cannot be looked at: ask the system
            return os.path.isfile(self.path(rel))

    def is_link(self, path: str) -> bool:
        """``os.path.islink(path)``, from the listing when ``path`` (absolute, normalised) is below the root."""
        rel = self.inside(path)
        if rel:
            try:
                found = self.entry(rel)
            except OSError:  # its directory cannot be listed: ask the system
                return os.path.islink(path)
            return found is not None and found.is_symlink()
        return os.path.islink(path)

    def walk(
        self, top: str = "", skip: SkipDir | None = None
    ) -> Iterator[tuple[str, list[Entry], list[Entry]]]:
        """``os.walk(top)`` over the listing: ``(directory, its directories, its other entries)``, top
        down, each sorted by name. A link to a directory is among the directories and is not followed
        (``followlinks=False``); a directory ``skip`` leaves out is neither listed nor walked; an
        unreadable directory is passed over."""
        pending = [top]
        while pending:
            rel = pending.pop()
            try:
                entries = self.entries(rel)
            except OSError:
                continue
            dirs: list[Entry] = []
            others: list[Entry] = []
            for entry in entries:
                if skip is not None and _is_dir(entry) and skip(rel, entry.name):
                    continue
                (dirs if _is_dir(entry) else others).append(entry)
            yield rel, dirs, others
            below = [f"{rel}/{d.name}" if rel else d.name for d in dirs if not d.is_symlink()]
            pending.extend(reversed(below))

    def below(self, skip: frozenset[str] = frozenset()) -> Iterator[tuple[tuple[str, ...], Entry]]:
        """Every entry that is not a directory (links to directories included), with the names of its
        directory's path: directories depth first, entries by name, only real directories walked
        (``is_dir(follow_symlinks=False)``), none named in ``skip``."""
        pending: list[tuple[str, tuple[str, ...]]] = [("", ())]
        while pending:
            rel, parts = pending.pop()
            try:
                entries = self.entries(rel)
            except OSError:
                continue
            below: list[tuple[str, tuple[str, ...]]] = []
            for entry in entries:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    if name not in skip:
                        below.append((f"{rel}/{name}" if rel else name, (*parts, name)))
                else:
                    yield parts, entry
            pending.extend(reversed(below))


def _name(entry: Entry) -> str:
    return entry.name


def _is_dir(entry: Entry) -> bool:
    """``os.walk``'s test: a directory, or a link to one (an entry that cannot be looked at is not)."""
    try:
        return entry.is_dir()
    except OSError:
        return False
