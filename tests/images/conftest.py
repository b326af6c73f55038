"""Fixtures for image pinning: a real docker-registry (CNCF distribution) on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import registry_support as testing
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import CredentialStore


@pytest.fixture(scope="session")
def image_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LocalRegistry]:
    if testing.registry_binary() is None:
        pytest.skip("docker-registry binary absent: apt-get install docker-registry (CNCF distribution)")
    with testing.LocalRegistry(tmp_path_factory.mktemp("image-registry")) as reg:
        yield reg


@pytest.fixture
def client() -> RegistryClient:
    return RegistryClient(credentials=CredentialStore([]))
