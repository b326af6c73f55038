"""Builds of Flux Kustomizations kept across runs, keyed by everything they read.

What kustomize-controller builds for a Flux Kustomization (the generated or extended kustomization,
then kustomize, before postBuild substitution) depends on the spec fields the generator uses
(:data:`homeops.flux.generator.BUILD_FIELDS`), the source artifact's view of the repository (its
ignore rules), the boundary reads are confined to, and the files and directories the build looked at.
The first three make the key. The last are recorded while the build runs (``FileCache.recording``:
every file read, every directory listed, every path tested or resolved, with its signature: link or
not, real path, kind, content digest or listing); an entry is used only when every one of them still
has the same signature, checked through the same confined reader the build uses. So an edit, a
rename, a deletion, a new file in a directory a generated kustomization lists, or a symlink pointing
elsewhere makes the entry miss, and the build runs again.

Entries live in the persistent cache (:mod:`homeops.core.cache`, area ``build``), a few per key (a
diff's two sides, a branch switched back and forth), and in memory for the rest of the run. Nothing
of ``--var`` is in them: substitution happens after.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from homeops.core import cache
from homeops.core.files import Facts, FileCache, KeptResults
from homeops.core.fs import Boundary
from homeops.flux.artifactgen import MappedArtifact
from homeops.flux.generator import BUILD_FIELDS
from homeops.flux.sourceignore import SourceArtifact
from homeops.kustomize.resource import Resource


class BuildCache:
    """The builds of one repository (``scope``), checked against the files of this run (``files``)."""

    def __init__(self, files: FileCache, scope: Path | str | None = None) -> None:
        self.files = files
        name = cache.digest(str(scope if scope is not None else files.root).encode()).hex()
        self.kept = KeptResults(cache.pack("build", f"ks-{name}", 256 * 1024 * 1024))
        self.hits = 0
        self.misses = 0
        self.facts: dict[bytes, Facts] = {}  # what each build of this run looked at (by key)
        self._views: dict[int, tuple[object, str]] = {}  # artifact id -> (artifact, its description)

    def key(
        self,
        directory: Path,
        spec: Mapping[str, Any],
        artifact: SourceArtifact | MappedArtifact | None,
        boundary: Boundary,
    ) -> bytes | None:
        """The key of one build, None when it cannot be kept (an artifact laid out outside the repository)."""
        if isinstance(artifact, MappedArtifact) and not artifact.in_place:
            return None
        files = self.files
        where = [files.rel(Path(boundary.root)), boundary.name, [files.rel(Path(a)) for a in boundary.also]]
        fields = {name: spec[name] for name in BUILD_FIELDS if name in spec}
        text = json.dumps(
            [files.rel(directory), fields, self.view(artifact), where], sort_keys=True, default=str
        )
        return cache.digest(b"flux-build", text.encode("utf-8", "surrogatepass"))

    def view(self, artifact: SourceArtifact | MappedArtifact | None) -> str:
        """What a source's artifact lets a build see (its base, ignore patterns or mapping), as text."""
        view = self._views.get(id(artifact))
        if view is None:
            if isinstance(artifact, MappedArtifact):
                described: Any = ["mapped", artifact.base, sorted(artifact.mapping.items())]
            elif isinstance(artifact, SourceArtifact):
                described = ["source", artifact.base, [repr(p) for p in artifact.patterns]]
            else:
                described = None
            view = self._views[id(artifact)] = (artifact, json.dumps(described))
        return view[1]

    def build(self, key: bytes | None, run: Callable[[], list[Resource]]) -> list[Resource]:
        """The resources of the build ``key`` stands for: kept ones when what they read is unchanged,
        else ``run()``'s (kept for next time). Fresh objects either way (the caller changes them)."""
        if key is None:
            return run()
        for facts, blob in self.kept.matching(key, self.files):
            try:
                resources: list[Resource] = pickle.loads(blob)
            except Exception:  # a damaged entry is a miss (any unpickling error)
                continue
            self.hits += 1
            self.facts[key] = facts
            self.files.note(facts)
            return resources
        self.misses += 1
        resources, facts = self.files.record(run)
        self.facts[key] = facts
        self.kept.add(key, facts, pickle.dumps(resources, pickle.HIGHEST_PROTOCOL))
        return resources
