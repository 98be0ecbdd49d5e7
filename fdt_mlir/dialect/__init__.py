"""The `fdt` dialect: its IRDL definition (package data, `fdt.irdl.mlir`)
and the MLIR context every stage uses, with the upstream dialects plus `fdt`.
Typed accessors for its ops are in `fdt_mlir.dialect.ops`."""

from importlib import resources

from mlir import ir
from mlir.dialects import irdl


def definition() -> str:
    """The IRDL text of the dialect, read from the installed package."""
    return resources.files(__package__).joinpath("fdt.irdl.mlir").read_text()


def make_context() -> ir.Context:
    """A context with all upstream dialects and the IRDL-defined `fdt` dialect."""
    ctx = ir.Context()
    ctx.allow_unregistered_dialects = False
    with ctx, ir.Location.unknown():
        irdl.load_dialects(ir.Module.parse(definition()))
    return ctx
