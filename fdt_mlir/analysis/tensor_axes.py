"""Which axis of each tensor holds channels and which hold rows and columns,
read from the ops' indexing maps, not from a layout's name.

TFLite's feature maps are NHWC, ONNX's NCHW. Fused tiling asks of each
kernel which output axis holds channels (FDT splits it) and which hold rows
and columns (FFMT splits them). The maps say it:
- a window, an input index that adds a reduction dim to a parallel one
  (`d2 * 2 + d5`), reads rows or columns: that input axis, and the output
  axis of the parallel dim, are spatial;
- a contraction, a reduction dim indexing both the data (operand 0) and
  another input (the weights), runs over the data's channels;
- a constant indexed by one wide parallel dim (weights, a bias, per-channel
  scales) is per output channel: that dim is the channel.
Labels then travel from axis to loop dim to axis through every op:
elementwise ops, broadcasts and transposes through their maps, pads and
slices axis by axis, reshapes where the axis stays whole. Windows and
contractions are read first, so a constant cannot overrule them. An axis no
op labels falls back on the batch-first convention of both formats: the
channel is the last axis that is neither the batch (axis 0) nor spatial.

A function's arguments and result may state their axes (`fdt.axes`, the
channel then the spatial axes): the cost model lowers each kernel or path
alone, as a function of its inputs, and hands it the axes its tensors have
in the whole model, so that both tile the same dims.
"""

from dataclasses import dataclass

from mlir import ir

from .indexing import GENERIC, RESHAPES, dim_of, dims_in, iterators, maps, n_inputs, reassociation, tensors_read

CHANNEL, SPATIAL = "channel", "spatial"
ATTRIBUTE = "fdt.axes"


@dataclass(frozen=True)
class Axes:
    channel: int | None  # None for a scalar
    spatial: tuple  # rows, then columns (empty when the tensor has none)


class TensorAxes:
    """The axes of every tensor of a block's top-level ops."""

    def __init__(self, block):
        self.ops = [op.operation for op in block.operations]
        self.labels = {}  # value -> {axis: CHANNEL or SPATIAL}
        self._maps = {}  # op -> what _mapped reads off it
        self._stated(block)
        self.constant = set()
        for op in self.ops:
            if op.name == "arith.constant" or (op.name in (GENERIC, *RESHAPES) and self._reads_constants(op)):
                self.constant.update(op.results)
        self._spread(intrinsic=self._structural)
        self._spread(intrinsic=self._per_channel_constants)

    def of(self, value) -> Axes:
        vtype = value.type
        if not isinstance(vtype, ir.RankedTensorType) or vtype.rank == 0:
            return Axes(None, ())
        rank = ir.RankedTensorType(vtype).rank
        channel, spatial = self._labelled(value)
        if channel is None:
            free = [a for a in range(rank) if a not in spatial and (a > 0 or rank == 1)]
            channel = free[-1] if free else rank - 1
        if not spatial and rank == 4:
            spatial = tuple(a for a in (1, 2, 3) if a != channel)[:2]
        return Axes(channel, spatial)

    def stated(self, value) -> ir.Attribute:
        """The labels of `value` (not what the fallback makes of them) as
        the `fdt.axes` attribute of a function argument or result."""
        channel, spatial = self._labelled(value)
        return ir.DictAttr.get({ATTRIBUTE: ir.DenseI64ArrayAttr.get([-1 if channel is None else channel, *spatial])})

    def _labelled(self, value):
        """(the labelled channel axis or None, the labelled spatial axes)."""
        labels = self.labels.get(value, {})
        channels = [a for a, label in labels.items() if label == CHANNEL]
        spatial = tuple(sorted(a for a, label in labels.items() if label == SPATIAL))
        return (min(channels) if channels else None), spatial

    def keeps_channel(self, reshape) -> bool:
        """True when a reshape keeps the channel axis whole: a slice of it
        stays a slice of the result's channel axis."""
        source, result = reshape.operands[0], reshape.results[0]
        before, after = self.of(source).channel, self.of(result).channel
        if before is None or after is None:
            return False
        return (before, after) in _kept_axes(source, result)

    # -- the fixpoint -----------------------------------------------------------

    def _stated(self, block):
        """Labels from the function's `fdt.axes` argument and result attributes."""
        fn = block.owner
        returned = list(self.ops[-1].operands) if self.ops and self.ops[-1].name == "func.return" else []
        for key, values in (("arg_attrs", list(block.arguments)), ("res_attrs", returned)):
            if fn is None or key not in fn.attributes:
                continue
            for value, attrs in zip(values, ir.ArrayAttr(fn.attributes[key])):
                attrs = ir.DictAttr(attrs)
                if ATTRIBUTE in attrs:
                    channel, *spatial = ir.DenseI64ArrayAttr(attrs[ATTRIBUTE])
                    if channel >= 0:
                        self._label(value, channel, CHANNEL)
                    for axis in spatial:
                        self._label(value, axis, SPATIAL)

    def _reads_constants(self, op) -> bool:
        """True when all `op` reads is constant: its inputs, and the tensors
        its body reads (a Gather reads its data there, its indices as input)."""
        if op.name == GENERIC:
            ins = [*op.operands[: n_inputs(op)], *tensors_read(op)[len(op.operands) :]]
        else:
            ins = op.operands[:1]
        tensors = [v for v in ins if isinstance(v.type, ir.RankedTensorType)]
        return bool(tensors) and all(v in self.constant for v in tensors)

    def _spread(self, intrinsic):
        """Adds what `intrinsic` reads off each op, then carries labels
        through the ops until nothing changes.

        In program order, sweep after sweep, as a plain fixpoint would, but
        an op is visited again only once one of its tensors got a label:
        each visit carries all it can, so a visit with nothing new is a no-op.
        """
        ops = [op for op in self.ops if not any(r in self.constant for r in op.results)]
        loops = {op: intrinsic(op, self._loop_labels(op)) for op in ops if op.name == GENERIC}
        readers = {}
        for i, op in enumerate(ops):
            for value in [*op.operands, *op.results]:
                readers.setdefault(value, []).append(i)
        dirty = set(range(len(ops)))
        while dirty:
            for i, op in enumerate(ops):
                if i not in dirty:
                    continue
                dirty.discard(i)
                if op in loops:
                    changed = self._through_generic(op, loops[op])
                elif op.name in RESHAPES:
                    changed = self._through_reshape(op)
                else:
                    changed = self._axis_by_axis(op)
                for value in changed:
                    dirty.update(readers[value])

    def _loop_labels(self, op) -> dict:
        """The labels a generic's loop dims already have from its operands."""
        found = {}
        for value, axes in self._mapped(op):
            for axis, label in self.labels.get(value, {}).items():
                if axis < len(axes) and axes[axis][0] is not None:
                    found.setdefault(axes[axis][0], label)
        return found

    def _mapped(self, op):
        """[(value, [(dim or None, dims, is window) per axis])] of a generic,
        read once: the fixpoint asks many times."""
        if op not in self._maps:
            kinds = iterators(op)
            self._maps[op] = [
                (value, [(dim_of(e), dims_in(e), _is_window(e, kinds)) for e in amap.results])
                for amap, value in _mapped_values(op)
            ]
        return self._maps[op]

    def _structural(self, op, loop):
        """Windows (spatial) and contractions (channels)."""
        kinds, amaps = iterators(op), maps(op)
        inputs = amaps[: n_inputs(op)]
        for amap in inputs:
            for expr in amap.results:
                if _is_window(expr, kinds):
                    for d in dims_in(expr):
                        if kinds[d] == "parallel":
                            loop.setdefault(d, SPATIAL)
        if len(inputs) >= 2:
            # One contracted dim is the channel; several (a dense layer on a
            # flattened feature map, folded) leave it to the data's producer.
            data = {dim_of(e) for e in inputs[0].results}
            shared = {d for amap in inputs[1:] for d in map(dim_of, amap.results) if d in data and d is not None}
            contracted = [d for d in shared if kinds[d] == "reduction"]
            if len(contracted) == 1:
                loop.setdefault(contracted[0], CHANNEL)
        return loop

    def _per_channel_constants(self, op, loop):
        kinds = iterators(op)
        for amap, value in list(zip(maps(op), op.operands))[: n_inputs(op)]:
            if value not in self.constant or not isinstance(value.type, ir.RankedTensorType):
                continue
            shape = ir.RankedTensorType(value.type).shape
            wide = {dim_of(e) for e, n in zip(amap.results, shape) if n != 1 and dim_of(e) is not None}
            wide = {d for d in wide if kinds[d] == "parallel"}
            if len(wide) == 1:
                loop.setdefault(wide.pop(), CHANNEL)
        return loop

    def _label(self, value, axis, label) -> bool:
        labels = self.labels.setdefault(value, {})
        if axis in labels:
            return False
        labels[axis] = label
        return True

    def _through_generic(self, op, loop) -> list:
        """Carries labels operands -> loop dims -> operands; returns the
        values that got a label."""
        for d, label in self._loop_labels(op).items():
            loop.setdefault(d, label)
        changed = []
        for value, axes in self._mapped(op):
            for axis, (d, dims, window) in enumerate(axes):
                if d is not None and d in loop:
                    label = loop[d]
                elif window and any(loop.get(x) == SPATIAL for x in dims):
                    label = SPATIAL
                else:
                    continue
                if self._label(value, axis, label):
                    changed.append(value)
        return changed

    def _through_reshape(self, op) -> list:
        source, result = op.operands[0], op.results[0]
        changed = []
        for before, after in _kept_axes(source, result):
            for a, b, x, y in ((before, after, source, result), (after, before, result, source)):
                label = self.labels.get(x, {}).get(a)
                if label is not None and self._label(y, b, label):
                    changed.append(y)
        return changed

    def _axis_by_axis(self, op) -> list:
        """Pads, slices, concatenations: tensors of one rank, axis for axis."""
        values = [v for v in [*op.operands, *op.results] if isinstance(v.type, ir.RankedTensorType)]
        if len({ir.RankedTensorType(v.type).rank for v in values}) != 1 or not op.results:
            return []
        changed = []
        for value in values:
            for axis, label in list(self.labels.get(value, {}).items()):
                for other in values:
                    if self._label(other, axis, label):
                        changed.append(other)
        return changed


def _is_window(expr, kinds) -> bool:
    """An index that adds a reduction dim to others (`d2 * 2 + d5`)."""
    return dim_of(expr) is None and any(kinds[d] == "reduction" for d in dims_in(expr))


def _mapped_values(op):
    """(indexing map, value) for a generic's operands and results."""
    amaps = maps(op)
    pairs = [(m, v) for m, v in zip(amaps, op.operands) if isinstance(v.type, ir.RankedTensorType)]
    return pairs + list(zip(amaps[n_inputs(op) :], op.results))


def _kept_axes(source, result):
    """(source axis, result axis) pairs a reshape keeps whole: the one wide
    dim of a group on each side."""
    shape, reshaped = (ir.RankedTensorType(v.type).shape for v in (source, result))
    pairs = []
    for src, dst in reassociation(shape, reshaped):
        wide_src = [i for i in src if shape[i] != 1]
        wide_dst = [j for j in dst if reshaped[j] != 1]
        if len(wide_src) == 1 and len(wide_dst) == 1:
            pairs.append((wide_src[0], wide_dst[0]))
    return pairs
