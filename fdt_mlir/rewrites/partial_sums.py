"""Partial sums through '~' kernels: the last step of fdt-apply-plan for a
path ending in '> ~...'.

Tiling the '>' kernel's reduction over input channels gives a loop that
accumulates into the kernel's whole output, which is as large as the
buffer the path should remove. With '~' kernels after it, each iteration
instead computes its partial sum from zero, runs the '~' kernels on it and
adds their (smaller) result into an accumulator of the path's output: by
linearity (`analysis.linearity`) the sum of the partitions' results is the
result of the merged sum. Constant terms (the '>' kernel's bias, which is
its accumulator's initial value, and any constant a '~' kernel adds) are
kept in the first partition only.
"""

from mlir import ir
from mlir.dialects import arith, linalg, scf, tensor

from ..analysis.linearity import is_zero_fill, partial_sum_gates


def merge_partial_sums(loop, tail):
    """Rewrites `loop` (the '>' kernel's tiled reduction, its iter_arg the
    accumulator) so that it accumulates the result of `tail`, the ops from
    the loop's result to the path's output (its last op), instead."""
    body = loop.regions[0].blocks[0]
    old_yield = body.operations[len(body.operations) - 1]
    partial = old_yield.operands[0]
    last = tail[-1]
    gates = partial_sum_gates(tail, loop.results[0])
    lower, upper, step = loop.operands[:3]
    # The loop computes the path's output: it belongs to the last kernel.
    with ir.InsertionPoint(last), last.location:
        new_loop = scf.ForOp(lower, upper, step, [_fill(last.results[0].type)])
    new_body = new_loop.body
    # The '>' kernel's partial sum starts from its bias in the first
    # partition and from zero in the others.
    init = loop.operands[3].owner.operation
    with ir.InsertionPoint(new_body):
        with last.location:
            first = arith.CmpIOp(arith.CmpIPredicate.eq, new_body.arguments[0], lower).result
        with init.location:
            start = init.clone().results[0]
            if not is_zero_fill(start):
                start = _gate(start, first)
        with last.location:
            new_yield = scf.YieldOp([new_body.arguments[1]])
    body.arguments[0].replace_all_uses_with(new_body.arguments[0])
    body.arguments[1].replace_all_uses_with(start)
    for op in list(body.operations)[:-1]:
        op.operation.move_before(new_yield)
    mapping = {loop.results[0]: partial}
    with ir.InsertionPoint(new_yield):
        for position, op in enumerate(tail):
            clone = op.clone()
            for number, operand in enumerate(clone.operands):
                if operand in mapping:
                    clone.operands[number] = mapping[operand]
            for old, new in zip(op.results, clone.results):
                mapping[old] = new
            if position in gates:
                _apply_gates(clone, gates[position], first)
        with last.location:
            merged = _generic([mapping[last.results[0]]], new_body.arguments[1], _add)
    new_yield.operands[0] = merged
    last.results[0].replace_all_uses_with(new_loop.results[0])
    for op in reversed(tail):
        op.erase()
    loop.erase()
    if not list(init.results[0].uses):
        init.erase()


def _apply_gates(op, gates, first):
    body_ops = [o.operation for o in op.regions[0].blocks[0].operations] if gates.body else []
    for index, number in gates.body:
        target = body_ops[index]
        with ir.InsertionPoint(target), target.location:
            target.operands[number] = _select_first(first, target.operands[number])
    for number in gates.inits:
        with ir.InsertionPoint(op), op.location:
            op.operands[number] = _gate(op.operands[number], first)


def _select_first(first, value):
    return arith.SelectOp(first, value, _zero(value.type)).result


def _gate(tensor_value, first):
    """The tensor in the first partition, zeros in the others."""
    return _generic([tensor_value], _empty(tensor_value.type), lambda args: _select_first(first, args[0]))


def _fill(tensor_type):
    """A zero-filled tensor, as tosa-to-linalg writes fills."""
    element = ir.RankedTensorType(tensor_type).element_type
    return _generic([_zero(element)], _empty(tensor_type), lambda args: args[0])


def _add(args):
    if isinstance(args[0].type, ir.FloatType):
        return arith.AddFOp(args[0], args[1]).result
    return arith.AddIOp(args[0], args[1]).result


def _zero(element):
    if isinstance(element, ir.FloatType):
        return arith.ConstantOp(element, ir.FloatAttr.get(element, 0.0)).result
    return arith.ConstantOp(element, ir.IntegerAttr.get(element, 0)).result


def _empty(tensor_type):
    t = ir.RankedTensorType(tensor_type)
    return tensor.EmptyOp(t.shape, t.element_type).result


def _generic(inputs, output, payload):
    """An elementwise linalg.generic over `output` (scalars broadcast):
    `payload(block arguments)` computes the yielded value."""
    rank = ir.RankedTensorType(output.type).rank
    identity = ir.AffineMap.get_identity(rank)
    scalar = ir.AffineMap.get(rank, 0, [])
    amaps = [identity if isinstance(v.type, ir.ShapedType) else scalar for v in inputs] + [identity]
    op = linalg.GenericOp(
        [output.type],
        inputs,
        [output],
        ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in amaps]),
        ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * rank),
    )
    types = [
        ir.RankedTensorType(v.type).element_type if isinstance(v.type, ir.ShapedType) else v.type
        for v in [*inputs, output]
    ]
    block = op.regions[0].blocks.append(*types)
    with ir.InsertionPoint(block):
        linalg.YieldOp([payload(list(block.arguments))])
    return op.results[0]
