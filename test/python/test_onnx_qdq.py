"""QDQ ONNX models as integer inference (importers/onnx_qdq.py), against
onnxruntime running the same node units as int8 QLinear kernels
(`testing.qdq.reference`).

The models are the float twins of `twin_models` quantized by onnxruntime's
own `quantize_static` (int8 weights; int8 or uint8 activations; per-tensor
or per-channel weights), and single node units. Every one of them is
integer end to end, so the C must match onnxruntime exactly: the same
quantized input (`QuantizedIO`) gives the same quantized output, with no
element off by one. The arena holds no float tensor.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tiling_support import compile_model, discovered_paths

from fdt_mlir.api import compile
from fdt_mlir.testing.qdq import QuantizedIO, quantize, reference
from fdt_mlir.testing.twin_models import TWINS, onnx_twin

INPUTS = 20


def _mismatches(path, model, io: QuantizedIO, count=INPUTS) -> int:
    """Output elements where the compiled model and onnxruntime differ."""
    session = reference(path)
    rng = np.random.default_rng(0)
    differ = 0
    for _ in range(count):
        q = io.random_input(rng)
        want = io.quantize_output(session.run(None, {io.input_name: io.dequantize_input(q)})[0])
        got = io.from_c(model.run([io.to_c(q)])[0]).reshape(want.shape)
        differ += int(np.count_nonzero(got != want))
    return differ


def _float_buffers(report):
    """Buffers of float values (int32 ones are a reduction's per-channel sums, as TFLM's MEAN keeps)."""
    return {b["name"]: b["bytes"] for b in report["buffers"] if b["c_type"] == "float"}


@pytest.mark.parametrize("tiling", ["none", "all"])
@pytest.mark.parametrize("name", sorted(TWINS))
def test_quantized_twin_is_integer_and_exact(name, tiling, tmp_path):
    data = quantize(onnx_twin(name))
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "qdq", name, options=["--tiling", tiling])
    report = model.report
    assert _float_buffers(report) == {}, "a float tensor is left in the arena"
    if tiling == "all":
        assert report["arena_bytes_predicted"] == report["arena_bytes"]
    else:
        float_path = tmp_path / f"{name}_float.onnx"
        float_path.write_bytes(onnx_twin(name))
        float_model = compile_model(float_path, tmp_path / "float", name, options=["--tiling", "none"])
        # int8 tensors where the float model has float ones (alignment aside)
        assert report["arena_bytes"] <= float_model.report["arena_bytes"] / 4 + 16
    assert _mismatches(path, model, QuantizedIO.of(data)) == 0


@pytest.mark.parametrize(
    "variant", [{"per_channel": True}, {"activations": "uint8"}, {"per_channel": True, "activations": "uint8"}]
)
@pytest.mark.parametrize("name", ["cnn", "conv_depthwise_s2", "dense_100_200_100", "partial"])
def test_quantization_variants_are_exact(name, variant, tmp_path):
    """Per-channel weight scales (one multiplier per output channel) and
    uint8 activations (stored as int8, 128 lower)."""
    data = quantize(onnx_twin(name), **variant)
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "out", name, options=["--tiling", "all"])
    assert _float_buffers(model.report) == {}
    assert _mismatches(path, model, QuantizedIO.of(data)) == 0


def _add_model(dtype) -> bytes:
    """Add of two quantized inputs of the same shape, requantized: onnxruntime's QLinearAdd."""
    zero_points = {"int8": (-7, 12, -3), "uint8": (121, 140, 125)}[dtype]
    np_type = {"int8": np.int8, "uint8": np.uint8}[dtype]
    shape = [1, 16, 8, 8]
    inits = []
    for name, scale, zp in zip("abc", (0.0213, 0.0371, 0.0452), zero_points):
        inits += [
            numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.array(zp, np_type), f"{name}_zp"),
        ]
    nodes = [
        helper.make_node("QuantizeLinear", ["a", "a_scale", "a_zp"], ["a_q"]),
        helper.make_node("DequantizeLinear", ["a_q", "a_scale", "a_zp"], ["a_dq"]),
        helper.make_node("QuantizeLinear", ["b", "b_scale", "b_zp"], ["b_q"]),
        helper.make_node("DequantizeLinear", ["b_q", "b_scale", "b_zp"], ["b_dq"]),
        helper.make_node("Add", ["a_dq", "b_dq"], ["sum"]),
        helper.make_node("QuantizeLinear", ["sum", "c_scale", "c_zp"], ["c_q"]),
        helper.make_node("DequantizeLinear", ["c_q", "c_scale", "c_zp"], ["c"]),
    ]
    graph = helper.make_graph(
        nodes,
        "add",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in "ab"],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, shape)],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_add_matches_qlinear_add(dtype, tmp_path):
    """Every pair of codes of two 1024-element tensors, 50 times over."""
    data = _add_model(dtype)
    path = tmp_path / "add.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "out", "add")
    assert _float_buffers(model.report) == {}
    graph = onnx.load_from_string(data).graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    info = np.iinfo(consts["a_zp"].dtype)
    shift = 128 if consts["a_zp"].dtype == np.uint8 else 0
    session = reference(path)
    rng = np.random.default_rng(0)
    for _ in range(50):
        codes = [rng.integers(info.min, info.max + 1, (1, 16, 8, 8)) for _ in "ab"]
        floats = {
            n: ((q - int(consts[f"{n}_zp"])) * consts[f"{n}_scale"]).astype(np.float32) for n, q in zip("ab", codes)
        }
        want = np.rint(session.run(None, floats)[0] / consts["c_scale"]) + int(consts["c_zp"])
        got = model.run([(q - shift).astype(np.int8) for q in codes])[0].astype(np.int64) + shift
        assert np.count_nonzero(got.reshape(want.shape) != want) == 0


def _conv_pool_dense() -> bytes:
    """Conv 3x3 + Relu, GlobalAveragePool, Flatten, Gemm: onnxruntime's
    QLinearConv, QLinearGlobalAveragePool and QGemm once quantized."""
    rng = np.random.default_rng(3)
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.3, (12, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.normal(0, 0.1, 12).astype(np.float32), "b"),
        numpy_helper.from_array(rng.normal(0, 0.3, (5, 12)).astype(np.float32), "fc_w"),
        numpy_helper.from_array(rng.normal(0, 0.1, 5).astype(np.float32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_pool_dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_global_average_pool_is_exact(tmp_path):
    data = quantize(_conv_pool_dense())
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "out", "net")
    assert _float_buffers(model.report) == {}
    assert _mismatches(path, model, QuantizedIO.of(data), count=50) == 0


def test_global_average_pool_joins_an_fdt_path(tmp_path, capfd):
    """Its int32 sum tiles over channel slices as upstream tiles any
    reduction, without a transform diagnostic on stderr."""
    path = tmp_path / "net.onnx"
    path.write_bytes(quantize(_conv_pool_dense()))
    plans = [p for p in discovered_paths(path, "fdt", (4,)) if p.kernels[0].startswith("GlobalAveragePool")]
    assert [p.roles for p in plans] == ["=>"]
    report = compile(path, plan=plans).report
    assert report["arena_bytes_predicted"] == report["arena_bytes"]
    assert capfd.readouterr().err == ""


def _conv_then(tail, groups=1, pool_input=8) -> bytes:
    """x -> Conv 3x3 (4 -> 8 channels, `groups`) -> the nodes `tail`
    builds from the conv's output (returning theirs and its shape)."""
    rng = np.random.default_rng(5)
    weights = rng.normal(0, 0.3, (8, 4 // groups, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=groups)]
    out, shape = tail(nodes, "conv", [1, 8, pool_input, pool_input])
    graph = helper.make_graph(
        nodes,
        "conv_then",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, pool_input, pool_input])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, shape)],
        initializer=[numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _average_pool(nodes, x, shape):
    nodes.append(helper.make_node("AveragePool", [x], ["y"], kernel_shape=[2, 2], strides=[2, 2]))
    return "y", [*shape[:2], shape[2] // 2, shape[3] // 2]


@pytest.mark.parametrize("activations", ["int8", "uint8"])
def test_average_pool_rounds_as_qlinear_average_pool(activations, tmp_path):
    """QLinearAveragePool adds the zero point before rounding: a 2x2 mean
    often ends in .5, where QuantizeLinear's order rounds the other way."""
    data = quantize(_conv_then(_average_pool), activations=activations)
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "out", "net")
    assert _float_buffers(model.report) == {}
    assert _mismatches(path, model, QuantizedIO.of(data), count=50) == 0


def _hard_swish_pool_dense(nodes, x, shape):
    """HardSwish -> MaxPool -> Flatten -> Gemm: the quantizer leaves the
    first two in float and quantizes the Flatten's output only."""
    rng = np.random.default_rng(6)
    features = shape[1] * (shape[2] // 2) * (shape[3] // 2)
    fc = numpy_helper.from_array(rng.normal(0, 0.1, (3, features)).astype(np.float32), "fc")
    nodes += [
        helper.make_node("HardSwish", [x], ["hs"]),
        helper.make_node("MaxPool", ["hs"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc"], ["y"], transB=1),
    ]
    nodes.append(helper.make_node("Constant", [], ["fc"], value=fc))
    nodes.insert(0, nodes.pop())
    return "y", [1, 3]


def test_float_activation_hands_int8_on(tmp_path):
    """A HardSwish the quantizer leaves in float reads its dequantized input
    twice and feeds a float max pool: computed per element between the two
    quantized tensors, and the pool run on int8, no float tensor is left."""
    data = quantize(_conv_then(_hard_swish_pool_dense))
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "out", "net")
    assert _float_buffers(model.report) == {}
    assert _mismatches(path, model, QuantizedIO.of(data)) == 0


def test_fake_quantized_weights_stay_in_flash(tmp_path):
    """A grouped conv stays fake-quantized; its weights' DequantizeLinear is
    folded into a float constant, not run into the arena."""
    data = quantize(_conv_then(lambda nodes, x, shape: (x, shape), groups=2))
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "out", "net")
    dequantized_weights = f"memref<{8 * 2 * 3 * 3}xf32>"
    assert [b["name"] for b in model.report["buffers"] if b["type"] == dequantized_weights] == []
    assert _mismatches(path, model, QuantizedIO.of(data)) == 0


def _global_pool_softmax(nodes, x, shape):
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Softmax", ["flat"], ["y"], axis=1),
    ]
    return "y", [1, shape[1]]


@pytest.mark.parametrize("activations", ["int8", "uint8"])
def test_softmax_matches_qlinear_softmax(activations, tmp_path):
    """onnxruntime's QLinearSoftmax is not DQ -> Softmax -> Q: a table of
    float64 exponentials shifted by the row's maximum, and its own rounding."""
    data = quantize(_conv_then(_global_pool_softmax), activations=activations)
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / "out", "net")
    # No float temporary: the softmax runs row by row, its row's sum in a
    # register and each exponential computed where it is read.
    assert _float_buffers(model.report) == {}
    assert _mismatches(path, model, QuantizedIO.of(data), count=50) == 0
