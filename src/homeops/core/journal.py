"""Writes that cannot be half-done: one transaction per command, under a repository lock.

A command that writes (``--write``, ``--fix``, ``init``, ``new app``, ``migrate``, ``images pin``)
opens a :func:`transaction`. Before a file is replaced, the journal records what it held (a copy
of its bytes, or that it did not exist) and the hash of what is about to be written; the new text
is staged inside the journal and renamed over the file, so each file changes in one step and the
working tree never holds a temporary file. When the command ends the journal is deleted: that is
the commit. When it fails, or is interrupted (Ctrl-C), every file is put back before the error is
reported. When the process is killed outright, the journal stays, and the next homeops run on the
repository rolls it back first: the repository holds either the whole change or none of it.

The journal lives in the Git directory (``.git/homeops-journal``, invisible to ``git status``), or,
outside Git, in ``.homeops-journal`` at the root while a write runs. A lock (``flock`` on
``.git/homeops.lock``, else a file in the system's temporary directory) keeps a second homeops from
writing the same repository at the same time; the kernel drops it when its process dies, so a
killed run never leaves a stale lock. A command reads, plans and writes inside the lock, so two
``new app`` started together both register their app.

Rolling back never clobbers later work: a file is restored only while it still holds exactly what
the interrupted run wrote (the journal keeps its hash); otherwise it is left alone and reported.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import fs
from homeops.core.errors import HomeopsError

JOURNAL = "homeops-journal"
LOCK = "homeops.lock"
LOCK_WAIT_SECONDS = 120.0
MANIFEST = "manifest.json"


class LockError(HomeopsError):
    """Another homeops holds the repository's write lock for too long."""


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def git_dir(root: Path) -> Path | None:
    """The Git directory of the repository holding ``root`` (a worktree's own), found without git."""
    for directory in (root, *root.parents):
        dot = directory / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            try:
                text = dot.read_text(encoding="utf-8").strip()  # "gitdir: <path>", written by Git
            except (OSError, UnicodeDecodeError):
                return None
            if text.startswith("gitdir:"):
                target = Path(text.split(":", 1)[1].strip())
                return target if target.is_absolute() else (directory / target).resolve()
            return None
    return None


def _places(root: Path) -> tuple[Path, Path]:
    """(the lock file, the journal directory) of the repository at ``root``."""
    meta = git_dir(root)
    if meta is not None:
        return meta / LOCK, meta / JOURNAL
    key = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    import tempfile  # start-up: only outside Git

    locks = Path(tempfile.gettempdir()) / "homeops-locks"
    return locks / f"{key}.lock", root / f".{JOURNAL}"


# ------------------------------------------------------------------------------------------ lock
@dataclass
class _Held:
    fd: int
    depth: int = 1


_HELD: dict[Path, _Held] = {}


@contextlib.contextmanager
def repository_lock(root: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the repository's write lock (reentrant within a process); wait for another homeops."""
    root = root.resolve()
    lock_path, _journal = _places(root)
    held = _HELD.get(lock_path)
    if held is not None:
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
        return
    fd = _acquire(lock_path, root, wait)
    _HELD[lock_path] = _Held(fd)
    try:
        yield
    finally:
        del _HELD[lock_path]
        os.close(fd)  # closing drops the flock


def _acquire(lock_path: Path, root: Path, wait: float) -> int:
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise _write_error(exc, str(lock_path)) from None
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise LockError(
                    f"another homeops has been writing {root} for over {wait:.0f} s",
                    None,
                    None,
                    "wait for it to finish, or stop it",
                ) from None
            time.sleep(0.05)


def _try_lock(lock_path: Path) -> int | None:
    """The lock if nobody holds it now (None: a writer is at work)."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


# ------------------------------------------------------------------------------------------ journal
@dataclass
class _Entry:
    path: str  # relative to the root
    backup: str | None  # file name in the journal holding the old bytes; None: the file did not exist
    old_sha: str | None
    new_sha: str | None  # what this run writes; None: it deletes the file
    mode: int | None  # the old file's permission bits


@dataclass
class Transaction:
    """The edits of one command: applied file by file, undone together."""

    root: Path
    journal: Path
    entries: dict[str, _Entry] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)  # directories this run created, outermost first
    notes: list[str] = field(default_factory=list)  # what recovering an earlier interrupted run did
    _count: int = 0

    def apply(self, path: str, new: bytes | None) -> None:
        """Make ``path`` hold ``new`` (None: delete it), recording first what it held."""
        try:
            self._apply(path, new)
        except OSError as exc:  # name the repository's file, not the journal's
            exc.filename = str(self.root / path)
            raise

    def _apply(self, path: str, new: bytes | None) -> None:
        target = self.root / path
        self._start()
        entry = self.entries.get(path)
        if entry is None:
            entry = self._record(path, target)
        entry.new_sha = _sha(new)
        missing = _missing_dirs(self.root, os.path.dirname(path)) if new is not None else []
        self.dirs.extend(d for d in missing if d not in self.dirs)
        self._save()
        if new is None:
            if os.path.lexists(target):
                os.unlink(target)
            return
        for directory in missing:
            os.mkdir(self.root / directory)
        mode = entry.mode if entry.mode is not None else 0o644
        self._replace(target, new, mode)

    # -- journal files
    def _start(self) -> None:
        if not self.journal.exists():
            self.journal.mkdir(parents=True)
            self._save()

    def _record(self, path: str, target: Path) -> _Entry:
        old: bytes | None = None
        mode: int | None = None
        if os.path.lexists(target):
            old = fs.read_regular(target, path, max_bytes=1 << 62)
            mode = os.stat(target).st_mode & 0o7777
        backup = None
        if old is not None:
            backup = f"b{self._count}"
            _write_file(self.journal / backup, old, 0o600)
        self._count += 1
        entry = _Entry(path, backup, _sha(old), None, mode)
        self.entries[path] = entry
        return entry

    def _save(self) -> None:
        data = {
            "root": str(self.root),
            "dirs": self.dirs,
            "entries": [e.__dict__ for e in self.entries.values()],
        }
        _write_file(self.journal / MANIFEST, json.dumps(data).encode("utf-8"), 0o600)

    def _replace(self, target: Path, data: bytes, mode: int) -> None:
        staged = self.journal / f"s{self._count}"
        self._count += 1
        _write_file(staged, data, mode, replace=False)
        try:
            os.replace(staged, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # the journal is on another filesystem: stage next to the file instead
            os.unlink(staged)
            _write_file(target, data, mode)

    # -- ending
    def commit(self) -> None:
        shutil.rmtree(self.journal, ignore_errors=True)

    def rollback(self) -> list[str]:
        """Put every file back; returns what could not be (changed since by someone else)."""
        return _roll_back(self.root, self.journal, list(self.entries.values()), self.dirs)


def _write_file(path: Path, data: bytes, mode: int, *, replace: bool = True) -> None:
    """Write ``data`` to a new file (through a temporary name in the same directory when ``replace``)."""
    tmp = path.with_name(path.name + ".tmp") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _missing_dirs(root: Path, rel_dir: str) -> list[str]:
    """The directories of ``rel_dir`` that do not exist yet, outermost first."""
    out: list[str] = []
    current = rel_dir
    while current and not (root / current).is_dir():
        out.append(current)
        current = os.path.dirname(current)
    return list(reversed(out))


def _roll_back(root: Path, journal: Path, entries: list[_Entry], dirs: list[str]) -> list[str]:
    left: list[str] = []
    for entry in reversed(entries):
        target = root / entry.path
        try:
            current = (
                _sha(fs.read_regular(target, entry.path, max_bytes=1 << 62)) if target.exists() else None
            )
        except HomeopsError:
            left.append(entry.path)
            continue
        if current == entry.old_sha:
            continue  # never written, or already put back
        if current != entry.new_sha:
            left.append(entry.path)  # changed since by someone else: leave it
            continue
        if entry.backup is None:
            os.unlink(target)
            continue
        os.makedirs(target.parent, exist_ok=True)
        data = (journal / entry.backup).read_bytes()
        _write_file(target, data, entry.mode if entry.mode is not None else 0o644)
    for directory in reversed(dirs):
        with contextlib.suppress(OSError):
            os.rmdir(root / directory)  # only when empty
    shutil.rmtree(journal, ignore_errors=True)
    return left


def _load(journal: Path) -> tuple[Path, list[_Entry], list[str]] | None:
    try:
        data: Any = json.loads((journal / MANIFEST).read_text(encoding="utf-8"))
        entries = [_Entry(**e) for e in data["entries"]]
        return Path(data["root"]), entries, [str(d) for d in data["dirs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recover(root: Path) -> list[str]:
    """Roll back what an interrupted homeops left half-written in the repository at ``root``, when no
    other homeops holds its lock; returns notes for the user (nothing when there was nothing to do)."""
    root = root.resolve()
    lock_path, journal = _places(root)
    if not journal.exists():
        return []
    held = _HELD.get(lock_path)
    fd = None if held is not None else _try_lock(lock_path)
    if held is None and fd is None:
        return []  # a write is under way
    try:
        return _recover(journal)
    finally:
        if fd is not None:
            os.close(fd)


def _recover(journal: Path) -> list[str]:
    loaded = _load(journal)
    if loaded is None:  # interrupted before anything was written
        shutil.rmtree(journal, ignore_errors=True)
        return []
    where, entries, dirs = loaded
    left = _roll_back(where, journal, entries, dirs)
    notes = [f"rolled back a write that was interrupted ({len(entries)} file(s) in {where})"]
    notes += [f"{path} changed since the interrupted write: left as it is" for path in left]
    return notes


_OPEN: dict[Path, Transaction] = {}


@contextlib.contextmanager
def transaction(root: Path) -> Iterator[Transaction]:
    """One command's writes: all of them, or (on an error, Ctrl-C or a kill) none.

    Nested calls for the same repository join the outer transaction, which alone commits.
    """
    root = root.resolve()
    if root in _OPEN:
        yield _OPEN[root]
        return
    with repository_lock(root):
        _lock, journal = _places(root)
        notes = _recover(journal) if journal.exists() else []
        txn = Transaction(root, journal, notes=notes)
        _OPEN[root] = txn
        try:
            yield txn
        except BaseException as exc:
            left = txn.rollback()
            if isinstance(exc, OSError):
                raise _write_error(exc, _shown(root, getattr(exc, "filename", None)), left) from None
            raise
        else:
            txn.commit()
        finally:
            del _OPEN[root]


def _shown(root: Path, filename: Any) -> str | None:
    """A path for a message: relative to the repository when inside it (not the journal's own names)."""
    if not isinstance(filename, str | os.PathLike):
        return None
    path = Path(os.fspath(filename))
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _write_error(exc: OSError, where: str | None, left: list[str] | None = None) -> HomeopsError:
    reason = exc.strerror or str(exc)
    hint = "nothing was changed" if not left else f"nothing was changed except {', '.join(left)}"
    return HomeopsError(f"cannot write{f' {where}' if where else ''}: {reason}", None, None, hint)
