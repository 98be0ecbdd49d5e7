"""fdt-eval: the evaluation command on the project's own example models (two
TFLite, one ONNX), and the tables and paragraphs it writes, on hand-made
results."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from fdt_mlir.evaluation import evaluate
from fdt_mlir.evaluation.tflm_head import tflm_head_bytes
from fdt_mlir.examples.tflite_builder import example_model, float_example_model
from fdt_mlir.testing.onnx_models import INPUT_SHAPE, small_cnn_float


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    (models / "example.tflite").write_bytes(example_model())
    (models / "example_float.tflite").write_bytes(float_example_model())
    (models / "cnn.onnx").write_bytes(small_cnn_float())
    out = tmp_path_factory.mktemp("results")
    done = subprocess.run(
        [sys.executable, "-m", "fdt_mlir.evaluation.evaluate", str(models), "-o", str(out), "--samples", "3"],
        capture_output=True,
        text=True,
    )
    return models, out, done


def test_writes_results_and_charts(evaluated):
    _, out, done = evaluated
    assert done.returncode == 0, done.stderr
    for name in (
        "RESULTS.md",
        "results.json",
        "evaluation.png",
        "evaluation.svg",
        "example.arena.png",
        "example_float.arena.svg",
        "example.pareto.png",
        "cnn.pareto.svg",
    ):
        assert (out / name).stat().st_size > 0, name
    assert (out / "evaluation.png").read_bytes().startswith(b"\x89PNG")


def test_numbers_against_independent_facts(evaluated):
    models, out, _ = evaluated
    results = json.loads((out / "results.json").read_text())
    base = ["none", "fdt", "ffmt", "all", "all0"]
    assert results["modes"] == base + [f"{m}+ov" for m in base]
    by_name = {r["model"]: r for r in results["models"]}
    # The inputs are 1x32x32x1: 1024 int8 bytes, 4096 float32 bytes; the
    # outputs (1x4) are smaller.
    assert by_name["example"]["floor"] == 1024
    assert by_name["example_float"]["floor"] == 4096
    # The ONNX CNN's float input, 1x3x16x16, is larger than its 1x10 output.
    assert by_name["cnn"]["floor"] == 4 * np.prod(INPUT_SHAPE)
    for r in results["models"]:
        assert "error" not in r
        onnx = r["model"] == "cnn"
        assert r["head"] == (None if onnx else tflm_head_bytes(str(models / f"{r['model']}.tflite")))
        runs = r["runs"]
        for mode in results["modes"]:
            assert r["floor"] <= runs[mode]["arena"] <= runs["none"]["arena"]
            assert runs[mode]["run_seconds"] > 0
            assert runs[mode]["partitions"] == 0 or runs[mode]["paths"]
        assert (r["tflm_seconds"] is None) if onnx else r["tflm_seconds"] > 0
        # FDT never recomputes, and all0 is not allowed to.
        assert runs["fdt"]["overhead"] <= 0 and runs["all0"]["overhead"] <= 0
        assert runs["none"]["paths"] == [] and runs["none"]["overhead"] == 0
        # Overlapping buffers only relax the layout: no mode grows, and the
        # bytes at the peak are the live ones less those shared.
        for mode in base:
            assert runs[f"{mode}+ov"]["arena"] <= runs[mode]["arena"]
            peak = runs[f"{mode}+ov"]["peak"]
            assert sum(b[1] for b in peak["buffers"]) - peak["shared_bytes"] <= runs[f"{mode}+ov"]["arena"]
        # The front holds the all+ov and all0+ov designs, or ones better in both.
        for mode in ("all+ov", "all0+ov"):
            run = runs[mode]
            assert any(p["arena_bytes"] <= run["arena"] and p["macs"] <= run["macs"] for p in r["pareto"]), mode


def test_markdown_has_every_model(evaluated):
    _, out, _ = evaluated
    text = (out / "RESULTS.md").read_text()
    for heading in (
        "## Memory",
        "### With overlapping buffers",
        "## Cost",
        "## Pareto fronts",
        "## Per model",
        "## Against the paper",
    ):
        assert heading in text
    for name in ("example", "example_float", "cnn"):
        assert f"| {name} " in text and f"**{name}** (" in text


def test_no_models_is_a_usage_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fdt_mlir.evaluation.evaluate", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert f"no .tflite or .onnx models in {tmp_path}" in done.stderr
    assert "Traceback" not in done.stderr


def _run(arena, overhead=0.0, paths=(), design_points=0, run_seconds=None, instructions=None, peak=None):
    return {
        "peak": peak or {"op": 1, "buffers": [["buf0", arena, "CONV_2D:0"]], "shared_bytes": 0},
        "arena": arena,
        "overhead": overhead,
        "paths": list(paths),
        "compact": [],
        "partitions": 0,
        "compile_seconds": 1.0,
        "run_seconds": run_seconds,
        "instructions": instructions,
        "search": {"critical": ["CONV_2D:0"], "design_points": design_points, "bounded_out": 0},
    }


def _row(model, head, floor, **arenas):
    return {"model": model, "head": head, "floor": floor, "macs_untiled": 100, "runs": arenas}


def test_geometric_means():
    # all/head 0.25 and 1.0: geometric mean 0.5; all/none 0.5 and 1.0: 0.707.
    rows = [
        _row("a", 1000, 10, **{m: _run(500 if m == "none" else 250) for m in evaluate.LABELS}),
        _row("b", 400, 10, **{m: _run(400) for m in evaluate.LABELS}),
    ]
    geomean_row = evaluate.memory_table(rows)[-1]
    cells = [c.strip() for c in geomean_row.strip("|").split("|")]
    assert cells[0] == "geomean"
    assert cells[-4:] == ["0.707", "0.500", "0.500", ""]


def test_paragraph_names_the_family_that_won():
    fdt = "fdt c 4 : GATHER:1 < MEAN:2 ="
    row = _row(
        "text",
        1000,
        100,
        none=_run(1000, run_seconds=2.0, instructions=1000),
        fdt=_run(200, paths=[fdt], design_points=5),
        ffmt=_run(1000),
        all=_run(200, paths=[fdt], design_points=5, run_seconds=2.1, instructions=990),
        all0=_run(200, paths=[fdt], design_points=5),
    )
    text = evaluate.paragraph(row)
    assert (
        "FFMT alone: no gain (no spatial path around the critical buffers: "
        "dense layers, gathers, means and softmax stop FFMT)." in text
    )
    assert "FDT alone: 200 B (80.0 % smaller, MACs 0.0%)." in text
    assert f"`all` chose FDT: `{fdt}`." in text
    assert "The tiled C takes 1.05 x the untiled run time and 0.990 x its instructions." in text
    assert "smaller than TFLM's head (1000 B) and 2.00 x the floor." in text


def test_paragraph_names_candidates_the_bound_ruled_out():
    row = _row("chain", 1000, 100, **{m: _run(1000) for m in ("none", "fdt", "all0")}, ffmt=_run(800), all=_run(800))
    row["runs"]["fdt"]["search"]["bounded_out"] = 12
    text = evaluate.paragraph(row)
    assert "FDT alone: no gain (the lower bounds of its 12 candidates cannot beat the arena)." in text


def test_paragraph_when_nothing_helps():
    row = _row("flat", 768, 768, **{m: _run(768, design_points=0 if m in ("none",) else 3) for m in evaluate.LABELS})
    text = evaluate.paragraph(row)
    assert (
        "No path lowers the arena: 3 design points were lowered and none is smaller; the lower bound ruled out 0 more."
        in text
    )
    assert "The arena already equals the floor max(input, output)." in text
    assert "equal to TFLM's head (768 B)" in text


def test_without_tflm_it_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    """fdt-eval compares with TFLM's arena head: without the tflite-micro
    package it stops before any work, with one line and exit status 1."""
    (tmp_path / "example.tflite").write_bytes(example_model())
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tflite_micro" else find_spec(name, *a)
    )
    assert evaluate.main([str(tmp_path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err == "fdt-eval: error: TFLM's arena head needs TFLite Micro: pip install 'fdt-mlir[eval]'\n"
    assert not (tmp_path / "out").exists()


def test_overlap_table_compares_each_mode_with_itself():
    # all+ov/all 0.5 and 1.0: geometric mean 0.707; all0+ov/all0 1.0 and
    # 0.25: 0.5; all+ov/head 0.2 and 0.8: 0.4; all0+ov/head 0.8 and 0.2: 0.4.
    a = {m: _run(1000) for m in evaluate.BASE} | {m + "+ov": _run(800) for m in evaluate.BASE}
    a["all+ov"] = _run(200)
    b = {m: _run(800) for m in evaluate.BASE} | {m + "+ov": _run(800) for m in evaluate.BASE}
    b["all0+ov"] = _run(200)
    a["all"], a["all0"], a["all0+ov"] = _run(400), _run(800), _run(800)
    table = evaluate.overlap_table([_row("a", 1000, 10, **a), _row("b", 1000, 10, **b)])
    assert [c.strip() for c in table[0].strip("|").split("|")] == (
        ["model", "none+ov B", "fdt+ov B", "ffmt+ov B", "all+ov B", "all0+ov B"]
        + ["all+ov/all", "all0+ov/all0", "all+ov/head", "all0+ov/head"]
    )
    cells = [c.strip() for c in table[-1].strip("|").split("|")]
    assert cells[0] == "geomean" and cells[-4:] == ["0.707", "0.500", "0.400", "0.400"]
    first = [c.strip() for c in table[2].strip("|").split("|")]
    assert first == ["a", "800", "800", "800", "200", "800", "0.500", "1.000", "0.200", "0.800"]


def test_paragraph_says_where_the_overlapped_peak_sits():
    peak = {
        "op": 7,
        "buffers": [
            ["buf1", 400, "CONV_2D:1"],
            ["buf0", 300, "CONV_2D:0"],
            ["input0", 100, "model input"],
            ["buf2", 16, "ADD:2"],
            ["buf3", 8, "ADD:3"],
        ],
        "shared_bytes": 224,
    }
    runs = {m: _run(1000) for m in evaluate.LABELS}
    runs["all"], runs["all+ov"], runs["all0+ov"] = _run(800), _run(600, peak=peak), _run(700)
    text = evaluate.paragraph(_row("m", 2000, 100, **runs))
    assert text.endswith(
        "With overlapping buffers, `all` gives 600 B (25.0 % below without) and `all0` 700 B; the peak sits at "
        "op 7: buf1 (400 B, CONV_2D:1), buf0 (300 B, CONV_2D:0), input0 (100 B, model input) and 2 more (24 B), "
        "224 B of them shared."
    )
