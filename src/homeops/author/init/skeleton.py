"""The files a repository has once, whatever its clusters: profile, SOPS rules, pinned tools, CI,
lint and Taskfiles, the context document, and the shared base apps (components: ``components``)."""

from __future__ import annotations

import re

from homeops import __version__
from homeops.author import templates as t
from homeops.author.init.components import component_files
from homeops.author.init.defaults import APP_CHARTS, PLACEHOLDER_MARK, PRE_COMMIT_VERSION
from homeops.author.init.options import InitOptions
from homeops.author.init.profile import profile_file
from homeops.core.profile import PROFILE_FILE, Profile


def shared_files(profile: Profile, options: InitOptions, overrides: dict[str, object]) -> dict[str, str]:
    files: dict[str, str] = {
        PROFILE_FILE: profile_file(overrides),
        ".gitignore": t.render("gitignore.tmpl", clusters_dir=profile.clusters_dir),
        ".sops.yaml": _sops_config(profile, options.age_keys),
        ".mise.toml": _mise_config(profile),
        ".pre-commit-config.yaml": t.render("pre-commit-config.yaml.tmpl"),
        ".github/lint/.yamllint.yaml": t.render("yamllint.yaml.tmpl"),
        ".github/workflows/check.yaml": t.render("workflow-check.yaml.tmpl"),
        ".github/workflows/diff.yaml": t.render("workflow-diff.yaml.tmpl"),
        ".github/renovate.json5": t.render(
            "renovate.json5.tmpl",
            apps_dir_re=re.escape(profile.apps_dir),
            clusters_dir_re=re.escape(profile.clusters_dir),
        ),
        "Taskfile.yaml": t.render("Taskfile.yaml.tmpl", cluster=options.cluster),
        ".taskfiles/k8s-bootstrap/Taskfile.yaml": t.render(
            "taskfile-k8s-bootstrap.yaml.tmpl", secrets_namespace=profile.secrets_namespace
        ),
        ".taskfiles/talos/Taskfile.yaml": t.render("taskfile-talos.yaml.tmpl"),
        ".taskfiles/sops/Taskfile.yaml": t.render("taskfile-sops.yaml.tmpl"),
        "CLAUDE.md": context_document(profile, options.cluster),
    }
    files.update(component_files(profile))
    files.update(base_app(profile, "reloader", t.render("values-reloader.yaml.tmpl")))
    return files


def glob_to_regex(pattern: str) -> str:
    """A profile path glob (``clusters/*/talos/**``) as an unanchored SOPS ``path_regex`` prefix."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("/**", i) and i + 3 == len(pattern):
            out += "/.*"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]+"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return out


def _sops_config(profile: Profile, age_keys: tuple[str, ...]) -> str:
    lines = [
        "---",
        "# SOPS encrypts only what must exist before Flux and External Secrets run:",
        "# Talos and bootstrap secrets (files named *.sops.yaml under the paths below).",
        "# Application secrets live in Doppler.",
        "creation_rules:",
    ]
    for glob in profile.sops_allowed_paths:
        lines.append(f"  - path_regex: {glob_to_regex(glob)}\\.sops\\.ya?ml$")
        lines.append("    unencrypted_regex: ^(apiVersion|kind|metadata)$")
        if age_keys:
            lines.append(f"    age: {','.join(age_keys)}")
        else:
            lines.append(
                f"    # {PLACEHOLDER_MARK}: your age public key(s), comma-separated (homeops init --age-key)"
            )
            lines.append("    age: age1replace-with-your-public-key")
    return t.join(lines)


def tools(profile: Profile) -> list[tuple[str, str, str]]:
    """Every pinned tool: the document's, talosctl of the profile's Talos version, pre-commit, homeops."""
    return [
        *profile.dev_tools,
        ("aqua:siderolabs/talos", profile.talos_version.lstrip("v"), "talosctl"),
        ("pipx:pre-commit", PRE_COMMIT_VERSION, "pre-commit"),
        ("pipx:homeops", __version__, "homeops"),
    ]


def _mise_config(profile: Profile) -> str:
    tools_ = tools(profile)
    width = max(len(_toml_key(name)) for name, _, _ in tools_)
    lines = [
        "# Every tool the Taskfiles, pre-commit and CI use, pinned: `mise install`.",
        "# Renovate keeps the versions current.",
        "[tools]",
    ]
    lines += [f'{_toml_key(name).ljust(width)} = "{version}"' for name, version, _ in tools_]
    return t.join(lines)


def _toml_key(name: str) -> str:
    return '"' + name + '"'


def base_app(profile: Profile, name: str, values: str) -> dict[str, str]:
    base = f"{profile.apps_dir}/base/{name}/app"
    url, version = APP_CHARTS[name]
    return {
        f"{base}/kustomization.yaml": t.app_kustomization(["ocirepository.yaml", "helmrelease.yaml"]),
        f"{base}/ocirepository.yaml": t.ocirepository(profile, name, url, version),
        f"{base}/helmrelease.yaml": t.chart_helmrelease(name, values),
    }


def context_document(profile: Profile, cluster: str) -> str:
    """CLAUDE.md: the repository's context document, written from the profile."""
    internal, external, backup = profile.gateway_internal, profile.gateway_external, profile.backup
    return t.render(
        "CLAUDE.md.tmpl",
        cluster=cluster,
        talos_version=profile.talos_version,
        kubernetes_version=profile.kubernetes_version,
        clusters_dir=profile.clusters_dir,
        apps_dir=profile.apps_dir,
        pod_cidr=profile.pod_cidr,
        service_cidr=profile.service_cidr,
        storage_class=profile.storage_class,
        cache_storage_class=backup.cache_storage_class,
        namespace_component=profile.namespace_component,
        privileged_namespace_component=profile.privileged_namespace_component,
        volsync_component=profile.volsync_component,
        alerts_component=profile.alerts_component,
        helm_layer_media_type=profile.helm_layer_media_type,
        app_template_chart=profile.app_template_chart,
        app_template_version=profile.app_template_version,
        reloader_annotation=profile.reloader_annotation,
        internal_name=internal.name,
        internal_address=internal.address,
        internal_namespace=internal.namespace,
        internal_section=internal.section,
        external_name=external.name,
        external_address=external.address,
        internet_facing_annotation=profile.internet_facing_annotation,
        domain=profile.domain or "",
        secret_store_kind=profile.secret_store_kind,
        secret_store=profile.secret_store,
        sops_paths=", ".join(f"`{p}`" for p in profile.sops_allowed_paths),
        b2_schedule=backup.b2_schedule,
        b2_keep_daily=str(backup.b2_keep_daily),
        minio_schedule=backup.minio_schedule,
        minio_keep_hourly=str(backup.minio_keep_hourly),
        minio_keep_daily=str(backup.minio_keep_daily),
        minio_keep_weekly=str(backup.minio_keep_weekly),
        cache_capacity=backup.cache_capacity,
        placeholder_mark=PLACEHOLDER_MARK,
        tools="\n".join(f"- {label} {version}" for _, version, label in tools(profile)),
    )
