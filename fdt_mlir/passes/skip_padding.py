"""fdt-skip-padding: border windows loop over their in-bounds part only.

fdt-fold-pad gives the border tiles of a padded window a guarded read,
`if (in bounds) load else pad value`, per element. In an int8 convolution the
pad value is the input's zero point, which the kernel subtracts: a padded
element adds (pad - zero point) * w = 0 to the sum. So the steps where the
guard is false can be skipped rather than tested. When each conjunct of the
guard bounds one loop of the reduction nest (`iv + c >= lo`, `iv + c < hi`,
c invariant), this pass narrows that loop's bounds to where it holds and
drops the test, as CMSIS-NN's kernels clip their window loops. The sum is
unchanged, and no element is tested any more.
"""

from mlir import ir
from mlir.dialects import arith

from ..analysis.linear_index import linear_coefficients
from ..analysis.mac_loops import induction_variable, mac_body, perfect_nest
from ..ir_utils import defining, is_within, ops_named
from ..rewrites.hoist import hoisted
from . import register

# arith.cmpi predicates: (bounds the loop from below, amount added to the bound).
_PREDICATES = {2: (False, 0), 3: (False, 1), 4: (True, 1), 5: (True, 0)}  # slt, sle, sgt, sge


def _conjuncts(condition) -> list:
    both = defining(condition, "arith.andi")
    if both is None:
        return [condition]
    return _conjuncts(both.operands[0]) + _conjuncts(both.operands[1])


def _bounds(guards, nest):
    """[(position in `nest`, from below?, lhs, rhs, adjustment)] for every
    conjunct of the guards, or None if one does not bound a single loop."""
    ivs = [induction_variable(loop) for loop in nest]
    found = []
    for guard in guards:
        for condition in _conjuncts(guard.operands[0]):
            compare = defining(condition, "arith.cmpi")
            if compare is None:
                return None
            predicate = ir.IntegerAttr(compare.attributes["predicate"]).value
            lhs, rhs = compare.operands
            form = linear_coefficients(lhs, ivs)
            if predicate not in _PREDICATES or linear_coefficients(rhs, ivs) != {} or form is None:
                return None
            if len(form) != 1 or list(form.values()) != [1]:
                return None
            below, adjustment = _PREDICATES[predicate]
            found.append((next(iter(form)), below, lhs, rhs, adjustment))
    return found


def _narrow(nest, bounds, operands):
    outer = nest[0]
    index = ir.IndexType.get()
    with ir.InsertionPoint(outer), outer.location:
        zero = arith.ConstantOp(index, 0).result
        at_zero = {induction_variable(loop): zero for loop in nest}
        lower = [loop.operands[0] for loop in nest]
        upper = [loop.operands[1] for loop in nest]
        for position, below, lhs, rhs, adjustment in bounds:
            # iv + c (>=, >, <, <=) r  <=>  iv (>=, >=, <, <) r - c (+ 1)
            bound = arith.SubIOp(hoisted(rhs, outer, dict(at_zero)), hoisted(lhs, outer, dict(at_zero))).result
            if adjustment:
                bound = arith.AddIOp(bound, arith.ConstantOp(index, adjustment).result).result
            if below:
                lower[position] = arith.MaxSIOp(lower[position], bound).result
            else:
                upper[position] = arith.MinSIOp(upper[position], bound).result
    for loop, lb, ub in zip(nest, lower, upper):
        loop.operands[0] = lb
        loop.operands[1] = ub
    for operand in operands:
        guard = operand.guard
        for op in [op.operation for op in guard.regions[0].blocks[0].operations][:-1]:
            op.move_before(guard)
        guard.results[0].replace_all_uses_with(operand.load.results[0])
        guard.erase()


@register("fdt-skip-padding", "Narrow border windows' reduction loops to their in-bounds part, dropping guards")
def skip_padding(module_op: ir.Operation):
    for loop in ops_named(module_op, "scf.for"):
        mac = mac_body(loop)
        if mac is None:
            continue
        operands = [o for o in (mac.a, mac.b) if o.guard is not None]
        if not operands or not all(o.padding_adds_nothing for o in operands):
            continue
        nest = perfect_nest(loop)
        # The new bounds go before the nest: the old ones must be defined there.
        limits = [v for inner in nest for v in inner.operands[:2]]
        if any(isinstance(v.owner, ir.OpView) and is_within(v.owner, nest[0]) for v in limits):
            continue
        bounds = _bounds([o.guard for o in operands], nest)
        if bounds is not None:
            _narrow(nest, bounds, operands)
