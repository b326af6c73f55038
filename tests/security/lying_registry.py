"""A registry that lies or stalls: a real HTTP server on loopback speaking just enough of the OCI
distribution API (``/v2/``, manifests by tag or digest, blobs) to be asked for a chart, serving
whatever a test sets — a manifest with wrong-typed fields, a blob longer than its descriptor says, an
answer one byte at a time. It records every request, so a test can tell what was never downloaded.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
CHART_CONFIG = "application/vnd.cncf.helm.config.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class LyingRegistry:
    manifests: dict[str, bytes] = field(default_factory=dict)  # "<repo>:<tag or digest>" -> bytes
    blobs: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    byte_delay: float = 0.0  # seconds between bytes of every answer (0: all at once)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def add_chart(
        self,
        repository: str,
        tag: str,
        archive: bytes,
        *,
        declared_size: int | None = None,
        served: bytes | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> str:
        """A chart at ``repository:tag``; the descriptor may declare another size and the blob
        endpoint serve other bytes; ``manifest`` replaces the manifest altogether. Its digest."""
        config = json.dumps(
            {"apiVersion": "v2", "name": repository.rsplit("/", 1)[-1], "version": tag}
        ).encode()
        layer = digest(archive)
        self.blobs[digest(config)] = config
        self.blobs[layer] = served if served is not None else archive
        body = manifest or {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": CHART_CONFIG, "digest": digest(config), "size": len(config)},
            "layers": [
                {
                    "mediaType": CHART_LAYER,
                    "digest": layer,
                    "size": declared_size if declared_size is not None else len(archive),
                }
            ],
        }
        data = json.dumps(body).encode()
        self.manifests[f"{repository}:{tag}"] = data
        self.manifests[f"{repository}:{digest(data)}"] = data
        return digest(data)

    def __enter__(self) -> LyingRegistry:
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, *, head: bool) -> None:
                registry.requests.append(f"{self.command} {self.path}")
                status, headers, body = registry.route(self.path)
                raw = f"HTTP/1.1 {status} X\r\n".encode()
                headers = {**headers, "Content-Length": str(len(body)), "Connection": "close"}
                raw += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n"
                if not head:
                    raw += body
                self.close_connection = True
                try:
                    if registry.byte_delay:
                        for i in range(len(raw)):
                            self.wfile.write(raw[i : i + 1])
                            self.wfile.flush()
                            time.sleep(registry.byte_delay)
                    else:
                        self.wfile.write(raw)
                except OSError:
                    pass  # the client gave up

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path.rstrip("/") == "/v2":
            return 200, {}, b"{}"
        if "/manifests/" in path:
            repo, ref = path[len("/v2/") :].split("/manifests/", 1)
            data = self.manifests.get(f"{repo}:{ref}")
            if data is None:
                return 404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}'
            return 200, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest(data)}, data
        if "/blobs/" in path:
            blob = self.blobs.get(path.rsplit("/", 1)[-1])
            if blob is None:
                return 404, {}, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}'
            return 200, {"Content-Type": "application/octet-stream"}, blob
        return 404, {}, b""
