"""Liveness of the buffers of a bufferized function, and the buffers it
needs: what fdt-plan-memory places and the cost model composes.

Each top-level op of the function is one step of the schedule, and each op
in the body of a tile loop one more (see Liveness).
"""

from mlir import ir

from ..errors import FdtError
from ..planning.layout import Interval
from .kernels import location_name
from .sizes import byte_size, element_count

VIEW_OPS = {"memref.subview", "memref.collapse_shape", "memref.expand_shape", "memref.cast", "memref.reinterpret_cast"}


class Liveness:
    """Steps at which each buffer root is used. A step is a top-level op of
    the function other than an allocation, except that a tile loop (an
    scf.for whose body runs several kernels: a fused path) is one step per
    op of its body, recursively for the nested loops of a grid. A buffer
    touched only inside a tile loop is private to an iteration: every
    iteration writes its tile before reading it, so it lives only from the
    first to the last op of the body that touches it, and two such buffers
    of one path can share memory. A buffer also touched outside the loop
    lives across the whole loop."""

    def __init__(self, block):
        self.alias: dict = {}
        self.steps: dict = {}
        self.top: dict = {}  # top-level steps, as above but loops count as one
        self.first_user: dict = {}  # the innermost op that touches it first
        self.allocs = []
        self.top_ops = []
        self.top_steps = []  # the (first) step of each top-level op
        self.loops = []  # (first, last) step of each tile loop
        self.count = 0  # steps numbered so far
        self.arguments = list(block.arguments)  # written by the caller, before step 0
        for op in block.operations:
            op = op.operation
            if op.name == "memref.alloc":
                self.allocs.append(op)
            else:
                self.top_steps.append(self.count)
                self._number(op, len(self.top_ops))
                self.top_ops.append(op)
        self._extend_across_loops()

    def root(self, value):
        return self.alias.get(value, value)

    def _number(self, op, top):
        if not _is_tile_loop(op):
            self._visit(op, self.count, top)
            self.count += 1
            return
        start = self.count
        for inner in op.regions[0].blocks[0].operations:
            inner = inner.operation
            if inner.name != "scf.yield":
                self._number(inner, top)
        self.loops.append((start, self.count - 1))  # inner loops come first

    def _extend_across_loops(self):
        """A buffer touched both inside a tile loop and outside it (before,
        after, or elsewhere in an enclosing loop's body) holds data from one
        iteration to the next: it lives across the whole loop."""
        for start, end in self.loops:
            for root, (lo, hi) in self.steps.items():
                inside = lo <= end and hi >= start
                written_before = root in self.arguments
                if inside and (written_before or lo < start or hi > end):
                    self.steps[root] = (min(lo, start), max(hi, end))

    def _visit(self, op, step, top):
        if op.name in ("memref.alloc", "memref.alloca"):
            raise FdtError("internal error: a buffer is allocated inside a loop (buffer-loop-hoisting did not run?)")
        for operand in op.operands:
            if isinstance(operand.type, ir.MemRefType):
                root = self.root(operand)
                self.first_user.setdefault(root, op)
                lo, hi = self.steps.get(root, (step, step))
                self.steps[root] = (min(lo, step), max(hi, step))
                lo, hi = self.top.get(root, (top, top))
                self.top[root] = (min(lo, top), max(hi, top))
        if op.name in VIEW_OPS:
            self.alias[op.results[0]] = self.root(op.operands[0])
        for region in op.regions:
            for block in region.blocks:
                for inner in block.operations:
                    self._visit(inner.operation, step, top)


def _is_tile_loop(op) -> bool:
    """A loop that runs several kernels (loop nests) per iteration, or a
    loop around such a loop: what fdt-apply-plan's paths lower to. A
    kernel's own loop nest has one nest inside each loop."""
    if op.name != "scf.for":
        return False
    nests = [inner.operation for inner in op.regions[0].blocks[0].operations if len(inner.operation.regions)]
    return len(nests) > 1 or (len(nests) == 1 and _is_tile_loop(nests[0]))


def collect_buffers(block):
    """The buffers of a bufferized function body: (buffers, registers,
    outputs, liveness), with buffers as (Interval, value, kind) and outputs
    the buffer root of each returned value."""
    ret = block.operations[len(block.operations) - 1]
    live = Liveness(block)
    end = live.count - 1
    buffers = []
    for i, arg in enumerate(block.arguments):
        _, last = live.steps.get(arg, (0, 0))
        buffers.append((Interval(f"input{i}", byte_size(arg.type), 0, last), arg, "input"))
    outputs = [live.root(v) for v in ret.operands]
    allocated = {alloc.results[0] for alloc in live.allocs}
    for k, value in enumerate(outputs):
        if value in allocated and outputs.index(value) == k:
            first, _ = live.steps.get(value, (end, end))
            buffers.append((Interval(f"output{k}", byte_size(value.type), first, end), value, "output"))
    registers = []
    for alloc in live.allocs:
        value = alloc.results[0]
        if value in outputs:
            continue
        first, last = live.steps.get(value, (0, 0))
        top_first, top_last = live.top.get(value, (0, 0))
        if element_count(value.type) == 1 and one_kernel(live.top_ops[top_first : top_last + 1]):
            registers.append(alloc)
        else:
            n = len(buffers) - len(block.arguments) - len(outputs)
            buffers.append((Interval(f"buf{n}", byte_size(value.type), first, last), value, "intermediate"))
    return buffers, registers, outputs, live


def one_kernel(ops) -> bool:
    """True for one step, or steps of one kernel: a scalar it keeps between
    its loops (a one-row softmax's max and sum) is a C local, in a register
    or on the stack, as TFLM's kernels keep theirs."""
    names = {location_name(op) for op in ops}
    return len(ops) == 1 or (len(names) == 1 and None not in names)
