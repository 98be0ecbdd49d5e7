"""ONNX import: signatures, one-line errors, and numerics against onnxruntime.

The C pipeline is not there yet, so numerics run the imported linalg through
MLIR's own JIT (upstream passes + ExecutionEngine) as an independent check.
"""

import ctypes
import importlib.util
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from mlir import execution_engine, ir, passmanager, runtime
from onnx import TensorProto, helper, numpy_helper

from fdt_mlir.analysis.kernels import function_body, kernels_of
from fdt_mlir.api import compile
from fdt_mlir.dialect import make_context
from fdt_mlir.errors import FdtError
from fdt_mlir.importers import load
from fdt_mlir.importers.onnx import ALLOWED_DIALECTS, import_onnx
from fdt_mlir.testing import onnx_models
from fdt_mlir.testing.qdq import QuantizedIO, reference

LOWER_TO_LLVM = (
    "builtin.module("
    "one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{modify-public-functions hoist-static-allocs},"
    "func.func(convert-linalg-to-loops),expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "finalize-memref-to-llvm,convert-to-llvm,reconcile-unrealized-casts)"
)
# tensor.pad bufferizes to a strided memref.copy, which calls memrefCopy from here
RUNNER_UTILS = Path(ir.__file__).parent / "lib" / "libmlir_c_runner_utils.so"


def write(tmp_path, data: bytes, name="model.onnx") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def import_text(path, name="model") -> str:
    with make_context():
        return str(import_onnx(path, name))


def one_line_error(path) -> str:
    with make_context(), pytest.raises(FdtError) as info:
        import_onnx(path, "model")
    message = str(info.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


def run_jit(path, inputs, out_shape, out_type=np.float32) -> np.ndarray:
    """Imports `path`, lowers it to LLVM with upstream passes and runs it."""
    assert RUNNER_UTILS.is_file(), f"{RUNNER_UTILS} missing (xtc-mlir-python-bindings layout changed?)"
    with make_context():
        module = import_onnx(path, "model")
        module.body.operations[0].attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
        passmanager.PassManager.parse(LOWER_TO_LLVM).run(module.operation)
        engine = execution_engine.ExecutionEngine(module, opt_level=2, shared_libs=[str(RUNNER_UTILS)])
        out = np.zeros(out_shape, out_type)
        args = [ctypes.pointer(ctypes.pointer(runtime.get_ranked_memref_descriptor(a))) for a in (*inputs, out)]
        engine.invoke("model", *args)
        return out


def onnxruntime_run(path, x) -> np.ndarray:
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def sample_inputs(count=4):
    rng = np.random.default_rng(1234)
    return [rng.uniform(-1.5, 1.5, onnx_models.INPUT_SHAPE).astype(np.float32) for _ in range(count)]


# -- import and signature ------------------------------------------------------------


@pytest.mark.parametrize(
    "make, signature, conv",
    [
        (onnx_models.small_cnn_float, "(tensor<1x3x16x16xf32>) -> tensor<1x10xf32>", "linalg.conv_2d_nchw_fchw "),
        # QDQ: integer ops on the quantized tensors (importers/onnx_qdq.py)
        (onnx_models.small_cnn_qdq, "(tensor<1x3x16x16xi8>) -> tensor<1x10xi8>", "linalg.conv_2d_nchw_fchw_q"),
        (
            lambda: onnx_models.small_cnn_qdq(per_channel=True),
            "(tensor<1x3x16x16xi8>) -> tensor<1x10xi8>",
            "linalg.conv_2d_nchw_fchw_q",
        ),
    ],
    ids=["float", "qdq", "qdq_per_channel"],
)
def test_import_signature(tmp_path, make, signature, conv):
    path = write(tmp_path, make())
    with make_context():
        module = import_onnx(path, "my_net")
        assert module.operation.verify()
        ops = list(module.body.operations)
        assert [op.operation.name for op in ops] == ["func.func"]
        fn = ops[0].operation
        assert fn.attributes["sym_name"].value == "my_net"
        assert sorted(fn.attributes) == ["function_type", "sym_name"]
        assert str(fn.attributes["function_type"].value) == signature
        dialects = set()
        fn.walk(lambda op: dialects.add(op.name.split(".")[0]) or ir.WalkResult.ADVANCE)
        assert dialects <= ALLOWED_DIALECTS
        text = str(module)
    assert conv in text and "linalg.pooling_nchw_max" in text
    assert "dense_resource" not in text and "torch" not in text


def test_generators_are_deterministic():
    assert onnx_models.small_cnn_float() == onnx_models.small_cnn_float()
    assert onnx_models.small_cnn_qdq() == onnx_models.small_cnn_qdq()
    assert onnx_models.small_cnn_float(seed=1) != onnx_models.small_cnn_float()


# -- errors ----------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert "not found" in one_line_error(str(tmp_path / "absent.onnx"))


def test_directory(tmp_path):
    assert "not a file" in one_line_error(str(tmp_path))


def test_empty_file(tmp_path):
    assert "empty" in one_line_error(write(tmp_path, b""))


def test_not_onnx(tmp_path):
    assert "not an ONNX model" in one_line_error(write(tmp_path, b"hello, this is not a model\n"))


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.02])
def test_truncated(tmp_path, cut):
    data = onnx_models.small_cnn_float()
    assert "truncated" in one_line_error(write(tmp_path, data[: int(len(data) * cut)]))


def test_corrupt_header(tmp_path):
    data = onnx_models.small_cnn_float()
    assert "corrupt" in one_line_error(write(tmp_path, b"\xff" * 16 + data[16:]))


def test_invalid_model(tmp_path):
    model = onnx.load_from_string(onnx_models.small_cnn_float())
    model.graph.node[1].input[0] = "no_such_tensor"
    message = one_line_error(write(tmp_path, model.SerializeToString()))
    assert "not a valid ONNX model" in message and "no_such_tensor" in message


def test_dynamic_batch(tmp_path):
    message = one_line_error(write(tmp_path, onnx_models.small_cnn_float(batch="N")))
    assert "input 'input'" in message and "[N,3,16,16]" in message and "static" in message


def test_unsupported_operator(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Frobnicate", ["x"], ["y"], domain="com.example")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    message = one_line_error(write(tmp_path, model.SerializeToString()))
    assert message == "unsupported ONNX operator Frobnicate (no lowering to linalg)"


def test_missing_tool(tmp_path, monkeypatch):
    import fdt_mlir.importers.onnx as importer

    monkeypatch.setattr(importer, "IMPORTER", "no-such-importer")
    message = one_line_error(write(tmp_path, onnx_models.small_cnn_float()))
    assert "'no-such-importer' not found" in message and "iree-base-compiler" in message


# -- numerics through MLIR's JIT ---------------------------------------------------------


def test_float_matches_onnxruntime(tmp_path):
    path = write(tmp_path, onnx_models.small_cnn_float())
    for x in sample_inputs():
        expected = onnxruntime_run(path, x)
        got = run_jit(path, [x], onnx_models.OUTPUT_SHAPE)
        # 1e-5 relative to the output's magnitude (elementwise rtol alone fails near zero)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("per_channel", [False, True])
def test_qdq_matches_onnxruntime(tmp_path, per_channel):
    """The integer model, on quantized inputs, gives onnxruntime's quantized outputs exactly."""
    data = onnx_models.small_cnn_qdq(per_channel=per_channel)
    path = write(tmp_path, data)
    io = QuantizedIO.of(data)
    session = reference(path)
    rng = np.random.default_rng(1234)
    for _ in range(4):
        q = io.random_input(rng)
        want = io.quantize_output(session.run(None, {io.input_name: io.dequantize_input(q)})[0])
        got = run_jit(path, [io.to_c(q)], onnx_models.OUTPUT_SHAPE, np.int8)
        assert np.array_equal(io.from_c(got), want)


# -- kernel names -------------------------------------------------------------------


def kernel_names(path) -> list[str]:
    with make_context():
        module = import_onnx(path, "model")
        return [k.name for k in kernels_of(function_body(module.operation))]


def test_kernels_are_named_after_their_nodes(tmp_path):
    """`OpType:index` in graph order; the Relu that alone reads the conv's
    output is the conv's fused activation, one kernel with it."""
    names = kernel_names(write(tmp_path, onnx_models.small_cnn_float()))
    assert names == ["Conv:0", "MaxPool:2", "Flatten:3", "Gemm:4"]


def _add_relu_mul(tmp_path) -> str:
    """x + 1 (a node named 'add one') read by a Relu and by a Mul with it, then a Sigmoid."""
    c = numpy_helper.from_array(np.ones(4, np.float32), "c")
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["x", "c"], ["a"], name="add one"),
            helper.make_node("Relu", ["a"], ["r"]),
            helper.make_node("Mul", ["a", "r"], ["m"]),
            helper.make_node("Sigmoid", ["m"], ["y"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[c],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return write(tmp_path, model.SerializeToString())


def test_activation_with_other_readers_stays_a_kernel(tmp_path):
    """An activation is fused only into a producer it alone reads (the
    Sigmoid into the Mul, not the Relu into the Add), and a node's own name
    rides along as the location's child."""
    path = _add_relu_mul(tmp_path)
    assert kernel_names(path) == ["Add:0", "Relu:1", "Mul:2"]
    assert 'loc("Add:0"("add one"))' in _locations(path)


def test_report_names_the_nodes(tmp_path):
    report = compile(_add_relu_mul(tmp_path)).report
    nodes = {b["producer"]: b["producer_node"] for b in report["buffers"] if b["producer"]}
    assert nodes == {"Add:0": "add one", "Relu:1": None, "Mul:2": None}


def _locations(path) -> str:
    with make_context():
        module = import_onnx(path, "model")
        return "\n".join(str(op.location) for op in function_body(module.operation).operations)


def test_without_the_onnx_extra(tmp_path, monkeypatch):
    """A runtime-only install names the extra to install, in one line."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else find_spec(name, *a))
    with pytest.raises(FdtError, match=r"needs the onnx extra: pip install 'fdt-mlir\[onnx\]'"):
        load(str(tmp_path / "model.onnx"), "model")
