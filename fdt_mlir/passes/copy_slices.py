"""fdt-copy-slices: a slice left at function level is copied, as TFLM does.

A SLICE, SPLIT or UNPACK lowers to tensor.extract_slice, which bufferizes to
a view: the whole source stays live while the slice is read, and a tile loop
reading the view would compose its tiles with it (canonicalization folds a
slice of a slice), reading the source directly. Either way the kernel would
not be the unit the cost model prices. Each such slice becomes a generic
that copies it, reading the source inside its body (an identity copy would
be folded away again), so that it is a kernel with a buffer of its own, as
TFLM's slicing kernels write one; like a gather, it joins no path. Runs
after fdt-fold-crops, so that crops a window reads through are gone.
"""

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ..analysis.kernels import function_body
from . import register


def _static(op, name):
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))


def _copy(op):
    """A generic writing the slice of `op`, element by element."""
    source, result = op.operands[0], ir.RankedTensorType(op.results[0].type)
    offsets, strides = _static(op, "static_offsets"), _static(op, "static_strides")
    rank = result.rank
    generic = linalg.GenericOp(
        [result],
        [],
        [tensor.EmptyOp(result.shape, result.element_type).result],
        ir.ArrayAttr.get([ir.AffineMapAttr.get(ir.AffineMap.get_identity(rank))]),
        ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * rank),
    )
    block = generic.regions[0].blocks.append(result.element_type)
    index = ir.IndexType.get()
    with ir.InsertionPoint(block):
        at = []
        for d, (offset, stride) in enumerate(zip(offsets, strides)):
            i = linalg.IndexOp(d).result
            if stride != 1:
                i = arith.MulIOp(i, arith.ConstantOp(index, stride).result).result
            if offset != 0:
                i = arith.AddIOp(i, arith.ConstantOp(index, offset).result).result
            at.append(i)
        linalg.YieldOp([tensor.ExtractOp(source, at).result])
    return generic.results[0]


@register("fdt-copy-slices", "Make each function-level tensor.extract_slice a copy kernel")
def copy_slices(module_op: ir.Operation):
    for op in list(function_body(module_op).operations):
        op = op.operation
        if op.name != "tensor.extract_slice" or len(op.operands) != 1:
            continue  # dynamic offsets, sizes or strides: none at function level
        if ir.RankedTensorType(op.results[0].type).rank != ir.RankedTensorType(op.operands[0].type).rank:
            continue  # rank-reducing: not made by the importers
        with ir.InsertionPoint(op), op.location:
            op.results[0].replace_all_uses_with(_copy(op))
        op.erase()
