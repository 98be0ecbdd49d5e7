"""planning.directions on hand-made layout problems (alignment 1)."""

from fdt_mlir.planning.directions import Choice, plan_directions, relaxed
from fdt_mlir.planning.layout import Interval, Overlap, check_layout, lower_bound, plan_layout


def chain():
    """a -> k1 -> b -> k2 -> c, 100 B each: run forwards, k1's output may
    start 10 B below its input, k2's 30 B below; run backwards, as far
    above."""
    buffers = [Interval("a", 100, 0, 1), Interval("b", 100, 1, 2), Interval("c", 100, 2, 3)]
    choices = [
        Choice(1, (Overlap("b", "a", 10),), (Overlap("a", "b", 10),)),
        Choice(2, (Overlap("c", "b", 30),), (Overlap("b", "c", 30),)),
    ]
    return buffers, choices


def chosen(choices, backward):
    return [o for c in choices for o in (c.backward if c.step in backward else c.forward)]


def test_turning_one_kernel_around_keeps_the_chain_within_one_gap():
    buffers, choices = chain()
    # Forwards only, the maps drift down: 10 + 30 below the input.
    assert plan_layout(buffers, 1, overlaps=chosen(choices, set())).size == 140
    layout, backward = plan_directions(buffers, (), choices, alignment=1)
    # One of the two turned around: the chain spans 100 + max(10, 30).
    assert layout.size == 130 and len(backward) == 1
    assert check_layout(buffers, layout.size, 1, chosen(choices, backward)) == []


def test_a_kernel_whose_pairs_need_both_directions_runs_forwards():
    """k reads a and b (100 B each, live together) and writes c (100 B),
    90 B below both forwards, 90 B above both backwards. The relaxation
    puts c above a and below b (280 B), which no direction allows: k runs
    forwards, c 90 B below both (290 B)."""
    buffers = [Interval("a", 100, 0, 1), Interval("b", 100, 0, 1), Interval("c", 100, 1, 2)]
    choice = Choice(
        1,
        (Overlap("c", "a", 90), Overlap("c", "b", 90)),
        (Overlap("a", "c", 90), Overlap("b", "c", 90)),
    )
    assert plan_layout(buffers, 1, overlaps=relaxed((), [choice])).size == 280
    layout, backward = plan_directions(buffers, (), [choice], alignment=1)
    assert (layout.size, backward) == (290, frozenset())
    assert check_layout(buffers, layout.size, 1, choice.forward) == []


def test_the_relaxation_bounds_every_choice_of_directions():
    buffers, choices = chain()
    bound = lower_bound(buffers, 1, relaxed((), choices))
    for backward in (set(), {1}, {2}, {1, 2}):
        assert bound <= plan_layout(buffers, 1, overlaps=chosen(choices, backward)).size
