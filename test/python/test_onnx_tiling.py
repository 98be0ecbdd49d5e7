"""ONNX models tiled like their TFLite twins: FDT and FFMT on NCHW feature
maps, with axes read from the indexing maps (analysis.tensor_axes).

Each network of `twin_models` is built as TFLite (NHWC) and as ONNX (NCHW)
with the same shapes. Searched with `--tiling fdt` and `all`, without
overlaps (NCHW and NHWC loops let outputs overlap their inputs by different
amounts), the ONNX arena must be within 5 % of the TFLite one, predicted to
the byte, and its tiled C must match onnxruntime."""

import numpy as np
import onnxruntime as ort
import pytest
from mlir import ir
from onnx import TensorProto, helper, numpy_helper
from tiling_support import compile_model

from fdt_mlir import pipeline
from fdt_mlir.analysis.kernels import function_body, kernels_of
from fdt_mlir.api import Options, compile
from fdt_mlir.dialect import make_context
from fdt_mlir.errors import FdtError
from fdt_mlir.importers import load
from fdt_mlir.search import discovery
from fdt_mlir.testing.twin_models import TWINS, onnx_twin, tflite_twin
from fdt_mlir.tiling_plan import parse_plan

# A '>' path adds its partitions' partial sums in another order than one long
# sum: float rounding, as in test_tiling_targets.
PARTIAL_SUMS = 1e-4


@pytest.mark.parametrize("tiling", ["fdt", "all"])
@pytest.mark.parametrize("name", sorted(TWINS))
def test_onnx_twin_tiles_like_tflite(name, tiling, tmp_path):
    tflite = tmp_path / f"{name}.tflite"
    tflite.write_bytes(tflite_twin(name))
    onnx = tmp_path / f"{name}.onnx"
    onnx.write_bytes(onnx_twin(name))
    reference = compile(tflite, Options(tiling, overlap=False))
    model = compile_model(onnx, tmp_path / "onnx", name, options=["--tiling", tiling, "--no-overlap"])
    report = model.report
    assert report["paths"], "the search found no path on the ONNX twin"
    assert report["arena_bytes"] <= 1.05 * reference.arena.size, (report["paths"], reference.report["paths"])
    assert report["arena_bytes_predicted"] == report["arena_bytes"]

    session = ort.InferenceSession(str(onnx))
    spec = session.get_inputs()[0]
    rng = np.random.default_rng(0)
    tolerance = PARTIAL_SUMS if any(">" in p for p in report["paths"]) else 1e-5
    for _ in range(5):
        x = rng.uniform(-1, 1, size=spec.shape).astype(np.float32)
        want = session.run(None, {spec.name: x})[0]
        got = model.run([x])[0].reshape(want.shape)
        assert np.max(np.abs(want - got)) <= tolerance * max(float(np.ptp(want)), float(np.max(np.abs(want))))


def _conv_activation_conv(activation, **attributes) -> bytes:
    """Conv 3x3, `activation`, then Conv 1x1."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
        for name, shape in (("w0", (8, 3, 3, 3)), ("b0", (8,)), ("w1", (4, 8, 1, 1)), ("b1", (4,)))
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node(activation, ["c0"], ["h"], **attributes),
        helper.make_node("Conv", ["h", "w1", "b1"], ["y"], kernel_shape=[1, 1]),
    ]
    return _model(nodes, inits, [1, 3, 8, 8], [1, 4, 8, 8])


def _model(nodes, inits, input_shape, output_shape) -> bytes:
    """An opset-17 model of `nodes`, from "x" to "y"."""
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_hard_swish_fused_into_a_conv_joins_paths(tmp_path):
    """HardSwish reads the conv's result twice (x * relu6(x + 3) / 6);
    fdt-merge-read-twice makes its ops one elementwise op, so the kernel
    joins paths like any conv, and the conv runs once per tile."""
    path = tmp_path / "hs.onnx"
    path.write_bytes(_conv_activation_conv("HardSwish"))
    with make_context(), ir.Location.unknown():
        module = load(str(path), "hs")
        pipeline.run_passes(module, pipeline.TOSA_TO_LINALG)
        kernels = kernels_of(function_body(module.operation))
        assert [k.name for k in kernels] == ["Conv:0", "Conv:2"]
        assert not kernels[0].reads_twice()
        assert "ffmt h 2 : Conv:0 Conv:2" in [p.notation() for p in discovery.candidates(kernels[0], kernels)]
    model = compile_model(path, tmp_path / "out", "hs", plan=parse_plan("ffmt h 2 : Conv:0 Conv:2"))
    report = model.report
    assert report["arena_bytes_predicted"] == report["arena_bytes"]
    # The 1x1 conv reads no halo, and the 3x3 conv is fused once, not once per reader.
    assert report["macs"] == report["macs_untiled"]
    session = ort.InferenceSession(str(path))
    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
    want = session.run(None, {"x": x})[0]
    got = model.run([x])[0].reshape(want.shape)
    assert np.max(np.abs(want - got)) <= 1e-5 * float(np.ptp(want))


def test_kernel_reading_its_own_value_twice_joins_no_path(tmp_path):
    """A softmax reads its input twice (the max and the exponentials) and its
    exponentials twice (the sum and the division), through reductions:
    discovery offers no path through it, and a plan naming it gets one line
    saying why."""
    path = tmp_path / "softmax.onnx"
    path.write_bytes(_conv_activation_conv("Softmax", axis=1))
    with make_context(), ir.Location.unknown():
        module = load(str(path), "softmax")
        pipeline.run_passes(module, pipeline.TOSA_TO_LINALG)
        kernels = kernels_of(function_body(module.operation))
        assert [k.name for k in kernels] == ["Conv:0", "Softmax:1", "Conv:2"]
        assert kernels[1].reads_twice() and not kernels[0].reads_twice()
        assert discovery.candidates(kernels[1], kernels) == []
    with pytest.raises(FdtError, match="Softmax:1 reads one of its own values twice"):
        compile(path, plan=parse_plan("ffmt h 2 : Conv:0 Softmax:1"))


def _upsample_pad_conv() -> bytes:
    """Conv 1x1, Resize (nearest, x2), Pad, Conv 3x3 (valid), Pad, Sigmoid."""
    rng = np.random.default_rng(2)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 1, 1)).astype(np.float32), "w0"),
        numpy_helper.from_array(rng.standard_normal((2, 4, 3, 3)).astype(np.float32), "w1"),
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"]),
        helper.make_node("Resize", ["c0", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("Pad", ["up", "pads"], ["padded"]),
        helper.make_node("Conv", ["padded", "w1"], ["c1"]),
        helper.make_node("Pad", ["c1", "pads"], ["padded1"]),
        helper.make_node("Sigmoid", ["padded1"], ["y"]),
    ]
    return _model(nodes, inits, [1, 3, 6, 6], [1, 2, 14, 14])


def test_resize_reads_its_input_inside_its_body(tmp_path):
    """A nearest resize reads its input with tensor.extract in its body, not
    as an operand: it is still a kernel reading Conv:0 (not a fill to
    recompute in its consumer), and it joins no path, which could not slice
    that read. A Pad read by a conv is that conv's (it reads the input in
    place); one read elementwise (by the Sigmoid) is a copy of its own, as
    TFLM's PAD is, and joins no path either."""
    path = tmp_path / "up.onnx"
    path.write_bytes(_upsample_pad_conv())
    with make_context(), ir.Location.unknown():
        module = load(str(path), "up")
        pipeline.run_passes(module, pipeline.TOSA_TO_LINALG)
        kernels = kernels_of(function_body(module.operation))
        assert [k.name for k in kernels] == ["Conv:0", "Resize:1", "Conv:3", "Pad:4", "Sigmoid:5"]
        assert kernels[1].inputs() == [kernels[0].root.results[0]]
        paths = [p.notation() for k in kernels for p in discovery.candidates(k, kernels, partitions=(2,))]
        assert not [p for p in paths if "Resize" in p or "Pad" in p]
    with pytest.raises(FdtError, match="Resize:1 reads its input inside its body"):
        compile(path, plan=parse_plan("ffmt h 2 : Resize:1 Conv:3"))
    with pytest.raises(FdtError, match="Pad:4 pads for an elementwise reader"):
        compile(path, plan=parse_plan("ffmt h 2 : Conv:3 Pad:4 Sigmoid:5"))
    model = compile_model(path, tmp_path / "out", "up")
    session = ort.InferenceSession(str(path))
    x = np.random.default_rng(3).uniform(-1, 1, (1, 3, 6, 6)).astype(np.float32)
    want = session.run(None, {"x": x})[0]
    got = model.run([x])[0].reshape(want.shape)
    assert np.max(np.abs(want - got)) <= 1e-5 * float(np.ptp(want))
