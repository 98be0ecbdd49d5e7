"""The arena and evaluation pictures: rectangle geometry worked out by hand,
and images that are PNG and SVG, byte-identical from call to call, with one
rectangle (found by its SVG id) per buffer or bar."""

import pytest

from fdt_mlir import plots
from fdt_mlir.api import Options, compile
from fdt_mlir.examples.tflite_builder import example_model


def test_rectangles_span_inclusive_lifetimes():
    # A conv reads input0 (128 B at 0, ops 0..2) at op 2 while it writes
    # buf0 (64 B at 128, op 2 only); the dense layer writes output0 (3 B at 0)
    # at op 3, and the return reads it at op 4.
    buffers = [
        {"name": "input0", "bytes": 128, "offset": 0, "first_op": 0, "last_op": 2, "producer": None},
        {"name": "buf0", "bytes": 64, "offset": 128, "first_op": 2, "last_op": 2, "producer": "CONV_2D:0"},
        {"name": "output0", "bytes": 3, "offset": 0, "first_op": 3, "last_op": 4, "producer": "FULLY_CONNECTED:1"},
    ]
    assert plots.rectangles(buffers) == [
        (0, 0, 3, 128, "input0"),
        (2, 128, 1, 64, "CONV_2D:0"),
        (3, 0, 2, 3, "FULLY_CONNECTED:1"),
    ]


def test_rectangles_of_the_cost_models_buffers():
    # The untiled program's buffers are named after their producer, with #k
    # for an op's scratch buffers; the label is the producer.
    buffers = [
        {"name": "SOFTMAX:3#0", "bytes": 16, "offset": 4000, "first_op": 84, "last_op": 86, "producer": "SOFTMAX:3"},
        {"name": "output0", "bytes": 4, "offset": 32, "first_op": 90, "last_op": 91, "producer": "output0"},
    ]
    assert plots.rectangles(buffers) == [(84, 4000, 3, 16, "SOFTMAX:3"), (90, 32, 2, 4, "output0")]


def test_shared_rectangles_cover_the_bytes_and_steps_both_hold():
    # A depthwise conv writes buf0 (96 B at 64, ops 2..3) over the top half
    # of input0 (128 B at 0, ops 0..2), which it reads for the last time at
    # op 2; output0 (32 B at 0) is written at op 4, after both.
    buffers = [
        {"name": "input0", "bytes": 128, "offset": 0, "first_op": 0, "last_op": 2, "producer": None},
        {"name": "buf0", "bytes": 96, "offset": 64, "first_op": 2, "last_op": 3, "producer": "DEPTHWISE_CONV_2D:0"},
        {"name": "output0", "bytes": 32, "offset": 0, "first_op": 4, "last_op": 5, "producer": "FULLY_CONNECTED:1"},
    ]
    assert plots.shared_rectangles(buffers) == [(2, 64, 1, 64, "DEPTHWISE_CONV_2D:0 over input0")]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The example model compiled without tiling (one panel), with the fdt
    search (two panels: the cost model's untiled program beside it), and
    with outputs over the inputs they consume."""
    model = tmp_path_factory.mktemp("plots") / "example.tflite"
    model.write_bytes(example_model())
    found = {
        tiling: compile(model, Options(tiling, overlap=False), name="example").report for tiling in ("none", "fdt")
    }
    found["overlap"] = compile(model, Options("none"), name="example").report
    return found


@pytest.mark.parametrize("tiling", ["none", "fdt", "overlap"])
def test_arena_files(reports, tiling):
    report = reports[tiling]
    files = plots.arena_files(report)
    assert sorted(files) == ["example.arena.png", "example.arena.svg"]
    assert files["example.arena.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert files == plots.arena_files(report)
    svg = files["example.arena.svg"].decode()
    assert svg.startswith("<?xml") and "Matplotlib v" not in svg
    assert svg.count('id="buffer-') == len(report["buffers"])
    for b in report["buffers"]:
        assert f'id="buffer-{b["name"]}"' in svg
    untiled = report.get("buffers_untiled", [])
    assert bool(untiled) == (tiling == "fdt")
    assert svg.count('id="untiled-buffer-') == len(untiled)
    # One hatched rectangle per pair that shares bytes.
    assert svg.count('id="shared-buffer-') == len(report.get("overlaps", []))
    assert bool(report.get("overlaps")) == (tiling == "overlap")


def _runs(*arenas):
    return {mode: {"arena": arena} for mode, arena in zip(["none", "fdt", "all"], arenas)}


def test_evaluation_files():
    models = [
        {"model": "kws", "head": 6208, "floor": 1960, "runs": _runs(5960, 2984, 2984)},
        {"model": "broken", "head": 4096, "floor": 512, "error": "unsupported op"},
        {"model": "vww", "head": 56320, "floor": 27648, "runs": _runs(55296, 46080, 30720)},
        {"model": "onnx_net", "head": None, "floor": 512, "runs": _runs(2048, 1024, 1024)},
    ]
    files = plots.evaluation_files(models, ["none", "fdt", "all"], "evaluation")
    assert sorted(files) == ["evaluation.png", "evaluation.svg"]
    assert files["evaluation.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert files == plots.evaluation_files(models, ["none", "fdt", "all"], "evaluation")
    svg = files["evaluation.svg"].decode()
    assert svg.count('id="bar-') == 6
    for model in ("kws", "vww"):
        assert svg.count(f'id="floor-{model}"') == 1
        for mode in ("none", "fdt", "all"):
            assert f'id="bar-{model}-{mode}"' in svg
    for model in ("broken", "onnx_net"):
        assert f"bar-{model}" not in svg and f"floor-{model}" not in svg
