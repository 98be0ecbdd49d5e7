"""The shadow check of the arena (`--shadow-check`, `fdt-shadow-arena`):
the planned programs pass it, untiled and tiled, and a wrong plan fails it
with the names of the buffers that clash.

Every arena byte carries the name of the buffer whose value it holds; each
load, store and microkernel call of the C checks or retags the bytes it
touches (`fdt_mlir/passes/shadow_arena.py`).
"""

import re

import numpy as np
import pytest
from test_models import SHARED, model_inputs

from fdt_mlir import api
from fdt_mlir.emit.files import write_files
from fdt_mlir.testing.cmodel import CModel, ShadowError
from fdt_mlir.testing.random_networks import random_network
from fdt_mlir.testing.shadow import misplacing_hook
from fdt_mlir.testing.tflm import random_inputs
from fdt_mlir.tiling_plan import parse_plan

# One plan per model (the search's where it finds one, --tiling all), so
# that the tiled C is checked without the search's time.
PLANS = {
    "aww": "ffmt h 25 : CONV_2D:0 DEPTHWISE_CONV_2D:1 CONV_2D:2 DEPTHWISE_CONV_2D:3 CONV_2D:4"
    " DEPTHWISE_CONV_2D:5 CONV_2D:6 DEPTHWISE_CONV_2D:7 CONV_2D:8",
    "magic_wand": "ffmt h 12 : DEPTHWISE_CONV_2D:0 MAX_POOL_2D:1\n"
    "fdt c 16 : CONV_2D:2 < MAX_POOL_2D:3 = FULLY_CONNECTED:4 >",
    "micro_speech": "fdt c 4 : DEPTHWISE_CONV_2D:1 < FULLY_CONNECTED:2 >",
    "resnet": "ffmt hw 5x5 : CONV_2D:1 CONV_2D:2 ADD:3",
    "text_class": "fdt c 4 : GATHER:1 < MEAN:2 = FULLY_CONNECTED:3 >",
    "toycar": "fdt c 4 : FULLY_CONNECTED:1 < FULLY_CONNECTED:2 >",
    "vww": "fdt c 4 : CONV_2D:0 < DEPTHWISE_CONV_2D:1 = CONV_2D:2 >",
}


def compile_checked(path, outdir, name, options=None, plan=(), **kwargs) -> CModel:
    """M.shadow.c of the model, built (at -O0)."""
    result = api.compile(path, options, name=name, plan=plan, shadow_check=True, **kwargs)
    write_files(outdir, result.files)
    model = CModel(outdir, name, shadow=True)
    assert model.shadow_checked
    return model


def _run_checked(model: CModel, inputs):
    for x in inputs:
        model.run(x)


@pytest.mark.parametrize("tiled", [False, True], ids=["untiled", "tiled"])
@pytest.mark.parametrize("name", SHARED)
def test_shared_model_passes_shadow_check(name, tiled, shared_models, tmp_path):
    path = shared_models / f"{name}.tflite"
    plan = parse_plan(PLANS[name]) if tiled else None
    model = compile_checked(path, tmp_path, name, plan=plan or ())
    if tiled:
        assert model.report["paths"] == [p.notation() for p in plan]
    _run_checked(model, model_inputs(path, 2))


@pytest.mark.parametrize("seed,dtype", [(3, np.int8), (17, np.int8), (45, np.float32)])
@pytest.mark.parametrize("tiling", ["none", "all"])
def test_random_network_passes_shadow_check(seed, dtype, tiling, tmp_path):
    data = random_network(seed, dtype)
    path = tmp_path / f"net{seed}.tflite"
    path.write_bytes(data)
    model = compile_checked(path, tmp_path, f"net{seed}", api.Options(tiling))
    _run_checked(model, random_inputs(data, 2, seed=seed))


def test_misplaced_buffer_is_caught(shared_models, tmp_path):
    """buf1 (MAX_POOL_2D:1's output) moved onto buf0 (its input): the pool
    starts its first output (its -inf) over the input it has yet to read. The check
    names both buffers, the reader and the arena byte."""
    path = shared_models / "magic_wand.tflite"
    clashes = []
    model = compile_checked(path, tmp_path, "magic_wand", print_after_all=misplacing_hook(clashes))
    assert clashes == [("buf0", "buf1")]
    with pytest.raises(ShadowError) as error:
        model.run(model_inputs(path, 1)[0])
    assert str(error.value) == (
        "shadow check: MAX_POOL_2D:1: load: reading buf0[0] (arena byte 0) expects buf0's value, finds buf1's"
    )


# buf0 is 128 x 3 x 8 floats (rows of 96 B); MAX_POOL_2D:1 (3 rows, stride
# 3) reads rows 0-125 only. buf1 moved into buf0's last bytes: from byte
# 12092 on it overwrites buf0[3023], the last element the pool reads; from
# 12096 on, rows 126-127, which nothing reads: a safe overlap.
@pytest.mark.parametrize(
    "shift,error",
    [
        (12000, "reading buf0[3000] (arena byte 12000) expects buf0's value, finds buf1's"),
        (12092, "reading buf0[3023] (arena byte 12092) expects buf0's value, finds buf1's"),
        (12096, None),
    ],
)
def test_partial_overlap_is_checked_to_the_byte(shift, error, shared_models, tmp_path):
    path = shared_models / "magic_wand.tflite"
    model = compile_checked(path, tmp_path, "magic_wand", print_after_all=misplacing_hook([], shift))
    inputs = model_inputs(path, 1)[0]
    if error is None:
        model.run(inputs)
    else:
        with pytest.raises(ShadowError, match=re.escape(f"MAX_POOL_2D:1: load: {error}")):
            model.run(inputs)


def test_default_c_is_unchanged(shared_models):
    path = shared_models / "magic_wand.tflite"
    plain = api.compile(path).files
    checked = api.compile(path, shadow_check=True).files
    assert checked.pop("magic_wand.shadow.c").count("magic_wand_shadow_access(") > 10
    assert checked == plain
    assert "shadow" not in plain["magic_wand.c"]
