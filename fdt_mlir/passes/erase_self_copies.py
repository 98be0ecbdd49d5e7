"""fdt-erase-self-copies: drop linalg.copy ops whose source is their target.

Bufferizing a tile loop's tensor.insert_slice in place leaves a copy of each
tile onto itself (the slice was computed into its destination already); it
would cost a load and a store per element in the generated C.
"""

from mlir import ir

from . import register


@register("fdt-erase-self-copies", "Erase linalg.copy ops that copy a buffer onto itself")
def erase_self_copies(module_op: ir.Operation):
    dead = []

    def visit(op):
        if op.name == "linalg.copy" and op.operands[0] == op.operands[1]:
            dead.append(op)
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    for op in dead:
        op.erase()
