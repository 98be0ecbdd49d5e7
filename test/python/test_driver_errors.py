"""Bad input gets one line on stderr, a non-zero exit and no output files."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fdt_mlir.examples.tflite_builder import ModelBuilder, example_model

ROOT = Path(__file__).resolve().parents[2]
TOOL = [sys.executable, str(ROOT / "tools" / "fdt-opt-mlir")]


def run(*args):
    return subprocess.run([*TOOL, *map(str, args)], capture_output=True, text=True)


def assert_one_line_error(result, *fragments):
    assert result.returncode in (1, 2), result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fdt-opt-mlir: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def compile_c(model, tmp_path):
    out = tmp_path / "out"
    return run(model, "--tiling", "none", "--emit", "c", "-o", out), out


def write(tmp_path, data: bytes, name="model.tflite") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.95])
def test_truncated_tflite(tmp_path, fraction):
    data = example_model()
    result, out = compile_c(write(tmp_path, data[: int(len(data) * fraction)]), tmp_path)
    assert_one_line_error(result, "model.tflite")
    assert not out.exists()


def test_corrupt_tflite(tmp_path):
    data = bytearray(example_model())
    rng = np.random.default_rng(7)
    positions = rng.choice(np.arange(8, len(data)), size=len(data) // 10, replace=False)
    for p in positions:
        data[p] = int(rng.integers(0, 256))
    result, out = compile_c(write(tmp_path, bytes(data)), tmp_path)
    assert_one_line_error(result)
    assert not out.exists()


def test_not_a_tflite_file(tmp_path):
    result, out = compile_c(write(tmp_path, b"hello, world\n" * 10), tmp_path)
    assert_one_line_error(result, "not a TFLite flatbuffer")
    assert not out.exists()


def test_unsupported_operator(tmp_path):
    b = ModelBuilder("atan2")
    x = b.input([1, 4], np.float32)
    y = b.input([1, 4], np.float32)
    z = b.tensor([1, 4], np.float32)
    b.op("ATAN2", [x, y], [z])
    b.output(z)
    result, out = compile_c(write(tmp_path, b.finish()), tmp_path)
    assert_one_line_error(result, "unsupported TFLite operator ATAN2")
    assert not out.exists()


def test_dynamic_shape(tmp_path):
    b = ModelBuilder("dynamic")
    x = b.input([1, -1], np.float32)
    y = b.tensor([1, -1], np.float32)
    b.op("RELU", [x], [y])
    b.output(y)
    result, out = compile_c(write(tmp_path, b.finish()), tmp_path)
    assert_one_line_error(result, "dynamic shape")
    assert not out.exists()


def test_missing_file(tmp_path):
    result, out = compile_c(tmp_path / "nope.tflite", tmp_path)
    assert_one_line_error(result, "nope.tflite")
    assert not out.exists()


def test_unknown_input_format(tmp_path):
    result, out = compile_c(write(tmp_path, b"x", "model.bin"), tmp_path)
    assert_one_line_error(result, "unknown input format")
    assert not out.exists()


def test_unknown_option(tmp_path):
    result = run(write(tmp_path, example_model()), "--no-such-option")
    assert_one_line_error(result, "--no-such-option")
    assert result.returncode == 2


def test_bad_option_value(tmp_path):
    result = run(write(tmp_path, example_model()), "--emit", "pdf", "-o", tmp_path / "out")
    assert_one_line_error(result, "--emit")
    assert not (tmp_path / "out").exists()


def test_bad_jobs(tmp_path):
    model = write(tmp_path, example_model())
    result = run(model, "--tiling", "all", "--emit", "c", "-o", tmp_path / "out", "-j", "0")
    assert_one_line_error(result, "--jobs", "'0'")
    environ = {**os.environ, "FDT_MLIR_JOBS": "two"}
    result = subprocess.run(
        [*TOOL, str(model), "--tiling", "all", "--emit", "c", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=environ,
    )
    assert_one_line_error(result, "$FDT_MLIR_JOBS", "'two'")
    assert not (tmp_path / "out").exists()


def test_emit_c_needs_an_output_directory(tmp_path):
    result = run(write(tmp_path, example_model()), "--emit", "c")
    assert_one_line_error(result, "-o")


def test_unparsable_mlir(tmp_path):
    result = run(write(tmp_path, b"func.func @f( {", "bad.mlir"), "--canonicalize", "-o", tmp_path / "out.mlir")
    assert_one_line_error(result, "bad.mlir")
    assert not (tmp_path / "out.mlir").exists()


def test_no_partial_outputs_left_on_failure(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run(write(tmp_path, example_model()[:100]), "--emit", "c", "-o", out)
    assert result.returncode == 1
    assert os.listdir(out) == []


def test_plan_naming_no_kernel(tmp_path):
    plan = write(tmp_path, b"fdt c 2 : CONV_2D:0 < CONV_2D:9 <\n", "bad.plan")
    result = run(write(tmp_path, example_model()), "--fdt-plan", plan, "--emit", "c", "-o", tmp_path / "out")
    assert_one_line_error(result, "no kernel named 'CONV_2D:9'")
    assert not (tmp_path / "out").exists()
