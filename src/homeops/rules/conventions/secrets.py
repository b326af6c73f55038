"""Secret stores the repository uses: the ClusterSecretStores/SecretStores it defines, the one its
ExternalSecrets use most first (HO023 accepts all of them); no ExternalSecret and no store means
SOPS, and the rules that move secrets to an external store do not apply."""

from __future__ import annotations

from collections import Counter

from homeops.core import codes
from homeops.kustomize.resource import Resource
from homeops.rules.conventions.model import Convention, group_of
from homeops.rules.externalsecrets import ESO_GROUP, store_refs

SOPS_RULES = (codes.SOPS_OUTSIDE_BOOTSTRAP.id, codes.SUBSTITUTE_FROM_PLAIN_SECRET.id, codes.SECRET_IN_GIT.id)


def secret_stores(objects: list[Resource]) -> list[Convention]:
    defined: dict[tuple[str, str], Resource] = {}
    used: Counter[tuple[str, str]] = Counter()
    for res in objects:
        if group_of(res) != ESO_GROUP:
            continue
        if res.kind in ("ClusterSecretStore", "SecretStore"):
            defined.setdefault((res.kind, res.name), res)
        elif res.kind in ("ExternalSecret", "ClusterExternalSecret"):
            for ref, _path in store_refs(res):
                used[(str(ref.get("kind") or "SecretStore"), str(ref.get("name") or ""))] += 1
    if not defined and not used:
        return [
            Convention(
                "rules",
                {rid: False for rid in SOPS_RULES},
                "no ExternalSecret or secret store in the render: the repository keeps its secrets with "
                f"SOPS, so the rules that move them to an external store ({', '.join(SOPS_RULES)}) do not apply",
            )
        ]
    stores = sorted(defined, key=lambda k: (-used[k], k[0] != "ClusterSecretStore", k))
    if not stores:  # defined outside the render (a chart, the bootstrap): the one most used
        stores = [used.most_common(1)[0][0]]
    (kind, name), others = stores[0], stores[1:]
    where = (
        f"defined at {defined[stores[0]].where()}" if stores[0] in defined else "not defined in the render"
    )
    out = [
        Convention(
            "secret_store_kind", kind, f"{kind}/{name} ({where}) serves {used[stores[0]]} ExternalSecrets"
        ),
        Convention("secret_store", name, "the store most ExternalSecrets read from"),
    ]
    if others:
        listed = [f"{k}/{n}" for k, n in others]
        out.append(
            Convention("secret_stores", listed, f"other stores the repository defines: {', '.join(listed)}")
        )
    return out
