"""fdt-lower-dot-to-ukernel: multiply-accumulate loops as calls of the
`fdt_dot_s8` (int8) or `fdt_dot_f32` (float32) microkernel.

Convolutions and dense layers, tiled to one output element, reduce in a loop
nest whose body multiplies two operands into a one-element accumulator
(`analysis.mac_loops`). Its innermost loops that walk both operands
contiguously (a 1x1 conv's input channels; a k x k conv's window row, kw x C
bytes in NHWC; a dense layer's inputs, once fdt-relayout-weights has stored
the weights in reading order) become one call of `fdt_dot_s8` on that run,
which a Cortex-M with the DSP extension executes with dual MACs (`SMLAD`),
four MACs at a time. The call computes the same wrapped 32-bit sum, so the
result is bit-exact; in float32 it adds in the loop's order, so it rounds
the same way. The run's outermost loop may have bounds known only at
run time (a window clipped by fdt-skip-padding).

Runs on the planned program (loops over flat buffers, after
fdt-plan-memory), so arenas and schedules are those without it.
"""

from mlir import ir
from mlir.dialects import arith, memref

from ..analysis.mac_loops import (
    FLOAT32,
    INT8,
    contiguous_run,
    induction_variable,
    mac_body,
    perfect_nest,
)
from ..ir_utils import is_within, ops_named
from ..rewrites import ukernel_calls
from ..rewrites.hoist import hoisted
from . import register

# (C function, its file in fdt_mlir/ukernels) per element types.
UKERNELS = {INT8: ("fdt_dot_s8", "dot_s8"), FLOAT32: ("fdt_dot_f32", "dot_f32")}


def _rewrite(nest, first, static, mac):
    outer = nest[first]
    i32 = ir.IntegerType.get_signless(32)
    accumulator_type = mac.store.operands[0].type
    with ir.InsertionPoint(outer), outer.location:
        at_start = {induction_variable(loop): loop.operands[0] for loop in nest[first:]}
        bases = [hoisted(operand.load.operands[1], outer, at_start) for operand in (mac.a, mac.b)]
        acc_indices = [hoisted(v, outer, at_start) for v in mac.store.operands[2:]]
        length = ukernel_calls.run_length(nest, first, static)
        accumulator = mac.store.operands[1]
        args = [memref.LoadOp(accumulator, acc_indices).result]
        for operand, base in zip((mac.a, mac.b), bases):
            args += [operand.load.operands[0], base]
        args.append(length)
        if mac.types == INT8:
            args += [arith.ConstantOp(i32, operand.offset).result for operand in (mac.a, mac.b)]
        call = ukernel_calls.call(UKERNELS[mac.types][0], [accumulator_type], args)
        memref.StoreOp(call.results[0], accumulator, acc_indices)
    outer.erase()


def _outside(mac, loop) -> bool:
    """Whether the buffers `mac` reads and accumulates into are defined
    outside `loop`."""
    buffers = (mac.a.load.operands[0], mac.b.load.operands[0], mac.store.operands[1])
    return not any(isinstance(v.owner, ir.OpView) and is_within(v.owner, loop) for v in buffers)


@register("fdt-lower-dot-to-ukernel", "Turn contiguous multiply-accumulate loops into fdt_dot_s8/_f32 calls")
def lower_dot_to_ukernel(module_op: ir.Operation):
    # Innermost loops only, so the nests found are disjoint; all are found
    # before any is rewritten.
    rewrites = []
    for loop in ops_named(module_op, "scf.for"):
        mac = mac_body(loop)
        if mac is None or mac.a.guard is not None or mac.b.guard is not None:
            continue
        nest = perfect_nest(loop)
        found = contiguous_run(nest, mac) if nest and _outside(mac, nest[0]) else None
        if found is not None:
            rewrites.append((nest, *found, mac))
    for nest, first, static, mac in rewrites:
        _rewrite(nest, first, static, mac)
    for types in sorted({mac.types for *_, mac in rewrites}):
        ukernel_calls.declare(module_op, UKERNELS[types][1])
