"""Element types of the model's buffers as C sees them.

TOSA keeps tensors signless, so a uint8 model input or output is i8 in the
IR; the importer marks it with the argument/result attribute
`fdt.element_type = ui8`, fdt-plan-memory carries that onto the buffer's
`fdt.buffer`, and the C API and report use it.
"""

from mlir import ir

ELEMENT_TYPE_ATTR = "fdt.element_type"

C_TYPES = {
    "i1": "bool",
    "i8": "int8_t",
    "ui8": "uint8_t",
    "i16": "int16_t",
    "i32": "int32_t",
    "i64": "int64_t",
    "f32": "float",
}


def element_type(buffer_op: ir.Operation) -> str:
    """The MLIR element type (as text) of an fdt.buffer, with its override."""
    if ELEMENT_TYPE_ATTR in buffer_op.attributes:
        return str(ir.TypeAttr(buffer_op.attributes[ELEMENT_TYPE_ATTR]).value)
    return str(ir.MemRefType(buffer_op.results[0].type).element_type)
