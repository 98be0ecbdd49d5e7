"""Path discovery: which paths the chaining rules admit around a buffer."""

import numpy as np
import pytest
from mlir import ir

from fdt_mlir import pipeline
from fdt_mlir.analysis.kernels import function_body, kernels_of
from fdt_mlir.dialect import make_context
from fdt_mlir.examples.tflite_builder import ModelBuilder
from fdt_mlir.importers import load
from fdt_mlir.search import discovery
from fdt_mlir.testing.target_models import cnn_model, mlp_model, partial_sum_model


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


def test_linear_kernels_after_the_input_partitioned_conv_take_partial_sums(tmp_path):
    found = _candidates(tmp_path, partial_sum_model(), "CONV_2D:0", families=("fdt",), partitions=(4,))
    # The second conv has no activation: the mean and the dense layer after
    # it are linear, so each can run on a partition's partial sum ('~').
    assert found == {
        "fdt c 4 : CONV_2D:0 < CONV_2D:1 >",
        "fdt c 4 : CONV_2D:0 < CONV_2D:1 > MEAN:2 ~",
        "fdt c 4 : CONV_2D:0 < CONV_2D:1 > MEAN:2 ~ FULLY_CONNECTED:3 ~",
    }


def test_cnn_paths_grow_through_pools_and_stop_at_the_dense_layer(tmp_path):
    found = _candidates(tmp_path, cnn_model(), "CONV_2D:0", partitions=(2,))
    assert found == {
        # FDT: the conv starts ('<'), the pool is channel-wise ('='), the
        # second conv ends ('>'); its RELU is not linear, so no '~' follows.
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


def _weights(*shape):
    return np.full(shape, 0.5, np.float32)


def _pool_dense_model(flatten: bool) -> bytes:
    """conv 1x1 (4) -> maxpool 2x2 -> dense (3), on the 1x4x4x4 pooled map
    directly, as TFLite's FULLY_CONNECTED flattens, or after a RESHAPE."""
    b = ModelBuilder("pool_dense")
    x = b.input([1, 8, 8, 2], np.float32)
    conv = b.tensor([1, 8, 8, 4], np.float32)
    b.op("CONV_2D", [x, b.const(_weights(4, 1, 1, 2)), b.const(_weights(4))], [conv], padding="VALID", stride=(1, 1))
    pooled = b.tensor([1, 4, 4, 4], np.float32)
    b.op("MAX_POOL_2D", [conv], [pooled], filter_size=(2, 2), stride=(2, 2), padding="VALID")
    if flatten:
        flat = b.tensor([1, 64], np.float32)
        b.op("RESHAPE", [pooled, b.const(np.array([1, 64], np.int32))], [flat], new_shape=[1, 64])
        pooled = flat
    y = b.tensor([1, 3], np.float32)
    b.op("FULLY_CONNECTED", [pooled, b.const(_weights(3, 64)), b.const(_weights(3))], [y])
    b.output(y)
    return b.finish()


@pytest.mark.parametrize("flatten", [False, True])
def test_dense_on_a_feature_map_ends_a_path_as_input_partitioned(tmp_path, flatten):
    # The flatten (the dense layer's own, or a RESHAPE operator's, which the
    # import merges into the dense layer's) folds into the dense layer: it
    # reduces over (h, w, c) and accumulates channel slices of the pooled map.
    dense = "FULLY_CONNECTED:3" if flatten else "FULLY_CONNECTED:2"
    found = _candidates(tmp_path, _pool_dense_model(flatten), "MAX_POOL_2D:1", families=("fdt",), partitions=(2,))
    assert found == {f"fdt c 2 : CONV_2D:0 < MAX_POOL_2D:1 = {dense} >", f"fdt c 2 : MAX_POOL_2D:1 = {dense} >"}


def test_embedding_mean_dense_chain(tmp_path):
    """GATHER (8 tokens of a 10 x 4 table) -> MEAN over the tokens, kept as a
    unit dim -> dense (3) -> dense (2), as in text classifiers: the mean is
    channel-wise through its reshape."""
    b = ModelBuilder("text")
    ids = b.input([1, 8], np.int32)
    embedded = b.tensor([1, 8, 4], np.float32)
    b.op("GATHER", [b.const(_weights(10, 4)), ids], [embedded], axis=0)
    mean = b.tensor([1, 1, 4], np.float32)
    b.op("MEAN", [embedded, b.const(np.array([1], np.int32))], [mean], keep_dims=True)
    hidden = b.tensor([1, 1, 3], np.float32)
    b.op("FULLY_CONNECTED", [mean, b.const(_weights(3, 4)), b.const(_weights(3))], [hidden], keep_num_dims=True)
    y = b.tensor([1, 1, 2], np.float32)
    b.op("FULLY_CONNECTED", [hidden, b.const(_weights(2, 3)), b.const(_weights(2))], [y], keep_num_dims=True)
    b.output(y)
    found = _candidates(tmp_path, b.finish(), "GATHER:0", families=("fdt",), partitions=(2,))
    # The first dense layer has no activation, so the second (linear) can
    # take its partial sums ('~').
    assert found == {
        "fdt c 2 : GATHER:0 < MEAN:1 =",
        "fdt c 2 : GATHER:0 < MEAN:1 = FULLY_CONNECTED:2 >",
        "fdt c 2 : GATHER:0 < MEAN:1 = FULLY_CONNECTED:2 > FULLY_CONNECTED:3 ~",
    }
