"""The CMSIS-NN baseline of the Cortex-M benchmark is exact against TFLM.

`evaluation.cmsis_nn` writes a C program running a model's layers through
CMSIS-NN's kernels. Built for this machine with CMSIS-NN's portable C
kernels, its outputs must equal the tflite-micro interpreter's byte for byte,
or the benchmark would compare against a different computation.
"""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from fdt_mlir.emit.c import CFLAGS
from fdt_mlir.errors import FdtError
from fdt_mlir.evaluation.cmsis_nn import cmsis_nn_program
from fdt_mlir.examples.tflite_builder import ModelBuilder, example_model
from fdt_mlir.testing.tflm import random_inputs, run_tflm

MODELS = ["micro_speech", "aww", "toycar", "vww", "resnet"]


@pytest.fixture(scope="module")
def cmsis_nn_library(cmsis_nn_source, tmp_path_factory) -> tuple[Path, Path]:
    """CMSIS-NN's integer kernels as a host static library, built once, and
    the folder of its headers."""
    outdir = tmp_path_factory.mktemp("cmsis-nn")
    sources = [p for p in sorted(cmsis_nn_source.glob("Source/*/*.c")) if "_f16" not in p.name and "_f32" not in p.name]

    def compile_one(source):
        obj = outdir / f"{source.stem}.o"
        flags = ["-O2", "-std=c11", "-I", str(cmsis_nn_source / "Include")]
        subprocess.run(["gcc", *flags, "-c", str(source), "-o", str(obj)], check=True, capture_output=True)
        return str(obj)

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        objects = list(pool.map(compile_one, sources))
    library = outdir / "libcmsisnn.a"
    subprocess.run(["ar", "rcs", str(library), *objects], check=True, capture_output=True)
    return library, cmsis_nn_source / "Include"


def run_program(model_path, inputs, cmsis_nn, workdir):
    """Builds the model's CMSIS-NN program (warnings are errors) with a main
    that writes the outputs to stdout and each fdt_layer mark to stderr;
    returns the outputs and the marks."""
    program = cmsis_nn_program(str(model_path), [x.tobytes() for x in inputs])
    (workdir / "model.c").write_text(program.source)
    outputs = range(len(program.outputs))
    (workdir / "main.c").write_text(
        "#include <stdint.h>\n#include <stdio.h>\n"
        "extern int fdt_failed_layer;\n"
        + "".join(f"extern int8_t fdt_output{k}[];\n" for k in outputs)
        + "void fdt_model_invoke(void);\n"
        'void fdt_layer(int k) { fprintf(stderr, "%d\\n", k); }\n'
        "int main(void) {\n  fdt_model_invoke();\n"
        + "".join(f"  fwrite(fdt_output{k}, 1, {n}, stdout);\n" for k, n in enumerate(program.outputs))
        + "  return fdt_failed_layer + 1;\n}\n"
    )
    binary = workdir / "model"
    library, include = cmsis_nn
    command = ["gcc", *CFLAGS, "-I", str(include), "-o", str(binary)]
    subprocess.run([*command, str(workdir / "model.c"), str(workdir / "main.c"), str(library)], check=True)
    done = subprocess.run([str(binary)], capture_output=True)
    assert done.returncode == 0, f"operator {done.returncode - 1} failed"
    marks = [int(k) for k in done.stderr.split()]
    assert marks == [k for k, _ in program.layers] + [-1]
    offsets = np.cumsum([0, *program.outputs])
    return [done.stdout[a:b] for a, b in zip(offsets, offsets[1:])]


def assert_matches_tflm(path, library, tmp_path, count=2):
    for i, inputs in enumerate(random_inputs(str(path), count, seed=12)):
        workdir = tmp_path / str(i)
        workdir.mkdir()
        expected = [x.tobytes() for x in run_tflm(str(path), inputs)]
        assert run_program(path, inputs, library, workdir) == expected


@pytest.mark.parametrize("name", MODELS)
def test_shared_model_matches_tflm(name, shared_models, cmsis_nn_library, tmp_path):
    assert_matches_tflm(shared_models / f"{name}.tflite", cmsis_nn_library, tmp_path)


def test_example_matches_tflm(cmsis_nn_library, tmp_path):
    """MAX_POOL_2D, SAME-padded depthwise and a per-channel dense layer,
    which the shared models lack."""
    path = tmp_path / "example.tflite"
    path.write_bytes(example_model())
    assert_matches_tflm(path, cmsis_nn_library, tmp_path)


def test_layers_and_macs_follow_the_operators(shared_models):
    path = shared_models / "micro_speech.tflite"
    program = cmsis_nn_program(str(path), [bytes(1960)])
    assert program.layers == [(0, "RESHAPE:0"), (1, "DEPTHWISE_CONV_2D:1"), (2, "FULLY_CONNECTED:2"), (3, "SOFTMAX:3")]
    assert program.macs == [0, 25 * 20 * 8 * 10 * 8, 4 * 4000, 0]
    assert program.outputs == [4]


def test_unsupported_operator_is_named(tmp_path):
    b = ModelBuilder("mul")
    x = b.input([1, 4], np.int8, scale=0.5, zero_point=0)
    y = b.tensor([1, 4], np.int8, scale=0.5, zero_point=0)
    b.op("MUL", [x, x], [y])
    b.output(y)
    path = tmp_path / "mul.tflite"
    path.write_bytes(b.finish())
    with pytest.raises(FdtError, match="unsupported TFLite operator MUL"):
        cmsis_nn_program(str(path), [bytes(4)])
