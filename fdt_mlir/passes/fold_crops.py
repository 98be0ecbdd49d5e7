"""fdt-fold-crops: let windowed ops read through crops.

TOSA requires a pooling or conv window to end exactly at the input's edge,
so VALID windows that leave trailing rows unread get a crop (a tensor.slice,
then tensor.extract_slice at offset 0) in front; a TFLite SLICE or
STRIDED_SLICE before a conv crops at other offsets too. The crop is a slice
outside any tile loop, which stops tile-and-fuse at that edge, and, left
alone, a copy of its own (fdt-copy-slices); a linalg.generic reading the
cropped axes through windows can read the uncropped tensor directly, its
maps shifted by the crop's offsets.
"""

from mlir import ir

from ..analysis.indexing import GENERIC, dim_of, maps, n_inputs
from ..ir_utils import ops_named
from . import register


def _crop_offsets(op):
    """The offsets of a unit-stride, rank-keeping slice whose cropped axes
    (shorter or offset) all its readers read through windows; else None."""
    offsets, strides = (list(ir.DenseI64ArrayAttr(op.attributes[k])) for k in ("static_offsets", "static_strides"))
    source, result = (ir.RankedTensorType(v.type) for v in (op.operands[0], op.results[0]))
    if len(op.operands) != 1 or any(v != 1 for v in strides) or source.rank != result.rank:
        return None
    cropped = [a for a in range(source.rank) if source.shape[a] != result.shape[a] or offsets[a] != 0]
    if not all(_reads_through(use, cropped) for use in op.results[0].uses):
        return None
    return offsets


def _reads_through(use, cropped) -> bool:
    """True when a generic's input reads the cropped axes through windows
    only: a bare loop dim there would take its extent from the crop (the
    first time step an UNPACK slices off is no crop)."""
    generic = use.owner
    if generic.name != GENERIC or use.operand_number >= n_inputs(generic):
        return False
    amap = maps(generic)[use.operand_number]
    return all(dim_of(amap.results[a]) is None for a in cropped)


def _shift(use, offsets):
    """Shifts the reader's map of the crop by its offsets."""
    generic = use.owner
    all_maps = maps(generic)
    amap = all_maps[use.operand_number]
    shifted = [e + o if o else e for e, o in zip(amap.results, offsets)]
    all_maps[use.operand_number] = ir.AffineMap.get(amap.n_dims, amap.n_symbols, shifted)
    generic.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in all_maps])


@register("fdt-fold-crops", "Make linalg.generic ops read through crops of their inputs that they read through windows")
def fold_crops(module_op: ir.Operation):
    for op in reversed(ops_named(module_op, "tensor.extract_slice")):  # TOSA's crop of a SLICE first
        offsets = _crop_offsets(op)
        if offsets is None:
            continue
        for use in list(op.results[0].uses):
            _shift(use, offsets)
        op.results[0].replace_all_uses_with(op.operands[0])
        op.erase()
