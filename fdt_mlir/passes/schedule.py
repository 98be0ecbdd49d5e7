"""fdt-schedule: run the kernels in the order that needs the least memory.

The importer keeps the model's operator order, which on a branch can keep
one output live while the other branch runs. This pass reorders the
function's kernels (`planning.execution_order`) before fused tiling; the kernels of
each fdt.path move as one unit, since they will run in one loop.
"""

from mlir import ir

from ..analysis.kernels import function_body, kernels_of
from ..analysis.schedule_graph import schedule_graph
from ..dialect.ops import paths_of
from ..planning.execution_order import best_order
from . import register


@register("fdt-schedule", "Order the kernels to minimise the peak of live bytes")
def schedule(module_op: ir.Operation):
    body = function_body(module_op)
    kernels = kernels_of(body)
    units, nodes, inputs = schedule_graph(kernels, [path for path, _ in paths_of(module_op)])
    if any(r >= u for u, node in enumerate(nodes) for r in node.reads):
        return  # a path that is not a chain: fdt-apply-plan says why
    order = best_order(nodes, inputs).order
    if order == sorted(order):
        return
    by_name = {k.name: k for k in kernels}
    _reorder(body, [op for u in order for name in units[u] for op in by_name[name].ops])


def _reorder(block, kernel_ops):
    """Puts `kernel_ops` in this order. Any other op moves just before its
    first user (unused ones to the end), unless it precedes every kernel:
    the constants stay at the top."""
    top = [op.operation for op in block.operations]
    in_block, moved = set(top), set(kernel_ops)
    first = next(i for i, op in enumerate(top) if op in moved)
    placed, sequence = set(), []

    def place(op):
        if op not in placed:
            placed.add(op)
            for producer in _producers(op, in_block):
                place(producer)
            sequence.append(op)

    for op in top[:first] + kernel_ops + top[first:]:
        place(op)
    for op in sequence[:-1]:
        op.move_before(top[-1])


def _producers(op, in_block) -> list:
    """The block's ops whose results `op` uses, also inside its regions."""
    found = []

    def visit(inner):
        for value in inner.operands:
            owner = value.owner
            if isinstance(owner, ir.OpView) and owner.operation in in_block and owner.operation not in found:
                found.append(owner.operation)
        return ir.WalkResult.ADVANCE

    op.walk(visit)
    return found
