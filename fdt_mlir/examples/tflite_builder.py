"""Writes small .tflite models, without TensorFlow: the example models of
`fdt-example`, and the models of the tests.

Tests need models with exactly the operators, options, types and quantization
they are about (and models that are wrong in one chosen way), which the shared
reference models cannot give. The `tflite` package's generated flatbuffer
builder functions write them directly; no converter is involved, so what a test
asks for is what ends up in the file.
"""

import math

import flatbuffers
import numpy as np
import tflite
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.Padding import Padding
from tflite.TensorType import TensorType

TENSOR_TYPES = {
    np.dtype(np.float32): TensorType.FLOAT32,
    np.dtype(np.int8): TensorType.INT8,
    np.dtype(np.uint8): TensorType.UINT8,
    np.dtype(np.int16): TensorType.INT16,
    np.dtype(np.int32): TensorType.INT32,
    np.dtype(np.int64): TensorType.INT64,
    np.dtype(np.bool_): TensorType.BOOL,
}

# TFLM reads constants in place from the flatbuffer: keep their data aligned.
_BUFFER_ALIGNMENT = 16


# Each function below takes the keyword options of one builtin operator (with
# TFLite's defaults) and returns the name of its options table and the table's
# fields. Pairs such as `stride` are (height, width), as in NHWC.


def _padding(name):
    return getattr(Padding, name)


def _activation(name):
    return getattr(ActivationFunctionType, name)


def _conv_2d(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="NONE"):
    return "Conv2DOptions", {
        "Padding": _padding(padding),
        "StrideH": stride[0],
        "StrideW": stride[1],
        "DilationHFactor": dilation[0],
        "DilationWFactor": dilation[1],
        "FusedActivationFunction": _activation(activation),
    }


def _depthwise_conv_2d(padding="VALID", stride=(1, 1), dilation=(1, 1), depth_multiplier=1, activation="NONE"):
    return "DepthwiseConv2DOptions", {
        "Padding": _padding(padding),
        "StrideH": stride[0],
        "StrideW": stride[1],
        "DilationHFactor": dilation[0],
        "DilationWFactor": dilation[1],
        "DepthMultiplier": depth_multiplier,
        "FusedActivationFunction": _activation(activation),
    }


def _pool_2d(filter_size, padding="VALID", stride=(1, 1), activation="NONE"):
    return "Pool2DOptions", {
        "FilterHeight": filter_size[0],
        "FilterWidth": filter_size[1],
        "Padding": _padding(padding),
        "StrideH": stride[0],
        "StrideW": stride[1],
        "FusedActivationFunction": _activation(activation),
    }


def _fully_connected(activation="NONE", keep_num_dims=False):
    return "FullyConnectedOptions", {
        "FusedActivationFunction": _activation(activation),
        "KeepNumDims": keep_num_dims,
    }


def _elementwise(table):
    def options(activation="NONE"):
        return table, {"FusedActivationFunction": _activation(activation)}

    return options


def _reshape(new_shape=None):
    return None if new_shape is None else ("ReshapeOptions", {"NewShape": list(new_shape)})


def _squeeze(squeeze_dims=()):
    return "SqueezeOptions", {"SqueezeDims": list(squeeze_dims)}


def _softmax(beta=1.0):
    return "SoftmaxOptions", {"Beta": beta}


def _mean(keep_dims=False):
    return "ReducerOptions", {"KeepDims": keep_dims}


def _concatenation(axis, activation="NONE"):
    return "ConcatenationOptions", {"Axis": axis, "FusedActivationFunction": _activation(activation)}


def _gather(axis=0, batch_dims=0):
    return "GatherOptions", {"Axis": axis, "BatchDims": batch_dims}


def _leaky_relu(alpha=0.2):
    return "LeakyReluOptions", {"Alpha": alpha}


def _pack(values_count, axis=0):
    return "PackOptions", {"ValuesCount": values_count, "Axis": axis}


def _unpack(num, axis=0):
    return "UnpackOptions", {"Num": num, "Axis": axis}


def _split(num_splits):
    return "SplitOptions", {"NumSplits": num_splits}


def _split_v(num_splits):
    return "SplitVOptions", {"NumSplits": num_splits}


def _strided_slice(begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0, offset=False):
    return "StridedSliceOptions", {
        "BeginMask": begin_mask,
        "EndMask": end_mask,
        "EllipsisMask": ellipsis_mask,
        "NewAxisMask": new_axis_mask,
        "ShrinkAxisMask": shrink_axis_mask,
        "Offset": offset,
    }


def _arg(table):
    def options(output_type=np.int32):
        return table, {"OutputType": TENSOR_TYPES[np.dtype(output_type)]}

    return options


def _resize(table):
    def options(align_corners=False, half_pixel_centers=False):
        return table, {"AlignCorners": align_corners, "HalfPixelCenters": half_pixel_centers}

    return options


def _block(table):
    return lambda block_size: (table, {"BlockSize": block_size})


def _batch_matmul(adj_x=False, adj_y=False):
    return "BatchMatMulOptions", {"AdjX": adj_x, "AdjY": adj_y}


def _transpose_conv(padding="VALID", stride=(1, 1), activation="NONE"):
    return "TransposeConvOptions", {
        "Padding": _padding(padding),
        "StrideH": stride[0],
        "StrideW": stride[1],
        "FusedActivationFunction": _activation(activation),
    }


def _sequence_lstm(activation="TANH", cell_clip=0.0, time_major=False):
    return "UnidirectionalSequenceLSTMOptions", {
        "FusedActivationFunction": _activation(activation),
        "CellClip": cell_clip,
        "TimeMajor": time_major,
    }


def _svdf(rank, activation="NONE", asymmetric_quantize_inputs=False):
    return "SVDFOptions", {
        "Rank": rank,
        "FusedActivationFunction": _activation(activation),
        "AsymmetricQuantizeInputs": asymmetric_quantize_inputs,
    }


def _empty(table):
    return lambda: (table, {})


_OPTIONS = {
    "CONV_2D": _conv_2d,
    "DEPTHWISE_CONV_2D": _depthwise_conv_2d,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool_2d,
    "MAX_POOL_2D": _pool_2d,
    "ADD": _elementwise("AddOptions"),
    "SUB": _elementwise("SubOptions"),
    "MUL": _elementwise("MulOptions"),
    "RESHAPE": _reshape,
    "SQUEEZE": _squeeze,
    "SOFTMAX": _softmax,
    "MEAN": _mean,
    "PAD": _empty("PadOptions"),
    "CONCATENATION": _concatenation,
    "QUANTIZE": _empty("QuantizeOptions"),
    "DEQUANTIZE": _empty("DequantizeOptions"),
    "GATHER": _gather,
    "MAXIMUM": _empty("MaximumMinimumOptions"),
    "MINIMUM": _empty("MaximumMinimumOptions"),
    "EXPAND_DIMS": _empty("ExpandDimsOptions"),
    "TRANSPOSE": _empty("TransposeOptions"),
    "SLICE": _empty("SliceOptions"),
    "PACK": _pack,
    "LEAKY_RELU": _leaky_relu,
    "HARD_SWISH": _empty("HardSwishOptions"),
    "UNPACK": _unpack,
    "SPLIT": _split,
    "SPLIT_V": _split_v,
    "STRIDED_SLICE": _strided_slice,
    "EQUAL": _empty("EqualOptions"),
    "NOT_EQUAL": _empty("NotEqualOptions"),
    "LESS": _empty("LessOptions"),
    "LESS_EQUAL": _empty("LessEqualOptions"),
    "GREATER": _empty("GreaterOptions"),
    "GREATER_EQUAL": _empty("GreaterEqualOptions"),
    "LOGICAL_AND": _empty("LogicalAndOptions"),
    "LOGICAL_OR": _empty("LogicalOrOptions"),
    "LOGICAL_NOT": _empty("LogicalNotOptions"),
    "SELECT_V2": _empty("SelectV2Options"),
    "SQUARED_DIFFERENCE": _empty("SquaredDifferenceOptions"),
    "DIV": _elementwise("DivOptions"),
    "SUM": _mean,
    "REDUCE_MAX": _mean,
    "REDUCE_MIN": _mean,
    "ARG_MAX": _arg("ArgMaxOptions"),
    "ARG_MIN": _arg("ArgMinOptions"),
    "L2_NORMALIZATION": _elementwise("L2NormOptions"),
    "LOG_SOFTMAX": _empty("LogSoftmaxOptions"),
    "RESIZE_NEAREST_NEIGHBOR": _resize("ResizeNearestNeighborOptions"),
    "RESIZE_BILINEAR": _resize("ResizeBilinearOptions"),
    "DEPTH_TO_SPACE": _block("DepthToSpaceOptions"),
    "SPACE_TO_DEPTH": _block("SpaceToDepthOptions"),
    "BATCH_TO_SPACE_ND": _empty("BatchToSpaceNDOptions"),
    "SPACE_TO_BATCH_ND": _empty("SpaceToBatchNDOptions"),
    "ZEROS_LIKE": _empty("ZerosLikeOptions"),
    "FILL": _empty("FillOptions"),
    "BATCH_MATMUL": _batch_matmul,
    "TRANSPOSE_CONV": _transpose_conv,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _sequence_lstm,
    "SVDF": _svdf,
}


class ModelBuilder:
    """Builds a one-subgraph TFLite model; tensors are referred to by index.

    Call `finish` once, at the end: it returns the flatbuffer.
    """

    def __init__(self, name: str = "model"):
        self._fb = flatbuffers.Builder(1024)
        self._name = name
        self._tensors = []  # offsets of the serialised Tensor tables
        self._operators = []
        self._opcodes = {}  # builtin code -> index into the operator codes
        self._buffers = [self._buffer(None)]  # buffer 0: the empty one, by convention
        self._inputs = []
        self._outputs = []

    def tensor(
        self, shape, dtype, *, name=None, scale=None, zero_point=None, quantized_dimension=0, variable=False
    ) -> int:
        """A tensor without data: an activation, or with `variable` a state
        that persists across invocations (an LSTM's or an SVDF's). A -1 in
        `shape` makes that dimension dynamic, written the way the TFLite
        converter does: 1 in `shape`, -1 in `shape_signature`."""
        return self._tensor(shape, np.dtype(dtype), 0, name, scale, zero_point, quantized_dimension, variable)

    def input(self, shape, dtype, **kwargs) -> int:
        """A tensor (see `tensor`) that is also the next input of the model."""
        index = self.tensor(shape, dtype, **kwargs)
        self._inputs.append(index)
        return index

    def output(self, tensor: int) -> None:
        """Makes `tensor` the next output of the model."""
        self._outputs.append(tensor)

    def const(self, data: np.ndarray, *, name=None, scale=None, zero_point=None, quantized_dimension=0) -> int:
        """A constant tensor holding `data`, with its shape and type."""
        data = np.asarray(data)
        self._buffers.append(self._buffer(data))
        buffer = len(self._buffers) - 1
        return self._tensor(data.shape, data.dtype, buffer, name, scale, zero_point, quantized_dimension)

    def op(self, opcode: str, inputs, outputs, **options) -> None:
        """Appends builtin operator `opcode` (a BuiltinOperator name such as
        "CONV_2D"). -1 in `inputs` omits an optional input. `options` are the
        keyword arguments of the matching function above; operators not listed
        there take none."""
        code = getattr(BuiltinOperator, opcode, None)
        if code is None:
            raise ValueError(f"unknown builtin operator {opcode!r}")
        if opcode in _OPTIONS:
            table = _OPTIONS[opcode](**options)
        elif options:
            raise TypeError(f"{opcode} takes no options, got {sorted(options)}")
        else:
            table = None
        fb = self._fb
        options_offset = self._options(*table) if table else None
        inputs_offset = fb.CreateNumpyVector(np.asarray(inputs, np.int32))
        outputs_offset = fb.CreateNumpyVector(np.asarray(outputs, np.int32))
        tflite.OperatorStart(fb)
        tflite.OperatorAddOpcodeIndex(fb, self._opcodes.setdefault(code, len(self._opcodes)))
        tflite.OperatorAddInputs(fb, inputs_offset)
        tflite.OperatorAddOutputs(fb, outputs_offset)
        if table:
            tflite.OperatorAddBuiltinOptionsType(fb, getattr(BuiltinOptions, table[0]))
            tflite.OperatorAddBuiltinOptions(fb, options_offset)
        self._operators.append(tflite.OperatorEnd(fb))

    def finish(self) -> bytes:
        """The model as a schema version 3 flatbuffer, identifier "TFL3"."""
        fb = self._fb
        tensors = self._table_vector(self._tensors)
        operators = self._table_vector(self._operators)
        inputs = fb.CreateNumpyVector(np.asarray(self._inputs, np.int32))
        outputs = fb.CreateNumpyVector(np.asarray(self._outputs, np.int32))
        name = fb.CreateString(self._name)
        tflite.SubGraphStart(fb)
        tflite.SubGraphAddTensors(fb, tensors)
        tflite.SubGraphAddOperators(fb, operators)
        tflite.SubGraphAddInputs(fb, inputs)
        tflite.SubGraphAddOutputs(fb, outputs)
        tflite.SubGraphAddName(fb, name)
        subgraphs = self._table_vector([tflite.SubGraphEnd(fb)])

        opcodes = []
        for code in self._opcodes:  # dicts keep insertion order: the opcode indices
            tflite.OperatorCodeStart(fb)
            tflite.OperatorCodeAddBuiltinCode(fb, code)
            # Readers older than the widened builtin_code field read this one.
            tflite.OperatorCodeAddDeprecatedBuiltinCode(fb, min(code, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES))
            opcodes.append(tflite.OperatorCodeEnd(fb))
        opcodes = self._table_vector(opcodes)
        buffers = self._table_vector(self._buffers)

        tflite.ModelStart(fb)
        tflite.ModelAddVersion(fb, 3)
        tflite.ModelAddOperatorCodes(fb, opcodes)
        tflite.ModelAddSubgraphs(fb, subgraphs)
        tflite.ModelAddBuffers(fb, buffers)
        fb.Finish(tflite.ModelEnd(fb), file_identifier=b"TFL3")
        return bytes(fb.Output())

    def _tensor(self, shape, dtype, buffer, name, scale, zero_point, quantized_dimension, variable=False) -> int:
        fb = self._fb
        index = len(self._tensors)
        signature = np.asarray(shape, np.int32)
        quantization = self._quantization(scale, zero_point, quantized_dimension) if scale is not None else None
        name_offset = fb.CreateString(f"t{index}" if name is None else name)
        shape_offset = fb.CreateNumpyVector(np.where(signature < 0, 1, signature).astype(np.int32))
        signature_offset = fb.CreateNumpyVector(signature) if (signature < 0).any() else None
        tflite.TensorStart(fb)
        tflite.TensorAddShape(fb, shape_offset)
        if signature_offset is not None:
            tflite.TensorAddShapeSignature(fb, signature_offset)
        tflite.TensorAddType(fb, TENSOR_TYPES[dtype])
        tflite.TensorAddBuffer(fb, buffer)
        tflite.TensorAddName(fb, name_offset)
        if quantization is not None:
            tflite.TensorAddQuantization(fb, quantization)
        if variable:
            tflite.TensorAddIsVariable(fb, True)
        self._tensors.append(tflite.TensorEnd(fb))
        return index

    def _quantization(self, scale, zero_point, quantized_dimension):
        """Scale and zero point may be scalars (per tensor) or sequences (per
        channel along `quantized_dimension`); a missing zero point is 0."""
        fb = self._fb
        scale = np.atleast_1d(np.asarray(scale, np.float32))
        zero_point = np.broadcast_to(np.asarray(0 if zero_point is None else zero_point, np.int64), scale.shape)
        scale_offset = fb.CreateNumpyVector(scale)
        zero_point_offset = fb.CreateNumpyVector(zero_point)
        tflite.QuantizationParametersStart(fb)
        tflite.QuantizationParametersAddScale(fb, scale_offset)
        tflite.QuantizationParametersAddZeroPoint(fb, zero_point_offset)
        tflite.QuantizationParametersAddQuantizedDimension(fb, quantized_dimension)
        return tflite.QuantizationParametersEnd(fb)

    def _buffer(self, data):
        """A Buffer table holding `data`, or the empty one for None."""
        fb = self._fb
        if data is not None:
            fb.Prep(_BUFFER_ALIGNMENT, data.nbytes)
            data_offset = fb.CreateNumpyVector(np.frombuffer(data.tobytes(), np.uint8))
        tflite.BufferStart(fb)
        if data is not None:
            tflite.BufferAddData(fb, data_offset)
        return tflite.BufferEnd(fb)

    def _options(self, table, fields):
        """Writes options table `table`; list values become int32 vectors."""
        fb = self._fb
        vectors = {k: fb.CreateNumpyVector(np.asarray(v, np.int32)) for k, v in fields.items() if isinstance(v, list)}
        getattr(tflite, f"{table}Start")(fb)
        for field, value in fields.items():
            getattr(tflite, f"{table}Add{field}")(fb, vectors.get(field, value))
        return getattr(tflite, f"{table}End")(fb)

    def _table_vector(self, offsets):
        fb = self._fb
        fb.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            fb.PrependUOffsetTRelative(offset)
        return fb.EndVector()


# --- the example network ---------------------------------------------------

# Real values of the example's input: about [-1, 1], with a zero point that is
# not 0 so that input offsets matter.
_EXAMPLE_INPUT_SCALE = 2.0 / 255.0
_EXAMPLE_INPUT_ZERO_POINT = -5
_EXAMPLE_INPUT_RMS = 1.0 / math.sqrt(3.0)  # of values uniform in [-1, 1]

# An int8 activation covers this many estimated RMS values of its
# pre-activation: enough that few values clip, few enough that the rest keep
# their resolution.
_RANGE_IN_RMS = 3.0


def example_model() -> bytes:
    """An int8 keyword-spotting-like CNN named "example", 1x32x32x1 -> 1x4.

    CONV_2D 3x3 SAME (8 ch, RELU), MAX_POOL_2D 2x2/2, DEPTHWISE_CONV_2D 3x3
    SAME (RELU), CONV_2D 1x1 (16 ch, RELU), global AVERAGE_POOL_2D, RESHAPE,
    FULLY_CONNECTED (4). The first conv's full-resolution output sets the
    untiled peak, so both tiling families have something to win.
    Weights are seeded, so every call returns the same bytes.
    """
    return _example(quantized=True)


def float_example_model() -> bytes:
    """`example_model` in float32, with the same (unquantized) weights."""
    return _example(quantized=False)


class _Layers:
    """Conv-like layers with seeded random weights, quantized so that int8
    scales fit the values the network produces: the RMS of every
    activation is estimated from the weights (RMS out = RMS in x the RMS
    over output channels of the weights' L2 norms), and under 2 % of the
    values clip on random inputs."""

    def __init__(self, b: "ModelBuilder", seed: int, quantized: bool):
        self.b, self.quantized = b, quantized
        self.rng = np.random.default_rng(seed)
        self.dtype = np.int8 if quantized else np.float32
        self.quant = {}  # tensor -> its `scale` and `zero_point` keywords (none in float)

    def fitted(self, rms, relu):
        """Quantization keywords for an activation whose RMS is about `rms`."""
        if not self.quantized:
            return {}
        if relu:
            return {"scale": _RANGE_IN_RMS * rms / 255.0, "zero_point": -128}
        return {"scale": _RANGE_IN_RMS * rms / 127.0, "zero_point": 0}

    def input(self, shape):
        """The model input, quantized for values in [-1, 1]."""
        quantization = (
            {"scale": _EXAMPLE_INPUT_SCALE, "zero_point": _EXAMPLE_INPUT_ZERO_POINT} if self.quantized else {}
        )
        x = self.b.input(shape, self.dtype, **quantization)
        self.quant[x] = quantization
        return x

    def activation(self, shape, quantization):
        tensor = self.b.tensor(shape, self.dtype, **quantization)
        self.quant[tensor] = quantization
        return tensor

    def layer(self, opcode, x, rms_in, weight_shape, channel_axis, out_shape, relu, **options):
        """Appends a conv-like layer with random weights; returns its output
        tensor and that output's RMS."""
        b, rng = self.b, self.rng
        fan_in = math.prod(weight_shape) // weight_shape[channel_axis]
        weights = rng.normal(0.0, 1.0 / math.sqrt(fan_in), weight_shape).astype(np.float32)
        other_axes = tuple(a for a in range(len(weight_shape)) if a != channel_axis)
        rms_out = rms_in * float(np.sqrt((weights**2).sum(axis=other_axes).mean()))
        bias = rng.normal(0.0, 0.1 * rms_out, weight_shape[channel_axis]).astype(np.float32)
        y = self.activation(out_shape, self.fitted(rms_out, relu))
        if self.quantized:
            w_scale = np.abs(weights).max(axis=other_axes) / 127.0
            channel_shape = [-1 if a == channel_axis else 1 for a in range(len(weight_shape))]
            w_data = np.round(weights / w_scale.reshape(channel_shape)).astype(np.int8)
            w = b.const(w_data, scale=w_scale, quantized_dimension=channel_axis)
            bias_scale = self.quant[x]["scale"] * w_scale
            bias = b.const(np.round(bias / bias_scale).astype(np.int32), scale=bias_scale)
        else:
            w, bias = b.const(weights), b.const(bias)
        b.op(opcode, [x, w, bias], [y], activation="RELU" if relu else "NONE", **options)
        return y, rms_out / math.sqrt(2.0) if relu else rms_out

    def classifier(self, x, rms, shape, classes):
        """A global average pool of `x` (`shape`, NHWC), flattened, and a
        dense layer to `classes` logits."""
        b, channels = self.b, shape[3]
        # Pooling and reshaping keep the quantization of their input, as
        # TFLite's quantizer makes them.
        pooled = self.activation([1, 1, 1, channels], self.quant[x])
        b.op("AVERAGE_POOL_2D", [x], [pooled], filter_size=(shape[1], shape[2]))
        flat = self.activation([1, channels], self.quant[pooled])
        b.op("RESHAPE", [pooled, b.const(np.array([1, channels], np.int32))], [flat], new_shape=[1, channels])
        logits, _ = self.layer("FULLY_CONNECTED", flat, rms, [classes, channels], 0, [1, classes], False)
        return logits


def _example(quantized: bool) -> bytes:
    """The example network (`example_model`)."""
    b = ModelBuilder("example")
    net = _Layers(b, 20261124, quantized)
    x, rms = net.input([1, 32, 32, 1]), _EXAMPLE_INPUT_RMS
    x, rms = net.layer("CONV_2D", x, rms, [8, 3, 3, 1], 0, [1, 32, 32, 8], True, padding="SAME")
    half = net.activation([1, 16, 16, 8], net.quant[x])
    b.op("MAX_POOL_2D", [x], [half], filter_size=(2, 2), stride=(2, 2))
    # The largest of four ReLU outputs has a larger RMS than each of them.
    x, rms = net.layer("DEPTHWISE_CONV_2D", half, 1.5 * rms, [1, 3, 3, 8], 3, [1, 16, 16, 8], True, padding="SAME")
    x, rms = net.layer("CONV_2D", x, rms, [16, 1, 1, 8], 0, [1, 16, 16, 16], True)
    b.output(net.classifier(x, rms, [1, 16, 16, 16], 4))
    return b.finish()


# MobileNetV1's depthwise-separable blocks: (stride, output channels) at
# width 1.0; the person detector has a quarter of the channels.
_MOBILENET_V1 = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)] + [(1, 512)] * 5 + [(2, 1024), (1, 1024)]


def person_detector_model(size: int = 96, alpha: float = 0.25) -> bytes:
    """An int8 MobileNetV1 person detector named "person_detector", as TFLM's
    visual wake words model is built (size x size x 3 -> 2 logits): a 3x3
    stride-2 conv of 32 x alpha channels, the 13 depthwise-separable blocks
    (3x3 depthwise, then 1x1 conv) at width alpha, a global average pool
    and a dense layer. SAME padding, ReLU after every conv; seeded weights."""
    b = ModelBuilder("person_detector")
    net = _Layers(b, 20261207, True)
    x, rms = net.input([1, size, size, 3]), _EXAMPLE_INPUT_RMS
    hw, channels = (size + 1) // 2, int(32 * alpha)
    x, rms = net.layer(
        "CONV_2D", x, rms, [channels, 3, 3, 3], 0, [1, hw, hw, channels], True, padding="SAME", stride=(2, 2)
    )
    for stride, width in _MOBILENET_V1:
        hw = (hw + stride - 1) // stride
        shape = [1, hw, hw, channels]
        x, rms = net.layer(
            "DEPTHWISE_CONV_2D", x, rms, [1, 3, 3, channels], 3, shape, True, padding="SAME", stride=(stride, stride)
        )
        out = int(width * alpha)
        x, rms = net.layer("CONV_2D", x, rms, [out, 1, 1, channels], 0, [1, hw, hw, out], True)
        channels = out
    b.output(net.classifier(x, rms, [1, hw, hw, channels], 2))
    return b.finish()
