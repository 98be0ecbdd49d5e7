"""fdt-plan-memory: place every buffer of the model in one static arena.

Runs on bufferized IR lowered to loops, where each top-level op of the
function is one step of the schedule, and each op in the body of a tile
loop one more (see Liveness). The model's inputs and outputs become
arena buffers like every other (as in TFLM), each buffer's live range is the
span of steps that touch it, offsets come from the layout planner, and the
plan is checked independently before every allocation is rewritten into
`fdt.buffer` ops under one `fdt.arena`. Single-element buffers used within
one step are kernel-local scalars (accumulators): they become `memref.alloca`
so that the C compiler keeps them in registers, as TFLM's kernels do.

With `fdt.overlap` on the module (overlap mode), a kernel's output may also
share bytes with an input it reads for the last time, as far as
analysis.safe_overlap proves that no input byte is overwritten before its
last read; the planner and the independent check both get those pairs.
The shift is analysed on the loops planned here: the passes that run on the
planned program (pipeline.MICROKERNELS) only clip border windows to their
in-bounds part (fdt-skip-padding: the same loads, in the same order) or
group iterations into calls whose loads all come before their stores
(fdt-block-channels, fdt-lower-dot-to-ukernel, fdt-lower-apply-scale):
loads move earlier and stores later, never a store before a load it
followed, so a safe overlap stays safe.

A kernel whose loops are `fdt.reversible` may run them last iteration
first, its output then above its input: the planner chooses each such
kernel's direction with the layout (planning.directions), this pass
rewrites the loops of those it turned around (rewrites.reverse_loops) and
marks their outer loop `fdt.backward` for the report, and the independent
check gets the shifts analysed again on the loops as they now run. The
`fdt.reversible` marks are dropped either way.
"""

from mlir import ir
from mlir.dialects import func, memref

from ..analysis.liveness import collect_buffers
from ..analysis.safe_overlap import overlap_gaps
from ..dialect import ops as fdt
from ..errors import FdtError
from ..planning.directions import Choice, plan_directions, split_by_step
from ..planning.layout import ALIGNMENT, Overlap, check_layout
from ..rewrites.reverse_loops import reverse_loops
from . import register


def plan_function(fn: func.FuncOp, overlap: bool = False):
    """Rewrites `fn` (memref arguments and results) into an argument-free
    function over one arena; returns the planned Intervals and the arena.
    `overlap`: outputs may overlap the inputs they consume (see above)."""
    block = fn.body.blocks[0]
    ret = block.operations[len(block.operations) - 1]
    buffers, registers, outputs, live = collect_buffers(block)
    own = [value for _, value, kind in buffers if kind == "output"]
    if own != outputs:
        k = next(k for k, value in enumerate(outputs) if k >= len(own) or own[k] != value)
        raise FdtError(f"model output {k} is not a buffer of its own (an input, a constant or another output)")
    intervals = [b for b, _, _ in buffers]
    overlaps, choices = buffer_overlaps(block, buffers) if overlap else ([], [])
    layout, backward = plan_directions(intervals, overlaps, choices)
    for step, op in zip(live.top_steps, live.top_ops):
        if step in backward:
            reverse_loops(op)
            op.attributes[fdt.BACKWARD_ATTR] = ir.UnitAttr.get()
    _drop_marks(fn)
    if backward:  # the shifts of the loops as they now run
        overlaps = buffer_overlaps(block, buffers)[0]
    else:
        overlaps += [o for c in choices for o in c.forward]
    problems = check_layout(intervals, layout.size, overlaps=overlaps)
    if problems:
        raise FdtError(f"internal error: memory plan is unsound: {problems[0]}")
    _rewrite(fn, block, ret, buffers, registers, layout, fdt.io_element_types(fn), live.first_user)
    return intervals, layout.size


def buffer_overlaps(block, buffers) -> tuple[list[Overlap], list[Choice]]:
    """The Overlaps that overlap_gaps allows among `buffers` (those of
    collect_buffers): those that hold whichever way the loops run, and the
    Choices of the steps that may run backwards."""
    by_value = {value: interval for interval, value, _ in buffers}
    return split_by_step(
        (Overlap(by_value[g.lower].key, by_value[g.upper].key, g.gap), g.step, g.backward)
        for g in overlap_gaps(block)
        if g.lower in by_value and g.upper in by_value
    )


def _drop_marks(fn):
    """The loops that may run backwards ran as planned: the mark has served."""

    def visit(op):
        if fdt.REVERSIBLE_ATTR in op.attributes:
            del op.attributes[fdt.REVERSIBLE_ATTR]
        return ir.WalkResult.ADVANCE

    fn.operation.walk(visit)


def _rewrite(fn, block, ret, buffers, registers, layout, element_types, first_user):
    with ir.InsertionPoint.at_block_begin(block), fn.location:
        fdt.create_arena(fdt.Arena(layout.size, ALIGNMENT, layout.method, layout.lower_bound))
        for interval, value, kind in buffers:
            placed = fdt.Buffer(interval.key, interval.offset, interval.first, interval.last)
            buf = fdt.create_buffer(value.type, placed)
            if kind != "input" and value in first_user:
                # The op that first writes the buffer: its kernel names it.
                buf.location = first_user[value].location
            if interval.key in element_types:
                fdt.set_element_type(buf, element_types[interval.key])
            value.replace_all_uses_with(buf.result)
            if kind != "input":
                value.owner.erase()
        for alloc in registers:
            scalar = memref.AllocaOp(alloc.results[0].type, [], [])
            alloc.results[0].replace_all_uses_with(scalar.result)
            alloc.erase()
    with ir.InsertionPoint(ret), ret.location:
        func.ReturnOp([])
    ret.erase()
    while len(block.arguments):
        block.erase_argument(0)
    fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get([], []))
    for key in ("arg_attrs", "res_attrs"):
        if key in fn.attributes:
            del fn.attributes[key]


@register("fdt-plan-memory", "Plan all buffers (inputs and outputs included) into one static arena of fdt.buffer ops")
def plan_memory(module_op: ir.Operation):
    overlap = fdt.overlap_mode(module_op)
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and op.regions[0].blocks and not _is_private(op):
            plan_function(op.opview, overlap)


def _is_private(op) -> bool:
    return "sym_visibility" in op.attributes and ir.StringAttr(op.attributes["sym_visibility"]).value == "private"
