"""``Workspace``: one repository as homeops sees it, and every operation on it.

The one sequence every surface needs (find the clusters, render each as Flux would, expand
HelmReleases when asked, then check, diff, list or edit) lives here once. The CLI, the review page,
the MCP server and users' scripts call these methods and format the typed results themselves.
Renders are kept for the life of the workspace, so ``check`` after ``render`` renders nothing again;
methods that write drop them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from homeops.api import builds, inventory
from homeops.api.repository import find_root
from homeops.api.results import CheckResult, ClusterInfo, KustomizationInfo, ReleaseRendering, Rendering
from homeops.api.values import check_scopes
from homeops.core import git, journal, limits
from homeops.core.collector import collecting_less
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.profile import DEFAULT, PROFILE_FILE, Profile, load_profile
from homeops.core.variables import ClusterVars
from homeops.flux.cluster import Cluster, discover_clusters, resolve_cluster
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender
from homeops.flux.settings import RenderSettings

if TYPE_CHECKING:  # annotations only: what a method needs beyond rendering loads when it runs (start-up)
    from homeops.api.apps import AppInfo
    from homeops.api.context import DocsResult
    from homeops.api.edit_results import EditResult, FixResult, MigrationBatch, PinResult
    from homeops.api.listings import HelmReleaseInfo, ImageInfo, SourceInfo
    from homeops.api.status import TestResult
    from homeops.author.migrate import MigrateOptions
    from homeops.author.new_app import AppOptions
    from homeops.context.model import ContextFacts
    from homeops.core.edits import FileEdit
    from homeops.diff.compare import DiffResult
    from homeops.registry.oci.client import RegistryClient
    from homeops.registry.reference import DigestResolver
    from homeops.rules.base import Rule
    from homeops.rules.conventions.model import InferredProfile

Progress = Callable[[str], None]
VERIFY_TIMEOUT = 10.0  # seconds per registry request of diff --verify-images


class Workspace:
    """A Flux repository: its profile (``.homeops.yaml`` over the context document's conventions),
    its clusters, and what Flux would apply to each.

    ``vars`` are values for postBuild variables that only the live cluster has (from SOPS- or
    ExternalSecret-made Secrets): ``{NAME: value}`` for every cluster, ``{cluster: {NAME: value}}``
    (``"*"`` for every cluster) per cluster, or a :class:`ClusterVars` of several layers; they go over
    the ``vars:`` of ``.homeops.yaml``. ``placeholders`` renders each variable still without a value as
    ``..PLACEHOLDER_NAME..``. ``offline`` keeps chart downloads to the cache.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        profile: Profile | None = None,
        vars: Mapping[str, str | Mapping[str, str]] | ClusterVars | None = None,
        placeholders: bool = False,
        offline: bool = False,
        settings: RenderSettings | None = None,
    ) -> None:
        self.root = find_root(root)
        self.settings = settings if settings is not None else RenderSettings()
        self._profile = profile  # the conventions in force (given, or read on first use)
        self._base: Profile | None = profile  # what renders use: .homeops.yaml over the document's
        self.profile_origin = "given" if profile is not None else ""
        self._inferred: InferredProfile | None = None
        if profile is not None:
            limits.configure(profile.limits)
        given = ClusterVars.of(vars)
        self.vars: ClusterVars = given.with_placeholders(True) if placeholders else given
        self.offline = offline
        self._scopes_checked = False
        self._files = FileCache(self.root)
        self._remote_urls: set[str] | None = None
        self._renders: dict[tuple[str, str, bool], ClusterRender] = {}
        self.notes: list[str] = journal.recover(self.root)
        """What opening the repository did: rolling back a write an interrupted homeops left."""

    def _writing(self, write: bool) -> AbstractContextManager[object]:
        """Read, plan and write under the repository's lock, all or nothing (when ``write``)."""
        return journal.transaction(self.root) if write else nullcontext()

    @property
    def profile(self) -> Profile:
        """The conventions in force, read on first use (a diff reads each revision's own instead):
        ``.homeops.yaml`` over the context document's, or, without ``.homeops.yaml``, the conventions
        the repository itself follows (``profile_origin`` says which: given, file, inferred)."""
        if self._profile is None:
            if (self.root / PROFILE_FILE).is_file():
                self._profile, self.profile_origin = self.base_profile, "file"
            else:
                self._profile = self.infer_profile().apply(self.base_profile)
                self.profile_origin = "inferred"
        return self._profile

    @property
    def keeps_results(self) -> bool:
        """May what this workspace derives be kept across runs (the persistent cache)? Not when values
        were given (``vars``: they may be the cluster's Secrets) or ``placeholders``: the renders' rule."""
        return not ClusterVars.of(self.vars)

    @property
    def base_profile(self) -> Profile:
        """``.homeops.yaml`` over the document's conventions: what finds and renders the clusters
        (inference changes no key a render reads)."""
        if self._base is None:
            self._base = load_profile(self.root)
            limits.configure(self._base.limits)  # the repository's limits, capped (SECURITY.md)
        return self._base

    @collecting_less
    def infer_profile(self, *, progress: Progress | None = None) -> InferredProfile:
        """The conventions the repository itself follows, read from every cluster's render
        (``homeops profile infer``), whether or not it has a ``.homeops.yaml``."""
        if self._inferred is None:
            from homeops.rules.base import repo_files  # start-up: the rules load when inferring
            from homeops.rules.conventions import infer_profile

            renders = [self._render(c, False, progress) for c in self._clusters(None, every=True)]
            self._inferred = infer_profile(self.root, renders, self._files, repo_files(self._files), DEFAULT)
        return self._inferred

    def authoring_profile(self) -> Profile:
        """What ``new app`` and ``migrate`` write by: the repository's own conventions (its domain, its
        app-template version, its secret store, ...) under the keys ``.homeops.yaml`` sets."""
        if self.profile_origin == "given":
            return self.profile
        return self.infer_profile().apply(self.base_profile)

    def write_profile(self, text: str) -> str:
        """Write ``.homeops.yaml`` (refused when it exists): its path relative to the root."""
        if (self.root / PROFILE_FILE).exists():
            raise HomeopsError(
                f"{PROFILE_FILE} already exists",
                PROFILE_FILE,
                None,
                f"merge by hand: homeops profile infer > /tmp/inferred.yaml, or remove {PROFILE_FILE}",
            )
        from homeops.core.edits import (
            FileEdit,
            apply_edits,
        )  # start-up: the edit machinery loads when a method edits

        apply_edits(self.root, [FileEdit(PROFILE_FILE, text)])
        self._profile = self._base = None
        self.profile_origin = ""
        return PROFILE_FILE

    # ------------------------------------------------------------------------------ clusters
    def clusters(self) -> list[ClusterInfo]:
        """Every cluster of the repository (``clusters/<name>/...``, ``.homeops.yaml``, FluxInstance syncs)."""
        return [ClusterInfo(c.name, c.directory) for c in discover_clusters(self.root, self.base_profile)]

    def _clusters(self, cluster: str | None, *, every: bool) -> list[Cluster]:
        if not self._scopes_checked:  # values given for a cluster the repository does not have
            check_scopes(self.root, self.vars, self.base_profile)
            self._scopes_checked = True
        if cluster is None and every:
            return discover_clusters(self.root, self.base_profile)
        return [resolve_cluster(self.root, self.base_profile, cluster)]

    # ------------------------------------------------------------------------------ render
    def _render(self, cluster: Cluster, helm: bool, progress: Progress | None) -> ClusterRender:
        key = (cluster.name, cluster.directory, helm)
        if key not in self._renders:
            plain = self._renders.get((cluster.name, cluster.directory, False))
            if plain is None or helm:
                plain = render_cluster(
                    self.root,
                    cluster,
                    local_urls=self._local_urls(),
                    profile=self.base_profile,
                    cli_vars=self.vars,
                    files=self._files,
                    progress=progress,
                    settings=self.settings,
                )
            if helm:
                from homeops.flux import helm_expand  # start-up: Helm only with --enable-helm

                helm_expand.expand(
                    self.root, plain, offline=self.offline, profile=self.base_profile, settings=self.settings
                )
            self._renders[key] = plain
        return self._renders[key]

    def _local_urls(self) -> set[str]:
        """The remotes that make a GitRepository this repository: asked of Git once per workspace."""
        if self._remote_urls is None:
            self._remote_urls = git.remote_urls(self.root)
        return self._remote_urls

    def _engine_renders(
        self, cluster: str | None, *, helm: bool = False, every: bool = True, progress: Progress | None = None
    ) -> list[ClusterRender]:
        return [self._render(c, helm, progress) for c in self._clusters(cluster, every=every)]

    @collecting_less
    def render(
        self, cluster: str | None = None, *, helm: bool = False, progress: Progress | None = None
    ) -> Rendering:
        """One cluster (the only one when ``cluster`` is None) rendered as Flux would apply it."""
        result = self._engine_renders(cluster, helm=helm, every=False, progress=progress)[0]
        return inventory.rendering(result)

    @collecting_less
    def expand_releases(self, rendering: Rendering, kustomizations: Iterable[str] | None = None) -> Rendering:
        """``rendering`` with the HelmReleases of the named Flux Kustomizations (``namespace/name``; all
        when None) expanded into the objects their charts render (downloads charts unless ``offline``)."""
        engine = rendering.engine
        wanted = None if kustomizations is None else set(kustomizations)
        selected = [rk for key, rk in engine.rendered.items() if wanted is None or rk.ks.key in wanted]
        from homeops.flux import helm_expand  # start-up: Helm only with --enable-helm

        helm_expand.expand(
            self.root,
            engine,
            selected,
            offline=self.offline,
            profile=self.base_profile,
            settings=self.settings,
        )
        return inventory.rendering(engine)

    @collecting_less
    def render_all(
        self, cluster: str | None = None, *, helm: bool = False, progress: Progress | None = None
    ) -> list[Rendering]:
        """Every cluster (or the one named) rendered."""
        return [inventory.rendering(r) for r in self._engine_renders(cluster, helm=helm, progress=progress)]

    @collecting_less
    def apps(self, cluster: str | None = None) -> list[AppInfo]:
        """Every app (a Flux Kustomization that deploys something) with its namespace, charts, images,
        routes, secret sources and backups, every cluster or the one named."""
        from homeops.api.apps import apps as apps_of  # start-up: only when apps are asked for

        return [row for r in self._engine_renders(cluster) for row in apps_of(r, self.profile)]

    def head_revision(self) -> str | None:
        """The commit ``HEAD`` names, None outside a Git repository (or before the first commit)."""
        try:
            return git.resolve_revision(git.toplevel(self.root), "HEAD")
        except HomeopsError:
            return None

    @collecting_less
    def kustomizations(self, cluster: str | None = None) -> list[KustomizationInfo]:
        return [row for r in self._engine_renders(cluster) for row in inventory.kustomizations(r)]

    @collecting_less
    def helmreleases(self, cluster: str | None = None) -> list[HelmReleaseInfo]:
        from homeops.api import listings  # start-up: loaded when listing

        return [row for r in self._engine_renders(cluster) for row in listings.helmreleases(r)]

    @collecting_less
    def sources(self, cluster: str | None = None) -> list[SourceInfo]:
        from homeops.api import listings  # start-up: loaded when listing

        return [row for r in self._engine_renders(cluster) for row in listings.sources(r)]

    @collecting_less
    def image_uses(self, cluster: str | None = None) -> list[ImageInfo]:
        """Every image use, per cluster in render order (``get images``)."""
        from homeops.api import listings  # start-up: loaded when listing

        return [row for r in self._engine_renders(cluster) for row in listings.image_uses(r)]

    @collecting_less
    def images(self, cluster: str | None = None, *, helm: bool = False) -> list[ImageInfo]:
        """Every image the clusters run, deduplicated, with file:line and pin status (``images list``)."""
        from homeops.api import listings  # start-up: loaded when listing

        return listings.images(self._engine_renders(cluster, helm=helm))

    @collecting_less
    def render_findings(self, cluster: str | None = None, *, helm: bool = False) -> list[Finding]:
        """Problems of the renders themselves (HO1xx), every cluster or the one named."""
        return [f for r in self._engine_renders(cluster, helm=helm) for f in r.findings]

    def build_release(
        self, name: str, namespace: str | None = None, *, cluster: str | None = None
    ) -> ReleaseRendering:
        """One HelmRelease's chart rendered with its values (downloads the chart unless ``offline``)."""
        result = self._engine_renders(cluster, every=False)[0]
        return builds.build_release(
            self.root,
            result,
            name,
            namespace,
            offline=self.offline,
            profile=self.base_profile,
            settings=self.settings,
        )

    def kustomize(
        self, directory: str | Path, *, load_restrictor: str = "rootOnly"
    ) -> list[dict[str, object]]:
        """``kustomize build DIR`` by the native engine: the objects, in kustomize's output order."""
        return builds.kustomize_directory(self.root, directory, load_restrictor)

    # ------------------------------------------------------------------------------ check and fix
    def rules(self) -> dict[str, Rule]:
        """Every rule, by id."""
        return list_rules()

    @collecting_less
    def check(
        self,
        *,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        cluster: str | None = None,
        helm: bool = False,
        progress: Progress | None = None,
        changed_from: str | None = None,
    ) -> CheckResult:
        """Findings of every rule (and of the render) on every cluster, or on the one named.

        ``changed_from`` (a revision, ``HEAD`` for ``check --changed``) lets Git vouch for the files
        unchanged since it: only the changed files are read again, what the others gave is taken from
        the cache (:mod:`homeops.core.changes`). Where a run before left the working tree's file stats
        (:mod:`homeops.flux.file_facts`), they vouch as a full check's do, for more files than Git's
        word covers and without its processes: Git is then asked only that the revision exists. The
        findings are those of a full check.
        """
        from homeops.rules.engine import run_checks  # start-up: the rules load when checking

        if changed_from is not None:
            from homeops.core import changes  # start-up: only for --changed
            from homeops.flux.file_facts import stats_kept

            if stats_kept(self._files):
                changes.revision(self.root, changed_from)  # an unknown revision is still an error
            else:
                self._files.known.update(changes.unchanged_since(self.root, changed_from).ids)
        renders = self._engine_renders(cluster, helm=helm, progress=progress)
        findings, _ctx = run_checks(
            self.root,
            self.profile,
            cluster=cluster,
            cli_vars=self.vars,
            select=list(select or []),
            ignore=list(ignore or []),
            renders=renders,
            files=self._files,
        )
        return CheckResult(findings, [ClusterInfo(r.cluster.name, r.cluster.directory) for r in renders])

    @collecting_less
    def fix(
        self,
        findings: Iterable[Finding] | None = None,
        *,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        cluster: str | None = None,
        helm: bool = False,
        write: bool = False,
    ) -> FixResult:
        """Apply the safe autofixes (``write=True``) or compute them as edits on a copy (the default).

        ``findings`` narrows the fixes to the rules of those findings.
        """
        from homeops.api.edit_results import FixResult  # start-up: the rules load when fixing
        from homeops.rules.fix import CheckOptions, changed_files, fix_repository, preview_fixes

        chosen = list(select or [])
        if findings is not None:
            chosen = sorted({f.rule for f in findings})
            if not chosen:
                return FixResult(0, [], [], written=write)
        options = CheckOptions(cluster, self.vars, chosen, list(ignore or []), helm, self.settings)
        if write:
            with self._writing(True):  # every round's edits in one transaction
                outcome = fix_repository(self.root, self.profile, options)
                edits = changed_files(outcome.originals, self.root)
            self._renders.clear()
            self._files = FileCache(self.root)
        else:
            outcome, edits = preview_fixes(self.root, self.profile, options)
        clusters = [ClusterInfo(r.cluster.name, r.cluster.directory) for r in outcome.ctx.renders]
        return FixResult(outcome.fixed, edits, outcome.remaining, outcome.warnings, write, clusters)

    # ------------------------------------------------------------------------------ diff
    @collecting_less
    def diff(
        self,
        base: str | None = None,
        head: str | None = None,
        *,
        cluster: str | None = None,
        merge_base: bool = False,
        strip_attrs: Iterable[str] = (),
        helm: bool = False,
        show_secrets: bool = False,
        findings: bool = False,
        verify_images: bool = False,
        verify_timeout: float = VERIFY_TIMEOUT,
        progress: Progress | None = None,
        base_path: str | Path | None = None,
    ) -> DiffResult:
        """What Flux would apply differently between two revisions (default: ``HEAD`` and the work tree),
        or, with ``base_path`` (``--path-orig``), between another copy of the repository and this one.

        What the changes show is redacted (Secret values, PEM blocks; :mod:`homeops.core.redact`)
        unless ``show_secrets``, which is for a person's own terminal, never for a shared surface.
        ``findings`` also runs the rules at both revisions (``findings_introduced``/``findings_fixed``);
        ``verify_images`` asks each newly referenced image's registry for its manifest (``HEAD``,
        ``verify_timeout`` seconds, Docker config credentials): ``ImageChange.check``.
        """
        from homeops.api.diffing import diff_with_findings  # start-up: the diff machinery loads when diffing
        from homeops.diff.revisions import DiffOptions

        options = DiffOptions(
            base=base,
            head=head,
            merge_base=merge_base,
            cluster=cluster,
            strip_attrs=[a.strip() for a in strip_attrs if a.strip()],
            cli_vars=self.vars,
            enable_helm=helm,
            show_secrets=show_secrets,
            settings=self.settings,
            base_path=Path(base_path) if base_path is not None else None,
        )
        result = diff_with_findings(self.root, options, findings=findings, progress=progress)
        if verify_images:
            from homeops.diff import verify  # start-up: the registry client loads only to verify images

            verify.verify_images(result.images, self.registry_client(timeout=verify_timeout))
        return result

    # ------------------------------------------------------------------------------ test
    @collecting_less
    def test(
        self,
        cluster: str | None = None,
        *,
        kustomizations: bool = True,
        releases: bool = False,
        name: str | None = None,
        namespace: str | None = None,
        progress: Progress | None = None,
    ) -> TestResult:
        """Whether each Flux Kustomization (and, with ``releases``, each HelmRelease: downloads charts
        unless ``offline``) of every cluster, or of the one named, renders; ``name`` narrows to one."""
        from homeops.api.status import render_status  # start-up: only for test

        renders = self._engine_renders(cluster, helm=releases, progress=progress)
        result = render_status(renders, kustomizations=kustomizations, releases=releases, name=name)
        if namespace is not None:
            result.items = [i for i in result.items if i.namespace == namespace]
        return result

    # ------------------------------------------------------------------------------ images
    def registry_client(self, *, timeout: float = 30.0) -> RegistryClient:
        """The OCI client with the profile's insecure registries and Docker's credential files."""
        from homeops.registry.oci import client  # start-up: the registry client loads when one is needed

        return client.RegistryClient(
            insecure_registries=self.base_profile.insecure_registries, timeout=timeout
        )

    def digest_resolver(self) -> DigestResolver:
        """A reference without digest -> the digest its registry serves (a ``HEAD`` per call)."""
        from homeops.images.pin import resolve_digest  # start-up: only when resolving digests

        client = self.registry_client()
        return lambda reference: str(resolve_digest(reference, client=client))

    @collecting_less
    def pin_images(self, *, cluster: str | None = None, write: bool = False) -> PinResult:
        """Each unpinned tag the render found resolved to its registry's digest (``HEAD``, each tag once):
        the edits, written when ``write``; failures per image, the others still pinned."""
        from homeops.api.edit_results import EditResult, PinResult  # start-up: only when pinning
        from homeops.images.pin import resolve_digest
        from homeops.images.plan import plan_pins, unpinned_uses

        client = self.registry_client()
        with self._writing(write):
            plan = plan_pins(
                self.root,
                unpinned_uses(self._engine_renders(cluster)),
                resolve=lambda ref: resolve_digest(ref, client=client),
                redact=client.redact,
            )
            result = PinResult(
                plan.edits,
                [(file, occ.line, str(occ.ref.unpinned), digest) for file, occ, digest in plan.pinned],
                [err for _image, err in plan.errors],
                [image for image, _err in plan.errors],
            )
            if write and plan.edits:
                self._apply(EditResult(plan.edits), True)
                result.written = True
        return result

    # ------------------------------------------------------------------------------ context document
    @collecting_less
    def context(self) -> ContextFacts:
        """The repository facts of a context document: clusters, layout, apps, routes, backups,
        components, conventions and rule counts (renders and checks every cluster)."""
        from homeops.api import context  # start-up: only the context document needs it

        result = self.check()
        renderings = self.render_all()
        profile = self.profile
        inferred = frozenset(self.infer_profile().overrides()) if self.profile_origin == "inferred" else None
        return context.gather(
            self.root, profile, renderings, self.apps(), result.findings, self.rules(), self.profile_origin,
            inferred,
        )  # fmt: skip

    def context_sections(self) -> dict[str, str]:
        """Each generated section of the context document (name -> Markdown), in document order."""
        from homeops.context import markdown  # start-up: only the context document needs it

        return markdown.sections(self.context())

    @collecting_less
    def docs(self, file: str = "CLAUDE.md", *, write: bool = False) -> DocsResult:
        """``file``'s generated sections brought up to date (the file created when missing); every line
        outside the markers kept byte for byte. Written when ``write``; ``stale`` names what changed."""
        from homeops.api import context  # start-up: only the context document needs it

        result = context.document_update(self.root, file, self.context_sections)
        if write and result.edits:
            from homeops.core.edits import (
                apply_edits,
            )  # start-up: the edit machinery loads when a method edits

            with self._writing(True):
                result.written = apply_edits(self.root, result.edits)
        return result

    # ------------------------------------------------------------------------------ authoring
    def new_app(self, options: AppOptions, *, write: bool = False, resolve: bool = True) -> EditResult:
        """The nine steps of "Adding a New Application" as edits (written when ``write``)."""
        from homeops.api.edit_results import EditResult  # start-up: authoring loads when it runs
        from homeops.author.new_app import plan_new_app

        with self._writing(write):  # a second new app waits, then plans on what this one wrote
            plan = plan_new_app(
                self.root,
                self.authoring_profile(),
                options,
                resolve=self.digest_resolver() if resolve else None,
            )
            return self._apply(EditResult(plan.edits, notes=plan.notes, warnings=plan.warnings), write)

    def migrate(self, options: MigrateOptions, *, write: bool = False) -> EditResult:
        """A legacy app moved into the modern pattern: the edits and the manual steps left."""
        from homeops.api.edit_results import EditResult  # start-up: authoring loads when it runs
        from homeops.author.migrate import plan_migration
        from homeops.images.pin import scan_text

        options = replace(options, cli_vars=ClusterVars.of(options.cli_vars).over(self.vars))
        resolve = self.digest_resolver() if options.pin else None
        with self._writing(write):
            plan = plan_migration(
                self.root, self.authoring_profile(), options, resolve=resolve, images=scan_text
            )
            return self._apply(EditResult(plan.edits, notes=plan.notes, steps=plan.steps), write)

    @collecting_less
    def migrate_many(
        self, options: MigrateOptions, targets: Iterable[str] | None = None, *, write: bool = False
    ) -> MigrationBatch:
        """Several apps (``NS/APP``; None: every app of ``options.old``) moved in one run: the old cluster
        rendered once, each app planned (and written, with ``write``) in turn, a refusal recorded and
        the next app taken; ``options.namespace``/``app`` are ignored."""
        from homeops.api.edit_results import EditResult, MigratedApp, MigrationBatch  # start-up
        from homeops.author.migrate import old_cluster_apps, plan_migration, render_old_cluster
        from homeops.author.new_app import split_target
        from homeops.images.pin import scan_text

        profile = self.authoring_profile()
        options = replace(options, cli_vars=ClusterVars.of(options.cli_vars).over(self.vars))
        render, inferred = render_old_cluster(self.root, profile, options)
        names = list(targets) if targets is not None else old_cluster_apps(profile, options, render)
        resolve = self.digest_resolver() if options.pin else None
        batch = MigrationBatch(options.old, options.new, inferred=inferred)
        for target in names:
            try:
                namespace, app = split_target(target)
                one = replace(options, namespace=namespace, app=app)
                with self._writing(write):  # each app planned on what the previous one wrote
                    plan = plan_migration(
                        self.root, profile, one, old_render=render, resolve=resolve, images=scan_text
                    )
                    result = self._apply(EditResult(plan.edits, notes=plan.notes, steps=plan.steps), write)
            except HomeopsError as exc:
                batch.apps.append(MigratedApp(target, None, exc))
                continue
            batch.apps.append(MigratedApp(target, result))
        return batch

    def apply(self, edits: Iterable[FileEdit]) -> list[str]:
        """Write edits computed earlier (by a preview), atomically; refused when a file changed since."""
        from homeops.core.edits import apply_edits  # start-up: the edit machinery loads when a method edits

        with self._writing(True):
            written = apply_edits(self.root, edits)
        self._renders.clear()
        self._files = FileCache(self.root)
        return written

    def _apply(self, result: EditResult, write: bool) -> EditResult:
        if write:
            result.written = self.apply(result.edits)
        return result


def list_rules() -> dict[str, Rule]:
    """Every rule homeops knows, by id (no repository needed)."""
    from homeops.rules.engine import load_rules  # start-up: the rules load when listed

    return load_rules()
