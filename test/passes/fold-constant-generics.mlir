// RUN: fdt-opt-mlir %s --fdt-fold-constant-generics | FileCheck %s

// ONNX's ConvTranspose flips and transposes its weights at run time:
// w2[o, i, kh, kw] = w[i, o, 1 - kh, 1 - kw], gathered from the weight
// constant. The generic becomes the constant it computes, in flash.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// CHECK-LABEL: func.func @flip
// CHECK:         %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}4.000000e+00, 3.000000e+00], [2.000000e+00, 1.000000e+00]]]]> : tensor<1x1x2x2xf32>
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[W]]
func.func @flip() -> tensor<1x1x2x2xf32> {
  %c1 = arith.constant 1 : index
  %w = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32>
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x2x2xf32>) {
  ^bb0(%out: f32):
    %o = linalg.index 0 : index
    %i = linalg.index 1 : index
    %h = linalg.index 2 : index
    %v = linalg.index 3 : index
    %fh = arith.subi %c1, %h : index
    %fv = arith.subi %c1, %v : index
    %x = tensor.extract %w[%i, %o, %fh, %fv] : tensor<1x1x2x2xf32>
    linalg.yield %x : f32
  } -> tensor<1x1x2x2xf32>
  return %r : tensor<1x1x2x2xf32>
}

// A gather from an activation (a nearest Resize's) is computed at run time.

// CHECK-LABEL: func.func @activation
// CHECK:         linalg.generic
// CHECK:           tensor.extract %arg0
func.func @activation(%a: tensor<2xf32>) -> tensor<4xf32> {
  %c1 = arith.constant 1 : index
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} outs(%e : tensor<4xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %x = tensor.extract %a[%c1] : tensor<2xf32>
    linalg.yield %x : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
