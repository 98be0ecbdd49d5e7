"""Offsets for buffers in one static arena.

Pure functions over (size, first, last) intervals, independent of MLIR, so
that the planner can be tested exhaustively and reused by the cost model.
"""

from dataclasses import dataclass

ALIGNMENT = 16
# plan_layout's budget of search nodes (placements tried): deterministic,
# and under a second of CPython for 60 densely overlapping buffers.
NODE_LIMIT = 50_000


@dataclass
class Interval:
    key: str
    size: int
    first: int
    last: int  # inclusive: live during steps first..last
    offset: int = -1

    def overlaps_in_time(self, other) -> bool:
        return self.first <= other.last and other.first <= self.last


def align(n: int, alignment: int = ALIGNMENT) -> int:
    return (n + alignment - 1) // alignment * alignment


def greedy_by_size(buffers: list[Interval], alignment: int = ALIGNMENT) -> int:
    """TFLM's planner: largest first, each at the lowest aligned offset that
    does not collide with an already placed buffer live at the same time.
    Sets `offset` on every buffer and returns the arena size."""
    placed: list[Interval] = []
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first, b.key)):
        busy = sorted((p.offset, p.offset + p.size) for p in placed if p.overlaps_in_time(buf))
        offset = 0
        for start, end in busy:
            if offset + buf.size <= start:
                break
            offset = max(offset, align(end, alignment))
        buf.offset = offset
        placed.append(buf)
    return max((b.offset + b.size for b in buffers), default=0)


@dataclass(frozen=True)
class Layout:
    size: int  # arena bytes
    method: str  # "exact", "branch-and-bound (limit reached)" or "greedy-by-size"
    lower_bound: int  # no layout of these buffers is smaller


def plan_layout(buffers: list[Interval], alignment: int = ALIGNMENT, node_limit: int = NODE_LIMIT) -> Layout:
    """Sets `offset` on every buffer: a smallest arena if the search ends
    within `node_limit` nodes, else the best layout found, never worse than
    greedy-by-size's.

    Greedy's arena bounds the optimum from above and `lower_bound` from below;
    while they differ, an exact feasibility search bisects between them,
    trying the lower bound first. The search is complete over compact layouts,
    where no buffer can move to a lower free aligned offset, and some optimum
    is compact: moving buffers down never grows the arena and lowers the sum of
    offsets, so the moves stop. Sort a compact layout by (offset, index). Each
    buffer's earlier time-overlapping buffers lie below it, so its offset is at
    least the highest aligned end among them, and not more: its later
    time-overlapping buffers start above its own end, so it could move down
    to that end. A compact layout is thus fixed by its order, and the search
    places buffers in (offset, index) order, each at the highest aligned end
    of the placed buffers it overlaps in time (0 if none), which visits each
    compact layout once: MiniMalloc's canonical search (Moffitt, ASPLOS 2023).
    """
    greedy = size = greedy_by_size(buffers, alignment)
    bound = lower_bound(buffers, alignment)
    if size == bound:
        return Layout(size, "exact", bound)
    search = _Search(buffers, alignment, node_limit)
    infeasible, capacity = bound - 1, bound
    while size - infeasible > 1:
        offsets = search.fits(capacity)
        if search.nodes < 0:
            method = "branch-and-bound (limit reached)" if size < greedy else "greedy-by-size"
            return Layout(size, method, bound)
        if offsets is None:
            infeasible = capacity
        else:
            for buf, offset in zip(search.buffers, offsets):
                buf.offset = offset
            size = max(b.offset + b.size for b in buffers)
        capacity = (infeasible + size) // 2
    return Layout(size, "exact", bound)


class _Search:
    """Depth-first search for a compact layout within a capacity (see
    plan_layout). Buffers are indexed most constrained first: in the fullest
    section, then longest lived, then largest. A node is one placement, and
    `nodes` the budget left across searches (negative once spent). The search
    prunes a placement that leaves room below it for an unplaced buffer (the
    layout would not be compact), and a node where the unplaced buffers of
    some section, stacked above the placed ones, cannot fit. Where no unplaced
    buffer spans two sections, the parts of time on either side are searched
    one after the other (MiniMalloc's dynamic decomposition)."""

    def __init__(self, buffers, alignment, node_limit):
        # Sections: the times of first use, whose live sets include every maximal one.
        times = sorted({b.first for b in buffers})
        load = {t: sum(align(b.size, alignment) for b in buffers if b.first <= t <= b.last) for t in times}

        def constraint(b):
            return (-max(load[t] for t in times if b.first <= t <= b.last), b.first - b.last, -b.size, b.first, b.key)

        self.buffers = bufs = sorted(buffers, key=constraint)
        self.sizes = [b.size for b in bufs]
        self.aligned = [align(b.size, alignment) for b in bufs]
        self.overlaps = [[j for j, o in enumerate(bufs) if o is not b and b.overlaps_in_time(o)] for b in bufs]
        self.spans = [(times.index(b.first), sum(t <= b.last for t in times)) for b in bufs]  # sections [lo, hi)
        self.live = [[i for i, b in enumerate(bufs) if b.first <= t <= b.last] for t in times]
        self.nodes = node_limit

    def fits(self, capacity: int):
        """Offsets (in the order of `buffers`) of a layout within `capacity`
        bytes, or None if there is none or the budget ran out."""
        n, sections = len(self.sizes), len(self.live)
        self.capacity = capacity
        self.offsets = [0] * n
        self.placed = [False] * n
        self.lowest = [0] * n  # an unplaced buffer's offset: above its placed overlaps
        self.floor = [0] * sections  # aligned end of the highest placed buffer live there
        self.unplaced_bytes = [0] * sections  # aligned sizes of the unplaced buffers live there
        self.cuts = [0] * sections  # unplaced buffers live at sections s and s + 1
        for i, (lo, hi) in enumerate(self.spans):
            for s in range(lo, hi):
                self.unplaced_bytes[s] += self.aligned[i]
            for s in range(lo, hi - 1):
                self.cuts[s] += 1
        return list(self.offsets) if self._parts(0, sections, 0, -1) else None

    def _parts(self, lo, hi, level, last) -> bool:
        """Searches the parts of sections [lo, hi) that no unplaced buffer
        links, one after the other."""
        start = lo
        for s in range(lo, hi):
            if s + 1 == hi or not self.cuts[s]:
                part = [i for i, (a, b) in enumerate(self.spans) if not self.placed[i] and start <= a and b <= s + 1]
                if part and not self._search(part, start, s + 1, level, last):
                    return False
                start = s + 1
        return True

    def _search(self, part, lo, hi, level, last) -> bool:
        """Places the rest of `part` (in sections [lo, hi)) after buffer
        `last` at offset `level`."""
        unplaced = sorted((self.lowest[i], i) for i in part if not self.placed[i])
        if not unplaced:
            return True
        room = min(offset + self.sizes[i] for offset, i in unplaced)
        for offset, i in unplaced:
            if offset >= room:
                break  # an unplaced buffer fits below: not compact
            if (offset, i) < (level, last) or offset + self.sizes[i] > self.capacity:
                continue
            self.nodes -= 1
            if self.nodes < 0:
                return False
            undo, split = self._place(i, offset)
            fits = self._stackable(lo, hi, offset) and (
                self._parts(lo, hi, offset, i) if split else self._search(part, lo, hi, offset, i)
            )
            self._unplace(i, undo)
            if fits or self.nodes < 0:
                return fits
        return False

    def _place(self, i, offset):
        """Places buffer i, the highest yet in each of its sections; returns
        what _unplace restores and whether the search space splits."""
        self.placed[i], self.offsets[i] = True, offset
        end, (lo, hi) = offset + self.aligned[i], self.spans[i]
        lowest = [(j, self.lowest[j]) for j in self.overlaps[i] if not self.placed[j] and self.lowest[j] < end]
        for j, _ in lowest:
            self.lowest[j] = end
        floor = self.floor[lo:hi]
        self.floor[lo:hi] = [end] * (hi - lo)
        for s in range(lo, hi):
            self.unplaced_bytes[s] -= self.aligned[i]
        for s in range(lo, hi - 1):
            self.cuts[s] -= 1
        return (lowest, floor), not all(self.cuts[lo : hi - 1])

    def _unplace(self, i, undo):
        lowest, floor = undo
        for j, value in lowest:
            self.lowest[j] = value
        lo, hi = self.spans[i]
        self.floor[lo:hi] = floor
        for s in range(lo, hi):
            self.unplaced_bytes[s] += self.aligned[i]
        for s in range(lo, hi - 1):
            self.cuts[s] += 1
        self.placed[i] = False

    def _stackable(self, lo, hi, level) -> bool:
        """Whether each section's unplaced buffers, stacked at aligned offsets
        above its floor and `level`, can end within the capacity."""
        for s in range(lo, hi):
            rest = self.unplaced_bytes[s]
            excess = max(level, self.floor[s]) + rest - self.capacity
            if rest and excess > 0:
                # The topmost buffer may end short of its aligned size.
                slack = max(self.aligned[i] - self.sizes[i] for i in self.live[s] if not self.placed[i])
                if excess > slack:
                    return False
        return True


def lower_bound(buffers: list[Interval], alignment: int = ALIGNMENT) -> int:
    """No layout is smaller: buffers live at one time are stacked at aligned
    offsets, so each but the topmost takes its aligned size."""
    best = 0
    for t in sorted({b.first for b in buffers}):
        live = [b for b in buffers if b.first <= t <= b.last]
        sizes = [align(b.size, alignment) for b in live]
        best = max(best, sum(sizes) - max(a - b.size for a, b in zip(sizes, live)))
    return best


def peak_live_bytes(buffers: list[Interval]) -> int:
    """The lower bound of any layout: the most bytes live at one time."""
    points = sorted({b.first for b in buffers})
    return max((sum(b.size for b in buffers if b.first <= t <= b.last) for t in points), default=0)


def check_layout(buffers: list[Interval], arena_size: int, alignment: int = ALIGNMENT) -> list[str]:
    """Independent check of a layout: the problems found, empty if it is sound."""
    problems = []
    for b in buffers:
        if b.offset < 0 or b.offset % alignment:
            problems.append(f"{b.key}: offset {b.offset} is not a multiple of {alignment}")
        if b.offset + b.size > arena_size:
            problems.append(f"{b.key}: [{b.offset}, {b.offset + b.size}) exceeds the arena of {arena_size} bytes")
    for i, a in enumerate(buffers):
        for b in buffers[i + 1 :]:
            if a.overlaps_in_time(b) and a.offset < b.offset + b.size and b.offset < a.offset + a.size:
                problems.append(f"{a.key} and {b.key} are live together and overlap in the arena")
    return problems
