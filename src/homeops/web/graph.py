"""The ``dependsOn`` graph and the Kustomization tree of a cluster, laid out and drawn as SVG.

The graph uses a layered (Sugiyama) layout from ``grandalf``: each Kustomization sits one layer
right of everything it depends on, layers are ordered to reduce crossings (barycentre sweeps), long
edges are routed through the layers they cross. It is drawn left to right, so a layer is a column of
labels stacked vertically — readable at 80 Kustomizations where a top-down drawing would be a few
thousand pixels wide. Each connected component is laid out on its own band; Kustomizations with no
``dependsOn`` either way are shelved in a grid below, still one node each.

The tree draws who applies whom (a Kustomization's ``parent``) as an indented outline with elbow
connectors: no layout to get wrong, no crossing possible.

Nodes carry ``data-ks`` (``namespace/name``), edges ``data-from``/``data-to`` (dependency → the
Kustomization that waits for it), so tests and readers can check the drawing against the render.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout
from grandalf.routing import route_with_lines

from homeops.api import KustomizationInfo
from homeops.web.page import esc

CHAR_WIDTH = 7.0  # px per character of the 12px label font (DejaVu Sans Mono-like)
NODE_HEIGHT = 24.0
NODE_PAD = 14.0
LAYER_GAP = 70.0  # horizontal room between columns, where the edges run
NODE_GAP = 10.0  # vertical room between nodes of a column
BAND_GAP = 28.0
MARGIN = 16.0


@dataclass
class _View:
    """What grandalf needs of a vertex: its size (w across the layer, h along it) and where it went."""

    w: float
    h: float
    xy: tuple[float, float] = (0.0, 0.0)


@dataclass
class _EdgeView:
    points: list[tuple[float, float]] = field(default_factory=list)

    def setpath(self, points: list[Any]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


@dataclass
class Node:
    key: str
    label: str
    x: float  # left
    y: float  # top
    width: float
    height: float
    status: str
    missing: bool = False

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass
class Link:
    source: str  # the dependency
    target: str  # the Kustomization that depends on it
    points: list[tuple[float, float]]


@dataclass
class Layout:
    nodes: list[Node]
    links: list[Link]
    width: float
    height: float


def _size(label: str) -> float:
    return len(label) * CHAR_WIDTH + 2 * NODE_PAD


def _labeller(namespaces: bool) -> Callable[[str], str]:
    """Labels are ``namespace/name``, or the name alone when every Kustomization shares a namespace."""
    return (lambda key: key) if namespaces else (lambda key: key.split("/", 1)[-1])


def layout_dependencies(kustomizations: Sequence[KustomizationInfo], *, namespaces: bool = True) -> Layout:
    """Positions of every Kustomization and every ``dependsOn`` edge (missing targets become nodes)."""
    label = _labeller(namespaces)
    info = {f"{k.namespace}/{k.name}": k for k in kustomizations}
    keys = list(info)
    edges: list[tuple[str, str]] = []
    for key, k in info.items():
        for dep in k.depends_on:
            if dep not in info and dep not in keys:
                keys.append(dep)  # dependsOn a Kustomization the render does not have
            edges.append((dep, key))
    connected = {a for a, _ in edges} | {b for _, b in edges}
    vertices = {key: Vertex(key) for key in keys if key in connected}
    for key, vertex in vertices.items():
        # laid out top-down, drawn left-right: a vertex's extent along a layer is its drawn height
        vertex.view = _View(w=NODE_HEIGHT, h=_size(label(key)))
    graph_edges = []
    for a, b in edges:
        if a == b:
            continue
        edge = Edge(vertices[a], vertices[b])
        edge.view = _EdgeView()
        graph_edges.append(edge)
    graph = Graph(list(vertices.values()), graph_edges)
    real = set(vertices.values())
    laid: list[tuple[Any, SugiyamaLayout]] = []
    widths: list[float] = []  # per layer index, over every component: columns line up across bands
    for component in sorted(graph.C, key=lambda c: (-len(c.sV), min(v.data for v in c.sV))):
        layout = SugiyamaLayout(component)
        layout.xspace = NODE_GAP
        layout.yspace = LAYER_GAP
        layout.route_edge = route_with_lines
        layout.init_all()
        layout.draw(3)
        laid.append((component, layout))
        for i, layer in enumerate(layout.layers):
            widest = max((v.view.h for v in layer if v in real), default=0.0)
            if i == len(widths):
                widths.append(widest)
            else:
                widths[i] = max(widths[i], widest)
    columns: list[float] = []
    left = MARGIN
    for widest in widths:
        columns.append(left)
        left += widest + LAYER_GAP
    nodes: list[Node] = []
    links: list[Link] = []
    top = MARGIN
    width = 0.0
    for component, layout in laid:
        placed = list(component.sV)
        layer_of = {v: i for i, layer in enumerate(layout.layers) for v in layer}
        low = min(v.view.xy[0] - v.view.w / 2 for v in placed)
        high = 0.0
        for v in placed:
            # grandalf laid the layers out top-down: its x is our row, its layer our column
            y = top + (v.view.xy[0] - v.view.w / 2 - low)
            column = columns[layer_of[v]]
            status = _status(info.get(v.data))
            nodes.append(
                Node(v.data, label(v.data), column, y, v.view.h, NODE_HEIGHT, status, v.data not in info)
            )
            high = max(high, y + NODE_HEIGHT)
            width = max(width, column + v.view.h + MARGIN)
        by_key = {n.key: n for n in nodes}
        for edge in component.sE:
            a, b = edge.v[0].data, edge.v[1].data
            if edge in layout.alt_e:  # grandalf turned the edge around to break a cycle
                a, b = b, a
            start, end = by_key[a], by_key[b]
            middle: list[tuple[float, float]] = []
            for point in edge.view.points[1:-1]:
                # a dummy vertex of a long edge: it crosses its layer's column straight, at its own row
                layer = _nearest_layer(layout, point[1])
                y = top + (point[0] - low)
                middle += [(columns[layer], y), (columns[layer] + widths[layer], y)]
            middle.sort()
            points = [(start.x + start.width, start.center[1]), *middle, (end.x, end.center[1])]
            links.append(Link(a, b, points))
        top = high + BAND_GAP
    # the Kustomizations no dependsOn touches: a grid, still one node each
    lonely = [key for key in keys if key not in connected]
    if lonely:
        cell = max(_size(label(key)) for key in lonely) + NODE_GAP * 2
        per_row = max(1, int(max(width, 900.0) // cell))
        for i, key in enumerate(lonely):
            row, col = divmod(i, per_row)
            x, y = MARGIN + col * cell, top + 22 + row * (NODE_HEIGHT + NODE_GAP)
            size = _size(label(key))
            nodes.append(
                Node(key, label(key), x, y, size, NODE_HEIGHT, _status(info.get(key)), key not in info)
            )
            width = max(width, x + size + MARGIN)
        top = top + 22 + (len(lonely) + per_row - 1) // per_row * (NODE_HEIGHT + NODE_GAP)
    return Layout(nodes, links, max(width, 200.0), top + MARGIN - BAND_GAP + (BAND_GAP if lonely else 0))


def _nearest_layer(layout: SugiyamaLayout, y: float) -> int:
    centres = [sum(v.view.xy[1] for v in layer) / len(layer) if layer else 0.0 for layer in layout.layers]
    return min(range(len(centres)), key=lambda i: abs(centres[i] - y))


def _status(k: KustomizationInfo | None) -> str:
    if k is None:
        return "missing"
    if k.suspend:
        return "suspended"
    return k.status


def _segments(points: Sequence[tuple[float, float]]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return list(itertools.pairwise(points))


def _cross(
    p: tuple[float, float], q: tuple[float, float], r: tuple[float, float], s: tuple[float, float]
) -> bool:
    def orient(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2, d3, d4 = orient(r, s, p), orient(r, s, q), orient(p, q, r), orient(p, q, s)
    return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0) and 0 not in (d1, d2, d3, d4)


def crossings(layout: Layout) -> int:
    """How many pairs of edges cross (edges sharing an end are not counted)."""
    count = 0
    for i, a in enumerate(layout.links):
        for b in layout.links[i + 1 :]:
            if {a.source, a.target} & {b.source, b.target}:
                continue
            if any(_cross(p, q, r, s) for p, q in _segments(a.points) for r, s in _segments(b.points)):
                count += 1
    return count


def overlaps(layout: Layout) -> int:
    """How many pairs of nodes overlap (a readable drawing has none)."""
    count = 0
    for i, a in enumerate(layout.nodes):
        for b in layout.nodes[i + 1 :]:
            if a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height:
                count += 1
    return count


def _path(points: Sequence[tuple[float, float]]) -> str:
    """A smooth left-to-right path through the points (a cubic curve per segment)."""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for x1, y1 in rest:
        mid = (x0 + x1) / 2
        parts.append(f"C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(parts)


def dependency_svg(
    kustomizations: Sequence[KustomizationInfo], *, href: str = "#ks-", namespaces: bool = True
) -> str:
    """The ``dependsOn`` graph of one cluster as an inline SVG (nodes link to ``href`` + key)."""
    layout = layout_dependencies(kustomizations, namespaces=namespaces)
    out = [
        f'<svg class="graph deps" xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}" '
        f'height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" role="img" '
        f'aria-label="dependsOn graph: {len(layout.nodes)} Kustomizations, {len(layout.links)} edges">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ]
    for link in layout.links:
        out.append(
            f'<path class="edge" data-from="{esc(link.source)}" data-to="{esc(link.target)}" '
            f'd="{_path(link.points)}" marker-end="url(#arrow)"><title>{esc(link.target)} dependsOn '
            f"{esc(link.source)}</title></path>"
        )
    connected = {n for link in layout.links for n in (link.source, link.target)}
    lonely = [n for n in layout.nodes if n.key not in connected]
    if lonely:
        out.append(
            f'<text class="shelf" x="{MARGIN:.0f}" y="{lonely[0].y - 8:.0f}">no dependsOn either way '
            f"({len(lonely)})</text>"
        )
    for node in layout.nodes:
        out.append(_node(node, href))
    out.append("</svg>")
    return "".join(out)


def _node(node: Node, href: str) -> str:
    # a dependsOn target the render does not have is drawn (its edge must go somewhere) but is no
    # Flux Kustomization: class "missing", not "ks"
    cls = "node missing" if node.missing else f"node ks status-{node.status}"
    box = (
        f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" rx="5"/>'
        f'<text x="{node.x + NODE_PAD:.1f}" y="{node.y + node.height / 2 + 4:.1f}">{esc(node.label)}</text>'
    )
    title = f"<title>{esc(node.key)} ({esc(node.status)})</title>"
    if node.missing:
        return f'<g class="{cls}" data-ks="{esc(node.key)}">{title}{box}</g>'
    return f'<a href="{esc(href + node.key)}"><g class="{cls}" data-ks="{esc(node.key)}">{title}{box}</g></a>'


def tree_svg(
    kustomizations: Sequence[KustomizationInfo], *, href: str = "#ks-", namespaces: bool = True
) -> str:
    """Who applies whom: each Kustomization under its parent, as an indented outline."""
    label = _labeller(namespaces)
    info = {f"{k.namespace}/{k.name}": k for k in kustomizations}
    children: dict[str | None, list[str]] = {}
    for key, k in info.items():
        parent = k.parent if k.parent in info else None
        children.setdefault(parent, []).append(key)
    rows: list[tuple[str, int, str | None]] = []

    def walk(parent: str | None, depth: int) -> None:
        for key in sorted(children.get(parent, [])):
            rows.append((key, depth, parent))
            walk(key, depth + 1)

    walk(None, 0)
    indent, row_height = 22.0, NODE_HEIGHT + 6
    width = max(
        (MARGIN + depth * indent + _size(label(key)) + MARGIN for key, depth, _ in rows), default=200.0
    )
    height = MARGIN * 2 + len(rows) * row_height
    out = [
        f'<svg class="graph tree" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="Kustomization tree: {len(rows)} Kustomizations">'
    ]
    position: dict[str, tuple[float, float]] = {}
    for i, (key, depth, parent) in enumerate(rows):
        x, y = MARGIN + depth * indent, MARGIN + i * row_height
        position[key] = (x, y)
        if parent is not None:
            px, py = position[parent]
            elbow_x = px + 8
            out.append(
                f'<path class="branch" data-from="{esc(parent)}" data-to="{esc(key)}" '
                f'd="M{elbow_x:.1f},{py + NODE_HEIGHT:.1f} V{y + NODE_HEIGHT / 2:.1f} H{x:.1f}"/>'
            )
        k = info[key]
        node = Node(key, label(key), x, y, _size(label(key)), NODE_HEIGHT, _status(k))
        out.append(_node(node, href))
    out.append("</svg>")
    return "".join(out)
