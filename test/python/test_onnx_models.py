"""ONNX models end to end: generated C against onnxruntime, and the
shadow-checked C (--shadow-check) on one input."""

import numpy as np
import onnxruntime as ort
import pytest
from tiling_support import assert_shadow_checked

from fdt_mlir.cli.fdt_opt_mlir import main as fdt_opt_mlir
from fdt_mlir.testing import onnx_models
from fdt_mlir.testing.cmodel import CModel
from fdt_mlir.testing.qdq import QuantizedIO, reference

MODELS = {"cnn_f32": onnx_models.small_cnn_float, "cnn_qdq": onnx_models.small_cnn_qdq}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_model_matches_onnxruntime(name, tmp_path):
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(MODELS[name]())
    out = tmp_path / "out"
    assert fdt_opt_mlir([str(path), "--tiling", "none", "--emit", "c", "-o", str(out), "--shadow-check"]) == 0
    model = CModel(out, name)
    io = QuantizedIO.of(path.read_bytes())
    assert_shadow_checked(out, name, [[io.to_c(io.random_input(np.random.default_rng(1)))]])
    rng = np.random.default_rng(0)
    if name.endswith("qdq"):  # int8 in and out, exactly onnxruntime's int8 kernels
        io, session = QuantizedIO.of(path.read_bytes()), reference(path)
        for _ in range(20):
            q = io.random_input(rng)
            want = io.quantize_output(session.run(None, {io.input_name: io.dequantize_input(q)})[0])
            assert np.array_equal(io.from_c(model.run([io.to_c(q)])[0]).reshape(want.shape), want)
        return
    session = ort.InferenceSession(str(path))
    spec = session.get_inputs()[0]
    for _ in range(20):
        x = rng.uniform(-1, 1, size=spec.shape).astype(np.float32)
        want = session.run(None, {spec.name: x})[0]
        got = model.run([x])[0].reshape(want.shape)
        assert np.max(np.abs(want - got)) <= 1e-5 * max(float(np.ptp(want)), 1e-30)
