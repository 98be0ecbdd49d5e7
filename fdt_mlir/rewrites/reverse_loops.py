"""Running a loop nest's independent loops last iteration first."""

from mlir import ir
from mlir.dialects import arith

from ..dialect.ops import REVERSIBLE_ATTR
from ..ir_utils import constant_value


def reverse_loops(op: ir.Operation):
    """Runs every `fdt.reversible` scf.for in `op` (itself included) last
    iteration first and drops the mark: the body sees lb + last - iv for
    the induction variable iv, where last = lb + step * (trips - 1) is the
    value of the last iteration. The loop itself still counts up, so the
    analyses read the new order off the IR as for any loop."""
    loops = []

    def visit(inner):
        if inner.name == "scf.for" and REVERSIBLE_ATTR in inner.attributes:
            loops.append(inner)
        return ir.WalkResult.ADVANCE

    op.operation.walk(visit)
    for loop in loops:
        _reverse(loop)
        del loop.attributes[REVERSIBLE_ATTR]


def _reverse(loop: ir.Operation):
    lower, upper, step = loop.operands[:3]
    body = loop.regions[0].blocks[0]
    iv = body.arguments[0]
    bounds = [constant_value(v) for v in (lower, upper, step)]
    with ir.InsertionPoint(loop), loop.location:
        if all(isinstance(b, int) for b in bounds):
            lo, hi, st = bounds
            mirror = arith.ConstantOp(iv.type, 2 * lo + (hi - lo - 1) // st * st).result
        else:  # lb + (lb + (ub - lb - 1) / step * step), the trip count at least one inside
            one = arith.ConstantOp(iv.type, 1).result
            span = arith.subi(arith.subi(upper, lower), one)
            last = arith.addi(lower, arith.muli(arith.divsi(span, step), step))
            mirror = arith.addi(lower, last)
    with ir.InsertionPoint.at_block_begin(body), loop.location:
        reversed_iv = arith.subi(mirror, iv)
    iv.replace_all_uses_except(reversed_iv, reversed_iv.owner.operation)
