"""Calls of microkernels (`fdt_mlir.ukernels`) from loops over flat buffers.

A call is an `emitc.call_opaque` placed among memref ops before the EmitC
conversion: its buffer and index operands reach EmitC types through
unrealized casts, which convert-to-emitc and reconcile-unrealized-casts
resolve. The microkernel's C goes once at the top of the module.
"""

from mlir import ir
from mlir.dialects import arith, emitc

from ..ir_utils import constant_trip_count
from ..ukernels import source, with_requirements


def as_emitc(value: ir.Value) -> ir.Value:
    """`value` as the EmitC type it will have: a flat memref as an array,
    an index as size_t; other types as they are."""
    if isinstance(value.type, ir.MemRefType):
        t = ir.MemRefType(value.type)
        target = ir.Type.parse(f"!emitc.array<{t.shape[0]}x{t.element_type}>")
    elif isinstance(value.type, ir.IndexType):
        target = ir.Type.parse("!emitc.size_t")
    else:
        return value
    return ir.Operation.create("builtin.unrealized_conversion_cast", results=[target], operands=[value]).results[0]


def call(name: str, results: list, operands: list) -> ir.Operation:
    """`name`(operands...) at the insertion point."""
    return emitc.CallOpaqueOp(results, name, [as_emitc(v) for v in operands])


def declare(module_op: ir.Operation, ukernel: str):
    """Emits the C of `ukernel` and of what it needs, each once, after the
    module's leading C text."""
    body = module_op.regions[0].blocks[0]
    present, first_other = set(), None
    for op in body.operations:
        if op.operation.name != "emitc.verbatim":
            first_other = op.operation
            break
        present.add(ir.StringAttr(op.operation.attributes["value"]).value)
    for name in with_requirements(ukernel):
        text = source(name)
        if text in present:
            continue
        point = ir.InsertionPoint(first_other) if first_other is not None else ir.InsertionPoint(body)
        with point, ir.Location.unknown():
            emitc.VerbatimOp(text, [])
        present.add(text)


def index_constant(value: int) -> ir.Value:
    return arith.ConstantOp(ir.IndexType.get(), value).result


def trip_count(loop: ir.Operation) -> ir.Value:
    """max(ub - lb, 0) of a unit-step loop, at the insertion point."""
    return arith.MaxSIOp(arith.SubIOp(loop.operands[1], loop.operands[0]).result, index_constant(0)).result


def run_length(nest: list, first: int, static: int) -> ir.Value:
    """The elements a contiguous run (`mac_loops.contiguous_run`) covers:
    its static factor, times the trip count of its outermost loop when
    that is known only at run time."""
    length = index_constant(static)
    if constant_trip_count(nest[first]) is None:
        length = arith.MulIOp(trip_count(nest[first]), length).result
    return length
