"""Markdown: ``check --format markdown`` for a pull-request comment, and ``docs/rules.md``.

``rules_reference()`` generates ``docs/rules.md`` from the rule registry (a test keeps the committed
file equal to it); ``CORPUS_FINDINGS`` holds the reviewed per-rule counts on the shared corpus, shown
in that document and pinned by ``tests/rules/test_corpus_counts.py``. Regenerate the document with
``python -m homeops.report.markdown > docs/rules.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from homeops.core.findings import Finding
from homeops.report import plural, summary
from homeops.rules.base import Rule

MAX_ROWS = 100
"""Rows per severity in a PR comment (GitHub caps a comment at 65,536 characters)."""

_HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Info"}


def _cell(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def render(findings: Sequence[Finding], rules: Mapping[str, Rule]) -> str:
    """A PR comment: a summary, then one table per severity (errors first)."""
    out = ["### homeops check", ""]
    if not findings:
        out.append("No problems found.")
        return "\n".join(out) + "\n"
    counts = summary(findings)
    files = {f.file for f in findings if f.file}
    fixable = sum(1 for f in findings if f.fixable)
    line = (
        f"**{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
        f"{counts['info']} info** in {plural(len(files), 'file')}"
    )
    if fixable:
        line += f"; {fixable} fixable with `homeops check --fix`"
    out += [line, ""]
    for severity in ("error", "warning", "info"):
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        out += [
            f"#### {_HEADINGS[severity]} ({len(group)})",
            "",
            "| rule | location | message |",
            "| --- | --- | --- |",
        ]
        for f in group[:MAX_ROWS]:
            rule = rules.get(f.rule)
            rule_cell = f"**{f.rule}** {_cell(rule.title)}" if rule else f"**{f.rule}**"
            where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or f.cluster or "")
            location = f"`{_cell(where)}`" if where else ""
            message = _cell(f.message) + (f" ({_cell(f.cluster)})" if f.cluster else "")
            out.append(f"| {rule_cell} | {location} | {message} |")
        if len(group) > MAX_ROWS:
            out.append(f"\n…and {len(group) - MAX_ROWS} more; run `homeops check` for the full list.")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- docs
CORPUS_PATH = "../shared/corpus/rtrox-home-ops"
CORPUS_COMMAND = f"homeops check {CORPUS_PATH} --format json"
"""How the corpus counts were taken: every cluster, default profile, no ``--var``."""

CORPUS_FINDINGS: dict[str, tuple[int, str]] = {
    "HO001": (
        2,
        "True: OCIRepository flux-system/app-template serves 3 HelmReleases and default/paperless also "
        "serves thelounge. Bitty's central HelmRepositories are not flagged: bitty is deprecated.",
    ),
    "HO002": (
        4,
        "True: SOPS files in clusters/{bitty,chongus-old}/flux/vars and two in cluster-cd/apps/bitty, "
        "none under the bootstrap/Talos paths.",
    ),
    "HO003": (
        6,
        "True: bitty and chongus-old substitute from the SOPS Secret cluster-secrets (their cluster and "
        "cluster-apps Kustomizations, plus one aggregated finding per namespace list of children).",
    ),
    "HO007": (
        1,
        "True: bitty's cluster-secrets. A known gap, not a false positive: the other SOPS Secrets are not "
        "rendered (chongus-old has no vars Kustomization; bitty's stores path needs CLUSTER_NAME); HO002 "
        "reports those files.",
    ),
    "HO008": (
        5,
        "True: the cluster-cd/ tree itself and the four Flux paths of bitty and chongus-old into it.",
    ),
    "HO009": (
        37,
        "True: tags without digests (minecraft, owncast, paperless, pocket-id, cloudflared, echo-server, "
        "prompp) and chart values that override only image.repository (node-exporter, rook-ceph, "
        "external-secrets x3), which leaves the chart's mutable default tag; 20 are the rcon CronJobs "
        "of the four minecraft apps.",
    ),
    "HO010": (
        22,
        "True: the 20 minecraft rcon CronJob containers, paperless-ai and graphite-exporter set no memory "
        "limit.",
    ),
    "HO013": (
        2,
        "True per the rule: bluesky's route and the flux-operator github-webhook HTTPRoute use envoy-external "
        "without the internet-facing annotation (both need the internet: annotate them).",
    ),
    "HO020": (
        8,
        "True: four HelmReleases without their own ocirepository.yaml, two app paths without a "
        "kustomization.yaml, grafana's 'kustomization' file without an extension (kustomize ignores it) "
        "and an ExternalSecret in pushoverexternalsecret.yaml.",
    ),
    "HO021": (
        1,
        "True (info): bambustatus-streamer is commented out of default/kustomization.yaml but its "
        "directory remains.",
    ),
    "HO022": (
        4,
        "True per the convention (one lowercase word): cert-manager, external-secrets, rook-ceph and "
        "system-controllers; upstream names, so a profile allowlist may be wanted.",
    ),
    "HO025": (
        2,
        "True: atuin and graphite-exporter mount a ConfigMap/Secret without the Reloader annotation "
        "(autofixable).",
    ),
    "HO026": (
        87,
        "True: about three per container (runAsNonRoot, allowPrivilegeEscalation, readOnlyRootFilesystem) "
        "over the app-template apps and the minecraft CronJobs; owncast sets readOnlyRootFilesystem: false "
        "explicitly; pocket-id sets runAsUser: ${APP_UID} but not runAsNonRoot, which the rule asks for.",
    ),
    "HO028": (1, "True: pocket-id's route parentRef envoy-internal has no sectionName (autofixable)."),
    "HO030": (
        33,
        "True (info, by design): every app Kustomization rendered in the deprecated bitty cluster.",
    ),
    # HO101 (was 1): chongus-old's flux Kustomization uses the upstream flux-manifests OCIRepository, now external.
    "HO103": (
        132,
        "True. 118 are ${CLUSTER_NAME} of bitty (106) and chongus-old (12), whose only value is in the "
        "SOPS Secret cluster-secrets (give --var per cluster, with --cluster); 11 are the volsync "
        "component's ${CLUSTER_NAME} in chongus, which nothing there defines (a real bug: the restic "
        "path loses its cluster segment); minecraft-vanilla's ${SECRET_DOMAIN} is a bitty leftover; "
        "cloudflared's two come from its optional substitution Secret that only the cluster has.",
    ),
    "HO104": (
        2,
        "True: chongus-old's cloudnative-pg and keycloak depend on external-secrets-stores, which that "
        "cluster does not define.",
    ),
    "HO108": (
        2,
        "True: chongus-old substitutes from cluster-secrets, which none of its Kustomizations produces "
        "and which is not optional.",
    ),
    "HO111": (
        12,
        "True: Flux's generated kustomization for ./cluster-apps/chongus descends into "
        "flux-system/flux-operator (no kustomization.yaml there), so cluster-apps applies the 11 objects of "
        "app/ and instance/ that the flux-operator and flux-instance Kustomizations also apply; and "
        "minecraft-cpw's externalsecret.yaml is named minecraft-sf5 (a copy-paste bug).",
    ),
}
"""Rule id → (findings on the corpus, review note). Pinned by ``tests/rules/test_corpus_counts.py``."""

_PREAMBLE = """\
`homeops check` renders every cluster as Flux would and runs these rules on the result. Each rule has a
stable id, a default severity and, where the change is safe, an autofix (`homeops check --fix`, or
`--fix --diff` to see it first). `homeops rules` lists them and `homeops rules ID` explains one.

Rules HO0xx enforce the patterns of the home-ops context document; HO1xx are what the render itself
finds (a Kustomization that cannot be built or reconciled).

## Configuration

`.homeops.yaml` at the repository root turns rules off, changes their severity and ignores paths:

```yaml
rules:
  HO011: false                 # off
  HO026: error                 # another severity
  HO009: {enabled: true, severity: warning}
ignore_paths:
  HO005: ["hack/**"]           # rule id (or prefix) -> globs of repository-relative paths
```

A finding is also suppressed by a comment on its line, on the line above it, or above the start of
its object: `# homeops: ignore[HO009] reason` (several ids separated by commas).
"""


def rules_reference(
    rules: Mapping[str, Rule] | None = None, corpus: Mapping[str, tuple[int, str]] | None = None
) -> str:
    """The text of ``docs/rules.md``: every registered rule, then the reviewed corpus findings."""
    if rules is None:
        from homeops.rules.engine import load_rules

        rules = load_rules()
    corpus = CORPUS_FINDINGS if corpus is None else corpus
    out = [
        "# homeops rules",
        "",
        "<!-- Generated from the rule registry by `python -m homeops.report.markdown > docs/rules.md`;"
        " do not edit by hand (tests/report/test_rules_docs.py compares). -->",
        "",
        _PREAMBLE,
        "## Rules",
        "",
        "| id | severity | autofix | title |",
        "| --- | --- | --- | --- |",
    ]
    ordered = [rules[k] for k in sorted(rules)]
    for r in ordered:
        out.append(
            f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {'yes' if r.fixable else 'no'} | {_cell(r.title)} |"
        )
    out.append("")
    for r in ordered:
        out += [
            f"### {r.id}",
            "",
            f"**{r.title}**",
            "",
            f"Severity: `{r.severity}` · Autofix: {'yes' if r.fixable else 'no'}",
            "",
            r.rationale,
            "",
            "Bad:",
            "",
            "```yaml",
            r.bad,
            "```",
            "",
            "Good:",
            "",
            "```yaml",
            r.good,
            "```",
            "",
        ]
    out += [
        "## Corpus findings",
        "",
        f"Per-rule counts of `{CORPUS_COMMAND}` (run from the project directory), "
        "each reviewed for false positives and pinned by `tests/rules/test_corpus_counts.py`.",
        "",
    ]
    if corpus:
        out += ["| rule | findings | review |", "| --- | ---: | --- |"]
        for rid in sorted(corpus):
            count, note = corpus[rid]
            out.append(f"| {rid} | {count} | {_cell(note)} |")
        out += [
            "",
            f"Total: {sum(c for c, _ in corpus.values())}. Rules not listed find nothing on the corpus.",
            "",
        ]
    else:
        out += ["Not yet counted.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(rules_reference())
