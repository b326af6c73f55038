"""Images an operator's custom resource names (flux/workloads.custom_images): the keys and shapes
operators use, only references with a tag or a digest, never Kubernetes' or Flux's own objects, and
what the image listing and HO009 make of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.api import Workspace
from homeops.core import yamlio
from homeops.flux.workloads import custom_images, resource_images
from homeops.kustomize.resource import Resource
from support import write_tree


def uses(text: str) -> list[tuple[str, str, int | None]]:
    [doc] = yamlio.load_all(text, "cr.yaml")
    return [(u.image, u.container, u.line) for u in resource_images(Resource.from_obj(doc, "cr.yaml"))]


def test_the_keys_and_shapes_operators_use() -> None:
    found = uses("""\
apiVersion: example.io/v1
kind: Thing
metadata: {name: t}
spec:
  imageName: ghcr.io/o/db:16.1
  image:
    repository: ghcr.io/o/app
    tag: v2
  exporterImage: ghcr.io/o/exporter@sha256:0000000000000000000000000000000000000000000000000000000000000000
  podTemplate:
    spec:
      containers:
        - name: side
          image: docker.io/library/busybox:1.36
""")
    assert found == [
        ("ghcr.io/o/db:16.1", "spec.imageName", 5),
        ("ghcr.io/o/app:v2", "spec.image", 8),
        (
            "ghcr.io/o/exporter@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "spec.exporterImage",
            9,
        ),
        ("docker.io/library/busybox:1.36", "spec.podTemplate.spec.containers.0.image", 14),
    ]


@pytest.mark.parametrize(
    "text",
    [
        # a bare repository: what an operator scans (Flux's ImageRepository) or completes itself
        "apiVersion: example.io/v1\nkind: Plan\nmetadata: {name: p}\nspec: {upgrade: {image: rancher/k3s-upgrade}}\n",
        "apiVersion: example.io/v1\nkind: T\nmetadata: {name: t}\nspec: {image: 'ghcr.io/o/a:{{ .Values.tag }}'}\n",
        "apiVersion: example.io/v1\nkind: T\nmetadata: {name: t}\nspec: {image: 'ghcr.io/o/a:${TAG}'}\n",
        # Kubernetes' and Flux's own groups: not custom resources
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: {name: p}\nspec: {image: ghcr.io/o/a:1}\n",
        "apiVersion: networking.k8s.io/v1\nkind: Thing\nmetadata: {name: t}\nspec: {image: ghcr.io/o/a:1}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {image: 'ghcr.io/o/a:1'}\n",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: c}\n"
        "spec: {versions: [{schema: {openAPIV3Schema: {properties: {image: {type: string}}}}}]}\n",
    ],
    ids=["bare repository", "chart template", "variable", "flux group", "k8s.io group", "core", "crd"],
)
def test_what_is_not_an_image_use(text: str) -> None:
    assert uses(text) == []


def test_listed_and_reported_when_not_pinned(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/home/flux/apps.yaml": """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: apps, namespace: flux-system}
            spec: {interval: 1h, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
            """,
        "apps/kustomization.yaml": "resources: [db.yaml]\n",
        "apps/db.yaml": """
            apiVersion: postgresql.cnpg.io/v1
            kind: Cluster
            metadata: {name: postgres, namespace: database}
            spec:
              instances: 1
              imageName: ghcr.io/cloudnative-pg/postgresql:16.1
            """,
    })  # fmt: skip
    ws = Workspace(tmp_path)
    [image] = ws.images()
    assert (image.image, image.origin, image.container, image.file, image.line) == (
        "ghcr.io/cloudnative-pg/postgresql:16.1",
        "resource",
        "spec.imageName",
        "apps/db.yaml",
        6,
    )
    [finding] = [f for f in ws.check().findings if f.rule == "HO009"]
    assert (finding.file, finding.line) == ("apps/db.yaml", 6)
    assert "of Cluster postgres (field spec.imageName)" in finding.message
    assert list(custom_images(Resource.from_obj({"apiVersion": "v1", "kind": "Pod", "spec": {}}, "p"))) == []
