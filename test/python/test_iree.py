"""IREE interop: `--emit iree` writes the tiled model as linalg on tensors
that iree-compile accepts.

Each model is emitted tiled (`--tiling all` or an explicit plan) and untiled
(`--tiling none`), both are compiled by iree-compile for the CPU (llvm-cpu,
target CPU `generic`, so the code is the same on every machine) and run by
iree-run-module on seeded random inputs through .npy files. The tiled
outputs must equal the untiled ones and the independent reference's
(tflite-micro, onnxruntime): int8 bit-exact, float32 within the tolerance of
the C tests. IREE's Python packages cannot share a process with the `mlir`
package (../shared/docs/toolchain-notes.md): every tool runs as a child.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from test_models import SHARED, model_inputs
from tiling_support import assert_same_outputs

from fdt_mlir.examples.tflite_builder import ModelBuilder
from fdt_mlir.testing import onnx_models
from fdt_mlir.testing.driver_process import run_driver
from fdt_mlir.testing.qdq import QuantizedIO, reference
from fdt_mlir.testing.target_models import partial_sum_model
from fdt_mlir.testing.tflm import run_tflm

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # iree-base-compiler and iree-base-runtime install their tools here
IREE_COMPILE = BIN / "iree-compile"
IREE_RUN = BIN / "iree-run-module"
TARGET = [
    "--iree-hal-target-device=local",
    "--iree-hal-local-target-device-backends=llvm-cpu",
    "--iree-llvmcpu-target-cpu=generic",
]
SAMPLES = 5
UPSTREAM = {"builtin", "func", "arith", "affine", "linalg", "tensor", "scf", "math"}


class IreeCompileError(AssertionError):
    """iree-compile rejected an emitted module."""


class IreeModel:
    """A model emitted with `--emit iree` and compiled by iree-compile."""

    def __init__(self, model_path, outdir, name, *options):
        outdir = Path(outdir)
        args = [str(model_path), "--emit", "iree", "-o", str(outdir), "--name", name, *options]
        status, printed = run_driver(args)
        assert status == 0, f"fdt-opt-mlir {' '.join(options)}: {printed.strip()[-500:]}"
        self.name = name
        self.outdir = outdir
        self.mlir = outdir / f"{name}.mlir"
        self.text = self.mlir.read_text()
        self.report = json.loads((outdir / f"{name}.report.json").read_text())
        self.vmfb = outdir / f"{name}.vmfb"
        result = subprocess.run(
            [str(IREE_COMPILE), *TARGET, str(self.mlir), "-o", str(self.vmfb)], capture_output=True, text=True
        )
        self.error = None if result.returncode == 0 else result.stderr.strip()

    def run(self, inputs, outputs: int) -> list[np.ndarray]:
        if self.error is not None:
            raise IreeCompileError(f"iree-compile {self.mlir.name}: {self.error[:1500]}")
        args = [str(IREE_RUN), f"--module={self.vmfb}", "--device=local-task", f"--function={self.name}"]
        for i, array in enumerate(inputs):
            np.save(self.outdir / f"in{i}.npy", np.ascontiguousarray(array))
            args.append(f"--input=@{self.outdir / f'in{i}.npy'}")
        args += [f"--output=@{self.outdir / f'out{i}.npy'}" for i in range(outputs)]
        result = subprocess.run(args, capture_output=True, text=True)
        assert result.returncode == 0, f"iree-run-module {self.vmfb.name}: {result.stderr.strip()[-1500:]}"
        return [np.load(self.outdir / f"out{i}.npy") for i in range(outputs)]


def assert_structure(tiled: IreeModel, untiled: IreeModel):
    """Generic op form of upstream dialects only, and static shapes: each
    tiled path unrolled into one slice per tile, no loop left."""
    ops = {name for name in _op_names(tiled.text)} | {name for name in _op_names(untiled.text)}
    assert {op.split(".")[0] for op in ops} <= UPSTREAM, sorted(ops)
    assert untiled.report["paths"] == []
    for model in (tiled, untiled):
        assert '"scf.for"' not in model.text and '"scf.if"' not in model.text
        assert not re.search(r"tensor<([0-9]+x)*\?", model.text), "dynamically shaped tensor"
    # At least one slice per tile (a '>' path accumulates whole: it slices
    # its inputs, inserting nothing).
    tiles = sum(_partitions(p) for p in tiled.report["paths"])
    assert tiled.text.count('"tensor.extract_slice"') >= tiles, (tiled.report["paths"], tiles)


def _partitions(path: str) -> int:
    """The number of tiles of a path: 'ffmt hw 5x5 : ...' has 25."""
    count = 1
    for n in path.split()[2].split("x"):
        count *= int(n)
    return count


def _op_names(text):
    return set(re.findall(r'^\s*(?:%[\w#:, %]+ = )?"([a-z_]+\.[a-z_.]+)"', text, re.MULTILINE))


def assert_matches(reference, tiled: IreeModel, untiled: IreeModel, inputs):
    """For each set of inputs: untiled == reference, tiled == untiled and
    tiled == reference (int8 bit-exact, float32 within 1e-5 of the scale)."""
    for arrays in inputs:
        want = reference(arrays)
        plain = untiled.run(arrays, len(want))
        assert_same_outputs(want, plain)
        out = tiled.run(arrays, len(want))
        assert_same_outputs(plain, out)
        assert_same_outputs(want, out)


@pytest.fixture(scope="module", params=SHARED)
def shared(request, shared_models, tmp_path_factory):
    """A reference model emitted tiled (the search's plan) and untiled."""
    name = request.param
    path = shared_models / f"{name}.tflite"
    tiled = IreeModel(path, tmp_path_factory.mktemp(f"{name}-all"), name, "--tiling", "all")
    untiled = IreeModel(path, tmp_path_factory.mktemp(f"{name}-none"), name, "--tiling", "none")
    return path, tiled, untiled


def test_shared_model_structure(shared):
    _, tiled, untiled = shared
    assert_structure(tiled, untiled)


def test_shared_model_untiled_matches_tflm(shared):
    path, _, untiled = shared
    for arrays in model_inputs(path, SAMPLES):
        want = run_tflm(str(path), arrays)
        assert_same_outputs(want, untiled.run(arrays, len(want)))


def test_shared_model_tiled_matches(shared):
    path, tiled, untiled = shared
    assert_matches(lambda arrays: run_tflm(str(path), arrays), tiled, untiled, model_inputs(path, SAMPLES))


def _chain_model() -> bytes:
    spec = importlib.util.spec_from_file_location("make_chain", ROOT / "test" / "driver" / "Inputs" / "make_chain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build()


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """test/driver's int8 pointwise-depthwise-pointwise block, untiled."""
    out = tmp_path_factory.mktemp("chain")
    path = out / "chain.tflite"
    path.write_bytes(_chain_model())
    return path, IreeModel(path, out / "none", "chain", "--tiling", "none")


@pytest.mark.parametrize(
    "plan",
    [
        # FDT with every role: the last conv ('>') accumulates the slices' partial sums.
        pytest.param("fdt c 4 : CONV_2D:0 < DEPTHWISE_CONV_2D:1 = CONV_2D:2 >", id="fdt-c-4"),
        # FFMT on a 2 x 2 grid of 4 x 4 tiles, halos clipped at the borders (tiled pads).
        pytest.param("ffmt hw 2x2 : CONV_2D:0 DEPTHWISE_CONV_2D:1 CONV_2D:2", id="ffmt-hw-2x2"),
        # Uneven partitions, dynamic shapes in the loop: 3 slices of 16
        # channels (6, 6, 4) and 3 tiles of 8 rows (3, 3, 2).
        pytest.param("fdt c 3 : CONV_2D:0 < DEPTHWISE_CONV_2D:1 = CONV_2D:2 >", id="fdt-c-3"),
        pytest.param("ffmt h 3 : CONV_2D:0 DEPTHWISE_CONV_2D:1 CONV_2D:2", id="ffmt-h-3"),
    ],
)
def test_explicit_plan(chain, plan, tmp_path):
    path, untiled = chain
    (tmp_path / "chain.plan").write_text(plan + "\n")
    tiled = IreeModel(path, tmp_path / "out", "chain", "--fdt-plan", str(tmp_path / "chain.plan"))
    assert tiled.report["tiling"] == "plan" and tiled.report["paths"] == [plan]
    assert_structure(tiled, untiled)
    inputs = [[np.random.default_rng(seed).integers(-128, 128, (1, 8, 8, 2), dtype=np.int8)] for seed in range(SAMPLES)]
    assert_matches(lambda arrays: run_tflm(str(path), arrays), tiled, untiled, inputs)


def _padded_model() -> bytes:
    """float32: PAD 3 rows above and below a 1x4x4x2 input, then two 1x1 convs."""
    rng = np.random.default_rng(1)
    b = ModelBuilder("padded")
    x = b.input([1, 4, 4, 2], np.float32)
    padded = b.tensor([1, 10, 4, 2], np.float32)
    b.op("PAD", [x, b.const(np.array([[0, 0], [3, 3], [0, 0], [0, 0]], np.int32))], [padded])
    y = b.tensor([1, 10, 4, 8], np.float32)
    w, bias = rng.normal(0, 0.3, (8, 1, 1, 2)), rng.normal(0, 0.1, 8)
    b.op("CONV_2D", [padded, b.const(w.astype(np.float32)), b.const(bias.astype(np.float32))], [y], padding="VALID")
    z = b.tensor([1, 10, 4, 2], np.float32)
    w, bias = rng.normal(0, 0.3, (2, 1, 1, 8)), rng.normal(0, 0.1, 2)
    b.op("CONV_2D", [y, b.const(w.astype(np.float32)), b.const(bias.astype(np.float32))], [z], padding="VALID")
    b.output(z)
    return b.finish()


def test_tiles_wholly_in_padding(tmp_path):
    """Rows tiled by 2 behind a pad of 3: the first tile reads no input row,
    the case the pad's tiling guards with an scf.if (which IREE cannot take,
    dropped by fdt-drop-pad-guards)."""
    path = tmp_path / "padded.tflite"
    path.write_bytes(_padded_model())
    (tmp_path / "rows.plan").write_text("ffmt h 5 : CONV_2D:1 CONV_2D:2\n")
    tiled = IreeModel(path, tmp_path / "plan", "padded", "--fdt-plan", str(tmp_path / "rows.plan"))
    untiled = IreeModel(path, tmp_path / "none", "padded", "--tiling", "none")
    assert_structure(tiled, untiled)
    # The pad is tiled, one per tile that meets the padding; the first tile's
    # pads an empty slice of the input (without a guard, in assert_structure).
    assert tiled.text.count('"tensor.pad"') > 1
    assert re.search(r"\(tensor<1x0x4x2xf32>[^)]*\) -> tensor<1x2x4x2xf32>", tiled.text)
    rng = np.random.default_rng(0)
    inputs = [[rng.uniform(-1, 1, (1, 4, 4, 2)).astype(np.float32)] for _ in range(SAMPLES)]
    assert_matches(lambda arrays: run_tflm(str(path), arrays), tiled, untiled, inputs)


def test_partial_sums(tmp_path):
    """A '~' path: each unrolled partition's partial sum goes through the
    mean and the dense layer, and the partitions' results are added."""
    path = tmp_path / "partial.tflite"
    path.write_bytes(partial_sum_model())
    plan = "fdt c 3 : CONV_2D:0 < CONV_2D:1 > MEAN:2 ~ FULLY_CONNECTED:3 ~"
    (tmp_path / "partial.plan").write_text(plan + "\n")
    tiled = IreeModel(path, tmp_path / "plan", "partial", "--fdt-plan", str(tmp_path / "partial.plan"))
    untiled = IreeModel(path, tmp_path / "none", "partial", "--tiling", "none")
    assert tiled.report["paths"] == [plan]
    assert_structure(tiled, untiled)
    rng = np.random.default_rng(0)
    for _ in range(SAMPLES):
        x = [rng.uniform(-1, 1, (1, 8, 8, 8)).astype(np.float32)]
        want = run_tflm(str(path), x)
        assert_same_outputs(want, untiled.run(x, 1))
        # The partial sums add up in another order: float rounding.
        assert_same_outputs(want, tiled.run(x, 1), tolerance=1e-4)


def test_onnx_model(tmp_path):
    """The float ONNX CNN (NCHW) against onnxruntime, tiled by the search
    and untiled: the modules IREE gets from an ONNX import."""
    path = tmp_path / "cnn.onnx"
    path.write_bytes(onnx_models.small_cnn_float())
    tiled = IreeModel(path, tmp_path / "all", "cnn", "--tiling", "all")
    untiled = IreeModel(path, tmp_path / "none", "cnn", "--tiling", "none")
    assert tiled.report["paths"] and tiled.report["arena_bytes"] < untiled.report["arena_bytes"]
    assert_structure(tiled, untiled)
    session = ort.InferenceSession(str(path))
    spec = session.get_inputs()[0]
    rng = np.random.default_rng(0)
    inputs = [[rng.uniform(-1, 1, size=spec.shape).astype(np.float32)] for _ in range(SAMPLES)]
    assert_matches(lambda arrays: session.run(None, {spec.name: arrays[0]}), tiled, untiled, inputs)


def test_qdq_onnx_model(tmp_path):
    """The QDQ CNN as integer inference (int8 in and out), tiled and untiled,
    against onnxruntime's int8 kernels, bit for bit."""
    data = onnx_models.small_cnn_qdq()
    path = tmp_path / "cnn_qdq.onnx"
    path.write_bytes(data)
    tiled = IreeModel(path, tmp_path / "all", "cnn_qdq", "--tiling", "all")
    untiled = IreeModel(path, tmp_path / "none", "cnn_qdq", "--tiling", "none")
    assert tiled.report["paths"] and tiled.report["arena_bytes"] < untiled.report["arena_bytes"]
    assert_structure(tiled, untiled)
    io, session = QuantizedIO.of(data), reference(path)
    rng = np.random.default_rng(0)
    inputs = [[io.to_c(io.random_input(rng))] for _ in range(SAMPLES)]

    def int8_reference(arrays):
        y = session.run(None, {io.input_name: io.dequantize_input(arrays[0])})[0]
        return [io.quantize_output(y).astype(np.int8)]

    assert_matches(int8_reference, tiled, untiled, inputs)
