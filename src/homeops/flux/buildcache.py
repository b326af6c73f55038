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
from homeops.core.files import FileCache, Signature
from homeops.core.fs import Boundary
from homeops.flux.artifactgen import MappedArtifact
from homeops.flux.generator import BUILD_FIELDS
from homeops.flux.sourceignore import SourceArtifact
from homeops.kustomize.resource import Resource

CANDIDATES = 3
"""Entries kept per key (the most recent first)."""

Facts = tuple[tuple[str, Signature], ...]


class BuildCache:
    """The builds of one repository (``scope``), checked against the files of this run (``files``)."""

    def __init__(self, files: FileCache, scope: Path | str | None = None) -> None:
        self.files = files
        name = cache.digest(str(scope if scope is not None else files.root).encode()).hex()
        self.store = cache.pack("build", f"ks-{name}", 256 * 1024 * 1024)
        self.memory: dict[bytes, list[tuple[Facts, bytes]]] = {}
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
        view = self._views.get(id(artifact))
        if view is None:
            if isinstance(artifact, MappedArtifact):
                described: Any = ["mapped", artifact.base, sorted(artifact.mapping.items())]
            elif isinstance(artifact, SourceArtifact):
                described = ["source", artifact.base, [repr(p) for p in artifact.patterns]]
            else:
                described = None
            view = self._views[id(artifact)] = (artifact, json.dumps(described))
        files = self.files
        where = [files.rel(Path(boundary.root)), boundary.name, [files.rel(Path(a)) for a in boundary.also]]
        fields = {name: spec[name] for name in BUILD_FIELDS if name in spec}
        text = json.dumps([files.rel(directory), fields, view[1], where], sort_keys=True, default=str)
        return cache.digest(b"flux-build", text.encode("utf-8", "surrogatepass"))

    def build(self, key: bytes | None, run: Callable[[], list[Resource]]) -> list[Resource]:
        """The resources of the build ``key`` stands for: kept ones when what they read is unchanged,
        else ``run()``'s (kept for next time). Fresh objects either way (the caller changes them)."""
        if key is None:
            return run()
        candidates = self._candidates(key)
        for facts, blob in candidates:
            if self.files.unchanged(facts):
                try:
                    resources: list[Resource] = pickle.loads(blob)
                except Exception:  # a damaged entry is a miss (any unpickling error)
                    continue
                self.hits += 1
                self.facts[key] = facts
                self._tell_outer(facts)
                return resources
        self.misses += 1
        outer, self.files.recording = self.files.recording, {}
        try:
            resources = run()
            recorded = self.files.recording
        finally:
            self.files.recording = outer
        facts = tuple(sorted(recorded.items()))
        self.facts[key] = facts
        self._tell_outer(facts)
        blob = pickle.dumps(resources, pickle.HIGHEST_PROTOCOL)
        kept = [(facts, blob), *(c for c in candidates if c[0] != facts)][:CANDIDATES]
        self.memory[key] = kept
        if self.store is not None:
            self.store.put(key, pickle.dumps(kept, pickle.HIGHEST_PROTOCOL))
        return resources

    def _candidates(self, key: bytes) -> list[tuple[Facts, bytes]]:
        found = self.memory.get(key)
        if found is not None:
            return found
        found = []
        blob = self.store.get(key) if self.store is not None else None
        if blob is not None:
            try:
                found = list(pickle.loads(blob))
            except Exception:  # a damaged entry is no entry
                found = []
        self.memory[key] = found
        return found

    def _tell_outer(self, facts: Facts) -> None:
        """A recording around this build (a whole render's) depends on what the build read, too."""
        outer = self.files.recording
        if outer is not None:
            for rel, sig in facts:
                outer.setdefault(rel, sig)
