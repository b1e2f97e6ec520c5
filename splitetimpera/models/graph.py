"""The model as a graph, its split points, and runnable head and tail modules.

The model is traced with ``torch.fx.symbolic_trace``. Where that fails, the tracer is
retried with the root's direct children as leaves, and last with a module-level hook
trace of the root's children in call order (accepted only if chaining them reproduces the
model). The trace is held as a networkx ``DiGraph`` (:attr:`ModelGraph.nx`).

A split point is a cut after one node in topological order: the head holds every node up
to it, the tail the rest. What crosses the cut (head values the tail still needs) is what
the device transmits. Nodes that do not depend on the input (parameters read with
``get_attr``, constants) never cross: both parts recompute them.

Names are the module path after which the cut lies: the outermost module whose last node
is the cut (``features.16``, ``layer2.1``, ``layer3`` when its last block ends there), else
the node's own module or function name (``layer1.0.relu``, ``layer1.0.add``); a module
called twice gets ``@1`` on its second call. ``input`` is the cut before everything
(remote computing), ``output`` the cut after everything (local computing).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import torch
import torch.fx as fx
import torch.nn as nn

from ..errors import NotFoundError, SeiError, did_you_mean

__all__ = [
    "SplitPoint",
    "ModelGraph",
    "trace",
    "split_points",
    "verify_splits",
    "verify_graph",
    "module_scopes",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitPoint:
    """One cut of the model.

    Attributes:
        name: stable readable name.
        depth: position in forward order (0 = input).
        position: index of the last head node among compute nodes (-1 for input).
        crossing: fx node names of the values crossing the cut, in order.
        shapes: their shapes at batch 1 (None for a non-tensor value).
        head_flops: FLOPs of the head (2 x MACs, as torch.utils.flop_counter counts).
        tail_flops: FLOPs of the tail.
        head_params: parameters the head uses.
        tail_params: parameters the tail uses.
    """

    name: str
    depth: int
    position: int
    crossing: tuple[str, ...]
    shapes: tuple[tuple[int, ...] | None, ...]
    head_flops: int
    tail_flops: int
    head_params: int
    tail_params: int

    @property
    def n_tensors(self) -> int:
        return len(self.crossing)

    def payload(self, bytes_per_element: int) -> int:
        total = 0
        for shape in self.shapes:
            total += 8 if shape is None else math.prod(shape) * bytes_per_element
        return total

    @property
    def shapes_text(self) -> str:
        return ";".join("int" if s is None else "x".join(map(str, s)) for s in self.shapes)

    def as_dict(self) -> dict:
        return {
            "split": self.name,
            "depth": self.depth,
            "n_tensors": self.n_tensors,
            "shapes": self.shapes_text,
            "payload_fp32": self.payload(4),
            "payload_fp16": self.payload(2),
            "payload_int8": self.payload(1),
            "head_flops": self.head_flops,
            "tail_flops": self.tail_flops,
            "head_params": self.head_params,
            "tail_params": self.tail_params,
        }


class _ChildrenLeafTracer(fx.Tracer):
    def __init__(self, root: nn.Module):
        super().__init__()
        self._children = {id(m) for m in root.children()}

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return id(m) in self._children or super().is_leaf_module(m, qualname)


def _hook_trace(model: nn.Module, example: torch.Tensor) -> fx.GraphModule:
    """Chain the root's children in the order a forward pass calls them."""
    order: list[str] = []
    names = {id(m): n for n, m in model.named_children()}
    hooks = [
        m.register_forward_hook(lambda mod, i, o: order.append(names[id(mod)]))
        for m in model.children()
    ]
    try:
        with torch.no_grad():
            reference = model(example)
    finally:
        for h in hooks:
            h.remove()
    graph = fx.Graph()
    value = graph.placeholder("x")
    for name in order:
        value = graph.call_module(name, (value,))
    graph.output(value)
    gm = fx.GraphModule(model, graph)
    with torch.no_grad():
        chained = gm(example)
    if (
        not isinstance(reference, torch.Tensor)
        or chained.shape != reference.shape
        or not torch.allclose(chained, reference, atol=1e-5)
    ):
        raise SeiError(
            f"cannot trace {type(model).__name__}: torch.fx fails on it and its children do "
            "not form a chain; make it fx-traceable or wrap untraceable parts as leaf modules"
        )
    return gm


def trace(model: nn.Module, example: torch.Tensor | None = None) -> fx.GraphModule:
    """An fx GraphModule of ``model`` (eval mode), with the fallbacks described above."""
    model = model.eval()
    try:
        return fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many kinds of errors on untraceable code
        log.info("symbolic_trace failed (%s); retrying with children as leaves", exc)
    try:
        tracer = _ChildrenLeafTracer(model)
        graph = tracer.trace(model)
        return fx.GraphModule(model, graph)
    except Exception as exc:
        log.info("leaf tracing failed (%s); falling back to a hook trace", exc)
    if example is None:
        raise SeiError(f"cannot trace {type(model).__name__} with torch.fx")
    return _hook_trace(model, example)


class _FlatRoot(nn.Module):
    """Holds every module and attribute a graph uses under one flat name."""


def _flatten(gm: fx.GraphModule) -> fx.GraphModule:
    """The same graph, with module calls and attribute reads through flat names.

    fx's generated code reaches ``features.3.conv.1`` through a chain of ``getattr`` calls
    on every forward, about 2 us a node on a CPU; small models run measurably slower than
    their eager form. Flat names make each call one attribute lookup. The module objects
    are shared, not copied; the original path stays in ``node.meta["qualname"]``.
    """
    root = _FlatRoot()
    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    names: dict[str, str] = {}

    def flat(target: str) -> str:
        if target not in names:
            base = "m_" + target.replace(".", "_").replace("@", "_")
            name, k = base, 1
            while hasattr(root, name):
                name, k = f"{base}_{k}", k + 1
            names[target] = name
        return names[target]

    for node in gm.graph.nodes:
        new = graph.node_copy(node, lambda a: env[a])
        if node.op in ("call_module", "get_attr"):
            target = str(node.target)
            name = flat(target)
            if not hasattr(root, name):
                obj = gm.get_submodule(target) if node.op == "call_module" else _attr(gm, target)
                if isinstance(obj, nn.Module):
                    root.add_module(name, obj)
                elif isinstance(obj, nn.Parameter):
                    root.register_parameter(name, obj)
                elif isinstance(obj, torch.Tensor):
                    root.register_buffer(name, obj)
                else:
                    setattr(root, name, obj)
            new.target = name
            new.meta["qualname"] = target
        env[node] = new
    return fx.GraphModule(root, graph, class_name=type(gm).__name__)


def _attr(gm: nn.Module, target: str):
    obj = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def module_scopes(node: fx.Node) -> list[str]:
    """Module paths enclosing a node, outermost first (the node's own module included)."""
    stack = node.meta.get("nn_module_stack") or {}
    scopes = []
    for key, value in stack.items():
        path = value[0] if isinstance(value, tuple) else key
        path = str(path)
        if path and path not in scopes:
            scopes.append(path)
    own = str(node.meta.get("qualname", node.target))
    if node.op == "call_module" and own not in scopes:
        scopes.append(own)
    return scopes


class _Recorder(fx.Interpreter):
    """Runs the graph once, recording each node's output shape and FLOPs."""

    def __init__(self, gm: fx.GraphModule):
        super().__init__(gm)
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.flops: dict[str, int] = {}

    def run_node(self, n: fx.Node):
        from torch.utils.flop_counter import FlopCounterMode

        if n.op in ("placeholder", "output", "get_attr"):
            result = super().run_node(n)
            self.flops[n.name] = 0
        else:
            counter = FlopCounterMode(display=False)
            with counter:
                result = super().run_node(n)
            self.flops[n.name] = int(counter.get_total_flops())
        if isinstance(result, torch.Tensor):
            self.shapes[n.name] = tuple(result.shape[1:])
        else:
            self.shapes[n.name] = None
        return result


class ModelGraph:
    """A traced model with its split points.

    Args:
        model: the module (put in eval mode).
        input_shape: (C, H, W) at batch 1.
    """

    def __init__(self, model: nn.Module, input_shape: tuple[int, int, int]):
        self.model = model.eval()
        self.input_shape = tuple(input_shape)
        param = next(self.model.parameters(), None)
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        # an example input of its own generator: tracing leaves the global random state alone
        generator = torch.Generator().manual_seed(0)
        example = torch.randn(1, *self.input_shape, dtype=dtype, generator=generator)
        _check_runs(self.model, example)
        self.gm = _flatten(trace(self.model, example))
        graph_nodes = list(self.gm.graph.nodes)
        placeholders = [n for n in graph_nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise SeiError(
                f"{type(model).__name__} takes {len(placeholders)} inputs; sei splits single-input models"
            )
        self.placeholder = placeholders[0]
        self.output = next(n for n in graph_nodes if n.op == "output")
        self.dependent = self._input_dependent(graph_nodes)
        self.compute = [
            n
            for n in graph_nodes
            if n.op not in ("placeholder", "output") and n.name in self.dependent
        ]
        recorder = _Recorder(self.gm)
        with torch.no_grad():
            recorder.run(example)
        self.shapes = recorder.shapes
        self.flops = recorder.flops
        self.nx = self._to_networkx(graph_nodes)
        self._param_table = self._node_params()
        self.points = self._split_points()
        self._by_name = {p.name: p for p in self.points}

    # ------------------------------------------------------------------ analysis

    def _input_dependent(self, nodes: list[fx.Node]) -> set[str]:
        dependent: set[str] = set()
        for n in nodes:
            if n.op == "placeholder" or any(a.name in dependent for a in n.all_input_nodes):
                dependent.add(n.name)
        return dependent

    def _to_networkx(self, nodes: list[fx.Node]) -> nx.DiGraph:
        g = nx.DiGraph()
        for n in nodes:
            g.add_node(
                n.name,
                op=n.op,
                target=str(n.target),
                shape=self.shapes.get(n.name),
                flops=self.flops.get(n.name, 0),
                dependent=n.name in self.dependent,
            )
            for a in n.all_input_nodes:
                g.add_edge(a.name, n.name)
        return g

    def _node_params(self) -> dict[str, list[tuple[int, int]]]:
        """(tensor id, numel) of the parameters each node uses."""
        modules = dict(self.gm.named_modules())
        out: dict[str, list[tuple[int, int]]] = {}
        for n in self.gm.graph.nodes:
            tensors: list[torch.Tensor] = []
            if n.op == "call_module":
                tensors = list(modules[str(n.target)].parameters())
            elif n.op == "get_attr":
                obj = _attr(self.gm, str(n.target))
                if isinstance(obj, torch.Tensor):
                    tensors = [obj]
            if tensors:
                out[n.name] = [(id(t), t.numel()) for t in tensors]
        return out

    def _params_of(self, names: set[str]) -> int:
        seen: dict[int, int] = {}
        for name in names:
            for key, numel in self._param_table.get(name, ()):
                seen[key] = numel
        return sum(seen.values())

    def _free_inputs(self, names: set[str]) -> set[str]:
        """Input-independent nodes the given nodes need (recursively)."""
        needed: set[str] = set()
        stack = [a for n in self.gm.graph.nodes if n.name in names for a in n.all_input_nodes]
        while stack:
            a = stack.pop()
            if a.name in self.dependent or a.name in needed:
                continue
            needed.add(a.name)
            stack.extend(a.all_input_nodes)
        return needed

    def _names(self) -> list[str]:
        """A readable, unique name for the cut after each compute node."""
        compute = self.compute
        scopes = [module_scopes(n) for n in compute]
        last_of: dict[str, int] = {}
        for i, sc in enumerate(scopes):
            for s in sc:
                last_of[s] = i
        calls: dict[str, int] = {}
        used: set[str] = {"input", "output"}
        names: list[str] = []
        for i, n in enumerate(compute):
            call_name = None
            if n.op == "call_module":
                target = str(n.meta.get("qualname", n.target))
                k = calls.get(target, 0)
                calls[target] = k + 1
                call_name = target if k == 0 else f"{target}@{k}"
            completed = [s for s in scopes[i] if last_of[s] == i]  # outermost first
            if completed:
                name = completed[0]
                if call_name is not None and name == str(n.meta.get("qualname", n.target)):
                    name = call_name
            elif call_name is not None:
                name = call_name
            else:
                parent = scopes[i][-1] if scopes[i] else ""
                op = _op_name(n)
                key = f"{parent}.{op}" if parent else op
                k = calls.get(key, 0)
                calls[key] = k + 1
                name = key if k == 0 else f"{key}@{k}"
            base, k = name, 1
            while name in used:
                name = f"{base}#{k}"
                k += 1
            used.add(name)
            names.append(name)
        return names

    def _split_points(self) -> list[SplitPoint]:
        compute = self.compute
        index = {n.name: i for i, n in enumerate(compute)}
        total_flops = sum(self.flops.get(n.name, 0) for n in compute)
        names = self._names()
        users_left: dict[str, int] = {}
        for n in [self.placeholder, *compute]:
            users_left[n.name] = sum(
                1 for u in n.users if u.name in self.dependent or u.op == "output"
            )
        live: list[str] = [self.placeholder.name]
        points: list[SplitPoint] = []
        head: set[str] = {self.placeholder.name}
        head_flops = 0
        all_names = {n.name for n in compute}

        def make(name: str, depth: int, position: int) -> SplitPoint:
            tail = all_names - head
            head_nodes = head | self._free_inputs(head)
            tail_nodes = tail | self._free_inputs(tail | {self.output.name})
            return SplitPoint(
                name=name,
                depth=depth,
                position=position,
                crossing=tuple(live),
                shapes=tuple(self.shapes.get(c) for c in live),
                head_flops=head_flops,
                tail_flops=total_flops - head_flops,
                head_params=self._params_of(head_nodes),
                tail_params=self._params_of(tail_nodes),
            )

        points.append(make("input", 0, -1))
        for i, n in enumerate(compute):
            head.add(n.name)
            head_flops += self.flops.get(n.name, 0)
            for a in n.all_input_nodes:
                if a.name in users_left:
                    users_left[a.name] -= 1
            live = [v for v in live if users_left.get(v, 0) > 0]
            if users_left.get(n.name, 0) > 0:
                live.append(n.name)
            # keep crossing values in forward order
            live.sort(key=lambda v: index.get(v, -1))
            if i == len(compute) - 1:
                points.append(make("output", len(points), i))
            elif n.users:  # a node nothing uses (an assert) cuts where its predecessor did
                points.append(make(names[i], len(points), i))
        return points

    # ------------------------------------------------------------------ splitting

    def point(self, name: str) -> SplitPoint:
        found = self._by_name.get(name)
        if found is None:
            hint = did_you_mean(name, self._by_name)
            raise NotFoundError(f"no split {name!r}{hint} (`sei splits` lists them)")
        return found

    def _copy(self, graph: fx.Graph, env: dict, node: fx.Node) -> fx.Node:
        new = graph.node_copy(node, lambda a: env[a.name])
        env[node.name] = new
        return new

    def head(self, name: str) -> fx.GraphModule:
        """The head at ``name``: input -> the crossing value (a tuple when several)."""
        point = self.point(name)
        graph = fx.Graph()
        env: dict[str, fx.Node] = {}
        self._copy(graph, env, self.placeholder)
        members = {n.name for n in self.compute[: point.position + 1]}
        members |= self._free_inputs(members)
        for n in self.gm.graph.nodes:
            if n.name in members:
                self._copy(graph, env, n)
        values = [env[c] for c in point.crossing]
        graph.output(values[0] if len(values) == 1 else tuple(values))
        return fx.GraphModule(self.gm, graph, class_name="Head")

    def tail(self, name: str) -> fx.GraphModule:
        """The tail at ``name``: the head's output (value or tuple) -> the logits."""
        point = self.point(name)
        graph = fx.Graph()
        env: dict[str, fx.Node] = {}
        arg = graph.placeholder("crossing")
        if len(point.crossing) == 1:
            env[point.crossing[0]] = arg
        else:
            for k, c in enumerate(point.crossing):
                env[c] = graph.call_function(_getitem, (arg, k))
        members = {n.name for n in self.compute[point.position + 1 :]}
        members |= self._free_inputs(members | {self.output.name})
        for n in self.gm.graph.nodes:
            if n.name in members and n.name not in env:
                self._copy(graph, env, n)
        self._copy(graph, env, self.output)
        return fx.GraphModule(self.gm, graph, class_name="Tail")


def _op_name(node: fx.Node) -> str:
    """A function's or method's short name (``add``, ``flatten``, ``cat``)."""
    target = node.target
    if isinstance(target, str):
        return target
    name = getattr(target, "__name__", None) or str(target)
    return name.strip("_") or "op"


def _getitem(value, index: int):
    return value[index]


def _check_runs(model: nn.Module, example: torch.Tensor) -> None:
    """One forward pass first, so that an input the model cannot take is one line, not a
    tracer's traceback."""
    try:
        with torch.no_grad():
            model(example)
    except Exception as exc:  # the model's own message says what is wrong
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        shape = "x".join(map(str, example.shape[1:]))
        raise SeiError(
            f"{type(model).__name__} does not run on a {shape} input ({detail}); give the "
            "input shape it expects (--input, or model.input in a scenario)"
        ) from None


def split_points(model: nn.Module, input_shape: tuple[int, int, int]) -> list[SplitPoint]:
    """All split points of ``model`` in forward order."""
    return ModelGraph(model, input_shape).points


def verify_splits(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    progress: Callable[[int, int, str], None] | None = None,
    seed: int = 0,
    modules: bool = False,
) -> dict[str, float]:
    """Largest |tail(head(x)) - model(x)| per split on random input (batch 2).

    See :func:`verify_graph`.
    """
    return verify_graph(ModelGraph(model, input_shape), progress, seed, modules)


def verify_graph(
    graph: ModelGraph,
    progress: Callable[[int, int, str], None] | None = None,
    seed: int = 0,
    modules: bool = False,
) -> dict[str, float]:
    """Largest |tail(head(x)) - model(x)| per split of ``graph``, on random input (batch 2).

    The default check takes one forward pass of the traced graph and keeps, at every cut,
    the values that cross it as they stand there (in-place operations included). From the
    values crossing one cut alone, the nodes up to the next cut run again, as that cut's
    tail would run them, and must give exactly (bitwise) the values crossing the next
    cut; the last cut's values give the output, which is compared with the model's. A
    split whose values do not carry on exactly runs its whole rest from its own values
    and reports that output's difference; one whose rest needs a value that does not
    cross reports infinity (and the splits before it, whose own values may hold what it
    lacks, run their whole rest). This is exact: a tail whose first steps reproduce the
    next cut's values runs, from there on, the same operations on the same values as the
    next cut's tail. It costs about two forward passes however many splits there are.
    It runs the graph's nodes, not the Python code generated for each head and tail.

    ``modules=True`` generates and runs every split's head and tail modules instead (the
    check of the code generation too): a forward pass and two code generations per split.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, *graph.input_shape, generator=gen)
    with torch.no_grad():
        reference = graph.model(x.clone())
        if modules:
            return _verify_modules(graph, x, reference, progress)
        return _CutChecker(graph, reference, progress).check(x)


def _verify_modules(graph: ModelGraph, x, reference, progress) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, p in enumerate(graph.points):
        result = graph.tail(p.name)(graph.head(p.name)(x.clone()))
        out[p.name] = float((result - reference).abs().max())
        if progress is not None:
            progress(i + 1, len(graph.points), p.name)
    return out


def _snapshot(value):
    """A copy of ``value`` that later in-place operations cannot change."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (tuple, list)):
        return type(value)(_snapshot(v) for v in value)
    return value


def _same(a, b) -> bool:
    """Bitwise equality of two values (tensors, or containers of them, or plain values)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and torch.equal(a, b)
        )
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return bool(a == b)


class _CutChecker(fx.Interpreter):
    """One forward pass that checks, cut after cut, that each cut's values alone carry the
    computation on to the next cut's values (see :func:`verify_graph`)."""

    def __init__(self, graph: ModelGraph, reference, progress):
        super().__init__(graph.gm)
        self.model_graph = graph  # (fx.Interpreter owns self.graph)
        self.reference = reference
        self.progress = progress
        self.nodes = {n.name: n for n in graph.gm.graph.nodes}
        self.at_position = {p.position: p for p in graph.points}
        self.position = {n.name: i for i, n in enumerate(graph.compute)}
        self.free: dict[str, object] = {}  # input-independent values: tails recompute them
        self.runner = fx.Interpreter(graph.gm, garbage_collect_values=False)
        self.previous: tuple[SplitPoint, dict] | None = None
        self.status: dict[str, float | None] = {}  # None: carries on to the next cut
        self.whole: set[str] = set()  # second pass: splits whose whole rest runs

    def check(self, x: torch.Tensor) -> dict[str, float]:
        output = self.run(x.clone())
        final = float((output - self.reference).abs().max())
        # A split that carries on to one whose tail cannot run may still run itself (its
        # own values may hold what the later cut lacks): run its whole rest.
        self.whole = self._chained_to_failures()
        if self.whole:
            self.previous = None
            self.run(x.clone())
        out: dict[str, float] = {}
        for p in reversed(self.model_graph.points):
            found = self.status.get(p.name)
            final = final if found is None else found
            out[p.name] = final
        return {p.name: out[p.name] for p in self.model_graph.points}

    def _chained_to_failures(self) -> set[str]:
        chained, failing = set(), False
        for p in reversed(self.model_graph.points):
            found = self.status.get(p.name)
            if found is None:
                if failing:
                    chained.add(p.name)
            else:
                failing = math.isinf(found)
        return chained

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        if n.op == "placeholder":
            self._cut(self.model_graph.points[0], n, result)
        elif n.name not in self.model_graph.dependent:
            self.free[n.name] = result
        elif n.op != "output" and self.position[n.name] in self.at_position:
            self._cut(self.at_position[self.position[n.name]], n, result)
        return result

    def _cut(self, point: SplitPoint, node: fx.Node, result) -> None:
        """At ``point``: its crossing values now; check the previous cut carries on to them."""
        values = {
            c: _snapshot(result if c == node.name else self.env[self.nodes[c]])
            for c in point.crossing
        }
        if self.whole:
            if point.name in self.whole:
                self.status[point.name] = self._rest(point, values)
            return
        if self.previous is not None:
            before, start = self.previous
            try:
                env = self._rerun(start, before.position + 1, point.position)
                carried = all(c in env and _same(env[c], values[c]) for c in point.crossing)
            except Exception as exc:  # a tail that cannot run is a failed split
                self.status[before.name] = _failed(before, exc)
            else:
                self.status[before.name] = None if carried else self._rest(before, start)
        self.previous = (point, values)
        if self.progress is not None:
            self.progress(point.depth + 1, len(self.model_graph.points), point.name)

    def _rest(self, point: SplitPoint, start: dict) -> float:
        """The difference of the output that the whole rest gives from ``start`` alone."""
        try:
            graph = self.model_graph
            env = self._rerun(start, point.position + 1, len(graph.compute) - 1)
            self.runner.env = {a: self._value(a, env) for a in graph.output.all_input_nodes}
            result = self.runner.run_node(graph.output)
        except Exception as exc:
            return _failed(point, exc)
        return float((result - self.reference).abs().max())

    def _rerun(self, start: dict, first: int, last: int) -> dict:
        """Values of the compute nodes first..last run from ``start`` (and free values)."""
        env: dict[str, object] = {c: _snapshot(v) for c, v in start.items()}
        for node in self.model_graph.compute[first : last + 1]:
            self.runner.env = {a: self._value(a, env) for a in node.all_input_nodes}
            env[node.name] = self.runner.run_node(node)
        return env

    def _value(self, node: fx.Node, env: dict):
        if node.name in env:
            return env[node.name]
        if node.name in self.free:
            return self.free[node.name]
        raise KeyError(f"{node.name} is needed but does not cross the cut")


def _failed(point: SplitPoint, exc: Exception) -> float:
    log.warning("split %s: its tail cannot run from what crosses it (%s: %s)",
                point.name, type(exc).__name__, exc)  # fmt: skip
    return math.inf
