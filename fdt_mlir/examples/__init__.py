"""The project's own example models, written with a small TFLite flatbuffer
builder, and `fdt-example`, which writes them: the README's first command
compiles one, so a fresh install needs no outside files."""
