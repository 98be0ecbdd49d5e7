"""analysis.tensor_axes: channel and spatial axes from indexing maps, in
NCHW and NHWC alike."""

import pytest
from mlir import ir

from fdt_mlir.analysis.kernels import function_body
from fdt_mlir.analysis.tensor_axes import Axes, TensorAxes
from fdt_mlir.dialect import make_context

# An NCHW conv 3x3 (4 -> 8 channels, a per-channel bias broadcast into its
# accumulator), a 2x2 max pool, a transpose to NHWC, and an elementwise op
# on an unrelated NHWC argument that no op labels.
NCHW = """
#bias = affine_map<(d0, d1, d2, d3) -> (d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#in = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
#pin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#pwin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#pout = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
#nhwc = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
func.func @f(%x: tensor<1x4x10x10xf32>, %y: tensor<1x5x5x6xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x5x5x6xf32>) {
  %w = arith.constant dense<1.0> : tensor<8x4x3x3xf32>
  %b = arith.constant dense<0.5> : tensor<8xf32>
  %e = tensor.empty() : tensor<1x8x8x8xf32>
  %acc = linalg.generic {indexing_maps = [#bias, #id4], iterator_types =
      ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<8xf32>) outs(%e : tensor<1x8x8x8xf32>) {
    ^bb0(%i: f32, %o: f32):
      linalg.yield %i : f32
  } -> tensor<1x8x8x8xf32>
  %conv = linalg.generic {indexing_maps = [#in, #w, #out], iterator_types =
      ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x4x10x10xf32>, tensor<8x4x3x3xf32>) outs(%acc : tensor<1x8x8x8xf32>) {
    ^bb0(%i: f32, %k: f32, %o: f32):
      %m = arith.mulf %i, %k : f32
      %s = arith.addf %o, %m : f32
      linalg.yield %s : f32
  } -> tensor<1x8x8x8xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %pe = tensor.empty() : tensor<1x8x4x4xf32>
  %pool = linalg.generic {indexing_maps = [#pin, #pwin, #pout], iterator_types =
      ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%conv, %win : tensor<1x8x8x8xf32>, tensor<2x2xf32>) outs(%pe : tensor<1x8x4x4xf32>) {
    ^bb0(%i: f32, %k: f32, %o: f32):
      %m = arith.maximumf %o, %i : f32
      linalg.yield %m : f32
  } -> tensor<1x8x4x4xf32>
  %te = tensor.empty() : tensor<1x4x4x8xf32>
  %t = linalg.generic {indexing_maps = [#nhwc, #id4], iterator_types =
      ["parallel", "parallel", "parallel", "parallel"]}
      ins(%pool : tensor<1x8x4x4xf32>) outs(%te : tensor<1x4x4x8xf32>) {
    ^bb0(%i: f32, %o: f32):
      linalg.yield %i : f32
  } -> tensor<1x4x4x8xf32>
  %ye = tensor.empty() : tensor<1x5x5x6xf32>
  %neg = linalg.generic {indexing_maps = [#id4, #id4], iterator_types =
      ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x5x5x6xf32>) outs(%ye : tensor<1x5x5x6xf32>) {
    ^bb0(%i: f32, %o: f32):
      %n = arith.negf %i : f32
      linalg.yield %n : f32
  } -> tensor<1x5x5x6xf32>
  return %t, %neg : tensor<1x4x4x8xf32>, tensor<1x5x5x6xf32>
}
"""

NAMES = ["%w", "%b", "%e", "%acc", "%conv", "%win", "%pe", "%pool", "%te", "%t", "%ye", "%neg"]


@pytest.fixture
def nchw():
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(NCHW)
        block = function_body(module.operation)
        ops = dict(zip(NAMES, (op.operation for op in block.operations)))
        yield TensorAxes(block), ops, block


def test_conv_reads_channels_and_windows_from_its_maps(nchw):
    axes, ops, block = nchw
    # The contraction runs over axis 1 of the input; the window over 2 and 3.
    assert axes.of(block.arguments[0]) == Axes(1, (2, 3))
    # The output's channel is the dim the weights index alone, as the bias's.
    assert axes.of(ops["%conv"].results[0]) == Axes(1, (2, 3))
    assert axes.of(ops["%acc"].results[0]) == Axes(1, (2, 3))


def test_pool_and_transpose_carry_the_labels(nchw):
    axes, ops, _ = nchw
    assert axes.of(ops["%pool"].results[0]) == Axes(1, (2, 3))
    # NCHW -> NHWC through the transpose's map.
    assert axes.of(ops["%t"].results[0]) == Axes(3, (1, 2))


def test_unlabelled_tensors_fall_back_on_batch_first(nchw):
    """Nothing labels an elementwise op on an argument: the channel is the
    last axis after the batch, the other two are rows and columns."""
    axes, ops, block = nchw
    assert axes.of(ops["%neg"].results[0]) == Axes(3, (1, 2))
    assert axes.of(block.arguments[1]) == Axes(3, (1, 2))


def test_a_bias_is_one_channel_axis(nchw):
    """The bias the broadcast reads along the channel dim: axis 0, no rows."""
    axes, ops, _ = nchw
    assert axes.of(ops["%b"].results[0]) == Axes(0, ())


# A channel Gather first (x[:, [2, 0]], as ONNX's Gather lowers): its input
# only as an input operand, its data read with tensor.extract in its body.
# Then an NCHW 3x3 conv of the gathered channels.
GATHER = """
#idx = affine_map<(d0, d1, d2, d3) -> (d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#in = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @f(%x: tensor<1x3x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %i = arith.constant dense<[2, 0]> : tensor<2xi64>
  %w = arith.constant dense<1.0> : tensor<4x2x3x3xf32>
  %e = tensor.empty() : tensor<1x2x6x6xf32>
  %g = linalg.generic {indexing_maps = [#idx, #id4], iterator_types =
      ["parallel", "parallel", "parallel", "parallel"]}
      ins(%i : tensor<2xi64>) outs(%e : tensor<1x2x6x6xf32>) {
    ^bb0(%k: i64, %o: f32):
      %c = arith.index_cast %k : i64 to index
      %n = linalg.index 0 : index
      %h = linalg.index 2 : index
      %v = linalg.index 3 : index
      %r = tensor.extract %x[%n, %c, %h, %v] : tensor<1x3x6x6xf32>
      linalg.yield %r : f32
  } -> tensor<1x2x6x6xf32>
  %z = arith.constant 0.0 : f32
  %ce = tensor.empty() : tensor<1x4x4x4xf32>
  %acc = linalg.fill ins(%z : f32) outs(%ce : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %conv = linalg.generic {indexing_maps = [#in, #w, #out], iterator_types =
      ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%g, %w : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%acc : tensor<1x4x4x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %o, %m : f32
      linalg.yield %s : f32
  } -> tensor<1x4x4x4xf32>
  return %conv : tensor<1x4x4x4xf32>
}
"""


def test_a_gather_of_an_activation_is_no_constant():
    """The gather reads only a constant (its indices) as an input, but its
    body reads the activation: it and the conv after it are computed at
    run time, and the conv's maps label them NCHW (as constants they had
    no labels and fell back on NHWC)."""
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(GATHER)
        block = function_body(module.operation)
        axes = TensorAxes(block)
        ops = [op.operation for op in block.operations]
        gather, conv = ops[3], ops[7]
        assert gather.results[0] not in axes.constant
        assert axes.of(gather.results[0]) == Axes(1, (2, 3))
        assert axes.of(conv.results[0]) == Axes(1, (2, 3))
