"""Step "images", last, after every conversion: images without a digest are pinned (when a
resolver is given) or listed as manual steps."""

from __future__ import annotations

import posixpath

from homeops.author.migrate.model import Resolver
from homeops.author.migrate.text import is_yaml, load_docs
from homeops.author.migrate.tree import Tree
from homeops.core.errors import HomeopsError
from homeops.kustomize.build import KUSTOMIZATION_FILES


def image_steps(tree: Tree, resolve: Resolver | None, steps: list[str], notes: list[str]) -> None:
    """Images without a digest: pinned when a resolver is given, else a manual step each."""
    from homeops.images import pin

    unpinned: dict[str, list[str]] = {}
    for path in sorted(tree.files):
        if not is_yaml(path):
            continue
        text = tree.files[path]
        if resolve is not None:
            try:
                report = pin.pin_images(text, resolve=lambda ref: resolve(str(ref)), file=path)
            except HomeopsError:
                report = None
            if report is not None:
                text = report.text
                tree.files[path] = text
                for occ, digest in report.pinned:
                    notes.append(f"pinned {occ.ref.unpinned} to {digest} ({path}:{occ.line})")
                notes += [f"not pinned: {err.one_line()}" for err in report.errors]
        try:
            found = pin.find_images(text, path)
        except HomeopsError:
            continue
        for occ in found:
            if not occ.ref.digest:
                unpinned.setdefault(str(occ.ref), []).append(f"{path}:{occ.line}")
        if posixpath.basename(path) in KUSTOMIZATION_FILES:
            for doc in load_docs(text, path)[:1]:
                for image in (doc.get("images") or []) if isinstance(doc, dict) else []:
                    if (
                        isinstance(image, dict)
                        and image.get("newTag")
                        and not image.get("digest")
                        and "@" not in str(image.get("newTag"))
                    ):
                        ref = f"{image.get('newName') or image.get('name')}:{image.get('newTag')}"
                        unpinned.setdefault(ref, []).append(f"{path} (images)")
    for ref, places in sorted(unpinned.items()):
        steps.append(
            f"pin image {ref} to a digest ({', '.join(places)}): homeops images pin --write, "
            "or rerun the migration with --pin"
        )
