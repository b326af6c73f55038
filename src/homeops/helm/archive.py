"""Safe extraction of chart archives and OCI layers.

A chart comes from the network, so its archive is hostile until proven otherwise: absolute paths,
``..`` components, links that end up outside the destination, device files and decompression bombs
are refused. Limits follow Helm's loader (5 MiB per file, 100 MiB per chart).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path

from homeops.core.errors import HomeopsError

MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_MEMBERS = 20_000


class ArchiveError(HomeopsError):
    """An archive that must not be extracted (unsafe paths, too large, not a tar)."""


def _member_path(name: str, what: str) -> str:
    clean = name.replace("\\", "/")
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        raise ArchiveError(f"{what} contains an absolute path {name!r}", None, None, "refusing to extract it")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArchiveError(
            f"{what} contains a path with '..': {name!r}", None, None, "refusing to extract it"
        )
    return "/".join(parts)


def safe_extract(
    archive: Path,
    dest: Path,
    *,
    what: str = "archive",
    max_total: int = MAX_UNPACKED_BYTES,
    max_file: int = MAX_FILE_BYTES,
    max_members: int = MAX_MEMBERS,
) -> Path:
    """Extract a (gzipped) tar into ``dest`` atomically; ``dest`` must not exist yet.

    Regular files and directories are written first, links last, and every link is checked with
    ``realpath`` once all exist, so no write can go through a link and no link can leave ``dest``.
    """
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".extract-"))
    try:
        _extract_into(archive, work, what, max_total, max_file, max_members)
        try:
            os.rename(work, dest)
        except OSError:
            if not dest.exists():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return dest


def _extract_into(
    archive: Path, root: Path, what: str, max_total: int, max_file: int, max_members: int
) -> None:
    total = 0
    links: list[tuple[str, str]] = []
    hardlinks: list[tuple[str, str]] = []
    files: set[str] = set()
    try:
        tar = tarfile.open(archive, mode="r:*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"{what} is not a readable tar archive: {exc}") from None
    with tar:
        count = 0
        try:
            for member in tar:
                count += 1
                if count > max_members:
                    raise ArchiveError(f"{what} has more than {max_members} entries")
                rel = _member_path(member.name, what)
                if not rel:
                    continue
                target = root / rel
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    if member.size > max_file:
                        raise ArchiveError(
                            f"{what}: {rel} is {member.size} bytes, over the limit of {max_file}"
                        )
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    if source is None:
                        continue
                    written = 0
                    with source, open(target, "wb") as out:
                        while chunk := source.read(1 << 16):
                            written += len(chunk)
                            total += len(chunk)
                            if written > max_file:
                                raise ArchiveError(f"{what}: {rel} is over the limit of {max_file} bytes")
                            if total > max_total:
                                raise ArchiveError(f"{what} unpacks to more than {max_total} bytes")
                            out.write(chunk)
                    files.add(rel)
                elif member.issym():
                    link = member.linkname.replace("\\", "/")
                    if link.startswith("/"):
                        raise ArchiveError(
                            f"{what}: symlink {rel} points to an absolute path",
                            None,
                            None,
                            "refusing to extract it",
                        )
                    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), link))
                    if resolved == ".." or resolved.startswith("../"):
                        raise ArchiveError(
                            f"{what}: symlink {rel} points outside the archive",
                            None,
                            None,
                            "refusing to extract it",
                        )
                    links.append((rel, link))
                elif member.islnk():
                    hardlinks.append((rel, _member_path(member.linkname, what)))
                else:
                    raise ArchiveError(
                        f"{what}: {rel} is a device or special file", None, None, "refusing to extract it"
                    )
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ArchiveError(f"{what} is corrupt: {exc}") from None
    for rel, source_rel in hardlinks:
        if source_rel not in files:
            raise ArchiveError(f"{what}: hard link {rel} points to {source_rel!r}, not a file of the archive")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / source_rel, root / rel)
    real_root = os.path.realpath(root)
    for rel, link in links:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            raise ArchiveError(f"{what}: symlink {rel} would replace another entry")
        os.symlink(link, path)
    for rel, _ in links:
        real = os.path.realpath(root / rel)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise ArchiveError(
                f"{what}: symlink {rel} resolves outside the archive", None, None, "refusing to extract it"
            )


def find_chart_root(directory: Path, what: str) -> Path:
    """The directory holding ``Chart.yaml``: ``directory`` itself or its single top-level folder."""
    if (directory / "Chart.yaml").is_file():
        return directory
    candidates = [p for p in sorted(directory.iterdir()) if p.is_dir() and (p / "Chart.yaml").is_file()]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ArchiveError(f"{what} is not a Helm chart: no Chart.yaml at its top level")
    raise ArchiveError(f"{what} holds several charts: {', '.join(p.name for p in candidates)}")
