"""fdt-drop-pad-guards: keep only the pad branch of tiled pads, for IREE.

Tiling a tensor.pad wraps it in an scf.if that yields a tensor.generate for
tiles lying wholly in the padding. IREE cannot resolve the dynamic dims of
an scf.if result ("dynamic dimensions must have been resolved prior to
leaving the flow dialect") and, with static tiles, fails to legalize the
tensor.generate. The pad branch alone is correct for every tile: its source
slice is clamped into bounds (empty for such tiles), and its padding amounts
are kept non-negative here. So is the offset of that slice kept below the
source's extent: an empty slice past the last row is valid with a dynamic
offset, but a static offset equal to the extent is not, so canonicalize
could not make it static once the tile loops are unrolled.

Only the IREE flow runs this pass (`pipeline.IREE`); the C flow folds the
guarded pad into its consumer instead (fdt-fold-pad).
"""

from mlir import ir
from mlir.dialects import arith

from ..ir_utils import DYNAMIC
from ..rewrites.pad_guards import pad_guards
from . import register


@register("fdt-drop-pad-guards", "Replace the scf.if guarding each tiled tensor.pad with its pad branch")
def drop_pad_guards(module_op: ir.Operation):
    for guard in pad_guards(module_op):
        _drop_pad_guard(guard)


def _drop_pad_guard(if_op):
    """Replaces the guard with its pad branch, hoisted before it."""
    block = if_op.regions[1].blocks[0]
    ops = list(block.operations)
    yielded = ops[-1].operands[0]
    for op in ops[:-1]:
        op.operation.move_before(if_op)
        if op.operation.name == "tensor.pad":
            _clamp_pad_amounts(op.operation)
            _clamp_source_offsets(op.operation)
    if_op.results[0].replace_all_uses_with(yielded)
    condition = if_op.operands[0]
    if_op.erase()
    _erase_unused(condition)


def _erase_unused(value):
    """Erases the guard's condition (cmpi / ori of tile sizes) once unused."""
    op = value.owner
    if not isinstance(op, ir.OpView) or op.operation.name not in ("arith.cmpi", "arith.ori"):
        return
    if any(True for _ in op.results[0].uses):
        return
    operands = list(op.operands)
    op.operation.erase()
    for operand in operands:
        _erase_unused(operand)


def _clamp_pad_amounts(pad):
    """Tiling computes a tile's low padding as max(0, low - offset) and its
    high padding as length - (source length) - (low padding): for a tile
    wholly in the low padding (source length 0) that high padding is
    negative. low + min(high, 0) and max(high, 0) have the same sum, are
    never negative, and equal low and high for every other tile."""
    static_low = list(ir.DenseI64ArrayAttr(pad.attributes["static_low"]))
    static_high = list(ir.DenseI64ArrayAttr(pad.attributes["static_high"]))
    n_low = sum(1 for v in static_low if v == DYNAMIC)
    low_at = iter(range(1, 1 + n_low))
    high_at = iter(range(1 + n_low, 1 + n_low + sum(1 for v in static_high if v == DYNAMIC)))
    zero = None
    for lo, hi in zip(static_low, static_high):
        i = next(low_at) if lo == DYNAMIC else None
        j = next(high_at) if hi == DYNAMIC else None
        if i is None or j is None:
            continue  # only a dynamic high amount next to a dynamic low one can be negative
        low, high = pad.operands[i], pad.operands[j]
        with ir.InsertionPoint(pad), pad.location:
            if zero is None:
                zero = arith.ConstantOp(ir.IndexType.get(), 0).result
            new_low = arith.AddIOp(low, arith.MinSIOp(high, zero).result).result
            new_high = arith.MaxSIOp(high, zero).result
        pad.operands[i] = new_low
        pad.operands[j] = new_high


def _clamp_source_offsets(pad):
    """min(offset, extent - 1) for each dynamic offset of the pad's source
    slice along a dynamic size: the same offset for a non-empty slice
    (offset + size <= extent), in bounds for an empty one."""
    source = pad.operands[0].owner
    if not isinstance(source, ir.OpView) or source.operation.name != "tensor.extract_slice":
        return
    slice_op = source.operation
    static_offsets = list(ir.DenseI64ArrayAttr(slice_op.attributes["static_offsets"]))
    static_sizes = list(ir.DenseI64ArrayAttr(slice_op.attributes["static_sizes"]))
    extents = ir.RankedTensorType(slice_op.operands[0].type).shape
    at = 1
    for offset, size, extent in zip(static_offsets, static_sizes, extents):
        if offset != DYNAMIC:
            continue
        if size == DYNAMIC and extent != DYNAMIC and extent > 0:
            with ir.InsertionPoint(slice_op), slice_op.location:
                last = arith.ConstantOp(ir.IndexType.get(), extent - 1).result
                slice_op.operands[at] = arith.MinSIOp(slice_op.operands[at], last).result
        at += 1
