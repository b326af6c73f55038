"""Chart sources as source-controller resolves them, with the cache, against a real registry."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from helm_support import PushedCharts, anonymous_client, chart_tgz, oci_repository, push_all

import registry_support as testing
from homeops.core import yamlio
from homeops.helm.archive import ArchiveError, safe_extract
from homeops.helm.cache import Cache
from homeops.helm.sources import SourceError, SourceResolver
from homeops.registry.oci.errors import NotFoundError, UnreachableError
from homeops.registry.oci.manifests import HELM_CHART_LAYER
from homeops.registry.oci.references import parse_reference


def _chart_version(path: Path) -> str:
    return str(yamlio.load_one((path / "Chart.yaml").read_text())["version"])


# -- OCIRepository --------------------------------------------------------------------------------


def test_pull_by_tag_copy(charts: PushedCharts, resolver: SourceResolver) -> None:
    artifact = resolver.oci_repository(oci_repository(charts.url, "tag: 1.2.0"))
    assert artifact.revision == f"1.2.0@{charts.digests['1.2.0']}"
    assert artifact.digest == charts.digests["1.2.0"]
    assert artifact.media_type == HELM_CHART_LAYER
    assert artifact.path.read_bytes() == charts.archives["1.2.0"]
    assert artifact.path.name == hashlib.sha256(charts.archives["1.2.0"]).hexdigest()
    chart = resolver.chart_dir(artifact)
    assert chart.name == "testchart" and _chart_version(chart) == "1.2.0"
    assert (chart / "templates" / "_helpers.tpl").is_file()


@pytest.mark.parametrize(
    ("constraint", "version"),
    [
        (">=1.0.0 <2", "1.10.0"),
        ("~1.2", "1.2.7"),
        ("^1.2", "1.10.0"),
        ("1.x", "1.10.0"),
        ("1.2.0", "1.2.0"),
        ("<1", "0.9.0"),
        (">=2.0.0-rc.0", "2.0.0-rc.1"),
        ("*", "1.10.0"),
    ],
)
def test_pull_by_semver(
    charts: PushedCharts, resolver: SourceResolver, constraint: str, version: str
) -> None:
    artifact = resolver.oci_repository(oci_repository(charts.url, f'semver: "{constraint}"'))
    assert artifact.revision == f"{version}@{charts.digests[version]}"
    assert _chart_version(resolver.chart_dir(artifact)) == version


def test_semver_without_match_names_the_constraint(charts: PushedCharts, resolver: SourceResolver) -> None:
    with pytest.raises(SourceError) as info:
        resolver.oci_repository(oci_repository(charts.url, 'semver: ">=3"'))
    assert ">=3" in str(info.value)
    assert info.value.file == "cluster-apps/apps/demo/app/ocirepository.yaml"


def test_semver_filter(charts: PushedCharts, resolver: SourceResolver) -> None:
    obj = oci_repository(charts.url, 'semver: "*"\n    semverFilter: "^1\\\\.2\\\\."')
    assert resolver.oci_repository(obj).revision.startswith("1.2.7@")


def test_pull_by_digest(charts: PushedCharts, resolver: SourceResolver) -> None:
    digest = charts.digests["1.0.0"]
    artifact = resolver.oci_repository(oci_repository(charts.url, f"digest: {digest}"))
    assert artifact.revision == digest
    assert _chart_version(resolver.chart_dir(artifact)) == "1.0.0"


def test_extract_operation(charts: PushedCharts, resolver: SourceResolver) -> None:
    artifact = resolver.oci_repository(oci_repository(charts.url, "tag: 1.10.0", operation="extract"))
    assert artifact.path.is_dir()
    assert (artifact.path / "testchart" / "Chart.yaml").is_file()
    assert _chart_version(resolver.chart_dir(artifact)) == "1.10.0"


def test_default_layer_is_the_first(charts: PushedCharts, resolver: SourceResolver) -> None:
    artifact = resolver.oci_repository(oci_repository(charts.url, "tag: 1.0.0", media_type=None))
    assert artifact.path.is_dir()  # Flux extracts by default


def test_missing_layer_media_type(charts: PushedCharts, resolver: SourceResolver) -> None:
    obj = oci_repository(charts.url, "tag: 1.0.0", media_type="application/vnd.example.other")
    with pytest.raises(SourceError) as info:
        resolver.oci_repository(obj)
    assert HELM_CHART_LAYER in str(info.value)


def test_unknown_tag_points_at_the_source_file(charts: PushedCharts, resolver: SourceResolver) -> None:
    with pytest.raises(NotFoundError) as info:
        resolver.oci_repository(oci_repository(charts.url, "tag: 9.9.9"))
    assert info.value.file == "cluster-apps/apps/demo/app/ocirepository.yaml"
    assert info.value.line == 1


def test_invalid_url(resolver: SourceResolver) -> None:
    with pytest.raises(SourceError):
        resolver.oci_repository({"spec": {"url": "https://ghcr.io/x", "ref": {"tag": "1"}}})


# -- cache ----------------------------------------------------------------------------------------


def test_digest_pinned_second_resolution_makes_no_request(charts: PushedCharts, cache: Cache) -> None:
    obj = oci_repository(charts.url, f"digest: {charts.digests['1.2.0']}")
    first = SourceResolver(cache=cache, client=anonymous_client())
    first.chart_dir(first.oci_repository(obj))
    assert first.client.stats.requests > 0
    second = SourceResolver(cache=cache, client=anonymous_client())
    artifact = second.oci_repository(obj)
    assert _chart_version(second.chart_dir(artifact)) == "1.2.0"
    assert second.client.stats.requests == 0


def test_cache_hit_with_the_registry_stopped(fresh_registry: testing.LocalRegistry, cache: Cache) -> None:
    pushed = push_all(fresh_registry, ("3.1.0",))
    obj = oci_repository(pushed.url, f"digest: {pushed.digests['3.1.0']}")
    SourceResolver(cache=cache, client=anonymous_client()).oci_repository(obj)
    fresh_registry.stop()
    testing.wait_closed(fresh_registry.url)
    with pytest.raises(UnreachableError):
        anonymous_client().head_manifest(parse_reference(f"{pushed.repository}:3.1.0"))
    again = SourceResolver(cache=cache, client=anonymous_client())
    assert _chart_version(again.chart_dir(again.oci_repository(obj))) == "3.1.0"
    offline = SourceResolver(cache=cache, offline=True)
    tag_obj = oci_repository(pushed.url, "tag: 3.1.0")
    # the tag was never resolved online, so offline it is a miss, not a guess
    with pytest.raises(SourceError) as info:
        offline.oci_repository(tag_obj)
    assert "offline" in str(info.value) and "3.1.0" in str(info.value)


def test_tag_resolution_is_only_a_head_when_cached(charts: PushedCharts, cache: Cache) -> None:
    obj = oci_repository(charts.url, "tag: 1.0.0")
    SourceResolver(cache=cache, client=anonymous_client()).oci_repository(obj)
    again = SourceResolver(cache=cache, client=anonymous_client())
    again.oci_repository(obj)
    assert again.client.stats.requests == 1  # HEAD: tags move, digests do not


def test_releases_sharing_a_chart_resolve_it_once(charts: PushedCharts, cache: Cache) -> None:
    """Every app has its own OCIRepository for the same chart: one run asks the registry once."""
    sources = [oci_repository(charts.url, "tag: 1.0.0") for _ in range(20)]
    for i, obj in enumerate(sources):
        obj["metadata"]["name"] = f"app-{i}"
    first = SourceResolver(cache=cache, client=anonymous_client())
    paths = {first.oci_repository(obj).path for obj in sources}
    assert len(paths) == 1
    warm = SourceResolver(cache=cache, client=anonymous_client())
    for obj in sources:
        warm.oci_repository(obj)
    assert warm.client.stats.requests == 1  # one HEAD for the tag, not one per release


def test_offline_uses_what_online_recorded(charts: PushedCharts, cache: Cache) -> None:
    tag_obj = oci_repository(charts.url, "tag: 1.2.7")
    semver_obj = oci_repository(charts.url, 'semver: "~1.2"')
    online = SourceResolver(cache=cache, client=anonymous_client())
    online.oci_repository(tag_obj)
    online.oci_repository(semver_obj)
    offline = SourceResolver(cache=cache, client=anonymous_client(), offline=True)
    assert offline.oci_repository(tag_obj).revision == f"1.2.7@{charts.digests['1.2.7']}"
    assert offline.oci_repository(semver_obj).revision == f"1.2.7@{charts.digests['1.2.7']}"
    assert offline.client.stats.requests == 0


def test_offline_miss_names_what_is_missing(charts: PushedCharts, cache: Cache) -> None:
    offline = SourceResolver(cache=cache, client=anonymous_client(), offline=True)
    digest = charts.digests["1.0.0"]
    with pytest.raises(SourceError) as info:
        offline.oci_repository(oci_repository(charts.url, f"digest: {digest}"))
    message = str(info.value)
    assert "offline" in message and digest in message and str(cache.root) in message
    assert "without --offline" in message
    with pytest.raises(SourceError) as semver:
        offline.oci_repository(oci_repository(charts.url, 'semver: "1.x"'))
    assert "tag list" in str(semver.value)
    assert offline.client.stats.requests == 0


def test_corrupt_blob_is_not_cached(cache: Cache) -> None:
    with pytest.raises(Exception, match="hashes to"):
        cache.put_blob(b"data", "sha256:" + "1" * 64)
    assert not cache.has_blob("sha256:" + "1" * 64)


# -- HelmRepository ------------------------------------------------------------------------------


def test_helm_repository_oci(charts: PushedCharts, resolver: SourceResolver) -> None:
    host_path = charts.repository.rsplit("/", 1)[0]
    repo = {"spec": {"type": "oci", "url": f"oci://{host_path}"}}
    exact = resolver.helm_chart(repo, "testchart", "1.2.0")
    assert exact.path.read_bytes() == charts.archives["1.2.0"]
    ranged = resolver.helm_chart(repo, "testchart", "~1.2")
    assert ranged.revision.startswith("1.2.7@")
    assert resolver.helm_chart(repo, "testchart", None).revision.startswith("1.10.0@")


@pytest.fixture
def http_repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "helm-repo"
    root.mkdir()
    versions = []
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        data = chart_tgz(version)
        (root / f"testchart-{version}.tgz").write_bytes(data)
        versions.append((version, f"testchart-{version}.tgz", data))
    (root / "index.yaml").write_text(testing.helm_repo_index({"testchart": versions}))
    server, url = testing.serve_directory(root)
    try:
        yield root, url
    finally:
        server.shutdown()
        server.server_close()


def test_helm_repository_http(http_repo: tuple[Path, str], cache: Cache) -> None:
    _root, url = http_repo
    repo = yamlio.load_one(
        f"kind: HelmRepository\nmetadata:\n  name: local\nspec:\n  url: {url}/\n", "repo.yaml"
    )
    online = SourceResolver(cache=cache, client=anonymous_client())
    artifact = online.helm_chart(repo, "testchart", "^1")
    assert artifact.revision.startswith("1.1.0@sha256:")
    assert _chart_version(online.chart_dir(artifact)) == "1.1.0"
    # second online resolution: the index is fetched again (it moves), the archive is not
    again = SourceResolver(cache=cache, client=anonymous_client())
    again.helm_chart(repo, "testchart", "^1")
    assert again.client.stats.requests == 1
    offline = SourceResolver(cache=cache, client=anonymous_client(), offline=True)
    assert offline.helm_chart(repo, "testchart", "^1").path == artifact.path
    assert offline.client.stats.requests == 0
    with pytest.raises(SourceError) as missing:
        offline.helm_chart(repo, "testchart", "2.0.0")
    assert "offline" in str(missing.value) and "testchart-2.0.0.tgz" in str(missing.value)
    with pytest.raises(SourceError) as unknown:
        online.helm_chart(repo, "nochart", "1.0.0")
    assert "nochart" in str(unknown.value) and unknown.value.file == "repo.yaml"


def test_helm_repository_http_digest_mismatch(http_repo: tuple[Path, str], cache: Cache) -> None:
    root, url = http_repo
    (root / "testchart-2.0.0.tgz").write_bytes(chart_tgz("2.0.1"))
    with pytest.raises(SourceError) as info:
        SourceResolver(cache=cache, client=anonymous_client()).helm_chart(
            {"spec": {"url": url}}, "testchart", "2.0.0"
        )
    assert "digest" in str(info.value)


# -- local charts and HelmReleases ----------------------------------------------------------------


def test_local_chart(tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "mine"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mine\nversion: 0.1.0\n")
    assert SourceResolver.local_chart(tmp_path, "./charts/mine") == chart.resolve()
    with pytest.raises(SourceError):
        SourceResolver.local_chart(tmp_path, "../outside")
    with pytest.raises(SourceError):
        SourceResolver.local_chart(tmp_path, "./charts")


def test_chart_for_release(charts: PushedCharts, resolver: SourceResolver, tmp_path: Path) -> None:
    source = oci_repository(charts.url, "tag: 1.0.0")
    release = yamlio.load_one(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: demo\n  namespace: flux-system\n"
        "spec:\n  chartRef:\n    kind: OCIRepository\n    name: testchart\n",
        "hr.yaml",
    )
    resolved = resolver.chart_for_release(
        release, {("OCIRepository", "flux-system", "testchart"): source}, repo_root=tmp_path
    )
    assert resolved.version == "1.0.0" and _chart_version(resolved.path) == "1.0.0"
    with pytest.raises(SourceError) as info:
        resolver.chart_for_release(release, {}, repo_root=tmp_path)
    assert info.value.file == "hr.yaml"


# -- archive safety --------------------------------------------------------------------------------


def _tgz(members: list[tarfile.TarInfo], payloads: dict[str, bytes] | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info in members:
            data = (payloads or {}).get(info.name)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue())


def _file(name: str, data: bytes = b"x: 1\n") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _archive(tmp_path: Path, entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]]) -> Path:
    members, payloads = [], {}
    for entry in entries:
        if isinstance(entry, tuple):
            members.append(entry[0])
            payloads[entry[0].name] = entry[1]
        else:
            members.append(entry)
    path = tmp_path / "evil.tgz"
    path.write_bytes(_tgz(members, payloads))
    return path


@pytest.mark.parametrize(
    "entries",
    [
        [_file("../evil.yaml")],
        [_file("chart/../../evil.yaml")],
        [_file("/etc/evil.yaml")],
        [_link("chart/link", "/etc/passwd")],
        [_link("chart/link", "../../outside")],
        [_link("chart/y", "."), _link("chart/z", "y/../..")],
        [_link("chart/a", "."), _link("chart/b", "a/../..")],  # lexically inside, physically outside
        [_link("chart/hard", "/etc/passwd", tarfile.LNKTYPE)],
        [_link("chart/dev", "", tarfile.CHRTYPE)],
    ],
)
def test_unsafe_archives_are_refused(tmp_path: Path, entries: list) -> None:  # type: ignore[type-arg]
    archive = _archive(tmp_path, [_file("chart/Chart.yaml"), *entries])
    with pytest.raises(ArchiveError):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.yaml").exists()


def test_archive_size_limits(tmp_path: Path) -> None:
    archive = _archive(tmp_path, [_file("chart/Chart.yaml"), _file("chart/big", b"0" * 2000)])
    with pytest.raises(ArchiveError, match="limit"):
        safe_extract(archive, tmp_path / "a", max_file=1000)
    with pytest.raises(ArchiveError, match="unpacks"):
        safe_extract(archive, tmp_path / "b", max_total=1500)


def test_safe_links_inside_are_kept(tmp_path: Path) -> None:
    archive = _archive(
        tmp_path,
        [
            _file("chart/Chart.yaml"),
            _file("chart/files/a.txt", b"hello"),
            _link("chart/files/b.txt", "a.txt"),
        ],
    )
    out = safe_extract(archive, tmp_path / "ok")
    assert (out / "chart" / "files" / "b.txt").read_text() == "hello"


def test_not_a_tar(tmp_path: Path) -> None:
    path = tmp_path / "x.tgz"
    path.write_bytes(b"this is not a tarball")
    with pytest.raises(ArchiveError):
        safe_extract(path, tmp_path / "out")
