"""fdt-lower-math-to-c99: the math ops upstream's math-to-emitc leaves, as
calls of C99's <math.h>.

ONNX's QuantizeLinear rounds half to even (math.roundeven): C99's rint
rounds in the current rounding mode, round-to-nearest-even by default, which
is the same. An ONNX BatchNormalization divides by sqrt(var + eps)
(math.sqrt, and math.rsqrt once math-expand-ops has expanded it): sqrtf is
correctly rounded, as IEEE 754 requires. TFLite's LOG calls logf and its ELU
expm1f, as the C does.
"""

from mlir import ir
from mlir.dialects import emitc

from ..ir_utils import ops_named
from . import register

FUNCTIONS = {
    "math.roundeven": {"f32": "rintf", "f64": "rint"},
    "math.sqrt": {"f32": "sqrtf", "f64": "sqrt"},
    "math.log": {"f32": "logf", "f64": "log"},
    "math.expm1": {"f32": "expm1f", "f64": "expm1"},
}


@register("fdt-lower-math-to-c99", "Lower math.roundeven, math.sqrt, math.log and math.expm1 to C99 calls")
def lower_math_to_c99(module_op: ir.Operation):
    for name, functions in FUNCTIONS.items():
        for op in ops_named(module_op, name):
            with ir.InsertionPoint(op), op.location:
                call = emitc.CallOpaqueOp([op.results[0].type], functions[str(op.results[0].type)], [op.operands[0]])
            op.results[0].replace_all_uses_with(call.results[0])
            op.erase()
