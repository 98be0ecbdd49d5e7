"""Byte sizes of tensors, buffers and the weights the C program keeps in flash."""

from mlir import ir

from ..errors import FdtError


def byte_size(shaped_type) -> int:
    """Bytes of a statically shaped tensor or memref."""
    t = ir.ShapedType(shaped_type)
    if not t.has_static_shape:
        raise FdtError(f"buffer of type {t} has a dynamic shape")
    width = t.element_type.width if hasattr(t.element_type, "width") else ir.FloatType(t.element_type).width
    count = 1
    for d in t.shape:
        count *= d
    return count * max(1, (width + 7) // 8)


def element_count(memref_type) -> int:
    count = 1
    for d in ir.MemRefType(memref_type).shape:
        count *= d
    return count


def weight_bytes(module: ir.Module) -> int:
    """Bytes of constant data that the C program keeps in flash."""
    total = 0
    for op in module.body.operations:
        op = op.operation
        if op.name == "memref.global" and "constant" in op.attributes:
            total += byte_size(ir.TypeAttr(op.attributes["type"]).value)
    return total


def state_globals(module_op: ir.Operation) -> list[tuple[str, int, int]]:
    """(symbol, bytes, start byte) of each mutable global: the recurrent
    state that fdt-state-to-globals keeps across invokes, and the byte every
    element of it starts at (an int8 state's zero point) or 0."""
    found = []
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "memref.global" and "constant" not in op.attributes:
            start = op.attributes["initial_value"]
            byte = (
                ir.DenseElementsAttr(start).get_splat_value().value & 0xFF
                if isinstance(start, ir.DenseElementsAttr)
                else 0
            )
            name = ir.StringAttr(op.attributes["sym_name"]).value
            found.append((name, byte_size(ir.TypeAttr(op.attributes["type"]).value), byte))
    return found
