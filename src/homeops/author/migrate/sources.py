"""Step "sources": a HelmRelease's ``spec.chart`` from a central HelmRepository becomes a
``chartRef`` to an OCIRepository of the app's own."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeops.author import templates as t
from homeops.author.migrate.model import MigrateOptions
from homeops.author.migrate.text import (
    is_yaml,
    load_docs,
    split_docs,
)
from homeops.author.migrate.tree import Tree
from homeops.core import yamlemit
from homeops.core.profile import Profile
from homeops.core.yamledit import replace_entry
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender


def helm_repositories(render: ClusterRender) -> dict[tuple[str, str], dict[str, Any]]:
    """(namespace, name) -> spec of every HelmRepository of the rendered old cluster."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for _rk, res in render.objects():
        if res.kind == "HelmRepository":
            out[(res.namespace or "flux-system", res.name)] = res.obj.get("spec") or {}
    return out


def chart_oci_url(profile: Profile, repo_spec: Mapping[str, Any], chart: str) -> str | None:
    """The OCI URL of a chart of a HelmRepository: its own URL (type oci) or the profile's mapping."""
    url = str(repo_spec.get("url") or "").strip()
    if repo_spec.get("type") == "oci" or url.startswith("oci://"):
        return f"{url.rstrip('/')}/{chart}"
    mapping = {k.rstrip("/"): v for k, v in profile.chart_repository_oci.items()}
    base = mapping.get(url.rstrip("/"))
    return f"{base.rstrip('/')}/{chart}" if base else None


def ocirepository(profile: Profile, name: str, url: str, version: str) -> str:
    """One OCIRepository per app (the template's), following a semver range when the version is one."""
    text = t.ocirepository(profile, name, url, version)
    if not re.fullmatch(r"v?[0-9]+(\.[0-9]+)*([-+][0-9A-Za-z.-]+)?", version):
        text = text.replace(
            f"    tag: {yamlemit.scalar(version, quote_unusual=True)}\n",
            f"    semver: {yamlemit.scalar(version, quote_unusual=True)}\n",
        )
    return text


@dataclass
class ChartJob:
    """One HelmRelease whose chart comes through ``spec.chart``, and where the chart is in OCI form."""

    path: str
    name: str
    chart: str
    version: str
    repo: str
    url: str | None
    repo_name: str = ""  # the central HelmRepository's name and spec, when the render has it
    repo_spec: Mapping[str, Any] | None = None


def convert_charts(
    tree: Tree,
    profile: Profile,
    render: ClusterRender,
    options: MigrateOptions,
    steps: list[str],
    notes: list[str],
) -> None:
    """``spec.chart`` of every HelmRelease -> ``chartRef`` to an OCIRepository of its own; a chart with
    no known OCI location is a manual step, or (``--keep-helm-repository``) keeps ``spec.chart`` from a
    HelmRepository of the app's own."""
    chart_url = options.chart_url
    repos = helm_repositories(render)
    jobs: list[ChartJob] = []
    for path in sorted(tree.files):
        if not is_yaml(path):
            continue
        for doc in load_docs(tree.files[path], path):
            if isinstance(doc, dict) and is_helmrelease(doc):
                job = _chart_job(doc, path, profile, repos, steps)
                if job is not None:
                    jobs.append(job)
    _use_chart_url(jobs, chart_url, notes)
    for job in jobs:
        if job.url is None and options.keep_helm_repository and job.repo_spec is not None:
            _own_helm_repository(tree, job, notes)
            continue
        if job.url is None:
            steps.append(
                f"HelmRelease {job.name} ({job.path}): no OCI location known for chart {job.chart} of "
                f"{job.repo}; find one, then rerun with --chart-url oci://.../{job.chart} or add the "
                "repository to chart_repository_oci in .homeops.yaml; or rerun with --keep-helm-repository "
                "to give the app a HelmRepository of its own instead of the central one (the HelmRelease "
                "still uses the central spec.chart)"
            )
            continue
        if not job.version:
            steps.append(
                f"HelmRelease {job.name} ({job.path}) pins no chart version: set ref.tag in its OCIRepository"
            )
        _refer_to_ocirepository(tree, job)
        _add_ocirepository(tree, profile, job, job.url)
        notes.append(
            f"HelmRelease {job.name}: chart {job.chart} {job.version} from {job.url} (was {job.repo})"
        )
        if (
            job.url == profile.app_template_chart
            and job.version
            and job.version != profile.app_template_version
        ):
            notes.append(
                f"HelmRelease {job.name} keeps app-template {job.version} (the profile's is "
                f"{profile.app_template_version}; a major upgrade changes the values schema)"
            )


def _chart_job(
    doc: dict[str, Any],
    path: str,
    profile: Profile,
    repos: Mapping[tuple[str, str], dict[str, Any]],
    steps: list[str],
) -> ChartJob | None:
    """The chart a HelmRelease takes through ``spec.chart`` (None: it has a chartRef already; a step
    when that is not an OCIRepository)."""
    spec = doc.get("spec") or {}
    name = str((doc.get("metadata") or {}).get("name") or "")
    chart_spec = (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
    if not isinstance(chart_spec, dict):
        chart_ref = spec.get("chartRef")
        if chart_ref and not (isinstance(chart_ref, dict) and chart_ref.get("kind") == "OCIRepository"):
            steps.append(
                f"HelmRelease {name} ({path}) takes its chart from "
                f"{chart_ref.get('kind')} {chart_ref.get('name')}: give it an OCIRepository of its own"
            )
        return None
    source = chart_spec.get("sourceRef") or {}
    chart = str(chart_spec.get("chart") or "")
    version = str(chart_spec.get("version") or "")
    repo_label = f"{source.get('kind')} {source.get('name')}"
    url = None
    repo_name, repo_spec = "", None
    if source.get("kind") == "HelmRepository":
        namespace = source.get("namespace") or (doc.get("metadata") or {}).get("namespace") or "flux-system"
        key = (str(namespace), str(source.get("name") or ""))
        repo = repos.get(key) or next((s for (_ns, n), s in repos.items() if n == key[1]), None)
        if repo is not None:
            url = chart_oci_url(profile, repo, chart)
            repo_label = f"HelmRepository {key[1]} ({repo.get('url')})"
            repo_name, repo_spec = key[1], repo
    return ChartJob(path, name, chart, version, repo_label, url, repo_name, repo_spec)


def _use_chart_url(jobs: list[ChartJob], chart_url: str | None, notes: list[str]) -> None:
    """``--chart-url`` is the location of the one chart without a known one (else a note why not)."""
    unmapped = [j for j in jobs if j.url is None]
    if chart_url and len(unmapped) == 1:
        unmapped[0].url = chart_url
    elif chart_url and len(unmapped) > 1:
        notes.append(
            f"--chart-url {chart_url} not used: {len(unmapped)} charts lack an OCI location "
            f"({', '.join(j.chart for j in unmapped)})"
        )
    elif chart_url and not unmapped:
        notes.append(f"--chart-url {chart_url} not used: every chart has a known OCI location")


def _refer_to_ocirepository(tree: Tree, job: ChartJob) -> None:
    """The HelmRelease's ``spec.chart`` entry replaced by a ``chartRef`` (the rest of the file kept)."""
    chart_ref = ["chartRef:", "  kind: OCIRepository", f"  name: {yamlemit.scalar(job.name)}"]
    _replace_in_release(tree, job, ("spec", "chart"), chart_ref)


def _replace_in_release(tree: Tree, job: ChartJob, path: tuple[str, ...], lines: list[str]) -> None:
    """One entry of the job's HelmRelease replaced by ``lines`` (the rest of its file kept)."""
    chunks = split_docs(tree.files[job.path])
    for i, chunk in enumerate(chunks):
        docs = load_docs(chunk, job.path)
        if (
            len(docs) == 1
            and isinstance(docs[0], dict)
            and is_helmrelease(docs[0])
            and str((docs[0].get("metadata") or {}).get("name") or "") == job.name
        ):
            new_chunk = replace_entry(chunk, path, lines)
            if new_chunk is not None:
                chunks[i] = new_chunk
    tree.files[job.path] = "".join(chunks)


def _own_helm_repository(tree: Tree, job: ChartJob, notes: list[str]) -> None:
    """The central HelmRepository copied next to the release (``helmrepository.yaml``, in the app's
    namespace), and the release's ``sourceRef`` pointed at that copy."""
    spec = job.repo_spec or {}
    lines = [
        "---",
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "kind: HelmRepository",
        "metadata:",
        f"  name: {yamlemit.scalar(job.repo_name)}",
        "spec:",
        f"  interval: {yamlemit.scalar(str(spec.get('interval') or '1h'))}",
        *([f"  type: {yamlemit.scalar(str(spec['type']))}"] if spec.get("type") else []),
        f"  url: {yamlemit.scalar(str(spec.get('url') or ''))}",
    ]
    path = f"{posixpath.dirname(job.path)}/helmrepository.yaml"
    text = "\n".join(lines) + "\n"
    if path in tree.files:
        if f"name: {yamlemit.scalar(job.repo_name)}\n" not in tree.files[path]:
            tree.files[path] += text
    else:
        tree.files[path] = text
        tree.origin[path] = ""
        tree.companions.append((path, job.path))
    source = ["sourceRef:", "  kind: HelmRepository", f"  name: {yamlemit.scalar(job.repo_name)}"]
    _replace_in_release(tree, job, ("spec", "chart", "spec", "sourceRef"), source)
    notes.append(
        f"HelmRelease {job.name} keeps spec.chart {job.chart} from a HelmRepository of its own, {job.repo_name} "
        f"({spec.get('url')}) in {path}: no OCI location is known for the chart (HO001 reports it until one is)"
    )


def _add_ocirepository(tree: Tree, profile: Profile, job: ChartJob, url: str) -> None:
    """The release's OCIRepository, in ``ocirepository.yaml`` next to it (appended when that exists)."""
    oci_path = f"{posixpath.dirname(job.path)}/ocirepository.yaml"
    doc_text = ocirepository(profile, job.name, url, job.version or "0.0.0")
    if oci_path in tree.files:
        existing = tree.files[oci_path]
        tree.files[oci_path] = existing + ("" if existing.endswith("\n") else "\n") + doc_text
    else:
        tree.files[oci_path] = doc_text
        tree.origin[oci_path] = ""
        tree.companions.append((oci_path, job.path))
