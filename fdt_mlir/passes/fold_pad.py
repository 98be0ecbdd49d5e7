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

from . import ops_named, register

DYNAMIC = ir.ShapedType.get_dynamic_size()


def _mixed(static_attr, dynamic_values):
    """Interleaves a static/dynamic index list, as OpFoldResults."""
    dynamic = iter(dynamic_values)
    return [next(dynamic) if v == DYNAMIC else v for v in ir.DenseI64ArrayAttr(static_attr)]


def _padded_source(value):
    """(pad op) for a value that is a tensor.pad, or the scf.if tiling wraps
    around one (its other branch is an all-padding tensor.generate)."""
    owner = value.owner
    if not isinstance(owner, ir.OpView):
        return None
    op = owner.operation
    if op.name == "tensor.pad":
        return op
    if op.name == "scf.if" and len(op.results) == 1:
        yielded = op.regions[1].blocks[0].operations[-1].operands[0]
        inner = yielded.owner
        if isinstance(inner, ir.OpView) and inner.operation.name == "tensor.pad":
            return inner.operation
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
        return arith.SubIOp(self.value(a), self.value(b)).result

    def add(self, a, b):
        if isinstance(b, int) and b == 0:
            return a
        return arith.AddIOp(self.value(a), self.value(b)).result

    def cmp(self, pred, a, b):
        return arith.CmpIOp(pred, self.value(a), self.value(b)).result


def _guarded_read(pad, position, ix):
    """The element of `pad`'s result at `position`, read from its source."""
    source = pad.operands[0]
    slice_op = source.owner.operation if isinstance(source.owner, ir.OpView) else None
    if slice_op is not None and slice_op.name == "tensor.extract_slice" and all(
        s == 1 for s in ir.DenseI64ArrayAttr(slice_op.attributes["static_strides"])
    ):
        base = slice_op.operands[0]
        n_dyn_off = sum(1 for v in ir.DenseI64ArrayAttr(slice_op.attributes["static_offsets"]) if v == DYNAMIC)
        dyn = list(slice_op.operands[1:])
        offsets = _mixed(slice_op.attributes["static_offsets"], dyn[:n_dyn_off])
        sizes = _mixed(slice_op.attributes["static_sizes"], dyn[n_dyn_off:])
    else:
        base = source
        shape = ir.RankedTensorType(source.type).shape
        offsets, sizes = [0] * len(shape), list(shape)
    base_shape = ir.RankedTensorType(base.type).shape
    n_low = sum(1 for v in ir.DenseI64ArrayAttr(pad.attributes["static_low"]) if v == DYNAMIC)
    low = _mixed(pad.attributes["static_low"], list(pad.operands[1 : 1 + n_low]))
    pad_value = pad.regions[0].blocks[0].operations[-1].operands[0]

    inside = None
    indices = []
    for p, lo, size, off, extent in zip(position, low, sizes, offsets, base_shape):
        q = ix.sub(p, lo)
        if not (isinstance(lo, int) and lo == 0 and isinstance(size, int) and size == extent and off == 0):
            ok = arith.AndIOp(ix.cmp(arith.CmpIPredicate.sge, q, 0), ix.cmp(arith.CmpIPredicate.slt, q, size)).result
            inside = ok if inside is None else arith.AndIOp(inside, ok).result
            # Clamped so the load stays in bounds; the select discards it outside.
            q = arith.MinSIOp(arith.MaxSIOp(ix.add(q, off), ix.const(0)).result, ix.const(extent - 1)).result
        else:
            q = ix.add(q, off)
        indices.append(q)
    element = tensor.ExtractOp(base, indices).result
    if inside is None:
        return element
    return arith.SelectOp(inside, element, pad_value).result


def _fold_into(generic, operand_index, pad):
    maps = [ir.AffineMapAttr(a).value for a in generic.attributes["indexing_maps"]]
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


@register("fdt-fold-pad", "Read tensor.pad inputs of linalg.generic ops in place, with bounds checks")
def fold_pad(module_op: ir.Operation):
    for generic in ops_named(module_op, "linalg.generic"):
        folded = True
        while folded:
            folded = False
            n_in = len(generic.operands) - len(generic.results)
            for i in range(n_in):
                pad = _padded_source(generic.operands[i])
                if pad is not None:
                    generic = _fold_into(generic, i, pad)
                    folded = True
                    break
