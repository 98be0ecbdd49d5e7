"""TFLite flatbuffer -> TOSA 1.0 (then linalg through the upstream passes).

Each supported builtin operator has one converter below, registered in
CONVERTERS. Converters build TOSA with the exact integer semantics of the
TFLM reference kernels: multipliers come from `tflite_quant`, rescales use
TOSA's double rounding (equal to TFLite's MultiplyByQuantizedMultiplier), and
where TOSA's own definition differs from TFLM (average pooling's rounding,
float-to-integer casts and quantization, int8 softmax's gemmlowp fixed
point) the converter spells out TFLM's arithmetic with plain TOSA ops.
Values that depend on one int8 value only (int8 LOGISTIC and TANH outputs,
softmax exps) are tables computed at compile time by `tflite_fixedpoint`;
the int16 sigmoid and tanh of the int8 LSTM interpolate at run time in
TFLite's 256-entry sigmoid table, as TFLM does.
"""

import numpy as np
from mlir import ir
from mlir.dialects import arith, func, linalg, math, tensor

from ..dialect.ops import ELEMENT_TYPE_ATTR, MODEL_ATTR, SCALE_ATTR, STATE_ATTR, STATE_START_ATTR, ZERO_POINT_ATTR
from ..errors import FdtError
from . import tflite_fixedpoint as fx
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


def numpy_dtype(t: ir.Type) -> type:
    """The numpy dtype of a tensor type's elements (signless means signed)."""
    etype = t.element_type if isinstance(t, ir.ShapedType) else t
    if isinstance(etype, ir.F32Type):
        return np.float32
    return {1: np.bool_, 8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}[etype.width]


def _broadcast_type(x, y) -> ir.RankedTensorType:
    """The result type of a TOSA elementwise op on equal-rank operands."""
    xt, yt = ir.RankedTensorType(x.type), ir.RankedTensorType(y.type)
    shape = [max(a, c) for a, c in zip(xt.shape, yt.shape)]
    return ir.RankedTensorType.get(shape, xt.element_type)


def _axis(axis: int) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(32), axis)


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
        attr = ir.DenseElementsAttr.get(
            np.asarray(dims, dtype=np.int64), type=ir.RankedTensorType.get([len(dims)], index)
        )
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
        """TFLite requantization: shifts are TFLite exponents, one per channel
        or one. A uint8 `in_dtype` or `out_dtype` makes TOSA read or write the
        (signless) 8 bits as unsigned: TOSA keeps uint8 only here."""
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
            input_unsigned=ir.BoolAttr.get(in_dtype == np.uint8),
            output_unsigned=ir.BoolAttr.get(out_dtype == np.uint8),
        )

    def widen(self, x, zero_point, left_shift=0, dtype=None):
        """(x - zero_point) * 2^left_shift in int32, exactly: a rescale by
        2^30 * 2^-(30 - left_shift). `dtype` of x if not signed (uint8)."""
        dtype = dtype or numpy_dtype(x.type)
        return self.rescale(x, [1 << 30], [1 + left_shift], zero_point, 0, np.int32, in_dtype=dtype)

    def full(self, value, like, dtype=None):
        """A constant of one element broadcastable against `like`'s rank."""
        like = ir.RankedTensorType(like.type)
        return self.const(np.full([1] * like.rank, value), dtype or numpy_dtype(like))

    def cast(self, x, dtype):
        return self.op("tosa.cast", [x], tensor_type(ir.RankedTensorType(x.type).shape, dtype))

    def mul(self, x, y, shift=0):
        """Elementwise product; an int32 `shift` rounds half up after the
        shift: with shift 31 that is gemmlowp's SaturatingRoundingDoublingHighMul
        (its one saturating case, both operands INT32_MIN, never arises here)."""
        out = _broadcast_type(x, y)
        return self.op("tosa.mul", [x, y, self.const(np.asarray([shift]), np.int8)], out)

    def binary(self, name, x, y, dtype=None):
        """A TOSA elementwise op on two equal-rank operands; `dtype` of the
        result if not the operands' (comparisons)."""
        out = _broadcast_type(x, y)
        if dtype is not None:
            out = tensor_type(out.shape, dtype)
        return self.op(f"tosa.{name}", [x, y], out)

    def shift_right(self, x, amount, round_half_up=False):
        out = _broadcast_type(x, amount)
        return self.op("tosa.arithmetic_right_shift", [x, amount], out, round=ir.BoolAttr.get(round_half_up))

    def reduce(self, name, x, axis):
        shape = list(ir.RankedTensorType(x.type).shape)
        shape[axis] = 1
        etype = ir.RankedTensorType(x.type).element_type
        return self.op(f"tosa.reduce_{name}", [x], ir.RankedTensorType.get(shape, etype), axis=_axis(axis))

    def clamp(self, x, lo, hi):
        """tosa.clamp, or maximum and minimum on int32 (no TOSA profile
        clamps int32)."""
        etype = ir.RankedTensorType(x.type).element_type
        if numpy_dtype(etype) == np.int32:
            return self.binary("minimum", self.binary("maximum", x, self.full(lo, x)), self.full(hi, x))
        if isinstance(etype, ir.F32Type):
            mk = lambda v: ir.FloatAttr.get(etype, float(v))  # noqa: E731
        else:
            mk = lambda v: ir.IntegerAttr.get(etype, int(v))  # noqa: E731
        return self.op("tosa.clamp", [x], x.type, min_val=mk(lo), max_val=mk(hi))


# TOSA has no uint8 arithmetic, only rescales that read or write uint8.
_UINT8_OPERATORS = {"QUANTIZE", "DEQUANTIZE"}


class TFLiteImporter:
    def __init__(self, graph: Graph):
        self.g = graph
        self.b = TosaBuilder()
        self.values: dict[int, ir.Value] = {}
        self.block = None
        self.state_args: dict[int, ir.Value] = {}  # variable tensor -> its value at the start of the invoke
        self.new_states: dict[int, ir.Value] = {}  # variable tensor -> its value at the end

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
            return zp + q.round_half_away(float(np.float32(f) / np.float32(scale)))

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

    def state(self, index, shape=None):
        """A variable tensor's value at the start of the invoke (of `shape`,
        default its own): a function argument after the model inputs, marked
        as state (`_type_states`)."""
        if index in self.state_args:
            raise FdtError(f"variable tensor '{self.t(index).name}' is used by two operators")
        t = self.t(index)
        value_type = tensor_type(t.shape if shape is None else shape, t.dtype)
        self.state_args[index] = self.block.add_argument(value_type, ir.Location.unknown())
        return self.state_args[index]

    def set_state(self, index, value):
        """The variable tensor at the end of the invoke: `value`, or, if it
        is shorter along the last axis, the state's newest entries, which
        the oldest make room for (a FIFO, fdt-state-to-globals)."""
        self.new_states[index] = value

    # -- driver ----------------------------------------------------------
    def io_attrs(self, index) -> ir.DictAttr:
        """What C needs to know of a model input or output beyond its type:
        uint8 is signless i8 in TOSA, so say so; and a per-tensor
        quantization's scale and zero point (for the header's macros)."""
        t = self.t(index)
        attrs = {}
        if t.dtype == np.uint8:
            attrs[ELEMENT_TYPE_ATTR] = ir.TypeAttr.get(ir.IntegerType.get_unsigned(8))
        if t.quantized and t.scale.size == 1:
            attrs[SCALE_ATTR] = ir.FloatAttr.get_f64(float(t.scale.reshape(-1)[0]))
            attrs[ZERO_POINT_ATTR] = ir.IntegerAttr.get(
                ir.IntegerType.get_signless(64), int(t.zero_point.reshape(-1)[0])
            )
        return ir.DictAttr.get(attrs)

    def build(self) -> ir.Module:
        g = self.g
        _check_supported(g.operators)
        module = ir.Module.create()
        module.operation.attributes[MODEL_ATTR] = ir.StringAttr.get(g.name)
        with ir.InsertionPoint(module.body):
            in_types = [self.result_type(i) for i in g.inputs]
            out_types = [self.result_type(i) for i in g.outputs]
            fn = func.FuncOp(g.name, (in_types, out_types))
            fn.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
            fn.arg_attrs = ir.ArrayAttr.get([self.io_attrs(i) for i in g.inputs])
            fn.res_attrs = ir.ArrayAttr.get([self.io_attrs(i) for i in g.outputs])
            block = self.block = fn.add_entry_block()
            with ir.InsertionPoint(block):
                for arg, index in zip(block.arguments, g.inputs):
                    self.values[index] = arg
                for op in g.operators:
                    convert = CONVERTERS[op.opcode]
                    if op.opcode not in _UINT8_OPERATORS and any(
                        self.t(i).dtype == np.uint8 for i in op.inputs + op.outputs if i >= 0
                    ):
                        raise FdtError(f"{op.opcode} {op.index}: uint8 is supported only by QUANTIZE and DEQUANTIZE")
                    with ir.Location.name(f"{op.opcode}:{op.index}"):
                        results = convert(self, op)
                    for index, v in zip(op.outputs, results):
                        self.values[index] = v
                func.ReturnOp([self.value(i) for i in g.outputs] + [self.new_states[i] for i in self.state_args])
            self._type_states(fn)
        return module

    def _type_states(self, fn):
        """Adds the state to the signature: state k is an argument after the
        model inputs and a result after the model outputs, both marked
        `fdt.state = k` (fdt-state-to-globals keeps it in a global); an int8
        state starts at its zero point (`fdt.state_start`), as TFLM resets
        it."""
        if not self.state_args:
            return
        g = self.g
        states = [ir.DictAttr.get({STATE_ATTR: _i64_attr(k)}) for k in range(len(self.state_args))]
        starts = []
        for k, index in enumerate(self.state_args):
            t = self.t(index)
            start = int(t.zero_point[0]) if t.dtype == np.int8 and t.quantized else 0
            attrs = {STATE_ATTR: _i64_attr(k), **({STATE_START_ATTR: _i64_attr(start)} if start else {})}
            starts.append(ir.DictAttr.get(attrs))
        inputs = [a.type for a in self.block.arguments]
        results = [self.result_type(i) for i in g.outputs] + [self.new_states[i].type for i in self.state_args]
        fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(inputs, results))
        fn.arg_attrs = ir.ArrayAttr.get([self.io_attrs(i) for i in g.inputs] + starts)
        fn.res_attrs = ir.ArrayAttr.get([self.io_attrs(i) for i in g.outputs] + states)


def _check_supported(operators):
    """Every unsupported operator of the model in one line, before any is
    converted: a user learns at once all that stands in the way."""
    missing = {}
    for op in operators:
        if op.opcode not in CONVERTERS:
            missing.setdefault(op.opcode, []).append(str(op.index))
    if missing:
        listed = "; ".join(
            f"{opcode} (operator{'s' if len(at) > 1 else ''} {', '.join(at)})" for opcode, at in missing.items()
        )
        raise FdtError(f"unsupported TFLite operator{'s' if len(missing) > 1 else ''} {listed}")


def _i64_attr(value):
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), value)


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
    # TFLM: the sum of the raw int8 values in the window (padding excluded),
    # divided by the count of those values, rounding half away from zero.
    n, h, w, c = ir.RankedTensorType(x.type).shape
    if kernel == (h, w) and not any(pad):
        i32 = element_type(np.int32)
        total = _reduction(
            x, (1, 2), np.int32, 0, lambda v, acc: arith.AddIOp(arith.ExtSIOp(i32, v).result, acc).result
        )
        counts = np.full((1, 1), h * w, np.int32)
    else:
        _, oh, ow, _ = out.shape
        total = b.op(
            "tosa.depthwise_conv2d",
            [
                x,
                b.const(np.ones((*kernel, c, 1), np.int8)),
                b.const(np.zeros(c, np.int32)),
                b.zp(0, np.int8),
                b.zp(0, np.int8),
            ],
            tensor_type([n, oh, ow, c], np.int32),
            pad=_i64_array(pad),
            stride=_i64_array(stride),
            dilation=_i64_array([1, 1]),
            acc_type=ir.TypeAttr.get(element_type(np.int32)),
        )
        rows = [min(o * stride[0] - pad[0] + kernel[0], h) - max(o * stride[0] - pad[0], 0) for o in range(oh)]
        cols = [min(o * stride[1] - pad[2] + kernel[1], w) - max(o * stride[1] - pad[2], 0) for o in range(ow)]
        counts = np.outer(rows, cols).astype(np.int32).reshape(1, oh, ow, 1)
    lo, hi = imp.activation_range(op.options.FusedActivationFunction(), out)
    avg = _rounded_division(total, b.const(counts), lo, hi, out.dtype)
    return [b.reshape(avg, out.shape)]


def _rounded_division(total, counts, lo, hi, dtype):
    """TFLM's (sum +/- count/2) / count, truncated, clamped and narrowed, as
    one linalg.generic. Spelt with TOSA ops, the sum would feed three ops,
    and tiling cannot fuse a producer shared within its consumer's kernel."""
    shape = ir.RankedTensorType(total.type).shape
    rank = len(shape)
    counts_shape = ir.RankedTensorType(counts.type).shape
    dims = [ir.AffineDimExpr.get(d) for d in range(rank)]
    broadcast = [dims[d] if counts_shape[d] == shape[d] else ir.AffineConstantExpr.get(0) for d in range(rank)]
    out_type = tensor_type(shape, dtype)
    i32 = element_type(np.int32)
    generic = linalg.GenericOp(
        [out_type],
        [total, counts],
        [tensor.EmptyOp(shape, out_type.element_type).result],
        ir.ArrayAttr.get([ir.AffineMapAttr.get(ir.AffineMap.get(rank, 0, e)) for e in (dims, broadcast, dims)]),
        ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * rank),
    )
    block = generic.regions[0].blocks.append(i32, i32, out_type.element_type)
    with ir.InsertionPoint(block):
        x, count = block.arguments[0], block.arguments[1]
        const = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
        half = arith.DivSIOp(count, const(2)).result
        positive = arith.CmpIOp(arith.CmpIPredicate.sgt, x, const(0)).result
        rounded = arith.SelectOp(positive, arith.AddIOp(x, half).result, arith.SubIOp(x, half).result).result
        average = arith.DivSIOp(rounded, count).result  # truncates towards zero, as C does
        clamped = arith.MinSIOp(arith.MaxSIOp(average, const(lo)).result, const(hi)).result
        linalg.YieldOp([arith.TruncIOp(out_type.element_type, clamped).result])
    return generic.results[0]


def _reshape(imp, op):
    return [imp.b.reshape(imp.value(op.inputs[0]), imp.t(op.outputs[0]).shape)]


def _softmax(imp, op):
    x_t = imp.t(op.inputs[0])
    if x_t.quantized:
        return [_softmax_int8(imp, op)]
    b = imp.b
    x = imp.value(op.inputs[0])
    axis = len(x_t.shape) - 1
    diff = b.binary("sub", x, b.reduce("max", x, axis))
    beta = float(np.float32(op.options.Beta()))
    if beta != 1.0:
        diff = b.mul(diff, b.full(beta, x))
    e = b.op("tosa.exp", [diff], x.type)
    s = b.reduce("sum", e, axis)
    return [b.mul(e, b.op("tosa.reciprocal", [s], s.type))]


# TFLM's kAccumulationIntegerBits: the sum of exps is a Q12.19 number.
_SOFTMAX_SUM_INTEGER_BITS = 12


def _softmax_int8(imp, op):
    """TFLM's int8 SOFTMAX (reference_ops::Softmax, gemmlowp fixed point).

    exp_on_negative_values of each difference x - max(x) comes from a table
    of the 256 possible differences (`tflite_fixedpoint.softmax_exp_table`).
    At run time, like TFLM: the exps rounded to Q12.19 are summed per row;
    GetReciprocal normalises the sum by its leading zeros and takes
    one_over_one_plus_x_for_x_in_0_1 (Newton-Raphson in Q2.29, every
    SaturatingRoundingDoublingHighMul a tosa.mul with shift 31); each output
    is RoundingDivideByPOT(exp * reciprocal, bits over unit + 23) - 128.
    """
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    if out.dtype != np.int8 or int(out.zero_point[0]) != -128 or out.scale[0] != np.float32(1 / 256):
        raise FdtError(f"SOFTMAX {op.index}: int8 softmax needs an int8 output with scale 1/256 and zero point -128")
    depth = x_t.shape[-1]
    if depth >= 512:  # the final shift would reach 32, where TFLM's shift is undefined
        raise FdtError(f"SOFTMAX {op.index}: int8 softmax over {depth} >= 512 values is not supported")
    b = imp.b
    x = imp.value(op.inputs[0])
    axis = len(x_t.shape) - 1
    neg_diff = b.binary("sub", b.cast(b.reduce("max", x, axis), np.int32), b.cast(x, np.int32))
    table = b.const(fx.softmax_exp_table(op.options.Beta(), x_t.scale[0]))
    index = ir.IndexType.get()
    exp = _pointwise(
        [neg_diff], np.int32, lambda d: tensor.ExtractOp(table, [arith.IndexCastOp(index, d).result]).result
    )
    # Rescale<12>: exps are >= 0, where rounding half up is RoundingDivideByPOT.
    total = b.reduce("sum", b.shift_right(exp, b.full(_SOFTMAX_SUM_INTEGER_BITS, exp), True), axis)

    def c(v):
        return b.full(v, total)

    # GetReciprocal's CountLeadingZeros, without tosa.clz (math.ctlz has no
    # C lowering): the sum lies in [2^19, 2^28), so count the powers of two
    # from 2^20 that it reaches.
    bits_over_unit = c(0)
    for k in range(20, 28):
        reached = b.cast(b.binary("greater_equal", total, c(1 << k), np.bool_), np.int32)
        bits_over_unit = b.binary("add", bits_over_unit, reached)
    headroom_plus_one = b.binary("sub", c(_SOFTMAX_SUM_INTEGER_BITS), bits_over_unit)
    normalised = b.op("tosa.logical_left_shift", [total, headroom_plus_one], total.type)
    shifted_sum_minus_one = b.binary("bitwise_and", normalised, c(q.INT32_MAX))  # minus 2^31
    # RoundingHalfSum(a, One) of a >= 0 is exactly (a >> 1) + 2^30.
    half_denominator = b.binary("add", b.shift_right(shifted_sum_minus_one, c(1)), c(1 << 30))
    recip = b.binary("add", c(1515870810), b.mul(half_denominator, c(-1010580540), 31))
    for _ in range(3):
        one_minus = b.binary("sub", c(1 << 29), b.mul(half_denominator, recip, 31))
        # Rescale<2> saturates only beyond 2^29, which the Newton error never reaches.
        recip = b.binary("add", recip, b.op("tosa.logical_left_shift", [b.mul(recip, one_minus, 31), c(2)], total.type))
    # Rescale<0>(ExactMulByPot<-1>(x)): a saturating doubling; x reaches 2^30 when the sum is a power of two.
    doubled = b.op("tosa.logical_left_shift", [recip, c(1)], total.type)
    saturate = b.binary("greater", recip, c((1 << 30) - 1), np.bool_)
    saturate = b.op("tosa.select", [saturate, c(q.INT32_MAX), doubled], total.type)
    scaled = b.mul(exp, saturate, 31)
    unsat = b.shift_right(scaled, b.binary("add", bits_over_unit, c(31 - 8)), True)
    return b.rescale(unsat, [1 << 30], [1], 0, -128, np.int8)  # + zero point, saturated


def _require_int8(op, *tensors):
    """The integer paths below reproduce TFLM's int8 kernels, not its int16 ones."""
    for t in tensors:
        if t.quantized and t.dtype != np.int8:
            raise FdtError(f"{op.opcode} {op.index}: quantized {np.dtype(t.dtype).name} is not supported, only int8")


def _binary_operands(imp, op):
    """Both inputs at the output's rank: TFLite broadcasts numpy-style, TOSA
    only between operands of equal rank."""
    rank = len(imp.t(op.outputs[0]).shape)
    values = []
    for index in op.inputs[:2]:
        shape = list(imp.t(index).shape)
        values.append(imp.b.reshape(imp.value(index), [1] * (rank - len(shape)) + shape))
    return values


def _scaled_operands(b, values, tensors, left_shift, reals):
    """int8 operands as TFLM's binary kernels scale them (ADD, SUB,
    SQUARED_DIFFERENCE, comparisons): each minus its zero point, shifted
    left by `left_shift`, times its real multiplier, in int32."""
    scaled = []
    for v, t, real in zip(values, tensors, reals):
        m, s = q.quantize_multiplier(real)
        scaled.append(b.rescale(b.widen(v, int(t.zero_point[0]), left_shift=left_shift), [m], [s], 0, 0, np.int32))
    return scaled


def _add_sub(imp, op):
    """int8 follows TFLM's general quantized ADD/SUB: each input minus its
    zero point is shifted left by 20 bits and rescaled by its scale / (2 *
    the larger input scale); the int32 sum or difference is rescaled by that
    2 * scale / (2^20 * output scale) to the output zero point."""
    name = "add" if op.opcode == "ADD" else "sub"
    out = imp.t(op.outputs[0])
    _require_int8(op, out)
    b = imp.b
    x, y = _binary_operands(imp, op)
    if out.quantized:
        inputs = [imp.t(i) for i in op.inputs[:2]]
        twice_max_scale = 2 * max(float(t.scale[0]) for t in inputs)
        scaled = _scaled_operands(b, (x, y), inputs, 20, [float(t.scale[0]) / twice_max_scale for t in inputs])
        m, s = q.quantize_multiplier(twice_max_scale / ((1 << 20) * float(out.scale[0])))
        res = b.rescale(b.binary(name, *scaled), [m], [s], 0, int(out.zero_point[0]), out.dtype)
    else:
        res = b.binary(name, x, y)
    return [imp.activate(res, op.options.FusedActivationFunction(), out, op.opcode)]


def _mul(imp, op):
    """int8 follows TFLM's MUL: the product of the inputs minus their zero
    points, in int32, rescaled by s1 * s2 / s_out (in double) to the output
    zero point."""
    out = imp.t(op.outputs[0])
    _require_int8(op, out)
    b = imp.b
    x, y = _binary_operands(imp, op)
    if out.quantized:
        t1, t2 = (imp.t(i) for i in op.inputs[:2])
        product = b.mul(b.widen(x, int(t1.zero_point[0])), b.widen(y, int(t2.zero_point[0])))
        m, s = q.quantize_multiplier(float(t1.scale[0]) * float(t2.scale[0]) / float(out.scale[0]))
        res = b.rescale(product, [m], [s], 0, int(out.zero_point[0]), out.dtype)
    else:
        res = b.mul(x, y)
    return [imp.activate(res, op.options.FusedActivationFunction(), out, op.opcode)]


def _cast(imp, op):
    """TFLM's CAST is a C++ static_cast: float to integer truncates toward
    zero, where tosa.cast rounds to nearest, so floor or ceil first."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    b = imp.b
    x = imp.value(op.inputs[0])
    if x_t.dtype == np.float32 and out.dtype != np.float32 and out.dtype != np.bool_:
        positive = b.binary("greater_equal", x, b.full(0.0, x), np.bool_)
        x = b.op("tosa.select", [positive, b.op("tosa.floor", [x], x.type), b.op("tosa.ceil", [x], x.type)], x.type)
    return [b.cast(x, out.dtype)]


def _gather(imp, op):
    """TFLite GATHER along `axis` (`_take`)."""
    params, indices_t = imp.t(op.inputs[0]), imp.t(op.inputs[1])
    if op.options.BatchDims() != 0:
        raise FdtError(f"GATHER {op.index}: batch_dims other than 0 are not supported")
    if indices_t.dtype != np.int32:
        raise FdtError(f"GATHER {op.index}: only int32 indices are supported")
    axis = op.options.Axis() % len(params.shape)
    return [_take(imp.value(op.inputs[0]), imp.value(op.inputs[1]), axis)]


def _take(values, indices, axis):
    """values[..., indices[...], ...] along `axis`: one generic over the
    output reading each index through its map and the value it names in its
    body, one element at a time (tosa.gather wanted the indices tiled to one
    row per slice before the axis, a whole int32 tensor)."""
    shape, index_shape = ir.RankedTensorType(values.type).shape, ir.RankedTensorType(indices.type).shape
    count = len(index_shape)
    out_shape = [*shape[:axis], *index_shape, *shape[axis + 1 :]]
    rank = len(out_shape)
    reads = ir.AffineMap.get(rank, 0, [ir.AffineExpr.get_dim(axis + d) for d in range(count)])

    def at(loops, index):
        return [*loops[:axis], arith.IndexCastOp(ir.IndexType.get(), index).result, *loops[axis + count :]]

    return _read_at(values, out_shape, at, [indices], [reads])


def _mean(imp, op):
    """MEAN and SUM: one reduction over all the axes (`_reduction`). Float:
    the sum, for MEAN divided by the count, as TFLM. int8 follows TFLM's
    QuantizedMeanOrSum: the int32 sum of the raw values minus count * input
    zero point, rescaled by input / output scale (`tflite_quant.mean_multiplier`
    folds MEAN's 1 / count into the multiplier) to the output zero point."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    _require_int8(op, x_t, out)
    axes = _reduce_axes(imp, op)
    count = int(np.prod([x_t.shape[a] for a in axes]))
    b = imp.b
    if x_t.quantized:
        i32 = element_type(np.int32)
        x = _reduction(
            imp.value(op.inputs[0]),
            axes,
            np.int32,
            0,
            lambda v, acc: arith.AddIOp(arith.ExtSIOp(i32, v).result, acc).result,
        )
        x = b.binary("sub", x, b.full(count * int(x_t.zero_point[0]), x))
        m, s = q.mean_multiplier(x_t.scale[0], out.scale[0], 1 if op.opcode == "SUM" else count)
        res = b.rescale(x, [m], [s], 0, int(out.zero_point[0]), out.dtype)
    else:
        res = _reduction(imp.value(op.inputs[0]), axes, np.float32, 0.0, lambda v, acc: arith.AddFOp(v, acc).result)
        if op.opcode == "MEAN":
            res = _pointwise(
                [res], np.float32, lambda v: arith.DivFOp(v, arith.ConstantOp(v.type, float(count)).result).result
            )
    return [b.reshape(res, out.shape)]


def _reduction(x, axes, dtype, init, combine):
    """One linalg.generic reducing `x` over `axes` into a `dtype` tensor
    without them, from `init`: acc = combine(element, acc). TOSA reduces
    one axis at a time, leaving a whole tensor between two axes; here each
    output element's accumulator is one value (fdt-tile-kernels)."""
    shape = ir.RankedTensorType(x.type).shape
    rank = len(shape)
    kept = [d for d in range(rank) if d not in axes]
    out_type = tensor_type([shape[d] for d in kept], dtype)
    start = linalg.fill(
        arith.ConstantOp(out_type.element_type, init).result,
        outs=[tensor.EmptyOp(out_type.shape, out_type.element_type).result],
    )
    maps = [ir.AffineMap.get_identity(rank), ir.AffineMap.get(rank, 0, [ir.AffineExpr.get_dim(d) for d in kept])]
    kinds = ["reduction" if d in axes else "parallel" for d in range(rank)]
    return _generic(out_type, [x], start, maps, kinds, combine)


def _relu(imp, op):
    """int8 RELU follows TFLM's ReluQuantized: a requantization by input
    scale / output scale, then a clamp at the output's quantized 0. int8
    RELU6 follows Relu6Quantized: the raw values clamped to [input zero
    point, quantized 6.0 of the input], without requantization."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    _require_int8(op, x_t, out)
    b = imp.b
    x = imp.value(op.inputs[0])
    if op.opcode == "RELU6" and x_t.quantized:
        zp = int(x_t.zero_point[0])
        return [b.clamp(x, zp, min(127, zp + q.round_half_away(np.float32(6.0) / x_t.scale[0])))]
    if x_t.quantized:
        m, s = q.quantize_multiplier(float(x_t.scale[0]) / float(out.scale[0]))
        x = b.rescale(x, [m], [s], int(x_t.zero_point[0]), int(out.zero_point[0]), out.dtype, in_dtype=x_t.dtype)
    fused = {"RELU": 1, "RELU6": 3}[op.opcode]
    return [imp.activate(x, fused, out, op.opcode)]


def _logistic_tanh(imp, op):
    """int8: TFLM's kernel maps each int8 input to one int8 output, so a
    tosa.table of `tflite_fixedpoint.activation_table` reproduces it."""
    x_t = imp.t(op.inputs[0])
    _require_int8(op, x_t)
    b = imp.b
    x = imp.value(op.inputs[0])
    if x_t.quantized:
        table = fx.activation_table(op.opcode, x_t.scale[0], x_t.zero_point[0])
        return [b.op("tosa.table", [x, b.const(table)], x.type)]
    return [b.op("tosa.sigmoid" if op.opcode == "LOGISTIC" else "tosa.tanh", [x], x.type)]


def _hard_swish(imp, op):
    """float: x * min(6, max(0, x + 3)) / 6, as TFLM computes it (a float
    division: one generic, as TOSA has none). int8: TFLM's int16
    fixed-point kernel maps each input to one output: a tosa.table of
    `tflite_fixedpoint.hard_swish_table`."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    _require_int8(op, x_t, out)
    x = imp.value(op.inputs[0])
    if x_t.quantized:
        table = fx.hard_swish_table(x_t.scale[0], x_t.zero_point[0], out.scale[0], out.zero_point[0])
        return [imp.b.op("tosa.table", [x, imp.b.const(table)], imp.result_type(op.outputs[0]))]
    f32 = element_type(np.float32)

    def hard_swish(value):
        real = lambda v: arith.ConstantOp(f32, v).result  # noqa: E731
        shifted = arith.AddFOp(value, real(3.0)).result
        factor = arith.MinNumFOp(real(6.0), arith.MaxNumFOp(real(0.0), shifted).result).result
        return arith.DivFOp(arith.MulFOp(value, factor).result, real(6.0)).result

    return [_pointwise([x], np.float32, hard_swish)]


# TFLM's float32 kernels of these operators: each a TOSA op, computed as
# TFLM does it, with the C library's function where it calls one (expf,
# logf, sqrtf, floorf). Of their int8 kernels TFLM has ABS's.
_FLOAT_UNARY = {
    "ABS": "tosa.abs",
    "EXP": "tosa.exp",
    "LOG": "tosa.log",
    "FLOOR": "tosa.floor",
    "RSQRT": "tosa.rsqrt",  # 1.0f / sqrtf(x)
}


def _unary(imp, op):
    """ABS, NEG, SQUARE, EXP, LOG, SQRT, RSQRT, FLOOR; int8 ABS and RSQRT:
    TFLM maps each input to one output (|x - input zero point| requantized
    when the scales differ; `tflite_fixedpoint.rsqrt_table`): a tosa.table."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    x, b, out_type = imp.value(op.inputs[0]), imp.b, imp.result_type(op.outputs[0])
    if op.opcode == "ABS" and x_t.dtype == np.int8 and out.dtype == np.int8:
        value = np.abs(np.arange(-128, 128, dtype=np.int64) - int(x_t.zero_point[0]))
        if x_t.scale[0] != out.scale[0]:
            m, shift = q.quantize_multiplier(float(np.float32(x_t.scale[0]) / np.float32(out.scale[0])))
            value = q.multiply_by_quantized_multiplier(value, m, shift)
        table = np.clip(value + int(out.zero_point[0]), -128, 127).astype(np.int8)
        return [b.op("tosa.table", [x, b.const(table)], out_type)]
    if op.opcode == "RSQRT" and x_t.dtype == np.int8 and out.dtype == np.int8:
        table = fx.rsqrt_table(x_t.scale[0], x_t.zero_point[0], out.scale[0], out.zero_point[0])
        return [b.op("tosa.table", [x, b.const(table)], out_type)]
    if x_t.dtype != np.float32:
        raise FdtError(f"{op.opcode} {op.index}: only float32 is supported")
    if op.opcode == "NEG":
        zero = b.zp(0.0, np.float32)
        return [b.op("tosa.negate", [x, zero, zero], out_type)]
    if op.opcode == "SQUARE":
        return [b.mul(x, x)]
    if op.opcode == "SQRT":  # TOSA has none: 1 / rsqrt(x) is off by an ulp, powf(x, 0.5) may be
        return [_pointwise([x], np.float32, lambda v: math.SqrtOp(v).result)]
    return [b.op(_FLOAT_UNARY[op.opcode], [x], out_type)]


# TFLite comparison -> (TOSA op, swap operands): TOSA has equal, greater and
# greater_equal; the others are those with the operands swapped or negated.
_COMPARISONS = {
    "EQUAL": ("equal", False),
    "NOT_EQUAL": ("equal", False),
    "GREATER": ("greater", False),
    "GREATER_EQUAL": ("greater_equal", False),
    "LESS": ("greater", True),
    "LESS_EQUAL": ("greater_equal", True),
}


def _comparison(imp, op):
    """int8 follows TFLM's quantized comparisons: each input minus its zero
    point, shifted left by 8, times its own scale (a multiplier below one),
    compared in int32."""
    inputs = [imp.t(i) for i in op.inputs[:2]]
    _require_int8(op, *inputs)
    b = imp.b
    x, y = _binary_operands(imp, op)
    if inputs[0].quantized:
        x, y = _scaled_operands(b, (x, y), inputs, 8, [float(t.scale[0]) for t in inputs])
    elif inputs[0].dtype == np.int8:
        x, y = b.cast(x, np.int32), b.cast(y, np.int32)
    name, swap = _COMPARISONS[op.opcode]
    res = b.binary(name, *((y, x) if swap else (x, y)), np.bool_)
    if op.opcode == "NOT_EQUAL":
        res = b.op("tosa.logical_not", [res], res.type)
    return [res]


def _logical(imp, op):
    b = imp.b
    if op.opcode == "LOGICAL_NOT":
        x = imp.value(op.inputs[0])
        return [b.op("tosa.logical_not", [x], x.type)]
    return [b.binary(op.opcode.lower(), *_binary_operands(imp, op))]


def _select_v2(imp, op):
    """The condition and both values broadcast to the output's rank; TFLM
    copies raw values, so int8 values must be quantized alike."""
    _same_quantization(imp, op, op.inputs[1:], op.outputs)
    rank = len(imp.t(op.outputs[0]).shape)
    operands = []
    for index in op.inputs[:3]:
        shape = list(imp.t(index).shape)
        operands.append(imp.b.reshape(imp.value(index), [1] * (rank - len(shape)) + shape))
    return [imp.b.op("tosa.select", operands, imp.result_type(op.outputs[0]))]


def _reduce_axes(imp, op) -> list[int]:
    x_t, axes_t = imp.t(op.inputs[0]), imp.t(op.inputs[1])
    if axes_t.data is None:
        raise FdtError(f"{op.opcode} {op.index}: non-constant axes are not supported")
    return sorted({int(a) % len(x_t.shape) for a in np.atleast_1d(axes_t.data)})


def _reduce_max_min(imp, op):
    """TFLM compares raw values, from the type's lowest (highest) value, and
    keeps the running one unless the next is greater (less): NaN never
    wins. int8 input and output must be quantized alike."""
    _same_quantization(imp, op, op.inputs[:1], op.outputs)
    x_t = imp.t(op.inputs[0])
    larger = op.opcode == "REDUCE_MAX"
    if x_t.dtype == np.float32:
        init = float(np.finfo(np.float32).min if larger else np.finfo(np.float32).max)
        predicate = arith.CmpFPredicate.OGT if larger else arith.CmpFPredicate.OLT
        better = lambda v, acc: arith.CmpFOp(predicate, v, acc).result  # noqa: E731
    else:
        init = int(np.iinfo(x_t.dtype).min if larger else np.iinfo(x_t.dtype).max)
        predicate = arith.CmpIPredicate.sgt if larger else arith.CmpIPredicate.slt
        better = lambda v, acc: arith.CmpIOp(predicate, v, acc).result  # noqa: E731
    res = _reduction(
        imp.value(op.inputs[0]),
        _reduce_axes(imp, op),
        x_t.dtype,
        init,
        lambda v, acc: arith.SelectOp(better(v, acc), v, acc).result,
    )
    return [imp.b.reshape(res, imp.t(op.outputs[0]).shape)]


def _arg_max_min(imp, op):
    """TFLM's ArgMinMax: from index 0, the index moves to a later element
    only when it is greater (less) than the element at the index so far, so
    the first of equal extremes wins and NaN never does. One reduction into
    the int32 index alone, which reads the element at the index so far
    again (tensor.extract): tosa.argmax kept the running extremes in a
    second tensor that tiling leaves whole beside the indices."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    if x_t.dtype not in (np.float32, np.int8):
        name = np.dtype(x_t.dtype).name
        raise FdtError(f"{op.opcode} {op.index}: {name} inputs are not supported, only float32 and int8 (as TFLM)")
    if out.dtype != np.int32:
        raise FdtError(
            f"{op.opcode} {op.index}: {np.dtype(out.dtype).name} outputs are not supported, only int32 (as TFLM)"
        )
    x = imp.value(op.inputs[0])
    rank = len(x_t.shape)
    axis = _constant_ints(imp, op, op.inputs[1], "axis")[0] % rank
    larger = op.opcode == "ARG_MAX"
    if x_t.dtype == np.float32:
        better = lambda v, w: arith.CmpFOp(arith.CmpFPredicate.OGT if larger else arith.CmpFPredicate.OLT, v, w)  # noqa: E731
    else:
        better = lambda v, w: arith.CmpIOp(arith.CmpIPredicate.sgt if larger else arith.CmpIPredicate.slt, v, w)  # noqa: E731
    i32, index = element_type(np.int32), ir.IndexType.get()

    def keep(value, best):
        at = [linalg.IndexOp(d).result for d in range(rank)]
        here = arith.IndexCastOp(i32, at[axis]).result
        at[axis] = arith.IndexCastOp(index, best).result
        return arith.SelectOp(better(value, tensor.ExtractOp(x, at).result).result, here, best).result

    return [imp.b.reshape(_reduction(x, [axis], np.int32, 0, keep), out.shape)]


def _squared_difference(imp, op):
    """float: (x - y) * (x - y), as TFLM. int8: TFLM's quantized kernel,
    each input minus its zero point shifted left by 7 and rescaled by its
    scale / (2 * the larger scale), the int32 difference squared and
    rescaled by (2 * the larger scale)^2 / (2^14 * output scale)."""
    inputs, out = [imp.t(i) for i in op.inputs[:2]], imp.t(op.outputs[0])
    _require_int8(op, *inputs, out)
    b = imp.b
    x, y = _binary_operands(imp, op)
    if out.quantized:
        twice_max_scale = 2 * max(float(t.scale[0]) for t in inputs)
        scaled = _scaled_operands(b, (x, y), inputs, 7, [float(t.scale[0]) / twice_max_scale for t in inputs])
        difference = b.binary("sub", *scaled)
        m, s = q.quantize_multiplier(twice_max_scale**2 / float(np.float32(1 << 14) * np.float32(out.scale[0])))
        return [b.rescale(b.mul(difference, difference), [m], [s], 0, int(out.zero_point[0]), out.dtype)]
    difference = b.binary("sub", x, y)
    return [b.mul(difference, difference)]


def _div(imp, op):
    """float: x / y, then the fused activation (TOSA has no float division:
    one generic). int8: `_div_int8`."""
    inputs, out = [imp.t(i) for i in op.inputs[:2]], imp.t(op.outputs[0])
    if out.dtype == np.int8 and all(t.dtype == np.int8 for t in inputs):
        return [_div_int8(imp, op, inputs, out)]
    _require_float(imp, op)
    quotient = _pointwise(_binary_operands(imp, op), np.float32, lambda x, y: arith.DivFOp(x, y).result)
    return [imp.activate(quotient, op.options.FusedActivationFunction(), out, op.opcode)]


def _div_int8(imp, op, inputs, out):
    """TFLM's int8 DIV (reference_ops::DivElementwise), one generic: per
    element, the divisor d minus its zero point made positive (the dividend
    a takes its sign), a times GetReciprocal(d) after a left shift by its
    CountLeadingSignBits, then rescaled by s1 / (s2 * s_out) (in double, as
    TFLM's interpreter computes it) with a right shift that adds back both
    normalisations. The reciprocals and the bit lengths of the 256 possible
    |d| (and |a|'s sign-stripped bits) are tables read per element.

    The shift can reach 32 and more, where gemmlowp's RoundingDivideByPOT
    is undefined; this takes its arithmetic shift as a sign fill (int32
    mask -1), which gives TFLM's zero point + 1 for a = 0 on every host. A
    zero divisor is undefined in TFLM too (a shift by 32)."""
    t1, t2 = inputs
    real = float(np.float32(t1.scale[0])) / (float(np.float32(t2.scale[0])) * float(np.float32(out.scale[0])))
    multiplier, shift = q.quantize_multiplier(real)
    if shift > 23:  # |a| < 2^8 and d >= 1: the right shift would be negative
        raise FdtError(f"DIV {op.index}: input1 scale / (input2 scale * output scale) >= 2^23 is not supported")
    fused = op.options.FusedActivationFunction()
    bounds = imp.activation_range(fused, out)
    if bounds == "unsupported":
        raise FdtError(f"DIV {op.index}: fused activation {fused} is not supported")
    lo, hi = bounds
    b = imp.b
    normalised = [(d << (32 - d.bit_length())) - (1 << 31) if d else 0 for d in range(256)]
    reciprocals = b.const(fx.one_over_one_plus_x_for_x_in_0_1(np.asarray(normalised)).astype(np.int32))
    bit_lengths = b.const(np.asarray([d.bit_length() for d in range(256)], np.int32))
    z1, z2, zo = int(t1.zero_point[0]), int(t2.zero_point[0]), int(out.zero_point[0])
    i32, index = element_type(np.int32), ir.IndexType.get()

    def divide(x, y):
        c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
        look_up = lambda table, v: tensor.ExtractOp(table, [arith.IndexCastOp(index, v).result]).result  # noqa: E731
        a = arith.SubIOp(arith.ExtSIOp(i32, x).result, c(z1)).result
        d = arith.SubIOp(arith.ExtSIOp(i32, y).result, c(z2)).result
        negative = arith.CmpIOp(arith.CmpIPredicate.slt, d, c(0)).result
        a = arith.SelectOp(negative, arith.SubIOp(c(0), a).result, a).result
        d = arith.SelectOp(negative, arith.SubIOp(c(0), d).result, d).result
        a_bits = look_up(bit_lengths, arith.XOrIOp(a, arith.ShRSIOp(a, c(31)).result).result)
        headroom = arith.SubIOp(c(31), a_bits).result
        unscaled = _doubling_high_mul(arith.ShLIOp(a, headroom).result, look_up(reciprocals, d))
        exponent = arith.AddIOp(arith.SubIOp(look_up(bit_lengths, d), a_bits).result, c(30 - shift)).result
        quotient = _divide_by_pot(_doubling_high_mul(unscaled, c(multiplier)), exponent)
        clamped = arith.MinSIOp(arith.MaxSIOp(arith.AddIOp(quotient, c(zo)).result, c(lo)).result, c(hi)).result
        return arith.TruncIOp(element_type(np.int8), clamped).result

    return _pointwise(_binary_operands(imp, op), np.int8, divide)


def _doubling_high_mul(a, b):
    """gemmlowp's SaturatingRoundingDoublingHighMul of two i32 values: a * b
    / 2^31 rounded half away from zero (callers never pass INT32_MIN twice)."""
    i32, i64 = element_type(np.int32), element_type(np.int64)
    c = lambda v: arith.ConstantOp(i64, v).result  # noqa: E731
    product = arith.MulIOp(arith.ExtSIOp(i64, a).result, arith.ExtSIOp(i64, b).result).result
    negative = arith.CmpIOp(arith.CmpIPredicate.slt, product, c(0)).result
    # C division truncates: a negative numerator rounds up by 2^31 - 1 first.
    nudge = arith.SelectOp(negative, c(1 - (1 << 30) + (1 << 31) - 1), c(1 << 30)).result
    return arith.TruncIOp(i32, arith.ShRSIOp(arith.AddIOp(product, nudge).result, c(31)).result).result


def _saturating_multiply_by_pot(x, exponent):
    """gemmlowp's SaturatingRoundingMultiplyByPOT (a constant int exponent)
    or TFLite's SaturatingRoundingMultiplyByPOTParam (an i32 value) of an
    i32 value, for exponents in [0, 31): a left shift, saturated."""
    i32 = element_type(np.int32)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    if isinstance(exponent, int):
        exponent = c(exponent)
    threshold = arith.SubIOp(arith.ShLIOp(c(1), arith.SubIOp(c(31), exponent).result).result, c(1)).result
    above = arith.CmpIOp(arith.CmpIPredicate.sgt, x, threshold).result
    below = arith.CmpIOp(arith.CmpIPredicate.slt, x, arith.SubIOp(c(0), threshold).result).result
    shifted = arith.ShLIOp(x, exponent).result
    return arith.SelectOp(above, c(q.INT32_MAX), arith.SelectOp(below, c(q.INT32_MIN), shifted).result).result


def _multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier (double rounding) of i32
    values with a run-time shift: x shifted left by its positive part, the
    doubling high product, divided by 2 to its negative part."""
    i32 = element_type(np.int32)
    zero = arith.ConstantOp(i32, 0).result
    left = arith.MaxSIOp(shift, zero).result
    right = arith.MaxSIOp(arith.SubIOp(zero, shift).result, zero).result
    return _divide_by_pot(_doubling_high_mul(arith.ShLIOp(x, left).result, multiplier), right)


def _divide_by_pot(x, exponent):
    """gemmlowp's RoundingDivideByPOT of i32 values, for exponents >= 0; from
    32 on, where it is undefined, its mask is -1 (the int32 of 2^e - 1) and
    its shift a sign fill."""
    i32, i64 = element_type(np.int32), element_type(np.int64)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    wide_mask = arith.ShLIOp(
        arith.ConstantOp(i64, 1).result, arith.ExtSIOp(i64, arith.MinSIOp(exponent, c(32)).result).result
    ).result
    mask = arith.TruncIOp(i32, arith.SubIOp(wide_mask, arith.ConstantOp(i64, 1).result).result).result
    negative = arith.ExtUIOp(i32, arith.CmpIOp(arith.CmpIPredicate.slt, x, c(0)).result).result
    threshold = arith.AddIOp(arith.ShRSIOp(mask, c(1)).result, negative).result
    above = arith.CmpIOp(arith.CmpIPredicate.sgt, arith.AndIOp(x, mask).result, threshold).result
    shifted = arith.ShRSIOp(x, arith.MinSIOp(exponent, c(31)).result).result
    return arith.AddIOp(shifted, arith.ExtUIOp(i32, above).result).result


def _require_float(imp, op):
    if any(imp.t(i).dtype != np.float32 for i in [*op.inputs, *op.outputs] if i >= 0):
        raise FdtError(f"{op.opcode} {op.index}: only float32 is supported")


def _prelu(imp, op):
    """float: x >= 0 ? x : x * alpha. int8: TFLM's PreluQuantized, the input
    minus its zero point rescaled by input scale / output scale where it is
    not negative, and its product with alpha minus alpha's zero point by
    input scale * alpha scale / output scale where it is, plus the output
    zero point."""
    x_t, alpha_t, out = imp.t(op.inputs[0]), imp.t(op.inputs[1]), imp.t(op.outputs[0])
    _require_int8(op, x_t, alpha_t, out)
    b, out_type = imp.b, imp.result_type(op.outputs[0])
    x, alpha = _binary_operands(imp, op)
    if not x_t.quantized:
        not_negative = b.binary("greater_equal", x, b.full(0.0, x), np.bool_)
        return [b.op("tosa.select", [not_negative, x, b.mul(x, alpha)], out_type)]
    zp_in, zp_out = int(x_t.zero_point[0]), int(out.zero_point[0])
    m1, s1 = q.quantize_multiplier(float(x_t.scale[0]) / float(out.scale[0]))
    m2, s2 = q.quantize_multiplier(float(x_t.scale[0]) * float(alpha_t.scale[0]) / float(out.scale[0]))
    wide = b.widen(x, zp_in)
    positive = b.rescale(wide, [m1], [s1], 0, zp_out, out.dtype)
    if alpha_t.data is not None:  # the usual case: alpha - its zero point, computed now
        shape = ir.RankedTensorType(alpha.type).shape
        alpha = b.const((alpha_t.data.astype(np.int32) - int(alpha_t.zero_point[0])).reshape(shape))
    else:
        alpha = b.widen(alpha, int(alpha_t.zero_point[0]))
    negative = b.rescale(b.mul(wide, alpha), [m2], [s2], 0, zp_out, out.dtype)
    not_negative = b.binary("greater_equal", wide, b.full(0, wide), np.bool_)
    return [b.op("tosa.select", [not_negative, positive, negative], out_type)]


def _elu(imp, op):
    """float: x < 0 ? expm1(x) : x, as TFLM. int8: TFLM's lookup table
    (`tflite_fixedpoint.lookup_table`) of x < 0 ? exp(x) - 1 : x."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    _require_int8(op, x_t, out)
    x = imp.value(op.inputs[0])
    if x_t.quantized:
        table = fx.lookup_table(fx.elu, x_t.scale[0], x_t.zero_point[0], out.scale[0], out.zero_point[0])
        return [imp.b.op("tosa.table", [x, imp.b.const(table)], imp.result_type(op.outputs[0]))]

    def elu(value):
        negative = arith.CmpFOp(arith.CmpFPredicate.OLT, value, arith.ConstantOp(value.type, 0.0).result).result
        return arith.SelectOp(negative, math.ExpM1Op(value).result, value).result

    return [_pointwise([x], np.float32, elu)]


def _zeros_like(imp, op):
    """A kernel that writes zeros, as TFLM's does: the output is a buffer."""
    out = imp.t(op.outputs[0])
    zero = 0.0 if out.dtype == np.float32 else 0
    return [_pointwise([], out.dtype, lambda: arith.ConstantOp(element_type(out.dtype), zero).result, out.shape)]


def _fill(imp, op):
    """The value (a scalar input or constant) broadcast to the constant dims."""
    out = imp.t(op.outputs[0])
    value = imp.b.reshape(imp.value(op.inputs[1]), [1] * len(out.shape))
    return [_pointwise([value], out.dtype, lambda v: v, shape=out.shape)]


def _depth_space(imp, op):
    """DEPTH_TO_SPACE: out[n, h * B + i, w * B + j, c] = in[n, h, w, (i * B
    + j) * C + c]; SPACE_TO_DEPTH its inverse. Either is a reshape to six
    dims, a swap of the block rows with the columns, a reshape."""
    _same_quantization(imp, op, op.inputs, op.outputs)
    block = op.options.BlockSize()
    n, h, w, c = imp.t(op.inputs[0]).shape
    if op.opcode == "DEPTH_TO_SPACE":
        six = [n, h, w, block, block, c // (block * block)]
    else:
        six = [n, h // block, block, w // block, block, c]
    x = _permute(imp, imp.b.reshape(imp.value(op.inputs[0]), six), [0, 1, 3, 2, 4, 5])
    return [imp.b.reshape(x, imp.t(op.outputs[0]).shape)]


def _permute(imp, x, perms):
    x_type = ir.RankedTensorType(x.type)
    out = ir.RankedTensorType.get([x_type.shape[p] for p in perms], x_type.element_type)
    return imp.b.op("tosa.transpose", [x], out, perms=ir.DenseI32ArrayAttr.get(perms))


def _strided_slice(imp, op):
    """TFLM's StridedSlice with constant begin, end and strides, begin and
    end masks and shrink_axis_mask: one copy generic reading begin + stride
    * i along each axis, through its map where a map can, else in its body
    (a tosa.reverse or tosa.slice first was a whole copy of its own). A
    slice of unit strides is SLICE's tosa.slice."""
    _same_quantization(imp, op, op.inputs[:1], op.outputs)
    opts = op.options
    if opts.EllipsisMask() or opts.NewAxisMask():
        raise FdtError(f"STRIDED_SLICE {op.index}: ellipsis and new-axis masks are not supported")
    if opts.Offset():
        raise FdtError(
            f"STRIDED_SLICE {op.index}: the offset option is not supported (TFLM ignores it, TFLite does not)"
        )
    b, x = imp.b, imp.value(op.inputs[0])
    shape = list(imp.t(op.inputs[0]).shape)
    begins, ends, strides = (
        _constant_ints(imp, op, i, what) for i, what in zip(op.inputs[1:4], ["begin", "end", "strides"])
    )
    offsets, sizes, steps = [], [], []
    for axis, n in enumerate(shape):
        begin_masked, end_masked, shrink = (
            (mask >> axis) & 1 for mask in (opts.BeginMask(), opts.EndMask(), opts.ShrinkAxisMask())
        )
        begin, end, stride = (begins[axis], ends[axis], strides[axis]) if axis < len(begins) else (0, n, 1)
        if stride == 0:
            raise FdtError(f"STRIDED_SLICE {op.index}: a stride of 0")
        lo, hi = (0, n) if stride > 0 else (-1, n - 1)  # TFLM clamps begin and end to these
        begin = (0 if stride > 0 else n - 1) if begin_masked else min(max(begin + n if begin < 0 else begin, lo), hi)
        if shrink:
            end, stride = begin + 1, 1
        elif end_masked:
            end = n if stride > 0 else -1
        else:
            end = min(max(end + n if end < 0 else end, lo), hi)
        offsets.append(begin)
        sizes.append(max(0, -(-(end - begin) // stride)))
        steps.append(stride)
    # A map cannot read an axis whose stride is negative (linalg tiles no
    # such map) or that is cut at its start (its plain d_i would set the
    # loop's extent to the axis's).
    mapped = all(step > 1 or (step == 1 and (o > 0 or z == n)) for step, o, z, n in zip(steps, offsets, sizes, shape))
    if all(step == 1 for step in steps):
        if sizes != shape:
            etype = ir.RankedTensorType(x.type).element_type
            x = b.op("tosa.slice", [x, b.shape(offsets), b.shape(sizes)], ir.RankedTensorType.get(sizes, etype))
    elif mapped:
        x = _strided_copy(x, sizes, steps, offsets)
    else:
        at = lambda loops: [  # noqa: E731
            arith.AddIOp(arith.MulIOp(i, _index(step)).result, _index(o)).result
            for i, step, o in zip(loops, steps, offsets)
        ]
        x = _read_at(x, sizes, at)
    return [b.reshape(x, imp.t(op.outputs[0]).shape)]


def _strided_copy(x, sizes, steps, starts):
    """out[i] = x[start + step * i] per axis: one generic, a kernel as
    TFLM's (a strided tensor.extract_slice would be a view of x)."""
    rank = len(sizes)
    element = ir.RankedTensorType(x.type).element_type
    dims = [ir.AffineExpr.get_dim(i) for i in range(rank)]
    reads = ir.AffineMap.get(rank, 0, [d * step + start for d, step, start in zip(dims, steps, starts)])
    out_type = ir.RankedTensorType.get(sizes, element)
    maps = [reads, ir.AffineMap.get_identity(rank)]
    return _generic(out_type, [x], tensor.EmptyOp(sizes, element).result, maps, ["parallel"] * rank, lambda v, _: v)


def _read_at(source, shape, at, inputs=(), input_maps=(), fill=None):
    """One generic over `shape` yielding source[at(loop indices, elements
    of `inputs`)]: a copy whose reads no tileable map spells (a reversed
    axis, interleaved blocks, a row by index), reading `source` in its body
    one element at a time, with no intermediate tensor. With a `fill`
    value, `at` returns the indices and whether they are inside `source`;
    outside, the copy yields `fill` (padding)."""
    rank = len(shape)
    element = ir.RankedTensorType(source.type).element_type
    out_type = ir.RankedTensorType.get(list(shape), element)
    maps = [*input_maps, ir.AffineMap.get_identity(rank)]

    def copy(*args):
        loops = [linalg.IndexOp(d).result for d in range(rank)]
        if fill is None:
            return tensor.ExtractOp(source, at(loops, *args[:-1])).result
        indices, inside = at(loops, *args[:-1])
        value = tensor.ExtractOp(source, indices).result
        return arith.SelectOp(inside, value, arith.ConstantOp(element, fill).result).result

    empty = tensor.EmptyOp(list(shape), element).result
    return _generic(out_type, list(inputs), empty, maps, ["parallel"] * rank, copy)


def _index(value: int) -> ir.Value:
    return arith.ConstantOp(ir.IndexType.get(), value).result


def _guarded_index(index, size: int, also=None):
    """(index where 0 <= index < size (and `also`), else 0; that condition):
    an in-range index for a tensor.extract whose value the caller discards
    where the condition fails (a pad, a transposed conv's tap off the input)."""
    valid = arith.AndIOp(
        arith.CmpIOp(arith.CmpIPredicate.sge, index, _index(0)).result,
        arith.CmpIOp(arith.CmpIPredicate.slt, index, _index(size)).result,
    ).result
    if also is not None:
        valid = arith.AndIOp(valid, also).result
    return arith.SelectOp(valid, index, _index(0)).result, valid


def _embedding_lookup(imp, op):
    """Rows of the value tensor by id: GATHER along axis 0; int8 values with
    a float32 output are dequantized by the value's scale (TFLM's hybrid
    lookup)."""
    value_t, out = imp.t(op.inputs[1]), imp.t(op.outputs[0])
    b = imp.b
    res = _take(imp.value(op.inputs[1]), imp.value(op.inputs[0]), 0)
    if value_t.dtype != out.dtype:
        if not (value_t.dtype == np.int8 and out.dtype == np.float32):
            raise FdtError(f"EMBEDDING_LOOKUP {op.index}: {np.dtype(value_t.dtype).name} values are not supported")
        if int(value_t.zero_point[0]) != 0:
            raise FdtError(f"EMBEDDING_LOOKUP {op.index}: int8 values with a zero point are not supported (as TFLM)")
        res = b.cast(res, np.float32)
        res = b.mul(res, b.full(float(value_t.scale[0]), res))
    else:
        _same_quantization(imp, op, op.inputs[1:], op.outputs)
    return [b.reshape(res, out.shape)]


def _resize_size(op, in_size: int, out_size: int):
    """TFLM's float scale of one axis and its options."""
    align, half = op.options.AlignCorners(), op.options.HalfPixelCenters()
    if align and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1), align, half
    return np.float32(in_size) / np.float32(out_size), align, half


def _nearest_indices(op, in_size: int, out_size: int) -> np.ndarray:
    """TFLM's ResizeNearestNeighbor source index of each output index, in
    float32 as it computes them."""
    scale, align, half = _resize_size(op, in_size, out_size)
    at = (np.arange(out_size, dtype=np.float32) + np.float32(0.5 if half else 0.0)) * scale
    index = np.sign(at) * np.floor(np.abs(at.astype(np.float64)) + 0.5) if align else np.floor(at)
    index = np.minimum(index.astype(np.int64), in_size - 1)
    return np.maximum(index, 0) if half else index


def _resize_nearest_neighbor(imp, op):
    """A raw copy (TFLM does not requantize): one tosa.gather of the
    [N, H * W, C] input by the constant flat source index of each output
    pixel."""
    _same_quantization(imp, op, op.inputs[:1], op.outputs)
    (n, h, w, c), (_, oh, ow, _) = imp.t(op.inputs[0]).shape, imp.t(op.outputs[0]).shape
    rows, cols = _nearest_indices(op, h, oh), _nearest_indices(op, w, ow)
    flat = (rows[:, None] * w + cols[None, :]).reshape(1, oh * ow).astype(np.int32)
    b = imp.b
    values = b.reshape(imp.value(op.inputs[0]), [n, h * w, c])
    res = b.op(
        "tosa.gather",
        [values, b.const(np.repeat(flat, n, axis=0))],
        tensor_type([n, oh * ow, c], imp.t(op.inputs[0]).dtype),
    )
    return [b.reshape(res, [n, oh, ow, c])]


def _bilinear_axis(op, in_size: int, out_size: int, quantized: bool):
    """Per output index of one axis: the two source indices and their
    weights, as TFLM's ResizeBilinear computes them in float32, or as
    ResizeBilinearInteger does in 10-bit fixed point (int8)."""
    scale, align, half = _resize_size(op, in_size, out_size)
    v = np.arange(out_size, dtype=np.int64)
    if quantized:
        scale10 = (
            (1024 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
            if align and out_size > 1
            else ((1024 * in_size + out_size // 2) // out_size)
        )
        at = v * scale10 + scale10 // 2 - 512 if half else v * scale10
        low = np.maximum(np.trunc(at / 1024).astype(np.int64), 0)
        high = np.minimum(np.trunc((at + 1023) / 1024).astype(np.int64), in_size - 1)
        far = at - 1024 * low
        return low, high, 1024 - far, far
    at = (v.astype(np.float32) + np.float32(0.5)) * scale - np.float32(0.5) if half else v.astype(np.float32) * scale
    low = np.maximum(np.floor(at).astype(np.int64), 0)
    high = np.minimum(np.ceil(at).astype(np.int64), in_size - 1)
    far = (at - low.astype(np.float32)).astype(np.float32)
    return low, high, np.float32(1.0) - far, far


def _resize_bilinear(imp, op):
    """One generic over the output that reads the four source pixels of
    each output pixel (tensor.extract at constant per-axis indices) and
    weighs them: in float32 in TFLM's order, or in int32 with the 2^20
    fixed-point weights of its int8 kernel, rounded half away from zero
    (the int64 sums of TFLM fit in int32: |x| * 2^20 <= 2^27)."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    _require_int8(op, x_t, out)
    if op.options.AlignCorners() and op.options.HalfPixelCenters():
        raise FdtError(f"RESIZE_BILINEAR {op.index}: align_corners and half_pixel_centers together")
    quantized = x_t.dtype == np.int8
    (_, h, w, _), (n, oh, ow, c) = x_t.shape, out.shape
    b = imp.b
    y0, y1, wy0, wy1 = _bilinear_axis(op, h, oh, quantized)
    x0, x1, wx0, wx1 = _bilinear_axis(op, w, ow, quantized)
    weight = np.int32 if quantized else np.float32
    tables = [b.const(a.astype(np.int32)) for a in (y0, y1, x0, x1)] + [
        b.const(a.astype(weight)) for a in (wy0, wy1, wx0, wx1)
    ]
    image = imp.value(op.inputs[0])
    index, etype = ir.IndexType.get(), element_type(x_t.dtype)
    wtype = element_type(weight)

    def compute(y0, y1, x0, x1, wy0, wy1, wx0, wx1):
        at = lambda v: arith.IndexCastOp(index, v).result  # noqa: E731
        batch, channel = linalg.IndexOp(0).result, linalg.IndexOp(3).result
        pixel = lambda y, x: tensor.ExtractOp(image, [batch, at(y), at(x), channel]).result  # noqa: E731
        corners = [
            (pixel(y0, x0), wy0, wx0),
            (pixel(y1, x0), wy1, wx0),
            (pixel(y0, x1), wy0, wx1),
            (pixel(y1, x1), wy1, wx1),
        ]
        if not quantized:
            terms = [arith.MulFOp(arith.MulFOp(v, a).result, bb).result for v, a, bb in corners]
            return arith.AddFOp(arith.AddFOp(arith.AddFOp(terms[0], terms[1]).result, terms[2]).result, terms[3]).result
        terms = [
            arith.MulIOp(arith.MulIOp(arith.ExtSIOp(wtype, v).result, a).result, bb).result for v, a, bb in corners
        ]
        total = arith.AddIOp(arith.AddIOp(arith.AddIOp(terms[0], terms[1]).result, terms[2]).result, terms[3]).result
        const = lambda k: arith.ConstantOp(wtype, k).result  # noqa: E731
        positive = arith.CmpIOp(arith.CmpIPredicate.sgt, total, const(0)).result
        nudged = arith.AddIOp(total, arith.SelectOp(positive, const(1 << 19), const(-(1 << 19))).result).result
        return arith.TruncIOp(etype, arith.DivSIOp(nudged, const(1 << 20)).result).result

    shapes = [[1, oh, 1, 1], [1, oh, 1, 1], [1, 1, ow, 1], [1, 1, ow, 1]] * 2
    tables = [b.reshape(t, shape) for t, shape in zip(tables, shapes)]
    return [_pointwise(tables, x_t.dtype, compute, shape=[n, oh, ow, c])]


def _batch_matmul(imp, op):
    """One contraction generic over (batch dims, rows, cols, depth), whose
    maps read each operand as it is stored: adj_x and adj_y swap the last two
    dims of an operand's map, and an operand's missing or unit batch dims
    are left out of it (broadcast), so nothing is transposed or tiled into
    a copy. int8: TFLM's int32 sum of (lhs - zp) * (rhs - zp), rescaled by
    lhs scale * rhs scale (float32) / output scale."""
    lhs_t, rhs_t, out = imp.t(op.inputs[0]), imp.t(op.inputs[1]), imp.t(op.outputs[0])
    _require_int8(op, lhs_t, rhs_t, out)
    b = imp.b
    batch = list(out.shape[:-2])
    nb = len(batch)
    rows, cols, depth = nb, nb + 1, nb + 2  # loop dims
    operands, maps = [], []
    for index, adjoint, last_two in (
        (op.inputs[0], op.options.AdjX(), (rows, depth)),
        (op.inputs[1], op.options.AdjY(), (depth, cols)),
    ):
        t = imp.t(index)
        shape = [1] * (nb + 2 - len(t.shape)) + list(t.shape)
        kept = [d for d in range(nb) if shape[d] != 1 or batch[d] == 1]
        operands.append(b.reshape(imp.value(index), [shape[d] for d in kept] + shape[-2:]))
        dims = kept + list(last_two[::-1] if adjoint else last_two)
        maps.append(ir.AffineMap.get(nb + 3, 0, [ir.AffineExpr.get_dim(d) for d in dims]))
    maps.append(ir.AffineMap.get(nb + 3, 0, [ir.AffineExpr.get_dim(d) for d in [*range(nb), rows, cols]]))
    quant = lhs_t.quantized
    acc = np.int32 if quant else np.float32
    acc_type = element_type(acc)
    zps = [int(t.zero_point[0]) if quant else 0 for t in (lhs_t, rhs_t)]
    out_type = tensor_type(out.shape, acc)
    start = linalg.fill(
        arith.ConstantOp(acc_type, 0 if quant else 0.0).result, outs=[tensor.EmptyOp(out.shape, acc_type).result]
    )
    kinds = ["parallel"] * (nb + 2) + ["reduction"]

    def multiply_add(x, y, total):
        if not quant:
            return arith.AddFOp(total, arith.MulFOp(x, y).result).result
        x, y = (
            arith.SubIOp(arith.ExtSIOp(acc_type, v).result, arith.ConstantOp(acc_type, zp).result).result
            for v, zp in zip((x, y), zps)
        )
        return arith.AddIOp(total, arith.MulIOp(x, y).result).result

    res = _generic(out_type, operands, start, maps, kinds, multiply_add)
    if quant:
        m, s = q.fully_connected_multiplier(lhs_t.scale[0], rhs_t.scale[0], out.scale[0])
        res = b.rescale(res, [m], [s], 0, int(out.zero_point[0]), out.dtype)
    return [res]


def _transpose_conv(imp, op):
    """One generic over the output and the filter taps, which fdt-tile-kernels
    tiles to one accumulator per output element (tosa.transpose_conv2d's
    decomposition kept two whole-output buffers): out[oy] sums x[iy] * w[ky]
    over iy * stride + ky = oy + pad. The input is read by tensor.extract at
    an index clamped into range; a tap off the stride or outside the input
    adds nothing. The filter is flipped at compile time, so that the taps
    come in ascending iy and ix, in the order TFLM adds them. TFLM pads by
    half the excess of the output it is given (ComputePaddingHeightWidth on
    the output size), ignores the filter zero point, adds the bias to the
    sum and rescales int8 per channel (input scale * filter scale / output
    scale, in double)."""
    o = op.options
    w_t, x_t, out = imp.t(op.inputs[1]), imp.t(op.inputs[2]), imp.t(op.outputs[0])
    _require_int8(op, x_t, out)
    if w_t.data is None:
        raise FdtError(f"TRANSPOSE_CONV {op.index}: non-constant weights are not supported")
    oc, kh, kw, _ = w_t.shape
    strides = (o.StrideH(), o.StrideW())
    origins = []  # oy + pad - ky at the first (flipped) tap, per spatial axis
    for size, k, stride in zip(out.shape[1:3], (kh, kw), strides):
        tiles = -(-size // stride) if o.Padding() == 0 else (size + stride - k) // stride
        origins.append(max((tiles - 1) * stride + k - size, 0) // 2 - (k - 1))
    quant = x_t.quantized
    acc = np.int32 if quant else np.float32
    acc_type = element_type(acc)
    x = imp.value(op.inputs[2])
    izp = int(x_t.zero_point[0]) if quant else 0

    def source(axis):
        """The input index of a spatial axis, clamped, and whether the tap
        reads one: (out + origin + tap) / stride, if divisible and in range."""
        at = arith.AddIOp(linalg.IndexOp(1 + axis).result, linalg.IndexOp(4 + axis).result).result
        at = arith.AddIOp(at, _index(origins[axis])).result
        row = arith.DivSIOp(at, _index(strides[axis])).result
        # A negative `at` off the stride has a remainder; on it, a negative row.
        on_stride = arith.CmpIOp(
            arith.CmpIPredicate.eq, arith.RemSIOp(at, _index(strides[axis])).result, _index(0)
        ).result
        return _guarded_index(row, x_t.shape[1 + axis], on_stride)

    def multiply_add(weight, total):
        (row, valid_row), (col, valid_col) = source(0), source(1)
        at = [linalg.IndexOp(0).result, row, col, linalg.IndexOp(6).result]
        value = tensor.ExtractOp(x, at).result
        if quant:
            value = arith.SubIOp(arith.ExtSIOp(acc_type, value).result, arith.ConstantOp(acc_type, izp).result).result
            added = arith.AddIOp(total, arith.MulIOp(value, arith.ExtSIOp(acc_type, weight).result).result).result
        else:
            added = arith.AddFOp(total, arith.MulFOp(value, weight).result).result
        return arith.SelectOp(arith.AndIOp(valid_row, valid_col).result, added, total).result

    b = imp.b
    rank = 7  # (n, oy, ox, oc, flipped ky, flipped kx, ic)
    dims = [ir.AffineExpr.get_dim(d) for d in range(rank)]
    maps = [ir.AffineMap.get(rank, 0, dims[3:]), ir.AffineMap.get(rank, 0, dims[:4])]
    start = linalg.fill(
        arith.ConstantOp(acc_type, 0 if quant else 0.0).result, outs=[tensor.EmptyOp(out.shape, acc_type).result]
    )
    weights = b.const(np.ascontiguousarray(w_t.data[:, ::-1, ::-1, :]))
    kinds = ["parallel"] * 4 + ["reduction"] * 3
    res = _generic(tensor_type(out.shape, acc), [weights], start, maps, kinds, multiply_add)
    if len(op.inputs) > 3 and op.inputs[3] >= 0:
        bias = imp.t(op.inputs[3]).data.reshape(1, 1, 1, oc)
        res = b.op("tosa.add", [res, b.const(bias, acc)], res.type)
    if quant:
        mults, shifts = q.conv_multipliers(x_t.scale[0], w_t.scale, out.scale[0], oc)
        res = b.rescale(res, mults, shifts, 0, int(out.zero_point[0]), out.dtype)
    return [imp.activate(res, o.FusedActivationFunction(), out, op.opcode)]


def _space_batch_params(imp, op, spatial: int):
    block = _constant_ints(imp, op, op.inputs[1], "block_shape")
    pads = _constant_ints(imp, op, op.inputs[2], "paddings" if op.opcode == "SPACE_TO_BATCH_ND" else "crops")
    if len(block) != spatial:
        raise FdtError(f"{op.opcode} {op.index}: {len(block)} block dims for {spatial} spatial dims")
    return block, [pads[2 * i : 2 * i + 2] for i in range(spatial)]


def _space_to_batch_nd(imp, op):
    """One copy reading the input in its body: out[k * batch + b, y.., c] =
    in[b, y * block + the k-th block offset - pad before.., c] (k the
    row-major index of the offsets over the spatial dims), or in the padding
    the output zero point or 0, as TFLite (TFLM leaves it unset). (A padded
    copy, reshaped and transposed, was a whole tensor of its own.)"""
    _same_quantization(imp, op, op.inputs[:1], op.outputs)
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    block, pads = _space_batch_params(imp, op, len(x_t.shape) - 2)
    fill = int(out.zero_point[0]) if out.quantized else 0.0

    def at(loops):
        phase = arith.DivSIOp(loops[0], _index(x_t.shape[0])).result
        offsets = []
        for k in reversed(block):
            offsets.insert(0, arith.RemSIOp(phase, _index(k)).result)
            phase = arith.DivSIOp(phase, _index(k)).result
        rows, inside = [], arith.ConstantOp(ir.IntegerType.get_signless(1), 1).result
        for y, k, offset, (before, _), n in zip(loops[1:-1], block, offsets, pads, x_t.shape[1:-1]):
            row = arith.SubIOp(arith.AddIOp(arith.MulIOp(y, _index(k)).result, offset).result, _index(before)).result
            row, within = _guarded_index(row, n)
            inside = arith.AndIOp(inside, within).result
            rows.append(row)
        batch = arith.RemSIOp(loops[0], _index(x_t.shape[0])).result
        return [batch, *rows, loops[-1]], inside

    return [_read_at(imp.value(op.inputs[0]), out.shape, at, fill=fill)]


def _batch_to_space_nd(imp, op):
    """The inverse of SPACE_TO_BATCH_ND, with crops instead of pads, as one
    copy reading the input in its body: out[b, y.., c] = in[k * batch + b,
    (y + crop) / block.., c], k the row-major index of the (y + crop) %
    block over the spatial dims. (A reshape, transpose and slice kept a
    whole intermediate copy.)"""
    _same_quantization(imp, op, op.inputs[:1], op.outputs)
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    block, crops = _space_batch_params(imp, op, len(x_t.shape) - 2)

    def at(loops):
        phase, rows = _index(0), []
        for y, k, (crop, _) in zip(loops[1:-1], block, crops):
            y = arith.AddIOp(y, _index(crop)).result
            phase = arith.AddIOp(arith.MulIOp(phase, _index(k)).result, arith.RemSIOp(y, _index(k)).result).result
            rows.append(arith.DivSIOp(y, _index(k)).result)
        batch = arith.AddIOp(arith.MulIOp(phase, _index(out.shape[0])).result, loops[0]).result
        return [batch, *rows, loops[-1]]

    return [_read_at(imp.value(op.inputs[0]), out.shape, at)]


def _l2_normalization(imp, op):
    """float: x / max(sqrt(sum over the last axis of x^2), 1e-6), as TFLM.
    int8: `_l2_normalization_int8`."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    if op.options.FusedActivationFunction() != 0:
        raise FdtError(f"L2_NORMALIZATION {op.index}: fused activations are not supported")
    if len(x_t.shape) > 4:
        raise FdtError(f"L2_NORMALIZATION {op.index}: more than 4 dimensions are not supported (as TFLM)")
    if x_t.dtype == np.int8 and out.dtype == np.int8:
        return [_l2_normalization_int8(imp, op)]
    _require_float(imp, op)
    b, x = imp.b, imp.value(op.inputs[0])
    axis = len(x_t.shape) - 1
    squares = b.reduce("sum", b.mul(x, x), axis)
    norm = _pointwise(
        [squares],
        np.float32,
        lambda v: arith.MaximumFOp(math.SqrtOp(v).result, arith.ConstantOp(v.type, 1e-6).result).result,
    )
    return [_pointwise([x, norm], np.float32, lambda v, n: arith.DivFOp(v, n).result)]


def _l2_normalization_int8(imp, op):
    """TFLM's int8 L2_NORMALIZATION (reference_integer_ops::L2Normalization):
    per row, the int32 sum of the squares of the input minus its zero point
    and its GetInvSqrtQuantizedMultiplierExp (`_inv_sqrt`: one generic for
    the multiplier, one for the shift); per element, the input minus its
    zero point times that multiplier, 7 bits further left, saturated. TFLM
    writes Q0.7 whatever the output's quantization (TFLite's is 1/128, 0)."""
    x_t = imp.t(op.inputs[0])
    depth, zero_point = x_t.shape[-1], int(x_t.zero_point[0])
    if depth * 255**2 > q.INT32_MAX:
        raise FdtError(f"L2_NORMALIZATION {op.index}: {depth} values overflow TFLM's int32 sum of squares")
    i32 = element_type(np.int32)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    centred = lambda v: arith.SubIOp(arith.ExtSIOp(i32, v).result, c(zero_point)).result  # noqa: E731

    def add_square(v, acc):
        value = centred(v)
        return arith.AddIOp(acc, arith.MulIOp(value, value).result).result

    x = imp.value(op.inputs[0])
    rank = len(x_t.shape)
    squares = _reduction(x, [rank - 1], np.int32, 0, add_square)
    squares = imp.b.reshape(squares, [*x_t.shape[:-1], 1])
    multiplier = _pointwise([squares], np.int32, lambda v: _inv_sqrt(v)[0])
    shift = _pointwise([squares], np.int32, lambda v: _inv_sqrt(v)[1])

    def normalise(v, m, s):
        scaled = _multiply_by_quantized_multiplier(centred(v), m, arith.SubIOp(c(7), s).result)
        clamped = arith.MinSIOp(arith.MaxSIOp(scaled, c(-128)).result, c(127)).result
        return arith.TruncIOp(element_type(np.int8), clamped).result

    return _pointwise([x, multiplier, shift], np.int8, normalise)


def _inv_sqrt(value):
    """TFLite's GetInvSqrtQuantizedMultiplierExp(value, kReverseShift) of an
    i32 sum below 2^31 (`tflite_fixedpoint.inv_sqrt_multiplier_exp` is its
    compile-time twin): (multiplier, right shift). The normalisation halves
    the value once at most; its leading zeros come from comparisons."""
    i32 = element_type(np.int32)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    tiny = arith.CmpIOp(arith.CmpIPredicate.sle, value, c(1)).result  # TFLM's 0 and 1: INT32_MAX, 0
    large = arith.CmpIOp(arith.CmpIPredicate.sge, value, c(1 << 29)).result
    value = arith.SelectOp(large, arith.ShRSIOp(value, c(2)).result, value).result
    shift = arith.SelectOp(large, c(12), c(11)).result
    bits = c(1)
    for k in range(1, 29):
        reached = arith.CmpIOp(arith.CmpIPredicate.sge, value, c(1 << k)).result
        bits = arith.AddIOp(bits, arith.ExtUIOp(i32, reached).result).result
    pairs = arith.SubIOp(arith.ShRSIOp(arith.SubIOp(c(31), bits).result, c(1)).result, c(1)).result
    shift = arith.SubIOp(shift, pairs).result
    value = arith.ShLIOp(value, arith.AddIOp(pairs, pairs).result).result
    half_input = _divide_by_pot(arith.ShRSIOp(value, c(1)).result, c(1))
    x = c(1 << 28)
    for _ in range(5):
        x3 = _saturating_multiply_by_pot(_doubling_high_mul(_doubling_high_mul(x, x), x), 6)
        difference = arith.SubIOp(_doubling_high_mul(c((1 << 28) + (1 << 27)), x), _doubling_high_mul(half_input, x3))
        x = _saturating_multiply_by_pot(difference.result, 3)
    x = _doubling_high_mul(x, c(1518500250))
    negative = arith.CmpIOp(arith.CmpIPredicate.slt, shift, c(0)).result
    x = arith.SelectOp(negative, arith.ShLIOp(x, arith.SubIOp(c(0), shift).result).result, x).result
    shift = arith.MaxSIOp(shift, c(0)).result
    return arith.SelectOp(tiny, c(q.INT32_MAX), x).result, arith.SelectOp(tiny, c(0), shift).result


def _log_softmax(imp, op):
    """float: x - max - log(sum(exp(x - max))) over the last axis, as TFLM.
    int8: `_log_softmax_int8`."""
    if imp.t(op.inputs[0]).dtype == np.int8 and imp.t(op.outputs[0]).dtype == np.int8:
        return [_log_softmax_int8(imp, op)]
    _require_float(imp, op)
    b, x = imp.b, imp.value(op.inputs[0])
    axis = len(imp.t(op.inputs[0]).shape) - 1
    shifted = b.binary("sub", x, b.reduce("max", x, axis))
    total = b.reduce("sum", b.op("tosa.exp", [shifted], shifted.type), axis)
    return [b.binary("sub", shifted, b.op("tosa.log", [total], total.type))]


def _log_softmax_int8(imp, op):
    """TFLM's int8 LOG_SOFTMAX (reference_ops::LogSoftmaxQuantized), in four
    generics: the row's max; the row's Q12.19 sum of exps of the differences
    x - max (a table of the 256 differences, as SOFTMAX's, rounded to Q12);
    per element, the difference's Q5.26 value (a table) minus
    log_x_for_x_greater_than_or_equal_to_1 of the sum (`_log_x_ge_1`, a
    fourth generic, per row), rounded to Q4 + 127 where the
    difference exceeds TFLM's adjusted diff_min, else -128."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    if out.scale[0] != np.float32(16 / 256) or int(out.zero_point[0]) != 127:
        raise FdtError(f"LOG_SOFTMAX {op.index}: int8 log softmax needs an output scale of 16/256 and zero point 127")
    depth = x_t.shape[-1]
    if depth >= 4096:
        raise FdtError(f"LOG_SOFTMAX {op.index}: {depth} >= 4096 values overflow TFLM's Q12.19 sum of exps")
    multiplier, left_shift, diff_min = fx.softmax_scaling(1.0, x_t.scale[0])
    reverse = float(1 << (31 - left_shift)) / multiplier  # PreprocessLogSoftmaxScalingExp
    reverse_multiplier, reverse_shift = q.quantize_multiplier(reverse)
    differences = -np.arange(256)
    exps = imp.b.const(fx.rounding_divide_by_pot(fx.softmax_exp_table(1.0, x_t.scale[0]), 12).astype(np.int32))
    in_q5 = imp.b.const(q.multiply_by_quantized_multiplier(differences, multiplier, left_shift).astype(np.int32))
    x = imp.value(op.inputs[0])
    rank = len(x_t.shape)
    i32, index = element_type(np.int32), ir.IndexType.get()
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    negated = lambda v, m: arith.SubIOp(arith.ExtSIOp(i32, m).result, arith.ExtSIOp(i32, v).result).result  # noqa: E731
    look_up = lambda table, k: tensor.ExtractOp(table, [arith.IndexCastOp(index, k).result]).result  # noqa: E731

    def larger(v, acc):
        return arith.SelectOp(arith.CmpIOp(arith.CmpIPredicate.sgt, v, acc).result, v, acc).result

    rows = list(x_t.shape[:-1])
    peak = _reduction(x, [rank - 1], np.int8, -128, larger)
    row = ir.AffineMap.get(rank, 0, [ir.AffineExpr.get_dim(d) for d in range(rank - 1)])
    zero = linalg.fill(c(0), outs=[tensor.EmptyOp(rows, i32).result])
    total = _generic(
        tensor_type(rows, np.int32),
        [x, peak],
        zero,
        [ir.AffineMap.get_identity(rank), row, row],
        ["parallel"] * (rank - 1) + ["reduction"],
        lambda v, m, acc: arith.AddIOp(acc, look_up(exps, negated(v, m))).result,
    )
    log_sum = imp.b.reshape(_pointwise([total], np.int32, _log_x_ge_1), [*rows, 1])
    peak = imp.b.reshape(peak, [*rows, 1])

    def log_softmax(v, m, log_sum):
        shifted = arith.AddIOp(log_sum, c(q.INT32_MIN)).result
        bound = _multiply_by_quantized_multiplier(shifted, c(reverse_multiplier), c(reverse_shift))
        bound = arith.MaxSIOp(c(diff_min - 1), bound).result
        k = negated(v, m)
        inside = arith.CmpIOp(arith.CmpIPredicate.sgt, arith.SubIOp(c(0), k).result, bound).result
        value = _divide_by_pot(arith.SubIOp(look_up(in_q5, k), log_sum).result, c(31 - 5 - 4))
        value = arith.MinSIOp(arith.MaxSIOp(arith.AddIOp(value, c(127)).result, c(-128)).result, c(127)).result
        return arith.TruncIOp(element_type(np.int8), arith.SelectOp(inside, value, c(-128)).result).result

    return _pointwise([x, peak, log_sum], np.int8, log_softmax)


def _log_x_ge_1(total):
    """TFLite's log_x_for_x_greater_than_or_equal_to_1<5> of a Q12.19 sum in
    [1, 2^12) (one exp is 1): Q5.26. Its saturating adds and shifts of the
    exponents never saturate here (12 integer bits at most, 2^25 apart)."""
    i32 = element_type(np.int32)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    mul = _doubling_high_mul
    add = lambda a, b: arith.AddIOp(a, b).result  # noqa: E731
    sub = lambda a, b: arith.SubIOp(a, b).result  # noqa: E731
    sqrt_half, sqrt_sqrt_half = c(1518500250), c(1805811301)

    def leading_zeros(v):  # of a value in [2^18, 2^31)
        bits = c(19)
        for k in range(19, 31):
            bits = add(bits, arith.ExtUIOp(i32, arith.CmpIOp(arith.CmpIPredicate.sge, v, c(1 << k)).result).result)
        return sub(c(32), bits)

    headroom_plus_one = leading_zeros(total)
    r_a = _saturating_multiply_by_pot(mul(arith.ShLIOp(total, sub(headroom_plus_one, c(1))).result, sqrt_half), 1)
    z_a_pow_2_adj = add(arith.ShLIOp(sub(c(12), headroom_plus_one), c(25)).result, c(1 << 23))
    z_b_headroom = sub(leading_zeros(mul(total, sqrt_half)), c(1))
    r_b = _saturating_multiply_by_pot(total, z_b_headroom)
    z_b_pow_2_adj = sub(arith.ShLIOp(sub(c(12), z_b_headroom), c(25)).result, c(1 << 23))
    r = arith.MinSIOp(r_a, r_b).result
    z_pow_2_adj = arith.MaxSIOp(z_a_pow_2_adj, z_b_pow_2_adj).result
    p = _half_sum_of_positives(r, 1805811301)
    offset = sub(r, sqrt_sqrt_half)
    offset = add(offset, offset)
    common_sq = mul(offset, offset)
    num = add(mul(offset, r), mul(mul(offset, common_sq), c(117049297)))
    denom_minus_one = add(
        mul(p, add(add(c(1057819769), offset), mul(c(127690142), common_sq))), mul(c(638450708), offset)
    )
    recip_denom = _one_over_one_plus_x(denom_minus_one)
    num_scaled = _divide_by_pot(num, c(6))
    return _saturating_multiply_by_pot(add(mul(z_pow_2_adj, c(1488522236)), mul(num_scaled, recip_denom)), 1)


def _half_sum_of_positives(a, b: int):
    """gemmlowp's RoundingHalfSum of an i32 value a >= 0 and a constant b >
    0: (a + b + 1) / 2 in 64 bits."""
    i32, i64 = element_type(np.int32), element_type(np.int64)
    total = arith.AddIOp(arith.ExtSIOp(i64, a).result, arith.ConstantOp(i64, b + 1).result).result
    return arith.TruncIOp(i32, arith.ShRSIOp(total, arith.ConstantOp(i64, 1).result).result).result


def _one_over_one_plus_x(a):
    """gemmlowp's one_over_one_plus_x_for_x_in_0_1 of an i32 Q0.31 value in
    [0, 1): Newton-Raphson in Q2.29 (`tflite_fixedpoint` has its
    compile-time twin)."""
    i32 = element_type(np.int32)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    half_denominator = _half_sum_of_positives(a, q.INT32_MAX)
    x = arith.AddIOp(c(1515870810), _doubling_high_mul(half_denominator, c(-1010580540))).result
    for _ in range(3):
        one_minus = arith.SubIOp(c(1 << 29), _doubling_high_mul(half_denominator, x)).result
        x = arith.AddIOp(x, _saturating_multiply_by_pot(_doubling_high_mul(x, one_minus), 2)).result
    return _saturating_multiply_by_pot(x, 1)


def _sequence_lstm(imp, op):
    """float32 UNIDIRECTIONAL_SEQUENCE_LSTM, unrolled over the time steps as
    TFLM computes them: per step the gates (input, forget, cell, output) are
    FC(x_t) + bias + FC(h), through sigmoid (the cell gate through the fused
    activation, tanh), c = f * c + i * g (clipped to cell_clip if set), h =
    o * tanh(c). The steps start from the stored output and cell state
    (inputs 18 and 19, variable tensors) and store the last step's, so
    that, as in TFLM, the state carries over to the next invoke until a
    reset. Peepholes, projection, layer norm and CIFG are refused, as
    TFLM's kernel does. int8 is `_sequence_lstm_int8`."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    if x_t.dtype not in (np.float32, np.int8):
        dtype = np.dtype(x_t.dtype).name
        raise FdtError(
            f"UNIDIRECTIONAL_SEQUENCE_LSTM {op.index}: {dtype} activations are not supported, only float32 and int8"
        )
    present = lambda i: i < len(op.inputs) and op.inputs[i] >= 0  # noqa: E731
    if any(present(i) for i in (9, 10, 11, 16, 17, 20, 21, 22, 23)) or not all(
        present(i) for i in range(1, 16) if i not in (9, 10, 11)
    ):
        raise FdtError(
            f"UNIDIRECTIONAL_SEQUENCE_LSTM {op.index}: only the basic LSTM is supported "
            "(no peepholes, projection, layer norm or CIFG, as TFLM)"
        )
    opts = op.options
    if opts.FusedActivationFunction() != 4:
        raise FdtError(f"UNIDIRECTIONAL_SEQUENCE_LSTM {op.index}: only the tanh activation is supported")
    if x_t.dtype == np.int8:
        return _sequence_lstm_int8(imp, op)
    weights = []
    for first in (1, 5, 12):
        tensors = [imp.t(op.inputs[i]) for i in range(first, first + 4)]
        if any(t.data is None for t in tensors):
            raise FdtError(f"UNIDIRECTIONAL_SEQUENCE_LSTM {op.index}: non-constant weights are not supported")
        weights.append(np.concatenate([t.data for t in tensors]))  # gates i, f, g, o, one after the other
    w_x, w_h, bias = weights
    units = w_h.shape[1]
    b = imp.b
    x = imp.value(op.inputs[0])
    time_axis = 0 if opts.TimeMajor() else 1
    batch = x_t.shape[1 - time_axis]
    zero = b.zp(0.0, np.float32)
    gate_type = tensor_type([1, batch, units], np.float32)
    clip = float(opts.CellClip())
    h, c = (b.reshape(imp.state(op.inputs[k]), [1, batch, units]) for k in (18, 19))

    def gate(k, t, activation):
        """Gate k (input, forget, cell, output) alone: FC(x) + bias + FC(h)."""
        rows = slice(k * units, (k + 1) * units)
        w_hk = b.const(np.ascontiguousarray(w_h[rows].T).reshape(1, units, units))
        fc_x = _frame_matmul(imp, x, time_axis, t, np.ascontiguousarray(w_x[rows].T))
        total = b.op("tosa.add", [fc_x, b.const(bias[rows].reshape(1, 1, units))], gate_type)
        total = b.op("tosa.add", [total, b.op("tosa.matmul", [h, w_hk, zero, zero], gate_type)], gate_type)
        return b.op(activation, [total], gate_type)

    def step(t):
        nonlocal h, c
        f, i, g, o = (
            gate(k, t, a) for k, a in ((1, "tosa.sigmoid"), (0, "tosa.sigmoid"), (2, "tosa.tanh"), (3, "tosa.sigmoid"))
        )
        c = b.binary("add", b.mul(f, c), b.mul(i, g))
        if clip > 0:
            c = b.clamp(c, -clip, clip)
        h = b.mul(o, b.op("tosa.tanh", [c], c.type))
        return h

    res = _lstm_sequence(imp, x, time_axis, units, step)
    for k, value in ((18, h), (19, c)):
        imp.set_state(op.inputs[k], b.reshape(value, imp.t(op.inputs[k]).shape))
    return [b.reshape(res, out.shape)]


def _lstm_sequence(imp, x, time_axis, units, step):
    """The hidden states of `step(t) -> h` ([1, batch, units]) over the time
    steps t of `x` (time along `time_axis`, 0 or 1), in x's layout. As
    TFLM, each step writes its hidden state into the result, so that no
    step's values outlive it."""
    b = imp.b
    shape = list(ir.RankedTensorType(x.type).shape)
    etype = ir.RankedTensorType(x.type).element_type
    h_shape = [1, shape[1], units] if time_axis == 0 else [shape[0], 1, units]
    res = tensor.EmptyOp([*shape[:2], units], etype).result
    for t in range(shape[time_axis]):
        at = [0, 0, 0]
        at[time_axis] = t
        res = tensor.InsertSliceOp(b.reshape(step(t), h_shape), res, [], [], [], at, h_shape, [1, 1, 1]).result
    return res


def _lstm_frame(imp, x, time_axis, t):
    """Frame t of the sequence `x`, as [1, batch, features]."""
    shape = list(ir.RankedTensorType(x.type).shape)
    etype = ir.RankedTensorType(x.type).element_type
    frame_shape = [1, shape[1], shape[2]] if time_axis == 0 else [shape[0], 1, shape[2]]
    at = [0, 0, 0]
    at[time_axis] = t
    frame = imp.b.op(
        "tosa.slice", [x, imp.b.shape(at), imp.b.shape(frame_shape)], ir.RankedTensorType.get(frame_shape, etype)
    )
    return imp.b.reshape(frame, [1, shape[1 - time_axis], shape[2]])


def _frame_matmul(imp, x, time_axis, t, weights):
    """float frame t of the sequence `x` times `weights` ([features, units]),
    as [1, batch, units]: one contraction reading the frame in place through
    its indexing map (a sliced frame would be a copy), summing the features
    in order, as tosa.matmul does."""
    shape = ir.RankedTensorType(x.type).shape
    batch, units = shape[1 - time_axis], weights.shape[1]
    d = [ir.AffineExpr.get_dim(i) for i in range(4)]  # (1, batch, units, features)
    time = ir.AffineExpr.get_constant(t)
    frame = ir.AffineMap.get(4, 0, [time, d[1], d[3]] if time_axis == 0 else [d[1], time, d[3]])
    maps = [frame, ir.AffineMap.get(4, 0, [d[3], d[2]]), ir.AffineMap.get(4, 0, d[:3])]
    f32 = ir.F32Type.get()
    start = linalg.fill(arith.ConstantOp(f32, 0.0).result, outs=[tensor.EmptyOp([1, batch, units], f32).result])
    kinds = ["parallel"] * 3 + ["reduction"]
    multiply_add = lambda v, w, acc: arith.AddFOp(acc, arith.MulFOp(v, w).result).result  # noqa: E731
    return _generic(
        tensor_type([1, batch, units], np.float32), [x, imp.b.const(weights)], start, maps, kinds, multiply_add
    )


def _sequence_lstm_int8(imp, op):
    """TFLM's 8x8->16 UNIDIRECTIONAL_SEQUENCE_LSTM (EvalLstm<int8_t, int8_t,
    int16_t, int32_t>): int8 input, hidden state and output, int8 weights,
    int32 biases, an int16 cell state. Its FCs read one per-tensor
    multiplier, so per-channel weights are refused, and weights with a zero
    point too (TFLM requires 0). The steps start from the stored state
    (after a reset, as TFLM's: the hidden state at its zero point, the cell
    state at 0) and store the last step's."""
    name = f"UNIDIRECTIONAL_SEQUENCE_LSTM {op.index}"
    x_t, h_t, c_t, out = (imp.t(i) for i in (op.inputs[0], op.inputs[18], op.inputs[19], op.outputs[0]))
    if (h_t.dtype, out.dtype, c_t.dtype) != (np.int8, np.int8, np.int16):
        raise FdtError(f"{name}: int8 needs an int8 hidden state and output and an int16 cell state (as TFLM)")
    gates = [[imp.t(op.inputs[i]) for i in range(first, first + 4)] for first in (1, 5, 12)]
    weights = gates[0] + gates[1]
    if any(t.data is None for t in weights + gates[2]):
        raise FdtError(f"{name}: non-constant weights are not supported")
    if any(t.dtype != np.int8 for t in weights) or any(t.dtype != np.int32 for t in gates[2]):
        raise FdtError(f"{name}: int8 needs int8 weights and int32 biases (as TFLM)")
    if any(len(t.scale) != 1 for t in weights):
        raise FdtError(f"{name}: per-channel weights are not supported (TFLM's LSTM reads one scale per weight)")
    if any(int(t.zero_point[0]) != 0 for t in weights):
        raise FdtError(f"{name}: int8 weights with a zero point are not supported (TFLM requires 0)")
    b = imp.b
    time_axis = 0 if op.options.TimeMajor() else 1
    batch, units = x_t.shape[1 - time_axis], out.shape[-1]
    h0, c0 = (b.reshape(imp.state(op.inputs[k]), [1, batch, units]) for k in (18, 19))
    x = imp.value(op.inputs[0])
    res, h, c = _lstm_int8_steps(imp, x, time_axis, h0, c0, x_t, h_t, c_t, gates, float(op.options.CellClip()))
    for k, value in ((18, h), (19, c)):
        imp.set_state(op.inputs[k], b.reshape(value, imp.t(op.inputs[k]).shape))
    return [b.reshape(res, out.shape)]


# TFLM's integer LSTM: gate inputs are int16 at 2^-12 (Q3.12), gate
# outputs int16 at 2^-15 (Q0.15).
_LSTM_GATE_INPUT_SCALE = 2.0**-12
_LSTM_GATE_OUTPUT_SCALE = 2.0**-15


def _lstm_int8_steps(imp, x, time_axis, h0, c0, x_t, h_t, c_t, gates, clip):
    """TFLM's 8x8->16 integer LSTM steps (lstm_eval.h LstmStep, parameters
    from PrepareGateParametersInteger) over the int8 sequence `x` (time
    along `time_axis`, 0 or 1, features last) from the state (h0 int8, c0
    int16, [1, batch, units]). Returns the steps' hidden states in x's
    layout and the final (h, c), the state a persistent LSTM would keep.

    Each gate, one at a time in TFLM's order, is two FCs with int32
    accumulators rescaled to int16 Q3.12 by input (or hidden) scale *
    weight scale / 2^-12, the input's with the bias, added with int16
    saturation, then TFLM's int16 sigmoid or tanh. The cell state is f * c
    + i * g in int16 at the cell scale (each product rescaled on its own,
    the sum saturated, then clipped to the quantized cell_clip); h =
    tanh(c) * o rescaled to the hidden state's scale and zero point, which
    the output copies (TFLM ignores the output tensor's quantization). The
    steps run over the sequence as `_lstm_sequence` does."""
    b = imp.b
    shape = list(ir.RankedTensorType(x.type).shape)
    batch = shape[1 - time_axis]
    units = gates[1][0].shape[1]
    f32 = np.float32

    def fc(input_t, weights_t, bias_t=None):
        """One gate's FC as a function of its int8 input: TFLM's
        FullyConnected to int16 at 2^-12, the accumulators in int32."""
        depth = weights_t.shape[1]
        w = b.const(np.ascontiguousarray(weights_t.data.T).reshape(1, depth, units))
        bias = None if bias_t is None else b.const(bias_t.data.astype(np.int32).reshape(1, 1, units))
        m, s = q.fully_connected_multiplier(input_t.scale[0], weights_t.scale[0], _LSTM_GATE_INPUT_SCALE)
        zps = [b.zp(int(input_t.zero_point[0]), np.int8), b.zp(0, np.int8)]
        acc_type = tensor_type([1, batch, units], np.int32)

        def apply(v):
            acc = b.op("tosa.matmul", [v, w, *zps], acc_type)
            if bias is not None:
                acc = b.op("tosa.add", [acc, bias], acc_type)
            return b.rescale(acc, [m], [s], 0, 0, np.int16)

        return apply

    # Gates in TFLM's order of evaluation: forget, input, cell, output.
    x_fcs = [fc(x_t, gates[0][k], gates[2][k]) for k in (1, 0, 2, 3)]
    h_fcs = [fc(h_t, gates[1][k]) for k in (1, 0, 2, 3)]

    def mul_multiplier(scale, other, output):  # CreateInterGateMulParams: a double product of float32 scales
        m, s = q.quantize_multiplier(float(f32(scale)) * float(f32(other)) / float(f32(output)))
        return [m], [s]

    cell_scale, h_zp = float(c_t.scale[0]), int(h_t.zero_point[0])
    forget_mult = mul_multiplier(_LSTM_GATE_OUTPUT_SCALE, cell_scale, cell_scale)
    input_mult = mul_multiplier(_LSTM_GATE_OUTPUT_SCALE, _LSTM_GATE_OUTPUT_SCALE, cell_scale)
    hidden_mult = mul_multiplier(_LSTM_GATE_OUTPUT_SCALE, _LSTM_GATE_OUTPUT_SCALE, h_t.scale[0])
    cell_tanh = _lstm_tanh_scaling(_checked_log2(cell_scale))
    quantized_clip = int(min(max(float(f32(clip)) / float(f32(cell_scale)), -32768.0), 32767.0))
    table = b.const(fx.SIGMOID_TABLE_UINT16)
    sigmoid = lambda v: _lstm_sigmoid_int16(table, v)  # noqa: E731
    tanh = lambda v: _lstm_tanh_int16(table, v, *_lstm_tanh_scaling(-12))  # noqa: E731

    def product(x, y, multipliers, out_dtype, out_zp=0):  # MulElementwise of two int16 values
        wide = b.mul(b.cast(x, np.int32), b.cast(y, np.int32))
        return b.rescale(wide, *multipliers, 0, out_zp, out_dtype)

    h, c = h0, c0

    def step(t):
        nonlocal h, c
        frame = _lstm_frame(imp, x, time_axis, t)
        f, i, g, o = (
            activation(_add_int16_saturating(x_fc(frame), h_fc(h)))
            for x_fc, h_fc, activation in zip(x_fcs, h_fcs, (sigmoid, sigmoid, tanh, sigmoid))
        )
        c = _add_int16_saturating(product(f, c, forget_mult, np.int16), product(i, g, input_mult, np.int16))
        if clip > 0:
            c = b.clamp(c, -quantized_clip, quantized_clip)
        h = product(_lstm_tanh_int16(table, c, *cell_tanh), o, hidden_mult, np.int8, h_zp)
        return h

    res = _lstm_sequence(imp, x, time_axis, units, step)
    return res, h, c


def _checked_log2(scale) -> int:
    """TFLite's CheckedLog2 (its check unused by TFLM's LSTM): log2 of a
    float32 scale in float32, rounded half away from zero."""
    f32 = np.float32
    log2 = f32(np.log(f32(scale))) * (f32(1.0) / f32(np.log(f32(2.0))))
    return q.round_half_away(float(log2))


def _lstm_tanh_scaling(scale_power: int) -> tuple[int, int]:
    """lstm_internal::Tanh's input scaling of an int16 at 2^scale_power to
    the table's: (multiplier, right shift), 3 * 2^(12 + scale_power)."""
    left_shift = 12 + scale_power
    return (3 << left_shift, 0) if left_shift >= 0 else (3, -left_shift)


def _add_int16_saturating(x, y):
    """TFLM's lstm_internal::AddElementWise: an int16 sum clamped to int16."""
    i32 = element_type(np.int32)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731

    def add(u, v):
        total = arith.AddIOp(arith.ExtSIOp(i32, u).result, arith.ExtSIOp(i32, v).result).result
        clamped = arith.MinSIOp(arith.MaxSIOp(total, c(-32768)).result, c(32767)).result
        return arith.TruncIOp(element_type(np.int16), clamped).result

    return _pointwise([x, y], np.int16, add)


def _sigmoid_table_interpolation(table, magnitude, fraction_bits: int, saturated):
    """The core of TFLite's int16 LOGISTIC and TANH: `magnitude` (int32,
    >= 0) indexes `table` (sigmoid_table_uint16) by its high bits and
    interpolates linearly by its `fraction_bits` low bits; `saturated` from
    index 255 on, if given (None where no input gets there)."""
    i32, index = element_type(np.int32), ir.IndexType.get()
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    high = arith.ShRSIOp(magnitude, c(fraction_bits)).result
    at = high if saturated is None else arith.MinSIOp(high, c(254)).result
    lower = tensor.ExtractOp(table, [arith.IndexCastOp(index, at).result]).result
    upper = tensor.ExtractOp(table, [arith.IndexCastOp(index, arith.AddIOp(at, c(1)).result).result]).result
    low_bits = arith.AndIOp(magnitude, c((1 << fraction_bits) - 1)).result
    step = arith.MulIOp(low_bits, arith.SubIOp(upper, lower).result).result
    value = arith.AddIOp(arith.ShLIOp(lower, c(fraction_bits)).result, step).result
    if saturated is None:
        return value
    beyond = arith.CmpIOp(arith.CmpIPredicate.sge, high, c(255)).result
    return arith.SelectOp(beyond, c(saturated), value).result


def _lstm_table_activation(table, x, multiplier, shift, fraction_bits, saturated, finish):
    """int16 -> int16: x * multiplier, rounded right by `shift`, its
    magnitude through `_sigmoid_table_interpolation` (`saturated` only if
    the largest magnitude reaches index 255), then finish(value,
    non-negative input) as int32, truncated to int16 as TFLM stores it."""
    i32 = element_type(np.int32)
    c = lambda v: arith.ConstantOp(i32, v).result  # noqa: E731
    largest = (32768 * multiplier + (1 << shift >> 1)) >> shift
    if largest >> fraction_bits < 255:
        saturated = None

    def activation(v):
        y = arith.MulIOp(arith.ExtSIOp(i32, v).result, c(multiplier)).result
        if shift:
            y = arith.ShRSIOp(arith.AddIOp(y, c(1 << (shift - 1))).result, c(shift)).result
        non_negative = arith.CmpIOp(arith.CmpIPredicate.sge, y, c(0)).result
        magnitude = arith.SelectOp(non_negative, y, arith.SubIOp(c(0), y).result).result
        value = _sigmoid_table_interpolation(table, magnitude, fraction_bits, saturated)
        return arith.TruncIOp(element_type(np.int16), finish(value, non_negative, c)).result

    return _pointwise([x], np.int16, activation)


def _lstm_sigmoid_int16(table, x):
    """TFLM's lstm_internal::Sigmoid, reference_integer_ops::Logistic on
    int16 with its default scaling (Q3.12 times 3): 9 fraction bits into the
    table, rounded to Q0.15, mirrored for negative inputs."""

    def finish(value, non_negative, c):
        negative = arith.SubIOp(c((1 << 25) + (1 << 9) - 1), value).result
        rounded = arith.SelectOp(non_negative, arith.AddIOp(value, c(1 << 9)).result, negative).result
        return arith.ShRSIOp(rounded, c(10)).result

    return _lstm_table_activation(table, x, 3, 0, 9, 0x7FFF << 10, finish)


def _lstm_tanh_int16(table, x, multiplier, shift):
    """TFLM's lstm_internal::Tanh, reference_integer_ops::Tanh on int16
    scaled by (multiplier, shift) (`_lstm_tanh_scaling`): 8 fraction bits
    into the table (tanh(x) = 2 sigmoid(2x) - 1), rounded to Q0.15."""

    def finish(value, non_negative, c):
        positive = arith.AddIOp(value, c((1 << 7) - (1 << 23))).result
        negative = arith.SubIOp(c((1 << 23) + (1 << 7) - 1), value).result
        return arith.ShRSIOp(arith.SelectOp(non_negative, positive, negative).result, c(8)).result

    return _lstm_table_activation(table, x, multiplier, shift, 8, 0xFFFF << 8, finish)


def _svdf(imp, op):
    """SVDF, one invoke of TFLM's EvalFloatSvdfReference or (int8 input,
    int16 or int8 state) EvalIntegerSvdfReference. The stored state (input
    4, a variable tensor of (batch, filters * memory)) shifts left by one
    time step and the feature matmul writes the newest column (int: rescaled
    and saturated to the state's type, plus its zero point, wrapping); each
    filter's time-weighted sum runs over the whole memory (int: of the state
    minus its zero point); per unit, the bias plus the unit's rank sums in
    order, then float's fused activation; int8 rescales by state scale *
    time scale / output scale and, as TFLM, ignores the fused activation.
    The new state is stored, so that it carries over to the next invoke."""
    name = f"SVDF {op.index}"
    x_t, wf_t, wt_t, state_t, out = (imp.t(i) for i in (*op.inputs[:3], op.inputs[4], op.outputs[0]))
    bias_t = imp.t(op.inputs[3]) if op.inputs[3] >= 0 else None
    quant = x_t.quantized
    if not quant and wf_t.dtype != np.float32:
        raise FdtError(
            f"{name}: {np.dtype(wf_t.dtype).name} weights with float32 input (hybrid) are not supported, as in TFLM"
        )
    integer = (wf_t.dtype, out.dtype, wt_t.dtype, state_t.dtype) in {
        (np.int8, np.int8, t, t) for t in (np.int16, np.int8)
    }
    if quant and not integer:
        raise FdtError(
            f"{name}: only TFLM's full-integer SVDF is supported "
            "(int8 feature weights and output, time weights and state both int16 or both int8)"
        )
    if quant and state_t.dtype == np.int8 and int(state_t.zero_point[0]) != 0:
        raise FdtError(
            f"{name}: an int8 state with a nonzero zero point is not supported "
            "(TFLM starts it at 0, and at the zero point after a reset)"
        )
    if any(t.data is None for t in (wf_t, wt_t, bias_t) if t is not None):
        raise FdtError(f"{name}: non-constant weights are not supported")
    filters, depth = wf_t.shape
    memory = wt_t.shape[1]
    units, rank = filters // op.options.Rank(), op.options.Rank()
    batch = x_t.shape[0]
    acc = np.int32 if quant else np.float32
    b = imp.b
    x = b.reshape(imp.value(op.inputs[0]), [1, batch, depth])
    w = b.const(np.ascontiguousarray(wf_t.data.T).reshape(1, depth, filters))
    izp = int(x_t.zero_point[0]) if quant else 0
    new = b.op("tosa.matmul", [x, w, b.zp(izp, x_t.dtype), b.zp(0, wf_t.dtype)], tensor_type([1, batch, filters], acc))
    state_zp = int(state_t.zero_point[0]) if quant else 0
    i32 = element_type(np.int32)
    if quant:
        m, s = q.float32_multiplier(x_t.scale[0], wf_t.scale[0], state_t.scale[0])
        new = b.rescale(new, [m], [s], 0, 0, state_t.dtype)  # saturated to the state's range
        if state_zp:
            zp = lambda: arith.ConstantOp(i32, state_zp).result  # noqa: E731
            new = _pointwise(
                [new],
                state_t.dtype,
                lambda v: arith.TruncIOp(v.type, arith.AddIOp(arith.ExtSIOp(i32, v).result, zp()).result).result,
            )
    column = b.reshape(new, [batch, filters])
    old = imp.state(op.inputs[4], [batch, filters, memory])
    imp.set_state(op.inputs[4], b.reshape(column, [batch, filters, 1]))
    dims = [ir.AffineExpr.get_dim(d) for d in range(3)]
    maps = [ir.AffineMap.get(3, 0, dims[:2]), ir.AffineMap.get(3, 0, dims[1:]), ir.AffineMap.get(3, 0, dims[:2])]

    def shifted(newest):
        """Element j of the shifted state: the old state's j + 1, the new
        column's at the last."""
        if memory == 1:
            return newest
        loops = [linalg.IndexOp(d).result for d in range(3)]
        last = _index(memory - 1)
        next_j = arith.MinSIOp(arith.AddIOp(loops[2], _index(1)).result, last).result
        older = tensor.ExtractOp(old, [loops[0], loops[1], next_j]).result
        is_last = arith.CmpIOp(arith.CmpIPredicate.eq, loops[2], last).result
        return arith.SelectOp(is_last, newest, older).result

    def time_weighted_sum(newest, weight, total):
        value = shifted(newest)
        if not quant:
            return arith.AddFOp(total, arith.MulFOp(weight, value).result).result
        term = arith.ExtSIOp(i32, value).result
        if state_zp:
            term = arith.SubIOp(term, arith.ConstantOp(i32, state_zp).result).result
        return arith.AddIOp(total, arith.MulIOp(arith.ExtSIOp(i32, weight).result, term).result).result

    kinds = ["parallel", "parallel", "reduction"]
    zeros = b.const(np.zeros((batch, filters), acc))
    w_time = b.const(wt_t.data)
    sums = _generic(tensor_type([batch, filters], acc), [column, w_time], zeros, maps, kinds, time_weighted_sum)
    bias = np.zeros(units, acc) if bias_t is None else bias_t.data.astype(acc)
    add = (
        (lambda v, total: arith.AddIOp(total, v).result) if quant else (lambda v, total: arith.AddFOp(total, v).result)
    )
    per_unit = [ir.AffineMap.get(3, 0, dims), ir.AffineMap.get(3, 0, dims[:2])]
    res = _generic(
        tensor_type([batch, units], acc),
        [b.reshape(sums, [batch, units, rank])],
        b.const(np.tile(bias, (batch, 1)), acc),
        per_unit,
        kinds,
        add,
    )
    if quant:
        m, s = q.float32_multiplier(state_t.scale[0], wt_t.scale[0], out.scale[0])
        return [b.rescale(res, [m], [s], 0, int(out.zero_point[0]), out.dtype)]
    fused = op.options.FusedActivationFunction()
    if fused == 4:  # TANH, which ActivationValFloat also applies
        return [b.op("tosa.tanh", [res], res.type)]
    return [imp.activate(res, fused, out, op.opcode)]


def _leaky_relu(imp, op):
    """float: x > 0 ? x : x * alpha. int8: TFLM's QuantizeLeakyRelu, the
    input minus its zero point rescaled by input scale / output scale where
    it is not negative, by input scale * alpha / output scale where it is,
    plus the output zero point, saturated."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    _require_int8(op, x_t, out)
    b, x, out_type = imp.b, imp.value(op.inputs[0]), imp.result_type(op.outputs[0])
    alpha = float(np.float32(op.options.Alpha()))
    if not x_t.quantized:
        positive = b.binary("greater", x, b.full(0.0, x), np.bool_)
        return [b.op("tosa.select", [positive, x, b.mul(x, b.full(alpha, x))], out_type)]
    zp_in, zp_out = int(x_t.zero_point[0]), int(out.zero_point[0])
    branches = []
    for factor in (1.0, alpha):
        m, s = q.quantize_multiplier(float(x_t.scale[0]) * factor / float(out.scale[0]))
        branches.append(b.rescale(x, [m], [s], zp_in, zp_out, out.dtype, in_dtype=x_t.dtype))
    wide = b.cast(x, np.int32)  # TOSA compares int32
    not_negative = b.binary("greater_equal", wide, b.full(zp_in, wide), np.bool_)
    return [b.op("tosa.select", [not_negative, *branches], out_type)]


def _maximum_minimum(imp, op):
    """TFLM compares the raw values (int8 inputs share the output's
    quantization). TOSA's maximum and minimum have no int8 profile: int8
    goes through int32."""
    out = imp.t(op.outputs[0])
    b = imp.b
    name = op.opcode.lower()
    x, y = _binary_operands(imp, op)
    if out.dtype == np.float32 or out.dtype == np.int32:
        return [b.binary(name, x, y)]
    return [b.cast(b.binary(name, b.cast(x, np.int32), b.cast(y, np.int32)), out.dtype)]


def _pad(imp, op):
    """TFLM pads with PADV2's constant, else with the output zero point
    (int8) or 0 (float)."""
    x_t, pads_t, out = imp.t(op.inputs[0]), imp.t(op.inputs[1]), imp.t(op.outputs[0])
    if pads_t.data is None:
        raise FdtError(f"{op.opcode} {op.index}: non-constant paddings are not supported")
    b = imp.b
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = imp.t(op.inputs[2]).data
        if value is None:
            raise FdtError(f"{op.opcode} {op.index}: a non-constant pad value is not supported")
        value = value.reshape(-1)[0]
    else:
        value = int(out.zero_point[0]) if out.quantized else 0
    operands = [imp.value(op.inputs[0]), b.shape(pads_t.data.reshape(-1)), b.const(np.asarray([value]), x_t.dtype)]
    return [b.op("tosa.pad", operands, imp.result_type(op.outputs[0]))]


def _concatenation(imp, op):
    """TFLM copies the raw values: like TFLM, refuse int8 inputs quantized
    unlike the output and fused activations."""
    out = imp.t(op.outputs[0])
    for index in op.inputs:
        t = imp.t(index)
        if out.quantized and (t.scale[0] != out.scale[0] or t.zero_point[0] != out.zero_point[0]):
            raise FdtError(f"CONCATENATION {op.index}: inputs quantized unlike the output are not supported")
    if op.options.FusedActivationFunction() != 0:
        raise FdtError(f"CONCATENATION {op.index}: fused activations are not supported")
    axis = op.options.Axis() % len(out.shape)
    inputs = [imp.value(i) for i in op.inputs]
    return [imp.b.op("tosa.concat", inputs, imp.result_type(op.outputs[0]), axis=_axis(axis))]


def _same_quantization(imp, op, inputs, outputs):
    """Data-movement operators copy raw values in TFLM: refuse int8 tensors
    quantized unlike each other, as TFLM's kernels assume them alike."""
    tensors = [imp.t(i) for i in [*inputs, *outputs]]
    if any(t.quantized for t in tensors) and len({(float(t.scale[0]), int(t.zero_point[0])) for t in tensors}) > 1:
        raise FdtError(f"{op.opcode} {op.index}: tensors quantized unlike each other are not supported")


def _constant_ints(imp, op, index, what) -> list:
    data = imp.t(index).data
    if data is None:
        raise FdtError(f"{op.opcode} {op.index}: a non-constant {what} is not supported")
    return [int(v) for v in data.reshape(-1)]


def _transpose(imp, op):
    _same_quantization(imp, op, op.inputs[:1], op.outputs)
    return [_permute(imp, imp.value(op.inputs[0]), _constant_ints(imp, op, op.inputs[1], "permutation"))]


def _slices(imp, x, axis, sizes):
    """Consecutive slices of `x` along `axis` with the given sizes."""
    shape = list(ir.RankedTensorType(x.type).shape)
    etype = ir.RankedTensorType(x.type).element_type
    parts, start = [], 0
    for size in sizes:
        begin, extent = [0] * len(shape), list(shape)
        begin[axis], extent[axis] = start, size
        parts.append(
            imp.b.op("tosa.slice", [x, imp.b.shape(begin), imp.b.shape(extent)], ir.RankedTensorType.get(extent, etype))
        )
        start += size
    return parts


def _slice(imp, op):
    _same_quantization(imp, op, op.inputs[:1], op.outputs)
    x = imp.value(op.inputs[0])
    shape = ir.RankedTensorType(x.type).shape
    begin = _constant_ints(imp, op, op.inputs[1], "begin")
    size = _constant_ints(imp, op, op.inputs[2], "size")
    size = [n - b if s == -1 else s for s, b, n in zip(size, begin, shape)]
    b = imp.b
    return [b.op("tosa.slice", [x, b.shape(begin), b.shape(size)], imp.result_type(op.outputs[0]))]


def _split(imp, op):
    """SPLIT (axis, value) into equal parts; SPLIT_V (value, sizes, axis),
    one size may be -1 (the rest)."""
    value, sizes_index, axis_index = (
        (op.inputs[1], None, op.inputs[0]) if op.opcode == "SPLIT" else (op.inputs[0], op.inputs[1], op.inputs[2])
    )
    _same_quantization(imp, op, [value], op.outputs)
    x = imp.value(value)
    shape = ir.RankedTensorType(x.type).shape
    axis = _constant_ints(imp, op, axis_index, "axis")[0] % len(shape)
    if sizes_index is None:
        sizes = [shape[axis] // len(op.outputs)] * len(op.outputs)
    else:
        sizes = _constant_ints(imp, op, sizes_index, "size_splits")
        if -1 in sizes:
            sizes[sizes.index(-1)] = shape[axis] - (sum(sizes) + 1)
    return _slices(imp, x, axis, sizes)


def _unpack(imp, op):
    """Slices of one along the axis, without it."""
    _same_quantization(imp, op, op.inputs, op.outputs)
    x = imp.value(op.inputs[0])
    axis = op.options.Axis() % ir.RankedTensorType(x.type).rank
    parts = _slices(imp, x, axis, [1] * len(op.outputs))
    return [imp.b.reshape(part, imp.t(out).shape) for part, out in zip(parts, op.outputs)]


def _pack(imp, op):
    """The inputs, each with a unit axis added, concatenated along it."""
    _same_quantization(imp, op, op.inputs, op.outputs)
    out = imp.t(op.outputs[0])
    axis = op.options.Axis() % len(out.shape)
    unit = [*out.shape[:axis], 1, *out.shape[axis + 1 :]]
    inputs = [imp.b.reshape(imp.value(i), unit) for i in op.inputs]
    return [imp.b.op("tosa.concat", inputs, imp.result_type(op.outputs[0]), axis=_axis(axis))]


def _quantize(imp, op):
    """int8/uint8 to int8/uint8: TFLM's Requantize, one rescale by input
    scale / output scale. float to int8/uint8: TFLM's AffineQuantize (below)."""
    x_t, out = imp.t(op.inputs[0]), imp.t(op.outputs[0])
    x = imp.value(op.inputs[0])
    zp = int(out.zero_point[0])
    if x_t.quantized:
        m, s = q.quantize_multiplier(float(x_t.scale[0]) / float(out.scale[0]))
        return [imp.b.rescale(x, [m], [s], int(x_t.zero_point[0]), zp, out.dtype, in_dtype=x_t.dtype)]
    if out.dtype not in (np.int8, np.uint8):
        raise FdtError(f"QUANTIZE {op.index}: float32 to {np.dtype(out.dtype).name} is not supported")
    return [_affine_quantize(x, float(out.scale[0]), zp, out.dtype)]


def _affine_quantize(x, scale: float, zero_point: int, dtype):
    """TFLM's AffineQuantize, round(x / scale) + zero point, clamped: a
    float32 division, rounded half away from zero (std::round), per element
    (TOSA has no division; spelt with its ops, it took whole int32 tensors).
    The rounded quotient is clamped while still a float, so that its
    conversion to an integer is defined for every input (TFLM's is not, for
    quotients beyond the int32 range or NaN)."""
    f32, i32 = element_type(np.float32), element_type(np.int32)
    info = np.iinfo(dtype)

    def quantize(value):
        real = lambda v: arith.ConstantOp(f32, float(v)).result  # noqa: E731
        rounded = math.RoundOp(arith.DivFOp(value, real(scale)).result).result
        low, high = real(int(info.min) - zero_point), real(int(info.max) - zero_point)
        clamped = arith.MinNumFOp(arith.MaxNumFOp(rounded, low).result, high).result
        code = arith.AddIOp(arith.FPToSIOp(i32, clamped).result, arith.ConstantOp(i32, zero_point).result).result
        return arith.TruncIOp(element_type(dtype), code).result

    return _pointwise([x], dtype, quantize)


def _generic(out_type, inputs, init, maps, kinds, compute):
    """A linalg.generic writing `out_type` into `init` from `inputs` through
    `maps` (inputs', then the output's), with iterator `kinds`; its body
    yields compute(input elements..., output element)."""
    generic = linalg.GenericOp(
        [out_type],
        inputs,
        [init],
        ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
        ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{k}>") for k in kinds]),
    )
    types = [
        ir.RankedTensorType(v.type).element_type if isinstance(v.type, ir.RankedTensorType) else v.type for v in inputs
    ]
    block = generic.regions[0].blocks.append(*types, out_type.element_type)
    with ir.InsertionPoint(block):
        linalg.YieldOp([compute(*block.arguments)])
    return generic.results[0]


def _pointwise(inputs, dtype, compute, shape=None):
    """One linalg.generic yielding compute(elements of the inputs) as
    `dtype`: for what TOSA cannot spell per element. The inputs have the
    result's rank and broadcast along their unit dims; the result has their
    broadcast shape, or `shape`."""
    shapes = [ir.RankedTensorType(x.type).shape for x in inputs]
    shape = list(shape if shape is not None else np.broadcast_shapes(*shapes))
    rank = len(shape)
    out_type = tensor_type(shape, dtype)
    dims = [ir.AffineExpr.get_dim(i) for i in range(rank)]
    zero = ir.AffineExpr.get_constant(0)
    maps = [
        ir.AffineMap.get(rank, 0, [zero if n == 1 and m != 1 else d for d, n, m in zip(dims, s, shape)]) for s in shapes
    ]
    maps = [*maps, ir.AffineMap.get_identity(rank)]
    empty = tensor.EmptyOp(shape, out_type.element_type).result
    return _generic(out_type, inputs, empty, maps, ["parallel"] * rank, lambda *args: compute(*args[:-1]))


def _dequantize(imp, op):
    """TFLM: float(double(scale) * (x - zero point)); the product is exact
    in double, so one float32 multiply rounds it the same."""
    x_t = imp.t(op.inputs[0])
    b = imp.b
    x = b.cast(b.widen(imp.value(op.inputs[0]), int(x_t.zero_point[0]), dtype=x_t.dtype), np.float32)
    return [b.mul(x, b.full(float(x_t.scale[0]), x))]


CONVERTERS = {
    "CONV_2D": _conv2d,
    "DEPTHWISE_CONV_2D": _depthwise_conv2d,
    "FULLY_CONNECTED": _fully_connected,
    "MAX_POOL_2D": _max_pool2d,
    "AVERAGE_POOL_2D": _average_pool2d,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "SOFTMAX": _softmax,
    "ADD": _add_sub,
    "SUB": _add_sub,
    "MUL": _mul,
    "CAST": _cast,
    "GATHER": _gather,
    "MEAN": _mean,
    "RELU": _relu,
    "RELU6": _relu,
    "LOGISTIC": _logistic_tanh,
    "TANH": _logistic_tanh,
    "MAXIMUM": _maximum_minimum,
    "MINIMUM": _maximum_minimum,
    "PAD": _pad,
    "PADV2": _pad,
    "CONCATENATION": _concatenation,
    "QUANTIZE": _quantize,
    "EXPAND_DIMS": _reshape,
    "LEAKY_RELU": _leaky_relu,
    "HARD_SWISH": _hard_swish,
    **dict.fromkeys(["ABS", "NEG", "SQUARE", "EXP", "LOG", "SQRT", "RSQRT", "FLOOR"], _unary),
    "TRANSPOSE": _transpose,
    "SLICE": _slice,
    "SPLIT": _split,
    "SPLIT_V": _split,
    "UNPACK": _unpack,
    "PACK": _pack,
    "DEQUANTIZE": _dequantize,
    **dict.fromkeys(_COMPARISONS, _comparison),
    **dict.fromkeys(["LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"], _logical),
    "SELECT_V2": _select_v2,
    "SUM": _mean,
    "REDUCE_MAX": _reduce_max_min,
    "REDUCE_MIN": _reduce_max_min,
    "ARG_MAX": _arg_max_min,
    "ARG_MIN": _arg_max_min,
    "SQUARED_DIFFERENCE": _squared_difference,
    "DIV": _div,
    "PRELU": _prelu,
    "ELU": _elu,
    "ZEROS_LIKE": _zeros_like,
    "FILL": _fill,
    "DEPTH_TO_SPACE": _depth_space,
    "SPACE_TO_DEPTH": _depth_space,
    "STRIDED_SLICE": _strided_slice,
    "EMBEDDING_LOOKUP": _embedding_lookup,
    "RESIZE_NEAREST_NEIGHBOR": _resize_nearest_neighbor,
    "RESIZE_BILINEAR": _resize_bilinear,
    "BATCH_MATMUL": _batch_matmul,
    "TRANSPOSE_CONV": _transpose_conv,
    "SPACE_TO_BATCH_ND": _space_to_batch_nd,
    "BATCH_TO_SPACE_ND": _batch_to_space_nd,
    "L2_NORMALIZATION": _l2_normalization,
    "LOG_SOFTMAX": _log_softmax,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _sequence_lstm,
    "SVDF": _svdf,
}


def import_tflite(path: str, name: str) -> ir.Module:
    """Reads `path` and returns a TOSA module with one function named `name`."""
    graph = read_tflite(path, name)
    module = TFLiteImporter(graph).build()
    if not module.operation.verify():
        raise FdtError(f"internal error: the TOSA built for '{path}' does not verify")
    return module
