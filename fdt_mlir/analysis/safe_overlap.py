"""How far a step's output may overlap an input that the step consumes.

A kernel that has read part of its input no longer needs that part, so its
output may be written over it. For one step of the schedule (a top-level op
of the bufferized function: a kernel's loop nest, or a tile loop running
several kernels), an input buffer it reads for the last time and an output
buffer it writes first, `safe_shift` gives the largest D (bytes) such that
placing the output at offset(input) + d, for any d <= D, never overwrites a
byte of the input before the step's last read of it. It is derived from the
loop nest's actual accesses, not from a table of operator types.

Derivation. Every access of the step gets a time in program order (the
loads of one iteration come before the store that follows them). R(p) is
the time of the last load of input byte p (-1 if never read), W(o) that of
the first store to output byte o (an element access covers every byte of
its element; input and output elements may differ in size). With the
output at d, its byte o is input byte p = o + d, and the placement is
unsafe iff some o with 0 <= o + d < size_in has R(o + d) > W(o). Let
M(p) = max_{q <= p} R(q) (nondecreasing) and P(o) = min{p : M(p) > W(o)}.
For d <= P(o) - o - 1, M(o + d) <= W(o), so byte o is safe; at
d = P(o) - o, R(P(o)) = M(P(o)) > W(o) (M only grows where R reaches it),
so it is not. Hence D = min_o (P(o) - o) - 1 over the bytes o with a P(o).
D >= -size_out always (P(o) >= 0 and o < size_out): the output just below
the input. D = size_in means no byte constrains the placement.

Method. The loop nest is executed on index values only, vectorized with
numpy: each value is an array over the rows of the current iteration set;
entering an scf.for expands every row into its iterations (in time
order), an scf.if splits the rows by its condition. Within one access
op rows come in time order; across ops, times are lexicographic keys (op
position, induction variable, op position, ...; the branch of an scf.if
counts as a position). Each access op keeps only the key of the last load
(first store) of each element, and those keys become integers in the same
order at the end. Iterations are expanded in chunks of at most CHUNK rows
per loop level (time order kept), which bounds memory. Only what the
recorded accesses depend on is executed (their indices, and the bounds and
conditions around them); and an op of a loop body whose tracked accesses
are all loads (stores) and do not vary with the loop runs in its last
(first) iteration only, which holds every last load (first store) the
others would record (`_dominant`: a conv's input loads once per pixel, not
once per output channel).

Conservative cases (never claim an unsafe overlap): an index that depends
on loaded data (a gather), on an op not modelled here or on values out of
the buffer, or an access through a view, touches the whole buffer (a load:
every byte read then; a store: every byte written then). An scf.if whose
condition is unknown runs both branches on every row. An op not executed
here (a call, a copy, a loop with unknown bounds) writes all of the output
it uses before, and reads all of the input it loads after, everything else
at its position. The real accesses are then among those analysed, in the
same order, so every real overwrite is seen. Any op that may write the
input (a store to it, a call on it, a loop carrying it) allows no overlap:
D = -size_out.

Above the input. The output may also start above the input: every
d >= U is safe, U found as D is on both buffers mirrored (byte p of the
input as size_in - 1 - p, byte o of the output as size_out - 1 - o), where
offset d becomes size_in - size_out - d. A kernel run in its usual order
reads its input from the start, so U is mostly size_in (no overlap); run
last iteration first (its `fdt.reversible` loops backwards), it writes its
output from the end, which then may trail the input upwards as it trails
it downwards in its usual order. The trace of such a step can run those
loops backwards itself (`backward`), so that fdt-plan-memory chooses each
kernel's direction before rewriting any loop.
"""

from dataclasses import dataclass

import numpy as np
from mlir import ir

from ..dialect.ops import REVERSIBLE_ATTR
from ..ir_utils import constant_value
from .liveness import VIEW_OPS, collect_buffers, one_kernel
from .sizes import byte_size, element_count

CHUNK = 1 << 16  # rows of one loop level evaluated at once
# Keys of a loop body's environment beside its values: the loop's induction
# variable, and per row whether it is the loop's first or last iteration.
_LOOP, _FIRST, _LAST = "loop", "first", "last"
NEVER = np.iinfo(np.int64).max  # the first store to a byte never written


@dataclass(frozen=True)
class Shifts:
    """The safe placements of an output over an input it consumes, as
    offset(output) - offset(input) = d: every d <= down and every d >= up."""

    down: int  # D, in [-size_out, size_in]
    up: int  # U, in [-size_out, size_in]


@dataclass(frozen=True)
class Gap:
    """Buffer `output` may share bytes with buffer `input` that it consumes,
    starting `gap` bytes below it, or above it if `above`
    (planning.layout.Overlap), while step `step` runs forwards (`backward`
    False) or backwards, or either way (`step` None)."""

    input: ir.Value
    output: ir.Value
    gap: int
    above: bool = False
    step: int | None = None
    backward: bool = False

    @property
    def lower(self) -> ir.Value:
        return self.input if self.above else self.output

    @property
    def upper(self) -> ir.Value:
        return self.output if self.above else self.input


def safe_shift(ops, input_root, output_root, backward=False) -> Shifts:
    """The safe shifts of the output over the input while `ops` run (a
    top-level op, or a list of consecutive ones; see the module docstring),
    with their `fdt.reversible` loops backwards if `backward`."""
    ops = ops if isinstance(ops, list) else [ops]
    return _Trace(ops, {input_root}, {output_root}, backward).shift(input_root, output_root)


def safe_overlaps(block, backward=False) -> dict:
    """{(input root, output root): Shifts} for the buffers that
    fdt-plan-memory places (collect_buffers) where the output's first use
    and the input's last use are one top-level step, or steps of one kernel
    in that order (a pool fills its output, then accumulates into it), over
    those steps; `backward`: with their reversible loops run backwards, and
    only for spans of one reversible step that shares no span with another.
    A model output lives to the end: it is no input here."""
    return {(i, o): shifts for i, o, shifts, _, _ in _analysed(block, (backward,))}


def _analysed(block, directions):
    """(input, output, Shifts, the step of the span's reversible op or None,
    backward) for the pairs of safe_overlaps, in each of `directions`."""
    buffers, _, _, live = collect_buffers(block)
    spans = {}  # (first step of the output, last step of the input) -> pairs
    for _, o, kind in buffers:
        if kind == "input" or o not in live.top:
            continue
        first = live.top[o][0]
        for _, i, input_kind in buffers:
            last = live.top.get(i, (0, -1))[1]
            if input_kind != "output" and i != o and last >= first and one_kernel(live.top_ops[first : last + 1]):
                spans.setdefault((first, last), []).append((i, o))
    # A step that shares a span with another reversible one runs forwards.
    marked = {(first, last): _marked(live.top_ops[first : last + 1]) for first, last in spans}
    fixed = {op for ops in marked.values() if len(ops) > 1 for op in ops}
    for backward in directions:
        for (first, last), pairs in sorted(spans.items()):
            ops = live.top_ops[first : last + 1]
            op = marked[first, last][0] if len(marked[first, last]) == 1 else None
            op = None if op in fixed else op
            if backward and op is None:
                continue
            step = None if op is None else live.top_steps[first + ops.index(op)]
            trace = _Trace(ops, {i for i, _ in pairs}, {o for _, o in pairs}, backward)
            for i, o in pairs:
                yield i, o, trace.shift(i, o), step, backward


def _marked(ops) -> list:
    """The ops of `ops` that are kernels' loop nests whose outer loop is
    `fdt.reversible`: fdt-plan-memory may run them backwards."""
    return [op.operation for op in ops if REVERSIBLE_ATTR in op.operation.attributes]


def may_share(a, b) -> bool:
    """Whether buffers of element types `a` and `b` (MLIR types) may share
    bytes: equal types, or either one byte wide (int8, uint8, i1). The C
    kernel gets each buffer as a typed array parameter, and C's strict
    aliasing rules let a compiler assume that a float and an int32 access
    never touch the same bytes: it may move a float store to the output
    before an int32 load of the input it overwrites. Only character types
    (and the same type) may alias anything."""
    return a == b or _element_bytes(a) == 1 or _element_bytes(b) == 1


def _element_bytes(t) -> int:
    width = t.width if hasattr(t, "width") else ir.FloatType(t).width
    return max(1, (width + 7) // 8)


def overlap_gaps(block) -> list[Gap]:
    """The Gaps that fdt-plan-memory and the cost model both give the
    planner: for each pair of safe_overlaps whose element types may share
    bytes in C (may_share), the output below the input (a gap of
    max(0, -D)) and above it (max(0, U)), where that leaves them at least
    one byte to share; for a span of one reversible step, with its loops
    run forwards and backwards, each way tied to that step."""
    found = []
    for source, target, shifts, step, backward in _analysed(block, (False, True)):
        element = (ir.MemRefType(v.type).element_type for v in (target, source))
        if not may_share(*element):
            continue
        for above, gap in ((False, -shifts.down), (True, shifts.up)):
            gap = max(0, gap)
            if gap < byte_size((source if above else target).type):
                found.append(Gap(source, target, gap, above, step, backward))
    return found


def shift_bound(last_read: np.ndarray, first_write: np.ndarray) -> int:
    """D from the time of the last load of each input byte (-1: never) and
    of the first store to each output byte (NEVER: none)."""
    reached = np.maximum.accumulate(last_read)
    written = np.nonzero(first_write != NEVER)[0]
    first_over = np.searchsorted(reached, first_write[written], side="right")
    bound = first_over < len(last_read)
    if not bound.any():
        return len(last_read)
    return int((first_over[bound] - written[bound]).min()) - 1


def rise_bound(last_read: np.ndarray, first_write: np.ndarray) -> int:
    """U from the same times: shift_bound on both buffers mirrored."""
    return len(last_read) - len(first_write) - shift_bound(last_read[::-1], first_write[::-1])


def _free_values(op, table: dict) -> set:
    """The values `op` and the ops nested in it use but do not define;
    recorded in `table` for every op with regions, in one walk."""
    used, inside = set(op.operands), set()
    for region in op.regions:
        for block in region.blocks:
            inside.update(block.arguments)
            for inner in block.operations:
                inner = inner.operation
                inside.update(inner.results)
                used |= _free_values(inner, table) if inner.regions else set(inner.operands)
    free = used - inside
    if op.regions:
        table[op] = free
    return free


def _root(value):
    """The buffer a memref value views."""
    while isinstance(value.owner, ir.OpView) and value.owner.operation.name in VIEW_OPS:
        value = value.owner.operation.operands[0]
    return value


def _is_bool(value) -> bool:
    return isinstance(value.type, ir.IntegerType) and ir.IntegerType(value.type).width == 1


def _is_index(value) -> bool:
    """Values the execution follows: indices and conditions (narrower
    integers may wrap)."""
    return isinstance(value.type, ir.IndexType) or _is_bool(value)


def _row_major(memref_type) -> bool:
    t = ir.MemRefType(memref_type)
    strides, offset = t.get_strides_and_offset()
    return offset == 0 and strides == [int(np.prod(t.shape[k + 1 :])) for k in range(t.rank)]


def _per_row(value) -> bool:
    """Whether an executed value is an array over the rows (not one value for all)."""
    return isinstance(value, np.ndarray) and value.ndim > 0


def _trunc_div(a, b):
    q = a // b
    return q + ((q * b != a) & ((a < 0) != (b < 0)))


SIGNED = {2: np.less, 3: np.less_equal, 4: np.greater, 5: np.greater_equal}
INDEX_OPS = {
    "arith.addi": np.add,
    "arith.subi": np.subtract,
    "arith.muli": np.multiply,
    "arith.minsi": np.minimum,
    "arith.maxsi": np.maximum,
    "arith.andi": np.bitwise_and,
    "arith.ori": np.bitwise_or,
    "arith.xori": np.bitwise_xor,
    "arith.divsi": _trunc_div,
    "arith.remsi": lambda a, b: a - b * _trunc_div(a, b),
    "arith.floordivsi": np.floor_divide,
    "arith.ceildivsi": lambda a, b: -(-a // b),
}
DIVISIONS = {"arith.divsi", "arith.remsi", "arith.floordivsi", "arith.ceildivsi"}


def _compare(predicate, a, b):
    """arith.cmpi; unsigned predicates only on nonnegative values, else None."""
    if predicate in (0, 1):
        return np.equal(a, b) if predicate == 0 else np.not_equal(a, b)
    if predicate >= 6:
        if np.any(np.asarray(a) < 0) or np.any(np.asarray(b) < 0):
            return None
        predicate -= 4
    return SIGNED[predicate](a, b)


def _encode(sites, seen) -> np.ndarray:
    """One integer per recorded access (the seen elements of each site, in
    order) that orders them as their keys do: mixed radix over the key
    columns (a column's values less its minimum), re-ranked when the code
    grows large, so it never overflows."""
    code, bound = np.zeros(sum(len(s) for s in seen), np.int64), 1
    if not len(code):
        return code
    for column in range(max(len(site.template) for _, site in sites)):
        parts = []
        for (_, site), elements in zip(sites, seen):
            part = site.template[column] if column < len(site.template) else 0
            iv = site.template[:column].count(None)
            parts.append(site.ivs[elements, iv] if part is None else np.full(len(elements), part))
        values = np.concatenate(parts)
        low, radix = values.min(), int(values.max() - values.min()) + 1
        if radix == 1:
            continue
        if bound * radix >= 1 << 62:
            ranks, code = np.unique(code, return_inverse=True)
            bound = len(ranks)
        code *= radix
        code += values - low
        bound *= radix
    return code


class _Site:
    """One access op: per element (the last slot: the whole buffer) the
    induction variables of its last load or first store so far."""

    def __init__(self, template, elements, depth, load):
        self.template, self.load = template, load
        self.ivs = np.zeros((elements + 1, depth), np.int64)
        # Per element, the number of the access that holds it (the site's
        # accesses counted over all calls): the latest load, the first store.
        self.holder = np.full(elements + 1, -1 if load else NEVER, np.int64)
        self.count = 0

    @property
    def seen(self) -> np.ndarray:
        return self.holder != (-1 if self.load else NEVER)

    def add(self, elements, columns):
        """Records the accesses of `elements` (in time order) at the
        induction variables `columns` (arrays or ints, one per loop)."""
        numbers = np.arange(self.count, self.count + len(elements))
        self.count += len(elements)
        (np.maximum if self.load else np.minimum).at(self.holder, elements, numbers)
        rows = np.nonzero(self.holder[elements] == numbers)[0]
        kept = elements[rows]
        for k, column in enumerate(columns):
            self.ivs[kept, k] = column[rows] if _per_row(column) else column


class _Trace:
    """Executes consecutive top-level ops on index values, recording the
    loads of the roots `inputs` and the stores to the roots `outputs`;
    `backward`: runs `fdt.reversible` loops last iteration first."""

    def __init__(self, ops, inputs, outputs, backward=False):
        self.inputs, self.outputs = inputs, outputs
        self.backward = backward
        self.reversed = set()  # induction variables that run backwards: their keys count down
        self.sites = {}  # (op, root, load) -> _Site
        self.clobbered = set()  # inputs the step may write
        self.relevant = set()  # ops that touch a tracked root, and their ancestors
        self.free = {}  # op with regions -> the values it uses from outside (_free_values)
        tracked = inputs | outputs

        ops = [op.operation for op in ops]

        def mark(inner):
            if any(isinstance(v.type, ir.MemRefType) and _root(v) in tracked for v in inner.operands):
                if inner.name not in VIEW_OPS and any(isinstance(r.type, ir.MemRefType) for r in inner.results):
                    self.clobbered |= inputs  # a buffer passed on (a loop's iter_args): not followed
                while inner not in ops:
                    self.relevant.add(inner)
                    inner = inner.parent.operation
                self.relevant.add(inner)
            return ir.WalkResult.ADVANCE

        for op in ops:
            op.walk(mark)
            _free_values(op, self.free)
        self.needed = self._needed()
        self.kinds = {}  # relevant op -> "load" or "store" if all its tracked accesses are of that kind
        self.depends = {}  # value or op -> the loops (their induction variables) it varies with
        self._ops(ops, {}, [], 1)

    def _needed(self) -> set:
        """The ops whose index values the recorded accesses depend on: the
        indices of the tracked loads and stores, the bounds of the loops and
        the conditions of the branches around them, and what those are
        computed from. The rest (a weight's index, a value's arithmetic) is
        never executed: it changes no recorded access."""
        work = []
        for op in self.relevant:
            if op.name == "memref.load":
                work += list(op.operands)[1:]
            elif op.name == "memref.store":
                work += list(op.operands)[2:]
            elif op.name == "scf.for":
                work += list(op.operands)[:3]
            elif op.name == "scf.if":
                work.append(op.operands[0])
        needed, seen = set(), set()
        while work:
            value = work.pop()
            if value in seen or not isinstance(value, ir.OpResult):
                continue
            seen.add(value)
            owner = value.owner.operation
            needed.add(owner)
            work += list(owner.operands)
            if owner.name == "scf.if":
                number = value.result_number
                work += [list(r.blocks[0].operations)[-1].operands[number] for r in owner.regions if r.blocks]
        return needed

    def shift(self, input_root, output_root) -> Shifts:
        size_out, size_in = byte_size(output_root.type), byte_size(input_root.type)
        if input_root in self.clobbered:
            return Shifts(-size_out, size_in)
        sites = [(key, site) for key, site in self.sites.items() if key[1] in (input_root, output_root)]
        if not sites:
            return Shifts(size_in, -size_out)
        seen = [np.nonzero(site.seen)[0] for _, site in sites]
        time = _encode(sites, seen)
        owner = np.repeat(np.arange(len(sites)), [len(s) for s in seen])
        last_read = self._times(input_root, sites, owner, time, True)
        first_write = self._times(output_root, sites, owner, time, False)
        return Shifts(shift_bound(last_read, first_write), rise_bound(last_read, first_write))

    def _times(self, root, sites, owner, time, load):
        """Per byte of `root`, the time of its last load (-1: none) or of
        its first store (NEVER: none)."""
        elements = element_count(root.type)
        size = byte_size(root.type) // elements
        times = np.full(elements * size, -1 if load else NEVER, np.int64)
        pick = np.maximum if load else np.minimum
        for n, ((_, site_root, _), site) in enumerate(sites):
            if site_root != root or site.load != load:
                continue
            seen = np.nonzero(site.seen)[0]
            when = time[owner == n]
            if len(seen) and seen[-1] == elements:  # the whole buffer
                times[:] = pick(times, when[-1])
                seen, when = seen[:-1], when[:-1]
            if len(seen):
                at = (seen[:, None] * size + np.arange(size)).ravel()
                times[at] = pick(times[at], np.repeat(when, size))
        return times

    # Execution. `env` maps index values to ints or arrays over the `n` rows;
    # `path` is the key prefix: op positions (ints) and induction variables.

    def _ops(self, ops, env, path, n):
        for position, op in enumerate(ops):
            op = op.operation
            name = op.name
            relevant = op in self.relevant and name not in VIEW_OPS
            if relevant or (op.regions and op in self.needed and any(_is_index(r) for r in op.results)):
                at, rows = env, n
                keep = self._dominant(op, env, path)  # None for an op yielding an index
                if keep is not None:
                    at = {v: env[v][keep] if _per_row(env[v]) else env[v] for v in self._used(op, env, path)}
                    rows = int(keep.sum())
                if name == "memref.load" or name == "memref.store":
                    self._access(op, at, path + [position], rows, name == "memref.load")
                elif name == "scf.for":
                    self._for(op, at, path + [position], rows)
                elif name == "scf.if":
                    self._if(op, at, path + [position], rows)
                else:
                    self._opaque(op, at, path + [position], rows)
            elif op in self.needed and op.results and all(_is_index(r) for r in op.results):
                self._compute(op, env)

    # Dominated executions. An op in a loop's body whose tracked accesses
    # are all loads (stores), and which neither reads the loop's induction
    # variable nor anything that varies with it, touches the same elements,
    # through the same inner iterations, in every iteration of the loop:
    # only the last (first) one can hold an element's last load (first
    # store), its key being the largest (smallest). So it runs on those rows
    # only: a 1x1 conv's input loads once per pixel instead of once per
    # output channel. The recorded times are the same.

    def _dominant(self, op, env, path):
        """The rows of the enclosing loop's body (a mask) on which `op`
        must run, or None for all."""
        loop = env.get(_LOOP)
        if loop is None or self._kind(op) is None or loop in self._op_depends(op):
            return None
        keep = env[_LAST if self._kind(op) == "load" else _FIRST]
        return None if keep.all() else keep

    def _used(self, op, env, path):
        """The values of `env` that `op` reads, the induction variables of `path` included."""
        if op.regions:
            return self._outer_values(op, env, path)
        return {v for v in op.operands if v in env} | {v for v in path if not isinstance(v, int)}

    def _kind(self, op) -> str | None:
        """The kind of every tracked access of the relevant `op`, "load" or
        "store", if they are all of one (in a loop or branch yielding no
        index: nothing after it reads what it computes), else None."""
        if op not in self.kinds:
            kind = None
            if op.name in ("memref.load", "memref.store"):
                kind = op.name[len("memref.") :]
            elif op.name in ("scf.for", "scf.if") and not any(_is_index(r) for r in op.results):
                inside = {
                    self._kind(inner.operation)
                    for region in op.regions
                    for block in region.blocks
                    for inner in block.operations
                    if inner.operation in self.relevant and inner.operation.name not in VIEW_OPS
                }
                kind = inside.pop() if len(inside) == 1 else None
            self.kinds[op] = kind
        return self.kinds[op]

    def _op_depends(self, op) -> frozenset:
        """The loops whose iterations the tracked accesses of the relevant
        `op` may differ in: what their indices, and the bounds and
        conditions around them, vary with (a weight's index, say, does not
        count)."""
        if op not in self.depends:
            if op.name == "memref.load":
                used = list(op.operands)[1:]
            elif op.name == "memref.store":
                used = list(op.operands)[2:]
            elif op.name == "scf.for":
                used = list(op.operands)[:3]
            elif op.name == "scf.if":
                used = [op.operands[0]]
            else:
                used = list(op.operands)
            found = frozenset().union(*(self._value_depends(v) for v in used))
            for region in op.regions:
                for block in region.blocks:
                    for inner in block.operations:
                        if inner.operation in self.relevant:
                            found |= self._op_depends(inner.operation)
            self.depends[op] = found
        return self.depends[op]

    def _value_depends(self, value) -> frozenset:
        """The induction variables of the loops `value` may vary with (a
        loop-carried value varies with its loop's)."""
        found = self.depends.get(value)
        if found is None:
            if isinstance(value, ir.BlockArgument):
                parent = value.owner.owner
                found = frozenset()
                if isinstance(parent, ir.OpView) and parent.operation.name == "scf.for":
                    found = frozenset({parent.operation.regions[0].blocks[0].arguments[0]})
            else:
                owner = value.owner.operation
                used = self.free.get(owner, set()) | set(owner.operands)
                found = frozenset().union(*(self._value_depends(v) for v in used))
            self.depends[value] = found
        return found

    def _value(self, value, env):
        if value in env:
            return env[value]
        owner = value.owner
        if isinstance(owner, ir.OpView) and owner.operation.name == "arith.constant":
            attr = owner.operation.attributes["value"]
            if isinstance(attr, ir.BoolAttr):
                return ir.BoolAttr(attr).value
            constant = constant_value(value)
            if isinstance(constant, int):
                return bool(constant & 1) if _is_bool(value) else constant
        return None

    def _compute(self, op, env):
        name = op.name
        args = [self._value(v, env) for v in op.operands]
        if any(a is None for a in args):
            return
        result = None
        if name in ("arith.index_cast", "arith.index_castui"):
            result = args[0]
        elif name == "arith.select":
            result = np.where(*args)
        elif name == "arith.cmpi":
            result = _compare(ir.IntegerAttr(op.attributes["predicate"]).value, *args)
        elif name in INDEX_OPS and not (name in DIVISIONS and np.any(np.asarray(args[1]) == 0)):
            result = INDEX_OPS[name](*args)
        if result is not None:
            env[op.results[0]] = result

    def _access(self, op, env, path, n, load):
        memref = op.operands[0 if load else 1]
        root = _root(memref)
        if not load and root in self.inputs:
            self.clobbered.add(root)
        if root not in (self.inputs if load else self.outputs):
            return
        elements = element_count(root.type)
        indices = [self._value(v, env) for v in op.operands[1 if load else 2 :]]
        flat = np.full(n, elements)  # the whole buffer
        if memref == root and all(i is not None for i in indices) and _row_major(root.type):
            flat = np.zeros(n, np.int64)
            for index, size in zip(indices, ir.MemRefType(root.type).shape):
                flat = flat * size + index
            flat = np.where((flat >= 0) & (flat < elements), flat, elements)
        self._record(op, root, path, flat, env, n, load)

    def _record(self, op, root, path, flat, env, n, load):
        site = self.sites.get((op, root, load))
        ivs = [v for v in path if not isinstance(v, int)]
        if site is None:
            template = [None if not isinstance(v, int) else v for v in path]
            site = self.sites[(op, root, load)] = _Site(template, element_count(root.type), len(ivs), load)
        site.add(flat, [-env[v] if v in self.reversed else env[v] for v in ivs])

    def _opaque(self, op, env, path, n):
        """An op not executed here (a loop with unknown bounds, a call, a
        copy): its loads read all of the input after everything else at its
        position, its stores write all of the output before; any other use
        of a buffer may write it."""
        loads, writes = set(), set()

        def visit(inner):
            roots = [_root(v) for v in inner.operands if isinstance(v.type, ir.MemRefType)]
            if inner.name == "memref.load":
                loads.add(roots[0])
            elif inner.name not in VIEW_OPS:
                writes.update(roots)
            return ir.WalkResult.ADVANCE

        op.walk(visit)
        self.clobbered |= writes & self.inputs
        for roots, time, load in ((loads & self.inputs, 1, True), (writes & self.outputs, 0, False)):
            for root in roots:
                self._record(op, root, path + [time], np.full(n, element_count(root.type)), env, n, load)

    def _outer_values(self, op, env, path):
        """The values of `env` (and the induction variables of `path`) that
        the regions of `op` use."""
        return {v for v in self.free[op] if v in env} | {v for v in path if not isinstance(v, int)}

    def _for(self, op, env, path, n):
        bounds = [self._value(v, env) for v in op.operands[:3]]
        if any(b is None for b in bounds) or np.any(np.asarray(bounds[2]) <= 0):
            self._opaque(op, env, path, n)
            return
        lower, upper, step = (np.broadcast_to(np.asarray(b, np.int64), (n,)) for b in bounds)
        trips = np.maximum(0, -(-(upper - lower) // step))
        ends = np.cumsum(trips)  # the iterations, in time order: row by row
        starts = ends - trips
        outer = self._outer_values(op, env, path)
        iv = op.regions[0].blocks[0].arguments[0]
        backward = self.backward and REVERSIBLE_ATTR in op.attributes
        if backward:
            self.reversed.add(iv)
        body = list(op.regions[0].blocks[0].operations)
        total = int(ends[-1]) if n else 0
        for first in range(0, total, CHUNK):
            last = min(first + CHUNK, total)
            # The rows of iterations first..last-1: each row's trips, clipped to the chunk.
            r0, r1 = np.searchsorted(ends, [first, last - 1], side="right")
            counts = trips[r0 : r1 + 1].copy()
            counts[0] -= first - starts[r0]
            counts[-1] -= ends[r1] - last
            rows = np.repeat(np.arange(r0, r1 + 1), counts)
            inner = {v: np.repeat(env[v][r0 : r1 + 1], counts) if _per_row(env[v]) else env[v] for v in outer}
            order = np.arange(first, last) - starts[rows]  # the iteration's number in its row, in time
            k = trips[rows] - 1 - order if backward else order
            inner[iv] = lower[rows] + step[rows] * k
            inner[_LOOP], inner[_FIRST], inner[_LAST] = iv, order == 0, order == trips[rows] - 1
            self._ops(body, inner, path + [iv], last - first)

    def _if(self, op, env, path, n):
        condition = self._value(op.operands[0], env)
        outer = self._outer_values(op, env, path)
        results = [r for r in op.results if _is_index(r)]
        if condition is None:
            taken = [np.ones(n, bool)] * 2
        else:
            then = np.broadcast_to(np.asarray(condition, bool), (n,))
            taken = [then, ~then]
        yields = []
        for branch, (region, rows) in enumerate(zip(op.regions, taken)):
            if not region.blocks:
                continue
            inner = {v: env[v][rows] if _per_row(env[v]) else env[v] for v in outer}
            ops = list(region.blocks[0].operations)
            self._ops(ops, inner, path + [branch], int(rows.sum()))
            yields.append([self._value(v, inner) for v in ops[-1].operands])
        if condition is None or len(yields) < 2:
            return
        for k, result in enumerate(op.results):
            if result in results and yields[0][k] is not None and yields[1][k] is not None:
                value = np.empty(n, np.int64)
                value[taken[0]], value[taken[1]] = yields[0][k], yields[1][k]
                env[result] = value
