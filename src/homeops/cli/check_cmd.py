"""``homeops check`` and ``homeops rules``: run the rules, report findings, apply safe fixes.

Fixes are applied in rounds: each round runs the checks, asks every fixable finding's rule for its
edits, merges the edits of one file when their changes are apart (and the result still parses),
defers the rest, writes through ``apply_edits`` and checks again, so a deferred fix is recomputed
against the new text. ``--diff`` runs the same rounds on a temporary copy and prints the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from homeops.cli import common
from homeops.cli.flux_cmd import parse_vars
from homeops.core.errors import EXIT_FINDINGS, HomeopsError
from homeops.core.findings import SEVERITIES
from homeops.core.profile import load_profile
from homeops.report import FORMATS, at_or_above, plural, render_report, summary_sentence
from homeops.rules.base import Rule
from homeops.rules.engine import load_rules
from homeops.rules.fix import CheckOptions, collect, fix_repository, preview_fixes


# -------------------------------------------------------------------------------------- commands
def _rule_rows(rules: dict[str, Rule]) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "severity": r.severity, "fixable": r.fixable, "title": r.title} for r in rules.values()
    ]


def explain(rule: Rule) -> str:
    """``homeops rules ID``: title, severity, rationale, examples, autofix."""

    def indent(text: str) -> str:
        return "\n".join(f"    {line}" if line else "" for line in text.splitlines())

    return (
        f"{rule.id}: {rule.title}\n\n"
        f"Severity: {rule.severity}\nAutofix:  {'yes' if rule.fixable else 'no'}\n\n"
        f"Rationale:\n{indent(rule.rationale)}\n\n"
        f"Bad:\n{indent(rule.bad)}\n\n"
        f"Good:\n{indent(rule.good)}\n"
    )


def _ids(values: list[str] | None) -> list[str]:
    return list(values or [])


def _stderr(message: str) -> None:
    print(f"homeops: {message}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        directory: Annotated[
            Path | None, typer.Argument(metavar="[DIR]", help="Repository root (same as --path).")
        ] = None,
        path: Annotated[
            Path | None, typer.Option("--path", help="Repository root (default: Git top level, else .).")
        ] = None,
        cluster: Annotated[
            str | None, typer.Option("--cluster", help="Check one cluster (name or directory).")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="text, json, sarif, github or markdown.")] = "text",
        fail_on: Annotated[
            str, typer.Option("--fail-on", help="Exit 1 on findings at or above: info, warning, error.")
        ] = "warning",
        select: Annotated[
            list[str] | None,
            typer.Option("--select", help="Only these rule ids or prefixes (comma-separated, repeatable)."),
        ] = None,
        ignore: Annotated[
            list[str] | None, typer.Option("--ignore", help="Skip these rule ids or prefixes.")
        ] = None,
        fix: Annotated[
            bool, typer.Option("--fix", help="Apply the safe autofixes, then report what remains.")
        ] = False,
        diff: Annotated[
            bool,
            typer.Option(
                "--diff", help="Print the fixes as a unified diff and write nothing (implies --fix)."
            ),
        ] = False,
        var: Annotated[
            list[str] | None, typer.Option("--var", help="KEY=VALUE for variables only the cluster knows.")
        ] = None,
        enable_helm: Annotated[
            bool, typer.Option("--enable-helm", help="Expand HelmReleases into their objects first.")
        ] = False,
    ) -> None:
        """Render every cluster and report findings of the rules (see 'homeops rules')."""
        if fmt not in FORMATS:
            raise HomeopsError(f"unknown format {fmt!r}", hint=f"use --format {', '.join(FORMATS)}")
        if fail_on not in SEVERITIES:
            raise HomeopsError(f"unknown --fail-on {fail_on!r}", hint="use info, warning or error")
        if directory is not None and path is not None and directory.resolve() != path.resolve():
            raise HomeopsError("give the repository once, as DIR or --path", hint="drop one of them")
        root = common.repo_root(directory if directory is not None else path)
        profile = load_profile(root)
        opts = CheckOptions(cluster, parse_vars(var), _ids(select), _ids(ignore), enable_helm)
        rules = load_rules()
        if diff:
            outcome, text = preview_fixes(root, profile, opts)
            sys.stdout.write(text)
            for warning in outcome.warnings:
                _stderr(f"warning: {warning}")
            _stderr(
                f"would fix {plural(outcome.fixed, 'problem')} in {plural(len(outcome.originals), 'file')}; "
                f"then: {summary_sentence(outcome.remaining)} (run without --diff to apply)"
            )
            raise typer.Exit(EXIT_FINDINGS if text or at_or_above(outcome.remaining, fail_on) else 0)
        if fix:
            outcome = fix_repository(root, profile, opts)
            for warning in outcome.warnings:
                _stderr(f"warning: {warning}")
            _stderr(f"fixed {plural(outcome.fixed, 'problem')} in {plural(len(outcome.originals), 'file')}")
            findings, ctx = outcome.remaining, outcome.ctx
        else:
            with common.progress("checking") as tick:
                findings, ctx = collect(root, profile, opts, progress=tick)
        if not ctx.renders and cluster is None:
            _stderr(
                f"warning: no cluster found under {profile.clusters_dir}/; only repository-wide rules ran"
            )
        cluster_dirs = {r.cluster.name: r.cluster.directory for r in ctx.renders}
        sys.stdout.write(
            render_report(
                fmt, findings, root=root, rules=rules, color=common.use_color(), cluster_dirs=cluster_dirs
            )
        )
        raise typer.Exit(EXIT_FINDINGS if at_or_above(findings, fail_on) else 0)

    @app.command("rules")
    def rules_cmd(
        rule_id: Annotated[
            str | None, typer.Argument(metavar="[ID]", help="A rule id to explain, e.g. HO009.")
        ] = None,
        output: Annotated[str, typer.Option("-o", "--output", help="table or json.")] = "table",
    ) -> None:
        """List the rules, or explain one (rationale, bad and good example, autofix)."""
        if output not in ("table", "json"):
            raise HomeopsError(f"unknown output {output!r}", hint="use -o table or -o json")
        rules = load_rules()
        if rule_id is None:
            common.print_rows(_rule_rows(rules), ["id", "severity", "fixable", "title"], output)
            return
        rule = rules.get(rule_id.strip().upper())
        if rule is None:
            raise HomeopsError(f"unknown rule id {rule_id!r}", hint="see 'homeops rules'")
        if output == "json":
            common.print_json(
                {
                    "id": rule.id,
                    "title": rule.title,
                    "severity": rule.severity,
                    "fixable": rule.fixable,
                    "rationale": rule.rationale,
                    "bad": rule.bad,
                    "good": rule.good,
                }
            )
        else:
            sys.stdout.write(explain(rule))
