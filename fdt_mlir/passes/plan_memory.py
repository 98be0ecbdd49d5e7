"""fdt-plan-memory: place every buffer of the model in one static arena.

Runs on bufferized IR lowered to loops, where each top-level op of the
function is one step of the schedule, and each op in the body of a tile
loop one more (see Liveness). The model's inputs and outputs become
arena buffers like every other (as in TFLM), each buffer's live range is the
span of steps that touch it, offsets come from the layout planner, and the
plan is checked independently before every allocation is rewritten into
`fdt.buffer` ops under one `fdt.arena`. Single-element buffers used within
one step are kernel-local scalars (accumulators): they become `memref.alloca`
so that the C compiler keeps them in registers, as TFLM's kernels do.
"""

from mlir import ir
from mlir.dialects import func, memref

from ..ctypes_map import ELEMENT_TYPE_ATTR
from ..errors import FdtError
from ..planning.layout import ALIGNMENT, Interval, check_layout, plan_layout
from . import register

VIEW_OPS = {"memref.subview", "memref.collapse_shape", "memref.expand_shape", "memref.cast", "memref.reinterpret_cast"}


def byte_size(shaped_type) -> int:
    """Bytes of a statically shaped tensor or memref."""
    t = ir.ShapedType(shaped_type)
    if not t.has_static_shape:
        raise FdtError(f"buffer of type {t} has a dynamic shape")
    width = t.element_type.width if hasattr(t.element_type, "width") else ir.FloatType(t.element_type).width
    count = 1
    for d in t.shape:
        count *= d
    return count * max(1, (width + 7) // 8)


def element_count(memref_type) -> int:
    count = 1
    for d in ir.MemRefType(memref_type).shape:
        count *= d
    return count


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
        self.loops = []  # (first, last) step of each tile loop
        self.count = 0  # steps numbered so far
        self.arguments = list(block.arguments)  # written by the caller, before step 0
        for op in block.operations:
            op = op.operation
            if op.name == "memref.alloc":
                self.allocs.append(op)
            else:
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


def _i64(v):
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), v)


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
        if element_count(value.type) == 1 and top_first == top_last:
            registers.append(alloc)
        else:
            n = len(buffers) - len(block.arguments) - len(outputs)
            buffers.append((Interval(f"buf{n}", byte_size(value.type), first, last), value, "intermediate"))
    return buffers, registers, outputs, live


def plan_function(fn: func.FuncOp):
    """Rewrites `fn` (memref arguments and results) into an argument-free
    function over one arena; returns the planned Intervals and the arena."""
    block = fn.body.blocks[0]
    ret = block.operations[len(block.operations) - 1]
    buffers, registers, outputs, live = collect_buffers(block)
    own = [value for _, value, kind in buffers if kind == "output"]
    if own != outputs:
        k = next(k for k, value in enumerate(outputs) if k >= len(own) or own[k] != value)
        raise FdtError(f"model output {k} is not a buffer of its own (an input, a constant or another output)")
    intervals = [b for b, _, _ in buffers]
    layout = plan_layout(intervals)
    problems = check_layout(intervals, layout.size)
    if problems:
        raise FdtError(f"internal error: memory plan is unsound: {problems[0]}")
    _rewrite(fn, block, ret, buffers, registers, layout, _io_element_types(fn), live.first_user)
    return intervals, layout.size


def _io_element_types(fn) -> dict:
    """{"input0": TypeAttr, ...} for the I/O the importer typed for C."""
    found = {}
    for kind, key in (("input", "arg_attrs"), ("output", "res_attrs")):
        if key in fn.attributes:
            for k, attrs in enumerate(ir.ArrayAttr(fn.attributes[key])):
                attrs = ir.DictAttr(attrs)
                if ELEMENT_TYPE_ATTR in attrs:
                    found[f"{kind}{k}"] = attrs[ELEMENT_TYPE_ATTR]
    return found


def _rewrite(fn, block, ret, buffers, registers, layout, element_types, first_user):
    with ir.InsertionPoint.at_block_begin(block), fn.location:
        attributes = {
            "size": _i64(layout.size),
            "alignment": _i64(ALIGNMENT),
            "method": ir.StringAttr.get(layout.method),
            "lower_bound": _i64(layout.lower_bound),
        }
        ir.Operation.create("fdt.arena", attributes=attributes)
        for interval, value, kind in buffers:
            buf = ir.Operation.create(
                "fdt.buffer",
                results=[value.type],
                attributes={
                    "offset": _i64(interval.offset),
                    "first": _i64(interval.first),
                    "last": _i64(interval.last),
                    "name": ir.StringAttr.get(interval.key),
                },
            )
            if kind != "input" and value in first_user:
                # The op that first writes the buffer: its kernel names it.
                buf.location = first_user[value].location
            if interval.key in element_types:
                buf.attributes[ELEMENT_TYPE_ATTR] = element_types[interval.key]
            value.replace_all_uses_with(buf.result)
            if kind != "input":
                value.owner.erase()
        for alloc in registers:
            scalar = memref.AllocaOp(alloc.results[0].type, [], [])
            alloc.results[0].replace_all_uses_with(scalar.result)
            alloc.erase()
    with ir.InsertionPoint(ret), ret.location:
        func.ReturnOp([])
    ret.erase()
    while len(block.arguments):
        block.erase_argument(0)
    fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get([], []))
    for key in ("arg_attrs", "res_attrs"):
        if key in fn.attributes:
            del fn.attributes[key]


@register("fdt-plan-memory", "Plan all buffers (inputs and outputs included) into one static arena of fdt.buffer ops")
def plan_memory(module_op: ir.Operation):
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and op.regions[0].blocks and not _is_private(op):
            plan_function(op.opview)


def _is_private(op) -> bool:
    return "sym_visibility" in op.attributes and ir.StringAttr(op.attributes["sym_visibility"]).value == "private"
