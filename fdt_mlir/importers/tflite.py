"""TFLite flatbuffer -> TOSA 1.0 (then linalg through the upstream passes).

Each supported builtin operator has one converter below, registered in
CONVERTERS. Converters build TOSA with the exact integer semantics of the
TFLM reference kernels: multipliers come from `tflite_quant`, rescales use
TOSA's double rounding (equal to TFLite's MultiplyByQuantizedMultiplier), and
where TOSA's own definition differs from TFLM (average pooling's rounding) the
converter spells out TFLM's arithmetic with plain TOSA ops.
"""

import numpy as np
from mlir import ir
from mlir.dialects import func

from ..errors import FdtError
from . import tflite_quant as q
from .tflite_reader import Graph, Tensor, read_tflite


def element_type(dtype) -> ir.Type:
    if dtype == np.float32:
        return ir.F32Type.get()
    if dtype == np.int64:
        return ir.IntegerType.get_signless(64)
    if dtype == np.bool_:
        return ir.IntegerType.get_signless(1)
    bits = np.dtype(dtype).itemsize * 8
    return ir.IntegerType.get_signless(bits)


def tensor_type(shape, dtype) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), element_type(dtype))


def dense(array: np.ndarray, dtype=None) -> ir.DenseElementsAttr:
    array = np.ascontiguousarray(array if dtype is None else np.asarray(array, dtype=dtype))
    ttype = tensor_type(array.shape, array.dtype.type)
    if array.dtype == np.bool_:
        return ir.DenseElementsAttr.get(np.packbits(array, bitorder="little"), type=ttype)
    return ir.DenseElementsAttr.get(array, type=ttype)


def _i64_array(values) -> ir.Attribute:
    return ir.DenseI64ArrayAttr.get([int(v) for v in values])


class TosaBuilder:
    """Emits TOSA ops at the current insertion point; one method per op shape."""

    def op(self, name, operands, result_type, **attrs):
        attributes = {k: v for k, v in attrs.items() if v is not None}
        return ir.Operation.create(name, results=[result_type], operands=list(operands), attributes=attributes).result

    def const(self, array, dtype=None):
        attr = dense(array, dtype)
        return self.op("tosa.const", [], attr.type, values=attr)

    def shape(self, dims):
        dims = [int(d) for d in dims]
        index = ir.IndexType.get()
        attr = ir.DenseElementsAttr.get(np.asarray(dims, dtype=np.int64), type=ir.RankedTensorType.get([len(dims)], index))
        shape_type = ir.Type.parse(f"!tosa.shape<{len(dims)}>")
        return self.op("tosa.const_shape", [], shape_type, values=attr)

    def zp(self, value, dtype):
        return self.const(np.asarray([value]), dtype)

    def reshape(self, x, shape):
        etype = ir.RankedTensorType(x.type).element_type
        if list(ir.RankedTensorType(x.type).shape) == list(shape):
            return x
        return self.op("tosa.reshape", [x, self.shape(shape)], ir.RankedTensorType.get(list(shape), etype))

    def rescale(self, x, multipliers, shifts, input_zp, output_zp, out_dtype, in_dtype=np.int32):
        """TFLite requantization: shifts are TFLite exponents, one per channel or one."""
        per_channel = len(multipliers) > 1
        mult, shift = zip(*(q.tosa_rescale_params(m, s) for m, s in zip(multipliers, shifts)))
        shape = ir.RankedTensorType(x.type).shape
        return self.op(
            "tosa.rescale",
            [
                x,
                self.const(np.asarray(mult), np.int32),
                self.const(np.asarray(shift), np.int8),
                self.zp(input_zp, in_dtype),
                self.zp(output_zp, out_dtype),
            ],
            tensor_type(shape, out_dtype),
            scale32=ir.BoolAttr.get(True),
            rounding_mode=ir.Attribute.parse("#tosa.rounding_mode<DOUBLE_ROUND>"),
            per_channel=ir.BoolAttr.get(per_channel),
            input_unsigned=ir.BoolAttr.get(False),
            output_unsigned=ir.BoolAttr.get(False),
        )

    def clamp(self, x, lo, hi):
        etype = ir.RankedTensorType(x.type).element_type
        if isinstance(etype, ir.F32Type):
            mk = lambda v: ir.FloatAttr.get(etype, float(v))  # noqa: E731
        else:
            mk = lambda v: ir.IntegerAttr.get(etype, int(v))  # noqa: E731
        return self.op("tosa.clamp", [x], x.type, min_val=mk(lo), max_val=mk(hi))


class TFLiteImporter:
    def __init__(self, graph: Graph):
        self.g = graph
        self.b = TosaBuilder()
        self.values: dict[int, ir.Value] = {}

    # -- helpers ---------------------------------------------------------
    def t(self, index) -> Tensor:
        return self.g.tensors[index]

    def value(self, index):
        if index in self.values:
            return self.values[index]
        t = self.t(index)
        if t.data is None:
            raise FdtError(f"tensor '{t.name}' is read before it is computed")
        v = self.b.const(t.data)
        self.values[index] = v
        return v

    def result_type(self, index):
        t = self.t(index)
        return tensor_type(t.shape, t.dtype)

    def activation_range(self, fused: int, out: Tensor):
        """TFLM's CalculateActivationRange(Quantized) for a fused activation."""
        if out.dtype == np.float32:
            return {0: None, 1: (0.0, float("inf")), 2: (-1.0, 1.0), 3: (0.0, 6.0)}.get(fused, "unsupported")
        info = np.iinfo(out.dtype)
        lo, hi = info.min, info.max
        scale, zp = float(out.scale[0]), int(out.zero_point[0])

        def quant(f):
            return zp + q._round_half_away(float(np.float32(f) / np.float32(scale)))

        if fused == 0:
            return lo, hi
        if fused == 1:
            return max(lo, quant(0.0)), hi
        if fused == 2:
            return max(lo, quant(-1.0)), min(hi, quant(1.0))
        if fused == 3:
            return max(lo, quant(0.0)), min(hi, quant(6.0))
        return "unsupported"

    def activate(self, x, fused, out: Tensor, opname):
        rng = self.activation_range(fused, out)
        if rng == "unsupported":
            raise FdtError(f"{opname}: fused activation {fused} is not supported")
        if rng is None:
            return x
        lo, hi = rng
        if out.dtype == np.float32:
            hi = min(hi, 3.4028234663852886e38)
        elif (lo, hi) == (np.iinfo(out.dtype).min, np.iinfo(out.dtype).max):
            return x
        return self.b.clamp(x, lo, hi)

    # -- driver ----------------------------------------------------------
    def build(self) -> ir.Module:
        g = self.g
        module = ir.Module.create()
        module.operation.attributes["fdt.model"] = ir.StringAttr.get(g.name)
        with ir.InsertionPoint(module.body):
            in_types = [self.result_type(i) for i in g.inputs]
            out_types = [self.result_type(i) for i in g.outputs]
            fn = func.FuncOp(g.name, (in_types, out_types))
            fn.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
            block = fn.add_entry_block()
            with ir.InsertionPoint(block):
                for arg, index in zip(block.arguments, g.inputs):
                    self.values[index] = arg
                for op in g.operators:
                    convert = CONVERTERS.get(op.opcode)
                    if convert is None:
                        raise FdtError(f"unsupported TFLite operator {op.opcode} (operator {op.index})")
                    with ir.Location.name(f"{op.opcode}:{op.index}"):
                        results = convert(self, op)
                    for index, v in zip(op.outputs, results):
                        self.values[index] = v
                func.ReturnOp([self.value(i) for i in g.outputs])
        return module


# -- converters ------------------------------------------------------------

def _same_padding(in_size, k, stride, dilation, padding):
    if padding == 1:  # VALID
        return 0, 0
    out = (in_size + stride - 1) // stride
    eff = (k - 1) * dilation + 1
    total = max((out - 1) * stride + eff - in_size, 0)
    return total // 2, total - total // 2


def _windows(imp, x, x_t, out_t, kernel, stride, dilation, padding):
    """TFLite window padding as TOSA wants it: TOSA requires the last window to
    end exactly at the padded edge, so trailing rows no window reads are
    dropped from the bottom padding first and then cropped from the input."""
    pads, crop = [], list(x_t.shape)
    for axis, (k, s, d) in enumerate(zip(kernel, stride, dilation)):
        size = x_t.shape[1 + axis]
        lo, hi = _same_padding(size, k, s, d, padding)
        hi = (out_t.shape[1 + axis] - 1) * s + (k - 1) * d + 1 - size - lo
        if hi < 0:
            crop[1 + axis] = size + hi
            hi = 0
        pads += [lo, hi]
    if crop != list(x_t.shape):
        b = imp.b
        x = b.op("tosa.slice", [x, b.shape([0] * len(crop)), b.shape(crop)], tensor_type(crop, x_t.dtype))
    return x, pads


def _conv_like(imp: TFLiteImporter, op, depthwise: bool):
    o = op.options
    x_t, w_t, out = imp.t(op.inputs[0]), imp.t(op.inputs[1]), imp.t(op.outputs[0])
    if w_t.data is None:
        raise FdtError(f"{op.opcode} {op.index}: non-constant weights are not supported")
    ic = x_t.shape[3]
    w = w_t.data
    if depthwise:
        _, kh, kw, oc = w.shape
        weights = w.reshape(kh, kw, ic, oc // ic)
    else:
        oc, kh, kw, _ = w.shape
        weights = w
    dh, dw = o.DilationHFactor(), o.DilationWFactor()
    sh, sw = o.StrideH(), o.StrideW()
    x, pad = _windows(imp, imp.value(op.inputs[0]), x_t, out, (kh, kw), (sh, sw), (dh, dw), o.Padding())
    quant = x_t.quantized
    acc = np.int32 if quant else np.float32
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        bias = imp.t(op.inputs[2]).data
    else:
        bias = np.zeros(oc, dtype=acc)
    b = imp.b
    izp = int(x_t.zero_point[0]) if quant else 0
    wzp = int(w_t.zero_point[0]) if quant else 0
    in_dt = x_t.dtype
    res = b.op(
        "tosa.depthwise_conv2d" if depthwise else "tosa.conv2d",
        [x, b.const(weights), b.const(bias, acc), b.zp(izp, in_dt), b.zp(wzp, w_t.dtype)],
        tensor_type(out.shape, acc),
        pad=_i64_array(pad),
        stride=_i64_array([sh, sw]),
        dilation=_i64_array([dh, dw]),
        acc_type=ir.TypeAttr.get(element_type(acc)),
    )
    if quant:
        mults, shifts = q.conv_multipliers(x_t.scale[0], w_t.scale, out.scale[0], oc)
        res = b.rescale(res, mults, shifts, 0, int(out.zero_point[0]), out.dtype)
    return [imp.activate(res, o.FusedActivationFunction(), out, op.opcode)]


def _conv2d(imp, op):
    return _conv_like(imp, op, depthwise=False)


def _depthwise_conv2d(imp, op):
    return _conv_like(imp, op, depthwise=True)


def _fully_connected(imp, op):
    o = op.options
    x_t, w_t, out = imp.t(op.inputs[0]), imp.t(op.inputs[1]), imp.t(op.outputs[0])
    if w_t.data is None:
        raise FdtError(f"FULLY_CONNECTED {op.index}: non-constant weights are not supported")
    units, depth = w_t.data.shape
    rows = int(np.prod(x_t.shape)) // depth
    b = imp.b
    quant = x_t.quantized
    acc = np.int32 if quant else np.float32
    x = b.reshape(imp.value(op.inputs[0]), [1, rows, depth])
    w = b.const(np.ascontiguousarray(w_t.data.T).reshape(1, depth, units))
    izp = int(x_t.zero_point[0]) if quant else 0
    wzp = int(w_t.zero_point[0]) if quant else 0
    res = b.op("tosa.matmul", [x, w, b.zp(izp, x_t.dtype), b.zp(wzp, w_t.dtype)], tensor_type([1, rows, units], acc))
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        bias = imp.t(op.inputs[2]).data.reshape(1, 1, units)
        res = b.op("tosa.add", [res, b.const(bias, acc)], res.type)
    if quant:
        if w_t.scale.size > 1:
            mults, shifts = q.conv_multipliers(x_t.scale[0], w_t.scale, out.scale[0], units)
        else:
            m, s = q.fully_connected_multiplier(x_t.scale[0], w_t.scale[0], out.scale[0])
            mults, shifts = [m], [s]
        res = b.rescale(res, mults, shifts, 0, int(out.zero_point[0]), out.dtype)
    res = imp.activate(res, o.FusedActivationFunction(), out, op.opcode)
    return [b.reshape(res, out.shape)]


def _pool_params(imp, op):
    o = op.options
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    kernel, stride = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
    x, pad = _windows(imp, imp.value(op.inputs[0]), x_t, out, kernel, stride, (1, 1), o.Padding())
    return x, kernel, stride, pad


def _max_pool2d(imp, op):
    out = imp.t(op.outputs[0])
    x, kernel, stride, pad = _pool_params(imp, op)
    res = imp.b.op(
        "tosa.max_pool2d",
        [x],
        imp.result_type(op.outputs[0]),
        kernel=_i64_array(kernel),
        stride=_i64_array(stride),
        pad=_i64_array(pad),
    )
    return [imp.activate(res, op.options.FusedActivationFunction(), out, op.opcode)]


def _average_pool2d(imp, op):
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    x, kernel, stride, pad = _pool_params(imp, op)
    b = imp.b
    if not x_t.quantized:
        zero = b.const(np.zeros(1, np.float32))
        res = b.op(
            "tosa.avg_pool2d",
            [x, zero, zero],
            imp.result_type(op.outputs[0]),
            kernel=_i64_array(kernel),
            stride=_i64_array(stride),
            pad=_i64_array(pad),
            acc_type=ir.TypeAttr.get(ir.F32Type.get()),
        )
        return [imp.activate(res, op.options.FusedActivationFunction(), out, op.opcode)]
    n, h, w, c = x_t.shape
    if kernel != (h, w) or any(pad):
        raise FdtError(f"AVERAGE_POOL_2D {op.index}: only global int8 average pooling is supported")
    # TFLM: sum of the raw int8 values, then division rounding half away from zero.
    count = h * w
    wide = b.op("tosa.cast", [b.reshape(x, [n, h * w, c])], tensor_type([n, h * w, c], np.int32))
    total = b.op("tosa.reduce_sum", [wide], tensor_type([n, 1, c], np.int32), axis=ir.IntegerAttr.get(ir.IntegerType.get_signless(32), 1))
    zero = b.const(np.zeros((1, 1, 1), np.int32))
    half = b.const(np.full((1, 1, 1), count // 2, np.int32))
    positive = b.op("tosa.greater", [total, zero], tensor_type([n, 1, c], np.bool_))
    up = b.op("tosa.add", [total, half], total.type)
    down = b.op("tosa.sub", [total, half], total.type)
    rounded = b.op("tosa.select", [positive, up, down], total.type)
    avg = b.op("tosa.intdiv", [rounded, b.const(np.full((1, 1, 1), count, np.int32))], total.type)
    lo, hi = imp.activation_range(op.options.FusedActivationFunction(), out)
    avg = b.clamp(avg, lo, hi)
    res = b.op("tosa.cast", [avg], tensor_type([n, 1, c], out.dtype))
    return [b.reshape(res, out.shape)]


def _reshape(imp, op):
    return [imp.b.reshape(imp.value(op.inputs[0]), imp.t(op.outputs[0]).shape)]


def _softmax(imp, op):
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    if x_t.quantized:
        raise FdtError(f"SOFTMAX {op.index}: int8 softmax is not supported yet")
    b = imp.b
    x = imp.value(op.inputs[0])
    shape = list(x_t.shape)
    axis = len(shape) - 1
    red_shape = shape[:-1] + [1]
    i32 = ir.IntegerType.get_signless(32)
    red_t = tensor_type(red_shape, np.float32)
    mx = b.op("tosa.reduce_max", [x], red_t, axis=ir.IntegerAttr.get(i32, axis))
    diff = b.op("tosa.sub", [x, mx], x.type)
    beta = float(np.float32(op.options.Beta()))
    if beta != 1.0:
        shift = b.const(np.zeros(1, np.int8))
        diff = b.op("tosa.mul", [diff, b.const(np.full([1] * len(shape), beta, np.float32)), shift], x.type)
    e = b.op("tosa.exp", [diff], x.type)
    s = b.op("tosa.reduce_sum", [e], red_t, axis=ir.IntegerAttr.get(i32, axis))
    r = b.op("tosa.reciprocal", [s], red_t)
    return [b.op("tosa.mul", [e, r, b.const(np.zeros(1, np.int8))], x.type)]


CONVERTERS = {
    "CONV_2D": _conv2d,
    "DEPTHWISE_CONV_2D": _depthwise_conv2d,
    "FULLY_CONNECTED": _fully_connected,
    "MAX_POOL_2D": _max_pool2d,
    "AVERAGE_POOL_2D": _average_pool2d,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "SOFTMAX": _softmax,
}


def import_tflite(path: str, name: str) -> ir.Module:
    """Reads `path` and returns a TOSA module with one function named `name`."""
    graph = read_tflite(path, name)
    module = TFLiteImporter(graph).build()
    if not module.operation.verify():
        raise FdtError(f"internal error: the TOSA built for '{path}' does not verify")
    return module
