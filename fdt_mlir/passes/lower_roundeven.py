"""fdt-lower-roundeven: math.roundeven as C99 rintf/rint.

ONNX's QuantizeLinear rounds half to even (math.roundeven), which the
upstream math-to-emitc conversion does not cover. C99's rint rounds in the
current rounding mode, round-to-nearest-even by default, which is the same.
"""

from mlir import ir
from mlir.dialects import emitc

from ..ir_utils import ops_named
from . import register

FUNCTIONS = {"f32": "rintf", "f64": "rint"}


@register("fdt-lower-roundeven", "Lower math.roundeven to a call of C99 rintf/rint")
def lower_roundeven(module_op: ir.Operation):
    for op in ops_named(module_op, "math.roundeven"):
        with ir.InsertionPoint(op), op.location:
            call = emitc.CallOpaqueOp([op.results[0].type], FUNCTIONS[str(op.results[0].type)], [op.operands[0]])
        op.results[0].replace_all_uses_with(call.results[0])
        op.erase()
