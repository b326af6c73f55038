"""``diff --verify-images``: does the registry serve each image the change newly references?

One ``HEAD`` on the manifest per reference (``/v2/<repo>/manifests/<tag|digest>``), with the
credentials of the Docker config (``DOCKER_CONFIG``/``~/.docker/config.json``, credential helpers)
and the client's timeout. Only a definite "manifest unknown" (HTTP 404) makes an image *missing*;
anything else that stops the answer (no route, timeout, refused credentials, a reference that does
not parse) leaves it *unverified*, with the reason. Registries are asked in parallel, one thread
each, every registry's references in turn (its token is fetched once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from homeops.core.errors import HomeopsError
from homeops.core.parallel import parallel_map
from homeops.diff.model import ImageChange, ImageCheck
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.errors import NotFoundError
from homeops.registry.oci.references import parse_reference

MAX_REGISTRIES_AT_ONCE = 8


def check_reference(client: RegistryClient, reference: str) -> ImageCheck:
    """What the registry says of one reference."""
    if "${" in reference:
        return ImageCheck(reference, "unverified", message="the reference holds an unsubstituted variable")
    try:
        ref = parse_reference(reference)
    except HomeopsError as exc:
        return ImageCheck(reference, "unverified", message=exc.what)
    try:
        descriptor = client.head_manifest(ref)
    except NotFoundError as exc:
        return ImageCheck(reference, "missing", message=client.redact(exc.what))
    except HomeopsError as exc:
        return ImageCheck(reference, "unverified", message=client.redact(exc.one_line()))
    except Exception as exc:  # a registry answering nonsense must not stop the diff
        return ImageCheck(reference, "unverified", message=client.redact(f"{type(exc).__name__}: {exc}"))
    return ImageCheck(reference, "verified", digest=descriptor.digest)


def _registry(reference: str) -> str:
    try:
        return parse_reference(reference).registry
    except HomeopsError:
        return ""


def verify_images(images: Iterable[ImageChange], client: RegistryClient) -> None:
    """Set ``check`` on every image change that references a new version."""
    wanted = [img for img in images if img.reference is not None]
    by_registry: dict[str, list[str]] = defaultdict(list)
    for reference in sorted({str(img.reference) for img in wanted}):
        by_registry[_registry(reference)].append(reference)

    def ask(references: list[str]) -> list[ImageCheck]:
        return [check_reference(client, r) for r in references]

    answers: dict[str, ImageCheck] = {}
    if by_registry:
        for checks in parallel_map(ask, list(by_registry.values()), MAX_REGISTRIES_AT_ONCE):
            answers.update((c.reference, c) for c in checks)
    for img in wanted:
        img.check = answers[str(img.reference)]
