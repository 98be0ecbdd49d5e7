"""fdt-fold-depth-multiplier: 4-D convolutions for depthwise ones with a unit dim.

tosa-to-linalg lowers every depthwise convolution to the 5-D
depthwise_conv_2d_nhwc_hwcm form, whose [N, H, W, C, 1] result is collapsed
to NHWC before the bias add. The collapse stops tile-and-fuse (tensor
reshapes are not tileable), which would keep each depthwise accumulator as a
whole tensor, and the 5-D form hides the NHWC dims that tiling plans name.
With multiplier 1 (TFLite's usual case) the op is the 4-D
depthwise_conv_2d_nhwc_hwc, with the weights' unit dim dropped; with one
input channel and multiplier M it is a plain convolution with M filters.
Other depthwise convolutions keep the 5-D form.
"""

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ..ir_utils import ops_named
from . import register

# 5-D op: (4-D depthwise form for multiplier 1, convolution for one channel)
FOLDS = {
    "linalg.depthwise_conv_2d_nhwc_hwcm": (linalg.depthwise_conv_2d_nhwc_hwc, linalg.conv_2d_nhwc_fhwc),
    "linalg.depthwise_conv_2d_nhwc_hwcm_q": (linalg.depthwise_conv_2d_nhwc_hwc_q, linalg.conv_2d_nhwc_fhwc_q),
}


def _fold(op):
    users = [use.owner for use in op.results[0].uses]
    init = op.operands[-1].owner
    if len(users) != 1 or users[0].name != "tensor.collapse_shape" or init.name != "linalg.fill":
        return
    collapse = users[0]
    inputs = list(op.operands[:-1])
    weights = inputs[1]
    kh, kw, channels, multiplier = ir.RankedTensorType(weights.type).shape
    depthwise, conv = FOLDS[op.name]
    with ir.InsertionPoint(op), op.location:
        if multiplier == 1:
            build = depthwise
            inputs[1] = _reshape(weights, [kh, kw, channels])
        elif channels == 1 and weights.owner.name == "arith.constant":
            build = conv
            inputs[1] = _filters(weights.owner)
        else:
            return
        out_type = ir.RankedTensorType(collapse.results[0].type)
        empty = tensor.EmptyOp(out_type.shape, out_type.element_type)
        fill = linalg.fill(init.operands[0], outs=[empty.result])
        folded = build(*inputs, outs=[fill], strides=op.attributes["strides"], dilations=op.attributes["dilations"])
    collapse.results[0].replace_all_uses_with(folded)
    collapse.erase()
    op.erase()


def _reshape(value, shape):
    etype = ir.RankedTensorType(value.type).element_type
    return tensor.CollapseShapeOp(
        ir.RankedTensorType.get(shape, etype), value, ir.ArrayAttr.get([_indices([0]), _indices([1]), _indices([2, 3])])
    ).result


def _filters(constant):
    """[KH, KW, 1, M] depthwise weights as the [M, KH, KW, 1] of a convolution."""
    values = np.array(ir.DenseElementsAttr(constant.attributes["value"])).transpose(3, 0, 1, 2)
    etype = ir.RankedTensorType(constant.results[0].type).element_type
    attr = ir.DenseElementsAttr.get(
        np.ascontiguousarray(values), type=ir.RankedTensorType.get(list(values.shape), etype)
    )
    return arith.ConstantOp(attr.type, attr).result


def _indices(values):
    i64 = ir.IntegerType.get_signless(64)
    return ir.ArrayAttr.get([ir.IntegerAttr.get(i64, v) for v in values])


@register("fdt-fold-depth-multiplier", "Rewrite depthwise convolutions with multiplier 1 to the 4-D NHWC form")
def fold_depth_multiplier(module_op: ir.Operation):
    for name in FOLDS:
        for op in ops_named(module_op, name):
            _fold(op)
