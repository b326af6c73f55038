"""The conventions a repository itself follows, read from its render (``homeops profile infer``).

The default profile is the context document's. A repository without ``.homeops.yaml`` is checked
against the conventions it shows instead, so that a rule whose premise it does not share stays
quiet rather than calling its own choices errors:

- secret stores: the ClusterSecretStores/SecretStores it defines, the one its ExternalSecrets use most
  first (HO023 accepts all of them);
- backups: the components its apps take their PersistentVolumeClaims from together with backup
  objects (Volsync ReplicationSources, Kopia snapshot policies, ...), and the variables the Volsync
  component needs without a default (HO024);
- gateways: its Gateways, their listeners and what each listener's ``allowedRoutes`` admits (HO028
  states the real risk from them); no Gateway API at all turns HO006, HO013 and HO028 off, as does a
  repository that never marks routes internet-facing for HO013;
- the domain its routes use, the app-template chart and version it deploys (``new app``), whether its
  chart OCIRepositories select the chart layer (HO027);
- its namespaces (HO022 does not flag names it chose), its script locations (HO005).

Deprecated clusters (the profile's ``deprecated_clusters``) are left out: their ways are what the
repository is moving away from.

Each inferred key carries where it was read, written as a comment by :meth:`InferredProfile.text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from homeops.core.files import FileCache
from homeops.core.profile import DEFAULT, Profile
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.resource import Resource
from homeops.rules.conventions import backups, charts, gateways, namespaces, scripts, secrets, security
from homeops.rules.conventions.model import InferredProfile


def _objects(renders: Iterable[ClusterRender]) -> Iterator[Resource]:
    for render in renders:
        for _rk, res in render.objects():
            yield res


def infer_profile(
    root: Path, renders: list[ClusterRender], files: FileCache, repo_files: list[str], base: Profile = DEFAULT
) -> InferredProfile:
    """What the rendered repository shows of each convention: its modern clusters' (a deprecated
    cluster's ways are what the repository moves away from), or every cluster when all are deprecated."""
    modern = [r for r in renders if r.cluster.name not in base.deprecated_clusters]
    renders = modern or renders
    objects = list(_objects(renders))
    result = InferredProfile()
    for part in (
        secrets.secret_stores(objects),
        backups.backups(renders, root, files, repo_files),
        gateways.gateways(objects, base.internet_facing_annotation, files, repo_files),
        gateways.domain(objects),
        charts.app_template(objects),
        charts.chart_sources(objects),
        charts.layer_selectors(objects),
        namespaces.namespaces(renders, base),
        namespaces.privileged_namespaces(objects, base),
        security.hardening(objects),
        scripts.scripts(files, repo_files),
    ):
        result.conventions.extend(part)
    keys = {c.key for c in result.conventions}
    if "domain" not in keys:
        result.notes.append("domain: no route names a literal host (templated ones are skipped)")
    if "secret_store" not in keys:
        result.notes.append("secret store: no ExternalSecret or store in the render")
    if "backup_components" not in keys:
        result.notes.append("backups: no component gives apps their claims along with backup objects")
    return result
