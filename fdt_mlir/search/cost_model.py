"""The arena a tiling plan needs, predicted without lowering the model.

The lowered program is a sequence of units, each a kernel or a tiled path,
in the order fdt-schedule gives them; its buffers are the units' own
(scratch, per-tile buffers, accumulators) and the tensors passed between
units. A unit's buffers and the steps that touch them do not depend on the
rest of the model, so each unit is lowered once on its own, as a function
of its inputs (memoised: a search asks for the same unit many times), and
the program's buffers are composed from those signatures: each tensor lives
from the step of its producer that writes it to the last step of a reader
that reads it. The layout planner then places the composed buffers exactly
as fdt-plan-memory places the lowered ones, because it only compares steps
and composition keeps their order. Tests check the prediction against the
lowered program to the byte.

In overlap mode (fdt.overlap) a unit's signature also says how far each of
its buffers may overlap an input it consumes (analysis.safe_overlap on the
unit's own function, where an input is a function argument). Composed, a
unit's output or scratch may overlap one of its inputs only where the unit
is that input's last reader and it is no model output, as fdt-plan-memory
finds on the lowered program.
"""

import dataclasses
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import func

from .. import pipeline
from ..analysis.abstract_execution import count_macs
from ..analysis.kernels import function_body, kernels_of, location_name
from ..analysis.liveness import collect_buffers
from ..analysis.safe_overlap import may_share, overlap_gaps
from ..analysis.schedule_graph import schedule_graph
from ..analysis.sizes import byte_size
from ..dialect.ops import add_paths, paths_of, state_marks
from ..planning.directions import Choice, plan_directions, relaxed, split_by_step
from ..planning.execution_order import best_order
from ..planning.layout import Interval, Layout, Overlap, peak_live_bytes
from ..rewrites.untie import untie_empty_tensors, untie_initializers
from ..tiling_plan import Path
from . import signature_cache


@dataclass(frozen=True)
class Signature:
    """What a unit does to memory, in steps relative to its first one."""

    steps: int
    input_last: tuple  # the last step reading each input, None if unread
    # Per output: (first step, the input it is a view of or None, bytes, the
    # earlier output it is a view of or None).
    outputs: tuple
    scratch: tuple  # (bytes, first, last) of the unit's own buffers
    macs: int
    # Overlap mode: (input, output, gap, above, step, backward) where buffer
    # `output` may share bytes with buffer `input` it consumes, starting
    # `gap` bytes below it, or above it if `above` (see
    # planning.layout.Overlap), while the unit's step `step` runs forwards
    # or `backward` (step None: either way; see planning.directions);
    # buffers as ("input", n), ("scratch", n) or ("output", k).
    overlaps: tuple = ()


@dataclass(frozen=True)
class Unit:
    name: str  # the last kernel's: the one writing the unit's output
    kernels: tuple
    path: Path | None
    inputs: tuple  # activation values read from outside the unit
    # Who produced each input: a kernel name, or the model argument's number
    # (values themselves hash differently once the IR changes).
    sources: tuple
    # The values read outside the unit: its last kernel's output, and for a
    # kernel alone its other outputs (`Kernel.outputs`).
    outputs: tuple

    @property
    def key(self) -> str:
        return self.path.notation() if self.path else self.name

    @property
    def output(self) -> ir.Value:
        return self.outputs[0]


@dataclass
class Prediction:
    arena: int
    layout: Layout
    buffers: list  # Interval, with key naming the producing unit or model I/O
    macs: int


class CostModel:
    """Predicts arenas and MACs of plans for one model (linalg on tensors,
    untiled, as TOSA_TO_LINALG leaves it)."""

    def __init__(self, module: ir.Module, overlap: bool = False):
        # A copy: fills and empty tensors that CSE shares between kernels are
        # untied, as tiling does, so that each kernel reads only activations.
        self.module = pipeline.copy_module(module)
        self.overlap = overlap  # outputs may overlap consumed inputs (fdt.overlap)
        for _, op in paths_of(self.module.operation):
            op.erase()  # the plans to price come as arguments
        untie_initializers(function_body(self.module.operation))
        untie_empty_tensors(self.module.operation)
        # Units are lowered in copies parsed from bytecode: fast, and owned
        # by a Module as passes need.
        self._bytecode = pipeline.bytecode(self.module)
        self.block = function_body(self.module.operation)
        self.kernels = kernels_of(self.block)
        self.by_name = {k.name: k for k in self.kernels}
        self._position = {op.operation: i for i, op in enumerate(self.block.operations)}
        self.model_outputs = list(self.block.operations[len(self.block.operations) - 1].operands)
        fn = self.block.owner
        self.state_args = state_marks(fn, "arg_attrs")
        self.state_results = state_marks(fn, "res_attrs")
        # A kernel's outputs other than its root's, by place: each its own
        # buffer, as the lowered program has.
        self._extra = {
            self._place(v): f"{k.name}#out{n}" for k in self.kernels for n, v in enumerate(k.outputs()) if n > 0
        }
        self._units: dict = {}
        self._signatures: dict = {}
        self._orders: dict = {}
        self.macs_untiled = sum(self.signature(u).macs for u in self.units([]))

    def units(self, paths: list[Path]) -> list[Unit]:
        in_path = {name: p for p in paths for name in p.kernels}
        units = []
        for kernel in self.kernels:
            path = in_path.get(kernel.name)
            if path is None:
                units.append(self._unit((kernel,), None))
            elif kernel.name == path.kernels[-1]:
                units.append(self.unit_of(path))
        return units

    def unit_of(self, path: Path) -> Unit:
        return self._unit(tuple(self.by_name[n] for n in path.kernels), path)

    def _unit(self, kernels: tuple, path):
        # Memoised: every prediction and bound of the search asks for them.
        key = path.notation() if path else kernels[-1].name
        if key not in self._units:
            inputs = tuple(_external_inputs(kernels))
            sources = tuple(self._source(v) for v in inputs)
            names = tuple(k.name for k in kernels)
            outputs = tuple(kernels[-1].outputs()) if path is None else (kernels[-1].root.results[0],)
            self._units[key] = Unit(kernels[-1].name, names, path, inputs, sources, outputs)
        return self._units[key]

    def _place(self, value) -> tuple:
        return self._position[value.owner.operation], ir.OpResult(value).result_number

    def _source(self, value):
        """Who produced `value`: the model argument's number, the kernel's
        name for its root's output, or the key of another output."""
        if isinstance(value, ir.BlockArgument):
            return value.arg_number
        return self._extra.get(self._place(value), location_name(value.owner))

    def _output_keys(self, unit: Unit) -> list:
        return [unit.name] + [self._extra[self._place(v)] for v in unit.outputs[1:]]

    def signature(self, unit: Unit) -> Signature:
        if unit.key not in self._signatures:
            cut = self._cut(unit)
            path = unit.path.notation() if unit.path else ""
            name = signature_cache.key(self._bytecode, cut, path, self.overlap)
            stored = signature_cache.load(name)
            if stored is None:
                found = _lower_unit(self.module.context, self._bytecode, cut, unit.path, self.overlap)
                signature_cache.store(name, dataclasses.astuple(found))
            else:
                found = Signature(*stored)
            self._signatures[unit.key] = found
        return self._signatures[unit.key]

    def _cut(self, unit: Unit) -> "_Cut":
        """Where the unit sits in the model, by op position: each unit's copy
        of the module is cut by it, without analysing the whole model again."""
        kernels = [self.by_name[name] for name in unit.kernels]
        axes = kernels[0].axes  # in the whole model

        def place(value):
            if isinstance(value, ir.BlockArgument):
                return None, value.arg_number
            return self._position[value.owner.operation], ir.OpResult(value).result_number

        def marked(value, state):
            """The value's axes, and `fdt.state = k` (with its start) where it is state k."""
            attrs = ir.DictAttr(axes.stated(value))
            entries = {attrs[i].name: attrs[i].attr for i in range(len(attrs))}
            if state is not None:
                entries.update({state[i].name: state[i].attr for i in range(len(state))})
            return ir.DictAttr.get(entries)

        # The unit keeps the recurrent state it reads and writes as the
        # whole model does (fdt-state-to-globals): the old state in a global,
        # the new one stored into it, so that its buffers are the model's.
        fn = self.block.owner
        members = sorted(self._position[op] for k in kernels for op in k.ops)
        inputs, states = [], set()
        for v in unit.inputs:
            state = None
            if isinstance(v, ir.BlockArgument) and v.arg_number in self.state_args:
                state = ir.DictAttr(ir.ArrayAttr(fn.attributes["arg_attrs"])[v.arg_number])
                states.add(self.state_args[v.arg_number])
            inputs.append((v, state))
        outputs = [(v, None) for v in unit.outputs] + [
            (v, ir.DictAttr(ir.ArrayAttr(fn.attributes["res_attrs"])[p]))
            for p, v in enumerate(self.model_outputs)
            if self.state_results.get(p) in states
        ]
        return _Cut(
            members=tuple(members),
            inputs=tuple(place(v) for v, _ in inputs),
            outputs=tuple(place(v) for v, _ in outputs),
            arg_attrs=ir.ArrayAttr.get([marked(v, state) for v, state in inputs]),
            res_attrs=ir.ArrayAttr.get([marked(v, state) for v, state in outputs]),
        )

    def order(self, paths: list[Path]) -> list[Unit]:
        """The units in the order fdt-schedule will give them."""
        units = self.units(paths)
        by_last = {u.name: u for u in units}
        # The order depends only on which kernels run together: candidates
        # that differ in axis or partitions share it.
        key = frozenset(p.kernels for p in paths)
        if key not in self._orders:
            groups, nodes, inputs = schedule_graph(self.kernels, paths)
            self._orders[key] = [groups[i][-1] for i in best_order(nodes, inputs).order]
        return [by_last[name] for name in self._orders[key]]

    def predict(self, paths: list[Path]) -> Prediction:
        units = self.order(paths)
        buffers, overlaps, choices = self._composed(units, {u.name: self.signature(u) for u in units})
        layout = plan_directions(buffers, overlaps, choices)[0]
        macs = sum(self.signature(u).macs for u in units)
        return Prediction(layout.size, layout, buffers, macs)

    def lower_bound(self, paths: list[Path], opaque: Path) -> int:
        """A bound no plan `paths` + [opaque] can beat, without lowering
        `opaque`: the peak of live bytes when the path keeps no buffer of its
        own, and its inputs and output are live together for one step (its
        first tile writes the output, its last one reads the inputs). Every
        set of buffers live together then is a subset of one in the lowered
        program, whose arena is at least its peak. In overlap mode its output
        may overlap each input entirely (gap 0), the most any unit can."""
        units = self.order(paths + [opaque])
        signatures = {}
        for u in units:
            if u.path == opaque:
                overlaps = ()
                if self.overlap:
                    output = ir.ShapedType(u.output.type).element_type
                    overlaps = tuple(
                        (("input", n), ("output", 0), 0, False, None, False)
                        for n, v in enumerate(u.inputs)
                        if may_share(ir.ShapedType(v.type).element_type, output)
                    )
                output = (1, None, byte_size(u.output.type), None)
                signatures[u.name] = Signature(2, (1,) * len(u.inputs), (output,), (), 0, overlaps)
            else:
                signatures[u.name] = self.signature(u)
        buffers, overlaps, choices = self._composed(units, signatures)
        return peak_live_bytes(buffers, relaxed(overlaps, choices))

    def _compose(self, units: list[Unit], signatures: dict) -> list[Interval]:
        return self._composed(units, signatures)[0]

    def _composed(self, units: list[Unit], signatures: dict) -> tuple[list[Interval], list[Overlap], list[Choice]]:
        """The buffers of the units in order, and the overlaps among them:
        those that hold whichever way the units' loops run, and the Choices
        of the steps that may run backwards.
        Recurrent state is no buffer: each unit keeps the state it reads and
        writes in globals (see _cut), so its signature has the buffers of
        the new state until the store."""
        buffers, holder = [], {}
        # (input Interval, output Interval, gap, above, step, backward, the
        # input's last read by the unit or None)
        candidates = []
        for i, arg in enumerate(self.block.arguments):
            if i in self.state_args:
                continue
            holder[i] = len(buffers)
            buffers.append(Interval(f"input{i}", byte_size(arg.type), 0, 0))
        step = 1
        for unit in units:
            sig = signatures[unit.name]
            for source, last in zip(unit.sources, sig.input_last):
                if last is not None:
                    buf = buffers[holder[source]]
                    buf.last = max(buf.last, step + last)
            own = {}
            for n, (size, first, last) in enumerate(sig.scratch):
                own["scratch", n] = len(buffers)
                buffers.append(Interval(f"{unit.name}#{n}", size, step + first, step + last))
            keys = self._output_keys(unit)
            for k, (key, (first, alias, size, same)) in enumerate(zip(keys, sig.outputs)):
                if alias is not None:
                    holder[key] = holder[unit.sources[alias]]
                elif same is not None:
                    holder[key] = holder[keys[same]]
                else:
                    holder[key] = own["output", k] = len(buffers)
                    buffers.append(Interval(key, size, step + first, step + first))
            # A path's last kernel's other outputs are the path's (tiled) one.
            for key in self._output_keys(self._unit((self.by_name[unit.name],), None))[len(keys) :]:
                holder[key] = holder[unit.name]
            for (kind, n), target, gap, above, at, backward in sig.overlaps:
                if target not in own:
                    continue
                way = (gap, above, None if at is None else step + at, backward)
                if kind == "input":
                    source = unit.sources[n]
                    if source not in holder or sig.input_last[n] is None:
                        continue
                    candidates.append((buffers[holder[source]], buffers[own[target]], *way, step + sig.input_last[n]))
                elif (kind, n) in own:
                    candidates.append((buffers[own[kind, n]], buffers[own[target]], *way, None))
            step += sig.steps
        outputs = set()
        for k, value in enumerate(self.model_outputs):
            if k not in self.state_results:
                buf = buffers[holder[self._source(value)]]
                buf.key, buf.last = f"output{k}", step
                outputs.add(id(buf))
        # Two inputs of a unit held by one buffer (a value and a view of it):
        # the larger gap, the one both accesses allow.
        gaps = {}
        for source, target, gap, above, at, backward, read in candidates:
            lower, upper = (source, target) if above else (target, source)
            if id(source) not in outputs and (read is None or source.last == read) and gap < lower.size:
                key = (lower.key, upper.key, at, backward)
                gaps[key] = max(gap, gaps.get(key, gap))
        found = [(Overlap(lower, upper, gap), at, backward) for (lower, upper, at, backward), gap in gaps.items()]
        return buffers, *split_by_step(found)


def _external_inputs(kernels) -> list:
    """The activations a group of kernels reads from outside the group."""
    members = {op for k in kernels for op in k.ops}
    found = []
    for kernel in kernels:
        for value in kernel.inputs():
            owner = value.owner
            inside = isinstance(owner, ir.OpView) and owner.operation in members
            if not inside and value not in found:
                found.append(value)
    return found


@dataclass(frozen=True)
class _Cut:
    """A unit's ops, inputs and outputs as positions in the model's function
    ((None, n) is argument n, (i, r) result r of op i), and the axes its
    arguments and results have in the whole model."""

    members: tuple
    inputs: tuple
    outputs: tuple
    arg_attrs: ir.ArrayAttr
    res_attrs: ir.ArrayAttr


def _lower_unit(context, bytecode: bytes, cut: _Cut, path: Path | None, overlap: bool = False) -> Signature:
    """Lowers the unit alone, as a function of its inputs, to planned buffers;
    with `overlap`, also finds how far its buffers may overlap its inputs."""
    with context, ir.Location.unknown():
        module = ir.Module.parse(bytecode)
        _isolate(module.operation, cut)
        state = state_marks(function_body(module.operation).owner, "arg_attrs")
        if path is not None:
            add_paths([path], module.operation)
        pipeline.run_passes(module, pipeline.TILE_PATHS)
        macs = count_macs(module.operation)
        for stage in (pipeline.KERNELS, pipeline.BUFFERIZE):
            pipeline.run_passes(module, stage)
        block = function_body(module.operation)
        buffers, _, outputs, live = collect_buffers(block)
        # The unit's inputs by number: fdt-state-to-globals took the states
        # out of the arguments.
        numbers = [n for n in range(len(cut.inputs)) if n not in state]
        position = dict(zip(block.arguments, numbers))
        last_read = {n: live.steps[arg][1] for arg, n in position.items() if arg in live.steps}
        end = live.count - 1  # the last step is the function's return
        scratch = [value for _, value, kind in buffers if kind == "intermediate"]
        return Signature(
            steps=end,
            input_last=tuple(last_read.get(n) for n in range(len(cut.inputs))),
            outputs=tuple(
                (
                    live.steps[v][0],
                    position.get(v),
                    byte_size(v.type),
                    outputs.index(v) if outputs.index(v) < k else None,
                )
                for k, v in enumerate(outputs)
            ),
            scratch=tuple((b.size, b.first, b.last) for b, _, kind in buffers if kind == "intermediate"),
            macs=macs,
            overlaps=_unit_overlaps(block, position, scratch, outputs) if overlap else (),
        )


def _unit_overlaps(block, position, scratch, outputs) -> tuple:
    """Signature.overlaps of a unit's lowered function: overlap_gaps, as
    fdt-plan-memory takes them; `position` numbers its arguments."""
    refs = {v: ("input", n) for v, n in position.items()}
    refs.update({v: ("scratch", n) for n, v in enumerate(scratch)})
    for k, v in enumerate(outputs):
        refs.setdefault(v, ("output", k))
    return tuple(
        (refs[g.input], refs[g.output], g.gap, g.above, g.step, g.backward)
        for g in overlap_gaps(block)
        if g.input in refs and g.output in refs and refs[g.output][0] != "input"
    )


def _isolate(module_op: ir.Operation, cut: _Cut):
    """Reduces the module's function to the unit: its inputs become the
    function's arguments, its outputs the results."""
    block = function_body(module_op)
    fn = block.owner.opview
    ops = [op.operation for op in block.operations]

    def value(place):
        index, number = place
        return block.arguments[number] if index is None else ops[index].results[number]

    # A list: Python hashes of ops change once the IR is modified.
    members = [ops[i] for i in cut.members]
    inputs = [value(p) for p in cut.inputs]
    outputs = [value(p) for p in cut.outputs]
    n_old = len(block.arguments)
    args = [block.add_argument(v.type, ir.Location.unknown()) for v in inputs]
    for old, arg in zip(inputs, args):
        old.replace_all_uses_with(arg)
    ret = ops[-1]
    with ir.InsertionPoint(ret):
        func.ReturnOp(outputs)
    ret.erase()
    keep = ("arith.constant", "tensor.empty", "func.return")
    for op in reversed(list(block.operations)):
        op = op.operation
        if op not in members and op.name not in keep:
            op.erase()
    for _ in range(n_old):
        block.erase_argument(0)
    function_type = ir.FunctionType.get([a.type for a in args], [v.type for v in outputs])
    fn.attributes["function_type"] = ir.TypeAttr.get(function_type)
    fn.attributes["arg_attrs"] = cut.arg_attrs
    fn.attributes["res_attrs"] = cut.res_attrs
