"""Container image references as written in a repository: ``repo[:tag][@sha256:…]``.

The repository is kept exactly as the author wrote it (``nginx`` stays ``nginx``) so rewriting a
file changes only the tag or digest; :attr:`ImageRef.oci` gives the normalised registry reference
used to talk to the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from homeops.core.errors import HomeopsError
from homeops.registry.oci.errors import RegistryError
from homeops.registry.oci.references import Reference, parse_reference

DigestResolver = Callable[[str], str]
"""Image reference without digest -> the digest the registry serves for it."""


class ImageRefError(HomeopsError):
    """Text that is not an image reference."""


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def oci(self) -> Reference:
        return parse_reference(str(self))

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def unpinned(self) -> ImageRef:
        """The same image without its digest: the key a pin resolves."""
        return replace(self, digest=None)

    def with_digest(self, digest: str | None) -> ImageRef:
        return replace(self, digest=digest)

    def __str__(self) -> str:
        return format_image(self.repository, self.tag, self.digest)


def format_image(repository: str, tag: str | None = None, digest: str | None = None) -> str:
    text = repository
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    return text


def split_tag(text: str) -> tuple[str, str | None]:
    """``v1.2.3@sha256:…`` (app-template's ``tag:``) → ``("v1.2.3", "sha256:…")``."""
    tag, sep, digest = text.partition("@")
    return tag, (digest if sep else None)


def parse_image(text: str, *, file: str | None = None, line: int | None = None) -> ImageRef:
    """Parse ``repo[:tag][@digest]``; raises :class:`ImageRefError` when it is not one."""
    raw = text.strip()
    try:
        parse_reference(raw, file=file, line=line)
    except RegistryError as exc:
        raise ImageRefError(
            exc.what, file, line, exc.hint or "expected repository[:tag][@sha256:digest]"
        ) from None
    name, _, digest = raw.partition("@")
    repository, tag = name, None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        repository, tag = name[:colon], name[colon + 1 :]
    return ImageRef(repository, tag, digest or None)


def parse_repository_tag(
    repository: str,
    tag: str | None,
    *,
    registry: str | None = None,
    file: str | None = None,
    line: int | None = None,
) -> ImageRef:
    """The image of a chart's ``image: {registry, repository, tag}`` mapping."""
    repo = f"{registry.rstrip('/')}/{repository}" if registry else repository
    plain_tag, digest = split_tag(tag) if tag else (None, None)
    ref = ImageRef(repo, plain_tag or None, digest)
    parse_image(str(ref), file=file, line=line)
    return ref
