"""fdt-refill-tile-outputs: give output tiles that start from a fill the
fill itself, not a slice of the filled tensor.

A window reduction whose init is a fill (a max pool starts from -inf, a
conv from its bias) and whose output is tiled reads, in each tile, a slice
of the tensor the tiles are inserted into: with the tile loops unrolled
(fdt-unroll-tile-loops), tile k's init is

    %s = tensor.extract_slice %t_k[offsets k] ...
    %t_k = tensor.insert_slice %tile_k-1 into %t_k-1[offsets k-1] ...
    ...
    %t_0 = linalg.generic (the fill) ins(%cst) outs(%empty)

IREE rejects such a reduction ("write affecting operations on global
resources are restricted to workgroup distributed contexts"): its dispatch
would read and write a slice of a tensor that holds data, even with static
tiles. The tiles of a parallel partition are disjoint, so no earlier tile
wrote the slice, which still holds the fill value: this pass applies the
fill to a fresh tensor the size of the slice instead, and the reduction no
longer reads the tensor under construction. It follows the chain of
insert_slices back to the fill only while each one is proven disjoint from
the slice (static offsets and sizes); a '>' path, whose accumulator every
tile reads and writes whole, is left alone.

A fill is a linalg.generic of parallel loops writing its output through the
identity map without reading it, from scalars or constants broadcast
through projected permutations (the constants are sliced like the output).
"""

from mlir import ir
from mlir.dialects import linalg, tensor

from ..analysis.indexing import GENERIC, iterators, maps, n_inputs
from ..ir_utils import DYNAMIC, ops_named, unit_slice
from . import register


@register(
    "fdt-refill-tile-outputs", "Fill output tiles that start from a fill directly, not via a slice of the filled tensor"
)
def refill_tile_outputs(module_op: ir.Operation):
    for op in ops_named(module_op, GENERIC):
        n_in = n_inputs(op)
        block = op.regions[0].blocks[0]
        for i in range(n_in, len(op.operands)):
            if not _reads(block.arguments[i]):
                continue  # the tile overwrites its init: its value does not matter
            found = _filled_slice(op.operands[i])
            if found is not None:
                fill, slice_op = found
                with ir.InsertionPoint(op), op.location:
                    op.operands[i] = _fill_slice(fill, slice_op)
                if not any(True for _ in slice_op.results[0].uses):
                    slice_op.erase()


def _rank(value) -> int:
    return ir.RankedTensorType(value.type).rank


def _reads(arg) -> bool:
    return any(True for _ in arg.uses)


def _disjoint(a, b) -> bool:
    """True when two slices (offsets, sizes) provably share no element: some
    dim, static in both, where their ranges do not meet."""
    for oa, sa, ob, sb in zip(*a, *b):
        if all(isinstance(v, int) for v in (oa, sa, ob, sb)) and (oa + sa <= ob or ob + sb <= oa):
            return True
    return False


def _filled_slice(value):
    """(fill, extract_slice) when `value` is a slice of a fill's result
    through insert_slices disjoint from it, else None."""
    owner = value.owner
    if not isinstance(owner, ir.OpView) or owner.operation.name != "tensor.extract_slice":
        return None
    slice_op = owner.operation
    region = unit_slice(slice_op)
    if region is None or _rank(slice_op.results[0]) != _rank(slice_op.operands[0]):
        return None  # a rank-reducing slice
    source = slice_op.operands[0]
    while isinstance(source.owner, ir.OpView) and source.owner.operation.name == "tensor.insert_slice":
        insert = source.owner.operation
        written = unit_slice(insert)
        if written is None or not _disjoint(region, written):
            return None
        source = insert.operands[1]
    fill = source.owner.operation if isinstance(source.owner, ir.OpView) else None
    if fill is None or not _is_fill(fill):
        return None
    return fill, slice_op


def _is_fill(op) -> bool:
    if op.name != GENERIC or len(op.results) != 1 or any(kind != "parallel" for kind in iterators(op)):
        return False
    amaps = maps(op)
    if amaps[-1] != ir.AffineMap.get_identity(amaps[-1].n_dims):
        return False
    if _reads(op.regions[0].blocks[0].arguments[len(op.operands) - 1]):
        return False
    for value, amap in zip(list(op.operands)[:-1], amaps):
        if not isinstance(value.type, ir.ShapedType):
            continue
        constant = isinstance(value.owner, ir.OpView) and value.owner.operation.name == "arith.constant"
        if not constant or not amap.is_projected_permutation:
            return False
    return True


def _fill_slice(fill, slice_op):
    """`fill` computed on the slice `slice_op` only, into a fresh tensor."""
    offsets, sizes = unit_slice(slice_op)
    result_type = slice_op.results[0].type
    element_type = ir.RankedTensorType(result_type).element_type
    amaps = maps(fill)
    inputs = []
    for value, amap in zip(list(fill.operands)[:-1], amaps):
        if isinstance(value.type, ir.ShapedType):
            dims = [e.position for e in amap.results]
            value = _slice_input(value, [offsets[d] for d in dims], [sizes[d] for d in dims])
        inputs.append(value)
    empty = tensor.EmptyOp(sizes, element_type).result
    new = linalg.GenericOp(
        [result_type], inputs, [empty], fill.attributes["indexing_maps"], fill.attributes["iterator_types"]
    )
    copy = fill.clone()  # the payload, moved into the new op
    old_block = copy.regions[0].blocks[0]
    block = new.regions[0].blocks.append(*[a.type for a in old_block.arguments])
    for old, fresh in zip(old_block.arguments, block.arguments):
        old.replace_all_uses_with(fresh)
    for op in list(old_block.operations):
        block.append(op)
    copy.erase()
    return new.results[0]


def _slice_input(value, offsets, sizes):
    """The part of a constant input the output slice reads."""
    shape = ir.RankedTensorType(value.type).shape
    if all(o == 0 for o in offsets) and list(sizes) == list(shape):
        return value
    static_offsets = [o if isinstance(o, int) else DYNAMIC for o in offsets]
    static_sizes = [s if isinstance(s, int) else DYNAMIC for s in sizes]
    return tensor.ExtractSliceOp(
        ir.RankedTensorType.get(static_sizes, ir.RankedTensorType(value.type).element_type),
        value,
        [o for o in offsets if not isinstance(o, int)],
        [s for s in sizes if not isinstance(s, int)],
        [],
        ir.DenseI64ArrayAttr.get(static_offsets),
        ir.DenseI64ArrayAttr.get(static_sizes),
        ir.DenseI64ArrayAttr.get([1] * len(offsets)),
    ).result
