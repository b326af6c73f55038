"""Apps as the report and the context document read them: chart values' route and ingress hosts as
the chart's ``tpl`` renders them (``{{ .Release.Name }}``, ``{{ .Release.Namespace }}``), which public
repositories use for most of their hosts, and a route's ``host.name`` (rook-ceph-cluster's values)."""

from __future__ import annotations

from pathlib import Path

from homeops.api import Workspace
from support import flux_ks, write_tree

RELEASE = """
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: {name}, namespace: media}}
spec:
  {extra}
  chartRef: {{kind: OCIRepository, name: app-template}}
  values:
    route:
      app:
        hostnames: ["{{{{ .Release.Name }}}}.example.net", "static.example.net"]
        parentRefs: [{{name: envoy-internal, namespace: network}}]
      dashboard:  # rook-ceph-cluster's shape
        host: {{name: "dash-{{{{ .Release.Name }}}}.example.net", path: /}}
        parentRefs: [{{name: envoy-internal, namespace: network}}]
    ingress:
      app:
        hosts: [{{host: "{{{{- .Release.Name -}}}}.{{{{ .Release.Namespace }}}}.example.net"}}]
"""


def test_templated_hosts_are_the_releases(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "clusters/home/flux/cluster.yaml": flux_ks("apps", "./apps"),
        "apps/films.yaml": RELEASE.format(name="films", extra="interval: 1h"),
        "apps/books.yaml": RELEASE.format(name="books", extra="releaseName: library"),
        "apps/music.yaml": RELEASE.format(name="music", extra="targetNamespace: audio"),
    })  # fmt: skip
    hosts = {
        (r.kind, h)
        for app in Workspace(root).apps()
        for r in app.routes
        for h in r.hosts
    }  # fmt: skip
    assert hosts == {
        ("values route", "films.example.net"), ("values route", "library.example.net"),
        ("values route", "audio-music.example.net"), ("values route", "static.example.net"),
        ("values route", "dash-films.example.net"), ("values route", "dash-library.example.net"),
        ("values route", "dash-audio-music.example.net"),
        ("values ingress", "films.media.example.net"), ("values ingress", "library.media.example.net"),
        ("values ingress", "audio-music.audio.example.net"),
    }  # fmt: skip
