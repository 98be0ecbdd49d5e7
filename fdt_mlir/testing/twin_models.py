"""Float32 networks built twice from one description: as TFLite (NHWC, with
`ModelBuilder`) and as ONNX (NCHW, with `onnx.helper`), so that tests can
hold the ONNX flow to the arenas the TFLite flow reaches on the same shapes.

A network is an input shape (NHWC for feature maps, (1, n) for vectors) and
a list of layers:
    ("dense", units, relu)           FULLY_CONNECTED / Gemm (+ Relu)
    ("conv", out, k, stride, same, relu)   CONV_2D / Conv
    ("depthwise", k, stride, same, relu)   DEPTHWISE_CONV_2D / Conv, group = C
    ("maxpool", k)                   k x k, stride k
    ("flatten",)                     RESHAPE / Flatten
    ("mean",)                        MEAN over rows and columns / ReduceMean
The weights are seeded random numbers in each format's own layout; the two
twins have the same shapes, not the same function.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..examples.tflite_builder import ModelBuilder

TWINS = {
    # The method's reference networks (target_models.py) ...
    "mlp": ((1, 4), [("dense", 19391, True), ("dense", 1, False)]),
    "cnn": (
        (1, 32, 32, 3),
        [
            ("conv", 32, 3, 1, True, True),
            ("maxpool", 2),
            ("conv", 64, 3, 1, True, True),
            ("maxpool", 2),
            ("flatten",),
            ("dense", 10, False),
        ],
    ),
    "partial": (
        (1, 8, 8, 8),
        [("conv", 64, 1, 1, True, True), ("conv", 64, 1, 1, True, False), ("mean",), ("dense", 10, False)],
    ),
    # ... and more of the same families.
    "dense_100_200_100": ((1, 100), [("dense", 200, True), ("dense", 100, False)]),
    "dense_5_20_5": ((1, 5), [("dense", 20, True), ("dense", 5, False)]),
    "conv1x1_pool": (
        (1, 16, 16, 8),
        [
            ("conv", 16, 1, 1, True, True),
            ("conv", 16, 1, 1, True, True),
            ("maxpool", 2),
            ("conv", 32, 1, 1, True, True),
            ("maxpool", 2),
            ("flatten",),
            ("dense", 10, False),
        ],
    ),
    "conv3x3_valid_pool": (
        (1, 18, 18, 4),
        [
            ("conv", 8, 3, 1, False, True),
            ("conv", 16, 3, 1, False, True),
            ("maxpool", 2),
            ("conv", 16, 3, 1, False, True),
            ("flatten",),
            ("dense", 10, False),
        ],
    ),
    "conv_depthwise_s2": (
        (1, 32, 32, 3),
        [
            ("conv", 16, 3, 1, True, True),
            ("depthwise", 3, 2, True, True),
            ("conv", 32, 1, 1, True, True),
            ("mean",),
            ("dense", 10, False),
        ],
    ),
}


def _out_size(size, k, stride, same):
    return -(-size // stride) if same else (size - k) // stride + 1


def _pads(size, k, stride, same):
    """TFLite's SAME padding (the odd pixel at the end), as ONNX pads."""
    if not same:
        return 0, 0
    total = max((_out_size(size, k, stride, True) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def tflite_twin(name: str, seed: int = 0) -> bytes:
    shape, layers = TWINS[name]
    rng = np.random.default_rng(seed)
    b = ModelBuilder(name)
    x = b.input(list(shape), np.float32)
    shape = list(shape)

    def weights(dims, fan_in):
        return b.const((rng.standard_normal(dims) / np.sqrt(fan_in)).astype(np.float32))

    def bias(n):
        return b.const((0.1 * rng.standard_normal(n)).astype(np.float32))

    for layer in layers:
        kind, act = layer[0], "RELU" if layer[-1] is True else "NONE"
        if kind == "dense":
            units = layer[1]
            y = b.tensor([1, units], np.float32)
            b.op("FULLY_CONNECTED", [x, weights((units, shape[1]), shape[1]), bias(units)], [y], activation=act)
            shape = [1, units]
        elif kind in ("conv", "depthwise"):
            n, h, w, c = shape
            out, k, stride, same = layer[1:5] if kind == "conv" else (c, *layer[1:4])
            dims = (out, k, k, c) if kind == "conv" else (1, k, k, c)
            shape = [n, _out_size(h, k, stride, same), _out_size(w, k, stride, same), out]
            y = b.tensor(shape, np.float32)
            opcode = "CONV_2D" if kind == "conv" else "DEPTHWISE_CONV_2D"
            fan_in = k * k * (c if kind == "conv" else 1)
            options = {"padding": "SAME" if same else "VALID", "stride": (stride, stride), "activation": act}
            b.op(opcode, [x, weights(dims, fan_in), bias(out)], [y], **options)
        elif kind == "maxpool":
            k = layer[1]
            shape = [shape[0], shape[1] // k, shape[2] // k, shape[3]]
            y = b.tensor(shape, np.float32)
            b.op("MAX_POOL_2D", [x], [y], filter_size=(k, k), stride=(k, k), padding="VALID")
        elif kind == "flatten":
            shape = [1, int(np.prod(shape[1:]))]
            y = b.tensor(shape, np.float32)
            b.op("RESHAPE", [x, b.const(np.array([1, -1], np.int32))], [y])
        else:
            shape = [1, shape[3]]
            y = b.tensor(shape, np.float32)
            b.op("MEAN", [x, b.const(np.array([1, 2], np.int32))], [y], keep_dims=False)
        x = y
    b.output(x)
    return b.finish()


def onnx_twin(name: str, seed: int = 0) -> bytes:
    nhwc, layers = TWINS[name]
    rng = np.random.default_rng(seed)
    shape = [nhwc[0], nhwc[3], nhwc[1], nhwc[2]] if len(nhwc) == 4 else list(nhwc)
    graph_input = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
    nodes, inits, x = [], [], "input"

    def const(prefix, array):
        inits.append(numpy_helper.from_array(array.astype(np.float32), f"{prefix}{len(inits)}"))
        return inits[-1].name

    def node(op, inputs, **attrs):
        nodes.append(helper.make_node(op, inputs, [f"t{len(nodes)}"], **attrs))
        return nodes[-1].output[0]

    for layer in layers:
        kind, relu = layer[0], layer[-1] is True
        if kind == "dense":
            units = layer[1]
            w = const("w", rng.standard_normal((units, shape[1])) / np.sqrt(shape[1]))
            x = node("Gemm", [x, w, const("b", 0.1 * rng.standard_normal(units))], transB=1)
            shape = [1, units]
        elif kind in ("conv", "depthwise"):
            n, c, h, w_ = shape
            out, k, stride, same = layer[1:5] if kind == "conv" else (c, *layer[1:4])
            group = 1 if kind == "conv" else c
            top, bottom = _pads(h, k, stride, same)
            left, right = _pads(w_, k, stride, same)
            weights = const("w", rng.standard_normal((out, c // group, k, k)) / np.sqrt(k * k * c // group))
            x = node(
                "Conv",
                [x, weights, const("b", 0.1 * rng.standard_normal(out))],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[top, left, bottom, right],
                group=group,
            )
            shape = [n, out, _out_size(h, k, stride, same), _out_size(w_, k, stride, same)]
        elif kind == "maxpool":
            k = layer[1]
            x = node("MaxPool", [x], kernel_shape=[k, k], strides=[k, k])
            shape = [shape[0], shape[1], shape[2] // k, shape[3] // k]
        elif kind == "flatten":
            x = node("Flatten", [x], axis=1)
            shape = [1, int(np.prod(shape[1:]))]
        else:
            x = node("ReduceMean", [x], axes=[2, 3], keepdims=0)
            shape = [1, shape[1]]
        if relu:
            x = node("Relu", [x])
    nodes[-1].output[0] = "output"
    graph = helper.make_graph(
        nodes, name, [graph_input], [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)], inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="fdt-mlir-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()
