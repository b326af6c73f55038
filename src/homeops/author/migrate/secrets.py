"""Step "secrets": SOPS-encrypted (and plain) Secrets become ExternalSecrets on the profile's store;
key names only, values are never read."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from homeops.author import templates as t
from homeops.author.migrate.text import document, is_yaml, load_docs, plain, split_docs
from homeops.author.migrate.tree import Tree, free_name
from homeops.core.profile import Profile


def doppler_key(app: str, key: str) -> str:
    """The Doppler key for one key of an app's Secret: SCREAMING_SNAKE_CASE, prefixed with the app."""
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", app).strip("_").upper()
    name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper() or "VALUE"
    return name if name == prefix or name.startswith(prefix + "_") else f"{prefix}_{name}"


def externalsecret(
    profile: Profile, name: str, keys: list[tuple[str, str]], secret: dict[str, Any]
) -> dict[str, Any]:
    """An ExternalSecret making Secret ``name`` with the same keys, each from its own Doppler key."""
    target: dict[str, Any] = {"name": name, "creationPolicy": "Owner"}
    template: dict[str, Any] = {}
    secret_type = secret.get("type")
    if secret_type and secret_type != "Opaque":
        template["type"] = str(secret_type)
    meta = secret.get("metadata") or {}
    extra = {
        k: plain(meta[k]) for k in ("labels", "annotations") if isinstance(meta.get(k), dict) and meta[k]
    }
    if extra:
        template["metadata"] = extra
    if template:
        target["template"] = template
    out: dict[str, Any] = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": {
            "secretStoreRef": {"kind": profile.secret_store_kind, "name": profile.secret_store},
            "target": target,
            "data": [{"secretKey": key, "remoteRef": {"key": remote}} for key, remote in keys],
        },
    }
    if isinstance(meta.get("namespace"), str):
        out["metadata"]["namespace"] = meta["namespace"]
    return out


def convert_secrets(tree: Tree, profile: Profile, app: str, steps: list[str], notes: list[str]) -> None:
    """SOPS-encrypted (and plain) Secrets of the app become ExternalSecrets; keys only, values never read."""
    for path in sorted(tree.files):
        if not is_yaml(path):
            continue
        text = tree.files[path]
        chunks = split_docs(text)
        changed = False
        kinds: list[str] = []
        for i, chunk in enumerate(chunks):
            docs = load_docs(chunk, path)
            if len(docs) != 1 or not isinstance(docs[0], dict):
                if docs:
                    kinds.append("?")
                continue
            doc = docs[0]
            kinds.append(str(doc.get("kind") or ""))
            if doc.get("kind") != "Secret" or doc.get("apiVersion") != "v1":
                continue
            data_keys = [str(k) for part in ("data", "stringData") for k in (doc.get(part) or {})]
            if not data_keys:
                continue
            name = str((doc.get("metadata") or {}).get("name") or app)
            keys = [(k, doppler_key(app, k)) for k in data_keys]
            how = "SOPS-encrypted" if "sops" in doc else "plain"
            chunks[i] = document(externalsecret(profile, name, keys, doc), t.SCHEMA_EXTERNALSECRET)
            kinds[-1] = "ExternalSecret"
            changed = True
            listing = ", ".join(f"{remote} (key {key})" for key, remote in keys)
            steps.append(
                f"create in {profile.secret_store} the key(s) {listing} for Secret {name}, with the values "
                f"of the {how} Secret in {tree.origin.get(path, path)}; "
                f"{path} now reads them through an ExternalSecret"
            )
        if not changed:
            continue
        new_text = "".join(chunks)
        tree.files[path] = new_text
        if all(k == "ExternalSecret" for k in kinds):
            target = free_name(
                tree,
                posixpath.dirname(path),
                "externalsecret.yaml",
                posixpath.basename(path).split(".")[0] + "-externalsecret.yaml",
            )
            if target != path:
                tree.move(path, target)
                notes.append(f"{tree.origin.get(target, path)} became {target}")


def drop_sops_leftovers(tree: Tree, steps: list[str]) -> None:
    """Files still SOPS-encrypted after conversion (not Secrets) are not carried into the modern tree."""
    for path in sorted(tree.files):
        text = tree.files[path]
        if re.search(r"(?m)^sops:\s*$", text) and re.search(r"(?m)^\s+mac:", text):
            kinds = sorted({str(d.get("kind")) for d in load_docs(text, path) if isinstance(d, dict)})
            tree.move(path, None)
            steps.append(
                f"{tree.origin.get(path, path)} is SOPS-encrypted ({', '.join(kinds) or 'not a manifest'}) "
                "and was not migrated: recreate it without secrets in Git (values from "
                "an ExternalSecret) and add it to the app"
            )
