"""fdt-adopt-window-pads: a PAD that only a window reads pads for that window.

A TFLite PAD (or an ONNX Pad) before a conv or pool is a kernel of its own,
whose output TFLM writes in full. fdt-fold-pad lets a window read through a
pad in place, but only a pad of the reader's own kernel is fused into its
tile loop, and the cost model lowers each kernel alone: a PAD kernel is
priced as the copy it is alone. Here a pad whose every reader is one window
op (a generic with reduction dims) takes that op's location, so that it is
part of the reader's kernel, exactly as the pad TOSA makes for a SAME conv.
Runs after fdt-fold-crops, which removes a crop between the two.
"""

from mlir import ir

from ..analysis.indexing import reads_through_windows
from ..analysis.kernels import function_body
from . import register


@register("fdt-adopt-window-pads", "Put a pad that one window op reads into that op's kernel")
def adopt_window_pads(module_op: ir.Operation):
    for op in function_body(module_op).operations:
        op = op.operation
        if op.name != "tensor.pad":
            continue
        readers = {use.owner.operation for use in op.results[0].uses}
        if len(readers) == 1:
            reader = readers.pop()
            if reads_through_windows(reader):
                op.location = reader.location
