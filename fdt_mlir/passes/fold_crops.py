"""fdt-fold-crops: let windowed ops read through zero-offset crops.

TOSA requires a pooling or conv window to end exactly at the input's edge,
so VALID windows that leave trailing rows unread get a crop (a tensor.slice,
then tensor.extract_slice at offset 0) in front. The crop is a slice outside
any tile loop, which stops tile-and-fuse at that edge; a linalg.generic can
read the uncropped tensor directly, since its maps never reach the rows the
crop drops.
"""

from mlir import ir

from ..analysis.indexing import GENERIC, dim_of, maps, n_inputs
from ..ir_utils import ops_named
from . import register


def _is_crop(op) -> bool:
    static = [ir.DenseI64ArrayAttr(op.attributes[k]) for k in ("static_offsets", "static_strides")]
    source, result = (ir.RankedTensorType(v.type) for v in (op.operands[0], op.results[0]))
    if len(op.operands) != 1 or any(v != 0 for v in static[0]) or any(v != 1 for v in static[1]):
        return False
    if source.rank != result.rank:
        return False
    cropped = [a for a in range(source.rank) if source.shape[a] != result.shape[a]]
    return all(_reads_through(use, cropped) for use in op.results[0].uses)


def _reads_through(use, cropped) -> bool:
    """True when a generic's input reads the cropped axes through windows
    only: a bare loop dim there would take its extent from the crop (the
    first time step an UNPACK slices off is no crop)."""
    generic = use.owner
    if generic.name != GENERIC or use.operand_number >= n_inputs(generic):
        return False
    amap = maps(generic)[use.operand_number]
    return all(dim_of(amap.results[a]) is None for a in cropped)


@register("fdt-fold-crops", "Make linalg.generic ops read through zero-offset crops of their inputs")
def fold_crops(module_op: ir.Operation):
    for op in ops_named(module_op, "tensor.extract_slice"):
        if _is_crop(op):
            op.results[0].replace_all_uses_with(op.operands[0])
            op.erase()
