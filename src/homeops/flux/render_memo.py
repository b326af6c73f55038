"""Renders of Flux Kustomizations reused while their inputs hold: within a run (a diff's two sides) and
across runs (the persistent cache, area ``render``).

A Kustomization's render is decided by its memo key and by what it looked at. The key holds everything
it is given rather than reads: the object as its parent rendered it (with the file and lines it was read
at: findings point there), the cluster, the settings, what its source's artifact lets it see, and for
postBuild the substituteFrom objects as they were found (with where they are written), what only the
cluster holds, the variables given and ``--placeholders``. What it looked at (every file read, directory
listed, path tested or resolved, with its signature: ``FileCache.record``) is kept with the render, and
a kept render is used only while every one of those still has the same signature. Kustomizations whose
render also depends on what other Kustomizations rendered are not kept: those whose ResourceSets read
input providers from the whole render, those read from an artifact laid out outside the repository.

Kept across runs only when nothing given on the command line is in it: with ``--var``/``--vars-file``
values (they may come from the cluster's Secrets) or ``--placeholders``, renders are reused within the
run only. Nothing decrypted exists to be stored (homeops never decrypts SOPS). Messages naming the
directory rendered are kept with it left out and given back with the directory of the run using them,
so a checkout of another revision shares the entries of the repository it stands for.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.core import cache
from homeops.core.files import Facts, FileCache, KeptResults
from homeops.core.findings import Finding
from homeops.core.shape import as_list, as_map
from homeops.flux import resourceset
from homeops.flux.artifactgen import MappedArtifact
from homeops.flux.model import FluxKustomization, RenderedKustomization, Unresolved
from homeops.flux.render_one import KustomizationRender
from homeops.kustomize.resource import Resource

_ROOT = "\x00root\x00"
"""Stands for the rendered directory (with its trailing separator) in kept messages."""


@dataclass
class MemoEntry:
    """One Flux Kustomization's render and what it looked at."""

    facts: Facts
    resources: list[Resource]
    findings: list[Finding]
    unresolved: list[Unresolved]
    notes: list[str]
    missing_sources: list[tuple[str, str, str]]


class RenderMemo:
    """Renders by memo key. ``share``: a hit gives the very objects rendered earlier in this process (a
    diff's sides share them; nothing may change them afterwards); otherwise every hit is a fresh copy
    from the kept bytes. ``scope`` (the repository, or the one a checkout stands for): renders are also
    kept across runs in the persistent cache (None, or the cache turned off: this process only)."""

    def __init__(self, scope: Path | str | None = None, *, share: bool = True) -> None:
        store = None
        if scope is not None:
            store = cache.pack("render", f"ks-{cache.digest(str(scope).encode()).hex()}", 256 * 1024 * 1024)
        self.kept = KeptResults(store)
        self.share = share
        self.live: dict[bytes, list[MemoEntry]] = {}
        self.hits = 0
        self.misses = 0

    def find(self, key: bytes, files: FileCache) -> MemoEntry | None:
        """The render kept under ``key`` whose facts hold in ``files`` (None: render it)."""
        for entry in self.live.get(key, ()):
            if files.unchanged(entry.facts):
                self.hits += 1
                return entry
        root = _prefix(files.root)
        for facts, blob in self.kept.matching(key, files):
            try:
                kept = pickle.loads(blob)
                entry = MemoEntry(facts, *kept)
            except Exception:  # a damaged entry is a miss (any unpickling error)
                continue
            _swap_root(entry, _ROOT, root)
            if self.share:
                self.live.setdefault(key, []).append(entry)
            self.hits += 1
            return entry
        self.misses += 1
        return None

    def keep(self, key: bytes, entry: MemoEntry, files: FileCache, *, persist: bool) -> None:
        """Remember a render made in ``files``' directory; across runs only when ``persist``."""
        if self.share:
            self.live.setdefault(key, []).append(entry)
        if not persist or self.kept.store is None:
            return
        portable = dataclasses.replace(
            entry, findings=[dataclasses.replace(f) for f in entry.findings], notes=list(entry.notes)
        )
        _swap_root(portable, _prefix(files.root), _ROOT)
        self.kept.add(key, entry.facts, pickle.dumps(_fields(portable), pickle.HIGHEST_PROTOCOL))


def _fields(entry: MemoEntry) -> tuple[Any, ...]:
    return (entry.resources, entry.findings, entry.unresolved, entry.notes, entry.missing_sources)


def _prefix(root: Path) -> str:
    return str(root) + os.sep


def _swap_root(entry: MemoEntry, old: str, new: str) -> None:
    """Messages of ``entry`` (its own copies) with ``old`` (a directory, or its stand-in) made ``new``."""
    for finding in entry.findings:
        if old in finding.message:
            finding.message = finding.message.replace(old, new)
        if finding.file and old in finding.file:
            finding.file = finding.file.replace(old, new)
    entry.notes = [note.replace(old, new) if old in note else note for note in entry.notes]


class MemoizedRender(KustomizationRender):
    """:class:`KustomizationRender` taking a Kustomization's render from :attr:`memo` when its key and
    facts match. A base of :class:`ClusterRenderer` (:mod:`.render`), whose constructor sets the state
    declared here."""

    memo: RenderMemo
    keep_renders: bool  # False: given values (--var, --placeholders) are in play, keep nothing across runs
    facts: dict[str, Facts]  # Kustomization key -> what its render looked at (repository Kustomizations)

    def _render_one(self, ks: FluxKustomization) -> RenderedKustomization:
        ref = ks.source_ref
        if not self._is_local(ref) or "${" in ks.path:
            return super()._render_one(ks)
        # what the source's artifact holds is settled first: loading its ignore files may report
        # findings, which belong to no one Kustomization's render
        artifact = self._artifact(ref)
        key = None if isinstance(artifact, MappedArtifact) and not artifact.in_place else self._memo_key(ks)
        if key is not None:
            entry = self.memo.find(key, self.files)
            if entry is not None:
                return self._reused(ks, entry)
        first = len(self.result.findings)
        rk, facts = self.files.record(lambda: KustomizationRender._render_one(self, ks))
        self.facts[ks.key] = facts
        if key is not None and rk.error is None and not _reads_the_render(rk.resources):
            entry = MemoEntry(
                facts,
                list(rk.resources),
                list(self.result.findings[first:]),
                list(rk.unresolved),
                list(rk.notes),
                list(rk.missing_sources),
            )
            self.memo.keep(key, entry, self.files, persist=self.keep_renders)
        return rk

    def _reused(self, ks: FluxKustomization, entry: MemoEntry) -> RenderedKustomization:
        self.files.note(entry.facts)
        self.facts[ks.key] = entry.facts
        if self.progress:
            self.progress(ks.key)
        rk = RenderedKustomization(ks)
        rk.resources = list(entry.resources)  # shared when the memo shares: nothing changes them
        rk.unresolved = list(entry.unresolved)
        rk.notes = list(entry.notes)
        rk.missing_sources = list(entry.missing_sources)
        self.result.findings.extend(entry.findings)
        return rk

    def _memo_key(self, ks: FluxKustomization) -> bytes:
        """Everything a Kustomization's render is given besides what it reads (see the module)."""
        res = ks.resource
        inputs: dict[str, Any] = {
            "cluster": [self.cluster.name, self.cluster.directory],
            "ks": [res.file, res.line, _located(ks.obj)],
            "strict": self.strict,
            "settings": self.settings.memo_key(),
            "artifact": self.builds.view(self._artifact(ks.source_ref)),
        }
        pb = ks.post_build
        if pb is not None:
            sources: list[Any] = []
            for ref in as_list(pb.get("substituteFrom")):
                if not isinstance(ref, dict):
                    continue
                key = (str(ref.get("kind") or ""), ks.namespace, str(ref.get("name") or ""))
                found = self.pool.get(key)
                if found is not None:
                    sources.append([list(key), found.file, found.line, _located(found.obj)])
                elif key in self.cluster_only:
                    keys, origin = self.cluster_only.declared(key)
                    sources.append([list(key), "cluster", sorted(keys) if keys is not None else None, origin])
                else:  # written in the repository, applied by no Kustomization (bootstrap): its keys count
                    written = None if ref.get("optional") else self.index.defined(key[0], key[2], key[1])
                    where = None if written is None else [written[0], sorted(map(str, _keys(written[1])))]
                    sources.append([list(key), "absent", where])
            inputs["sources"] = sources
            inputs["vars"] = self.cli_vars
            inputs["placeholders"] = self.placeholders
        text = json.dumps(inputs, sort_keys=True, default=str)
        return cache.digest(b"flux-render", text.encode("utf-8", "surrogatepass"))


def _keys(doc: dict[str, Any]) -> list[Any]:
    return [*as_map(doc.get("data")), *as_map(doc.get("stringData"))]


def _reads_the_render(resources: list[Resource]) -> bool:
    """ResourceSets expand with the input providers of the whole render: not this render's alone."""
    return any(resourceset.is_resourceset(r.obj) for r in resources)


def _located(node: Any) -> Any:
    """A YAML value with the provenance of its mappings (file, line, key lines), for a key."""
    if isinstance(node, dict):
        items = {str(k): _located(v) for k, v in node.items()}
        where = [getattr(node, "file", None), getattr(node, "line", None), getattr(node, "key_lines", None)]
        return [where, items]
    if isinstance(node, list):
        return [_located(v) for v in node]
    return node
