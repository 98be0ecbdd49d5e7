"""The float32 operators of PyTorch exports, one small ONNX model each,
compiled to C and checked against onnxruntime (within 1e-5 of the output
range). Convolutions, pools and activations in chains, tiled, are covered by
test_tiling_random_onnx.py; this covers each operator alone, including those
the random networks do not draw."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from tiling_support import assert_shadow_checked

from fdt_mlir.api import compile
from fdt_mlir.testing.cmodel import CModel

X = [1, 4, 6, 6]
RNG = np.random.default_rng(0)


def _c(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _f32(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def _node(op, inputs, **attrs):
    return helper.make_node(op, inputs, ["y"], **attrs)


# name -> (nodes, initializers, output shape); the input is x, 1x4x6x6.
OPS = {
    "Conv_grouped": (
        [_node("Conv", ["x", "w", "b"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2)],
        [_c("w", _f32(6, 2, 3, 3)), _c("b", _f32(6))],
        [1, 6, 6, 6],
    ),
    "ConvTranspose": (
        [
            _node(
                "ConvTranspose",
                ["x", "w", "b"],
                kernel_shape=[3, 3],
                strides=[2, 2],
                pads=[1, 1, 1, 1],
                output_padding=[1, 1],
            )
        ],
        [_c("w", _f32(4, 3, 3, 3)), _c("b", _f32(3))],
        [1, 3, 12, 12],
    ),
    "MatMul": ([_node("MatMul", ["x", "w"])], [_c("w", _f32(6, 5))], [1, 4, 6, 5]),
    "Gemm": (
        [helper.make_node("Flatten", ["x"], ["f"]), _node("Gemm", ["f", "w", "b"], alpha=0.5, beta=2.0)],
        [_c("w", _f32(144, 5)), _c("b", _f32(5))],
        [1, 5],
    ),
    "Add": ([_node("Add", ["x", "k"])], [_c("k", _f32(4, 1, 1))], X),
    "Sub": ([_node("Sub", ["x", "k"])], [_c("k", _f32(4, 1, 1))], X),
    "Mul": ([_node("Mul", ["x", "k"])], [_c("k", _f32(1, 6))], X),
    "Div": ([_node("Div", ["x", "k"])], [_c("k", _f32(4, 1, 1, low=0.5, high=2.0))], X),
    "Relu": ([_node("Relu", ["x"])], [], X),
    "Clip": ([_node("Clip", ["x", "lo", "hi"])], [_c("lo", np.float32(-0.5)), _c("hi", np.float32(0.25))], X),
    "LeakyRelu": ([_node("LeakyRelu", ["x"], alpha=0.2)], [], X),
    "PRelu": ([_node("PRelu", ["x", "k"])], [_c("k", _f32(4, 1, 1, low=0.0, high=0.5))], X),
    "Sigmoid": ([_node("Sigmoid", ["x"])], [], X),
    "HardSigmoid": ([_node("HardSigmoid", ["x"])], [], X),
    "HardSwish": ([_node("HardSwish", ["x"])], [], X),
    "Tanh": ([_node("Tanh", ["x"])], [], X),
    "Softmax": ([_node("Softmax", ["x"], axis=1)], [], X),
    "MaxPool": ([_node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])], [], [1, 4, 3, 3]),
    "AveragePool": (
        [_node("AveragePool", ["x"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=0)],
        [],
        X,
    ),
    "GlobalAveragePool": ([_node("GlobalAveragePool", ["x"])], [], [1, 4, 1, 1]),
    "ReduceMean": ([_node("ReduceMean", ["x"], axes=[1], keepdims=1)], [], [1, 1, 6, 6]),
    "BatchNormalization": (
        [_node("BatchNormalization", ["x", "s", "b", "m", "v"], epsilon=1e-3)],
        [_c("s", _f32(4)), _c("b", _f32(4)), _c("m", _f32(4)), _c("v", _f32(4, low=0.5, high=2.0))],
        X,
    ),
    # Reshapes of a computed tensor (the model's output may not be a view of its input).
    "Flatten": ([helper.make_node("Relu", ["x"], ["r"]), _node("Flatten", ["r"], axis=2)], [], [4, 36]),
    "Reshape": (
        [helper.make_node("Relu", ["x"], ["r"]), _node("Reshape", ["r", "s"])],
        [_c("s", np.array([1, 24, 6], np.int64))],
        [1, 24, 6],
    ),
    "Squeeze": (
        [helper.make_node("Relu", ["x"], ["r"]), _node("Squeeze", ["r", "a"])],
        [_c("a", np.array([0], np.int64))],
        [4, 6, 6],
    ),
    "Unsqueeze": (
        [helper.make_node("Relu", ["x"], ["r"]), _node("Unsqueeze", ["r", "a"])],
        [_c("a", np.array([1], np.int64))],
        [1, 1, 4, 6, 6],
    ),
    "Concat": ([helper.make_node("Relu", ["x"], ["r"]), _node("Concat", ["x", "r"], axis=1)], [], [1, 8, 6, 6]),
    "Transpose": ([_node("Transpose", ["x"], perm=[0, 2, 3, 1])], [], [1, 6, 6, 4]),
    "Pad": ([_node("Pad", ["x", "p"])], [_c("p", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))], [1, 4, 9, 9]),
    "Resize_nearest": (
        [_node("Resize", ["x", "", "sc"], mode="nearest")],
        [_c("sc", np.array([1, 1, 2, 2], np.float32))],
        [1, 4, 12, 12],
    ),
    "Gather": ([_node("Gather", ["x", "i"], axis=1)], [_c("i", np.array([3, 0], np.int64))], [1, 2, 6, 6]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_onnx_operator_matches_onnxruntime(name, tmp_path):
    nodes, inits, out_shape = OPS[name]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, X)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    for filename, text in compile(path, name="op", shadow_check=True).files.items():
        (tmp_path / filename).write_text(text)
    c_model = CModel(tmp_path, "op")
    session = ort.InferenceSession(str(path))
    rng = np.random.default_rng(1)
    for n in range(3):
        x = rng.uniform(-3, 3, X).astype(np.float32)
        if n == 0:
            assert_shadow_checked(tmp_path, "op", [[x]])
        want = session.run(None, {"x": x})[0]
        got = c_model.run([x])[0].reshape(want.shape)
        assert np.max(np.abs(want - got)) <= 1e-5 * max(float(np.ptp(want)), float(np.max(np.abs(want))))
