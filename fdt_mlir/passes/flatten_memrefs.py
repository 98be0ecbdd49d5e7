"""fdt-flatten-memrefs: make every buffer a one-dimensional array.

After lowering to loops, buffers are touched only by memref.load/store, so
giving them shape [N] with linearized indices is exact. It is needed twice
over for C: convert-memref-to-emitc rejects rank-0 memrefs (left by unit-dim
folding), and multi-dimensional constant arrays are printed with flat
initializers, which gcc -Wall flags (-Wmissing-braces).
"""

import numpy as np
from mlir import ir
from mlir.dialects import memref

from ..ir_utils import linearized
from . import register

RESHAPES = ("memref.expand_shape", "memref.collapse_shape")


def _flat(t):
    t = ir.MemRefType(t)
    count = int(np.prod(t.shape)) if t.rank else 1
    return ir.MemRefType.get([count], t.element_type)


def _needs(t) -> bool:
    return isinstance(t, ir.MemRefType) and t.rank != 1


@register("fdt-flatten-memrefs", "Make every memref one-dimensional, linearizing load/store indices")
def flatten_memrefs(module_op: ir.Operation):
    accesses, values, reshapes = [], [], []

    def visit(op):
        if op.name in RESHAPES:
            reshapes.append(op)
        if op.name in ("memref.load", "memref.store"):
            target = op.operands[0 if op.name == "memref.load" else 1]
            if _needs(target.type):
                accesses.append((op, list(ir.MemRefType(target.type).shape)))
        if op.name == "memref.global":
            t = ir.TypeAttr(op.attributes["type"]).value
            if _needs(t):
                op.attributes["type"] = ir.TypeAttr.get(_flat(t))
                init = op.attributes["initial_value"] if "initial_value" in op.attributes else None
                if init is not None and isinstance(init, ir.DenseElementsAttr):
                    flat_type = ir.RankedTensorType.get(_flat(t).shape, ir.MemRefType(t).element_type)
                    if init.is_splat:
                        op.attributes["initial_value"] = ir.DenseElementsAttr.get_splat(
                            flat_type, init.get_splat_value()
                        )
                    else:
                        op.attributes["initial_value"] = ir.DenseElementsAttr.get(
                            np.array(init).reshape(-1), type=flat_type
                        )
        for result in op.results:
            if _needs(result.type):
                values.append(result)
        for region in op.regions:
            for block in region.blocks:
                values.extend(arg for arg in block.arguments if _needs(arg.type))
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    for op, shape in accesses:
        with ir.InsertionPoint(op), op.location:
            if op.name == "memref.load":
                index = linearized(list(op.operands[1:]), shape)
                new = memref.LoadOp(op.operands[0], [index])
                op.results[0].replace_all_uses_with(new.result)
            else:
                index = linearized(list(op.operands[2:]), shape)
                memref.StoreOp(op.operands[0], op.operands[1], [index])
        op.erase()
    for value in values:
        value.set_type(_flat(value.type))
    for op in reshapes:
        # Between two flattened buffers of one size, a reshape is the identity.
        if op.results[0].type == op.operands[0].type:
            op.results[0].replace_all_uses_with(op.operands[0])
            op.erase()
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and op.regions[0].blocks:
            old = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
            args = [a.type for a in op.regions[0].blocks[0].arguments]
            results = [_flat(t) if _needs(t) else t for t in old.results]
            op.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(args, results))
