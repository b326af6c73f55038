#!/usr/bin/env python3
"""Field report: check public home-ops repositories with the document's profile and with the profile
inferred from each repository, and draw a sample of findings to judge by hand.

Usage: python bench/field_report.py ROOT [ROOT...] [--sample N] [--json] [--judged FILE]

ROOT is a checkout of a repository (``git archive`` of a fetched mirror; never committed here). For
each: its clusters, how many Flux Kustomizations render, findings per rule and severity checked
against the context document's profile (``document``) and against the conventions ``profile infer``
reads from the repository (``inferred``, what ``homeops check`` does without ``.homeops.yaml``), and
a sample of N findings of the inferred run (errors first, then round-robin over rules, in file
order), each printed as ``repo|rule|file:line`` with its severity and message. ``--judged FILE``
merges hand judgements (lines ``repo|rule|file:line|verdict|why``, verdict ``true``, ``false`` or
``debatable``) and counts them per repository, false error-severity findings separately.

The real CLI is run too, as a user would on a fresh clone (no ``.homeops.yaml``: the inferred
profile): ``homeops check``, ``homeops get ks -A`` and ``homeops images list``, each with its exit code
and wall time; exit 70 (an internal error) or a traceback on stderr counts as a crash. ``--table``
prints one Markdown row per repository instead of the details.

Exit code: 0, or 1 when a repository crashed (an exception the renderer did not turn into a finding,
or a CLI run that ended with exit 70 or a traceback).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from homeops.api import Finding, Workspace  # noqa: E402
from homeops.core.profile import DEFAULT  # noqa: E402


def key(repo: str, f: Finding) -> str:
    return f"{repo}|{f.rule}|{f.file}:{f.line}"


def sample(findings: list[Finding], size: int) -> list[Finding]:
    """Errors first, then warnings, then info; inside each, round-robin over rules in file order."""
    out: list[Finding] = []
    for severity in ("error", "warning", "info"):
        by_rule: dict[str, list[Finding]] = {}
        for f in sorted((f for f in findings if f.severity == severity), key=lambda f: f.sort_key()):
            by_rule.setdefault(f.rule, []).append(f)
        while len(out) < size and any(by_rule.values()):
            for rule in sorted(by_rule):
                if by_rule[rule] and len(out) < size:
                    out.append(by_rule[rule].pop(0))
    return out


def counts(findings: list[Finding]) -> dict[str, Any]:
    return {
        "by_rule": dict(sorted(Counter(f"{f.rule}:{f.severity[0]}" for f in findings).items())),
        "severity": {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")},
    }


def report_one(root: Path, size: int) -> dict[str, Any]:
    row: dict[str, Any] = {"repo": root.name}
    start = time.perf_counter()
    try:
        document = Workspace(root, profile=DEFAULT)
        inferred = Workspace(root)
        renders = inferred.render_all()
        row["clusters"] = [r.cluster.name for r in renders]
        row["kustomizations"] = sum(len(r.kustomizations) for r in renders)
        row["not_rendered"] = sum(1 for r in renders for k in r.kustomizations if k.status == "error")
        row["document"] = counts(document.check().findings)
        found = inferred.check().findings
        row["origin"] = inferred.profile_origin
        row["inferred"] = counts(found)
        row["inferred_keys"] = sorted(inferred.infer_profile().overrides())
        row["sample"] = [
            {"key": key(root.name, f), "severity": f.severity, "message": f.message}
            for f in sample(found, size)
        ]
    except Exception as exc:  # a crash is a bug of ours: shown, never hidden
        row["crash"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
    row["seconds"] = round(time.perf_counter() - start, 1)
    row["cli"] = run_cli(root)
    if any("crash" in run for run in row["cli"].values()):
        row.setdefault("crash", "CLI: " + "; ".join(f"{n} exit {r['exit']}" for n, r in row["cli"].items()))
    return row


CLI_RUNS = {"check": ("check",), "get": ("get", "ks", "-A"), "images": ("images", "list")}
EXIT_INTERNAL = 70


def run_cli(root: Path) -> dict[str, Any]:
    """Each command of CLI_RUNS in a subprocess at ``root``: exit code, seconds, crash evidence."""
    out: dict[str, Any] = {}
    for name, argv in CLI_RUNS.items():
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", *argv, "--path", str(root)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        crashed = done.returncode == EXIT_INTERNAL or "Traceback (most recent call last)" in done.stderr
        out[name] = {
            "exit": done.returncode,
            "seconds": round(time.perf_counter() - start, 1),
            "stderr_lines": len(done.stderr.splitlines()),
            **({"crash": done.stderr[-2000:]} if crashed else {}),
        }
    return out


def load_judged(path: Path | None) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    if path is None:
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        repo, rule, place, verdict, why = line.split("|", 4)
        out[f"{repo}|{rule}|{place}"] = (verdict.strip(), why.strip())
    return out


TABLE_HEAD = (
    "| repository | clusters | Flux Ks (not rendered) | document e/w/i | inferred e/w/i "
    "| sample errors true/debatable/false/unjudged | check / get ks -A / images exit | seconds (API, check) |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def table_row(row: dict[str, Any], judged: dict[str, tuple[str, str]]) -> str:
    """One Markdown row of the summary table."""
    if "document" not in row:
        return f"| {row['repo']} | CRASH {row['crash']} | | | | | | |"

    def sev(c: dict[str, Any]) -> str:
        return "/".join(str(c["severity"][s]) for s in ("error", "warning", "info"))

    errors = [judged.get(i["key"], ("unjudged", ""))[0] for i in row["sample"] if i["severity"] == "error"]
    verdicts = "/".join(str(errors.count(v)) for v in ("true", "debatable", "false", "unjudged"))
    cli = row["cli"]
    exits = " / ".join(str(cli[n]["exit"]) for n in CLI_RUNS)
    return (
        f"| {row['repo']} | {', '.join(row['clusters'])} | {row['kustomizations']} ({row['not_rendered']}) "
        f"| {sev(row['document'])} | {sev(row['inferred'])} | {verdicts} | {exits} "
        f"| {row['seconds']}, {cli['check']['seconds']} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--judged", type=Path)
    parser.add_argument("--table", action="store_true", help="one Markdown row per repository")
    args = parser.parse_args(argv)
    judged = load_judged(args.judged)
    crashed = False
    if args.table:
        print(TABLE_HEAD)
    for root in args.roots:
        row = report_one(root.resolve(), args.sample)
        crashed |= "crash" in row
        if args.json:
            print(json.dumps(row))
            continue
        if args.table:
            print(table_row(row, judged))
            continue
        if "crash" in row:
            print(f"## {row['repo']}: CRASH {row['crash']}\n{row['traceback']}")
            continue
        doc, inf = row["document"], row["inferred"]
        print(f"## {row['repo']} ({', '.join(row['clusters'])}; {row['kustomizations']} Flux Kustomizations, "
              f"{row['not_rendered']} not rendered; {row['seconds']}s)")  # fmt: skip
        print(f"document: {doc['severity']}  {' '.join(f'{k}={v}' for k, v in doc['by_rule'].items())}")
        print(f"inferred: {inf['severity']}  {' '.join(f'{k}={v}' for k, v in inf['by_rule'].items())}")
        print(f"inferred keys: {', '.join(row['inferred_keys'])}")
        print("cli: " + ", ".join(f"{n} exit {r['exit']} ({r['seconds']}s)" for n, r in row["cli"].items()))
        verdicts: Counter[str] = Counter()
        false_errors = 0
        for item in row["sample"]:
            verdict, why = judged.get(item["key"], ("unjudged", ""))
            verdicts[verdict] += 1
            false_errors += verdict == "false" and item["severity"] == "error"
            print(f"  [{verdict}] {item['key']} {item['severity']}: {item['message'][:160]}"
                  + (f"\n      why: {why}" if why else ""))  # fmt: skip
        print(f"sample: {dict(verdicts)}; false error-severity findings: {false_errors}\n")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
