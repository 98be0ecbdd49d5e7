"""fdt-fill-splat-inits: a splat constant that initialises a linalg op's
output becomes a fill of tensor.empty.

Canonicalization folds the broadcast of a splat constant (a one-channel
conv's bias, from ONNX's lowering) into a splat constant tensor as large as
the output. As a destination it cannot be tiled like a fill: every tile
would copy a slice of a constant into a buffer of its own, inside the tile
loops. A fill (a linalg.generic yielding the scalar) is an initializer the
kernels' tiling recomputes per element, as for every other bias.
"""

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ..analysis.indexing import GENERIC, n_inputs
from ..ir_utils import ops_named
from . import register


def _splat(value):
    """The scalar attribute of a splat arith.constant tensor, or None."""
    owner = value.owner
    if not isinstance(owner, ir.OpView) or owner.operation.name != "arith.constant":
        return None
    attr = owner.operation.attributes["value"]
    if not isinstance(attr, ir.DenseElementsAttr) or not attr.is_splat:
        return None
    return attr.get_splat_value()


def _fill(value, scalar, location):
    """linalg.generic ins(scalar) outs(tensor.empty): a fill, generalized."""
    ttype = ir.RankedTensorType(value.type)
    with location:
        empty = tensor.EmptyOp(ttype.shape, ttype.element_type).result
        constant = arith.ConstantOp(ttype.element_type, scalar).result
        rank = ttype.rank
        scalar_map = ir.AffineMap.get(rank, 0, [])
        identity = ir.AffineMap.get_identity(rank)
        op = linalg.GenericOp(
            [ttype],
            [constant],
            [empty],
            ir.ArrayAttr.get([ir.AffineMapAttr.get(scalar_map), ir.AffineMapAttr.get(identity)]),
            ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * rank),
        )
        block = op.regions[0].blocks.append(ttype.element_type, ttype.element_type)
        with ir.InsertionPoint(block):
            linalg.YieldOp([block.arguments[0]])
    return op.results[0]


@register("fdt-fill-splat-inits", "Turn splat constants that initialise linalg outputs into fills")
def fill_splat_inits(module_op: ir.Operation):
    for op in ops_named(module_op, GENERIC):
        for number in range(n_inputs(op), len(op.operands)):
            value = op.operands[number]
            scalar = _splat(value)
            if scalar is not None:
                with ir.InsertionPoint(op):
                    op.operands[number] = _fill(value, scalar, op.location)
                if not list(value.uses):
                    value.owner.erase()
