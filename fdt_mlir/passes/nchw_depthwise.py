"""fdt-nchw-depthwise: a quantized depthwise conv of an NCHW model stays NCHW.

linalg has no NCHW depthwise conv with zero points, so torch-mlir lowers an
integer depthwise conv (ONNX ConvInteger with group = channels) as

    transpose(NCHW -> NHWC) -> depthwise_conv_2d_nhwc_hwc_q -> transpose(NHWC -> NCHW)

Each transpose is a whole-tensor copy: RAM the model never needs, and a
layout change that tiling cannot see through. This pass replaces the three
ops with one linalg.generic that reads the NCHW input and the weights where
they are, with the _q op's own arithmetic: sum((x - x_zp) * (w - w_zp)).
"""

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ..ir_utils import ops_named
from . import register

NHWC_IN, NCHW_OUT = [0, 2, 3, 1], [0, 3, 1, 2]


def _transpose_source(value, permutation):
    """The source of `value` when a linalg.transpose with `permutation` makes it."""
    owner = value.owner
    if not isinstance(owner, ir.OpView) or owner.operation.name != "linalg.transpose":
        return None
    if list(owner.operation.attributes["permutation"]) != permutation:
        return None
    return owner.operation.operands[0]


def _only_user(value):
    users = [use.owner for use in value.uses]
    return users[0] if len(users) == 1 else None


def _map(exprs, n_dims=6):
    return ir.AffineMapAttr.get(ir.AffineMap.get(n_dims, 0, exprs))


@register("fdt-nchw-depthwise", "Rewrite NHWC-transposed quantized depthwise convs of NCHW models as NCHW generics")
def nchw_depthwise(module_op: ir.Operation):
    for conv in ops_named(module_op, "linalg.depthwise_conv_2d_nhwc_hwc_q"):
        x = _transpose_source(conv.operands[0], NHWC_IN)
        weights = conv.operands[1].owner
        back = _only_user(conv.results[0])
        if x is None or back is None or back.name != "linalg.transpose":
            continue
        if list(back.attributes["permutation"]) != NCHW_OUT:
            continue
        if not isinstance(weights, ir.OpView) or weights.operation.name != "linalg.transpose":
            continue
        w, w_permutation = weights.operation.operands[0], list(weights.operation.attributes["permutation"])
        _rewrite(conv, x, w, w_permutation, back)


def _rewrite(conv, x, w, w_permutation, back):
    out_type = ir.RankedTensorType(back.results[0].type)
    strides = [int(s) for s in ir.DenseIntElementsAttr(conv.attributes["strides"])]
    dilations = [int(d) for d in ir.DenseIntElementsAttr(conv.attributes["dilations"])]
    n, c, oh, ow, kh, kw = (ir.AffineDimExpr.get(i) for i in range(6))
    x_map = _map([n, c, oh * strides[0] + kh * dilations[0], ow * strides[1] + kw * dilations[1]])
    # The weights are read in their own layout: the transpose made (kh, kw, c) of it.
    transposed = [kh, kw, c]
    source = [None] * len(w_permutation)
    for position, dim in enumerate(w_permutation):
        source[dim] = transposed[position]
    scalar = _map([])
    out_map = _map([n, c, oh, ow])
    i32 = out_type.element_type
    init = conv.operands[4].owner  # the NHWC fill of the accumulator
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    reduction = ir.Attribute.parse("#linalg.iterator_type<reduction>")
    with ir.InsertionPoint(back), conv.location:
        empty = tensor.EmptyOp(out_type.shape, i32).result
        zero = init.operands[0] if init.name == "linalg.fill" else arith.ConstantOp(i32, 0).result
        filled = linalg.fill(zero, outs=[empty])
        op = linalg.GenericOp(
            [out_type],
            [x, w, conv.operands[2], conv.operands[3]],
            [filled],
            ir.ArrayAttr.get([x_map, _map(source), scalar, scalar, out_map]),
            ir.ArrayAttr.get([parallel] * 4 + [reduction] * 2),
        )
        x_type = ir.RankedTensorType(x.type).element_type
        w_type = ir.RankedTensorType(w.type).element_type
        block = op.regions[0].blocks.append(x_type, w_type, i32, i32, i32)
        with ir.InsertionPoint(block):
            a, b, x_zp, w_zp, acc = block.arguments
            centred_x = arith.SubIOp(arith.ExtSIOp(i32, a).result, x_zp).result
            centred_w = arith.SubIOp(arith.ExtSIOp(i32, b).result, w_zp).result
            total = arith.AddIOp(acc, arith.MulIOp(centred_x, centred_w).result).result
            linalg.YieldOp([total])
    back.results[0].replace_all_uses_with(op.results[0])
    back.erase()
    conv.erase()
