"""The arena/MAC Pareto front (`--pareto`) and the RAM budget
(`--ram-budget`, search.pareto), on a small CNN whose front has several
points: every emitted design exact against TFLM."""

from types import SimpleNamespace

import numpy as np
import pytest
from test_models import model_inputs
from tiling_support import assert_matches, assert_same_outputs, compile_model

from fdt_mlir import api, plots
from fdt_mlir.errors import FdtError
from fdt_mlir.search.pareto import FrontPoint, fitting, parse_size
from fdt_mlir.search.path_search import SearchResult
from fdt_mlir.testing.driver_process import run_driver
from fdt_mlir.testing.random_networks import random_network
from fdt_mlir.testing.target_models import cnn_model
from fdt_mlir.testing.tflm import random_inputs, run_tflm


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    """The model, and its front as `--pareto` reports it; lowered units are
    shared with the other compiles through the signature cache."""
    folder = tmp_path_factory.mktemp("cnn")
    path = folder / "cnn.tflite"
    path.write_bytes(cnn_model(hw=16, widths=(16, 32)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FDT_MLIR_CACHE", str(folder / "cache"))
        report = api.compile(path, api.Options("all", pareto=True)).report
        yield path, report


def test_front_is_non_dominated_and_holds_the_searches(cnn):
    path, report = cnn
    front = report["pareto"]
    assert len(front) >= 2
    # Fewest MACs first, each point trading MACs for a smaller arena.
    for before, after in zip(front, front[1:]):
        assert before["macs"] < after["macs"] and before["arena_bytes"] > after["arena_bytes"]
    # --pareto alone emits the smallest arena.
    assert [p["chosen"] for p in front] == [False] * (len(front) - 1) + [True]
    assert report["arena_bytes"] == front[-1]["arena_bytes"] and report["macs"] == front[-1]["macs"]
    for overhead in (None, 0):
        searched = api.compile(path, api.Options("all", overhead)).report
        assert any(p["arena_bytes"] <= searched["arena_bytes"] and p["macs"] <= searched["macs"] for p in front)


def test_ram_budget_emits_the_fewest_macs_that_fit(cnn, tmp_path, monkeypatch):
    path, report = cnn
    monkeypatch.setenv("FDT_MLIR_CACHE", str(path.parent / "cache"))
    front = report["pareto"]
    arenas = [p["arena_bytes"] for p in front]
    # Each point's own arena, one byte less than the next larger one's, and the untiled arena.
    budgets = sorted({*arenas, *(a - 1 for a in arenas[:-1]), report["arena_bytes_untiled"]})
    inputs = random_inputs(str(path), 2, seed=0)
    for budget in budgets:
        model = compile_model(path, tmp_path / str(budget), "cnn", options=["--ram-budget", str(budget)])
        got = model.report
        assert got["arena_bytes"] <= budget and got["ram_budget"] == budget
        assert got["macs"] == min(p["macs"] for p in front if p["arena_bytes"] <= budget), budget
        assert got["arena_bytes_predicted"] == got["arena_bytes"]
        assert_matches(path, model, model, inputs)


def test_budget_below_every_design_is_one_line(cnn, tmp_path, monkeypatch):
    path, report = cnn
    monkeypatch.setenv("FDT_MLIR_CACHE", str(path.parent / "cache"))
    smallest = report["pareto"][-1]
    status, printed = run_driver(
        [str(path), "--emit", "c", "-o", str(tmp_path / "out"), "--ram-budget", str(smallest["arena_bytes"] - 1)]
    )
    errors = [line for line in printed.splitlines() if "error" in line]
    assert status == 1 and len(errors) == 1, printed
    assert f"the smallest arena reachable is {smallest['arena_bytes']} B ({smallest['macs']} MACs" in errors[0]
    assert not (tmp_path / "out").exists()


def _point(arena, macs):
    untiled = SimpleNamespace(arena=900, macs=100)  # a Prediction's fields that a front reads
    return FrontPoint(arena, macs, SearchResult([], [], untiled, SimpleNamespace(arena=arena, macs=macs)))


def test_fitting_takes_the_fewest_macs_within_the_budget():
    front = [_point(900, 100), _point(500, 150), _point(300, 400)]
    assert fitting(front, 900).arena == 900
    assert fitting(front, 899).arena == 500
    assert fitting(front, 300).arena == 300
    with pytest.raises(FdtError, match=r"the smallest arena reachable is 300 B \(400 MACs, \+300.0 % MACs\)"):
        fitting(front, 299)


@pytest.mark.parametrize(
    "text, size",
    [("32768", 32768), ("32K", 32768), ("32KiB", 32768), ("32kb", 32768), ("0.5M", 524288), ("1.5K", 1536)],
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "K", "-1", "0", "1.3", "3 GB", "12KiBs"])
def test_bad_size_is_a_usage_error(text, tmp_path):
    status, printed = run_driver([str(tmp_path / "m.tflite"), "--emit", "c", "-o", str(tmp_path), "--ram-budget", text])
    assert status == 2 and "--ram-budget" in printed and len(printed.strip().splitlines()) == 1, printed


def test_front_plot(cnn, tmp_path, monkeypatch):
    """--plot with --pareto draws the front beside the arena, the emitted
    point circled, and the reference lines (byte-identical twice)."""
    path, report = cnn
    monkeypatch.setenv("FDT_MLIR_CACHE", str(path.parent / "cache"))
    files = plots.front_files(report, head=20480)
    assert sorted(files) == ["cnn.pareto.png", "cnn.pareto.svg"] and files == plots.front_files(report, head=20480)
    svg = files["cnn.pareto.svg"].decode()
    for gid in ("front", "front-points", "chosen", "untiled", "floor", "TFLM"):
        assert f'id="{gid}"' in svg, gid
    status, printed = run_driver(
        [str(path), "--emit", "c", "-o", str(tmp_path / "c"), "--pareto", "--plot", str(tmp_path / "plots")]
    )
    assert status == 0, printed
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "cnn.arena.png",
        "cnn.arena.svg",
        "cnn.pareto.png",
        "cnn.pareto.svg",
    ]


@pytest.mark.parametrize("name", ["magic_wand", "micro_speech", "text_class", "toycar"])
def test_ram_budget_on_shared_models(name, shared_models, tmp_path, monkeypatch):
    """The shared models whose front takes seconds: budgets from each front
    point's arena up to the untiled one, each design exact against TFLM."""
    path = shared_models / f"{name}.tflite"
    monkeypatch.setenv("FDT_MLIR_CACHE", str(tmp_path / "cache"))
    report = api.compile(path, api.Options("all", pareto=True)).report
    front = report["pareto"]
    budgets = sorted({report["arena_bytes_untiled"], *(p["arena_bytes"] for p in front)})
    for budget in budgets:
        model = compile_model(path, tmp_path / str(budget), name, options=["--ram-budget", str(budget)])
        got = model.report
        assert got["arena_bytes"] <= budget
        assert got["macs"] == min(p["macs"] for p in front if p["arena_bytes"] <= budget), budget
        for inputs in model_inputs(path, 2):
            assert_same_outputs(run_tflm(str(path), inputs), model.run(inputs))
    smallest = min(p["arena_bytes"] for p in front)
    status, printed = run_driver(
        [str(path), "--emit", "c", "-o", str(tmp_path / "none"), "--ram-budget", str(smallest - 1)]
    )
    assert status == 1 and f"the smallest arena reachable is {smallest} B" in printed, printed


def test_search_limit_bounds_the_candidates_lowered(tmp_path):
    """--search-limit N: at most N candidates per critical buffer and family."""
    path = tmp_path / "net.tflite"
    path.write_bytes(random_network(17, np.int8))
    counts = {}
    for limit in (1, 24):
        report = api.compile(path, api.Options("all", search_limit=limit)).report
        for iteration in report["search"]:
            assert len(iteration["design_points"]) <= 2 * limit * len(iteration["critical_buffers"])
        counts[limit] = sum(len(i["design_points"]) for i in report["search"])
    assert counts[1] < counts[24]
    status, printed = run_driver([str(path), "--emit", "c", "-o", str(tmp_path / "out"), "--search-limit", "0"])
    assert status == 2 and "--search-limit" in printed, printed
