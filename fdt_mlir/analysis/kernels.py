"""Kernels: the model's operators as they appear in linalg on tensors.

One TFLite (or ONNX) operator lowers to several ops (a pad, a fill, the
convolution, the requantization); they keep the operator's location name
(`CONV_2D:3`), and that name is how tiling plans, reports and users refer
to them. This module groups a block's ops into kernels and classifies what
each does to the channel and spatial axes, which is what the chaining rules
of fused tiling ask.
"""

import re
from dataclasses import dataclass, field
from itertools import accumulate

from mlir import ir

from ..dialect.ops import state_marks
from ..errors import FdtError
from .indexing import (
    GENERIC,
    RESHAPES,
    dim_of,
    dims_in,
    iterators,
    maps,
    n_inputs,
    reads_through_windows,
    reassociation,
    tensors_read,
)
from .tensor_axes import Axes, TensorAxes

NAMED = r'loc\("((?:[^"\\]|\\.)*)"(?!:\d)'


def location_name(op) -> str | None:
    """The name of `op`'s NameLoc (`loc("CONV_2D:3")`; a file location has none)."""
    m = re.match(NAMED, str(op.location))
    return m.group(1) if m else None


def run_order(block, names) -> list[str]:
    """The kernels `names` in the order the block runs them: the first op of
    each, nested ones (a tile loop's kernels) included, that computes
    (constants, weights among them, sit at the top, named after their
    kernels)."""
    seen = {}

    def visit(op):
        name = location_name(op)
        if name in names and op.operands:
            seen.setdefault(name, None)
        return ir.WalkResult.ADVANCE

    for op in block.operations:
        op.operation.walk(visit, ir.WalkOrder.PRE_ORDER)
    return list(seen)


def node_name(op) -> str | None:
    """The model's own name for `op`'s operator, when the importer gave it
    as the NameLoc's child (`loc("Conv:0"("/features/0/Conv"))`)."""
    m = re.match(NAMED + r'\("((?:[^"\\]|\\.)*)"', str(op.location))
    return m.group(2) if m else None


def reshape_source(value):
    """(the value a chain of reshapes starts from, the reshapes, source first)."""
    chain = []
    while isinstance(value.owner, ir.OpView) and value.owner.operation.name in RESHAPES:
        chain.insert(0, value.owner.operation)
        value = chain[0].operands[0]
    return value, chain


@dataclass
class ReshapeFold:
    """A linalg.generic that reads the source of a reshaped input directly:
    its new indexing maps and iterator types, and the operands a split loop
    dim expands (operand number -> (reassociation, shape))."""

    source: ir.Value
    maps: list
    iterators: list
    expansions: dict


def reshape_fold(op, index) -> ReshapeFold | None:
    """How `op` can read its input `index` without the reshapes in front of
    it (upstream's fold-reshape-by-expansion, for static shapes), or None.

    Dims pair up in groups of equal element count. A group with one wide
    (non-unit) dim on each side keeps its index expression; unit dims drop
    out (unit source dims read index 0). A loop dim over several wide source
    dims (a flatten) splits into one loop dim per source dim, so a dense
    layer on a flattened feature map reduces over (h, w, c) and its weights
    expand to match. Only dims that the outputs do not index split."""
    value = op.operands[index]
    source, _ = reshape_source(value)
    shape = ir.RankedTensorType(source.type).shape
    reshaped = ir.RankedTensorType(value.type).shape
    if not shape or not reshaped:
        return None
    amaps = maps(op)
    bound = {dim_of(e) for i, m in enumerate(amaps) if i != index for e in m.results} - {None}
    outputs = {dim_of(e) for m in amaps[n_inputs(op) :] for e in m.results}
    # Per source dim: an index expression in the old loop dims, or a split (dim, part).
    reads, splits = [], {}
    for src, dst in reassociation(shape, reshaped):
        wide = [j for j in dst if reshaped[j] != 1]
        carrier = (wide or dst)[0]
        dropped = [amaps[index].results[j] for j in dst if j != carrier]
        if len(wide) > 1 or not all(dims_in(e) <= bound for e in dropped):
            return None
        expr = amaps[index].results[carrier]
        wide_src = [i for i in src if shape[i] != 1]
        if len(wide_src) <= 1:
            reader = (wide_src or src)[0]
            reads += [expr if i == reader else ir.AffineConstantExpr.get(0) for i in src]
            continue
        d = dim_of(expr)
        if d is None or d in outputs or not all(m.is_projected_permutation for m in amaps) or _uses_index(op):
            return None
        splits[d] = [shape[i] for i in src]
        reads += [(d, part) for part in range(len(src))]
    width = {d: len(sizes) for d, sizes in splits.items()}
    first = [0, *accumulate(width.get(d, 1) for d in range(len(iterators(op))))]
    renumber = ir.AffineMap.get(first[-1], 0, [ir.AffineDimExpr.get(f) for f in first[:-1]])  # old dim -> new
    new_maps, expansions = [], {}
    for i, amap in enumerate(amaps):
        if i == index:
            results = [
                ir.AffineDimExpr.get(first[r[0]] + r[1]) if isinstance(r, tuple) else r.compose(renumber) for r in reads
            ]
        else:
            results, groups, sizes = [], [], []
            extents = ir.RankedTensorType(op.operands[i].type).shape if amap.results else []
            for expr, extent in zip(amap.results, extents):
                d = dim_of(expr)
                parts = (
                    [ir.AffineDimExpr.get(first[d] + k) for k in range(width[d])]
                    if d in splits
                    else [expr.compose(renumber)]
                )
                groups.append(list(range(len(results), len(results) + len(parts))))
                results += parts
                sizes += splits.get(d, [extent])
            if len(results) != len(amap.results):
                expansions[i] = (groups, sizes)
        new_maps.append(ir.AffineMap.get(first[-1], 0, results))
    kinds = [kind for d, kind in enumerate(iterators(op)) for _ in range(width.get(d, 1))]
    return ReshapeFold(source, new_maps, kinds, expansions)


def _uses_index(op) -> bool:
    return any(o.operation.name == "linalg.index" for o in op.regions[0].blocks[0].operations)


def is_activation(value) -> bool:
    """A tensor computed at run time: not a constant, not an empty tensor
    (the `outs` several ops of a kernel share)."""
    owner = value.owner
    made_by = owner.operation.name if isinstance(owner, ir.OpView) else None
    return isinstance(value.type, ir.RankedTensorType) and made_by not in ("arith.constant", "tensor.empty")


def _returns_state(use) -> bool:
    """A use by the function's return as a result marked `fdt.state`."""
    owner = use.owner
    return owner.name == "func.return" and use.operand_number in state_marks(owner.parent, "res_attrs")


def _reads_from_outside(use, members) -> bool:
    """True when neither the op of `use` nor an op around it is one of
    `members`: a resize's tensor.extract reads inside its generic's body."""
    op = use.owner
    while op is not None:
        if op in members:
            return False
        op = op.parent
    return True


@dataclass
class Kernel:
    name: str
    axes: TensorAxes  # of the block the kernel is in
    ops: list = field(default_factory=list)

    @property
    def root(self):
        """The op whose result leaves the kernel (its output), other than as
        the recurrent state the function returns (an LSTM's last h and c)."""
        members = set(self.ops)
        for op in reversed(self.ops):
            for result in op.results:
                if any(_reads_from_outside(use, members) and not _returns_state(use) for use in result.uses):
                    return op
        return self.ops[-1]

    def outputs(self):
        """The results read outside the kernel, other than as recurrent
        state: the root's first, then any other (a SPLIT's or an UNPACK's
        parts, a value CSE shares with another kernel)."""
        members = set(self.ops)
        found = [self.root.results[0]]
        for op in self.ops:
            for result in op.results:
                outside = any(_reads_from_outside(use, members) and not _returns_state(use) for use in result.uses)
                if outside and result not in found:
                    found.append(result)
        return found

    @property
    def main(self):
        """The multiply-accumulate generic (conv, dense), if any."""
        for op in self.ops:
            if op.name == GENERIC and "reduction" in iterators(op):
                body = [o.operation.name for o in op.regions[0].blocks[0].operations]
                if "arith.muli" in body or "arith.mulf" in body:
                    return op
        return None

    @property
    def output_type(self):
        return ir.RankedTensorType(self.root.results[0].type)

    def inputs(self):
        """Activation values the kernel reads from outside (not constants),
        as operands or from inside a body (a nearest resize's tensor.extract)."""
        members = set(self.ops)
        found = []
        for op in self.ops:
            for value in tensors_read(op):
                owner = value.owner
                inside = isinstance(owner, ir.OpView) and owner.operation in members
                if not inside and is_activation(value) and value not in found:
                    found.append(value)
        return found

    def foreign_op(self):
        """An op tile-and-fuse cannot slice (tensor.concat, a transposed
        conv's tensor.insert_slice), or None: a kernel with one joins no path."""
        allowed = {GENERIC, "tensor.pad", *RESHAPES}
        return next((op for op in self.ops if op.name not in allowed), None)

    def pads_for_elementwise(self) -> bool:
        """True for a PAD read element for element (by a RELU, say):
        fdt-fold-pad folds pads into window readers only, and a pad tiled
        for another reader would make its tile in the loop, so the kernel
        joins no path."""
        return self.root.name == "tensor.pad" and any(
            op.operation.name == GENERIC and not reads_through_windows(op.operation) for op in self.consumers()
        )

    def reads_in_body(self) -> bool:
        """True when an op reads an activation inside its body (a nearest
        resize's or a gather's tensor.extract), not through an indexing map:
        tiling cannot slice such a read, so the kernel joins no path."""
        return any(is_activation(value) for op in self.ops for value in tensors_read(op)[len(op.operands) :])

    def consumers(self):
        """Ops outside the kernel that read its output: through the root, or
        through an op before it when canonicalization folded a reshape of
        the output into its reader (a dense layer's (1, 1, n) result, read
        as (1, n) by one consumer and directly by another)."""
        members = set(self.ops)
        readers = []
        for op in self.ops:
            for result in op.results:
                for use in result.uses:
                    if _reads_from_outside(use, members) and use.owner not in readers:
                        readers.append(use.owner)
        return readers

    @property
    def output_axes(self) -> Axes:
        return self.axes.of(self.root.results[0])

    def reads_twice(self) -> bool:
        """True when two of the kernel's ops read one activation, its own or
        its input (a softmax's input and exponentials; fdt-merge-read-twice
        leaves only such reads through reductions): tile-and-fuse fuses a
        producer into a loop once per reader, so such a kernel cannot join a
        path."""
        readers = {}
        for op in self.ops:
            for value in op.operands:
                if is_activation(value):
                    readers.setdefault(value, set()).add(op)
        return any(len(ops) > 1 for ops in readers.values())

    def mixes_channels(self) -> bool:
        """True for conv/dense: an output channel reads every input channel."""
        main = self.main
        if main is None:
            return False
        channel = self.axes.of(main.operands[0]).channel
        d = dim_of(maps(main)[0].results[channel]) if channel is not None else None
        return d is not None and iterators(main)[d] == "reduction"

    def splits_output_only(self) -> bool:
        """True when a slice of output channels can be computed from the whole
        input: a conv or dense layer (weight slice), or a gather (table
        slice) whose input carries no channel axis at all."""
        if self.mixes_channels():
            return True
        generics = [op for op in self.ops if op.name == GENERIC]
        if len(generics) != 1 or any(op.name in RESHAPES for op in self.ops):
            return False
        op = generics[0]
        channel = _channel_dim(op, self.axes)
        inputs = [
            m for m, v in zip(maps(op), op.operands[: len(op.operands) - 1]) if isinstance(v.type, ir.RankedTensorType)
        ]
        return (
            channel is not None and inputs != [] and all(channel not in [dim_of(e) for e in m.results] for m in inputs)
        )

    def channelwise(self) -> bool:
        """True when output channel c depends on input channel c only: a
        computing kernel whose reshapes keep the channel axis."""
        if self.mixes_channels() or all(op.name in RESHAPES for op in self.ops):
            return False
        if any(op.name in RESHAPES and not self.axes.keeps_channel(op) for op in self.ops):
            return False
        for op in self.ops:
            if op.name != GENERIC:
                continue
            channel = _channel_dim(op, self.axes)
            if channel is None:
                return False
            for amap, operand in zip(maps(op), op.operands):
                if not isinstance(operand.type, ir.RankedTensorType) or not amap.results or _shape_only(operand):
                    continue
                axis = self.axes.of(operand).channel
                if axis is None or axis >= len(amap.results):
                    continue
                if dim_of(amap.results[axis]) != channel and ir.RankedTensorType(operand.type).shape[axis] != 1:
                    return False
        return True

    def reshaped_reads(self, from_input: bool):
        """(generic, input number) pairs where the kernel reads a reshape of
        its own result or, with `from_input`, of its input. Tiling cannot
        follow a slice through a reshape: a path folds these into their
        readers (`reshape_fold`)."""
        members = set(self.ops)
        inputs = self.inputs() if from_input else []
        found = []
        for op in self.ops:
            if op.name != GENERIC:
                continue
            for index in range(n_inputs(op)):
                source, chain = reshape_source(op.operands[index])
                inside = isinstance(source.owner, ir.OpView) and source.owner.operation in members
                if chain and (inside or any(v in inputs for v in [source, *(r.results[0] for r in chain)])):
                    found.append((op, index))
        return found

    def folds_reshapes(self, from_input: bool) -> bool:
        """True when every reshape a path must see through can be folded."""
        return all(reshape_fold(op, index) is not None for op, index in self.reshaped_reads(from_input))

    def spatial(self) -> bool:
        """True when every op maps rows and columns window by window."""
        if len(self.output_axes.spatial) != 2 or any(op.name in RESHAPES for op in self.ops):
            return False
        for op in self.ops:
            if op.name != GENERIC:
                continue
            kinds = iterators(op)
            out = maps(op)[-1]
            rows_columns = self.axes.of(op.results[0]).spatial
            if len(rows_columns) != 2:
                return False
            for axis in rows_columns:
                d = dim_of(out.results[axis])
                if d is None or kinds[d] != "parallel":
                    return False
        return True


def _channel_dim(op, axes: TensorAxes):
    """The loop dim of a generic's output channel axis, if a bare dim."""
    channel = axes.of(op.results[0]).channel
    out = maps(op)[-1]
    return dim_of(out.results[channel]) if channel is not None and channel < len(out.results) else None


def _shape_only(value) -> bool:
    """A tensor.empty operand carries only a shape (a pooling window)."""
    return isinstance(value.owner, ir.OpView) and value.owner.operation.name == "tensor.empty"


def kernels_of(block) -> list[Kernel]:
    """The block's kernels in program order, by location name; ops without
    a name (constants, tensor.empty) belong to none."""
    found: dict[str, Kernel] = {}
    axes = TensorAxes(block)
    for op in block.operations:
        op = op.operation
        if op.name in ("arith.constant", "tensor.empty", "func.return", "scf.yield"):
            continue
        name = location_name(op)
        if name is None:
            continue
        found.setdefault(name, Kernel(name, axes)).ops.append(op)
    return list(found.values())


def kernel_map(block) -> dict[str, Kernel]:
    return {k.name: k for k in kernels_of(block)}


def function_body(module_op: ir.Operation):
    for op in module_op.regions[0].blocks[0].operations:
        if op.operation.name == "func.func" and op.operation.regions[0].blocks:
            return op.operation.regions[0].blocks[0]
    raise FdtError("the module has no function to compile")
