"""ONNX models tiled like their TFLite twins: FDT and FFMT on NCHW feature
maps, with axes read from the indexing maps (analysis.tensor_axes).

Each network of `twin_models` is built as TFLite (NHWC) and as ONNX (NCHW)
with the same shapes. Searched with `--tiling fdt` and `all`, the ONNX
arena must be within 5 % of the TFLite one, predicted to the byte, and its
tiled C must match onnxruntime."""

import numpy as np
import onnxruntime as ort
import pytest
from tiling_support import compile_model

from fdt_mlir.api import Options, compile
from fdt_mlir.testing.twin_models import TWINS, onnx_twin, tflite_twin

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
    reference = compile(tflite, Options(tiling))
    model = compile_model(onnx, tmp_path / "onnx", name, options=["--tiling", tiling])
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
