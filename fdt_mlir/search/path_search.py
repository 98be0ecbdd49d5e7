"""Automatic tiling: the paths that shrink the arena (fdt-method.md, section 3).

Each iteration looks at the layout the cost model predicts for the current
plan and takes its critical buffers (those live where the arena reaches its
top), largest first, in groups that each reach down to SMALLEST_CRITICAL of
their largest buffer. Discovery lists every path that would remove a
buffer; candidates are bounded cheaply first (the cost model's lower bound)
and lowered, shortest first and then by bound, only while their bounds can
still win, up to a work limit. The
best path of the first group that has one making the arena strictly
smaller is applied. So the smaller buffers cost no time while large ones
shrink, yet a large one that no path can remove (read twice, or made by a
kernel that stops every path) does not hide a smaller one at the same peak
whose path would lower it. Ties go to no recomputation (FDT before FFMT),
then fewer MACs, shorter paths and fewer partitions, then the notation, so
the choice never depends on the order of discovery.

When no path makes the arena smaller, one that keeps it but lowers the
highest peak of live bytes, or the number of separate places where that
peak is reached, is applied instead (of those, the one whose peaks, compared
highest first, are lowest): two equal peaks at different times fall only
once both are tiled, and neither path alone makes the arena smaller. Paths
applied since the arena last fell are undone when the search ends, so none
that only adds work is kept. The search stops when no critical buffer has
a path of either kind; it is bounded, since a path takes kernels no later
path can use.
"""

import math
from dataclasses import dataclass, field
from itertools import accumulate, groupby

from ..analysis.sizes import byte_size
from ..tiling_plan import Path
from . import discovery
from .cost_model import CostModel, Prediction

FAMILIES = {"none": (), "fdt": ("fdt",), "ffmt": ("ffmt",), "all": ("fdt", "ffmt")}

# A group of critical buffers reaches down to this share of its largest one:
# smaller buffers are not worth a path while the larger ones can shrink.
SMALLEST_CRITICAL = 1 / 8

# Candidates lowered per critical buffer and family, best bounds first: a
# work limit (never a clock) that keeps long chains (vww: ~1000 candidates)
# fast. Per family, so that `all` tries whatever `fdt` and `ffmt` try. The
# default of Options.search_limit (`--search-limit`).
EVALUATION_LIMIT = 24

# The longest paths that get a candidate lowered before the others (`_rank`):
# longer ones are the slowest to lower (vww's chain has 27 kernels), and on
# the shared models none of them ever won.
LONGEST_FIRST = 8

UNDONE = "undone: the arena did not fall after it"


@dataclass(frozen=True)
class Options:
    tiling: str = "all"
    max_mac_overhead: float | None = None  # percent of the untiled MACs
    max_partitions: int = 25
    # A kernel's output may overlap the inputs it consumes (fdt.overlap):
    # the smallest arenas; off, every buffer keeps its own bytes.
    overlap: bool = True
    # Candidates lowered per critical buffer and family (EVALUATION_LIMIT).
    search_limit: int = EVALUATION_LIMIT
    # search.pareto: the arena/MAC front of searches under a ladder of MAC
    # budgets, and the plan with the fewest MACs that fits a RAM budget.
    pareto: bool = False
    ram_budget: int | None = None  # bytes
    # Worker processes lowering candidates at once (search.unit_workers);
    # the plan never depends on it.
    jobs: int = 1


@dataclass
class DesignPoint:
    path: str
    arena: int
    macs: int
    # chosen, lost the tie-break, larger, no smaller than the current arena,
    # over the MAC budget, or UNDONE
    verdict: str


@dataclass
class Iteration:
    arena_before: int
    critical: list = field(default_factory=list)  # (producer, bytes) tried, in order
    points: list = field(default_factory=list)
    bounded_out: int = 0  # candidates whose lower bound could not win
    beyond_limit: int = 0  # candidates left unlowered by the work limit (Options.search_limit)
    chosen: str | None = None
    base: list = field(default_factory=list)  # the plan (Path) each point's path was added to


def _preference(path: Path, macs: int):
    return (path.family != "fdt", macs, len(path.kernels), path.parts, path.notation())


def critical_buffers(prediction, model: CostModel, tiled: set) -> list:
    """(producer kernel, bytes) of the buffers live where the arena reaches
    its top, largest first; model inputs and outputs cannot be tiled away."""
    top = [b for b in prediction.buffers if b.offset + b.size == prediction.arena]
    found = {}
    for b in prediction.buffers:
        if b.key.startswith(("input", "output")) or not any(b.overlaps_in_time(t) for t in top):
            continue
        producer = b.key.split("#")[0]
        if producer in model.by_name and producer not in tiled:
            found[producer] = max(found.get(producer, 0), b.size)
    return sorted(found.items(), key=lambda item: (-item[1], item[0]))


def _groups(critical: list) -> list[list]:
    """The critical buffers (largest first) cut into groups, each reaching
    down to SMALLEST_CRITICAL of its largest buffer."""
    groups = []
    for name, size in critical:
        if groups and size >= groups[-1][0][1] * SMALLEST_CRITICAL:
            groups[-1].append((name, size))
        else:
            groups.append([(name, size)])
    return groups


def _peaks(prediction: Prediction) -> list[int]:
    """The local maxima of the bytes live over the steps, highest first:
    what a path that keeps the arena can still lower."""
    change = [0] * (max(b.last for b in prediction.buffers) + 2)
    for b in prediction.buffers:
        change[b.first] += b.size
        change[b.last + 1] -= b.size
    levels = [n for n, _ in groupby(accumulate(change))]  # steps with equal live bytes as one
    maxima = [now for before, now, after in zip([0, *levels], levels, [*levels[1:], 0]) if before < now > after]
    return sorted(maxima, reverse=True)


def _top(peaks: list[int]) -> tuple[int, int]:
    """The highest peak, and at how many separate places it is reached."""
    return peaks[0], peaks.count(peaks[0])


def _candidates(model: CostModel, producer: str, size: int, options: Options, tiled: set) -> list[Path]:
    partitions = [n for n in discovery.PARTITIONS if n <= options.max_partitions]
    found = []
    for path in discovery.candidates(model.by_name[producer], model.kernels, FAMILIES[options.tiling], partitions):
        if tiled.intersection(path.kernels):
            continue
        unit = model.unit_of(path)
        # An end larger than the buffer keeps the peak. The method asks for
        # strictly smaller ends; equal ones are kept, because a peak of two
        # equal buffers (aww's chain) falls when one of them goes. A model
        # input is live from the start anyway: it keeps no peak a path makes
        # (a float image QUANTIZEd to int8, read by the path's first kernel).
        ends = [byte_size(v.type) for v, source in zip(unit.inputs, unit.sources) if not isinstance(source, int)]
        if max(ends, default=0) <= size and byte_size(unit.output.type) <= size:
            found.append(path)
    return found


@dataclass
class SearchResult:
    """A plan with the cost model's predictions for it, so that nothing
    needs the cost model once the plan is lowered."""

    paths: list  # Path
    iterations: list  # Iteration; none for a plan given by the user
    untiled: Prediction
    predicted: Prediction  # of `paths`


def price(model: CostModel, paths: list[Path]) -> SearchResult:
    """A plan given by the user (checked by fdt-apply-plan), with its predictions."""
    return SearchResult(list(paths), [], model.predict([]), model.predict(list(paths)))


def search(model: CostModel, options: Options, progress=None) -> SearchResult:
    """The plan to apply, its predictions, and the design points of every
    iteration."""
    paths: list[Path] = []
    iterations: list[Iteration] = []
    untiled = current = model.predict(paths)
    if not FAMILIES[options.tiling]:
        return SearchResult(paths, iterations, untiled, current)
    budget = None
    if options.max_mac_overhead is not None:
        budget = model.macs_untiled * (1 + options.max_mac_overhead / 100)
    kept, best = 0, current  # paths[:kept] last made the arena smaller; best is its prediction
    while True:
        tiled = {name for p in paths for name in p.kernels}
        iteration = Iteration(current.arena, base=list(paths))
        iterations.append(iteration)
        step = _Trial(model, paths, options, tiled, budget, current, iteration).run()
        if progress:
            progress(_progress_line(len(iterations), iteration, current.arena, step))
        if step is None:
            break
        path, current = step
        paths.append(path)
        iteration.chosen = path.notation()
        if current.arena < best.arena:
            kept, best = len(paths), current
    # Iteration i chose paths[i]; the last one chose none.
    for iteration in iterations[kept:-1]:
        next(p for p in iteration.points if p.path == iteration.chosen).verdict = UNDONE
        iteration.chosen = None
    if progress and len(paths) > kept:
        progress(f"undid the last {len(paths) - kept} path(s): the arena stayed {best.arena} B")
    return SearchResult(paths[:kept], iterations, untiled, best)


class _Trial:
    """One iteration: the groups of critical buffers are tried in turn for a
    path that makes the arena smaller, then, if none has one, for a path
    that keeps it but lowers its peaks. A path that is a candidate for
    several buffers is bounded and lowered once."""

    def __init__(self, model, paths, options, tiled, budget, current, iteration):
        self.model, self.paths, self.options, self.tiled = model, paths, options, tiled
        self.budget, self.current, self.iteration = budget, current, iteration
        self.bounds = {}  # notation -> the cost model's lower bound
        self.lowered = {}  # notation -> (prediction, point)
        self.skipped = {}  # notation -> "bound" or "limit", for the candidates not lowered

    def run(self):
        """(path, prediction) to apply, or None."""
        groups = _groups(critical_buffers(self.current, self.model, self.tiled))
        ranked = {}
        best = None
        for group in groups:
            self.iteration.critical += group
            for producer, size in group:
                ranked[producer] = self._rank(producer, size)
            # Every buffer's candidates compete: the first buffer's best
            # path may be worse than another's.
            best = _choose([w for producer, _ in group for w in self._smaller(ranked[producer])])
            if best:
                break
        else:
            peaks = _peaks(self.current)
            for group in groups:
                best = _choose(self._flatter([ranked[producer] for producer, _ in group], peaks))
                if best:
                    break
        lowered = self.lowered.keys()
        self.iteration.bounded_out = sum(why == "bound" for n, why in self.skipped.items() if n not in lowered)
        self.iteration.beyond_limit = sum(why == "limit" for n, why in self.skipped.items() if n not in lowered)
        return best

    def _rank(self, producer, size) -> list:
        """(bound, preference, path) of the buffer's candidates, in the order
        they are lowered: one of each path length (up to LONGEST_FIRST) and
        family first, shortest first, the one `_estimate` puts first; then
        the others by bound. A longer path keeps fewer buffers whole, so its
        bound is lower, but it often recomputes more or ends in a larger
        buffer: ranked by bound alone, the long paths took the whole work
        limit and a short one that makes the arena smaller was never lowered."""
        found = []
        for path in _candidates(self.model, producer, size, self.options, self.tiled):
            name = path.notation()
            if name not in self.bounds:
                self.bounds[name] = self.model.lower_bound(self.paths, path)
            found.append((self.bounds[name], _preference(path, 0), path))
        found.sort(key=lambda item: item[:2])
        firsts = {}
        short = [item for item in found if len(item[2].kernels) <= LONGEST_FIRST]
        for item in sorted(short, key=lambda item: (_estimate(self.model, item[2], item[0]), item[1])):
            firsts.setdefault((len(item[2].kernels), item[2].family), item)
        heads = [firsts[key] for key in sorted(firsts)]
        return heads + [item for item in found if item not in heads]

    def _lower(self, path: Path):
        prediction = self.model.predict(self.paths + [path])
        point = DesignPoint(path.notation(), prediction.arena, prediction.macs, "no smaller than the current arena")
        if self.budget is not None and prediction.macs > self.budget:
            point.verdict = "over the MAC budget"
        self.iteration.points.append(point)
        self.lowered[point.path] = prediction, point
        return prediction, point

    def _smaller(self, ranked: list) -> list:
        """(key, path, prediction, point) of one buffer's candidates that make
        the arena strictly smaller, lowered while their bounds can win;
        those lowered for another buffer were judged there."""
        winners = []
        lowered = dict.fromkeys(FAMILIES["all"], 0)
        for n, (bound, _, path) in enumerate(ranked):
            name = path.notation()
            if name in self.lowered:
                continue
            why = self._skip(bound, path, winners, lowered)
            if why:
                self.skipped.setdefault(name, why)
                continue
            if not self.model.known(self.model.unit_of(path)):
                self.model.prefetch([self.model.unit_of(p) for p in self._next(ranked[n:], winners, lowered)])
            lowered[path.family] += 1
            prediction, point = self._lower(path)
            if point.verdict != "over the MAC budget" and prediction.arena < self.current.arena:
                winners.append(((prediction.arena, _preference(path, prediction.macs)), path, prediction, point))
        return winners

    def _skip(self, bound, path, winners, lowered) -> str | None:
        """Why `_smaller` does not lower `path` ("bound" or "limit"), or None."""
        if bound >= self.current.arena or (winners and bound > min(w[2].arena for w in winners)):
            return "bound"
        if lowered[path.family] == self.options.search_limit:
            return "limit"
        return None

    def _next(self, ranked, winners, lowered) -> list[Path]:
        """The candidates `_smaller` lowers next if none of them wins, one per
        worker, whose units are not lowered yet: the workers lower them at
        once. A winner among them may leave others unused; it never changes
        what is chosen."""
        lowered = dict(lowered)
        found = []
        for bound, _, path in ranked:
            if len(found) == self.model.jobs:
                break
            if path.notation() not in self.lowered and not self._skip(bound, path, winners, lowered):
                lowered[path.family] += 1
                if not self.model.known(self.model.unit_of(path)):
                    found.append(path)
        return found

    def _flatter(self, rankings: list, peaks: list) -> list:
        """(key, path, prediction, point) of the candidates that keep the
        arena but lower its highest peak of live bytes, or the number of
        places where that is reached (`peaks`: the current plan's); the one
        whose peaks are lowest, highest first, wins. The candidates lowered
        already are judged again. One whose bound equals the arena is
        lowered only if the arena is the highest peak, reached at several
        places: it cannot lower that peak, only remove one of its places."""
        arena = self.current.arena
        top = _top(peaks)
        spread = top[0] == arena and top[1] > 1
        winners = {}
        for ranked in rankings:
            lowered = dict.fromkeys(FAMILIES["all"], 0)
            for bound, _, path in ranked:
                name = path.notation()
                if name not in self.lowered:
                    if not spread or bound != arena or lowered[path.family] == self.options.search_limit:
                        continue
                    lowered[path.family] += 1
                    self._lower(path)
                prediction, point = self.lowered[name]
                if point.verdict == "over the MAC budget" or prediction.arena != arena:
                    continue
                after = _peaks(prediction)
                if _top(after) < top:
                    winners[name] = ((after, _preference(path, prediction.macs)), path, prediction, point)
        return list(winners.values())


def _choose(winners: list):
    """(path, prediction) of the best winner, or None; sets the verdicts."""
    if not winners:
        return None
    winners.sort(key=lambda w: w[0])
    _, path, prediction, chosen = winners[0]
    for _, _, other, point in winners:
        point.verdict = (
            "chosen" if point is chosen else "lost the tie-break" if other.arena == prediction.arena else "larger"
        )
    return path, prediction


def _estimate(model: CostModel, path: Path, bound: int) -> int:
    """The bound plus what it leaves out of the path's own buffers: a slice
    of its largest inner tensor (bytes / partitions). Among the candidates
    of one length and family, whose bounds are mostly equal, it picks one
    with small slices, not the one with the fewest partitions. (It ignores
    halos, which grow along a path: over all candidates it would put long
    paths in fine grids first, which recompute most and are the slowest to
    lower.)"""
    inner = [byte_size(model.by_name[name].root.results[0].type) for name in path.kernels[:-1]]
    return bound + max(inner, default=0) // math.prod(path.parts)


def _progress_line(number, iteration, arena, best) -> str:
    tried = ", ".join(f"{name} ({size} B)" for name, size in iteration.critical[:3]) or "none"
    head = (
        f"iteration {number}: arena {arena} B; critical buffers {tried}; "
        f"{len(iteration.points)} design points lowered, {iteration.bounded_out} bounded out, "
        f"{iteration.beyond_limit} beyond the limit"
    )
    if best is None:
        return head + "; no path improves it"
    if best[1].arena == arena:
        return head + f"; chose '{best[0].notation()}', which keeps {arena} B but lowers its peaks"
    return head + f"; chose '{best[0].notation()}' -> {best[1].arena} B"
