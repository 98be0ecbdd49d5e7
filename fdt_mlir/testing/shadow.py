"""Wrong memory plans on purpose, for tests of the shadow check
(`--shadow-check`, `passes.shadow_arena`).

`misplace` moves one intermediate buffer onto another one live at the same
time, as a planner bug would: the C then overwrites a value that is still to
be read, and the shadow check must name both buffers.
"""

from mlir import ir

from ..dialect import ops as fdt
from ..errors import FdtError


def clash(module_op: ir.Operation) -> tuple[str, str]:
    """(kept, moved): two intermediate buffers of the first planned function
    such that `kept` is written first and still read after `moved` is
    written (its live steps end after the first of `moved`), the pair
    with the smallest buffers."""
    fn = fdt.planned_functions(module_op)[0]
    buffers = [
        fdt.buffer(op.operation)
        for op in fn.regions[0].blocks[0].operations
        if fdt.is_buffer(op.operation) and fdt.buffer(op.operation).name.startswith("buf")
    ]
    pairs = [(a, b) for a in buffers for b in buffers if a.first < b.first < a.last]
    if not pairs:
        raise FdtError("no two intermediate buffers live at once")
    kept, moved = pairs[0]
    return kept.name, moved.name


def misplace(module_op: ir.Operation, moved: str, onto: str, shift: int = 0):
    """Sets the offset of fdt.buffer `moved` to that of `onto` plus `shift` bytes."""
    fn = fdt.planned_functions(module_op)[0]
    ops = {
        fdt.buffer(op.operation).name: op.operation
        for op in fn.regions[0].blocks[0].operations
        if fdt.is_buffer(op.operation)
    }
    offset = ir.IntegerAttr(ops[onto].attributes["offset"]).value + shift
    ops[moved].attributes["offset"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), offset)


def misplacing_hook(found: list, shift: int = 0):
    """A `print_after_all` hook for `api.compile`: right after
    fdt-plan-memory it moves the second buffer of `clash` onto the first
    (`shift` bytes into it), and appends (kept, moved) to `found`."""

    def hook(pass_name, module):
        if pass_name == "fdt-plan-memory":
            kept, moved = clash(module.operation)
            misplace(module.operation, moved, kept, shift)
            found.append((kept, moved))

    return hook
