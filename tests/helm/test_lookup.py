"""Helm's ``lookup`` returns nothing, as ``helm template`` does (no cluster to ask): charts that
branch on an existing object take their first-install path instead of failing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from homeops.helm import render as helm_render

TEMPLATE = """\
{{- $existing := lookup "v1" "Secret" .Release.Namespace "credentials" }}
{{- $everything := lookup "v1" "Namespace" "" "" }}
apiVersion: v1
kind: Secret
metadata:
  name: credentials
stringData:
  found: {{ if $existing }}"yes"{{ else }}"no"{{ end }}
  kind: {{ kindOf $existing | quote }}
  listed: {{ len $everything | quote }}
  password: {{ if $existing }}{{ index $existing.data "password" | b64dec | quote }}{{ else }}"generated"{{ end }}
"""


@pytest.mark.parametrize("engine", ["sdk", "binary"])
def test_lookup_returns_an_empty_map(tmp_path: Path, engine: str) -> None:
    try:
        chosen = helm_render.get_engine(engine)
    except helm_render.EngineMissingError as exc:
        pytest.skip(f"the {engine} Helm engine is not installed: {exc.hint}")
    chart = tmp_path / "lookup"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: lookup\nversion: 0.1.0\n")
    (chart / "templates" / "secret.yaml").write_text(textwrap.dedent(TEMPLATE))
    [secret] = helm_render.render_chart(chart, release_name="r", namespace="apps", engine=chosen)
    assert secret["stringData"] == {"found": "no", "kind": "map", "listed": "0", "password": "generated"}
