// RUN: fdt-opt-mlir %s --split-input-file --fdt-apply-plan --canonicalize | FileCheck %s

// FDT paths through tensor reshapes. Tiling cannot follow a slice through a
// reshape, so fdt-apply-plan first folds the reshapes between the path's ops
// into the linalg.generic ops that read them, then tiles as usual.

// A dense layer on a flattened feature map, as TFLite's FULLY_CONNECTED
// reads a conv output: collapse 1x2x1x4 to 1x8, expand to the 1x1x8 of the
// matmul. Folded, the dense layer reduces over (h, w, c) of the feature map
// itself, with its weights expanded from 1x8x2 to 1x2x1x4x2, so its c dim is
// a reduction that '>' can split: 2 of the conv's 4 channels per iteration,
// the matching weight slice, one accumulator for the partial sums.

// CHECK-DAG:   #[[FM:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d4, d5)>
// CHECK-DAG:   #[[FW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d4, d5, d2)>
// CHECK-DAG:   #[[FO:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @flatten_dense
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<{{\[\[\[\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00]]], {{\[\[\[}}9.000000e+00, 1.000000e+01], [1.100000e+01, 1.200000e+01], [1.300000e+01, 1.400000e+01], [1.500000e+01, 1.600000e+01]]]]]> : tensor<1x2x1x4x2xf32>
// CHECK-NOT:     tensor.collapse_shape
// CHECK-NOT:     tensor.expand_shape
// CHECK:         %[[ACC:.*]] = scf.for %[[C:.*]] = %c0 to %c4 step %c2 iter_args(%[[SUM:.*]] = %{{.*}}) -> (tensor<1x1x2xf32>) {
// CHECK:           %[[CONV:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x2x1x2xf32>, tensor<2x1x1x2xf32>) outs(%{{.*}} : tensor<1x2x1x2xf32>)
// CHECK:           %[[WS:.*]] = tensor.extract_slice %[[W]][0, 0, 0, %[[C]], 0] [1, 2, 1, 2, 2] [1, 1, 1, 1, 1] : tensor<1x2x1x4x2xf32> to tensor<1x2x1x2x2xf32>
// CHECK:           %[[PART:.*]] = linalg.generic {indexing_maps = [#[[FM]], #[[FW]], #[[FO]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME:        ins(%[[CONV]], %[[WS]] : tensor<1x2x1x2xf32>, tensor<1x2x1x2x2xf32>) outs(%[[SUM]] : tensor<1x1x2xf32>)
// CHECK:           scf.yield %[[PART]] : tensor<1x1x2xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[Y:.*]] = tensor.collapse_shape %[[ACC]] {{\[\[}}0, 1], [2]] : tensor<1x1x2xf32> into tensor<1x2xf32>
// CHECK-NEXT:    return %[[Y]]

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#mm_in = affine_map<(b, m, n, k) -> (b, m, k)>
#mm_w = affine_map<(b, m, n, k) -> (b, k, n)>
#mm_out = affine_map<(b, m, n, k) -> (b, m, n)>
#scalar3 = affine_map<(b, m, n) -> ()>
#id3 = affine_map<(b, m, n) -> (b, m, n)>

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 2>, kernels = ["CONV_2D:0", "FULLY_CONNECTED:1"], roles = "<>"} : () -> ()
func.func @flatten_dense(%x: tensor<1x2x1x2xf32>) -> tensor<1x2xf32> {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<0.5> : tensor<4x1x1x2xf32>
  %b0 = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %w1 = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0], [13.0, 14.0], [15.0, 16.0]]]> : tensor<1x8x2xf32>
  %e0 = tensor.empty() : tensor<1x2x1x4xf32>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<4xf32>) outs(%e0 : tensor<1x2x1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x1x4xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w0 : tensor<1x2x1x2xf32>, tensor<4x1x1x2xf32>) outs(%f0 : tensor<1x2x1x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x1x4xf32> loc("CONV_2D:0")
  %flat = tensor.collapse_shape %c0 [[0], [1, 2, 3]] : tensor<1x2x1x4xf32> into tensor<1x8xf32> loc("FULLY_CONNECTED:1")
  %row = tensor.expand_shape %flat [[0, 1], [2]] output_shape [1, 1, 8] : tensor<1x8xf32> into tensor<1x1x8xf32> loc("FULLY_CONNECTED:1")
  %e1 = tensor.empty() : tensor<1x1x2xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e1 : tensor<1x1x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x2xf32> loc("FULLY_CONNECTED:1")
  %m1 = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%row, %w1 : tensor<1x1x8xf32>, tensor<1x8x2xf32>) outs(%f1 : tensor<1x1x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2xf32> loc("FULLY_CONNECTED:1")
  %y = tensor.collapse_shape %m1 [[0, 1], [2]] : tensor<1x1x2xf32> into tensor<1x2xf32> loc("FULLY_CONNECTED:1")
  return %y : tensor<1x2xf32>
}

// -----

// A mean that keeps its reduced axis, as tosa.reduce_sum lowers: the sum
// drops the axis (1x8x4 to 1x4), an expand_shape puts it back as a unit dim
// for the scaling by 1/8. Folded, the scaling reads the 1x4 sum directly
// (its unit dim d1 drops out of the map), so the mean is channel-wise ('=')
// and fuses into the dense layer's loop: 2 of its 4 channels per iteration.

// CHECK-DAG:   #[[NOUNIT:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @mean_dense
// CHECK-SAME:    (%[[X:.*]]: tensor<1x8x4xf32>)
// CHECK-NOT:     tensor.expand_shape
// CHECK:         scf.for %[[C:.*]] = %c0 to %c4 step %c2 iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<1x1x3xf32>) {
// CHECK:           %[[XS:.*]] = tensor.extract_slice %[[X]][0, 0, %[[C]]] [1, 8, 2] [1, 1, 1] : tensor<1x8x4xf32> to tensor<1x8x2xf32>
// CHECK:           %[[S:.*]] = linalg.generic {{.*}} ins(%[[XS]] : tensor<1x8x2xf32>) outs(%{{.*}} : tensor<1x2xf32>)
// CHECK:           %[[M:.*]] = linalg.generic {indexing_maps = [#[[NOUNIT]], {{.*}} ins(%[[S]], %{{.*}} : tensor<1x2xf32>, tensor<1x1x1xf32>) outs(%{{.*}} : tensor<1x1x2xf32>)
// CHECK:           %[[PART:.*]] = linalg.generic {{.*}} ins(%[[M]], %{{.*}} : tensor<1x1x2xf32>, tensor<1x2x3xf32>) outs(%[[ACC]] : tensor<1x1x3xf32>)
// CHECK:           scf.yield %[[PART]]

#id3 = affine_map<(b, m, n) -> (b, m, n)>
#sum_out = affine_map<(b, m, n) -> (b, n)>
#unit = affine_map<(b, m, n) -> (b, m, 0)>
#scalar2 = affine_map<(b, n) -> ()>
#id2 = affine_map<(b, n) -> (b, n)>
#mm_in = affine_map<(b, m, n, k) -> (b, m, k)>
#mm_w = affine_map<(b, m, n, k) -> (b, k, n)>
#mm_out = affine_map<(b, m, n, k) -> (b, m, n)>
#scalar3 = affine_map<(b, m, n) -> ()>

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 2>, kernels = ["MEAN:0", "FULLY_CONNECTED:1"], roles = "=>"} : () -> ()
func.func @mean_dense(%x: tensor<1x8x4xf32>) -> tensor<1x1x3xf32> {
  %zero = arith.constant 0.0 : f32
  %eighth = arith.constant dense<0.125> : tensor<1x1x1xf32>
  %w1 = arith.constant dense<[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]]> : tensor<1x4x3xf32>
  %e0 = tensor.empty() : tensor<1x4xf32>
  %f0 = linalg.generic {indexing_maps = [#scalar2, #id2], iterator_types = ["parallel", "parallel"]} ins(%zero : f32) outs(%e0 : tensor<1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4xf32> loc("MEAN:0")
  %s0 = linalg.generic {indexing_maps = [#id3, #sum_out], iterator_types = ["parallel", "reduction", "parallel"]} ins(%x : tensor<1x8x4xf32>) outs(%f0 : tensor<1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<1x4xf32> loc("MEAN:0")
  %kept = tensor.expand_shape %s0 [[0], [1, 2]] output_shape [1, 1, 4] : tensor<1x4xf32> into tensor<1x1x4xf32> loc("MEAN:0")
  %e1 = tensor.empty() : tensor<1x1x4xf32>
  %m0 = linalg.generic {indexing_maps = [#id3, #unit, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%kept, %eighth : tensor<1x1x4xf32>, tensor<1x1x1xf32>) outs(%e1 : tensor<1x1x4xf32>) {
  ^bb0(%in: f32, %k: f32, %out: f32):
    %m = arith.mulf %in, %k : f32
    linalg.yield %m : f32
  } -> tensor<1x1x4xf32> loc("MEAN:0")
  %e2 = tensor.empty() : tensor<1x1x3xf32>
  %f2 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e2 : tensor<1x1x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x3xf32> loc("FULLY_CONNECTED:1")
  %d1 = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%m0, %w1 : tensor<1x1x4xf32>, tensor<1x4x3xf32>) outs(%f2 : tensor<1x1x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x3xf32> loc("FULLY_CONNECTED:1")
  return %d1 : tensor<1x1x3xf32>
}
