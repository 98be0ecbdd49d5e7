"""fdt-fold-pad: read padded inputs in place instead of copying them.

tosa-to-linalg pads a conv or pool input with tensor.pad, which bufferizes to
a padded copy of the input: RAM that TFLM's kernels never spend (they skip
out-of-bounds taps). After fdt-tile-kernels the pad sits next to its single
consumer (possibly behind the scf.if that tiling adds for all-padding tiles);
this pass removes it by rewriting the consumer to read the unpadded source
directly with a bounds check that yields the padding value outside.
"""

from mlir import ir
from mlir.dialects import affine, arith, linalg, tensor

from ..analysis.kernels import maps as indexing_maps
from ..ir_utils import DYNAMIC, ops_named, pad_amounts, unit_slice
from ..rewrites.pad_guards import guarded_pad, hoist_pad_guard
from . import register


def _padded_source(value):
    """(pad op, offsets into its result) for a value that is a tensor.pad,
    the scf.if tiling wraps around one (its other branch is an all-padding
    tensor.generate), or a unit-stride slice of either."""
    owner = value.owner
    if not isinstance(owner, ir.OpView):
        return None
    op = owner.operation
    if op.name == "tensor.extract_slice" and unit_slice(op) is not None:
        found = _padded_source(op.operands[0])
        if (
            found is None
            or ir.RankedTensorType(op.results[0].type).rank != ir.RankedTensorType(op.operands[0].type).rank
        ):
            return None
        pad, offsets = found
        return pad, offsets + [unit_slice(op)[0]]
    if op.name == "tensor.pad":
        return op, []
    if op.name == "scf.if" and guarded_pad(op) is not None:
        hoist_pad_guard(op)
        return guarded_pad(op)[0], []
    return None


class _Index:
    """Emits index arithmetic, folding the constant cases away."""

    def __init__(self):
        self.index = ir.IndexType.get()

    def const(self, v):
        return arith.ConstantOp(self.index, v).result

    def value(self, v):
        return self.const(v) if isinstance(v, int) else v

    def sub(self, a, b):
        if isinstance(b, int) and b == 0:
            return a
        if isinstance(a, int) and isinstance(b, int):
            return a - b
        return arith.SubIOp(self.value(a), self.value(b)).result

    def add(self, a, b):
        if isinstance(b, int) and b == 0:
            return a
        return arith.AddIOp(self.value(a), self.value(b)).result

    def extent(self, tensor_value, d):
        size = ir.RankedTensorType(tensor_value.type).shape[d]
        return tensor.DimOp(tensor_value, self.const(d)).result if size == DYNAMIC else size

    def cmp(self, pred, a, b):
        return arith.CmpIOp(pred, self.value(a), self.value(b)).result


def _guarded_read(pad, position, ix):
    """The element of `pad`'s result at `position`, read from its source."""
    source = pad.operands[0]
    slice_op = source.owner.operation if isinstance(source.owner, ir.OpView) else None
    if slice_op is not None and slice_op.name == "tensor.extract_slice" and unit_slice(slice_op) is not None:
        base = slice_op.operands[0]
        offsets, sizes = unit_slice(slice_op)
    else:
        base = source
        rank = ir.RankedTensorType(source.type).rank
        offsets, sizes = [0] * rank, [ix.extent(source, d) for d in range(rank)]
    low, high = pad_amounts(pad)
    pad_value = pad.regions[0].blocks[0].operations[-1].operands[0]

    inside = None
    indices = []
    for d, (p, lo, hi, size, off) in enumerate(zip(position, low, high, sizes, offsets)):
        q = ix.sub(p, lo)
        if lo == 0 and hi == 0:  # no padding along d: always inside
            indices.append(ix.add(q, off))
            continue
        ok = arith.AndIOp(ix.cmp(arith.CmpIPredicate.sge, q, 0), ix.cmp(arith.CmpIPredicate.slt, q, size)).result
        inside = ok if inside is None else arith.AndIOp(inside, ok).result
        # Clamped so the load stays in bounds; the select discards it outside.
        last = ix.sub(ix.extent(base, d), 1)
        indices.append(arith.MinSIOp(arith.MaxSIOp(ix.add(q, off), ix.const(0)).result, ix.value(last)).result)
    element = tensor.ExtractOp(base, indices).result
    if inside is None:
        return element
    return arith.SelectOp(inside, element, pad_value).result


def _fold_into(generic, operand_index, pad, slices):
    maps = indexing_maps(generic)
    n_out = len(generic.results)
    inputs = list(generic.operands[: len(generic.operands) - n_out])
    outputs = list(generic.operands[len(generic.operands) - n_out :])
    amap = maps[operand_index]
    ix = _Index()
    with ir.InsertionPoint(generic), generic.location:
        new = linalg.GenericOp(
            [r.type for r in generic.results],
            inputs[:operand_index] + inputs[operand_index + 1 :],
            outputs,
            ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for i, m in enumerate(maps) if i != operand_index]),
            generic.attributes["iterator_types"],
        )
    old_block = generic.regions[0].blocks[0]
    arg_types = [a.type for i, a in enumerate(old_block.arguments) if i != operand_index]
    block = new.regions[0].blocks.append(*arg_types)
    with ir.InsertionPoint(block), generic.location:
        dims = [linalg.IndexOp(d).result for d in range(amap.n_dims)]
        position = [
            affine.AffineApplyOp(ir.AffineMap.get(amap.n_dims, 0, [expr]), dims).result for expr in amap.results
        ]
        for offsets in slices:
            position = [ix.add(p, off) for p, off in zip(position, offsets)]
        value = _guarded_read(pad, position, ix)
    old_block.arguments[operand_index].replace_all_uses_with(value)
    new_args = iter(block.arguments)
    for i, arg in enumerate(old_block.arguments):
        if i != operand_index:
            arg.replace_all_uses_with(next(new_args))
    for op in list(old_block.operations):
        block.append(op)
    for old, fresh in zip(generic.results, new.results):
        old.replace_all_uses_with(fresh)
    generic.erase()
    return new.operation


def _fold_dims(pad):
    """tensor.dim of a pad (tiling asks it for a dynamic tile extent) as the
    source's extent plus the padding, so that the pad itself can go."""
    ix = _Index()
    low, high = pad_amounts(pad)
    for use in list(pad.results[0].uses):
        dim = use.owner
        index = dim.operands[1].owner if dim.name == "tensor.dim" else None
        if not isinstance(index, ir.OpView) or index.operation.name != "arith.constant":
            continue
        d = ir.IntegerAttr(index.attributes["value"]).value
        with ir.InsertionPoint(dim), dim.location:
            extent = ix.value(ix.add(ix.add(ix.extent(pad.operands[0], d), low[d]), high[d]))
        dim.results[0].replace_all_uses_with(extent)
        dim.erase()


@register("fdt-fold-pad", "Read tensor.pad inputs of linalg.generic ops in place, with bounds checks")
def fold_pad(module_op: ir.Operation):
    for pad in ops_named(module_op, "tensor.pad"):
        _fold_dims(pad)
    for generic in ops_named(module_op, "linalg.generic"):
        folded = True
        while folded:
            folded = False
            n_in = len(generic.operands) - len(generic.results)
            for i in range(n_in):
                found = _padded_source(generic.operands[i])
                if found is not None:
                    generic = _fold_into(generic, i, *found)
                    folded = True
                    break
