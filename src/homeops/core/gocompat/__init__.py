"""Go behaviour the renderers must reproduce to the byte, each written once.

kustomize, Flux and go-git are Go programs: how they parse numbers, print JSON, match globs and read
YAML decides what they render. Every module here ports one Go package (or the part of it homeops
needs) and names the Go source it follows:

* :mod:`.strconv` — ``strconv.ParseInt``/``ParseUint``/``ParseFloat``/``ParseBool``/``Atoi`` and
  ``FormatFloat``;
* :mod:`.kyaml` — the text kyaml holds for a scalar (``RNode.YNode().Value``, ``yaml.GetValue``);
* :mod:`.gojson` — ``encoding/json`` output and its float64 round trip;
* :mod:`.pathmatch` — ``path.Match``/``filepath.Match`` globs;
* :mod:`.goyaml_v2` — goyaml.v2 decoding and sigs.k8s.io/yaml ``YAMLToJSON``.
"""
