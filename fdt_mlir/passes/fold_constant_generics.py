"""fdt-fold-constant-generics: a linalg.generic computed from constants
alone becomes a constant.

ONNX's ConvTranspose lowers to a conv over its weights flipped and
transposed: a generic that gathers them from the weight constant with
`tensor.extract`, at run time, into a buffer of the arena as large as the
weights. Weights belong in flash. Such a generic (every loop parallel, its
result indexed by the loops in order, a body of index arithmetic and reads
of constant tensors that reads none of its operands) is evaluated here, for
every index at once, and replaced by the constant it computes. Its dead
destination is left to CSE.
"""

import operator

import numpy as np
from mlir import ir
from mlir.dialects import arith

from ..analysis.indexing import GENERIC, iterators, maps, n_inputs
from ..ir_utils import ops_named
from . import register

_INDEX_OPS = {"arith.addi": operator.add, "arith.subi": operator.sub, "arith.muli": operator.mul}


def _constant_array(value):
    """The numpy array of a dense arith.constant tensor, else None."""
    owner = value.owner
    if not isinstance(owner, ir.OpView) or owner.operation.name != "arith.constant":
        return None
    attr = owner.operation.attributes["value"]
    if not isinstance(attr, (ir.DenseFPElementsAttr, ir.DenseIntElementsAttr)) or attr.is_splat:
        return None  # splats are fills, tiled per element (fdt-fill-splat-inits)
    ttype = ir.RankedTensorType(value.type)
    element = ttype.element_type
    if not (isinstance(element, ir.F32Type) or (isinstance(element, ir.IntegerType) and element.width in (8, 16, 32))):
        return None  # what numpy reads back exactly (not i1, index or f16)
    return np.array(attr).reshape(ttype.shape)


def _evaluate(op, shape):
    """The generic's result as a numpy array, or None when its body does
    more than the index arithmetic and constant reads this pass knows."""
    body = op.regions[0].blocks[0]
    if any(list(arg.uses) for arg in body.arguments):
        return None
    grid = np.indices(shape)
    values = {}

    def get(value):
        if value in values:
            return values[value]
        owner = value.owner
        if isinstance(owner, ir.OpView) and owner.operation.name == "arith.constant":
            attr = owner.operation.attributes["value"]
            if isinstance(attr, ir.IntegerAttr):
                return ir.IntegerAttr(attr).value
        return None

    for inner in body.operations:
        inner = inner.operation
        name = inner.name
        if name == "linalg.index":
            values[inner.results[0]] = grid[ir.IntegerAttr(inner.attributes["dim"]).value]
        elif name == "arith.constant":
            if get(inner.results[0]) is None:
                return None
        elif name in _INDEX_OPS:
            lhs, rhs = (get(v) for v in inner.operands)
            if lhs is None or rhs is None:
                return None
            values[inner.results[0]] = _INDEX_OPS[name](lhs, rhs)
        elif name == "tensor.extract":
            array = _constant_array(inner.operands[0])
            indices = [get(v) for v in list(inner.operands)[1:]]
            if array is None or any(i is None for i in indices):
                return None
            indices = [np.broadcast_to(i, shape) for i in indices]
            if any(np.any(i < 0) or np.any(i >= n) for i, n in zip(indices, array.shape)):
                return None
            values[inner.results[0]] = array[tuple(indices)]
        elif name == "linalg.yield":
            result = values.get(inner.operands[0])
            return None if result is None else np.broadcast_to(result, shape)
        else:
            return None
    return None


def _foldable(op) -> bool:
    if len(op.results) != 1 or n_inputs(op) != 0 or any(kind != "parallel" for kind in iterators(op)):
        return False
    out_map = maps(op)[-1]
    return out_map.is_permutation and all(ir.AffineDimExpr(e).position == i for i, e in enumerate(out_map.results))


@register("fdt-fold-constant-generics", "Evaluate linalg.generic ops computed from constants alone")
def fold_constant_generics(module_op: ir.Operation):
    for op in ops_named(module_op, GENERIC):
        if not _foldable(op):
            continue
        rtype = ir.RankedTensorType(op.results[0].type)
        result = _evaluate(op, rtype.shape)
        if result is None:
            continue
        with ir.InsertionPoint(op), op.location:
            attr = ir.DenseElementsAttr.get(np.ascontiguousarray(result), type=rtype.element_type)
            constant = arith.ConstantOp(rtype, attr).result
        op.results[0].replace_all_uses_with(constant)
        op.erase()
