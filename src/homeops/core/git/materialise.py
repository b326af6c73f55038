"""Git revisions as directories to render.

The render reads the filesystem directly (directory listings, ``is_dir``), so a revision is
materialised into a temporary directory from Git objects (``git ls-tree`` + ``git cat-file --batch``:
no checkout, no index, the user's working tree is never touched) and removed afterwards. Files are
written byte for byte as Git stores them, as Flux's source-controller sees them. One directory can
switch between revisions by rewriting only what differs (:class:`Scratch`); one revision can be
extracted in the background while the caller works (:class:`BackgroundCheckout`).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from homeops.core import fs
from homeops.core.errors import HomeopsError
from homeops.core.git import GitError, TreeEntry, ls_tree, read_blobs


def _scratch_dir() -> str | None:
    """Where to materialise: ``HOMEOPS_TMPDIR``, else a memory file system when there is one."""
    explicit = os.environ.get("HOMEOPS_TMPDIR")
    if explicit:
        return explicit
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK) and not os.environ.get("TMPDIR"):
        return shm
    return None


def write_entry(directory: Path, entry: TreeEntry, data: bytes, made: set[str]) -> None:
    """Write one tree entry below ``directory`` (``made``: parent directories known to exist).

    Nothing is written through a symlink: each new parent directory is checked component by
    component, and files are opened without following a link (see :func:`checked_tree`).
    """
    target = directory / entry.path
    parent = os.path.dirname(entry.path)
    if parent not in made:
        _make_parents(directory, parent)
        made.add(parent)
    if entry.mode == "160000":  # a submodule: Flux does not fetch it either
        os.makedirs(target, exist_ok=True)
        return
    if entry.mode == "120000":
        try:
            os.symlink(data.decode("utf-8", "surrogateescape"), target)
        except OSError:
            _write_new(target, data, 0o644)
        return
    _write_new(target, data, 0o755 if entry.mode == "100755" else 0o644)


def _make_parents(directory: Path, parent: str) -> None:
    current = str(directory)
    for part in parent.split("/") if parent else []:
        current = os.path.join(current, part)
        try:
            os.mkdir(current)
        except FileExistsError:
            if os.path.islink(current) or not os.path.isdir(current):
                raise GitError(
                    f"cannot write below '{os.path.relpath(current, directory)}': not a directory",
                    hint="the commit was crafted: git checkout refuses to write beyond a symlink",
                ) from None


def _write_new(target: Path, data: bytes, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(target, flags, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if mode & 0o111:
        os.chmod(target, os.stat(target).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Scratch:
    """A temporary directory that holds one revision at a time (below ``prefix``).

    ``switch(sha)`` rewrites only the files that differ from the revision it holds, so going from
    one revision to another costs what changed between them. Blobs of every revision are read in one
    ``git cat-file --batch``. ``close()`` removes the directory.
    """

    def __init__(self, top: Path, prefix: str, shas: list[str]) -> None:
        self.top = top
        self.trees: dict[str, dict[str, TreeEntry] | GitError] = {}
        for sha in dict.fromkeys(shas):
            try:
                self.trees[sha] = {e.path: e for e in ls_tree(top, sha, prefix)}
            except GitError as exc:
                self.trees[sha] = exc
        wanted = [
            e.sha
            for tree in self.trees.values()
            if isinstance(tree, dict)
            for e in tree.values()
            if e.mode != "160000"
        ]
        self.blobs = read_blobs(top, wanted)
        self.directory = Path(tempfile.mkdtemp(prefix="homeops-diff-", dir=_scratch_dir())).resolve()
        self.state: dict[str, TreeEntry] = {}

    def switch(self, sha: str) -> dict[str, str]:
        """Make the directory hold ``sha``; returns path -> blob id of its regular files."""
        tree = self.trees[sha]
        if isinstance(tree, GitError):
            raise tree
        emptied: set[str] = set()
        for path, entry in self.state.items():
            if tree.get(path) != entry:
                target = self.directory / path
                if entry.mode == "160000":
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
                emptied.add(os.path.dirname(path))
        for directory in sorted(emptied, key=len, reverse=True):
            while directory:
                try:
                    os.rmdir(self.directory / directory)  # only when empty: Git has no empty directories
                except OSError:
                    break
                directory = os.path.dirname(directory)
        made: set[str] = set()
        for path, entry in tree.items():
            if self.state.get(path) != entry:
                self._write(entry, made)
        self.state = tree
        return {path: e.sha for path, e in tree.items() if e.mode in ("100644", "100755")}

    def _write(self, entry: TreeEntry, made: set[str]) -> None:
        write_entry(self.directory, entry, self.blobs.get(entry.sha, b""), made)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def scratch(top: Path, prefix: str, shas: list[str]) -> Iterator[Scratch]:
    """A :class:`Scratch` for these revisions, removed afterwards."""
    work = Scratch(top, prefix, shas)
    try:
        yield work
    finally:
        work.close()


@contextmanager
def checkout(top: Path, sha: str, prefix: str = "") -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary directory holding ``sha`` below ``prefix`` (and its blob ids), removed afterwards."""
    with scratch(top, prefix, [sha]) as work:
        yield work.directory, work.switch(sha)


class BackgroundCheckout:
    """``git archive <sha>:<prefix> | tar -x`` into a temporary directory, running while the caller works.

    :meth:`wait` checks the result against ``git ls-tree`` and rewrites it from Git objects in Python
    when ``git archive`` may have differed from the commit (``export-ignore``/``export-subst``
    attributes) or when there is no ``tar``. The directory is removed by a detached ``rm -rf`` so that
    the caller does not wait for it.
    """

    def __init__(self, top: Path, sha: str, prefix: str = "") -> None:
        self.top, self.sha, self.prefix = top, sha, prefix
        self.directory = Path(tempfile.mkdtemp(prefix="homeops-diff-", dir=_scratch_dir())).resolve()
        treeish = f"{sha}:{prefix}" if prefix else sha
        self.procs: list[subprocess.Popen[bytes]] = []
        # the listing first (milliseconds): a crafted tree is refused before anything is extracted
        self.entries: list[TreeEntry] = []
        self.error: GitError | None = None
        try:
            self.entries = ls_tree(top, sha, prefix)
        except GitError as exc:
            self.error = exc
        tar = shutil.which("tar")
        if tar is not None and self.error is None:
            archive = subprocess.Popen(
                ["git", "-C", str(top), "archive", "--format=tar", treeish],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            extract = subprocess.Popen(
                # --numeric-owner: owner names are not looked up in the host's /etc/passwd
                [tar, "-x", "-f", "-", "-C", str(self.directory), "--no-same-owner", "--numeric-owner"],
                stdin=archive.stdout,
                stderr=subprocess.DEVNULL,
            )
            assert archive.stdout is not None
            archive.stdout.close()
            self.procs = [archive, extract]

    def _faithful(self, entries: list[TreeEntry]) -> bool:
        """Did ``git archive`` write the commit as it is? (No export attributes, nothing missing.)"""
        info = self.top / ".git" / "info" / "attributes"
        if info.is_file() and b"export-" in info.read_bytes():
            return False
        for entry in entries:
            if entry.path.rsplit("/", 1)[-1] == ".gitattributes":
                if entry.mode not in ("100644", "100755"):
                    return False  # a link (to /dev/zero, say) is never read: rewrite from Git objects
                try:
                    data = fs.read_regular(self.directory / entry.path, entry.path)
                except HomeopsError:
                    return False
                if b"export-" in data:
                    return False
        return True

    def wait(self) -> tuple[Path, dict[str, str]]:
        """The directory holding the revision and its blob ids (path -> id)."""
        if self.error is not None:
            self._stop()
            raise self.error
        entries = self.entries
        codes = [proc.wait() for proc in self.procs]
        if not self.procs or any(codes) or not self._faithful(entries):
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir()
            blobs = read_blobs(self.top, [e.sha for e in entries if e.mode != "160000"])
            made: set[str] = set()
            for entry in entries:
                write_entry(self.directory, entry, blobs.get(entry.sha, b""), made)
        self.procs = []
        return self.directory, {e.path: e.sha for e in entries if e.mode in ("100644", "100755")}

    def _stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.procs = []

    def close(self) -> None:
        self._stop()
        sh = shutil.which("sh")
        if sh is None:
            shutil.rmtree(self.directory, ignore_errors=True)
            return
        # a detached ``rm -rf``: the shell returns at once, the removal finishes on its own
        subprocess.run(
            [sh, "-c", 'rm -rf -- "$1" >/dev/null 2>&1 &', "sh", str(self.directory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


@contextmanager
def background_checkout(top: Path, sha: str, prefix: str = "") -> Iterator[BackgroundCheckout]:
    """Start materialising ``sha``; ``wait()`` for it; the directory is removed afterwards."""
    pending = BackgroundCheckout(top, sha, prefix)
    try:
        yield pending
    finally:
        pending.close()
