"""Automatic tiling: the paths that shrink the arena (fdt-method.md, section 3).

Each iteration looks at the layout the cost model predicts for the current
plan, takes its critical buffers (those live where the arena reaches its
top), largest first, and asks discovery for every path that would remove
the buffer. Candidates are bounded cheaply first (the cost model's lower
bound) and lowered, in order of that bound, only while they can still win;
the best one is applied if it makes the arena strictly smaller. Ties go to
no recomputation (FDT before FFMT), then fewer MACs, shorter paths and fewer
partitions, then the notation, so the choice never depends on the order of
discovery. The search stops when no critical buffer can be improved.
"""

from dataclasses import dataclass, field

from ..analysis.sizes import byte_size
from ..errors import FdtError
from ..tiling_plan import Path
from . import discovery
from .cost_model import CostModel, Prediction

FAMILIES = {"none": (), "fdt": ("fdt",), "ffmt": ("ffmt",), "all": ("fdt", "ffmt")}

# Buffers below this share of the largest critical buffer are not worth a path.
SMALLEST_CRITICAL = 1 / 8

# Candidates lowered per critical buffer and family, best bounds first: a
# work limit (never a clock) that keeps long chains (vww: ~1000 candidates)
# fast. Per family, so that `all` tries whatever `fdt` and `ffmt` try.
EVALUATION_LIMIT = 24


@dataclass(frozen=True)
class Options:
    tiling: str = "all"
    max_mac_overhead: float | None = None  # percent of the untiled MACs
    max_partitions: int = 25


@dataclass
class DesignPoint:
    path: str
    arena: int
    macs: int
    # chosen, lost the tie-break, larger, no smaller than the current arena,
    # or over the MAC budget
    verdict: str


@dataclass
class Iteration:
    arena_before: int
    critical: list  # (producer, bytes) tried, in order
    points: list = field(default_factory=list)
    bounded_out: int = 0  # candidates whose lower bound could not win
    beyond_limit: int = 0  # candidates left unlowered by EVALUATION_LIMIT
    chosen: str | None = None


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
    ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    return [(name, size) for name, size in ranked if size >= ranked[0][1] * SMALLEST_CRITICAL]


def _candidates(model: CostModel, producer: str, size: int, options: Options, tiled: set) -> list[Path]:
    partitions = [n for n in discovery.PARTITIONS if n <= options.max_partitions]
    found = []
    for path in discovery.candidates(model.by_name[producer], model.kernels, FAMILIES[options.tiling], partitions):
        if tiled.intersection(path.kernels):
            continue
        unit = model.unit_of(path)
        # An end larger than the buffer keeps the peak. The method asks for
        # strictly smaller ends; equal ones are kept, because a peak of two
        # equal buffers (aww's chain) falls when one of them goes.
        if max(byte_size(v.type) for v in unit.inputs) <= size and byte_size(unit.output.type) <= size:
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
    """A plan given by the user, with its predictions."""
    for path in paths:
        unknown = next((name for name in path.kernels if name not in model.by_name), None)
        if unknown is not None:
            known = ", ".join(list(model.by_name)[:6]) + (", ..." if len(model.by_name) > 6 else "")
            raise FdtError(f"plan path '{path.notation()}': no kernel named '{unknown}' (kernels are: {known})")
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
    while True:
        tiled = {name for p in paths for name in p.kernels}
        iteration = Iteration(current.arena, critical_buffers(current, model, tiled))
        iterations.append(iteration)
        # Every critical buffer's candidates compete: the first buffer's best
        # path may be worse than another's.
        winners = []
        for producer, size in iteration.critical:
            winners += _winners(model, paths, producer, size, options, tiled, budget, current.arena, iteration)
        best = _choose(winners)
        if progress:
            progress(_progress_line(len(iterations), iteration, current.arena, best))
        if best is None:
            return SearchResult(paths, iterations, untiled, current)
        path, current = best
        paths.append(path)
        iteration.chosen = path.notation()


def _winners(model, paths, producer, size, options, tiled, budget, arena, iteration) -> list:
    """(key, path, prediction, point) of the candidates for one critical
    buffer that make the arena strictly smaller; paths already lowered in
    this iteration (for another buffer) are not lowered again."""
    seen = {p.path for p in iteration.points}
    bounded = []
    for path in _candidates(model, producer, size, options, tiled):
        if path.notation() in seen:
            continue
        bound = model.lower_bound(paths, path)
        if bound < arena:
            bounded.append((bound, _preference(path, 0), path))
        else:
            iteration.bounded_out += 1
    bounded.sort(key=lambda item: item[:2])
    winners = []
    lowered = dict.fromkeys(FAMILIES["all"], 0)
    for n, (bound, _, path) in enumerate(bounded):
        if winners and bound > min(w[2].arena for w in winners):
            iteration.bounded_out += len(bounded) - n
            break
        if lowered[path.family] == EVALUATION_LIMIT:
            iteration.beyond_limit += 1
            continue
        lowered[path.family] += 1
        prediction = model.predict(paths + [path])
        point = DesignPoint(path.notation(), prediction.arena, prediction.macs, "no smaller than the current arena")
        iteration.points.append(point)
        if budget is not None and prediction.macs > budget:
            point.verdict = "over the MAC budget"
        elif prediction.arena < arena:
            winners.append(((prediction.arena, _preference(path, prediction.macs)), path, prediction, point))
    return winners


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


def _progress_line(number, iteration, arena, best) -> str:
    tried = ", ".join(f"{name} ({size} B)" for name, size in iteration.critical[:3]) or "none"
    head = (
        f"iteration {number}: arena {arena} B; critical buffers {tried}; "
        f"{len(iteration.points)} design points lowered, {iteration.bounded_out} bounded out, "
        f"{iteration.beyond_limit} beyond the limit"
    )
    if best is None:
        return head + "; no path improves it"
    return head + f"; chose '{best[0].notation()}' -> {best[1].arena} B"
