"""Secrets: SOPS files outside bootstrap (HO002), postBuild from non-ExternalSecret Secrets (HO003),
Secret data stored in Git (HO007)."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from functools import partial
from pathlib import PurePosixPath

from homeops.core import codes
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.profile import matches_any
from homeops.core.shape import as_list
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, remembered, rule
from homeops.rules.helpers import at, chart_output, place, spec_of, unique

# ------------------------------------------------------------------ HO002

SOPS_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".env", ".ini"})
_YAML_SOPS = re.compile(r"^sops:[ \t]*(#.*)?$", re.M)
_JSON_SOPS = re.compile(r'"sops"\s*:\s*\{')
_ENV_SOPS = re.compile(r"^sops_[a-z_]+=", re.M)
_INI_SOPS = re.compile(r"^\[sops\][ \t]*$", re.M)
_MAC = re.compile(r"(?<![A-Za-z])mac\b")


def sops_line(path: str, text: str) -> int | None:
    """Line of the SOPS metadata of a file (top-level ``sops:`` key, ``"sops": {``, ``sops_*=``,
    ``[sops]``, followed by its ``mac``), or None. A text scan: the metadata always sits at the top
    level in column 0."""
    if "sops" not in text:
        return None
    suffix = PurePosixPath(path).suffix.lower()
    patterns = {".json": _JSON_SOPS, ".env": _ENV_SOPS, ".ini": _INI_SOPS}
    pattern = patterns.get(suffix, _YAML_SOPS)
    m = pattern.search(text)
    if m is None or _MAC.search(text, m.start()) is None:  # SOPS metadata always carries its MAC
        return None
    return text.count("\n", 0, m.start()) + 1


@rule(
    codes.SOPS_OUTSIDE_BOOTSTRAP,
    rationale="""
Anti-Patterns #2: "SOPS for application secrets - Use ExternalSecrets + Doppler instead";
Technology Stack / Secrets Management: "SOPS only for bootstrap secrets (considered tech debt)".
A file with top-level `sops:` metadata (or the JSON/dotenv/INI equivalents) is reported unless it
matches the profile's `sops_allowed_paths` (by default `clusters/*/bootstrap/**` and
`clusters/*/talos/**`).
""",
    bad="""
# cluster-apps/chongus/default/app/app/secret.sops.yaml
apiVersion: v1
kind: Secret
metadata:
  name: app-secret
stringData:
  API_KEY: ENC[AES256_GCM,data:...,type:str]
sops:
  age: [...]
""",
    good="""
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: app-secret
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: doppler
  target:
    name: app-secret
  dataFrom:
    - extract:
        key: APP_SECRET
""",
)
def check_sops_files(ctx: RuleContext) -> Iterator[Finding]:
    """Every SOPS-encrypted file of the repository outside the allowed paths."""
    allowed = ctx.profile.sops_allowed_paths
    store = ctx.profile.secret_store.encode()
    for path in ctx.repo_files():
        if posixpath.splitext(path)[1].lower() not in SOPS_SUFFIXES or matches_any(path, allowed):
            continue
        text = ctx.files.kept_text(os.path.join(ctx.files.root, path))
        if text is not None:  # read by the render already: its text is all there is to know
            yield from _sops_text(ctx, path, text)
            continue
        known = ctx.files.known.get(path)
        if known is not None:  # Git vouches for its content (check --changed): what it gave before holds
            key = (b"HO002", path.encode(), known.encode(), store)
            yield from remembered(ctx, key, partial(_sops_findings, ctx, path))
        else:
            yield from _sops_file(ctx, path)


def _sops_findings(ctx: RuleContext, path: str) -> list[Finding]:
    return list(_sops_file(ctx, path))


def _sops_file(ctx: RuleContext, path: str) -> Iterator[Finding]:
    try:  # raw bytes first: most files never mention sops, and need not enter the file cache
        data = ctx.files.boundary.read_bytes(ctx.root / path)
        if b"sops" not in data:
            return
        text = data.decode("utf-8")
    except (HomeopsError, UnicodeDecodeError):
        return  # not a file homeops reads (a link out, a FIFO, too large): the render says so
    yield from _sops_text(ctx, path, text)


def _sops_text(ctx: RuleContext, path: str, text: str) -> Iterator[Finding]:
    line = sops_line(path, text)
    if line is not None:
        yield finding(
            codes.SOPS_OUTSIDE_BOOTSTRAP,
            "SOPS-encrypted file outside the bootstrap/Talos paths (move the secret "
            f"to {ctx.profile.secret_store} and read it with an ExternalSecret)",
            file=path,
            line=line,
        )


# ------------------------------------------------------------------ HO003


@rule(
    codes.SUBSTITUTE_FROM_PLAIN_SECRET,
    rationale="""
Anti-Patterns #3: "postBuild substitution from SOPS - Use ExternalSecrets or direct values";
Technology Stack / Configuration: "postBuild substitution from ExternalSecrets when needed
(minimal)". A Flux Kustomization whose `postBuild.substituteFrom` names a Secret that is not the
target (`spec.target.name`, else the ExternalSecret's own name) of an ExternalSecret in the same
namespace of the rendered cluster is reported: that Secret is SOPS-encrypted or plain in Git, or made
by hand. A patch that adds the same entry to many Kustomizations is reported once.
""",
    bad="""
spec:
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cluster-secrets   # clusters/bitty/flux/vars/cluster-secrets.sops.yaml
""",
    good="""
spec:
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cluster-secrets   # target of ExternalSecret flux-system/cluster-secrets (doppler)
""",
)
def check_substitute_from(ctx: RuleContext) -> Iterator[Finding]:
    """substituteFrom Secrets not produced by an ExternalSecret."""
    out = []
    for render in ctx.renders:
        targets: set[tuple[str, str]] = set()
        for _rk, res in render.objects():
            if res.kind == "ExternalSecret" and res.api_version.startswith("external-secrets.io/"):
                target = spec_of(res).get("target")
                name = target.get("name") if isinstance(target, dict) else None
                targets.add((res.namespace or "default", str(name or res.name)))
        # one finding per place: a patch can add the same entry to many Kustomizations
        grouped: dict[tuple[str | None, int | None, str], tuple[Resource, list[str]]] = {}
        for rk in render.rendered.values():
            ks = rk.ks
            pb = ks.post_build or {}
            for entry in as_list(pb.get("substituteFrom")):
                if not isinstance(entry, dict) or entry.get("kind") != "Secret":
                    continue
                name = str(entry.get("name") or "")
                if not name or (ks.namespace, name) in targets:
                    continue
                file, line = at(ks.resource, entry)
                grouped.setdefault((file, line, name), (ks.resource, []))[1].append(ks.key)
        for (file, line, name), (res, users) in grouped.items():
            if len(users) == 1:
                who = f"Flux Kustomization {users[0]} substitutes"
            else:
                shown = ", ".join(sorted(users)[:3]) + (", ..." if len(users) > 3 else "")
                who = f"{len(users)} Flux Kustomizations ({shown}) substitute"
            out.append(
                place(
                    codes.SUBSTITUTE_FROM_PLAIN_SECRET,
                    f"{who} variables from Secret {name}, which no ExternalSecret produces "
                    "(SOPS or plain Secret)",
                    res,
                    (file, line),
                    render.cluster.name,
                )
            )
    yield from unique(out)


# ------------------------------------------------------------------ HO007


@rule(
    codes.SECRET_IN_GIT,
    rationale="""
Anti-Patterns #7: "Storing secrets in Git - Even encrypted, prefer ExternalSecrets"; Key
Principles #2: "Use ExternalSecrets + Doppler for all secrets". A rendered `Secret` with `data` or
`stringData` whose source is a file of the repository (including Secrets a `secretGenerator` builds
from files or literals of the repository), encrypted or not, is reported unless the file matches the
profile's `secret_allowed_paths` (bootstrap and Talos by default).
""",
    bad="""
apiVersion: v1
kind: Secret
metadata:
  name: app-secret
stringData:
  API_KEY: hunter2
""",
    good="""
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: app-secret
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: doppler
  target:
    name: app-secret
  dataFrom:
    - extract:
        key: APP_SECRET
""",
)
def check_secrets_in_git(ctx: RuleContext) -> Iterator[Finding]:
    """Rendered Secrets carrying data that comes from the repository."""
    out = []
    allowed = ctx.profile.secret_allowed_paths
    for render in ctx.renders:
        for _rk, res in render.objects():
            if res.kind != "Secret" or res.api_version != "v1" or not res.file or chart_output(res):
                continue
            if not (res.obj.get("data") or res.obj.get("stringData")) or matches_any(res.file, allowed):
                continue
            encrypted = "sops" in res.obj
            how = "SOPS-encrypted " if encrypted else ("generated " if res.generated else "")
            out.append(
                finding(
                    codes.SECRET_IN_GIT,
                    f"{how}Secret {res.name} keeps its data in Git (use an ExternalSecret "
                    f"from {ctx.profile.secret_store})",
                    res=res,
                    cluster=render.cluster.name,
                )
            )
    yield from unique(out)
