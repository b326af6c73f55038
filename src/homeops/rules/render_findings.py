"""Codes HO101–HO122: what rendering itself finds, documented as rules.

The Flux render (``homeops.flux.render``) produces these findings while it walks a cluster, the
HelmRelease expansion (``homeops.flux.helm_expand``) those of charts, and ``homeops diff`` the one of
a revision it cannot render at all; the rules here only give them a rationale and examples so that
``homeops rules`` lists them, ``homeops rules HO103`` explains one, SARIF describes them and
``.homeops.yaml`` can tune them. Their checks return nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.rules.base import RuleContext, rule

_DOC = "home-ops-context.md"


def _produced_by_render(_ctx: RuleContext) -> Iterable[Finding]:
    """Render findings come from the render; there is nothing more to check."""
    return ()


rule(
    codes.KS_BUILD_FAILED,
    rationale=f"""
kustomize-controller builds every Flux Kustomization's path before applying it; when the build fails
(a missing resource, a malformed document, a file Flux's generated kustomization cannot decode), the
whole Kustomization and everything it would apply stays unreconciled. {_DOC} ("Testing and
Validation": dry-run all Kustomizations before committing) asks for this to be caught before a push.
""",
    bad="""
# cluster-apps/chongus/default/echo/app/kustomization.yaml
resources:
  - helmrelease.yaml
  - ocirepository.yaml   # the file does not exist
""",
    good="""
# cluster-apps/chongus/default/echo/app/kustomization.yaml
resources:
  - helmrelease.yaml
""",
)(_produced_by_render)

rule(
    codes.KS_PATH_MISSING,
    rationale=f"""
A Flux Kustomization whose `spec.path` is missing from the source fails with "kustomization path not
found", and nothing below it is applied. Paths are relative to the repository root ({_DOC},
"Application Structure": `ks.yaml` points at `./cluster-apps/<cluster>/<namespace>/<app>/app`).
""",
    bad="""
spec:
  path: ./cluster-apps/chongus/default/echo/ap
""",
    good="""
spec:
  path: ./cluster-apps/chongus/default/echo/app
""",
)(_produced_by_render)

rule(
    codes.VARIABLE_UNSET,
    rationale=f"""
Flux substitutes `${{VAR}}` from `postBuild.substitute` and `substituteFrom`; a variable without a value
and without a default is replaced by an empty string (or fails the reconciliation with strict
substitution), which silently breaks hostnames, paths and claims. {_DOC} ("Volsync Backup Pattern")
relies on `APP` and `VOLSYNC_CAPACITY` being substituted. One finding per cluster and variable, with
the number of uses, the first one, and why the render has no value: nothing holds it (error); its
source is a SOPS-encrypted Secret, an object the repository writes but applies outside Flux (at
bootstrap: no HO108 then), or a substituteFrom object missing from the render (warning: only the
cluster can read it; homeops never decrypts); it comes from a Secret an ExternalSecret of the
repository makes (info: the cluster will have it). A variable left in a Flux Kustomization's
`spec.path` stops it from rendering; when the repository's directories admit one value only, the
finding names it. Values only the cluster has are given once per cluster in `.homeops.yaml`
(`vars: {{bitty: {{CLUSTER_NAME: bitty}}}}`), with `--vars-file FILE` or `--var [CLUSTER:]NAME=VALUE`;
`--placeholders` renders the rest as `..PLACEHOLDER_NAME..`.
""",
    bad="""
spec:
  components: [../../../components/volsync]
  postBuild:
    substitute:
      APP: linkding          # VOLSYNC_CAPACITY is used by the component but never set
""",
    good="""
spec:
  components: [../../../components/volsync]
  postBuild:
    substitute:
      APP: linkding
      VOLSYNC_CAPACITY: 5Gi
""",
)(_produced_by_render)

rule(
    codes.DEPENDENCY_MISSING,
    rationale=f"""
kustomize-controller will not reconcile a Kustomization until every `dependsOn` entry is ready; a
target that does not exist keeps it waiting forever ("dependency not found"). {_DOC} ("Key
Principles": Flux Kustomization dependencies for ordering) makes dependencies the ordering tool, so a
wrong name blocks the app.
""",
    bad="""
spec:
  dependsOn:
    - name: cloudnative-pgg
      namespace: database
""",
    good="""
spec:
  dependsOn:
    - name: cloudnative-pg
      namespace: database
""",
)(_produced_by_render)

rule(
    codes.DEPENDENCY_CYCLE,
    rationale=f"""
A dependency cycle means no Kustomization of the cycle ever becomes ready, so none is reconciled.
{_DOC} ("Key Principles": Flux Kustomization dependencies for ordering) expects an acyclic order.
""",
    bad="""
# database/postgres/ks.yaml
spec:
  dependsOn: [{name: gatus, namespace: observability}]
# observability/gatus/ks.yaml
spec:
  dependsOn: [{name: postgres, namespace: database}]
""",
    good="""
# observability/gatus/ks.yaml
spec:
  dependsOn: [{name: postgres, namespace: database}]
""",
)(_produced_by_render)

rule(
    codes.KS_SOURCE_UNKNOWN,
    rationale=f"""
`spec.sourceRef` must name a GitRepository or OCIRepository that exists; otherwise the Kustomization
reports "source not found" and is never applied. In this repository the local tree is the
`flux-system` GitRepository ({_DOC}, "Repository Structure"); sources that point elsewhere cannot be
rendered offline and are reported as external.
""",
    bad="""
spec:
  sourceRef:
    kind: GitRepository
    name: home-opss
""",
    good="""
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
""",
)(_produced_by_render)

rule(
    codes.KS_PATH_OUTSIDE,
    rationale="""
kustomize-controller confines a Kustomization to its source artifact; a `spec.path` that climbs out of
it (`../`) fails, and homeops refuses to read outside the repository.
""",
    bad="""
spec:
  path: ../other-repo/apps
""",
    good="""
spec:
  path: ./cluster-apps/chongus/default/echo/app
""",
)(_produced_by_render)

rule(
    codes.OUTSIDE_ROOT,
    rationale="""
kustomize-controller builds each Kustomization on a filesystem confined to its source artifact: a
resource, patch, component or generator file that resolves outside it (an absolute path, `../` climbing
out, a symlink to elsewhere) fails the build. homeops refuses to read it at all: rendering runs in CI on
pull requests, and a file outside the repository (`/proc/self/environ`, the runner's files) must never
reach a PR comment. The finding names the reference and where it resolves, never the content.
""",
    bad="""
# cluster-apps/chongus/default/echo/app/kustomization.yaml
configMapGenerator:
  - name: env
    files: [environ=/proc/self/environ]
""",
    good="""
configMapGenerator:
  - name: env
    files: [config/app.env]   # a file of the repository
""",
)(_produced_by_render)

rule(
    codes.INPUT_REFUSED,
    rationale="""
homeops bounds the work one run does on a repository it does not trust (see SECURITY.md): a file over
the size limit, a YAML file with too many documents, an alias bomb, a document nested too deeply, an
integer of thousands of digits, or a path that is a FIFO or a device (`/dev/zero`) is refused with one
line, and the Kustomization that reads it is not rendered. The limits can be tuned under `limits:` in
`.homeops.yaml`, up to a ceiling.
""",
    bad="""
# cluster-apps/chongus/default/echo/app/kustomization.yaml
resources:
  - zero.yaml   # a symlink to /dev/zero
""",
    good="""
resources:
  - deployment.yaml
""",
)(_produced_by_render)

rule(
    codes.SUBSTITUTE_FROM_MISSING,
    rationale=f"""
postBuild `substituteFrom` entries must exist when the Kustomization reconciles, unless marked
`optional: true`; a missing one fails the reconciliation. {_DOC} ("Technology Stack": postBuild
substitution from ExternalSecrets when needed) expects the Secret to come from an ExternalSecret that
is part of the render, or the reference to be optional. When a Kustomization homeops cannot render
offline (a remote resource without `--remote`) may apply the object (it has no `targetNamespace`, or
that namespace), the finding is a warning naming it: Flux renders it, the render cannot tell.
""",
    bad="""
spec:
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cloudflared-substitution-secret   # produced by nothing in the repository
""",
    good="""
spec:
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cloudflared-substitution-secret
        optional: true   # or render the ExternalSecret that creates it
""",
)(_produced_by_render)

rule(
    codes.KS_DUPLICATE,
    rationale="""
Two Flux Kustomizations with the same namespace and name are one object in the cluster: whichever is
applied last wins, and the other's path is silently never reconciled.
""",
    bad="""
# cluster-apps/chongus/default/echo/ks.yaml and cluster-apps/chongus/network/echo/ks.yaml
metadata:
  name: echo
  namespace: flux-system
""",
    good="""
metadata:
  name: echo            # one definition per name and namespace
  namespace: flux-system
""",
)(_produced_by_render)

rule(
    codes.VARIABLE_NAME_INVALID,
    rationale=f"""
Flux accepts substitution variable names matching `^[_a-zA-Z][_a-zA-Z0-9]*$` and rejects the whole
substitution otherwise. {_DOC} ("Naming Conventions") uses SCREAMING_SNAKE_CASE names.
""",
    bad="""
spec:
  postBuild:
    substitute:
      volsync-capacity: 5Gi
""",
    good="""
spec:
  postBuild:
    substitute:
      VOLSYNC_CAPACITY: 5Gi
""",
)(_produced_by_render)

rule(
    codes.APPLIED_TWICE,
    rationale=f"""
When two Flux Kustomizations apply the same object, each overwrites the other on every reconciliation
and garbage collection (prune) of one deletes what the other still wants. {_DOC} ("Component Usage")
shares objects through components, which give each app its own copy, not through one object listed twice.
""",
    bad="""
# cluster-apps/chongus/default/kustomization.yaml and cluster-apps/chongus/media/kustomization.yaml
resources:
  - ../shared/configmap.yaml   # the same ConfigMap name and namespace in both
""",
    good="""
# one Kustomization applies the object; the others dependsOn it
resources:
  - ./configmap.yaml
""",
)(_produced_by_render)

rule(
    codes.REVISION_UNRENDERABLE,
    rationale=f"""
`homeops diff` renders both revisions before it compares them. When one side cannot be rendered at
all (the revision cannot be checked out, its `.homeops.yaml` is invalid, the cluster is not there, or
a file the whole cluster needs is malformed), nothing of that cluster can be compared: the diff
reports the failure for that side instead of showing every object as added or removed.
{_DOC} ("Testing and Validation", "Flux-local diff") reviews a rendered diff of every pull request.
""",
    bad="""
# cluster-apps/chongus/network/echo/app/helmrelease.yaml at the head revision
spec:
  values: [broken
""",
    good="""
# cluster-apps/chongus/network/echo/app/helmrelease.yaml at the head revision
spec:
  values:
    replicas: 2
""",
)(_produced_by_render)


rule(
    codes.CHART_SOURCE_UNAVAILABLE,
    rationale=f"""
With `--enable-helm`, homeops fetches each HelmRelease's chart as source-controller would: from the
OCIRepository its `chartRef` names (the pattern of {_DOC}, "OCIRepository Pattern"), a HelmRepository,
or a chart kept in this repository. A chart that cannot be fetched (unknown source, registry unreachable,
tag missing, or not in the cache with `--offline`) leaves the release unrendered: the rules cannot see
what it would deploy.
""",
    bad="""
chartRef:
  kind: OCIRepository
  name: grafana          # no OCIRepository named grafana in the release's namespace
""",
    good="""
chartRef:
  kind: OCIRepository
  name: grafana          # ocirepository.yaml in the same app defines it
""",
)(_produced_by_render)

rule(
    codes.CHART_RENDER_FAILED,
    rationale=f"""
Helm's template engine refused the chart with these values (a `required` value missing, a type error in
values, a post-renderer patch that matches nothing). helm-controller would fail the same way and the
release would never be installed or upgraded; {_DOC} ("HelmRelease Failures") asks to check values
rendering with `helm template` before committing.
""",
    bad="""
values:
  controllers:
    app:
      containers:
        app:
          image:
            tag: 1.0.0   # repository missing: the chart's template fails
""",
    good="""
values:
  controllers:
    app:
      containers:
        app:
          image:
            repository: ghcr.io/example/app
            tag: 1.0.0@sha256:...
""",
)(_produced_by_render)

rule(
    codes.RESOURCESET_FAILED,
    rationale="""
flux-operator builds a ResourceSet's objects by running each template of `spec.resources`,
`spec.resourcesTemplate` or `spec.steps` once per input set (its `inputs`, and what the
ResourceSetInputProviders of `inputsFrom` export). A template that does not parse or run, an invalid spec
(steps together with resources) or more than 10000 permutations fail the ResourceSet in the cluster: none
of its objects is applied. homeops renders the generated objects with the Kustomization that applies the
ResourceSet, and reports the failure at the ResourceSet's line. Its `dependsOn` targets must exist in the
cluster too (reported as HO104).
""",
    bad="""
resources:
  - apiVersion: v1
    kind: Namespace
    metadata:
      name: << inputs.tenant   # the action is never closed
""",
    good="""
resources:
  - apiVersion: v1
    kind: Namespace
    metadata:
      name: << inputs.tenant >>
""",
)(_produced_by_render)

rule(
    codes.ROOT_SOURCE_FOREIGN,
    rationale="""
A GitRepository is this repository when its URL is one of the working tree's Git remotes (or nothing
says otherwise); one with another URL is rendered as what it is, another repository that homeops does
not fetch. When every root Flux Kustomization of a cluster applies such a source, nothing of the working
tree is rendered and every check passes on an empty cluster: usually a fork, a mirror or a clone whose
`origin` is not the URL the cluster syncs. Map the source to the tree (`--sources NAME=.`) or fix the
remote; a cluster that really syncs another repository (a fleet repository) can ignore the finding.
""",
    bad="""
# git remote: https://github.com/me/home-ops (a fork)
kind: GitRepository
metadata:
  name: home-ops
spec:
  url: https://github.com/upstream/home-ops
""",
    good="""
# homeops check --sources home-ops=.   (or: git remote set-url origin <the URL the cluster syncs>)
""",
)(_produced_by_render)

rule(
    codes.VALUES_IN_CLUSTER,
    rationale=f"""
A `valuesFrom` ConfigMap or Secret that is SOPS-encrypted or made by an ExternalSecret exists only in the
live cluster, so the release is rendered without those values. {_DOC} ("Secrets Management") keeps
secrets out of Git on purpose; this note says the offline render is incomplete there.
""",
    bad="""
valuesFrom:
  - kind: Secret
    name: grafana-admin    # made by an ExternalSecret in the cluster
""",
    good="""
# expected for secrets: the rest of the values still render; nothing to change
""",
)(_produced_by_render)
