"""MLIR context set-up shared by every stage: upstream dialects plus `fdt`."""

from pathlib import Path

from mlir import ir
from mlir.dialects import irdl

DIALECT_FILE = Path(__file__).resolve().parent.parent / "dialect" / "fdt.irdl.mlir"


def make_context() -> ir.Context:
    """A context with all upstream dialects and the IRDL-defined `fdt` dialect."""
    ctx = ir.Context()
    ctx.allow_unregistered_dialects = False
    with ctx, ir.Location.unknown():
        irdl.load_dialects(ir.Module.parse(DIALECT_FILE.read_text()))
    return ctx
