// RUN: fdt-opt-mlir %s --fdt-fill-splat-inits | FileCheck %s

// A one-channel conv's bias, broadcast and folded by canonicalization into a
// splat constant the size of the output, initialises the conv's
// accumulator. It becomes a fill of an empty tensor (a generic yielding the
// scalar), which fdt-tile-kernels recomputes per output element.

#in = affine_map<(d0, d1, d2) -> (d0 + d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @conv
// CHECK-NOT:     dense<5.000000e-01> : tensor<4x1xf32>
// CHECK-DAG:     %[[E:.*]] = tensor.empty() : tensor<4x1xf32>
// CHECK-DAG:     %[[B:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:         %[[F:.*]] = linalg.generic {{.*}} ins(%[[B]] : f32) outs(%[[E]] : tensor<4x1xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK:         linalg.generic {{.*}} outs(%[[F]] : tensor<4x1xf32>)
func.func @conv(%x: tensor<6xf32>, %w: tensor<1x3xf32>) -> tensor<4x1xf32> {
  %bias = arith.constant dense<5.000000e-01> : tensor<4x1xf32>
  %y = linalg.generic {indexing_maps = [#in, #w, #out], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<6xf32>, tensor<1x3xf32>) outs(%bias : tensor<4x1xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// A constant read as an input stays a constant.

// CHECK-LABEL: func.func @input
// CHECK:         %[[C:.*]] = arith.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK:         linalg.generic {{.*}} ins(%[[C]] : tensor<4xf32>)
func.func @input(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<2.000000e+00> : tensor<4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%c : tensor<4xf32>) outs(%x : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}
