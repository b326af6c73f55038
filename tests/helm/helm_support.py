"""Helpers shared by the helm tests: packaging and pushing the test chart, source objects."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import registry_support as testing
from homeops.core import yamlio
from homeops.helm import render as helm_render
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import CredentialStore
from homeops.registry.oci.manifests import HELM_CHART_LAYER

CHART_DIR = Path(__file__).parent / "data" / "testchart"
CHART_VERSIONS = ("1.0.0", "1.2.0", "1.2.7", "1.10.0", "2.0.0-rc.1", "0.9.0")


def require_registry() -> None:
    if testing.registry_binary() is None:
        pytest.skip("docker-registry binary absent: apt-get install docker-registry (CNCF distribution)")


def anonymous_client() -> RegistryClient:
    return RegistryClient(credentials=CredentialStore([]))


def chart_tgz(version: str) -> bytes:
    """The test chart packaged at ``version`` (Chart.yaml rewritten), Helm's ``<name>/`` layout."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "testchart"
        shutil.copytree(CHART_DIR, copy)
        text = (copy / "Chart.yaml").read_text().replace("version: 1.2.0", f"version: {version}")
        (copy / "Chart.yaml").write_text(text)
        return testing.package_chart(copy)


def chart_meta(version: str) -> dict[str, str]:
    return {"apiVersion": "v2", "name": "testchart", "version": version, "type": "application"}


@dataclass
class PushedCharts:
    registry: testing.LocalRegistry
    repository: str
    digests: dict[str, str]
    archives: dict[str, bytes]

    @property
    def url(self) -> str:
        return f"oci://{self.repository}"


def push_all(reg: testing.LocalRegistry, versions: tuple[str, ...] = CHART_VERSIONS) -> PushedCharts:
    client = anonymous_client()
    repository = f"{reg.host}/charts/testchart"
    digests: dict[str, str] = {}
    archives: dict[str, bytes] = {}
    for version in versions:
        archives[version] = chart_tgz(version)
        digests[version] = testing.push_chart(
            client, repository, version, archives[version], chart_yaml=chart_meta(version)
        )
    return PushedCharts(reg, repository, digests, archives)


@contextmanager
def chart_registry(directory: Path, versions: tuple[str, ...] = ("1.2.0",)) -> Iterator[PushedCharts]:
    """A local registry serving the test chart at ``versions``; skips without a registry or Helm engine."""
    require_registry()
    try:
        helm_render.get_engine()
    except helm_render.EngineMissingError as exc:
        pytest.skip(f"no Helm engine: {exc.hint}")
    with testing.LocalRegistry(directory) as reg:
        yield push_all(reg, versions)


def oci_repository(
    url: str, ref: str, *, operation: str = "copy", media_type: str | None = HELM_CHART_LAYER
) -> Any:
    """An OCIRepository object as a user writes it, loaded with provenance (file and line)."""
    selector = ""
    if media_type is not None:
        selector = f"  layerSelector:\n    mediaType: {media_type}\n    operation: {operation}\n"
    text = (
        "apiVersion: source.toolkit.fluxcd.io/v1\n"
        "kind: OCIRepository\n"
        "metadata:\n  name: testchart\n  namespace: flux-system\n"
        "spec:\n  interval: 1h\n"
        f"{selector}"
        f"  ref:\n    {ref}\n"
        f"  url: {url}\n"
    )
    return yamlio.load_one(text, "cluster-apps/apps/demo/app/ocirepository.yaml")
