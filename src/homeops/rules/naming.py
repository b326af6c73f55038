"""Rule HO022: names off the document's conventions (apps kebab-case, namespaces one word, variables
SCREAMING_SNAKE_CASE), in modern clusters."""

from __future__ import annotations

from collections.abc import Iterable

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.core.yamlio import key_line
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import app_dirs, modern_renders, namespace_kustomization


@rule(
    codes.NAMING,
    rationale="""
The context document's "Naming Conventions": applications are kebab-case (`paperless-ngx`),
namespaces a single lowercase word (`default`, `observability`, `system`), substitution variables
SCREAMING_SNAKE_CASE (`APP`, `VOLSYNC_CAPACITY`). Consistent names keep paths, Flux Kustomization
names and `${VARS}` predictable. Checked in modern clusters: app directory names, namespace
directory names (and their kustomization's `namespace:`), and `postBuild.substitute` keys. The
namespaces Kubernetes and Flux impose (`kube-system`, `flux-system`, ...) are exempt.
""",
    bad="""
cluster-apps/chongus/home-automation/Home_Assistant/ks.yaml
  postBuild:
    substitute:
      volsyncCapacity: 5Gi
""",
    good="""
cluster-apps/chongus/home/home-assistant/ks.yaml
  postBuild:
    substitute:
      VOLSYNC_CAPACITY: 5Gi
""",
)
def check_naming(ctx: RuleContext) -> Iterable[Finding]:
    seen_ns: set[str] = set()
    for app in app_dirs(ctx):
        if not ctx.profile.is_app_name(app.name):
            line = key_line(app.ks_docs[0], "metadata", "name") if app.ks_docs else None
            file = app.ks_file if app.ks_docs else app.path
            yield finding(
                codes.NAMING,
                f"app directory '{app.name}' is not kebab-case (lowercase words joined by '-')",
                file=file,
                line=line,
                cluster=app.cluster,
            )
        if app.ns_path in seen_ns:
            continue
        seen_ns.add(app.ns_path)
        kfile = namespace_kustomization(ctx, app.ns_path)
        kust = ctx.files.load_one(kfile) if kfile is not None else None
        declared = kust.get("namespace") if isinstance(kust, dict) else None
        where_file = kfile.relative_to(ctx.root).as_posix() if kfile is not None else app.ns_path
        names = [app.namespace] + ([str(declared)] if declared and str(declared) != app.namespace else [])
        for name in names:
            if ctx.profile.is_namespace_name(name):
                continue
            line = key_line(kust, "namespace") if kust is not None else None
            yield finding(
                codes.NAMING,
                f"namespace '{name}' is not a single lowercase word",
                file=where_file,
                line=line or (1 if kfile is not None else None),
                cluster=app.cluster,
            )
    for render in modern_renders(ctx):
        for rk in render.rendered.values():
            substitute = (rk.ks.post_build or {}).get("substitute")
            if not isinstance(substitute, dict):
                continue
            for key in substitute:
                if not ctx.profile.is_variable_name(str(key)):
                    yield finding(
                        codes.NAMING,
                        f"substitution variable '{key}' of {rk.ks.key} is not SCREAMING_SNAKE_CASE",
                        res=rk.ks.resource,
                        line=key_line(substitute, str(key)) or rk.ks.resource.line,
                        cluster=render.cluster.name,
                    )
