"""The C type of each MLIR element type of a buffer, as the generated C API,
the header and the report declare it (`dialect.ops.element_type` gives the
element type, with the importer's unsigned override)."""

C_TYPES = {
    "i1": "bool",
    "i8": "int8_t",
    "ui8": "uint8_t",
    "i16": "int16_t",
    "i32": "int32_t",
    "i64": "int64_t",
    "f32": "float",
}
