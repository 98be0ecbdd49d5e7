"""The C as firmware uses it (issue 17): the header's tensor macros against
TFLM's view of the model, the README's firmware example built and run
against TFLM, an arena the application supplies (`M_invoke_with`,
`-DM_EXTERNAL_ARENA`), the arena placed by `M_ARENA_ATTRIBUTES`, and a
Cortex-M4 cross-compile."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime

from fdt_mlir import api
from fdt_mlir.emit.c import CFLAGS
from fdt_mlir.examples.tflite_builder import example_model
from fdt_mlir.testing.tflm import run_tflm

README = Path(__file__).resolve().parents[2] / "README.md"
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example model, and its C as `build/example` holds it."""
    root = tmp_path_factory.mktemp("firmware")
    model = root / "example.tflite"
    model.write_bytes(example_model())
    result = api.compile(model)
    outdir = root / "example"
    outdir.mkdir()
    for name, text in result.files.items():
        (outdir / name).write_text(text)
    return model, outdir


def _build_and_run(outdir: Path, main: str, *flags: str) -> str:
    (outdir / "main.c").write_text(main)
    binary = outdir / "main"
    command = ["gcc", *CFLAGS, *flags, "-I", str(outdir), str(outdir / "main.c"), str(outdir / "example.c")]
    subprocess.run([*command, "-lm", "-o", str(binary)], check=True, capture_output=True, text=True)
    return subprocess.run([str(binary)], check=True, capture_output=True, text=True).stdout


def _readme_main() -> str:
    text = README.read_text()
    match = re.search(r"<!-- firmware-example:[^\n]*-->\n```c\n(.*?)```", text, re.S)
    assert match, "the README's firmware example is missing"
    return match.group(1)


def _tflm_details(model: Path):
    interpreter = runtime.Interpreter.from_file(str(model))
    return [("INPUT0", interpreter.get_input_details(0)), ("OUTPUT0", interpreter.get_output_details(0))]


def test_header_macros_state_each_tensor(example):
    """Shape, element count, scale and zero point as C sees the macros,
    against TFLM's details of the same tensors; the report says the same."""
    model, outdir = example
    details = _tflm_details(model)
    prints = []
    for name, _ in details:
        m = f"example_{name}"
        prints.append(
            f'  {{ int shape[] = {m}_SHAPE; printf("%d %d", {m}_RANK, {m}_ELEMENTS);'
            f' for (int i = 0; i < {m}_RANK; i++) printf(" %d", shape[i]);'
            f' printf(" %.9g %d\\n", (double){m}_SCALE, {m}_ZERO_POINT); }}'
        )
    main = '#include <stdio.h>\n#include "example.h"\nint main(void) {\n' + "\n".join(prints) + "\n  return 0;\n}\n"
    lines = _build_and_run(outdir, main).splitlines()
    report = json.loads((outdir / "example.report.json").read_text())
    for line, (name, d), entry in zip(lines, details, report["inputs"] + report["outputs"], strict=True):
        rank, elements, *rest = line.split()
        shape, scale, zero_point = [int(x) for x in rest[:-2]], float(rest[-2]), int(rest[-1])
        q = d["quantization_parameters"]
        assert shape == list(d["shape"]) and int(rank) == len(shape) and int(elements) == np.prod(shape), name
        assert np.float32(scale) == q["scales"][0] and zero_point == q["zero_points"][0], name
        assert entry["shape"] == shape and entry["elements"] == int(elements), name
        assert np.float32(entry["scale"]) == q["scales"][0] and entry["zero_point"] == zero_point, name


def _input(model: Path) -> np.ndarray:
    """The README example's input: its readings quantized as its C does
    (float32 division, rounding half to even, clamping)."""
    details = _tflm_details(model)[0][1]
    scale = details["quantization_parameters"]["scales"][0]
    zero_point = int(details["quantization_parameters"]["zero_points"][0])
    i = np.arange(int(np.prod(details["shape"])))
    real = (i % 32).astype(np.float32) / np.float32(32.0) - np.float32(0.5)
    q = np.rint(real / np.float32(scale)).astype(np.int64) + zero_point
    return np.clip(q, -128, 127).astype(np.int8).reshape(details["shape"])


def test_readme_firmware_example_runs(example):
    model, outdir = example
    printed = _build_and_run(outdir, _readme_main())
    got = [int(line.split()[0]) for line in printed.splitlines()]
    (expected,) = run_tflm(str(model), [_input(model)])
    assert got == expected.reshape(-1).tolist()


def test_invoke_with_an_arena_of_its_own(example):
    """-DM_EXTERNAL_ARENA leaves the static arena out; M_invoke_with runs on
    the application's arena, inputs and outputs at their offsets."""
    model, outdir = example
    main = """#include <stdio.h>
#include <string.h>
#include "example.h"
static _Alignas(example_ARENA_ALIGNMENT) uint8_t mine[example_ARENA_BYTES];
int main(void) {
  FILE *f = fopen("input.bin", "rb");
  if (!f || fread(mine + example_INPUT0_OFFSET, 1, example_INPUT0_BYTES, f) != example_INPUT0_BYTES) return 1;
  fclose(f);
  example_invoke_with(mine);
  const int8_t *output = (const int8_t *)(mine + example_OUTPUT0_OFFSET);
  for (int k = 0; k < example_OUTPUT0_ELEMENTS; k++) printf("%d\\n", output[k]);
  return 0;
}
"""
    x = _input(model)
    cwd = os.getcwd()
    os.chdir(outdir)
    try:
        x.tofile("input.bin")
        printed = _build_and_run(outdir, main, "-Dexample_EXTERNAL_ARENA")
    finally:
        os.chdir(cwd)
    (expected,) = run_tflm(str(model), [x])
    assert [int(v) for v in printed.split()] == expected.reshape(-1).tolist()
    symbols = subprocess.run(["nm", str(outdir / "main")], check=True, capture_output=True, text=True).stdout
    assert "example_arena" not in symbols and "example_invoke_with" in symbols


def test_arena_attributes_place_the_arena(example):
    _, outdir = example
    obj = outdir / "placed.o"
    attribute = '-Dexample_ARENA_ATTRIBUTES=__attribute__((section(".fdt_sram2")))'
    subprocess.run(
        ["gcc", *CFLAGS, attribute, "-c", str(outdir / "example.c"), "-o", str(obj)],
        check=True,
        capture_output=True,
        text=True,
    )
    sections = subprocess.run(["objdump", "-h", str(obj)], check=True, capture_output=True, text=True).stdout
    arena = re.search(r"\.fdt_sram2\s+([0-9a-f]+)", sections)
    header = (outdir / "example.h").read_text()
    size = int(re.search(r"#define example_ARENA_BYTES (\d+)", header).group(1))
    assert arena and int(arena.group(1), 16) == size, sections


def test_firmware_example_cross_compiles_for_cortex_m4(example):
    compiler = shutil.which("arm-none-eabi-gcc")
    if compiler is None:
        assert os.environ.get("CI") != "true", "CI installs arm-none-eabi-gcc (.ci/run)"
        pytest.skip("arm-none-eabi-gcc is not installed")
    _, outdir = example
    (outdir / "main.c").write_text(_readme_main())
    for source in ("main.c", "example.c"):
        subprocess.run(
            [compiler, *CFLAGS, *M4, "-I", str(outdir), "-c", str(outdir / source), "-o", str(outdir / f"{source}.o")],
            check=True,
            capture_output=True,
            text=True,
        )
        assert (outdir / f"{source}.o").stat().st_size > 0
