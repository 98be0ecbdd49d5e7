"""Lowering one unit alone: a kernel or a tiled path, cut out of the model
as a function of its inputs, run through the compile's own stages to
planned buffers, and summarised as the Signature the cost model composes.

Kept apart from the cost model so that worker processes (unit_workers) can
lower units without it: a Cut names the unit's ops by position and carries
its attributes as text, so it crosses a process boundary.
"""

from dataclasses import dataclass

from mlir import ir
from mlir.dialects import func

from .. import pipeline
from ..analysis.abstract_execution import count_macs
from ..analysis.kernels import function_body
from ..analysis.liveness import collect_buffers
from ..analysis.safe_overlap import overlap_gaps
from ..analysis.sizes import byte_size
from ..dialect.ops import add_paths, state_marks
from ..errors import FdtError
from ..tiling_plan import Path


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
class Cut:
    """A unit's ops, inputs and outputs as positions in the model's function
    ((None, n) is argument n, (i, r) result r of op i), and the axes its
    arguments and results have in the whole model."""

    members: tuple
    inputs: tuple
    outputs: tuple
    arg_attrs: str  # an ArrayAttr, as text
    res_attrs: str


def lower_or_error(context, bytecode: bytes, cut: Cut, path: Path | None, overlap: bool = False):
    """lower_unit, or the FdtError it raised."""
    try:
        return lower_unit(context, bytecode, cut, path, overlap)
    except FdtError as error:
        return error


def lower_unit(context, bytecode: bytes, cut: Cut, path: Path | None, overlap: bool = False) -> Signature:
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


def _isolate(module_op: ir.Operation, cut: Cut):
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
    fn.attributes["arg_attrs"] = ir.Attribute.parse(cut.arg_attrs)
    fn.attributes["res_attrs"] = ir.Attribute.parse(cut.res_attrs)
