"""``homeops images list|pin``: every image the cluster runs, and pinning tags to registry digests.

``list`` reads the render (and, with ``--enable-helm``, chart output) so it shows what is deployed,
not every YAML file that happens to mention an image. ``pin`` edits only files the render says hold
an unpinned image, resolves each tag once with ``HEAD`` on the registry (the index digest for
multi-arch images, as Renovate pins), and writes through the one atomic writer,
:func:`homeops.core.edits.apply_edits`, so comments and formatting stay.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from homeops.cli import common
from homeops.cli.flux_cmd import ClusterOpt, OutputOpt, PathOpt, VarOpt, render
from homeops.core.edits import apply_edits, unified_diff
from homeops.core.errors import EXIT_FINDINGS, HomeopsError
from homeops.core.findings import Finding
from homeops.core.profile import load_profile
from homeops.flux.render import ClusterRender
from homeops.images.listing import image_rows
from homeops.images.pin import resolve_digest
from homeops.images.plan import PinPlan, plan_pins, unpinned_uses
from homeops.registry import oci

LIST_COLUMNS = ["image", "pinned", "kind", "namespace", "name", "source"]
LIST_WIDE = ["cluster", "image", "pinned", "kind", "namespace", "name", "container", "origin", "source"]
PIN_COLUMNS = ["source", "image", "status", "digest"]


def _pin_rows(plan: PinPlan) -> list[dict[str, Any]]:
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
