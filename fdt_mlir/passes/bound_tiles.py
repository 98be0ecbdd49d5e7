"""fdt-bound-tiles: give every dynamically sized tile a static buffer.

Uneven partitions and halos clipped at the borders make some tiles of a
fused path smaller than others, so their tensor.empty has dynamic sizes,
which would bufferize to an allocation inside the tile loop: neither
hoistable nor plannable in a static arena. Each becomes a slice of a static
allocation (bufferization.alloc_tensor) as large as the largest tile it ever
holds, found by executing the tile loops abstractly. Slices of a
whole-tensor tensor.empty are first made empties of their own (as
bufferization would), so that every tile's extent is explicit.
"""

from mlir import ir
from mlir.dialects import bufferization, tensor

from ..analysis.abstract_execution import execute
from ..rewrites.tile_and_fuse import run_transform
from . import register

FOLD_EMPTY_SLICES = """
    %funcs = transform.structured.match ops{["func.func"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %funcs {
      transform.apply_patterns.tensor.fold_tensor_empty
    } : !transform.any_op"""


@register("fdt-bound-tiles", "Allocate dynamically sized tiles as slices of static buffers of their largest size")
def bound_tiles(module_op: ir.Operation):
    run_transform(module_op, FOLD_EMPTY_SLICES)
    largest = execute(module_op, tiles_only=True).largest
    for empty, shape in largest.items():
        # One buffer per use: CSE may have merged the empties of two tiles.
        for use in list(empty.results[0].uses):
            with ir.InsertionPoint(use.owner), empty.location:
                use.owner.operands[use.operand_number] = _bounded(empty, shape)
        empty.erase()


def _bounded(empty, shape):
    """A slice, sized like `empty`, of a static tensor of `shape`."""
    etype = ir.RankedTensorType(empty.results[0].type).element_type
    whole = bufferization.AllocTensorOp(ir.RankedTensorType.get(shape, etype), []).result
    return tensor.ExtractSliceOp(
        empty.results[0].type,
        whole,
        [],
        list(empty.operands),
        [],
        ir.DenseI64ArrayAttr.get([0] * len(shape)),
        ir.DenseI64ArrayAttr.get(list(ir.RankedTensorType(empty.results[0].type).shape)),
        ir.DenseI64ArrayAttr.get([1] * len(shape)),
    ).result
