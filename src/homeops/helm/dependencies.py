"""Chart dependencies that are not in the chart: fetched from their repositories before rendering.

A chart kept in a Git repository usually lists its subcharts in ``Chart.yaml`` (``dependencies``;
``requirements.yaml`` for ``apiVersion: v1``) without a ``charts/`` directory holding them.
source-controller builds such a chart the way ``helm dependency build`` does (its
``DependencyManager``): each missing dependency is taken from its ``repository``, an ``oci://``
registry, an HTTP repository's ``index.yaml``, or a ``file://`` path relative to the chart, at the
version ``Chart.lock`` pins, else the highest one the ``version`` constraint allows. A repository
given by a ``helm repo add`` name (``@name``, ``alias:name``) cannot be resolved offline: that is an
error naming the dependency.

The repository's files are never written: a chart with missing dependencies is copied into the chart
cache (``charts/<name>-<version>.tgz`` added) and rendered from there, the copy reused while the
chart's files and the dependencies resolved are the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.core import fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.helm.sources import Artifact, SourceError, SourceResolver


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    repository: str


def declared(chart: Path) -> list[Dependency]:
    """The dependencies of a chart directory (``Chart.yaml``, else ``requirements.yaml``), with the
    versions ``Chart.lock`` (``requirements.lock``) pins."""
    meta = _load(chart / "Chart.yaml")
    entries = meta.get("dependencies")
    if not entries and (chart / "requirements.yaml").is_file():
        entries = _load(chart / "requirements.yaml").get("dependencies")
    lock = (
        _load(chart / "Chart.lock")
        if (chart / "Chart.lock").is_file()
        else _load(chart / "requirements.lock")
    )
    pinned = {
        str(d.get("name")): str(d.get("version"))
        for d in lock.get("dependencies") or []
        if isinstance(d, Mapping) and d.get("name") and d.get("version")
    }
    out = []
    for entry in entries or []:
        if isinstance(entry, Mapping) and entry.get("name"):
            name = str(entry["name"])
            version = pinned.get(name) or str(entry.get("version") or "*")
            out.append(Dependency(name, version, str(entry.get("repository") or "")))
    return out


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    doc = yamlio.load_one(path.read_text(encoding="utf-8"), str(path))
    return doc if isinstance(doc, dict) else {}


def present(chart: Path, dependency: Dependency) -> bool:
    """Is the subchart already in ``charts/`` (a directory or an archive of that chart name)?"""
    charts = chart / "charts"
    if not charts.is_dir():
        return False
    for entry in charts.iterdir():
        if entry.is_dir() and _load(entry / "Chart.yaml").get("name") == dependency.name:
            return True
        if entry.suffix == ".tgz" and entry.name.startswith(dependency.name + "-"):
            rest = entry.name[len(dependency.name) + 1 : -len(".tgz")]
            if rest[:1].isdigit() or rest[:1] == "v":
                return True
    return False


def with_dependencies(
    resolver: SourceResolver,
    chart: Path,
    *,
    what: str,
    file: str | None = None,
    line: int | None = None,
    root: Path | None = None,
) -> Path:
    """``chart``, or a copy of it whose ``charts/`` holds the dependencies it was missing.

    A ``file://`` dependency must lie inside ``root`` (the repository; the chart itself by default),
    links resolved, as source-controller keeps it inside the source's root.
    """
    if not chart.is_dir():
        return chart
    missing = [d for d in declared(chart) if not present(chart, d)]
    if not missing:
        return chart
    inside = fs.Boundary.at(root or chart)
    fetched = [(d, *_fetch(resolver, chart, d, what, file, line, inside)) for d in missing]
    key = hashlib.sha256(
        json.dumps(
            [_signature(chart), [(d.name, v, str(p), _digest(p)) for d, p, v in fetched]], sort_keys=True
        ).encode()
    ).hexdigest()
    target = resolver.cache.extracted_dir("charts-with-dependencies", f"sha256:{key}") / chart.name
    if (target / "Chart.yaml").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".deps-", dir=target.parent)) / chart.name
    try:
        shutil.copytree(chart, staging, symlinks=False)
        (staging / "charts").mkdir(exist_ok=True)
        for dependency, archive, version in fetched:
            if archive.is_dir():
                shutil.copytree(archive, staging / "charts" / dependency.name, symlinks=False)
            else:
                shutil.copyfile(archive, staging / "charts" / f"{dependency.name}-{version}.tgz")
        os.replace(staging, target)
    except OSError:
        if not (target / "Chart.yaml").is_file():
            raise
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return target


def _fetch(
    resolver: SourceResolver,
    chart: Path,
    dependency: Dependency,
    what: str,
    file: str | None,
    line: int | None,
    inside: fs.Boundary,
) -> tuple[Path, str]:
    """The subchart (an archive, or a directory for ``file://``) and its version."""
    repository = dependency.repository.strip()
    label = f"{what}: dependency {dependency.name} ({repository or 'no repository'})"
    if repository.startswith("file://") or not repository:
        local = (chart / repository.removeprefix("file://")).resolve() if repository else None
        if local is not None:
            try:  # never a chart from outside the repository, nor one holding a link out of it
                inside.check(local, label)
                inside.check_tree(local, label)
            except HomeopsError as exc:
                exc.file, exc.line = file, line
                raise
        if local is None or not (local / "Chart.yaml").is_file():
            raise SourceError(
                f"{label} is not in charts/ and has no chart at that path", file, line,
                "add the subchart to charts/ or give its repository in Chart.yaml",
            )  # fmt: skip
        return local, str(_load(local / "Chart.yaml").get("version") or "0")
    if repository.startswith(("@", "alias:")):
        raise SourceError(
            f"{label} names a 'helm repo add' repository, which an offline render cannot know", file, line,
            "write the repository's URL (https:// or oci://) in Chart.yaml",
        )  # fmt: skip
    try:
        if repository.startswith("oci://"):
            artifact: Artifact = resolver.oci_chart(
                repository.rstrip("/"), dependency.name, dependency.version, False, label, file, line
            )
        elif repository.startswith(("http://", "https://")):
            artifact = resolver.http_chart(
                repository.rstrip("/"), dependency.name, dependency.version, label, file, line
            )
        else:
            raise SourceError(f"{label}: the repository must be oci://, https:// or file://", file, line)
    except SourceError:
        raise
    except HomeopsError as exc:
        raise SourceError(f"{label}: {exc.what}", file, line, exc.hint) from None
    return artifact.path, artifact.revision.split("@")[0] or "0"


def _digest(path: Path) -> str:
    return _signature(path) if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()


def _signature(directory: Path) -> str:
    """A digest of a directory's files (paths, sizes, modification times)."""
    entries = []
    for root, _dirs, files in os.walk(directory):
        for name in sorted(files):
            full = os.path.join(root, name)
            st = os.stat(full)
            entries.append((os.path.relpath(full, directory), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(json.dumps(sorted(entries)).encode()).hexdigest()
