"""docs/rules.md and the reviewed corpus findings it lists (test scaffolding, not shipped).

``CORPUS_FINDINGS`` holds the reviewed per-rule finding counts on the shared corpus, pinned by
``tests/rules/test_corpus_counts.py``. A change in a rule or in the render that moves a count must be
reviewed again: update the count and why here, then regenerate the document with
``python tests/rules_doc.py > docs/rules.md`` (``tests/report/test_rules_docs.py`` compares).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from homeops.report.markdown import cell, rules_reference
from homeops.rules.engine import load_rules

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
        39,
        "True: tags without digests (minecraft, owncast, paperless, pocket-id, cloudflared, echo-server, "
        "prompp) and chart values that override only image.repository (node-exporter, rook-ceph, "
        "external-secrets x3), which leaves the chart's mutable default tag; 20 are the rcon CronJobs "
        "of the four minecraft apps; 2 are operators' custom resources (the CloudNativePG Cluster's "
        "imageName, the EnvoyProxy's envoy container image).",
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
        2,
        "True per the convention (one lowercase word): cert-manager and system-controllers (upstream "
        "names, so a profile allowlist may be wanted); rook-ceph and external-secrets are names the "
        "document itself uses, no longer flagged.",
    ),
    "HO025": (
        2,
        "True: atuin and graphite-exporter mount a ConfigMap/Secret without the Reloader annotation "
        "(autofixable).",
    ),
    "HO026": (
        86,
        "True: about three per container (runAsNonRoot, allowPrivilegeEscalation, readOnlyRootFilesystem) "
        "over the app-template apps and the minecraft CronJobs; owncast sets readOnlyRootFilesystem: false "
        "explicitly. pocket-id (runAsUser: ${APP_UID}, substituted to a number) and bluesky's main container "
        "(runAsUser 1000) run as non-root users and are no longer asked for runAsNonRoot too; bluesky's "
        "pdsadmin sidecar is.",
    ),
    "HO028": (
        1,
        "True (info): pocket-id's route parentRef envoy-internal has no sectionName; the gateway's http "
        "listener admits routes of namespace network only (allowedRoutes from Same), so today it attaches "
        "to https alone (autofixable).",
    ),
    "HO030": (
        33,
        "True (info, by design): every app Kustomization rendered in the deprecated bitty cluster.",
    ),
    # HO101 (was 1): chongus-old's flux Kustomization uses the upstream flux-manifests OCIRepository, now external.
    "HO103": (
        6,
        "True, one per (cluster, variable): ${CLUSTER_NAME} of bitty (53 Flux Kustomization paths) and "
        "chongus-old (6), whose only value is in the SOPS Secret cluster-secrets (warnings: the paths "
        "admit only bitty / chongus, which the findings suggest for .homeops.yaml vars); the volsync "
        "component's ${CLUSTER_NAME} in chongus (11 uses), which nothing there defines (error, a real "
        "bug: the restic path loses its cluster segment); minecraft-vanilla's ${SECRET_DOMAIN} (error, "
        "a bitty leftover); cloudflared's two come from the Secret its own ExternalSecret makes (info).",
    ),
    "HO104": (
        2,
        "True: chongus-old's cloudnative-pg and keycloak depend on external-secrets-stores, which that "
        "cluster does not define.",
    ),
    # HO108 (was 2): chongus-old's cluster-secrets is written in clusters/chongus-old/flux/vars, which no
    # Kustomization applies: applied outside Flux (bootstrap), so the cluster has it; its variables are
    # HO103 warnings that say so.
    "HO111": (
        12,
        "True: Flux's generated kustomization for ./cluster-apps/chongus descends into "
        "flux-system/flux-operator (no kustomization.yaml there), so cluster-apps applies the 11 objects of "
        "app/ and instance/ that the flux-operator and flux-instance Kustomizations also apply; and "
        "minecraft-cpw's externalsecret.yaml is named minecraft-sf5 (a copy-paste bug).",
    ),
}
"""Rule id → (findings on the corpus, review note). Pinned by ``tests/rules/test_corpus_counts.py``."""

GENERATED_NOTE = (
    "<!-- Generated from the rule registry by `python tests/rules_doc.py > docs/rules.md`;"
    " do not edit by hand (tests/report/test_rules_docs.py compares). -->"
)


def corpus_section(corpus: Mapping[str, tuple[int, str]]) -> str:
    """The "Corpus findings" chapter: per-rule counts on the corpus with their review notes."""
    out = [
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
            out.append(f"| {rid} | {count} | {cell(note)} |")
        out += [
            "",
            f"Total: {sum(c for c, _ in corpus.values())}. Rules not listed find nothing on the corpus.",
            "",
        ]
    else:
        out += ["Not yet counted.", ""]
    return "\n".join(out)


def rules_doc(corpus: Mapping[str, tuple[int, str]] = CORPUS_FINDINGS) -> str:
    """The text of ``docs/rules.md``: every registered rule, then the reviewed corpus findings."""
    return rules_reference(load_rules(), note=GENERATED_NOTE) + "\n" + corpus_section(corpus)


if __name__ == "__main__":
    sys.stdout.write(rules_doc())
