"""Rule HO100: rendered objects validated offline against Kubernetes schemas.

Built-in kinds use the JSON schemas the ``kubernetes-validate`` package ships (``local-strict``
flavour: unknown fields are errors, as ``kubectl apply --validate=strict`` would say), for the newest
Kubernetes version not newer than the profile's ``kubernetes_version``. Custom resources are validated
when a schema directory is given (``check --schema-dir``; read from ``ctx.schema_dir``) in the
CRDs-catalog layout ``{group}/{kind}_{version}.json`` (kind lowercased). Validators are cached per
schema file for the life of the process. Without the package, built-in kinds are skipped and one info
finding says so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.core.shape import as_map
from homeops.core.variables import PLACEHOLDER_RE
from homeops.core.yamlio import key_line
from homeops.kustomize.resource import Resource, split_api_version
from homeops.rules.base import RuleContext, finding, remembered, rule

HAS_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None
"""jsonschema itself loads when an object is validated (tens of milliseconds): findings kept from an
earlier run (``remembered``) need none."""


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it (kubernetes_validate imports
    jsonschema: tens of milliseconds a check spends only when it validates something)."""
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) if locations else None


_KV_DIR = _package_dir("kubernetes_validate")

MAX_ERRORS_PER_OBJECT = 5
_BUILTIN_GROUP = re.compile(r"^$|^(apps|batch|autoscaling|policy|extensions)$|\.k8s\.io$")
# CRD groups that end in k8s.io but are not served by the API server itself
_NOT_BUILTIN = frozenset({"gateway.networking.k8s.io", "snapshot.storage.k8s.io", "metrics.k8s.io"})


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


@cache
def builtin_schema_dir(kubernetes_version: str) -> tuple[Path, str] | None:
    """(schema directory, its Kubernetes version) for the newest shipped version <= the wanted one."""
    if _KV_DIR is None:
        return None
    base = _KV_DIR / "kubernetes-json-schema"
    wanted = _version_key(kubernetes_version)[:2]
    found: list[tuple[tuple[int, ...], Path, str]] = []
    for child in base.iterdir() if os.path.isdir(base) else []:
        m = re.match(r"^v(\d+\.\d+\.\d+)-local-strict$", child.name)
        if m and _version_key(m.group(1))[:2] <= wanted:
            found.append((_version_key(m.group(1)), child, m.group(1)))
    if not found:
        return None
    _, path, version = max(found)
    return path, version


@cache
def _schemas_stamp(directory: Path) -> str:
    """What identifies the shipped schemas (another kubernetes-validate, other schemas)."""
    try:
        st = (directory / "_definitions.json").stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


@cache
def _definitions(directory: str) -> Any:
    from referencing import Resource as SchemaResource  # start-up: only when validating

    with open(Path(directory) / "_definitions.json", encoding="utf-8") as handle:
        return SchemaResource.from_contents(json.load(handle))


@cache
def _builtin_validator(directory: str, group: str, version: str, kind: str) -> Any:
    short = group.split(".", 1)[0]
    name = f"{kind.lower()}-{short}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    path = Path(directory) / name
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        schema = json.load(handle)
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if not any(
        g.get("group") == group and g.get("kind") == kind and g.get("version") == version for g in gvks
    ):
        return None
    import jsonschema  # start-up: only when validating (see HAS_JSONSCHEMA)
    from referencing import Registry
    from referencing import Resource as SchemaResource

    registry: Any = Registry().with_resource(
        schema.get("$id", path.as_uri()), SchemaResource.from_contents(schema)
    )
    defs = _definitions(directory)
    registry = registry.with_resource(defs.contents.get("$id", "_definitions.json"), defs)
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@cache
def _crd_validator(directory: str, group: str, version: str, kind: str) -> Any:
    path = Path(directory) / group / f"{kind.lower()}_{version}.json"
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            schema = json.load(handle)
    except (OSError, ValueError):
        return None
    import jsonschema  # start-up: only when validating (see HAS_JSONSCHEMA)

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def _locate(obj: Any, path: Iterable[Any], extra_key: str | None) -> int | None:
    """The source line of the deepest existing key along ``path`` (or of ``extra_key`` below it)."""
    return key_line(obj, *path, *([extra_key] if extra_key else []))


def _has_variable(value: Any) -> bool:
    """An unresolved ``${VAR}``, or the placeholder ``--placeholders`` put in its stead."""
    if isinstance(value, str):
        return "${" in value or PLACEHOLDER_RE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_variable(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_variable(v) for v in value)
    return False


def _errors(validator: Any, res: Resource, label: str) -> Iterator[tuple[str, int | None]]:
    obj = res.obj
    if "sops" in obj:  # SOPS metadata: kustomize-controller decrypts and drops it before applying
        obj = {k: v for k, v in obj.items() if k != "sops"}
    errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    count = 0
    for error in errors:
        if _has_variable(error.instance):
            continue  # an unresolved ${VAR} (or its placeholder) is reported by the render (HO103)
        extra = None
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(as_map((error.schema or {}).get("properties")))
            extras = [k for k in error.instance if k not in allowed]
            extra = str(extras[0]) if extras else None
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        yield (
            f"{res.kind} {res.name}: {where}: {message} ({label})",
            _locate(res.obj, error.absolute_path, extra),
        )
        count += 1
        if count >= MAX_ERRORS_PER_OBJECT:
            break


@rule(
    codes.SCHEMA_INVALID,
    rationale="""
The context document's CI validates with flux-local before merging; a typo in a field name or a
string where Kubernetes wants an integer is otherwise only found when Flux applies the object and the
whole Kustomization fails. Built-in kinds are checked against the Kubernetes schemas shipped by
`kubernetes-validate` (strict: unknown fields are errors) for the profile's `kubernetes_version`
(1.33); custom resources against `--schema-dir` (`{group}/{kind}_{version}.json`, the CRDs-catalog
layout). Offline; values still holding an unresolved `${VAR}` are left to the render findings.
""",
    bad="""
apiVersion: v1
kind: Service
spec:
  ports:
    - port: http      # must be an integer
""",
    good="""
apiVersion: v1
kind: Service
spec:
  ports:
    - port: 80
      targetPort: http
""",
)
def check_schema(ctx: RuleContext) -> Iterable[Finding]:
    if not HAS_JSONSCHEMA:
        yield finding(
            codes.SCHEMA_INVALID,
            "schema validation skipped: the jsonschema package is not installed",
            severity="info",
        )
        return
    builtin = builtin_schema_dir(ctx.profile.kubernetes_version)
    if builtin is None:
        why = (
            "kubernetes-validate is not installed (pip install kubernetes-validate)"
            if _KV_DIR is None
            else f"kubernetes-validate has no schemas for Kubernetes <= {ctx.profile.kubernetes_version}"
        )
        yield finding(
            codes.SCHEMA_INVALID, f"schema validation of built-in kinds skipped: {why}", severity="info"
        )
    schema_dir = getattr(ctx, "schema_dir", None)
    crd_dir = str(Path(schema_dir).resolve()) if schema_dir else None
    version = b"" if builtin is None else f"{builtin[0]}|{builtin[1]}|{_schemas_stamp(builtin[0])}".encode()
    for render, _rk, res in ctx.objects():
        group, api = split_api_version(res.api_version)
        if not res.kind or not api:
            continue
        cluster = render.cluster.name

        def validate(
            res: Resource = res, group: str = group, api: str = api, cluster: str = cluster
        ) -> list[Finding]:
            return list(_validate(res, group, api, cluster, builtin, crd_dir))

        if crd_dir is not None:  # schemas from a directory of the user's: not kept
            yield from validate()
            continue
        # the object with its provenance is all a built-in validation looks at
        what = pickle.dumps((res.obj, res.file, res.line), pickle.HIGHEST_PROTOCOL)
        yield from remembered(ctx, (b"HO100", version, cluster.encode(), what), validate)


def _validate(
    res: Resource,
    group: str,
    version: str,
    cluster: str,
    builtin: tuple[Path, str] | None,
    crd_dir: str | None,
) -> Iterator[Finding]:
    kind = res.kind
    validator = None
    label = ""
    if builtin is not None and _BUILTIN_GROUP.search(group) and group not in _NOT_BUILTIN:
        validator = _builtin_validator(str(builtin[0]), group, version, kind)
        label = f"Kubernetes {builtin[1].rsplit('.', 1)[0]} schema"
    if validator is None and crd_dir is not None and group:
        validator = _crd_validator(crd_dir, group, version, kind)
        label = f"schema {group}/{kind.lower()}_{version}.json"
    if validator is None:
        return
    for message, line in _errors(validator, res, label):
        yield finding(codes.SCHEMA_INVALID, message, res=res, line=line or res.line, cluster=cluster)
