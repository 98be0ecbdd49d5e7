"""The graph that memory-aware scheduling orders: one unit per tiling path
and per kernel outside paths, with the bytes of each unit's output and the
units it reads. fdt-schedule orders the model by it, and the cost model
predicts that order for a candidate plan without applying it."""

from mlir import ir

from ..planning.execution_order import Input, Node
from ..tiling_plan import Path
from .kernels import Kernel
from .sizes import byte_size


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
