"""Registry credentials as Docker keeps them: ``auths`` entries of the Docker config files
(``$REGISTRY_AUTH_FILE``, then ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``),
``credHelpers`` / ``credsStore`` run as ``docker-credential-<helper> get`` (a missing helper means no
credentials). Registry keys are normalised as Docker does (a URL's host, lower-case; Docker Hub's
aliases are one registry). Secrets are never printed (``repr=False``)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.registry.oci.errors import AuthError
from homeops.registry.oci.references import DOCKER_HUB, DOCKER_HUB_ALIASES


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def _registry_key(entry: str) -> str:
    """``https://index.docker.io/v1/`` → ``docker.io``; ``https://ghcr.io`` → ``ghcr.io``."""
    key = entry.strip()
    if "://" in key:
        key = urllib.parse.urlsplit(key).netloc or key
    key = key.split("/", 1)[0].lower()
    return DOCKER_HUB if key in DOCKER_HUB_ALIASES else key


class CredentialStore:
    """Registry credentials from Docker's ``config.json`` (``auths``, ``credHelpers``, ``credsStore``)."""

    def __init__(
        self, paths: Sequence[Path] | None = None, *, static: Mapping[str, Credentials] | None = None
    ):
        self._paths = list(paths) if paths is not None else default_credential_paths()
        self._static = {_registry_key(k): v for k, v in (static or {}).items()}
        self._loaded: dict[str, Any] | None = None

    def _config(self) -> dict[str, Any]:
        if self._loaded is None:
            merged: dict[str, Any] = {"auths": {}, "credHelpers": {}, "credsStore": None}
            for path in self._paths:
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    continue
                except (OSError, ValueError) as exc:
                    raise AuthError(
                        f"cannot read credential file: {type(exc).__name__}",
                        str(path),
                        None,
                        "fix or remove the file",
                    ) from None
                if not isinstance(data, dict):
                    continue
                for key, entry in (data.get("auths") or {}).items():
                    merged["auths"].setdefault(_registry_key(key), entry)
                for key, helper in (data.get("credHelpers") or {}).items():
                    merged["credHelpers"].setdefault(_registry_key(key), helper)
                if data.get("credsStore") and not merged["credsStore"]:
                    merged["credsStore"] = data["credsStore"]
            self._loaded = merged
        return self._loaded

    def lookup(self, registry: str) -> Credentials | None:
        key = _registry_key(registry)
        if key in self._static:
            return self._static[key]
        config = self._config()
        entry = config["auths"].get(key)
        if isinstance(entry, dict):
            if entry.get("auth"):
                try:
                    decoded = base64.b64decode(str(entry["auth"])).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    raise AuthError(
                        f"the credential entry for {key} is not valid base64",
                        None,
                        None,
                        "run docker login again",
                    ) from None
                user, sep, password = decoded.partition(":")
                if sep:
                    return Credentials(user, password)
            if entry.get("username") and entry.get("password"):
                return Credentials(str(entry["username"]), str(entry["password"]))
        helper = config["credHelpers"].get(key) or config["credsStore"]
        if helper:
            return _from_helper(str(helper), key)
        return None


def default_credential_paths() -> list[Path]:
    paths: list[Path] = []
    if os.environ.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(os.environ["REGISTRY_AUTH_FILE"]))
    docker_config = os.environ.get("DOCKER_CONFIG")
    paths.append(
        Path(docker_config) / "config.json" if docker_config else Path.home() / ".docker" / "config.json"
    )
    return paths


def _from_helper(helper: str, registry: str) -> Credentials | None:
    """Ask ``docker-credential-<helper>``; a missing helper means no credentials, not an error."""
    binary = shutil.which(f"docker-credential-{helper}")
    if binary is None:
        return None
    server = "https://index.docker.io/v1/" if registry == DOCKER_HUB else registry
    try:
        out = subprocess.run(
            [binary, "get"], input=server, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    try:
        data = json.loads(out.stdout)
    except ValueError:
        return None
    user, secret = str(data.get("Username", "")), str(data.get("Secret", ""))
    if not secret or user == "<token>":
        return None
    return Credentials(user, secret)
