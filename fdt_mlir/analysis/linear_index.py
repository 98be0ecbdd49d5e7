"""Index expressions as linear forms in loop induction variables.

After lowering to loops and flattening buffers, every load's index is a tree
of `arith` ops on `index` values. A rewrite that turns a loop into a call on
a contiguous run (fdt-lower-dot-to-ukernel) needs to know how the index moves
with each loop: its coefficient per induction variable, the rest being
invariant in those loops.
"""

from mlir import ir

from ..ir_utils import constant_value


def linear_coefficients(value: ir.Value, ivs: list) -> dict | None:
    """{position in `ivs`: coefficient} such that `value` is the sum of
    coefficient * ivs[position] and terms free of `ivs`; None when `value`
    depends on `ivs` in any other way (a product of two of them, a clamp,
    a division)."""
    form = _form(value, ivs)
    return None if form is None else form[0]


def affine_form(value: ir.Value, ivs: list) -> tuple[dict, int] | None:
    """({position in `ivs`: coefficient}, constant) when `value` is exactly
    sum(coefficient * ivs[position]) + constant; else None."""
    form = _form(value, ivs)
    return None if form is None or form[2] else form[:2]


def _form(value, ivs):
    """(coefficients, constant, whether other invariant terms take part), or None."""
    for position, iv in enumerate(ivs):
        if value == iv:
            return {position: 1}, 0, False
    constant = constant_value(value)
    if constant is not None:
        return {}, constant, False
    owner = value.owner
    if not isinstance(owner, ir.OpView):
        return {}, 0, True
    op = owner.operation
    forms = [_form(v, ivs) for v in op.operands]
    if any(f is None for f in forms):
        return None
    if all(not f[0] for f in forms) and op.name not in ("arith.addi", "arith.subi", "arith.muli"):
        return {}, 0, True
    if op.name in ("arith.addi", "arith.subi"):
        sign = 1 if op.name == "arith.addi" else -1
        (left, c0, s0), (right, c1, s1) = forms
        total = dict(left)
        for position, c in right.items():
            total[position] = total.get(position, 0) + sign * c
        return {p: c for p, c in total.items() if c}, c0 + sign * c1, s0 or s1
    if op.name == "arith.muli":
        for varying, other in ((0, 1), (1, 0)):
            factor = constant_value(op.operands[other])
            if factor is not None:
                coefficients, c, symbols = forms[varying]
                return {p: k * factor for p, k in coefficients.items() if k * factor}, c * factor, symbols
        if all(not f[0] for f in forms):
            return {}, 0, True
    return None
