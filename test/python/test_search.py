"""The automatic flow: `--tiling fdt|ffmt|all` on every reference model.

Each mode's C is compared with the tflite-micro interpreter on 20 random
inputs; FDT must add no MACs, `all` must never be worse than `none`, and
the cost model's predicted arena must be the lowered one to the byte.
"""

import pytest
from test_models import SHARED, assert_matches_tflm, model_inputs
from tiling_support import assert_same_outputs, compile_model

from fdt_mlir.testing.cmodel import CModel
from fdt_mlir.testing.target_models import cnn_model, mlp_model, partial_sum_model
from fdt_mlir.testing.tflm import run_tflm


def compile_with(model_path, outdir, name, *options) -> CModel:
    return compile_model(model_path, outdir, name, options=options)


@pytest.fixture(scope="module", params=SHARED)
def untiled(request, shared_models, tmp_path_factory):
    path = shared_models / f"{request.param}.tflite"
    return path, compile_with(path, tmp_path_factory.mktemp("none"), request.param, "--tiling", "none")


@pytest.mark.parametrize("mode", ["fdt", "ffmt", "all"])
def test_mode_is_exact_and_never_worse(untiled, mode, tmp_path):
    path, none = untiled
    model = compile_with(path, tmp_path / mode, path.stem, "--tiling", mode)
    report = model.report
    assert_matches_tflm(path, model)
    assert report["arena_bytes"] <= none.report["arena_bytes"]
    assert report["arena_bytes_predicted"] == report["arena_bytes"]
    assert report["arena_bytes_untiled"] == none.report["arena_bytes"]
    assert report["macs_untiled"] == none.report["macs"]
    if mode == "fdt":
        assert report["macs"] <= report["macs_untiled"]
        assert all(p.startswith("fdt ") for p in report["paths"])
    if mode == "ffmt":
        assert all(p.startswith("ffmt ") for p in report["paths"])
    # Every applied path was the winner of its iteration.
    chosen = [it["chosen"] for it in report["search"] if it["chosen"]]
    assert chosen == report["paths"]


def test_search_removes_the_mlp_hidden_layer(tmp_path):
    path = tmp_path / "mlp.tflite"
    path.write_bytes(mlp_model())
    model = compile_with(path, tmp_path / "out", "mlp", "--tiling", "fdt")
    report = model.report
    assert report["paths"][0].startswith("fdt c ")
    assert report["paths"][0].endswith(": FULLY_CONNECTED:0 < FULLY_CONNECTED:1 >")
    # At most 11 % of the untiled arena, as with the hand-written plan.
    assert report["arena_bytes"] * 100 <= 11 * report["arena_bytes_untiled"]
    assert report["arena_bytes_predicted"] == report["arena_bytes"]


def test_search_runs_the_mean_on_partial_sums(tmp_path):
    path = tmp_path / "partial.tflite"
    path.write_bytes(partial_sum_model())
    model = compile_with(path, tmp_path / "out", "partial", "--tiling", "fdt")
    report = model.report
    assert report["paths"] == ["fdt c 25 : CONV_2D:0 < CONV_2D:1 > MEAN:2 ~"]
    # 3 channels per partition: the input (2048 B), the first conv's slice
    # (8x8x3 floats), the mean's accumulator (64 floats); per output channel
    # of the mean, the second conv's partial sum over H and W (8x8 floats)
    # and its sum over H (8 floats).
    assert report["arena_bytes"] == 2048 + 8 * 8 * 3 * 4 + 64 * 4 + 8 * 8 * 4 + 8 * 4
    assert report["macs"] == report["macs_untiled"]
    for inputs in model_inputs(path, 5):
        # The partial sums add up in another order: float rounding.
        assert_same_outputs(run_tflm(str(path), inputs), model.run(inputs), tolerance=1e-4)


def test_no_recomputation_budget_and_partition_limit(tmp_path):
    path = tmp_path / "cnn.tflite"
    path.write_bytes(cnn_model())
    free = compile_with(path, tmp_path / "free", "cnn", "--tiling", "all")
    bounded = compile_with(path, tmp_path / "bounded", "cnn", "--tiling", "all", "--max-mac-overhead", "0")
    few = compile_with(path, tmp_path / "few", "cnn", "--tiling", "all", "--max-partitions", "3")
    assert free.report["macs"] > free.report["macs_untiled"]  # FFMT wins here, recomputing halos
    assert bounded.report["macs"] <= bounded.report["macs_untiled"]
    assert free.report["arena_bytes"] < bounded.report["arena_bytes"] <= bounded.report["arena_bytes_untiled"]
    for point in (p for it in bounded.report["search"] for p in it["design_points"]):
        if point["macs"] > bounded.report["macs_untiled"]:
            assert point["verdict"] == "over the MAC budget"
    for notation in few.report["paths"]:
        parts = notation.split(" : ")[0].split()[2]
        assert all(int(n) <= 3 for n in parts.split("x")), notation


def test_same_input_gives_identical_output(tmp_path):
    path = tmp_path / "cnn.tflite"
    path.write_bytes(cnn_model())
    for i in range(2):
        compile_with(path, tmp_path / f"run{i}", "cnn", "--tiling", "all")
    for name in ("cnn.c", "cnn.h", "cnn.report.json"):
        first, second = ((tmp_path / f"run{i}" / name).read_bytes() for i in range(2))
        assert first == second, name
