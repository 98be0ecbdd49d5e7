"""The library API (`fdt_mlir.api.compile`): the README's example runs as
written, and its typed result agrees with the files it returns."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mlir import ir

from fdt_mlir.api import Options, compile
from fdt_mlir.dialect import make_context
from fdt_mlir.errors import FdtError
from fdt_mlir.examples.tflite_builder import example_model
from fdt_mlir.importers import load
from fdt_mlir.tiling_plan import parse_plan

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "example.tflite"
    path.write_bytes(example_model())
    return path


def test_readme_example_runs(example):
    """The Python block of the README's library section, run as a user runs
    it, beside example.tflite: it prints the arena and each input."""
    text = README.read_text()
    section = text[text.index("### As a library") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    done = subprocess.run([sys.executable, "-c", code], cwd=example.parent, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()[:2]
    # The example model's input is 1x32x32x1 int8 values (examples/tflite_builder.py).
    assert second == "input0 1024 int8_t"
    assert re.fullmatch(r"\d+ \[.*\]", first)


def test_result_agrees_with_its_files(example):
    result = compile(example, Options("fdt"))
    assert sorted(result.files) == ["example.c", "example.h", "example.report.json"]
    report = json.loads(result.files["example.report.json"])
    assert report == result.report
    assert report["arena_bytes"] == result.arena.size
    assert report["paths"] == [p.notation() for p in result.paths]
    assert f"#define example_ARENA_BYTES {result.arena.size}\n" in result.files["example.h"]
    assert [b["name"] for b in report["buffers"]] == [b.name for b in result.arena.buffers]


def test_a_plan_is_applied_without_a_search(example):
    plan = parse_plan("ffmt h 2 : CONV_2D:0 MAX_POOL_2D:1")
    result = compile(example, name="m", plan=plan)
    assert result.paths == plan
    assert result.report["tiling"] == "plan"
    assert "search" in result.report and result.report["search"] == []


def test_a_plan_excludes_a_search(example):
    with pytest.raises(FdtError, match="a plan is given; it excludes tiling all"):
        compile(example, Options("all"), plan=parse_plan("ffmt h 2 : CONV_2D:0 MAX_POOL_2D:1"))


def test_a_name_must_be_a_c_identifier(example):
    with pytest.raises(FdtError, match="name 'my-model' is not a C identifier"):
        compile(example, name="my-model")


def test_a_module_compiles_in_its_own_context(example):
    """A module the caller imported (or built) compiles like a file; the name
    defaults to "model"."""
    with make_context(), ir.Location.unknown():
        module = load(str(example), "ignored")
        result = compile(module)
    assert sorted(result.files) == ["model.c", "model.h", "model.report.json"]
    assert result.report["tiling"] == "none" and result.paths == []
