"""``homeops migrate``: move a legacy (Bitty-pattern) app into the modern (Chongus) pattern.

A pure function of the repository: it renders the old cluster to find the app's Flux Kustomizations,
copies the app's tree to ``<apps_dir>/NEW/NS/APP`` and converts what the modern pattern forbids
(Ingress, central HelmRepositories, SOPS Secrets, substitution from SOPS) into what it asks for
(HTTPRoutes on the internal gateway, one OCIRepository per app, ExternalSecrets on the profile's
store, components). The result is a list of ``FileEdit`` values and the manual steps a person still
has to do; nothing is written here, and secret values are never read.

The steps, in the order :func:`plan_migration` runs them (``pipeline``):

- ``find``: render the old cluster, locate the app's Flux Kustomizations and directory, refuse what
  would overwrite the new cluster's copy or uncommitted work;
- ``tree``: map the app's files, and what they borrow from outside the app, into the new directory;
- conversions, each on the copied texts: ``secrets`` (SOPS Secrets -> ExternalSecrets), ``to_helm``
  (asked: a Deployment -> an app-template HelmRelease), ``routes`` (Ingress / ingress values ->
  HTTPRoute / route values), ``sources`` (HelmRepository chart -> the app's own OCIRepository);
- ``kustomizations`` (the new ``ks.yaml``), ``volsync`` (the backup component and the data to move),
  ``variables`` (substitution from SOPS -> written values or an ``APP-vars`` ExternalSecret);
- ``images``: pin what has no digest, or say so;
- ``register``: list the app in the new cluster, and (asked) delete the old copy.
"""

from homeops.author.migrate.find import app_names, existing_target, find_old_app, old_cluster_apps, render_old
from homeops.author.migrate.images import ImageScan, ImageScanner
from homeops.author.migrate.model import MigrateOptions, MigrationPlan
from homeops.author.migrate.needs import inferred_note, render_old_cluster
from homeops.author.migrate.pipeline import plan_migration
from homeops.author.migrate.routes import ingress_to_routes
from homeops.author.migrate.secrets import doppler_key
from homeops.author.migrate.substitution import replace_variable, variables_in

__all__ = [
    "ImageScan",
    "ImageScanner",
    "MigrateOptions",
    "MigrationPlan",
    "app_names",
    "doppler_key",
    "existing_target",
    "find_old_app",
    "inferred_note",
    "ingress_to_routes",
    "old_cluster_apps",
    "plan_migration",
    "render_old",
    "render_old_cluster",
    "replace_variable",
    "variables_in",
]
