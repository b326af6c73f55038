"""Fixtures for chart sources: a real docker-registry (CNCF distribution) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helm_support import PushedCharts, anonymous_client, push_all, require_registry

import registry_support as testing
from homeops.helm.cache import Cache
from homeops.helm.sources import SourceResolver


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LocalRegistry]:
    """An anonymous registry for the whole session (our own process, never the system service)."""
    require_registry()
    with testing.LocalRegistry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


@pytest.fixture
def fresh_registry(tmp_path: Path) -> Iterator[testing.LocalRegistry]:
    """A registry of the test's own, which the test may stop."""
    require_registry()
    reg = testing.LocalRegistry(tmp_path / "registry").start()
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def charts(registry: testing.LocalRegistry) -> PushedCharts:
    return push_all(registry)


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def resolver(cache: Cache) -> SourceResolver:
    return SourceResolver(cache=cache, client=anonymous_client())
