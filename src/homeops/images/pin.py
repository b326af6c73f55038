"""Pin image tags to digests, the way Renovate does, editing YAML text in place.

The registry's ``Docker-Content-Digest`` for a tag is what gets pinned: for a multi-arch image that
is the digest of the index, so every node pulls its own platform. Files are edited textually at the
exact span of the scalar (quotes kept), so comments, ordering and formatting never change; a
round-trip through a YAML library would reflow them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from homeops.core import fs
from homeops.core.edits import FileEdit, apply_edits
from homeops.core.errors import HomeopsError
from homeops.core.limits import LimitError
from homeops.flux.workloads import is_image_key
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.errors import NotFoundError
from homeops.registry.oci.manifests import ALL_MANIFEST_TYPES
from homeops.registry.oci.references import is_digest
from homeops.registry.reference import (
    DigestResolver,
    ImageRef,
    ImageRefError,
    parse_image,
    parse_repository_tag,
)


class PinError(HomeopsError):
    """An image that could not be pinned (unknown tag, registry unreachable, refused)."""


class PinLimitError(PinError, LimitError):
    """The registry went over a limit (its answer's size, the request's deadline)."""


@dataclass(frozen=True)
class ImageOccurrence:
    """One image in a YAML file: ``image: repo:tag`` or a ``repository:`` + ``tag:`` pair."""

    ref: ImageRef
    style: str
    """``image`` (the whole reference is one scalar) or ``tag`` (only the tag scalar is edited)."""
    line: int
    column: int
    start: int
    end: int
    quote: str
    file: str | None = None


@dataclass
class PinReport:
    text: str
    pinned: list[tuple[ImageOccurrence, str]] = field(default_factory=list)
    unchanged: list[ImageOccurrence] = field(default_factory=list)
    errors: list[PinError] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.pinned)


def _editable(node: ScalarNode) -> bool:
    return node.style in (None, "", "'", '"') and bool(node.value) and "{{" not in node.value


def find_images(text: str, file: str | None = None) -> list[ImageOccurrence]:
    """Every image reference in a YAML stream, with the exact span to rewrite."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise HomeopsError(
            f"malformed YAML: {exc.problem or exc}",
            file,
            mark.line + 1 if mark else None,
            "fix the YAML syntax",
        ) from None
    except yaml.YAMLError as exc:
        raise HomeopsError(f"malformed YAML: {exc}", file, None, "fix the YAML syntax") from None
    found: list[ImageOccurrence] = []
    seen: set[int] = set()

    def occurrence(ref: ImageRef, style: str, node: ScalarNode) -> ImageOccurrence:
        return ImageOccurrence(
            ref=ref,
            style=style,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
            start=node.start_mark.index,
            end=node.end_mark.index,
            quote=node.style if node.style in ("'", '"') else "",
            file=file,
        )

    def visit(node: Node | None) -> None:
        if node is None or id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            for child in node.value:
                visit(child)
            return
        if not isinstance(node, MappingNode):
            return
        keys: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                keys[str(key_node.value)] = value_node
        for key, image in keys.items():  # image:, and a custom resource's imageName:, sidecarImage:...
            if not is_image_key(key) or not isinstance(image, ScalarNode) or not _editable(image):
                continue
            try:
                ref = parse_image(image.value, file=file, line=image.start_mark.line + 1)
            except ImageRefError:
                ref = None
            if ref is not None and ("/" in image.value or ":" in image.value or "@" in image.value):
                found.append(occurrence(ref, "image", image))
        repository, tag = keys.get("repository"), keys.get("tag")
        if (
            isinstance(repository, ScalarNode)
            and isinstance(tag, ScalarNode)
            and _editable(repository)
            and _editable(tag)
        ):
            registry = keys.get("registry")
            registry_text = (
                registry.value if isinstance(registry, ScalarNode) and _editable(registry) else None
            )
            try:
                ref = parse_repository_tag(
                    repository.value,
                    tag.value,
                    registry=registry_text,
                    file=file,
                    line=tag.start_mark.line + 1,
                )
            except ImageRefError:
                ref = None
            if ref is not None:
                found.append(occurrence(ref, "tag", tag))
        for _, value_node in node.value:
            visit(value_node)

    for document in documents:
        visit(document)
    found.sort(key=lambda o: o.start)
    return found


def rewrite(
    text: str, edits: Iterable[tuple[ImageOccurrence, str]]
) -> tuple[str, list[tuple[ImageOccurrence, str]]]:
    """``text`` with exactly the spans of these occurrences pinned to their digests (quotes kept),
    and the edits in file order; nothing else of the text changes."""
    ordered = sorted(edits, key=lambda e: e[0].start)
    out = text
    for occ, digest in reversed(ordered):
        ref = f"{occ.ref.tag}@{digest}" if occ.style == "tag" else str(occ.ref.with_digest(digest))
        out = out[: occ.start] + f"{occ.quote}{ref}{occ.quote}" + out[occ.end :]
    return out, ordered


def pin_text(
    text: str, replacements: Mapping[str, str], file: str | None = None
) -> tuple[str, list[tuple[ImageOccurrence, str]]]:
    """Rewrite every image whose unpinned form (``repo:tag``) is a key of ``replacements``."""
    edits: list[tuple[ImageOccurrence, str]] = []
    for occ in find_images(text, file):
        digest = replacements.get(str(occ.ref.unpinned))
        if digest is None or not is_digest(digest) or occ.ref.digest == digest:
            continue
        edits.append((occ, digest))
    return rewrite(text, edits)


def pin_file(path: Path, replacements: Mapping[str, str], *, write: bool = True) -> str:
    """The file's text with images pinned; written (only if changed) through ``apply_edits`` when ``write``."""
    original = fs.read_text(path.parent, path.name)
    text, edits = pin_text(original, replacements, str(path))
    if write and edits and text != original:
        apply_edits(path.parent, [FileEdit(path.name, text, original)])
    return text


# ----------------------------------------------------------------------------------------------
# Resolving digests


def no_tag_error(ref: ImageRef, file: str | None, line: int | None) -> PinError:
    """An image written without a tag: there is nothing a digest could track."""
    return PinError(f"image {ref.unpinned} has no tag to pin", file, line, "add the tag to track")


def pin_error(
    exc: HomeopsError,
    ref: ImageRef,
    file: str | None,
    line: int | None,
    redact: Callable[[str], str] = lambda text: text,
) -> PinError:
    """Why ``ref`` could not be pinned, at its place (an unknown tag said in plain words); ``redact``
    removes credentials a registry message may carry."""
    what, hint = exc.what, exc.hint
    if isinstance(exc, NotFoundError):
        what = f"tag {ref.tag} of {ref.repository} does not exist"
        hint = "check the tag on the registry"
    kind = PinLimitError if isinstance(exc, LimitError) else PinError  # a limit stays a limit (exit 2)
    return kind(redact(f"cannot pin {ref.unpinned}: {what}"), file, line, redact(hint) if hint else None)


def resolve_digest(
    image_ref: str | ImageRef, *, client: RegistryClient | None = None, insecure: bool = False
) -> str:
    """The digest the registry serves for the image's tag: the index digest for multi-arch images."""
    ref = image_ref if isinstance(image_ref, ImageRef) else parse_image(image_ref)
    target = ref.oci
    registry = client if client is not None else RegistryClient()
    if ref.tag or not ref.digest:
        target = target.with_digest(None)
    descriptor = registry.head_manifest(target, accept=ALL_MANIFEST_TYPES, insecure=insecure)
    return descriptor.digest


def pin_images(
    text: str,
    *,
    resolve: Callable[[ImageRef], str] | None = None,
    client: RegistryClient | None = None,
    file: str | None = None,
) -> PinReport:
    """Resolve every tagged image of ``text`` and pin it; failures are collected per image."""
    registry = client if client is not None else RegistryClient()
    resolver = resolve or (lambda ref: resolve_digest(ref, client=registry))
    report = PinReport(text)
    digests: dict[str, str] = {}
    failed: set[str] = set()
    occurrences = find_images(text, file)
    for occ in occurrences:
        key = str(occ.ref.unpinned)
        if key in digests or key in failed:
            continue
        if not occ.ref.tag:
            failed.add(key)
            report.errors.append(no_tag_error(occ.ref, file, occ.line))
            continue
        try:
            digests[key] = resolver(occ.ref)
        except HomeopsError as exc:
            failed.add(key)
            report.errors.append(pin_error(exc, occ.ref, file, occ.line))
    report.text, report.pinned = pin_text(text, digests, file)
    pinned_at = {o.start for o, _ in report.pinned}
    report.unchanged = [o for o in occurrences if str(o.ref.unpinned) in digests and o.start not in pinned_at]
    return report


# ----------------------------------------------------------------------------------------------
# One text at a time, for callers above this layer that take the image layer as a parameter


@dataclass
class TextScan:
    """The images of one YAML text after :func:`scan_text`."""

    text: str
    """The text, with every image pinned whose digest was resolved."""
    pinned: list[tuple[str, str, int]] = field(default_factory=list)
    """(reference without digest, digest, line) of each image pinned."""
    errors: list[str] = field(default_factory=list)
    """Why an image was not pinned, one line each."""
    unpinned: list[tuple[str, int]] = field(default_factory=list)
    """(reference, line) of each image still without a digest."""


def scan_text(text: str, file: str | None, resolve: DigestResolver | None) -> TextScan:
    """Pin the images of ``text`` through ``resolve`` (when given) and list those left without a
    digest; a HomeopsError when the text is not YAML. ``homeops migrate`` is given this function."""
    scan = TextScan(text)
    if resolve is not None:
        report = pin_images(text, resolve=lambda ref: resolve(str(ref)), file=file)
        scan.text = report.text
        scan.pinned = [(str(occ.ref.unpinned), digest, occ.line) for occ, digest in report.pinned]
        scan.errors = [err.one_line() for err in report.errors]
    scan.unpinned = [(str(occ.ref), occ.line) for occ in find_images(scan.text, file) if not occ.ref.digest]
    return scan
