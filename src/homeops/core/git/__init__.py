"""Every Git call homeops makes: the working tree's questions (remotes, uncommitted files, changed
files), revisions (resolve, merge base), and commits read as trees and blobs.

Materialising a revision as a directory to render is :mod:`homeops.core.git.materialise`; file caches
that share parses across revisions by content are :mod:`homeops.core.git.caches`.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from homeops.core import fs
from homeops.core.errors import HomeopsError
from homeops.core.files import blob_id  # noqa: F401 - part of this module's interface (git.blob_id)


class GitError(HomeopsError):
    """Git failed, or a revision does not exist."""


def run_git(top: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in ``top`` and return its stdout; a failure is one clear error."""
    try:
        out = subprocess.run(["git", "-C", str(top), *args], input=input, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}", hint="install git") from None
    if out.returncode != 0:
        raise _failed(args, out.returncode, out.stderr)
    return out.stdout


def _failed(args: tuple[str, ...], returncode: int, stderr: bytes) -> GitError:
    """Git's last line of complaint, as one error."""
    message = stderr.decode("utf-8", "replace").strip().splitlines()
    return GitError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(returncode)}")


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


def current_branch(root: Path) -> str | None:
    """The branch checked out in the Git repository whose top level is ``root`` (None: a detached
    HEAD, a branch with no commit yet, ``root`` not a top level, or no repository)."""
    try:
        if toplevel(root) != root.resolve():
            return None
        out = run_git(root, "rev-parse", "--abbrev-ref", "HEAD").decode("utf-8", "replace").strip()
    except GitError:
        return None
    return out if out and out != "HEAD" else None


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
    return changed_files_started(top, base, head, prefix)()


def changed_files_started(
    top: Path, base: str, head: str | None, prefix: str = ""
) -> Callable[[], list[FileChange]]:
    """:func:`changed_files`, its Git processes started now (they run while the caller works); call
    the result for the answer."""
    spec = [base] if head is None else [base, head]
    numstat = start_git(top, "diff", "--numstat", "-z", "--no-renames", *spec, "--", prefix or ".")
    others = (
        start_git(top, "ls-files", "-z", "--others", "--exclude-standard", "--", prefix or ".")
        if head is None
        else None
    )

    def answer() -> list[FileChange]:
        changes: list[FileChange] = []
        for record in numstat().decode("utf-8", "replace").split("\0"):
            parts = record.split("\t", 2)
            if len(parts) != 3:
                continue
            added, removed, path = parts
            changes.append(
                FileChange(
                    path,
                    int(added) if added.isdigit() else None,
                    int(removed) if removed.isdigit() else None,
                )
            )
        if others is not None:
            for path in others().decode("utf-8", "replace").split("\0"):
                if path:
                    changes.append(FileChange(path, _untracked_lines(top / path), 0))
        rel = prefix.rstrip("/") + "/" if prefix else ""
        return sorted(
            (FileChange(c.path[len(rel) :], c.added, c.removed) for c in changes if c.path.startswith(rel)),
            key=lambda c: c.path,
        )

    return answer


def start_git(top: Path, *args: str) -> Callable[[], bytes]:
    """:func:`run_git` started now; call the result for its stdout (or its one-line error)."""
    try:
        proc = subprocess.Popen(
            ["git", "-C", str(top), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}", hint="install git") from None

    def answer() -> bytes:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise _failed(args, proc.returncode, err)
        return out

    return answer


def _untracked_lines(path: Path) -> int | None:
    """Lines of an untracked file as ``git diff --numstat`` would count them: a symlink is its one-line
    target (never followed: it may point outside the repository, or at ``/dev/zero``), a regular
    file is read through the confined reader (size limit, no link), anything else is unknown."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return 1
    if not stat.S_ISREG(mode):
        return None
    try:
        return fs.read_regular(path, str(path)).count(b"\n")
    except HomeopsError:
        return None


def normalise_remote_url(url: str) -> str:
    """A Git URL in one comparable form: ``git@host:org/repo.git``, ``ssh://git@host/org/repo`` and
    ``https://host/org/repo/`` are all ``host/org/repo`` (lower case)."""
    url = url.strip().rstrip("/")
    url = re.sub(r"\.git$", "", url)
    url = re.sub(r"^(ssh://)?git@([^:/]+)[:/]", r"\2/", url)
    url = re.sub(r"^[a-z+]+://", "", url)
    return url.lower()


def remote_urls(root: Path, *, is_top: bool = False) -> set[str]:
    """Every fetch and push URL of the remotes (normalised) of the Git repository whose top level is
    ``root``; none when ``root`` is only a directory inside another repository, like an example kept
    in a project: its remotes are not this repository's (``is_top``: the caller knows ``root`` is a
    top level, from :func:`toplevel`, and Git is not asked again)."""
    try:
        if not is_top and toplevel(root) != root.resolve():
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


def locate(path: Path, ref: str, git_path: str) -> tuple[Path, str, Path]:
    """The top level of the repository holding ``path``, the commit ``ref`` names and where Git keeps
    ``git_path`` (``rev-parse --git-path``), asked in one process (``check --changed`` needs all three
    before it can ask anything else); on any failure, asked one by one for the error each reports."""
    if ref and not ref.startswith("-"):
        try:
            out = subprocess.run(
                ["git", "-C", str(path), "rev-parse", "--show-toplevel", "--git-path", git_path,
                 "--verify", "--quiet", f"{ref}^{{commit}}"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            lines = out.stdout.splitlines()
            if out.returncode == 0 and len(lines) == 3 and lines[0]:
                where = Path(lines[1])  # relative to the directory git ran in
                return Path(lines[0]).resolve(), lines[2], where if where.is_absolute() else path / where
        except OSError:
            pass  # toplevel() says it
    top = toplevel(path)
    sha = resolve_revision(top, ref)
    where = Path(run_git(top, "rev-parse", "--git-path", git_path).decode().strip())
    return top, sha, where if where.is_absolute() else top / where


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


def read_blobs(top: Path, shas: list[str]) -> dict[str, bytes]:
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
