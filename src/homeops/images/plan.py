"""Planning digest pins for a rendered repository: which files, which images, what edits.

Only files the render says hold an unpinned image are edited; each tag is resolved once (a few in
parallel) with ``HEAD`` on its registry, the index digest for multi-arch images as Renovate pins. The
plan is edits, never writes: the caller shows them as a diff or applies them through
:func:`homeops.core.edits.apply_edits`, so comments and formatting stay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homeops.core import fs
from homeops.core.edits import FileEdit
from homeops.core.errors import HomeopsError
from homeops.core.parallel import parallel_map
from homeops.flux.rendered import ClusterRender
from homeops.flux.workloads import ImageUse, from_chart, resource_images
from homeops.images.pin import ImageOccurrence, PinError, find_images, no_tag_error, pin_error, rewrite
from homeops.registry.reference import ImageRef

MAX_PARALLEL = 8
"""Registry lookups in flight at once."""


@dataclass
class PinPlan:
    """A planned pin: edits per file, each image pinned (with where) and each image that failed."""

    edits: list[FileEdit] = field(default_factory=list)
    pinned: list[tuple[str, ImageOccurrence, str]] = field(default_factory=list)  # (file, occurrence, digest)
    errors: list[tuple[str, PinError]] = field(default_factory=list)  # (image, error)


def unpinned_uses(renders: Iterable[ClusterRender]) -> dict[str, list[ImageUse]]:
    """Unpinned image uses of repository files, by file (chart output has no file of its own)."""
    out: dict[str, list[ImageUse]] = {}
    for result in renders:
        for _rk, res in result.objects():
            if from_chart(res):
                continue
            for use in resource_images(res):
                if not use.pinned and use.file:
                    out.setdefault(use.file, []).append(use)
    return out


def plan_pins(
    root: Path,
    uses_by_file: Mapping[str, list[ImageUse]],
    *,
    resolve: Callable[[ImageRef], str],
    redact: Callable[[str], str] = lambda text: text,
) -> PinPlan:
    """Resolve every unpinned tag the render found (each once, a few in parallel) and compute the edits."""
    plan = PinPlan()
    targets: dict[str, tuple[str, list[ImageOccurrence]]] = {}
    for file in sorted(uses_by_file):
        path = root / file
        if not path.is_file():
            continue
        text = fs.read_text(root, path)
        lines = {u.line for u in uses_by_file[file] if u.line}
        images = {u.image.partition("@")[0] for u in uses_by_file[file]}
        wanted = [
            occ
            for occ in find_images(text, file)
            if not occ.ref.pinned and (occ.line in lines or str(occ.ref.unpinned) in images)
        ]
        if wanted:
            targets[file] = (text, wanted)
    keys: dict[str, ImageRef] = {}
    for _text, occurrences in targets.values():
        for occ in occurrences:
            if occ.ref.tag:
                keys.setdefault(str(occ.ref.unpinned), occ.ref.unpinned)

    def attempt(ref: ImageRef) -> str | HomeopsError:
        try:
            return resolve(ref)
        except HomeopsError as exc:
            return exc

    outcomes = dict(zip(keys, parallel_map(attempt, list(keys.values()), MAX_PARALLEL), strict=True))
    for file, (text, occurrences) in targets.items():
        digests: dict[str, str] = {}
        reported: set[str] = set()
        for occ in occurrences:
            key = str(occ.ref.unpinned)
            if not occ.ref.tag:
                plan.errors.append((key, no_tag_error(occ.ref, file, occ.line)))
                continue
            outcome = outcomes[key]
            if isinstance(outcome, HomeopsError):
                if key not in reported:
                    plan.errors.append((key, pin_error(outcome, occ.ref, file, occ.line, redact)))
                    reported.add(key)
                continue
            digests[key] = outcome
        new, edits = rewrite(
            text,
            [
                (occ, digests[str(occ.ref.unpinned)])
                for occ in occurrences
                if str(occ.ref.unpinned) in digests
            ],
        )
        if edits and new != text:
            plan.edits.append(FileEdit(file, new, text))
            plan.pinned.extend((file, occ, digest) for occ, digest in edits)
    return plan
