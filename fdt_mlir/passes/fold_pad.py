"""fdt-fold-pad: read padded inputs in place instead of copying them.

tosa-to-linalg pads a conv or pool input with tensor.pad, which bufferizes to
a padded copy of the input: RAM that TFLM's kernels never spend (they skip
out-of-bounds taps). After fdt-tile-kernels the pad sits next to its single
consumer (possibly behind the scf.if that tiling adds for all-padding tiles);
this pass removes it by rewriting the consumer to read the unpadded source
directly with a bounds check that yields the padding value outside. Only
window readers (ops with reduction dims) fold their pads: a TFLite PAD
before an elementwise op is a copy in TFLM too.

A tiled pad's amounts depend on the tile, and most tiles of a layer are
interior: their window does not reach the padding. The consumer is then
versioned behind an scf.if on that (all amounts zero), so interior tiles
read their source without a check per element; only border tiles keep the
checks, which cost more than the multiply-accumulates they guard.
"""

from mlir import ir
from mlir.dialects import affine, arith, linalg, scf, tensor

from ..analysis.indexing import maps as indexing_maps
from ..analysis.indexing import reads_through_windows
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
        if isinstance(a, int) and a == 0:
            return b
        if isinstance(a, int) and isinstance(b, int):
            return a + b
        return arith.AddIOp(self.value(a), self.value(b)).result

    def extent(self, tensor_value, d):
        size = ir.RankedTensorType(tensor_value.type).shape[d]
        return tensor.DimOp(tensor_value, self.const(d)).result if size == DYNAMIC else size

    def cmp(self, pred, a, b):
        return arith.CmpIOp(pred, self.value(a), self.value(b)).result


def _source(pad, ix):
    """(tensor, offsets, sizes) of what `pad` pads: a unit-stride slice of a
    tensor, or a whole tensor."""
    source = pad.operands[0]
    slice_op = source.owner.operation if isinstance(source.owner, ir.OpView) else None
    if slice_op is not None and slice_op.name == "tensor.extract_slice" and unit_slice(slice_op) is not None:
        return slice_op.operands[0], *unit_slice(slice_op)
    rank = ir.RankedTensorType(source.type).rank
    return source, [0] * rank, [ix.extent(source, d) for d in range(rank)]


def _read(pad, position, ix, guarded=True):
    """The element of `pad`'s result at `position`, read from its source.
    Guarded, a read in the padding yields the padding value (an scf.if, so
    the load happens only in bounds); unguarded, the caller has checked
    that `position` is not in the padding (an interior tile)."""
    base, offsets, sizes = _source(pad, ix)
    low, high = pad_amounts(pad)
    pad_value = pad.regions[0].blocks[0].operations[-1].operands[0]

    inside = None
    indices = []
    for p, lo, hi, size, off in zip(position, low, high, sizes, offsets):
        q = ix.sub(p, lo)
        indices.append(ix.value(ix.add(q, off)))
        if guarded and (lo != 0 or hi != 0):
            ok = arith.AndIOp(ix.cmp(arith.CmpIPredicate.sge, q, 0), ix.cmp(arith.CmpIPredicate.slt, q, size)).result
            inside = ok if inside is None else arith.AndIOp(inside, ok).result
    if inside is None:
        return tensor.ExtractOp(base, indices).result
    read = scf.IfOp(inside, [pad_value.type], has_else=True)
    with ir.InsertionPoint(read.then_block):
        scf.YieldOp([tensor.ExtractOp(base, indices).result])
    with ir.InsertionPoint(read.else_block):
        scf.YieldOp([pad_value])
    return read.results[0]


def _folded(generic, operand_index, pad, slices, guarded: bool, move_body: bool):
    """A copy of `generic`, at the insertion point, that reads operand
    `operand_index` (a pad, through `slices`) from the pad's source. Its body
    is the old one, moved or cloned."""
    maps = indexing_maps(generic)
    n_out = len(generic.results)
    inputs = list(generic.operands[: len(generic.operands) - n_out])
    outputs = list(generic.operands[len(generic.operands) - n_out :])
    amap = maps[operand_index]
    ix = _Index()
    with generic.location:
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
        value = _read(pad, position, ix, guarded)
    new_args = iter(block.arguments)
    mapping = {old_block.arguments[operand_index]: value}
    mapping.update((arg, next(new_args)) for i, arg in enumerate(old_block.arguments) if i != operand_index)
    if move_body:
        for old, fresh in mapping.items():
            old.replace_all_uses_with(fresh)
        for op in list(old_block.operations):
            block.append(op)
        return new
    for op in old_block.operations:
        clone = op.operation.clone(ir.InsertionPoint(block))
        for number, operand in enumerate(clone.operands):
            if operand in mapping:
                clone.operands[number] = mapping[operand]
        mapping.update(zip(op.results, clone.results))
    return new


def _fold_into(generic, operand_index, pad, slices):
    with ir.InsertionPoint(generic):
        new = _folded(generic, operand_index, pad, slices, guarded=True, move_body=True)
    for old, fresh in zip(generic.results, new.results):
        old.replace_all_uses_with(fresh)
    generic.erase()
    return new.operation


def _interior(pad, slices, shape, ix):
    """An i1 that is true where the box a tile reads, `shape` at the sum of
    `slices` in the pad's result, lies in the pad's source: no element of it
    is padding. None when no tile can be interior, or when the box's place
    is static (nothing to version)."""
    if any(extent == DYNAMIC for extent in shape):
        return None
    _, _, sizes = _source(pad, ix)
    low, high = pad_amounts(pad)
    conditions, static = [], True
    for d, (lo, hi, size, extent) in enumerate(zip(low, high, sizes, shape)):
        if lo == 0 and hi == 0:
            continue
        start = 0
        for offsets in slices:
            start = ix.add(start, offsets[d])
        first = ix.sub(start, lo)
        static = static and isinstance(first, int) and isinstance(size, int)
        if static and (first < 0 or first + extent > size):
            return None
        conditions.append(ix.cmp(arith.CmpIPredicate.sge, first, 0))
        conditions.append(ix.cmp(arith.CmpIPredicate.sle, ix.add(first, extent), size))
    if static:
        return None
    condition = conditions[0]
    for other in conditions[1:]:
        condition = arith.AndIOp(condition, other).result
    return condition


def _fold_versioned(generic, operand_index, pad, slices) -> bool:
    """Folds the pad into two versions of `generic` behind an scf.if: an
    interior tile, whose window the pad does not reach, reads its source
    without a bounds check per element; a border tile keeps the checks.
    False when there is nothing to version (see _interior). Ops made for
    a condition that is not used are left to canonicalize."""
    with ir.InsertionPoint(generic), generic.location:
        shape = ir.RankedTensorType(generic.operands[operand_index].type).shape
        condition = _interior(pad, slices, shape, _Index())
        if condition is None:
            return False
        branch = scf.IfOp(condition, [r.type for r in generic.results], has_else=True)
    with ir.InsertionPoint(branch.then_block), generic.location:
        scf.YieldOp(_folded(generic, operand_index, pad, slices, guarded=False, move_body=False).results)
    with ir.InsertionPoint(branch.else_block), generic.location:
        scf.YieldOp(_folded(generic, operand_index, pad, slices, guarded=True, move_body=True).results)
    for old, fresh in zip(generic.results, branch.results):
        old.replace_all_uses_with(fresh)
    generic.erase()
    return True


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


def _bounded_without(generic, operand_index) -> bool:
    """Whether the other operands' maps still give every loop its extent,
    as linalg requires: a reduction that only the padded operand spans (a
    SOFTMAX's or MEAN's sum over the channels of a PAD) keeps its pad."""
    maps = indexing_maps(generic)
    dims = {
        e.position
        for i, m in enumerate(maps)
        if i != operand_index
        for e in m.results
        if isinstance(e, ir.AffineDimExpr)
    }
    return len(dims) == maps[0].n_dims


@register("fdt-fold-pad", "Read tensor.pad inputs of linalg.generic ops in place, with bounds checks")
def fold_pad(module_op: ir.Operation):
    for pad in ops_named(module_op, "tensor.pad"):
        _fold_dims(pad)
    for generic in ops_named(module_op, "linalg.generic"):
        if not reads_through_windows(generic):
            continue  # an elementwise reader of a PAD: the pad stays a copy, as TFLM's PAD makes
        n_in = len(generic.operands) - len(generic.results)
        padded = [
            (i, found)
            for i in range(n_in)
            if _bounded_without(generic, i) and (found := _padded_source(generic.operands[i])) is not None
        ]
        if len(padded) == 1 and _fold_versioned(generic, padded[0][0], *padded[0][1]):
            continue
        folded = bool(padded)
        while folded:
            folded = False
            n_in = len(generic.operands) - len(generic.results)
            for i in range(n_in):
                found = _padded_source(generic.operands[i]) if _bounded_without(generic, i) else None
                if found is not None:
                    generic = _fold_into(generic, i, *found)
                    folded = True
                    break
