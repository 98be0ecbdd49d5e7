"""End to end, untiled: C that matches TFLM and an arena within TFLM's head.

Every reference value comes from the tflite-micro interpreter, never from
this project's own earlier output.
"""

import subprocess

import numpy as np
import pytest
from tiling_support import assert_same_outputs

from fdt_mlir.cli.fdt_opt_mlir import main as fdt_opt_mlir
from fdt_mlir.evaluation.tflm_head import tflm_head_bytes
from fdt_mlir.examples.tflite_builder import example_model, float_example_model
from fdt_mlir.testing.cmodel import CFLAGS, CModel
from fdt_mlir.testing.tflm import random_inputs, run_tflm

SHARED = ["aww", "magic_wand", "micro_speech", "resnet", "text_class", "toycar", "vww"]


def model_inputs(path, count):
    """Random inputs; text_class takes token ids (as float32) in [0, 10000)."""
    if path.stem == "text_class":
        rng = np.random.default_rng(0)
        return [[rng.integers(0, 10000, size=(1, 256)).astype(np.float32)] for _ in range(count)]
    return random_inputs(str(path), count, seed=0)


def compile_model(path, outdir, name):
    assert fdt_opt_mlir([str(path), "--tiling", "none", "--emit", "c", "-o", str(outdir), "--name", name]) == 0
    return CModel(outdir, name)


def assert_matches_tflm(path, model: CModel, count=20):
    for inputs in model_inputs(path, count):
        assert_same_outputs(run_tflm(str(path), inputs), model.run(inputs))


@pytest.fixture(scope="module", params=SHARED)
def shared(request, shared_models, tmp_path_factory):
    path = shared_models / f"{request.param}.tflite"
    return path, compile_model(path, tmp_path_factory.mktemp(request.param), request.param)


def test_shared_model_matches_tflm(shared):
    assert_matches_tflm(*shared)


def test_shared_model_arena_within_tflm_head(shared):
    path, model = shared
    assert model.report["arena_bytes"] <= tflm_head_bytes(str(path))


def test_generated_c_has_no_warnings(shared, tmp_path):
    path, model = shared
    name = model.report["model"]
    source = next(p for p in model.lib_path.parent.glob(f"{name}.c"))
    result = subprocess.run(
        ["gcc", *CFLAGS, "-c", "-o", str(tmp_path / "m.o"), str(source)], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


@pytest.mark.parametrize("make", [example_model, float_example_model])
def test_example_matches_tflm(make, tmp_path):
    path = tmp_path / f"{make.__name__}.tflite"
    path.write_bytes(make())
    model = compile_model(path, tmp_path / "out", make.__name__)
    assert_matches_tflm(path, model)
    assert model.report["arena_bytes"] <= tflm_head_bytes(str(path))


def test_report_describes_the_plan(shared):
    _, model = shared
    r = model.report
    assert r["tiling"] == "none"
    assert r["input_bytes"] == sum(b["bytes"] for b in r["buffers"] if b["name"].startswith("input"))
    for b in r["buffers"]:
        assert b["offset"] % 16 == 0 and b["offset"] + b["bytes"] <= r["arena_bytes"]
    # Buffers live together share bytes only as a listed overlap says, the
    # output over the input, and the list gives the bytes they share.
    listed = {(p["output"], p["input"]): p["shared_bytes"] for p in r["overlaps"]}
    for i, a in enumerate(r["buffers"]):
        for b in r["buffers"][i + 1 :]:
            if a["first_op"] <= b["last_op"] and b["first_op"] <= a["last_op"]:
                shared = min(a["offset"] + a["bytes"], b["offset"] + b["bytes"]) - max(a["offset"], b["offset"])
                pair = listed.get((a["name"], b["name"]), listed.get((b["name"], a["name"]), 0))
                assert max(shared, 0) == pair, (a["name"], b["name"])
