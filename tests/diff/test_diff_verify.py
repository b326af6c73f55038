"""``diff --verify-images`` against a real registry (Debian's docker-registry on loopback): present
images are verified, a definite 404 is missing, anything else (refused credentials, nothing
listening) is unverified and never reported as missing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from diff_support import GitRepo

import registry_support as testing
from homeops.api import Workspace
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import Credentials, CredentialStore

RAW = "cluster-apps/chongus/default/raw"
USER, PASSWORD = "reviewer", "s3cret-pass"


@pytest.fixture(scope="module")
def registries(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[testing.LocalRegistry, testing.LocalRegistry]]:
    """(anonymous registry, htpasswd registry), each holding ``example/web:1.0.0``."""
    if testing.registry_binary() is None:
        pytest.skip("docker-registry binary absent: apt-get install docker-registry (CNCF distribution)")
    with (
        testing.LocalRegistry(tmp_path_factory.mktemp("open-registry")) as open_registry,
        testing.LocalRegistry(tmp_path_factory.mktemp("auth-registry"), htpasswd=(USER, PASSWORD)) as locked,
    ):
        testing.push_image(
            RegistryClient(credentials=CredentialStore([])),
            f"{open_registry.host}/example/web",
            "1.0.0",
        )
        creds = CredentialStore([], static={locked.host: Credentials(USER, PASSWORD)})
        testing.push_image(RegistryClient(credentials=creds), f"{locked.host}/example/web", "1.0.0")
        yield open_registry, locked


def _docker_config(directory: Path, host: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}), encoding="utf-8")
    return directory


def _point_images(repo: GitRepo, web: str, migrate: str, db: str) -> None:
    repo.edit(f"{RAW}/app/workloads.yaml", "ghcr.io/example/web:1.0.0", web)
    repo.edit(f"{RAW}/app/workloads.yaml", "ghcr.io/example/migrate:1.0.0", migrate)
    repo.edit(f"{RAW}/app/workloads.yaml", "docker.io/library/postgres:16.4", db)
    repo.commit("images from the local registry")


def test_verified_missing_unverified(
    raw_repo: GitRepo,
    registries: tuple[testing.LocalRegistry, testing.LocalRegistry],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    open_registry, _ = registries
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    closed = f"127.0.0.1:{testing.free_port()}"  # nothing listens there
    _point_images(
        raw_repo,
        f"{open_registry.host}/example/web:1.0.0",
        f"{open_registry.host}/example/migrate:9.9.9",
        f"{closed}/library/postgres:17.0",
    )
    result = Workspace(raw_repo.path).diff("HEAD~1", "HEAD", verify_images=True, verify_timeout=3)
    checks = {img.reference: img.check for img in result.images if img.to is not None}
    assert {ref: c.status for ref, c in checks.items() if c} == {
        f"{open_registry.host}/example/web:1.0.0": "verified",
        f"{open_registry.host}/example/migrate:9.9.9": "missing",
        f"{closed}/library/postgres:17.0": "unverified",
    }
    web = checks[f"{open_registry.host}/example/web:1.0.0"]
    assert web is not None and web.digest and web.digest.startswith("sha256:")
    db = checks[f"{closed}/library/postgres:17.0"]
    assert db is not None and "cannot reach registry" in (db.message or "")
    # images only removed are not looked up
    assert all(img.check is None for img in result.images if img.to is None)


def test_credentials_come_from_the_docker_config(
    raw_repo: GitRepo,
    registries: tuple[testing.LocalRegistry, testing.LocalRegistry],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _, locked = registries
    _point_images(
        raw_repo,
        f"{locked.host}/example/web:1.0.0",
        f"{locked.host}/example/migrate:9.9.9",
        "docker.io/library/postgres:16.4",
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "empty"))
    anonymous = Workspace(raw_repo.path).diff("HEAD~1", "HEAD", verify_images=True, verify_timeout=3)
    statuses = {img.reference: img.check.status for img in anonymous.images if img.check}
    # refused without credentials: unverified, never missing, even for the tag that does not exist
    assert statuses == {
        f"{locked.host}/example/web:1.0.0": "unverified",
        f"{locked.host}/example/migrate:9.9.9": "unverified",
    }
    monkeypatch.setenv("DOCKER_CONFIG", str(_docker_config(tmp_path / "docker", locked.host)))
    logged_in = Workspace(raw_repo.path).diff("HEAD~1", "HEAD", verify_images=True, verify_timeout=3)
    statuses = {img.reference: img.check.status for img in logged_in.images if img.check}
    assert statuses == {
        f"{locked.host}/example/web:1.0.0": "verified",
        f"{locked.host}/example/migrate:9.9.9": "missing",
    }
    text = json.dumps([img.as_json() for img in logged_in.images])
    assert PASSWORD not in text


def test_cli_json_and_exit_code(
    raw_repo: GitRepo, registries: tuple[testing.LocalRegistry, testing.LocalRegistry], tmp_path: Path
) -> None:
    open_registry, _ = registries
    _point_images(
        raw_repo,
        f"{open_registry.host}/example/web:1.0.0",
        f"{open_registry.host}/example/migrate:9.9.9",
        "docker.io/library/postgres:16.4",
    )
    env = {"DOCKER_CONFIG": str(tmp_path / "none")}
    proc = raw_repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "json", "--verify-images", env=env)
    assert proc.returncode == 1, proc.stderr  # a missing image is a problem found
    data = json.loads(proc.stdout)
    verify = {f"{i['image']}:{i['to']}": i["verify"]["status"] for i in data["images"] if i["to"]}
    assert verify == {
        f"{open_registry.host}/example/web:1.0.0": "verified",
        f"{open_registry.host}/example/migrate:9.9.9": "missing",
    }
    assert f"homeops: error: image {open_registry.host}/example/migrate:9.9.9 is missing" in proc.stderr
    proc = raw_repo.cli("--base", "HEAD~1", "--head", "HEAD", "--verify-images", env=env)
    assert "[" in proc.stdout and "verified" in proc.stdout and "MISSING" in proc.stdout
