"""Recomputing an index expression before a loop nest."""

from mlir import ir

from ..ir_utils import is_within, recreate


def hoisted(value: ir.Value, outer: ir.Operation, substitutions: dict) -> ir.Value:
    """`value` computed at the current insertion point, before loop `outer`:
    ops inside `outer` that it depends on are cloned, with the values in
    `substitutions` (typically the nest's induction variables) replaced.
    Values defined outside `outer` are used as they are."""
    if value in substitutions:
        return substitutions[value]
    owner = value.owner
    if isinstance(owner, ir.Block):
        if is_within(owner.owner, outer):
            raise ValueError("hoisted: an induction variable without a substitute")
        return value
    op = owner.operation
    if not is_within(op, outer):
        return value
    clone = recreate(op, [hoisted(v, outer, substitutions) for v in op.operands])
    substitutions[value] = clone.results[0]
    return clone.results[0]
