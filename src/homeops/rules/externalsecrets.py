"""Rule HO023: ExternalSecrets must read from the profile's ClusterSecretStore (Doppler)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.core.shape import as_list
from homeops.core.yamlio import key_line
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule

ESO_GROUP = "external-secrets.io"


def store_refs(res: Resource) -> Iterator[tuple[dict[str, Any], tuple[str | int, ...]]]:
    """Every store reference of an ExternalSecret / ClusterExternalSecret with its key path."""
    spec = res.obj.get("spec")
    if not isinstance(spec, dict):
        return
    base: tuple[str | int, ...] = ("spec",)
    if res.kind == "ClusterExternalSecret":
        spec = spec.get("externalSecretSpec")
        base = ("spec", "externalSecretSpec")
        if not isinstance(spec, dict):
            return
    ref = spec.get("secretStoreRef")
    if isinstance(ref, dict):
        yield ref, (*base, "secretStoreRef")
    for list_key in ("data", "dataFrom"):
        for i, item in enumerate(as_list(spec.get(list_key))):
            store = (
                item.get("sourceRef", {}).get("storeRef")
                if isinstance(item, dict) and isinstance(item.get("sourceRef"), dict)
                else None
            )
            if isinstance(store, dict):
                yield store, (*base, list_key, i, "sourceRef", "storeRef")


@rule(
    codes.SECRET_STORE,
    rationale="""
The context document ("Secrets Management", "Key Principles"): "Doppler as primary secret store",
"ExternalSecrets operator with ClusterSecretStore", "Use ExternalSecrets + Doppler for all secrets".
An ExternalSecret that reads from another (or a namespaced) store splits secrets across backends and
breaks when the store is not there. The store kind and name come from the profile
(`secret_store_kind`, `secret_store`, and any further `secret_stores` as `Kind/name`; without
`.homeops.yaml`, the stores the repository itself defines); a `secretStoreRef` without `kind` means
`SecretStore`.
""",
    bad="""
spec:
  secretStoreRef:
    kind: SecretStore
    name: onepassword
""",
    good="""
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: doppler
""",
)
def check_secret_store(ctx: RuleContext) -> Iterable[Finding]:
    want_kind, want_name = ctx.profile.secret_store_kind, ctx.profile.secret_store
    others = "".join(f", {s}" for s in ctx.profile.secret_stores)
    for render, _rk, res in ctx.objects():
        if res.kind not in ("ExternalSecret", "ClusterExternalSecret") or not res.api_version.startswith(
            ESO_GROUP + "/"
        ):
            continue
        for ref, path in store_refs(res):
            kind = str(ref.get("kind") or "SecretStore")
            name = str(ref.get("name") or "")
            if not ctx.profile.secret_store_allowed(kind, name):
                yield finding(
                    codes.SECRET_STORE,
                    f"{res.kind} {res.name} reads from {kind}/{name}, not {want_kind}/{want_name}{others}",
                    res=res,
                    line=key_line(res.obj, *path) or res.line,
                    cluster=render.cluster.name,
                )
