"""Recomputing an index expression before a loop nest."""

from mlir import ir

from ..ir_utils import is_within


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
    clone = ir.Operation.create(
        op.name,
        results=[r.type for r in op.results],
        operands=[hoisted(v, outer, substitutions) for v in op.operands],
        attributes={name: op.attributes[name] for name in op.attributes},
    )
    substitutions[value] = clone.results[0]
    return clone.results[0]
