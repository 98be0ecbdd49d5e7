"""Linearity on partial sums: what the '~' role of fused tiling needs.

A path ending in '> ~...' runs its '~' kernels once per partition, on the
partial sum of the '>' kernel, and adds up their results. That equals
running them once on the merged sum when they are linear:
f(a + b) = f(a) + f(b). A constant they add (a bias, the fill an
accumulation starts from) must be added once, not once per partition, so
the rewrite keeps each such term in the first partition only: it "gates"
it. This module finds, for a chain of ops fed by a partial sum, which ops
carry partial sums and which constant terms need a gate, or the op that
is not linear.
"""

from dataclasses import dataclass, field

from mlir import ir

from .indexing import GENERIC, RESHAPES, n_inputs

ADDITIVE = ("arith.addf", "arith.addi", "arith.subf", "arith.subi")
SCALING = ("arith.mulf", "arith.muli")


class NotLinear(Exception):
    """(what is not linear, the op it is in): what keeps a chain of ops
    from being linear in its partial sums."""


@dataclass
class Gates:
    """Where a partial-sum op adds constant terms: body ops' operands
    ((body op index, operand number)) and accumulator inits (operand
    numbers) that only the first partition may add."""

    body: list = field(default_factory=list)
    inits: list = field(default_factory=list)


def partial_sum_chain(gt, tilde) -> tuple[list, ir.Value]:
    """(the ops that a '>' kernel's partial sums flow through: its own after
    its reduction, then those of the '~' kernels `tilde`; the reduction's
    result)."""
    main = gt.main
    return gt.ops[gt.ops.index(main) + 1 :] + [op for k in tilde for op in k.ops], main.results[0]


def partial_sum_gates(ops, source) -> dict:
    """{index in `ops`: Gates} for each op of `ops` (in program order) that
    reads partial sums flowing from `source`; ops absent from the result
    compute constants. Raises NotLinear."""
    carries = {source}
    found = {}
    for position, op in enumerate(ops):
        data = [v in carries for v in op.operands]
        if not any(data):
            continue
        if op.name in RESHAPES:
            gates = Gates()
        elif op.name == "tensor.pad":
            if not _is_zero(op.regions[0].blocks[0].operations[0].operands[0]) or any(data[1:]):
                raise NotLinear("a pad with a non-zero value", op)
            gates = Gates()
        elif op.name == GENERIC:
            gates = _generic_gates(op, data)
        else:
            raise NotLinear(op.name, op)
        found[position] = gates
        carries.update(op.results)
    return found


def _generic_gates(op, data) -> Gates:
    block = op.regions[0].blocks[0]
    inputs = n_inputs(op)
    gates = Gates()
    linear = set()
    for number, arg in enumerate(block.arguments):
        if data[number]:
            linear.add(arg)
        elif number >= inputs and list(arg.uses):
            # An accumulation reads its output: it starts from the init,
            # whose constant only the first partition may add.
            linear.add(arg)
            if not is_zero_fill(op.operands[number]):
                gates.inits.append(number)
    for index, body_op in enumerate(block.operations):
        body_op = body_op.operation
        flags = [v in linear for v in body_op.operands]
        name = body_op.name
        if name == "linalg.yield":
            if not all(flags):
                raise NotLinear("a result that does not depend on the partial sums", op)
            continue
        if not any(flags):
            continue
        if name in ADDITIVE or (name == "arith.select" and not flags[0]):
            first = 1 if name == "arith.select" else 0
            gates.body += [(index, n) for n in range(first, len(flags)) if not flags[n]]
        elif not (
            (name in SCALING and flags.count(True) == 1)
            or (name == "arith.divf" and flags == [True, False])
            or name == "arith.negf"
        ):
            raise NotLinear(name, op)
        linear.update(body_op.results)
    return gates


def _is_zero(value) -> bool:
    owner = value.owner
    return (
        isinstance(owner, ir.OpView)
        and owner.operation.name == "arith.constant"
        and _zero_attr(owner.operation.attributes["value"])
    )


def _zero_attr(attr) -> bool:
    if isinstance(attr, ir.DenseElementsAttr):
        return attr.is_splat and _zero_attr(attr.get_splat_value())
    if isinstance(attr, ir.FloatAttr):
        return attr.value == 0.0
    if isinstance(attr, ir.IntegerAttr):
        return attr.value == 0
    return False


def is_zero_fill(value) -> bool:
    """True for a tensor that a fill sets to zero (or a zero constant)."""
    if _is_zero(value):
        return True
    owner = value.owner
    if not isinstance(owner, ir.OpView) or owner.operation.name != GENERIC:
        return False
    op = owner.operation
    block = op.regions[0].blocks[0]
    yielded = block.operations[len(block.operations) - 1].operands[0]
    if _is_zero(yielded):
        return True
    if isinstance(yielded, ir.BlockArgument) and yielded.arg_number < n_inputs(op):
        source = op.operands[yielded.arg_number]
        return not isinstance(source.type, ir.ShapedType) and _is_zero(source)
    return False
