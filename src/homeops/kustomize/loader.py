"""How builtin plugins read files: relative to one kustomization directory, under its load
restriction (kustomize's ``api/ifc`` Loader as ``PluginHelpers`` hands it to every plugin)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.core.errors import KustomizeError
from homeops.core.files import FileCache, clean
from homeops.core.fs import Boundary, OutsideRootError
from homeops.kustomize.remote import RemoteFiles


def within(path: Path, directory: Path, real: Callable[[Path], str] = os.path.realpath) -> bool:
    """kustomize's rootOnly restriction: the file, symlinks resolved, lies in or below the real directory."""
    p, d = real(path), real(directory)
    return p == d or p.startswith(d.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class Loader:
    """Files of one kustomization: ``krel`` names its kustomization file in messages."""

    files: FileCache
    directory: Path
    krel: str
    root_only: bool = True  # kubectl's LoadRestrictionsRootOnly; Flux builds with none
    boundary: Boundary | None = None  # the repository (or artifact) no file may leave; files' by default
    remote: RemoteFiles | None = None  # generator files by URL are fetched with it (None: refused)

    @property
    def confined_to(self) -> Boundary:
        return self.boundary or self.files.boundary

    @property
    def root_dir(self) -> Path:
        """Where generator file sources may come from."""
        return self.directory if self.root_only else Path("/")

    def rel(self, path: Path) -> str:
        return self.files.rel(path)

    def resolve(self, entry: str, key: str, line: int | None = None) -> Path:
        """The file a ``key`` entry names; refused outside the directory under rootOnly."""
        path = clean(self.directory / entry)
        self.files.touch(path)
        if self.root_only and not within(path, self.directory, self.files.real):
            raise KustomizeError(
                f"security; file '{entry}' is not in or below '{self.rel(self.directory)}'",
                self.krel,
                line,
                "move the file under the kustomization directory or make it a resource of a base",
            )
        try:  # whatever the restrictor, never out of the repository
            self.confined_to.check(path, f"{key} entry '{entry}'")
        except OutsideRootError as exc:
            exc.file, exc.line = self.krel, line
            raise
        if not os.path.isfile(path):
            raise KustomizeError(f"{key} entry '{entry}' does not exist", self.krel, line, "fix the path")
        return path

    def read_text(self, path: Path) -> str:
        return self.files.read_text(path)

    def load_all(self, path: Path) -> list[Any]:
        return self.files.load_all(path)
