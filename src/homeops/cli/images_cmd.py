"""``homeops images list|pin``: every image the cluster runs, and pinning tags to registry digests.

``list`` reads the render (and, with ``--enable-helm``, chart output) so it shows what is deployed,
not every YAML file that happens to mention an image. ``pin`` edits only files the render says hold
an unpinned image, resolves each tag once with ``HEAD`` on the registry (the index digest for
multi-arch images, as Renovate pins), and writes through the one atomic writer,
:func:`homeops.core.edits.apply_edits`, so comments and formatting stay.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from homeops.cli import common
from homeops.cli.flux_cmd import ClusterOpt, OutputOpt, PathOpt, VarOpt, render
from homeops.core.edits import FileEdit, apply_edits, unified_diff
from homeops.core.errors import EXIT_FINDINGS, HomeopsError
from homeops.core.findings import Finding
from homeops.core.profile import load_profile
from homeops.flux.render import ClusterRender
from homeops.images.extract import ImageUse, resource_images
from homeops.images.pin import ImageOccurrence, PinError, find_images, resolve_digest
from homeops.images.refs import ImageRef
from homeops.registry import oci

CHART_LABEL = "helm.toolkit.fluxcd.io/name"
MAX_PARALLEL = 8

LIST_COLUMNS = ["image", "pinned", "kind", "namespace", "name", "source"]
LIST_WIDE = ["cluster", "image", "pinned", "kind", "namespace", "name", "container", "origin", "source"]
PIN_COLUMNS = ["source", "image", "status", "digest"]


# ----------------------------------------------------------------------------------------------
# list


def image_rows(renders: Iterable[ClusterRender]) -> list[dict[str, Any]]:
    """One row per image use (deduplicated across clusters sharing a file), sorted by place."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in renders:
        for _rk, res in result.objects():
            from_chart = res.kind != "HelmRelease" and CHART_LABEL in res.labels
            for use in resource_images(res):
                key = (use.file, use.line, use.image, use.kind, use.name, use.namespace, use.container)
                if key in rows:
                    continue
                rows[key] = {
                    "image": use.image,
                    "pinned": use.pinned,
                    "cluster": result.cluster.name,
                    "kind": use.kind,
                    "namespace": use.namespace,
                    "name": use.name,
                    "container": use.container,
                    "origin": "chart" if from_chart else use.origin,
                    "file": use.file,
                    "line": use.line,
                    "source": f"{use.file}:{use.line}" if use.file and use.line else (use.file or ""),
                }
    return sorted(rows.values(), key=lambda r: (r["file"] or "", r["line"] or 0, r["image"]))


# ----------------------------------------------------------------------------------------------
# pin


@dataclass
class PinResult:
    """A planned pin: edits per file, each image pinned (with where) and each image that failed."""

    edits: list[FileEdit] = field(default_factory=list)
    pinned: list[tuple[str, ImageOccurrence, str]] = field(default_factory=list)  # (file, occurrence, digest)
    errors: list[tuple[str, PinError]] = field(default_factory=list)  # (image, error)


def unpinned_uses(renders: Iterable[ClusterRender]) -> dict[str, list[ImageUse]]:
    """Unpinned image uses of repository files, by file (chart output has no file of its own)."""
    out: dict[str, list[ImageUse]] = {}
    for result in renders:
        for _rk, res in result.objects():
            if res.kind != "HelmRelease" and CHART_LABEL in res.labels:
                continue
            for use in resource_images(res):
                if not use.pinned and use.file:
                    out.setdefault(use.file, []).append(use)
    return out


def _pin_error(
    exc: HomeopsError, ref: ImageRef, file: str, line: int, redact: Callable[[str], str]
) -> PinError:
    what, hint = exc.what, exc.hint
    if isinstance(exc, oci.NotFoundError):
        what = f"tag {ref.tag} of {ref.repository} does not exist"
        hint = "check the tag on the registry"
    return PinError(redact(f"cannot pin {ref.unpinned}: {what}"), file, line, redact(hint) if hint else None)


def plan_pins(
    root: Path,
    uses_by_file: Mapping[str, list[ImageUse]],
    *,
    resolve: Callable[[ImageRef], str],
    redact: Callable[[str], str] = lambda text: text,
) -> PinResult:
    """Resolve every unpinned tag the render found (each once, a few in parallel) and compute the edits."""
    plan = PinResult()
    targets: dict[str, tuple[str, list[ImageOccurrence]]] = {}
    for file in sorted(uses_by_file):
        path = root / file
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        lines = {u.line for u in uses_by_file[file] if u.line}
        images = {u.image.partition("@")[0] for u in uses_by_file[file]}
        wanted = [
            occ
            for occ in find_images(text, file)
            if not occ.ref.pinned and (occ.line in lines or str(occ.ref.unpinned) in images)
        ]
        if wanted:
            targets[file] = (text, wanted)
    keys: dict[str, ImageRef] = {}
    for _text, occurrences in targets.values():
        for occ in occurrences:
            if occ.ref.tag:
                keys.setdefault(str(occ.ref.unpinned), occ.ref.unpinned)

    def attempt(ref: ImageRef) -> str | HomeopsError:
        try:
            return resolve(ref)
        except HomeopsError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
        outcomes = dict(zip(keys, pool.map(attempt, keys.values()), strict=True))
    for file, (text, occurrences) in targets.items():
        digests: dict[str, str] = {}
        reported: set[str] = set()
        for occ in occurrences:
            key = str(occ.ref.unpinned)
            if not occ.ref.tag:
                error = PinError(f"image {key} has no tag to pin", file, occ.line, "add the tag to track")
                plan.errors.append((key, error))
                continue
            outcome = outcomes[key]
            if isinstance(outcome, HomeopsError):
                if key not in reported:
                    plan.errors.append((key, _pin_error(outcome, occ.ref, file, occ.line, redact)))
                    reported.add(key)
                continue
            digests[key] = outcome
        new, edits = _rewrite(
            text,
            [
                (occ, digests[str(occ.ref.unpinned)])
                for occ in occurrences
                if str(occ.ref.unpinned) in digests
            ],
        )
        if edits and new != text:
            plan.edits.append(FileEdit(file, new, text))
            plan.pinned.extend((file, occ, digest) for occ, digest in edits)
    return plan


def _rewrite(
    text: str, edits: list[tuple[ImageOccurrence, str]]
) -> tuple[str, list[tuple[ImageOccurrence, str]]]:
    """Replace exactly the spans of these occurrences: images already pinned are never touched."""
    out = text
    for occ, digest in sorted(edits, key=lambda e: e[0].start, reverse=True):
        ref = f"{occ.ref.tag}@{digest}" if occ.style == "tag" else str(occ.ref.with_digest(digest))
        out = out[: occ.start] + f"{occ.quote}{ref}{occ.quote}" + out[occ.end :]
    return out, sorted(edits, key=lambda e: e[0].start)


def _pin_rows(plan: PinResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "file": file,
            "line": occ.line,
            "source": f"{file}:{occ.line}",
            "image": str(occ.ref.unpinned),
            "status": "pinned",
            "digest": digest,
        }
        for file, occ, digest in plan.pinned
    ]
    rows += [
        {
            "file": err.file,
            "line": err.line,
            "source": f"{err.file}:{err.line}",
            "image": image,
            "status": "error",
            "digest": "",
            "error": err.what + (f" ({err.hint})" if err.hint else ""),
        }
        for image, err in plan.errors
    ]
    return sorted(rows, key=lambda r: (r["file"] or "", r["line"] or 0))


# ----------------------------------------------------------------------------------------------


def _report_render_errors(renders: Iterable[ClusterRender]) -> int:
    code = 0
    for result in renders:
        for f in result.findings:
            if f.severity == "error":
                print(common.error_line(_where(f)), file=sys.stderr)
                code = EXIT_FINDINGS
    return code


def _where(f: Finding) -> str:
    loc = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
    return f"{loc}{f.message} [{f.rule}]"


def register(app: typer.Typer) -> None:
    images_app = typer.Typer(help="List and pin container images.", no_args_is_help=True)
    app.add_typer(images_app, name="images")

    @images_app.command("list")
    def images_list(
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        output: OutputOpt = "table",
        var: VarOpt = None,
        enable_helm: Annotated[
            bool, typer.Option("--enable-helm", help="Include workloads rendered from charts (network).")
        ] = False,
        offline: Annotated[
            bool, typer.Option("--offline", help="With --enable-helm: use only the chart cache.")
        ] = False,
    ) -> None:
        """Every image in rendered workloads and chart values, with file:line and whether it is pinned."""
        if output not in ("table", "wide", "json"):
            raise HomeopsError(f"unknown output {output!r}", hint="use -o table, -o wide or -o json")
        renders = render(path, cluster, var, all_clusters=True)
        if enable_helm:
            from homeops.flux import helm_expand

            root = common.repo_root(path)
            for result in renders:
                helm_expand.expand(root, result, offline=offline)
        rows = image_rows(renders)
        common.print_rows(rows, LIST_WIDE if output == "wide" else LIST_COLUMNS, output)
        code = _report_render_errors(renders)
        if code:
            raise typer.Exit(code)

    @images_app.command("pin")
    def images_pin(
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        write: Annotated[bool, typer.Option("--write", help="Rewrite the files in place.")] = False,
        output: Annotated[str, typer.Option("-o", "--output", help="diff, table or json.")] = "diff",
        var: VarOpt = None,
    ) -> None:
        """Resolve each unpinned tag to the digest its registry serves; a diff, or --write to apply it."""
        if output not in ("diff", "table", "json"):
            raise HomeopsError(
                f"unknown output {output!r} for images pin", hint="use -o diff, -o table or -o json"
            )
        root = common.repo_root(path)
        profile = load_profile(root)
        renders = render(path, cluster, var, all_clusters=True)
        client = oci.RegistryClient(insecure_registries=profile.insecure_registries)
        plan = plan_pins(
            root,
            unpinned_uses(renders),
            resolve=lambda ref: resolve_digest(ref, client=client),
            redact=client.redact,
        )
        if write and plan.edits:
            apply_edits(root, plan.edits)
        if output == "json":
            common.print_json({"items": _pin_rows(plan), "written": write and bool(plan.edits)})
        elif output == "table":
            common.print_rows(_pin_rows(plan), PIN_COLUMNS, "table")
        elif write:
            for edit in plan.edits:
                count = sum(1 for file, _occ, _digest in plan.pinned if file == edit.path)
                print(f"pinned {count} image{'s' if count != 1 else ''} in {edit.path}")
        else:
            sys.stdout.write(unified_diff(plan.edits))
        for _image, err in plan.errors:
            print(common.error_line(err.one_line()), file=sys.stderr)
        code = EXIT_FINDINGS if plan.errors else 0
        code = max(code, _report_render_errors(renders))
        if code:
            raise typer.Exit(code)
