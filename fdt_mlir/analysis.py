"""Facts about a module that the report states: MACs and the memory plan."""

from mlir import ir

from .ctypes_map import C_TYPES, element_type
from .passes.plan_memory import byte_size


def _loop_ranges(op) -> list[int]:
    """Static trip counts of a linalg.generic's loops, read off its operands."""
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    ranges = [None] * maps[0].n_dims
    for amap, operand in zip(maps, op.operands):
        if not isinstance(operand.type, ir.ShapedType):
            continue
        shape = ir.ShapedType(operand.type).shape
        for expr, size in zip(amap.results, shape):
            if isinstance(expr, ir.AffineDimExpr):
                ranges[expr.position] = size
    return [r if r is not None else 1 for r in ranges]


def count_macs(module: ir.Module) -> int:
    """Multiply-accumulates of the reductions that multiply (conv, dense,
    matmul) in linalg on tensors: the product of their loop trip counts."""
    total = 0

    def visit(op):
        nonlocal total
        if op.name == "linalg.generic":
            kinds = [str(a) for a in op.attributes["iterator_types"]]
            body = [o.operation.name for o in op.regions[0].blocks[0].operations]
            if any("reduction" in k for k in kinds) and any(n in ("arith.muli", "arith.mulf") for n in body):
                count = 1
                for r in _loop_ranges(op):
                    count *= r
                total += count
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return total


def planned_buffers(module: ir.Module) -> tuple[int, list[dict]]:
    """(arena bytes, buffers) as stated by the fdt.arena/fdt.buffer ops."""
    arena, buffers = 0, []

    def visit(op):
        nonlocal arena
        if op.name == "fdt.arena":
            arena = ir.IntegerAttr(op.attributes["size"]).value
        elif op.name == "fdt.buffer":
            buffers.append(
                {
                    "name": ir.StringAttr(op.attributes["name"]).value,
                    "bytes": byte_size(op.results[0].type),
                    "offset": ir.IntegerAttr(op.attributes["offset"]).value,
                    "first_op": ir.IntegerAttr(op.attributes["first"]).value,
                    "last_op": ir.IntegerAttr(op.attributes["last"]).value,
                    "type": str(op.results[0].type),
                    "c_type": C_TYPES[element_type(op)],
                }
            )
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return arena, buffers


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
