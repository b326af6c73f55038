"""Chart sources resolved the way Flux's source-controller resolves them.

``OCIRepository`` (tag, semver, digest; layer selector with copy or extract), ``HelmRepository`` of
``type: oci`` and of plain HTTP (``index.yaml``), and charts kept in this Git repository. Everything
downloaded lands in the content-addressed :class:`~homeops.helm.cache.Cache`; with ``offline=True``
only the cache is read and a miss is an error that names what is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from homeops.core import fs, limits
from homeops.core.errors import HomeopsError
from homeops.core.fs import real as fs_real
from homeops.core.profile import DEFAULT, Profile
from homeops.core.shape import as_list, as_map
from homeops.helm import archive
from homeops.helm.cache import Cache
from homeops.helm.semver import Constraint, SemverError, Version, best_match
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.errors import RegistryError
from homeops.registry.oci.manifests import HELM_CHART_LAYER, Manifest
from homeops.registry.oci.references import Reference, is_digest, parse_reference

MAX_INDEX_BYTES = 64 * 1024 * 1024
DEFAULT_PLATFORM = ("linux", "amd64")

try:
    from yaml.cyaml import CSafeLoader as _IndexLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _IndexLoader  # type: ignore[assignment]


class SourceError(HomeopsError):
    """A chart source that cannot be resolved (not found, offline cache miss, bad spec)."""


@dataclass(frozen=True)
class Artifact:
    """What a source resolved to: ``path`` is a file (``copy``, chart archives) or a directory."""

    url: str
    revision: str
    digest: str
    path: Path
    media_type: str | None = None


@dataclass(frozen=True)
class ResolvedChart:
    path: Path
    name: str
    version: str
    artifact: Artifact | None = None


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec") if "spec" in obj else obj
    return spec if isinstance(spec, Mapping) else {}


def _where(obj: Mapping[str, Any]) -> tuple[str | None, int | None]:
    return getattr(obj, "file", None), getattr(obj, "line", None) or None


def _object_name(obj: Mapping[str, Any], kind: str) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else None
    if meta and meta.get("name"):
        ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
        return f"{kind} {ns}{meta['name']}"
    return kind


class SourceResolver:
    """Resolves chart sources to local paths, filling and reading the cache."""

    def __init__(
        self,
        *,
        cache: Cache | None = None,
        client: RegistryClient | None = None,
        offline: bool = False,
        profile: Profile = DEFAULT,
    ) -> None:
        self.cache = cache if cache is not None else Cache()
        self.client = (
            client if client is not None else RegistryClient(insecure_registries=profile.insecure_registries)
        )
        self.offline = offline
        self.profile = profile
        # what one run resolved, for the next release of the same chart: a tag's digest is asked once
        # (a HEAD), a source once (manifest, layer, extraction), so N releases of one chart cost one
        self._tag_digests: dict[tuple[str, str, bool], str] = {}
        self._tag_lists: dict[tuple[str, bool], list[str]] = {}
        self._artifacts: dict[str, Artifact] = {}

    # -- helpers ----------------------------------------------------------------------------

    def _offline_miss(self, what: str, file: str | None, line: int | None) -> SourceError:
        return SourceError(
            f"offline: {what} is not in the cache ({self.cache.root})",
            file,
            line,
            "run once without --offline to fill the cache, or pin ref.digest",
        )

    def _manifest(
        self, ref: Reference, digest: str, insecure: bool, file: str | None, line: int | None
    ) -> Manifest:
        data = self.cache.read_blob(digest)
        if data is not None:
            media_type = ""
            with contextlib.suppress(RegistryError):
                media_type = str(Manifest(digest, "", data).json.get("mediaType") or "")
            return Manifest(digest, media_type, data)
        if self.offline:
            raise self._offline_miss(f"manifest {ref.name}@{digest}", file, line)
        manifest = self._net(
            lambda: self.client.get_manifest(ref.with_digest(digest), insecure=insecure), file, line
        )
        self._net(
            lambda: (manifest.layers, manifest.manifests, manifest.config), file, line
        )  # checked first:
        self.cache.put_blob(manifest.data, digest)  # a malformed manifest is never cached
        return manifest

    def _blob(
        self,
        ref: Reference,
        digest: str,
        insecure: bool,
        max_bytes: int,
        file: str | None,
        line: int | None,
    ) -> Path:
        path = self.cache.blob_path(digest)
        if os.path.isfile(path):
            return path
        if self.offline:
            raise self._offline_miss(f"blob {ref.name}@{digest}", file, line)
        self._net(
            lambda: self.client.fetch_blob(ref, digest, path, max_bytes=max_bytes, insecure=insecure),
            file,
            line,
        )
        return path

    @staticmethod
    def _net(call: Any, file: str | None, line: int | None) -> Any:
        """Attach the source's location to registry errors."""
        try:
            return call()
        except HomeopsError as exc:
            if exc.file is None and file is not None:
                exc.file, exc.line = file, line
            raise

    def _platform_manifest(
        self, ref: Reference, index: Manifest, insecure: bool, file: str | None, line: int | None
    ) -> Manifest:
        entries = index.manifests
        if not entries:
            raise SourceError(f"{ref} is an empty index", file, line)
        chosen = entries[0]
        for entry in entries:
            platform = entry.platform or {}
            if (platform.get("os"), platform.get("architecture")) == DEFAULT_PLATFORM:
                chosen = entry
                break
        return self._manifest(ref, chosen.digest, insecure, file, line)

    def _resolve_tag(
        self, ref: Reference, tag: str, insecure: bool, file: str | None, line: int | None
    ) -> str:
        key = f"{ref.name}:{tag}"
        seen = self._tag_digests.get((ref.name, tag, insecure))
        if seen is not None:
            return seen
        if self.offline:
            cached = self.cache.get_ref("oci-tag", key)
            if not isinstance(cached, str):
                raise self._offline_miss(f"tag {key}", file, line)
            found = cached
        else:
            descriptor = self._net(
                lambda: self.client.head_manifest(ref.with_tag(tag), insecure=insecure), file, line
            )
            self.cache.put_ref("oci-tag", key, descriptor.digest)
            found = str(descriptor.digest)
        self._tag_digests[(ref.name, tag, insecure)] = found
        return found

    def _tags(self, ref: Reference, insecure: bool, file: str | None, line: int | None) -> list[str]:
        seen = self._tag_lists.get((ref.name, insecure))
        if seen is not None:
            return list(seen)
        tags = self._fetch_tags(ref, insecure, file, line)
        self._tag_lists[(ref.name, insecure)] = tags
        return list(tags)

    def _fetch_tags(self, ref: Reference, insecure: bool, file: str | None, line: int | None) -> list[str]:
        if self.offline:
            cached = self.cache.get_ref("oci-tags", ref.name)
            if not isinstance(cached, list):
                raise self._offline_miss(f"the tag list of {ref.name}", file, line)
            return [str(t) for t in cached]
        tags: list[str] = self._net(lambda: self.client.list_tags(ref, insecure=insecure), file, line)
        self.cache.put_ref("oci-tags", ref.name, tags)
        return tags

    # -- OCIRepository ----------------------------------------------------------------------

    def oci_repository(self, obj: Mapping[str, Any]) -> Artifact:
        """An ``OCIRepository`` (object or spec): the selected layer, copied or extracted (once a run
        for every source with the same URL, ref and layer selector: apps share charts)."""
        spec = _spec(obj)
        same = json.dumps(
            {k: spec.get(k) for k in ("url", "ref", "layerSelector", "insecure")}, sort_keys=True, default=str
        )
        found = self._artifacts.get(same)
        if found is None:
            found = self._artifacts[same] = self._oci_repository(obj)
        return found

    def _oci_repository(self, obj: Mapping[str, Any]) -> Artifact:
        spec = _spec(obj)
        file, line = _where(obj)
        what = _object_name(obj, "OCIRepository")
        url = str(spec.get("url") or "")
        if not url.startswith("oci://"):
            raise SourceError(f"{what}: spec.url must start with oci://, got {url!r}", file, line)
        base = parse_reference(url, file=file, line=line)
        insecure = bool(spec.get("insecure", False))
        ref_spec = as_map(spec.get("ref"))
        if not isinstance(ref_spec, Mapping):
            raise SourceError(f"{what}: spec.ref must be a mapping", file, line)
        tag: str | None = None
        if ref_spec.get("digest"):
            digest = str(ref_spec["digest"])
            if not is_digest(digest):
                raise SourceError(
                    f"{what}: invalid ref.digest {digest!r}", file, line, "expected sha256:<64 hex digits>"
                )
            revision = digest
        else:
            if ref_spec.get("semver"):
                tags = self._tags(base, insecure, file, line)
                pattern = ref_spec.get("semverFilter")
                if pattern:
                    try:
                        regex = re.compile(str(pattern))
                    except re.error as exc:
                        raise SourceError(f"{what}: invalid semverFilter: {exc}", file, line) from None
                    tags = [t for t in tags if regex.search(t)]
                try:
                    tag = best_match(tags, str(ref_spec["semver"]))
                except SemverError as exc:
                    raise SourceError(f"{what}: {exc.what}", file, line, exc.hint) from None
                if tag is None:
                    raise SourceError(
                        f"{what}: no tag of {base.name} matches semver {ref_spec['semver']!r}",
                        file,
                        line,
                        f"{len(tags)} tags seen; check the constraint",
                    )
            else:
                tag = str(ref_spec.get("tag") or base.tag or "latest")
            digest = self._resolve_tag(base, tag, insecure, file, line)
            revision = f"{tag}@{digest}"
        manifest = self._manifest(base, digest, insecure, file, line)
        if manifest.is_index:
            manifest = self._platform_manifest(base, manifest, insecure, file, line)
        layers = manifest.layers
        selector = as_map(spec.get("layerSelector"))
        media_type = str(selector.get("mediaType") or "") if isinstance(selector, Mapping) else ""
        operation = (
            str(selector.get("operation") or "extract") if isinstance(selector, Mapping) else "extract"
        )
        if operation not in ("extract", "copy"):
            raise SourceError(
                f"{what}: layerSelector.operation must be extract or copy, got {operation!r}", file, line
            )
        if media_type:
            matching = [layer for layer in layers if layer.media_type == media_type]
            if not matching:
                raise SourceError(
                    f"{what}: no layer with media type {media_type} in {base.name}@{digest}",
                    file,
                    line,
                    f"layers: {', '.join(sorted({d.media_type for d in layers})) or 'none'}",
                )
            layer = matching[0]
        elif layers:
            layer = layers[0]
        else:
            raise SourceError(f"{what}: {base.name}@{digest} has no layers", file, line)
        limit = limits.current().chart_bytes
        if layer.size > limit:  # the descriptor says so: refused before a byte is downloaded
            raise limits.LimitError(
                f"{what}: the layer of {base.name}@{digest} is {layer.size} bytes, over the limit of {limit}",
                file,
                line,
                "raise limits.chart_bytes in .homeops.yaml if this chart is that large",
            )
        # the descriptor's size is also the most the registry may send (a blob that says 12 bytes)
        blob = self._blob(base, layer.digest, insecure, layer.size or limit, file, line)
        path = blob
        if operation == "extract":
            path = self._extract(blob, layer.digest, "extract", f"layer of {base.name}")
        return Artifact(url=url, revision=revision, digest=digest, path=path, media_type=layer.media_type)

    # -- HelmRepository ---------------------------------------------------------------------

    def helm_chart(self, repository: Mapping[str, Any], chart: str, version: str | None = None) -> Artifact:
        """A chart from a ``HelmRepository`` (``type: oci`` or HTTP ``index.yaml``): a ``.tgz`` path."""
        spec = _spec(repository)
        file, line = _where(repository)
        what = _object_name(repository, "HelmRepository")
        url = str(spec.get("url") or "").rstrip("/")
        constraint = str(version).strip() if version not in (None, "") else "*"
        if spec.get("type") == "oci" or url.startswith("oci://"):
            return self.oci_chart(url, chart, constraint, bool(spec.get("insecure", False)), what, file, line)
        if not url.startswith(("http://", "https://")):
            raise SourceError(f"{what}: spec.url must be http(s):// or oci://, got {url!r}", file, line)
        return self.http_chart(url, chart, constraint, what, file, line)

    def oci_chart(
        self,
        url: str,
        chart: str,
        constraint: str,
        insecure: bool,
        what: str,
        file: str | None,
        line: int | None,
    ) -> Artifact:
        ref = parse_reference(f"{url}/{chart}", file=file, line=line)
        exact = Version.parse(constraint)
        if exact is not None and exact.original == constraint:
            tag = constraint.replace("+", "_")
        else:
            tags = self._tags(ref, insecure, file, line)
            try:
                found = best_match(tags, constraint, transform=lambda t: t.replace("_", "+"))
            except SemverError as exc:
                raise SourceError(f"{what}: {exc.what}", file, line, exc.hint) from None
            if found is None:
                raise SourceError(f"{what}: no version of chart {chart} matches {constraint!r}", file, line)
            tag = found
        obj = {
            "spec": {
                "url": f"oci://{ref.name}",
                "ref": {"tag": tag},
                "insecure": insecure,
                "layerSelector": {"mediaType": HELM_CHART_LAYER, "operation": "copy"},
            }
        }
        return self.oci_repository(obj)

    def _http_get(self, url: str, max_bytes: int, what: str, file: str | None, line: int | None) -> bytes:
        resp = self._net(lambda: self.client.http_get(url, max_bytes=max_bytes, what=what), file, line)
        if resp.status == 404:
            raise SourceError(
                f"{what} not found: HTTP 404 from {url}", file, line, "check the repository URL"
            )
        if resp.status >= 300:
            raise SourceError(f"{what}: HTTP {resp.status} from {url}", file, line)
        return bytes(resp.body)

    def http_chart(
        self, url: str, chart: str, constraint: str, what: str, file: str | None, line: int | None
    ) -> Artifact:
        index_url = f"{url}/index.yaml"
        if self.offline:
            digest = self.cache.get_ref("helm-index", index_url)
            data = self.cache.read_blob(digest) if isinstance(digest, str) else None
            if data is None:
                raise self._offline_miss(f"repository index {index_url}", file, line)
        else:
            data = self._http_get(index_url, MAX_INDEX_BYTES, f"{what} index", file, line)
            self.cache.put_ref("helm-index", index_url, self.cache.put_blob(data))
        try:
            index = yaml.load(data, Loader=_IndexLoader)
        except yaml.YAMLError as exc:
            raise SourceError(f"{what}: index.yaml is not valid YAML: {exc}", file, line) from None
        entries = (index or {}).get("entries", {}).get(chart) if isinstance(index, dict) else None
        if not entries:
            raise SourceError(f"{what}: chart {chart!r} is not in {index_url}", file, line)
        by_version = {str(e.get("version")): e for e in entries if isinstance(e, dict) and e.get("version")}
        try:
            picked = best_match(by_version, constraint)
        except SemverError as exc:
            raise SourceError(f"{what}: {exc.what}", file, line, exc.hint) from None
        if picked is None:
            raise SourceError(f"{what}: no version of chart {chart} matches {constraint!r}", file, line)
        entry = by_version[picked]
        urls = as_list(entry.get("urls"))
        if not urls:
            raise SourceError(f"{what}: chart {chart} {picked} has no download URL", file, line)
        chart_url = urllib.parse.urljoin(url + "/", str(urls[0]))
        expected = (
            f"sha256:{entry['digest']}"
            if re.fullmatch(r"[a-f0-9]{64}", str(entry.get("digest", "")))
            else None
        )
        digest = expected or self.cache.get_ref("helm-chart", chart_url)
        if isinstance(digest, str) and self.cache.has_blob(digest):
            path = self.cache.blob_path(digest)
        elif self.offline:
            raise self._offline_miss(f"chart archive {chart_url}", file, line)
        else:
            limit = limits.current().chart_bytes
            blob = self._http_get(chart_url, limit, f"chart {chart} {picked}", file, line)
            try:
                digest = self.cache.put_blob(blob, expected)
            except HomeopsError:
                raise SourceError(
                    f"{what}: chart archive {chart_url} does not match the digest in index.yaml", file, line
                ) from None
            self.cache.put_ref("helm-chart", chart_url, digest)
            path = self.cache.blob_path(digest)
        return Artifact(url=chart_url, revision=f"{picked}@{digest}", digest=str(digest), path=path)

    # -- charts on disk ---------------------------------------------------------------------

    def chart_dir(self, artifact: Artifact) -> Path:
        """The extracted chart directory of an artifact (archives unpack once, by digest)."""
        path = artifact.path
        if os.path.isdir(path):
            return archive.find_chart_root(path, artifact.url)
        limit = limits.current().chart_bytes
        if path.stat().st_size > limit:
            self.cache.discard_blob(path)
            raise limits.LimitError(
                f"chart archive {artifact.url} is {path.stat().st_size} bytes, over the limit of {limit}",
                None,
                None,
                "raise limits.chart_bytes in .homeops.yaml if this chart is that large",
            )
        digest = (
            self.cache.put_blob(fs.read_regular(path, artifact.url, max_bytes=limit))
            if not path.is_relative_to(self.cache.root)
            else "sha256:" + path.name
        )
        target = self._extract(self.cache.blob_path(digest), digest, "charts", f"chart {artifact.url}")
        return archive.find_chart_root(target, artifact.url)

    def _extract(self, blob: Path, digest: str, kind: str, what: str) -> Path:
        """An archive unpacked once, by digest; one that is refused leaves nothing in the cache."""
        try:
            return archive.safe_extract(blob, self.cache.extracted_dir(kind, digest), what=what)
        except HomeopsError:
            self.cache.discard_blob(blob)
            raise

    @staticmethod
    def local_chart(
        repo_root: Path, chart_path: str, *, file: str | None = None, line: int | None = None
    ) -> Path:
        """A chart kept in this repository (``chart: ./path`` on a GitRepository source)."""
        root = repo_root.resolve()
        candidate = Path(fs_real(root / chart_path))
        if candidate != root and not candidate.is_relative_to(root):
            raise SourceError(f"chart path {chart_path!r} is outside the repository", file, line)
        if os.path.isdir(candidate):
            if not os.path.isfile(candidate / "Chart.yaml"):
                raise SourceError(
                    f"{chart_path} has no Chart.yaml", file, line, "point chart: at the chart directory"
                )
            try:  # Helm's loader follows links itself: none may leave the repository
                fs.Boundary.at(root).check_tree(candidate, f"chart {chart_path}")
            except HomeopsError as exc:
                exc.file, exc.line = file, line
                raise
            return candidate
        if os.path.isfile(candidate):
            return candidate
        raise SourceError(f"chart path {chart_path!r} does not exist in the repository", file, line)

    # -- HelmRelease ------------------------------------------------------------------------

    def chart_for_release(
        self,
        release: Mapping[str, Any],
        sources: Mapping[tuple[str, str, str], Mapping[str, Any]],
        *,
        repo_root: Path,
    ) -> ResolvedChart:
        """The chart a ``HelmRelease`` installs; ``sources`` maps (kind, namespace, name) to objects."""
        spec = _spec(release)
        file, line = _where(release)
        meta = as_map(release.get("metadata"))
        namespace = str(meta.get("namespace") or "default")
        what = _object_name(release, "HelmRelease")
        if isinstance(spec.get("chartRef"), Mapping):
            ref = spec["chartRef"]
            kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
            source = sources.get((kind, str(ref.get("namespace") or namespace), name))
            if source is None:
                raise SourceError(
                    f"{what}: chartRef {kind} {name} not found", file, line, "add the source object"
                )
            if kind != "OCIRepository":
                raise SourceError(
                    f"{what}: chartRef kind {kind} is not supported", file, line, "use an OCIRepository"
                )
            artifact = self.oci_repository(source)
            path = self.chart_dir(artifact)
            return ResolvedChart(path, path.name, artifact.revision.split("@")[0], artifact)
        chart_spec = as_map(spec.get("chart")).get("spec") if isinstance(spec.get("chart"), Mapping) else None
        if not isinstance(chart_spec, Mapping):
            raise SourceError(f"{what}: neither spec.chartRef nor spec.chart.spec is set", file, line)
        source_ref = as_map(chart_spec.get("sourceRef"))
        kind, name = str(source_ref.get("kind", "")), str(source_ref.get("name", ""))
        chart = str(chart_spec.get("chart") or "")
        if kind == "GitRepository":
            path = self.local_chart(repo_root, chart, file=file, line=line)
            if os.path.isfile(path):
                artifact = Artifact(url=str(path), revision="", digest="", path=path)
                path = self.chart_dir(artifact)
            return ResolvedChart(path, path.name, str(chart_spec.get("version") or ""), None)
        source = sources.get((kind, str(source_ref.get("namespace") or namespace), name))
        if source is None:
            raise SourceError(
                f"{what}: sourceRef {kind} {name} not found", file, line, "add the source object"
            )
        if kind != "HelmRepository":
            raise SourceError(f"{what}: sourceRef kind {kind} is not supported", file, line)
        artifact = self.helm_chart(source, chart, chart_spec.get("version"))
        path = self.chart_dir(artifact)
        return ResolvedChart(path, chart, artifact.revision.split("@")[0], artifact)


def constraint_is_valid(text: str) -> bool:
    try:
        Constraint.parse(text)
    except SemverError:
        return False
    return True
