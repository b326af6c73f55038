"""The filesystem boundary: every read made while rendering a repository goes through one confined reader.

Flux confines each build to the root of its source artifact (fluxcd/pkg ``kustomize/filesys``,
``fs_secure.go``): a path is followed through its symlinks (``filepath.EvalSymlinks``) and the result
must lie in or below the root, else the read fails with an ``fs-security-constraint`` error. Files
outside the kustomization's own directory are fine, files outside the root never are. kustomize's
default loader (``LoadRestrictionsRootOnly``) is stricter still and confines each kustomization to its
own directory; that check stays in the kustomize engine, on top of this one.

homeops applies the root check to every file it follows from repository content: kustomize resources,
components, patches, generator files and env files, Flux paths, Helm values files and chart
directories, ``.sourceignore`` files, ``.homeops.yaml``'s clusters. ``..`` and symlinks are resolved
first (``os.path.realpath``), so neither an absolute path, nor a link, nor ``..`` after a link gets
out. A refusal is one line naming the reference and where it resolved to, never the target's
content. Only regular files and directories are read: a FIFO would block forever and a device
(``/dev/zero``) would never end, so both are refused before a byte is read; a file larger than the
configured limit is refused from its size, before reading it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homeops.core import codes, limits
from homeops.core.errors import HomeopsError


class OutsideRootError(HomeopsError):
    """A reference that resolves outside the repository (or outside its source artifact's root)."""


class NotRegularFileError(HomeopsError):
    """A path that is neither a regular file nor a directory (FIFO, socket, device)."""


def refusal_code(exc: BaseException) -> codes.Code | None:
    """The finding code of a refused read (outside the root, over a limit, not a regular file)."""
    if isinstance(exc, OutsideRootError):
        return codes.OUTSIDE_ROOT
    if isinstance(exc, NotRegularFileError | limits.LimitError):
        return codes.INPUT_REFUSED
    return None


_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def real(path: str | os.PathLike[str]) -> str:
    """The path with ``..`` folded and every symlink followed (what the read would reach).

    A name with a NUL byte cannot exist (the system refuses it): it stays as written, folded, so
    that the check that it exists fails, as for any missing file.
    """
    try:
        return os.path.realpath(path)
    except ValueError:
        return os.path.normpath(os.path.abspath(path))


class RealPaths:
    """``os.path.realpath`` for the many paths of one tree, each directory resolved once.

    A run reads a tree that does not change under it (the file cache keeps its texts too), so the real
    path of a directory is remembered and a path below it costs one ``lstat`` of its last component.
    A path with ``.`` or ``..`` components (resolved after the links before them) goes the long way.
    ``is_link`` answers ``os.path.islink`` (the run's listing of the repository does, from its directories).
    """

    def __init__(self, is_link: Callable[[str], bool] = os.path.islink) -> None:
        self._known: dict[str, str] = {}
        self._is_link = is_link

    def __call__(self, path: str | os.PathLike[str]) -> str:
        text = os.fspath(path)
        known = self._known.get(text)
        if known is not None:
            return known
        parent, name = os.path.split(text)
        if not name or not os.path.isabs(text) or os.path.normpath(text) != text:
            result = real(text)
        else:
            joined = os.path.join(self(parent), name)
            result = real(joined) if self._is_link(joined) else joined
        self._known[text] = result
        return result


def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root if root.endswith(os.sep) else root + os.sep)


@dataclass(frozen=True)
class Boundary:
    """Reads confined to ``root`` (a real directory) and to ``also`` (directories homeops itself laid
    out, such as materialised artifacts whose links point back into the repository).

    ``name`` says what the root is in messages ("the repository", "the artifact of OCIRepository/x").
    """

    root: str
    name: str = "the repository"
    also: tuple[str, ...] = ()
    reals: RealPaths = field(default_factory=RealPaths, compare=False, repr=False)

    @classmethod
    def at(
        cls, root: str | os.PathLike[str], name: str = "the repository", reals: RealPaths | None = None
    ) -> Boundary:
        return cls(real(root), name, reals=reals if reals is not None else RealPaths())

    def narrowed(self, top: str | os.PathLike[str], name: str) -> Boundary:
        """The boundary of one source artifact at ``top`` (itself inside this boundary)."""
        return Boundary(self.reals(top), name, self.also, self.reals)

    def allowing(self, directory: str | os.PathLike[str]) -> Boundary:
        """This boundary with another directory homeops made (its own temporary layout)."""
        return Boundary(self.root, self.name, (*self.also, self.reals(directory)), self.reals)

    def contains(self, path: str | os.PathLike[str]) -> bool:
        """Does ``path``, symlinks and ``..`` resolved, lie in or below the root?"""
        target = self.reals(path)
        return _inside(target, self.root) or any(_inside(target, d) for d in self.also)

    def rel(self, target: str) -> str:
        return os.path.relpath(target, self.root).replace(os.sep, "/")

    def check(
        self,
        path: str | os.PathLike[str],
        what: str,
        *,
        file: str | None = None,
        line: int | None = None,
    ) -> Path:
        """The real path of ``path``; refuse it (naming ``what`` refers to it) when it leaves the root.

        Where it points is told as the resolved path, which may be outside; nothing of it is read.
        """
        return Path(self.checked(path, what, file=file, line=line))

    def checked(
        self,
        path: str | os.PathLike[str],
        what: str,
        *,
        file: str | None = None,
        line: int | None = None,
    ) -> str:
        """:meth:`check`, the real path as a string (for the many reads of a run: no ``Path`` made)."""
        target = self.reals(path)
        if _inside(target, self.root) or any(_inside(target, d) for d in self.also):
            return target
        raise OutsideRootError(
            f"{what} resolves outside {self.name}, to {target}",
            file,
            line,
            "homeops reads only files inside the repository; move the file in, or remove the reference",
        )

    # -- typed tests that never leave the boundary and never follow into special files
    def is_dir(self, path: str | os.PathLike[str]) -> bool:
        return self.contains(path) and os.path.isdir(path)

    def is_file(self, path: str | os.PathLike[str]) -> bool:
        """A regular file inside the boundary (a FIFO or device is not a file here)."""
        return self.contains(path) and os.path.isfile(path)

    def exists(self, path: str | os.PathLike[str]) -> bool:
        return self.contains(path) and os.path.exists(path)

    def check_tree(self, directory: str | os.PathLike[str], what: str) -> None:
        """Refuse a directory holding a link out of the boundary, or anything but files and directories.

        For trees read by a loader that follows links by itself (Helm's chart loader does).
        """
        top = str(directory)
        seen: set[str] = set()
        pending = [top]
        while pending:
            current = pending.pop()
            if real(current) in seen:
                continue
            seen.add(real(current))
            for dirpath, dirnames, filenames in os.walk(current):
                for name in [*dirnames, *filenames]:
                    path = os.path.join(dirpath, name)
                    shown = f"{what}: {os.path.relpath(path, top)}"
                    if os.path.islink(path):
                        self.check(path, shown)
                        if os.path.isdir(path):
                            pending.append(path)
                            continue
                    mode = os.stat(path).st_mode if os.path.exists(path) else 0
                    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                        raise NotRegularFileError(
                            f"{shown} is {_KINDS.get(stat.S_IFMT(mode), 'a dangling link')}",
                            None,
                            None,
                            "homeops reads only regular files and directories",
                        )

    # -- reading
    def read_bytes(self, path: str | os.PathLike[str], what: str | None = None) -> bytes:
        """The bytes of a regular file inside the boundary (``what``: the reference, for refusals)."""
        shown = what or f"'{self.rel(self.reals(path))}'"
        target = self.checked(path, shown)
        return read_regular(target, self.rel(target))

    def read_text(self, path: str | os.PathLike[str], what: str | None = None) -> str:
        data = self.read_bytes(path, what)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise HomeopsError(
                "file is not valid UTF-8", self.rel(real(path)), None, "save it as UTF-8"
            ) from None


def read_regular(path: str | os.PathLike[str], shown: str, *, max_bytes: int | None = None) -> bytes:
    """Read a regular file, no more than ``max_bytes`` (the configured file-size limit by default).

    ``path`` is a real path (symlinks already resolved): it is opened without following a link, and
    without blocking, so a FIFO or a device swapped in is seen for what it is and refused.
    """
    limit = limits.current().file_bytes if max_bytes is None else max_bytes
    try:
        st = os.stat(path)
    except (FileNotFoundError, ValueError):  # ValueError: a NUL byte, no such file can exist
        raise HomeopsError("file does not exist", shown, None, "fix the path") from None
    except OSError as exc:
        raise _os_error(exc, shown) from None
    _check_kind(st.st_mode, shown)
    if st.st_size > limit:
        raise limits.too_large(shown, st.st_size, limit)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _os_error(exc, shown) from None
    try:
        _check_kind(os.fstat(fd).st_mode, shown)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise limits.too_large(shown, size, limit)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise _os_error(exc, shown) from None
    finally:
        os.close(fd)


def _check_kind(mode: int, shown: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise HomeopsError("expected a file, found a directory", shown)
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise NotRegularFileError(
        f"{kind} is not read", shown, None, "homeops reads only regular files and directories"
    )


def _os_error(exc: OSError, shown: str) -> HomeopsError:
    if exc.errno == errno.ELOOP:
        return HomeopsError("a symlink changed while it was read", shown, None, "run the command again")
    if exc.errno == errno.ENAMETOOLONG:
        return HomeopsError("file name too long", shown)
    if exc.errno == errno.EISDIR:
        return HomeopsError("expected a file, found a directory", shown)
    return HomeopsError(f"cannot read the file: {exc.strerror}", shown)


def read_text(root: str | os.PathLike[str], path: str | os.PathLike[str], *, errors: str = "strict") -> str:
    """The text of a repository file (``path`` absolute or relative to ``root``), read inside ``root``.

    For the readers outside the render (authoring, migration, fixes, reports): the same boundary.
    """
    inside = Boundary.at(root)
    target = os.path.join(root, path)
    data = inside.read_bytes(target)
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError:
        raise HomeopsError(
            "file is not valid UTF-8", inside.rel(real(target)), None, "save it as UTF-8"
        ) from None
