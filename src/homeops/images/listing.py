"""Every image the rendered clusters run, one row per use, with file:line and whether it is pinned.

The listing reads the render (and, after Helm expansion, chart output) so it shows what is deployed,
not every YAML file that happens to mention an image.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeops.flux.render import ClusterRender
from homeops.flux.workloads import from_chart, resource_images


def image_rows(renders: Iterable[ClusterRender]) -> list[dict[str, Any]]:
    """One row per image use (deduplicated across clusters sharing a file), sorted by place."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in renders:
        for _rk, res in result.objects():
            chart = from_chart(res)
            for use in resource_images(res):
                key = (use.file, use.line, use.image, use.kind, use.name, use.namespace, use.container)
                if key in rows:
                    continue
                rows[key] = {
                    "image": use.image,
                    "pinned": use.pinned,
                    "cluster": result.cluster.name,
                    "kind": use.kind,
                    "namespace": use.namespace,
                    "name": use.name,
                    "container": use.container,
                    "origin": "chart" if chart else use.origin,
                    "file": use.file,
                    "line": use.line,
                    "source": f"{use.file}:{use.line}" if use.file and use.line else (use.file or ""),
                }
    return sorted(rows.values(), key=lambda r: (r["file"] or "", r["line"] or 0, r["image"]))
