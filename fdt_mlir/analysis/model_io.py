"""The model's inputs and outputs as its application sees them: shape,
element count and quantization, read from the imported function's
signature (before lowering flattens it), for the C header and the report."""

import math
from dataclasses import dataclass

from mlir import ir

from ..dialect.ops import SCALE_ATTR, ZERO_POINT_ATTR, state_marks
from .kernels import function_body


@dataclass(frozen=True)
class TensorInfo:
    name: str  # input0, output0, ... as the arena's buffers are named
    shape: tuple
    scale: float | None  # real = scale * (q - zero_point); None if not quantized
    zero_point: int | None

    @property
    def elements(self) -> int:
        return math.prod(self.shape)


def model_io(module: ir.Module) -> list[TensorInfo]:
    """The inputs, then the outputs, of the module's function; the
    recurrent state it passes through is neither (fdt-state-to-globals)."""
    fn = function_body(module.operation).owner
    signature = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
    found = []
    for kind, types, key in (("input", signature.inputs, "arg_attrs"), ("output", signature.results, "res_attrs")):
        states = state_marks(fn, key)
        attrs = list(ir.ArrayAttr(fn.attributes[key])) if key in fn.attributes else [None] * len(types)
        kept = [(t, a) for position, (t, a) in enumerate(zip(types, attrs)) if position not in states]
        for k, (t, a) in enumerate(kept):
            entries = ir.DictAttr(a) if a is not None else None
            scale = zero_point = None
            if entries is not None and SCALE_ATTR in entries:
                scale = ir.FloatAttr(entries[SCALE_ATTR]).value
                zero_point = ir.IntegerAttr(entries[ZERO_POINT_ATTR]).value
            found.append(TensorInfo(f"{kind}{k}", tuple(ir.ShapedType(t).shape), scale, zero_point))
    return found
