"""The scf.if that tiling puts around a tiled tensor.pad (its other branch
an all-padding tensor.generate, for tiles wholly in the padding): finding
it, and hoisting the pad's source computation out of it, so that producers
fused later land before the guard. fdt-apply-plan, fdt-fold-pad and
fdt-drop-pad-guards all need them."""

from mlir import ir

from ..ir_utils import ops_named


def guarded_pad(if_op):
    """(pad, ops yielding it) when `if_op` is the guard tiling puts around a
    pad: its other branch yields the pad, possibly through a tensor.cast to
    the tile's static type."""
    if len(if_op.results) != 1 or not if_op.regions[1].blocks:
        return None
    block = if_op.regions[1].blocks[0]
    value = block.operations[len(block.operations) - 1].operands[0]
    kept = []
    while isinstance(value.owner, ir.OpView) and value.owner.operation.name == "tensor.cast":
        kept.append(value.owner.operation)
        value = value.owner.operation.operands[0]
    if isinstance(value.owner, ir.OpView) and value.owner.operation.name == "tensor.pad":
        return value.owner.operation, kept + [value.owner.operation]
    return None


def hoist_pad_guard(if_op):
    """Tiling a pad guards it with an scf.if for tiles that are all padding,
    and computes the pad's source and amounts inside the other branch, where
    producers fused later would land too. Those ops are side-effect free
    (index arithmetic, slices, linalg on tensors of what is then an empty
    slice): moving them before the scf.if leaves only the pad guarded."""
    _, kept = guarded_pad(if_op)
    block = if_op.regions[1].blocks[0]
    for op in list(block.operations)[:-1]:
        if op.operation not in kept:
            op.operation.move_before(if_op)


def pad_guards(root):
    """The scf.if ops that guard a tiled tensor.pad."""
    return [op for op in ops_named(root, "scf.if") if guarded_pad(op) is not None]
