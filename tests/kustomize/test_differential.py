"""The native engine against the real kustomize (``kubectl kustomize``) on every directory we have:
the same objects in the same order, printed as the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from differential import CORPUS, EXAMPLE, kubectl_text, kustomization_dirs, native_text

from homeops.core import yamlio
from homeops.kustomize.build import Builder


def _params(root: Path, label: str) -> list[object]:
    if not root.is_dir():
        return [pytest.param(None, None, id=f"{label}-absent")]
    return [pytest.param(root, d, id=f"{label}:{d.relative_to(root)}") for d in kustomization_dirs(root)]


_BUILDERS: dict[Path, Builder] = {}


@pytest.mark.parametrize(("root", "directory"), [*_params(CORPUS, "corpus"), *_params(EXAMPLE, "example")])
def test_native_equals_kubectl(root: Path | None, directory: Path | None, kubectl: str) -> None:
    if root is None or directory is None:
        pytest.skip("../shared is absent: corpus directories cannot be compared")
    expected, kubectl_error = kubectl_text(directory)
    builder = _BUILDERS.setdefault(root, Builder(root))
    actual, native_error = native_text(builder, directory)
    if expected is None:
        # kubectl refuses this directory: we must refuse it too, with one line
        assert actual is None, f"kubectl fails ({kubectl_error[:200]}) but the native engine built it"
        assert native_error and "\n" not in native_error
        return
    assert actual is not None, f"native engine failed: {native_error}"
    expected_objects, actual_objects = yamlio.load_all(expected), yamlio.load_all(actual)
    assert [(o.get("kind"), o.get("metadata", {}).get("name")) for o in actual_objects] == [
        (o.get("kind"), o.get("metadata", {}).get("name")) for o in expected_objects
    ], "object order or identity differs"
    assert actual_objects == expected_objects
    # the same bytes: quoting, folding, key order and layout as kustomize prints them
    assert actual == expected
