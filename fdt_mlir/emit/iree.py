"""Tiled linalg on tensors -> M.mlir for iree-compile.

After fdt-apply-plan the module holds only upstream dialects (func, linalg,
scf, tensor, arith, affine), with each fused path an scf.for that builds its
output slice by slice. IREE's MLIR is newer than ours, and only the generic
op form crosses between the two (../shared/docs/toolchain-notes.md).

What iree-compile cannot take is rewritten before, by the passes of
`pipeline.IREE` on a copy (the C flow goes on with the module): pad
guards dropped, tile loops unrolled into statically shaped tiles, and
output tiles that start from a fill given the fill directly.
"""

from mlir import ir

from ..dialect.ops import is_fdt_op
from ..errors import FdtError


def module_text(module: ir.Module) -> str:
    """`module` as the driver leaves it after pipeline.IREE."""
    own = set()

    def visit(op):
        if is_fdt_op(op):
            own.add(op.name)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    if own:
        raise FdtError(f"internal error: fdt ops left for IREE: {', '.join(sorted(own))}")
    return module.operation.get_asm(print_generic_op_form=True)
