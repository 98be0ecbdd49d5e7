"""Facts about a module that the report states: weights and the memory plan."""

import re

from mlir import ir

from .ctypes_map import C_TYPES, element_type
from .errors import FdtError
from .kernels import location_name
from .passes.plan_memory import byte_size


def planned_arena(module: ir.Module) -> dict:
    """The fdt.arena's `size`, layout `method` and `lower_bound` (bytes)."""
    arenas = []

    def visit(op):
        if op.name != "fdt.arena":
            return ir.WalkResult.ADVANCE
        attrs = op.attributes
        arenas.append(
            {
                "size": ir.IntegerAttr(attrs["size"]).value,
                "method": ir.StringAttr(attrs["method"]).value,
                "lower_bound": ir.IntegerAttr(attrs["lower_bound"]).value,
            }
        )
        return ir.WalkResult.INTERRUPT

    module.operation.walk(visit)
    if not arenas:
        raise FdtError("internal error: the module has no fdt.arena (fdt-plan-memory did not run?)")
    return arenas[0]


def planned_buffers(module: ir.Module) -> tuple[int, list[dict]]:
    """(arena bytes, buffers) as stated by the fdt.arena/fdt.buffer ops."""
    buffers = []

    def visit(op):
        if op.name == "fdt.buffer":
            buffers.append(
                {
                    "name": ir.StringAttr(op.attributes["name"]).value,
                    "bytes": byte_size(op.results[0].type),
                    "offset": ir.IntegerAttr(op.attributes["offset"]).value,
                    "first_op": ir.IntegerAttr(op.attributes["first"]).value,
                    "last_op": ir.IntegerAttr(op.attributes["last"]).value,
                    "type": str(op.results[0].type),
                    "c_type": C_TYPES[element_type(op)],
                    "producer": location_name(op),
                }
            )
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return planned_arena(module)["size"], buffers


def predicted_buffers(intervals) -> list[dict]:
    """The cost model's buffers (planning.layout.Interval) in the form of
    planned_buffers', so that the untiled program can be shown beside the
    tiled one without lowering it."""
    found = []
    for b in intervals:
        found.append(
            {
                "name": b.key,
                "bytes": b.size,
                "offset": b.offset,
                "first_op": b.first,
                "last_op": b.last,
                "producer": None if re.fullmatch(r"input\d+", b.key) else b.key.split("#")[0],
            }
        )
    return found


def weight_bytes(module: ir.Module) -> int:
    """Bytes of constant data that the C program keeps in flash."""
    total = 0
    for op in module.body.operations:
        op = op.operation
        if op.name == "memref.global" and "constant" in op.attributes:
            total += byte_size(ir.TypeAttr(op.attributes["type"]).value)
    return total


def peak(buffers: list[dict]) -> tuple[int, list[dict]]:
    """(step, buffers live there) where the live bytes are highest."""
    best_step, best = 0, -1
    for step in sorted({b["first_op"] for b in buffers}):
        live = sum(b["bytes"] for b in buffers if b["first_op"] <= step <= b["last_op"])
        if live > best:
            best_step, best = step, live
    return best_step, [b for b in buffers if b["first_op"] <= best_step <= b["last_op"]]
