"""fdt-mark-layers: a call to `fdt_layer(k)` where the planned program
starts operator k, for per-layer profiles.

Run after fdt-plan-memory, where each top-level op of a planned function is
a step of the schedule: before the first step of each kernel it calls
`void fdt_layer(int)` with the kernel's operator index (`CONV_2D:3` -> 3),
and `fdt_layer(-1)` before the return. A tile loop runs a whole path and is
marked with the kernel it belongs to, the path's last. The profiler defines `fdt_layer` and splits its counts there; the
C of a normal compile has no marks.
"""

import re

from mlir import ir
from mlir.dialects import emitc

from ..analysis.kernels import location_name
from ..dialect import ops as fdt
from . import register

DECLARATION = "void fdt_layer(int layer);"

# Ops that do no work of a kernel: declarations at the top of the function.
_DECLARATIONS = ("arith.constant", "memref.alloca", "memref.get_global")


def _operator(op) -> int | None:
    """The operator index of the first named op in `op` (itself or nested)."""
    found = []

    def visit(inner):
        match = re.fullmatch(r".*:(\d+)", location_name(inner) or "")
        if match:
            found.append(int(match.group(1)))
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    op.walk(visit, ir.WalkOrder.PRE_ORDER)
    return found[0] if found else None


def _mark(op, layer: int):
    with ir.InsertionPoint(op), op.location:
        emitc.CallOpaqueOp(
            [], "fdt_layer", [], args=ir.ArrayAttr.get([ir.IntegerAttr.get(ir.IntegerType.get_signless(32), layer)])
        )


@register("fdt-mark-layers", "Call fdt_layer(k) where the planned program starts operator k (profiling)")
def mark_layers(module_op: ir.Operation):
    functions = fdt.planned_functions(module_op)
    for fn in functions:
        block = fn.regions[0].blocks[0]
        current = None
        for op in list(block.operations):
            op = op.operation
            if op.name == "func.return":
                _mark(op, -1)
            elif not fdt.is_fdt_op(op) and op.name not in _DECLARATIONS:
                layer = _operator(op)
                if layer is not None and layer != current:
                    _mark(op, layer)
                    current = layer
    if functions:
        with ir.InsertionPoint.at_block_begin(module_op.regions[0].blocks[0]), ir.Location.unknown():
            emitc.VerbatimOp(DECLARATION, [])
