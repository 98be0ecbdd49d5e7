"""QDQ ONNX graphs -> integer ONNX graphs, before IREE's importer sees them.

A QDQ model states int8 arithmetic as float: DequantizeLinear -> op ->
QuantizeLinear. Lowered as written, every activation between a DQ and a Q is
a float tensor (4 bytes an element) and every weight is dequantized at run
time. onnxruntime fuses these node units into integer kernels (QLinearConv,
QGemm, QLinearAdd, ...); this rewrite does the same with the integer
operators ONNX has and IREE lowers to integer linalg:

    Conv   DQ(x) * DQ(w) + DQ(b) [Relu|Clip] -> Q(y)
        => ConvInteger(x, w, x_zp, w_zp) + b  (int32)
           -> Cast(float) * M -> QuantizeLinear(1, y_zp) [Clip(q_lo, q_hi)]
    Gemm, MatMul: the same as a 1x1 ConvInteger on [rows, K, 1, 1]
    Add    DQ(a) + DQ(b) -> Q(c): QLinearAdd's float arithmetic on the codes
    GlobalAveragePool: an int32 sum, requantized
    AveragePool: the float mean of DQ(x), quantized as QLinearAveragePool
        does (the zero point added before rounding)
    Softmax (last axis): QLinearSoftmax's table of exponentials and rounding
    MaxPool, Pad, Reshape, Flatten, Squeeze, Unsqueeze, Transpose: on the
        int8 tensor itself (DQ and Q with equal parameters commute with them;
        a pad's value is quantized)

Rounding is onnxruntime's (MLAS `MlasRequantizeOutput`): the int32 sum with
its bias is converted to float, multiplied by M = (x_scale * w_scale) /
y_scale computed in float32 (one M per output channel for per-channel
weights), rounded half to even, offset by y's zero point and saturated. A
fused Relu or Clip becomes a clamp of the quantized value, which equals
quantizing the clamped real value because quantization is monotonic.
uint8 tensors are stored as int8, 128 lower.

The model's float input, when only QuantizeLinear nodes read it, becomes
their quantized tensor; an output made by DequantizeLinear becomes the
tensor that node dequantizes: a QDQ model's C function takes and returns
quantized tensors, as a TFLite int8 model's does. Node units that match no
pattern stay float fake-quantization, exact by ONNX's own definition.

Each new node remembers the node of the original graph it implements, so
that kernels keep the names (`Conv:3`) of the model the user wrote.
"""

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPE_OPS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose"}
MONOTONIC_OPS = {"MaxPool"} | SHAPE_OPS  # commute with quantization
SAME_SCALE_OPS = {"Pad"} | MONOTONIC_OPS


@dataclass
class Rewritten:
    """The integer graph and, per node, the index of the original node it implements."""

    model: object
    origins: list[int]


class _Graph:
    """The graph's nodes (each with the index of the original node it
    implements), its constants, and the constants the rewrite adds."""

    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.consts = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        for node in self.graph.node:
            if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
                self.consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        self.outputs = {v.name for v in self.graph.output}
        self.new_consts = {}
        self.from_uint8 = set()  # zero points of uint8 tensors now stored as int8
        self.counter = 0
        inferred = onnx.shape_inference.infer_shapes(model).graph
        self.shapes = {
            v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
            for v in (*inferred.input, *inferred.value_info, *inferred.output)
            if v.type.tensor_type.HasField("shape")
        }
        self.set_nodes([(node, i) for i, node in enumerate(self.graph.node)])

    def set_nodes(self, entries):
        self.nodes = [node for node, _ in entries]
        self.origins = [origin for _, origin in entries]
        self.producer = {out: i for i, node in enumerate(self.nodes) for out in node.output}
        self.readers = {}
        for i, node in enumerate(self.nodes):
            for name in node.input:
                self.readers.setdefault(name, []).append(i)

    def node(self, name):
        i = self.producer.get(name)
        return None if i is None else self.nodes[i]

    def only_reader(self, name):
        """The single node reading `name`, unless it is also a graph output."""
        readers = self.readers.get(name, [])
        if len(readers) != 1 or name in self.outputs:
            return None
        return self.nodes[readers[0]]

    def tensor(self, hint) -> str:
        """A new tensor name, unique in the graph."""
        self.counter += 1
        return f"{hint}__fdt{self.counter}"

    def const(self, array, hint) -> str:
        name = self.tensor(hint)
        self.new_consts[name] = self.consts[name] = np.asarray(array)
        return name


@dataclass
class _Quant:
    """A DequantizeLinear's or QuantizeLinear's parameters."""

    scale: np.ndarray  # float32, scalar or 1-D
    zero_point: np.ndarray  # int8/uint8/int32, same shape
    axis: int

    @property
    def per_tensor(self) -> bool:
        return self.scale.ndim == 0 or self.scale.size == 1

    def same_as(self, other) -> bool:
        return (
            self.per_tensor
            and other.per_tensor
            and self.scale.dtype == other.scale.dtype
            and self.zero_point.dtype == other.zero_point.dtype
            and float(self.scale.reshape(-1)[0]) == float(other.scale.reshape(-1)[0])
            and int(self.zero_point.reshape(-1)[0]) == int(other.zero_point.reshape(-1)[0])
        )


def _params(g: _Graph, node) -> _Quant | None:
    """Constant scale and zero point of a Q/DQ node (None if either is computed)."""
    if len(node.input) < 3 or node.input[1] not in g.consts or node.input[2] not in g.consts:
        return None
    axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
    if any(a.name == "block_size" and a.i for a in node.attribute):
        return None
    return _Quant(g.consts[node.input[1]].astype(np.float32), g.consts[node.input[2]], axis)


def _dq(g: _Graph, name):
    """(quantized tensor, params) when `name` is a DequantizeLinear output."""
    node = g.node(name)
    if node is None or node.op_type != "DequantizeLinear":
        return None
    q = _params(g, node)
    return None if q is None else (node.input[0], q)


def rewrite_qdq(model) -> Rewritten | None:
    """The integer form of a QDQ `model`, or None if it has no QDQ node unit to fuse."""
    g = _Graph(model)
    g.set_nodes(_signed(g))
    g.set_nodes(_sink_dequantize(g))
    g.set_nodes(_hoist_quantize(g))
    g.set_nodes(_drop_identities(g))
    replaced = {}  # node index -> its new nodes
    dropped = set()  # Q/DQ nodes absorbed into a fused unit
    for i, node in enumerate(g.nodes):
        if node.op_type in ("Conv", "Gemm", "MatMul"):
            unit = _dot_unit(g, node)
        elif node.op_type in SAME_SCALE_OPS:
            unit = _same_scale_unit(g, node)
        elif node.op_type == "GlobalAveragePool":
            unit = _global_average_unit(g, node)
        elif node.op_type == "AveragePool":
            unit = _average_pool_unit(g, node)
        elif node.op_type == "Softmax":
            unit = _softmax_unit(g, node)
        elif node.op_type == "Add":
            unit = _add_unit(g, node)
        else:
            unit = None
        if unit is not None:
            replaced[i], absorbed = unit
            dropped |= absorbed
    if not replaced and not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in g.nodes):
        return None
    entries = []  # (node, index of the original node it implements)
    for i, (node, origin) in enumerate(zip(g.nodes, g.origins)):
        if i not in dropped:
            entries += [(new, origin) for new in replaced.get(i, [node])]
    _quantized_boundary(g, entries)
    entries = _join_neighbours(g, _live(g, _fold_constant_dequantize(g, entries)))
    return Rewritten(_model(g, [node for node, _ in entries]), [i for _, i in entries])


# -- canonical forms ---------------------------------------------------------------


def _signed(g: _Graph):
    """uint8 Q/DQ pairs and constants -> int8: values and zero points 128 lower,
    the same real numbers. Integer kernels then see one signedness (linalg's
    quantized ops sign-extend), as onnxruntime's x86 kernels see one (uint8)."""
    entries, shifted = [], set()  # shifted: uint8 tensors now int8
    for node, origin in zip(g.nodes, g.origins):
        q = _params(g, node) if node.op_type in ("QuantizeLinear", "DequantizeLinear") else None
        quantized_output = node.op_type == "QuantizeLinear" and node.output[0] in g.outputs
        if q is None or q.zero_point.dtype != np.uint8 or quantized_output:
            entries.append((node, origin))
            continue
        source = node.input[0]
        if node.op_type == "DequantizeLinear" and source not in shifted:
            if source not in g.consts or g.consts[source].dtype != np.uint8:
                entries.append((node, origin))  # a uint8 graph input: left as it is
                continue
            source = g.const((g.consts[source].astype(np.int16) - 128).astype(np.int8), source)
        zero_point = g.const((q.zero_point.astype(np.int16) - 128).astype(np.int8), node.input[2])
        g.from_uint8.add(zero_point)
        new = helper.make_node(node.op_type, [source, node.input[1], zero_point], list(node.output))
        new.attribute.extend(node.attribute)
        entries.append((new, origin))
        if node.op_type == "QuantizeLinear":
            shifted.add(node.output[0])
    return entries


def _sink_dequantize(g: _Graph):
    """Moves each per-tensor DequantizeLinear below the shape ops that read it:
    shape(DQ(q)) = DQ(shape(q)), so that the ops after them see a DQ (PyTorch
    exports put a Flatten between a Q/DQ pair and a Gemm)."""
    entries = []
    dequantized = {}  # float tensor -> its DQ node, for DQs made here too
    for node, origin in zip(g.nodes, g.origins):
        source = dequantized.get(node.input[0]) if node.input else None
        if source is None and node.input:
            source = g.node(node.input[0])
            source = source if source is not None and source.op_type == "DequantizeLinear" else None
        q = _params(g, source) if source is not None else None
        if node.op_type not in SHAPE_OPS or q is None or not q.per_tensor:
            entries.append((node, origin))
            continue
        quantized = g.tensor(node.output[0])
        moved = helper.make_node(node.op_type, [source.input[0], *node.input[1:]], [quantized])
        moved.attribute.extend(node.attribute)
        dq = helper.make_node("DequantizeLinear", [quantized, *source.input[1:]], [node.output[0]])
        entries += [(moved, origin), (dq, origin)]
        dequantized[node.output[0]] = dq
    return entries


def _hoist_quantize(g: _Graph):
    """Moves each per-tensor QuantizeLinear above the shape ops and max pools
    it reads: Q(shape(y)) = shape(Q(y)), and Q(max(a, b)) = max(Q(a), Q(b))
    as quantizing with a positive scale is monotonic. An op the quantizer
    left in float (HardSwish -> MaxPool -> Q) then hands int8 on."""
    nodes, origins = list(g.nodes), list(g.origins)
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}
    readers = {}
    for node in nodes:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    for i, node in enumerate(nodes):
        q = _params(g, node) if node.op_type == "QuantizeLinear" else None
        if q is None or not q.per_tensor or float(q.scale.reshape(-1)[0]) <= 0:
            continue
        j = producer.get(node.input[0])
        if j is None or readers[node.input[0]] != 1 or node.input[0] in g.outputs:
            continue
        while (
            nodes[j].op_type in MONOTONIC_OPS
            and len(nodes[j].output) == 1
            and readers.get(nodes[j].input[0]) == 1
            and nodes[j].input[0] in producer
        ):
            shape_op = nodes[j]
            quantized = g.tensor(shape_op.input[0])
            moved = helper.make_node(shape_op.op_type, [quantized, *shape_op.input[1:]], list(node.output))
            moved.attribute.extend(shape_op.attribute)
            node = helper.make_node("QuantizeLinear", [shape_op.input[0], *node.input[1:]], [quantized])
            nodes[i], nodes[j] = moved, node
            origins[i], origins[j] = origins[j], origins[i]
            i, j = j, producer[shape_op.input[0]]
            producer[quantized] = i
    return list(zip(nodes, origins))


def _drop_identities(g: _Graph):
    """Q(DQ(q)) with the same parameters is q: the pairs that quantizers
    leave around shape ops (onnxruntime drops them too)."""
    entries, alias = [], {}
    for node, origin in zip(g.nodes, g.origins):
        node_inputs = [alias.get(name, name) for name in node.input]
        if node_inputs != list(node.input):
            renamed = helper.make_node(node.op_type, node_inputs, list(node.output))
            renamed.attribute.extend(node.attribute)
            node = renamed
        source = g.node(node.input[0]) if node.op_type == "QuantizeLinear" else None
        if source is not None and source.op_type == "DequantizeLinear" and node.output[0] not in g.outputs:
            q, dq = _params(g, node), _params(g, source)
            if q is not None and dq is not None and q.same_as(dq):
                alias[node.output[0]] = source.input[0]
                continue
        entries.append((node, origin))
    return entries


# -- node units ------------------------------------------------------------------


def _output_q(g: _Graph, out: str):
    """The activation (Relu/Clip, or None) and the QuantizeLinear that alone read
    `out`, with the Q's parameters; None when `out` does not end in one Q."""
    reader = g.only_reader(out)
    activation = None
    if reader is not None and reader.op_type in ("Relu", "Clip"):
        activation, reader = reader, g.only_reader(reader.output[0])
    if reader is None or reader.op_type != "QuantizeLinear":
        return None
    q = _params(g, reader)
    if q is None or not q.per_tensor or q.zero_point.dtype.type not in (np.int8, np.uint8):
        return None
    return activation, reader, q


def _clip_bounds(g: _Graph, activation, q: _Quant):
    """The quantized bounds (lo, hi) a fused Relu/Clip sets, or None if unknown."""
    info = np.iinfo(q.zero_point.dtype)
    zp = int(q.zero_point.reshape(-1)[0])
    if activation is None:
        return info.min, info.max
    if activation.op_type == "Relu":
        return max(zp, info.min), info.max
    bounds = []
    for k, default in ((1, info.min), (2, info.max)):
        if len(activation.input) <= k or not activation.input[k]:
            bounds.append(default)
            continue
        if activation.input[k] not in g.consts:
            return None
        real = np.float32(g.consts[activation.input[k]])
        quantized = np.rint(real / q.scale.reshape(-1)[0].astype(np.float32)) + zp  # MLAS: divide, round to even
        bounds.append(int(np.clip(quantized, info.min, info.max)))
    return tuple(bounds)


def _dot_unit(g: _Graph, node):
    """Conv, Gemm or MatMul between DQs and one Q -> integer sum + requantization."""
    x = _dq(g, node.input[0])
    w = _dq(g, node.input[1])
    if x is None or w is None or not x[1].per_tensor or w[0] not in g.consts:
        return None
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    bias = _dq(g, node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if len(node.input) > 2 and node.input[2] and (bias is None or bias[0] not in g.consts):
        return None
    tail = _output_q(g, node.output[0])
    if tail is None:
        return None
    activation, q_node, yq = tail
    bounds = _clip_bounds(g, activation, yq)
    if bounds is None:
        return None

    x_q, xq = x
    w_q, wq = w
    weights = g.consts[w_q]
    if weights.dtype.type not in (np.int8, np.uint8) or xq.zero_point.dtype.type not in (np.int8, np.uint8):
        return None
    x_zp = g.const(xq.zero_point.reshape(()), x_q + "_zp")
    conv_attrs = ("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
    if node.op_type == "Conv":
        if not (wq.per_tensor or wq.axis == 0):
            return None
        head, conv_attrs, tail_shape = [], {k: v for k, v in attrs.items() if k in conv_attrs}, None
    else:  # a dense layer is a 1x1 ConvInteger on [rows, K, 1, 1]: i32 sums, no i64, no widened copies
        if node.op_type == "Gemm":
            if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                return None
            trans_b = bool(attrs.get("transB", 0))
        else:
            trans_b = False
        shape = g.shapes.get(node.input[0], ())
        per_column = wq.per_tensor or wq.axis % 2 == (0 if trans_b else 1)
        if weights.ndim != 2 or len(shape) != 2 or 0 in shape or not per_column:
            return None
        weights = weights if trans_b else weights.T
        w_q = g.const(weights.reshape(*weights.shape, 1, 1), w_q)
        rows = g.tensor(node.output[0] + "_rows")
        head = [helper.make_node("Reshape", [x_q, g.const(np.array([shape[0], shape[1], 1, 1]), "shape")], [rows])]
        x_q, conv_attrs, tail_shape = rows, {}, g.const(np.array([shape[0], weights.shape[0]]), "shape")
    out_channels = weights.shape[0]
    spatial = g.consts[w_q].ndim - 2
    broadcast = (out_channels,) + (1,) * spatial  # over the conv's output
    w_zp = wq.zero_point.reshape(-1)
    acc = g.tensor(node.output[0] + "_acc")
    group = conv_attrs.get("group", 1)
    if group != 1 and not (group == weights.shape[0] and weights.shape[1] == 1):
        return None  # a grouped conv (not depthwise): IREE would transpose whole feature maps
    pads = conv_attrs.get("pads", [])
    if pads[: len(pads) // 2] != pads[len(pads) // 2 :]:  # ConvInteger's lowering pads both sides alike
        half = len(pads) // 2
        amounts = g.const(np.array([0, 0, *pads[:half], 0, 0, *pads[half:]], np.int64), "pads")
        padded = g.tensor(x_q)
        head.append(helper.make_node("Pad", [x_q, amounts, x_zp], [padded]))
        x_q, conv_attrs = padded, {k: v for k, v in conv_attrs.items() if k != "pads"}
    op = helper.make_node("ConvInteger", [x_q, w_q, x_zp], [acc], **conv_attrs)
    if np.any(w_zp != 0):
        op.input.append(g.const(w_zp.reshape(()) if wq.per_tensor else w_zp, w_q + "_zp"))
    head.append(op)

    w_scale = np.broadcast_to(wq.scale.reshape(-1), (out_channels,)).astype(np.float32)
    x_scale = xq.scale.reshape(-1)[0].astype(np.float32)
    y_scale = yq.scale.reshape(-1)[0].astype(np.float32)
    multiplier = (x_scale * w_scale) / y_scale  # float32, in MLAS's order
    nodes = head
    if bias is not None:
        b_q, bq = bias
        expected = x_scale * w_scale
        b_scale = np.broadcast_to(bq.scale.reshape(-1), (out_channels,))
        if np.any(bq.zero_point != 0) or not np.allclose(b_scale, expected, rtol=1e-6, atol=0):
            return None
        biased = g.tensor(acc)
        nodes.append(
            helper.make_node("Add", [acc, g.const(g.consts[b_q].astype(np.int32).reshape(broadcast), b_q)], [biased])
        )
        acc = biased
    out = q_node.output[0]
    if tail_shape is None:
        nodes += _requantize(g, acc, multiplier.reshape(broadcast), yq, bounds, out)
    else:
        four_d = g.tensor(out)
        nodes += _requantize(g, acc, multiplier.reshape(broadcast), yq, bounds, four_d)
        nodes.append(helper.make_node("Reshape", [four_d, tail_shape], [out]))
    return nodes, _absorbed(g, node, q_node, activation)


def _requantize(g: _Graph, acc, multiplier, yq: _Quant, bounds, out):
    """int32 -> float * M -> round half to even + zero point -> saturate [-> clamp]."""
    real, scaled = g.tensor(acc), g.tensor(acc)
    nodes = [
        helper.make_node("Cast", [acc], [real], to=TensorProto.FLOAT),
        helper.make_node("Mul", [real, g.const(multiplier, out + "_multiplier")], [scaled]),
    ]
    return nodes + _quantize(g, scaled, yq.zero_point.reshape(()), bounds, out)


def _quantize(g: _Graph, value, zero_point, bounds, out):
    """QuantizeLinear(value, 1, zero_point) -> `out`, clamped to `bounds` when they are narrower than the type."""
    info = np.iinfo(zero_point.dtype)
    clamps = tuple(bounds) != (info.min, info.max)
    quantized = g.tensor(out) if clamps else out
    one = g.const(np.float32(1.0), "one")
    nodes = [helper.make_node("QuantizeLinear", [value, one, g.const(zero_point, out + "_zp")], [quantized])]
    if clamps:
        lo, hi = (g.const(np.array(b, zero_point.dtype), out + "_bound") for b in bounds)
        nodes.append(helper.make_node("Clip", [quantized, lo, hi], [out]))
    return nodes


def _absorbed(g: _Graph, node, q_node, activation=None):
    """The nodes a fused unit replaces besides `node`: its Q, its activation,
    and the DQs that feed `node` alone."""
    absorbed = {g.producer[q_node.output[0]]}
    if activation is not None:
        absorbed.add(g.producer[activation.output[0]])
    for name in node.input:
        source = g.node(name)
        if source is not None and source.op_type == "DequantizeLinear" and _dead_after(g, g.producer[name], node):
            absorbed.add(g.producer[name])
    return absorbed


def _same_scale_unit(g: _Graph, node):
    """MaxPool or a shape op between a DQ and a Q of equal parameters -> on the
    quantized tensor (both commute with the op; MaxPool because quantization
    is monotonic)."""
    x = _dq(g, node.input[0])
    if x is None:
        return None
    reader = g.only_reader(node.output[0])
    if reader is None or reader.op_type != "QuantizeLinear":
        return None
    yq = _params(g, reader)
    if yq is None or not x[1].same_as(yq):
        return None
    inputs = [x[0], *node.input[1:]]
    if node.op_type == "Pad":
        mode = next((a.s for a in node.attribute if a.name == "mode"), b"constant")
        given = len(inputs) > 2 and inputs[2]
        if mode != b"constant" or (given and inputs[2] not in g.consts):
            return None
        value = g.consts[inputs[2]] if given else np.float32(0)
        if np.size(value) != 1:
            return None
        # The padding value, quantized (0.0 is the zero point).
        info = np.iinfo(yq.zero_point.dtype)
        code = np.rint(np.float32(value) / yq.scale.reshape(-1)[0]) + int(yq.zero_point.reshape(-1)[0])
        code = np.array(np.clip(code, info.min, info.max), yq.zero_point.dtype)
        inputs = [*inputs[:2], g.const(code, "pad_value"), *inputs[3:]]
    op = helper.make_node(node.op_type, inputs, [reader.output[0]])
    op.attribute.extend(node.attribute)
    return [op], _absorbed(g, node, reader)


def _global_average_unit(g: _Graph, node):
    """GlobalAveragePool between a DQ and a Q -> an int32 sum, requantized
    (onnxruntime's QLinearGlobalAveragePool: sum - x_zp * n, then
    M = x_scale / (y_scale * n))."""
    x = _dq(g, node.input[0])
    shape = g.shapes.get(node.input[0], ())
    tail = _output_q(g, node.output[0])
    if x is None or not x[1].per_tensor or len(shape) < 3 or 0 in shape or tail is None or tail[0] is not None:
        return None
    _, q_node, yq = tail
    x_q, xq = x
    count = int(np.prod(shape[2:]))
    wide, total, offset_total, flat = (g.tensor(node.output[0]) for _ in range(4))
    axes = g.const(np.arange(2, len(shape), dtype=np.int64), "axes")
    offset = g.const(np.array(-int(xq.zero_point.reshape(-1)[0]) * count, np.int32), "offset")
    # The sum drops the pooled dims and the int8 result gets them back: a
    # linalg sum into (n, c, 1, 1) has a result map upstream cannot tile.
    nodes = [
        helper.make_node("Cast", [x_q], [wide], to=TensorProto.INT32),
        helper.make_node("ReduceSum", [wide, axes], [total], keepdims=0),
        helper.make_node("Add", [total, offset], [offset_total]),
    ]
    x_scale, y_scale = xq.scale.reshape(-1)[0].astype(np.float32), yq.scale.reshape(-1)[0].astype(np.float32)
    multiplier = x_scale / (y_scale * np.float32(count))  # float32, in MLAS's order
    info = np.iinfo(yq.zero_point.dtype)
    nodes += _requantize(g, offset_total, multiplier, yq, (info.min, info.max), flat)
    nodes.append(helper.make_node("Unsqueeze", [flat, axes], [q_node.output[0]]))
    return nodes, _absorbed(g, node, q_node)


def _average_pool_unit(g: _Graph, node):
    """AveragePool between a DQ and a Q -> onnxruntime's QLinearAveragePool:
    the float mean of the dequantized window, then round(mean / y_scale +
    y_zp), the zero point added before rounding (QuantizeLinear adds it
    after, which differs on ties: a 2x2 mean often ends in .5). For a uint8
    model the zero point is the uint8 one, and the code is moved to int8
    after rounding, as onnxruntime rounds uint8 values. A window over the
    whole map is a global pool, as in onnxruntime."""
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    shape = g.shapes.get(node.input[0], ())
    if list(attributes.get("kernel_shape", [])) == list(shape[2:]) and not any(attributes.get("pads", [])):
        return _global_average_unit(g, node)  # as onnxruntime falls back to its global pool
    x = _dq(g, node.input[0])
    tail = _output_q(g, node.output[0])
    if x is None or not x[1].per_tensor or tail is None or tail[0] is not None:
        return None
    _, q_node, yq = tail
    offset = 128 if q_node.input[2] in g.from_uint8 else 0
    real, mean, scaled, shifted = (g.tensor(node.output[0]) for _ in range(4))
    pool = helper.make_node("AveragePool", [real], [mean])
    pool.attribute.extend(node.attribute)
    zero_point = int(yq.zero_point.reshape(-1)[0]) + offset
    nodes = [
        helper.make_node("DequantizeLinear", list(g.node(node.input[0]).input), [real]),
        pool,
        helper.make_node("Div", [mean, g.const(yq.scale.reshape(()), "scale")], [scaled]),
        helper.make_node("Add", [scaled, g.const(np.float32(zero_point), "zero_point")], [shifted]),
    ]
    code = np.array(-offset, yq.zero_point.dtype)
    info = np.iinfo(yq.zero_point.dtype)
    return nodes + _quantize(g, shifted, code, (info.min, info.max), q_node.output[0]), _absorbed(g, node, q_node)


def _softmax_unit(g: _Graph, node):
    """Softmax over the last axis between a DQ and a Q -> onnxruntime's
    QLinearSoftmax, which is not DQ -> Softmax -> Q: per row,

        e_i = float32(exp(((x_i - max x) + shift) * x_scale))  (float64 exp)
        y_i = round((e_i * floor(1 / y_scale)) / sum e) + y_zp, at most 255

    with shift = max(0, ln(FLT_MAX / D) - 5) / x_scale, and an int8 result
    taken modulo 256 as onnxruntime casts it (a probability near 1 with the
    zero point -128 comes out as -128)."""
    x = _dq(g, node.input[0])
    tail = _output_q(g, node.output[0])
    shape = g.shapes.get(node.input[0], ())
    axis = next((a.i for a in node.attribute if a.name == "axis"), -1)
    if x is None or not x[1].per_tensor or tail is None or tail[0] is not None or not shape or 0 in shape:
        return None
    if axis % len(shape) != len(shape) - 1:
        return None
    _, q_node, yq = tail
    unsigned = q_node.input[2] in g.from_uint8
    x_scale = float(x[1].scale.reshape(-1)[0])
    shift = max(0.0, np.log(np.finfo(np.float32).max / shape[-1]) - 5) / x_scale
    y_scale = np.floor(np.float32(1) / yq.scale.reshape(-1)[0].astype(np.float32))
    zero_point = int(yq.zero_point.reshape(-1)[0]) + (128 if unsigned else 0)
    last = g.const(np.array([-1], np.int64), "axes")
    t = [g.tensor(node.output[0]) for _ in range(16)]
    nodes = [
        helper.make_node("Cast", [x[0]], [t[0]], to=TensorProto.INT32),
        helper.make_node("ReduceMax", [t[0]], [t[1]], axes=[-1], keepdims=1),
        helper.make_node("Sub", [t[0], t[1]], [t[2]]),
        helper.make_node("Cast", [t[2]], [t[3]], to=TensorProto.DOUBLE),
        helper.make_node("Add", [t[3], g.const(np.float64(shift), "shift")], [t[4]]),
        helper.make_node("Mul", [t[4], g.const(np.float64(x_scale), "x_scale")], [t[5]]),
        helper.make_node("Exp", [t[5]], [t[6]]),
        helper.make_node("Cast", [t[6]], [t[7]], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", [t[7], last], [t[8]], keepdims=1),
        helper.make_node("Mul", [t[7], g.const(np.float32(y_scale), "y_scale")], [t[9]]),
        helper.make_node("Div", [t[9], t[8]], [t[10]]),
        helper.make_node("Round", [t[10]], [t[11]]),
        helper.make_node("Cast", [t[11]], [t[12]], to=TensorProto.INT32),
        helper.make_node("Add", [t[12], g.const(np.int32(zero_point), "zero_point")], [t[13]]),
        helper.make_node("Min", [t[13], g.const(np.int32(255), "most")], [t[14]]),
    ]
    if unsigned:  # uint8 codes are stored 128 lower
        nodes.append(helper.make_node("Sub", [t[14], g.const(np.int32(128), "code")], [t[15]]))
        nodes.append(helper.make_node("Cast", [t[15]], [q_node.output[0]], to=TensorProto.INT8))
    else:
        nodes.append(helper.make_node("Cast", [t[14]], [q_node.output[0]], to=TensorProto.INT8))
    return nodes, _absorbed(g, node, q_node)


def _fma32(a, b, c):
    """float32 a * b + c rounded once, as an FMA instruction does."""
    return np.float32(np.float64(a) * np.float64(b) + np.float64(c))


def _add_unit(g: _Graph, node):
    """Add of two DQs of the same shape, then one Q -> onnxruntime's
    QLinearAdd (its x86 AVX2 kernel), on the codes of the model's own type:

        t = fma(a, sA/sC, fma(b, sB/sC, zC - (sA/sC * zA + sB/sC * zB)))
        c = saturate(round_half_even(t))

    Each fma is a float64 product and sum rounded once to float32, which is
    exact for 8-bit codes: the C keeps float32 semantics on any target."""
    a, b = _dq(g, node.input[0]), _dq(g, node.input[1])
    tail = _output_q(g, node.output[0])
    if a is None or b is None or tail is None or not a[1].per_tensor or not b[1].per_tensor:
        return None
    shape_a, shape_b = g.shapes.get(node.input[0]), g.shapes.get(node.input[1])
    if not shape_a or shape_a != shape_b:
        return None
    activation, q_node, yq = tail
    bounds = _clip_bounds(g, activation, yq)
    if bounds is None:
        return None
    scale = {k: q.scale.reshape(-1)[0].astype(np.float32) for k, q in (("a", a[1]), ("b", b[1]), ("c", yq))}
    dqs = [g.node(name) for name in node.input]
    unsigned = [dq.input[2] in g.from_uint8 for dq in dqs] + [q_node.input[2] in g.from_uint8]
    if len(set(unsigned)) != 1:
        return None
    offset = 128 if unsigned[0] else 0  # uint8 codes are the int8 values 128 higher
    code = {k: int(q.zero_point.reshape(-1)[0]) + offset for k, q in (("a", a[1]), ("b", b[1]), ("c", yq))}
    ratio_a, ratio_b = scale["a"] / scale["c"], scale["b"] / scale["c"]
    fixed = np.float32(code["c"]) - _fma32(ratio_a, np.float32(code["a"]), ratio_b * np.float32(code["b"]))

    def widened(x_q):  # the code, as float64
        wide = g.tensor(x_q)
        nodes.append(helper.make_node("Cast", [x_q], [wide], to=TensorProto.DOUBLE))
        if not offset:
            return wide
        shifted = g.tensor(x_q)
        nodes.append(helper.make_node("Add", [wide, g.const(np.float64(offset), "code")], [shifted]))
        return shifted

    def fma(x, ratio, addend):  # round(x * ratio + addend) to float32, back in float64
        product, total, single, double = (g.tensor(node.output[0]) for _ in range(4))
        nodes.extend(
            [
                helper.make_node("Mul", [x, g.const(np.float64(ratio), "ratio")], [product]),
                helper.make_node("Add", [product, addend], [total]),
                helper.make_node("Cast", [total], [single], to=TensorProto.FLOAT),
                helper.make_node("Cast", [single], [double], to=TensorProto.DOUBLE),
            ]
        )
        return double, single

    nodes = []
    b_code, a_code = widened(b[0]), widened(a[0])
    partial, _ = fma(b_code, ratio_b, g.const(np.float64(fixed), "fixed"))
    _, t = fma(a_code, ratio_a, partial)
    out = q_node.output[0]
    centred = t
    if offset:
        centred = g.tensor(out)
        nodes.append(helper.make_node("Sub", [t, g.const(np.float32(offset), "code")], [centred]))
    nodes += _quantize(g, centred, np.zeros((), yq.zero_point.dtype), bounds, out)
    return nodes, _absorbed(g, node, q_node, activation)


def _dead_after(g: _Graph, producer_index, consumer) -> bool:
    """True when the node at `producer_index` feeds only `consumer` (and no graph output)."""
    for out in g.nodes[producer_index].output:
        if out in g.outputs or any(g.nodes[r] is not consumer for r in g.readers.get(out, [])):
            return False
    return True


# -- the graph's boundary and the new model --------------------------------------------


def _quantized_boundary(g: _Graph, entries):
    """Float inputs read only by equal QuantizeLinears, and outputs made by a
    DequantizeLinear, become the quantized tensors (in place in `entries`)."""

    def readers(name):
        return [node for node, _ in entries if name in node.input]

    def remove(node):
        entries[:] = [e for e in entries if e[0] is not node]

    for value in g.graph.input:
        quantizers = [] if value.name in g.consts else readers(value.name)
        params = [_params(g, q) if q.op_type == "QuantizeLinear" else None for q in quantizers]
        if not quantizers or any(p is None or not p.same_as(params[0]) for p in params):
            continue
        for q in quantizers:
            remove(q)
            _rename(entries, q.output[0], value.name)
        _retype(value, params[0])
    for value in g.graph.output:
        dq = next((node for node, _ in entries if value.name in node.output), None)
        p = _params(g, dq) if dq is not None and dq.op_type == "DequantizeLinear" else None
        if p is None or not p.per_tensor or readers(value.name):
            continue
        remove(dq)
        _rename(entries, dq.input[0], value.name)
        _retype(value, p)


def _retype(value, q: _Quant):
    """A graph input or output becomes a tensor of `q`'s integer type."""
    value.type.tensor_type.elem_type = helper.np_dtype_to_tensor_dtype(q.zero_point.dtype)


def _rename(entries, old, new):
    for node, _ in entries:
        for seq in (node.input, node.output):
            for k, name in enumerate(seq):
                if name == old:
                    seq[k] = new


def _live(g: _Graph, entries):
    """The entries whose outputs are still read (dead Q/DQ nodes and constants go)."""
    needed = {v.name for v in g.graph.output}
    kept = []
    for node, origin in reversed(entries):
        if any(out in needed for out in node.output):
            kept.append((node, origin))
            needed.update(node.input)
    return kept[::-1]


def _fold_constant_dequantize(g: _Graph, entries):
    """A DQ of a constant that no unit absorbed (the weights of an op left in
    fake quantization) becomes its float constant: computed once here, in
    float32 as DequantizeLinear does, it lives in flash instead of being
    dequantized into the arena at run time."""
    kept = []
    for node, origin in entries:
        q = _params(g, node) if node.op_type == "DequantizeLinear" else None
        if q is None or node.input[0] not in g.consts or node.output[0] in g.outputs:
            kept.append((node, origin))
            continue
        codes = g.consts[node.input[0]].astype(np.int64)
        scale, zero_point = q.scale, q.zero_point.astype(np.int64)
        if not q.per_tensor:
            along = [1] * codes.ndim
            along[q.axis % codes.ndim] = -1
            scale, zero_point = scale.reshape(along), zero_point.reshape(along)
        real = (codes - zero_point.reshape(scale.shape)).astype(np.float32) * scale
        g.new_consts[node.output[0]] = g.consts[node.output[0]] = real.astype(np.float32)
    return kept


def _join_neighbours(g: _Graph, entries):
    """A DQ that is left feeds its only reader's kernel, and a Q that is left
    belongs to its producer's: fake-quantized node units then keep their
    float values per element, and the arena holds the quantized tensors only."""
    readers, producer = {}, {}
    for node, origin in entries:
        for name in node.input:
            readers.setdefault(name, []).append(origin)
        for name in node.output:
            producer[name] = (node, origin)
    joined = []
    for node, origin in entries:
        out = node.output[0]
        if node.op_type == "DequantizeLinear" and len(readers.get(out, [])) == 1 and out not in g.outputs:
            origin = readers[out][0]
        elif node.op_type == "QuantizeLinear" and node.input[0] in producer and len(readers[node.input[0]]) == 1:
            source, source_origin = producer[node.input[0]]
            if source.op_type not in ("QuantizeLinear", "DequantizeLinear"):
                origin = source_origin
        joined.append((node, origin))
    return joined


def _model(g: _Graph, nodes):
    """A copy of the original model with `nodes` and the constants they read."""
    used = {name for node in nodes for name in node.input}
    model = type(g.model)()
    model.CopyFrom(g.model)
    graph = model.graph
    del graph.node[:]
    graph.node.extend(nodes)
    initializers = [t for t in g.graph.initializer if t.name in used]
    initializers += [numpy_helper.from_array(a, name) for name, a in g.new_consts.items() if name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.value_info[:]
    inputs = [v for v in g.graph.input if v.name not in g.consts or v.name in used]
    del graph.input[:]
    graph.input.extend(inputs)
    return model
