"""Give each user its own copy of values that CSE shares between kernels.

CSE merges identical tensor.empty ops and identical fills. Tiling then sees
one value feeding several kernels: a fused producer may take its
consumer's destination as its own (two tiles in one buffer), a shared fill
cannot move into either kernel's loop, and a shared empty bufferizes to one
buffer live across all its users. Untying undoes the sharing; each copy of
a fill takes its user's location, since it is part of the user's kernel.
"""

from mlir import ir

from ..analysis.indexing import GENERIC, iterators, n_inputs
from ..ir_utils import ops_named


def is_initializer(op) -> bool:
    """A fill or a broadcast of constants: cheap to recompute per element.
    (A generic without inputs whose body reads a tensor, as a nearest
    resize's or a folded pad's tensor.extract does, is a kernel of its own.)"""
    if op.name != GENERIC:
        return False
    kinds = iterators(op)
    inputs = list(op.operands)[: n_inputs(op)]
    body = op.regions[0].blocks[0].operations
    return (
        all(kind == "parallel" for kind in kinds)
        and all(
            not isinstance(v.type, ir.ShapedType)
            or (isinstance(v.owner, ir.OpView) and v.owner.operation.name == "arith.constant")
            for v in inputs
        )
        and not any(isinstance(v.type, ir.ShapedType) for inner in _nested(body) for v in inner.operands)
    )


def _nested(operations):
    """Every op of `operations` and of their regions (a padded read's bounds
    check nests its tensor.extract in an scf.if)."""
    for op in operations:
        yield op
        for region in op.regions:
            for block in region.blocks:
                yield from _nested(block.operations)


def untie(op, relocate: bool):
    """Gives each use of `op`'s result but the first a copy of `op`, placed
    before its user (and named after it when `relocate`)."""
    uses = list(op.results[0].uses)
    for use in uses[1:]:
        with ir.InsertionPoint(use.owner):
            clone = op.clone()
        if relocate:
            clone.location = use.owner.location
        use.owner.operands[use.operand_number] = clone.results[0]
    if relocate and uses:
        # Into its kernel: named after it and placed with it.
        op.location = uses[0].owner.location
        op.move_before(uses[0].owner)


def untie_empty_tensors(root: ir.Operation):
    for op in ops_named(root, "tensor.empty"):
        untie(op, relocate=False)


def untie_initializers(block):
    for op in list(block.operations):
        if is_initializer(op.operation):
            untie(op.operation, relocate=True)


def untie_initializers_from_loops(root: ir.Operation):
    """An initializer that CSE replaced, inside a tile loop, by an identical
    one outside it (a one-element accumulator's fill matches a one-element
    layer's) gets its own copy in the loop body again: written in place in
    the loop, the shared value would need a copy allocated in the loop."""
    for op in ops_named(root, GENERIC):
        if not is_initializer(op):
            continue
        copies = {}  # loop body op before which a copy is placed -> the copy
        for use in list(op.results[0].uses):
            anchor = _in_innermost_loop(use.owner.operation)
            if anchor is None or anchor.block == op.block:
                continue
            if anchor not in copies:
                with ir.InsertionPoint(anchor):
                    copies[anchor] = op.clone()
                copies[anchor].location = use.owner.location
            use.owner.operands[use.operand_number] = copies[anchor].results[0]


def _in_innermost_loop(op):
    """The ancestor of `op` (or `op`) that sits directly in the body of the
    innermost scf.for around it; None outside loops."""
    while op.parent is not None and op.parent.name != "func.func":
        if op.parent.name == "scf.for":
            return op
        op = op.parent
    return None


def untie_initializer_loops(block):
    """A tiled fill shared by several kernels gets a copy before each: CSE
    merges the identical tile loops of two kernels' fills (two convs of one
    output shape), and the second kernel's output would then be live from
    the first one's start. Each copy moves next to its user, named after it."""
    for op in list(block.operations):
        op = op.operation
        if op.name != "scf.for" or len(op.results) != 1 or not _only_initializes(op):
            continue
        if all(use.owner.operation.block == op.block for use in op.results[0].uses):
            untie(op, relocate=True)


def _only_initializes(loop) -> bool:
    """True when `loop` computes its result from scalars alone: no op in it
    reads a tensor defined outside the loop (it fills its init)."""
    reads_outside = []

    def visit(op):
        for value in op.operands:
            owner = value.owner
            defined_by = owner.owner if isinstance(owner, ir.Block) else owner  # a block argument's op
            if isinstance(value.type, ir.ShapedType) and not _within(defined_by.operation, loop):
                reads_outside.append(value)
        return ir.WalkResult.ADVANCE

    for op in loop.regions[0].blocks[0].operations:
        op.operation.walk(visit)
    return not reads_outside


def _within(op, loop) -> bool:
    while op is not None:
        if op == loop:
            return True
        op = op.parent
    return False
