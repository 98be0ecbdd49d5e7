"""Real architectures exported by PyTorch (`tools/export-torch-models`,
`fdt_mlir.testing.torch_models`): torchvision's MobileNetV2 (width 0.35)
and MobileNetV3-small at 96x96, a ResNet-8 and a DS-CNN keyword spotter of
MLPerf Tiny, and an MLP, with seeded random weights; each as exported
(float) and quantized by onnxruntime's `quantize_static` (QDQ, int8).

Untiled and with `--tiling all`: the float C within 1e-5 of onnxruntime's
output range, the QDQ C equal to onnxruntime's int8 kernels in every output
element of 20 inputs, and the QDQ arena at most a third of the float one;
untiled, the shadow-checked C (--shadow-check) runs an input too.
"""

import numpy as np
import onnxruntime as ort
import pytest
from tiling_support import assert_shadow_checked, compile_model

from fdt_mlir.testing.qdq import QuantizedIO, quantize, reference
from fdt_mlir.testing.torch_models import NAMES, torch_model


def _float_error(path, model) -> float:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(20):
        x = rng.uniform(-1, 1, spec.shape).astype(np.float32)
        want = session.run(None, {spec.name: x})[0]
        got = model.run([x])[0].reshape(want.shape)
        worst = max(worst, float(np.max(np.abs(want - got))) / max(float(np.ptp(want)), 1e-30))
    return worst


def _mismatches(path, model, data) -> int:
    io, session = QuantizedIO.of(data), reference(path)
    rng = np.random.default_rng(0)
    differ = 0
    for _ in range(20):
        q = io.random_input(rng)
        want = io.quantize_output(session.run(None, {io.input_name: io.dequantize_input(q)})[0])
        differ += int(np.count_nonzero(io.from_c(model.run([io.to_c(q)])[0]).reshape(want.shape) != want))
    return differ


def _compile_and_check(name, kind, tiling, tmp_path, *options):
    data = torch_model(name) if kind == "float" else quantize(torch_model(name))
    path = tmp_path / f"{name}_{kind}.onnx"
    path.write_bytes(data)
    model = compile_model(path, tmp_path / kind, name, options=["--tiling", tiling, *options])
    if "--shadow-check" in options:
        io = QuantizedIO.of(data)
        assert_shadow_checked(tmp_path / kind, name, [[io.to_c(io.random_input(np.random.default_rng(0)))]])
    if kind == "float":
        assert _float_error(path, model) <= 1e-5
    else:
        assert _mismatches(path, model, data) == 0
    return model.report


@pytest.mark.parametrize("name", NAMES)
def test_exported_network_untiled(name, tmp_path):
    arenas = {
        kind: _compile_and_check(name, kind, "none", tmp_path, "--shadow-check")["arena_bytes"]
        for kind in ("float", "qdq")
    }
    assert 3 * arenas["qdq"] <= arenas["float"], arenas


# The arenas `--tiling all --no-overlap` reaches, in bytes (README).
TILED_ARENAS = {
    ("mobilenet_v2_035", "float"): 196800,
    ("mobilenet_v2_035", "qdq"): 49200,
    ("mobilenet_v3_small", "float"): 202752,
    ("mobilenet_v3_small", "qdq"): 50688,
    ("resnet8", "float"): 136256,
    ("resnet8", "qdq"): 34064,
    ("ds_cnn", "float"): 54440,
    ("ds_cnn", "qdq"): 13610,
    ("mlp", "float"): 2984,
    ("mlp", "qdq"): 746,
}


@pytest.mark.parametrize("kind", ["float", "qdq"])
@pytest.mark.parametrize("name", NAMES)
def test_exported_network_tiled(name, kind, tmp_path):
    report = _compile_and_check(name, kind, "all", tmp_path, "--no-overlap")
    assert report["arena_bytes_predicted"] == report["arena_bytes"]
    assert report["arena_bytes"] <= report["arena_bytes_untiled"]
    assert report["arena_bytes"] == TILED_ARENAS[name, kind]
