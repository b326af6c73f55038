"""Redaction: no Secret value, no base64 of one, no prefix of one and no PEM body reaches a reviewer.

A minimal repository of our own (one cluster, one Flux Kustomization of plain manifests) holds a
Secret, a ConfigMap with a CA certificate and a SOPS-encrypted Secret; the second commit rotates
every value. Each output that shows rendered objects is checked byte for byte: ``diff`` in every
format, ``build ks --redact`` (YAML and JSON), ``kustomize --redact``, and the API.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from diff_support import GitRepo

from homeops.api import Workspace, redact, redact_pair
from homeops.core.redact import CHANGED, PLACEHOLDER

OLD = {"password": "Old-pw-7f3kQ9zLmX2v", "token": "Old-tok-Wq8Rj4nT6yBc", "kept": "Kept-Hq5Zt1Lp9sDe"}
OLD["gone"] = "Gone-Rt6Yu8Io0PwE"
NEW = {"password": "New-pw-P0oIuYtReW3q", "token": "New-tok-Zx7Cv5Bn3MlK", "kept": OLD["kept"]}
NEW["added"] = "Add-Mn2Bv8Cx4ZaS"
SOPS_OLD = "ENC[AES256_GCM,data:Q2lwaGVyT2xkVmFsdWU=,iv:aXZPbGQ=,tag:dGFnT2xk,type:str]"
SOPS_NEW = "ENC[AES256_GCM,data:Q2lwaGVyTmV3VmFsdWU=,iv:aXZOZXc=,tag:dGFnTmV3,type:str]"


def _pem_pair(common_name: str) -> tuple[str, str]:
    """A private key and a self-signed certificate, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


KS = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: demo
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps/demo
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def _secret_files(values: dict[str, str], key_pem: str, cert_pem: str, sops: str) -> dict[str, str]:
    string_data = {k: v for k, v in values.items() if k != "token"}
    data = {"token": base64.b64encode(values["token"].encode()).decode()}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        "type": "Opaque",
        "stringData": {**string_data, "tls.key": key_pem, "tls.crt": cert_pem},
        "data": data,
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ca", "namespace": "default"},
        "data": {"ca.crt": cert_pem, "note": "key below\n" + key_pem},
    }
    encrypted = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "sops", "namespace": "default"},
        "stringData": {"api-key": sops},
        "sops": {"mac": "ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]", "version": "3.9.0"},
    }
    return {
        "apps/demo/kustomization.yaml": "resources: [secret.yaml, config.yaml, sops.yaml]\n",
        "apps/demo/secret.yaml": json.dumps(secret, indent=1),
        "apps/demo/config.yaml": json.dumps(config, indent=1),
        "apps/demo/sops.yaml": json.dumps(encrypted, indent=1),
    }


class Fixture:
    def __init__(self, path: Path) -> None:
        self.repo = GitRepo(path)
        self.old_pem = _pem_pair("old")
        self.new_pem = _pem_pair("new")
        path.mkdir()
        self.repo.git("init", "-q", "-b", "main")
        self.repo.write("clusters/c/flux/ks.yaml", KS)
        self._write(_secret_files(OLD, *self.old_pem, SOPS_OLD))
        self.repo.commit("base")
        self._write(_secret_files(NEW, *self.new_pem, SOPS_NEW))
        self.repo.commit("rotate")

    def _write(self, files: dict[str, str]) -> None:
        for rel, text in files.items():
            (self.repo.path / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.repo.path / rel).write_text(text, encoding="utf-8")

    def forbidden(self) -> list[str]:
        """Every byte string that must not appear: values, their base64, their prefixes, PEM bodies."""
        out: list[str] = []
        for value in [*OLD.values(), *NEW.values()]:
            out += [value[:n] for n in range(6, len(value) + 1)]
            encoded = base64.b64encode(value.encode()).decode()
            out += [encoded, encoded[:8]]
        for pem in [*self.old_pem, *self.new_pem]:
            body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
            out += [line[:16] for line in body if len(line) >= 16]
        for ciphertext in (SOPS_OLD, SOPS_NEW):
            out.append(ciphertext.split("data:")[1].split(",")[0])
        return out


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return Fixture(tmp_path_factory.mktemp("redact") / "repo")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**environ, **(env or {})},
    )


def _assert_clean(text: str, fixture: Fixture) -> None:
    leaked = [needle for needle in fixture.forbidden() if needle in text]
    assert not leaked, f"leaked: {leaked[:5]}"


@pytest.mark.parametrize("fmt", ["unified", "markdown", "json"])
def test_diff_shows_no_secret_in_any_format(fixture: Fixture, fmt: str) -> None:
    path = str(fixture.repo.path)
    proc = _cli("diff", "--path", path, "--base", "HEAD~1", "--head", "HEAD", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    _assert_clean(proc.stdout + proc.stderr, fixture)
    text = proc.stdout if fmt != "json" else "".join(c["diff"] for c in json.loads(proc.stdout)["changes"])
    # the change of each key still shows: rotated, added, removed, unchanged
    assert f"-  password: {PLACEHOLDER}\n" in text
    assert f"+  password: {CHANGED}\n" in text
    assert f"+  added: {PLACEHOLDER}\n" in text
    assert f"-  gone: {PLACEHOLDER}\n" in text
    assert f"-  token: {PLACEHOLDER}\n" in text or f"+  token: {CHANGED}\n" in text
    assert f"   kept: {PLACEHOLDER}\n" in text and f"+  kept: {CHANGED}\n" not in text
    assert f"+  api-key: {CHANGED}\n" in text
    # PEM blocks collapse to their type and fingerprint, which differ when the key is rotated
    assert "<PEM CERTIFICATE sha256:" in text and "<PEM PRIVATE KEY sha256:" in text
    assert "-----BEGIN" not in text


def test_unchanged_secret_value_is_not_marked_changed() -> None:
    before = {"kind": "Secret", "stringData": {"a": "x1", "b": "y1"}, "data": "not-a-map"}
    after = {"kind": "Secret", "stringData": {"a": "x1", "b": "y2", "c": None}, "data": "not-a-map2"}
    shown_before, shown_after = redact_pair(before, after)
    assert shown_before == {
        "kind": "Secret",
        "stringData": {"a": PLACEHOLDER, "b": PLACEHOLDER},
        "data": PLACEHOLDER,
    }
    assert shown_after == {
        "kind": "Secret",
        "stringData": {"a": PLACEHOLDER, "b": CHANGED, "c": None},
        "data": CHANGED,
    }
    assert before["stringData"] == {"a": "x1", "b": "y1"}  # the originals are untouched


def test_last_applied_annotation_of_a_secret_is_redacted() -> None:
    secret = {
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{pw}"},
        },
    }
    assert redact(secret)["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": PLACEHOLDER
    }


def test_pem_without_end_line_collapses_to_the_end() -> None:
    text = "head -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabcdef"
    shown = redact({"kind": "ConfigMap", "data": {"k": text}})["data"]["k"]
    assert shown.startswith("head <PEM RSA PRIVATE KEY sha256:") and "MIIE" not in shown


def test_show_secrets_shows_values_locally_and_is_refused_in_ci(fixture: Fixture) -> None:
    path = str(fixture.repo.path)
    proc = _cli("diff", "--path", path, "--base", "HEAD~1", "--head", "HEAD", "--show-secrets")
    assert proc.returncode == 0, proc.stderr
    assert NEW["password"] in proc.stdout and "-----BEGIN CERTIFICATE-----" in proc.stdout
    refused = _cli("diff", "--path", path, "--base", "HEAD~1", "--show-secrets", env={"CI": "true"})
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        "homeops: error: --show-secrets is refused when the CI environment variable is set "
        "(CI output is shared (logs, pull-request comments); drop --show-secrets)\n"
    )


@pytest.mark.parametrize("output", ["yaml", "json"])
def test_build_redact(fixture: Fixture, output: str) -> None:
    path = str(fixture.repo.path)
    plain = _cli("build", "ks", "--path", path, "-o", output)
    assert plain.returncode == 0, plain.stderr
    assert NEW["password"] in plain.stdout  # without --redact, build shows what Flux applies
    proc = _cli("build", "ks", "--path", path, "-o", output, "--redact")
    assert proc.returncode == 0, proc.stderr
    _assert_clean(proc.stdout + proc.stderr, fixture)
    assert PLACEHOLDER in proc.stdout and "<PEM CERTIFICATE sha256:" in proc.stdout


def test_kustomize_redact(fixture: Fixture) -> None:
    proc = _cli(
        "kustomize", str(fixture.repo.path / "apps/demo"), "--path", str(fixture.repo.path), "--redact"
    )
    assert proc.returncode == 0, proc.stderr
    _assert_clean(proc.stdout, fixture)


def test_api_diff_and_render_are_redacted(fixture: Fixture) -> None:
    ws = Workspace(fixture.repo.path)
    result = ws.diff("HEAD~1", "HEAD")
    assert {c.name for c in result.changes} == {"db", "ca", "sops"}
    shown = json.dumps(result.as_json()) + "".join(
        json.dumps(p.res.obj) for c in result.changes for p in (c.base, c.head) if p is not None
    )
    _assert_clean(shown, fixture)
    objects = [o.redacted().as_json() for o in ws.render().objects]
    _assert_clean(json.dumps(objects), fixture)
    raw = ws.diff("HEAD~1", "HEAD", show_secrets=True)
    assert NEW["password"] in "".join(c.diff for c in raw.changes)


def test_fingerprint_is_the_certificate_fingerprint(fixture: Fixture) -> None:
    cert = x509.load_pem_x509_certificate(fixture.new_pem[1].encode())
    digest = cert.fingerprint(hashes.SHA256()).hex()[:12]
    assert redact({"kind": "ConfigMap", "data": {"c": fixture.new_pem[1]}})["data"]["c"] == (
        f"<PEM CERTIFICATE sha256:{digest}>\n"
    )
