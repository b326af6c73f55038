"""What a directory tree is, cheaply: one digest of every name, kind, size, time and link below it.

A cached answer about a repository holds while the repository is the same. Reading every file to
find out would cost what the answer saves, so the tree is compared by what ``lstat`` says of each
entry (size, modification and change times, inode; link targets as written and as resolved), as Git
compares its index with the work tree. Like Git, it does not trust times that are too recent: a file
written within the clock's granularity of the walk could change again without its times changing, so
such "racy" files are compared by content too (:func:`racy_digests`).

``.git`` is not walked (every Git command touches it); what the render takes from it, the remotes'
URLs, lives in its ``config`` files, whose state is part of the digest.
"""

from __future__ import annotations

import os
import stat
import time

from homeops.core.cache import blake2b

JOURNAL = "homeops-journal"  # core/journal's directory for a write under way (not imported: start-up)
RACY_NS = 2_000_000_000
"""Files changed less than this before the walk are compared by content as well."""


def tree_state(root: str) -> tuple[bytes, list[str]]:
    """The digest of the tree below ``root`` (``.git`` excluded but for its config), and the racy files."""
    h = blake2b(digest_size=16)
    racy_after = time.time_ns() - RACY_NS
    racy: list[str] = []
    pending = [""]
    while pending:
        rel = pending.pop()
        path = os.path.join(root, rel) if rel else root
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=_name)
        except OSError as exc:
            h.update(f"!{rel}\0{exc.errno}\n".encode("utf-8", "surrogateescape"))
            continue
        below: list[str] = []
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if child == ".git":
                h.update(_git_state(entry.path))
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                h.update(f"?{child}\0{exc.errno}\n".encode("utf-8", "surrogateescape"))
                continue
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                h.update(f"d{child}\0{mode}\n".encode("utf-8", "surrogateescape"))
                below.append(child)
            elif stat.S_ISREG(mode):
                h.update(
                    f"f{child}\0{mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n".encode(
                        "utf-8", "surrogateescape"
                    )
                )
                if st.st_mtime_ns >= racy_after or st.st_ctime_ns >= racy_after:
                    racy.append(child)
            elif stat.S_ISLNK(mode):
                try:
                    target = os.readlink(entry.path)
                except OSError:
                    target = ""
                real = os.path.realpath(entry.path)
                h.update(f"l{child}\0{target}\0{real}\n".encode("utf-8", "surrogateescape"))
            else:
                h.update(f"o{child}\0{mode}\n".encode("utf-8", "surrogateescape"))
        pending.extend(reversed(below))
    return h.digest(), racy


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _git_state(dot_git: str) -> bytes:
    """What of ``.git`` an answer depends on: whether it is there, its config files (the remotes)."""
    out = [f"g{_kind(dot_git)}"]
    configs = [os.path.join(dot_git, "config")]
    if os.path.isfile(dot_git) and not os.path.islink(dot_git):  # a worktree: "gitdir: <dir>"
        try:
            with open(dot_git, encoding="utf-8", errors="replace") as handle:
                text = handle.read(4096)
        except OSError:
            text = ""
        out.append(text)
        if text.startswith("gitdir:"):
            gitdir = os.path.join(os.path.dirname(dot_git), text[len("gitdir:") :].strip())
            configs = [os.path.join(gitdir, "config"), os.path.join(gitdir, "config.worktree")]
            try:
                with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as handle:
                    common = os.path.join(gitdir, handle.read().strip())
                configs.append(os.path.join(common, "config"))
            except OSError:
                pass
    for config in configs:
        try:
            st = os.stat(config)
            out.append(f"{config}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}")
        except OSError:
            out.append(f"{config}\0-")
    return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")


def interrupted_write(root: str) -> bool:
    """Did a homeops write stop half-way in this repository? Its journal is still there (in the Git
    directory holding ``root``, found as ``core.journal`` finds it, else at the root); the next run
    that opens the repository rolls it back and says so, so no kept answer may stand in for it."""
    directory = root
    while True:
        dot = os.path.join(directory, ".git")
        if os.path.isdir(dot):
            return os.path.lexists(os.path.join(dot, JOURNAL))
        if os.path.isfile(dot):
            try:
                with open(dot, encoding="utf-8", errors="replace") as handle:
                    text = handle.read(4096).strip()
            except OSError:
                return True  # cannot tell: do not answer
            if not text.startswith("gitdir:"):
                return False
            return os.path.lexists(os.path.join(directory, text[len("gitdir:") :].strip(), JOURNAL))
        parent = os.path.dirname(directory)
        if parent == directory:
            return os.path.lexists(os.path.join(root, "." + JOURNAL))
        directory = parent


def _kind(path: str) -> str:
    if os.path.islink(path):
        return "l"
    if os.path.isdir(path):
        return "d"
    return "f" if os.path.exists(path) else "-"


def racy_digests(root: str, racy: list[str]) -> dict[str, bytes] | None:
    """The content digest of each racy file (regular files only, read without following links);
    None when one cannot be read (the answer is then not kept)."""
    out: dict[str, bytes] = {}
    for rel in racy:
        data = read_regular(os.path.join(root, rel))
        if data is None:
            return None
        out[rel] = blake2b(data, digest_size=16).digest()
    return out


def read_regular(path: str) -> bytes | None:
    """A regular file's bytes, opened without following a link or blocking (None otherwise)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
