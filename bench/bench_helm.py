"""Benchmark: rendering app-template-style HelmReleases of the test chart.

For N releases (default 100), each with its own OCIRepository (as the modern pattern has one per
app) and its own values, measure per-release wall time of:

  cold      empty cache for every release: token/HEAD, manifest, chart layer, extract, load, render
  warm      shared cache filled once: a HEAD per tag-pinned source, then the cached chart is rendered
  pinned    shared cache, digest-pinned sources: no network at all
  helm-cli  one ``helm template`` process per release on the extracted chart (needs a helm binary)

Needs ``docker-registry`` (apt-get install docker-registry) and a Helm engine. Run:

    python bench/bench_helm.py [--releases 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

import registry_support as testing  # noqa: E402
from homeops.helm import render  # noqa: E402
from homeops.helm.cache import Cache  # noqa: E402
from homeops.helm.sources import SourceResolver  # noqa: E402
from homeops.registry.oci.client import RegistryClient  # noqa: E402
from homeops.registry.oci.credentials import CredentialStore  # noqa: E402
from homeops.registry.oci.manifests import HELM_CHART_LAYER  # noqa: E402

CHART_DIR = REPO / "tests" / "helm" / "data" / "testchart"


def release_values(i: int) -> dict[str, Any]:
    """Values shaped like a home-ops app: image pinned by digest, resources with a memory limit."""
    return {
        "image": {"repository": f"ghcr.io/example/app-{i}", "tag": f"v1.{i}.0@sha256:{i:064x}"},
        "replicaCount": 1 + i % 3,
        "podAnnotations": {"reloader.stakater.com/auto": "true"},
        "env": {"TZ": "Europe/Berlin", "APP_INDEX": str(i)},
        "args": ["--port", "8080"],
        "service": {"port": 8000 + i},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": f"{128 + i}Mi"}},
        "monitoring": {"enabled": i % 2 == 0},
    }


def source(url: str, ref: dict[str, str]) -> dict[str, Any]:
    return {
        "spec": {
            "url": url,
            "ref": ref,
            "layerSelector": {"mediaType": HELM_CHART_LAYER, "operation": "copy"},
        }
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=int, default=100)
    args = parser.parse_args()
    n = args.releases
    if testing.registry_binary() is None:
        print("docker-registry is not installed (apt-get install docker-registry)", file=sys.stderr)
        return 2
    try:
        engine = render.get_engine()
    except render.EngineMissingError as exc:
        print(f"no Helm engine: {exc.hint}", file=sys.stderr)
        return 2
    helm_binary = shutil.which("helm") or os.environ.get(render.HELM_BINARY_ENV)
    work = Path(tempfile.mkdtemp(prefix="homeops-bench-"))
    results: dict[str, list[float]] = {}
    try:
        with testing.LocalRegistry(work / "registry") as reg:
            client = RegistryClient(credentials=CredentialStore([]))
            repository = f"{reg.host}/charts/testchart"
            digest = testing.push_chart(
                client,
                repository,
                "1.2.0",
                testing.package_chart(CHART_DIR),
                chart_yaml={"apiVersion": "v2", "name": "testchart", "version": "1.2.0"},
            )
            url = f"oci://{repository}"
            tag_source = source(url, {"tag": "1.2.0"})
            digest_source = source(url, {"digest": digest})
            values = [release_values(i) for i in range(n)]
            api_versions = ["monitoring.coreos.com/v1"]

            def render_one(resolver: SourceResolver, src: dict[str, Any], i: int) -> None:
                chart = resolver.chart_dir(resolver.oci_repository(src))
                objs = render.render_chart(
                    chart,
                    release_name=f"app-{i}",
                    namespace="default",
                    values=values[i],
                    api_versions=api_versions,
                    engine=engine,
                )
                assert objs, "rendered nothing"

            cold: list[float] = []
            for i in range(n):
                resolver = SourceResolver(
                    cache=Cache(work / f"cold-{i}"),
                    client=RegistryClient(credentials=CredentialStore([])),
                )
                start = time.perf_counter()
                render_one(resolver, tag_source, i)
                cold.append(time.perf_counter() - start)
            results["cold"] = cold

            shared = Cache(work / "warm")
            SourceResolver(cache=shared, client=client).oci_repository(tag_source)
            warm: list[float] = []
            for i in range(n):
                resolver = SourceResolver(
                    cache=shared, client=RegistryClient(credentials=CredentialStore([]))
                )
                start = time.perf_counter()
                render_one(resolver, tag_source, i)
                warm.append(time.perf_counter() - start)
            results["warm"] = warm

            pinned: list[float] = []
            for i in range(n):
                resolver = SourceResolver(
                    cache=shared, client=RegistryClient(credentials=CredentialStore([]))
                )
                start = time.perf_counter()
                render_one(resolver, digest_source, i)
                pinned.append(time.perf_counter() - start)
                assert resolver.client.stats.requests == 0
            results["pinned"] = pinned

            if helm_binary:
                cli = render.BinaryEngine(helm_binary)
                chart = SourceResolver(cache=shared, client=client).chart_dir(
                    SourceResolver(cache=shared, client=client).oci_repository(digest_source)
                )
                times: list[float] = []
                for i in range(n):
                    start = time.perf_counter()
                    render.render_chart(
                        chart,
                        release_name=f"app-{i}",
                        namespace="default",
                        values=values[i],
                        api_versions=api_versions,
                        engine=cli,
                    )
                    times.append(time.perf_counter() - start)
                results["helm-cli"] = times
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"engine: {getattr(engine, 'version', engine.name)}; releases: {n}")
    print(f"{'mode':<10} {'median ms':>10} {'p90 ms':>9} {'total s':>9}")
    for mode in ("cold", "warm", "pinned", "helm-cli"):
        if mode not in results:
            print(f"{mode:<10} {'n/a':>10} {'':>9} {'':>9}  (no helm binary on PATH)")
            continue
        samples = sorted(results[mode])
        p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
        print(
            f"{mode:<10} {statistics.median(samples) * 1000:>10.2f} {p90 * 1000:>9.2f} {sum(samples):>9.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
