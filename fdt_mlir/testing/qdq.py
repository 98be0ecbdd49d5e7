"""QDQ models as users make them, and how to check them against onnxruntime.

`quantize` runs onnxruntime's own static quantizer (QDQ format) on a float
model with seeded random calibration data, as a PyTorch user following
onnxruntime's guide would. `reference` is the onnxruntime session the
compiled models are held to: one that runs every QDQ node unit as an int8
kernel (`session.qdqisint8allowed`, onnxruntime's default on ARM). On x86
its default differs in two ways: it rewrites int8 activations to uint8
(which changes QLinearAdd's rounding), and it runs a unit in float
(DequantizeLinear -> float op -> QuantizeLinear) when an input tensor has
several readers, as a residual block's input has. `QuantizedIO` reads the scale and zero point of
the float input's QuantizeLinear and the output's DequantizeLinear, so that
a test feeds the same quantized input to both sides and compares quantized
outputs.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ACTIVATIONS = {"int8": "QInt8", "uint8": "QUInt8"}
NUMPY = {"int8": np.int8, "uint8": np.uint8}


def quantize(float_model: bytes, *, per_channel=False, activations="int8", seed=0, samples=8) -> bytes:
    """The QDQ model onnxruntime's `quantize_static` makes of `float_model`
    (int8 weights, `activations` int8 or uint8, MinMax calibration). With
    uint8 activations the weights are 7-bit (`reduce_range`), as
    onnxruntime advises for x86 without VNNI: there its u8 x s8 kernels add
    pairs of products in int16, which saturates with 8-bit weights, so the
    reference would differ from machine to machine."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    model = onnx.load_from_string(float_model)
    spec = model.graph.input[0]
    shape = [d.dim_value for d in spec.type.tensor_type.shape.dim]
    rng = np.random.default_rng(seed)
    batches = [{spec.name: rng.uniform(-1, 1, shape).astype(np.float32)} for _ in range(samples)]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(batches)

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "float.onnx"), Path(tmp, "qdq.onnx")
        src.write_bytes(float_model)
        quantize_static(
            str(src),
            str(dst),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=getattr(QuantType, ACTIVATIONS[activations]),
            weight_type=QuantType.QInt8,
            reduce_range=activations == "uint8",
        )
        return dst.read_bytes()


def reference(path):
    """onnxruntime's CPU session for the QDQ model at `path`, with int8 kernels."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.qdqisint8allowed", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@dataclass
class QuantizedIO:
    """The quantization of a QDQ model's (first) input and output."""

    input_name: str
    input_shape: list
    input_scale: np.float32
    input_zero_point: int
    input_dtype: type
    output_scale: np.float32 | None  # None: the output is float
    output_zero_point: int
    output_uint8: bool

    @classmethod
    def of(cls, model_bytes: bytes) -> "QuantizedIO":
        graph = onnx.load_from_string(model_bytes).graph
        consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        spec, out = graph.input[0], graph.output[0].name
        q = next((n for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] == spec.name), None)
        dq = next((n for n in graph.node if n.op_type == "DequantizeLinear" and n.output[0] == out), None)
        if dq is None:  # a float output (an operator the quantizer leaves in float, last)
            return cls(*cls._input(spec, q, consts), None, 0, False)
        return cls(
            *cls._input(spec, q, consts),
            np.float32(consts[dq.input[1]]),
            int(consts[dq.input[2]]),
            consts[dq.input[2]].dtype == np.uint8,
        )

    @staticmethod
    def _input(spec, q, consts):
        shape = [d.dim_value for d in spec.type.tensor_type.shape.dim]
        if q is None:  # a float input (its first reader is left in float)
            return spec.name, shape, None, 0, np.float32
        return spec.name, shape, np.float32(consts[q.input[1]]), int(consts[q.input[2]]), consts[q.input[2]].dtype.type

    def random_input(self, rng) -> np.ndarray:
        """Quantized input values over the whole range of the input's type."""
        if self.input_scale is None:
            return rng.uniform(-1, 1, self.input_shape).astype(np.float32)
        info = np.iinfo(self.input_dtype)
        return rng.integers(info.min, info.max + 1, self.input_shape).astype(self.input_dtype)

    def to_c(self, q) -> np.ndarray:
        """The compiled model's int8 input for `q` (uint8 tensors are stored 128 lower, README)."""
        return (q.astype(np.int16) - 128).astype(np.int8) if self.input_dtype == np.uint8 else q

    def from_c(self, y) -> np.ndarray:
        """The quantized output (in the model's own type) of the compiled model's int8 `y`."""
        if self.output_scale is None:
            return y
        return y.astype(np.int64) + (128 if self.output_uint8 else 0)

    def dequantize_input(self, q) -> np.ndarray:
        """The float input whose QuantizeLinear gives back exactly `q`."""
        if self.input_scale is None:
            return q
        return ((q.astype(np.float32) - np.float32(self.input_zero_point)) * self.input_scale).astype(np.float32)

    def quantize_output(self, y) -> np.ndarray:
        """The quantized value onnxruntime's DequantizeLinear turned into `y` (exact: y = (q - zp) * scale)."""
        if self.output_scale is None:
            return y
        return (np.rint(y / self.output_scale) + self.output_zero_point).astype(np.int64)
