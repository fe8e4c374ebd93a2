"""draw_graph: well-formed SVG with one element per box and arrow, labels, no overlapping boxes;
layer calls collapsed (or expanded), gradients coloured from a trace; DOT text too."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> dict:
    """Boxes (id -> kind, rectangle, text lines) and arrows (source, target, colour, label)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    boxes, arrows = {}, []
    for group in root.iter(f"{SVG}g"):
        classes = group.get("class", "").split()
        if "node" in classes:
            rect = group.find(f"{SVG}rect")
            box = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
            lines = [t.text for t in group.findall(f"{SVG}text")]
            boxes[group.get("id")] = (classes[1], box, lines)
        elif "edge" in classes:
            path = group.find(f"{SVG}path")
            label = group.find(f"{SVG}text")
            arrows.append(
                (
                    group.get("data-source"),
                    group.get("data-target"),
                    path.get("stroke"),
                    path.get("stroke-dasharray"),
                    None if label is None else label.text,
                )
            )
    return {"boxes": boxes, "arrows": arrows, "root": root}


def assert_no_overlap(boxes: dict) -> None:
    rects = [box for _, box, _ in boxes.values()]
    for i, (x0, y0, w0, h0) in enumerate(rects):
        for x1, y1, w1, h1 in rects[i + 1 :]:
            apart = x0 + w0 <= x1 or x1 + w1 <= x0 or y0 + h0 <= y1 or y1 + h1 <= y0
            assert apart, f"boxes overlap: {(x0, y0, w0, h0)} and {(x1, y1, w1, h1)}"


def assert_arrows_point_down(graph: dict) -> None:
    """Data flows down the page: every arrow ends below the box it starts from."""
    boxes = graph["boxes"]
    for source, target, *_ in graph["arrows"]:
        assert boxes[source][1][1] < boxes[target][1][1], (source, target)


def mlp(depth: int = 3) -> nn.Sequential:
    layers: list = []
    for _ in range(depth):
        layers += [nn.Linear(4, 4), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(4, 2))


def test_a_tensor_graph_has_one_box_per_op_and_leaf_and_one_arrow_per_use(tmp_path: Path) -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = ((x * w).exp() + x).sum()
    path = tmp_path / "g.svg"
    text = mg.draw_graph(loss, path)
    assert path.read_text() == text
    graph = parse(text)
    kinds = sorted(kind for kind, _, _ in graph["boxes"].values())
    assert kinds == ["op", "op", "op", "op", "param", "param"]  # Mul Exp Add Sum, x, w
    labels = {lines[0]: lines for _, _, lines in graph["boxes"].values()}
    assert labels["Mul"] == ["Mul", "(2,)"]
    assert labels["Sum"] == ["Sum", "()"]
    assert labels["leaf1"][1] == "(2,)"
    assert len(graph["arrows"]) == 6  # x->Mul w->Mul Mul->Exp Exp->Add x->Add Add->Sum
    assert_no_overlap(graph["boxes"])
    assert_arrows_point_down(graph)


def test_layers_collapse_into_one_box_per_call_and_expand_on_request(rng) -> None:
    model = mlp(3)
    with mg.trace(model) as trace:
        model(rng.standard_normal((5, 4))).sum().backward()
    collapsed = parse(mg.draw_graph(trace))
    names = sorted(lines[0] for kind, _, lines in collapsed["boxes"].values() if kind == "layer")
    assert names == ["0", "1", "2", "3", "4", "5", "6"]
    assert sum(kind == "param" for kind, _, _ in collapsed["boxes"].values()) == 0  # inside
    expanded = parse(mg.draw_graph(trace, expand=True))
    params = [lines[0] for kind, _, lines in expanded["boxes"].values() if kind == "param"]
    assert sorted(params) == sorted(n for n, _ in model.named_parameters())
    ops = [lines for kind, _, lines in expanded["boxes"].values() if kind == "op"]
    assert ops[1][:2] == ["ReLU", "(5, 4) in 1"]
    one = parse(mg.draw_graph(trace, expand=["2"]))
    assert {lines[0] for kind, _, lines in one["boxes"].values() if kind == "param"} == {
        "2.weight",
        "2.bias",
    }
    for graph in (collapsed, expanded, one):
        assert_no_overlap(graph["boxes"])
        assert_arrows_point_down(graph)


def test_arrows_from_a_backward_trace_are_coloured_by_gradient_and_zero_is_dashed(rng) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with mg.no_grad():
        model[0].bias.data[...] = -100.0  # every ReLU unit off: no gradient gets through
    with mg.trace(model) as trace:
        model(rng.standard_normal((2, 3))).sum().backward()
    graph = parse(mg.draw_graph(trace))
    arrows = {
        (graph["boxes"][s][2][0], graph["boxes"][t][2][0]): (color, dash, label)
        for s, t, color, dash, label in graph["arrows"]
    }
    color, dash, label = arrows[("0", "1")]
    assert (dash, label) == ("5,4", "0")  # the dead ReLU sends nothing back
    color, dash, label = arrows[("1", "2")]
    assert dash is None and float(label) > 0 and re.fullmatch(r"#[0-9a-f]{6}", color)
    assert "grad" in " ".join(graph["boxes"]["n2"][2] + graph["boxes"]["n3"][2])
    legend = graph["root"].find(f"{SVG}g[@class='legend']")
    assert legend is not None


def test_a_forward_only_drawing_has_no_gradients(rng) -> None:
    model = mlp(1)
    svg = mg.draw_graph(model(rng.standard_normal((2, 4))).sum(), model=model)
    graph = parse(svg)
    assert all(label is None for *_, label in graph["arrows"])
    assert "legend" not in svg
    params = [lines[0] for kind, _, lines in graph["boxes"].values() if kind == "param"]
    assert sorted(params) == sorted(n for n, _ in model.named_parameters())


class Cell(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.w_xh = nn.Parameter(np.eye(3))
        self.w_hh = nn.Parameter(np.eye(3) * 0.5)
        self.act = nn.Tanh()

    def forward(self, x, h):
        return self.act(x @ self.w_xh + h @ self.w_hh)


class Unrolled(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.cell = Cell()

    def forward(self, xs):
        h = mg.zeros(xs.shape[1], 3)
        for t in range(xs.shape[0]):
            h = self.cell(xs[t], h)
        return h


def test_an_unrolled_cell_is_one_box_per_step_with_its_nested_layer_inside(rng) -> None:
    model = Unrolled()
    with mg.trace(model) as trace:
        model(rng.standard_normal((4, 2, 3))).sum().backward()
    graph = parse(mg.draw_graph(trace))
    cells = [lines for kind, _, lines in graph["boxes"].values() if kind == "layer"]
    assert len(cells) == 4
    assert cells[0][:2] == ["cell", "MatMul, Add, Tanh (2, 3)"]
    shared = [lines[0] for kind, _, lines in graph["boxes"].values() if kind == "param"]
    assert sorted(shared) == ["cell.w_hh", "cell.w_xh"]  # used by every step: drawn once
    assert_no_overlap(graph["boxes"])
    assert_arrows_point_down(graph)


def test_a_residual_layer_never_draws_a_cycle(rng) -> None:
    class Residual(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Linear(3, 3)

        def forward(self, x):
            return x + self.inner(x).relu()

    model = Residual()
    with mg.trace(model) as trace:
        model(rng.standard_normal((2, 3))).sum().backward()
    graph = parse(mg.draw_graph(trace))
    kinds = sorted(lines[0] for _, _, lines in graph["boxes"].values())
    assert kinds == ["Add", "ReLU", "Sum", "inner", "input1"]
    assert_arrows_point_down(graph)


def test_hundreds_of_nodes_lay_out_quickly_without_overlap(rng) -> None:
    x = mg.tensor(rng.standard_normal(4), requires_grad=True)
    h, outputs = x, []
    for i in range(150):  # a long chain with side branches to the end
        h = (h * 0.9).tanh()
        if i % 10 == 0:
            outputs.append(h.sum())
    loss = mg.stack(outputs).sum()
    began = time.perf_counter()
    graph = parse(mg.draw_graph(loss))
    assert time.perf_counter() - began < 20
    assert len(graph["boxes"]) == 300  # the chain past the last output is not part of it
    assert_no_overlap(graph["boxes"])
    assert_arrows_point_down(graph)


def test_dot_text_has_the_same_boxes_and_arrows(rng, tmp_path: Path) -> None:
    model = mlp(1)
    with mg.trace(model) as trace:
        model(rng.standard_normal((2, 4))).sum().backward()
    dot = mg.draw_graph(trace, tmp_path / "g.dot")
    svg = parse(mg.draw_graph(trace))
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    assert len(re.findall(r"^  n\d+ \[label=", dot, re.M)) == len(svg["boxes"])
    assert len(re.findall(r"^  n\d+ -> n\d+ ", dot, re.M)) == len(svg["arrows"])
    assert mg.draw_graph(trace, format="dot") == dot


def test_bad_sources_and_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="not computed by recorded operations"):
        mg.draw_graph(mg.tensor([1.0]))
    with pytest.raises(TypeError, match="expected a Tensor or a trace"):
        mg.draw_graph(np.ones(2))
    with pytest.raises(ValueError, match="format must be svg or dot"):
        mg.draw_graph(mg.tensor([1.0], requires_grad=True) * 2, "graph.png")
    with mg.trace() as empty:
        pass
    with pytest.raises(ValueError, match="recorded no operations"):
        mg.draw_graph(empty)
