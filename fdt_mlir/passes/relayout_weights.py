"""fdt-relayout-weights: store each constant weight array in the order its
loop nest reads it.

TOSA lowers a fully connected layer to a matmul whose weights are the
transpose of TFLite's, so the reduction walks them with a stride of the
output width. A constant whose every load (one per version of a kernel)
indexes it by the same dense, one-to-one linear map of the enclosing loops
(each from 0, step 1) can be stored in any order: this pass permutes the
data so that the loops, outermost first, read it row-major, and rewrites
the index. The innermost loop then reads consecutive elements, which the
microkernel passes need. The flash image keeps its size; the arena is
untouched.
"""

import numpy as np
from mlir import ir

from ..analysis.linear_index import affine_form
from ..ir_utils import constant_value, linearized, ops_named
from . import register


def _loops(op):
    """[(induction variable, trip count)] of the unit-step loops from 0
    around `op`, outermost first."""
    found = []
    parent = op.parent
    while parent.name == "scf.for":
        lb, ub, step = (constant_value(v) for v in parent.operands[:3])
        if lb == 0 and step == 1 and ub is not None:
            found.insert(0, (parent.regions[0].blocks[0].arguments[0], ub))
        parent = parent.parent
    return found


def _dense_strides(extents) -> list:
    strides, stride = [], 1
    for extent in reversed(extents):
        strides.insert(0, stride)
        stride *= extent
    return strides


def _layout(load, size):
    """(shape of the data as `load` reads it, the permutation of its dims
    into loop order) when `load`'s index is a dense one-to-one map of its
    loops onto `size` elements; else None."""
    loops = _loops(load)
    form = affine_form(load.operands[1], [iv for iv, _ in loops])
    if form is None or form[1] != 0:
        return None
    coefficients = form[0]
    used = sorted(coefficients, key=lambda p: -coefficients[p])
    extents = [loops[p][1] for p in used]
    if [coefficients[p] for p in used] != _dense_strides(extents) or int(np.prod(extents)) != size:
        return None
    order = sorted(used)  # loop order, outermost first
    return tuple(extents), tuple(used.index(p) for p in order)


def _reindex(load):
    """Rewrites `load`'s index for the data permuted into loop order."""
    loops = _loops(load)
    order = sorted(affine_form(load.operands[1], [iv for iv, _ in loops])[0])
    with ir.InsertionPoint(load), load.location:
        load.operands[1] = linearized([loops[p][0] for p in order], [loops[p][1] for p in order])


@register("fdt-relayout-weights", "Store each constant weight array in the order its loop nest reads it")
def relayout_weights(module_op: ir.Operation):
    globals_ = {
        ir.StringAttr(op.attributes["sym_name"]).value: op
        for op in ops_named(module_op, "memref.global")
        if "constant" in op.attributes and "initial_value" in op.attributes
    }
    reads = {}
    for get in ops_named(module_op, "memref.get_global"):
        name = ir.FlatSymbolRefAttr(get.attributes["name"]).value
        reads.setdefault(name, []).append(get)
    for name, gets in reads.items():
        global_op = globals_.get(name)
        if global_op is None or len(gets) != 1 or ir.DenseElementsAttr(global_op.attributes["initial_value"]).is_splat:
            continue
        loads = [use.owner.operation for use in gets[0].results[0].uses]
        if any(load.name != "memref.load" for load in loads):
            continue
        size = ir.MemRefType(gets[0].results[0].type).shape[0]
        layouts = {_layout(load, size) for load in loads}
        if len(layouts) != 1 or None in layouts:
            continue
        extents, permutation = layouts.pop()
        if permutation == tuple(range(len(permutation))):
            continue
        init = global_op.attributes["initial_value"]
        data = np.array(init).reshape(extents).transpose(permutation).reshape(-1)
        global_op.attributes["initial_value"] = ir.DenseElementsAttr.get(data, type=init.type)
        for load in loads:
            _reindex(load)
