"""The execution order of a model's kernels that needs the least memory.

On branches (residual blocks, concatenations) the order decides how long
each output waits for its readers, so it sets the peak of live bytes that
the arena must hold. Pure Python over a small graph, independent of MLIR,
so that it can be tested exhaustively and so that the cost model predicts
exactly the order that fdt-schedule picks.

Every order is a walk through the down-sets of the graph (the sets of nodes
run so far, closed under predecessors), and the bytes live while a node runs
depend only on the down-set before it. The exact method therefore finds the
best peak with dynamic programming over the down-sets, which are few for
chains and residual blocks; it gives up above a fixed number of them, for a
greedy order. Either is returned only if strictly better than the import
order, so that an already good model keeps its IR.
"""

from dataclasses import dataclass

# Down-sets explored before the exact method gives up: a count, never a
# time, so that the result does not depend on the machine.
STATE_LIMIT = 10_000


@dataclass(frozen=True)
class Node:
    bytes: int  # of its output tensor
    reads: tuple[int, ...]  # the nodes whose outputs it reads
    output: bool  # a model output, live until the end


@dataclass(frozen=True)
class Input:
    """A model input: live from the start until its last reader ran."""

    bytes: int
    readers: tuple[int, ...]


@dataclass(frozen=True)
class Schedule:
    order: list[int]
    peak: int
    method: str  # "exact" or "heuristic"


def peak_of(order: list[int], nodes: list[Node], inputs: list[Input]) -> int:
    """The most bytes live while one node of `order` runs."""
    at = {v: t for t, v in enumerate(order)}
    end = [len(order) if node.output else at[v] for v, node in enumerate(nodes)]
    for v, node in enumerate(nodes):
        for r in node.reads:
            end[r] = max(end[r], at[v])
    spans = [(at[v], end[v], node.bytes) for v, node in enumerate(nodes)]
    spans += [(0, max(at[r] for r in i.readers), i.bytes) for i in inputs if i.readers]
    return max((sum(b for first, last, b in spans if first <= t <= last) for t in range(len(order))), default=0)


def best_order(nodes: list[Node], inputs: list[Input], state_limit: int = STATE_LIMIT) -> Schedule:
    """The order of `nodes` (given in a topological order) with the lowest
    peak; among equal peaks, the lexicographically smallest, which is the
    import order whenever that one is optimal."""
    graph = _Graph(nodes, inputs)
    order, method = graph.exact(state_limit), "exact"
    if order is None:
        order, method = graph.greedy(), "heuristic"
    identity = list(range(len(nodes)))
    peak, imported = peak_of(order, nodes, inputs), peak_of(identity, nodes, inputs)
    return Schedule(order, peak, method) if peak < imported else Schedule(identity, imported, method)


class _Graph:
    """The nodes as bit masks: a down-set is an int, bit v set if v ran."""

    def __init__(self, nodes, inputs):
        self.size = [node.bytes for node in nodes]
        self.preds = [_mask(node.reads) for node in nodes]
        self.readers = [0] * len(nodes)
        for v, node in enumerate(nodes):
            for r in node.reads:
                self.readers[r] |= 1 << v
        self.kept = [node.output for node in nodes]
        self.inputs = [(i.bytes, _mask(i.readers)) for i in inputs]
        self.full = (1 << len(nodes)) - 1

    def ready(self, done: int) -> list[int]:
        return [v for v in range(len(self.size)) if not done >> v & 1 and not self.preds[v] & ~done]

    def carried(self, done: int) -> int:
        """Bytes live between two nodes once `done` ran: the outputs and
        inputs that a node still to run reads, and the model outputs."""
        total = sum(b for b, readers in self.inputs if readers & ~done)
        for v, size in enumerate(self.size):
            if done >> v & 1 and (self.kept[v] or self.readers[v] & ~done):
                total += size
        return total

    def exact(self, state_limit: int) -> list[int] | None:
        layers, count = [[0]], 1
        for _ in self.size:
            following = {}
            for done in layers[-1]:
                for v in self.ready(done):
                    following[done | 1 << v] = None
            count += len(following)
            if count > state_limit:
                return None
            layers.append(list(following))
        # rest[done]: the best peak of the nodes still to run after `done`.
        rest = {self.full: 0}
        for layer in reversed(layers[:-1]):
            for done in layer:
                base = self.carried(done)
                rest[done] = min(max(base + self.size[v], rest[done | 1 << v]) for v in self.ready(done))
        # The first node that keeps the best peak, at every step.
        done, order = 0, []
        while done != self.full:
            base = self.carried(done)
            v = next(v for v in self.ready(done) if max(base + self.size[v], rest[done | 1 << v]) <= rest[0])
            order.append(v)
            done |= 1 << v
        return order

    def greedy(self) -> list[int]:
        """Runs first the ready node that adds the fewest bytes to what
        stays live, then the one with the lowest bytes while it runs."""
        done, order = 0, []
        while done != self.full:
            base = self.carried(done)
            v = min(self.ready(done), key=lambda v: (self.carried(done | 1 << v) - base, base + self.size[v], v))
            order.append(v)
            done |= 1 << v
        return order


def _mask(indices) -> int:
    mask = 0
    for i in indices:
        mask |= 1 << i
    return mask
