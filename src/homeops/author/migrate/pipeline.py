"""The migration as a pipeline of steps over one :class:`Migration`: find the app, copy its tree,
convert what the modern pattern forbids, write its Flux Kustomizations and variables, pin images,
and turn the result into file edits."""

from __future__ import annotations

from pathlib import Path

from homeops.author.cluster import cluster_kustomizations
from homeops.author.migrate.find import (
    check_target,
    find_old_app,
    require_new_cluster,
    validate,
)
from homeops.author.migrate.images import ImageScanner, image_steps
from homeops.author.migrate.kustomizations import (
    KsSpec,
    depend_on_store,
    flux_ks,
    map_dependencies,
    new_ks_spec,
    old_ks_path,
    store_provider,
)
from homeops.author.migrate.model import MigrateOptions, Migration, MigrationPlan
from homeops.author.migrate.needs import inferred_note, render_old_cluster, require_rendered
from homeops.author.migrate.register import register_app, remove_source
from homeops.author.migrate.routes import convert_chart_ingress, convert_ingresses
from homeops.author.migrate.secrets import convert_secrets, drop_sops_leftovers
from homeops.author.migrate.sources import convert_charts
from homeops.author.migrate.to_helm import convert_to_helm
from homeops.author.migrate.tree import Tree, build_tree, fix_kustomizations
from homeops.author.migrate.variables import convert_variables
from homeops.author.migrate.volsync import component_required, move_data, replaced_templates, use_component
from homeops.core.edits import FileEdit
from homeops.core.profile import Profile
from homeops.flux.rendered import ClusterRender
from homeops.registry.reference import DigestResolver


def plan_migration(
    root: Path,
    profile: Profile,
    options: MigrateOptions,
    *,
    old_render: ClusterRender | None = None,
    resolve: DigestResolver | None = None,
    images: ImageScanner | None = None,
) -> MigrationPlan:
    """Every edit of one migration, or a HomeopsError (exit 2) before anything is written.

    ``images`` is the image layer's scanner (``homeops.images.pin.scan_text``): with it, images without
    a digest are pinned through ``resolve`` (when given) or listed as manual steps; without it, images
    are left as they are.
    """
    validate(options, profile)
    root = root.resolve()
    require_new_cluster(root, profile, options)
    inferred: dict[str, str] = {}
    if old_render is not None:
        render = old_render
    else:
        render, inferred = render_old_cluster(root, profile, options)
    old = find_old_app(root, profile, options, render)
    new_dir = f"{profile.apps_dir}/{options.new}/{options.namespace}/{options.app}"
    m = Migration(root, profile, options, old, MigrationPlan(old_dir=old.directory, new_dir=new_dir))
    if inferred:
        m.notes.append(inferred_note(options.old, inferred))
    require_rendered(m)
    exists = check_target(m)
    if exists is not None:
        m.notes.append(f"{exists}: only the old copy is removed")
        remove_source(root, m.plan, old, options)
        return m.plan
    paths = {ks.name: old_ks_path(ks, options, profile) for ks in old.kustomizations}
    tree = copy_app(m, paths)
    convert(m, tree)
    specs = kustomizations(m, tree, paths)
    if images is not None:
        image_steps(tree, images, resolve, m.steps, m.notes)  # last: after every conversion
    write(m, tree, specs)
    return m.plan


def copy_app(m: Migration, paths: dict[str, str]) -> Tree:
    """The app's tree mapped into the new app directory, with what the old cluster said about it."""
    tree = build_tree(m.root, m.old, m.new_dir, paths, replaced_templates(m.root, m.profile), m.notes)
    options = m.options
    for ks in m.old.kustomizations:
        if ks.target_namespace and ks.target_namespace != options.namespace:
            m.notes.append(
                f"{ks.name} deployed to namespace {ks.target_namespace} in {options.old}; it deploys "
                f"to {options.namespace} now"
            )
    return tree


def convert(m: Migration, tree: Tree) -> None:
    """What the modern pattern forbids, converted in the copied files: secrets, raw Deployments (asked),
    Ingresses and ingress values, chart sources; then the kustomization files follow the moves."""
    profile, options, render = m.profile, m.options, m.render
    convert_secrets(tree, profile, options.app, m.steps, m.notes)
    drop_sops_leftovers(tree, m.steps)
    if options.to_helm:
        single = len(m.old.kustomizations) == 1
        for ks in m.old.kustomizations:
            app = options.app if single else ks.name
            convert_to_helm(tree, profile, app, ks.name, render, m.steps, m.notes)
    convert_ingresses(tree, profile, options.namespace, render, options.external, m.steps, m.notes)
    convert_chart_ingress(tree, profile, options.external, m.steps, m.notes)
    convert_charts(tree, profile, render, options, m.steps, m.notes)
    fix_kustomizations(tree, m.steps)


def kustomizations(m: Migration, tree: Tree, paths: dict[str, str]) -> list[KsSpec]:
    """The new Flux Kustomizations: one per old one (with the volsync component where it replaces a
    backup), then the variables they substitute and the secret store they wait for."""
    root, profile = m.root, m.profile
    known = cluster_kustomizations(root, profile, m.options.new)
    required = component_required(root, profile, profile.volsync_component)
    store = store_provider(root, profile, known)
    specs: list[KsSpec] = []
    stateful = False
    for ks in m.old.kustomizations:
        ks_spec = new_ks_spec(m, tree, ks, paths[ks.name])
        if use_component(m, tree, ks.name, ks_spec, required):
            stateful = True
        if ks.spec.get("decryption"):
            m.notes.append(f"{ks.name}: SOPS decryption dropped (the app keeps no encrypted files)")
        map_dependencies(m, ks, ks_spec, known, store)
        specs.append(ks_spec)
    move_data(m, tree, specs, known, stateful)
    needed = convert_variables(m, tree, specs, store)
    if needed is not None:
        depend_on_store(specs, tree, needed)
    return specs


def write(m: Migration, tree: Tree, specs: list[KsSpec]) -> None:
    """The plan's file edits: ks.yaml, every file of the new app, its registration, and (asked) the
    old copy removed."""
    options = m.options
    ks_text = "".join(flux_ks(m.profile, options.new, options.namespace, s) for s in specs)
    m.plan.kustomizations = [s.name for s in specs]
    m.plan.edits.append(FileEdit(f"{m.new_dir}/ks.yaml", ks_text))
    for path in sorted(tree.files):
        m.plan.edits.append(FileEdit(path, tree.files[path]))
    register_app(m)
    if options.remove_source:
        remove_source(m.root, m.plan, m.old, options)
    else:
        m.notes.append(
            f"after testing in {options.new}: homeops migrate {options.namespace}/{options.app} "
            f"--from {options.old} --to {options.new} --remove-source --write"
        )
