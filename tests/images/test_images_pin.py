"""Pinning tags to digests against a real registry, editing YAML text in place."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

import registry_support as testing
from homeops.core.errors import HomeopsError
from homeops.images.pin import find_images, pin_file, pin_images, pin_text, resolve_digest, scan_text
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import CredentialStore
from homeops.registry.oci.manifests import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from homeops.registry.reference import ImageRef


def _served_digest(reg: testing.LocalRegistry, repository: str, tag: str, accept: str) -> str:
    request = urllib.request.Request(
        f"{reg.url}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(resp.headers["Docker-Content-Digest"])


@pytest.fixture(scope="module")
def images(image_registry: testing.LocalRegistry) -> dict[str, str]:
    client = RegistryClient(credentials=CredentialStore([]))
    host = image_registry.host
    single = testing.push_image(client, f"{host}/org/single", "v1.2.3")
    docker = testing.push_image(client, f"{host}/org/docker", "2.0", docker=True)
    index, children = testing.push_index(client, f"{host}/org/multi", "v4.5.6")
    return {"single": single, "docker": docker, "multi": index, "multi-amd64": children["linux/amd64"]}


def test_resolve_single_arch(
    image_registry: testing.LocalRegistry, images: dict[str, str], client: RegistryClient
) -> None:
    digest = resolve_digest(f"{image_registry.host}/org/single:v1.2.3", client=client)
    assert digest == images["single"]
    assert digest == _served_digest(image_registry, "org/single", "v1.2.3", OCI_MANIFEST)
    docker = resolve_digest(f"{image_registry.host}/org/docker:2.0", client=client)
    assert docker == images["docker"] == _served_digest(image_registry, "org/docker", "2.0", DOCKER_MANIFEST)


def test_resolve_multi_arch_pins_the_index(
    image_registry: testing.LocalRegistry, images: dict[str, str], client: RegistryClient
) -> None:
    digest = resolve_digest(f"{image_registry.host}/org/multi:v4.5.6", client=client)
    assert digest == images["multi"] != images["multi-amd64"]
    assert digest == _served_digest(image_registry, "org/multi", "v4.5.6", f"{OCI_INDEX}, {OCI_MANIFEST}")


def test_resolve_ignores_a_stale_digest(
    image_registry: testing.LocalRegistry, images: dict[str, str], client: RegistryClient
) -> None:
    stale = f"{image_registry.host}/org/single:v1.2.3@sha256:" + "0" * 64
    assert resolve_digest(stale, client=client) == images["single"]


HELMRELEASE = """\
---
# yaml-language-server: $schema=https://example.invalid/helmrelease.json
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app   # trailing comment
spec:
  values:
    controllers:
      main:
        containers:
          main:
            image:
              repository: {host}/org/multi   # app-template style
              tag: v4.5.6
          sidecar:
            image:
              repository: {host}/org/single
              tag: "v1.2.3"
          other:
            image:
              repository:   {host}/org/docker
              tag: '2.0'
    initContainers:
      - name: init
        image: {host}/org/single:v1.2.3
      - name: quoted
        image: "{host}/org/multi:v4.5.6"   # keep me
      - name: templated
        image: "{{{{ .Values.image }}}}"
"""


def test_pin_images_preserves_everything_else(
    image_registry: testing.LocalRegistry, images: dict[str, str], client: RegistryClient
) -> None:
    host = image_registry.host
    text = HELMRELEASE.format(host=host)
    report = pin_images(text, client=client, file="helmrelease.yaml")
    assert not report.errors
    assert len(report.pinned) == 5
    expected = (
        text.replace("tag: v4.5.6", f"tag: v4.5.6@{images['multi']}")
        .replace('tag: "v1.2.3"', f'tag: "v1.2.3@{images["single"]}"')
        .replace("tag: '2.0'", f"tag: '2.0@{images['docker']}'")
        .replace(f"image: {host}/org/single:v1.2.3", f"image: {host}/org/single:v1.2.3@{images['single']}")
        .replace(f'image: "{host}/org/multi:v4.5.6"', f'image: "{host}/org/multi:v4.5.6@{images["multi"]}"')
    )
    assert report.text == expected
    # a second run changes nothing: already pinned to the served digest
    again = pin_images(report.text, client=client)
    assert again.text == report.text and not again.pinned and len(again.unchanged) == 5


def test_unknown_tag_fails_only_that_image(
    image_registry: testing.LocalRegistry, images: dict[str, str], client: RegistryClient
) -> None:
    host = image_registry.host
    text = f"a:\n  image: {host}/org/single:v0.0.0-missing\nb:\n  image: {host}/org/single:v1.2.3\n"
    report = pin_images(text, client=client, file="values.yaml")
    assert len(report.errors) == 1
    error = report.errors[0]
    assert error.file == "values.yaml" and error.line == 2
    assert "v0.0.0-missing" in str(error) and "does not exist" in str(error)
    assert report.text == text.replace(":v1.2.3", f":v1.2.3@{images['single']}")


def test_unreachable_registry_is_a_per_image_error(client: RegistryClient) -> None:
    port = testing.free_port()
    text = f"image: 127.0.0.1:{port}/org/app:v1\n"
    report = pin_images(text, client=RegistryClient(credentials=CredentialStore([]), timeout=5))
    assert report.text == text
    assert len(report.errors) == 1 and "cannot reach" in str(report.errors[0])


def test_untagged_image_is_reported() -> None:
    report = pin_images("image: ghcr.io/org/app\n", resolve=lambda ref: "sha256:" + "1" * 64)
    assert report.text == "image: ghcr.io/org/app\n"
    assert "no tag" in str(report.errors[0])


def test_pin_text_offline_and_pin_file(tmp_path: Path) -> None:
    digest = "sha256:" + "d" * 64
    text = "# comment\nimage:\n  registry: ghcr.io\n  repository: org/app\n  tag: 1.0  # float-looking\n"
    out, edits = pin_text(text, {"ghcr.io/org/app:1.0": digest})
    assert (
        out
        == f"# comment\nimage:\n  registry: ghcr.io\n  repository: org/app\n  tag: 1.0@{digest}  # float-looking\n"
    )
    assert len(edits) == 1 and edits[0][0].line == 5 and edits[0][0].column == 8
    path = tmp_path / "values.yaml"
    path.write_text(text)
    assert pin_file(path, {"ghcr.io/org/app:1.0": digest}, write=False) == out
    assert path.read_text() == text
    pin_file(path, {"ghcr.io/org/app:1.0": digest})
    assert path.read_text() == out


def test_find_images() -> None:
    text = "a:\n  image: nginx:1.27\nb:\n  image: notanimage with spaces\nc:\n  image: {}\nd:\n  - image: ghcr.io/x/y:1\n"
    found = find_images(text, "f.yaml")
    assert [(o.ref, o.line, o.style) for o in found] == [
        (ImageRef("nginx", "1.27"), 2, "image"),
        (ImageRef("ghcr.io/x/y", "1"), 8, "image"),
    ]
    with pytest.raises(HomeopsError) as info:
        find_images("a: [unclosed\n", "bad.yaml")
    assert info.value.file == "bad.yaml"


def test_scan_text_pins_through_the_resolver_and_lists_what_is_left() -> None:
    digest, current = "sha256:" + "e" * 64, "sha256:" + "f" * 64
    text = (
        f"a:\n  image: nginx:1.27\nb:\n  image: ghcr.io/x/gone:1\nc:\n  image: ghcr.io/x/done:2@{current}\n"
    )

    def resolve(ref: str) -> str:
        if "gone" in ref:
            raise HomeopsError(f"no tag {ref}")
        return current if "done" in ref else digest  # a pinned image whose tag still serves its digest

    listed = scan_text(text, "f.yaml", None)  # without a resolver: nothing pinned, the unpinned listed
    assert (listed.text, listed.pinned, listed.errors) == (text, [], [])
    assert listed.unpinned == [("nginx:1.27", 2), ("ghcr.io/x/gone:1", 4)]
    scan = scan_text(text, "f.yaml", resolve)
    assert scan.text == text.replace("nginx:1.27", f"nginx:1.27@{digest}")
    assert scan.pinned == [("nginx:1.27", digest, 2)]
    assert len(scan.errors) == 1 and "ghcr.io/x/gone:1" in scan.errors[0]
    assert scan.unpinned == [("ghcr.io/x/gone:1", 4)]
    with pytest.raises(HomeopsError):
        scan_text("a: [unclosed\n", "bad.yaml", None)


CUSTOM_RESOURCES = """\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: postgres
spec:
  instances: 2
  imageName: {host}/org/single:v1.2.3   # the database image
---
apiVersion: dragonflydb.io/v1alpha1
kind: Dragonfly
metadata:
  name: cache
spec:
  image: "{host}/org/multi:v4.5.6"
  sidecarImage: {host}/org/single:v1.2.3
"""


def test_custom_resources_images_are_pinned_in_place(
    image_registry: testing.LocalRegistry, images: dict[str, str], client: RegistryClient
) -> None:
    """An operator's custom resource names its image under ``imageName`` (CloudNativePG), ``image``
    or a ``*Image`` key: found, pinned from the real registry, the rest of the text kept."""
    host = image_registry.host
    text = CUSTOM_RESOURCES.format(host=host)
    assert [(o.line, o.style) for o in find_images(text, "db.yaml")] == [
        (7, "image"),
        (14, "image"),
        (15, "image"),
    ]
    report = pin_images(text, client=client, file="db.yaml")
    assert not report.errors and len(report.pinned) == 3
    assert report.text == (
        text.replace(
            f"imageName: {host}/org/single:v1.2.3", f"imageName: {host}/org/single:v1.2.3@{images['single']}"
        )
        .replace(f'image: "{host}/org/multi:v4.5.6"', f'image: "{host}/org/multi:v4.5.6@{images["multi"]}"')
        .replace(
            f"sidecarImage: {host}/org/single:v1.2.3",
            f"sidecarImage: {host}/org/single:v1.2.3@{images['single']}",
        )
    )
