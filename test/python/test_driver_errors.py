"""Bad input gets one line on stderr, a non-zero exit and no output files."""

import os
import re
import signal
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
    assert_one_line_error(result, "unsupported TFLite operator ATAN2 (operator 0)")
    assert not out.exists()


def test_every_unsupported_operator_in_one_line(tmp_path):
    """Not only the first: ATAN2 twice, then SIN, named with their indices."""
    b = ModelBuilder("several")
    x = b.input([1, 4], np.float32)
    y = b.input([1, 4], np.float32)
    z, w, v = (b.tensor([1, 4], np.float32) for _ in range(3))
    b.op("ATAN2", [x, y], [z])
    b.op("SIN", [z], [w])
    b.op("ATAN2", [w, y], [v])
    b.output(v)
    result, out = compile_c(write(tmp_path, b.finish()), tmp_path)
    assert_one_line_error(result, "unsupported TFLite operators ATAN2 (operators 0, 2); SIN (operator 1)")
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


# Issue 17: the command line's own mistakes, before any work (exit 2).


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "options, fragments",
    [
        (["--emit", "c", "-o", "model.tflite"], ["-o model.tflite", "not a directory"]),
        (["--emit", "c", "-o", "/proc/fdt-out"], ["-o /proc/fdt-out", "cannot write"]),
        (["--emit", "c", "-o", "out", "--plot", "model.tflite"], ["--plot model.tflite", "not a directory"]),
        (["--emit", "c", "-o", "out", "--name", "my-model"], ["--name 'my-model'", "C identifier"]),
        (["--emit", "c", "-o", "out", "--max-mac-overhead", "5"], ["--max-mac-overhead tunes the search"]),
        (["--emit", "c", "-o", "out", "--search-limit", "4"], ["--search-limit tunes the search"]),
        (["--emit", "c", "-o", "out", "--max-partitions", "4"], ["--max-partitions tunes the search"]),
        (["--emit", "c", "-o", "out", "-j", "2"], ["--jobs"]),
        (["--tiling", "all", "-o", "x.mlir"], ["--tiling all", "needs --emit c"]),
        (["--pareto", "-o", "x.mlir"], ["--pareto", "needs --emit c"]),
        (["--report-format", "json", "-o", "x.mlir"], ["--report-format", "needs --emit c"]),
        (["--emit", "iree", "-o", "out", "--code-size"], ["--code-size builds the C", "needs --emit c"]),
        (["--canonicalize", "-o", "."], ["-o .", "is a directory"]),
    ],
)
def test_usage_errors_come_first(tmp_path, options, fragments):
    """One line, exit 2, and the working folder exactly as it was."""
    write(tmp_path, example_model())
    before = _snapshot(tmp_path)
    result = subprocess.run([*TOOL, "model.tflite", *options], capture_output=True, text=True, cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert result.returncode == 2
    assert _snapshot(tmp_path) == before and not (tmp_path / "out").exists()


def test_code_size_without_the_cross_compiler(tmp_path):
    """Asked for, the code size needs arm-none-eabi-gcc: one line naming
    the package, before any work."""
    write(tmp_path, example_model())
    environ = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # python, no cross tools
    command = [*TOOL, "model.tflite", "--emit", "c", "-o", "out", "--code-size"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environ)
    assert_one_line_error(result, "--code-size needs arm-none-eabi-gcc", "gcc-arm-none-eabi")
    assert result.returncode == 2 and not (tmp_path / "out").exists()


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stderr == ""
    assert re.fullmatch(
        r"fdt-opt-mlir \d+\.\d+\.\d+ \(MLIR Python bindings [\d.]+, iree-base-compiler [\d.]+\)\n", result.stdout
    )


def test_ctrl_c_stops_with_one_line_and_no_files(tmp_path):
    """SIGINT in the search (the example's takes seconds): exit 130, one
    line after the progress lines, no traceback, nothing written."""
    model = write(tmp_path, example_model())
    environ = {**os.environ, "FDT_MLIR_CACHE": "", "FDT_MLIR_JOBS": "2"}
    argv = [
        *TOOL,
        str(model),
        "--tiling",
        "all",
        "--emit",
        "c",
        "-o",
        str(tmp_path / "out"),
        "--plot",
        str(tmp_path / "p"),
    ]
    # As a terminal starts it: pytest-xdist's workers ignore SIGINT, and an
    # ignored signal stays ignored across exec.
    process = subprocess.Popen(
        argv,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environ,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    first = process.stderr.readline()  # the search has started
    assert "search (all)" in first, first
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "fdt-opt-mlir: interrupted; nothing written" and "Traceback" not in stderr
    assert stdout == "" and not (tmp_path / "out").exists() and not (tmp_path / "p").exists()
