"""Render a chart with Helm's own template engine.

Go templates with Sprig, ``tpl``, ``lookup`` and ``.Capabilities`` cannot be re-implemented
faithfully, so homeops never fakes them: it runs Helm's engine in-process through
``helm-python-sdk`` (Helm v4's Go SDK behind a C ABI, no ``helm`` binary needed) or, as the
alternative, ``helm template`` from a ``helm`` binary on PATH. With neither, rendering is an error
that says what to install.

Output order follows ``helm template``: CRDs (when asked), then objects sorted by Helm's install
order of kinds and by template path, then hooks; test hooks are left out by default, as Flux does
not run them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from homeops.core import yamlio
from homeops.helm.engine import Engine, EngineMissingError, RenderedDoc, RenderError, split_stream
from homeops.helm.sdk import SdkEngine
from homeops.helm.values import coalesce, deep_merge, merge_values, parse_set, set_path, values_from

__all__ = [
    "EngineMissingError",
    "RenderError",
    "available_engines",
    "coalesce",
    "deep_merge",
    "get_engine",
    "merge_values",
    "parse_set",
    "render_chart",
    "set_path",
    "values_from",
]

ENGINE_ENV = "HOMEOPS_HELM_ENGINE"
HELM_BINARY_ENV = "HOMEOPS_HELM_BINARY"

INSTALL_ORDER = (
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
    "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
    "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
    "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
)  # fmt: skip
"""Helm's ``releaseutil.InstallOrder``: kinds not listed sort after these, alphabetically."""
_ORDER = {kind: i for i, kind in enumerate(INSTALL_ORDER)}

HOOK_ANNOTATION = "helm.sh/hook"


def _kube_version(text: str) -> str:
    version = text if text.startswith("v") else f"v{text}"
    if not re.fullmatch(r"v[0-9]+\.[0-9]+(\.[0-9]+)?", version):
        raise RenderError(f"invalid Kubernetes version {text!r}", None, None, "expected e.g. 1.33.0")
    return version


# ----------------------------------------------------------------------------------------------
# Subprocess: helm template


class BinaryEngine:
    """``helm template`` from a ``helm`` binary: one process per release."""

    name = "helm-binary"

    def __init__(self, binary: str | None = None) -> None:
        found = binary or os.environ.get(HELM_BINARY_ENV) or shutil.which("helm")
        if not found:
            raise FileNotFoundError("helm")
        self.binary = found
        self.version = f"helm binary {found}"

    def render(
        self,
        chart: Path,
        *,
        release_name: str,
        namespace: str,
        values: Mapping[str, Any],
        kube_version: str,
        api_versions: Sequence[str],
        include_crds: bool,
        skip_tests: bool,
    ) -> list[RenderedDoc]:
        with tempfile.NamedTemporaryFile(
            "w", suffix=".json", prefix="homeops-values-", delete=False
        ) as handle:
            json.dump(values, handle)
            values_file = handle.name
        cmd = [
            self.binary, "template", release_name, str(chart), "--namespace", namespace,
            "--kube-version", kube_version, "--values", values_file,
        ]  # fmt: skip
        for api in api_versions:
            cmd += ["--api-versions", api]
        if include_crds:
            cmd.append("--include-crds")
        if skip_tests:
            cmd.append("--skip-tests")
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        finally:
            os.unlink(values_file)
        if out.returncode != 0:
            detail = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
            raise RenderError(
                f"helm template failed: {detail}", str(chart), None, "fix the values or the chart"
            )
        return split_stream(out.stdout, str(chart))


# ----------------------------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}


def available_engines() -> dict[str, str]:
    """Engine name → why it is (not) usable; for ``--debug`` output and the bench."""
    report: dict[str, str] = {}
    for name in ("sdk", "binary"):
        try:
            engine = get_engine(name)
            report[name] = getattr(engine, "version", engine.name)
        except EngineMissingError as exc:
            report[name] = f"missing: {exc.hint or exc.what}"
    return report


def _make_engine(name: str) -> Engine:
    return SdkEngine() if name == "sdk" else BinaryEngine()


def get_engine(name: str | None = None) -> Engine:
    """``sdk`` (in-process, preferred), ``binary`` (``helm`` on PATH), or the best available."""
    wanted = name or os.environ.get(ENGINE_ENV) or "auto"
    if wanted not in ("auto", "sdk", "binary"):
        raise EngineMissingError(f"unknown Helm engine {wanted!r}", None, None, "use sdk or binary")
    if wanted in _ENGINES:
        return _ENGINES[wanted]
    problems: list[str] = []
    for candidate in ["sdk", "binary"] if wanted == "auto" else [wanted]:
        try:
            engine = _make_engine(candidate)
        except ImportError:
            problems.append("helm-python-sdk is not installed (pip install helm-python-sdk)")
            continue
        except FileNotFoundError:
            problems.append(f"no helm binary on PATH (install helm 3.x or 4.x, or set {HELM_BINARY_ENV})")
            continue
        except OSError as exc:  # the native library failed to load
            problems.append(f"helm-python-sdk cannot load its native library: {exc}")
            continue
        _ENGINES[wanted] = engine
        return engine
    raise EngineMissingError("no Helm template engine available", None, None, "; ".join(problems))


def _sort_key(index: int, obj: Mapping[str, Any], source: str) -> tuple[int, str, str, int]:
    kind = str(obj.get("kind", ""))
    order = _ORDER.get(kind, len(INSTALL_ORDER))
    return (order, kind if order == len(INSTALL_ORDER) else "", source, index)


def _is_hook(obj: Mapping[str, Any]) -> str | None:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if isinstance(annotations, Mapping) and annotations.get(HOOK_ANNOTATION):
        return str(annotations[HOOK_ANNOTATION])
    return None


def render_chart(
    chart_dir: Path,
    *,
    release_name: str,
    namespace: str,
    values: Mapping[str, Any] | None = None,
    kube_version: str = "1.33.0",
    api_versions: Sequence[str] = (),
    include_crds: bool = False,
    skip_tests: bool = True,
    engine: str | Engine | None = None,
) -> list[dict[str, Any]]:
    """Render ``chart_dir`` (a chart directory or ``.tgz``) like ``helm template``; objects in order.

    ``values`` are the user values (chart defaults are coalesced by Helm itself); passing the output
    of :func:`merge_values` gives the same result.
    """
    chart = Path(chart_dir)
    if not chart.exists():
        raise RenderError(f"chart {chart} does not exist")
    impl = engine if engine is not None and not isinstance(engine, str) else get_engine(engine)
    docs = impl.render(
        chart,
        release_name=release_name,
        namespace=namespace,
        values=dict(values or {}),
        kube_version=_kube_version(kube_version),
        api_versions=tuple(api_versions),
        include_crds=include_crds,
        skip_tests=skip_tests,
    )
    crds: list[dict[str, Any]] = []
    plain: list[tuple[tuple[int, str, str, int], dict[str, Any]]] = []
    hooks: list[tuple[tuple[str, int], dict[str, Any]]] = []
    for index, doc in enumerate(docs):
        for obj in yamlio.load_all(doc.text, doc.source):
            if not isinstance(obj, dict):
                raise RenderError(f"{doc.source} rendered a YAML document that is not a mapping", doc.source)
            if "/crds/" in f"/{doc.source}" and include_crds and isinstance(impl, SdkEngine):
                crds.append(obj)
                continue
            hook = _is_hook(obj)
            if hook is not None:
                if skip_tests and {h.strip() for h in hook.split(",")} & {"test", "test-success"}:
                    continue
                hooks.append(((doc.source, index), obj))
            else:
                plain.append((_sort_key(index, obj, doc.source), obj))
    if isinstance(impl, SdkEngine):
        plain.sort(key=lambda item: item[0])
    return crds + [obj for _, obj in plain] + [obj for _, obj in hooks]
