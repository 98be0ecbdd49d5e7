"""Kernels: the model's operators as they appear in linalg on tensors.

One TFLite (or ONNX) operator lowers to several ops (a pad, a fill, the
convolution, the requantization); they keep the operator's location name
(`CONV_2D:3`), and that name is how tiling plans, reports and users refer
to them. This module groups a block's ops into kernels and classifies what
each does to the channel and spatial axes, which is what the chaining rules
of fused tiling ask.
"""

from dataclasses import dataclass, field
from itertools import accumulate

from mlir import ir

from ..errors import FdtError

GENERIC = "linalg.generic"
RESHAPES = ("tensor.collapse_shape", "tensor.expand_shape")


def location_name(op) -> str | None:
    """The NameLoc of `op` (looking through fused and call-site locations)."""
    text = str(op.location)
    if text.startswith('loc("'):
        return text[5 : text.index('"', 5)]
    return None


def maps(op):
    return [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]


def iterators(op):
    return [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]


def dim_of(expr):
    return expr.position if isinstance(expr, ir.AffineDimExpr) else None


def loop_extents(op) -> dict:
    """{loop dim: its extent} of a linalg.generic, from its operands' static shapes."""
    extents = {}
    for amap, operand in zip(maps(op), op.operands):
        if isinstance(operand.type, ir.RankedTensorType):
            for expr, size in zip(amap.results, ir.RankedTensorType(operand.type).shape):
                if dim_of(expr) is not None:
                    extents.setdefault(dim_of(expr), size)
    return extents


def n_inputs(op) -> int:
    return len(op.operands) - len(op.results)


def reshape_source(value):
    """(the value a chain of reshapes starts from, the reshapes, source first)."""
    chain = []
    while isinstance(value.owner, ir.OpView) and value.owner.operation.name in RESHAPES:
        chain.insert(0, value.owner.operation)
        value = chain[0].operands[0]
    return value, chain


def keeps_last_axis(reshape) -> bool:
    """True when a reshape only adds or drops unit dims next to the innermost
    (channel) axis: a slice of that axis stays a slice of it."""
    source, result = (ir.RankedTensorType(v.type) for v in (reshape.operands[0], reshape.results[0]))
    return source.rank > 0 and result.rank > 0 and source.shape[-1] == result.shape[-1]


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
    for src, dst in _reassociation(shape, reshaped):
        wide = [j for j in dst if reshaped[j] != 1]
        carrier = (wide or dst)[0]
        dropped = [amaps[index].results[j] for j in dst if j != carrier]
        if len(wide) > 1 or not all(isinstance(e, ir.AffineConstantExpr) or dim_of(e) in bound for e in dropped):
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
    renumber = ir.AffineMap.get(len(first) - 1, 0, [ir.AffineDimExpr.get(f) for f in first[:-1]])
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


def _reassociation(source, target):
    """Groups (source dims, target dims) of a row-major reshape: the shortest
    runs of equal element count, so unit dims pair up one to one."""
    groups, i, j = [], 0, 0
    while i < len(source) and j < len(target):
        src, dst, a, b = [i], [j], source[i], target[j]
        i, j = i + 1, j + 1
        while a != b:
            if a < b:
                src.append(i)
                a, i = a * source[i], i + 1
            else:
                dst.append(j)
                b, j = b * target[j], j + 1
        groups.append((src, dst))
    groups[-1][0].extend(range(i, len(source)))
    groups[-1][1].extend(range(j, len(target)))
    return groups


def _uses_index(op) -> bool:
    return any(o.operation.name == "linalg.index" for o in op.regions[0].blocks[0].operations)


@dataclass
class Kernel:
    name: str
    ops: list = field(default_factory=list)

    @property
    def root(self):
        """The op whose result leaves the kernel (its output)."""
        members = set(self.ops)
        for op in reversed(self.ops):
            for result in op.results:
                if any(use.owner not in members for use in result.uses):
                    return op
        return self.ops[-1]

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
        """Activation values the kernel reads from outside (not constants)."""
        members = set(self.ops)
        found = []
        for op in self.ops:
            for value in op.operands:
                owner = value.owner
                inside = isinstance(owner, ir.OpView) and owner.operation in members
                constant = isinstance(owner, ir.OpView) and owner.operation.name in ("arith.constant", "tensor.empty")
                if not inside and not constant and isinstance(value.type, ir.RankedTensorType) and value not in found:
                    found.append(value)
        return found

    def consumers(self):
        """Ops outside the kernel that read its output."""
        members = set(self.ops)
        return [use.owner for use in self.root.results[0].uses if use.owner not in members]

    def mixes_channels(self) -> bool:
        """True for conv/dense: an output channel reads every input channel."""
        main = self.main
        if main is None:
            return False
        data = maps(main)[0]
        return dim_of(data.results[-1]) is not None and iterators(main)[dim_of(data.results[-1])] == "reduction"

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
        channel = dim_of(maps(op)[-1].results[-1])
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
        if any(op.name in RESHAPES and not keeps_last_axis(op) for op in self.ops):
            return False
        for op in self.ops:
            if op.name != GENERIC:
                continue
            amaps = maps(op)
            out = amaps[-1]
            if not out.results or dim_of(out.results[-1]) is None:
                return False
            channel = dim_of(out.results[-1])
            for amap, operand in zip(amaps, op.operands):
                if not isinstance(operand.type, ir.RankedTensorType) or not amap.results or _shape_only(operand):
                    continue
                rank = ir.RankedTensorType(operand.type).rank
                last = amap.results[-1] if rank else None
                if rank and dim_of(last) != channel and ir.RankedTensorType(operand.type).shape[-1] != 1:
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
        """True when every op maps NHWC rows and columns window by window."""
        if self.output_type.rank != 4 or any(op.name in RESHAPES for op in self.ops):
            return False
        for op in self.ops:
            if op.name != GENERIC:
                continue
            kinds = iterators(op)
            out = maps(op)[-1]
            for axis in (1, 2):
                d = dim_of(out.results[axis]) if len(out.results) == 4 else None
                if d is None or kinds[d] != "parallel":
                    return False
        return True


def _shape_only(value) -> bool:
    """A tensor.empty operand carries only a shape (a pooling window)."""
    return isinstance(value.owner, ir.OpView) and value.owner.operation.name == "tensor.empty"


def kernels_of(block) -> list[Kernel]:
    """The block's kernels in program order, by location name; ops without
    a name (constants, tensor.empty) belong to none."""
    found: dict[str, Kernel] = {}
    for op in block.operations:
        op = op.operation
        if op.name in ("arith.constant", "tensor.empty", "func.return", "scf.yield"):
            continue
        name = location_name(op)
        if name is None:
            continue
        found.setdefault(name, Kernel(name)).ops.append(op)
    return list(found.values())


def kernel_map(block) -> dict[str, Kernel]:
    return {k.name: k for k in kernels_of(block)}


def function_body(module_op: ir.Operation):
    for op in module_op.regions[0].blocks[0].operations:
        if op.operation.name == "func.func" and op.operation.regions[0].blocks:
            return op.operation.regions[0].blocks[0]
    raise FdtError("the module has no function to compile")
