"""Step "images", last, after every conversion: images without a digest are pinned (when a
resolver is given) or listed as manual steps.

Finding and pinning images in YAML text is the image layer's (``homeops.images.pin.scan_text``);
``author`` does not import that layer, so the caller passes it as an :data:`ImageScanner`."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import Protocol

from homeops.author.migrate.text import is_yaml, load_docs
from homeops.author.migrate.tree import Tree
from homeops.core.errors import HomeopsError
from homeops.kustomize.build import KUSTOMIZATION_FILES
from homeops.registry.reference import DigestResolver


class ImageScan(Protocol):
    """The images of one YAML text, as the image layer reports them."""

    @property
    def text(self) -> str:
        """The text, with every image pinned whose digest was resolved."""

    @property
    def pinned(self) -> Sequence[tuple[str, str, int]]:
        """(reference without digest, digest, line) of each image pinned."""

    @property
    def errors(self) -> Sequence[str]:
        """Why an image was not pinned, one line each."""

    @property
    def unpinned(self) -> Sequence[tuple[str, int]]:
        """(reference, line) of each image still without a digest."""


ImageScanner = Callable[[str, str, DigestResolver | None], ImageScan]
"""(YAML text, file, resolver or None) -> its images, pinned through the resolver when one is given;
raises HomeopsError when the text is not YAML."""


def image_steps(
    tree: Tree, scan: ImageScanner, resolve: DigestResolver | None, steps: list[str], notes: list[str]
) -> None:
    """Images without a digest: pinned when a resolver is given, else a manual step each."""
    unpinned: dict[str, list[str]] = {}
    for path in sorted(tree.files):
        if not is_yaml(path):
            continue
        try:
            found = scan(tree.files[path], path, resolve)
        except HomeopsError:
            continue
        tree.files[path] = text = found.text
        notes += [f"pinned {ref} to {digest} ({path}:{line})" for ref, digest, line in found.pinned]
        notes += [f"not pinned: {error}" for error in found.errors]
        for ref, line in found.unpinned:
            unpinned.setdefault(ref, []).append(f"{path}:{line}")
        if posixpath.basename(path) in KUSTOMIZATION_FILES:
            for ref in _kustomization_images(text, path):
                unpinned.setdefault(ref, []).append(f"{path} (images)")
    for ref, places in sorted(unpinned.items()):
        steps.append(
            f"pin image {ref} to a digest ({', '.join(places)}): homeops images pin --write, "
            "or rerun the migration with --pin"
        )


def _kustomization_images(text: str, path: str) -> list[str]:
    """``images`` entries of a kustomization file that set a tag without a digest."""
    out: list[str] = []
    for doc in load_docs(text, path)[:1]:
        for image in (doc.get("images") or []) if isinstance(doc, dict) else []:
            if (
                isinstance(image, dict)
                and image.get("newTag")
                and not image.get("digest")
                and "@" not in str(image.get("newTag"))
            ):
                out.append(f"{image.get('newName') or image.get('name')}:{image.get('newTag')}")
    return out
