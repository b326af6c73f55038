"""``homeops build hr``: one HelmRelease's chart rendered with its values, as helm-controller would."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from homeops.cli import common
from homeops.cli.flux_cmd import ClusterOpt, OutputOpt, PathOpt, VarOpt, render
from homeops.core import yamlio
from homeops.core.errors import EXIT_FINDINGS, HomeopsError
from homeops.core.findings import Finding
from homeops.flux.helm_expand import Expander, find_release
from homeops.flux.model import is_helmrelease

ENABLE_HELM_HINT = (
    "pass --enable-helm: rendering a HelmRelease downloads its chart from the registry or Helm "
    "repository and runs Helm's template engine"
)


def finding_line(f: Finding) -> str:
    """``<file>:<line>: <message> [<rule>]``, as the other commands print render errors."""
    loc = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
    return f"{loc}{f.message} [{f.rule}]"


def register_build(build_app: typer.Typer) -> None:
    """Add ``hr`` to the ``build`` group that ``flux_cmd`` creates."""

    @build_app.command("hr")
    def build_hr(
        name: Annotated[str, typer.Argument(help="The HelmRelease name.")],
        namespace: Annotated[
            str | None, typer.Option("-n", "--namespace", help="Namespace of the HelmRelease.")
        ] = None,
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        output: OutputOpt = "yaml",
        var: VarOpt = None,
        enable_helm: Annotated[
            bool, typer.Option("--enable-helm", help="Allow fetching the chart (network) and rendering it.")
        ] = False,
        offline: Annotated[
            bool, typer.Option("--offline", help="Use only the chart cache; say what is missing.")
        ] = False,
    ) -> None:
        """Render one HelmRelease's chart with its values (YAML stream or {"items": [...]})."""
        if output not in ("yaml", "json"):
            raise HomeopsError(f"unknown output {output!r} for build hr", hint="use -o yaml or -o json")
        if not enable_helm:
            raise HomeopsError("build hr needs --enable-helm", hint=ENABLE_HELM_HINT)
        result = render(path, cluster, var)[0]
        matches = find_release(result, name, namespace)
        if not matches:
            known = sorted(
                f"{r.namespace or 'default'}/{r.name}" for _, r in result.objects() if is_helmrelease(r.obj)
            )
            where = f" in namespace {namespace}" if namespace else ""
            raise HomeopsError(
                f"no HelmRelease named {name!r}{where} in cluster {result.cluster.name}",
                hint=f"known: {', '.join(known)}" if known else "the cluster renders no HelmRelease",
            )
        if len(matches) > 1:
            spaces = ", ".join(sorted(r.namespace or "default" for _, r in matches))
            raise HomeopsError(
                f"HelmRelease {name!r} exists in several namespaces: {spaces}", hint="pass -n NAMESPACE"
            )
        rk, release = matches[0]
        out = Expander(common.repo_root(path), result, offline=offline).render_release(rk, release)
        if output == "yaml":
            sys.stdout.write(yamlio.dump_all(res.obj for res in out.objects))
        else:
            common.print_json(
                {
                    "release": {"name": out.name, "namespace": out.namespace, "source": release.where()},
                    "items": [res.obj for res in out.objects],
                }
            )
        code = 0
        for f in out.findings:
            if f.severity == "error":
                print(common.error_line(finding_line(f)), file=sys.stderr)
                code = EXIT_FINDINGS
            else:
                print(f"homeops: note: {finding_line(f)}", file=sys.stderr)
        if code:
            raise typer.Exit(code)
