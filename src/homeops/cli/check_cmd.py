"""``homeops check`` and ``homeops rules``: report findings, apply safe fixes, explain rules."""

from __future__ import annotations

import argparse
import os
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError
from homeops.core.severity import SEVERITIES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any

REPORT_FORMATS = ("text", "json", "sarif", "github", "markdown")


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check", parents=parents, help="Render every cluster and report findings of the rules.",
        description="Render every cluster and report findings of the rules (see 'homeops rules').",
    )  # fmt: skip
    check.add_argument("directory", nargs="?", metavar="DIR", help="Repository root (same as --path).")
    common.add_path(check)
    common.add_cluster(check, "Check one cluster (name or directory).")
    check.add_argument(
        "--format", default="text", metavar="FORMAT",
        help=f"Report format: {', '.join(REPORT_FORMATS)} (default: text).",
    )  # fmt: skip
    check.add_argument(
        "--fail-on", default="warning", metavar="SEVERITY",
        help="Exit 1 on findings at or above: info, warning (default), error.",
    )  # fmt: skip
    check.add_argument(
        "--select", action="append", metavar="IDS",
        help="Only these rule ids or prefixes (comma-separated, repeatable).",
    )  # fmt: skip
    check.add_argument("--ignore", action="append", metavar="IDS", help="Skip these rule ids or prefixes.")
    common.add_flag(check, "--fix", "Apply the safe autofixes, then report what remains.")
    common.add_flag(check, "--diff", "Print the fixes as a unified diff and write nothing (implies --fix).")
    common.add_flag(
        check, "--changed",
        "Read again only what changed since HEAD (pre-commit: the staged files); the cache and Git stand "
        "for the rest. Same findings as a full check.",
    )  # fmt: skip
    check.add_argument(
        "--changed-from", metavar="REF",
        help="Like --changed, for what changed since REF (a branch, tag or commit).",
    )  # fmt: skip
    common.add_vars(check)
    common.add_flag(
        check, "--enable-helm", "Expand HelmReleases into their objects first (downloads charts)."
    )
    common.add_render_settings(check, helm=False)
    check.set_defaults(handler=run_check)

    rules = commands.add_parser(
        "rules", parents=parents, help="List the rules, or explain one.",
        description="List the rules, or explain one (rationale, bad and good example, autofix).",
    )  # fmt: skip
    rules.add_argument("rule_id", nargs="?", metavar="ID", help="A rule id to explain, e.g. HO009.")
    common.add_output(rules, ("table", "json"), "table")
    rules.set_defaults(handler=run_rules)


def _plural(count: int, word: str) -> str:
    return f"{count} {word if count == 1 else word + 's'}"


def run_check(args: argparse.Namespace) -> int:
    from homeops.report import render_report, summary_sentence  # start-up: loaded when checking

    fmt = args.format
    if fmt not in REPORT_FORMATS:
        raise HomeopsError(f"unknown format {fmt!r}", hint=f"use --format {', '.join(REPORT_FORMATS)}")
    if args.fail_on not in SEVERITIES:
        raise HomeopsError(f"unknown --fail-on {args.fail_on!r}", hint="use info, warning or error")
    if (
        args.directory is not None
        and args.path is not None
        and os.path.realpath(args.directory) != os.path.realpath(args.path)
    ):
        raise HomeopsError("give the repository once, as DIR or --path", hint="drop one of them")
    ws = common.workspace(args, path=args.directory if args.directory is not None else args.path)
    select, ignore = list(args.select or []), list(args.ignore or [])
    if (args.changed or args.changed_from) and (args.diff or args.fix):
        raise HomeopsError("--changed checks, it does not fix", hint="drop --changed or --fix/--diff")
    if args.diff or args.fix:
        fixes = ws.fix(
            select=select, ignore=ignore, cluster=args.cluster, helm=args.enable_helm, write=not args.diff
        )
        for warning in fixes.warnings:
            common.note(warning, "warning")
        files = _plural(len(fixes.edits), "file")
        if args.diff:
            sys.stdout.write(fixes.diff)
            common.say(
                f"would fix {_plural(fixes.fixed, 'problem')} in {files}; "
                f"then: {summary_sentence(fixes.remaining)} (run without --diff to apply)"
            )
            remaining = [f for f in fixes.remaining if _at_or_above(f.severity, args.fail_on)]
            return 1 if fixes.diff or remaining else 0
        common.say(f"fixed {_plural(fixes.fixed, 'problem')} in {files}")
        findings, clusters = fixes.remaining, fixes.clusters
    else:
        changed_from = args.changed_from or ("HEAD" if args.changed else None)
        with common.progress("checking") as tick:
            result = ws.check(
                select=select,
                ignore=ignore,
                cluster=args.cluster,
                helm=args.enable_helm,
                progress=tick,
                changed_from=changed_from,
            )
        findings, clusters = result.findings, result.clusters
    if ws.profile_origin == "inferred":
        common.note(
            "no .homeops.yaml: checking against the conventions the repository follows "
            "('homeops profile infer' shows them)"
        )
    if not clusters and args.cluster is None:
        common.note(
            f"no cluster found under {ws.profile.clusters_dir}/; only repository-wide rules ran", "warning"
        )
    cluster_dirs = {c.name: c.directory for c in clusters}
    sys.stdout.write(
        render_report(
            fmt, findings, root=ws.root, rules=ws.rules(), color=common.use_color(), cluster_dirs=cluster_dirs
        )
    )
    return 1 if any(_at_or_above(f.severity, args.fail_on) for f in findings) else 0


def _at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold) if severity in SEVERITIES else False


def explain(rule: Any) -> str:
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


def run_rules(args: argparse.Namespace) -> int:
    from homeops.api import list_rules  # start-up: the rule modules load only here

    output = common.check_choice(args.output, ("table", "json"), "output")
    rules = list_rules()
    if args.rule_id is None:
        rows = [
            {"id": r.id, "severity": r.severity, "fixable": r.fixable, "title": r.title}
            for r in rules.values()
        ]
        common.print_rows(rows, ["id", "severity", "fixable", "title"], output)
        return 0
    rule = rules.get(args.rule_id.strip().upper())
    if rule is None:
        raise HomeopsError(f"unknown rule id {args.rule_id!r}", hint="see 'homeops rules'")
    if output == "json":
        common.print_json(rule.as_json())
    else:
        sys.stdout.write(explain(rule))
    return 0
