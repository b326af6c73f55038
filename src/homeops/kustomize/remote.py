"""Files a kustomization names by URL: ``resources`` entries and generator ``files``/``envs``.

kustomize (and so Flux's kustomize-controller, unless started with ``--no-remote-bases``) reads an
``http://`` or ``https://`` entry by fetching it: a resources entry whose answer is not a manifest is
taken for a remote base (a Git repository), which homeops does not clone. homeops renders offline by
default: :class:`RemoteFiles` is only handed to a build when asked (``--remote``), and every file it
fetches is kept in the cache (area ``remote``, by URL) so that the next render, a diff's other side
and ``--offline``/``HOMEOPS_OFFLINE=1`` runs read the same bytes without the network.

A build that read a remote file leaves a :data:`~homeops.core.files.VOLATILE` fact in the file cache's
recording, so that no render or build using it is taken back from a cache: what the URL serves may
change while no file of the repository does.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from homeops.core import cache, limits
from homeops.core.errors import HomeopsError, UnsupportedError
from homeops.core.files import VOLATILE, FileCache

_MAX_KEPT_BYTES = 256 * 1024 * 1024


def is_remote_file(entry: str) -> bool:
    """An entry kustomize fetches over HTTP(S) as a file: not a Git remote base (``?ref=``, a
    ``//`` subdirectory, ``.git``, ``git::``/``ssh://``/``github.com/...`` forms)."""
    if not entry.startswith(("http://", "https://")):
        return False
    parts = urlsplit(entry)
    return "ref=" not in parts.query and "//" not in parts.path and not parts.path.endswith(".git")


class RemoteFiles:
    """Fetches remote files for builds, each URL once, kept in the cache; ``offline``: the cache only."""

    def __init__(self, *, offline: bool = False) -> None:
        self.offline = offline
        self.fetched: dict[str, bytes] = {}
        self._store = cache.pack("remote", "files", _MAX_KEPT_BYTES)
        self._client: object | None = None

    def read(self, url: str, files: FileCache, what: str, file: str | None, line: int | None) -> bytes:
        """The bytes ``url`` serves (``what``: the entry, for messages), noted in ``files``' recording."""
        files.note(((f"{VOLATILE}remote:{url}", (False, url, "r", None)),))
        found = self.fetched.get(url)
        if found is not None:
            return found
        key = cache.digest(b"remote-file", url.encode("utf-8", "surrogateescape"))
        kept = self._store.get(key) if self._store is not None else None
        if kept is None:
            if self.offline:
                raise UnsupportedError(
                    f"{what}: {url} is not in the cache (offline)",
                    file,
                    line,
                    "run once without --offline (and HOMEOPS_OFFLINE) to fetch it",
                )
            kept = self._fetch(url, what, file, line)
            if self._store is not None:
                self._store.put(key, kept)
        self.fetched[url] = kept
        return kept

    def _fetch(self, url: str, what: str, file: str | None, line: int | None) -> bytes:
        from homeops.registry.oci.client import RegistryClient  # start-up: only when a URL is fetched

        if self._client is None:
            self._client = RegistryClient()
        client = self._client
        assert isinstance(client, RegistryClient)
        try:
            resp = client.http_get(url, max_bytes=limits.current().file_bytes, what=f"{what} {url}")
        except HomeopsError as exc:
            raise HomeopsError(
                f"{what}: cannot fetch {url}: {exc.what}",
                file,
                line,
                exc.hint or "check the URL, or vendor the file into the repository",
            ) from None
        if resp.status >= 300:
            raise HomeopsError(
                f"{what}: HTTP {resp.status} from {url}",
                file,
                line,
                "check the URL, or vendor the file into the repository",
            )
        return bytes(resp.body)
