"""Offsets for buffers in one static arena.

Pure functions over (size, first, last) intervals, independent of MLIR, so
that the planner can be tested exhaustively and reused by the cost model.
"""

from dataclasses import dataclass

ALIGNMENT = 16


@dataclass
class Interval:
    key: str
    size: int
    first: int
    last: int  # inclusive: live during top-level ops first..last
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


def peak_live_bytes(buffers: list[Interval]) -> int:
    """The lower bound of any layout: the most bytes live at one time."""
    points = sorted({b.first for b in buffers})
    return max((sum(b.size for b in buffers if b.first <= t <= b.last) for t in points), default=0)


def check_layout(buffers: list[Interval], arena_size: int, alignment: int = ALIGNMENT) -> list[str]:
    """Independent check of a plan: the problems found, empty if it is sound."""
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
