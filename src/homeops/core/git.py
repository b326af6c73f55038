"""Git revisions as directories to render, and file caches that share parses across them.

The render reads the filesystem directly (directory listings, ``is_dir``), so a revision is
materialised into a temporary directory from Git objects (``git ls-tree`` + ``git cat-file --batch``:
no checkout, no index, the user's working tree is never touched) and removed afterwards. Files are
written byte for byte as Git stores them, as Flux's source-controller sees them. One directory can
switch between revisions by rewriting only what differs (:class:`Scratch`).

:class:`ContentFileCache` keys parsed YAML by (path, content hash) in a :class:`ParseCache` that
several caches share, so a file identical at both revisions is parsed once. Whether a render
result can be reused is decided by what it looked at (``FileCache.touch``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import fs
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache, parse_yaml


class GitError(HomeopsError):
    """Git failed, or a revision does not exist."""


def run_git(top: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in ``top`` and return its stdout; a failure is one clear error."""
    try:
        out = subprocess.run(["git", "-C", str(top), *args], input=input, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}", hint="install git") from None
    if out.returncode != 0:
        message = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(out.returncode)}")
    return out.stdout


def toplevel(path: Path) -> Path:
    """The top level of the Git repository holding ``path``."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}", hint="install git") from None
    if out.returncode != 0 or not out.stdout.strip():
        raise GitError(f"'{path}' is not inside a Git repository", hint="run homeops diff in a Git checkout")
    return Path(out.stdout.strip()).resolve()


def remotes(path: Path) -> dict[str, str]:
    """The Git remotes of the repository holding ``path`` (name -> URL); none outside a repository."""
    try:
        out = run_git(path, "remote", "-v").decode("utf-8", "replace")
    except GitError:
        return {}
    return {parts[0]: parts[1] for parts in (line.split() for line in out.splitlines()) if len(parts) >= 2}


def remote_url(path: Path, name: str = "origin") -> str | None:
    """The URL of one remote of the repository holding ``path`` (None: no such remote, or no repository)."""
    try:
        url = run_git(path, "remote", "get-url", name).decode("utf-8", "replace").strip()
    except GitError:
        return None
    return url or None


def uncommitted(top: Path, paths: Iterable[str]) -> list[str]:
    """Files below ``paths`` with uncommitted changes, untracked ones included (``git status
    --porcelain``); none outside a Git work tree."""
    try:
        if run_git(top, "rev-parse", "--is-inside-work-tree").strip() != b"true":
            return []
        out = run_git(top, "status", "--porcelain", "--untracked-files=all", "--", *[p for p in paths if p])
    except GitError:
        return []
    return [line[3:] for line in out.decode("utf-8", "replace").splitlines() if len(line) > 3]


@dataclass(frozen=True)
class FileChange:
    """One file that differs between two revisions: lines added and removed (None for binary)."""

    path: str  # relative to the prefix the diff was asked for
    added: int | None
    removed: int | None


def changed_files(top: Path, base: str, head: str | None, prefix: str = "") -> list[FileChange]:
    """The files below ``prefix`` that differ from ``base`` to ``head`` (the working tree when None,
    untracked files counted as added), renames shown as a removal and an addition."""
    spec = [base] if head is None else [base, head]
    out = run_git(top, "diff", "--numstat", "-z", "--no-renames", *spec, "--", prefix or ".")
    changes: list[FileChange] = []
    for record in out.decode("utf-8", "replace").split("\0"):
        parts = record.split("\t", 2)
        if len(parts) != 3:
            continue
        added, removed, path = parts
        changes.append(
            FileChange(
                path, int(added) if added.isdigit() else None, int(removed) if removed.isdigit() else None
            )
        )
    if head is None:
        others = run_git(top, "ls-files", "-z", "--others", "--exclude-standard", "--", prefix or ".")
        for path in others.decode("utf-8", "replace").split("\0"):
            if path:
                try:
                    lines = (top / path).read_bytes().count(b"\n")
                except OSError:
                    continue
                changes.append(FileChange(path, lines, 0))
    rel = prefix.rstrip("/") + "/" if prefix else ""
    return sorted(
        (FileChange(c.path[len(rel) :], c.added, c.removed) for c in changes if c.path.startswith(rel)),
        key=lambda c: c.path,
    )


def normalise_remote_url(url: str) -> str:
    """A Git URL in one comparable form: ``git@host:org/repo.git``, ``ssh://git@host/org/repo`` and
    ``https://host/org/repo/`` are all ``host/org/repo`` (lower case)."""
    url = url.strip().rstrip("/")
    url = re.sub(r"\.git$", "", url)
    url = re.sub(r"^(ssh://)?git@([^:/]+)[:/]", r"\2/", url)
    url = re.sub(r"^[a-z+]+://", "", url)
    return url.lower()


def remote_urls(root: Path) -> set[str]:
    """Every fetch and push URL of the remotes (normalised) of the Git repository whose top level is
    ``root``; none when ``root`` is only a directory inside another repository, like an example kept
    in a project: its remotes are not this repository's."""
    try:
        if toplevel(root) != root.resolve():
            return set()
        out = run_git(root, "remote", "-v").decode("utf-8", "replace")
    except GitError:
        return set()
    return {normalise_remote_url(line.split()[1]) for line in out.splitlines() if len(line.split()) >= 2}


def copy_remotes(source: Path, target: Path) -> None:
    """Make ``target`` a Git repository with ``source``'s remotes (they decide which sources are local)."""
    found = remotes(source)
    if not found:
        return
    try:
        run_git(target, "init", "-q")
        for name, url in found.items():
            run_git(target, "remote", "add", name, url)
    except GitError:
        pass


def resolve_revision(top: Path, ref: str) -> str:
    """The commit id ``ref`` names; an unknown revision is a usage error."""
    if not ref or ref.startswith("-"):
        raise GitError(f"unknown revision '{ref}'", hint="pass a branch, tag or commit")
    out = subprocess.run(
        ["git", "-C", str(top), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise GitError(
            f"unknown revision '{ref}'",
            hint="pass a branch, tag or commit that exists here (in CI, fetch it: fetch-depth: 0)",
        )
    return out.stdout.strip()


def resolve_revisions(top: Path, refs: list[str]) -> list[str]:
    """The commit ids of several revisions in one call (an unknown one is reported by name)."""
    for ref in refs:
        if not ref or ref.startswith("-"):
            raise GitError(f"unknown revision '{ref}'", hint="pass a branch, tag or commit")
    out = subprocess.run(
        ["git", "-C", str(top), "rev-parse", *(f"{ref}^{{commit}}" for ref in refs)],
        capture_output=True,
        text=True,
        check=False,
    )
    shas = out.stdout.split()
    if out.returncode != 0 or len(shas) != len(refs):
        return [resolve_revision(top, ref) for ref in refs]
    return shas


def merge_base(top: Path, a: str, b: str) -> str:
    """The best common ancestor of two commits."""
    out = subprocess.run(
        ["git", "-C", str(top), "merge-base", a, b], capture_output=True, text=True, check=False
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise GitError(
            f"no merge base between {a[:12]} and {b[:12]}",
            hint="the histories are unrelated; drop --merge-base",
        )
    return out.stdout.strip().splitlines()[0]


def blob_id(data: bytes) -> str:
    """The id Git gives a blob with this content (``git hash-object``)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: str
    sha: str
    path: str  # relative to the materialised root, forward slashes


def ls_tree(top: Path, sha: str, prefix: str = "") -> list[TreeEntry]:
    """Every blob, symlink and submodule of a commit below ``prefix`` (paths relative to it)."""
    treeish = f"{sha}:{prefix}" if prefix else sha
    out = subprocess.run(
        ["git", "-C", str(top), "ls-tree", "-r", "-z", "--full-tree", treeish],
        capture_output=True,
        check=False,
    )
    if out.returncode != 0:
        raise GitError(
            f"'{prefix or '.'}' does not exist at {sha[:12]}",
            prefix or None,
            hint="the path was added later; compare revisions that have it",
        )
    return checked_tree(_parse_ls_tree(out.stdout), sha)


def checked_tree(entries: list[TreeEntry], sha: str) -> list[TreeEntry]:
    """The entries of a tree that ``git checkout`` would write; refuse one it would refuse.

    A crafted commit may hold a symlink ``zz`` and an entry ``zz/FILE``: writing the second would
    follow the first out of the temporary directory. A path component ``..``, ``.`` or ``.git`` (in
    any case) is refused as Git's ``verify_path`` refuses it.
    """
    links = {e.path for e in entries if e.mode == "120000"}
    for entry in entries:
        parts = entry.path.split("/")
        bad = next((p for p in parts if p in ("", ".", "..") or p.lower() == ".git"), None)
        if bad is not None:
            raise GitError(
                f"commit {sha[:12]} holds the invalid path '{entry.path}'",
                hint="the commit was crafted: git checkout refuses it too",
            )
        for i in range(1, len(parts)):
            above = "/".join(parts[:i])
            if above in links:
                raise GitError(
                    f"commit {sha[:12]} holds '{entry.path}' below the symlink '{above}'",
                    hint="the commit was crafted: git checkout refuses to write beyond a symlink",
                )
    return entries


def _read_blobs(top: Path, shas: list[str]) -> dict[str, bytes]:
    unique = list(dict.fromkeys(shas))
    if not unique:
        return {}
    data = run_git(top, "cat-file", "--batch", input="".join(s + "\n" for s in unique).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in unique:
        newline = data.index(b"\n", pos)
        header = data[pos:newline].split()
        if len(header) < 3 or header[1] == b"missing":
            raise GitError(f"object {sha} is missing from the repository", hint="run git fetch")
        size = int(header[2])
        blobs[sha] = data[newline + 1 : newline + 1 + size]
        pos = newline + 1 + size + 1
    return blobs


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
        self.blobs = _read_blobs(top, wanted)
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


def worktree_clean(top: Path, prefix: str) -> Callable[[], bool]:
    """Start checking that the working tree below ``prefix`` is exactly ``HEAD`` (nothing modified,
    staged, untracked or ignored); call the result for the answer."""
    proc = subprocess.Popen(
        [
            "git",
            "-C",
            str(top),
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=matching",
            "--",
            prefix or ".",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )

    def answer() -> bool:
        out, _ = proc.communicate()
        return proc.returncode == 0 and not out.strip(b"\0")

    return answer


def _parse_ls_tree(data: bytes) -> list[TreeEntry]:
    entries = []
    for record in data.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, _kind, oid = meta.split()
        entries.append(TreeEntry(mode.decode(), oid.decode(), path.decode("utf-8", "surrogateescape")))
    return entries


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
                [tar, "-x", "-f", "-", "-C", str(self.directory), "--no-same-owner"],
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
            blobs = _read_blobs(self.top, [e.sha for e in entries if e.mode != "160000"])
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


# ----------------------------------------------------------------------------------------------
# Sharing parses and knowing what changed


@dataclass
class ParseCache:
    """Parsed YAML keyed by (repository-relative path, blob id), shared by several file caches."""

    docs: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0


class ContentFileCache(FileCache):
    """A :class:`FileCache` that remembers each file's blob id and shares parses through a ParseCache."""

    def __init__(
        self,
        root: Path,
        parses: ParseCache | None = None,
        known_ids: dict[str, str] | None = None,
        *,
        scope: Path | str | None = None,
    ) -> None:
        super().__init__(root, scope=scope)
        self.parses = parses if parses is not None else ParseCache()
        self.ids: dict[str, str] = dict(known_ids or {})

    def _read_bytes(self, path: Path, target: Path) -> bytes:
        data = super()._read_bytes(path, target)
        self.ids[self.rel(path)] = blob_id(data)
        return data

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
        key = (rel, self.ids.get(rel) or blob_id(text.encode("utf-8")))
        docs = self.parses.docs.get(key)
        if docs is None:
            self.parses.misses += 1
            docs = parse_yaml(text, rel, self.parse_store)
            self.parses.docs[key] = docs
        else:
            self.parses.hits += 1
        self._docs[path] = docs
        return docs
