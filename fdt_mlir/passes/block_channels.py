"""fdt-block-channels: several output channels per pass over a kernel's
window, through the `fdt_window4_*` and `fdt_dot2_*` microkernels (`_s8`
for int8, `_f32` for float32).

A conv, depthwise conv or dense layer tiled to one output element runs, for
each output channel, its bias, a multiply-accumulate nest
(`analysis.mac_loops`) and its requantization. Its channel loop is unrolled
and jammed: the channels' biases go into a small accumulator array, one
microkernel call runs the nest for all of them, and their requantizations
follow. Which call depends on how the nest's loads move with the channel:

- both input and weights one element further per channel (a depthwise
  window over NHWC): four channels per call of `fdt_window4_s8`, whose taps
  load one word of each and do four 16x16 MACs (SMLABB, SMLATT), as
  CMSIS-NN's depthwise kernels do;
- the input not at all and the weights a row further (a 1x1 or k x k conv,
  a dense layer): two channels per call of `fdt_dot2_s8`, which loads and
  extends each input word once for both channels' dual MACs (SMLAD). The
  nest must read both operands contiguously, but for at most one outer
  loop of rows (a k x k window's kh).

A last partial group of channels keeps the original loop. The sums are
those of the loops, bit for bit (float32 ones add in the loops' order); the accumulator array is a local of 16 or
8 bytes (stack), like the one-element accumulator it stands beside.

The nest may be versioned (fdt-fold-pad's interior and border tiles): each
version's nest becomes a call. Borders must have been clipped first
(fdt-skip-padding): a guarded read is left alone.
"""

from dataclasses import dataclass

from mlir import ir
from mlir.dialects import arith, memref, scf

from ..analysis.linear_index import linear_coefficients
from ..analysis.mac_loops import (
    INT8,
    contiguous_run,
    induction_variable,
    is_index_arithmetic,
    mac_body,
    perfect_nest,
)
from ..ir_utils import constant_value, is_within, ops_named, recreate
from ..rewrites import ukernel_calls
from ..rewrites.hoist import hoisted
from ..rewrites.ukernel_calls import index_constant, run_length, trip_count
from . import register


@dataclass(frozen=True)
class Kind:
    window: bool  # a depthwise window (True) or a dot product on a shared input
    types: tuple  # mac_loops.INT8 or FLOAT32

    @property
    def block(self) -> int:
        """Channels per call."""
        return 4 if self.window else 2

    @property
    def source(self) -> str:
        """The microkernel's file in fdt_mlir/ukernels."""
        return ("window4_" if self.window else "dot2_") + ("s8" if self.types == INT8 else "f32")

    @property
    def ukernel(self) -> str:
        return "fdt_" + self.source


def _innermost(loop):
    """The innermost loop of the perfect nest rooted at `loop`."""
    while True:
        body = [op.operation for op in loop.regions[0].blocks[0].operations]
        if len(body) != 2 or body[0].name != "scf.for":
            return loop
        loop = body[0]


def _nests(op):
    """[(nest, mac)] for the reduction op of a channel loop: a loop nest
    whose innermost body is a multiply-accumulate, or an scf.if with one
    such nest per branch (beside the index arithmetic of its bounds); None
    for anything else."""
    roots = [op]
    if op.name == "scf.if":
        if len(op.results) or len(op.regions[1].blocks) == 0:
            return None
        roots = []
        for region in op.regions:
            body = [o.operation for o in region.blocks[0].operations][:-1]
            loops = [o for o in body if o.name == "scf.for"]
            if len(loops) != 1 or any(o != loops[0] and not is_index_arithmetic(o) for o in body):
                return None
            roots.append(loops[0])
    found = []
    for root in roots:
        if root.name != "scf.for":
            return None
        inner = _innermost(root)
        mac = mac_body(inner)
        nest = perfect_nest(inner)
        if mac is None or not nest or nest[0] != root or mac.a.guard is not None or mac.b.guard is not None:
            return None
        for loop in nest:
            if any(isinstance(v.owner, ir.OpView) and is_within(v.owner, root) for v in loop.operands[:2]):
                return None
        found.append((nest, mac))
    return found


def _kind(channel, nests) -> Kind | None:
    """How every nest's loads move with the channel, if the same way and
    with the same element types."""
    kinds = set()
    for nest, mac in nests:
        ivs = [channel] + [induction_variable(n) for n in nest]
        forms = [linear_coefficients(operand.load.operands[1], ivs) for operand in (mac.a, mac.b)]
        if any(f is None for f in forms):
            return None
        steps = (forms[0].get(0, 0), forms[1].get(0, 0))
        if steps == (1, 1) and len(nest) <= 2:
            kinds.add(Kind(True, mac.types))
        elif steps[0] == 0 and steps[1] != 0:
            run = contiguous_run(nest, mac)
            if run is None or run[0] > 1:
                return None
            kinds.add(Kind(False, mac.types))
        else:
            return None
    return kinds.pop() if len(kinds) == 1 else None


def _accumulator(nests):
    """The one-element accumulator all nests add into, as (memref, index)."""
    targets = {(mac.store.operands[1], constant_value(mac.store.operands[-1])) for _, mac in nests}
    if len(targets) != 1 or len(nests[0][1].store.operands) != 3:
        return None
    target = targets.pop()
    return None if target[1] is None else target


def _touches(op, buffer) -> bool:
    return op.name in ("memref.load", "memref.store") and any(v == buffer for v in op.operands)


@dataclass
class _Plan:
    pre: list  # the ops before the reduction (the bias into the accumulator)
    reduction: ir.Operation
    post: list  # the ops after it (requantization, the store of the result)
    accumulator: tuple  # (memref, index)
    kind: Kind


def _plan(loop) -> _Plan | None:
    lb, ub, step = (constant_value(v) for v in loop.operands[:3])
    if lb != 0 or step != 1 or ub is None:
        return None
    body = [op.operation for op in loop.regions[0].blocks[0].operations][:-1]
    with_regions = [i for i, op in enumerate(body) if op.regions]
    if len(with_regions) != 1:
        return None
    pre, reduction, post = body[: with_regions[0]], body[with_regions[0]], body[with_regions[0] + 1 :]
    nests = _nests(reduction)
    if not nests:
        return None
    acc = _accumulator(nests)
    kind = _kind(induction_variable(loop), nests)
    if acc is None or kind is None or ub < kind.block:
        return None
    # The accumulator is reached only at its one index; the ops before the
    # reduction write nothing else and read nothing the ops after it write,
    # so the blocks' copies of them may run in any order.
    for op in pre + post:
        if op.name.startswith("memref.") and op.name not in ("memref.load", "memref.store"):
            return None
        if _touches(op, acc[0]) and constant_value(op.operands[-1]) != acc[1]:
            return None
    if any(op.name == "memref.store" and op.operands[1] != acc[0] for op in pre):
        return None
    written = {op.operands[1] for op in post if op.name == "memref.store"}
    if any(op.name == "memref.load" and op.operands[0] in written for op in pre):
        return None
    return _Plan(pre, reduction, post, acc, kind)


def _clone(op, mapping, acc, block_acc, lane):
    """`op` at the insertion point, operands mapped, the accumulator
    replaced by element `lane` of `block_acc`."""
    operands = [mapping.get(v, v) for v in op.operands]
    if _touches(op, acc[0]):
        if op.name == "memref.load":
            new = memref.LoadOp(block_acc, [index_constant(lane)])
        else:
            new = memref.StoreOp(operands[0], block_acc, [index_constant(lane)])
    else:
        new = recreate(op, operands)
    for old, result in zip(op.results, new.results):
        mapping[old] = result


def _strides(operand, ivs, loops) -> list:
    form = linear_coefficients(operand.load.operands[1], ivs)
    return [index_constant(form.get(ivs.index(induction_variable(loop)), 0)) for loop in loops]


def _call(kind, channel, nest, mac, block_acc):
    """Replaces a nest by one call of `kind`'s microkernel on `block_acc`."""
    root = nest[0]
    i32 = ir.IntegerType.get_signless(32)
    ivs = [channel] + [induction_variable(n) for n in nest]
    with ir.InsertionPoint(root), root.location:
        at_start = {induction_variable(n): n.operands[0] for n in nest}
        bases = [hoisted(operand.load.operands[1], root, dict(at_start)) for operand in (mac.a, mac.b)]
        offsets = [arith.ConstantOp(i32, o.offset).result for o in (mac.a, mac.b)] if kind.types == INT8 else []
        # Rows (an outer loop, or one row) and columns of the window.
        rows = nest[:-1] if kind.window else nest[: contiguous_run(nest, mac)[0]]
        row_stride = [_strides(operand, ivs, rows) or [index_constant(0)] for operand in (mac.a, mac.b)]
        trips = trip_count(rows[0]) if rows else index_constant(1)
        if kind.window:
            columns = _strides(mac.a, ivs, nest[-1:]) + _strides(mac.b, ivs, nest[-1:])
            args = [block_acc, mac.a.load.operands[0], bases[0], row_stride[0][0], columns[0]]
            args += [mac.b.load.operands[0], bases[1], row_stride[1][0], columns[1], trips, trip_count(nest[-1])]
        else:
            first, static = contiguous_run(nest, mac)
            channel_stride = index_constant(linear_coefficients(mac.b.load.operands[1], ivs)[0])
            args = [block_acc, mac.a.load.operands[0], bases[0], row_stride[0][0]]
            args += [mac.b.load.operands[0], bases[1], row_stride[1][0], channel_stride, trips]
            args.append(run_length(nest, first, static))
        ukernel_calls.call(kind.ukernel, [], args + offsets)
    root.erase()


def _block(loop, plan: _Plan, block_acc):
    channel = induction_variable(loop)
    count = constant_value(loop.operands[1])
    block = plan.kind.block
    blocked = count - count % block
    with ir.InsertionPoint(loop), loop.location:
        outer = scf.ForOp(index_constant(0), index_constant(blocked), index_constant(block))
        with ir.InsertionPoint(outer.body):
            first = outer.induction_variable
            lanes = [first] + [arith.AddIOp(first, index_constant(k)).result for k in range(1, block)]
            mappings = [{channel: lane} for lane in lanes]
            for lane, mapping in enumerate(mappings):
                for op in plan.pre:
                    _clone(op, mapping, plan.accumulator, block_acc, lane)
            # The reduction runs once, from the block's first channel.
            copy = plan.reduction.clone()
            for old, new in mappings[0].items():
                _replace_in(copy, old, new)
            for nest, mac in _nests(copy):
                _call(plan.kind, first, nest, mac, block_acc)
            for lane, mapping in enumerate(mappings):
                for op in plan.post:
                    _clone(op, mapping, plan.accumulator, block_acc, lane)
            scf.YieldOp([])
    if blocked == count:
        loop.erase()
    else:
        with ir.InsertionPoint(loop), loop.location:
            loop.operands[0] = index_constant(blocked)


def _replace_in(op, old, new):
    def visit(inner):
        inner.replace_uses_of_with(old, new)
        return ir.WalkResult.ADVANCE

    op.walk(visit)


@register("fdt-block-channels", "Run several output channels per microkernel call (fdt_window4_*, fdt_dot2_*)")
def block_channels(module_op: ir.Operation):
    plans = []
    for loop in ops_named(module_op, "scf.for"):
        plan = _plan(loop)
        if plan is not None:
            plans.append((loop, plan))
    for loop, plan in plans:
        # Beside the one-element accumulator it replaces.
        with ir.InsertionPoint(plan.accumulator[0].owner), loop.location:
            element = ir.MemRefType(plan.accumulator[0].type).element_type
            block_type = ir.MemRefType.get([plan.kind.block], element)
            block_acc = memref.AllocaOp(block_type, [], []).result
        _block(loop, plan, block_acc)
    for kind in sorted({plan.kind for _, plan in plans}, key=lambda k: k.source):
        ukernel_calls.declare(module_op, kind.source)
