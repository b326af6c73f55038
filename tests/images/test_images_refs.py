"""Image references as written in a repository."""

from __future__ import annotations

import pytest

from homeops.registry.reference import (
    ImageRef,
    ImageRefError,
    format_image,
    parse_image,
    parse_repository_tag,
    split_tag,
)

DIGEST = "sha256:" + "c" * 64


@pytest.mark.parametrize(
    ("text", "repository", "tag", "digest"),
    [
        ("nginx", "nginx", None, None),
        ("nginx:1.27", "nginx", "1.27", None),
        ("ghcr.io/org/app:v1.2.3", "ghcr.io/org/app", "v1.2.3", None),
        (f"ghcr.io/org/app:v1.2.3@{DIGEST}", "ghcr.io/org/app", "v1.2.3", DIGEST),
        (f"ghcr.io/org/app@{DIGEST}", "ghcr.io/org/app", None, DIGEST),
        ("localhost:5000/app:1", "localhost:5000/app", "1", None),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app", None, None),
    ],
)
def test_parse_and_format_round_trip(text: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_image(text)
    assert ref == ImageRef(repository, tag, digest)
    assert str(ref) == text
    assert format_image(repository, tag, digest) == text


def test_normalised_registry_reference() -> None:
    assert str(parse_image("nginx:1.27").oci) == "docker.io/library/nginx:1.27"
    assert parse_image(f"ghcr.io/org/app:v1@{DIGEST}").pinned
    assert str(parse_image(f"ghcr.io/org/app:v1@{DIGEST}").unpinned) == "ghcr.io/org/app:v1"


def test_app_template_tag_with_digest() -> None:
    assert split_tag(f"v1.2.3@{DIGEST}") == ("v1.2.3", DIGEST)
    assert split_tag("v1.2.3") == ("v1.2.3", None)
    ref = parse_repository_tag("org/app", f"v1@{DIGEST}", registry="ghcr.io")
    assert ref == ImageRef("ghcr.io/org/app", "v1", DIGEST)


@pytest.mark.parametrize("text", ["", "org/UPPER:1", "app:bad tag", "app@sha256:nothex", "a//b"])
def test_invalid(text: str) -> None:
    with pytest.raises(ImageRefError):
        parse_image(text, file="values.yaml", line=4)
