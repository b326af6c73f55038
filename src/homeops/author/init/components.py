"""The kustomize components every app can include: namespace, privileged namespace, alerts, and Volsync
(claim, backups to B2 and MinIO, restore)."""

from __future__ import annotations

from homeops.author import templates as t
from homeops.author.init.defaults import VOLUME_SNAPSHOT_CLASS
from homeops.core.profile import Profile


def component_files(profile: Profile) -> dict[str, str]:
    comp = profile.components_dir
    backup = profile.backup
    store = {"secret_store_kind": profile.secret_store_kind, "secret_store": profile.secret_store}
    volume = {
        "storage_class": profile.storage_class,
        "snapshot_class": VOLUME_SNAPSHOT_CLASS,
        "cache_storage_class": backup.cache_storage_class,
        "cache_capacity": backup.cache_capacity,
    }
    variables = "\n".join(
        [
            "# Persistent data of one app, restored from and backed up by Volsync.",
            "# Included from the app's ks.yaml (spec.components); postBuild.substitute sets:",
            "#   APP                   required: names every object below",
            "#   VOLSYNC_CAPACITY      required: size of the claim, e.g. 5Gi",
            "#   VOLSYNC_CLAIM         claim name, default ${APP}",
            f"#   VOLSYNC_STORAGECLASS  default {profile.storage_class}",
            f"#   VOLSYNC_SNAPSHOTCLASS default {VOLUME_SNAPSHOT_CLASS}",
            "#   VOLSYNC_ACCESSMODE    default ReadWriteOnce",
            "#   APP_UID / APP_GID     owner of the data, default 1000",
        ]
    )
    return {
        f"{comp}/{profile.namespace_component}/kustomization.yaml": _component(["namespace.yaml"]),
        f"{comp}/{profile.namespace_component}/namespace.yaml": t.render("namespace.yaml.tmpl"),
        f"{comp}/{profile.privileged_namespace_component}/kustomization.yaml": _component(["namespace.yaml"]),
        f"{comp}/{profile.privileged_namespace_component}/namespace.yaml": t.render(
            "privileged-namespace.yaml.tmpl"
        ),
        f"{comp}/{profile.alerts_component}/kustomization.yaml": _component(["provider.yaml", "alert.yaml"]),
        f"{comp}/{profile.alerts_component}/provider.yaml": t.render("alerts-provider.yaml.tmpl"),
        f"{comp}/{profile.alerts_component}/alert.yaml": t.render("alerts-alert.yaml.tmpl"),
        f"{comp}/{profile.volsync_component}/kustomization.yaml": _component(
            ["pvc.yaml", "b2.yaml", "minio.yaml", "replicationdestination.yaml"], variables
        ),
        f"{comp}/{profile.volsync_component}/pvc.yaml": t.render("volsync-pvc.yaml.tmpl", **volume),
        f"{comp}/{profile.volsync_component}/b2.yaml": t.render(
            "volsync-backend.yaml.tmpl",
            backend="b2",
            doppler_key="VOLSYNC_B2",
            schedule=backup.b2_schedule,
            backend_comment=f"Off-site copy on Backblaze B2, daily; keeps {backup.b2_keep_daily} daily snapshots.",
            retain=f"daily: {backup.b2_keep_daily}",
            **store,
            **volume,
        ),
        f"{comp}/{profile.volsync_component}/minio.yaml": t.render(
            "volsync-backend.yaml.tmpl",
            backend="minio",
            doppler_key="VOLSYNC_MINIO",
            schedule=backup.minio_schedule,
            backend_comment=(
                f"Local copy on MinIO, hourly; keeps {backup.minio_keep_hourly} hourly, "
                f"{backup.minio_keep_daily} daily, {backup.minio_keep_weekly} weekly."
            ),
            retain="\n".join(
                [
                    f"hourly: {backup.minio_keep_hourly}",
                    f"daily: {backup.minio_keep_daily}",
                    f"weekly: {backup.minio_keep_weekly}",
                ]
            ),
            **store,
            **volume,
        ),
        f"{comp}/{profile.volsync_component}/replicationdestination.yaml": t.render(
            "volsync-restore.yaml.tmpl", backend="minio", **volume
        ),
    }


def _component(resources: list[str], comment: str = "") -> str:
    return t.render(
        "component-kustomization.yaml.tmpl",
        comment=comment,
        resources="\n".join(f"  - ./{r}" for r in resources),
    )
