"""fdt-bufferize: one-shot bufferization, configured for static C.

Runs through the transform dialect because only its one_shot_bufferize op
lets copies be emitted as linalg.copy (which lowers to loops) instead of
memref.copy on strided views (which EmitC cannot lower). Empty tensors of a
tile are first shrunk to the tile, so that a per-element accumulator is
allocated as one element rather than as a slice of a whole-tensor buffer,
and an empty tensor shared by several ops (CSE merges them) is split per
user: otherwise its one buffer would serve several layers and be live from
the first to the last of them (and a fill CSE moved out of a tile loop
goes back in, and a fill's tile loop CSE shared between kernels is copied
for each). Empty tensors that only become a slice of
a tile loop's result are replaced by that slice (empty tensor elimination),
so each element is computed in place rather than copied there; but a
kernel's result that another kernel inserts into a buffer of its own (a
ConvTranspose's zero-interleaved input) is copied there, as it is when that
kernel is lowered alone: computed in place, the producer would need the
consumer's whole buffer while its own inputs are live, which the cost model,
lowering each kernel alone, does not see.
"""

from mlir import ir
from mlir.dialects import linalg, tensor

from ..analysis.kernels import function_body
from ..rewrites.tile_and_fuse import run_transform
from ..rewrites.untie import untie_empty_tensors, untie_initializer_loops, untie_initializers_from_loops
from . import register

SCRIPT = """
    %funcs = transform.structured.match ops{["func.func"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %funcs {
      transform.apply_patterns.tensor.fold_tensor_empty
    } : !transform.any_op
    transform.bufferization.eliminate_empty_tensors %funcs : !transform.any_op
    %done = transform.bufferization.one_shot_bufferize %module {
        bufferize_function_boundaries = true,
        function_boundary_type_conversion = 1 : i32,
        memcpy_op = "linalg.copy"} : (!transform.any_op) -> !transform.any_op"""


@register("fdt-bufferize", "One-shot bufferization with linalg.copy copies and identity-layout function boundaries")
def bufferize(module_op: ir.Operation):
    _copy_inserted_results(function_body(module_op))
    untie_initializer_loops(function_body(module_op))
    untie_initializers_from_loops(module_op)
    untie_empty_tensors(module_op)
    run_transform(module_op, SCRIPT)


def _copy_inserted_results(block):
    """A function-level insert_slice of an op's result inserts a copy of it,
    so that empty tensor elimination stops at the copy."""
    for op in list(block.operations):
        op = op.operation
        if op.name != "tensor.insert_slice" or isinstance(op.operands[0], ir.BlockArgument):
            continue
        source = op.operands[0]
        ttype = ir.RankedTensorType(source.type)
        with ir.InsertionPoint(op), op.location:
            empty = tensor.EmptyOp(ttype.shape, ttype.element_type).result
            op.operands[0] = linalg.copy(source, outs=[empty])
