"""fdt-state-to-globals: keep a model's recurrent state in static globals.

The importer passes each variable tensor (an LSTM's output and cell state,
an SVDF's activation state) through the function as an argument and a
result both marked `fdt.state = k`, so that the tiling and bufferization
passes see plain values. After bufferization, state k becomes a private
`memref.global @M_state<k>`, which upstream convert-memref-to-emitc makes
a `static` C array (zero, in .bss, unless it starts elsewhere). The
argument reads it; a linalg.copy writes the result into it as soon as
nothing reads the old state and the result is complete, so the result's
buffer is not kept to the end. A result shorter along the last axis is
the state's newest entries (an SVDF's new column): the state first shifts
towards index 0 by that many, in place, the oldest dropping out (the copy's
loops run in ascending order, so every element is read before it is
overwritten, as in TFLM's shift), so no whole new state takes arena space.
The state thus persists from one invoke to the next, as TFLM's variable
tensors do, outside the arena, as TFLM keeps them outside its arena head.
It starts at 0, or at the `fdt.state_start` of its argument (an int8
state's zero point), which `M_reset` (fdt-lower-arena-to-emitc) restores."""

import numpy as np
from mlir import ir
from mlir.dialects import func, linalg, memref

from ..analysis.liveness import Liveness
from ..dialect.ops import STATE_START_ATTR, state_marks
from ..errors import FdtError
from . import register


def _globalize(fn):
    name = ir.StringAttr(fn.attributes["sym_name"]).value
    args, results = state_marks(fn, "arg_attrs"), state_marks(fn, "res_attrs")
    block = fn.regions[0].blocks[0]
    ret = block.operations[len(block.operations) - 1]
    globals_ = {}
    with ir.InsertionPoint(fn), fn.location:
        arg_attrs = ir.ArrayAttr(fn.attributes["arg_attrs"])
        for position, k in args.items():
            value_type = block.arguments[position].type
            symbol = f"{name}_state{k}"
            memref.GlobalOp(
                symbol, value_type, sym_visibility="private", initial_value=_start(arg_attrs[position], value_type)
            )
            globals_[k] = (symbol, value_type)
    with ir.InsertionPoint.at_block_begin(block), fn.location:
        states = {k: memref.get_global(value_type, symbol) for k, (symbol, value_type) in globals_.items()}
        for position, k in args.items():
            block.arguments[position].replace_all_uses_with(states[k])
    new_values = {k: ret.operands[position] for position, k in results.items()}
    with ir.InsertionPoint(ret), ret.location:
        new_ret = func.ReturnOp([v for p, v in enumerate(ret.operands) if p not in results])
    ret.erase()
    live = Liveness(block)
    for k, value in new_values.items():
        # Stored once nothing reads the old state and the new value is done
        # (before the return, for a value that is also a model output).
        last = live.top_ops[max(live.top.get(live.root(v), (0, 0))[1] for v in (states[k], value))]
        at = ir.InsertionPoint(new_ret) if last == new_ret.operation else ir.InsertionPoint.after(last)
        with at, fn.location:
            symbol, value_type = globals_[k]
            _store(value, memref.get_global(value_type, symbol))
    for position in sorted(args, reverse=True):
        block.erase_argument(position)
    function_type = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
    result_types = [t for p, t in enumerate(function_type.results) if p not in results]
    fn.attributes["function_type"] = ir.TypeAttr.get(
        ir.FunctionType.get([a.type for a in block.arguments], result_types)
    )
    for key, marked in (("arg_attrs", args), ("res_attrs", results)):
        kept = [a for p, a in enumerate(ir.ArrayAttr(fn.attributes[key])) if p not in marked]
        fn.attributes[key] = ir.ArrayAttr.get(kept)


def _start(attrs, value_type):
    """The global's initial value: the state's start (`fdt.state_start`,
    an int8 state's zero point) in every element, or none, which C zeroes
    (a static array without initialiser, in .bss)."""
    attrs = ir.DictAttr(attrs)
    if STATE_START_ATTR not in attrs:
        return ir.UnitAttr.get()
    memref_type = ir.MemRefType(value_type)
    start = ir.IntegerAttr.get(memref_type.element_type, ir.IntegerAttr(attrs[STATE_START_ATTR]).value)
    return ir.DenseElementsAttr.get_splat(ir.RankedTensorType.get(memref_type.shape, memref_type.element_type), start)


def _store(value, state):
    """Writes the new `value` of a state into its global `state`: whole, or
    shifting the state along its last axis to append `value`."""
    shape = ir.MemRefType(state.type).shape
    new = ir.MemRefType(value.type).shape
    if new == shape:
        linalg.copy(value, outs=[state])
        return
    if new[:-1] != shape[:-1] or new[-1] > shape[-1]:
        raise FdtError(f"internal error: state result {value.type} is no part of state {state.type}")
    kept = shape[-1] - new[-1]
    if kept:
        linalg.copy(_last_axis(state, new[-1], kept), outs=[_last_axis(state, 0, kept)])
    linalg.copy(value, outs=[_last_axis(state, kept, new[-1])])


def _last_axis(value, offset, size):
    """The static subview [offset, offset + size) of `value`'s last axis."""
    t = ir.MemRefType(value.type)
    shape = list(t.shape)
    strides = [int(np.prod(shape[d + 1 :])) for d in range(len(shape))]
    sizes = shape[:-1] + [size]
    layout = ir.StridedLayoutAttr.get(offset, strides)
    result = ir.MemRefType.get(sizes, t.element_type, layout)
    zeros = [0] * (len(shape) - 1)
    return memref.SubViewOp(result, value, [], [], [], zeros + [offset], sizes, [1] * len(shape)).result


@register("fdt-state-to-globals", "Keep the arguments and results marked fdt.state in static globals")
def state_to_globals(module_op: ir.Operation):
    for op in list(module_op.regions[0].blocks[0].operations):
        op = op.operation
        if op.name == "func.func" and op.regions[0].blocks and state_marks(op, "arg_attrs"):
            _globalize(op)
