"""Path discovery: which paths the chaining rules admit around a buffer."""

from mlir import ir

from fdt_mlir import discovery, pipeline
from fdt_mlir.context import make_context
from fdt_mlir.importers import load
from fdt_mlir.kernels import function_body, kernels_of
from fdt_mlir.testing.target_models import cnn_model, mlp_model


def _candidates(tmp_path, model: bytes, producer: str, **kw):
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    with make_context(), ir.Location.unknown():
        module = load(str(path), "m")
        pipeline.run_passes(module, pipeline.TOSA_TO_LINALG)
        kernels = kernels_of(function_body(module.operation))
        chosen = next(k for k in kernels if k.name == producer)
        return {p.notation() for p in discovery.candidates(chosen, kernels, **kw)}


def test_dense_chain_gets_output_then_input_partitioned(tmp_path):
    found = _candidates(tmp_path, mlp_model(hidden=40), "FULLY_CONNECTED:0", partitions=(4, 41))
    # 41 partitions exceed the 40 hidden features; FFMT has no spatial axis.
    assert found == {"fdt c 4 : FULLY_CONNECTED:0 < FULLY_CONNECTED:1 >"}


def test_cnn_paths_grow_through_pools_and_stop_at_the_dense_layer(tmp_path):
    found = _candidates(tmp_path, cnn_model(), "CONV_2D:0", partitions=(2,))
    assert found == {
        # FDT: the conv starts ('<'), the pool is channel-wise ('='), the
        # second conv ends ('>'); the dense layer reads through a reshape.
        "fdt c 2 : CONV_2D:0 < MAX_POOL_2D:1 =",
        "fdt c 2 : CONV_2D:0 < MAX_POOL_2D:1 = CONV_2D:2 >",
        # FFMT: every spatial sub-path that contains the conv -> pool edge.
        "ffmt h 2 : CONV_2D:0 MAX_POOL_2D:1",
        "ffmt w 2 : CONV_2D:0 MAX_POOL_2D:1",
        "ffmt hw 2x2 : CONV_2D:0 MAX_POOL_2D:1",
        "ffmt h 2 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2",
        "ffmt w 2 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2",
        "ffmt hw 2x2 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2",
        "ffmt h 2 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2 MAX_POOL_2D:3",
        "ffmt w 2 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2 MAX_POOL_2D:3",
        "ffmt hw 2x2 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2 MAX_POOL_2D:3",
    }


def test_families_can_be_restricted(tmp_path):
    found = _candidates(tmp_path, cnn_model(), "MAX_POOL_2D:1", families=("fdt",), partitions=(3,))
    assert found == {"fdt c 3 : MAX_POOL_2D:1 = CONV_2D:2 >", "fdt c 3 : CONV_2D:0 < MAX_POOL_2D:1 = CONV_2D:2 >"}
