"""The test-model builder and the TFLM reference, checked against numpy.

Every model here is run by TFLM, so these tests also show that the builder
writes files a real TFLite runtime accepts, with the options and quantization
the test asked for.
"""

import numpy as np
import pytest
import tflite

from fdt_mlir.evaluation.tflm_head import tflm_head_bytes
from fdt_mlir.examples.tflite_builder import ModelBuilder, example_model, float_example_model, person_detector_model
from fdt_mlir.testing.tflm import random_inputs, run_tflm


def single_op(opcode, inputs, output, **options) -> bytes:
    """A model of one operator. `inputs` are ("input", shape, dtype,
    quantization) or ("const", array, quantization); `output` is (shape,
    dtype, quantization)."""
    b = ModelBuilder(opcode.lower())
    ids = []
    for kind, *spec in inputs:
        if kind == "input":
            shape, dtype, quantization = spec
            ids.append(b.input(shape, dtype, **quantization))
        else:
            data, quantization = spec
            ids.append(b.const(data, **quantization))
    shape, dtype, quantization = output
    y = b.tensor(shape, dtype, **quantization)
    b.op(opcode, ids, [y], **options)
    b.output(y)
    return b.finish()


def test_int8_conv_per_channel_matches_integer_formula():
    rng = np.random.default_rng(0)
    x_scale, x_zp, y_scale, y_zp = 0.05, -3, 0.25, 2
    w_scale = rng.uniform(0.005, 0.02, 4).astype(np.float32)
    w = rng.integers(-127, 128, (4, 3, 3, 3), dtype=np.int8)
    bias = rng.integers(-1000, 1000, 4, dtype=np.int32)
    x = rng.integers(-128, 128, (1, 6, 6, 3), dtype=np.int8)
    model = single_op(
        "CONV_2D",
        [
            ("input", x.shape, np.int8, {"scale": x_scale, "zero_point": x_zp}),
            ("const", w, {"scale": w_scale, "zero_point": [0] * 4, "quantized_dimension": 0}),
            ("const", bias, {"scale": x_scale * w_scale}),
        ],
        ((1, 6, 6, 4), np.int8, {"scale": y_scale, "zero_point": y_zp}),
        padding="SAME",
        stride=(1, 1),
        dilation=(1, 1),
        activation="RELU",
    )

    # int32 accumulation of (x - zero point) * w over a zero-padded window,
    # then the real rescale; TFLM's fixed-point multiplier may differ by one.
    padded = np.pad(x.astype(np.int64) - x_zp, [(0, 0), (1, 1), (1, 1), (0, 0)])
    acc = bias.astype(np.int64) + sum(
        np.einsum("nhwi,oi->nhwo", padded[:, i : i + 6, j : j + 6, :], w[:, i, j, :].astype(np.int64))
        for i in range(3)
        for j in range(3)
    )
    expected = np.clip(np.round(acc * (x_scale * w_scale / y_scale)) + y_zp, y_zp, 127)

    (out,) = run_tflm(model, [x])
    assert out.dtype == np.int8 and out.shape == (1, 6, 6, 4)
    assert len(np.unique(out)) > 20, "the check is vacuous if the outputs clip"
    assert np.abs(out.astype(np.int64) - expected).max() <= 1


def test_float_fully_connected_matches_numpy():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 5)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    x = rng.normal(size=(2, 5)).astype(np.float32)
    model = single_op(
        "FULLY_CONNECTED",
        [("input", x.shape, np.float32, {}), ("const", w, {}), ("const", bias, {})],
        ((2, 3), np.float32, {}),
        keep_num_dims=False,
    )
    (out,) = run_tflm(model, [x])
    np.testing.assert_allclose(out, x @ w.T + bias, atol=1e-5)


def test_int8_add_matches_real_arithmetic():
    rng = np.random.default_rng(2)
    a = rng.integers(-128, 128, (1, 4, 4, 2), dtype=np.int8)
    c = rng.integers(-128, 128, (1, 4, 4, 2), dtype=np.int8)
    qa, qc, qy = (0.02, 5), (0.03, -7), (0.05, 1)
    model = single_op(
        "ADD",
        [
            ("input", a.shape, np.int8, {"scale": qa[0], "zero_point": qa[1]}),
            ("input", c.shape, np.int8, {"scale": qc[0], "zero_point": qc[1]}),
        ],
        (a.shape, np.int8, {"scale": qy[0], "zero_point": qy[1]}),
    )
    real = qa[0] * (a.astype(np.float64) - qa[1]) + qc[0] * (c.astype(np.float64) - qc[1])
    expected = np.clip(np.round(real / qy[0]) + qy[1], -128, 127)
    (out,) = run_tflm(model, [a, c])
    assert np.abs(out.astype(np.int64) - expected).max() <= 1


@pytest.mark.parametrize("shape_as_input", [True, False])
def test_int8_reshape_is_exact(shape_as_input):
    x = np.arange(-12, 12, dtype=np.int8).reshape(1, 2, 3, 4)
    quantization = {"scale": 0.1, "zero_point": 0}
    inputs = [("input", x.shape, np.int8, quantization)]
    if shape_as_input:
        inputs.append(("const", np.array([1, 6, 4], np.int32), {}))
        options = {}
    else:
        options = {"new_shape": [1, 6, 4]}
    model = single_op("RESHAPE", inputs, ((1, 6, 4), np.int8, quantization), **options)
    (out,) = run_tflm(model, [x])
    np.testing.assert_array_equal(out, x.reshape(1, 6, 4))


def test_int8_max_pool_is_exact():
    x = np.random.default_rng(3).integers(-128, 128, (1, 4, 6, 3), dtype=np.int8)
    quantization = {"scale": 0.1, "zero_point": -4}
    model = single_op(
        "MAX_POOL_2D",
        [("input", x.shape, np.int8, quantization)],
        ((1, 2, 3, 3), np.int8, quantization),
        filter_size=(2, 2),
        stride=(2, 2),
    )
    (out,) = run_tflm(model, [x])
    np.testing.assert_array_equal(out, x.reshape(1, 2, 2, 3, 2, 3).max(axis=(2, 4)))


def test_builtin_without_options_by_name():
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    model = single_op("SIN", [("input", x.shape, np.float32, {})], (x.shape, np.float32, {}))
    (out,) = run_tflm(model, [x])
    np.testing.assert_allclose(out, np.sin(x), atol=1e-5)


def test_unknown_operator_and_stray_options_are_rejected():
    b = ModelBuilder()
    x = b.input([4], np.float32)
    y = b.tensor([4], np.float32)
    with pytest.raises(ValueError, match="NOT_AN_OP"):
        b.op("NOT_AN_OP", [x], [y])
    with pytest.raises(TypeError, match="RELU takes no options"):
        b.op("RELU", [x], [y], activation="RELU6")


def test_dynamic_dimension_is_written_like_the_converter():
    b = ModelBuilder()
    x = b.input([-1, 10], np.float32)
    b.output(x)
    tensor = tflite.Model.GetRootAs(b.finish(), 0).Subgraphs(0).Tensors(0)
    assert tensor.ShapeAsNumpy().tolist() == [1, 10]
    assert tensor.ShapeSignatureAsNumpy().tolist() == [-1, 10]


def test_example_models_are_deterministic_and_agree():
    model, float_model = example_model(), float_example_model()
    assert model == example_model()
    graph = tflite.Model.GetRootAs(model, 0).Subgraphs(0)
    assert graph.Name() == b"example"
    input_q = graph.Tensors(graph.Inputs(0)).Quantization()
    output_q = graph.Tensors(graph.Outputs(0)).Quantization()

    outputs = []
    for (x,) in random_inputs(model, 10, seed=4):
        (y,) = run_tflm(model, [x])
        real_x = (x.astype(np.float32) - input_q.ZeroPoint(0)) * np.float32(input_q.Scale(0))
        (y_float,) = run_tflm(float_model, [real_x])
        real_y = (y.astype(np.float32) - output_q.ZeroPoint(0)) * output_q.Scale(0)
        # Four layers of int8 rounding and a little clipping: a few steps off.
        assert np.abs(real_y - y_float).max() < 10 * output_q.Scale(0)
        outputs.append(y)
    outputs = np.concatenate(outputs)
    assert outputs.shape == (10, 4)
    assert not np.isin(outputs, [-128, 127]).any()
    assert len(np.unique(outputs)) > 10


def test_person_detector_is_mobilenet_v1_and_exact(tmp_path):
    """The compile-time benchmark's MobileNetV1-0.25 at 96x96 (issue 16): its
    layers and shapes as TFLM's visual wake words model has them, outputs
    that vary with the input, and its C exact against TFLM."""
    from fdt_mlir import api
    from fdt_mlir.testing.cmodel import CModel

    model = person_detector_model()
    assert model == person_detector_model()
    graph = tflite.Model.GetRootAs(model, 0).Subgraphs(0)
    shape = lambda t: graph.Tensors(t).ShapeAsNumpy().tolist()  # noqa: E731
    assert shape(graph.Inputs(0)) == [1, 96, 96, 3] and shape(graph.Outputs(0)) == [1, 2]
    outputs = [shape(graph.Operators(k).Outputs(0)) for k in range(graph.OperatorsLength())]
    assert len(outputs) == 1 + 13 * 2 + 3  # the first conv, the blocks, pool, reshape, dense
    assert outputs[0] == [1, 48, 48, 8] and outputs[2] == [1, 48, 48, 16] and outputs[26] == [1, 3, 3, 256]
    path = tmp_path / "person_detector.tflite"
    path.write_bytes(model)
    result = api.compile(path)
    for name, text in result.files.items():
        (tmp_path / name).write_text(text)
    compiled = CModel(tmp_path, "person_detector")
    seen = []
    for inputs in random_inputs(model, 4, seed=7):
        (expected,) = run_tflm(model, inputs)
        (got,) = compiled.run(inputs)
        assert np.array_equal(expected.ravel(), got.ravel())
        seen.append(tuple(got.ravel()))
    assert len(set(seen)) > 1


def test_random_inputs_follow_the_model_inputs():
    b = ModelBuilder()
    for dtype in (np.int8, np.uint8, np.float32, np.int32):
        b.output(b.input([5000], dtype))
    model = b.finish()
    first, second = random_inputs(model, 2, seed=7)
    assert [a.dtype for a in first] == [np.int8, np.uint8, np.float32, np.int32]
    assert all(a.shape == (5000,) for a in first)
    assert first[0].min() == -128 and first[0].max() == 127
    assert first[1].min() == 0 and first[1].max() == 255
    assert -1 <= first[2].min() and first[2].max() < 1
    assert 0 <= first[3].min() and first[3].max() < 100
    assert not np.array_equal(first[0], second[0])
    np.testing.assert_array_equal(random_inputs(model, 2, seed=7)[1][2], second[2])


@pytest.mark.parametrize("name, head", [("aww", 16000), ("toycar", 768)])
def test_tflm_head_bytes_of_reference_models(shared_models, name, head):
    assert tflm_head_bytes(shared_models / f"{name}.tflite") == head
