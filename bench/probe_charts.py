"""Charts and Helm repositories for bench/probe_security.py: a chart kept in the repository (the
HelmRelease's source is the repository's own GitRepository), a chart served by a registry, and
hostile chart archives (members climbing out, absolute, linked, devices, too many, a gzip bomb)."""

from __future__ import annotations

import gzip
import io
import tarfile
import textwrap
from pathlib import Path

from probe_support import write

HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: demo
  namespace: media
spec:
  interval: 1h
"""


def chart_repo(
    repo: Path,
    flux_ks: str,
    template: str,
    *,
    chart: str = "./charts/demo",
    link_chart: str | None = None,
    values_files: list[str] | None = None,
    files_link: str | None = None,
    profile: str = "",
) -> Path:
    """A repository whose HelmRelease ``media/demo`` uses the chart ``charts/demo`` of the repository
    (template ``templates/cm.yaml`` given); the chart directory may be a link, a chart file a link."""
    spec = textwrap.indent(
        "chart:\n  spec:\n"
        f"    chart: {chart}\n"
        "    sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n"
        + (f"    valuesFiles: [{', '.join(values_files)}]\n" if values_files else ""),
        "  ",
    )
    files = {
        "clusters/c/flux/root.yaml": flux_ks.format(path="./apps"),
        "apps/hr.yaml": HELMRELEASE + spec,
    }
    if profile:
        files[".homeops.yaml"] = profile
    write(repo, files)
    chart_dir = repo / "charts/demo"
    if link_chart:
        chart_dir.parent.mkdir(parents=True)
        chart_dir.symlink_to(link_chart)
        return repo
    write(chart_dir, {"Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n", "values.yaml": "a: 1\n"})
    (chart_dir / "templates").mkdir()
    (chart_dir / "templates/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  v: " + template + "\n"
    )
    (chart_dir / "files").mkdir()
    if files_link:
        (chart_dir / "files/data").symlink_to(files_link)
    else:
        (chart_dir / "files/data").write_text("plain\n")
    return repo


def registry_repo(repo: Path, flux_ks: str, url: str, *, profile: str = "", image: str | None = None) -> Path:
    """A repository whose HelmRelease ``media/demo`` uses the chart of an OCIRepository at ``url``;
    with ``image``, a Deployment of that image too (for ``images pin``)."""
    files = {
        "clusters/c/flux/root.yaml": flux_ks.format(path="./apps"),
        "apps/oci.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
        "metadata: {name: demo, namespace: media}\nspec:\n  interval: 1h\n"
        "  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}\n"
        f"  ref: {{tag: 1.0.0}}\n  url: {url}\n",
        "apps/hr.yaml": HELMRELEASE + "  chartRef: {kind: OCIRepository, name: demo}\n",
    }
    if image:
        files["apps/deploy.yaml"] = (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: media}\n"
            "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
            f"    spec:\n      containers:\n        - name: web\n          image: {image}\n"
        )
    if profile:
        files[".homeops.yaml"] = profile
    return write(repo, files)


def archive(members: list[tarfile.TarInfo | tuple[str, bytes]], name: str = "demo") -> bytes:
    """A chart archive (gzip'd tar): a plain chart plus ``members`` (TarInfo as is, or path and data)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        plain: list[tuple[str, bytes]] = [
            (f"{name}/Chart.yaml", f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n".encode()),
            (f"{name}/templates/cm.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n"),
        ]
        for member in [*plain, *members]:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            info = tarfile.TarInfo(member[0])
            info.size = len(member[1])
            tar.addfile(info, io.BytesIO(member[1]))
    return raw.getvalue()


def bomb(megabytes: int, name: str = "demo") -> bytes:
    """A chart archive whose one values file unpacks to ``megabytes`` MiB of zeros (about 1/1000 packed)."""
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w|") as tar,
    ):
        chart = f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n".encode()
        info = tarfile.TarInfo(f"{name}/Chart.yaml")
        info.size = len(chart)
        tar.addfile(info, io.BytesIO(chart))
        big = tarfile.TarInfo(f"{name}/values.yaml")
        big.size = megabytes * 1024 * 1024
        tar.addfile(big, _Zeros(big.size))
    return raw.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n

    def read(self, size: int = -1) -> bytes:
        n = self.left if size < 0 else min(size, self.left)
        self.left -= n
        return bytes(n)
