"""fdt-lower-apply-scale: TOSA's requantization as calls of the
`fdt_apply_scale` microkernel.

Every int8 kernel ends in tosa.apply_scale (an int32 accumulator times a
per-channel multiplier, shifted right with rounding). Spelled out in arith
ops, as tosa-to-arith does, its 64-bit shifts by a per-channel amount cost a
32-bit core 40 to 60 cycles per output, as much as a 3x3 depthwise window.
The microkernel computes the same bits, cheaply for the shifts of 32 and
more that TFLite's scales give. Applies with an int32 value; other widths
(int16 models' 48-bit accumulators) keep the arith expansion, which
EMITC's tosa-to-arith gives them.
"""

from mlir import ir
from mlir.dialects import arith

from ..ir_utils import ops_named
from ..rewrites import ukernel_calls
from . import register

UKERNEL = "fdt_apply_scale"


@register("fdt-lower-apply-scale", "Turn int32 tosa.apply_scale into fdt_apply_scale calls")
def lower_apply_scale(module_op: ir.Operation):
    lowered = False
    for op in ops_named(module_op, "tosa.apply_scale"):
        if str(op.operands[0].type) != "i32":
            continue
        double = "DOUBLE_ROUND" in str(op.attributes["rounding_mode"])
        i32 = ir.IntegerType.get_signless(32)
        with ir.InsertionPoint(op), op.location:
            shift = arith.ExtSIOp(i32, op.operands[2]).result
            flag = arith.ConstantOp(i32, int(double)).result
            call = ukernel_calls.call(UKERNEL, [i32], [op.operands[0], op.operands[1], shift, flag])
        op.results[0].replace_all_uses_with(call.results[0])
        op.erase()
        lowered = True
    if lowered:
        ukernel_calls.declare(module_op, "apply_scale")
