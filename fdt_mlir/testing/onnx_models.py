"""Small seeded ONNX models built with `onnx.helper`, so tests need no model files.

Both models are the same CNN: Conv 3x3 (pad 1) + Relu + MaxPool 2x2 + Flatten +
Gemm, input 1x3x16x16 NCHW float32, output 1x10 float32. The QDQ variant wraps
every tensor in QuantizeLinear/DequantizeLinear pairs the way onnxruntime's
static quantizer does (int8 activations and weights, int32 bias).
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT_SHAPE = (1, 3, 16, 16)
OUTPUT_SHAPE = (1, 10)
OPSET = 17


def _weights(seed: int):
    rng = np.random.default_rng(seed)
    conv_w = rng.normal(0.0, 0.3, (8, 3, 3, 3)).astype(np.float32)
    conv_b = rng.normal(0.0, 0.1, (8,)).astype(np.float32)
    fc_w = rng.normal(0.0, 0.05, (10, 8 * 8 * 8)).astype(np.float32)
    fc_b = rng.normal(0.0, 0.1, (10,)).astype(np.float32)
    return conv_w, conv_b, fc_w, fc_b


def _model(nodes, initializers, name: str, batch=1) -> bytes:
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, *INPUT_SHAPE[1:]])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, OUTPUT_SHAPE[1]])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fdt-mlir-tests")
    model.ir_version = 8  # readable by every onnxruntime this project may meet
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _float_body(conv_in):
    """The float layer chain of the model."""
    return [
        helper.make_node("Conv", [conv_in, "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["output"], transB=1),
    ]


def small_cnn_float(seed: int = 0, batch=1) -> bytes:
    """Float32 CNN; `batch` may be a string to make a symbolic (dynamic) dimension."""
    conv_w, conv_b, fc_w, fc_b = _weights(seed)
    inits = [
        numpy_helper.from_array(a, n)
        for a, n in [(conv_w, "conv_w"), (conv_b, "conv_b"), (fc_w, "fc_w"), (fc_b, "fc_b")]
    ]
    return _model(_float_body("input"), inits, "small_cnn_float", batch)


def _quantize(x, scale, zp, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(dtype)


def small_cnn_qdq(seed: int = 0, per_channel: bool = False) -> bytes:
    """QDQ int8 CNN: int8 weights and activations, int32 bias.

    Per-tensor conv weights are onnxruntime's quantizer default;
    `per_channel` gives one scale per output channel, as TFLite does.
    """
    conv_w, conv_b, fc_w, fc_b = _weights(seed)
    act = {  # tensor -> (scale, zero point), chosen to cover the seeded ranges
        "input": (1.0 / 64, 0),
        "relu": (4.0 / 127, -128),
        "pool": (4.0 / 127, -128),
        "output": (8.0 / 255, 0),
    }
    conv_ws = (np.abs(conv_w).reshape(8, -1).max(axis=1) / 127).astype(np.float32)
    if not per_channel:
        conv_ws = np.full(8, conv_ws.max(), np.float32)
    fc_ws = np.float32(np.abs(fc_w).max() / 127)
    conv_bs = (act["input"][0] * conv_ws).astype(np.float32)
    fc_bs = np.float32(act["pool"][0] * fc_ws)

    arrays = {
        "conv_w_q": _quantize(conv_w, conv_ws[:, None, None, None], 0, np.int8),
        "conv_w_scale": conv_ws if per_channel else conv_ws[0],
        "conv_w_zp": np.zeros(8, np.int8) if per_channel else np.int8(0),
        "conv_b_q": _quantize(conv_b, conv_bs, 0, np.int32),
        "conv_b_scale": conv_bs if per_channel else conv_bs[0],
        "conv_b_zp": np.zeros(8, np.int32) if per_channel else np.int32(0),
        "fc_w_q": _quantize(fc_w, fc_ws, 0, np.int8),
        "fc_w_scale": np.array(fc_ws, np.float32),
        "fc_w_zp": np.array(0, np.int8),
        "fc_b_q": _quantize(fc_b, fc_bs, 0, np.int32),
        "fc_b_scale": np.array(fc_bs, np.float32),
        "fc_b_zp": np.array(0, np.int32),
    }
    for t, (scale, zp) in act.items():
        arrays[f"{t}_scale"] = np.array(scale, np.float32)
        arrays[f"{t}_zp"] = np.array(zp, np.int8)
    inits = [numpy_helper.from_array(np.asarray(a), n) for n, a in arrays.items()]

    def q(src, t, dst):
        return helper.make_node("QuantizeLinear", [src, f"{t}_scale", f"{t}_zp"], [dst])

    def dq(src, t, dst, axis=None):
        extra = {} if axis is None else {"axis": axis}
        return helper.make_node("DequantizeLinear", [src, f"{t}_scale", f"{t}_zp"], [dst], **extra)

    nodes = [
        q("input", "input", "input_q"),
        dq("input_q", "input", "input_dq"),
        dq("conv_w_q", "conv_w", "conv_w_dq", axis=0 if per_channel else None),
        dq("conv_b_q", "conv_b", "conv_b_dq", axis=0 if per_channel else None),
        helper.make_node(
            "Conv", ["input_dq", "conv_w_dq", "conv_b_dq"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
        helper.make_node("Relu", ["conv"], ["relu"]),
        q("relu", "relu", "relu_q"),
        dq("relu_q", "relu", "relu_dq"),
        helper.make_node("MaxPool", ["relu_dq"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        q("pool", "pool", "pool_q"),
        dq("pool_q", "pool", "pool_dq"),
        helper.make_node("Flatten", ["pool_dq"], ["flat"], axis=1),
        dq("fc_w_q", "fc_w", "fc_w_dq"),
        dq("fc_b_q", "fc_b", "fc_b_dq"),
        helper.make_node("Gemm", ["flat", "fc_w_dq", "fc_b_dq"], ["gemm"], transB=1),
        q("gemm", "output", "output_q"),
        dq("output_q", "output", "output"),
    ]
    return _model(nodes, inits, "small_cnn_qdq")
