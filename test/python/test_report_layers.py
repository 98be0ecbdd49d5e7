"""The report's per-layer table and flash figures (issue 17, item 3): on the
example model, each layer's MACs and output bytes against the model's own
tensor shapes read from the flatbuffer, the tiled table against the
untiled one, and the code size against the object's executable sections."""

import json
import math
import subprocess

import pytest
import tflite

from fdt_mlir import api
from fdt_mlir.emit.c import CORTEX_M4_CFLAGS
from fdt_mlir.emit.code_size import code_bytes
from fdt_mlir.examples.tflite_builder import example_model
from fdt_mlir.testing.driver_process import run_driver

OPCODES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def _expected_layers(data: bytes) -> dict:
    """{OPCODE:index: (MACs, output bytes)} from the flatbuffer's shapes:
    a conv's outputs times its window and input channels, a depthwise
    conv's times its window, a dense layer's times its input features."""
    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    found = {}
    for index in range(graph.OperatorsLength()):
        op = graph.Operators(index)
        name = OPCODES[model.OperatorCodes(op.OpcodeIndex()).BuiltinCode()]
        shapes = [tuple(graph.Tensors(t).ShapeAsNumpy()) for t in op.InputsAsNumpy()]
        out = tuple(graph.Tensors(op.OutputsAsNumpy()[0]).ShapeAsNumpy())
        weights = shapes[1] if len(shapes) > 1 else ()
        if name == "CONV_2D":
            window = weights[1] * weights[2] * weights[3]
        elif name == "DEPTHWISE_CONV_2D":
            window = weights[1] * weights[2]
        elif name == "FULLY_CONNECTED":
            window = weights[1]
        else:
            window = 0
        found[f"{name}:{index}"] = (math.prod(out) * window, math.prod(out))
    return found


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("layers") / "example.tflite"
    path.write_bytes(example_model())
    return path


def test_layers_untiled_against_the_model(model):
    report = api.compile(model).report
    expected = _expected_layers(model.read_bytes())
    layers = {layer["kernel"]: layer for layer in report["layers"]}
    assert set(layers) == set(expected) - {"RESHAPE:5"}  # the reshape is no kernel: a view
    for name, (macs, output_bytes) in expected.items():
        if name in layers:
            assert (layers[name]["macs"], layers[name]["output_bytes"]) == (macs, output_bytes), name
            assert layers[name]["path"] is None and layers[name]["live_bytes"] >= output_bytes, name


def test_layers_tiled_name_their_paths(model):
    report = api.compile(model, api.Options("all", jobs=1)).report
    untiled = {layer["kernel"]: layer["macs"] for layer in api.compile(model).report["layers"]}
    in_path = {k: path for path in report["paths"] for k in path.split(":", 1)[1].split() if ":" in k}
    assert sum(layer["macs"] for layer in report["layers"]) == report["macs"]
    for layer in report["layers"]:
        assert layer["path"] == in_path.get(layer["kernel"]), layer
        assert layer["macs"] >= untiled[layer["kernel"]], layer  # a halo only adds
        assert layer["live_bytes"] is None or layer["live_bytes"] <= report["arena_bytes"], layer


def test_text_report_has_the_table(model, tmp_path):
    status, printed = run_driver([str(model), "--emit", "c", "-o", str(tmp_path / "out")])
    assert status == 0, printed
    lines = printed.splitlines()
    start = lines.index("  layers, as they run:")
    assert lines[start + 1].split() == ["kernel", "MACs", "output", "B", "live", "B", "path"]
    assert [line.split()[0] for line in lines[start + 2 :]][:2] == ["CONV_2D:0", "MAX_POOL_2D:1"]
    assert any(line.startswith("  compiled in ") and line.endswith(" s") for line in lines)
    written = json.loads((tmp_path / "out" / "example.report.json").read_text())
    assert "compile_seconds" not in written and "code_bytes" not in written  # the file is the same everywhere
    assert not any("+ code" in line for line in lines)  # only with --code-size


def test_code_bytes_are_the_objects_executable_sections(model, tmp_path, arm_toolchain):
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    files = api.compile(model).files
    for name in ("example.c", "example.h"):
        (tmp_path / name).write_text(files[name])
    obj = tmp_path / "example.o"
    command = ["arm-none-eabi-gcc", *CORTEX_M4_CFLAGS, "-c", str(tmp_path / "example.c"), "-o", str(obj)]
    subprocess.run(command, check=True)
    with open(obj, "rb") as f:
        elf = ELFFile(f)
        executable = sum(s["sh_size"] for s in elf.iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_EXECINSTR)
    assert code_bytes(files, "example") == executable > 0
    command = [str(model), "--emit", "c", "-o", str(tmp_path / "out"), "--code-size", "--report-format", "json"]
    status, printed = run_driver(command)
    assert status == 0, printed
    report = json.loads(printed[printed.index("{") :])
    assert (report["code_bytes"], report["code_target"]) == (executable, "Cortex-M4, arm-none-eabi-gcc -O2")
