"""The trade-off between arena and MACs: a Pareto front, and a RAM budget.

The search (path_search) makes the arena as small as it can within a MAC
budget. Run under a ladder of budgets, from no recomputation up to none at
all, it gives one plan per rung, and on its way it prices many more (each
iteration's plan with one candidate added); of all of these, those that no
other plan beats in both arena and MACs form the front. Every point is a plan the compiler emits as
it is, priced by the one cost model, whose memoised units the rungs share.
The ladder stops early once a rung's search refused no candidate for its
MACs: a larger budget would search the same way.

A RAM budget picks the point with the fewest MACs whose arena fits, then
the fewest partitions and the shortest paths.
"""

import dataclasses
import math
import re
from dataclasses import dataclass

from ..errors import FdtError
from ..tiling_plan import parse_plan
from .cost_model import CostModel
from .path_search import Options, SearchResult, search

# MAC budgets, in percent of the untiled MACs (None: unbounded).
LADDER = (0.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 400.0, None)

OVER_BUDGET = "over the MAC budget"  # path_search's verdict


@dataclass(frozen=True)
class FrontPoint:
    arena: int
    macs: int
    result: SearchResult  # the plan, its predictions and its search

    @property
    def paths(self) -> list:
        return self.result.paths

    def key(self) -> tuple:
        """Fewest MACs, then the smallest arena, the fewest partitions, the
        shortest paths and the notation: how a budget chooses among points."""
        partitions = sum(math.prod(p.parts) for p in self.paths)
        length = sum(len(p.kernels) for p in self.paths)
        return (self.macs, self.arena, partitions, length, [p.notation() for p in self.paths])


def pareto_front(model: CostModel, options: Options, progress=None) -> list[FrontPoint]:
    """The non-dominated plans of the ladder's searches (up to the user's
    own MAC budget, `options.max_mac_overhead`), the untiled one included,
    by MACs (fewest first), so by arena, largest first."""
    limit = options.max_mac_overhead
    rungs = [b for b in LADDER if b is not None and (limit is None or b < limit)] + [limit]
    untiled = model.predict([])
    points = [FrontPoint(untiled.arena, untiled.macs, SearchResult([], [], untiled, untiled))]
    for budget in rungs:
        if progress:
            progress("Pareto front: " + ("no MAC budget" if budget is None else f"MAC budget +{budget:g} %"))
        result = search(model, dataclasses.replace(options, max_mac_overhead=budget), progress)
        points.append(FrontPoint(result.predicted.arena, result.predicted.macs, result))
        points += _design_points(model, result)
        if not any(p.verdict == OVER_BUDGET for i in result.iterations for p in i.points):
            break
    return _non_dominated(points)


def _design_points(model: CostModel, result: SearchResult) -> list[FrontPoint]:
    """Every plan the search lowered on its way (an iteration's plan with one
    candidate added), exact as the cost model priced it (memoised): a plan
    that did not shrink the arena may still save MACs or trade them for
    bytes."""
    found = []
    for iteration in result.iterations:
        for point in iteration.points:
            plan = iteration.base + parse_plan(point.path)
            predicted = model.predict(plan)
            found.append(FrontPoint(predicted.arena, predicted.macs, SearchResult(plan, [], result.untiled, predicted)))
    return found


def _non_dominated(points: list[FrontPoint]) -> list[FrontPoint]:
    front = []
    for point in sorted(points, key=FrontPoint.key):
        if not front or point.arena < front[-1].arena:
            front.append(point)
    return front


def fitting(front: list[FrontPoint], ram_budget: int) -> FrontPoint:
    """The point with the fewest MACs whose arena is at most `ram_budget`
    bytes; FdtError naming the smallest reachable arena if none fits."""
    fits = [p for p in front if p.arena <= ram_budget]
    if fits:
        return min(fits, key=FrontPoint.key)
    smallest = min(front, key=lambda p: (p.arena, p.key()))
    raise FdtError(
        f"no design fits a RAM budget of {ram_budget} B: the smallest arena reachable is {smallest.arena} B "
        f"({smallest.macs} MACs, {_overhead(smallest.macs, front)})"
    )


def _overhead(macs: int, front: list[FrontPoint]) -> str:
    untiled = front[0].result.untiled.macs
    return f"{100 * (macs - untiled) / untiled:+.1f} % MACs" if untiled else "no MACs"


SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(|K|KiB|KB|M|MiB|MB)$", re.IGNORECASE)
UNITS = {"": 1, "k": 1024, "kib": 1024, "kb": 1024, "m": 1 << 20, "mib": 1 << 20, "mb": 1 << 20}


def parse_size(text: str) -> int:
    """Bytes from `32768`, `32K`, `32KiB` or `0.5M` (K and M are 1024 and
    1024 x 1024, as for SRAM sizes; KB and MB too). ValueError if not one."""
    match = SIZE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a size (bytes, or with K, KiB, M or MiB)")
    number, unit = match.groups()
    size = float(number) * UNITS[unit.lower()]
    if size != int(size) or size < 1:
        raise ValueError(f"'{text}' is not a whole number of bytes")
    return int(size)
