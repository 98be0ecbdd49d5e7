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

from .. import pipeline
from ..analysis.kernels import function_body, kernels_of, location_name
from ..analysis.safe_overlap import may_share
from ..analysis.schedule_graph import schedule_graph
from ..analysis.sizes import byte_size
from ..dialect.ops import paths_of, state_marks
from ..errors import FdtError
from ..planning.directions import Choice, plan_directions, relaxed, split_by_step
from ..planning.execution_order import best_order
from ..planning.layout import Interval, Layout, Overlap, peak_live_bytes
from ..rewrites.untie import untie_empty_tensors, untie_initializers
from ..tiling_plan import Path
from . import signature_cache
from .unit_lowering import Cut, Signature, lower_or_error
from .unit_workers import UnitWorkers


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
    untiled, as TOSA_TO_LINALG leaves it). With `jobs` > 1, units asked for
    together (`prefetch`) are lowered by that many worker processes; close
    the model (or use it in a `with`) to stop them."""

    def __init__(self, module: ir.Module, overlap: bool = False, jobs: int = 1):
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
        # Each kernel's activation inputs: a path's are its kernels' less
        # their own (_external_inputs), asked for every candidate.
        self._reads = {k.name: k.inputs() for k in self.kernels}
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
        self.jobs = jobs
        self._workers = UnitWorkers(jobs, self._bytecode, overlap) if jobs > 1 else None
        try:
            self.prefetch(self.units([]))
            self.macs_untiled = sum(self.signature(u).macs for u in self.units([]))
        except BaseException:  # an error or Ctrl-C before any `with` holds the model
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._workers is not None:
            self._workers.close()

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
            inputs = tuple(_external_inputs(kernels, self._reads))
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
            self.prefetch([unit])
        found = self._signatures[unit.key]
        if isinstance(found, FdtError):
            raise found
        return found

    def known(self, unit: Unit) -> bool:
        """Whether the unit is lowered (or failed to be) in this model."""
        return unit.key in self._signatures

    def prefetch(self, units: list[Unit]):
        """Lowers those of `units` whose signatures are not known yet (nor
        on disk, signature_cache), in the workers when there are several.
        A unit that cannot be lowered raises its error only when its
        signature is asked for: the search prefetches units it may skip."""
        missing = {}
        for unit in units:
            if unit.key in self._signatures or unit.key in missing:
                continue
            cut = self._cut(unit)
            name = signature_cache.key(self._bytecode, cut, unit.path.notation() if unit.path else "", self.overlap)
            stored = signature_cache.load(name)
            if stored is None:
                missing[unit.key] = name, cut, unit.path
            else:
                self._signatures[unit.key] = Signature(*stored)
        if not missing:
            return
        requests = [(cut, path) for _, cut, path in missing.values()]
        if self._workers is not None and len(requests) > 1:
            found = self._workers.lower(requests)
        else:
            context = self.module.context
            found = [lower_or_error(context, self._bytecode, cut, path, self.overlap) for cut, path in requests]
        for (key, (name, _, _)), signature in zip(missing.items(), found):
            if not isinstance(signature, FdtError):
                signature_cache.store(name, dataclasses.astuple(signature))
            self._signatures[key] = signature

    def _cut(self, unit: Unit) -> "Cut":
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
        return Cut(
            members=tuple(members),
            inputs=tuple(place(v) for v, _ in inputs),
            outputs=tuple(place(v) for v, _ in outputs),
            arg_attrs=str(ir.ArrayAttr.get([marked(v, state) for v, state in inputs])),
            res_attrs=str(ir.ArrayAttr.get([marked(v, state) for v, state in outputs])),
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


def _external_inputs(kernels, reads: dict) -> list:
    """The activations a group of kernels reads from outside the group
    (`reads`: each kernel's inputs by name)."""
    members = {op for k in kernels for op in k.ops}
    found = []
    for kernel in kernels:
        for value in reads[kernel.name]:
            owner = value.owner
            inside = isinstance(owner, ir.OpView) and owner.operation in members
            if not inside and value not in found:
                found.append(value)
    return found
