"""Which kernels run backwards, chosen with the layout.

A kernel whose loops may run last iteration first (fdt.reversible) allows
its output to overlap a consumed input in two ways: below it when run
forwards, above it when run backwards (analysis.safe_overlap). Which way
each such kernel runs is part of the layout: along a chain of kernels
whose outputs trail their inputs, all forwards would push every map a gap
lower than the last, whereas turning the right ones around keeps the chain
within one or two gaps. The planner decides it: it places the buffers with
the overlaps of both directions of every such kernel (a relaxation: any
layout valid for some choice of directions is valid for it), then reads
each kernel's direction off the layout. A kernel whose pairs need both
directions at once is fixed to run forwards, and the buffers placed again,
until every kernel has a direction its placements obey. Without such a
conflict, an exact layout of the relaxation is a smallest one over every
choice of directions. Pure, as
planning.layout: fdt-plan-memory and the cost model call it with the same
arguments and get the same layout.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .layout import ALIGNMENT, Interval, Layout, Overlap, check_layout, plan_layout


@dataclass(frozen=True)
class Choice:
    """The overlaps of the pairs of a step that may run either way."""

    step: int
    forward: tuple[Overlap, ...]
    backward: tuple[Overlap, ...]


def split_by_step(found) -> tuple[list[Overlap], list[Choice]]:
    """(overlap, step, backward) triples (step None: either way) as the
    overlaps that hold whichever way steps run and one Choice per step."""
    overlaps, ways = [], {}
    for overlap, step, backward in found:
        if step is None:
            overlaps.append(overlap)
        else:
            ways.setdefault(step, ([], []))[backward].append(overlap)
    return overlaps, [Choice(step, tuple(f), tuple(b)) for step, (f, b) in sorted(ways.items())]


def relaxed(overlaps: Sequence[Overlap], choices: Sequence[Choice]) -> list[Overlap]:
    """The overlaps of either direction of every choice: what a bound over
    all choices of directions may assume."""
    return [*overlaps, *(o for c in choices for o in (*c.forward, *c.backward))]


def plan_directions(
    buffers: list[Interval],
    overlaps: Sequence[Overlap] = (),
    choices: Sequence[Choice] = (),
    alignment: int = ALIGNMENT,
) -> tuple[Layout, frozenset[int]]:
    """Sets `offset` on every buffer (plan_layout) and returns the layout and
    the steps to run backwards. `overlaps` hold whichever way steps run;
    each choice's overlaps hold only in its direction."""
    forward_only: set[int] = set()
    by_key = {b.key: b for b in buffers}
    while True:
        allowed = [*overlaps]
        for c in choices:
            allowed += c.forward if c.step in forward_only else (*c.forward, *c.backward)
        layout = plan_layout(buffers, alignment, overlaps=allowed)
        backward, conflicts = set(), set()
        for c in choices:
            if _obeys(by_key, c.forward, c, alignment):
                continue
            if c.step not in forward_only and _obeys(by_key, c.backward, c, alignment):
                backward.add(c.step)
            else:
                conflicts.add(c.step)
        if not conflicts:
            return layout, frozenset(backward)
        forward_only |= conflicts


def _obeys(by_key: dict, chosen: tuple[Overlap, ...], choice: Choice, alignment: int) -> bool:
    """Whether the placed pairs of `choice` share bytes only as `chosen`
    (its overlaps in one direction) allows."""
    pairs = {tuple(sorted((o.lower, o.upper))) for o in (*choice.forward, *choice.backward)}
    for pair in sorted(pairs):
        a, b = (by_key[k] for k in pair)
        size = max(a.offset + a.size, b.offset + b.size)
        if check_layout([a, b], size, alignment, [o for o in chosen if {o.lower, o.upper} == set(pair)]):
            return False
    return True
