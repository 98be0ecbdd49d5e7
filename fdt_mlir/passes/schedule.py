"""fdt-schedule: run the kernels in the order that needs the least memory.

The importer keeps the model's operator order, which on a branch can keep
one output live while the other branch runs. This pass reorders the
function's kernels (`planning.schedule`) before fused tiling; the kernels of
each fdt.path move as one unit, since they will run in one loop.
"""

from mlir import ir

from ..kernels import Kernel, function_body, kernels_of
from ..plan import Path, from_ir
from ..planning.schedule import Input, Node, best_order
from . import register
from .plan_memory import byte_size


def schedule_graph(kernels: list[Kernel], paths: list[Path]) -> tuple[list[list[str]], list[Node], list[Input]]:
    """(units, nodes, inputs) of `best_order`: one unit per path and per
    kernel outside paths, each a list of kernel names in program order, and
    the units in the order of their last kernels. The cost model calls this
    with a candidate plan, to predict the order fdt-schedule will pick."""
    path_of = {}
    for number, path in enumerate(paths):
        for name in path.kernels:
            path_of.setdefault(name, number)
    groups: dict = {}
    for kernel in kernels:
        groups.setdefault(path_of.get(kernel.name, kernel.name), []).append(kernel)
    position = {k.name: i for i, k in enumerate(kernels)}
    groups = sorted(groups.values(), key=lambda group: position[group[-1].name])
    # Kernels also read zero fills that cse shares between them; only roots
    # carry activations.
    unit_of = {k.root: u for u, group in enumerate(groups) for k in group}
    nodes, arguments = [], {}  # argument number -> (bytes, readers)
    for u, group in enumerate(groups):
        reads = set()
        for kernel in group:
            for value in kernel.inputs():
                if isinstance(value, ir.BlockArgument):
                    arguments.setdefault(value.arg_number, (byte_size(value.type), set()))[1].add(u)
                elif value.owner.operation in unit_of:
                    reads.add(unit_of[value.owner.operation])
        last = group[-1]
        returned = any(op.name == "func.return" for op in last.consumers())
        nodes.append(Node(byte_size(last.output_type), tuple(sorted(reads - {u})), returned))
    inputs = [Input(size, tuple(sorted(readers))) for _, (size, readers) in sorted(arguments.items())]
    return [[k.name for k in group] for group in groups], nodes, inputs


@register("fdt-schedule", "Order the kernels to minimise the peak of live bytes")
def schedule(module_op: ir.Operation):
    body = function_body(module_op)
    kernels = kernels_of(body)
    units, nodes, inputs = schedule_graph(kernels, [path for path, _ in from_ir(module_op)])
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
