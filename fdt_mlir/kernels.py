"""Kernels: the model's operators as they appear in linalg on tensors.

One TFLite (or ONNX) operator lowers to several ops (a pad, a fill, the
convolution, the requantization); they keep the operator's location name
(`CONV_2D:3`), and that name is how tiling plans, reports and users refer
to them. This module groups a block's ops into kernels and classifies what
each does to the channel and spatial axes, which is what the chaining rules
of fused tiling ask.
"""

from dataclasses import dataclass, field

from mlir import ir

from .errors import FdtError

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
        inputs = [m for m, v in zip(maps(op), op.operands[: len(op.operands) - 1]) if isinstance(v.type, ir.RankedTensorType)]
        return channel is not None and inputs != [] and all(channel not in [dim_of(e) for e in m.results] for m in inputs)

    def channelwise(self) -> bool:
        """True when output channel c depends on input channel c only."""
        if self.mixes_channels() or any(op.name in RESHAPES for op in self.ops):
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

    def reads_through_reshape(self) -> bool:
        """True when the kernel reshapes its input first (a dense layer on a
        feature map): a slice cannot be followed into it."""
        members = set(self.ops)
        return any(
            op.name in RESHAPES and not (isinstance(op.operands[0].owner, ir.OpView) and op.operands[0].owner.operation in members)
            for op in self.ops
        )

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
