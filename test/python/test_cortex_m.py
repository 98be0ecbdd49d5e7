"""The Cortex-M4 benchmark's emulator path: the cycle model on hand-decoded
blocks, and one model cross-compiled and run, its outputs equal to the host
build's and to TFLM's."""

import importlib.util
import json

import numpy as np
import pytest

from fdt_mlir.evaluation.cortex_m4_cycles import Decoder
from fdt_mlir.evaluation.cortex_m_bench import bench_ours, main
from fdt_mlir.testing.random_networks import random_network
from fdt_mlir.testing.tflm import random_inputs, run_tflm


def test_block_prices_follow_the_documented_model():
    # push {r4, lr}: 1 + 2 registers; ldr r0, [r0]: 2 (nothing before it to
    # pipeline behind); ldr r1, [r1, #4]: 1 (r0 does not feed its address);
    # pop {r4, pc}: 1 + 2, and it branches (the taken-branch refill is added
    # by the emulator, which sees where execution goes).
    block = Decoder().block(bytes.fromhex("10b50068496810bd"), 0x1000)
    assert (block.instructions, block.cycles, block.ends_in_branch, block.fallthrough) == (4, 9, True, 0x1008)
    # load, store, mac, dual_mac, branch, other
    assert block.mix == (3, 1, 0, 0, 0, 0)


def test_a_load_whose_address_needs_the_previous_load_is_not_pipelined():
    # ldr r0, [r0]; ldr r1, [r0]: the second waits for r0, 2 + 2 cycles;
    # ldr r0, [r1]; ldr r2, [r3]: independent, 2 + 1.
    assert Decoder().block(bytes.fromhex("00680168"), 0).cycles == 4
    assert Decoder().block(bytes.fromhex("08681a68"), 0).cycles == 3


def test_micro_speech_runs_on_the_emulated_m4(arm_toolchain, shared_models, tmp_path):
    """Outputs equal the host build's (bench_ours checks) and TFLM's; every
    operator that runs code is counted as a layer of its own."""
    model = shared_models / "micro_speech.tflite"
    (array,) = random_inputs(model, 1, seed=3)[0]
    measured, _ = bench_ours(model, "none", tmp_path, [array.tobytes()])
    (expected,) = run_tflm(model, [array])
    assert measured.run.outputs == [expected.astype(np.int8).tobytes()]
    # RESHAPE:0 runs no code; DEPTHWISE_CONV_2D:1, FULLY_CONNECTED:2, SOFTMAX:3 do.
    assert [k for k in measured.run.layers if k >= 0] == [1, 2, 3]
    assert measured.run.model.instructions > measured.macs  # at least one instruction per MAC
    assert 0 < measured.run.stack < 1024


def test_fdt_bench_m4_against_cmsis_nn(arm_toolchain, shared_models, cmsis_nn_source, tmp_path, capsys):
    """The benchmark command on micro_speech, both programs on the emulated
    M4: it stops with an error if CMSIS-NN's outputs differ from ours, so a
    0 exit means they are equal; both count the same three layers."""
    model = str(shared_models / "micro_speech.tflite")
    args = [model, "--mode", "none", "--cmsis-nn", str(cmsis_nn_source), "-o", str(tmp_path)]
    assert main(args) == 0
    (result,) = json.loads((tmp_path / "cortex_m4.json").read_text())
    ours, theirs = result["ours"], result["cmsis_nn"]
    assert [layer["name"] for layer in ours["layers"]] == ["DEPTHWISE_CONV_2D:1", "FULLY_CONNECTED:2", "SOFTMAX:3"]
    # RESHAPE:0 is marked in CMSIS-NN's program too, and runs no kernel.
    assert [layer["index"] for layer in theirs["layers"]] == [0, 1, 2, 3]
    # 25 x 20 x 8 outputs of an 10x8 depthwise window, and a 4000 -> 4 dense layer.
    assert ours["macs"] == theirs["macs"] == 25 * 20 * 8 * 10 * 8 + 4000 * 4
    assert "| micro_speech | none |" in capsys.readouterr().out
    assert "# fdt-mlir on an emulated Cortex-M4" in (tmp_path / "CORTEX_M4.md").read_text()


def test_without_the_emulator_it_says_so_in_one_line(monkeypatch, capsys):
    """fdt-bench-m4 needs the cortex-m extra: without it, one line and exit
    status 1, before any work."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "unicorn" else find_spec(name, *a)
    )
    assert main(["--no-cmsis-nn"]) == 1
    assert (
        capsys.readouterr().err == "fdt-bench-m4: error: the emulator needs unicorn: pip install 'fdt-mlir[cortex-m]'\n"
    )


RANDOM_SEEDS = range(1000, 1012)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_networks_run_exactly_on_the_emulated_m4(seed, arm_toolchain, tmp_path):
    """The microkernels' DSP paths on shapes the five models lack (odd
    channel counts, strides, border windows, tiled paths): a random int8
    network, untiled and with `--tiling all`, built for the Cortex-M4, gives
    TFLM's outputs (bench_ours also checks them against the host build's)."""
    model = tmp_path / "net.tflite"
    model.write_bytes(random_network(seed, np.int8))
    arrays = random_inputs(model, 1, seed=seed)[0]
    expected = [o.tobytes() for o in run_tflm(model, arrays)]
    for mode in ("none", "all"):
        measured, _ = bench_ours(model, mode, tmp_path / mode, [a.tobytes() for a in arrays])
        assert measured.run.outputs == expected, mode
