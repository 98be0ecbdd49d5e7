"""FDT and FFMT plans on the evaluation models: exact against TFLM and the
untiled C, for each family valid around the three largest intermediate
buffers, with an even and an uneven partition count."""

import pytest
from test_models import SHARED, model_inputs
from tiling_support import assert_matches, assert_shadow_checked, candidate_paths, compile_model, largest_intermediates

from fdt_mlir.tiling_plan import parse_plan


def _plans(model_path, report):
    """(buffer, path) pairs: per buffer and family the shortest path around
    the buffer's producer, split 3, 4 and 5 ways (at least one of which does
    not divide the split axis unless its extent is a multiple of 60)."""
    chosen = []
    for buffer in largest_intermediates(report):
        for family in ("fdt", "ffmt"):
            paths = [p for p in candidate_paths(model_path, buffer["producer"], family) if p.axis in ("c", "h")]
            if paths:
                shortest = min(paths, key=lambda p: len(p.kernels)).kernels
                chosen += [(buffer["name"], p) for p in paths if p.kernels == shortest and p.parts[0] in (3, 4, 5)]
    return chosen


@pytest.mark.parametrize("name", SHARED)
def test_plans_around_largest_buffers_are_exact(name, shared_models, tmp_path):
    model_path = shared_models / f"{name}.tflite"
    untiled = compile_model(model_path, tmp_path / "untiled", name)
    plans = _plans(model_path, untiled.report)
    inputs = model_inputs(model_path, 3)
    for i, (_, path) in enumerate(plans):
        tiled = compile_model(model_path, tmp_path / f"p{i}", name, [path], options=["--shadow-check"])
        assert_shadow_checked(tmp_path / f"p{i}", name, inputs[:1])
        assert tiled.report["paths"] == [path.notation()]
        assert tiled.report["arena_bytes_untiled"] == untiled.report["arena_bytes"]
        assert tiled.report["arena_bytes_predicted"] == tiled.report["arena_bytes"], path.notation()
        if path.family == "fdt":
            assert tiled.report["macs"] <= untiled.report["macs"], path.notation()
        assert_matches(model_path, tiled, untiled, inputs)


# Paths through reshapes: a dense layer on a flattened feature map ('>'
# reduces over (h, w, c) once the flatten is folded into it) and a mean whose
# reduced axis is expanded back ('='). Each plan must shrink the arena;
# magic_wand's peak comes before its dense layer, so its plan adds a second
# path, which removes the peak.
RESHAPE_PLANS = {
    "micro_speech": ["fdt c 4 : DEPTHWISE_CONV_2D:1 < FULLY_CONNECTED:2 >"],
    "magic_wand": [
        "fdt c 4 : DEPTHWISE_CONV_2D:0 < MAX_POOL_2D:1 = CONV_2D:2 >",
        "fdt c 3 : MAX_POOL_2D:3 = FULLY_CONNECTED:4 >",
    ],
    "text_class": ["fdt c 4 : GATHER:1 < MEAN:2 = FULLY_CONNECTED:3 >"],
}


@pytest.mark.parametrize("name", sorted(RESHAPE_PLANS))
def test_paths_through_reshapes_are_exact_and_smaller(name, shared_models, tmp_path):
    model_path = shared_models / f"{name}.tflite"
    plan = parse_plan("\n".join(RESHAPE_PLANS[name]))
    untiled = compile_model(model_path, tmp_path / "untiled", name)
    tiled = compile_model(model_path, tmp_path / "tiled", name, plan)
    assert tiled.report["arena_bytes"] < untiled.report["arena_bytes"]
    assert tiled.report["macs"] <= untiled.report["macs"]
    assert_matches(model_path, tiled, untiled, model_inputs(model_path, 3))
