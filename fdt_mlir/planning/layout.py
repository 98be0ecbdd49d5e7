"""Offsets for buffers in one static arena.

Pure functions over (size, first, last) intervals, independent of MLIR, so
that the planner can be tested exhaustively and reused by the cost model.

Two buffers live at the same step share no bytes, except a pair named by an
`Overlap`. For buffers a and b live together, sep(a, b) is the least
offset(b) - offset(a) allowed with b at or above a: the overlap's aligned
gap if Overlap(a, b, gap) is given, else a's aligned size. A layout is valid
iff every such pair has offset(b) >= offset(a) + sep(a, b) or
offset(a) >= offset(b) + sep(b, a). The functions taking `overlaps` raise
ValueError for one that names no buffer or has a gap outside
[0, size of lower), and ignore those of buffers never live together.
"""

import bisect
import heapq
from collections.abc import Sequence
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


@dataclass(frozen=True)
class Overlap:
    """Buffers `lower` and `upper` (keys), live together, may share bytes if
    offset(upper) >= offset(lower) + gap, 0 <= gap < size of lower: a kernel
    may write its output (lower) over the part of its input (upper) that it
    has already read. Otherwise they must not overlap, as any other pair."""

    lower: str
    upper: str
    gap: int = 0


def align(n: int, alignment: int = ALIGNMENT) -> int:
    return (n + alignment - 1) // alignment * alignment


def _gaps(buffers: list[Interval], overlaps: Sequence[Overlap]) -> dict[tuple[str, str], int]:
    """The gap of each overlap by (lower, upper) key, the smallest if given
    twice. Raises ValueError for a key that names no buffer (or several) and
    a gap outside [0, size of lower); drops the overlaps of buffers never
    live together, which cannot collide anyway."""
    if not overlaps:
        return {}
    by_key = {b.key: b for b in buffers}
    if len(by_key) < len(buffers):
        raise ValueError("overlaps name buffers by key, but the keys are not unique")
    gaps: dict[tuple[str, str], int] = {}
    for o in overlaps:
        lower, upper = by_key.get(o.lower), by_key.get(o.upper)
        if lower is None or upper is None or lower is upper:
            raise ValueError(f"{o} does not name two buffers")
        if not 0 <= o.gap < lower.size:
            raise ValueError(f"{o}: the gap is not in [0, {lower.size})")
        if lower.overlaps_in_time(upper):
            gaps[o.lower, o.upper] = min(o.gap, gaps.get((o.lower, o.upper), o.gap))
    return gaps


def _separation(buffers: list[Interval], overlaps: Sequence[Overlap], alignment: int):
    """sep(a, b) of the module docstring, for buffers a and b live together."""
    gaps = _gaps(buffers, overlaps)

    def sep(a: Interval, b: Interval) -> int:
        return align(gaps.get((a.key, b.key), a.size), alignment)

    return sep


def _directed_shares(buffers: list[Interval], overlaps: Sequence[Overlap], alignment: int):
    """(lower, upper, bytes) for each overlap whose buffers may share bytes:
    the most that their extents, rounded up to the alignment, can have in
    common."""
    gaps = _gaps(buffers, overlaps)
    by_key = {b.key: b for b in buffers}
    found = []
    for (lower, upper), gap in gaps.items():
        below, above = align(by_key[lower].size, alignment), align(by_key[upper].size, alignment)
        shared = below + above - max(below, align(gap, alignment) + above)
        if shared > 0:
            found.append((by_key[lower], by_key[upper], shared))
    return found


def _shared(directed) -> list:
    """(a, b, bytes) for each pair that may share bytes, from the triples of
    _directed_shares (the larger of both directions). At any time the arena
    holds at least the live extents' total less that of the live pairs, as
    no other two live extents intersect."""
    shared: dict[tuple[str, str], tuple] = {}
    for lower, upper, n in directed:
        a, b = sorted((lower, upper), key=lambda x: x.key)
        if n > shared.get((a.key, b.key), (a, b, 0))[2]:
            shared[a.key, b.key] = (a, b, n)
    return list(shared.values())


def greedy_by_size(buffers: list[Interval], alignment: int = ALIGNMENT, overlaps: Sequence[Overlap] = ()) -> int:
    """TFLM's planner: largest first, each at the lowest aligned offset that
    is valid against the already placed buffers live at the same time.
    Sets `offset` on every buffer and returns the arena size."""
    sep = _separation(buffers, overlaps, alignment)
    placed: list[Interval] = []
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first, b.key)):
        # Offsets strictly between start and end collide with a placed buffer.
        busy = sorted((p.offset - sep(buf, p), p.offset + sep(p, buf)) for p in placed if p.overlaps_in_time(buf))
        offset = 0
        for start, end in busy:
            if offset <= start:
                break
            offset = max(offset, end)
        buf.offset = offset
        placed.append(buf)
    return max((b.offset + b.size for b in buffers), default=0)


@dataclass(frozen=True)
class Layout:
    size: int  # arena bytes
    method: str  # "exact", "branch-and-bound (limit reached)" or "greedy-by-size"
    lower_bound: int  # no layout of these buffers is smaller


def plan_layout(
    buffers: list[Interval],
    alignment: int = ALIGNMENT,
    node_limit: int = NODE_LIMIT,
    overlaps: Sequence[Overlap] = (),
) -> Layout:
    """Sets `offset` on every buffer: a smallest arena if the search ends
    within `node_limit` nodes, else the best layout found, never worse than
    greedy-by-size's. Raises ValueError if the search is needed and overlaps
    of gap 0 form a cycle (see _tie_order).

    Greedy's arena bounds the optimum from above and `lower_bound` from below;
    while they differ, an exact feasibility search bisects between them,
    trying the lower bound first; a capacity is not searched when no arena
    size (an aligned offset plus a buffer's size) lies between it and the
    largest infeasible one. The search is complete over compact layouts,
    where no buffer can move to a lower valid aligned offset, and some optimum
    is compact: moving buffers down never grows the arena and lowers the sum of
    offsets, so the moves stop. Index the buffers in a tie order, where a
    comes before b if they are live together and sep(a, b) = 0 < sep(b, a),
    and sort a compact layout by (offset, index). For any two buffers live
    together, the later one b is at least sep(a, b) above the earlier a: it
    is if higher, and at equal offsets sep(a, b) > 0 would need
    sep(b, a) = 0, which puts b first. So each buffer's offset is at least
    the highest offset(a) + sep(a, b) over its earlier buffers a, and not
    more: moving it down to that keeps it sep(b, c) below each later c, so
    valid. A compact layout is thus fixed by its order, and the search places
    buffers in (offset, index) order, each at the highest offset(a) + sep(a, b)
    of the placed buffers a it overlaps in time (0 if none), which visits each
    compact layout once: MiniMalloc's canonical search (Moffitt, ASPLOS 2023).
    """
    greedy = size = greedy_by_size(buffers, alignment, overlaps)
    bound = lower_bound(buffers, alignment, overlaps)
    if size == bound:
        return Layout(size, "exact", bound)
    search = _Search(buffers, alignment, node_limit, overlaps)
    infeasible, capacity = bound - 1, bound
    sizes = sorted({b.size for b in buffers})
    while size - infeasible > 1:
        if _highest_end(sizes, alignment, capacity) <= infeasible:
            infeasible = capacity  # no arena size in (infeasible, capacity]: nothing to search
            capacity = (infeasible + size) // 2
            continue
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


def _highest_end(sizes: list[int], alignment: int, capacity: int) -> int:
    """The largest arena size at most `capacity` that any layout can have
    (-1 if none): a buffer's aligned offset plus its size."""
    return max((s + (capacity - s) // alignment * alignment for s in sizes if s <= capacity), default=-1)


def _tie_order(bufs: list[Interval], sep) -> list[Interval]:
    """`bufs` reordered as little as needed for a tie order (see plan_layout):
    a before b where they are live together and sep(a, b) = 0 < sep(b, a).
    Raises ValueError on a cycle, which overlaps of kernels' outputs over
    their inputs cannot form: data flows one way."""
    after = [
        [j for j, b in enumerate(bufs) if b is not a and a.overlaps_in_time(b) and sep(a, b) == 0 < sep(b, a)]
        for a in bufs
    ]
    before = [0] * len(bufs)
    for js in after:
        for j in js:
            before[j] += 1
    ready = [i for i, n in enumerate(before) if not n]
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(bufs[i])
        for j in after[i]:
            before[j] -= 1
            if not before[j]:
                heapq.heappush(ready, j)
    if len(order) < len(bufs):
        raise ValueError(f"overlaps of gap 0 form a cycle among {[b.key for b, n in zip(bufs, before) if n]}")
    return order


class _Search:
    """Depth-first search for a compact layout within a capacity (see
    plan_layout). Buffers are indexed most constrained first: in the fullest
    section, then longest lived, then largest, then put in a tie order. A
    node is one placement, and `nodes` the budget left across searches
    (negative once spent). The search prunes a placement that leaves room
    below it for an unplaced buffer (the layout would not be compact), and a
    node where the unplaced buffers of some section, stacked above the placed
    ones, cannot fit. Where no unplaced buffer spans two sections, the parts
    of time on either side are searched one after the other (MiniMalloc's
    dynamic decomposition), and each part's outcome is remembered."""

    def __init__(self, buffers, alignment, node_limit, overlaps):
        # Sections: the times of first use, whose live sets include every maximal one.
        times = sorted({b.first for b in buffers})
        load = {t: sum(align(b.size, alignment) for b in buffers if b.first <= t <= b.last) for t in times}

        def constraint(b):
            return (-max(load[t] for t in times if b.first <= t <= b.last), b.first - b.last, -b.size, b.first, b.key)

        sep = _separation(buffers, overlaps, alignment)
        self.buffers = bufs = _tie_order(sorted(buffers, key=constraint), sep)
        self.sizes = [b.size for b in bufs]
        self.aligned = [align(b.size, alignment) for b in bufs]
        # (j, sep(i, j)) for each buffer j live with buffer i
        self.seps = [[(j, sep(b, o)) for j, o in enumerate(bufs) if o is not b and b.overlaps_in_time(o)] for b in bufs]
        self.spans = [(times.index(b.first), sum(t <= b.last for t in times)) for b in bufs]  # sections [lo, hi)
        self.live = [[i for i, b in enumerate(bufs) if b.first <= t <= b.last] for t in times]
        # In each section of a buffer, the least sep from it to another live
        # there: how far above it the next one there starts.
        self.reach = [
            [min((d for j, d in seps if bufs[j].first <= t <= bufs[j].last), default=n) for t in times[lo:hi]]
            for seps, (lo, hi), n in zip(self.seps, self.spans, self.aligned)
        ]
        # (j, lo, hi, bytes) for each pair (i, j) of `_shared`, live together in sections [lo, hi)
        self.pairs = [[] for _ in bufs]
        index = {b.key: i for i, b in enumerate(bufs)}
        directed = _directed_shares(buffers, overlaps, alignment)
        for a, b, n in _shared(directed):
            i, j = index[a.key], index[b.key]
            lo, hi = max(self.spans[i][0], self.spans[j][0]), min(self.spans[i][1], self.spans[j][1])
            self.pairs[i].append((j, lo, hi, n))
            self.pairs[j].append((i, lo, hi, n))
        # What all the buffers of a section may share: a cap on what its unplaced ones may.
        self.share_cap = [_shared_once([bufs[i] for i in live], directed) for live in self.live]
        self.nodes = node_limit

    def fits(self, capacity: int):
        """Offsets (in the order of `buffers`) of a layout within `capacity`
        bytes, or None if there is none or the budget ran out."""
        n, sections = len(self.sizes), len(self.live)
        self.capacity = capacity
        self.solved = {}
        self.offsets = [0] * n
        self.placed = [False] * n
        self.lowest = [0] * n  # an unplaced buffer's offset: sep above its placed overlaps
        self.floor = [0] * sections  # offset + reach of the highest placed buffer live there
        self.unplaced_bytes = [0] * sections  # aligned sizes of the unplaced buffers live there
        self.shared_bytes = [0] * sections  # what pairs of those may share
        self.cuts = [0] * sections  # unplaced buffers live in sections s and s + 1
        for i, (lo, hi) in enumerate(self.spans):
            for s in range(lo, hi):
                self.unplaced_bytes[s] += self.aligned[i]
            for s in range(lo, hi - 1):
                self.cuts[s] += 1
            for j, lo, hi, shared in self.pairs[i]:
                if i < j:
                    for s in range(lo, hi):
                        self.shared_bytes[s] += shared
        cuts = [s for s in range(sections - 1) if not self.cuts[s]]
        return list(self.offsets) if self._parts(range(n), 0, sections, cuts, 0, -1) else None

    def _parts(self, buffers, lo, hi, cuts, level, last) -> bool:
        """Searches the parts of sections [lo, hi) split after each section
        in `cuts` (which no unplaced buffer spans), one after the other;
        `buffers` includes their unplaced buffers."""
        starts = [lo] + [s + 1 for s in cuts]
        parts = [[] for _ in starts]
        for i in buffers:
            if not self.placed[i]:
                parts[bisect.bisect_right(starts, self.spans[i][0]) - 1].append(i)
        for part, start, end in zip(parts, starts, starts[1:] + [hi]):
            if part and not self._solve(part, start, end, level, last):
                return False
        return True

    def _solve(self, part, lo, hi, level, last) -> bool:
        """_search, remembering its outcome for this capacity: it depends only
        on the part, its lowest offsets and floors and (level, last), and a
        part is searched again whenever a part after it fails."""
        key = (tuple(part), level, last, tuple(self.lowest[i] for i in part), tuple(self.floor[lo:hi]))
        if key in self.solved:
            offsets = self.solved[key]
            for i, offset in zip(part, offsets or ()):
                self.offsets[i] = offset
            return offsets is not None
        fits = self._search(part, lo, hi, level, last)
        if self.nodes >= 0:
            self.solved[key] = [self.offsets[i] for i in part] if fits else None
        return fits

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
            undo, cuts = self._place(i, offset)
            fits = self._stackable(lo, hi, offset) and (
                self._parts(part, lo, hi, cuts, offset, i) if cuts else self._search(part, lo, hi, offset, i)
            )
            self._unplace(i, undo)
            if fits or self.nodes < 0:
                return fits
        return False

    def _place(self, i, offset):
        """Places buffer i, the highest yet in each of its sections; returns
        what _unplace restores and the sections after which the search
        space splits."""
        self.placed[i], self.offsets[i] = True, offset
        lo, hi = self.spans[i]
        lowest = [
            (j, self.lowest[j], offset + d)
            for j, d in self.seps[i]
            if not self.placed[j] and self.lowest[j] < offset + d
        ]
        for j, _, raised in lowest:
            self.lowest[j] = raised
        floor = self.floor[lo:hi]
        self.floor[lo:hi] = [offset + d for d in self.reach[i]]
        for s in range(lo, hi):
            self.unplaced_bytes[s] -= self.aligned[i]
        self._share(i, -1)
        for s in range(lo, hi - 1):
            self.cuts[s] -= 1
        return (lowest, floor), [s for s in range(lo, hi - 1) if not self.cuts[s]]

    def _unplace(self, i, undo):
        lowest, floor = undo
        for j, before, _ in lowest:
            self.lowest[j] = before
        lo, hi = self.spans[i]
        self.floor[lo:hi] = floor
        for s in range(lo, hi):
            self.unplaced_bytes[s] += self.aligned[i]
        self._share(i, 1)
        for s in range(lo, hi - 1):
            self.cuts[s] += 1
        self.placed[i] = False

    def _share(self, i, sign):
        """Adds (sign 1) or drops (-1) what buffer i may share with the unplaced buffers."""
        for j, lo, hi, shared in self.pairs[i]:
            if not self.placed[j]:
                for s in range(lo, hi):
                    self.shared_bytes[s] += sign * shared

    def _stackable(self, lo, hi, level) -> bool:
        """Whether each section's unplaced buffers, stacked at aligned offsets
        above its floor and `level` (less what they may share), can end within
        the capacity."""
        floor, unplaced, shared, capacity = self.floor, self.unplaced_bytes, self.shared_bytes, self.capacity
        for s in range(lo, hi):
            rest = unplaced[s]
            excess = max(level, floor[s]) + rest - min(shared[s], self.share_cap[s]) - capacity
            if rest and excess > 0:
                # The topmost buffer may end short of its aligned size.
                slack = max(self.aligned[i] - self.sizes[i] for i in self.live[s] if not self.placed[i])
                if excess > slack:
                    return False
        return True


def lower_bound(buffers: list[Interval], alignment: int = ALIGNMENT, overlaps: Sequence[Overlap] = ()) -> int:
    """No layout is smaller: at each time the live buffers span at least
    `_spanned` and `_spanned_once` bytes, at aligned offsets or not (without
    overlaps, the latter is never more)."""
    directed = {n: _directed_shares(buffers, overlaps, n) for n in (alignment, 1)}
    shared, unaligned = _shared(directed[alignment]), _shared(directed[1])
    best = 0
    for t in sorted({b.first for b in buffers}):
        live = [b for b in buffers if b.first <= t <= b.last]
        best = max(best, _spanned(live, shared, alignment), _spanned(live, unaligned, 1) if unaligned else 0)
        if shared:
            best = max(best, *(_spanned_once(live, pairs, n) for n, pairs in directed.items()))
    return best


def peak_live_bytes(buffers: list[Interval], overlaps: Sequence[Overlap] = ()) -> int:
    """The lower bound of any layout: the most bytes live at one time, less
    what pairs of them may share."""
    directed = _directed_shares(buffers, overlaps, 1)
    shared = _shared(directed)
    live_sets = [[b for b in buffers if b.first <= t <= b.last] for t in sorted({b.first for b in buffers})]
    if not shared:  # kept cheap: the cost model calls it often
        return max((sum(b.size for b in live) for live in live_sets), default=0)
    return max(max(_spanned(live, shared, 1), _spanned_once(live, directed, 1)) for live in live_sets)


def _spanned(live: list[Interval], shared, alignment: int) -> int:
    """The fewest bytes that buffers live at one time span: stacked at
    aligned offsets, each but the topmost takes its aligned size, less what
    pairs of them may share (`shared` for that alignment). This holds for
    any subset of them, so buffers that may share more than they hold are
    left out, one at a time."""
    sizes = [align(b.size, alignment) for b in live]
    index = {id(b): i for i, b in enumerate(live)} if shared else {}
    pairs = [(index[id(a)], index[id(b)], n) for a, b, n in shared if id(a) in index and id(b) in index]
    kept = range(len(live))
    while pairs:
        gains = [0] * len(live)
        for i, j, n in pairs:
            gains[i] += n
            gains[j] += n
        drop = max(kept, key=lambda i: (gains[i] - sizes[i], live[i].key))
        if gains[drop] <= sizes[drop]:
            break
        kept = [i for i in kept if i != drop]
        pairs = [(i, j, n) for i, j, n in pairs if drop not in (i, j)]
    slack = max(sizes[i] - live[i].size for i in kept)
    return sum(sizes[i] for i in kept) - sum(n for _, _, n in pairs) - slack


def _spanned_once(live: list[Interval], directed, alignment: int) -> int:
    """As `_spanned`, with the shared bytes counted by `_shared_once`
    (`directed`: the triples of _directed_shares for that alignment)."""
    sizes = [align(b.size, alignment) for b in live]
    return sum(sizes) - _shared_once(live, directed) - max(s - b.size for s, b in zip(sizes, live))


def _shared_once(live: list[Interval], directed) -> int:
    """The most bytes that the extents of `live` share, counting an upper
    buffer u that several lower ones may overlap more tightly than the sum
    over pairs. Those that do all hold u's first byte (each starts at or
    below it and ends above it), so each two of them are a pair too: any
    other two extents are disjoint. Together they share at most a clique's
    bytes with u, and a clique is within one of its members and that
    member's pair neighbours. A subset of `live` shares no more."""
    index = {id(b): i for i, b in enumerate(live)}
    pairs = [(index[id(a)], index[id(b)], n) for a, b, n in directed if id(a) in index and id(b) in index]
    linked = {(i, j) for i, j, _ in pairs} | {(j, i) for i, j, _ in pairs}
    lowers: dict[int, list[tuple[int, int]]] = {}
    for i, j, n in pairs:
        lowers.setdefault(j, []).append((i, n))
    return sum(max(n + sum(m for k, m in below if (i, k) in linked) for i, n in below) for below in lowers.values())


def check_layout(
    buffers: list[Interval], arena_size: int, alignment: int = ALIGNMENT, overlaps: Sequence[Overlap] = ()
) -> list[str]:
    """Independent check of a layout: the problems found, empty if it is
    sound. Buffers live together share bytes only as an overlap allows."""
    gaps = _gaps(buffers, overlaps)
    problems = []
    for b in buffers:
        if b.offset < 0 or b.offset % alignment:
            problems.append(f"{b.key}: offset {b.offset} is not a multiple of {alignment}")
        if b.offset + b.size > arena_size:
            problems.append(f"{b.key}: [{b.offset}, {b.offset + b.size}) exceeds the arena of {arena_size} bytes")
    for i, a in enumerate(buffers):
        for b in buffers[i + 1 :]:
            if a.overlaps_in_time(b) and a.offset < b.offset + b.size and b.offset < a.offset + a.size:
                allowed = [
                    (lower, upper, gaps[lower.key, upper.key])
                    for lower, upper in ((a, b), (b, a))
                    if (lower.key, upper.key) in gaps
                ]
                if any(upper.offset - lower.offset >= gap for lower, upper, gap in allowed):
                    continue
                problems.append(
                    f"{a.key} and {b.key} are live together and overlap in the arena"
                    + "".join(
                        f"; {upper.key} starts {upper.offset - lower.offset} B above {lower.key}, less than {gap}"
                        for lower, upper, gap in allowed
                    )
                )
    return problems
