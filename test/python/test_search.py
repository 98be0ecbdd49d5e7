"""The automatic flow: `--tiling fdt|ffmt|all` on every reference model.

Each mode's C is compared with the tflite-micro interpreter on 20 random
inputs; FDT must add no MACs, `all` must never be worse than `none`, and
the cost model's predicted arena must be the lowered one to the byte.
"""

import json

import numpy as np
import pytest
from test_models import SHARED, assert_matches_tflm, model_inputs
from tiling_support import assert_same_outputs, compile_model

from fdt_mlir.examples.tflite_builder import ModelBuilder, example_model
from fdt_mlir.search import signature_cache
from fdt_mlir.search.path_search import UNDONE
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
    model = compile_with(path, tmp_path / "out", "partial", "--tiling", "fdt", "--no-overlap")
    report = model.report
    assert report["paths"] == ["fdt c 25 : CONV_2D:0 < CONV_2D:1 > MEAN:2 ~"]
    # 3 channels per partition: the input (2048 B), the first conv's slice
    # (8x8x3 floats), the mean's accumulator (64 floats); per output channel
    # of the mean, the second conv's partial sum over H and W (8x8 floats),
    # which the mean sums in one reduction (its sum in a register).
    assert report["arena_bytes"] == 2048 + 8 * 8 * 3 * 4 + 64 * 4 + 8 * 8 * 4
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


def test_workers_give_identical_output(tmp_path, monkeypatch):
    """Candidates lowered by two worker processes (-j 2) give the same plan,
    search report and C as lowered one by one: no unit comes from the cache."""
    monkeypatch.delenv(signature_cache.ENVIRONMENT)
    path = tmp_path / "example.tflite"
    path.write_bytes(example_model())
    for jobs in (1, 2):
        compile_with(path, tmp_path / f"j{jobs}", "example", "--tiling", "all", "-j", str(jobs))
    report = (tmp_path / "j1" / "example.report.json").read_text()
    assert sum(len(it["design_points"]) for it in json.loads(report)["search"]) > 2
    for name in ("example.c", "example.h", "example.report.json"):
        assert (tmp_path / "j1" / name).read_bytes() == (tmp_path / "j2" / name).read_bytes(), name


# The partial sums of a '>' path add up in another order: float rounding.
PARTIAL_SUMS = 1e-4


def _compile_searched(tmp_path, name, model: bytes) -> CModel:
    """`--tiling all`, checked against TFLM and against its own prediction."""
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(model)
    # Without overlaps: the tests reason about whole buffers.
    compiled = compile_with(path, tmp_path / "out", name, "--tiling", "all", "--no-overlap")
    assert compiled.report["arena_bytes_predicted"] == compiled.report["arena_bytes"]
    for inputs in model_inputs(path, 5):
        assert_same_outputs(run_tflm(str(path), inputs), compiled.run(inputs), tolerance=PARTIAL_SUMS)
    return compiled


def _weights(rng, *shape):
    return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)


def _dense(b, rng, x, units, depth, activation="NONE"):
    y = b.tensor([1, units], np.float32)
    bias = (0.1 * rng.standard_normal(units)).astype(np.float32)
    b.op("FULLY_CONNECTED", [x, b.const(_weights(rng, units, depth)), b.const(bias)], [y], activation=activation)
    return y


def _conv1x1(b, rng, x, shape, channels, activation="NONE"):
    y = b.tensor([*shape[:3], channels], np.float32)
    w, bias = _weights(rng, channels, 1, 1, shape[3]), (0.1 * rng.standard_normal(channels)).astype(np.float32)
    b.op("CONV_2D", [x, b.const(w), b.const(bias)], [y], activation=activation)
    return y


def _mean_hw(b, x, channels):
    y = b.tensor([1, 1, 1, channels], np.float32)
    b.op("MEAN", [x, b.const(np.array([1, 2], np.int32))], [y], keep_dims=True)
    return y


def squeeze_excitation_model(seed=0) -> bytes:
    """A float32 squeeze-excitation block: a 1x1 conv (1 -> 16 channels,
    RELU) makes a 16x4x16 feature map F; its mean over H and W goes through
    1x1 convs 16 -> 120 (RELU) -> 16, and the gate they make scales F (MUL),
    whose mean over H and W is the output. F is read twice, by both means."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder("se")
    x = b.input([1, 16, 4, 1], np.float32)
    features = _conv1x1(b, rng, x, [1, 16, 4, 1], 16, "RELU")
    hidden = _conv1x1(b, rng, _mean_hw(b, features, 16), [1, 1, 1, 16], 120, "RELU")
    gate = _conv1x1(b, rng, hidden, [1, 1, 1, 120], 16)
    scaled = b.tensor([1, 16, 4, 16], np.float32)
    b.op("MUL", [features, gate], [scaled])
    b.output(_mean_hw(b, scaled, 16))
    return b.finish()


def test_search_tries_smaller_buffers_beside_one_it_cannot_shrink(tmp_path):
    report = _compile_searched(tmp_path, "se", squeeze_excitation_model()).report
    f = 16 * 4 * 16 * 4  # the feature map F, 4096 B: read twice, no path removes it
    # Untiled, the MUL's step holds F, the gate and the MUL's output.
    assert report["arena_bytes_untiled"] == f + 64 + f
    # The MUL runs inside the output mean's loop, per channel slice. The
    # peak is then the hidden conv's step: F, its input or its output (16
    # floats each) and its own 120 floats, 480 B, under 1/8 of F: so
    # every partition count gives that arena, and the fewest wins.
    assert report["search"][1]["arena_before"] == f + 64 + 480
    # Tiled on the hidden layer's 120 channels 4 ways (30 channels, 120 B,
    # 128 aligned) with the mean as input and the gate as accumulator, the
    # hidden conv's step needs f + 64 + 128 + 64 = 4352 B: as much as the
    # first conv's step, its 16x4-float input beside F, so more partitions
    # gain nothing; 3 ways would need 160 B, 4384 B.
    assert report["paths"] == ["fdt c 2 : MUL:4 = MEAN:5 =", "fdt c 4 : CONV_2D:2 < CONV_2D:3 >"]
    assert report["arena_bytes"] == f + 16 * 4 * 4
    assert report["macs"] == report["macs_untiled"]


def twin_peaks_model(second_read_twice=False, seed=0) -> bytes:
    """A float32 MLP with two equal peaks, separated by a small layer:
    16 -> 1024 (RELU) -> 16 -> 16 (RELU) -> 1024 (RELU) -> 16. With
    `second_read_twice` the input has 32 features and the second 1024-wide
    layer is also read by another 16-unit output: then no path removes it,
    and both peaks are 32 floats above 1024."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder("twin")
    width = 32 if second_read_twice else 16
    x = b.input([1, width], np.float32)
    middle = _dense(b, rng, _dense(b, rng, x, 1024, width, "RELU"), 16, 1024)
    second = _dense(b, rng, _dense(b, rng, middle, 16, 16, "RELU"), 1024, 16, "RELU")
    b.output(_dense(b, rng, second, 16, 1024))
    if second_read_twice:
        b.output(_dense(b, rng, second, 16, 1024))
    return b.finish()


def test_search_removes_two_equal_peaks_one_after_the_other(tmp_path):
    report = _compile_searched(tmp_path, "twin", twin_peaks_model()).report
    # Untiled, each hidden layer (4096 B) is live with 16 floats beside it.
    assert report["arena_bytes_untiled"] == 4096 + 64
    # Removing one peak keeps the arena (the other is as high), so the first
    # path only lowers the number of places where it is reached; of those,
    # 25 partitions leave the lowest next peak, and the first layer goes
    # first by notation. The second path then lowers the arena.
    first, second = report["search"][:2]
    assert first["chosen"] == "fdt c 25 : FULLY_CONNECTED:0 < FULLY_CONNECTED:1 >"
    assert second["arena_before"] == 4096 + 64
    assert report["paths"] == [first["chosen"], "fdt c 25 : FULLY_CONNECTED:3 < FULLY_CONNECTED:4 >"]
    # Each path's step: its input and its output's accumulator (16 floats
    # each) and a slice of ceil(1024 / 25) = 41 hidden floats.
    assert report["arena_bytes"] == 64 + 64 + 41 * 4
    assert report["macs"] == report["macs_untiled"]


def test_search_undoes_a_path_after_which_the_arena_did_not_fall(tmp_path):
    report = _compile_searched(tmp_path, "twin", twin_peaks_model(second_read_twice=True)).report
    # The first peak is removed, but nothing removes the second one (read
    # twice): the path is undone, and the arena is the untiled one.
    first = report["search"][0]
    undone = [p for p in first["design_points"] if p["verdict"] == UNDONE]
    assert [p["path"] for p in undone] == ["fdt c 25 : FULLY_CONNECTED:0 < FULLY_CONNECTED:1 >"]
    assert undone[0]["arena"] == first["arena_before"] == 4096 + 128
    assert first["chosen"] is None
    assert report["paths"] == []
    assert report["arena_bytes"] == report["arena_bytes_untiled"] == 4096 + 128


def test_search_sees_both_readers_of_a_dense_output(tmp_path):
    """A dense output read by the next dense layer and by a MUL: the dense
    reader reads it before the kernel's last reshape (canonicalization folds
    the reshape pair between them), the MUL after. Both are its consumers,
    so no path tiles it for one of them (the search crashed on such a path
    in the cost model)."""
    rng = np.random.default_rng(7)
    b = ModelBuilder("shared")
    x = b.input([1, 64], np.float32)
    y = _dense(b, rng, x, 64, 64, activation="RELU")
    z = _dense(b, rng, y, 64, 64, activation="RELU")
    product = b.tensor([1, 64], np.float32)
    b.op("MUL", [y, z], [product])
    b.output(_dense(b, rng, product, 32, 64))
    report = _compile_searched(tmp_path, "shared", b.finish()).report
    assert report["paths"]
    for path in report["paths"]:
        kernels = [token for token in path.split(":", 1)[1].split() if ":" in token]
        assert "FULLY_CONNECTED:0" not in kernels[:-1], path
