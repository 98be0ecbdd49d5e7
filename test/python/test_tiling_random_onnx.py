"""Fused tiling on 200 seeded random float32 ONNX networks (NCHW), and on
the same 200 quantized by onnxruntime's `quantize_static` (QDQ, int8), against
onnxruntime: for each, one random valid path that discovery finds around
a random kernel (FDT or FFMT, 2 to 5 partitions) is applied; the tiled C
must match onnxruntime (the QDQ ones exactly), and the cost model must
predict its arena to the byte; the shadow-checked C (--shadow-check) runs
the first input set too. The model is imported once and compiled from
copies."""

import numpy as np
import onnxruntime as ort
import pytest
from mlir import ir
from tiling_support import assert_shadow_checked

from fdt_mlir import pipeline
from fdt_mlir.analysis.kernels import function_body, kernels_of
from fdt_mlir.api import compile
from fdt_mlir.dialect import make_context
from fdt_mlir.importers import load
from fdt_mlir.search import discovery
from fdt_mlir.testing.cmodel import CModel
from fdt_mlir.testing.qdq import QuantizedIO, quantize, reference
from fdt_mlir.testing.random_onnx import describe_onnx, integer_only, random_onnx

SEEDS = range(200)


def _plan(bytecode: bytes, rng) -> list:
    """A random path of a random family, or none when discovery finds none."""
    module = ir.Module.parse(bytecode)
    pipeline.run_passes(module, pipeline.TOSA_TO_LINALG)
    kernels = kernels_of(function_body(module.operation))
    family = ("fdt", "ffmt")[rng.integers(2)]
    for families in ((family,), ("fdt", "ffmt")):
        paths = [p for k in kernels for p in discovery.candidates(k, kernels, families, partitions=(2, 3, 4, 5))]
        if paths:
            return [paths[rng.integers(len(paths))]]
    return []


def _compile_with_random_plan(path, seed, tmp_path):
    """(the compiled C, the report, the plan) for one random path of `path`."""
    rng = np.random.default_rng(seed)
    with make_context(), ir.Location.unknown():
        bytecode = pipeline.bytecode(load(str(path), "net"))
        plan = _plan(bytecode, rng)
        result = compile(ir.Module.parse(bytecode), plan=plan, name="net", shadow_check=True)
    for name, text in result.files.items():
        (tmp_path / name).write_text(text)
    if plan:
        assert result.report["arena_bytes_predicted"] == result.report["arena_bytes"], plan[0].notation()
    return CModel(tmp_path, "net"), result.report, plan


@pytest.mark.parametrize("seed", SEEDS)
def test_random_onnx_plan_is_exact(seed, tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(random_onnx(seed))
    model, report, plan = _compile_with_random_plan(path, seed, tmp_path)
    where = f"seed {seed} {describe_onnx(seed)} plan {[p.notation() for p in plan]}"
    session = ort.InferenceSession(str(path))
    spec = session.get_inputs()[0]
    rng = np.random.default_rng(seed)
    # A '>' path adds its partitions' partial sums in another order.
    tolerance = 1e-4 if plan and ">" in plan[0].roles else 1e-5
    for n in range(3):
        x = rng.uniform(-1, 1, size=spec.shape).astype(np.float32)
        if n == 0:
            assert_shadow_checked(tmp_path, "net", [[x]])
        want = session.run(None, {spec.name: x})[0]
        got = model.run([x])[0].reshape(want.shape)
        scale = max(float(np.ptp(want)), float(np.max(np.abs(want))), 1e-30)
        assert np.max(np.abs(want - got)) <= tolerance * scale, where


@pytest.mark.parametrize("seed", SEEDS)
def test_random_qdq_plan_is_exact(seed, tmp_path):
    """The same quantized output as onnxruntime's int8 kernels, to the last
    bit; and int8 tensors only between kernels when every layer has an
    integer (or per-element) form."""
    data = quantize(random_onnx(seed), seed=seed)
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    model, report, plan = _compile_with_random_plan(path, seed, tmp_path)
    where = f"seed {seed} {describe_onnx(seed)} plan {[p.notation() for p in plan]}"
    io = QuantizedIO.of(data)
    if integer_only(seed) and io.input_scale is not None:  # (a max pool first: the quantizer leaves it float)
        inner = [b for b in report["buffers"] if not b["name"].startswith(("input", "output"))]
        assert [b["name"] for b in inner if b["c_type"] == "float"] == [], where
    session = reference(path)
    rng = np.random.default_rng(seed)
    for n in range(3):
        q = io.random_input(rng)
        if n == 0:
            assert_shadow_checked(tmp_path, "net", [[io.to_c(q)]])
        want = io.quantize_output(session.run(None, {io.input_name: io.dequantize_input(q)})[0])
        got = io.from_c(model.run([io.to_c(q)])[0]).reshape(want.shape)
        if io.output_scale is None:  # the quantizer left the last op float (a HardSwish): float32 rounding
            scale = max(float(np.ptp(want)), float(np.max(np.abs(want))), 1e-30)
            assert np.max(np.abs(want - got)) <= 1e-5 * scale, where
        else:
            assert np.count_nonzero(got != want) == 0, where


def test_random_qdq_networks_are_mostly_integer():
    """The int8-only check above runs on a good share of the seeds."""
    assert sum(integer_only(seed) for seed in SEEDS) >= 40


def test_random_networks_cover_the_operators():
    """The seeds exercise every operator the generator draws from."""
    ops = {name.split(":")[0] for seed in SEEDS for name in describe_onnx(seed)}
    assert ops >= {
        "Conv",
        "MaxPool",
        "AveragePool",
        "GlobalAveragePool",
        "Flatten",
        "Gemm",
        "Add",
        "Mul",
        "BatchNormalization",
        "Relu",
        "Clip",
        "LeakyRelu",
        "Sigmoid",
        "HardSwish",
        "Tanh",
        "HardSigmoid",
        "PRelu",
        "Sub",
        "Div",
        "MatMul",
        "Pad",
        "Concat",
        "Gather",
        "Unsqueeze",
        "Squeeze",
        "Resize",
        "Transpose",
        "Reshape",
        "ReduceMean",
        "Softmax",
        "ConvTranspose",
    }
