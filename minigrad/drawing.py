"""Drawings of a computation graph: SVG laid out by minigrad itself, or DOT text for graphviz.

``draw_graph(loss, "graph.svg")`` draws the graph that produced a tensor: each op a box with
its name and output shape, each input or parameter a box of its own, arrows along the data
flow. Ops that ran inside a layer are drawn as one box per call of that layer (``expand=True``,
or a list of layer names, draws their ops instead). Layers are known when the forward ran
inside :func:`minigrad.trace` (or anomaly mode); parameters are named when a ``model`` is given.

Drawn from a trace that covered a backward pass (``draw_graph(t, path)``), every box also shows
the norm of the gradient arriving at its output, every arrow the norm of the gradient that
flowed back along it, and arrows are coloured by that magnitude (blue small, red large, grey
dashed for exactly zero: no gradient flowed, as through a dead ReLU). A plain ``backward()``
keeps no intermediate gradient, so only a trace can show them.

The layout is layered: each box sits one row below the boxes it takes inputs from, boxes of a
row are ordered to keep arrows from crossing, and placed so that no two overlap.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from minigrad import _watch, hooks
from minigrad.autograd import Node, _topological_order
from minigrad.nn.layer import Parameter
from minigrad.tensor import Tensor
from minigrad.tracing import Trace, Value

__all__ = ["draw_graph"]

CHAR_WIDTH, LINE_HEIGHT, PAD = 7.2, 15.0, 8.0  # monospace 12px
LABEL_CHAR = 6.0  # monospace 10px, the arrows' labels
GAP_X, GAP_Y, MARGIN = 28.0, 40.0, 20.0
DUMMY_WIDTH = 10.0
NO_GRAD_COLOR, ZERO_COLOR = "#5f6368", "#b0b4b9"
# blue -> light -> red, for log gradient magnitude from the smallest to the largest drawn
PALETTE = ["#2c7bb6", "#00a6ca", "#90c68b", "#f4b543", "#d7191c"]
FILL = {"op": "#eef3fb", "layer": "#dde8fa", "param": "#fff4d6", "input": "#e6f4ea"}
STROKE = {"op": "#7b8fb5", "layer": "#3e64a8", "param": "#c49a2c", "input": "#3d8b55"}


# ---------------------------------------------------------------------------------------------
# what to draw: ops and leaves, from a tensor's graph or from a trace
# ---------------------------------------------------------------------------------------------
@dataclass
class _Op:
    name: str
    op: str
    layers: tuple[str, ...]
    calls: tuple[int, ...]
    shape: tuple[int, ...]
    inputs: list[str | None]
    value: Value | None = None
    grad: float | None = None
    input_grads: list[float | None] = field(default_factory=list)


@dataclass
class _Leaf:
    name: str
    shape: tuple[int, ...]
    kind: str  # "param" or "input"


def _from_tensor(t: Tensor, model: Any) -> tuple[list[_Op], dict[str, _Leaf]]:
    if t._node is None:
        raise ValueError(
            "draw_graph: this tensor was not computed by recorded operations (it is a leaf, or "
            "was computed under no_grad() from tensors that do not require grad)"
        )
    params = {id(p): n for n, p in model.named_parameters()} if model is not None else {}
    layers = {id(layer): name for name, layer in _watch.layer_names(model)}
    names: dict[int, str] = {}
    leaves: dict[str, _Leaf] = {}
    counts: defaultdict[str, int] = defaultdict(int)

    def leaf_name(leaf: Tensor) -> str:
        if id(leaf) not in names:
            # named as a trace names them: param1, leaf1 (requires grad), input1 (data)
            kind = "leaf" if leaf._accumulates else "input"
            kind = "param" if isinstance(leaf, Parameter) else kind
            counts[kind] += 1
            name = params.get(id(leaf)) or f"{kind}{counts[kind]}"
            names[id(leaf)] = name
            leaves[name] = _Leaf(name, leaf.data.shape, "input" if kind == "input" else "param")
        return names[id(leaf)]

    def source(edge: Any) -> str | None:
        while type(edge) is Node and edge.function in hooks.PASS_THROUGH:
            edge = edge.edges[1]
        if edge is None:
            return None
        return names[id(edge)] if type(edge) is Node else leaf_name(edge)

    ops = []
    for node in _topological_order([t._node], set()):
        if node.function in hooks.PLUMBING:
            continue
        names[id(node)] = f"n{len(ops) + 1}"
        stack = origin.stack if (origin := _watch.origin(node)) is not None else ()
        where = tuple(layers.get(id(layer)) or type(layer).__name__ for layer, _ in stack)
        calls = tuple(call for _, call in stack)
        inputs = [source(edge) for edge in node.edges]
        ops.append(_Op(names[id(node)], node.name, where, calls, node.shape, inputs))
    return ops, leaves


def _from_trace(trace: Trace) -> tuple[list[_Op], dict[str, _Leaf]]:
    ops: dict[str, _Op] = {}
    seen: dict[str, Value] = {}
    for row in trace.rows:
        names = [None if v is None or v.name == "constant" else v.name for v in row.inputs]
        op = ops.get(row.node)
        if op is None:
            op = _Op(row.node, row.op, row.layers, row.calls, row.output.shape, names)
            ops[row.node] = op
            op.input_grads = [None] * len(names)
        if row.phase == "forward":
            op.value = row.output
        else:
            op.grad = row.output.norm
            for i, v in enumerate(row.inputs):
                if v is not None:
                    op.input_grads[i] = v.norm
        seen.update((v.name, v) for v in row.inputs if v is not None)
    leaves = {
        name: _Leaf(name, v.shape, "input" if re.fullmatch(r"input\d+", name) else "param")
        for name, v in seen.items()
        if name not in ops and name != "constant"
    }
    return list(ops.values()), leaves


# ---------------------------------------------------------------------------------------------
# grouping ops into layer boxes
# ---------------------------------------------------------------------------------------------
@dataclass
class _Box:
    kind: str  # "op", "layer", "param" or "input"
    lines: list[str]
    title: str = ""


@dataclass
class _Edge:
    source: int
    target: int
    grad: float | None
    bound: bool = False  # the norm shown is an upper bound (sum of several edges' norms)


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _group(ops: list[_Op], leaves: dict[str, _Leaf], expand: Any) -> tuple[list, list]:
    """Boxes (one per op drawn, layer call, or leaf) and the edges between them.

    An op is drawn inside the box of the outermost layer call around it that is not opened. A
    call is opened when ``expand`` is True or names its layer, and an outermost call that
    holds calls of other layers (the model's) is opened too. A box holds every op that ran
    during its call, nested calls included, so boxes never make the drawing circular.
    """
    nesting = {op.calls[0] for op in ops if len(op.calls) > 1}
    opened = set() if isinstance(expand, bool) else set(expand)

    def box_of(op: _Op) -> Any:
        if expand is True:
            return op.name
        for depth, (layer, call) in enumerate(zip(op.layers, op.calls, strict=True)):
            if not (layer in opened or (depth == 0 and call in nesting)):
                return (layer, call)
        return op.name

    key: dict[str, Any] = {op.name: box_of(op) for op in ops}
    consumers: defaultdict[str, set] = defaultdict(set)
    for op in ops:
        for name in op.inputs:
            if name is not None:
                consumers[name].add(key[op.name])
    for name, leaf in leaves.items():  # a parameter used inside one layer call is drawn in it
        groups = consumers[name]
        single = next(iter(groups)) if len(groups) == 1 else None
        key[name] = single if leaf.kind == "param" and isinstance(single, tuple) else name

    index: dict[Any, int] = {}
    boxes: list[_Box] = []
    members: defaultdict[int, list[_Op]] = defaultdict(list)
    for name, leaf in leaves.items():
        if key[name] == name:
            index[name] = len(boxes)
            boxes.append(_Box(leaf.kind, [leaf.name, _shape(leaf.shape)], title=leaf.name))
    for op in ops:
        if key[op.name] not in index:
            index[key[op.name]] = len(boxes)
            boxes.append(_Box("op" if key[op.name] == op.name else "layer", []))
        members[index[key[op.name]]].append(op)

    for i, group in members.items():
        boxes[i].lines, boxes[i].title = _box_text(group, consumers, key, boxes[i].kind == "layer")

    flows: defaultdict[tuple[int, int], list] = defaultdict(list)
    producer = {op.name: op for op in ops}
    for op in ops:
        for i, name in enumerate(op.inputs):
            if name is None or index[key[name]] == index[key[op.name]]:
                continue
            grad = op.input_grads[i] if i < len(op.input_grads) else None
            flows[(index[key[name]], index[key[op.name]])].append((name, grad))
    edges = []
    for (u, v), parts in flows.items():
        grads = [g for _, g in parts]
        if len(parts) == 1 or None in grads:
            edges.append(_Edge(u, v, grads[0] if len(parts) == 1 else None))
            continue
        names = {n for n, _ in parts}
        whole = len(names) == 1 and len(consumers[next(iter(names))]) == 1
        if whole and next(iter(names)) in producer:  # every use of one result is in this box
            edges.append(_Edge(u, v, producer[next(iter(names))].grad))
        else:
            edges.append(_Edge(u, v, sum(grads), bound=True))
    return boxes, edges


def _box_text(group: list[_Op], consumers: dict, key: dict, layer: bool) -> tuple[list[str], str]:
    """The lines of a box drawn for one op or one layer call, and its tooltip:
    the name, the ops inside (a layer) or the layer it ran in (an expanded op), the shape of
    the result that leaves the box, its value when tiny, the gradient arriving at it."""
    last = next(
        (op for op in reversed(group) if any(c != key[op.name] for c in consumers[op.name])),
        group[-1],
    )
    value = last.value
    if layer:
        name = key[last.name][0]
        kinds = list(dict.fromkeys(op.op for op in group))
        ops = ", ".join(kinds[:3]) + (", ..." if len(kinds) > 3 else "")
        lines = [name, (f"{ops} " if ops != name else "") + _shape(last.shape)]
    else:
        lines = [last.op, _shape(last.shape) + (f" in {last.layers[-1]}" if last.layers else "")]
    if value is not None and value.values is not None and value.values.size <= 4:
        lines.append("= " + value.describe())
    if last.grad is not None:
        lines.append(f"grad {last.grad:.3g}")
    title = "\n".join([*lines, *(f"{op.name}: {op.op} {_shape(op.shape)}" for op in group)])
    return lines, title


# ---------------------------------------------------------------------------------------------
# layered layout
# ---------------------------------------------------------------------------------------------
def _ranks(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Longest-path layering, then every node moved down next to its nearest consumer."""
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        preds[v].append(u)
        succs[u].append(v)
    indegree = [len(p) for p in preds]
    ready = [i for i in range(n) if indegree[i] == 0]
    rank = [0] * n
    order = []
    while ready:
        u = ready.pop()
        order.append(u)
        for v in succs[u]:
            rank[v] = max(rank[v], rank[u] + 1)
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    for u in reversed(order):  # then as low as its consumers allow: close to where it is used
        if succs[u]:
            rank[u] = max(rank[u], min(rank[v] for v in succs[u]) - 1)
    low = min(rank, default=0)
    return [r - low for r in rank]


def _crossings(layers: list[list[int]], segments: dict[int, list[int]], pos: dict) -> int:
    """How many pairs of segments between adjacent rows cross (inversions, by merge sort)."""

    def inversions(values: list[int]) -> tuple[list[int], int]:
        if len(values) < 2:
            return values, 0
        left, a = inversions(values[: len(values) // 2])
        right, b = inversions(values[len(values) // 2 :])
        merged, count, i, j = [], a + b, 0, 0
        while i < len(left) and j < len(right):
            if right[j] < left[i]:
                merged.append(right[j])
                count += len(left) - i
                j += 1
            else:
                merged.append(left[i])
                i += 1
        return merged + left[i:] + right[j:], count

    total = 0
    for layer in layers:
        pairs = sorted((pos[u], pos[v]) for u in layer for v in segments[u])
        total += inversions([v for _, v in pairs])[1]
    return total


def _order(layers: list[list[int]], up: dict, down: dict) -> list[list[int]]:
    """Barycenter sweeps, down and up, keeping the order with the fewest crossings."""

    def positions(ls: list[list[int]]) -> dict[int, int]:
        return {u: i for layer in ls for i, u in enumerate(layer)}

    best = [list(layer) for layer in layers]
    best_crossings = _crossings(best, down, positions(best))
    current = [list(layer) for layer in layers]
    for sweep in range(16):
        pos = positions(current)
        sequence = range(1, len(current)) if sweep % 2 == 0 else range(len(current) - 2, -1, -1)
        for r in sequence:
            near = up if sweep % 2 == 0 else down
            weights = {
                u: (sum(pos[w] for w in near[u]) / len(near[u]) if near[u] else pos[u])
                for u in current[r]
            }
            current[r].sort(key=lambda u: (weights[u], pos[u]))
            pos.update((u, i) for i, u in enumerate(current[r]))
        crossings = _crossings(current, down, pos)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in current], crossings
    return best


def _isotonic(targets: list[float], widths: list[float]) -> list[float]:
    """Centers as close as possible (least squares) to ``targets``, in order, boxes of
    ``widths`` at least ``GAP_X`` apart: pool-adjacent-violators on the shifted targets."""
    offsets = [0.0]
    for a, b in itertools.pairwise(widths):
        offsets.append(offsets[-1] + (a + b) / 2 + GAP_X)
    blocks: list[list[float]] = []  # [mean, count]
    for t, o in zip(targets, offsets, strict=True):
        blocks.append([t - o, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    shifted = [mean for mean, count in blocks for _ in range(int(count))]
    return [s + o for s, o in zip(shifted, offsets, strict=True)]


@dataclass
class _Layout:
    x: list[float]  # centers
    y: list[float]  # tops
    paths: list[list[tuple[float, float]]]  # one polyline per edge, source to target
    width: float
    height: float


def _layout(sizes: list[tuple[float, float]], edges: list[tuple[int, int]]) -> _Layout:
    n = len(sizes)
    rank = _ranks(n, edges)
    widths = [w for w, _ in sizes]
    # A long edge passes through an invisible node in each row it crosses; the long edges of
    # one source share them (a trunk with branches), so a tensor used at many depths (the
    # input of an unrolled network) takes one column, not one per use.
    trunks: dict[int, list[int]] = {}
    chains = []
    for u, v in edges:
        trunk = trunks.setdefault(u, [])
        while rank[u] + len(trunk) + 1 < rank[v]:
            rank.append(rank[u] + len(trunk) + 1)
            widths.append(DUMMY_WIDTH)
            trunk.append(len(rank) - 1)
        chains.append([u, *trunk[: rank[v] - rank[u] - 1], v])
    count = max(rank, default=-1) + 1
    layers: list[list[int]] = [[] for _ in range(count)]
    for u in range(len(rank)):
        layers[rank[u]].append(u)
    up: dict[int, list[int]] = {u: [] for u in range(len(rank))}
    down: dict[int, list[int]] = {u: [] for u in range(len(rank))}
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            if b not in down[a]:
                down[a].append(b)
                up[b].append(a)
    layers = _order(layers, up, down)

    x = [0.0] * len(rank)
    for layer in layers:
        placed = _isotonic([0.0] * len(layer), [widths[u] for u in layer])
        for u, cx in zip(layer, placed, strict=True):
            x[u] = cx
    for sweep in range(24):  # pull each row toward its neighbours, never overlapping
        sequence = layers if sweep % 2 == 0 else layers[::-1]
        for layer in sequence:
            targets = []
            for u in layer:
                near = up[u] + down[u]
                targets.append(sum(x[w] for w in near) / len(near) if near else x[u])
            for u, cx in zip(layer, _isotonic(targets, [widths[u] for u in layer]), strict=True):
                x[u] = cx
    left = min((x[u] - widths[u] / 2 for u in range(len(rank))), default=0.0)
    x = [c - left + MARGIN for c in x]

    tops, heights, y_row = [], [], MARGIN
    for layer in layers:
        tops.append(y_row)
        heights.append(max((sizes[u][1] for u in layer if u < n), default=LINE_HEIGHT))
        y_row += heights[-1] + GAP_Y
    y = [tops[rank[u]] for u in range(len(rank))]
    paths = []
    for chain in chains:
        points = [(x[chain[0]], y[chain[0]] + sizes[chain[0]][1])]
        points += [(x[d], y[d] + heights[rank[d]] / 2) for d in chain[1:-1]]
        points.append((x[chain[-1]], y[chain[-1]]))
        paths.append(points)
    width = max((x[u] + widths[u] / 2 for u in range(len(rank))), default=0.0) + MARGIN
    return _Layout(x[:n], y[:n], paths, width, y_row - GAP_Y + MARGIN)


# ---------------------------------------------------------------------------------------------
# SVG and DOT
# ---------------------------------------------------------------------------------------------
def _color(grad: float | None, low: float, high: float) -> str:
    if grad is None:
        return NO_GRAD_COLOR
    if grad == 0:
        return ZERO_COLOR
    t = 0.5 if high <= low else (math.log10(grad) - low) / (high - low)
    t = min(max(t, 0.0), 1.0) * (len(PALETTE) - 1)
    i = min(int(t), len(PALETTE) - 2)
    a, b = PALETTE[i], PALETTE[i + 1]
    mix = [
        round(int(a[k : k + 2], 16) * (1 - t + i) + int(b[k : k + 2], 16) * (t - i))
        for k in (1, 3, 5)
    ]
    return "#" + "".join(f"{c:02x}" for c in mix)


def _range(edges: list[_Edge]) -> tuple[float, float]:
    logs = [math.log10(e.grad) for e in edges if e.grad is not None and e.grad > 0]
    return (min(logs), max(logs)) if logs else (0.0, 0.0)


def _svg(boxes: list[_Box], edges: list[_Edge], layout: _Layout) -> str:
    low, high = _range(edges)
    has_grads = any(e.grad is not None for e in edges)
    legend = 40.0 if has_grads else 0.0
    width, height = max(layout.width, 480.0 if has_grads else 0.0), layout.height + legend
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.1f} {height:.1f}" font-family="DejaVu Sans Mono, monospace" '
        'font-size="12">',
        f'<rect class="background" width="{width:.1f}" height="{height:.1f}" fill="white"/>',
    ]
    placed: list[tuple[float, float, float, float]] = []  # edge labels, to keep them apart
    for i, (edge, points) in enumerate(zip(edges, layout.paths, strict=True)):
        color = _color(edge.grad, low, high)
        t = 0.5 if edge.grad is None or high <= low else _unit(edge.grad, low, high)
        stroke = 1.2 + 2.3 * t
        dash = ' stroke-dasharray="5,4"' if edge.grad == 0 else ""
        label = "" if edge.grad is None else ("<= " if edge.bound else "") + f"{edge.grad:.3g}"
        tip = f"{boxes[edge.source].lines[0]} -> {boxes[edge.target].lines[0]}"
        tip += f": gradient norm {label}" if label else ""
        tx, ty = points[-1]
        head = f"{tx:.1f},{ty:.1f} {tx - 4.5:.1f},{ty - 9:.1f} {tx + 4.5:.1f},{ty - 9:.1f}"
        out.append(
            f'<g class="edge" id="e{i}" data-source="n{edge.source}" data-target="n{edge.target}">'
            f"<title>{escape(tip)}</title>"
            f'<path d="{_curve(points)}" fill="none" stroke="{color}" '
            f'stroke-width="{stroke:.2f}"{dash}/>'
            f'<polygon points="{head}" fill="{color}"/>'
        )
        if label:
            lx, ly = _label_place(points[-2], points[-1], len(label), placed)
            out.append(
                f'<text class="edge-label" x="{lx:.1f}" y="{ly:.1f}" font-size="10" '
                f'fill="{color}">{escape(label)}</text>'
            )
        out.append("</g>")
    for i, box in enumerate(boxes):
        w, h = _size(box)
        left, top = layout.x[i] - w / 2, layout.y[i]
        radius = 10 if box.kind in ("op", "layer") else 3
        out.append(
            f'<g class="node {box.kind}" id="n{i}"><title>{escape(box.title)}</title>'
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{radius}" '
            f'fill="{FILL[box.kind]}" stroke="{STROKE[box.kind]}" '
            f'stroke-width="{1.8 if box.kind == "layer" else 1.1}"/>'
        )
        for k, line in enumerate(box.lines):
            weight = ' font-weight="bold"' if k == 0 else ""
            out.append(
                f'<text x="{layout.x[i]:.1f}" y="{top + PAD + (k + 0.8) * LINE_HEIGHT:.1f}" '
                f'text-anchor="middle"{weight}>{escape(line)}</text>'
            )
        out.append("</g>")
    if has_grads:
        out.append(_legend(layout.height, low, high))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _label_place(
    start: tuple[float, float], end: tuple[float, float], length: int, placed: list
) -> tuple[float, float]:
    """Where an arrow's label goes: beside the arrow's last stretch (edges sharing a trunk
    part there), at the first spot along it that no label placed before overlaps."""
    width, height = length * LABEL_CHAR + 2, 11.0
    spot = (0.0, 0.0, 0.0, 0.0)
    for t in (0.5, 0.3, 0.7, 0.15, 0.85):
        # the point of the curve drawn by _curve at parameter t (vertical tangents)
        x = start[0] + (end[0] - start[0]) * (3 * t**2 - 2 * t**3)
        y = start[1] + (end[1] - start[1]) * t
        spot = (x + 4, y - 6, width, height)
        if not any(_overlap(spot, other) for other in placed):
            break
    placed.append(spot)
    return spot[0], spot[1] + 9


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _unit(grad: float, low: float, high: float) -> float:
    return 0.0 if grad <= 0 else min(max((math.log10(grad) - low) / (high - low), 0.0), 1.0)


def _curve(points: list[tuple[float, float]]) -> str:
    """A smooth path through ``points``: vertical tangents at each one."""
    d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        bend = (y1 - y0) / 2
        d += f" C{x0:.1f},{y0 + bend:.1f} {x1:.1f},{y1 - bend:.1f} {x1:.1f},{y1:.1f}"
    return d


def _legend(top: float, low: float, high: float) -> str:
    """A colour bar from the smallest to the largest gradient norm drawn, and the zero style."""
    stops = "".join(
        f'<stop offset="{k / (len(PALETTE) - 1):.2f}" stop-color="{c}"/>'
        for k, c in enumerate(PALETTE)
    )
    y = top + 19
    scale = f'<defs><linearGradient id="grad-scale">{stops}</linearGradient></defs>'
    parts = [f'<g class="legend">{scale}']
    x = MARGIN
    for kind, text in (
        ("text", "gradient norm"),
        ("text", f"{10**low:.2g}"),
        ("bar", ""),
        ("text", f"{10**high:.2g}"),
        ("zero", ""),
        ("text", "zero"),
    ):
        if kind == "text":
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}">{escape(text)}</text>')
            x += len(text) * CHAR_WIDTH + 8
        elif kind == "bar":
            parts.append(
                f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="120" height="12" '
                'fill="url(#grad-scale)"/>'
            )
            x += 128
        else:
            parts.append(
                f'<line x1="{x + 16:.1f}" y1="{y - 4:.1f}" x2="{x + 46:.1f}" y2="{y - 4:.1f}" '
                f'stroke="{ZERO_COLOR}" stroke-width="2" stroke-dasharray="5,4"/>'
            )
            x += 54
    parts.append("</g>")
    return "".join(parts)


def _size(box: _Box) -> tuple[float, float]:
    width = max(len(line) for line in box.lines) * CHAR_WIDTH + 2 * PAD + 4
    return width, len(box.lines) * LINE_HEIGHT + 2 * PAD


def _dot(boxes: list[_Box], edges: list[_Edge]) -> str:
    low, high = _range(edges)
    out = [
        "digraph minigrad {",
        '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];',
    ]
    for i, box in enumerate(boxes):
        label = "\\n".join(line.replace('"', '\\"') for line in box.lines)
        out.append(
            f'  n{i} [label="{label}", fillcolor="{FILL[box.kind]}", color="{STROKE[box.kind]}"];'
        )
    for edge in edges:
        attrs = [f'color="{_color(edge.grad, low, high)}"']
        if edge.grad is not None:
            attrs.append(f'label="{"<= " if edge.bound else ""}{edge.grad:.3g}"')
        if edge.grad == 0:
            attrs.append("style=dashed")
        out.append(f"  n{edge.source} -> n{edge.target} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def draw_graph(
    source: Tensor | Trace,
    path: str | Path | None = None,
    *,
    model: Any = None,
    expand: bool | list[str] = False,
    format: str | None = None,
) -> str:
    """Draw the graph behind ``source`` (a tensor, or a :class:`~minigrad.tracing.Trace`) and
    write it to ``path``; returns the text written.

    The format follows ``path``'s suffix (``.svg``, or ``.dot``/``.gv`` for graphviz's DOT),
    or ``format`` (``"svg"`` or ``"dot"``; SVG when neither says). ``model`` names parameters
    and layers when drawing a tensor (a trace already knows its model). Each layer call is one
    box unless ``expand`` is True or lists the layer's dotted name.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> svg = mg.draw_graph((x * x).sum())
        >>> svg.count('class="node'), svg.count('class="edge"')  # x, Mul, Sum
        (3, 2)
    """
    if isinstance(source, Trace):
        ops, leaves = _from_trace(source)
    elif isinstance(source, Tensor):
        ops, leaves = _from_tensor(source, model)
    else:
        raise TypeError(f"draw_graph: expected a Tensor or a trace, got {type(source).__name__}")
    if not ops:
        raise ValueError("draw_graph: the trace recorded no operations")
    kind = format or (Path(path).suffix.lstrip(".").lower() if path is not None else "svg")
    kind = "dot" if kind == "gv" else kind
    if kind not in ("svg", "dot"):
        raise ValueError(f"draw_graph: format must be svg or dot (.svg, .dot, .gv), not {kind!r}")
    boxes, edges = _group(ops, leaves, expand)
    if kind == "dot":
        text = _dot(boxes, edges)
    else:
        layout = _layout([_size(b) for b in boxes], [(e.source, e.target) for e in edges])
        text = _svg(boxes, edges, layout)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
